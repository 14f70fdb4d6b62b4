#!/bin/bash
# vs under systemd with Delegate=yes: the guests' cgroups go below the
# unit's own group, the monitor to the unit's supervisor leaf; nothing is
# made below the configured base, and the unit's group is left to systemd.
# No systemd runs here as PID 1: the unit's groups are made as systemd
# makes them for a Delegate=yes service on this hybrid host (cgroup2 with
# the trusted.delegate mark, and the v1 controllers it manages), and the
# monitor starts inside them, as systemd would start ExecStart.  Without
# the mark, the old layout.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
[ -n "$v2" ] || { echo "SKIP: no cgroup2 hierarchy"; exit 77; }
UNIT=$CGBASE/system.slice/vs@g1.service
mkdir -p "$v2/$UNIT"
if ! setfattr -n trusted.delegate -v 1 "$v2/$UNIT" 2>/dev/null; then
	echo "SKIP: cgroupfs takes no trusted.* attribute here (systemd's delegation mark)"
	exit 77
fi
# a v1 hierarchy systemd manages on a hybrid host, which the guest needs
V1=
for h in pids; do
	[ -d "/sys/fs/cgroup/$h" ] && mkdir -p "/sys/fs/cgroup/$h/$UNIT" && V1="$V1 /sys/fs/cgroup/$h"
done

mkguest g1 || exit 99
mkdir -p "$R$CONFDIR/g1/rlimits"
echo 64 >"$R$CONFDIR/g1/rlimits/nproc" # a pids group
# a controller cgroup2 offers here (hugetlb), enabled down to the unit as
# systemd does for a Delegate=yes unit: vs enables it in the unit's group
# after it moved itself to the supervisor leaf
v2root_lock "$v2"
v2sub=$(cat "$v2/cgroup.subtree_control" 2>/dev/null)
HT=
if grep -qw hugetlb "$v2/cgroup.controllers" 2>/dev/null; then
	for d in "$v2" "$v2/$CGBASE" "$v2/$CGBASE/system.slice"; do
		echo +hugetlb >"$d/cgroup.subtree_control" || break
	done
	if grep -qw hugetlb "$v2/$UNIT/cgroup.controllers"; then
		mkdir -p "$R$CONFDIR/g1/cgroup"
		echo 0 >"$R$CONFDIR/g1/cgroup/hugetlb.2MB.max"
		HT=1
	fi
fi

( for d in "$v2/$UNIT" $(for h in $V1; do echo "$h/$UNIT"; done); do echo $BASHPID >"$d/cgroup.procs"; done
  exec env INVOCATION_ID=0123 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 start --foreground ) \
	>"$T/fg.out" 2>&1 &
FG=$!
await 60 vsx g1 running
expect_ok "the unit's main process starts the guest" vsx g1 running
init=$(init_of g1)
same "its init is below the unit's group (cgroup2)" "/$UNIT/g1" \
	"$(sed -n 's/^0:://p' "/proc/$init/cgroup")"
for h in $V1; do
	c=$(basename "$h")
	same "and below the unit's group in the v1 $c hierarchy" "/$UNIT/g1" \
		"$(awk -F: -v c="$c" '$2 == c { print $3 }' "/proc/$init/cgroup")"
done
same "pids.max of the guest's group in the unit" 64 "$(cat "/sys/fs/cgroup/pids/$UNIT/g1/pids.max" 2>/dev/null)"
if [ -n "$HT" ]; then
	same "the monitor moved to the unit's supervisor leaf" "/$UNIT/supervisor" \
		"$(sed -n 's/^0:://p' "/proc/$FG/cgroup")"
	same "the guest's cgroup2 setting applied in the unit's subtree" 0 "$(cat "$v2/$UNIT/g1/hugetlb.2MB.max")"
else
	skip "a cgroup2 controller in the unit's subtree: cgroup2 offers none here"
fi
check "nothing below the configured base but the unit's slice" \
	test -z "$(find /sys/fs/cgroup/*/"$CGBASE" "$v2/$CGBASE" -mindepth 1 -maxdepth 1 -type d ! -name system.slice 2>/dev/null)"
expect_ok "vs stop from outside the unit" vsx g1 stop
wait $FG
same "the monitor (the unit's main process) ended with 0" 0 $?
check "the guest's groups are gone ($(cd /sys/fs/cgroup && ls -d */"$UNIT"/g1 "${v2#/sys/fs/cgroup/}/$UNIT/g1" 2>/dev/null))" \
	test ! -e "$v2/$UNIT/g1" -a ! -e "/sys/fs/cgroup/pids/$UNIT/g1"
check "the unit's group is left to systemd" test -d "$v2/$UNIT"

rm -rf "$R$CONFDIR/g1/cgroup"
# put the host's cgroup2 root back as it was (the groups below first)
for c in $(cat "$v2/cgroup.subtree_control" 2>/dev/null); do
	echo " $v2sub " | grep -q " $c " && continue
	for d in "$v2/$UNIT" "$v2/$CGBASE/system.slice" "$v2/$CGBASE" "$v2"; do
		echo "-$c" >"$d/cgroup.subtree_control" 2>/dev/null
	done
done
same "the host's cgroup2 root is as it was" "$v2sub" "$(cat "$v2/cgroup.subtree_control" 2>/dev/null)"
v2root_unlock

# the mark a systemd in a user namespace sets instead (user.delegate)
setfattr -x trusted.delegate "$v2/$UNIT"
if setfattr -n user.delegate -v 1 "$v2/$UNIT" 2>/dev/null; then
	( echo $BASHPID >"$v2/$UNIT/cgroup.procs"
	  exec "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 start ) >"$T/ud.out" 2>&1
	same "with user.delegate (systemd in a user namespace): below the unit too" "/$UNIT/g1" \
		"$(sed -n 's/^0:://p' "/proc/$(init_of g1)/cgroup" 2>/dev/null)"
	expect_ok "stop" vsx g1 stop
	setfattr -x user.delegate "$v2/$UNIT"
else
	skip "user.delegate: cgroupfs takes no user.* attribute here"
fi

# without the mark: the base, as before
( echo $BASHPID >"$v2/$UNIT/cgroup.procs"
  exec "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 start ) >"$T/nd.out" 2>&1
check "a unit without Delegate=yes: started" vsx g1 running
same "its guest's group is below the base" "/$CGBASE/g1" "$(sed -n 's/^0:://p' "/proc/$(init_of g1)/cgroup")"
expect_ok "stop" vsx g1 stop
finish
