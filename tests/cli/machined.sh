#!/bin/bash
# Registration with systemd-machined: where systemd runs the host
# (/run/systemd/system), a guest a unit started (below the unit's
# delegated group, made here as systemd makes it: see delegate.sh) is
# registered with RegisterMachine (its name, UUID, service vs, class
# container, its init as leader, its root); without machined nothing is
# said; a refusal is one warning and the guest runs; a guest started by
# hand, or without systemd, is not registered.  The
# machined here is a stand-in (tests/fixtures/fake-machined) on a bus of
# the test's own (dbus-daemon), which vs reaches through
# DBUS_SYSTEM_BUS_ADDRESS as every client does.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
command -v dbus-daemon >/dev/null || { echo "SKIP: dbus-daemon is not installed (package dbus)"; exit 77; }

FAKE=$top_builddir/tests/fixtures/fake-machined
dbus-daemon --session --address="unix:path=$T/bus" --nofork --nopidfile >/dev/null 2>&1 &
BUS=$!
await 60 test -S "$T/bus"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T/bus
# fake [refuse]: a machined on the bus, ready when it says so
fake() {
	: >"$T/calls"
	"$FAKE" "$T/calls" "$@" >"$T/fake.out" 2>&1 &
	MD=$!
	await 60 grep -q ready "$T/fake.out"
}
stop_fake() { kill "$MD" 2>/dev/null; wait "$MD" 2>/dev/null; }
trap 'stop_fake; kill $BUS 2>/dev/null; cleanup' EXIT

v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
UNIT=$v2/$CGBASE/system.slice/vs@g1.service
mkdir -p "$UNIT"
setfattr -n trusted.delegate -v 1 "$UNIT" 2>/dev/null ||
	{ echo "SKIP: cgroupfs takes no trusted.* attribute here (systemd's delegation mark)"; exit 77; }
# unit_start: vs g1 start as the unit's process
unit_start() {
	run sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' - "$UNIT" \
		"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 start
}
mkguest g1 || exit 99
echo 0123456789abcdef0123456789abcdef >"$R$CONFDIR/g1/uuid"
mkdir -p "$R/run/systemd/system"

check "a machined runs on the test's bus" fake
expect_ok "a guest started by hand" vsx g1 start
check "is not registered" test ! -s "$T/calls"
expect_ok "stop" vsx g1 stop
unit_start
same "started by its unit: nothing said" "0|" "$RC|$ERR"
same "registered: name, UUID, service, class, its init as leader, its root" \
	"g1|0123456789abcdef0123456789abcdef|vs|container|$(init_of g1)|$(rootof g1)" "$(cat "$T/calls")"
expect_ok "stop" vsx g1 stop
stop_fake

unit_start
same "without machined: it starts, nothing is said" "0|" "$RC|$ERR"
expect_ok "stop" vsx g1 stop

fake refuse
unit_start
check "a machined that refuses: the start succeeds" test "$RC" = 0
check "and the guest runs" vsx g1 running
same "with one warning naming machined's answer" \
	"vs: warning: guest 'g1' is not registered with systemd-machined: org.freedesktop.machine1.Refused: machine 'g1' refused by the test" "$ERR"
expect_ok "stop" vsx g1 stop
stop_fake

fake
rmdir "$R/run/systemd/system"
unit_start
check "without systemd: it starts" test "$RC" = 0
check "and machined is not called" test ! -s "$T/calls"
expect_ok "stop" vsx g1 stop
finish
