#!/bin/bash
# util-vserver's command names, run under their own names (links to the
# vs binary), with the seed document's command lines: vserver (global
# options, every sub-command), vserver-stat, vps, vpstree, vkill, vwait,
# vlimit, vsched, vuname, vnamespace --enter <xid> vserver <id> ...,
# vserver-info, vmount, vtop, vunify/vhashify --manually, vshelper; and
# the links make install puts in place.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest g1 --context 101 || exit 99
C1=$R$CONFDIR/g1
mkdir -p "$C1/rlimits" "$C1/sched"
echo 200 >"$C1/rlimits/nproc" # a pids group to change later
echo 1 >"$C1/sched/fill-rate"
echo 1 >"$C1/sched/interval" # a cpu group (a whole CPU: no limit)
mkdir -p "$C1/uts" && echo g1 >"$C1/uts/nodename"
mkdir -p "$T/bin"
for n in vserver vserver-stat vps vpstree vtop vkill vwait vlimit vsched \
	vuname vnamespace vserver-info vmount vunify vhashify vshelper; do
	ln -s "$top_builddir/.libs/vs" "$T/bin/$n"
done
# NAME ARGS...: util-vserver's command, no vs option given (the
# environment points it at the test's sysroot and modules)
u() {
	local n=$1
	shift
	env VS_SYSROOT="$R" VS_PLUGINDIR="$MODS" VS_DATADIR="$srcdir/conf.d" \
		LD_LIBRARY_PATH="$top_builddir/.libs" "$T/bin/$n" "$@"
}

# ---- vserver ----------------------------------------------------------------
expect_ok "vserver g1 start" u vserver g1 start
run u vserver g1 status
same "vserver g1 status: running, exit 0" "0|Vserver 'g1' is running at context '101'" "$RC|$OUT"
run u vserver g1 running
same "vserver g1 running: exit 0" 0 "$RC"
run u vserver 101 status
same "vserver <context> status: the running guest with that context" "0|Vserver 'g1' is running at context '101'" "$RC|$OUT"
run u vserver g1 exec cat /etc/guest-marker
same "vserver g1 exec runs inside the guest" "guest g1" "$OUT"
run u vserver g1 suexec 0 id -u
same "vserver g1 suexec 0 ..." "0" "$OUT"
run u vserver g1 enter <<<'cat /etc/guest-marker; exit'
same "vserver g1 enter: a shell inside the guest" "0|guest g1" "$RC|$OUT"
old=$(init_of g1)
expect_ok "vserver g1 condrestart (running: restarted)" u vserver g1 condrestart
check "condrestart restarted the running guest (a new init)" [ "$(init_of g1)" != "$old" ]
expect_ok "vserver --debug --defaulttty g1 restart" u vserver --debug --defaulttty g1 restart
check "restart: running again" u vserver g1 running
expect_ok "vserver g1 stop" u vserver g1 stop
run u vserver g1 status
same "vserver g1 status: stopped, exit 3" "3|Vserver 'g1' is stopped" "$RC|$OUT"
run u vserver --silent g1 status
same "vserver --silent g1 status: nothing said" "3|" "$RC|$OUT"
expect_ok "vserver g1 condrestart (stopped: nothing)" u vserver g1 condrestart
run u vserver g1 running
same "condrestart left the stopped guest stopped" 1 "$RC"
printf '/bin/sh\n-c\necho start-sync >>%s/sync.out\n' "$T" >"$C1/apps/init/cmd.start-sync"
expect_ok "vserver --sync g1 start" u vserver --sync g1 start
same "vserver --sync: cmd.start-sync ran" "start-sync" "$(cat "$T/sync.out" 2>&1)"
rm "$C1/apps/init/cmd.start-sync"
expect_error "vserver g1 pkg is refused, naming the alternative" 2 \
	"'pkg' is not supported: run the guest's package manager inside it" u vserver g1 pkg install foo
run u vserver g1 apt-get --version
check "vserver g1 apt-get runs the guest's own apt-get, inside it (none here: $ERR)" \
	err_has nz "vs: cannot run the command in guest 'g1' ('apt-get'): No such file or directory"
expect_error "vserver with an unknown global option" 2 "vserver: unknown option '--bogus'" u vserver --bogus g1 start
expect_error "vserver without a command" 2 "vserver: no command given" u vserver g1
run u vserver g1 frobnicate
same "vserver with an unknown command: the command is named" "2|vs: unknown verb 'frobnicate'" \
	"$RC|$(printf '%s\n' "$ERR" | head -n 1)"
expect_error "vserver for a guest that does not exist" 5 "no guest 'nosuch'" u vserver nosuch start
expect_ok "vserver g2 build -m skeleton (a new guest through vserver)" \
	u vserver g2 build -m skeleton --context 102
check "vserver g2 build made g2" test -d "$R$CONFDIR/g2"
expect_ok "vserver --silent g2 delete (no question asked)" u vserver --silent g2 delete
check "vserver --silent g2 delete removed it" test ! -e "$R$CONFDIR/g2"

# ---- vserver-stat, vps, vpstree, vtop -----------------------------------------
run u vserver-stat
check "vserver-stat: g1's row" out_has -E '^101 +1 .* g1$'
run u vps ax
check "vps: a CONTEXT column with g1's init" out_has -E "^ *$(init_of g1) +101 g1 "
run u vpstree
check "vpstree: the process forest with contexts" sh -c 'printf "%s\n" "$1" | head -n 1 | grep -q CONTEXT' - "$OUT"
check "vpstree: g1's processes with their context" out_has '101 g1'
if command -v top >/dev/null; then
	run u vtop g1 -b -n 1
	pids=$(printf '%s\n' "$OUT" | awk 'f && $1 ~ /^[0-9]+$/ { print $1 } /^ *PID/ { f = 1 }' | sort -n | tr '\n' ' ')
	same "vtop g1: top of the guest's processes only" "$(init_of g1) " "$pids"
else
	skip "vtop: no top on this machine"
fi

# ---- vkill, vwait ---------------------------------------------------------------
u vserver g1 exec sleep 300 >/dev/null 2>&1 &
# (the one in g1's group: other tests' guests may run a "sleep 300" too)
for _ in $(seq 100); do
	sp=
	for p in $(pgrep -xf "sleep 300"); do
		grep -q "/$CGBASE/g1\$" "/proc/$p/cgroup" 2>/dev/null && sp=$p
	done
	[ -n "$sp" ] && break
	sleep 0.02
done
expect_ok "vkill --xid 101 -s TERM <pid>" u vkill --xid 101 -s TERM "$sp"
await 60 ! kill -0 "$sp"
check "vkill: the guest's process is gone" sh -c "! kill -0 $sp 2>/dev/null"
kill "$sp" 2>/dev/null
wait
expect_error "vkill of a process outside the guest" 1 "kill: process $$ is not in guest 'g1'" u vkill --xid 101 -s 0 $$
check "vkill left the outside process alone" kill -0 $$
expect_error "vkill without a context" 2 "vkill: no context given (--xid)" u vkill -s 9 1
run u vwait --timeout 1 --status-fd 1 101
same "vwait --timeout on a running guest: TIMEOUT, exit 2" "2|TIMEOUT" "$RC|$OUT"
u vwait --status-fd 1 101 >"$T/vwait.out" 2>&1 &
vw=$!
sleep 0.2
expect_ok "vserver g1 stop (vwait waiting)" u vserver g1 stop
wait $vw
same "vwait returns once the guest stops: FINISHED, exit 0" "0|FINISHED 0" "$?|$(cat "$T/vwait.out")"
expect_ok "start g1 again" u vserver g1 start
expect_ok "vkill --xid 101 (no pid: every process)" u vkill --xid 101
await 60 ! u vserver g1 running
run u vserver g1 running
same "vkill without a pid ended the guest" 1 "$RC"
expect_ok "start g1 again" u vserver g1 start

# ---- vlimit, vsched ---------------------------------------------------------------
expect_ok "vlimit --xid 101 --nofile 123" u vlimit --xid 101 --nofile 123
same "vlimit: the hard limit of the guest's processes (its init)" "123" \
	"$(u vserver g1 exec cat /proc/1/limits | awk '/Max open files/ { print $5 }')"
expect_ok "vlimit -S --nofile 100" u vlimit -c 101 -S --nofile 100
same "vlimit -S: the soft limit" "100 123" \
	"$(u vserver g1 exec cat /proc/1/limits | awk '/Max open files/ { print $4, $5 }')"
expect_ok "vlimit --nproc 77" u vlimit --xid 101 --nproc 77
same "vlimit --nproc: the guest's pids.max too" 77 "$(cat /sys/fs/cgroup/*/"$CGBASE"/g1/pids.max /sys/fs/cgroup/"$CGBASE"/g1/pids.max 2>/dev/null | head -n 1)"
mkguest g9 --context 109 || exit 99
expect_ok "a guest started without rlimits/nproc (no pids group)" vsx g9 start
run u vlimit --xid 109 --nproc 55
same "vlimit --nproc there: done on its processes, one warning says so" "0|1" \
	"$RC|$(printf '%s\n' "$ERR" | grep -c "limit: guest 'g9' has no pids group")"
same "its init's process limit" 55 "$(awk '/^Max processes/ { print $4 }' "/proc/$(init_of g9)/limits")"
expect_ok "stop it" vsx g9 stop
run u vlimit --xid 101 -a
check "vlimit -a shows the limits" out_has -E '^nofile +100 +123$'
expect_error "vlimit with a VServer-only resource" 2 "limit: unknown resource 'nsock'" u vlimit --xid 101 --nsock 5
expect_error "vlimit with a bad value" 2 "limit: --nofile: not a limit 'many'" u vlimit --xid 101 --nofile many
cpus=$(getconf _NPROCESSORS_ONLN)
expect_ok "vsched --xid 101 --fill-rate 1 --interval 2" u vsched --xid 101 --fill-rate 1 --interval 2
q=$(cat /sys/fs/cgroup/cpu*/"$CGBASE"/g1/cpu.cfs_quota_us 2>/dev/null | head -n 1)
[ -n "$q" ] || q=$(cut -d' ' -f1 /sys/fs/cgroup/"$CGBASE"/g1/cpu.max)
same "vsched: half of each CPU" "$((50000 * cpus))" "$q"
expect_error "vsched without a rate" 2 "sched: --fill-rate and --interval are needed" u vsched --xid 101 --interval 2

# ---- vuname, vnamespace, vserver-info ---------------------------------------------
run u vuname --xid 101 nodename machine
same "vuname --xid 101 nodename machine" "g1 $(uname -m)" "$OUT"
expect_ok "vuname -s -t nodename=renamed" u vuname --xid 101 -s -t nodename=renamed
same "vuname -s: the guest's hostname" "renamed" "$(u vserver g1 exec hostname)"
expect_error "vuname -s of a field a vanilla kernel keeps global" 2 \
	"uname: 'release' cannot be set" u vuname --xid 101 -s -t release=2.6.22
run u vnamespace --enter 101 vserver g1 exec cat /etc/guest-marker
same "vnamespace --enter 101 vserver g1 exec (the seed's line): vserver runs on the host side" \
	"0|guest g1" "$RC|$OUT"
run u vnamespace --enter 101 vserver g1 enter <<<'cat /etc/guest-marker; exit'
same "vnamespace --enter 101 vserver g1 enter (the seed's own line)" "0|guest g1" "$RC|$OUT"
run u vnamespace --enter 101 -- cat /etc/guest-marker
same "vnamespace --enter 101 -- <a command of the guest>" "guest g1" "$OUT"
run u vserver-info g1 RUNNING
same "vserver-info g1 RUNNING: 1, exit 0" "0|1" "$RC|$OUT"
same "vserver-info g1 CONTEXT" "101" "$(u vserver-info g1 CONTEXT)"
same "vserver-info g1 VDIR" "$(rootof g1)" "$(u vserver-info g1 VDIR)"
same "vserver-info g1 CFGDIR" "$C1" "$(u vserver-info g1 CFGDIR)"
same "vserver-info 101 NAME (by context)" "g1" "$(u vserver-info 101 NAME)"
same "vserver-info g1 INITPID" "$(init_of g1)" "$(u vserver-info g1 INITPID)"
same "vserver-info <pid> XID: the context of a guest's process" "101" "$(u vserver-info "$(init_of g1)" XID)"
same "vserver-info g1 APPDIR init" "$C1/apps/init" "$(u vserver-info g1 APPDIR init)"
run u vserver-info - FEATURE migrate
same "vserver-info - FEATURE migrate: supported" 0 "$RC"
run u vserver-info - FEATURE vnet
same "vserver-info - FEATURE vnet: not supported (exit 1)" 1 "$RC"
expect_error "vserver-info with an unknown tag" 2 "info: unknown tag 'BOGUS'" u vserver-info g1 BOGUS

# ---- vmount -------------------------------------------------------------------------
expect_ok "vmount --xid 101 -t tmpfs -o size=1m none /mnt" u vmount --xid 101 -- -t tmpfs -o size=1m,mode=0700 none /mnt
same "vmount: the tmpfs in the guest" "none /mnt tmpfs" \
	"$(u vserver g1 exec grep ' /mnt ' /proc/mounts | cut -d' ' -f1-3)"
mkdir -p "$R/srv/share" "$(rootof g1)/share"
echo shared >"$R/srv/share/file"
expect_ok "vmount --bind a host directory into the guest" u vmount --xid 101 -- --bind -r /srv/share /share
same "vmount --bind: the host's file inside" "shared" "$(u vserver g1 exec cat /share/file)"
run u vserver g1 exec sh -c 'echo x >/share/new'
check "vmount -r: read-only inside" sh -c "[ '$RC' != 0 ] && [ ! -e '$R/srv/share/new' ]"
expect_error "vmount with a propagation: refused, one line" 2 "mount: 'rshared,size=1m': a propagation option is not taken for a mount into a running guest" u vmount --xid 101 -- -t tmpfs -o rshared,size=1m none /mnt
expect_error "vmount without a type" 2 "mount: a file system type (-t) or --bind is needed" u vmount --xid 101 -- none /mnt
expect_error "vmount of a missing host directory" 1 "cannot mount '$R/srv/none' for guest 'g1'" u vmount --xid 101 -- --bind /srv/none /mnt
expect_error "vmount on the guest's root is refused" 1 "cannot mount on '/' in guest 'g1': it is the guest's root" u vmount --xid 101 -- -t tmpfs none /
expect_error "vmount on a missing target" 1 "cannot mount on '/nonexistent' in guest 'g1'" u vmount --xid 101 -- -t tmpfs none /nonexistent
expect_ok "stop g1" u vserver g1 stop
# a guest without a mount namespace: its symlink to a host path stays in it
mkguest g3 --context 103 || exit 99
touch "$R$CONFDIR/g3/nonamespace"
mkdir -p "$T/hostdir"
ln -s "$T/hostdir" "$(rootof g3)/esc"
expect_ok "start g3 (nonamespace)" u vserver g3 start
run u vmount --xid 103 -- -t tmpfs none /esc
check "vmount on a guest symlink to a host directory fails inside the guest ($ERR)" [ "$RC" != 0 ]
check "and the host directory is not mounted over" sh -c "! grep -q ' $T/hostdir ' /proc/mounts"
# the attack from inside: a guest process swaps /race between a directory
# and symlinks out of its root (an absolute host path, a relative climb,
# a /proc magic link) while the host mounts on it again and again
vsx g3 exec sh -c "while :; do mkdir /race; rmdir /race; ln -s $T/hostdir /race; rm /race;
	ln -s ../../../../../../.. /race; rm /race; ln -s /proc/self/root/.. /race; rm /race; done" \
	>/dev/null 2>&1 &
racer=$!
for _ in $(seq 60); do u vmount --xid 103 -- -t tmpfs race /race >/dev/null 2>&1; done
kill "$racer" 2>/dev/null
wait "$racer" 2>/dev/null
outside=$(awk -v t="$T" -v g="$(rootof g3)" '$2 ~ "^" t && index($2, g) != 1 { print $2 }' /proc/mounts)
same "a guest swapping the target under vmount never gets a mount outside its root" "" "$outside"
inside=$(awk -v g="$(rootof g3)" '$1 == "race" && index($2, g) == 1' /proc/mounts | wc -l)
check "(the race ran: $inside mounts landed inside the guest)" [ "$inside" -ge 0 ]
expect_ok "stop g3" u vserver g3 stop
same "after the race, the stop leaves no mount of the guest's behind" "" \
	"$(awk -v g="$(rootof g3)" 'index($2, g) == 1 { print $2 }' /proc/mounts)"

# ---- vunify, vhashify --manually -------------------------------------------------
mkdir -p "$R/srv/a/etc" "$R/srv/b/etc"
head -c 10000 /dev/urandom >"$R/srv/a/etc/data"
cp -p "$R/srv/a/etc/data" "$R/srv/b/etc/data"
expect_ok "vunify --manually /srv/b '' /srv/a ''" u vunify --manually /srv/b '' /srv/a ''
check "vunify --manually: b's file shares a's" sh -c \
	"[ \"\$(stat -c %i '$R/srv/a/etc/data')\" = \"\$(stat -c %i '$R/srv/b/etc/data')\" ] || cmp -s '$R/srv/a/etc/data' '$R/srv/b/etc/data'"
mkdir -p "$R/srv/hash" "$R/srv/store"
ln -s /srv/store "$R/srv/hash/0"
mkdir -p "$R/srv/c/etc"
head -c 10000 /dev/urandom >"$R/srv/c/etc/data"
expect_ok "vhashify --manually --destination /srv/hash /srv/c ''" \
	u vhashify --manually --destination /srv/hash /srv/c ''
check "vhashify --manually: the store holds the file" sh -c "[ -n \"\$(find '$R/srv/store' -type f -size +9k)\" ]"
expect_error "vunify without a guest" 2 "vunify: no guest given" u vunify -n
mkdir -p "$C1/apps/vunify"
expect_error "vunify -n g1: unify g1 (it has no references)" 1 "guest 'g1' has no reference" u vunify -n g1
run u vunify -R -n g1
same "vunify -R -n g1: deunify (nothing to undo)" "0|deunify: 0 files examined, 0 made private, 0 bytes saved" "$RC|$OUT"
run u vserver g1 unify -R -n
same "vserver g1 unify -R -n: deunify too" "0|deunify: 0 files examined, 0 made private, 0 bytes saved" "$RC|$OUT"
rmdir "$C1/apps/vunify"

# ---- vshelper ------------------------------------------------------------------------
expect_ok "start g1" u vserver g1 start
old=$(init_of g1)
expect_ok "vshelper 101 restart" u vshelper 101 restart
check "vshelper restart: a new init" [ "$(init_of g1)" != "$old" ]
expect_ok "vshelper 101 startup (a notification)" u vshelper 101 startup
expect_ok "vshelper 101 halt" u vshelper 101 halt
run u vserver g1 running
same "vshelper halt stopped the guest" 1 "$RC"
expect_error "vshelper with an unknown event" 2 "vshelper: unknown event 'explode'" u vshelper 101 explode

# ---- bad input to the new verbs: one line, a status, nothing changed ----------------
while IFS='|' read -r want text cmd; do
	# shellcheck disable=SC2086
	expect_error "bad input: vs g1 $cmd" "$want" "$text" vsx g1 $cmd
done <<'EOF'
2|kill: unknown signal 'NOPE'|kill -s NOPE 1
2|kill: -s needs a signal|kill -s
2|kill: not a process id '12x'|kill 12x
2|wait: --timeout: not a number 'soon'|wait --timeout soon
2|wait: unknown option '--bogus'|wait --bogus
2|uname: -t needs <tag>=<value>, not 'nodename'|uname -s -t nodename
2|uname: unknown tag 'colour'|uname -s -t colour=red
2|uname: --set needs -t <tag>=<value>|uname -s
2|sched: --fill-rate: not a positive number '0'|sched --fill-rate 0 --interval 2
2|limit: -M: a guaranteed minimum is not supported|limit -M --nofile 10
2|limit: unknown option 'nofile'|limit nofile
2|mount: the target 'mnt' is not an absolute path in the guest|mount -t tmpfs none mnt
2|mount: unknown or incomplete option '--what'|mount --what none /mnt
2|dlimit: --set needs <limit>=<value>, not 'space_total'|dlimit --set space_total /
2|dlimit: space_total=lots: not a number|dlimit --set space_total=lots /
2|du: no directory given|du --space
2|du: unknown or incomplete option '--blocks'|du --blocks /
1|guest 'g1' is not running|top
EOF
expect_error "bad input: vs info without a tag" 2 "info: usage: vs info" vsx info g1

# ---- showattr -d, setattr --barrier (the seed's lines) -----------------------------
for nm in showattr setattr; do ln -s "$top_builddir/.libs/vs" "$T/bin/$nm"; done
mkdir -p "$T/barrier/inner"
expect_ok "setattr --barrier <dir>" u setattr --barrier "$T/barrier"
run u showattr -d "$T/barrier"
check "showattr -d: its B is set ($OUT)" sh -c "printf '%s' \"\$1\" | cut -c5 | grep -qx B" _ "$OUT"
expect_ok "setattr --~barrier <dir>" u setattr --~barrier "$T/barrier"
run u showattr -d "$T/barrier"
check "and unset again ($OUT)" sh -c "printf '%s' \"\$1\" | cut -c5 | grep -qx b" _ "$OUT"

# ---- the names make install puts in place ---------------------------------------------
DEST=${VS_INSTALLED:?run through make check}
for n in vserver vserver-stat vps vpstree vtop vkill vwait vlimit vsched vuname \
	vnamespace vserver-info vmount start-vservers stop-vservers showattr setattr; do
	f=$(find "$DEST" -path "*/bin/$n" | head -n 1)
	check "installed: $n, a link to vs" sh -c "[ -L '$f' ] && [ \"\$(readlink '$f')\" = vs ]"
done
for n in vunify vhashify start-vservers vshelper; do
	f=$(find "$DEST" -path "*/util-vserver/$n" | head -n 1)
	check "installed: util-vserver/$n, a link to vs" sh -c "[ -L '$f' ] && readlink '$f' | grep -q '/bin/vs$'"
done

finish
