#!/bin/bash
# Hooks: util-vserver's scripts/ (order, arguments, working directory,
# .d directories, .defaults skipped, backups skipped, non-executable
# refused, failures), and hook plugins selected per guest in vs.conf.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
install -m 0755 "$VS_FIXTURES/recorder.so" "$MODS/"
cat >>"$R$CONFFILE" <<EOC
hook "recorder" {
	guests = "g1, other"
	file = "$T/recorded"
}
EOC

mkguest g1 --context 201 || exit 99
mkguest g3 --context 203 || exit 99
LOG=$T/hooks.log
hook() { # hook PATH: a script that logs its arguments and directory
	mkdir -p "$(dirname "$1")"
	printf '#!/bin/sh\necho "%s $1 $2 $(pwd)" >>"%s"\n' "$(basename "$1")" "$LOG" >"$1"
	chmod 755 "$1"
}
S=$R$CONFDIR/g1/scripts
for f in initialize prepre-start pre-start post-start pre-stop post-stop postpost-stop; do
	hook "$S/$f"
done
hook "$S/pre-start.d/20-b"
hook "$S/pre-start.d/10-a"
hook "$S/pre-start.d/30-c~"
hook "$S/pre-start.d/40-d.rpmnew"
hook "$R$CONFDIR/.defaults/scripts/pre-start"
hook "$R$CONFDIR/.defaults/scripts/post-start.d/50-default"

expect_ok "start with hooks" vsx g1 start
expect_ok "stop with hooks" vsx g1 stop
cfg=$R$CONFDIR/g1
root=$R$VROOTDIR/g1
same "hooks in order, with flavor and guest, in their directories" "initialize initialize g1 $cfg
prepre-start prepre-start g1 $cfg
pre-start pre-start g1 $root
10-a pre-start g1 $root
20-b pre-start g1 $root
post-start post-start g1 $root
pre-stop pre-stop g1 $root
post-stop post-stop g1 $root
postpost-stop postpost-stop g1 $root" "$(cat "$LOG")"
check "per-guest pre-start scripts suppress .defaults ones, backups skipped" \
	sh -c "! grep -q -e '^pre-start pre-start g1 .*defaults' -e 30-c -e 40-d '$LOG'"
same "hook plugin selected for g1 sees every event" "initialize g1
prepre-start g1
pre-start g1
post-start g1
pre-stop g1
post-stop g1
postpost-stop g1" "$(cat "$T/recorded")"

: >"$LOG"
: >"$T/recorded"
expect_ok "start g3 (no scripts of its own)" vsx g3 start
check ".defaults scripts run for a guest without its own" grep -q "^pre-start pre-start g3 $R$VROOTDIR/g3$" "$LOG"
check ".defaults .d scripts too" grep -q "^50-default post-start g3 $R$VROOTDIR/g3$" "$LOG"
check "the hook plugin is not selected for g3" test ! -s "$T/recorded"
expect_ok "stop g3" vsx g3 stop

# a failing pre-start hook: start fails, nothing is left behind
printf '#!/bin/sh\nexit 3\n' >"$S/pre-start"
run vsx g1 start
same "failing pre-start: one line" "1|vs: hook '$S/pre-start' failed with status 3" "$RC|$ERR"
check "failing pre-start: no run file" test ! -e "$R$RUNDIR/g1"
check "failing pre-start: no cgroup" sh -c "! ls -d /sys/fs/cgroup/*/$CGBASE/g1 2>/dev/null | grep -q ."
check "failing pre-start: no mounts" sh -c "! grep -q '$R' /proc/mounts"
check "failing pre-start: no monitor" sh -c "! ps -eo args | grep -q '[s]ysroot $R .*g1 start'"
run vsx g1 status
same "failing pre-start: stopped" 3 "$RC"

# a failing post-start hook: the guest is stopped again
hook "$S/pre-start"
printf '#!/bin/sh\nexit 4\n' >"$S/post-start"
run vsx g1 start
same "failing post-start: start fails" "1|vs: hook '$S/post-start' failed with status 4" "$RC|$ERR"
run vsx g1 status
same "failing post-start: the guest is stopped again" 3 "$RC"
check "failing post-start: nothing left" sh -c "! grep -q '$R' /proc/mounts && test ! -e '$R$RUNDIR/g1'"
hook "$S/post-start"

# a non-executable hook is refused, not sourced
chmod 644 "$S/prepre-start"
run vsx g1 start
same "non-executable hook refused" "1|vs: hook '$S/prepre-start' is not executable (vs runs hooks, it does not source them)" "$RC|$ERR"
chmod 755 "$S/prepre-start"

# stop ignores hook failures but reports them
printf '#!/bin/sh\nexit 5\n' >"$S/pre-stop"
expect_ok "start again" vsx g1 start
run vsx g1 stop
same "failing pre-stop: stop succeeds with a warning" "0|vs: warning: hook '$S/pre-stop' failed with status 5" "$RC|$ERR"
run vsx g1 status
same "failing pre-stop: stopped" 3 "$RC"

finish
