#!/bin/bash
# The Debian package (debian/): built from the distribution tree with
# dpkg-buildpackage, lintian finds no error, then installed with dpkg into
# a fresh Debian 12 root (debootstrap from cached packages), where the
# packaged vs builds, starts, enters and stops a guest; installing it again
# (an upgrade) leaves the running guest alone; purged, it leaves nothing
# but the admin's guests and /etc/vservers.  Everything happens below the
# test's own directory: the root is used through chroot in a mount
# namespace of its own, its guests' cgroups under the test's base.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

for t in dpkg-buildpackage dh lintian debootstrap unshare; do
	command -v $t >/dev/null || { echo "SKIP: $t is not installed (scripts/deps.sh installs it)"; exit 77; }
done

# ---- the build -------------------------------------------------------
S=$T/src
mkdir -p "$S"
make -s -C "$top_builddir" distdir distdir="$S/vs" >"$T/distdir.log" 2>&1
check "the distribution tree has debian/" test -x "$S/vs/debian/rules"
# a clean environment: make check's own (MAKEFLAGS with TESTS=) would
# reach the package's make check
(cd "$S/vs" && env -i PATH="$PATH" HOME="$T" LC_ALL=C.UTF-8 \
	dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$T/build.log" 2>&1
RC=$?
check "dpkg-buildpackage -us -uc -b" test "$RC" = 0
[ "$RC" = 0 ] || tail -n 30 "$T/build.log" | sed 's/^/# /'
DEBS="$S/libvs0_0.1.0_amd64.deb $S/vs_0.1.0_amd64.deb $S/libvs-dev_0.1.0_amd64.deb"
for d in $DEBS; do check "built $(basename "$d")" test -s "$d"; done
run lintian --fail-on error "$S/vs_0.1.0_amd64.changes"
same "lintian: no error, no warning" "0|" "$RC|$(printf '%s\n' "$OUT" | grep -E '^[EW]: ')"
run dpkg-deb -f "$S/vs_0.1.0_amd64.deb" Depends
check "vs depends on libvs0 of its version ($OUT)" out_has 'libvs0 (= 0.1.0)'
run dpkg-deb -c "$S/libvs-dev_0.1.0_amd64.deb"
check "libvs-dev: the plugin headers and vs-plugin.pc" \
	sh -c 'printf "%s\n" "$1" | grep -q "/usr/include/vs/plugin.h" && printf "%s\n" "$1" | grep -q "pkgconfig/vs-plugin.pc"' - "$OUT"

# ---- a fresh Debian 12 with what vs needs at run time ----------------
DEPS=libconfuse2,libcap2,libattr1,libssl3,libarchive13,libmnl0,libseccomp2,libltdl7,libjansson4,busybox-static
if ! cached_tarball bookworm-vsdeb2 --include=$DEPS; then
	skip "install, smoke test, purge: no debootstrap tarball (the Debian mirror is unreachable)"
	echo "$PASSES passed, $FAILS failed, $SKIPS sections skipped"
	exit $((FAILS > 0))
fi
D=$T/debian-root
debootstrap --variant=minbase --include=$DEPS --unpack-tarball="$CACHE" bookworm "$D" >"$T/unpack.log" 2>&1 ||
	{ tail -n 20 "$T/unpack.log"; exit 99; }
mkdir -p "$D/debs" && cp $DEBS "$D/debs/"
echo host-secret >"$T/host-marker"
echo host-secret >"$D/host-marker"
# guests the packaged vs left running when a check failed
trap 'for f in "$D"/run/vservers/*; do
	[ -f "$f" ] && awk '"'"'$1 == "monitor" || $1 == "init" { print $2 }'"'"' "$f" | xargs -r kill -9 2>/dev/null
done; cleanup' EXIT
# in_root CMD: CMD as root of the new system, in a mount namespace of its
# own where that root is the top, as on a booted system (pivot_root; /proc,
# /sys and /dev of the host); in_chroot CMD: the same in a plain chroot
# (the host's tree above it).  Their stdout, stderr and status as run's
root_cmd() {
	run unshare -m --propagation private sh -c '
		d=$1 how=$2 cmd=$3
		mount --bind "$d" "$d" && mount --rbind /proc "$d/proc" && mount --rbind /sys "$d/sys" &&
			mount --rbind /dev "$d/dev" || exit 99
		if [ "$how" = pivot ]; then
			cd "$d" && pivot_root . mnt && umount -l /mnt || exit 99
			d=/
		fi
		exec chroot "$d" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$cmd"' - "$D" "$1" "$2"
}
in_root() { root_cmd pivot "$1"; }
in_chroot() { root_cmd chroot "$1"; }
# what the root holds, but the package database, logs, caches and /run
# (a tmpfs on a running system)
tree() {
	(cd "$D" && find . -path ./proc -prune -o -path ./sys -prune -o -path ./dev -prune -o \
		-path ./run -prune -o -path ./tmp -prune -o -path ./debs -prune -o \
		-path ./var/lib/dpkg -prune -o -path ./var/log -prune -o \
		-path ./etc/ld.so.cache -prune -o -path ./var/cache/ldconfig -prune -o \
		-printf '%p|%y|%m|%U|%G|%l\n' | LC_ALL=C sort)
}
tree >"$T/before"

in_root 'dpkg -i /debs/libvs0_*.deb /debs/vs_*.deb /debs/libvs-dev_*.deb'
check "dpkg -i of the three packages" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | tail -n 20 | sed 's/^/# /'
in_root 'vs --version && dpkg-query -W -f "\${Status}\n" vs libvs0 libvs-dev'
same "installed: vs runs, the three packages are installed" "0|3" "$RC|$(printf '%s\n' "$OUT" | grep -c 'install ok installed')"
in_root 'readlink /usr/libexec/util-vserver/vunify; ls /usr/lib/x86_64-linux-gnu/vs/plugins; cat /var/lib/dpkg/info/vs.conffiles; readlink /lib/systemd/system-generators/vs-systemd-generator'
check "util-vserver's pkglib names link to vs" out_has -x '../../bin/vs'
check "the systemd generator is a name of vs" out_has -x '/usr/bin/vs'
check "the plugins are in the multiarch plugin directory" out_has -x 'skeleton.so'
check "conffiles: /etc/vs.conf and /etc/default/vservers-default" \
	sh -c 'printf "%s\n" "$1" | grep -qx /etc/vs.conf && printf "%s\n" "$1" | grep -qx /etc/default/vservers-default' - "$OUT"
in_root 'ls /etc/rc2.d; ls /etc/systemd/system/multi-user.target.wants'
check "vservers-default is enabled at boot (rc2.d and multi-user.target.wants)" \
	sh -c '[ "$(printf "%s\n" "$1" | grep -c vservers-default)" = 2 ]' - "$OUT"
check "the maintainer scripts started nothing" test -z "$(ls "$D/run/vservers" 2>/dev/null)"

# the guests' cgroups go below this test's base
printf 'cgroup_base = "%s"\n' "$CGBASE" >>"$D/etc/vs.conf"
# its init first tries a double chroot (CAP_SYS_CHROOT is a guest's) to
# markers of the new system and of the real host
install -m 0755 "$top_builddir/tests/fixtures/hostile" "$D/debs/hostile"
in_root 'vs smoke build -m skeleton --initstyle plain -- sh -c "
	mkdir -p \$VDIR/bin \$VDIR/sbin \$VDIR/tmp
	cp /bin/busybox /debs/hostile \$VDIR/bin/
	for a in sh cat sleep poweroff halt; do ln -s busybox \$VDIR/bin/\$a; done
	ln -s ../bin/busybox \$VDIR/sbin/init
	printf \"::sysinit:/bin/hostile chroot-out /host-marker\n::sysinit:/bin/hostile chroot-out '"$T"'/host-marker\n\" >\$VDIR/etc/inittab
	echo packaged >\$VDIR/etc/guest-marker"'
check "the packaged vs builds a guest" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
CONSOLE=$D/run/vservers/.console/smoke.log
in_chroot 'vs smoke start'
check "vs in a chroot refuses to start it (the guest could climb out): one line" \
	sh -c '[ "$1" != 0 ] && [ "$(printf "%s\n" "$2" | wc -l)" = 1 ] && printf "%s" "$2" | grep -q "vs runs in a chroot"' - "$RC" "$ERR"
check "nothing of the guest ran" test ! -s "$CONSOLE"
in_root 'vs smoke start'
check "starts it" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
for _ in $(seq 50); do [ "$(grep -c 'after a double chroot' "$CONSOLE" 2>/dev/null)" = 2 ] && break; sleep 0.1; done
same "a double chroot inside reaches neither the system's nor the host's marker" \
	"contained after a double chroot|contained after a double chroot" "$(grep 'double chroot' "$CONSOLE" | tr -d '\r' | paste -sd'|')"
in_root 'vs smoke exec cat /etc/guest-marker'
same "runs a command in it" "0|packaged" "$RC|$OUT"
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | sed 's/^/# /'
init1=$(awk '$1 == "init" { print $2 }' "$D/run/vservers/smoke" 2>/dev/null)
in_root 'dpkg -i /debs/libvs0_*.deb /debs/vs_*.deb /debs/libvs-dev_*.deb'
check "installed again (an upgrade) while the guest runs" test "$RC" = 0
check "the guest's init is untouched (pid ${init1:-none})" test -n "$init1" -a -d "/proc/${init1:-none}"
in_root 'vs smoke stop'
check "stops it" test "$RC" = 0
check "its init is gone" test ! -d "/proc/${init1:-none}"

in_root 'dpkg --purge libvs-dev vs libvs0'
check "dpkg --purge" test "$RC" = 0
[ "$RC" = 0 ] || printf '%s\n' "$ERR" | tail -n 20 | sed 's/^/# /'
in_root 'cat /etc/guest-marker 2>/dev/null; cat /vservers/smoke/etc/guest-marker; ls /etc/vservers'
same "the admin's guest and its configuration are kept" "packaged|smoke" "$(printf '%s\n' "$OUT" | paste -sd'|')"
tree >"$T/after"
left=$(diff "$T/before" "$T/after" | grep '^>' | grep -v -e '^> \./vservers[/|]' -e '^> \./etc/vservers[/|]')
same "nothing else is left" "" "$left"
gone=$(diff "$T/before" "$T/after" | grep '^<')
same "and nothing of the system is gone" "" "$gone"

echo "$PASSES passed, $FAILS failed, $SKIPS sections skipped"
exit $((FAILS > 0))
