#!/bin/bash
# What this host cannot show (its cgroups are hybrid, its kernel has no
# quotas): the test programs that need a pure cgroup2 host with project
# quotas run inside a virtual machine of Debian's own kernel (qemu, the
# host's root read-only under a tmpfs overlay, every controller on
# /sys/fs/cgroup).  The kernel package is fetched once from the Debian
# archive into /var/tmp/vs-test-cache/kernel; each program's checks are
# printed here with a "vm: " prefix and counted.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
VM_TESTS=${VM_TESTS:-tests/cli/v2host.sh tests/cli/dlimits.sh tests/cli/ocidevices.sh tests/cli/ocicgroup.sh}
. "$srcdir/tests/fixtures/vm/vm.sh"

why=$(vm_why)
if [ -n "$why" ]; then
	skip "a pure cgroup2 host with quotas in a VM: $why"
	finish
	exit
fi
# a systemd guest, built here (debootstrap under emulation would take
# minutes) for v2host.sh to boot in the VM, where $T is seen through
# the overlay
VM_SYSROOT= VM_GUESTS=
QEMU_DISK=()
case " $VM_TESTS " in *" tests/cli/v2host.sh "*) guest=1 ;; *) guest= ;; esac
if [ -n "$guest" ] && [ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ]; then
	use_test_cgroups
	mkdir -p "$R/etc"
	echo "root:1000000:655360" >"$R/etc/subuid"
	echo "root:2000000:655360" >"$R/etc/subgid"
	# on a disk of its own: a user-namespace guest needs idmapped mounts,
	# which the VM's overlay root does not have
	mkdir -p "$R$VROOTDIR"
	truncate -s 2G "$T/guests.img" && mkfs.ext4 -q -F "$T/guests.img" &&
		mount -o loop "$T/guests.img" "$R$VROOTDIR" || { fail "an ext4 image for the guests"; finish; exit; }
	debian_guest sd systemd systemd-sysv,dbus,openssh-server,procps,iproute2
	touch "$R$CONFDIR/sd/spaces/net"
	umount "$R$VROOTDIR"
	VM_SYSROOT=$R
	VM_GUESTS=$R$VROOTDIR
	QEMU_DISK=(-drive "file=$T/guests.img,format=raw,if=virtio")
fi

O=$T/vmout
mkdir -p "$O"
for v in srcdir top_builddir VS VS_MODULES VS_FIXTURES VS_INSTALLED MAKE VM_TESTS VM_SYSROOT VM_GUESTS; do
	printf 'export %s=%q\n' "$v" "${!v:-}"
done >"$O/env"
vm_boot "$O" "${QEMU_DISK[@]}"
same "the VM ran and powered off" 0 "$?"
for t in $VM_TESTS; do
	n=$(basename "$t" .sh)
	sed 's/^/vm: /' "$O/$n.log" 2>/dev/null
	same "in the VM: $t passes" 0 "$(cat "$O/$n.rc" 2>/dev/null || echo "no status (console: $(tail -c 300 "$T/console.log" | tr -d '\r' | tail -n 3))")"
done
finish
