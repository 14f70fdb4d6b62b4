#!/bin/bash
# vs start --foreground under a service manager: sd_notify's protocol on
# $NOTIFY_SOCKET (a datagram socket of the test's standing in for
# systemd's): READY=1 with MAINPID and STATUS once the guest's init runs,
# STOPPING=1 when it stops; the socket is not handed to hooks or the
# guest; vs@.service is Type=notify and passes systemd-analyze verify.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest g1 --context 141 || exit 99
mkdir -p "$R$CONFDIR/g1/scripts"
printf '#!/bin/sh\necho "hook:${NOTIFY_SOCKET:-none}" >>%s/hook.env\n' "$T" >"$R$CONFDIR/g1/scripts/pre-start"
chmod +x "$R$CONFDIR/g1/scripts/pre-start"

# the listener: every datagram to $T/notify, one line each, into a file
python3 "$srcdir/tests/fixtures/dgram-listen.py" "$T/notify" "$T/notified" &
listener=$!
await 60 test -S "$T/notify"
NOTIFY_SOCKET=$T/notify "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" \
	g1 start --foreground >/dev/null 2>&1 &
fg=$!
await 60 grep -q READY=1 "$T/notified"
ready=$(grep READY=1 "$T/notified" 2>/dev/null | head -n 1)
check "READY=1 once the guest runs ($ready)" sh -c "printf '%s' \"\$1\" | grep -q '^READY=1|MAINPID=$fg|STATUS=guest g1 runs (context 141, init [0-9]*)$'" _ "$ready"
check "and the guest runs then" vsx g1 running
same "hooks do not get the socket" "hook:none" "$(cat "$T/hook.env" 2>/dev/null)"
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/g1")
check "nor does the guest's init" sh -c "! tr '\\0' '\\n' </proc/$init/environ | grep -q NOTIFY_SOCKET"
kill -TERM "$fg" # systemctl stop
await 60 ! kill -0 "$fg"
check "SIGTERM stops the guest and ends the monitor" sh -c "! kill -0 $fg 2>/dev/null"
check "STOPPING=1 when it stops" grep -q '^STOPPING=1|STATUS=stopping guest g1$' "$T/notified"
run vsx g1 running
same "the guest is stopped" 1 "$RC"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"quit", sys.argv[1])' "$T/notify"
wait "$listener" 2>/dev/null

# without a socket nothing is sent and nothing breaks
expect_ok "start --foreground without NOTIFY_SOCKET" sh -c "$(declare -f vsx); VS='$VS' R='$R' MODS='$MODS' srcdir='$srcdir' vsx g1 start --foreground >/dev/null 2>&1 & sleep 1; $VS --sysroot $R g1 running"
vsx g1 stop >/dev/null 2>&1

# the unit
unit=$(find "${VS_INSTALLED:?run through make check}" -name 'vs@.service' | head -n 1)
check "vs@.service is Type=notify" grep -qx 'Type=notify' "$unit"
if command -v systemd-analyze >/dev/null; then
	cp "$unit" "$T/vs@.service"
	sed -i "s|^ExecStart=[^ ]*|ExecStart=$(command -v true)|; s|^ExecStop=[^ ]*|ExecStop=$(command -v true)|" "$T/vs@.service"
	ln -s "vs@.service" "$T/vs@g1.service"
	run systemd-analyze verify --man=no "$T/vs@g1.service"
	same "systemd-analyze verify vs@g1.service: no complaint" "0|" "$RC|$(printf '%s' "$ERR" | grep -v 'Failed to .*bus\|network-online' )"
else
	skip "systemd-analyze: not installed"
fi

finish
