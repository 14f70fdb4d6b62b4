#!/bin/bash
# The init styles util-vserver knows, each with a scripted init in a
# busybox guest that records how it was called: minit (minit-start as
# the guest's PID 1, minit-stop at stop, both with their runlevels),
# plain with a runlevel (SIGINT at stop), arch (rc.multi under vs's own
# init, rc.shutdown at stop), gentoo (openrc default / shutdown),
# cmd.stop replacing the stop signal, and the fakeinit flag making any
# start command the guest's PID 1.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest st --context 501 || exit 99
C=$R$CONFDIR/st/apps/init
V=$(rootof st)
mkdir -p "$C" "$V/etc" "$V/sbin"
# script PATH BODY: an executable shell script in the guest
script() { printf '#!/bin/sh\n%s\n' "$2" >"$V$1" && chmod 755 "$V$1"; }
# a long-running init: records its pid and arguments, and which signal
# ended it (USR1 from a stop command, INT as plain's stop signal, TERM
# from the kill sequence)
INIT='for s in USR1 USR2 INT TERM; do trap "echo $s >/root/ended; exit 0" $s; done
echo "$$ $*" >/root/started
while :; do sleep 1 & wait $!; done'
# clean: forget what the last run recorded
clean() { rm -f "$V"/root/*; rm -f "$C"/*; }
# style STYLE [runlevel.start [runlevel.stop]]
style() {
	clean
	echo "$1" >"$C/style"
	[ -z "${2:-}" ] || echo "$2" >"$C/runlevel.start"
	[ -z "${3:-}" ] || echo "$3" >"$C/runlevel.stop"
}
# recorded FILE: what the guest recorded there (after a moment for a
# script the start did not wait for)
recorded() {
	for _ in $(seq 50); do [ -s "$V/root/$1" ] && break; sleep 0.02; done
	cat "$V/root/$1" 2>/dev/null | paste -sd'|'
}

# minit: /sbin/minit-start is the guest's PID 1
script /sbin/minit-start "$INIT"
script /sbin/minit-stop 'echo "$*" >/root/minit-stop; kill -USR1 1'
style minit 2 0
expect_ok "minit: start" vsx st start
same "minit: minit-start is PID 1, given runlevel.start" "1 2" "$(recorded started)"
expect_ok "minit: stop" vsx st stop
same "minit: minit-stop ran with runlevel.stop, and ended the init" "0|USR1" "$(recorded minit-stop)|$(recorded ended)"
style minit
expect_ok "minit without runlevels: start" vsx st start
same "minit: no runlevel, no argument" "1 " "$(recorded started)"
expect_ok "minit without runlevels: stop" vsx st stop
same "minit: minit-stop without an argument" "|USR1" "$(recorded minit-stop)|$(recorded ended)"

# plain with a runlevel: /sbin/init LEVEL as PID 1, SIGINT at stop
rm "$V/sbin/init"
script /sbin/init "$INIT"
style plain 4
expect_ok "plain 4: start" vsx st start
same "plain: /sbin/init is PID 1, given the runlevel" "1 4" "$(recorded started)"
expect_ok "plain 4: stop" vsx st stop
same "plain: stopped by SIGINT (util-vserver's stop for plain)" "INT" "$(recorded ended)"

# started from a background job or under nohup (SIGINT and SIGHUP
# ignored there): the guest's init and what exec runs get every signal's
# default, so plain's SIGINT still stops it
expect_ok "plain 4: start with SIGINT and SIGHUP ignored by the caller" \
	bash -c "trap '' INT HUP; exec \"\$@\"" _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" st start
ign=$(sed -n 's/^SigIgn:\t//p' "/proc/$(init_of st)/status" 2>/dev/null)
# (busybox's sh ignores SIGQUIT as PID 1 by itself)
same "... the init ignores neither SIGINT nor SIGHUP nor libc's own (SigIgn $ign)" 0 \
	"$(( ${ign:+0x$ign} & 0x180000003 ))"
run bash -c "trap '' INT HUP; exec \"\$@\"" _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" st exec sed -n 's/^SigIgn:\t//p' /proc/self/status
same "... nor does a command exec runs" 0000000000000000 "$OUT"
expect_ok "plain 4: stop" vsx st stop
same "... and SIGINT stops it" "INT" "$(recorded ended)"

# cmd.stop replaces plain's SIGINT
style plain
printf '%s\n' /bin/sh -c 'echo "cmd.stop as $(id -u)" >/root/cmd-stop; kill -USR2 1' >"$C/cmd.stop"
expect_ok "cmd.stop: start" vsx st start
expect_ok "cmd.stop: stop" vsx st stop
same "cmd.stop ran inside the guest, instead of SIGINT" "cmd.stop as 0|USR2" "$(recorded cmd-stop)|$(recorded ended)"

# arch: /etc/rc.multi under vs's init, /etc/rc.shutdown at stop
script /etc/rc.multi 'echo "$$ $PPID $*" >/root/rc.multi'
script /etc/rc.shutdown 'echo "$*" >/root/rc.shutdown; echo "$$" >/root/rc.shutdown.pid'
style arch
expect_ok "arch: start" vsx st start
run recorded rc.multi
check "arch: rc.multi ran without arguments, a child of the guest's PID 1 ($OUT)" \
	sh -c "echo '$OUT' | grep -Eqx '[0-9]+ 1 ' && [ '$(echo "$OUT" | cut -d' ' -f1)' != 1 ]"
run vsx st exec sh -c "tr '\\0' ' ' </proc/1/cmdline"
check "arch: PID 1 is vs's init, not a guest program ($OUT)" sh -c "[ -n '$OUT' ] && ! echo '$OUT' | grep -q -e rc.multi -e /sbin/init"
expect_ok "arch: stop" vsx st stop
same "arch: rc.shutdown ran at stop, without arguments" "" "$(recorded rc.shutdown)"
check "arch: (it did run)" test -s "$V/root/rc.shutdown.pid"

# gentoo: openrc default / shutdown, also under vs's init
script /sbin/openrc 'echo "$*" >>/root/openrc'
style gentoo
expect_ok "gentoo: start" vsx st start
same "gentoo: openrc default" "default" "$(recorded openrc)"
expect_ok "gentoo: stop" vsx st stop
same "gentoo: then openrc shutdown" "default|shutdown" "$(recorded openrc)"
style openrc 3
expect_ok "openrc 3: start" vsx st start
expect_ok "openrc 3: stop" vsx st stop
same "openrc: runlevel.start replaces default" "3|shutdown" "$(recorded openrc)"

# the fakeinit flag: cmd.start becomes PID 1 (without it, a child)
style sysv
script /sbin/myinit "$INIT"
echo /sbin/myinit >"$C/cmd.start"
printf '%s\n' /bin/sh -c 'kill -USR1 1' >"$C/cmd.stop"
expect_ok "cmd.start without fakeinit: start" vsx st start
run recorded started
check "cmd.start without fakeinit is not PID 1 ($OUT)" sh -c "[ -n '$OUT' ] && [ '$(echo "$OUT" | cut -d' ' -f1)' != 1 ]"
expect_ok "cmd.start without fakeinit: stop" vsx st stop
for f in cflags flags; do
	rm -f "$V/root/started" "$V/root/ended"
	printf '# a comment\n\nfakeinit\n' >"$R$CONFDIR/st/$f"
	expect_ok "$f fakeinit: start" vsx st start
	same "$f fakeinit: cmd.start is PID 1" "1 " "$(recorded started)"
	expect_ok "$f fakeinit: stop" vsx st stop
	same "$f fakeinit: cmd.stop reached it as PID 1" "USR1" "$(recorded ended)"
	rm "$R$CONFDIR/st/$f"
done

check "no mounts, run file or group left" sh -c "! grep -q '$R' /proc/mounts && test ! -e '$R$RUNDIR/st' && ! ls -d /sys/fs/cgroup/*/$CGBASE/st 2>/dev/null | grep -q ."

finish
