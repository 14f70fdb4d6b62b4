#!/bin/bash
# What a guest of init style systemd gets (systemd's "Container
# Interface"), checked with a busybox init: /run and /run/lock as tmpfs,
# its own cgroup2 hierarchy at /sys/fs/cgroup (the root of its cgroup
# namespace is its group), container=vs; a console that outlives an init
# closing its stdio; groups the guest made below its own are removed with
# it, their processes first.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest s1 --context 401 --initstyle systemd --no-userns || exit 99
check "--no-userns: no spaces/user" test ! -e "$R$CONFDIR/s1/spaces/user"
check "--no-userns: the build says what a systemd guest then lacks" \
	grep -q "vs: warning: guest 's1' runs systemd without a user namespace (--no-userns): journald and logind fail unless bcapabilities adds SETPCAP, and the sandboxing of its services is skipped (it needs CAP_SYS_ADMIN, which reaches the host from such a guest)" "$T/mkguest.log"
echo SETPCAP >"$R$CONFDIR/s1/bcapabilities" # or a warning: journald and logind would fail
expect_ok "start s1 (style systemd, a busybox init)" vsx s1 start
run vsx s1 exec sh -c 'grep -E " /run | /run/lock " /proc/self/mounts | cut -d" " -f2,3 | tr "\n" " "'
same "/run and /run/lock are tmpfs" "/run tmpfs /run/lock tmpfs " "$OUT"
run vsx s1 exec sh -c 'stat -f -c %t /sys/fs/cgroup; grep -qx 1 /sys/fs/cgroup/cgroup.procs && echo init-at-root; grep "^0::" /proc/1/cgroup'
same "/sys/fs/cgroup is cgroup2 (its magic), rooted at the guest's group (the init in its root)" "63677270 init-at-root 0::/" "$(echo $OUT)"
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s1")
check "on the host that root is the guest's group" grep -q "^0::/$CGBASE/s1\$" "/proc/$init/cgroup"
check "container=vs in the init's environment" sh -c "tr '\\0' '\\n' </proc/$init/environ | grep -qx container=vs"

# a group of its own below its group, with a process in it
run vsx s1 exec sh -c 'mkdir /sys/fs/cgroup/made-inside && { sleep 1971 & p=$!; echo $p >/sys/fs/cgroup/made-inside/cgroup.procs && echo moved; }'
same "the guest makes a group below its own and moves a process there" "moved" "$OUT"
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
check "the group is below the guest's on the host" test -d "$v2/$CGBASE/s1/made-inside"
inner=$(cat "$v2/$CGBASE/s1/made-inside/cgroup.procs" 2>/dev/null)
check "the process is in it ($inner)" sh -c "[ -n '$inner' ] && grep -q 'sleep' /proc/$inner/cmdline"
run vsx stat
check "stat counts the process in it" sh -c "grep -E '^ *401 ' '$T/out' | awk '{ exit !(\$2 >= 2) }'"
expect_ok "stop s1" vsx s1 stop
check "the guest's group and the one it made are gone" test ! -e "$v2/$CGBASE/s1"
check "and so is the process in it" sh -c "[ -n '$inner' ] && [ ! -e /proc/$inner ]"
same "no warning about a group left" "" "$(grep -i cgroup "$T/err")"

# an init that closes its stdio (as systemd does): the console lives on
mkguest s2 --context 402 --initstyle systemd --no-userns || exit 99
echo SETPCAP >"$R$CONFDIR/s2/bcapabilities"
mkdir -p "$R$CONFDIR/s2/apps/init"
printf '%s\n' /bin/sh -c 'exec </dev/null >/dev/null 2>&1; exec /bin/busybox init' >"$R$CONFDIR/s2/apps/init/cmd.start"
expect_ok "start s2 (its init closes its stdio)" vsx s2 start
sleep 0.3
run vsx s2 exec sh -c 'echo console-still-there >/dev/console && echo written'
same "/dev/console can still be opened and written" "0|written" "$RC|$OUT"
check "and it reaches the log" sh -c "sleep 0.3; grep -q console-still-there '$R$RUNDIR/.console/s2.log'"
expect_ok "stop s2" vsx s2 stop
check "nothing left mounted" sh -c "! grep -q '$T' /proc/mounts"

# a user-namespace guest of style systemd: its group is delegated to its
# root (the group, cgroup.procs, cgroup.subtree_control, cgroup.threads)
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid"
echo "root:2000000:655360" >"$R/etc/subgid"
mkguest s3 --context 403 --initstyle systemd || exit 99
check "a systemd guest is built with a user namespace (spaces/user)" test -e "$R$CONFDIR/s3/spaces/user"
mkguest s4 --context 404 --userns || exit 99
check "--userns gives any guest one" test -e "$R$CONFDIR/s4/spaces/user"
check "and the init style stays the given one (plain)" grep -qx plain "$R$CONFDIR/s4/apps/init/style"
expect_ok "start s3 (a user namespace, style systemd)" vsx s3 start
g=$v2/$CGBASE/s3
run stat -c '%u:%g' "$g" "$g/cgroup.procs" "$g/cgroup.subtree_control" "$g/cgroup.threads"
uid=$(awk '$1 == 0 { print $2 }' "/proc/$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s3")/uid_map")
gid=$(awk '$1 == 0 { print $2 }' "/proc/$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s3")/gid_map")
same "its group is its root's on the host ($uid:$gid)" "$uid:$gid $uid:$gid $uid:$gid $uid:$gid" "$(echo $OUT)"
run vsx s3 exec sh -c 'mkdir /sys/fs/cgroup/init.scope && echo 1 >/sys/fs/cgroup/init.scope/cgroup.procs && echo delegated'
same "its root makes a group below and moves its init there, as systemd does" "delegated" "$OUT"
run vsx s3 exec sh -c 'echo 3 >/sys/fs/cgroup/cgroup.max.descendants && echo raised'
check "but the group's own settings stay the host's (cgroup.max.descendants: $(echo $ERR))" \
	sh -c "[ $RC != 0 ] && [ \"\$(cat '$g/cgroup.max.descendants')\" = max ]"
expect_ok "stop s3" vsx s3 stop
check "its groups are gone" test ! -e "$g"

finish
