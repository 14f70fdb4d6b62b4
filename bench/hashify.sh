#!/bin/bash
# Hashify four guest roots into an empty store: vs hashify against
# util-linux hardlink, jdupes -r -L and rdfind -makehardlinks true over the
# same trees, side by side in one run, warm and cold cache, on a freshly
# made ext4 loop file system; then vs hashify --link=reflink against
# jdupes -r -B and duperemove -dr on a loop XFS with reflink (and once
# duperemove -b 4096, whose savings come near the others'); vs there
# leaves files of one block alone by default, so jdupes -B with that rule
# (-X size+:4097) and vs --min-size=16 (every file) are measured too.  Reports wall
# time, peak memory, bytes saved, whether the tools agree, the cold run
# against reading every file once with 8 parallel readers, and a rerun
# over unchanged guests against a bare stat walk.  After every tool, every
# path's content and metadata (mtimes to the nanosecond, modes, owners,
# xattrs; directories too) is compared with the corpus: the number of
# paths each tool changed is printed next to its time (vs's own digest
# cache attribute is counted apart).
#   bench/hashify.sh              (ON_ROOT=1: the ext4 part on the root fs;
#                                  PARTS=xfs or PARTS=ext4: one part only;
#                                  ROUNDS: XFS measurements per tool, 3)
# The corpus: four debootstrap minbase roots (cached tarball in
# /var/cache/vs-bench, made once with the mirror) plus the same slice of
# the host's /usr/lib in each (LIBMB, default 400 MiB), every guest with
# its own variations (changed files, other owners and mtimes).
# As root; not run by CI.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
LIBMB=${LIBMB:-400}
ROUNDS=${ROUNDS:-3}
. bench/meta.sh
need jdupes rdfind duperemove time debootstrap
T=$(mktemp -d /tmp/vs-bench-hashify.XXXXXX)
cleanup() {
	for m in "$T/ext4" "$T/xfs"; do
		chattr -R -i "$m" 2>/dev/null || :
		umount "$m" 2>/dev/null || :
	done
	rm -rf "$T"
}
trap cleanup EXIT
TGZ=/var/cache/vs-bench/bookworm-minbase.tgz
if [ ! -s "$TGZ" ]; then
	mkdir -p /var/cache/vs-bench
	debootstrap --variant=minbase --make-tarball="$TGZ" bookworm \
		"$(mktemp -d)" http://deb.debian.org/debian >/dev/null
fi
install_vs "$T/inst" # the installed vs, with every shipped plugin
cpus=$(nproc)

# the corpus, made once in $T/master, copied fresh for every measurement
M=$T/master
mkdir -p "$M"
libs=$(cd /usr/lib/x86_64-linux-gnu && find . -type f -size +4k -printf '%s %p\n' |
	awk -v max=$((LIBMB << 20)) '{ s += $1; if (s > max) exit; print $2 }')
for g in g1 g2 g3 g4; do
	debootstrap --variant=minbase --unpack-tarball="$TGZ" bookworm \
		"$M/$g" http://deb.debian.org/debian >/dev/null 2>&1
	mkdir -p "$M/$g/opt/lib"
	tar -C /usr/lib/x86_64-linux-gnu -cf - $libs | tar -C "$M/$g/opt/lib" -xf -
	k=${g#g}
	n=0
	find "$M/$g" -type f | while read -r f; do
		n=$((n + 1))
		case $(( (n + k) % 53 )) in
		0) echo "changed in $g" >>"$f" ;;
		1) touch -d @$((1500000000 + k)) "$f" ;;
		2) chown $((1000 + k)) "$f" ;;
		esac
	done
done
files=$(find "$M" -type f | wc -l)
mib=$(du -sm "$M" | cut -f1)
meta "$M" >"$T/meta.master"

run_part() { # FS: ext4 or xfs
	FS=$1
	F=$T/$FS
	fresh() {
		if [ "$FS" = xfs ]; then
			# a new file system each time: XFS inactivates the
			# inodes removed by the last measurement in the
			# background, and that work would take the next tool's
			# CPU and allocation-group locks
			umount "$F"
			mkfs.xfs -f -q -m reflink=1 "$T/xfs.img"
			mount -o loop "$T/xfs.img" "$F"
		fi
		chattr -R -i "$F" 2>/dev/null || :
		rm -rf "$F/g" "$F/.hash" "$F/hd"
		cp -a "$M" "$F/g"
		mkdir -p "$F/.hash" "$F/hd"
		ln -s /.hash "$F/hd/0"
		sync
	}
	cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
	warm() { find "$F/g" -type f -print0 | xargs -0 cat >/dev/null; }
	used() { sync; df -B1 --output=used "$F" | tail -n 1; }
	cat >"$T/vs_all" <<EOS
#!/bin/sh
# the four guests in one run, as vs hashify g1 g2 g3 g4 does
exec "$VS" --sysroot "$F" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" hashify --manually \
	\${LINK:+--link=\$LINK} \${MINSIZE:+--min-size=\$MINSIZE} --destination /hd /g/g1 '' /g/g2 '' /g/g3 '' /g/g4 ''
EOS
	chmod 755 "$T/vs_all"
	vs_all() { "$T/vs_all"; }
	measure() { # NAME CACHE command...
		name=$1 cache=$2
		shift 2
		fresh
		before=$(used)
		$cache
		/usr/bin/time -f "%e %M" -o "$T/time" "$@" >"$T/out.$name" 2>&1 || echo "($name failed: $(tail -n 1 "$T/out.$name"))"
		read -r secs kb <"$T/time"
		saved=$((before - $(used)))
		meta "$F/g" >"$T/meta.after"
		printf '%-13s %-5s %8.2f s %8d KiB %14d bytes saved %6d paths changed (%d with vs'"'"'s cache attribute)\n' \
			"$name" "$cache" "$secs" "$kb" "$saved" "$(changed "$T/meta.master" "$T/meta.after")" "$(vs_attrs "$F/g")"
		echo "$secs" >"$T/secs.$FS.$name.$cache"
		echo "$saved" >"$T/saved.$FS.$name.$cache"
		echo "$secs" >>"$T/all.$FS.$name.$cache"
		find "$F/g" -type f -links +1 -printf '%P\n' | sort >"$T/linked.$name.$cache"
	}
	r() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
	if [ "$FS" = ext4 ]; then
		for cache in warm cold; do
			measure vs "$cache" "$T/vs_all"
			measure hardlink "$cache" hardlink "$F/g"
			measure jdupes "$cache" jdupes -q -r -L "$F/g"
			measure rdfind "$cache" rdfind -makehardlinks true -outputname "$T/rdfind.txt" "$F/g"
		done
		for t in hardlink jdupes rdfind; do
			d=$(comm -3 "$T/linked.vs.warm" "$T/linked.$t.warm" | wc -l)
			echo "vs and $t: $d files linked by one and not the other (vs also compares owner, mode, mtime and xattrs)"
		done
		for cache in warm cold; do
			fastest=$(for t in hardlink jdupes rdfind; do cat "$T/secs.ext4.$t.$cache"; done | sort -n | head -n 1)
			echo "ratio vs / fastest peer ($cache): $(r "$(cat "$T/secs.ext4.vs.$cache")" "$fastest")"
		done
		# the disk here varies by a third from run to run: vs cold and
		# the parallel readers, alternately, three times each; medians
		: >"$T/pairs"
		for k in 1 2 3; do
			fresh
			cold
			/usr/bin/time -f "%e" -o "$T/pcat" sh -c "find '$F/g' -type f -print0 | xargs -0 -P8 -n64 cat >/dev/null"
			fresh
			cold
			/usr/bin/time -f "%e" -o "$T/vcold" "$T/vs_all" >/dev/null 2>&1
			echo "$(cat "$T/vcold") $(cat "$T/pcat")" >>"$T/pairs"
		done
		med() { cut -d' ' -f"$1" "$T/pairs" | sort -n | sed -n 2p; }
		echo "8 parallel readers, cold, three runs: $(cut -d' ' -f2 "$T/pairs" | tr '\n' ' ')s; vs cold, alternately: $(cut -d' ' -f1 "$T/pairs" | tr '\n' ' ')s; medians $(med 1) / $(med 2) = $(r "$(med 1)" "$(med 2)")"
		vs_all >/dev/null
		/usr/bin/time -f "%e" -o "$T/rerun" "$T/vs_all" >"$T/out.rerun"
		/usr/bin/time -f "%e" -o "$T/walk" find "$F/g" -printf '%s\n' >/dev/null
		echo "rerun over unchanged guests: $(cat "$T/rerun") s ($(grep -o '[0-9]* bytes hashed' "$T/out.rerun" | awk '{ s += $1 } END { print s }') bytes hashed); stat walk: $(cat "$T/walk") s; ratio $(r "$(cat "$T/rerun")" "$(cat "$T/walk")")"
	else
		export LINK=reflink
		# the times of one tool here vary by a fifth from run to run
		# (a VM's CPUs): the tools alternate, ROUNDS times each, and
		# the medians are compared
		for k in $(seq "$ROUNDS"); do
			echo "round $k:"
			measure vs warm "$T/vs_all"
			if [ "$k" = 1 ]; then
				/usr/bin/time -f "%e" -o "$T/rerun" "$T/vs_all" >"$T/out.rerun" 2>&1
				/usr/bin/time -f "%e" -o "$T/walk" find "$F/g" -printf '%s\n' >/dev/null
				echo "rerun over unchanged guests: $(cat "$T/rerun") s ($(grep -o '[0-9]* bytes hashed' "$T/out.rerun" | awk '{ s += $1 } END { print s }') bytes hashed); stat walk: $(cat "$T/walk") s; ratio $(r "$(cat "$T/rerun")" "$(cat "$T/walk")")"
			fi
			measure jdupes-B warm jdupes -q -r -B "$F/g"
			# vs leaves files of one block alone by default (for
			# reflink): jdupes with that rule, and vs sharing every
			# file as jdupes -B does
			measure jdupes-B-4097 warm jdupes -q -r -B -X size+:4097 "$F/g"
			MINSIZE=16 measure vs-min16 warm "$T/vs_all"
			measure duperemove warm duperemove -dr -q "$F/g"
			# duperemove skips what is smaller than its block (128
			# KiB by default: most files of a guest); at its
			# smallest block it saves about what the others save
			if [ "$k" = 1 ]; then
				measure duperemove-4k warm duperemove -dr -q -b 4096 "$F/g"
			fi
		done
		median() { sort -n "$T/all.xfs.$1.warm" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
		echo "medians of $ROUNDS: vs $(median vs) s, jdupes -B $(median jdupes-B) s, duperemove $(median duperemove) s"
		echo "ratio vs / jdupes -B: $(r "$(median vs)" "$(median jdupes-B)"), vs / duperemove: $(r "$(median vs)" "$(median duperemove)"); bytes saved vs / jdupes -B: $(r "$(cat "$T/saved.xfs.vs.warm")" "$(cat "$T/saved.xfs.jdupes-B.warm")"), vs / duperemove: $(r "$(cat "$T/saved.xfs.vs.warm")" "$(cat "$T/saved.xfs.duperemove.warm")")"
		echo "the same files as the other: vs / jdupes -B -X size+:4097 $(r "$(median vs)" "$(median jdupes-B-4097)") in time, $(r "$(cat "$T/saved.xfs.vs.warm")" "$(cat "$T/saved.xfs.jdupes-B-4097.warm")") in bytes saved; vs --min-size=16 / jdupes -B $(r "$(median vs-min16)" "$(median jdupes-B)") in time, $(r "$(cat "$T/saved.xfs.vs-min16.warm")" "$(cat "$T/saved.xfs.jdupes-B.warm")") in bytes saved"
		echo "duperemove -b 4096 (round 1): vs / it $(r "$(head -n 1 "$T/all.xfs.vs.warm")" "$(cat "$T/secs.xfs.duperemove-4k.warm")") in time, $(r "$(cat "$T/saved.xfs.vs.warm")" "$(cat "$T/saved.xfs.duperemove-4k.warm")") in bytes saved"
		unset LINK
	fi
}

size=$((mib * 3 + 1024))
mkdir -p "$T/ext4" "$T/xfs"
if [ -z "${ON_ROOT:-}" ]; then
	truncate -s ${size}M "$T/ext4.img"
	mkfs.ext4 -q -F "$T/ext4.img"
	mount -o loop "$T/ext4.img" "$T/ext4"
	where="ext4 loop file system"
else
	where="the root file system ($(findmnt -no FSTYPE,OPTIONS / | cut -c1-60))"
fi
echo "corpus: 4 guests, $mib MiB, $files files; $cpus CPUs; $where"
PARTS=${PARTS:-ext4 xfs}
case " $PARTS " in *" ext4 "*) run_part ext4 ;; esac
case " $PARTS " in *" xfs "*)
	truncate -s ${size}M "$T/xfs.img"
	mkfs.xfs -q -m reflink=1 "$T/xfs.img"
	mount -o loop "$T/xfs.img" "$T/xfs"
	echo "--- XFS (reflink) loop file system"
	run_part xfs
	;;
esac
