#!/bin/bash
# containerd with vs-oci behind its runc shim (io.containerd.runc.v2
# with --runc-binary, as a Kubernetes RuntimeClass would name it),
# beside runc: a containerd of the test's own (its root, state and
# socket under the test's root, in a mount namespace of its own with
# /run on a tmpfs; the opt plugin off), containers from a busybox
# directory (ctr run --rootfs): the exit status and output, run -d +
# task exec + task ps + kill + delete, a memory limit.  Each flow's
# result must be the one expected and the same under both runtimes.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
C=$T/ctd
. "$srcdir/tests/cli/ctdlib.sh"
mkdir -p "$C/rootfs/bin" "$C/rootfs/etc" "$C/rootfs/tmp" "$C/rootfs/proc" \
	"$C/rootfs/dev" "$C/rootfs/sys"
cp /bin/busybox "$C/rootfs/bin/busybox"
for a in sh cat id echo sleep grep true; do ln -s busybox "$C/rootfs/bin/$a"; done
ctd_head '"io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt"' >"$C/config.toml"
ctd_start
# ctr in containerd's mount namespace (the fifos it makes are in /run)
ctr_() { nsenter -t "$CTD" -m ctr --address "$C/sock" "$@"; }
# stopped TASK: ctr lists TASK as stopped
stopped() { ctr_ task ls 2>/dev/null | grep -q "^$1 .*STOPPED"; }

# flows RUNTIME-BINARY: one line per result
flows() {
	local rt=$1 rf=(--rootfs --env PATH=/bin --runc-binary "$1")
	run ctr_ run --rm "${rf[@]}" --cgroup "/$CGBASE/ctd/r1" "$C/rootfs" r1 sh -c 'echo out; id -u; exit 3'
	echo "run: $(echo $OUT), status $RC"
	# -t: ctr wants a terminal of its own (script gives it one), the shim
	# asks the runtime for the container's through --console-socket
	run script -qec "$(printf '%q ' nsenter -t "$CTD" -m ctr --address "$C/sock" run -t --rm "${rf[@]}" \
		--cgroup "/$CGBASE/ctd/t1" "$C/rootfs" t1 sh -c 'tty; echo in; exit 4')" /dev/null </dev/null
	# (the terminal shows a NUL byte as ^@)
	echo "run -t: $(printf '%s\n' "$OUT" | tr -d '\r' | sed 's/\^@//g' | grep -v '^$' | tr '\n' ' '), status $RC"
	run ctr_ run -d "${rf[@]}" --cgroup "/$CGBASE/ctd/d1" "$C/rootfs" d1 sh -c 'trap "exit 0" TERM; sleep 300 & wait'
	echo "run -d: status $RC"
	run ctr_ task exec --exec-id x1 d1 sh -c 'echo in; cat /proc/1/cmdline | tr "\0" " "'
	echo "task exec: $(echo $OUT), status $RC"
	run ctr_ task ls
	echo "task ls: $(printf '%s\n' "$OUT" | awk '$1 == "d1" { print $1, $3 }')"
	run ctr_ task ps d1
	echo "task ps: $(printf '%s\n' "$OUT" | grep -c '^[0-9]') processes"
	run ctr_ task kill -s TERM d1
	await 60 stopped d1
	run ctr_ task ls
	echo "task ls after kill: $(printf '%s\n' "$OUT" | awk '$1 == "d1" { print $1, $3 }')"
	run ctr_ task delete d1
	echo "task delete: status $RC"
	run ctr_ container rm d1
	echo "container rm: status $RC"
	run ctr_ run -d "${rf[@]}" --memory-limit 67108864 --cgroup "/$CGBASE/ctd/m1" "$C/rootfs" m1 sleep 300
	echo "--memory-limit: status $RC, $(cat /sys/fs/cgroup/memory/"$CGBASE"/ctd/m1/memory.limit_in_bytes \
		/sys/fs/cgroup/"$CGBASE"/ctd/m1/memory.max 2>/dev/null)"
	ctr_ task kill -s KILL m1 >/dev/null 2>&1
	await 60 stopped m1
	ctr_ task delete m1 >/dev/null 2>&1
	ctr_ container rm m1 >/dev/null 2>&1
}
flows "$(command -v runc)" >"$C/runc.txt"
: >"$C/vs-oci.calls"
flows "$C/bin/vs-oci" >"$C/vs-oci.txt"
check "the shim ran vs-oci (create with containerd's --root, --log, json logs)" \
	grep -qE -- '--log-format json create --bundle' "$C/vs-oci.calls"

WHAT=containerd
want() { ctd_want vs-oci "$@"; }
want "run: output and exit status" "run" "out 0, status 3"
want "run -t: a terminal, output and exit status" "run -t" "/dev/pts/0 in , status 4"
want "run -d" "run -d" "status 0"
want "task exec" "task exec" "in sh -c trap \"exit 0\" TERM; sleep 300 & wait, status 0"
want "task ls: running" "task ls" "d1 RUNNING"
want "task ps: sh and its sleep (the exec'd process gone)" "task ps" "2 processes"
want "task kill: stopped" "task ls after kill" "d1 STOPPED"
want "task delete" "task delete" "status 0"
want "container rm" "container rm" "status 0"
want "a memory limit on the container's group" "--memory-limit" "status 0, 67108864"

run ctr_ container ls -q
same "no container left" "" "$OUT"
same "no container group left" "" \
	"$(find /sys/fs/cgroup/*/"$CGBASE"/ctd -mindepth 1 -type d 2>/dev/null)"
finish
