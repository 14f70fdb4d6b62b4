#!/bin/bash
# util-vserver's disk limits as project quotas, on loop-mounted XFS
# (pquota) and ext4 (prjquota): a write past the guest's space limit
# fails inside the running guest (EDQUOT on ext4, ENOSPC on XFS), the
# inode limit holds, vdlimit and vdu report them; a guest symlink out of
# its root never gets a host file into the project; what cannot be
# applied is a warning.  This host's kernel has no quotas:
# tests/cli/purev2.sh runs this program again in a VM whose kernel has.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
mkdir -p "$T/bin"
for n in vdlimit vdu; do ln -s "$top_builddir/.libs/vs" "$T/bin/$n"; done
u() {
	local n=$1
	shift
	env VS_SYSROOT="$R" VS_PLUGINDIR="$MODS" VS_DATADIR="$srcdir/conf.d" \
		LD_LIBRARY_PATH="$top_builddir/.libs" "$T/bin/$n" "$@"
}

# mkfs_quota KIND DIR: a loop image of that kind with project quotas on;
# WHY says why not
mkfs_quota() {
	WHY=
	truncate -s 300M "$T/$1.img" && mkdir -p "$2" || { WHY="cannot make an image"; return 1; }
	case $1 in
	xfs) command -v mkfs.xfs >/dev/null && mkfs.xfs -q -f "$T/xfs.img" ||
		{ WHY="no mkfs.xfs (Debian package xfsprogs)"; return 1; }
		opt=pquota ;;
	ext4) mkfs.ext4 -q -F -O quota,project "$T/ext4.img" >/dev/null 2>&1 ||
		{ WHY="mkfs.ext4 -O quota,project failed"; return 1; }
		opt=prjquota ;;
	esac
	mount -o "loop,$opt" "$T/$1.img" "$2" 2>/dev/null && return 0
	# a plain image of the same kind tells a kernel without quotas from a
	# machine without loop devices
	truncate -s 300M "$T/plain.img"
	if { [ "$1" = xfs ] && mkfs.xfs -q -f "$T/plain.img"; } ||
		{ [ "$1" = ext4 ] && mkfs.ext4 -q -F "$T/plain.img" >/dev/null 2>&1; }; then
		if mount -o loop "$T/plain.img" "$2" 2>/dev/null; then
			umount "$2"
			WHY="this kernel has no quota support (a $1 image with project quotas is refused: CONFIG_QUOTA, CONFIG_QFMT_V2, CONFIG_XFS_QUOTA)"
		else
			WHY="cannot mount a loop $1 image (no loop device?)"
		fi
	fi
	rm -f "$T/plain.img"
	return 1
}

# quota_guest KIND CONTEXT: a guest on that file system with dlimits/
quota_guest() {
	kind=$1 ctx=$2 gname=q$1
	mkguest "$gname" --context "$ctx" --rootdir "/$kind" || return 1
	mkdir -p "$R$CONFDIR/$gname/dlimits/root"
	D=$R$CONFDIR/$gname/dlimits/root
	echo "/$kind/$gname" >"$D/directory"
	echo 4000 >"$D/space_total"
	echo 500 >"$D/inodes_total"
	echo 0 >"$D/reserved"
	# a host file on the same file system, and a guest link to it
	echo host >"$R/$kind/hostfile"
	ln -s ../../hostfile "$R/$kind/$gname/root/hostlink"
	echo data >"$R/$kind/$gname/root/guestfile"
}

# one_fs KIND CONTEXT
one_fs() {
	kind=$1 ctx=$2 gname=q$1
	if ! mkfs_quota "$kind" "$R/$kind"; then
		skip "$kind: $WHY"
		return
	fi
	quota_guest "$kind" "$ctx" || return
	expect_ok "$kind: start a guest with dlimits/" vsx "$gname" start
	run vsx "$gname" exec dd if=/dev/zero of=/root/fits bs=1k count=1000
	same "$kind: a file below the limit is written" 0 "$RC"
	run vsx "$gname" exec dd if=/dev/zero of=/root/big bs=1k count=6000
	# XFS reports a project quota's hard limit as ENOSPC (the directory
	# tree is a file system of that size to its users), ext4 as EDQUOT
	want="Disk quota exceeded"
	[ "$kind" = xfs ] && want="No space left on device"
	check "$kind: a write past space_total fails inside the guest with '$want' ($ERR)" \
		err_has nz "$want"
	run vsx "$gname" exec sh -c 'rm -f /root/big; i=0; while [ $i -lt 600 ]; do : >/root/f$i || exit 1; i=$((i+1)); done'
	check "$kind: making more than inodes_total files fails" [ "$RC" != 0 ]
	vsx "$gname" exec sh -c 'rm -f /root/f*' >/dev/null 2>&1
	run u vdlimit --xid "$ctx" "/$kind/$gname"
	check "$kind: vdlimit shows the limits and the use ($(echo $OUT))" \
		sh -c "printf '%s\n' '$OUT' | grep -qx 'space_total=4000' &&
			printf '%s\n' '$OUT' | grep -qx 'inodes_total=500' &&
			printf '%s\n' '$OUT' | grep -Eqx 'space_used=(9[0-9][0-9]|1[0-9]{3})' &&
			printf '%s\n' '$OUT' | head -n 1 | grep -qx '$ctx /$kind/$gname'"
	expect_ok "$kind: vdlimit --set space_total=8000" u vdlimit --xid "$ctx" --set space_total=8000 "/$kind/$gname"
	run vsx "$gname" exec dd if=/dev/zero of=/root/big bs=1k count=6000
	same "$kind: the raised limit lets the write through" 0 "$RC"
	same "$kind: the host file a guest symlink points to stays out of the project" \
		"0" "$(lsattr -p "$R/$kind/hostfile" 2>/dev/null | awk '{ print $1 }')"
	expect_ok "$kind: stop" vsx "$gname" stop
	expect_ok "$kind: vdlimit --remove" u vdlimit --xid "$ctx" --remove "/$kind/$gname"
	run u vdlimit --xid "$ctx" "/$kind/$gname"
	check "$kind: no limit after --remove" sh -c "printf '%s\n' '$OUT' | grep -qx 'space_total=-1'"
}
one_fs xfs 401
one_fs ext4 402

# ---- project ids without quotas (XFS always has them) ------------------------
if [ -n "$WHY" ] && command -v mkfs.xfs >/dev/null && mkdir -p "$R/pxfs" &&
	truncate -s 300M "$T/pxfs.img" && mkfs.xfs -q -f "$T/pxfs.img" &&
	mount -o loop "$T/pxfs.img" "$R/pxfs" 2>/dev/null; then
	quota_guest pxfs 403
	run vsx qpxfs start
	check "XFS without quotas: the start warns and goes on ($ERR)" \
		err_has 0 "is on a file system without project quotas"
	same "the guest's files get its context as project id" "403 403 403" \
		"$(lsattr -pd "$R/pxfs/qpxfs" "$R/pxfs/qpxfs/root" "$R/pxfs/qpxfs/root/guestfile" | awk '{ print $1 }' | tr '\n' ' ' | sed 's/ $//')"
	same "the host file a guest symlink points to stays out of the project" \
		"0" "$(lsattr -p "$R/pxfs/hostfile" | awk '{ print $1 }')"
	run vsx qpxfs exec sh -c 'echo new >/root/made-later'
	same "a file the guest makes later inherits the project" "403" \
		"$(lsattr -p "$R/pxfs/qpxfs/root/made-later" | awk '{ print $1 }')"
	run u vdu --xid 403 --space --inodes --script /pxfs/qpxfs
	want_inodes=$(find "$R/pxfs/qpxfs" -xdev \( -type f -o -type d \) | wc -l)
	check "vdu counts the project's files and directories ($OUT, $want_inodes inodes)" \
		sh -c "set -- $OUT; [ \$2 = $want_inodes ] && [ \$1 -gt 0 ]"
	run u vdu --xid 403 --inodes /pxfs/qpxfs
	same "vdu without --script names the directory" "/pxfs/qpxfs $want_inodes" "$OUT"
	expect_error "vdlimit where there are no quotas" 1 "dlimit: no project quota on '/pxfs/qpxfs'" \
		u vdlimit --xid 403 /pxfs/qpxfs
	expect_ok "stop it" vsx qpxfs stop
	umount "$R/pxfs"
else
	skip "project ids: no loop XFS image here"
fi
# ---- what cannot be applied: warnings; bad values: refused ---------------------
# (in the VM of purev2.sh only the quotas are new: this part ran on the host)
if [ -n "${VS_IN_VM:-}" ]; then
	skip "warnings and bad values: in the VM (they ran on the host)"
else
	mkguest g1 --context 101 || exit 99
	expect_error "vdu without --space or --inodes" 2 "du: --space or --inodes is needed" u vdu --xid 101 /
	expect_error "vdlimit with an unknown limit" 2 "dlimit: unknown limit 'bogus'" u vdlimit --xid 101 --set bogus=1 /
	D=$R$CONFDIR/g1/dlimits/root
	mkdir -p "$D"
	echo "$VROOTDIR/g1" >"$D/directory"
	echo 1000 >"$D/space_total"
	echo 100 >"$D/inodes_total"
	echo 0 >"$D/reserved"
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	check "a guest root on a file system without project ids or quotas (the test's /tmp): a warning, and it starts ($ERR)" \
		err_has 0 "dlimits/root ignored: \(cannot give '$VROOTDIR/g1' the project 101\|'$VROOTDIR/g1' is on a file system without project quotas\)"
	echo /srv >"$D/directory"
	mkdir -p "$R/srv"
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	check "a directory outside the guest's root is not touched (a warning)" \
		err_has 0 "its directory '/srv' is not the guest's root or below it"
	echo "$VROOTDIR/g1" >"$D/directory"
	echo 7 >"$D/reserved"
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	check "reserved is named as not applied" sh -c "printf '%s' \"\$1\" | grep -q 'dlimits/root/reserved ignored'" _ "$ERR"
	rm "$D/inodes_total"
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	check "an incomplete dlimits entry is named" sh -c "printf '%s' \"\$1\" | grep -q 'it needs directory, space_total and inodes_total'" _ "$ERR"
	echo lots >"$D/inodes_total"
	expect_error "a bad inodes_total is refused" 1 "inodes_total 'lots'" vsx g1 start
	rm -r "$R$CONFDIR/g1/dlimits"
	rm -f "$R$CONFDIR/g1/context"
	mkdir -p "$D" && echo "$VROOTDIR/g1" >"$D/directory"
	run vsx g1 start
	vsx g1 stop >/dev/null 2>&1
	check "dlimits without a static context are named" sh -c "printf '%s' \"\$1\" | grep -q 'disk limits need a static context'" _ "$ERR"
fi
finish
