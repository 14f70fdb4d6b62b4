#!/bin/bash
# The monitors' events go to the journal where journald runs, with the
# guest as fields of their own (GUEST=, CONTEXT=), by journald's native
# protocol; without it to syslog; .defaults/apps/vshelper/logfile wins.
# The journal here is a datagram socket of the test's at journald's path,
# in a mount namespace of its own (a tmpfs on /run: the host's is not
# touched).
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
command -v unshare >/dev/null || { echo "SKIP: no unshare (util-linux)"; exit 77; }

mkguest g1 --context 151 || exit 99
cat >"$T/scene.sh" <<EOF
set -e
mount -t tmpfs none /run
mkdir -p /run/systemd/journal
python3 "$srcdir/tests/fixtures/dgram-listen.py" /run/systemd/journal/socket "$T/journal" &
for _ in \$(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.02; done
vs() { "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "\$@"; }
vs g1 start
init=\$(awk '\$1 == "init" { print \$2 }' "$R$RUNDIR/g1")
kill -KILL "\$init"
for _ in \$(seq 100); do grep -q "ended" "$T/journal" 2>/dev/null && break; sleep 0.05; done
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"quit", sys.argv[1])' /run/systemd/journal/socket
wait
EOF
run unshare -m bash "$T/scene.sh"
same "the scene ran (a private /run with a journal socket)" "0|" "$RC|$ERR"
line=$(grep "ended" "$T/journal" 2>/dev/null | head -n 1)
same "the monitor's event in the journal, with GUEST= and CONTEXT=" \
	"MESSAGE=guest 'g1' ended (its init exited)|PRIORITY=6|SYSLOG_IDENTIFIER=vs|GUEST=g1|CONTEXT=151|" "$line"
run vsx g1 running
same "and the guest is stopped" 1 "$RC"

# the logfile wins over the journal
mkdir -p "$R$CONFDIR/.defaults/apps/vshelper"
: >"$R$CONFDIR/.defaults/apps/vshelper/logfile"
: >"$T/journal"
run unshare -m bash "$T/scene.sh"
check "with a logfile the event goes there" grep -q "guest 'g1' ended (its init exited)" "$R$CONFDIR/.defaults/apps/vshelper/logfile"
same "and not to the journal" "" "$(grep ended "$T/journal")"

finish
