#!/bin/bash
# Reflinks work live: hashify and unify of a guest while it runs, on a
# loop-mounted XFS.  Its processes keep running (busybox, which they
# execute, is among the files shared), a process holding a file open
# reads the bytes it had, a process appending through a descriptor it
# holds loses nothing, and the files are shared with the store or the
# reference afterwards, each deduplicated in place (its inode kept).
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

if ! xfs_mount 512M "$R/xfs"; then
	skip "live reflinks: $XFS_WHY"
	finish
	exit
fi

G=$R/xfs/guests
mkdir -p "$G" "$R/xfs/hd" "$R/xfs/store"
ln -s /xfs/store "$R/xfs/hd/0"
# state FILE...: what must not change: mode, owner, size, mtime, bytes
state() { for f in "$@"; do stat -c '%n %a %u:%g %s %.9Y' "$f"; sha256sum <"$f"; done; }

# twin NAME CONTEXT: a busybox guest on the XFS with data files its twin
# has too; its files' mtimes end in the nanoseconds CONTEXT (reflinks
# share bytes, never metadata: twins need not have the same)
twin() {
	mkguest "$1" --context "$2" --rootdir /xfs/guests || exit 99
	mkdir -p "$G/$1/data"
	seq 200000 >"$G/$1/data/held"
	seq 100000 >"$G/$1/data/log"
	touch -d "@1600000000.000000$2" "$G/$1/data/held" "$G/$1/data/log" "$G/$1/bin/busybox"
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

# shares WHAT OTHER NAME COMMAND...: runs COMMAND while guest NAME runs,
# then checks that its files now share OTHER's extents, unchanged, each
# keeping its inode, and what its processes saw
shares() {
	sh_what=$1 sh_other=$2 sh_g=$3
	shift 3
	sh_files="bin/busybox data/held data/log"
	B=$(cd "$G/$sh_g" && state $sh_files && stat -c %i $sh_files)
	live "$sh_g"
	run "$@"
	same "$sh_what of the running guest" 0 "$RC"
	same "$sh_what: the files' metadata, bytes and inodes unchanged (deduplicated in place)" \
		"$B" "$(cd "$G/$sh_g" && state $sh_files && stat -c %i $sh_files)"
	for sh_f in $sh_files; do
		check "$sh_what: $sh_f shares $sh_other's extents" \
			test -n "$(extent "$G/$sh_g/$sh_f")" -a "$(extent "$G/$sh_g/$sh_f")" = "$(extent "$G/$sh_other/$sh_f")"
	done
	after "$sh_g" "$sh_what"
}

twin hs 601
twin hr 602
expect_ok "hashify the stopped twin (its files into the store)" vsx hashify --manually --destination /xfs/hd /xfs/guests/hs
shares hashify hs hr vsx hashify --manually --destination /xfs/hd /xfs/guests/hr
twin us 603
twin ur 604
shares unify us ur vsx unify --manually /xfs/guests/ur '' /xfs/guests/us ''

check "no guest left running, nothing of theirs mounted" sh -c "! grep -q '$R/xfs/guests' /proc/mounts && test -z \"\$(ls '$R$RUNDIR' 2>/dev/null)\""
umount "$R/xfs"

finish
