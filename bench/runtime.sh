#!/bin/bash
# Guest start/exec/stop cycle and exec latency: vs against unshare+nsenter
# and LXC, side by side in one run (medians), and vs with and without its
# system call filter (interleaved).  Not run by CI.
#   bench/runtime.sh [cycles]      (as root; installs lxc if missing)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
N=${1:-25}
sh scripts/deps.sh
sh scripts/build.sh
command -v lxc-start >/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lxc >/dev/null
}
T=$(mktemp -d /tmp/vs-bench.XXXXXX)
R=$T/root
M=$T/mods
mkdir -p "$R" "$M"
install -m 0755 plugins/build/skeleton/.libs/skeleton.so plugins/hooks/scripts/.libs/scripts.so "$M/"
export LD_LIBRARY_PATH=$top/.libs
VS=$top/.libs/vs
vs() { "$VS" --sysroot "$R" --plugindir "$M" --datadir "$top/conf.d" "$@"; }
cleanup() {
	vs bench stop >/dev/null 2>&1 || :
	lxc-stop -n bench -P "$T/lxc" -k >/dev/null 2>&1 || :
	rm -rf "$T"
}
trap cleanup EXIT

vs bench build -m skeleton --initstyle plain --context 900 -- sh -c '
	mkdir -p "$VDIR/bin" "$VDIR/sbin" "$VDIR/tmp"
	cp /bin/busybox "$VDIR/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$VDIR/bin/$a"; done
	ln -s ../bin/busybox "$VDIR/sbin/init"
	printf "::ctrlaltdel:/bin/busybox poweroff -f\n" >"$VDIR/etc/inittab"'
root=$R$(vs paths | awk '$1 == "vrootdir" { print $2 }')/bench

now() { date +%s%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) / 1e6 }'; }

# cycles: start + exec true + stop
for i in $(seq "$N"); do
	t=$(now); vs bench start; vs bench exec true; vs bench stop; echo $(( $(now) - t ))
done | median >"$T/vs.cycle"

for i in $(seq "$N"); do
	t=$(now)
	unshare --fork --pid --mount --uts --ipc --root="$root" /bin/busybox sleep 1000 &
	u=$!
	c=
	while [ -z "$c" ]; do c=$(pgrep -P "$u" || :); done
	nsenter -t "$c" -a true
	kill -9 "$c"; wait "$u" 2>/dev/null || :
	echo $(( $(now) - t ))
done | median >"$T/unshare.cycle"

mkdir -p "$T/lxc/bench"
cat >"$T/lxc/bench/config" <<EOC
lxc.uts.name = bench
lxc.rootfs.path = dir:$root
lxc.init.cmd = /sbin/init
lxc.net.0.type = empty
lxc.signal.halt = SIGUSR2
lxc.mount.auto = proc:rw sys:ro
lxc.autodev = 1
EOC
lxc_ok=1
for i in $(seq "$N"); do
	t=$(now)
	lxc-start -n bench -P "$T/lxc" -d || { lxc_ok=0; break; }
	lxc-attach -n bench -P "$T/lxc" -- /bin/true
	lxc-stop -n bench -P "$T/lxc" -k
	echo $(( $(now) - t ))
done | median >"$T/lxc.cycle"

# exec into a running guest
vs bench start
init=$(awk '$1 == "init" { print $2 }' "$R$(vs paths | awk '$1 == "rundir" { print $2 }')/bench")
for i in $(seq $((N * 2))); do t=$(now); vs bench exec true; echo $(( $(now) - t )); done | median >"$T/vs.exec"
for i in $(seq $((N * 2))); do t=$(now); nsenter -t "$init" -a true; echo $(( $(now) - t )); done | median >"$T/nsenter.exec"
vs bench stop
lxc-start -n bench -P "$T/lxc" -d && {
	for i in $(seq $((N * 2))); do t=$(now); lxc-attach -n bench -P "$T/lxc" -- /bin/true; echo $(( $(now) - t )); done | median >"$T/lxc.exec"
	lxc-stop -n bench -P "$T/lxc" -k
}

# the filter's cost: the same guest with and without it, interleaved
cfg=$R$(vs paths | awk '$1 == "confdir" { print $2 }')/bench/apps/seccomp
mkdir -p "$cfg"
for i in $(seq "$N"); do
	for f in on off; do
		if [ $f = on ]; then rm -f "$cfg/none"; else touch "$cfg/none"; fi
		t=$(now); vs bench start 2>/dev/null; vs bench exec true; vs bench stop
		echo "$f $(( $(now) - t ))"
	done
done >"$T/filter.cycle"
vs bench start 2>/dev/null
for i in $(seq $((N * 2))); do
	for f in on off; do
		if [ $f = on ]; then rm -f "$cfg/none"; else touch "$cfg/none"; fi
		t=$(now); vs bench exec true; echo "$f $(( $(now) - t ))"
	done
done >"$T/filter.exec"
vs bench stop
rm -f "$cfg/none"
for k in cycle exec; do
	for f in on off; do
		awk -v f=$f '$1 == f { print $2 }' "$T/filter.$k" | median >"$T/filter.$k.$f"
	done
done

r() { awk -v a="$(cat "$1")" -v b="$(cat "$2")" 'BEGIN { printf "%.2f", a / b }'; }
d() { awk -v a="$(cat "$1")" -v b="$(cat "$2")" 'BEGIN { printf "%+.2f", a - b }'; }
echo "median of $N cycles / $((N * 2)) execs, milliseconds"
printf '%-40s %8s\n' "cycle start+exec true+stop: vs" "$(cat "$T/vs.cycle")"
printf '%-40s %8s\n' "  unshare + nsenter + kill" "$(cat "$T/unshare.cycle")"
printf '%-40s %8s\n' "  lxc-start -d + lxc-attach + lxc-stop -k" "$(cat "$T/lxc.cycle" 2>/dev/null)"
printf '%-40s %8s\n' "exec true: vs exec" "$(cat "$T/vs.exec")"
printf '%-40s %8s\n' "  nsenter -a" "$(cat "$T/nsenter.exec")"
printf '%-40s %8s\n' "  lxc-attach" "$(cat "$T/lxc.exec" 2>/dev/null)"
echo "ratios: cycle vs/unshare $(r "$T/vs.cycle" "$T/unshare.cycle"), vs/lxc $(r "$T/vs.cycle" "$T/lxc.cycle"); exec vs/nsenter $(r "$T/vs.exec" "$T/nsenter.exec"), vs/lxc-attach $(r "$T/vs.exec" "$T/lxc.exec")"
printf '%-40s %8s\n' "cycle, the filter on" "$(cat "$T/filter.cycle.on")"
printf '%-40s %8s\n' "  the filter off (apps/seccomp/none)" "$(cat "$T/filter.cycle.off")"
printf '%-40s %8s\n' "exec true, the filter on" "$(cat "$T/filter.exec.on")"
printf '%-40s %8s\n' "  the filter off" "$(cat "$T/filter.exec.off")"
echo "the filter costs: cycle $(d "$T/filter.cycle.on" "$T/filter.cycle.off") ms, exec $(d "$T/filter.exec.on" "$T/filter.exec.off") ms"
