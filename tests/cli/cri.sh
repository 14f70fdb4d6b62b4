#!/bin/bash
# Kubernetes's door: containerd's CRI plugin with a runtime "vs" whose
# runc shim calls vs-oci (runtime_type io.containerd.runc.v2, BinaryName:
# what the README's RuntimeClass snippet configures), driven as the
# kubelet drives it (tests/fixtures/cri.py: RunPodSandbox with the
# RuntimeClass's handler, CreateContainer, StartContainer,
# ContainerStatus, ExecSync, StopContainer, RemoveContainer,
# StopPodSandbox, RemovePodSandbox), beside the default runtime, runc.
# Each result must be the one expected and the same under both.  A
# containerd of the test's own (root, state and socket under the test's
# root, its mount namespace with /run on a tmpfs), an image made here
# (tests/fixtures/mkimage.py) as the pods' image and sandbox image, the
# pods on the host's network (no CNI), their groups below the test's
# base.  Debian 12 packages no kubelet: this is its part of the talk.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
PY=/usr/bin/python3
"$PY" -c 'import grpc' 2>/dev/null || {
	echo "SKIP: python3-grpcio is not installed (the CRI client's gRPC)"
	exit 77
}

C=$T/cri
. "$srcdir/tests/cli/ctdlib.sh"
mkdir -p "$C/cni/bin" "$C/cni/conf"
IMG=docker.io/library/vs-test:t1
{
	ctd_head '"io.containerd.internal.v1.opt"'
	cat <<EOF
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$IMG"
  # the root here has no CAP_SYS_RESOURCE for the sandbox's -998
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$C/bin/runc"
    # what a RuntimeClass with handler "vs" names
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vs]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.vs.options]
        BinaryName = "$C/bin/vs-oci"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$C/cni/bin"
    conf_dir = "$C/cni/conf"
EOF
} >"$C/config.toml"
# runc as the default runtime, noting its calls
cat >"$C/bin/runc" <<EOF
#!/bin/sh
echo "\$*" >>"$C/runc.calls"
exec runc "\$@"
EOF
chmod 755 "$C/bin/runc"
ctd_start
ctr_() { nsenter -t "$CTD" -m ctr --address "$C/sock" --namespace k8s.io "$@"; }

"$PY" "$srcdir/tests/fixtures/mkimage.py" docker "$C/img.tar" /bin/busybox || exit 99
run ctr_ images import --snapshotter native "$C/img.tar"
same "the pods' image is imported into the CRI's namespace" "0" "$RC"

# the pods' groups: below the test's base (cgroupfs paths)
pods() { # HANDLER: the flows' results
	nsenter -t "$CTD" -m "$PY" "$srcdir/tests/fixtures/cri.py" "$C/sock" "$1" "$IMG" \
		"/$CGBASE/cri-${1:-default}" 2>>"$C/cri.err"
}
pods "" >"$C/runc.txt"
: >"$C/vs-oci.calls"
: >"$C/runc.calls"
pods vs >"$C/vs.txt"
check "the handler 'vs' ran vs-oci through the runc shim: the sandbox and both containers created" \
	test "$(grep -c -- ' create --bundle' "$C/vs-oci.calls")" = 3
same "and not runc" "" "$(grep -- ' create ' "$C/runc.calls")"
[ -s "$C/cri.err" ] && sed 's/^/#   cri: /' "$C/cri.err"

WHAT=CRI
want() { ctd_want vs "$@"; }
want "the CRI's version" "version" "v1"
want "RunPodSandbox: the sandbox is ready" "sandbox" "ready"
want "a container that exits: its exit code" "exiting container" "exited, exit code 3"
want "a container that runs" "running container" "running"
want "ExecSync: root, beside the container's process, its memory limit" "exec sync" \
	"0 sleep 300 67108864, exit code 0"
want "StopContainer" "stopped container" "exited"
want "RemoveContainer, StopPodSandbox, RemovePodSandbox" "removed" "containers and sandbox"

run ctr_ containers ls -q
same "no container left" "" "$OUT"
same "no pod group left" "" "$(find /sys/fs/cgroup/*/"$CGBASE" -mindepth 2 -type d 2>/dev/null)"
finish
