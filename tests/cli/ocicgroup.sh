#!/bin/bash
# vs oci's lifecycle with linux.resources in the container's cgroup, on
# this host's hierarchies and (purev2.sh) a pure cgroup2 one: create,
# start, state, exec, ps, kill, delete leaving no group (not one of the
# runtime's own either), exec into a group that gave its children
# controllers, and the container's own group as its /sys/fs/cgroup when
# it has no cgroup namespace.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
. "$srcdir/tests/cli/ocilib.sh"
B=$T/b1

# ---- the lifecycle ---------------------------------------------------
mkbundle "$B" "c['process']['args'] = ['sleep', '300']
c['linux']['resources'] = {'memory': {'limit': 67108864}, 'pids': {'limit': 40}, 'cpu': {'quota': 50000, 'period': 100000, 'shares': 512}}"
expect_ok "create" oci create --bundle "$B" --pid-file "$T/pid" c1
P=$(cat "$T/pid" 2>/dev/null)
run oci state c1
check "state: created, with the pid of the pid file" out_has "\"status\":\"created\",\"pid\":$P,"
check "the created process waits (not yet sleep)" test "$(cat /proc/"$P"/comm 2>/dev/null)" != sleep
expect_ok "start" oci start c1
run oci state c1
check "state: running" out_has '"status":"running"'
for i in $(seq 50); do [ "$(cat /proc/"$P"/comm 2>/dev/null)" = sleep ] && break; sleep 0.02; done
same "the process runs its args" sleep "$(cat /proc/"$P"/comm 2>/dev/null)"
run oci exec c1 sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'
same "exec: sees linux.resources in its cgroup (memory, pids)" "67108864
40" "$OUT"
run oci exec c1 sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null || cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/cpu.weight'
case $OUT in
*" "*) want="50000 100000
20" ;; # cgroup2: cpu.max, and cpu.weight from shares 512 as runc converts it
*) want="50000
100000
512" ;;
esac
same "exec: sees the cpu quota, period and shares" "$want" "$OUT"
run oci exec c1 sh -c 'cat /proc/1/comm; ps -o comm | grep -c sleep'
same "exec: in the container's pid namespace, beside its process" "sleep
1" "$OUT"
run oci exec --detach --pid-file "$T/xpid" c1 sleep 200
X=$(cat "$T/xpid" 2>/dev/null)
check "exec --detach: returns, its pid written, the process runs" test -n "$X" -a "$(cat /proc/"$X"/comm 2>/dev/null)" = sleep
run oci ps --format json c1
check "ps --format json: both processes" python3 -c "import sys,json; assert sorted(json.loads(sys.argv[1])) == sorted([$P, $X])" "$OUT"
expect_error "delete of a running container without --force" 1 "it is running" oci delete c1
expect_ok "kill the process" oci kill c1 KILL
for i in $(seq 100); do [ -d /proc/"$P" ] || break; sleep 0.02; done
run oci state c1
check "state: stopped once the process is gone" out_has '"status":"stopped","pid":0'
expect_error "kill of a stopped container" 1 "container 'c1' is not running" oci kill c1 KILL
for i in $(seq 100); do [ -d /proc/"$X" ] || break; sleep 0.02; done
check "the exec'd process ended with its pid namespace's init" test ! -d /proc/"$X"
expect_ok "delete" oci delete c1
same "delete: no state, no cgroup" "" "$(left c1)"

expect_ok "create (then kill --all)" oci create -b "$B" c2
expect_ok "start" oci start c2
expect_ok "kill --all KILL" oci kill --all c2 KILL
expect_ok "delete --force" oci delete --force c2
same "nothing left of c2" "" "$(left c2)"
# a container without a pid namespace of its own (a pod's, sharing the
# sandbox's): its process's children outlive it; once it is stopped,
# kill --all still reaches them, as runc does (containerd's shim sends it
# when such a container's process exits, and fails the container's stop
# when it is refused)
mkbundle "$T/b4" "c['process']['args'] = ['sh', '-c', 'sleep 300 & echo \$! >/tmp/left; exit 0']
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'pid']
c['mounts'].append({'destination': '/tmp', 'type': 'bind', 'source': '$T/b4tmp', 'options': ['rbind']})"
mkdir -p "$T/b4tmp"
oci create -b "$T/b4" c4 && oci start c4
for i in $(seq 100); do oci state c4 2>/dev/null | grep -q '"stopped"' && break; sleep 0.05; done
run oci state c4
check "a process that leaves a child behind: stopped" out_has '"status":"stopped"'
L=$(cat "$T/b4tmp/left" 2>/dev/null)
check "... its child runs on ($L)" grep -q sleep /proc/"$L"/cmdline
expect_ok "kill --all of the stopped container" oci kill --all c4 KILL
for i in $(seq 100); do [ -d /proc/"$L" ] || break; sleep 0.02; done
check "... has killed what was left in its group" test ! -d /proc/"$L"
expect_error "kill without --all of it" 1 "container 'c4' is not running" oci kill c4 KILL
expect_ok "delete of it" oci delete c4
same "nothing left of c4" "" "$(left c4)"
expect_ok "a created container is deleted without --force" oci create -b "$B" c3
expect_ok "delete of it" oci delete c3
same "nothing left of c3" "" "$(left c3)"

# exec into a container whose group gave its children controllers (as a
# systemd inside does): such a group takes no process, so exec joins the
# container's init's own group below it (runc does the same)
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
v2root_lock "$v2"
v2sub=$(cat "$v2/cgroup.subtree_control" 2>/dev/null)
mkbundle "$B" "c['process']['args'] = ['sleep', '300']"
expect_ok "create (a group with children)" oci run -d --pid-file "$T/pid" -b "$B" cs
P=$(cat "$T/pid" 2>/dev/null)
G=$v2/$CGBASE/$(basename "$B")
ctl=$(awk '{ print $1 }' "$G/cgroup.controllers" 2>/dev/null)
if [ -z "$ctl" ] && grep -qw hugetlb "$v2/cgroup.controllers" 2>/dev/null; then
	for d in "$v2" "$v2/$CGBASE"; do echo +hugetlb >"$d/cgroup.subtree_control"; done
	ctl=$(awk '{ print $1 }' "$G/cgroup.controllers" 2>/dev/null)
fi
if [ -n "$ctl" ] && mkdir "$G/init" && echo "$P" >"$G/init/cgroup.procs" &&
	echo "+$ctl" >"$G/cgroup.subtree_control"; then
	run oci exec cs sh -c 'cat /proc/self/cgroup'
	# (seen from its cgroup namespace, whose root is the container's group)
	same "exec into it: runs, in the init's group" "0 /init" \
		"$RC $(printf '%s\n' "$OUT" | sed -n 's/^0:://p')"
else
	skip "exec into a group with children: cgroup2 offers no controller here"
fi
expect_ok "delete --force of it" oci delete --force cs
same "nothing left of cs" "" "$(left cs)"
for c in $(cat "$v2/cgroup.subtree_control" 2>/dev/null); do
	echo " $v2sub " | grep -q " $c " && continue
	for d in "$v2/$CGBASE" "$v2"; do echo "-$c" >"$d/cgroup.subtree_control" 2>/dev/null; done
done
same "the host's cgroup2 root is as it was" "$v2sub" "$(cat "$v2/cgroup.subtree_control" 2>/dev/null)"
v2root_unlock

# blockIO's throttles, on a block device of this machine: blkio's
# throttle files (v1), io.max (cgroup2); a device the kernel does not
# know fails the create, and nothing is left
blk=$(cat "$(ls -d /sys/block/*/dev | head -n 1)" 2>/dev/null)
if [ -n "$blk" ]; then
	maj=${blk%:*} min=${blk#*:}
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device 2>/dev/null || grep ^$blk /sys/fs/cgroup/io.max']
c['linux']['resources'] = {'blockIO': {'throttleReadBpsDevice': [{'major': $maj, 'minor': $min, 'rate': 1048576}], 'throttleWriteIOPSDevice': [{'major': $maj, 'minor': $min, 'rate': 120}]}}"
	run oci run -b "$B" bio1
	case $OUT in
	*rbps*) want="$blk rbps=1048576 wbps=max riops=max wiops=120" ;;
	*) want="$blk 1048576
$blk 120" ;;
	esac
	same "blockIO throttles: in the container's group" "0 $want" "$RC $OUT"
	same "nothing left of bio1" "" "$(left bio1)"
	mkbundle "$B" "c['process']['args'] = ['true']
c['linux']['resources'] = {'blockIO': {'throttleReadBpsDevice': [{'major': 4000, 'minor': 77, 'rate': 1048576}]}}"
	expect_error "blockIO: a throttle of a device the kernel does not have" 1 "for container 'bio2': No such device" oci run -b "$B" bio2
	same "nothing left of bio2" "" "$(left bio2)"
	mkbundle "$B" "c['process']['args'] = ['true']
c['linux']['resources'] = {'blockIO': {'throttleWriteBpsDevice': [{'major': $maj, 'rate': 5}]}}"
	expect_error "blockIO: an entry without its minor" 1 "linux.resources.blockIO.throttleWriteBpsDevice[0] needs major, minor and rate" oci run -b "$B" bio3
	same "nothing left of bio3" "" "$(left bio3)"
else
	skip "blockIO throttles: this machine shows no block device in /sys/block"
fi

# blockIO's weights, on a loop device of the test's own under BFQ (the
# one scheduler left with weights per group: CFQ went with Linux 5.0):
# BFQ's files, as runc writes them (blkio.bfq.weight and
# blkio.bfq.weight_device on v1, io.bfq.weight on cgroup2); a device
# whose scheduler has no weights only warns, as runc's missing weight
# file would not
modprobe bfq 2>/dev/null
truncate -s 8M "$T/bfq.img"
lo=$(losetup -f --show "$T/bfq.img" 2>/dev/null)
sched=/sys/block/${lo#/dev/}/queue/scheduler
if [ -n "$lo" ] && echo bfq >"$sched" 2>/dev/null; then
	ld=$(cat "/sys/block/${lo#/dev/}/dev")
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'cat /sys/fs/cgroup/blkio/blkio.bfq.weight /sys/fs/cgroup/blkio/blkio.bfq.weight_device 2>/dev/null || cat /sys/fs/cgroup/io.bfq.weight']
c['linux']['resources'] = {'blockIO': {'weight': 500, 'weightDevice': [{'major': ${ld%:*}, 'minor': ${ld#*:}, 'weight': 300}]}}"
	run oci run -b "$B" bw1
	case $OUT in
	default*) want="default 500" ;;
	*) want="500
default 500" ;; # v1: the weight, then weight_device's own default line
	esac
	same "blockIO weights: BFQ's, in the container's group" "0 $want
$ld 300" "$RC $OUT"
	check "... without a warning" test ! -s "$T/err"
	same "nothing left of bw1" "" "$(left bw1)"
	echo none >"$sched"
	run oci run -b "$B" bw2
	check "a device whose scheduler has no weights: the container runs, one warning" \
		test "$RC" = 0 -a "$(grep -c "blockIO.weightDevice $ld not applied" "$T/err")" = 1
	same "nothing left of bw2" "" "$(left bw2)"
else
	skip "blockIO weights: no loop device under BFQ here${lo:+ (the scheduler of $lo refuses bfq)}"
fi
[ -n "$lo" ] && losetup -d "$lo"

# without a cgroup namespace of its own the container sees its own group
# (not the host's hierarchy) at /sys/fs/cgroup, read-only
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/memory.max; ls /sys/fs/cgroup/pids /sys/fs/cgroup/memory /sys/fs/cgroup | grep -c ^vs-test; echo 9 >/sys/fs/cgroup/pids/pids.max 2>/dev/null && echo written']
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'cgroup']
c['linux']['resources'] = {'memory': {'limit': 67108864}, 'pids': {'limit': 41}}"
run oci run -b "$B" cg1
same "no cgroup namespace: its own group's limits, no host group seen, read-only" "41
67108864
0" "$OUT"
same "nothing left of cg1" "" "$(left cg1)"

# the systemd form of cgroupsPath (--systemd-cgroup): slice:prefix:name,
# the group <slice>/<prefix>-<name>.scope (a slice of the test's own);
# the same path on cgroup2, so the host's run covers the VM's
if [ -n "${VS_IN_VM:-}" ]; then
	skip "the systemd form of cgroupsPath: the host's run tests it"
	finish
	exit
fi
CGEXTRA=vstest$$.slice
mkbundle "$B" "c['process']['args'] = ['sleep', '300']
c['linux']['cgroupsPath'] = 'vstest$$.slice:vstest:sd1'
c['linux']['resources'] = {'pids': {'limit': 43}}"
expect_ok "--systemd-cgroup create with slice:prefix:name" oci --systemd-cgroup create -b "$B" sd1
scope=$(ls -d /sys/fs/cgroup/pids/$CGEXTRA/vstest-sd1.scope /sys/fs/cgroup/$CGEXTRA/vstest-sd1.scope 2>/dev/null | head -n 1)
same "its group is <slice>/<prefix>-<name>.scope, with its limit" "43" "$(cat "$scope/pids.max" 2>/dev/null)"
expect_ok "--systemd-cgroup delete --force" oci --systemd-cgroup delete --force sd1
check "its scope is gone" test -n "$scope" -a ! -d "$scope"
mkbundle "$T/b2" "c['process']['args'] = ['true']"
expect_error "--systemd-cgroup with a cgroupfs path" 1 "bad cgroupsPath '/$CGBASE/b2': with --systemd-cgroup it is slice:prefix:name" oci --systemd-cgroup create -b "$T/b2" sd2
same "nothing left of sd1, sd2" "" "$(left sd1; left sd2)"
finish
