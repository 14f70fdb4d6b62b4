#!/bin/bash
# vshelper: reboot and halt inside real guests (busybox init), disabled
# globally and per guest, an action method script, handler scripts, and
# a guest that reboots in a loop.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
D=$R$CONFDIR/.defaults/apps/vshelper
mkdir -p "$D"
: >"$D/logfile"
LOG=$D/logfile

mkguest g1 --context 301 || exit 99
initpid() { awk '$1 == "init" { print $2 }' "$R$RUNDIR/$1" 2>/dev/null; }
monpid() { awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/$1" 2>/dev/null; }
# waits until the guest's init is not $2 any more (or the guest stopped)
wait_change() {
	for i in $(seq 300); do
		p=$(initpid "$1")
		[ -n "$p" ] && [ "$p" != "$2" ] && vsx "$1" running && return 0
		[ -z "$p" ] && [ -n "${3:-}" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_stopped() {
	# stopped, and the monitor has finished with it (run file gone)
	for i in $(seq 300); do
		vsx "$1" running || { [ -e "$R$RUNDIR/$1" ] || return 0; }
		sleep 0.05
	done
	return 1
}
# logged TEXT: the log has TEXT (the monitor writes it a moment later)
logged() {
	for i in $(seq 100); do
		grep -qF -- "$1" "$LOG" && return 0
		sleep 0.05
	done
	echo "# log: $(tail -n 5 "$LOG")"
	return 1
}

# reboot restarts the guest under the same monitor with a new init
expect_ok "start" vsx g1 start
i1=$(initpid g1)
m1=$(monpid g1)
run vsx g1 exec reboot -f
check "reboot: running again with a new init" wait_change g1 "$i1"
same "reboot: the same monitor" "$m1" "$(monpid g1)"
check "reboot: logged" logged "vshelper 301 restart (guest 'g1')"
check "restart logged" logged "guest 'g1' restarted"
# busybox's own reboot (signals its init, which calls reboot(2))
i2=$(initpid g1)
run vsx g1 exec reboot
check "busybox reboot: running again" wait_change g1 "$i2"

# busybox's poweroff (its init shuts down, then powers off) stops it
run vsx g1 exec poweroff
check "busybox poweroff: stopped" wait_stopped g1
expect_ok "start again" vsx g1 start
# poweroff -f (reboot(2) at once) stops it
run vsx g1 exec poweroff -f
check "poweroff: stopped" wait_stopped g1
check "poweroff: logged as halt" logged "vshelper 301 halt (guest 'g1')"
check "poweroff: cgroup and run file gone" sh -c "test ! -e '$R$RUNDIR/g1' && ! ls -d /sys/fs/cgroup/*/$CGBASE/g1 2>/dev/null | grep -q ."

# disabled globally, then per guest: a reboot leaves it stopped
touch "$D/disabled"
expect_ok "start (globally disabled)" vsx g1 start
run vsx g1 exec reboot -f
check "disabled globally: stays stopped" wait_stopped g1
check "disabled: logged" logged "disabled for guest 'g1'"
rm "$D/disabled"
mkdir -p "$R$CONFDIR/g1/apps/vshelper"
touch "$R$CONFDIR/g1/apps/vshelper/disabled"
expect_ok "start (disabled for the guest)" vsx g1 start
run vsx g1 exec reboot -f
check "disabled per guest: stays stopped" wait_stopped g1
rm "$R$CONFDIR/g1/apps/vshelper/disabled"

# echo notify > apps/vshelper/action, with a method script
mkdir -p "$R$CONFDIR/.defaults/apps/vshelper-methods"
cat >"$R$CONFDIR/.defaults/apps/vshelper-methods/notify" <<EOS
#!/bin/sh
echo "notify \$1 \$2 \$VSERVER" >>"$T/notified"
# the script decides: this one starts the guest again
"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "\$VSERVER" start
EOS
chmod 755 "$R$CONFDIR/.defaults/apps/vshelper-methods/notify"
echo notify >"$R$CONFDIR/g1/apps/vshelper/action"
expect_ok "start (action notify)" vsx g1 start
i3=$(initpid g1)
run vsx g1 exec reboot -f
check "notify: the guest runs again, as the script decided" wait_change g1 "$i3"
same "notify: ran once with xid, event and VSERVER" "notify 301 restart g1" "$(cat "$T/notified")"
# a per-guest method of the same name wins
mkdir -p "$R$CONFDIR/g1/apps/vshelper-methods"
printf '#!/bin/sh\necho "own $1 $2 $VSERVER" >>"%s/notified"\n' "$T" >"$R$CONFDIR/g1/apps/vshelper-methods/notify"
chmod 755 "$R$CONFDIR/g1/apps/vshelper-methods/notify"
run vsx g1 exec reboot -f
check "per-guest method: the guest stays stopped" wait_stopped g1
same "per-guest method first" "own 301 restart g1" "$(tail -n 1 "$T/notified")"
# a missing method is a clear logged error
echo nosuch >"$R$CONFDIR/g1/apps/vshelper/action"
expect_ok "start (missing method)" vsx g1 start
run vsx g1 exec reboot -f
check "missing method: stopped" wait_stopped g1
check "missing method: logged" logged "method 'nosuch' of guest 'g1' not found"
echo stop >"$R$CONFDIR/g1/apps/vshelper/action"
expect_ok "start (action stop)" vsx g1 start
run vsx g1 exec reboot -f
check "action stop: stays stopped" wait_stopped g1
rm -r "$R$CONFDIR/g1/apps/vshelper/action" "$R$CONFDIR/g1/apps/vshelper-methods"

# an executable apps/vshelper/<event> handler is run instead
printf '#!/bin/sh\necho "handler $1 $2" >>"%s/handled"\n' "$T" >"$R$CONFDIR/g1/apps/vshelper/restart"
chmod 755 "$R$CONFDIR/g1/apps/vshelper/restart"
expect_ok "start (restart handler)" vsx g1 start
run vsx g1 exec reboot -f
check "handler: stays stopped" wait_stopped g1
same "handler ran with xid and event" "handler 301 restart" "$(cat "$T/handled" 2>/dev/null)"
rm "$R$CONFDIR/g1/apps/vshelper/restart"

# a guest that reboots at every start is stopped after the limit
# reboot_loop N LABEL: starts g1 (which reboots at once), waits until
# vshelper gives up; N restarts, then the reason, must be logged
reboot_loop() {
	: >"$LOG"
	rm -f "$R$RUNDIR/.vshelper-g1"
	expect_ok "$2: start a guest that reboots at once" vsx g1 start
	await 60 grep -q "not restarting it again" "$LOG"
	check "$2: stopped after the limit" wait_stopped g1
	same "$2: $1 restarts, then the reason" "$1|1" \
		"$(grep -c "guest 'g1' restarted$" "$LOG")|$(grep -c "restarted $1 times in 60 s: not restarting it again" "$LOG")"
}
echo "3 60" >"$R$CONFDIR/g1/apps/vshelper/restart-limit"
printf '::sysinit:/bin/busybox reboot -f\n' >"$R$VROOTDIR/g1/etc/inittab"
reboot_loop 3 "reboot loop"
rm "$R$CONFDIR/g1/apps/vshelper/restart-limit"
reboot_loop 5 "without restart-limit, util-vserver's 5 in 60 s"
printf '::ctrlaltdel:/bin/busybox poweroff -f\n' >"$R$VROOTDIR/g1/etc/inittab"
rm -f "$R$RUNDIR/.vshelper-g1"

# the action of .defaults, and the guest's own over it
echo stop >"$D/action"
expect_ok "start (action stop in .defaults)" vsx g1 start
run vsx g1 exec reboot -f
check ".defaults action stop: stays stopped" wait_stopped g1
echo restart >"$R$CONFDIR/g1/apps/vshelper/action"
expect_ok "start (the guest's action restart over .defaults)" vsx g1 start
i4=$(initpid g1)
run vsx g1 exec reboot -f
check "the guest's own action wins: running again" wait_change g1 "$i4"
expect_ok "stop" vsx g1 stop
rm "$D/action" "$R$CONFDIR/g1/apps/vshelper/action"

# a halt inside ends a --foreground start, with status 0; a reboot keeps
# it (the same monitor starts the guest again)
vsx g1 start --foreground </dev/null >"$T/fg.out" 2>&1 &
fg=$!
await 60 vsx g1 running
i5=$(initpid g1)
run vsx g1 exec reboot -f
check "--foreground: a reboot inside starts it again" wait_change g1 "$i5"
check "--foreground: and the start command still waits" kill -0 "$fg"
run vsx g1 exec poweroff -f
await 60 ! kill -0 "$fg"
if kill -0 "$fg" 2>/dev/null; then
	fgrc="still waiting"
	vsx g1 stop >/dev/null 2>&1
fi
wait "$fg"
fgrc=${fgrc:-$?}
same "--foreground: a halt inside ends it, status 0" "0|stopped" "$fgrc|$(vsx g1 running >/dev/null && echo running || echo stopped)"

# without .defaults/apps/vshelper/logfile the events go to syslog: in a
# mount namespace of this test, /dev is a tmpfs with the host's device
# nodes bound in and busybox syslogd on /dev/log
rm "$LOG"
cat >"$T/syslog.sh" <<EOS
set -e
mkdir -p "$T/olddev"
mount --rbind /dev "$T/olddev"
mount -t tmpfs -o mode=755 vs-test-dev /dev
for n in null zero full random urandom tty ptmx; do
	touch "/dev/\$n"
	mount --bind "$T/olddev/\$n" "/dev/\$n"
done
mkdir /dev/pts /dev/shm
mount --rbind "$T/olddev/pts" /dev/pts
umount -l "$T/olddev"
/bin/busybox syslogd -n -O "$T/syslog" &
for i in \$(seq 100); do [ -S /dev/log ] && break; sleep 0.02; done
set +e
vs() { "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "\$@"; }
vs g1 start
i=\$(awk '\$1 == "init" { print \$2 }' "$R$RUNDIR/g1")
vs g1 exec reboot -f
for n in \$(seq 200); do grep -q "guest 'g1' restarted" "$T/syslog" 2>/dev/null && break; sleep 0.05; done
vs g1 stop
kill %1
wait
EOS
run timeout 60 unshare -m --propagation private bash "$T/syslog.sh"
same "the syslog run ended by itself (its syslogd stopped)" 0 "$RC"
check "no logfile: the events go to syslog, as vs[pid] (facility daemon)" \
	grep -Eq "daemon.info vs\[[0-9]+\]: vshelper 301 restart \(guest 'g1'\)" "$T/syslog"
check "... the restart too" grep -q "vs\[[0-9]*\]: guest 'g1' restarted" "$T/syslog"
check "... and nothing was written to a log file" test ! -e "$LOG"
run vsx g1 running
same "the guest was stopped in there" "1|absent" "$RC|$(test -e "$R$RUNDIR/g1" && echo present || echo absent)"
check "nothing of that namespace is left on the host" sh -c "! grep -q vs-test-dev /proc/mounts && ! pgrep -f '[s]yslogd -n -O $T/syslog' >/dev/null"

finish
