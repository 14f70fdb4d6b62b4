#!/bin/bash
# Hashify at scale (hardlink, ext4 loop): the cost per file and the
# memory per file from 10k to 1M small files across 8 guests, generated
# at bench time and reproducibly (bench/gentree.c: six files in ten drawn
# from a content pool shared by the guests, 64 B to 8 KiB, one owner,
# mode and mtime); at the largest size util-linux hardlink and jdupes -L
# on the same tree, each on a freshly generated copy.  Reports wall time,
# time per file (and the user and system CPU time per file), peak memory
# (and per file, next to the mean path length), store entries, bytes
# saved, and the paths each tool changed (content and metadata,
# bench/meta.sh) at the largest size.  The peers run at every size too.
# The file system has a journal of JOURNAL MiB (1024; 0: mkfs's own, 64
# MiB at these sizes): with mkfs's own, at 1M files vs's threads wait on
# the journal's checkpoints (74.5 against 51.9 us/file here), the peers
# on one thread hardly (hardlink 83 either way, jdupes 82 against 77).
# Before the tools, at each size, what the machine itself does per file
# on a fresh corpus (the yardstick for "flat"): a stat walk (find), the
# files read and hashed by two readers (sha256sum, as many as CPUs here),
# and a second name given and taken away per file (bench/relink.c: the
# directory and inode updates of sharing), the files taken directory by
# directory and then shuffled, as sharing by content takes them.  TOOLS
# picks the tools (default: vs hardlink jdupes), BASE=0 leaves the
# yardstick out.  PLACE=path puts each shared content at one path in
# every guest, as guests built from one distribution have it (default
# random: a content's copies lie anywhere in the guests).
#   SIZES="10000 100000 1000000" JOURNAL=1024 PLACE=random bench/scale.sh
# As root; not run by CI.
set -eu
cd "$(dirname "$0")/.."
SIZES=${SIZES:-10000 100000 1000000}
PLACE=${PLACE:-random}
JOURNAL=${JOURNAL:-1024}
jopt=
[ "$JOURNAL" = 0 ] || jopt="-J size=$JOURNAL"
. bench/meta.sh
need jdupes time
T=$(mktemp -d /tmp/vs-bench-scale.XXXXXX)
F=$T/fs
cleanup() { chattr -R -i "$F" 2>/dev/null || :; umount "$F" 2>/dev/null || :; rm -rf "$T"; }
trap cleanup EXIT
install_vs "$T/inst" # the installed vs, with every shipped plugin
cc -O2 -o "$T/gentree" bench/gentree.c
cc -O2 -o "$T/relink" bench/relink.c
mkdir -p "$F"

# fresh N: an ext4 loop file system with the corpus of N files
fresh() {
	chattr -R -i "$F" 2>/dev/null || :
	umount "$F" 2>/dev/null || :
	rm -f "$T/img"
	truncate -s $(( $1 / 1000 * 14 + 1024 + JOURNAL ))M "$T/img"
	mkfs.ext4 -q -F -N $(( $1 * 2 + 65536 )) $jopt "$T/img"
	mount -o loop "$T/img" "$F"
	"$T/gentree" "$F/g" 8 $(( $1 / 8 )) "$PLACE"
	mkdir -p "$F/store" "$F/hd"
	ln -s /store "$F/hd/0"
	sync
}
used() { sync; df -B1 --output=used "$F" | tail -n 1; }
# run NAME N command...: one timed run over a fresh corpus of N files
run() {
	name=$1 n=$2
	shift 2
	fresh "$n"
	[ "$n" = "$max" ] && meta "$F/g" >"$T/meta.before"
	before=$(used)
	/usr/bin/time -f "%e %M %U %S" -o "$T/time" "$@" >"$T/out" 2>&1 || echo "($name failed: $(tail -n 1 "$T/out"))"
	read -r secs kb usr sys <"$T/time"
	saved=$((before - $(used)))
	paths=$(find "$F/g" -type f -printf '%P\n' | awk '{ s += length($0) + 1 } END { printf "%.0f", s / NR }')
	entries=$(find "$F/store" -type f | wc -l)
	changed=-
	if [ "$n" = "$max" ]; then
		meta "$F/g" >"$T/meta.after"
		changed=$(changed "$T/meta.before" "$T/meta.after")
	fi
	awk -v t="$name" -v n="$n" -v s="$secs" -v u="$usr" -v y="$sys" -v kb="$kb" -v p="$paths" -v e="$entries" -v b="$saved" -v c="$changed" 'BEGIN {
		printf "%-9s %8d files %8.2f s %6.2f us/file (user %5.2f, system %5.2f) %8d KiB peak %6.1f B/file (mean path %d B) %8d entries %12.0f bytes saved, %s paths changed\n",
			t, n, s, s * 1e6 / n, u * 1e6 / n, y * 1e6 / n, kb, kb * 1024 / n, p, e, b, c }'
}
# per command...: the command's wall time per file of the corpus ($n)
per() {
	/usr/bin/time -f %e -o "$T/time" "$@" >/dev/null 2>&1
	awk -v n="$n" '{ printf "%.2f", $1 * 1e6 / n }' "$T/time"
}
# base N: the yardstick on a fresh corpus of N files
base() {
	n=$1
	fresh "$n"
	walk=$(per find "$F/g" -type f -printf '%s\n')
	hash=$(per sh -c 'find "$1" -type f -print0 | xargs -0 -r -P2 -n512 sha256sum' sh "$F/g")
	sorted=$("$T/relink" "$F/g" sorted)
	random=$("$T/relink" "$F/g" random)
	echo "$sorted $random" | awk -v w="$walk" -v h="$hash" '{
		printf "%-9s %8d files: stat walk %.2f us/file, read and hash %.2f us/file, link+unlink %.2f+%.2f us/file in the tree'"'"'s order, %.2f+%.2f shuffled\n",
			"machine", $1, w, h, $2 * 1e6 / $1, $3 * 1e6 / $1, $5 * 1e6 / $4, $6 * 1e6 / $4 }'
}
vs_all() {
	"$VS" --sysroot "$F" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" hashify --manually \
		--destination /hd /g/g0 '' /g/g1 '' /g/g2 '' /g/g3 '' /g/g4 '' /g/g5 '' /g/g6 '' /g/g7 ''
}
export -f vs_all
export VS P F
max=$(echo $SIZES | tr ' ' '\n' | sort -n | tail -n 1)
echo "$(nproc) CPUs; 8 guests; ext4 loop file system (journal: ${jopt:-as mkfs makes it}); hardlink strategy"
TOOLS=${TOOLS:-vs hardlink jdupes}
for n in $SIZES; do
	[ "${BASE:-1}" = 0 ] || base "$n"
	for t in $TOOLS; do
		case $t in
		vs) run vs "$n" bash -c vs_all ;;
		hardlink) run hardlink "$n" hardlink "$F/g" ;;
		jdupes) run jdupes "$n" jdupes -q -r -L "$F/g" ;;
		*) echo "bench/scale.sh: unknown tool '$t' in TOOLS" >&2; exit 2 ;;
		esac
	done
done
