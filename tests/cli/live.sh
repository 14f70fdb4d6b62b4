#!/bin/bash
# Reflinks work live: hashify and unify of a guest while it runs, on a
# loop-mounted XFS.  Its processes keep running (busybox, which they
# execute, is among the files shared), a process holding a file open
# reads the bytes it had, a process appending through a descriptor it
# holds loses nothing, and the files are shared with the store or the
# reference afterwards, each deduplicated in place (its inode kept).
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

if ! command -v mkfs.xfs >/dev/null; then
	skip "live reflinks: mkfs.xfs is not installed (Debian package xfsprogs)"
	finish
	exit
fi
if ! truncate -s 512M "$T/xfs.img" || ! mkfs.xfs -q -m reflink=1 "$T/xfs.img" 2>/dev/null ||
	! mkdir -p "$R/xfs" || ! mount -o loop "$T/xfs.img" "$R/xfs" 2>/dev/null; then
	skip "live reflinks: cannot mount a loop XFS image (no loop device?)"
	finish
	exit
fi

G=$R/xfs/guests
mkdir -p "$G" "$R/xfs/hd" "$R/xfs/store"
ln -s /xfs/store "$R/xfs/hd/0"
# state FILE...: what must not change: mode, owner, size, mtime, bytes
state() { for f in "$@"; do stat -c '%n %a %u:%g %s %Y' "$f"; sha256sum <"$f"; done; }

inodes() { stat -c %i "$G/$1/bin/busybox" "$G/$1/data/held" "$G/$1/data/log" | paste -sd' '; }
# twin NAME: a busybox guest on the XFS with a data file its twin has too
twin() {
	mkguest "$1" --context "$2" --rootdir /xfs/guests || exit 99
	mkdir -p "$G/$1/data"
	seq 200000 >"$G/$1/data/held"
	seq 100000 >"$G/$1/data/log"
	touch -d @1600000000 "$G/$1/data/held" "$G/$1/data/log" "$G/$1/bin/busybox"
}

# live NAME: starts the guest with three processes of its own: a sleeper
# (busybox, executed from the file being shared), a reader holding
# /data/held open and a writer holding /data/log open for appending;
# once /root/go appears, the reader reads through its descriptor and
# the writer appends 500 numbered lines through its own
live() {
	expect_ok "$1: start" vsx "$1" start
	vsx "$1" exec sh -c '
		sleep 1000 >/dev/null 2>&1 &
		echo $! >/root/sleeper
		(exec 3</data/held; touch /root/reader; while [ ! -e /root/go ]; do usleep 20000; done; cat <&3 >/root/read-back) >/dev/null 2>&1 &
		(exec 4>>/data/log; touch /root/writer; while [ ! -e /root/go ]; do usleep 20000; done
		 i=0; while [ $i -lt 500 ]; do i=$((i+1)); echo "appended $i" >&4; done; echo $i >/root/appended) >/dev/null 2>&1 &
		while [ ! -e /root/reader ] || [ ! -e /root/writer ]; do usleep 10000; done'
	sleeper=$(cat "$G/$1/root/sleeper")
}

# after NAME WHAT: the guest's processes after WHAT
after() {
	V=$G/$1
	run vsx "$1" exec sh -c "kill -0 $sleeper && echo alive"
	same "$2: the guest's processes run on (its sleeper, a new exec)" "0|alive" "$RC|$OUT"
	touch "$V/root/go"
	for i in $(seq 200); do [ -s "$V/root/read-back" ] && [ -s "$V/root/appended" ] && break; sleep 0.02; done
	same "$2: the process holding /data/held open reads the bytes it had" \
		"$(seq 200000 | sha256sum)" "$(sha256sum <"$V/root/read-back")"
	n=$(cat "$V/root/appended" 2>/dev/null)
	same "$2: not one of the $n appended lines lost, none doubled" \
		"$( (seq 100000; seq "${n:-0}" | sed 's/^/appended /') | sha256sum)" "$(sha256sum <"$V/data/log")"
	expect_ok "$2: the guest stops" vsx "$1" stop
}

# ---- hashify --------------------------------------------------------------
twin hs 601
twin hr 602
expect_ok "hashify the stopped twin (its files into the store)" vsx hashify --manually --destination /xfs/hd /xfs/guests/hs
B=$(state "$G/hr/bin/busybox" "$G/hr/data/held")
I=$(inodes hr)
live hr
run vsx hashify --manually --destination /xfs/hd /xfs/guests/hr
same "hashify of the running guest" 0 "$RC"
same "hashify: the shared files' metadata and bytes unchanged" "$B" "$(state "$G/hr/bin/busybox" "$G/hr/data/held")"
check "hashify: /data/held shares the store's extents (the open file did not stop it)" \
	test -n "$(extent "$G/hr/data/held")" -a "$(extent "$G/hr/data/held")" = "$(extent "$G/hs/data/held")"
check "hashify: so does busybox, which the guest's processes execute" \
	test -n "$(extent "$G/hr/bin/busybox")" -a "$(extent "$G/hr/bin/busybox")" = "$(extent "$G/hs/bin/busybox")"
check "hashify: /data/log too, open for writing (deduplicated in place)" \
	test -n "$(extent "$G/hr/data/log")" -a "$(extent "$G/hr/data/log")" = "$(extent "$G/hs/data/log")"
same "hashify: every file keeps its inode" "$I" "$(inodes hr)"
after hr "hashify"

# ---- unify ----------------------------------------------------------------
twin us 603
twin ur 604
B=$(state "$G/ur/bin/busybox" "$G/ur/data/held")
I=$(inodes ur)
live ur
run vsx unify --manually /xfs/guests/ur '' /xfs/guests/us ''
same "unify of the running guest against its stopped twin" 0 "$RC"
same "unify: the shared files' metadata and bytes unchanged" "$B" "$(state "$G/ur/bin/busybox" "$G/ur/data/held")"
check "unify: /data/held shares the reference's extents" \
	test -n "$(extent "$G/ur/data/held")" -a "$(extent "$G/ur/data/held")" = "$(extent "$G/us/data/held")"
check "unify: so does busybox" \
	test -n "$(extent "$G/ur/bin/busybox")" -a "$(extent "$G/ur/bin/busybox")" = "$(extent "$G/us/bin/busybox")"
check "unify: /data/log too, open for writing (deduplicated in place)" \
	test -n "$(extent "$G/ur/data/log")" -a "$(extent "$G/ur/data/log")" = "$(extent "$G/us/data/log")"
same "unify: every file keeps its inode" "$I" "$(inodes ur)"
after ur "unify"

check "no guest left running, nothing of theirs mounted" sh -c "! grep -q '$R/xfs/guests' /proc/mounts && test -z \"\$(ls '$R$RUNDIR' 2>/dev/null)\""
umount "$R/xfs"

finish
