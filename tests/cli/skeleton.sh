#!/bin/bash
# vs <guest> build -m skeleton: the seed's example byte for byte, both
# argument orders, context allocation, --force, --keep, cleanup on failure,
# .defaults/apps/build/options, and the sysroot staying closed.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

# tree NAME: type|mode|link target|content of every entry of a guest
tree() {
	for top in "$R$CONFDIR/$1" "$R$VROOTDIR/$1"; do
		stat -c '%a' "$top"
		(cd "$top" && find . -mindepth 1 -printf '%p!%y!%m!%l!' -exec sh -c \
			'if [ -f "$1" ] && [ ! -L "$1" ]; then tr "\n" "^" <"$1"; fi;
			 if [ -c "$1" ] && [ ! -L "$1" ]; then stat -c "%t:%T" "$1"; else echo; fi' _ {} \; |
			LC_ALL=C sort)
		echo ==
	done
}

expect_ok "seed example builds" \
	vsx foo build -m skeleton --hostname vs.foo.org \
	--interface eth0:192.168.3.1/21 --context 42

want_cfg="755
./apps!d!755!!
./apps/init!d!755!!
./cache!l!777!$CACHEDIR/foo!
./context!f!644!!42^
./cpuset!d!755!!
./fstab!f!644!!none	/proc		proc		defaults		0 0^none	/tmp		tmpfs		size=16m,mode=1777	0 0^none	/dev/pts	devpts		gid=5,mode=620		0 0^
./interfaces!d!755!!
./interfaces/0!d!755!!
./interfaces/0/dev!f!644!!eth0^
./interfaces/0/ip!f!644!!192.168.3.1^
./interfaces/0/prefix!f!644!!21^
./name!f!644!!foo^
./run!l!777!$RUNDIR/foo!
./uts!d!755!!
./uts/nodename!f!644!!vs.foo.org^
./vdir!l!777!$VROOTDIR/foo!
==
755
./dev!d!755!!
./dev/fd!l!777!/proc/self/fd!
./dev/full!c!666!!1:7
./dev/null!c!666!!1:3
./dev/ptmx!c!666!!5:2
./dev/pts!d!755!!
./dev/random!c!644!!1:8
./dev/shm!d!1777!!
./dev/stderr!l!777!fd/2!
./dev/stdin!l!777!fd/0!
./dev/stdout!l!777!fd/1!
./dev/tty!c!666!!5:0
./dev/urandom!c!644!!1:9
./dev/zero!c!666!!1:5
./etc!d!755!!
./etc/hosts!f!644!!127.0.0.1	localhost^::1		localhost ip6-localhost ip6-loopback^
./proc!d!755!!
=="
same "seed example: files byte for byte" "$want_cfg" "$(tree foo)"
check "barrier: the roots' parent has mode 000" \
	test "$(stat -c %a "$R$VROOTDIR")" = 0
check "a context given is not counted in context.next" \
	test ! -e "$R$CONFDIR/.defaults/context.next"

# the verb-first order makes the same tree
expect_ok "verb-first order builds" \
	vsx build bar -m skeleton --hostname vs.foo.org \
	--interface eth0:192.168.3.1/21 --context 43
same "both argument orders give the same files" \
	"$(tree foo | sed -e 's|/foo|/X|g' -e 's|foo^|X^|' -e 's/^\.\/context!f!644!!42^$/CTX/')" \
	"$(tree bar | sed -e 's|/bar|/X|g' -e 's|bar^|X^|' -e 's/^\.\/context!f!644!!43^$/CTX/')"

# context allocation: from context.start, skipping ids in use
expect_ok "build without --context" vsx auto1 build -m skeleton
same "first allocated context is 40000" "40000" "$(cat "$R$CONFDIR/auto1/context")"
same "context.next advanced" "40001" "$(cat "$R$CONFDIR/.defaults/context.next")"
echo 40001 >"$R$CONFDIR/foo/context"
expect_ok "build skips a used id" vsx auto2 build -m skeleton
same "context in use skipped" "40002" "$(cat "$R$CONFDIR/auto2/context")"
same "context.next after skip" "40003" "$(cat "$R$CONFDIR/.defaults/context.next")"
echo 42 >"$R$CONFDIR/foo/context"
touch "$R$CONFDIR/.defaults/context.dynamic"
expect_ok "context.dynamic: no context" vsx dyn build -m skeleton
check "context.dynamic: no context file" test ! -e "$R$CONFDIR/dyn/context"
rm "$R$CONFDIR/.defaults/context.dynamic"

# interfaces, flags, init style, cpuset
run vsx opts build -m skeleton --netdev eth1 --netprefix 24 \
	--interface web=10.0.0.1 --interface nodev:10.0.0.2/255.255.255.0 \
	--interface 2001:db8::5/64 --flags a,b --flags c --initstyle plain \
	--cpuset cs --cpusetcpus 0-1:1 --context 50
check "options build: exit 0" test "$RC" = 0
same "netdev default" "eth1" "$(cat "$R$CONFDIR/opts/interfaces/dev")"
same "netprefix default" "24" "$(cat "$R$CONFDIR/opts/interfaces/prefix")"
same "named interface" "web|10.0.0.1" \
	"$(cat "$R$CONFDIR/opts/interfaces/0/name")|$(cat "$R$CONFDIR/opts/interfaces/0/ip")"
check "interface without dev uses netdev (no nodev)" test ! -e "$R$CONFDIR/opts/interfaces/0/nodev"
check "nodev interface" test -e "$R$CONFDIR/opts/interfaces/1/nodev"
same "mask kept as given" "255.255.255.0" "$(cat "$R$CONFDIR/opts/interfaces/1/mask")"
same "ipv6 interface" "2001:db8::5/64" \
	"$(cat "$R$CONFDIR/opts/interfaces/2/ip")/$(cat "$R$CONFDIR/opts/interfaces/2/prefix")"
same "flags one per line in cflags" "a b c" "$(tr '\n' ' ' <"$R$CONFDIR/opts/cflags" | sed 's/ $//')"
same "init style" "plain" "$(cat "$R$CONFDIR/opts/apps/init/style")"
same "cpuset" "cs 0-1 1" "$(cat "$R$CONFDIR/opts/cpuset/name") $(cat "$R$CONFDIR/opts/cpuset/cpus") $(cat "$R$CONFDIR/opts/cpuset/cpus_exclusive")"
run vsx nodevw build -m skeleton --interface 10.9.9.9 --context 51
same "no device and no netdev: warns and sets nodev" \
	"0|vs: warning: no device specified for interface '0'; setting 'nodev'|yes" \
	"$RC|$ERR|$(test -e "$R$CONFDIR/nodevw/interfaces/0/nodev" && echo yes)"

# concurrent builds: distinct contexts; one name, one winner (the first
# ones on a host without configuration directory yet)
R0=$R
R=$T/fresh
mkdir -p "$R"
pids=
for i in 1 2 3; do vsx fresh$i build -m skeleton >/dev/null 2>&1 & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
same "concurrent first builds get distinct contexts" 3 \
	"$(cat "$R$CONFDIR"/fresh*/context | sort -u | wc -l)"
R=$R0
pids=
for i in 1 2 3 4 5 6; do vsx par$i build -m skeleton >/dev/null 2>&1 & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
same "concurrent builds get distinct contexts" 6 \
	"$(cat "$R$CONFDIR"/par*/context | sort -u | wc -l)"
pids=
for i in 1 2 3 4; do vsx same build -m skeleton >/dev/null 2>&1 & pids="$pids $!"; done
wins=0
for p in $pids; do wait "$p" && wins=$((wins + 1)); done
same "concurrent builds of one guest: exactly one wins" 1 "$wins"
check "the winner is complete" test -c "$R$VROOTDIR/same/dev/null" -a -f "$R$CONFDIR/same/context"

# a failing method removes everything it created, context.next unchanged
next_before=$(cat "$R$CONFDIR/.defaults/context.next")
expect_error "failing method: one line, nothing left" 1 \
	"skeleton: 'false' failed with status 1" \
	vsx broken build -m skeleton -- false
check "failing method: no root left" test ! -e "$R$VROOTDIR/broken"
same "failing method: context.next unchanged" "$next_before" \
	"$(cat "$R$CONFDIR/.defaults/context.next")"
run vsx kept build -m skeleton --keep -- false
check "--keep: failure still reported" test "$RC" = 1
check "--keep: root and configuration kept" \
	test -d "$R$VROOTDIR/kept/dev" -a -L "$R$CONFDIR/kept/vdir"
expect_ok "the optional command runs in the new root" \
	vsx cmd build -m skeleton --context 52 -- sh -c 'touch "$VDIR/made-by-cmd"; test "$VSERVER_NAME" = cmd'
check "the command saw VDIR" test -e "$R$VROOTDIR/cmd/made-by-cmd"

# skeleton --pkgmgmt and -d
expect_ok "skeleton --pkgmgmt" vsx pkg build -m skeleton --context 56 -- -d : --pkgmgmt
same "pkgmgmt base link" "$VROOTDIR/.pkg/pkg" "$(readlink "$R$CONFDIR/pkg/apps/pkgmgmt/base")"
check "pkgmgmt directory made" test -d "$R$VROOTDIR/.pkg/pkg"
mkdir -p "$R$CONFDIR/.distributions/mydist/files"
printf 'null c 1 3 600\n' >"$R$CONFDIR/.distributions/mydist/devs"
echo "nameserver 192.0.2.53" >"$R$CONFDIR/.distributions/mydist/files/resolv.conf"
expect_ok "skeleton -d with a distribution of .distributions" vsx dist build -m skeleton --context 57 -- -d mydist
same "the distribution's devs used" "null" "$(ls "$R$VROOTDIR/dist/dev" | grep -v pts)"
same "the distribution's resolv.conf used" "nameserver 192.0.2.53" "$(cat "$R$VROOTDIR/dist/etc/resolv.conf")"

# --force moves the old trees aside, never deletes them
echo precious >"$R$VROOTDIR/foo/etc/precious"
run vsx foo build -m skeleton --force --context 42
check "--force: exit 0" test "$RC" = 0
moved_root=$(ls -d "$R$VROOTDIR"/foo.~*~ 2>/dev/null)
moved_cfg=$(ls -d "$R$CONFDIR"/foo.~*~ 2>/dev/null)
check "--force: old root moved aside with its files" test -f "$moved_root/etc/precious"
check "--force: old configuration moved aside" test -f "$moved_cfg/uts/nodename"
check "--force: new guest in place" test ! -e "$R$VROOTDIR/foo/etc/precious" -a -L "$R$CONFDIR/foo/vdir"
check "--force: says what it moved" grep -q "moved '.*foo' to '.*foo.~" "$T/err"

# .defaults/apps/build/options go before the command-line options
mkdir -p "$R$CONFDIR/.defaults/apps/build"
printf -- '--initstyle=minit\n--hostname\ndefault.example\n' >"$R$CONFDIR/.defaults/apps/build/options"
expect_ok "build with .defaults options" vsx withdefs build -m skeleton --hostname cli.example --context 53
same ".defaults options applied, command line wins" "minit cli.example" \
	"$(cat "$R$CONFDIR/withdefs/apps/init/style") $(cat "$R$CONFDIR/withdefs/uts/nodename")"
expect_ok "NO_DEFAULT_OPTS skips them" env NO_DEFAULT_OPTS=1 "$VS" --sysroot "$R" \
	--plugindir "$MODS" --datadir "$srcdir/conf.d" nodefs build -m skeleton --context 54
check "NO_DEFAULT_OPTS: no init style" test ! -e "$R$CONFDIR/nodefs/apps/init/style"
rm "$R$CONFDIR/.defaults/apps/build/options"

# the sysroot stays closed: an absolute vdirbase link is taken inside it
esc=/tmp/vs-escape-$$
mkdir -p "$R$esc"
ln -s "$esc" "$R$CONFDIR/.defaults/vdirbase"
expect_ok "build with a vdirbase link" vsx inside build -m skeleton --context 55
check "vdirbase resolved inside the sysroot" test -d "$R$esc/inside/dev"
check "nothing created on the real host" test ! -e "$esc"
rm "$R$CONFDIR/.defaults/vdirbase"

# VS_SYSROOT works like --sysroot
run env VS_SYSROOT="$R" "$VS" --plugindir "$MODS" --datadir "$srcdir/conf.d" list
check "VS_SYSROOT: lists the sysroot's guests" grep -q '^foo  *42  *stopped' "$T/out"

# list, plugins, help, version
run vsx list --json
check "list --json names a guest" grep -q '"name": "foo", "display_name": "foo", "context": 42, "state": "stopped", "root": "'"$VROOTDIR"'/foo"' "$T/out"
run vsx plugins
check "plugins shows the skeleton builder" grep -q "^build  *skeleton  *1.1  *1.2  *$MODS/skeleton.so$" "$T/out"
expect_ok "help" vsx help
expect_ok "help build" vsx help build
check "help build lists the skeleton method" grep -q '^  skeleton' "$T/out"
expect_ok "build -h" vsx build -h
check "build -h prints usage" grep -q '^usage: vs <guest> build' "$T/out"
expect_ok "guest build -h" vsx foo build -h
expect_ok "list -h" vsx list -h
expect_ok "--version" vsx --version
check "--version names the ABI" grep -q '^vs .* (plugin ABI 1.2)$' "$T/out"

# a read-only source file (a dist tarball's tree under make distcheck) is
# copied writable by the guest's root
mkdir -p "$R$CONFDIR/.defaults/files"
printf '127.0.0.1 ro\n' >"$R$CONFDIR/.defaults/files/hosts"
chmod 444 "$R$CONFDIR/.defaults/files/hosts"
expect_ok "build a guest from a read-only hosts file" vsx rofiles build -m skeleton
same "its /etc/hosts: the file's mode, writable by root" "644|127.0.0.1 ro" \
	"$(stat -c %a "$(rootof rofiles)/etc/hosts")|$(cat "$(rootof rofiles)/etc/hosts")"

finish
