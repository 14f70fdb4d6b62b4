#!/bin/bash
# vs delete: asks unless --yes/--silent, removes root, configuration,
# cache and run targets; refuses what is not a guest's own; never follows
# symlinks out of the root or crosses into mounts.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

mk() { vsx "$1" build -m skeleton >/dev/null 2>&1 || fail "setup $1"; }
mk foo
mkdir -p "$R$CACHEDIR/foo" "$R$RUNDIR"
echo cached >"$R$CACHEDIR/foo/data"
echo state >"$R$RUNDIR/foo"

expect_error "answer no: nothing deleted" 1 "delete: not confirmed; nothing deleted" \
	sh -c 'echo n | "$@"' _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" foo delete
expect_error "no answer (EOF): nothing deleted" 1 "not confirmed" \
	sh -c '"$@" </dev/null' _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" foo delete
run sh -c 'echo y | "$@"' _ "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" delete foo
check "answer y: deleted" test "$RC" = 0
check "root removed" test ! -e "$R$VROOTDIR/foo"
check "configuration removed" test ! -e "$R$CONFDIR/foo"
check "cache target removed" test ! -e "$R$CACHEDIR/foo"
check "run target removed" test ! -e "$R$RUNDIR/foo"
check "the roots' directory stays" test -d "$R$VROOTDIR"

# --yes and --silent; a symlink in the root is removed, not followed
mk bar
mkdir -p "$R/outside" && echo keep >"$R/outside/file"
ln -s /outside "$R$VROOTDIR/bar/etc/link"
ln -s "$R/outside/file" "$R$VROOTDIR/bar/etc/reallink"
expect_ok "delete --yes" vsx bar delete --yes
check "symlink targets survive" test -f "$R/outside/file"
mk baz
expect_ok "delete --silent" vsx delete baz --silent
check "--silent deleted" test ! -e "$R$CONFDIR/baz"

# a mount inside a root is never crossed
mk mnt
mkdir -p "$R$VROOTDIR/mnt/srv/m"
if mount -t tmpfs vs-test "$R$VROOTDIR/mnt/srv/m" 2>/dev/null; then
	echo inside >"$R$VROOTDIR/mnt/srv/m/file"
	run vsx mnt delete --yes
	check "mount point: delete fails" test "$RC" = 1
	same "mount point: one line naming it" \
		"vs: cannot delete '$R$VROOTDIR/mnt': '$R$VROOTDIR/mnt/srv/m' is a mount point" "$ERR"
	check "mount point: files inside kept" test -f "$R$VROOTDIR/mnt/srv/m/file"
	check "mount point: nothing of the root deleted" test -f "$R$VROOTDIR/mnt/etc/hosts"
	check "mount point: configuration kept" test -L "$R$CONFDIR/mnt/vdir"
	umount "$R$VROOTDIR/mnt/srv/m"
else
	skip "mount point case: cannot mount tmpfs here"
fi

# a vdir pointing at / or at vs's own directories is refused
mk evil
rm "$R$CONFDIR/evil/vdir"
ln -s / "$R$CONFDIR/evil/vdir"
expect_error "vdir -> / refused" 1 "refusing to delete '$R/': it is not a guest's own directory" vsx evil delete --yes
rm "$R$CONFDIR/evil/vdir"
ln -s "$VROOTDIR" "$R$CONFDIR/evil/vdir"
expect_error "vdir -> the roots' directory refused" 1 "refusing to delete '$R$VROOTDIR'" vsx evil delete --yes
rm "$R$CONFDIR/evil/vdir"
ln -s "$VROOTDIR/evil" "$R$CONFDIR/evil/vdir"
rm "$R$CONFDIR/evil/cache"
ln -s "$(dirname "$CONFDIR")" "$R$CONFDIR/evil/cache"
expect_error "cache -> a parent of the configuration refused" 1 "refusing to delete" vsx evil delete --yes

# a guest whose root is already gone can still be deleted
mk gone
rm -rf "$R$VROOTDIR/gone"
run vsx list
check "list shows a missing root" grep -q '^gone .* no-root  *-$' "$T/out"
expect_ok "delete a guest without root" vsx gone delete --yes
check "configuration of the rootless guest removed" test ! -e "$R$CONFDIR/gone"

finish
