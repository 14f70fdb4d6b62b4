#!/bin/bash
# A systemd guest's boot and stop: the installed vs (every shipped plugin
# in its module directory) against LXC on the same Debian bookworm tree
# (minbase + systemd-sysv, dbus, openssh-server, procps, iproute2),
# interleaved sample by sample in one run.  Not run by CI.
#   bench/boot.sh [samples]      (as root; installs lxc if missing)
#
# boot: from the start command to `systemctl is-system-running` saying
# running (or degraded), asked the same way of both (vs exec, lxc-attach)
# as soon as the previous answer came, so each side pays its own exec
# for every question; systemd's own figure (systemd-analyze: from its
# start to the default target) beside it.  stop: `vs stop` against
# `lxc-stop` (both ask systemd to halt and wait for it).
#
# Each guest has a network namespace with only lo (vs: spaces/net; LXC:
# lxc.net.0.type = empty).  vs runs the guest as its build makes it, in
# a user namespace; LXC as PLATFORM.md measured it, privileged with its
# common.conf.  They boot the same tree one after the other, never at
# once; both write its logs, so no byte-for-byte check applies here.
set -eu
cd "$(dirname "$0")/.."
N=${1:-5}
. bench/common.sh
lxc() { cmd=$1; shift; "lxc-$cmd" -n boot -P "$T/lxc" "$@"; }
cleanup() {
	vs boot stop >/dev/null 2>&1 || :
	lxc stop -k >/dev/null 2>&1 || :
	rm -rf "$T"
}
trap cleanup EXIT

PKGS=systemd-sysv,dbus,openssh-server,procps,iproute2
CACHE=/var/tmp/vs-test-cache/bookworm-systemd.tgz
tar tzf "$CACHE" 2>/dev/null | grep -qx debootstrap/debpaths || {
	mkdir -p "$(dirname "$CACHE")"
	debootstrap --variant=minbase --include=$PKGS --make-tarball="$CACHE.$$" \
		bookworm "$T/mk" http://deb.debian.org/debian >/dev/null && mv "$CACHE.$$" "$CACHE"
	rm -rf "$T/mk"
}
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid"
echo "root:2000000:655360" >"$R/etc/subgid"
vs boot build -m debootstrap --hostname boot -- -d bookworm -- \
	--unpack-tarball="$CACHE" --include=$PKGS >"$T/build.log" 2>&1
touch "$R$(vs paths | awk '$1 == "confdir" { print $2 }')/boot/spaces/net"
root=$R$(vs paths | awk '$1 == "vrootdir" { print $2 }')/boot
vs plugins >/dev/null # the module index

mkdir -p "$T/lxc/boot"
cat >"$T/lxc/boot/config" <<EOC
lxc.include = /usr/share/lxc/config/common.conf
lxc.uts.name = boot
lxc.rootfs.path = dir:$root
lxc.init.cmd = /sbin/init
lxc.net.0.type = empty
lxc.console.logfile = $T/lxc/console.log
EOC

# booted CMD...: asks is-system-running through CMD until the boot is over
booted() {
	for _ in $(seq 3000); do
		case $("$@" systemctl is-system-running 2>/dev/null) in
		running | degraded) return 0 ;;
		esac
	done
	return 1
}
vs_exec() { vs boot exec "$@"; }
lxc_exec() { lxc attach -- "$@"; }
# userspace LABEL CMD...: systemd's own boot time, in ns, to $T/LABEL
userspace() {
	l=$1
	shift
	"$@" systemd-analyze time 2>/dev/null |
		awk '/Startup finished/ { v = $(NF - 1); s = v ~ /ms$/ ? 1e6 : 1e9
			sub(/m?s$/, "", v); printf "%d\n", v * s }' >>"$T/$l"
}
vs_boot() { vs boot start && booted vs_exec; }
lxc_boot() { lxc start -d && booted lxc_exec; }

for _ in $(seq "$N"); do
	sample vs.boot vs_boot
	userspace vs.systemd vs_exec
	vs_exec systemctl --failed --plain --no-legend | wc -l >>"$T/vs.failed"
	sample vs.stop vs boot stop
	sample lxc.boot lxc_boot
	userspace lxc.systemd lxc_exec
	lxc_exec systemctl --failed --plain --no-legend | wc -l >>"$T/lxc.failed"
	sample lxc.stop lxc stop
done

echo "$N interleaved boots of one systemd tree; ms (min median max)"
printf '%-48s %s\n' "boot to running: vs start, vs exec" "$(stats vs.boot)"
printf '%-48s %s\n' "  lxc-start -d, lxc-attach" "$(stats lxc.boot)"
printf '%-48s %s\n' "  systemd's own (systemd-analyze) under vs" "$(stats vs.systemd)"
printf '%-48s %s\n' "  under LXC" "$(stats lxc.systemd)"
printf '%-48s %s\n' "stop: vs stop" "$(stats vs.stop)"
printf '%-48s %s\n' "  lxc-stop" "$(stats lxc.stop)"
echo "failed units per boot: vs $(sort -u "$T/vs.failed" | paste -sd,), LXC $(sort -u "$T/lxc.failed" | paste -sd,)"
echo "ratios (medians): boot vs/lxc $(ratio vs.boot lxc.boot), stop vs/lxc $(ratio vs.stop lxc.stop)"
