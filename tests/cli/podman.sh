#!/bin/bash
# Podman with vs-oci as its runtime, beside runc: an image imported here
# from a busybox tarball (no registry), then the flows an administrator
# uses (run and its exit status, run -d + exec + ps + stop + rm, a
# terminal, --memory, --pids-limit, --cap-drop, --read-only, --user, a
# bind mount) through both runtimes: each flow's result must be the one
# expected and the same under both.  Last, a guest vs exports is pulled
# and run by Podman.  Podman's storage, state, locks and
# networks are under the test's root; each podman runs in a mount
# namespace of its own with /run and /var on a tmpfs (what podman writes
# there of its own accord, a blob cache and netavark's directory, never
# reaches the host); its containers' cgroups are below the test's base.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
for t in podman runc conmon unshare; do
	command -v "$t" >/dev/null || {
		echo "SKIP: $t is not installed (packages podman, runc)"
		exit 77
	}
done

P=$T/pm
mkdir -p "$P/bin" "$P/vol" "$P/img/bin" "$P/img/etc" "$P/img/tmp"
cat >"$P/containers.conf" <<EOF
[containers]
# the root here has no CAP_SYS_RESOURCE to raise podman's default nofile
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
lock_type = "file"
tmp_dir = "$P/tmp"
image_copy_tmp_dir = "$P/vartmp"
[network]
network_config_dir = "$P/net"
EOF
cat >"$P/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$P/run"
graphroot = "$P/store"
EOF
mkdir -p "$P/vartmp"
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf
# the runtimes, each with its state under the test's root; vs-oci notes
# each call, so the test knows podman ran it
cat >"$P/bin/vs-oci" <<EOF
#!/bin/sh
echo "\$*" >>"$P/vs-oci.calls"
exec "$VS" --plugindir "$MODS" oci --root "$P/vs-state" "\$@"
EOF
cat >"$P/bin/runc" <<EOF
#!/bin/sh
exec runc --root "$P/runc-state" "\$@"
EOF
chmod 755 "$P/bin/vs-oci" "$P/bin/runc"

# pm RUNTIME ARGS...: podman in its own mount namespace
pm() {
	local rt=$1
	shift
	unshare -m --propagation private sh -c '
		mount -t tmpfs vs-test /run && mount -t tmpfs vs-test /var &&
		ln -s /run /var/run && mkdir /var/tmp /var/lib && exec "$@"' \
		podman-ns podman --runtime "$P/bin/$rt" "$@"
}
RUNOPTS="--network none --cgroup-parent /$CGBASE/podman"

cp /bin/busybox "$P/img/bin/busybox"
for a in sh cat id echo sleep touch grep tty true; do ln -s busybox "$P/img/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$P/img/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$P/img/etc/group"
tar -C "$P/img" -cf "$P/img.tar" .
run pm runc import "$P/img.tar" localhost/vs-test:1
[ "$RC" = 0 ] || { fail "podman import of the busybox tarball" "$ERR"; finish; exit 1; }
echo vol >"$P/vol/in"

# flows RUNTIME: one line per result, "flow: result"
flows() {
	local rt=$1 img=localhost/vs-test:1
	run pm "$rt" run --rm $RUNOPTS "$img" true
	echo "run true: status $RC"
	run pm "$rt" run --rm $RUNOPTS "$img" sh -c 'echo out; exit 3'
	echo "run exit 3: $OUT, status $RC"
	run pm "$rt" run -d --name d1 $RUNOPTS "$img" sh -c 'trap "exit 0" TERM; sleep 300 & wait'
	echo "run -d: status $RC"
	run pm "$rt" exec d1 sh -c 'echo in; cat /proc/1/cmdline | tr "\0" " "'
	echo "exec: $(echo $OUT), status $RC"
	run pm "$rt" ps --format '{{.Names}} {{.Status}}'
	echo "ps: $(printf '%s\n' "$OUT" | sed 's/ Up .*/ Up/')"
	run pm "$rt" stop -t 10 d1
	echo "stop: $OUT, status $RC"
	run pm "$rt" ps -a --format '{{.Names}} {{.Status}}'
	echo "ps -a: $(printf '%s\n' "$OUT" | sed 's/ ago$//; s/ [^()]*$//')"
	run pm "$rt" rm d1
	echo "rm: $OUT, status $RC"
	run pm "$rt" ps -a --format '{{.Names}}'
	echo "ps -a after rm: [$OUT]"
	run pm "$rt" run --rm -t $RUNOPTS "$img" tty </dev/null
	echo "run -t: $(printf '%s' "$OUT" | tr -d '\r'), status $RC"
	run pm "$rt" run --rm --memory 64m --pids-limit 33 $RUNOPTS "$img" \
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max
	echo "--memory --pids-limit: $(echo $OUT), status $RC"
	run pm "$rt" run --rm --device-read-bps "$BDEV:1mb" $RUNOPTS "$img" \
		cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device
	echo "--device-read-bps: $(echo $OUT), status $RC"
	run pm "$rt" run --rm --cap-drop all $RUNOPTS "$img" grep -E '^Cap(Eff|Bnd)' /proc/self/status
	echo "--cap-drop all: $(echo $OUT)"
	run pm "$rt" run --rm --cap-drop NET_RAW,CHOWN $RUNOPTS "$img" grep -E '^Cap(Eff|Bnd)' /proc/self/status
	echo "--cap-drop NET_RAW,CHOWN: $(echo $OUT)"
	run pm "$rt" run --rm --read-only $RUNOPTS "$img" sh -c 'touch /x || echo refused; touch /tmp/x && echo tmp'
	echo "--read-only: $(echo $OUT $ERR)"
	run pm "$rt" run --rm --user 65534:65534 $RUNOPTS "$img" id
	echo "--user: $OUT"
	run pm "$rt" run --rm $RUNOPTS "$img" sh -c 'ls /sys/fs/cgroup/systemd | grep -c cgroup.procs'
	echo "systemd hierarchy: $OUT"
	run pm "$rt" run --rm $RUNOPTS "$img" grep -E ':(name=systemd|memory):' /proc/self/cgroup
	echo "groups: $(printf '%s\n' "$OUT" | sed 's/^[0-9]*://; s/libpod-[0-9a-f]*/libpod-ID/' | sort | tr '\n' ' ')"
	run pm "$rt" run --rm -v "$P/vol:/mnt" $RUNOPTS "$img" sh -c "cat /mnt/in; echo w >/mnt/out"
	echo "-v: $OUT, status $RC, written: $(cat "$P/vol/out" 2>/dev/null)"
	rm -f "$P/vol/out"
}

# a block device of this machine, for a throttle
BSYS=$(ls -d /sys/block/*/dev | head -n 1)
BDEV=/dev/$(basename "$(dirname "$BSYS")")
flows runc >"$P/runc.txt"
: >"$P/vs-oci.calls"
flows vs-oci >"$P/vs-oci.txt"
check "podman ran vs-oci (create, start, exec, delete)" \
	grep -qE '^create .*--bundle' "$P/vs-oci.calls"
check "podman ran vs-oci's exec" grep -q '^exec ' "$P/vs-oci.calls"

# result FLOW RUNTIME: what that runtime gave for the flow
result() { sed -n "s/^$1: //p" "$P/$2.txt"; }
want() { # NAME FLOW EXPECTED: vs-oci gives it, and runc the same
	same "podman --runtime vs-oci: $1" "$3" "$(result "$2" vs-oci)"
	same "podman: $1, vs-oci as runc" "$(result "$2" runc)" "$(result "$2" vs-oci)"
}
want "run --rm true" "run true" "status 0"
want "run: output and exit status" "run exit 3" "out, status 3"
want "run -d" "run -d" "status 0"
want "exec in the running container" "exec" "in sh -c trap \"exit 0\" TERM; sleep 300 & wait, status 0"
want "ps: the container is up" "ps" "d1 Up"
want "stop: the process ends on TERM" "stop" "d1, status 0"
want "ps -a: exited with status 0" "ps -a" "d1 Exited (0)"
want "rm" "rm" "d1, status 0"
want "nothing left after rm" "ps -a after rm" "[]"
want "run -t: a terminal" "run -t" "/dev/pts/0, status 0"
want "--memory and --pids-limit in the container's cgroup" "--memory --pids-limit" "67108864 33, status 0"
want "--device-read-bps: blockIO's throttle in the container's group" "--device-read-bps" \
	"$(cat "$BSYS") 1048576, status 0"
want "--cap-drop all" "--cap-drop all" "CapEff: 0000000000000000 CapBnd: 0000000000000000"
want "--cap-drop of two" "--cap-drop NET_RAW,CHOWN" "CapEff: 00000000a80405fa CapBnd: 00000000a80405fa"
want "--read-only: the root refuses writes, /tmp takes them" "--read-only" "refused tmp touch: /x: Read-only file system"
want "--user" "--user" "uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)"
want "the container's groups, the named systemd hierarchy too (as runc)" "groups" \
	"memory:/$CGBASE/podman/libpod-ID name=systemd:/$CGBASE/podman/libpod-ID "
want "the named hierarchy mounted in the container (its own group)" "systemd hierarchy" "1"
want "-v: a bind mount, read and written" "-v" "vol, status 0, written: w"

# what vs exports, Podman runs (with vs-oci)
mkguest x1
run vsx x1 export "$P/x1img:v1"
same "vs export of a guest" 0 "$RC"
# (a relative path: podman names the image after it, in lower case only)
cd "$P" || exit 99
run pm vs-oci pull -q "oci:x1img:v1"
cd "$T" || exit 99
same "podman pulls the exported image" 0 "$RC"
run pm vs-oci run --rm $RUNOPTS "$OUT" cat /etc/guest-marker
same "podman --runtime vs-oci runs it" "guest x1" "$OUT"

run pm runc ps -a --format '{{.Names}}'
same "no container left" "" "$OUT"
same "vs-oci's state directory is empty" "" "$(ls -A "$P/vs-state" 2>/dev/null)"
same "no container group left" "" \
	"$(find /sys/fs/cgroup/*/"$CGBASE"/podman -mindepth 1 -type d -name 'libpod-*' 2>/dev/null)"
finish
