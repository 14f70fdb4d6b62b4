#!/bin/bash
# Sharing leaves no trace on directories: after unify, deunify, hashify,
# unhashify, gc and the delete of a guest with shared files, every
# directory of every guest has the mtime (to the nanosecond), mode,
# owner, extended attributes and flags it had before.  Two guests built
# by debootstrap (one built, the other a copy with a few files changed),
# on ext4 (hardlink) and on a loop XFS (reflink).
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

cached_tarball bookworm-minbase
if ! tarball_ok || ! command -v debootstrap >/dev/null; then
	skip "directory times: no cached tarball and the Debian mirror is unreachable ($(tail -n 1 "$T/mk.log" 2>/dev/null))"
	finish
	exit
fi
run mkmirror "$CACHE" "$T/mirror"
run unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" \
	d1 build -m debootstrap -- -d bookworm -m "$T/mirror" -- --variant=minbase
check "a debootstrap guest (offline, from the cached packages)" test "$RC" = 0
rm -rf "$T/mirror"

# copy NAME ROOTDIR: a guest whose root is a copy of d1's (times kept to
# the nanosecond, no extents shared), a few of its files its own
copy() {
	vsx "$1" build -m skeleton --rootdir "$2" -- sh -c \
		"cp -a --reflink=never '$(rootof d1)/.' \"\$VDIR/\" && echo '$1' >\"\$VDIR/etc/hostname\" &&
		 echo '# $1' >>\"\$VDIR/etc/bash.bashrc\" && touch -r '$(rootof d1)/etc' \"\$VDIR/etc\"" >"$T/copy.log" 2>&1 ||
		{ cat "$T/copy.log"; return 1; }
}
# dirs ROOT...: every directory: path, type, mode, owner, mtime in ns,
# flags, extended attributes
dirs() {
	for r in "$@"; do
		(cd "$r" && find . -path ./dev -prune -o -type d -printf '%p|%m|%U|%G|%T@\n' | LC_ALL=C sort &&
			find . -path ./dev -prune -o -type d -exec lsattr -d {} + 2>/dev/null | LC_ALL=C sort &&
			find . -path ./dev -prune -o -type d -exec getfattr -h -d -m - -e hex {} + 2>/dev/null | grep -v '^$' | LC_ALL=C sort)
	done
}
# files ROOT...: every file but the directories: path, type, mode, owner,
# size, link count, mtime in ns, flags (no inode: a private copy is new)
files() {
	for r in "$@"; do
		(cd "$r" && find . -path ./dev -prune -o ! -type d -printf '%p|%y|%m|%U|%G|%s|%n|%T@\n' | LC_ALL=C sort &&
			find . -path ./dev -prune -o -type f -exec lsattr {} + 2>/dev/null | LC_ALL=C sort)
	done
}
# untouched WHAT ROOT...: the directories are as they were before WHAT
untouched() {
	what=$1
	shift
	now=$(dirs "$@")
	same "$what: every directory as it was" "$D0" "$now"
	D0=$now
}
shares() { # shares A B FILE: one inode, or (reflink) the same first extent
	[ "$(stat -c %i "$1/$3")" = "$(stat -c %i "$2/$3")" ] ||
		{ [ -n "$(extent "$1/$3")" ] && [ "$(extent "$1/$3")" = "$(extent "$2/$3")" ]; }
}

# every sharing verb on two guests of ROOTDIR, link strategy STRATEGY
verbs() {
	rd=$1 s=$2 a=$R$1/$3 b=$R$1/$4
	D0=$(dirs "$a" "$b")
	F0=$(files "$a" "$b")
	mkdir -p "$R$CONFDIR/$3/apps/vunify" "$R$CONFDIR/$4/apps/vunify"
	# a Debian tree has files of several names (perl, gzip's): unify
	# leaves them, and says so
	run vsx unify --manually "$rd/$4" '' "$rd/$3" ''
	same "$s: unify $4 against $3 (files of several names left, nothing else)" \
		"0|" "$RC|$(grep -v -e "the reference's file has other hard links" "$T/err")"
	check "$s: ... /usr/bin/dpkg is shared" shares "$a" "$b" usr/bin/dpkg
	untouched "$s: unify" "$a" "$b"
	expect_ok "$s: deunify" vsx "$4" deunify
	untouched "$s: deunify" "$a" "$b"
	same "$s: unify, then deunify: every file as it was (link counts, flags: none left immutable)" "$F0" "$(files "$a" "$b")"
	F2=$(files "$b")
	mkdir -p "$R$rd/hd" "$R$rd/store"
	ln -sfn "$rd/store" "$R$rd/hd/0"
	expect_ok "$s: hashify both" vsx hashify --manually --destination "$rd/hd" "$rd/$3" '' "$rd/$4" ''
	check "$s: ... /usr/bin/dpkg is shared" shares "$a" "$b" usr/bin/dpkg
	untouched "$s: hashify" "$a" "$b"
	expect_ok "$s: unhashify $4" vsx "$4" unhashify
	untouched "$s: unhashify" "$a" "$b"
	# (but for their link count: names of one inode in $4, shared
	# with the store, become one private copy each)
	nl() { sed -E 's/^([^|]*\|f\|[^|]*\|[^|]*\|[^|]*\|[^|]*\|)[0-9]+\|/\1n|/'; }
	same "$s: hashify, then unhashify: $4's files as they were (link counts aside)" "$(nl <<<"$F2")" "$(files "$b" | nl)"
	expect_ok "$s: gc" vsx hashify --gc "$rd/hd"
	untouched "$s: gc" "$a" "$b"
	expect_ok "$s: hashify $4 again" vsx hashify --manually --destination "$rd/hd" "$rd/$4" ''
	D0=$(dirs "$a")
	expect_ok "$s: delete $4 (its files shared with the store and $3)" vsx "$4" delete --yes
	untouched "$s: delete of $4, for $3" "$a"
}

copy d2 "$VROOTDIR" || exit 99
verbs "$VROOTDIR" hardlink d1 d2

if ! xfs_mount 2G "$R/xfs"; then
	skip "directory times with reflinks: $XFS_WHY"
else
	copy x1 /xfs || exit 99
	copy x2 /xfs || exit 99
	verbs /xfs reflink x1 x2
	umount "$R/xfs"
fi

finish
