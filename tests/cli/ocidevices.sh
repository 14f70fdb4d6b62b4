#!/bin/bash
# vs oci's linux.resources.devices, tried as an attack: with the v1
# devices controller where the host has one, else (pure cgroup2, as in
# the VM of purev2.sh) with the eBPF program vs attaches to the
# container's group.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
. "$srcdir/tests/cli/ocilib.sh"
B=$T/b1
if grep -qw devices /proc/cgroups && awk '$3 == "cgroup" && $4 ~ /(^|,)devices(,|$)/' /proc/mounts | grep -q .; then
	echo "# through the v1 devices controller"
else
	echo "# through an eBPF program on the container's cgroup2 group"
fi

# ---- linux.resources.devices, tried as an attack ----------------------
# a container with CAP_MKNOD makes the node of the disk that holds a
# host file (a loop-mounted image here) and reads the file's block:
# the spec's rules (all denied but what it lists) must stop it
if truncate -s 32M "$T/disk.img" && mkfs.ext4 -q -F -b 4096 "$T/disk.img" 2>/dev/null &&
	mkdir -p "$T/disk" && mount -o loop "$T/disk.img" "$T/disk" 2>/dev/null; then
	echo "vs-host-secret-$$" >"$T/disk/marker"
	BLK=$(extent "$T/disk/marker")
	BLK=${BLK%%.*}
	DEVNO=$(python3 -c "import os,sys; d=os.stat(sys.argv[1]).st_dev; print(os.major(d), os.minor(d))" "$T/disk/marker")
	attack="busybox mknod /dev/disk b $DEVNO 2>/dev/null || echo mknod refused; busybox dd if=/dev/disk bs=4096 skip=$BLK count=1 2>/dev/null | grep -c vs-host-secret"
	caps="for k in ('bounding', 'effective', 'permitted'): c['process']['capabilities'][k].append('CAP_MKNOD')"
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', '$attack']
$caps"
	run oci run -b "$B" dv1
	same "devices: the spec's rules stop a container making and reading the host's disk" "mknod refused
0" "$OUT"
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', '$attack']
$caps
c['linux']['resources'] = {'devices': [{'allow': False, 'access': 'rwm'}, {'allow': True, 'type': 'b', 'access': 'm'}]}"
	run oci run -b "$B" dv2
	same "devices: a rule allowing mknod (only) of block devices: made, not read" "0" "$OUT"
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', '$attack']
$caps
del c['linux']['resources']"
	run oci run -b "$B" dv3
	same "devices: a spec without rules gets the same (nothing but the usual devices)" "mknod refused
0" "$OUT"
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', '$attack']
$caps
c['linux']['resources'] = {'devices': [{'allow': True, 'access': 'rwm'}]}"
	run oci run -b "$B" dv4
	same "devices: a rule allowing all (--privileged) lets the same attack read the disk (the checks above are real)" "1" "$OUT"
	umount "$T/disk"
else
	skip "devices: cannot mount a loop ext4 image (no loop device?)"
fi
same "nothing left of dv1-dv4" "" "$(left dv1; left dv2; left dv3; left dv4)"
finish
