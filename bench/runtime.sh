#!/bin/bash
# Guest start/exec/stop cycle and exec latency: the installed vs (every
# shipped plugin in its module directory) against unshare+nsenter+kill
# and LXC, interleaved sample by sample in one run, timed with the
# monotonic clock (min / median / max); vs with and without its system
# call filter; the monitor's memory (PSS).  Not run by CI.
#   bench/runtime.sh [samples]      (as root; installs lxc if missing)
set -eu
cd "$(dirname "$0")/.."
N=${1:-31}
. bench/common.sh
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
rundir=$R$(vs paths | awk '$1 == "rundir" { print $2 }')
cfg=$R$(vs paths | awk '$1 == "confdir" { print $2 }')/bench/apps/seccomp
mkdir -p "$cfg"
vs plugins >/dev/null # the module index

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
lxc-start -n bench -P "$T/lxc" -d && lxc-stop -n bench -P "$T/lxc" -k || lxc_ok=0

# the peer: the child of `unshare --fork` says it runs through a FIFO in
# its root; then one look for unshare's child (no polling)
mkfifo "$root/tmp/ready"
unshare_cycle() {
	unshare --fork --pid --mount --uts --ipc --root="$root" \
		/bin/busybox sh -c 'echo >/tmp/ready; exec sleep 1000' &
	u=$!
	read -r _ <"$root/tmp/ready"
	c=$(pgrep -P "$u")
	nsenter -t "$c" -a true
	kill -9 "$c"
	wait "$u" 2>/dev/null || :
}
vs_cycle() { vs bench start 2>/dev/null; vs bench exec true; vs bench stop; }
lxc_cycle() {
	lxc-start -n bench -P "$T/lxc" -d
	lxc-attach -n bench -P "$T/lxc" -- /bin/true
	lxc-stop -n bench -P "$T/lxc" -k
}
for _ in $(seq "$N"); do
	sample vs.cycle vs_cycle
	sample unshare.cycle unshare_cycle
	[ "$lxc_ok" = 1 ] && sample lxc.cycle lxc_cycle
	rm -f "$cfg/none"
	sample filter-on.cycle vs_cycle
	touch "$cfg/none"
	sample filter-off.cycle vs_cycle
	rm -f "$cfg/none"
done

vs bench start
init=$(awk '$1 == "init" { print $2 }' "$rundir/bench")
monitor=$(awk '$1 == "monitor" { print $2 }' "$rundir/bench")
pss=$(awk '/^Pss:/ { print $2 }' "/proc/$monitor/smaps_rollup")
[ "$lxc_ok" = 1 ] && lxc-start -n bench -P "$T/lxc" -d
for _ in $(seq $((N * 2))); do
	sample vs.exec vs bench exec true
	sample nsenter.exec nsenter -t "$init" -a true
	[ "$lxc_ok" = 1 ] && sample lxc.exec lxc-attach -n bench -P "$T/lxc" -- /bin/true
	rm -f "$cfg/none"
	sample filter-on.exec vs bench exec true
	touch "$cfg/none"
	sample filter-off.exec vs bench exec true
	rm -f "$cfg/none"
done
vs bench stop
[ "$lxc_ok" = 1 ] && lxc-stop -n bench -P "$T/lxc" -k

echo "$N interleaved cycles, $((N * 2)) execs; ms (min median max); clock overhead $((overhead / 1000)) us taken off"
printf '%-44s %s\n' "cycle start+exec true+stop: vs" "$(stats vs.cycle)"
printf '%-44s %s\n' "  unshare + nsenter + kill" "$(stats unshare.cycle)"
printf '%-44s %s\n' "  lxc-start -d + lxc-attach + lxc-stop -k" "$(stats lxc.cycle)"
printf '%-44s %s\n' "exec true: vs exec" "$(stats vs.exec)"
printf '%-44s %s\n' "  nsenter -a" "$(stats nsenter.exec)"
printf '%-44s %s\n' "  lxc-attach" "$(stats lxc.exec)"
printf '%-44s %s\n' "cycle, the filter on" "$(stats filter-on.cycle)"
printf '%-44s %s\n' "  the filter off (apps/seccomp/none)" "$(stats filter-off.cycle)"
printf '%-44s %s\n' "exec true, the filter on" "$(stats filter-on.exec)"
printf '%-44s %s\n' "  the filter off" "$(stats filter-off.exec)"
echo "ratios (medians): cycle vs/unshare $(ratio vs.cycle unshare.cycle), vs/lxc $(ratio vs.cycle lxc.cycle); exec vs/nsenter $(ratio vs.exec nsenter.exec), vs/lxc-attach $(ratio vs.exec lxc.exec)"
echo "the filter costs: cycle $(diffms filter-on.cycle filter-off.cycle) ms, exec $(diffms filter-on.exec filter-off.exec) ms"
echo "the monitor of a running guest: PSS $pss kB (smaps_rollup)"
