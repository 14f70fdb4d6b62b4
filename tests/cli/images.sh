#!/bin/bash
# OCI images as guests and guests as images: build -m oci from an image
# layout (a tag) and from a docker-archive, made here (two gzip layers,
# a whiteout, an opaque directory, a config with Entrypoint, Cmd, Env,
# StopSignal); the layers' result, the init settings, a start of the
# guest; every blob's digest checked; hostile layers (a whiteout through
# a symlink to a host directory, a file through a symlink, "..") leave
# the host alone; export of a guest as a reproducible one-layer image
# that builds back into the same tree.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
MK=$srcdir/tests/fixtures/mkimage.py
mkdir -p "$T/host"
echo host >"$T/host/marker"
export HOST_DIR=$T/host
python3 "$MK" layout "$T/img" /bin/busybox
python3 "$MK" docker "$T/img.tar" /bin/busybox
C=$R$(path_of confdir)

# ---- build from a layout ---------------------------------------------
run vsx i1 build -m oci -- "$T/img:t1"
same "build -m oci from a layout and its tag" 0 "$RC"
G=$(rootof i1)
same "the layers in order: the whiteout removed etc/gone, the opaque directory holds the upper file only" \
	"etc/kept
etc/new
opq/upper" "$(cd "$G" && find etc/kept etc/new etc/gone opq -type f 2>/dev/null | sort)"
same "an entry's time to the nanosecond" "1000000000.500000000" "$(stat -c %.9Y "$G/etc/new")"
same "the whiteout through a symlink to a host directory removed nothing there" "host" "$(cat "$T/host/marker")"
same "a whiteout through a symlink inside the image removed nothing (no link is followed)" "victim" "$(cat "$G/real/victim")"
same "Entrypoint and Cmd: the init's command" "/bin/sh
-c
sleep 300" "$(cat "$C/i1/apps/init/cmd.start")"
same "Env: the init's environment" "PATH=/bin
GREETING=hello world" "$(cat "$C/i1/apps/init/environment")"
same "StopSignal" "SIGTERM" "$(cat "$C/i1/apps/init/stop-signal")"
check "WorkingDir is named in a warning" err_has 0 "WorkingDir '/srv' is not kept"
expect_ok "the guest starts" vsx i1 start
run vsx i1 exec sh -c 'echo "$GREETING"; cat /proc/1/cmdline | tr "\0" " "'
same "its init runs the image's command (sh execs sleep) with its environment" "hello world
sleep 300 " "$OUT"
expect_ok "and stops" vsx i1 stop

# ---- build from a docker-archive -------------------------------------
run vsx i2 build -m oci -- "docker-archive:$T/img.tar"
same "build -m oci from a docker-archive" 0 "$RC"
IMG='^\./(bin|opq|lnk|etc/(kept|new))'
same "the same tree as from the layout" "$(tree_listing "$G" | grep -E "$IMG")" \
	"$(tree_listing "$(rootof i2)" | grep -E "$IMG")"
check "the archive's unpacked copy is gone" test -z "$(ls -d /tmp/vs-oci.* 2>/dev/null)"

# ---- bad and hostile input -------------------------------------------
expect_error "no image" 1 "oci: no image given" vsx b1 build -m oci --
expect_error "not a layout" 1 "is not an OCI image layout" vsx b1 build -m oci -- "$T/host"
expect_error "an unknown tag" 1 "no image tagged 'nope'" vsx b1 build -m oci -- "$T/img:nope"
cp -a "$T/img" "$T/bad"
L=$(ls -S "$T/bad/blobs/sha256" | head -1) # the largest blob: a layer
printf 'x' | dd of="$T/bad/blobs/sha256/$L" bs=1 seek=100 conv=notrunc 2>/dev/null
expect_error "a layer that does not match its digest" 1 "does not match its digest" \
	vsx b1 build -m oci -- "$T/bad:t1"
python3 - "$T/img.tar" "$T/bad.tar" <<'EOF'
import sys, tarfile, io
src, dst = sys.argv[1:3]
with tarfile.open(src) as i, tarfile.open(dst, "w") as o:
    for m in i.getmembers():
        f = i.extractfile(m)
        d = f.read() if f else None
        if m.name.endswith("layer.tar") and m.name.startswith("l1"):
            d = d[:-1024] + b"x" * 1024
        o.addfile(m, io.BytesIO(d) if d is not None else None)
EOF
expect_error "a docker-archive layer that does not match its diff_id" 1 "does not match its diff_id" \
	vsx b1 build -m oci -- "docker-archive:$T/bad.tar"
python3 "$MK" escape "$T/esc"
run vsx b2 build -m oci -- "$T/esc"
same "a layer writing through its own symlink to a host directory: built" 0 "$RC"
same "nothing written on the host" "marker" "$(ls "$T/host")"
check "the link was replaced by a directory in the guest" test -d "$(rootof b2)/evil" -a ! -L "$(rootof b2)/evil"
python3 "$MK" dotdot "$T/dd"
expect_error "a layer entry with '..'" 1 "refusing '../x'" vsx b3 build -m oci -- "$T/dd"
check "nothing written beside the guests" test ! -e "$R/x" -a ! -e "$(dirname "$(rootof b3)")/x"

# ---- export ----------------------------------------------------------
mkguest e1
echo "x" >"$(rootof e1)/etc/with space
and newline"
setfattr -n user.vs-test -v value "$(rootof e1)/etc/guest-marker"
ln "$(rootof e1)/etc/guest-marker" "$(rootof e1)/etc/hardlink"
expect_ok "export a stopped guest" vsx e1 export "$T/exp:v1"
check "an image layout with the tag" python3 -c "
import json; i = json.load(open('$T/exp/index.json'))
assert [m['annotations']['org.opencontainers.image.ref.name'] for m in i['manifests']] == ['v1']"
D1=$(python3 -c "import json; print(json.load(open('$T/exp/index.json'))['manifests'][0]['digest'])")
expect_ok "export again under another tag" vsx e1 export "$T/exp:v2"
D2=$(python3 -c "import json; print([m['digest'] for m in json.load(open('$T/exp/index.json'))['manifests'] if m['annotations']['org.opencontainers.image.ref.name'] == 'v2'][0])")
same "reproducible: the same manifest digest" "$D1" "$D2"
expect_ok "the exported image builds a guest" vsx e2 build -m oci -- "$T/exp:v2"
# (but /dev, made by the build, and /sys, the mount point it adds)
NOTBUILD='^(\./(dev|sys)[/|]|\.\||-.* \./sys$)'
same "the same tree (owners, modes, nanosecond times, a name with a newline)" \
	"$(tree_listing "$(rootof e1)" | grep -Ev "$NOTBUILD")" \
	"$(tree_listing "$(rootof e2)" | grep -Ev "$NOTBUILD")"
same "xattrs kept" "value" "$(getfattr --only-values -n user.vs-test "$(rootof e2)/etc/guest-marker" 2>/dev/null)"
same "hard links kept" "$(stat -c %i "$(rootof e2)/etc/guest-marker")" "$(stat -c %i "$(rootof e2)/etc/hardlink")"
expect_ok "start e1" vsx e1 start
expect_error "export of a running guest" 1 "it is running (stop it first)" vsx e1 export "$T/exp2"
check "nothing written for it" test ! -e "$T/exp2"
vsx e1 stop >/dev/null 2>&1
expect_error "a bad tag" 1 "bad tag 'a b'" vsx e1 export "$T/exp3:a b"
finish
