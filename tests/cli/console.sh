#!/bin/bash
# The console of a guest: a pty of its own devpts that is /dev/console and
# the init's stdio; the monitor keeps what the guest writes to it in a
# size-capped log, read with `vs <guest> console --log`, also after the
# guest stopped; a start moves the previous log aside.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

LOG=$R$RUNDIR/.console
mkguest c1 --context 301 || exit 99
printf '%s\n' '::sysinit:/bin/sh -c "echo boot-one; echo boot-error: no network >&2"' \
	'::ctrlaltdel:/bin/busybox poweroff -f' >"$R$VROOTDIR/c1/etc/inittab"
wait_log() { # wait_log FILE TEXT: up to 5 s for TEXT in FILE
	for _ in $(seq 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

expect_error "no console log before a start" 1 \
	"guest 'c1' has no console log ('$R$RUNDIR/.console/c1.log'): it has not been started in the background" \
	vsx c1 console --log
expect_error "attach to a guest that does not run" 1 "guest 'c1' has no console to attach to (it is not running in the background)" vsx c1 console
expect_error "console: an unknown option" 2 "console: unknown option '--nope'" vsx c1 console --nope

expect_ok "start c1" vsx c1 start
check "what the init's commands write reaches the log (stdout and stderr)" \
	sh -c "$(declare -f wait_log); wait_log '$LOG/c1.log' boot-one && wait_log '$LOG/c1.log' 'boot-error: no network'"
run vsx c1 console --log
check "console --log prints it" grep -q "boot-error: no network" "$T/out"
check "the log is root's alone" sh -c "ls -ld '$LOG' | grep -q '^drwx------ .* root root' && ls -l '$LOG/c1.log' | grep -q '^-rw------- 1 root root'"
run vsx c1 exec sh -c 'readlink /proc/1/fd/0; readlink /proc/1/fd/2; stat -c %t:%T /dev/console "$(readlink /proc/1/fd/0)"'
check "the init's stdin and stderr are a pty of the guest's devpts, the one /dev/console is ($(echo $OUT))" \
	sh -c "set -- \$(cat '$T/out'); echo \$1 | grep -Eqx '/dev/pts/[0-9]+' && [ \$1 = \$2 ] && [ \$3 = \$4 ] && echo \$3 | grep -q '^88:'"
run vsx c1 exec sh -c 'echo written-to-dev-console >/dev/console'
check "what is written to /dev/console reaches the log" \
	sh -c "$(declare -f wait_log); wait_log '$LOG/c1.log' written-to-dev-console"

# the guest writes the log: on the admin's terminal its escape sequences
# are shown, not obeyed (piped, the bytes are as written)
run vsx c1 exec sh -c 'printf "\033]0;owned\007title\n" >/dev/console'
check "an escape sequence reaches the log" sh -c "$(declare -f wait_log); wait_log '$LOG/c1.log' owned"
run script -qec "'$VS' --sysroot '$R' --plugindir '$MODS' --datadir '$srcdir/conf.d' c1 console --log" /dev/null
check "on a terminal, console --log shows it escaped" grep -qF '\x1b]0;owned\x07title' "$T/out"
check "and no raw escape character" sh -c "! grep -q \"\$(printf '\033')\" '$T/out'"
run vsx c1 console --log
check "piped, the bytes are as written" grep -q "$(printf '\033')]0;owned" "$T/out"

# a flood: the guest is never blocked by its console, the log is capped
run timeout 60 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" c1 exec sh -c 'dd if=/dev/zero bs=1024 count=3000 2>/dev/null | tr "\0" x >/dev/console; echo flooded'
same "3 MB to the console: the writer finishes" "0|flooded" "$RC|$OUT"
run vsx c1 exec echo still-answers
same "and the guest still answers" "still-answers" "$OUT"
sleep 0.3
size=$(stat -c %s "$LOG/c1.log") old=$(stat -c %s "$LOG/c1.log.1" 2>/dev/null || echo 0)
check "the log stays under its cap of 1 MiB, the rest went to c1.log.1 ($size + $old bytes)" \
	sh -c "[ $size -le 1048576 ] && [ $old -gt 0 ] && [ $old -le 1048576 ]"

run vsx c1 exec sh -c 'echo last-words >/dev/console'
check "the last words reach the log" sh -c "$(declare -f wait_log); wait_log '$LOG/c1.log' last-words"
expect_ok "stop c1" vsx c1 stop
run vsx c1 console --log
same "the log is kept after the stop" "0|last-words" "$RC|$(grep -o last-words "$T/out")"
expect_ok "start c1 again" vsx c1 start
check "the new start has its own log" sh -c "$(declare -f wait_log); wait_log '$LOG/c1.log' boot-one"
same "with this boot only (the previous one's moved to c1.log.1)" "1|0|1" \
	"$(grep -c boot-one "$LOG/c1.log")|$(grep -c last-words "$LOG/c1.log")|$(grep -c last-words "$LOG/c1.log.1")"
expect_ok "stop c1 again" vsx c1 stop

# attached: what is typed reaches the console's shell, its answer comes
# back, three ^] within a second detach; one attached client at a time
mkguest c3 --context 303 || exit 99
printf '%s\n' '::respawn:/bin/sh' '::ctrlaltdel:/bin/busybox poweroff -f' >"$R$VROOTDIR/c3/etc/inittab"
expect_ok "start c3 (a shell on its console)" vsx c3 start
cmd="'$VS' --sysroot '$R' --plugindir '$MODS' --datadir '$srcdir/conf.d' c3 console"
(sleep 1; printf 'echo attached-$((6*7))\r'; sleep 1.5; printf '\035\035\035'; sleep 1) |
	script -qec "$cmd" /dev/null >"$T/attach.out" 2>&1 &
attach=$!
sleep 1.5
run vsx c3 console </dev/null
same "a second client is turned away" "1|vs: the console of guest 'c3' is attached elsewhere" "$RC|$ERR"
wait $attach
check "typed into the console, the guest's shell answered" grep -q "attached-42" "$T/attach.out"
check "three ^] detached" grep -q "vs: detached from guest 'c3'" "$T/attach.out"
check "what went through was logged too" grep -q "attached-42" "$LOG/c3.log"
run vsx c3 exec echo still-there
same "the guest runs on after the detach" "still-there" "$OUT"
(sleep 1; printf 'echo again-$((6*8))\r'; sleep 1; printf '\035\035\035'; sleep 0.5) |
	script -qec "$cmd" /dev/null >"$T/attach2.out" 2>&1
check "the console can be attached again" grep -q "again-48" "$T/attach2.out"
(sleep 1; printf 'exit\r'; sleep 1; printf 'echo respawned-$((7*7))\r'; sleep 1;
	printf '\035x\035\035'; sleep 0.5; printf 'echo after-x\r'; sleep 1; printf '\035\035\035'; sleep 0.5) |
	script -qec "$cmd" /dev/null >"$T/attach3.out" 2>&1
check "the console's shell ended and came back (respawn) while attached" grep -q "respawned-49" "$T/attach3.out"
check "^] not three in a row does not detach" grep -q "after-x" "$T/attach3.out"
expect_ok "stop c3" vsx c3 stop

# a user-namespace guest has its console too
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid"
echo "root:2000000:655360" >"$R/etc/subgid"
mkguest c2 --context 302 || exit 99
mkdir -p "$R$CONFDIR/c2/spaces" && touch "$R$CONFDIR/c2/spaces/user"
printf '%s\n' '::sysinit:/bin/echo userns-boot' '::ctrlaltdel:/bin/busybox poweroff -f' >"$R$VROOTDIR/c2/etc/inittab"
expect_ok "start c2 (a user namespace)" vsx c2 start
check "its console reaches its log" sh -c "$(declare -f wait_log); wait_log '$LOG/c2.log' userns-boot"
run vsx c2 exec sh -c 'echo userns-console >/dev/console'
check "its /dev/console too" sh -c "$(declare -f wait_log); wait_log '$LOG/c2.log' userns-console"
expect_ok "stop c2" vsx c2 stop
check "nothing left mounted" sh -c "! grep -q '$T' /proc/mounts"
check "both logs of c1 are there" test -s "$LOG/c1.log" -a -s "$LOG/c1.log.1"
expect_ok "delete c1" vsx c1 delete --yes
check "delete removes its console logs" test ! -e "$LOG/c1.log" -a ! -e "$LOG/c1.log.1"
check "and no other guest's" test -s "$LOG/c2.log"

finish
