#!/bin/bash
# A hostile guest: every attack of the containment issue, run for real
# from inside a running guest with a static program (tests/fixtures/
# hostile.c), each expected to fail; a marker file outside the guest
# must never be read or written.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
HOSTILE=$top_builddir/tests/fixtures/hostile
# whether this machine has the i386 entry at all (some hypervisors do not)
I386=$("$HOSTILE" i386)
X32=$("$HOSTILE" x32)

mkguest h1 --context 201 || exit 99
install -m 0755 "$HOSTILE" "$R$VROOTDIR/h1/bin/hostile"
echo host-secret >"$T/host-marker"
mkdir -p "$T/hostdir" && echo host-secret >"$T/hostdir/inside"
marker_state() { stat -c '%s %Y %Z %i' "$T/host-marker"; md5sum <"$T/host-marker"; }
MARKER0=$(marker_state)
# "contained" from a mode of the hostile program, exit 0
contained() {
	name=$1
	shift
	run "$@"
	if [ "$RC" = 0 ] && printf '%s' "$OUT" | grep -q '^contained'; then
		pass "$name"
	else
		fail "$name" "exit $RC" "out: $OUT" "err: $ERR"
	fi
}

# Every attack from inside the running guest $1 (with /bin/hostile); the
# names of the checks say which kind of guest ($2).
attacks() {
	G=$1 K=$2
	# 1. file handles (Shocker): the marker's own handle, and ext4's root
	handle=$("$HOSTILE" handle-of "$T/host-marker")
	# shellcheck disable=SC2086
	contained "$K: open_by_handle_at with the marker's handle fails (ext4)" \
		vsx $G exec hostile open-handle $handle /
	mnt=$(findmnt -no TARGET -T "$T")
	rel=${T#"$mnt"}
	rel=${rel#/}/host-marker
	if [ "$(findmnt -no FSTYPE -T "$T")" = ext4 ]; then
		contained "$K: open_by_handle_at of ext4's root inode fails" vsx $G exec hostile shocker "$rel"
	else
		skip "inode-2 attack: $T is not on ext4"
	fi
	run vsx $G exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
	check "$K: CAP_DAC_READ_SEARCH is not in the default bounding set" \
		test $(( 0x$OUT & (1 << 2) )) = 0
	# 2. the /proc/<pid>/root window of exec: a watcher races 50 execs
	vsx $G exec hostile procroot "$T/host-marker" 4 /root/procroot.out >/dev/null 2>&1 &
	watcher=$!
	for _ in $(seq 50); do
		[ -s "$R$VROOTDIR/$G/root/procroot.out" ] && break
		sleep 0.05
	done
	for _ in $(seq 50); do vsx $G exec true; done
	wait $watcher
	out=$(cat "$R$VROOTDIR/$G/root/procroot.out" 2>/dev/null)
	check "$K: a /proc watcher racing 50 execs never reaches the host root ($out)" \
		sh -c "echo '$out' | grep -Eq '^contained ([1-9][0-9]+) processes'"

	# 3. descriptors of the caller and of the monitor
	run vsx $G exec hostile fd 7 7<"$T/hostdir"
	same "$K: exec: a descriptor of the caller is closed" "0|contained no such descriptor" "$RC|$OUT"
	run vsx $G exec sh -c 'ls /proc/self/fd/7/' 7<"$T/hostdir"
	check "$K: exec: the caller's directory cannot be listed" sh -c "[ $RC != 0 ] && ! grep -q inside '$T/out'"
	run sh -c 'echo "hostile fd 7; exit" | "$@"' _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" $G enter 7<"$T/hostdir"
	check "$K: enter: a descriptor of the caller is closed" grep -q '^contained no such descriptor' "$T/out"
	# 4. the keyring
	host_key=$("$HOSTILE" keyring)
	run vsx $G exec hostile keyring
	check "$K: the guest cannot reach the host's user keyring ($OUT, host $host_key)" \
		sh -c "[ '$RC' = 0 ] && [ '$OUT' != '$host_key' ] && echo '$OUT' | grep -q '^denied'"

	# 5. user namespaces, and the i386/x32 entries
	contained "$K: no user namespace by unshare, clone or clone3" vsx $G exec hostile userns
	if [ "$I386" != "i386 works" ]; then
		skip "$K: the i386 entry: this machine has none (int \$0x80 kills a process outside any guest too)"
	fi
	if [ "$X32" != "x32 works" ]; then
		skip "$K: the x32 entry: this kernel has none (CONFIG_X86_X32_ABI, or syscall.x32=n: an x32 call fails outside any guest too)"
	fi
	if [ "$I386" = "i386 works" ] || [ "$X32" = "x32 works" ]; then
		contained "$K: the entries this machine has ($I386, $X32) are filtered too" vsx $G exec hostile compat
	fi
	contained "$K: bpf, perf, userfaultfd, open_tree, keys, io_uring refused" vsx $G exec hostile denied
	run vsx $G exec unshare -U -r true
	check "$K: unshare -U -r fails" test "$RC" != 0
	# shellcheck disable=SC2046
	contained "$K: no node of the host's disk, no host kernel setting (masks unmounted, a new proc), no host network, no way out of the root" \
		vsx $G exec hostile nspowers "$T/host-marker" $(stat -c '%Hd %Ld' "$T") "$(readlink /proc/self/ns/net)"

	# 6. TIOCSTI from a process left behind by enter: the filter refuses it,
	# and without the filter the pty of the guest's own stops it
	tiocsti_attack() {
		rm -f "$R$VROOTDIR/$G/root/tiocsti.out"
		printf 'hostile tiocsti 1 /root/tiocsti.out\nexit\n' |
			script -qec "'$VS' --sysroot '$R' --plugindir '$MODS' --datadir '$srcdir/conf.d' $G enter" /dev/null >"$T/script.out" 2>&1
		for _ in $(seq 60); do
			[ -s "$R$VROOTDIR/$G/root/tiocsti.out" ] && break
			sleep 0.1
		done
		cat "$R$VROOTDIR/$G/root/tiocsti.out" 2>/dev/null
	}
	out=$(tiocsti_attack)
	check "$K: a process left behind by enter cannot push keys into the admin's terminal ($out)" \
		sh -c "echo '$out' | grep -q '^contained 0 injected (Operation not permitted) stdin own-pty'"
	mkdir -p "$R$CONFDIR/$G/apps/seccomp"
	echo ioctl >"$R$CONFDIR/$G/apps/seccomp/allow"
	out=$(tiocsti_attack)
	check "$K: with ioctl allowed, the left-behind process holds a hung-up pty of the guest ($out)" \
		sh -c "echo '$out' | grep -q '^contained 0 injected (Input/output error) stdin own-pty'"
	rm -r "$R$CONFDIR/$G/apps/seccomp"
	check "$K: enter relayed the shell's output" grep -q tiocsti "$T/script.out"

	# the marker was never read nor written
	same "$K: the host marker is unchanged" "$MARKER0" "$(marker_state)"
	grep -rl host-secret "$R$VROOTDIR/$G/root" >/dev/null 2>&1 &&
		fail "$K: no attack output holds the marker's content" || pass "$K: no attack output holds the marker's content"
}

expect_ok "start h1" vsx h1 start
check "the compiled filter is kept in the run directory, for root only" \
	sh -c "ls -l '$R$RUNDIR'/.seccomp/*.bpf | grep -q '^-rw------- 1 root root'"
attacks h1 privileged
# the same attack with the filter off and the capability back reads a
# marker of its own: the attack is real, and the start warns
mkguest hc --context 207 || exit 99
install -m 0755 "$HOSTILE" "$R$VROOTDIR/hc/bin/hostile"
mkdir -p "$R$CONFDIR/hc/apps/seccomp"
touch "$R$CONFDIR/hc/apps/seccomp/none"
echo DAC_READ_SEARCH >"$R$CONFDIR/hc/bcapabilities"
echo control-secret >"$T/control-marker"
run vsx hc start
check "a guest without a filter and with CAP_DAC_READ_SEARCH is warned about" \
	grep -q "guest 'hc' runs without a system call filter (apps/seccomp/none): with CAP_DAC_READ_SEARCH its root can open any host file by handle" "$T/err"
# shellcheck disable=SC2046
run vsx hc exec hostile open-handle $("$HOSTILE" handle-of "$T/control-marker") /
same "control: without them the handle attack reads a host file" "1|ESCAPED read 'control-secret' by handle" "$RC|$OUT"
expect_ok "stop hc" vsx hc stop
rm "$R$CONFDIR/hc/apps/seccomp/none"
echo open_by_handle_at >"$R$CONFDIR/hc/apps/seccomp/allow"
run vsx hc start
check "allowing open_by_handle_at with CAP_DAC_READ_SEARCH is warned about" \
	grep -q "guest 'hc' has CAP_DAC_READ_SEARCH and may call open_by_handle_at" "$T/err"
expect_ok "stop hc" vsx hc stop
echo no_such_call >"$R$CONFDIR/hc/apps/seccomp/deny"
expect_error "an unknown system call in apps/seccomp/deny" 1 "apps/seccomp/deny:1: unknown system call 'no_such_call'" vsx hc start
rm -r "$R$CONFDIR/hc/apps/seccomp" "$R$CONFDIR/hc/bcapabilities"

# the same with SYS_ADMIN and MKNOD in a guest sharing the host's user
# namespace: the attack is real, and the start names what it weakens
mkguest hp --context 209 || exit 99
install -m 0755 "$HOSTILE" "$R$VROOTDIR/hp/bin/hostile"
echo SYS_ADMIN,MKNOD >"$R$CONFDIR/hp/bcapabilities"
run vsx hp start
check "a guest with SYS_ADMIN and MKNOD without a user namespace is warned about" \
	grep -q "guest 'hp' shares the host's user namespace and has cap_sys_admin (mount file systems and remount what vs made read-only), cap_mknod (make device nodes of the host's disks): give it spaces/user instead" "$T/err"
# shellcheck disable=SC2046
run vsx hp exec hostile nspowers "$T/host-marker" $(stat -c '%Hd %Ld' "$T") "$(readlink /proc/self/ns/net)"
check "control: with them the guest reads the host's disk and rewrites the host's kernel settings ($OUT)" \
	sh -c "[ $RC = 1 ] && echo '$OUT' | grep -q 'of-the-host-disk.*settings-without-the-masks'"
expect_ok "stop hp" vsx hp stop
same "the host marker is unchanged" "$MARKER0" "$(marker_state)"

# the handle attack on XFS
if ! xfs_mount 320M "$R/xfs"; then
	skip "handle attack on XFS: $XFS_WHY"
else
	mkdir -p "$R/xfs/guests"
	mkguest hx --context 208 --rootdir /xfs/guests || exit 99
	install -m 0755 "$HOSTILE" "$R/xfs/guests/hx/bin/hostile"
	echo xfs-secret >"$R/xfs/host-marker"
	expect_ok "start hx (root on XFS)" vsx hx start
	# shellcheck disable=SC2046
	contained "open_by_handle_at with the marker's handle fails (XFS)" \
		vsx hx exec hostile open-handle $("$HOSTILE" handle-of "$R/xfs/host-marker") /
	expect_ok "stop hx" vsx hx stop
	same "the XFS marker is unchanged" xfs-secret "$(cat "$R/xfs/host-marker")"
fi

mkguest h2 --context 202 || exit 99
expect_ok "start h2 with an open descriptor" vsx h2 start 7<"$T/hostdir" 8>"$T/host-marker.fd"
monitor=$(awk '$1 == "monitor" { print $2 }' "$R$RUNDIR/h2")
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/h2")
check "the monitor keeps none of the caller's descriptors" \
	sh -c "[ -n '$monitor' ] && [ -d /proc/$monitor/fd ] && ! ls -l /proc/$monitor/fd | grep -Eq 'hostdir|host-marker'"
check "the guest's init has none either" \
	sh -c "[ -n '$init' ] && [ -d /proc/$init/fd ] && ! ls -l /proc/$init/fd | grep -Eq 'hostdir|host-marker'"
expect_ok "stop h2" vsx h2 stop


# 7. suexec: the user comes from the guest's own passwd, never the host's
echo "vsalice:x:4321:4321::/root:/bin/sh" >>"$R$VROOTDIR/h1/etc/passwd"
echo "vsstaff:x:4322:vsalice" >>"$R$VROOTDIR/h1/etc/group"
run vsx h1 suexec vsalice sh -c 'id -u; id -G; grep CapEff /proc/self/status | cut -f2'
same "suexec: the guest's user, its groups, no capabilities" "0|4321|4321 4322|0000000000000000" "$RC|$(echo $OUT | tr ' ' '|' | sed 's/|/ /2')"
run script -qec "stty cols 77 rows 33; '$VS' --sysroot '$R' --plugindir '$MODS' --datadir '$srcdir/conf.d' h1 exec -t stty size" /dev/null
# (script's own end of input reaches the pty as a NUL: only the numbers)
same "exec -t: a pty of the guest with the caller's window size" "33 77" "$(tr -d '\r' <"$T/out" | grep -o '[0-9]* [0-9]*$')"
run vsx h1 exec -t sh -c 'test -t 0 && readlink /proc/self/fd/0'
check "exec -t: the command's stdin is a pty of the guest's devpts ($(echo $OUT | tr -d '\r'))" \
	sh -c "[ $RC = 0 ] && tr -d '\r' <'$T/out' | grep -Eqx '/dev/pts/[0-9]+'"
run vsx h1 exec sh -c 'grep NoNewPrivs /proc/self/status | cut -f2'
same "no_new_privs is off by default (setuid programs work)" 0 "$OUT"
mkdir -p "$R$CONFDIR/h1/apps/seccomp" && touch "$R$CONFDIR/h1/apps/seccomp/no-new-privs"
run vsx h1 exec sh -c 'grep NoNewPrivs /proc/self/status | cut -f2'
same "apps/seccomp/no-new-privs sets it for exec" 1 "$OUT"
rm -r "$R$CONFDIR/h1/apps/seccomp"
# the lists and flags of .defaults, and the per-guest file first
mkdir -p "$R$CONFDIR/.defaults/apps/seccomp"
touch "$R$CONFDIR/.defaults/apps/seccomp/no-new-privs"
run vsx h1 exec sh -c 'grep NoNewPrivs /proc/self/status | cut -f2'
same ".defaults/apps/seccomp/no-new-privs sets it for exec" 1 "$OUT"
rm "$R$CONFDIR/.defaults/apps/seccomp/no-new-privs"
run vsx h1 exec hostile keyring
same "keyctl is refused by default" "denied Operation not permitted" "$OUT"
echo keyctl >"$R$CONFDIR/.defaults/apps/seccomp/allow"
run vsx h1 exec hostile keyring
check ".defaults/apps/seccomp/allow takes keyctl out of the filter ($OUT)" \
	sh -c "echo '$OUT' | grep -Eqx '[0-9]+'"
mkdir -p "$R$CONFDIR/h1/apps/seccomp"
touch "$R$CONFDIR/h1/apps/seccomp/allow"
run vsx h1 exec hostile keyring
same "a per-guest allow list comes before the one of .defaults" "denied Operation not permitted" "$OUT"
# a symlink is followed inside the root: an absolute target names a
# file of the sysroot (the host has no /keyctl.list)
rm "$R$CONFDIR/.defaults/apps/seccomp/allow"
echo keyctl >"$R/keyctl.list"
ln -sf /keyctl.list "$R$CONFDIR/h1/apps/seccomp/allow"
run vsx h1 exec hostile keyring
check "a symlinked allow list is read inside the sysroot ($OUT)" \
	sh -c "echo '$OUT' | grep -Eqx '[0-9]+'"
rm -r "$R$CONFDIR/h1/apps/seccomp" "$R$CONFDIR/.defaults/apps/seccomp" "$R/keyctl.list"
expect_error "suexec: a user the guest does not have" 1 "cannot find the user in guest 'h1' ('root2')" vsx h1 suexec root2 true
expect_error "suexec: no user" 2 "suexec: no user given" vsx h1 suexec

expect_ok "stop h1" vsx h1 stop

# 8. a hung hook is killed: the start is undone, the stop goes on
mkguest h3 --context 203 || exit 99
printf 'hook_timeout = 2\n' >>"$R$CONFFILE"
mkdir -p "$R$CONFDIR/h3/scripts"
# sleeps of a length no other test run has, to find them again
nap=$(( 200000 + $$ ))
printf '#!/bin/sh\nsleep %s &\nexec sleep %s\n' $nap $((nap + 1)) >"$R$CONFDIR/h3/scripts/pre-start"
chmod +x "$R$CONFDIR/h3/scripts/pre-start"
t0=$(date +%s)
expect_error "a hung pre-start hook fails the start" 1 "pre-start' did not end within 2 s (hook_timeout): killed" vsx h3 start
check "within the timeout ($(( $(date +%s) - t0 )) s)" test $(( $(date +%s) - t0 )) -lt 10
check "the hook's processes are gone" sh -c "! pgrep -f 'sleep ($nap|$((nap + 1)))' >/dev/null"
run vsx h3 status
same "the guest is not running" 3 "$RC"
check "its cgroups are gone" sh -c "! ls -d /sys/fs/cgroup/*/$CGBASE/h3 /sys/fs/cgroup/$CGBASE/h3 2>/dev/null | grep -q ."
mv "$R$CONFDIR/h3/scripts/pre-start" "$R$CONFDIR/h3/scripts/pre-stop"
expect_ok "start h3" vsx h3 start
t0=$(date +%s)
run vsx h3 stop
check "a hung pre-stop hook is killed and the stop goes on (exit $RC)" sh -c "grep -q \"pre-stop' did not end within 2 s\" '$T/err' && [ $(( $(date +%s) - t0 )) -lt 15 ]"
run vsx h3 status
same "the guest is stopped" 3 "$RC"
check "the stop hook's processes are gone" sh -c "! pgrep -f 'sleep ($nap|$((nap + 1)))' >/dev/null"
rm -r "$R$CONFDIR/h3/scripts"
printf 'hook_timeout = 0\n' >"$T/bad.conf"
expect_error "hook_timeout 0 is refused" 1 "option 'hook_timeout' must be 1 to 86400 seconds" vsx --config "$T/bad.conf" list

# 9. a copied configuration never deletes the original's data
cp -a "$R$CONFDIR/h1" "$R$CONFDIR/h1copy"
expect_error "delete of a copied configuration is refused" 1 \
	"refusing to delete guest 'h1copy': its root is also the root of guest 'h1'" vsx h1copy delete --yes
check "h1's root is intact" test -f "$R$VROOTDIR/h1/etc/guest-marker"
rm -r "$R$CONFDIR/h1copy"
ln -s h1 "$R$VROOTDIR/h9"
expect_error "build into another guest's root is refused" 1 "is also the root of guest 'h1'" \
	vsx h9 build -m skeleton --i-know-its-there --force
rm "$R$VROOTDIR/h9"

# 10. unify and hashify never share an inode with names outside the run
mkguest r1 --context 204 || exit 99
mkguest u1 --context 205 || exit 99
for g in r1 u1; do
	echo "the same content, long enough to be shared" >"$R$VROOTDIR/$g/bin/linked-out"
	echo "another content, long enough to be shared" >"$R$VROOTDIR/$g/bin/plain"
	touch -d @1600000000 "$R$VROOTDIR/$g/bin/linked-out" "$R$VROOTDIR/$g/bin/plain"
done
ln "$R$VROOTDIR/r1/bin/linked-out" "$T/outside-link"
mkdir -p "$R$CONFDIR/u1/apps/vunify" "$R$CONFDIR/r1/apps/vunify"
ln -s ../../../r1 "$R$CONFDIR/u1/apps/vunify/refserver.1"
run vsx u1 unify --link=hardlink
check "unify: the reference file linked outside is not shared" \
	test "$(stat -c %i "$R$VROOTDIR/u1/bin/linked-out")" != "$(stat -c %i "$T/outside-link")"
check "unify: it says why" grep -q "not unifying '.*/bin/linked-out': the reference's file has other hard links" "$T/err"
check "unify: the outside file is not made immutable" sh -c "lsattr '$T/outside-link' | grep -q '^----[^i]'"
check "unify: a plain equal file is shared (positive control)" \
	test "$(stat -c %i "$R$VROOTDIR/u1/bin/plain")" = "$(stat -c %i "$R$VROOTDIR/r1/bin/plain")"
mkguest u2 --context 206 || exit 99
echo "a content the store does not have yet, 0123456789" >"$R$VROOTDIR/u2/bin/hlinked"
echo "a content of its own for the store, 0123456789" >"$R$VROOTDIR/u2/bin/hplain"
ln "$R$VROOTDIR/u2/bin/hlinked" "$T/outside-hlink"
mkdir -p "$R$CONFDIR/.defaults/apps/vunify/hash" "$R$VROOTDIR/.hash" "$R$CONFDIR/u2/apps/vunify"
ln -s "$VROOTDIR/.hash" "$R$CONFDIR/.defaults/apps/vunify/hash/0"
run vsx u2 hashify --link=hardlink
check "hashify: the guest file linked outside is not made a store entry" \
	sh -c "[ \$(stat -c %h '$T/outside-hlink') = 2 ] && lsattr '$T/outside-hlink' | grep -q '^----[^i]'"
check "hashify: it says why" grep -q "not hashifying '.*/bin/hlinked': it has hard links outside the run" "$T/err"
check "hashify: a plain file becomes an entry (positive control)" \
	sh -c "[ \$(stat -c %h '$R$VROOTDIR/u2/bin/hplain') = 2 ] && lsattr '$R$VROOTDIR/u2/bin/hplain' | grep -q '^----i'"

# 11. user-namespace guests: the same attacks, the ids, the idmapped root
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid" # 10 slots of 65536
echo "root:2000000:655360" >"$R/etc/subgid"
userns_guest() { # NAME CONTEXT [build options]
	n=$1 c=$2
	shift 2
	mkguest "$n" --context "$c" "$@" || exit 99
	mkdir -p "$R$CONFDIR/$n/spaces" && touch "$R$CONFDIR/$n/spaces/user"
}
userns_guest hu 11
install -m 0755 "$HOSTILE" "$R$VROOTDIR/hu/bin/hostile"
expect_ok "start hu (a user namespace)" vsx hu start
run vsx hu exec cat /proc/self/uid_map /proc/self/gid_map
same "userns: ids of the guest's slot of root's subuid and subgid" "0 1065536 65536 0 2065536 65536" "$(echo $OUT)"
run vsx hu exec sh -c 'id -u; stat -c %u:%g /etc/guest-marker; touch /root/made-inside'
same "userns: root inside, files keep their on-disk owners" "0|0:0" "$RC|$(echo $OUT | tr ' ' '|' | cut -d'|' -f2-)"
same "userns: a file made inside is owned by 0 on disk" "0:0" "$(stat -c %u:%g "$R$VROOTDIR/hu/root/made-inside")"
init=$(awk '$1 == "init" { print $2 }' "$R$RUNDIR/hu")
same "userns: the guest's init is an unprivileged user of the host" "1065536:2065536" "$(stat -c %u:%g /proc/$init)"
# the guest's hard limit above vs's own: set from outside the guest's
# user namespace (inside it, raising a hard limit is refused)
if [ $(( 0x$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status) >> 24 & 1 )) = 1 ]; then
	mkdir -p "$R$CONFDIR/hu/ulimits" && echo 1500 >"$R$CONFDIR/hu/ulimits/nofile"
	run prlimit --nofile=256:512 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" hu exec sh -c 'echo $(ulimit -n) $(ulimit -Hn)'
	same "userns: ulimits/nofile above vs's own hard limit, for a command in the guest" "0 1500 1500" "$RC $OUT$ERR"
	rm -r "$R$CONFDIR/hu/ulimits"
else
	skip "userns: a hard limit above vs's own: root has no CAP_SYS_RESOURCE here, so none is ever raised"
fi
run vsx hu exec chown 70000 /root/made-inside
check "userns: capabilities stop at the guest's own ids (no chown to an unmapped id)" test "$RC" != 0
run vsx hu exec sh -c 'grep CapBnd /proc/self/status | cut -f2'
# SETPCAP 8, NET_ADMIN 12, SYS_ADMIN 21, MKNOD 27 in; SYS_MODULE 16, SYS_RAWIO 17, SYS_TIME 25 out
check "userns: the bounding set has SETPCAP, NET_ADMIN, SYS_ADMIN, MKNOD (they reach only its own namespaces), not SYS_MODULE, SYS_RAWIO, SYS_TIME ($OUT)" \
	test $(( 0x$OUT & (1 << 8 | 1 << 12 | 1 << 21 | 1 << 27 | 1 << 16 | 1 << 17 | 1 << 25) )) = $(( 1 << 8 | 1 << 12 | 1 << 21 | 1 << 27 ))
attacks hu userns
# reboot and halt from inside reach vshelper as in a privileged guest
i1=$(init_of hu)
vsx hu exec reboot -f
for _ in $(seq 200); do
	i2=$(init_of hu)
	[ -n "$i2" ] && [ "$i2" != "$i1" ] && vsx hu running && break
	sleep 0.05
done
check "userns: reboot from inside starts it again (vshelper)" sh -c "[ -n '$i2' ] && [ '$i2' != '$i1' ]"
vsx hu exec poweroff -f
await 60 ! test -e "$R$RUNDIR/hu"
run vsx hu status
same "userns: poweroff from inside stops it" 3 "$RC"

# files shared between guests of different ranges stay shared
userns_guest hu2 12
mkdir -p "$R$CONFDIR/hu/apps/vunify" "$R$CONFDIR/hu2/apps/vunify"
ln -s ../../../hu "$R$CONFDIR/hu2/apps/vunify/refserver.1"
expect_ok "unify hu2 against hu" vsx hu2 unify --link=hardlink --ignore-mtime
expect_ok "start hu" vsx hu start
expect_ok "start hu2" vsx hu2 start
a=$(vsx hu exec stat -c %u:%i /bin/busybox)
b=$(vsx hu2 exec stat -c %u:%i /bin/busybox)
run vsx hu2 exec cat /proc/self/uid_map
check "userns: a unified file is one inode owned by root in both ($a, $b; hu2 maps $(echo $OUT))" \
	sh -c "[ '$a' = '$b' ] && [ '${a%%:*}' = 0 ] && echo '$OUT' | grep -q 1131072"
run vsx hu2 exec busybox true
same "userns: the shared busybox runs in hu2" 0 "$RC"
expect_ok "stop hu" vsx hu stop
expect_ok "stop hu2" vsx hu2 stop

# an fstab bind in a user-namespace guest: read-only, of a nosuid, nodev
# mount (flags the guest's namespace cannot drop: the remount keeps them)
mkdir -p "$R/srv/nosuid" "$R$VROOTDIR/hu/mnt"
mount -t tmpfs -o nosuid,nodev,size=1m vs-test "$R/srv/nosuid"
echo shared >"$R/srv/nosuid/file"
cp "$R$CONFDIR/hu/fstab" "$T/hu.fstab"
echo "/srv/nosuid /mnt none bind,ro 0 0" >>"$R$CONFDIR/hu/fstab"
expect_ok "userns: start with an fstab bind, read-only, of a nosuid mount" vsx hu start
run vsx hu exec sh -c 'cat /mnt/file; touch /mnt/x 2>/dev/null && echo written; awk "\$2 == \"/mnt\" { print \$4 }" /proc/mounts | cut -d, -f1-3'
same "... its file read, nothing written; read-only, still nosuid and nodev" "shared|ro,nosuid,nodev" "$(echo $OUT | tr ' ' '|')"
expect_ok "stop hu" vsx hu stop
cp "$T/hu.fstab" "$R$CONFDIR/hu/fstab"
umount "$R/srv/nosuid"

# bad configurations: one line each, nothing started
userns_guest hu3 21
expect_error "userns: overlapping ranges are refused" 1 "guest 'hu3' has user ids of guest 'hu'" vsx hu3 start
mkdir -p "$R$CONFDIR/hu3/userns"
echo "0 x" >"$R$CONFDIR/hu3/userns/uidmap"
expect_error "userns: a bad uidmap line" 1 "userns/uidmap:1: not '<inside> <outside> <count>'" vsx hu3 start
echo "0 3000000 65536" >"$R$CONFDIR/hu3/userns/uidmap"
echo "0 3000000 65536" >"$R$CONFDIR/hu3/userns/gidmap"
touch "$R$CONFDIR/hu3/nonamespace"
expect_error "userns: nonamespace is refused" 1 "a user-namespace guest needs a mount namespace of its own" vsx hu3 start
rm "$R$CONFDIR/hu3/nonamespace"
mkdir "$R$VROOTDIR/hu3/sys"
expect_ok "userns: explicit maps" vsx hu3 start
run vsx hu3 exec cat /proc/self/uid_map
same "userns: the uidmap file is used" "0 3000000 65536" "$(echo $OUT)"
run vsx hu3 exec sh -c 'test -d /sys/kernel && ! touch /sys/kernel/x 2>/dev/null && grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1'
same "userns without a network namespace: the host's /sys, read-only" "0|ro" "$RC|$OUT"
expect_ok "stop hu3" vsx hu3 stop
touch "$R$CONFDIR/hu3/spaces/net"
expect_ok "userns with a network namespace" vsx hu3 start
run vsx hu3 exec sh -c 'ls /sys/class/net; grep " /sys " /proc/mounts | cut -d" " -f1,4 | cut -d, -f1'
same "userns with a network namespace: its own sysfs, read-only" "0|lo sysfs ro" "$RC|$(echo $OUT)"
expect_ok "stop hu3" vsx hu3 stop
rm "$R$CONFDIR/hu3/spaces/net"
mv "$R/etc/subuid" "$R/etc/subuid.away"
expect_error "userns: no subuid and no uidmap" 1 "cannot read '$R/etc/subuid'" vsx hu2 start
mv "$R/etc/subuid.away" "$R/etc/subuid"

# on XFS too; a file system without idmapped mounts is refused
if mountpoint -q "$R/xfs" 2>/dev/null; then
	userns_guest hux 13 --rootdir /xfs/guests
	expect_ok "start hux (user namespace, root on XFS)" vsx hux start
	run vsx hux exec sh -c 'cat /proc/self/uid_map; stat -c %u /etc/guest-marker; touch /root/x'
	same "userns on XFS: mapped (slot 13 mod 10), owners kept" "0 1196608 65536 0" "$(echo $OUT)"
	same "userns on XFS: a file made inside is owned by 0 on disk" 0 "$(stat -c %u "$R/xfs/guests/hux/root/x")"
	expect_ok "stop hux" vsx hux stop
else
	skip "userns on XFS: no XFS loop mount (see the handle attack above)"
fi
mkdir -p "$R/ramfs"
if mount -t ramfs none "$R/ramfs" 2>/dev/null; then
	userns_guest hr 14 --rootdir /ramfs
	expect_error "userns: a root on ramfs is refused" 1 "has no idmapped mounts (ext4, XFS, btrfs and tmpfs have)" vsx hr start
else
	skip "userns on ramfs: cannot mount ramfs"
fi

finish
