# Shared helpers for the CLI tests: a temporary sysroot, a module
# directory with the built plugins, assertions, and cleanup that runs
# even when a test fails.  Sourced by tests/cli/*.sh.
set -u
: "${VS:?run through make check}" "${srcdir:?}" "${VS_MODULES:?}"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: these tests build guests (mknod) and need root"
	exit 77
fi

T=$(mktemp -d /tmp/vs-cli.XXXXXX)
R=$T/root
MODS=$T/mods
mkdir -p "$R" "$MODS"
chmod 755 "$T" "$MODS"
# a test's make install relinks the modules in the build tree
# (initscripts.sh): never copy one while that runs.  A copy made while a
# linker rewrote its module is empty or cut short: said here, as an error
# of the harness, not by every check after it
MODLOCK=${top_builddir:?}/tests/modules.lock
if ! (
	flock -s 9
	for m in $VS_MODULES; do
		c=$MODS/${m##*/}
		install -m 0755 "$m" "$c" &&
			[ "$(head -c 4 "$c" | od -An -c | tr -d ' ')" = '177ELF' ] && cmp -s "$m" "$c" ||
			{ echo "ERROR: the copy of $m is not the module (relinked by a make install outside build_make?)"; exit 1; }
	done
) 9>>"$MODLOCK"; then
	rm -rf "$T"
	exit 99
fi
# build_make ARGS...: make in the build tree while no test copies modules
build_make() { flock "$MODLOCK" make -C "$top_builddir" "$@"; }

cleanup() {
	# guests still running: their monitors and inits
	for f in "$R$RUNDIR"/* "$T"/*/usr/local/var/run/vservers/*; do
		[ -f "$f" ] || continue
		for p in $(awk '$1 == "monitor" || $1 == "init" { print $2 }' "$f"); do
			kill -9 "$p" 2>/dev/null
		done
	done
	# the tests' cgroups (CGEXTRA: another top group a test made)
	for d in /sys/fs/cgroup/*/"$CGBASE" /sys/fs/cgroup/"$CGBASE" \
		${CGEXTRA:+/sys/fs/cgroup/*/$CGEXTRA /sys/fs/cgroup/$CGEXTRA}; do
		[ -d "$d" ] || continue
		# the guests' groups and those a guest made below its own
		find "$d" -mindepth 1 -name cgroup.procs -exec cat {} + 2>/dev/null |
			xargs -r kill -9 2>/dev/null
		sleep 0.05
		find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
		rmdir "$d" 2>/dev/null
	done
	# the cgroup2 root's controllers as they were (v2root_lock)
	v2root_restore
	# unmount anything a test mounted below $T, deepest first
	grep -o " $T[^ ]*" /proc/mounts 2>/dev/null | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	# loop devices of files below $T
	losetup -n -l -O NAME,BACK-FILE 2>/dev/null | while read -r dev file; do
		case $file in "$T"/*) losetup -d "$dev" ;; esac
	done
	chattr -R -i -a "$T" >/dev/null 2>&1 # unified files are immutable, some append-only
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

CGBASE=vs-test-$$
PASSES=0
FAILS=0
SKIPS=0
vsx() { "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "$@"; }
rootof() { printf '%s' "$R$VROOTDIR/$1"; }
# init_of G: the pid of G's init, from its run state
init_of() { awk '$1 == "init" { print $2 }' "$R$RUNDIR/$1" 2>/dev/null; }
path_of() { vsx paths | awk -v k="$1" '$1 == k { print $2 }'; }
CONFDIR=$(path_of confdir)
VROOTDIR=$(path_of vrootdir)
RUNDIR=$(path_of rundir)
CACHEDIR=$(path_of cachedir)
CONFFILE=$(path_of conffile)

# v2root_lock DIR / v2root_unlock: hold the cgroup2 root DIR (flock on
# the directory itself, fd 8) while a test changes and puts back its
# cgroup.subtree_control: tests run in parallel, from other trees too.
# The test's cleanup takes it again and puts back the root's controllers
# as they were the first time (a failed test may leave groups that keep
# one enabled until then).
v2root_lock() {
	[ -d "$1" ] || return 0
	exec 8<"$1" && flock 8
	[ -n "${V2ROOT:-}" ] && return 0
	V2ROOT=$1
	V2SUB=$(cat "$1/cgroup.subtree_control")
}
v2root_unlock() {
	flock -u 8 2>/dev/null
	exec 8<&-
}
# v2root_restore: at cleanup, the groups below gone
v2root_restore() {
	[ -n "${V2ROOT:-}" ] || return 0
	exec 8<"$V2ROOT" && flock 8
	for c in $(cat "$V2ROOT/cgroup.subtree_control"); do
		echo " $V2SUB " | grep -q " $c " || echo "-$c" >"$V2ROOT/cgroup.subtree_control" 2>/dev/null
	done
	v2root_unlock
}
# await SECS [!] CMD...: poll until CMD succeeds (with !, fails), at most
# SECS seconds; a readiness wait, generous because a loaded CI machine
# (the VM of purev2.sh beside) is slow, never a timing check
await() {
	_n=$(($1 * 20)); shift
	_neg=; [ "$1" = "!" ] && { _neg=1; shift; }
	while [ "$_n" -gt 0 ]; do
		if "$@" >/dev/null 2>&1; then [ -z "$_neg" ] && return 0
		else [ -n "$_neg" ] && return 0; fi
		sleep 0.05; _n=$((_n - 1))
	done
	return 1
}
pass() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
# skip WHY: a section this machine cannot run, counted and said
skip() { SKIPS=$((SKIPS + 1)); echo "# SKIP $1"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# A listing of everything under the sysroot: type, mode, owner, group,
# size, link count, inode, mtime to the nanosecond and link target of
# every entry, the digest of every file's content, every extended
# attribute (trusted.* and security.* included) and the file flags
# (immutable, append-only, ...).  Access and change times aside.
snapshot() { listing_of "$R" '%p|%y|%m|%U|%G|%s|%n|%i|%T@|%l\n'; }
# listing_of DIR FORMAT: find's FORMAT of every entry, then contents,
# xattrs and flags
listing_of() {
	(cd "$1" && find . -printf "$2" | LC_ALL=C sort &&
		find . -type f -exec md5sum {} + | LC_ALL=C sort &&
		getfattr -R -h -d -m - -e hex . 2>/dev/null |
		awk '/^# file: / { f = substr($0, 9); next } NF { print f "|" $0 }' | LC_ALL=C sort &&
		find . \( -type f -o -type d \) -exec lsattr -d {} + 2>/dev/null | LC_ALL=C sort)
}

# rich_tree DIR: what a faithful copy must keep: hard links, a hole, a
# FIFO, a device, owners by number, a set-uid mode, xattrs (user, trusted,
# on a symlink and a FIFO, a file capability), an append-only file, a
# symlink to a host file, names with a blank and a newline, nanosecond
# times of files and directories.
rich_tree() {
	mkdir -p "$1/data/sub dir" "$1/data/$(printf 'new\nline')"
	head -c 100000 /dev/urandom >"$1/data/random"
	printf 'x' >"$1/data/a"
	ln "$1/data/a" "$1/data/sub dir/a-link"
	truncate -s 10M "$1/data/sparse"
	echo tail >>"$1/data/sparse"
	mkfifo "$1/data/fifo"
	mknod "$1/data/null2" c 1 3
	chown 1234:5678 "$1/data/a"
	chmod 4755 "$1/data/a"
	setfattr -n user.test -v hello "$1/data/a"
	setfattr -n trusted.test -v secret "$1/data/random"
	if command -v setcap >/dev/null; then
		printf '#!/bin/sh\n' >"$1/data/capable"
		setcap cap_net_raw+ep "$1/data/capable"
	fi
	ln -s /etc/passwd "$1/data/abslink"
	setfattr -h -n trusted.link -v on-a-symlink "$1/data/abslink"
	setfattr -n trusted.fifo -v on-a-fifo "$1/data/fifo"
	touch -d '2001-02-03 04:05:06.123456789' "$1/data/random" "$1/data/sub dir"
	chattr +a "$1/data/random" 2>/dev/null
	return 0
}

# tree_listing DIR: snapshot's listing of one tree, without inode numbers
# (a copy's differ), file flags only where lsattr can read them.
tree_listing() { listing_of "$1" '%p|%y|%m|%U|%G|%s|%n|%T@|%l\n'; }

# run CMD...: sets OUT, ERR, RC
run() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# expect_error NAME STATUS TEXT CMD...: exits with STATUS (or any non-zero
# for "nz"), prints exactly one line on stderr containing TEXT, and
# changes nothing under the sysroot.
expect_error() {
	name=$1 want=$2 text=$3
	shift 3
	before=$(snapshot)
	run "$@"
	after=$(snapshot)
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	# an external tool's own diagnostics may come first: vs's line is last
	if [ -n "${TOOL_OUTPUT:-}" ]; then
		ERR=$(printf '%s\n' "$ERR" | tail -n 1)
		lines=1
	fi
	if [ "$want" = nz ] && [ "$RC" = 0 ]; then
		fail "$name" "exit status 0"
	elif [ "$want" != nz ] && [ "$RC" != "$want" ]; then
		fail "$name" "exit status $RC, wanted $want" "stderr: $ERR"
	elif [ "$lines" != 1 ]; then
		fail "$name" "stderr has $lines lines:" "$ERR"
	elif ! printf '%s' "$ERR" | grep -qF -- "$text"; then
		fail "$name" "stderr: $ERR" "wanted: $text"
	elif [ "$before" != "$after" ]; then
		fail "$name" "the disk changed:" \
			"$(diff <(echo "$before") <(echo "$after") | head -20)"
	else
		pass "$name"
	fi
}

# expect_ok NAME CMD...: exit 0 and nothing on stderr.
expect_ok() {
	name=$1
	shift
	run "$@"
	if [ "$RC" != 0 ]; then
		fail "$name" "exit status $RC" "stderr: $ERR"
	elif [ -n "$ERR" ]; then
		fail "$name" "stderr: $ERR"
	else
		pass "$name"
	fi
}

# check NAME CONDITION...: passes when the command succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# err_has STATUS TEXT: the last run exited with STATUS ("nz": any but 0)
# and its stderr contains TEXT (for check).
err_has() {
	if [ "$1" = nz ]; then [ "$RC" != 0 ]; else [ "$RC" = "$1" ]; fi &&
		printf '%s' "$ERR" | grep -q -- "$2"
}

# out_has GREP-ARGS...: a line of the last run's stdout matches (for check;
# the output is never pasted into a shell string, where a quote in a host
# process's command line would break it).
out_has() {
	printf '%s\n' "$OUT" | grep -q "$@"
}

# same NAME EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -40)"
	fi
}

# use_test_cgroups: a vs.conf that puts the guests' cgroups under a base
# of this test run's own.
use_test_cgroups() {
	mkdir -p "$(dirname "$R$CONFFILE")"
	printf 'cgroup_base = "%s"\n' "$CGBASE" >"$R$CONFFILE"
}

# mkguest NAME [build options]: a skeleton guest with a static busybox,
# style plain (busybox init), an inittab whose ctrl-alt-del powers off.
mkguest() {
	name=$1
	shift
	vsx "$name" build -m skeleton --initstyle plain "$@" -- sh -c '
		mkdir -p "$VDIR/bin" "$VDIR/sbin" "$VDIR/tmp" "$VDIR/mnt" "$VDIR/root"
		cp /bin/busybox "$VDIR/bin/busybox"
		for a in $(/bin/busybox --list); do
			[ "$a" = busybox ] || ln -s busybox "$VDIR/bin/$a"
		done
		ln -s ../bin/busybox "$VDIR/sbin/init"
		printf "::ctrlaltdel:/bin/busybox poweroff -f\n" >"$VDIR/etc/inittab"
		echo "guest $VSERVER_NAME" >"$VDIR/etc/guest-marker"' >"$T/mkguest.log" 2>&1 ||
		{ cat "$T/mkguest.log"; return 1; }
}

# cached_tarball NAME [debootstrap options]: sets CACHE to
# /var/tmp/vs-test-cache/NAME.tgz, a bookworm minbase tarball with those
# options made once from the Debian mirror (--make-tarball) when missing
# or corrupt; fails when there is none (no debootstrap, no mirror).
cached_tarball() {
	CACHE=/var/tmp/vs-test-cache/$1.tgz
	shift
	if ! tarball_ok && command -v debootstrap >/dev/null; then
		mkdir -p "$(dirname "$CACHE")"
		timeout 900 debootstrap --variant=minbase "$@" --make-tarball="$CACHE.$$" bookworm \
			"$T/mk" http://deb.debian.org/debian >"$T/mk.log" 2>&1 && mv "$CACHE.$$" "$CACHE"
		rm -rf "$T/mk" "$CACHE.$$"
	fi
	tarball_ok
}
# debian_guest G WHAT PACKAGES [EXCLUDED]: builds guest G (hostname
# G.example), offline, from the cached bookworm tarball with PACKAGES and
# without EXCLUDED (made once; WHAT names it, bookworm-WHAT); without one
# the rest of the file is skipped
debian_guest() {
	ex=()
	[ -n "${4:-}" ] && ex=("--exclude=$4")
	if ! cached_tarball "bookworm-$2" "--include=$3" "${ex[@]}"; then
		skip "the $2 guest: no cached tarball and the Debian mirror is unreachable ($(tail -n 1 "$T/mk.log" 2>/dev/null))"
		finish
		exit
	fi
	rm -rf "$T/mirror"
	mkmirror "$CACHE" "$T/mirror" || { fail "a local mirror of bookworm-$2"; return 1; }
	run unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" \
		"$1" build -m debootstrap --hostname "$1.example" -- -d bookworm -m "$T/mirror" -- \
		--variant=minbase "--include=$3" "${ex[@]}"
	check "a $2 guest builds offline from a local mirror of the cached packages (the Release signature checked)" \
		sh -c "[ $RC = 0 ] && grep -q '^I: Valid Release signature' '$T/out'"
}
# mkmirror TARBALL DIR: a local Debian mirror (signed Release, plain
# Packages) of the packages a --make-tarball holds; DIR/packages lists
# them, comma-separated
mkmirror() {
	m=$2
	mkdir -p "$m/x" "$m/dists/bookworm/main/binary-amd64" && tar xzf "$1" -C "$m/x" || return 1
	l=$m/x/var/lib/apt/lists
	for f in Release Release.gpg InRelease; do
		mv "$l"/*_dists_bookworm_"$f" "$m/dists/bookworm/$f" || return 1
	done
	mv "$l"/*_dists_bookworm_main_binary-*_Packages "$m/dists/bookworm/main/binary-amd64/Packages" || return 1
	awk 'NR == FNR { want[$1] = $2; next }
		/^Package: / { p = $2 } /^Filename: / && (p in want) { print want[p], $2 }' \
		"$m/x/debootstrap/debpaths" "$m/dists/bookworm/main/binary-amd64/Packages" |
		while read -r from to; do
			mkdir -p "$m/$(dirname "$to")" && mv "$m/x$from" "$m/$to" || exit 1
		done || return 1
	cut -d' ' -f1 "$m/x/debootstrap/debpaths" | paste -sd, >"$m/packages"
	rm -rf "$m/x"
}
# xfs_mount SIZE DIR: a loop-mounted XFS image of SIZE (reflink on) at
# DIR; false with XFS_WHY saying why not
xfs_mount() {
	XFS_WHY=
	if ! command -v mkfs.xfs >/dev/null; then
		XFS_WHY="mkfs.xfs is not installed (Debian package xfsprogs)"
	elif ! truncate -s "$1" "$T/xfs.img" || ! mkfs.xfs -q -f -m reflink=1 "$T/xfs.img" 2>/dev/null ||
		! mkdir -p "$2" || ! mount -o loop "$T/xfs.img" "$2" 2>/dev/null; then
		XFS_WHY="cannot mount a loop XFS image (no loop device?)"
	fi
	[ -z "$XFS_WHY" ]
}
# extent FILE: the physical start of FILE's first extent, after writing
# it out (a file not yet on disk has none: two would look shared);
# nothing when it has no known place
extent() {
	sync "$1" 2>/dev/null
	filefrag -v "$1" 2>/dev/null | awk '$1 == "0:" && !/unknown_loc|delalloc/ { print $4 }'
}
tarball_ok() { tar tzf "$CACHE" 2>/dev/null | grep -qx 'debootstrap/debpaths'; }

finish() {
	echo "$PASSES passed, $FAILS failed, $SKIPS sections skipped ($SECONDS s)"
	[ "$FAILS" = 0 ]
}
