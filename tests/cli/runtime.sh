#!/bin/bash
# start, stop, exec, enter, status, stat, ps on real guests (busybox) in
# real namespaces: isolation, capabilities, cgroup limits, the kill
# sequence, a killed monitor, concurrent starts, bad input.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest g1 --hostname g1.example --context 101 || exit 99
mkguest g2 --context 102 || exit 99
install -m 0755 "$top_builddir/tests/fixtures/escape" "$R$VROOTDIR/g1/bin/escape"
mkdir -p "$R$VROOTDIR/g1/sys" # it gets the host's sysfs, read-only, masked
echo host >"$T/host-marker"

expect_ok "start g1" vsx g1 start
# what is loaded: libseccomp only to compile a filter, libmnl only for
# interfaces (each in a runtime helper of its own)
maps_have() { grep -Eq "$2" "/proc/$1/maps"; }
monitor=$(awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/g1")
check "control: the monitor of a start that compiled the filter maps libseccomp" maps_have "$monitor" 'libseccomp'
expect_ok "stop g1" vsx g1 stop
expect_ok "start g1 again" vsx g1 start
monitor=$(awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/g1")
check "a start with the filter compiled and no interfaces maps neither libseccomp nor libmnl" \
	sh -c "[ -r /proc/$monitor/maps ] && ! grep -Eq 'libseccomp|libmnl' /proc/$monitor/maps"
exec_maps() { # the attach process of an exec and vs map neither
	vsx g1 exec sleep 33 >/dev/null 2>&1 &
	p=
	for _ in $(seq 100); do
		p=$(pgrep -xf "sleep 33") && break
		sleep 0.02
	done
	a=$(ps -o ppid= -p "$p" | tr -d ' ')
	v=$(ps -o ppid= -p "$a" | tr -d ' ')
	r=1
	[ -n "$p" ] && [ -r "/proc/$a/maps" ] && [ -r "/proc/$v/maps" ] &&
		grep -q libvs "/proc/$v/maps" &&
		! grep -Eq 'libseccomp|libmnl' "/proc/$a/maps" "/proc/$v/maps" && r=0
	[ -n "$p" ] && kill "$p"
	wait
	return $r
}
check "exec maps neither libseccomp nor libmnl" exec_maps
run vsx g1 status
same "status: running, exit 0" "0|Vserver 'g1' is running at context '101'" "$RC|$OUT"
expect_ok "running: exit 0" vsx g1 running

# inside the guest
run vsx g1 exec cat /proc/1/comm
same "PID 1 is the init" "init" "$OUT"
run vsx g1 exec sh -c 'ls /proc | grep -c "^[0-9]"'
check "host processes are invisible" test "$OUT" -lt 6
run vsx g1 exec hostname
same "the hostname is the guest's" "g1.example" "$OUT"
run vsx g1 exec cat /etc/guest-marker
same "the root is the guest's" "guest g1" "$OUT"
run vsx g1 exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
want=$(printf '%016x' $(( (1<<0)|(1<<1)|(1<<3)|(1<<4)|(1<<5)|(1<<6)|(1<<7)|(1<<10)|(1<<18)|(1<<19)|(1<<22)|(1<<26)|(1<<28)|(1<<29)|(1<<31) )))
same "bounding set: util-vserver's secure set less DAC_READ_SEARCH, + SYS_BOOT + AUDIT_WRITE" "$want" "$OUT"
run vsx g1 exec mount
check "mount shows only the guest's mounts" sh -c "! grep -q '$T' '$T/out' && grep -q ' /proc ' '$T/out'"
run vsx g1 exec mount -t tmpfs none /mnt
check "mounting fails" test "$RC" != 0
run vsx g1 exec mknod /tmp/null c 1 3
check "mknod fails" test "$RC" != 0
# an image the kernel would parse (ENOEXEC) if the caller could load
# modules: the guest gets EPERM; the host itself gets further (control)
install -m 0755 "$top_builddir/tests/fixtures/hostile" "$R$VROOTDIR/g1/bin/hostile"
run vsx g1 exec hostile module
same "module loading fails (EPERM before the kernel reads the image)" "0|contained init_module: Operation not permitted" "$RC|$OUT"
run "$top_builddir/tests/fixtures/hostile" module
check "control: on the host the kernel itself answers (ENOEXEC, or ENOSYS without module support): $OUT" test "$RC" = 1
run vsx g1 exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
check "no CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_ADMIN, CAP_MKNOD" \
	test $(( 0x$OUT & ((1<<16)|(1<<17)|(1<<21)|(1<<27)) )) = 0
run vsx g1 exec sh -c 'ls /dev/mem /dev/port /dev/kmem /dev/sda 2>/dev/null; cat /proc/kcore | wc -c'
same "no raw devices, kcore masked" "0" "$OUT"
run vsx g1 exec sh -c 'echo 3 > /proc/sys/vm/drop_caches'
check "writing to /proc/sys fails" test "$RC" != 0
run vsx g1 exec sh -c 'echo x > /proc/sysrq-trigger'
check "writing to /proc/sysrq-trigger fails" test "$RC" != 0
run vsx g1 exec sh -c 'for f in keys timer_list sched_debug kallsyms; do [ -e /proc/$f ] && printf "%s:%s " $f $(cat /proc/$f 2>/dev/null | wc -c); done'
same "keys, timer_list, sched_debug, kallsyms are masked (read empty)" "" "$(echo "$OUT" | tr ' ' '\n' | grep -v ':0$')"
# /sys/firmware has entries on this host (acpi, memmap): the guest sees
# none, nor anything of /proc/acpi or the power readings
[ -n "$(ls /sys/firmware)" ] || echo "note: the host's /sys/firmware is empty: the next check shows less"
run vsx g1 exec sh -c 'ls -A /sys/firmware /proc/acpi /sys/devices/virtual/powercap 2>/dev/null; touch /sys/firmware/x 2>/dev/null && echo written'
same "/sys/firmware, /proc/acpi and powercap are masked (empty, read-only)" "/proc/acpi:
/sys/firmware:" "$(printf '%s\n' "$OUT" | grep -v '^$' | sort)"
run vsx g1 exec sh -c 'grep " /proc/sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1'
same "/proc/sys is mounted read-only" "ro" "$OUT"
run vsx g1 exec escape "$T/host-marker"
same "the double-chroot escape fails" "0|contained" "$RC|$OUT"
run vsx g1 exec sh -c 'exit 7'
same "exec: the command's exit status" 7 "$RC"
run vsx g1 exec -- echo a -h b
same "exec: options belong to the command" "a -h b" "$OUT"
run sh -c 'echo "echo in-shell; exit 3" | "$@"' _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 enter
same "enter: a shell in the guest, its status" "3|in-shell" "$RC|$OUT"
run vsx namespace --enter 101 -- hostname
same "namespace --enter <xid>" "g1.example" "$OUT"
monitor=$(awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/g1")
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
check "the init is in the guest's cgroup" grep -q "/$CGBASE/g1\$" "/proc/$init/cgroup"
check "the monitor is not" sh -c "[ -n '$monitor' ] && [ -r /proc/$monitor/cgroup ] && ! grep -q '/$CGBASE/' /proc/$monitor/cgroup"
expect_error "a second start fails" 1 "guest 'g1' is already running" vsx g1 start

# two guests: stat, ps, status
expect_ok "start g2 (verb first)" vsx start g2
run vsx stat
check "stat: header" test "$(sed -n 1p "$T/out")" = "CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME"
check "stat: g1 row" grep -Eq '^101      1 +[0-9.]+[ KMG] +[0-9.]+[ KMG] +[0-9]+m[0-9]{2}s[0-9]{2} +[0-9]+m[0-9]{2}s[0-9]{2} +[0-9]+m[0-9]{2}s[0-9]{2} g1$' "$T/out"
check "stat: g2 row after g1" test "$(sed -n 3p "$T/out" | cut -c1-3)" = 102
run vsx stat --json
check "stat --json" grep -q '"context": 102, "processes": 1,' "$T/out"
run vsx ps -e
check "ps: CONTEXT column" grep -q '^ *PID CONTEXT ' "$T/out"
check "ps: the guests' inits" sh -c "grep -Eq '^ *$init +101 g1 ' '$T/out' && grep -Eq ' 102 g2 +.*init' '$T/out'"
check "ps: host processes are MAIN" grep -Eq '^ +1 +0 MAIN ' "$T/out"
run vsx g2 status -v
check "status -v: processes and uptime" grep -q '^Number of processes:  1$' "$T/out"

# stop
expect_ok "stop g2" vsx g2 stop
run vsx g2 status
same "status: stopped, exit 3" "3|Vserver 'g2' is stopped" "$RC|$OUT"
check "stop: the cgroup is gone" sh -c "! ls -d /sys/fs/cgroup/*/$CGBASE/g2 2>/dev/null | grep -q ."
check "stop: the run file is gone" test ! -e "$R$RUNDIR/g2"
expect_ok "stopping a stopped guest is fine" vsx g2 stop

# a killed monitor: the guest ends with it and is reported stopped
kill -9 "$monitor"
sleep 0.3
run vsx g1 status
same "killed monitor: reported stopped" 3 "$RC"
gone() { [ ! -e "/proc/$1/stat" ] || awk '{ exit !($3 == "Z") }' "/proc/$1/stat"; }
check "killed monitor: the init died with it" gone "$init"
expect_ok "killed monitor: start again" vsx g1 start
# restart: stop, then start (a new init); a stopped guest just starts
i1=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
expect_ok "restart a running guest" vsx g1 restart
i2=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
check "restart: a new init ($i1 -> $i2), the old one gone" \
	sh -c "[ -n '$i2' ] && [ '$i2' != '$i1' ] && [ ! -e /proc/$i1 ] && '$VS' --sysroot '$R' --plugindir '$MODS' --datadir '$srcdir/conf.d' g1 running"
expect_ok "and stop" vsx g1 stop
expect_ok "restart a stopped guest starts it" vsx g1 restart
check "restart: running" vsx g1 running
expect_ok "and stop" vsx g1 stop
expect_error "restart an unknown guest" 5 "no guest 'nosuch'" vsx nosuch restart
check "no mounts of the guests left" sh -c "! grep -q '$R' /proc/mounts"

# an init that ignores TERM and INT: the kill sequence ends it
mkdir -p "$R$CONFDIR/g2/apps/init" "$R$CONFDIR/g2/apps/vshelper"
printf '/bin/sh\n-c\ntrap "" TERM INT; while :; do sleep 1; done\n' >"$R$CONFDIR/g2/apps/init/cmd.start"
printf '15\n1\n9\n' >"$R$CONFDIR/g2/apps/init/killseq"
echo 1 >"$R$CONFDIR/g2/apps/vshelper/sync-timeout"
expect_ok "start a stubborn guest" vsx g2 start
start_s=$(date +%s%N)
expect_ok "stop it" vsx g2 stop
ms=$(( ($(date +%s%N) - start_s) / 1000000 ))
check "stopped within timeout + kill sequence (${ms} ms)" test "$ms" -lt 4500
run vsx g2 status
same "the stubborn guest is stopped" 3 "$RC"
rm "$R$CONFDIR/g2/apps/init/cmd.start" "$R$CONFDIR/g2/apps/init/killseq"

# two concurrent starts: exactly one wins
pids=
for i in 1 2 3; do vsx g2 start >"$T/c$i" 2>&1 & pids="$pids $!"; done
wins=0
for p in $pids; do wait "$p" && wins=$((wins + 1)); done
same "concurrent starts: exactly one wins" 1 "$wins"
check "the others say it is running" grep -q "already running" "$T/c1" "$T/c2" "$T/c3"
expect_ok "stop after concurrent starts" vsx g2 stop

# cgroup limits: memory OOM-kills, pids stops a fork bomb
mkdir -p "$R$CONFDIR/g2/cgroup"
echo 32M >"$R$CONFDIR/g2/cgroup/memory.limit_in_bytes"
echo 12 >"$R$CONFDIR/g2/cgroup/pids.max"
expect_ok "start with limits" vsx g2 start
# the run file names the groups made at start; exec joins them from it,
# or, with the run file of an older vs, from the hierarchies
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g2")
in_groups() { # in_groups PID: every group of the run file holds PID
	awk '$1 == "cgroup" { print $3 }' "$R$RUNDIR/g2" >"$T/groups"
	[ "$(wc -l <"$T/groups")" -ge 2 ] || return 1
	while read -r d; do
		grep -qx "$1" "$d/cgroup.procs" || return 1
	done <"$T/groups"
}
check "the run file names each group of the guest, the init in each" in_groups "$init"
# (seen from the host: inside, the guest's cgroup namespace shows "/")
exec_in_groups() { # exec_in_groups SECS: an exec'd sleep is in them all
	vsx g2 exec sleep "$1" >/dev/null 2>&1 &
	p=
	for _ in $(seq 100); do
		p=$(pgrep -xf "sleep $1") && break
		sleep 0.02
	done
	[ -n "$p" ] && in_groups "$p"
	r=$?
	[ -n "$p" ] && kill "$p"
	wait
	return $r
}
check "exec: the command is in every group of the run file" exec_in_groups 31
cp "$R$RUNDIR/g2" "$T/run.g2"
sed -i '/^cgroup /d' "$R$RUNDIR/g2"
in_groups() { # the groups as recorded, the run file is now older
	awk '$1 == "cgroup" { print $3 }' "$T/run.g2" >"$T/groups"
	while read -r d; do
		grep -qx "$1" "$d/cgroup.procs" || return 1
	done <"$T/groups"
}
check "exec with an older run file (no groups): found in the hierarchies" exec_in_groups 32
run vsx g2 exec dd if=/dev/zero of=/dev/null bs=64M count=1
same "an allocation above the memory limit is OOM-killed" 137 "$RC"
run vsx g2 exec dd if=/dev/zero of=/dev/null bs=8M count=1
same "one below it works" 0 "$RC"
run vsx g2 exec sh -c 'i=0; while [ $i -lt 40 ]; do sleep 3 & i=$((i+1)); done; echo spawned'
check "the fork bomb hits pids.max" grep -q "can't fork" "$T/err"
cur=$(cat $(find /sys/fs/cgroup -path "*/$CGBASE/g2/pids.current" | head -n 1))
check "the guest has at most pids.max processes ($cur)" test "$cur" -le 12
expect_ok "the guest still stops" vsx g2 stop
rm -r "$R$CONFDIR/g2/cgroup"

# cpu shares, cpuset (v1 here), a controller that cgroup2 offers here
mkdir -p "$R$CONFDIR/g2/cgroup"
echo 512 >"$R$CONFDIR/g2/cgroup/cpu.shares"
echo 300 >"$R$CONFDIR/g2/cgroup/blkio.weight"
echo 0 >"$R$CONFDIR/g2/cpuset/cpus"
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
v2root_lock "$v2"
v2sub=$(cat "$v2/cgroup.subtree_control" 2>/dev/null)
if grep -qw hugetlb "$v2/cgroup.controllers" 2>/dev/null && [ -e "$v2/hugetlb.2MB.max" -o -e "$v2/cgroup.procs" ]; then
	echo 0 >"$R$CONFDIR/g2/cgroup/hugetlb.2MB.max"
fi
expect_ok "start with cpu, cpuset and v2 settings" vsx g2 start
cgfile() { find /sys/fs/cgroup -path "*/$CGBASE/g2/$1" 2>/dev/null | head -n 1; }
f=$(cgfile cpu.shares)
if [ -n "$f" ]; then
	same "cpu.shares applied (v1)" 512 "$(cat "$f")"
else
	same "cpu.shares applied as cpu.weight (v2)" 20 "$(cat "$(cgfile cpu.weight)")"
fi
same "cpuset/cpus applied" 0 "$(cat "$(cgfile cpuset.cpus)")"
# blkio.weight: CFQ's file is gone (Linux 5.0), BFQ's takes it (v1:
# blkio.bfq.weight, cgroup2: io.bfq.weight), else io.weight converted
for f in blkio.weight blkio.bfq.weight io.bfq.weight io.weight; do
	[ -n "$(cgfile $f)" ] && break
done
case $f in
io.weight) want="default 2930" ;;
io.bfq.weight) want="default 300" ;;
*) want=300 ;;
esac
same "blkio.weight applied ($f)" "$want" "$(cat "$(cgfile $f)" 2>/dev/null)"
if [ -e "$R$CONFDIR/g2/cgroup/hugetlb.2MB.max" ]; then
	same "a cgroup2 controller is used on cgroup2" 0 "$(cat "$v2/$CGBASE/g2/hugetlb.2MB.max")"
else
	skip "a cgroup2 controller on cgroup2: the unified hierarchy has no hugetlb here"
fi
expect_ok "stop after settings" vsx g2 stop
# put the host's cgroup2 root back as it was
for c in $(cat "$v2/cgroup.subtree_control" 2>/dev/null); do
	echo " $v2sub " | grep -q " $c " || echo "-$c" >"$v2/cgroup.subtree_control" 2>/dev/null
done
v2root_unlock
rm -r "$R$CONFDIR/g2/cgroup"
rm "$R$CONFDIR/g2/cpuset/cpus"

# exclusive cpusets (v1): the guest's group and the base above it get the
# flag; a guest whose cpus overlap is refused; the base loses the flag
# when no exclusive guest is left.  (The only test with cpuset groups: the
# base of another test's would overlap this one's.)
cs=/sys/fs/cgroup/cpuset
other=$(for d in "$cs"/*/; do
	n=$(basename "$d")
	[ "$n" != "$CGBASE" ] && [ -n "$(cat "$d/cpuset.cpus" 2>/dev/null)" ] && echo "$n"
done)
if [ ! -e "$cs/cpuset.cpu_exclusive" ] || [ "$(nproc)" -lt 2 ]; then
	skip "exclusive cpusets: no v1 cpuset hierarchy or fewer than 2 cpus"
elif [ -n "$other" ]; then
	skip "exclusive cpusets: the host's cpuset groups $(echo $other) use the cpus a base would take"
else
	last=$(($(nproc) - 1))
	echo $last >"$R$CONFDIR/g2/cpuset/cpus"
	echo 1 >"$R$CONFDIR/g2/cpuset/cpus_exclusive"
	echo 0 >"$R$CONFDIR/g2/cpuset/mems"
	echo 1 >"$R$CONFDIR/g2/cpuset/mem_exclusive"
	expect_ok "start with cpus $last, cpus_exclusive and mem_exclusive" vsx g2 start
	same "the guest's and the base's groups are exclusive (cpus and mems)" "1 1 1 1" \
		"$(cat "$cs/$CGBASE/g2/cpuset.cpu_exclusive" "$cs/$CGBASE/g2/cpuset.mem_exclusive" \
			"$cs/$CGBASE/cpuset.cpu_exclusive" "$cs/$CGBASE/cpuset.mem_exclusive" | paste -sd' ')"
	run vsx g2 exec sh -c 'grep Cpus_allowed_list /proc/self/status | cut -f2'
	same "its processes run on cpu $last only" "$last" "$OUT"
	mkguest gx
	mkdir -p "$R$CONFDIR/gx/cpuset"
	echo 0-$last >"$R$CONFDIR/gx/cpuset/cpus"
	expect_error "a guest whose cpus overlap an exclusive one's is refused" 1 "cpuset.cpus" vsx gx start
	echo 0 >"$R$CONFDIR/gx/cpuset/cpus"
	if [ "$(cat "$cs/cpuset.mems")" = 0 ]; then
		expect_error "one whose mems an exclusive one holds (one node here) is refused, saying so" 1 \
			"cannot give guest 'gx' a cpuset: no mems left" vsx gx start
	fi
	expect_ok "stop the first" vsx g2 stop
	check "the base lost both flags (or is gone)" \
		sh -c '! grep -qx 1 "$1"/cpuset.cpu_exclusive "$1"/cpuset.mem_exclusive 2>/dev/null' - "$cs/$CGBASE"
	rm "$R$CONFDIR/g2/cpuset/mem_exclusive"
	expect_ok "again, cpus exclusive only" vsx g2 start
	expect_ok "a guest on the other cpus starts" vsx gx start
	expect_ok "stop it" vsx gx stop
	same "the base keeps the cpu flag while an exclusive guest runs" 1 "$(cat "$cs/$CGBASE/cpuset.cpu_exclusive")"
	expect_ok "start it again" vsx gx start
	expect_ok "stop the exclusive one" vsx g2 stop
	same "the base, still there, lost the flag" "yes 0" \
		"$(test -d "$cs/$CGBASE" && echo yes) $(cat "$cs/$CGBASE/cpuset.cpu_exclusive" 2>/dev/null)"
	expect_ok "stop the other" vsx gx stop
	check "no exclusive group is left (the base lost its flags or is gone)" \
		sh -c '! grep -qx 1 "$1"/cpuset.cpu_exclusive "$1"/cpuset.mem_exclusive 2>/dev/null' - "$cs/$CGBASE"
	vsx gx delete --yes >/dev/null 2>&1
	rm "$R$CONFDIR/g2/cpuset/cpus" "$R$CONFDIR/g2/cpuset/cpus_exclusive" "$R$CONFDIR/g2/cpuset/mems"
fi

# spaces/net: an empty network namespace of its own (loopback only)
mkdir -p "$R$CONFDIR/g2/spaces"
touch "$R$CONFDIR/g2/spaces/net"
expect_ok "start with spaces/net" vsx g2 start
run vsx g2 exec sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
same "spaces/net: only loopback" "lo" "$OUT"
expect_ok "stop the netns guest" vsx g2 stop
rm -r "$R$CONFDIR/g2/spaces"

# --foreground: the monitor is this process; TERM stops the guest
(exec "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g2 start --foreground >"$T/fg.out" 2>&1) &
fg=$!
for i in $(seq 50); do vsx g2 running && break; sleep 0.1; done
run vsx g2 status
same "--foreground: running" 0 "$RC"
same "--foreground: the monitor is the vs process" "$fg" "$(awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/g2")"
kill -TERM "$fg"
wait "$fg"
same "--foreground: TERM stops the guest, exit 0" 0 "$?"
run vsx g2 status
same "--foreground: stopped after TERM" 3 "$RC"

# a guest without context gets a dynamic one
rm "$R$CONFDIR/g2/context"
expect_ok "start without context" vsx g2 start
run vsx g2 status
check "dynamic context from 49152" grep -q "context '49152'" "$T/out"
expect_ok "stop the dynamic one" vsx g2 stop

# nonamespace: the host's mount namespace, mounts removed at stop
touch "$R$CONFDIR/g2/nonamespace"
expect_ok "start with nonamespace" vsx g2 start
check "nonamespace: the guest's /proc is visible on the host" grep -q " $R$VROOTDIR/g2/proc proc " /proc/mounts
run vsx g2 exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
check "nonamespace: no CAP_SYS_CHROOT (chroot could be left)" test $(( 0x$OUT & (1<<18) )) = 0
run vsx g2 exec cat /etc/guest-marker
same "nonamespace: exec runs in the guest root" "guest g2" "$OUT"
expect_ok "stop the nonamespace guest" vsx g2 stop
check "nonamespace: no mount left" sh -c "! grep -q '$R$VROOTDIR/g2/' /proc/mounts"
rm "$R$CONFDIR/g2/nonamespace"

# a guest symlink never leads an fstab mount out of the guest
mkdir -p "$T/outside"
ln -s "../../../../../../../../$T/outside" "$R$VROOTDIR/g2/mnt/escape"
echo "none /mnt/escape tmpfs size=1m 0 0" >>"$R$CONFDIR/g2/fstab"
run vsx g2 start
check "fstab through a guest symlink: not mounted outside the guest" sh -c "! grep -q ' $T/outside ' /proc/mounts"
vsx g2 stop
check "fstab through a guest symlink: nothing left" sh -c "! grep -q '$T/outside' /proc/mounts"
rm "$R$VROOTDIR/g2/mnt/escape"
cp "$srcdir/conf.d/defaults/fstab" "$R$CONFDIR/g2/fstab"
# the fixed mount points (/proc, /dev, ...) are never followed: a guest's
# /dev that is a symlink (to a host directory) refuses the start
mv "$R$VROOTDIR/g2/dev" "$R$VROOTDIR/g2/dev.real"
mkdir -p "$T/outside-dev"
ln -s "../../../../../../../../$T/outside-dev" "$R$VROOTDIR/g2/dev"
expect_error "a guest's /dev that is a symlink refuses the start" 1 "cannot use '/dev' of guest 'g2': Not a directory" vsx g2 start
check "... nothing mounted or made in the host's directory, no cgroup or run file left" sh -c "! grep -q '$R\|$T/outside-dev' /proc/mounts && [ -z \"\$(ls -A '$T/outside-dev')\" ] && ! ls -d /sys/fs/cgroup/*/$CGBASE/g2 2>/dev/null | grep -q . && test ! -e '$R$RUNDIR/g2'"
rm "$R$VROOTDIR/g2/dev"
mv "$R$VROOTDIR/g2/dev.real" "$R$VROOTDIR/g2/dev"

# a bind mount of a host directory (below the sysroot) in fstab, read-only
mkdir -p "$R/srv/share" && echo shared >"$R/srv/share/file"
echo "/srv/share /mnt none bind,ro 0 0" >>"$R$CONFDIR/g2/fstab"
expect_ok "start with an fstab bind, read-only" vsx g2 start
run vsx g2 exec sh -c 'cat /mnt/file; touch /mnt/x 2>/dev/null && echo written; awk "\$2 == \"/mnt\" { print \$4 }" /proc/mounts | cut -d, -f1'
same "... the host's file read, nothing written (ro)" "shared|ro" "$(echo $OUT | tr ' ' '|')"
vsx g2 stop
check "... nothing written on the host" test ! -e "$R/srv/share/x"
cp "$srcdir/conf.d/defaults/fstab" "$R$CONFDIR/g2/fstab"
echo "/srv/none /mnt none bind 0 0" >>"$R$CONFDIR/g2/fstab"
expect_error "an fstab bind of a missing source" 1 "$R$CONFDIR/g2/fstab:4: cannot bind '/srv/none': No such file or directory" vsx g2 start
check "... no mounts, cgroup or run file left" sh -c "! grep -q '$R' /proc/mounts && ! ls -d /sys/fs/cgroup/*/$CGBASE/g2 2>/dev/null | grep -q . && test ! -e '$R$RUNDIR/g2'"
cp "$srcdir/conf.d/defaults/fstab" "$R$CONFDIR/g2/fstab"
# fstab's options are the kernel's: flags (dirsync, nostrictatime) and a
# propagation (rshared), the rest the file system's own
echo "none /mnt tmpfs dirsync,nodev,rshared,size=1m,nofail 0 0" >>"$R$CONFDIR/g2/fstab"
expect_ok "start with an fstab tmpfs: dirsync, rshared" vsx g2 start
run vsx g2 exec awk '$5 == "/mnt"' /proc/self/mountinfo
case $OUT in
*" shared:"*" - tmpfs "*dirsync*) got="dirsync and shared" ;;
*) got=$OUT ;;
esac
same "... the mount is dirsync and shared (mountinfo)" "dirsync and shared" "$got"
vsx g2 stop
cp "$srcdir/conf.d/defaults/fstab" "$R$CONFDIR/g2/fstab"

# bad input: one line, nothing left behind
echo "none /nonexistent tmpfs defaults 0 0" >>"$R$CONFDIR/g2/fstab"
expect_error "bad fstab mount point" 1 "$R$CONFDIR/g2/fstab:4: cannot mount on '/nonexistent': No such file or directory" vsx g2 start
check "bad fstab: no mounts, cgroup or run file left" sh -c "! grep -q '$R' /proc/mounts && ! ls -d /sys/fs/cgroup/*/$CGBASE/g2 2>/dev/null | grep -q . && test ! -e '$R$RUNDIR/g2'"
echo "only-two-fields /x" >"$R$CONFDIR/g2/fstab"
expect_error "malformed fstab line" 1 "$R$CONFDIR/g2/fstab:1: expected 'source target type [options]'" vsx g2 start
cp "$srcdir/conf.d/defaults/fstab" "$R$CONFDIR/g2/fstab"
echo "~bogus_cap" >"$R$CONFDIR/g2/bcapabilities"
expect_error "unknown capability" 1 "bcapabilities:1: unknown capability 'bogus_cap'" vsx g2 start
printf 'NET_RAW\n~kill,!chown\n' >"$R$CONFDIR/g2/bcapabilities"
expect_ok "start with bcapabilities" vsx g2 start
run vsx g2 exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
check "bcapabilities add NET_RAW, remove KILL and CHOWN" test $(( (0x$OUT >> 13) & 1 ))$(( (0x$OUT >> 5) & 1 ))$(( 0x$OUT & 1 )) = 100
expect_ok "stop" vsx g2 stop
rm "$R$CONFDIR/g2/bcapabilities"
echo upstart >"$R$CONFDIR/g2/apps/init/style"
expect_error "unknown init style" 1 "unknown init style 'upstart'" vsx g2 start
echo plain >"$R$CONFDIR/g2/apps/init/style"
mv "$R$VROOTDIR/g2" "$R$VROOTDIR/g2.away"
expect_error "missing root" 1 "cannot start guest 'g2': its root (vdir) does not exist" vsx g2 start
mv "$R$VROOTDIR/g2.away" "$R$VROOTDIR/g2"
rm "$R$VROOTDIR/g2/sbin/init"
expect_error "no init in the guest" 1 "cannot run the init '/sbin/init' of guest 'g2': No such file or directory" vsx g2 start
check "no init: nothing left" sh -c "! grep -q '$R' /proc/mounts && test ! -e '$R$RUNDIR/g2'"
expect_error "exec in a stopped guest" 1 "guest 'g2' is not running" vsx g2 exec true

# a stop signal the init neither catches nor blocks is dropped by the
# kernel: no sync timeout is waited for it (busybox init with only
# ::respawn: lines ignores SIGINT)
mkguest g5 --context 105 || exit 99
printf '::respawn:/bin/sleep 1000\n' >"$R$VROOTDIR/g5/etc/inittab"
expect_ok "start g5 (an init that ignores SIGINT)" vsx g5 start
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g5")
for _ in $(seq 40); do
	grep -q '^SigCgt:.*[1-9a-f]' "/proc/$init/status" 2>/dev/null && break
	sleep 0.05
done
t0=$(date +%s)
expect_ok "stop g5" vsx g5 stop
check "stop g5 went straight to the kill sequence ($(( $(date +%s) - t0 )) s, sync timeout 30 s)" \
	test $(( $(date +%s) - t0 )) -lt 15
run vsx g5 status
same "g5 is stopped" 3 "$RC"

# a stop right after the start, before the init has set up its handlers:
# the stop signal (SIGINT: ctrlaltdel, poweroff -f) still ends it, not
# the kill sequence (whose SIGTERM runs busybox's ::shutdown: actions and
# its own pauses)
mkguest g6 --context 106 || exit 99
printf '::ctrlaltdel:/bin/busybox poweroff -f\n::shutdown:/bin/touch /shutdown-ran\n' >"$R$VROOTDIR/g6/etc/inittab"
killseq=0
for _ in $(seq 20); do
	vsx g6 start >/dev/null 2>&1 && vsx g6 stop >/dev/null 2>&1 || break
	[ -e "$R$VROOTDIR/g6/shutdown-ran" ] && killseq=$((killseq + 1))
	rm -f "$R$VROOTDIR/g6/shutdown-ran"
done
run vsx g6 status
same "20 stops right after the start: each by the stop signal, none by the kill sequence" "3|0" "$RC|$killseq"

finish
