#!/bin/bash
# A pure cgroup2 host (every controller on /sys/fs/cgroup): the guests'
# limits land in their cgroup2 groups.  This machine's hybrid layout
# cannot show it: tests/cli/purev2.sh runs this program in a VM.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
if ! grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
	echo "SKIP: not a pure cgroup2 host (tests/cli/purev2.sh runs this in a VM)"
	exit 77
fi
use_test_cgroups
V2=/sys/fs/cgroup
mkguest g1 --context 101 || exit 99
mkdir -p "$R$CONFDIR/g1/cgroup"
echo 64M >"$R$CONFDIR/g1/cgroup/memory.limit_in_bytes"
echo 50 >"$R$CONFDIR/g1/cgroup/pids.max"
expect_ok "start a guest with memory and pids limits" vsx g1 start
same "memory.limit_in_bytes is memory.max" 67108864 "$(cat "$V2/$CGBASE/g1/memory.max")"
same "pids.max" 50 "$(cat "$V2/$CGBASE/g1/pids.max")"
expect_ok "stop" vsx g1 stop
finish
