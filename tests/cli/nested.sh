#!/bin/bash
# vs under a real systemd: a systemd guest (a user namespace, as the build
# makes it) with vs installed in it (the suite's make install, copied
# into its root) runs vs@inner.service for a guest of its own.  systemd's
# side is real here: Type=notify readiness, Delegate=yes (the inner
# guest's group below the unit's, by systemd's own mark), the generator
# at daemon-reload, machined's registration (machinectl list and
# terminate), the stop.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

if [ "$(dpkg --print-architecture 2>/dev/null)" != amd64 ]; then
	echo "SKIP: the tarballs are made for amd64"
	exit 77
fi
mkdir -p "$R/etc"
echo "root:1000000:655360" >"$R/etc/subuid"
echo "root:2000000:655360" >"$R/etc/subgid"
LIBS=libconfuse2,libltdl7,libcap2,libseccomp2,libmnl0,libarchive13,libattr1,libssl3
debian_guest h sdvs "systemd-sysv,dbus,systemd-container,procps,busybox-static,$LIBS"
check "and a user namespace (spaces/user)" test -e "$R$CONFDIR/h/spaces/user"
mkdir -p "$R$CONFDIR/h/spaces" && touch "$R$CONFDIR/h/spaces/net"
# what vs needs of the guest's filter to give guests of its own a root
mkdir -p "$R$CONFDIR/h/apps/seccomp" && echo pivot_root >"$R$CONFDIR/h/apps/seccomp/allow"
H=$(rootof h)

# vs in the guest, owned by the guest's root (its user namespace's): a
# copy of the suite's one make install (tests/Makefile.inc, check_DATA);
# a make install of its own would relink the modules in the build tree
# while other tests copy them (CI: images.sh copied an empty skeleton.so)
cp -a "${VS_INSTALLED:?run through make check}/." "$H/"
check "make install into the guest's root" test -x "$H/usr/local/bin/vs"
chown -R "$(stat -c %u:%g "$H/etc")" "$H/usr/local"

expect_ok "the systemd guest starts" vsx h start
for _ in $(seq 300); do
	ST=$(vsx h exec systemctl is-system-running 2>/dev/null)
	case $ST in running | degraded) break ;; esac
	sleep 0.1
done
same "it runs" running "$ST"
in_h() { run vsx h exec sh -c "PATH=/usr/local/sbin:/usr/local/bin:\$PATH; $1"; }
in_h 'ldconfig && systemctl daemon-reload && vs --version'
check "vs runs in it" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'

in_h 'vs inner build -m skeleton --initstyle plain -- sh -c "
	mkdir -p \$VDIR/bin \$VDIR/sbin \$VDIR/tmp
	cp /bin/busybox \$VDIR/bin/
	for a in sh cat sleep poweroff; do ln -s busybox \$VDIR/bin/\$a; done
	ln -s ../bin/busybox \$VDIR/sbin/init
	printf \"::ctrlaltdel:/bin/busybox poweroff -f\n\" >\$VDIR/etc/inittab
	echo nested >\$VDIR/etc/guest-marker"
	vs dep build -m skeleton'
check "vs in it builds a guest" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
same "mknod is refused in a user namespace: each build says so once" 2 \
	"$(printf '%s\n' "$ERR" | grep -c "no device nodes in '.*/dev': mknod is refused here")"
in_h 'mkdir -p /usr/local/etc/vservers/inner/apps/init && echo dep >/usr/local/etc/vservers/inner/apps/init/depends && systemctl daemon-reload && systemctl show -p After vs@inner.service'
check "the generator's ordering, read by systemd: vs@inner after vs@dep" out_has 'vs@dep.service'
in_h 'rm /usr/local/etc/vservers/inner/apps/init/depends; systemctl daemon-reload; systemctl start vs@inner.service; systemctl is-active vs@inner.service'
same "systemctl start vs@inner: active once the guest runs (Type=notify)" "0|active" "$RC|$OUT"
[ "$RC" = 0 ] || { printf '%s\n' "$ERR" | sed 's/^/# /'; vsx h exec journalctl -u vs@inner --no-pager 2>&1 | tail -20 | sed 's/^/# /'; }
in_h 'vs inner exec cat /etc/guest-marker'
same "its guest answers" "0|nested" "$RC|$OUT"
in_h 'cat /proc/$(systemctl show -p MainPID --value vs@inner.service)/cgroup | sed -n "s/^0:://p"; p=$(awk "\$1 == \"init\" { print \$2 }" /usr/local/var/run/vservers/inner); sed -n "s/^0:://p" /proc/$p/cgroup'
same "Delegate=yes: the monitor in the unit's supervisor leaf, the guest below the unit" \
	"/system.slice/system-vs.slice/vs@inner.service|/system.slice/system-vs.slice/vs@inner.service/inner" \
	"$(printf '%s\n' "$OUT" | paste -sd'|')"
in_h 'machinectl list --no-legend --no-pager'
check "machinectl lists it" out_has '^inner '
in_h 'machinectl status inner --no-pager'
check "machinectl status: its unit, its leader (the init), class container" \
	sh -c 'printf "%s\n" "$1" | grep -q "Unit: vs@inner.service" && printf "%s\n" "$1" | grep -q "Leader: $2" && printf "%s\n" "$1" | grep -q "container"' \
	- "$OUT" "$(vsx h exec sh -c 'awk "\$1 == \"init\" { print \$2 }" /usr/local/var/run/vservers/inner' 2>/dev/null)"
in_h 'machinectl terminate inner; for i in $(seq 300); do case $(systemctl is-active vs@inner.service) in inactive|failed) break;; esac; sleep 0.1; done; systemctl is-active vs@inner.service; vs inner running; echo $?'
same "machinectl terminate stops the unit and the guest" "inactive|1" "$(printf '%s\n' "$OUT" | paste -sd'|')"
[ "$(printf '%s\n' "$OUT" | head -n 1)" = inactive ] ||
	vsx h exec sh -c 'journalctl -u vs@inner --no-pager | tail -n 15; systemctl status vs@inner --no-pager | tail -n 12' 2>&1 | sed 's/^/# /'
in_h 'echo virt_uptime >/usr/local/etc/vservers/inner/cflags; vs inner start'
check "a guest that names virt_uptime still fails where no time namespace can be made" \
	err_has nz "cannot create the time namespace of guest 'inner'"
expect_ok "the systemd guest stops" vsx h stop
finish
