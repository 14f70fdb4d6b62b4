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

# the init's environment: exactly apps/init/environment (then container=
# and container_uuid=); the uuid file; the stop signal by name
mkdir -p "$R$CONFDIR/s1/apps/init"
printf 'PATH=/bin:/sbin\n# a comment\nnot a variable\nLANG=C.UTF-8\n' >"$R$CONFDIR/s1/apps/init/environment"
echo 0123456789ABCDEF0123456789abcdef >"$R$CONFDIR/s1/uuid"
echo RTMIN+5 >"$R$CONFDIR/s1/apps/init/stop-signal"
printf '%s\n' /bin/sh -c 'trap "echo got >/root/stop-signal; exit 0" 39; while :; do sleep 5 & wait $!; done' >"$R$CONFDIR/s1/apps/init/cmd.start"
expect_ok "start s1 with an environment, a uuid and a stop signal by name" vsx s1 start
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s1")
same "the init's environment is the file's variables, then systemd's two" \
	"PATH=/bin:/sbin LANG=C.UTF-8 container=vs container_uuid=01234567-89ab-cdef-0123-456789abcdef" \
	"$(tr '\0' ' ' <"/proc/$init/environ" | sed 's/ $//')"
run vsx s1 exec sh -c 'grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; echo 1 >/sys/kernel/uevent_helper && echo written'
same "its /sys is the host's, read-only: nothing written there" "ro" "$OUT"
expect_ok "stop s1" vsx s1 stop
same "the init was stopped with RTMIN+5 (signal 39, its trap ran)" "got" "$(cat "$R$VROOTDIR/s1/root/stop-signal" 2>&1)"
rm "$R$CONFDIR/s1/uuid" "$R$CONFDIR/s1/apps/init/environment" "$R$CONFDIR/s1/apps/init/cmd.start"
expect_ok "start s1 without a uuid file" vsx s1 start
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s1")
u1=$(tr '\0' '\n' <"/proc/$init/environ" | sed -n 's/^container_uuid=//p')
expect_ok "stop s1" vsx s1 stop
vsx s1 start 2>/dev/null
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/s1")
u2=$(tr '\0' '\n' <"/proc/$init/environ" | sed -n 's/^container_uuid=//p')
vsx s1 stop
check "a derived uuid is a version 4 UUID, the same at each start ($u1)" \
	sh -c "echo '$u1' | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' && [ '$u1' = '$u2' ]"
echo not-a-uuid >"$R$CONFDIR/s1/uuid"
expect_error "a bad uuid file" 1 "$R$CONFDIR/s1/uuid: not a UUID ('not-a-uuid')" vsx s1 start
echo 0123456789abcdef0123456789abcdef00 >"$R$CONFDIR/s1/uuid"
expect_error "a uuid of 34 digits" 1 "/uuid: not a UUID ('0123456789abcdef0123456789abcdef00')" vsx s1 start
echo 01234567-89ab-cdef-0123-456789abcdef.x >"$R$CONFDIR/s1/uuid"
expect_error "a uuid with a stray character" 1 "/uuid: not a UUID ('01234567-89ab-cdef-0123-456789abcdef.x')" vsx s1 start
rm "$R$CONFDIR/s1/uuid"
for bad in RTMIN+99 RTMAX+1 RTMIN- RTMINX; do
	echo "$bad" >"$R$CONFDIR/s1/apps/init/stop-signal"
	expect_error "stop-signal $bad" 1 "apps/init/stop-signal: unknown signal '$bad'" vsx s1 start
done
rm "$R$CONFDIR/s1/apps/init/stop-signal"

finish
