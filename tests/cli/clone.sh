#!/bin/bash
# vs <guest> clone <new>: every byte, owner, mode, nanosecond time,
# xattr, file capability, file flag, hard link, hole, device and hostile
# name of the root kept; the configuration copied but for what makes the
# guest itself (name, context, addresses, uuid); files a unification
# shares stay shared; reflinks on XFS; the source must be stopped; bad
# input changes nothing.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkguest g1 --context 101 --interface nodev:10.9.9.1/32 || exit 99
V=$(rootof g1)
C1=$R$CONFDIR/g1
rich_tree "$V"
echo SETPCAP >"$C1/bcapabilities"
echo 0123456789abcdef0123456789abcdef >"$C1/uuid"

before=$(tree_listing "$V")
expect_ok "vs g1 clone g2" vsx g1 clone g2 --context 102 --hostname g2.example
V2=$(rootof g2)
C2=$R$CONFDIR/g2
same "the clone's root is the source's: every byte, owner, mode, time, xattr, flag" \
	"$(tree_listing "$V")" "$(tree_listing "$V2")"
same "the source is unchanged" "$before" "$(tree_listing "$V")"
check "hard links inside the guest are hard links in the clone" \
	[ "$(stat -c %i "$V2/data/a")" = "$(stat -c %i "$V2/data/sub dir/a-link")" ]
check "and not the source's inode" [ "$(stat -c %i "$V2/data/a")" != "$(stat -c %i "$V/data/a")" ]
check "holes stay holes ($(du -k "$V2/data/sparse" | cut -f1) KiB for 10 MiB)" [ "$(du -k "$V2/data/sparse" | cut -f1)" -lt 100 ]
if command -v getcap >/dev/null; then
	same "the file capability is kept" "cap_net_raw=ep" "$(getcap "$V2/data/capable" | awk '{ print $2 }')"
fi
same "a guest's symlink to a host file is copied as a symlink" "/etc/passwd" "$(readlink "$V2/data/abslink")"
same "the clone's name and context are its own" "g2 102" "$(cat "$C2/name") $(cat "$C2/context")"
same "its root link is its own" "$VROOTDIR/g2" "$(readlink "$C2/vdir")"
check "no addresses unless told (the source had one)" [ -z "$(ls -A "$C2/interfaces")" ]
check "no uuid of the source's" [ ! -e "$C2/uuid" ]
same "the rest of the configuration comes along (bcapabilities)" "SETPCAP" "$(cat "$C2/bcapabilities")"
same "--hostname: its node name" "g2.example" "$(cat "$C2/uts/nodename")"
same "the source's configuration is unchanged" "g1 101 10.9.9.1" \
	"$(cat "$C1/name") $(cat "$C1/context") $(cat "$C1/interfaces/0/ip")"
expect_ok "the clone starts" vsx g2 start
same "and runs the copied tree" "guest g1" "$(vsx g2 exec cat /etc/guest-marker)"
expect_ok "stop it" vsx g2 stop

# ---- --interface; dlimits follow the root ------------------------------------
mkdir -p "$C1/dlimits/root"
echo "$VROOTDIR/g1" >"$C1/dlimits/root/directory"
expect_ok "vs g1 clone g3 --interface" vsx g1 clone g3 --context 103 --interface nodev:10.9.9.3/32
same "--interface: the clone's own address" "10.9.9.3" "$(cat "$R$CONFDIR/g3/interfaces/0/ip")"
same "dlimits/<x>/directory names the clone's root" "$VROOTDIR/g3" "$(cat "$R$CONFDIR/g3/dlimits/root/directory")"
rm -r "$C1/dlimits"

# ---- a tree with /run: its fstab's tmpfs line once -------------------------------
mkdir -p "$(rootof g3)/run"
expect_ok "vs g3 clone g8 (a tree with /run)" vsx g3 clone g8 --context 108
same "the clone's fstab mounts a fresh /run" 1 "$(grep -c '[[:space:]]/run[[:space:]]' "$R$CONFDIR/g8/fstab")"
expect_ok "vs g8 clone g9 (its fstab has that line already)" vsx g8 clone g9 --context 109
same "a clone of it has the line once" 1 "$(grep -c '[[:space:]]/run[[:space:]]' "$R$CONFDIR/g9/fstab")"

# ---- files a unification shares stay shared -----------------------------------------
mkdir -p "$R/ref/data"
cp -a "$V/data/random" "$V/data/shared" 2>/dev/null || true
chattr -a "$V/data/shared" 2>/dev/null
head -c 50000 /dev/urandom >"$V/data/shared"
cp -a "$V/data/shared" "$R/ref/data/shared"
expect_ok "unify g1's root against a reference (hard links)" vsx unify --manually --link=hardlink "$VROOTDIR/g1" '' /ref ''
check "g1's file is shared now (immutable, two links)" \
	sh -c "[ \"\$(stat -c %h '$V/data/shared')\" = 2 ] && lsattr '$V/data/shared' | cut -c1-16 | grep -q i"
expect_ok "vs g1 clone g4" vsx g1 clone g4 --context 104
check "the clone's file is the same shared inode" \
	[ "$(stat -c %i "$(rootof g4)/data/shared")" = "$(stat -c %i "$V/data/shared")" ]
check "still immutable, with one more link" \
	sh -c "[ \"\$(stat -c %h '$V/data/shared')\" = 3 ] && lsattr '$V/data/shared' | cut -c1-16 | grep -q i"

# ---- reflinks on XFS --------------------------------------------------------------
if xfs_mount 400M "$R/xfs"; then
	mkguest x1 --context 111 --rootdir /xfs || exit 99
	head -c 1000000 /dev/urandom >"$R/xfs/x1/data.bin"
	run vsx x1 clone x2 --context 112 --rootdir /xfs
	check "vs x1 clone x2 (XFS): its files reflinked, none copied ($OUT)" \
		sh -c "[ '$RC' = 0 ] && printf '%s' '$OUT' | grep -Eq ': [1-9][0-9]* files reflinked, 0 copied'"
	a=$(extent "$R/xfs/x1/data.bin")
	b=$(extent "$R/xfs/x2/data.bin")
	check "XFS: the clone's file shares the source's extents ($a, $b)" [ -n "$a" ] && [ "$a" = "$b" ]
	same "XFS: and its bytes" "$(md5sum <"$R/xfs/x1/data.bin")" "$(md5sum <"$R/xfs/x2/data.bin")"
	check "XFS: a reflinked file is its own inode" \
		[ "$(stat -c %i "$R/xfs/x1/data.bin")" != "$(stat -c %i "$R/xfs/x2/data.bin")" ]
	# an immutable file of two names, both in the guest: not a
	# unification's (nothing outside shares it), so the copy keeps +i
	echo pinned >"$V/data/pinned" && ln "$V/data/pinned" "$V/data/pinned-link" &&
		chattr +i "$V/data/pinned"
	expect_ok "vs g1 clone x3 onto XFS (its shared file cannot be linked there)" \
		vsx g1 clone x3 --context 113 --rootdir /xfs
	chattr -i "$V/data/pinned"
	rm "$V/data/pinned" "$V/data/pinned-link"
	check "an immutable file whose names are all in the guest stays immutable, one inode" \
		sh -c "lsattr '$R/xfs/x3/data/pinned' | cut -c1-16 | grep -q i &&
			[ \"\$(stat -c %i '$R/xfs/x3/data/pinned')\" = \"\$(stat -c %i '$R/xfs/x3/data/pinned-link')\" ]"
	same "the shared file is copied" "$(md5sum <"$V/data/shared")" "$(md5sum <"$R/xfs/x3/data/shared")"
	check "and private: writable again (not immutable)" \
		sh -c "! lsattr '$R/xfs/x3/data/shared' | cut -c1-16 | grep -q i"
	if lsattr "$V/data/random" | cut -c1-16 | grep -q a; then
		check "an append-only file stays append-only on the other file system" \
			sh -c "lsattr '$R/xfs/x3/data/random' | cut -c1-16 | grep -q a"
	fi
	check "the source's stays shared and immutable" \
		sh -c "lsattr '$V/data/shared' | cut -c1-16 | grep -q i"
else
	skip "XFS reflinks: $XFS_WHY"
fi

# ---- refusals: one line, nothing changed ------------------------------------------------
expect_ok "start g1" vsx g1 start
expect_error "a running source is refused" 1 "clone: guest 'g1' is running: stop it first" vsx g1 clone g5
expect_ok "stop g1" vsx g1 stop
expect_error "an existing target is refused" 1 "g2" vsx g1 clone g2
expect_error "a bad target name is refused" 1 "invalid guest name" vsx g1 clone 'bad/name'
expect_error "no target" 2 "clone: usage: vs <guest> clone <new>" vsx g1 clone
expect_error "-m is not a clone option" 2 "clone: '-m' is not a clone option" vsx g1 clone g6 -m skeleton
expect_error "a source that does not exist" 5 "no guest 'nosuch'" vsx nosuch clone g7

finish
