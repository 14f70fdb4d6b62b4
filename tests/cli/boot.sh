#!/bin/bash
# Modern guests boot: a Debian bookworm guest with systemd and one with
# sysvinit, each built offline from a cached debootstrap tarball, must
# boot (systemd: "running"), run ssh, answer exec, reboot and power off
# from inside, stop in under 2 s, show its boot in the console log and
# leave nothing behind.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

if [ "$(dpkg --print-architecture 2>/dev/null)" != amd64 ]; then
	skip "the tarballs are made for amd64"
	exit 77
fi
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid" # 10 slots of 65536
echo "root:2000000:655360" >"$R/etc/subgid"
v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)

ms() { echo $(($(date +%s%N) / 1000000)); }
# reboot_inside G CMD...: runs CMD in G and waits (10 s at most) for a
# new init; true when there is one
reboot_inside() {
	g=$1
	shift
	i1=$(init_of "$g")
	vsx "$g" exec "$@" >/dev/null 2>&1
	for _ in $(seq 200); do
		i2=$(init_of "$g")
		[ -n "$i2" ] && [ "$i2" != "$i1" ] && return 0
		sleep 0.05
	done
	return 1
}
# state G: sets ST to what systemctl is-system-running says once the
# boot is over (30 s at most), and BOOT_MS to the time since $T0
state() {
	ST=
	for _ in $(seq 300); do
		ST=$(vsx "$1" exec systemctl is-system-running 2>/dev/null)
		case $ST in running | degraded | maintenance | stopping) break ;; esac
		sleep 0.1
	done
	BOOT_MS=$(($(ms) - T0))
}
# logged PATTERN FILE: FILE has a line matching PATTERN within 5 s (the
# monitor copies the console's output as it comes)
logged() {
	for _ in $(seq 50); do
		grep -q "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	grep -q "$1" "$2"
}
# sshd_up G: an sshd runs in G (30 s at most); BOOT_MS since $T0
sshd_up() {
	for _ in $(seq 300); do
		vsx "$1" exec pidof sshd >/dev/null 2>&1 && break
		sleep 0.1
	done
	BOOT_MS=$(($(ms) - T0))
	vsx "$1" exec pidof sshd >/dev/null 2>&1
}
# boots G WHAT: gives G a network of its own, starts it, WHAT starts sshd
# (the time is shown, not judged: bench/boot.sh measures it)
boots() {
	mkdir -p "$R$CONFDIR/$1/spaces" && touch "$R$CONFDIR/$1/spaces/net"
	T0=$(ms)
	expect_ok "it starts" vsx "$1" start
	check "$2 starts sshd (waited for 30 s at most)" sshd_up "$1"
	echo "# $2: sshd ran after ${BOOT_MS} ms"
}
# off_inside G CMD...: runs CMD in G and waits (10 s at most) for G to be
# gone; MSG says what is left (empty: nothing), TOOK the time it took
off_inside() {
	g=$1
	shift
	T0=$(ms)
	vsx "$g" exec "$@" >/dev/null 2>&1
	await 60 ! test -e "$R$RUNDIR/$g"
	TOOK=$(($(ms) - T0))
	MSG=$(gone "$g")
}
# start_stop G [own]: starts G again, sshd runs, vs stop succeeds (own:
# through the guest's own init, no kill sequence) and leaves nothing
# sshd_why G: what G runs, as comments, when sshd did not come up
sshd_why() {
	vsx "$1" exec sh -c 'ps -eo pid,stat,args | head -n 40; ls -ld /run/sshd
		! command -v sv >/dev/null || sv status /etc/service/ssh' 2>&1 | sed 's/^/# /'
}
start_stop() {
	expect_ok "$1: it starts again" vsx "$1" start
	sshd_up "$1" || sshd_why "$1"
	check "$1: sshd runs" sshd_up "$1"
	i1=$(init_of "$1")
	T0=$(ms)
	run vsx -v "$1" stop
	took=$(($(ms) - T0))
	# (the time is shown, not judged: a loaded machine stretches it)
	if [ -n "${2:-}" ]; then
		check "$1: vs stop ends it by its init's own shutdown, not the kill sequence (${took} ms)" \
			sh -c "[ '$RC' = 0 ] && ! grep -q 'did not end' '$T/err'"
	else
		same "$1: vs stop (${took} ms; its rc runs under vs's init, which the kill sequence ends by design)" 0 "$RC"
	fi
	msg=$(gone "$1")
	check "$1: nothing left ($msg)" test -z "$msg"
	check "$1: no process of its init is left" test ! -e "/proc/$i1"
}
# gone G: the guest is stopped and left nothing: no mount below $T, no
# group, no process of its init
gone() {
	g=$1
	run vsx "$g" status
	[ "$RC" = 3 ] || { echo "status $RC: $OUT"; return 1; }
	! grep -q " $R$VROOTDIR/$g" /proc/mounts || { echo "a mount is left"; return 1; }
	for d in /sys/fs/cgroup/*/"$CGBASE"/"$g" "$v2/$CGBASE/$g"; do
		[ -e "$d" ] && { echo "group $d is left"; return 1; }
	done
	return 0
}

# ---- systemd: a user-namespace guest, as the build makes it -----------
debian_guest sd systemd systemd-sysv,dbus,openssh-server,procps,iproute2
same "--hostname is its /etc/hostname (systemd sets the name from it)" sd.example "$(cat "$(rootof sd)/etc/hostname")"
same "the build chose style systemd (its /sbin/init is systemd)" systemd "$(cat "$R$CONFDIR/sd/apps/init/style" 2>/dev/null)"
check "and a user namespace (spaces/user)" test -e "$R$CONFDIR/sd/spaces/user"
check "and warned that sharing the host's network keeps sshd from port 22" \
	grep -q "vs: warning: guest 'sd' shares the host's network from a user namespace: its services cannot bind ports below 1024 (sshd fails); give it --interface, or spaces/net for a network of its own" "$T/err"
touch "$R$CONFDIR/sd/spaces/net"

T0=$(ms)
expect_ok "it starts" vsx sd start
state sd
same "it reaches running (in ${BOOT_MS} ms; waited for 30 s at most)" running "$ST"
run vsx sd exec systemctl --failed --plain --no-legend
same "no unit failed" "0|" "$RC|$OUT"
# the mark vs reads to place guests below a unit (cgroup_delegate.c), as
# this real systemd sets it on a Delegate=yes unit's group
run vsx sd exec systemd-run --unit=delegated -p Delegate=yes sleep 4321
d=$(find "$v2/$CGBASE/sd" -type d -name delegated.service | head -n 1)
same "systemd marks a Delegate=yes unit's group (user.delegate from its user namespace)" 1 \
	"$(getfattr --only-values -n user.delegate "$d" 2>/dev/null || getfattr --only-values -n trusted.delegate "$d" 2>/dev/null)"
vsx sd exec systemctl stop delegated >/dev/null 2>&1
run vsx sd exec systemctl is-active ssh dbus systemd-journald systemd-logind
same "ssh, dbus, journald and logind are active" "active active active active" "$(echo $OUT)"
run vsx sd exec sh -c 'ss -Hltn | grep -c ":22 "'
check "sshd listens on port 22 of its own network ($OUT)" test "${OUT:-0}" -ge 1
run vsx sd exec sh -c '. /etc/os-release; echo $VERSION_CODENAME; hostname; systemd-detect-virt -c'
same "exec answers: bookworm, its name, a container" "bookworm sd.example container-other" "$(echo $OUT)"
run vsx sd exec sh -c 'tr "\0" "\n" </proc/1/environ | grep ^container_uuid= | cut -d= -f2 | tr -d -; cat /etc/machine-id'
check "container_uuid in the init's environment, and a machine-id ($(echo $OUT))" \
	sh -c "echo '$(echo $OUT)' | grep -Eq '^[0-9a-f]{32} [0-9a-f]{32}$'"
run vsx sd exec sh -c 'grep ^CapBnd /proc/1/status | cut -f2'
check "its init has CAP_SYS_ADMIN and CAP_SETPCAP of its user namespace ($OUT)" \
	test $((0x$OUT & (1 << 21 | 1 << 8))) = $((1 << 21 | 1 << 8))
LOG=$R$RUNDIR/.console/sd.log
check "the console log shows the boot" logged 'Reached target.*Multi-User System' "$LOG"
check "and the console's login prompt (agetty: the short name)" logged 'sd login:' "$LOG"

T0=$(ms)
check "systemctl reboot inside starts it again (vshelper)" reboot_inside sd systemctl reboot
state sd
same "running again after the reboot (${BOOT_MS} ms)" running "$ST"
check "the console log shows the new boot" logged 'Reached target.*Multi-User System' "$LOG"
check "the one before is kept in sd.log.1" grep -q 'Reached target.*Multi-User System' "$LOG.1"

off_inside sd systemctl poweroff
check "systemctl poweroff inside stops it, nothing left (${MSG:-$TOOK ms})" test -z "$MSG"

expect_ok "it starts again" vsx sd start
state sd
same "running ($BOOT_MS ms)" running "$ST"
i1=$(init_of sd)
T0=$(ms)
expect_ok "vs stop" vsx sd stop
took=$(($(ms) - T0))
check "stops in under 2 s (${took} ms)" test "$took" -lt 2000
check "through systemd's own halt (its console log says so)" grep -q 'Halting system' "$LOG"
msg=$(gone sd)
check "nothing left: no mount, no group ($msg)" test -z "$msg"
check "no process of its init is left" test ! -e "/proc/$i1"

# ---- systemd without a user namespace: what it lacks is named ----------
rm "$R$CONFDIR/sd/spaces/user"
run vsx sd start
check "a systemd guest without a user namespace is warned about" \
	grep -q "vs: warning: guest 'sd' runs systemd without a user namespace and without CAP_SETPCAP: the services that set their own capabilities (journald, logind) fail; give it spaces/user (or SETPCAP in bcapabilities)" "$T/err"
state sd
# journald is restarted a few times before it counts as failed
for _ in $(seq 300); do
	[ "$(vsx sd exec systemctl is-failed systemd-journald systemd-logind 2>/dev/null | paste -sd' ')" = "failed failed" ] && break
	sleep 0.1
done
run vsx sd exec systemctl --failed --plain --no-legend
same "it boots degraded: journald and logind fail ($ST)" "degraded systemd-journald.service systemd-logind.service" \
	"$ST $(awk '$1 ~ /journald.service|logind.service/ { print $1 }' "$T/out" | sort | tr '\n' ' ' | sed 's/ $//')"
expect_ok "stop" vsx sd stop
echo SETPCAP >"$R$CONFDIR/sd/bcapabilities"
run vsx sd start
same "with CAP_SETPCAP added, no warning" "" "$(cat "$T/err")"
state sd
same "and it reaches running" running "$ST"
expect_ok "stop" vsx sd stop
msg=$(gone sd)
check "nothing left ($msg)" test -z "$msg"

# ---- sysvinit: style sysv (the rc scripts under vs's init) ------------
debian_guest sv sysvinit sysvinit-core,openssh-server,procps,iproute2 systemd-sysv
check "style sysv (the default: nothing written), no user namespace" \
	test ! -e "$R$CONFDIR/sv/apps/init/style" -a ! -e "$R$CONFDIR/sv/spaces/user"
check "the build gives it a fresh /run at each start (its fstab)" grep -Eq '^none[[:space:]]+/run[[:space:]]+tmpfs' "$R$CONFDIR/sv/fstab"
boots sv "rc 3"
run vsx sv exec sh -c 'runlevel; hostname; stat -c "%F %a %U" /run/initctl'
same "runlevel 3 in its utmp, its name, the control channel root's only" "N 3|sv.example|fifo 600 root" "$(echo "$OUT" | paste -sd'|')"
run vsx sv exec sh -c 'head -c 384 /dev/zero >/run/initctl; printf "x" >/run/initctl; sleep 0.2; runlevel'
same "garbage on /run/initctl changes nothing" "N 3" "$OUT"
check "the console log shows the rc scripts" logged 'Starting OpenBSD Secure Shell server' "$R$RUNDIR/.console/sv.log"
vsx sv exec touch /run/left-by-the-last-boot
T0=$(ms)
check "reboot inside (through /run/initctl, rc 6) starts it again" reboot_inside sv reboot
check "and sshd runs again (${BOOT_MS} ms)" sshd_up sv
run vsx sv exec sh -c 'test -e /run/left-by-the-last-boot && echo stale; cat /run/sshd.pid; pidof sshd'
check "with a fresh /run: nothing of the last boot, sshd's pid file its own ($(echo $OUT))" \
	sh -c "set -- $(echo $OUT); [ \$# = 2 ] && [ \"\$1\" = \"\$2\" ]"
off_inside sv poweroff
check "poweroff inside (rc 0) stops it, nothing left (${MSG:-$TOOK ms})" test -z "$MSG"
start_stop sv

# ---- OpenRC: Debian's openrc with sysvinit (style sysv: Debian's
# /etc/init.d/rc of openrc maps the runlevels to openrc's) --------------
# debootstrap cannot order openrc's install, so mmdebstrap (apt) builds it
# from a local mirror of the cached packages
if ! cached_tarball bookworm-openrc --include=openrc,sysvinit-core,openssh-server,procps,iproute2 --exclude=systemd-sysv ||
	! command -v mmdebstrap >/dev/null || ! mkmirror "$CACHE" "$T/ormirror"; then
	skip "the OpenRC guest: no cached tarball, mirror or mmdebstrap ($(tail -n 1 "$T/mk.log" 2>/dev/null))"
	finish
	exit
fi
A=(--backend=mmdebstrap --variant=custom
	"--include=$(tr , '\n' <"$T/ormirror/packages" | grep -vx 'sysv-rc\|systemd-sysv' | paste -sd,)"
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
for c in xz gz bz2 lzma zst lz4; do A+=("--aptopt=Acquire::CompressionTypes::$c \"false\""); done
run unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" \
	or build -m debootstrap --hostname or.example -- -d bookworm -m "$T/ormirror" -- "${A[@]}"
check "an OpenRC guest builds offline (mmdebstrap from the cached packages)" test "$RC" = 0
check "openrc is its rc" sh -c "test -x '$(rootof or)/sbin/openrc' && grep -q openrc '$(rootof or)/etc/init.d/rc'"
boots or "openrc default"
run vsx or exec rc-status --runlevel
same "openrc says runlevel default" default "$OUT"
T0=$(ms)
check "reboot inside (rc 6: openrc reboot) starts it again" reboot_inside or reboot
check "and sshd runs again (${BOOT_MS} ms)" sshd_up or
off_inside or poweroff
check "poweroff inside (rc 0: openrc shutdown) stops it, nothing left (${MSG:-$TOOK ms})" test -z "$MSG"
start_stop or

# ---- runit: Debian's runit-init (style runit, chosen by the build) -----
debian_guest ru runit runit-init,openssh-server,procps,iproute2 systemd-sysv
same "the build chose style runit (its /sbin/init is runit-init)" runit "$(cat "$R$CONFDIR/ru/apps/init/style" 2>/dev/null)"
boots ru "runit"
run vsx ru exec sh -c 'tr "\0" " " </proc/1/cmdline'
same "runit is PID 1" "runit" "$(echo $OUT)"
T0=$(ms)
check "reboot inside (runit's stage 3) starts it again" reboot_inside ru reboot
check "and sshd runs again (${BOOT_MS} ms)" sshd_up ru
off_inside ru poweroff
check "poweroff inside stops it, nothing left (${MSG:-$TOOK ms})" test -z "$MSG"
# Debian's stage 3 runs the sysv stop scripts; their sendsigs waits for
# the children runit leaves unreaped meanwhile (about 2 s), as on a host
start_stop ru own

finish
