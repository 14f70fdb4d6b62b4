#!/bin/bash
# util-vserver's resource keys on a vanilla kernel, each observed inside a
# running guest (or on its cgroup): ulimits/ and rlimits/ (setrlimit,
# pids.max, the memory group), nice, ionice, badness, personality and
# uts/machine, sched/ and schedule, virt_uptime (a time namespace),
# .defaults/cgroup/, cmd.prepare, fstab.remote, the hooks' environment;
# the keys vs does not apply are named at start; bad values are refused.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest g1 --context 301 || exit 99
mkguest g2 --context 302 || exit 99
C1=$R$CONFDIR/g1
C2=$R$CONFDIR/g2
in_g1() { vsx g1 exec sh -c "$1" 2>&1; }
not_running() { ! vsx g1 running >/dev/null 2>&1; }

# cgval GUEST FILE: the guest's cgroup setting, in whichever hierarchy
# holds it
cgval() {
	for d in /sys/fs/cgroup/*/"$CGBASE/$1" /sys/fs/cgroup/"$CGBASE/$1"; do
		[ -f "$d/$2" ] && { cat "$d/$2"; return 0; }
	done
	return 1
}

# ---- limits, nice, ionice, badness, personality ---------------------------
mkdir -p "$C1/ulimits" "$C1/rlimits" "$C1/ionice"
echo 1000 >"$C1/ulimits/nofile"
echo 500 >"$C1/ulimits/nofile.soft"
echo 2M >"$C1/ulimits/stack.hard"
echo 40 >"$C1/rlimits/nproc"
echo 25600 >"$C1/rlimits/rss" # pages, as the VServer kernel counted
echo 5 >"$C1/nice"
echo 3 >"$C1/ionice/class"
echo 300 >"$C1/badness"
echo linux32 >"$C1/personality"
expect_ok "start a guest with limits, nice, ionice, badness, personality" vsx g1 start
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
same "ulimits/nofile(.soft): soft and hard limit of a command in the guest" \
	"500 1000" "$(in_g1 'echo $(ulimit -n) $(ulimit -Hn)')"
same "ulimits/stack.hard: the hard stack limit (K, 1024 bytes)" \
	"2097152" "$(in_g1 'grep "Max stack" /proc/1/limits' | awk '{ print $5 }')"
same "rlimits/nproc: the init's process limit" "40 40" \
	"$(in_g1 'grep "Max processes" /proc/1/limits' | awk '{ print $3, $4 }')"
same "rlimits/nproc: also the guest's pids.max" "40" "$(cgval g1 pids.max)"
mem=$(cgval g1 memory.max || cgval g1 memory.limit_in_bytes)
same "rlimits/rss: the memory group's limit, pages times the page size" \
	"$((25600 * $(getconf PAGESIZE)))" "$mem"
same "nice: the init's nice value" "5" "$(in_g1 'cut -d" " -f19 /proc/1/stat')"
check "ionice/class 3: the init's I/O class is idle" sh -c "ionice -p $init | grep -qx idle"
same "badness: the init's oom_score_adj" "300" "$(in_g1 'cat /proc/1/oom_score_adj')"
same "badness: also a command entered later" "300" "$(in_g1 'cat /proc/self/oom_score_adj')"
same "personality linux32: uname -m in the guest" "i686" "$(in_g1 'uname -m')"
same "personality linux32: the init's personality" "00000008" "$(cat /proc/$init/personality)"
expect_ok "stop it" vsx g1 stop
rm -r "$C1/ulimits" "$C1/rlimits" "$C1/ionice" "$C1/nice" "$C1/badness" "$C1/personality"

# uts/machine through the personality
if [ "$(uname -m)" = x86_64 ]; then
	mkdir -p "$C1/uts" && echo i586 >"$C1/uts/machine"
	expect_ok "start with uts/machine i586" vsx g1 start
	same "uts/machine i586 on x86_64: uname -m shows the 32-bit personality" "i686" "$(in_g1 'uname -m')"
	expect_ok "stop it" vsx g1 stop
	rm "$C1/uts/machine"
else
	skip "uts/machine: the host is not x86_64 ($(uname -m))"
fi

# ---- virt_uptime: a time namespace -----------------------------------------
if [ -e /proc/self/ns/time ]; then
	expect_ok "start a guest (util-vserver's default flags: virt_uptime)" vsx g1 start
	up=$(in_g1 'cut -d. -f1 /proc/uptime')
	check "virt_uptime: the guest's uptime counts from its start ($up s)" [ "$up" -lt 5 ]
	host=$(cut -d. -f1 /proc/uptime)
	check "virt_uptime: the host's is unchanged ($host s)" [ "$host" -gt 10 ]
	expect_ok "stop it" vsx g1 stop
	echo '~virt_uptime' >"$C1/cflags"
	expect_ok "start with ~virt_uptime in cflags" vsx g1 start
	up=$(in_g1 'cut -d. -f1 /proc/uptime')
	check "~virt_uptime: the guest sees the host's uptime ($up s)" \
		[ "$up" -ge "$(($(cut -d. -f1 /proc/uptime) - 2))" ]
	expect_ok "stop it" vsx g1 stop
	rm "$C1/cflags"
else
	skip "virt_uptime: this kernel has no time namespaces"
fi

# ---- sched/ and schedule ----------------------------------------------------
cpus=$(getconf _NPROCESSORS_ONLN)
cpumax() { # "quota period" from cpu.max or the v1 cfs files
	cgval g1 cpu.max ||
		echo "$(cgval g1 cpu.cfs_quota_us) $(cgval g1 cpu.cfs_period_us)"
}
mkdir -p "$C1/sched"
echo 1 >"$C1/sched/fill-rate"
echo 4 >"$C1/sched/interval"
expect_ok "start with sched/fill-rate 1, interval 4" vsx g1 start
same "sched/: a quarter of each CPU as cpu.max" "$((100000 * cpus / 4)) 100000" "$(cpumax)"
expect_ok "stop it" vsx g1 stop
touch "$C1/sched/idle-time"
expect_ok "start with sched/idle-time" vsx g1 start
w=$(cgval g1 cpu.weight || cgval g1 cpu.shares)
check "sched/idle-time: a weight instead of a limit (weight 25, or as v1 shares 631; got $w)" \
	sh -c "[ '$w' = 25 ] || [ '$w' = 631 ]"
q=$(cpumax)
check "sched/idle-time: the quota stays unlimited ($q)" sh -c "case '$q' in max*|-1*) true;; *) false;; esac"
expect_ok "stop it" vsx g1 stop
rm -r "$C1/sched"
printf '1\n2\n100\n50\n200\n0\n' >"$C1/schedule"
expect_ok "start with the legacy schedule file" vsx g1 start
same "schedule: fill rate and interval of its first lines" "$((100000 * cpus / 2)) 100000" "$(cpumax)"
expect_ok "stop it" vsx g1 stop
rm "$C1/schedule"

# ---- .defaults/cgroup/ -------------------------------------------------------
mkdir -p "$R$CONFDIR/.defaults/cgroup" "$C2/cgroup"
echo 77 >"$R$CONFDIR/.defaults/cgroup/pids.max"
echo 88 >"$C2/cgroup/pids.max"
expect_ok "start g1 (no cgroup/ of its own)" vsx g1 start
expect_ok "start g2 (its own cgroup/)" vsx g2 start
same ".defaults/cgroup/ applies to a guest without cgroup/" "77" "$(cgval g1 pids.max)"
same "a guest's own cgroup/ wins over .defaults/cgroup/" "88" "$(cgval g2 pids.max)"
expect_ok "stop g1" vsx g1 stop
expect_ok "stop g2" vsx g2 stop
rm -r "$R$CONFDIR/.defaults/cgroup" "$C2/cgroup"

# ---- cmd.prepare, the hooks' environment, fstab.remote -------------------------
mkdir -p "$C1/scripts"
printf '/bin/sh\n-c\necho "$PWD|$VSERVER_NAME|$S_CONTEXT" >%s/prepare.out\n' "$T" >"$C1/apps/init/cmd.prepare"
printf '#!/bin/sh\necho "$1|$2|$VSERVER_DIR|$VSERVER_NAME|$S_CONTEXT" >>%s/hooks.out\n' "$T" >"$C1/scripts/pre-start"
cp "$C1/scripts/pre-start" "$C1/scripts/post-stop"
chmod +x "$C1/scripts/pre-start" "$C1/scripts/post-stop"
printf 'tmpfs /mnt tmpfs size=1m,mode=0700 0 0\n' >"$C1/fstab.remote"
expect_ok "start with cmd.prepare, hooks and fstab.remote" vsx g1 start
same "cmd.prepare runs on the host in the guest root, with its name and context" \
	"$(rootof g1)|g1|301" "$(cat "$T/prepare.out" 2>&1)"
same "fstab.remote: the tmpfs on /mnt" "tmpfs /mnt tmpfs" "$(in_g1 'grep " /mnt " /proc/mounts' | cut -d' ' -f1-3)"
expect_ok "stop it" vsx g1 stop
same "hooks get VSERVER_DIR, VSERVER_NAME and S_CONTEXT" \
	"pre-start|g1|$R$CONFDIR/g1|g1|301
post-stop|g1|$R$CONFDIR/g1|g1|301" "$(cat "$T/hooks.out" 2>&1)"
rm -r "$C1/scripts" "$C1/fstab.remote"
printf '/bin/sh\n-c\nexit 3\n' >"$C1/apps/init/cmd.prepare"
expect_error "a failing cmd.prepare stops the start (one line, nothing left)" 1 \
	"apps/init/cmd.prepare '/bin/sh' of guest 'g1' failed with status 3" vsx g1 start
check "the guest is not running after a failed cmd.prepare" not_running
printf '/nonexistent/prepare\n' >"$C1/apps/init/cmd.prepare"
expect_error "a missing cmd.prepare program is named" 1 \
	"cannot run apps/init/cmd.prepare '/nonexistent/prepare'" vsx g1 start
rm "$C1/apps/init/cmd.prepare"
printf '/srv /mnt none bind 0 0\n' >"$C1/fstab.remote"
expect_error "a bind mount in fstab.remote is refused" 1 \
	"fstab.remote:1: a bind mount belongs in fstab, not fstab.remote" vsx g1 start
rm "$C1/fstab.remote"

# ---- sysctl/: the guest's own namespaces only ------------------------------------
mkdir -p "$C1/sysctl/0" "$C1/sysctl/1" "$C1/sysctl/2" "$C1/spaces"
echo kernel.shmmni >"$C1/sysctl/0/setting"
echo 1234 >"$C1/sysctl/0/value"
echo net.ipv4.ip_default_ttl >"$C1/sysctl/1/setting"
echo 33 >"$C1/sysctl/1/value"
echo vm.swappiness >"$C1/sysctl/2/setting"
echo 1 >"$C1/sysctl/2/value"
touch "$C1/spaces/net"
host_shmmni=$(cat /proc/sys/kernel/shmmni)
host_ttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)
host_swap=$(cat /proc/sys/vm/swappiness)
run vsx g1 start
check "sysctl/: a host-wide setting is refused with a warning ($ERR)" \
	err_has 0 "sysctl/2 ignored: 'vm.swappiness' is not a setting of the guest's own namespaces"
same "sysctl/: kernel.shmmni in the guest's IPC namespace" "1234" "$(in_g1 'cat /proc/sys/kernel/shmmni')"
same "sysctl/: net.ipv4.ip_default_ttl in the guest's network namespace" "33" \
	"$(in_g1 'cat /proc/sys/net/ipv4/ip_default_ttl')"
same "sysctl/: the host's values are unchanged" "$host_shmmni $host_ttl $host_swap" \
	"$(cat /proc/sys/kernel/shmmni /proc/sys/net/ipv4/ip_default_ttl /proc/sys/vm/swappiness | tr '\n' ' ' | sed 's/ $//')"
expect_ok "stop it" vsx g1 stop
rm "$C1/spaces/net"
rm -r "$C1/sysctl/2"
run vsx g1 start
check "sysctl/: net.* of a guest sharing the host's network is refused ($ERR)" \
	err_has 0 "sysctl/1 ignored: the guest shares the host's network"
same "and the host's value stays" "$host_ttl" "$(cat /proc/sys/net/ipv4/ip_default_ttl)"
expect_ok "stop it" vsx g1 stop
rm -r "$C1/sysctl/1"
echo ../../vm/swappiness >"$C1/sysctl/0/setting"
expect_error "sysctl/: a setting that is no sysctl name is refused" 1 "sysctl/0/setting: not a sysctl name '../../vm/swappiness'" vsx g1 start
echo kernel.shmmni >"$C1/sysctl/0/setting"
echo lots >"$C1/sysctl/0/value"
run vsx g1 start
check "sysctl/: a value the kernel refuses stops the start ($ERR)" \
	err_has 1 "cannot set sysctl 'kernel.shmmni' to 'lots' in guest 'g1': Invalid argument"
check "the guest is not running after it" not_running
rm -r "$C1/sysctl"

# ---- apps/init/mtab: the guest's /etc/mtab at each start ---------------------------
printf '/dev/hdv1 / ufs rw 0 0\n' >"$C1/apps/init/mtab"
echo stale >"$(rootof g1)/etc/mtab"
expect_ok "start with apps/init/mtab" vsx g1 start
same "apps/init/mtab: the guest's /etc/mtab" "/dev/hdv1 / ufs rw 0 0" "$(in_g1 'cat /etc/mtab')"
expect_ok "stop it" vsx g1 stop
rm "$C1/apps/init/mtab"
mkdir -p "$R$CONFDIR/.defaults/init"
printf 'none / vfs rw 0 0\n' >"$R$CONFDIR/.defaults/init/mtab"
expect_ok "start with .defaults/init/mtab" vsx g1 start
same ".defaults/init/mtab when the guest has none" "none / vfs rw 0 0" "$(in_g1 'cat /etc/mtab')"
expect_ok "stop it" vsx g1 stop
ln -sf ../proc/self/mounts "$(rootof g1)/etc/mtab"
expect_ok "start a guest whose /etc/mtab is a link" vsx g1 start
same "a guest's link to /proc/self/mounts stays" "../proc/self/mounts" "$(readlink "$(rootof g1)/etc/mtab")"
expect_ok "stop it" vsx g1 stop
rm -r "$R$CONFDIR/.defaults/init" "$(rootof g1)/etc/mtab"

# ---- sync: cmd.start-sync and cmd.stop-sync; noisy ---------------------------
printf '/bin/sh\n-c\necho "start-sync $VSERVER_NAME" >>%s/sync.out\n' "$T" >"$C1/apps/init/cmd.start-sync"
printf '/bin/sh\n-c\necho "stop-sync $VSERVER_NAME" >>%s/sync.out\n' "$T" >"$C1/apps/init/cmd.stop-sync"
expect_ok "start without --sync" vsx g1 start
expect_ok "stop without --sync" vsx g1 stop
check "without --sync neither sync command runs" [ ! -e "$T/sync.out" ]
expect_ok "start --sync" vsx g1 start --sync
expect_ok "stop --sync" vsx g1 stop --sync
same "start --sync and stop --sync run cmd.start-sync and cmd.stop-sync" \
	"start-sync g1
stop-sync g1" "$(cat "$T/sync.out" 2>&1)"
rm -f "$T/sync.out"
touch "$C1/apps/init/sync"
expect_ok "restart with an apps/init/sync file" vsx g1 start
expect_ok "stop with an apps/init/sync file" vsx g1 stop
same "an apps/init/sync file does what --sync does" "start-sync g1
stop-sync g1" "$(cat "$T/sync.out" 2>&1)"
rm "$C1/apps/init/sync" "$C1/apps/init/cmd.start-sync" "$C1/apps/init/cmd.stop-sync"
touch "$C1/noisy"
run vsx g1 stop
noisy_err=$ERR
rm "$C1/noisy"
run vsx g1 stop
check "a noisy file makes vs verbose for the guest, as -v does ('$noisy_err')" \
	sh -c "[ \"\$1\" = \"vs: guest 'g1' is not running\" ] && [ -z \"\$2\" ]" _ "$noisy_err" "$ERR"

# ---- keys vs does not apply: named at start ---------------------------------
warns_about() { # KEY REASON: a start warns once, naming the file
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	[ "$RC" = 0 ] && [ "$(printf '%s\n' "$ERR" | grep -c "$C1/$1 ignored: .*$2")" = 1 ]
}
while IFS='|' read -r key how why; do
	case $how in
	dir) mkdir -p "$C1/$key" && touch "$C1/$key/x" ;;
	*) mkdir -p "$(dirname "$C1/$key")" && echo "$how" >"$C1/$key" ;;
	esac
	check "$key is named at start ($why)" warns_about "$key" "$why"
	rm -r "${C1:?}/$key"
done <<'EOF'
apps/init/tty|/dev/tty1|console
fstab.local|none /tmp tmpfs defaults 0 0|fstab
ccapabilities|set_utsname|bcapabilities
keepfds|1|descriptors
cpuset/virtualized|1|cpuset virtualization
rlimits/nsock|100|vanilla kernel
rlimits/openfd.soft|100|vanilla kernel
sched/tokens-max|500|token bucket
uts/release|2.6.22|one value
EOF
echo virt_load >"$C1/cflags"
check "an unknown cflags flag is named" warns_about cflags "virt_load"
rm "$C1/cflags"
mkdir -p "$C1/rlimits" && echo 10 >"$C1/rlimits/nofile.min"
check "a minimum other than rss is named" warns_about rlimits/nofile.min "minimum"
rm -r "$C1/rlimits"
run vsx g1 start
vsx g1 stop >/dev/null 2>&1
same "a guest with none of them starts without a warning" "0|" "$RC|$ERR"

# ---- bad values ---------------------------------------------------------------
while IFS='|' read -r key value text; do
	mkdir -p "$(dirname "$C1/$key")"
	echo "$value" >"$C1/$key"
	expect_error "bad $key '$value' is refused" 1 "$text" vsx g1 start
	rm "$C1/$key"
	[ "$key" = sched/interval ] && rm "$C1/sched/fill-rate"
done <<'EOF'
ulimits/nofile|lots|g1/ulimits/nofile: not a limit
rlimits/nproc.hard|12x|g1/rlimits/nproc.hard: not a limit
nice|99|g1/nice: not a nice value (-20 to 19) '99'
ionice/class|7|g1/ionice/class: not an I/O class
ionice/priority|9|g1/ionice/priority: not an I/O priority (0 to 7) '9'
badness|high|g1/badness: not a number 'high'
personality|amiga|g1/personality: unknown personality type 'amiga'
sched/fill-rate|0|g1/sched/fill-rate: not a fill rate
EOF
mkdir -p "$C1/sched" && echo 1 >"$C1/sched/fill-rate"
echo x >"$C1/sched/interval"
expect_error "bad sched/interval is refused" 1 "g1/sched/interval: not an interval" vsx g1 start
rm -r "$C1/sched"
printf '1\n2\n' >"$C1/schedule"
expect_error "a short schedule file is refused" 1 "g1/schedule: needs six lines" vsx g1 start
rm "$C1/schedule"
check "no guest is left running after the refusals" not_running

finish
