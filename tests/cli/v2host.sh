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
echo 300 >"$R$CONFDIR/g1/cgroup/blkio.weight"
expect_ok "start a guest with memory and pids limits and a blkio weight" vsx g1 start
same "memory.limit_in_bytes is memory.max" 67108864 "$(cat "$V2/$CGBASE/g1/memory.max")"
same "pids.max" 50 "$(cat "$V2/$CGBASE/g1/pids.max")"
# blkio.weight: BFQ's io.bfq.weight where BFQ is loaded, else io.weight
# in its own scale (runc's conversion)
if [ -e "$V2/$CGBASE/g1/io.bfq.weight" ]; then
	same "blkio.weight is io.bfq.weight" "default 300" "$(cat "$V2/$CGBASE/g1/io.bfq.weight")"
else
	same "blkio.weight is io.weight, converted" "default 2930" "$(cat "$V2/$CGBASE/g1/io.weight" 2>&1)"
fi
expect_ok "stop" vsx g1 stop

# ---- exclusive cpus: a partition of the guest's own -------------------------
# util-vserver's cpus_exclusive: the guest's group is a partition root
# (cpuset.cpus.partition), lent its cpus through the base's
# cpuset.cpus.exclusive; the host and the other guests keep the rest.
last=$(($(nproc) - 1))
if [ "$last" -lt 1 ] || [ ! -e "$V2/cpuset.cpus.effective" ]; then
	skip "exclusive cpus: fewer than 2 cpus or no cpuset controller"
else
	all=$(cat "$V2/cpuset.cpus.effective")
	mkguest g2 --context 102 || exit 99
	C=$R$CONFDIR/g2/cpuset
	mkdir -p "$C"
	echo 1 >"$C/cpus_exclusive"
	expect_error "cpus_exclusive without cpus of its own is refused" 1 \
		"cannot apply cpuset/cpus_exclusive of guest 'g2': it needs its own cpus (cpuset/cpus)" vsx g2 start
	check "nothing of it is left" sh -c "[ ! -e '$V2/$CGBASE/g2' ]"
	echo "$last" >"$C/cpus"
	echo 0 >"$C/mems"
	echo 1 >"$C/mem_exclusive"
	run vsx g2 start
	check "start with cpus $last, cpus_exclusive and mem_exclusive: mem_exclusive named ($ERR)" \
		err_has 0 "guest 'g2': cpuset/mem_exclusive ignored: cgroup2 has no exclusive mems"
	same "the guest's group is a partition" root "$(cat "$V2/$CGBASE/g2/cpuset.cpus.partition")"
	same "the base lends it cpu $last" "$last $last" \
		"$(cat "$V2/$CGBASE/cpuset.cpus.exclusive" "$V2/$CGBASE/g2/cpuset.cpus.exclusive" | paste -sd' ')"
	same "the base stays a member (a remote partition)" member "$(cat "$V2/$CGBASE/cpuset.cpus.partition")"
	check "the host no longer runs on cpu $last ($(cat "$V2/cpuset.cpus.effective"))" \
		sh -c "[ \"\$(cat '$V2/cpuset.cpus.effective')\" != '$all' ]"
	run vsx g2 exec sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2'
	same "its processes run on cpu $last" "$last" "$OUT"
	expect_ok "a guest without a cpuset starts beside it" vsx g1 start
	run vsx g1 exec sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2'
	check "and runs on the other cpus ($OUT)" sh -c "[ -n '$OUT' ] && ! echo '$OUT' | grep -qw '$last'"
	mkguest gx || exit 99
	mkdir -p "$R$CONFDIR/gx/cpuset"
	echo "$last" >"$R$CONFDIR/gx/cpuset/cpus"
	echo 1 >"$R$CONFDIR/gx/cpuset/cpus_exclusive"
	expect_error "a second guest wanting the same exclusive cpu is refused" 1 \
		"cannot give guest 'gx' cpus $last: cpus $last belong to an exclusive guest's partition" vsx gx start
	# an OCI container's group below the same base: refused, and named
	# a container
	. "$srcdir/tests/cli/ocilib.sh"
	mkbundle "$T/bx" "c['process']['args'] = ['true']
c['linux']['resources'] = {'cpu': {'cpus': '$last'}}"
	expect_error "a container wanting it is refused too, named a container" 1 \
		"cannot give container 'cx' cpus $last: cpus $last belong to an exclusive guest's partition" oci run -b "$T/bx" cx
	check "nothing of cx is left" sh -c "[ ! -e '$V2/$CGBASE/bx' ] && [ ! -e '$OR/cx' ]"
	rm "$R$CONFDIR/gx/cpuset/cpus_exclusive"
	echo "0-$last" >"$R$CONFDIR/gx/cpuset/cpus"
	expect_error "so is one wanting them without exclusive (cgroup2 would take them and break the partition)" 1 \
		"cannot give guest 'gx' cpus 0-$last: cpus $last belong to an exclusive guest's partition" vsx gx start
	same "the first guest's partition is still whole" root "$(cat "$V2/$CGBASE/g2/cpuset.cpus.partition")"
	echo 1 >"$R$CONFDIR/gx/cpuset/cpus_exclusive"
	echo 0 >"$R$CONFDIR/gx/cpuset/cpus"
	expect_error "one wanting the host's last cpu as its own is refused" 1 \
		"cannot apply cpuset/cpus_exclusive of guest 'gx'" vsx gx start
	check "nothing of gx is left" sh -c "[ ! -e '$V2/$CGBASE/gx' ]"
	same "the base still lends only cpu $last" "$last" "$(cat "$V2/$CGBASE/cpuset.cpus.exclusive")"
	same "and the first guest's partition is whole" root "$(cat "$V2/$CGBASE/g2/cpuset.cpus.partition")"
	expect_ok "stop the exclusive guest" vsx g2 stop
	same "the base lends nothing any more" "" "$(cat "$V2/$CGBASE/cpuset.cpus.exclusive")"
	same "the host runs on every cpu again" "$all" "$(cat "$V2/cpuset.cpus.effective")"
	expect_ok "stop the other" vsx g1 stop
fi

# ---- a systemd guest: its own cgroup2 hierarchy, controllers delegated ------
# VM_SYSROOT: a sysroot with the systemd guest sd, built by purev2.sh
if [ -z "${VM_SYSROOT:-}" ]; then
	skip "the systemd guest: purev2.sh builds it (VM_SYSROOT)"
	finish
	exit
fi
vsd() { "$VS" --sysroot "$VM_SYSROOT" --plugindir "$MODS" --datadir "$srcdir/conf.d" "$@"; }
SDB=$(sed -n 's/^cgroup_base = "\(.*\)"/\1/p' "$VM_SYSROOT$CONFFILE")
# state: what systemctl is-system-running says once the boot is over
# (300 s at most: the VM emulates its cpus)
state() {
	ST=
	for _ in $(seq 600); do
		ST=$(vsd sd exec systemctl is-system-running 2>/dev/null)
		case $ST in running | degraded | maintenance | stopping) break ;; esac
		sleep 0.5
	done
}
expect_ok "the systemd guest starts" vsd sd start
state
run vsd sd exec systemctl --failed --plain --no-legend
same "it reaches running (failed units: $OUT)" running "$ST"
[ "$ST" = running ] || vsd sd console --log 2>&1 | tail -n 20 | sed 's/^/#   console: /'
run vsd sd exec cat /sys/fs/cgroup/cgroup.controllers
check "its cgroup2 hierarchy offers the host's controllers ($OUT)" \
	sh -c "for c in cpu memory pids io; do echo ' $OUT ' | grep -q \" \$c \" || exit 1; done"
run vsd sd exec systemd-run --unit=capped -p MemoryMax=50M -p TasksMax=7 sleep 4321
d=$(find "$V2/$SDB/sd" -type d -name capped.service | head -n 1)
same "systemd inside gives its own service memory and pids limits" "52428800 7" \
	"$(cat "$d/memory.max" "$d/pids.max" 2>&1 | paste -sd' ')"
expect_ok "stop it" vsd sd stop
check "its groups are gone" test ! -e "$V2/$SDB/sd"
mkdir -p "$VM_SYSROOT$CONFDIR/sd/cgroup"
printf 'pids\nbogus\n' >"$VM_SYSROOT$CONFDIR/sd/cgroup/delegate"
run vsd sd start
check "cgroup/delegate names one cgroup2 lacks: a warning ($ERR)" \
	err_has 0 "guest 'sd': controller 'bogus' of $CONFDIR/sd/cgroup/delegate not delegated: cgroup2 does not offer it here"
run vsd sd exec cat /sys/fs/cgroup/cgroup.controllers
same "the guest is offered what cgroup/delegate names" pids "$OUT"
expect_ok "stop it again" vsd sd stop
rm -r "$VM_SYSROOT$CONFDIR/sd/cgroup"
finish
