#!/bin/bash
# Unification of one tree against a reference: vs unify --manually
# (hardlink strategy) against util-linux hardlink and jdupes -L, side by
# side in one run, warm and cold cache, on a freshly made ext4 loop file
# system.  Reports wall time, peak memory, bytes saved, whether the tools
# agree on what is identical, and a rerun against a bare stat walk.  After
# every tool, every path's content and metadata (mtimes to the
# nanosecond, modes, owners, xattrs; directories too) of both trees is
# compared with the corpus: the number of paths each tool changed is
# printed next to its time.
#   bench/unify.sh [debootstrap | source directory to copy]
#   ON_ROOT=1 bench/unify.sh ...   the same on the root file system
# "debootstrap" (the default) builds two minbase Debian guest roots from a
# cached tarball (/var/cache/vs-bench, made once with the mirror); a
# directory is copied twice instead.
# As root; not run by CI.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
SRC=${1:-debootstrap}
. bench/meta.sh
need jdupes time
T=$(mktemp -d /tmp/vs-bench-unify.XXXXXX)
cleanup() { chattr -R -i "$T/fs" 2>/dev/null || :; umount "$T/fs" 2>/dev/null || :; rm -rf "$T"; }
trap cleanup EXIT
if [ "$SRC" = debootstrap ]; then
	command -v debootstrap >/dev/null ||
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
	TGZ=/var/cache/vs-bench/bookworm-minbase.tgz
	if [ ! -s "$TGZ" ]; then
		mkdir -p /var/cache/vs-bench
		debootstrap --variant=minbase --make-tarball="$TGZ" bookworm \
			"$(mktemp -d)" http://deb.debian.org/debian >/dev/null
	fi
	size=400
else
	size=$(du -sm "$SRC" | cut -f1)
fi
mkdir -p "$T/fs"
if [ -z "${ON_ROOT:-}" ]; then
	truncate -s $((size * 4 + 512))M "$T/img"
	mkfs.ext4 -q -F "$T/img"
	mount -o loop "$T/img" "$T/fs"
	where="ext4 loop file system"
else
	where="the root file system ($(findmnt -no FSTYPE,OPTIONS / | cut -c1-60))"
fi
F=$T/fs
# the corpus: a reference and a guest copy with some files changed, some
# mtimes and owners differing
if [ "$SRC" = debootstrap ]; then
	for t in master-ref master-dst; do
		debootstrap --variant=minbase --unpack-tarball="$TGZ" bookworm \
			"$F/$t" http://deb.debian.org/debian >/dev/null 2>&1
	done
else
	cp -a "$SRC" "$F/master-ref"
	cp -a "$SRC" "$F/master-dst"
fi
n=0
find "$F/master-dst" -type f | while read -r f; do
	n=$((n + 1))
	case $((n % 50)) in
	0) echo "changed" >>"$f" ;;
	1) touch -d @1500000000 "$f" ;;
	2) chown 1000 "$f" ;;
	esac
done
files=$(find "$F/master-dst" -type f | wc -l)
install_vs "$T/inst" # the installed vs, with every shipped plugin
vs() { vsx "$F" "$@"; }
{ meta "$F/master-ref"; meta "$F/master-dst" | sed 's/^/dst/'; } >"$T/meta.master"

fresh() { chattr -R -i "$F/ref" "$F/dst" 2>/dev/null || :; rm -rf "$F/ref" "$F/dst"; cp -a "$F/master-ref" "$F/ref"; cp -a "$F/master-dst" "$F/dst"; sync; }
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
warm() { find "$F/ref" "$F/dst" -type f -exec cat {} + >/dev/null; }
used() { df -B1 --output=used "$F" | tail -n 1; }
linked() { find "$F/dst" -type f -links +1 -printf '%P\n' | sort; }
measure() { # measure NAME CACHE command...
	name=$1 cache=$2
	shift 2
	fresh
	before=$(used)
	$cache
	/usr/bin/time -f "%e %M" -o "$T/time" "$@" >/dev/null 2>&1 || :
	sync
	read -r secs kb <"$T/time"
	saved=$(( before - $(used) ))
	linked >"$T/linked.$name.$cache"
	{ meta "$F/ref"; meta "$F/dst" | sed 's/^/dst/'; } >"$T/meta.after"
	LC_ALL=C comm -3 "$T/meta.master" "$T/meta.after" >"$T/diff.$name.$cache"
	printf '%-10s %-5s %8.2f s %8d KiB %12d bytes saved %7d files linked %6d paths changed\n' \
		"$name" "$cache" "$secs" "$kb" "$saved" "$(wc -l <"$T/linked.$name.$cache")" "$(changed "$T/meta.master" "$T/meta.after")"
	echo "$secs" >"$T/secs.$name.$cache"
}
echo "corpus: $SRC ($(du -sm "$F/master-dst" | cut -f1) MiB, $files files), $where"
for cache in warm cold; do
	measure vs "$cache" "$VS" --sysroot "$F" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" unify --manually /dst '' /ref ''
	measure hardlink "$cache" hardlink "$F/ref" "$F/dst"
	measure jdupes "$cache" jdupes -q -L -r "$F/ref" "$F/dst"
done
for t in hardlink jdupes; do
	if cmp -s "$T/linked.vs.warm" "$T/linked.$t.warm"; then
		echo "vs and $t agree on what is identical"
	else
		echo "vs and $t differ on $(comm -3 "$T/linked.vs.warm" "$T/linked.$t.warm" | wc -l) files (vs also compares owner, mode and mtime)"
	fi
done
echo "what vs changed (first lines; '<' before, '>' after):"
head -n 12 "$T/diff.vs.warm" | sed 's/^/  /'
r() { awk -v a="$(cat "$1")" -v b="$(cat "$2")" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
for cache in warm cold; do
	fastest=$(for t in hardlink jdupes; do cat "$T/secs.$t.$cache"; done | sort -n | head -n 1)
	echo "$fastest" >"$T/fastest"
	echo "ratio vs / fastest peer ($cache): $(r "$T/secs.vs.$cache" "$T/fastest")"
done
# a rerun over the unified tree against a bare stat walk
fresh
vs unify --manually /dst '' /ref '' >/dev/null
/usr/bin/time -f "%e" -o "$T/rerun" "$VS" --sysroot "$F" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" unify --manually /dst '' /ref '' >/dev/null
/usr/bin/time -f "%e" -o "$T/walk" find "$F/dst" "$F/ref" -printf '' 
echo "rerun over the unified tree: $(cat "$T/rerun") s; stat walk of both trees: $(cat "$T/walk") s; ratio $(r "$T/rerun" "$T/walk")"
chattr -R -i "$F" 2>/dev/null || :
