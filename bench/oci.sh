#!/bin/bash
# vs-oci against runc, side by side, samples interleaved in one run:
# a bare `<runtime> run` of a bundle (a static busybox running true:
# bench/ocibare.sh), and `podman run --rm IMG true` with each as
# Podman's runtime (both behind the same one-line wrapper, which gives
# each its state directory and vs its plugin directory).  Medians of N
# (default 20) and their ratio.  The bundle and Podman's storage are
# checked unchanged afterwards.  crun refuses this machine's hybrid
# cgroup layout (see PLATFORM.md): with --vm the bare runs of vs, runc
# and crun are measured in the test VM (tests/fixtures/vm: a pure
# cgroup2 host of Debian's kernel under qemu's emulation, so absolute
# times are several times the host's; the ratios are what it shows).
# Not run by CI.
#   bench/oci.sh [--vm] [samples]      (as root)
set -eu
cd "$(dirname "$0")/.."
VM=
[ "${1:-}" = --vm ] && { VM=1; shift; }
N=${1:-20}
. bench/common.sh
cleanup() {
	pkill -KILL -f "$T/" 2>/dev/null || :
	for d in /sys/fs/cgroup/*/vs-bench-oci; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	grep -o " $T[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
	rm -rf "$T"
}
trap cleanup EXIT
command -v podman >/dev/null && command -v runc >/dev/null && command -v crun >/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc crun >/dev/null
}
PLUG=$P/lib/vs/plugins
export VS PLUG BENCH_N=$N

if [ -n "$VM" ]; then
	srcdir=$top
	. tests/fixtures/vm/vm.sh
	why=$(vm_why)
	[ -z "$why" ] || { echo "no VM: $why"; exit 1; }
	O=$T/vmout
	mkdir -p "$O"
	BENCH_RUNTIMES="runc crun" VM_TESTS=bench/ocibare.sh top_builddir=$top
	for v in srcdir top_builddir VM_TESTS VS PLUG BENCH_N BENCH_RUNTIMES LD_LIBRARY_PATH; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done >"$O/env"
	vm_boot "$O" || { echo "the VM failed: $(tail -n 3 "$T/console.log")"; exit 1; }
	echo "in the VM (pure cgroup2, Linux $(ls "$KC"/current/lib/modules), qemu TCG):"
	cat "$O/ocibare.log"
	exit "$(cat "$O/ocibare.rc")"
fi

# the image's root: busybox running true
B=$T/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/etc" "$B/rootfs/tmp" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys"
cp /bin/busybox "$B/rootfs/bin/"
for a in sh true; do ln -s busybox "$B/rootfs/bin/$a"; done
listing() { find "$1" -printf '%p|%y|%m|%U|%G|%s|%T@|%l\n' | sort | md5sum; }

# Podman, its storage and state under $T, in a mount namespace of its
# own each call (as tests/cli/podman.sh), an image imported from a tarball
PM=$T/pm
mkdir -p "$PM/bin" "$PM/vartmp"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\nlock_type = "file"\ntmp_dir = "%s/tmp"\nimage_copy_tmp_dir = "%s/vartmp"\n[network]\nnetwork_config_dir = "%s/net"\n' \
	"$PM" "$PM" "$PM" "$PM" >"$PM/containers.conf"
printf '[storage]\ndriver = "vfs"\nrunroot = "%s/run"\ngraphroot = "%s/store"\n' "$PM" "$PM" >"$PM/storage.conf"
export CONTAINERS_CONF=$PM/containers.conf CONTAINERS_STORAGE_CONF=$PM/storage.conf
# (podman and conmon pass on no LD_LIBRARY_PATH: the wrapper sets it)
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s --plugindir %s oci --root %s/vs-state "$@"\n' \
	"$LD_LIBRARY_PATH" "$VS" "$PLUG" "$PM" >"$PM/bin/vs-oci"
printf '#!/bin/sh\nexec runc --root %s/runc-state "$@"\n' "$PM" >"$PM/bin/runc"
chmod 755 "$PM/bin/vs-oci" "$PM/bin/runc"
pm() {
	rt=$1
	shift
	unshare -m --propagation private sh -c '
		mount -t tmpfs vs-bench /run && mount -t tmpfs vs-bench /var &&
		ln -s /run /var/run && mkdir /var/tmp /var/lib && exec "$@"' \
		podman-ns podman --runtime "$PM/bin/$rt" "$@"
}
tar -C "$B/rootfs" -cf "$T/img.tar" .
pm runc import -q "$T/img.tar" localhost/vs-bench:1 >/dev/null
pm runc run --rm --network none --cgroup-parent /vs-bench-oci/pm localhost/vs-bench:1 true
pm vs-oci run --rm --network none --cgroup-parent /vs-bench-oci/pm localhost/vs-bench:1 true
# the image's layer (the containers' come and go: their directory's time
# is podman's bookkeeping)
layer=$(ls -d "$PM"/store/vfs/dir/* | head -1)
store_before=$(listing "$layer")

i=0
for _ in $(seq "$N"); do
	i=$((i + 1))
	sample vs.podman pm vs-oci run --rm --network none --cgroup-parent /vs-bench-oci/pm localhost/vs-bench:1 true
	sample runc.podman pm runc run --rm --network none --cgroup-parent /vs-bench-oci/pm localhost/vs-bench:1 true
done
[ "$(listing "$layer")" = "$store_before" ] && store=unchanged || store=CHANGED

echo "$N interleaved samples; ms (min median max); clock overhead $((overhead / 1000)) us taken off"
printf '%-44s %s\n' "podman run --rm IMG true: vs-oci" "$(stats vs.podman)"
printf '%-44s %s\n' "  runc" "$(stats runc.podman)"
echo "ratio (medians): podman vs/runc $(ratio vs.podman runc.podman)"
echo "the image's layer in podman's store: $store"
BENCH_RUNTIMES=runc bash bench/ocibare.sh
