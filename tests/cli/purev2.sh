#!/bin/bash
# What this host cannot show (its cgroups are hybrid, its kernel has no
# quotas): the test programs that need a pure cgroup2 host with project
# quotas run inside a virtual machine of Debian's own kernel (qemu, the
# host's root read-only under a tmpfs overlay, every controller on
# /sys/fs/cgroup).  The kernel package is fetched once from the Debian
# archive into /var/tmp/vs-test-cache/kernel; each program's checks are
# printed here with a "vm: " prefix and counted.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
VM_TESTS=${VM_TESTS:-tests/cli/v2host.sh tests/cli/dlimits.sh tests/cli/ocidevices.sh}
KC=/var/tmp/vs-test-cache/kernel

# vm_kernel: KDIR, the cached Debian kernel (boot/vmlinuz-*, lib/modules
# with its module index), fetched and unpacked once; false with WHY.
# bookworm-backports' kernel (6.12: cpuset.cpus.exclusive came in 6.7),
# through an apt state of the test's own: the host's apt sources and
# lists stay as they are.
vm_kernel() {
	WHY=
	KDIR=$KC/current
	[ -f "$KDIR/ready" ] && return 0
	a=$T/apt
	rm -rf "$T/k" "$a" && mkdir -p "$T/k" "$KC" "$a/state/lists/partial" "$a/cache/archives/partial" ||
		{ WHY="cannot make $KC"; return 1; }
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
		>"$a/sources.list"
	A=(-o "Dir::State=$a/state" -o "Dir::Cache=$a/cache" -o "Dir::Etc::SourceList=$a/sources.list"
		-o Dir::Etc::SourceParts=/dev/null -o APT::Sandbox::User=root)
	timeout 300 apt-get "${A[@]}" -q update >"$T/k.log" 2>&1 ||
		{ WHY="cannot reach bookworm-backports ($(tail -n 1 "$T/k.log"))"; return 1; }
	pkg=$(apt-cache "${A[@]}" depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || { WHY="bookworm-backports has no linux-image-amd64"; return 1; }
	(cd "$T/k" && timeout 600 apt-get "${A[@]}" -q download "$pkg") >"$T/k.log" 2>&1 &&
		dpkg-deb -x "$T/k/$pkg"_*.deb "$T/k/x" ||
		{ WHY="cannot fetch $pkg from the Debian archive ($(tail -n 1 "$T/k.log"))"; return 1; }
	ver=$(ls "$T/k/x/lib/modules")
	depmod -b "$T/k/x" "$ver" || { WHY="depmod failed (Debian package kmod)"; return 1; }
	rm -rf "$KC/current.$$" && mv "$T/k/x" "$KC/current.$$" && touch "$KC/current.$$/ready" &&
		rm -rf "$KDIR" && mv "$KC/current.$$" "$KDIR"
	rm -rf "$T/k" "$a"
}

# vm_initrd FILE: the initramfs (busybox, the modules that reach the
# host's root, tests/fixtures/vm/init) from the cached kernel
vm_initrd() {
	ver=$(ls "$KDIR/lib/modules")
	i=$T/initrd
	mkdir -p "$i/bin" "$i/mod"
	cp /bin/busybox "$i/bin/" && install -m 755 "$srcdir/tests/fixtures/vm/init" "$i/init" || return 1
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		modprobe -d "$KDIR" -S "$ver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' >"$T/kmods" || return 1
	# busybox's insmod takes them uncompressed
	while read -r f; do
		b=$(basename "$f" .xz)
		case $f in
		*.xz) xz -dc "$f" >"$i/mod/$b" ;;
		*) cp "$f" "$i/mod/$b" ;;
		esac && echo "$b"
	done <"$T/kmods" >"$i/modules.list" || return 1
	(cd "$i" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$1"
}

vm_why() {
	[ "$(uname -m)" = x86_64 ] || { echo "the VM is for x86_64 hosts"; return; }
	command -v qemu-system-x86_64 >/dev/null ||
		{ echo "no qemu-system-x86_64 (Debian package qemu-system-x86)"; return; }
	command -v modprobe >/dev/null || { echo "no modprobe (Debian package kmod)"; return; }
	vm_kernel || { echo "$WHY"; return; }
	vm_initrd "$T/initrd.gz" || echo "cannot make the initramfs"
}
why=$(vm_why)
if [ -n "$why" ]; then
	skip "a pure cgroup2 host with quotas in a VM: $why"
	finish
	exit
fi
KDIR=$KC/current

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
install -m 755 "$srcdir/tests/fixtures/vm/stage2.sh" "$O/stage2"
{
	for v in srcdir top_builddir VS VS_MODULES VS_FIXTURES VS_INSTALLED MAKE VM_TESTS VM_SYSROOT VM_GUESTS; do
		printf 'export %s=%q\n' "$v" "${!v:-}"
	done
	printf 'export VM_MODULES=%q\n' "$KDIR/lib/modules"
} >"$O/env"
# TCG: this machine's /dev/kvm does not run a nested guest; one host
# thread for both virtual cpus (the suite runs beside it)
timeout 900 qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 3072 \
	-nographic -no-reboot -kernel "$(ls "$KDIR"/boot/vmlinuz-*)" -initrd "$T/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$O,mount_tag=out,security_model=passthrough" "${QEMU_DISK[@]}" \
	</dev/null >"$T/console.log" 2>&1
same "the VM ran and powered off" 0 "$?"
for t in $VM_TESTS; do
	n=$(basename "$t" .sh)
	sed 's/^/vm: /' "$O/$n.log" 2>/dev/null
	same "in the VM: $t passes" 0 "$(cat "$O/$n.rc" 2>/dev/null || echo "no status (console: $(tail -c 300 "$T/console.log" | tr -d '\r' | tail -n 3))")"
done
finish
