#!/bin/bash
# Build method "debootstrap": the mirror and options lookups (with a stub
# debootstrap that records its command line), failures, and a real
# minbase guest from a cached tarball, started and entered.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

mkdir -p "$T/bin"
cat >"$T/bin/debootstrap" <<'EOS'
#!/bin/sh
printf '%s\n' "$*" >"$STUB_LOG"
for a; do root=$prev; prev=$a; done
if [ -n "${STUB_HOSTILE:-}" ]; then # links out of the tree, to host paths
	mkdir -p "$root/etc"
	ln -s "$STUB_HOSTILE/host-hostname" "$root/etc/hostname"
	ln -s "$STUB_HOSTILE/hostsbin" "$root/sbin"
fi
exit "${STUB_RC:-0}"
EOS
chmod 755 "$T/bin/debootstrap"
stub() { env PATH="$T/bin:$PATH" STUB_LOG="$T/args" "$@"; }

expect_ok "stub: the shipped mirror" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" s1 build -m debootstrap -- -d bookworm
same "stub: command line" "bookworm $(rootof s1) http://deb.debian.org/debian" "$(cat "$T/args")"
mkdir -p "$R$CONFDIR/.defaults/apps/debootstrap"
echo http://mirror.example/debian >"$R$CONFDIR/.defaults/apps/debootstrap/mirror"
echo "--variant=minbase --include=less" >"$R$CONFDIR/.defaults/apps/debootstrap/options"
expect_ok "stub: .defaults mirror and options" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" s2 build -m debootstrap -- -d bookworm -- --arch=amd64
same "stub: configured options before the user's" "--variant=minbase --include=less --arch=amd64 bookworm $(rootof s2) http://mirror.example/debian" "$(cat "$T/args")"
mkdir -p "$R$CONFDIR/.distributions/trixie"
echo http://dist.example/debian >"$R$CONFDIR/.distributions/trixie/debootstrap.mirror"
echo "--variant=buildd" >"$R$CONFDIR/.distributions/trixie/debootstrap.options"
expect_ok "stub: the distribution's mirror and options first" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" s3 build -m debootstrap -- -d trixie
same "stub: .distributions wins" "--variant=buildd trixie $(rootof s3) http://dist.example/debian" "$(cat "$T/args")"
expect_ok "stub: -m wins, a local path is a file:// mirror" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" s4 build -m debootstrap -- -d trixie -m /srv/mirror -s /usr/share/debootstrap/scripts/sid
same "stub: -m and -s" "--variant=buildd trixie $(rootof s4) file:///srv/mirror /usr/share/debootstrap/scripts/sid" "$(cat "$T/args")"
check "stub: /dev reset to the safe set" test -c "$(rootof s4)/dev/null" -a -L "$(rootof s4)/dev/fd"
# a tree whose /etc/hostname and /sbin link to host paths
echo host-name >"$T/host-hostname"
mkdir -p "$T/hostsbin" && ln -s /lib/systemd/systemd "$T/hostsbin/init"
expect_ok "stub: --hostname over a tree whose /etc/hostname and /sbin link out" \
	stub env STUB_HOSTILE="$T" "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" s5 build -m debootstrap --hostname s5.example -- -d bookworm
same "stub: the host's file behind the link is untouched" host-name "$(cat "$T/host-hostname")"
same "stub: the tree's /etc/hostname is a file of its own with the name" "regular file|s5.example" "$(stat -c %F "$(rootof s5)/etc/hostname")|$(cat "$(rootof s5)/etc/hostname")"
check "stub: the init style is not read from the host's /sbin/init (nothing detected)" test ! -e "$R$CONFDIR/s5/apps/init/style"
expect_error "a failing debootstrap fails the build" 1 "debootstrap failed with status 3 (suite 'bookworm', mirror 'http://mirror.example/debian')" \
	stub env STUB_RC=3 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" f1 build -m debootstrap -- -d bookworm
check "failure: nothing left" test ! -e "$(rootof f1)" -a ! -e "$R$CONFDIR/f1"
run stub env STUB_RC=3 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" f2 build -m debootstrap --keep -- -d bookworm
check "failure with --keep: kept" test "$RC" = 1 -a -d "$(rootof f2)" -a -L "$R$CONFDIR/f2/vdir"
if [ -d /usr/share/debootstrap/scripts ]; then
	expect_error "an unknown suite" 1 "debootstrap: unknown suite 'nosuch' (no '/usr/share/debootstrap/scripts/nosuch'; -s <script> names one)" vsx f3 build -m debootstrap -- -d nosuch
fi
expect_error "no suite" 1 "debootstrap: no suite given (-d <suite>)" vsx f3 build -m debootstrap
expect_error "a bad suite" 1 "debootstrap: invalid suite '../x'" vsx f3 build -m debootstrap -- -d ../x
expect_error "an unknown option" 1 "debootstrap: unknown option '-x'" vsx f3 build -m debootstrap -- -x y
check "bad options: nothing made" test ! -e "$(rootof f3)" -a ! -e "$R$CONFDIR/f3"
# mmdebstrap instead (stub)
cp "$T/bin/debootstrap" "$T/bin/mmdebstrap"
expect_ok "stub: --backend=mmdebstrap" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" m1 build -m debootstrap -- -d trixie -m /srv/mirror -- --backend=mmdebstrap --include=less
same "stub: mmdebstrap fills the skeleton, a local mirror is copy://" "--skip=check/empty --variant=buildd --include=less trixie $(rootof m1) copy:///srv/mirror" "$(cat "$T/args")"
printf 'plugin "debootstrap" {\n  backend = "mmdebstrap"\n}\n' >"$R$CONFFILE"
expect_ok "stub: vs.conf picks mmdebstrap" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" m2 build -m debootstrap -- -d bookworm
same "stub: mmdebstrap's command line" "--skip=check/empty --variant=minbase --include=less bookworm $(rootof m2) http://mirror.example/debian" "$(cat "$T/args")"
expect_ok "stub: --backend=debootstrap overrides vs.conf" stub "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" m3 build -m debootstrap -- -d bookworm -- --backend=debootstrap
same "stub: debootstrap again" "--variant=minbase --include=less bookworm $(rootof m3) http://mirror.example/debian" "$(cat "$T/args")"
mkdir -p "$T/nomm"
for f in /usr/bin/*; do [ "${f##*/}" = mmdebstrap ] || ln -s "$f" "$T/nomm/"; done
expect_error "mmdebstrap missing" 1 "debootstrap: mmdebstrap is not installed (Debian package mmdebstrap)" env PATH="$T/nomm" "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" m4 build -m debootstrap -- -d bookworm
rm "$R$CONFFILE"

# debootstrap not installed: the .deb of .defaults/apps/debootstrap/uri,
# unpacked without dpkg (a stub debootstrap packed with dpkg-deb)
mkdir -p "$T/sbin" "$T/deb/usr/sbin" "$T/deb/usr/share/debootstrap/scripts" "$T/deb/DEBIAN"
for f in /usr/sbin/* /sbin/*; do
	[ "${f##*/}" = debootstrap ] || ln -sf "$f" "$T/sbin/" 2>/dev/null
done
nodb() { env PATH="$T/sbin:/usr/bin:/bin" STUB_LOG="$T/args" "$@"; }
cat >"$T/deb/usr/sbin/debootstrap" <<'EOS'
#!/bin/sh
printf '%s\n' "$0 $* | $(cat "$DEBOOTSTRAP_DIR/arch") | $(cat "$DEBOOTSTRAP_DIR/scripts/sid")" >"$STUB_LOG"
EOS
chmod 755 "$T/deb/usr/sbin/debootstrap"
echo "the sid script" >"$T/deb/usr/share/debootstrap/scripts/sid"
printf 'Package: debootstrap\nVersion: 9.9\nArchitecture: all\nMaintainer: vs <vs@example.org>\nDescription: stub\n' >"$T/deb/DEBIAN/control"
run dpkg-deb -Zxz -b "$T/deb" "$T/debootstrap_9.9_all.deb"
check "a debootstrap .deb is made" test "$RC" = 0
expect_error "not installed and no uri" 1 "debootstrap: debootstrap is not installed and no .defaults/apps/debootstrap/uri names a debootstrap .deb" \
	nodb "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" u1 build -m debootstrap -- -d bookworm
echo "$T/debootstrap_9.9_all.deb" >"$R$CONFDIR/.defaults/apps/debootstrap/uri"
run nodb "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" u1 build -m debootstrap -- -d bookworm
check "the .deb's debootstrap runs" test "$RC" = 0
case $(uname -m) in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) ARCH=$(uname -m) ;; esac
check "... unpacked in a temporary directory, with its arch and scripts" grep -Eq "^/tmp/vs-debootstrap\.[A-Za-z0-9]{6}/usr/sbin/debootstrap --variant=minbase --include=less bookworm $(rootof u1) http://mirror.example/debian \| $ARCH \| the sid script$" "$T/args"
check "... which is removed afterwards" test ! -e "$(awk '{ print $1 }' "$T/args" | sed 's|/usr/sbin/debootstrap$||')"
echo "file://$T/debootstrap_9.9_all.deb" >"$R$CONFDIR/.defaults/apps/debootstrap/uri"
run nodb "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" u2 build -m debootstrap -- -d bookworm
check "a file:// uri" test "$RC" = 0
echo "gopher://example.org/debootstrap.deb" >"$R$CONFDIR/.defaults/apps/debootstrap/uri"
expect_error "an unsupported uri" 1 "debootstrap: unsupported uri 'gopher://example.org/debootstrap.deb'" \
	nodb "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" u3 build -m debootstrap -- -d bookworm
echo "not a deb" >"$T/broken.deb"
echo "$T/broken.deb" >"$R$CONFDIR/.defaults/apps/debootstrap/uri"
expect_error "a broken .deb" 1 "debootstrap: cannot read '$T/broken.deb'" \
	nodb "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" u3 build -m debootstrap -- -d bookworm
check "no temporary directory is left" test -z "$(find /tmp -maxdepth 1 -name 'vs-debootstrap.*' -newer "$T/broken.deb")"
rm -r "$R$CONFDIR/.defaults/apps/debootstrap" "$R$CONFDIR/.distributions"

# Real guests, offline (unshare -n), from a local mirror made of a tarball
# cached under /var/tmp (made once from the Debian mirror with
# --make-tarball; remade when missing or corrupt).  The mirror keeps
# Debian's signed Release, so debootstrap checks the signature.
cached_tarball bookworm-minbase
if ! tarball_ok || ! command -v debootstrap >/dev/null; then
	skip "the real debootstrap runs: no cached tarball and the Debian mirror is unreachable ($(tail -n 1 "$T/mk.log" 2>/dev/null))"
elif [ "$(dpkg --print-architecture)" != amd64 ]; then
	skip "the real debootstrap runs: the cached mirror is for amd64"
else
	TOOL_OUTPUT=1 expect_error "an unreachable mirror (offline)" 1 "debootstrap failed with status 1 (suite 'bookworm', mirror 'http://127.0.0.1:9/debian')" \
		unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" f5 build -m debootstrap -- -d bookworm -m http://127.0.0.1:9/debian
	run mkmirror "$CACHE" "$T/mirror"
	check "a local mirror from the cached tarball" test "$RC" = 0
	run unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" deb build -m debootstrap --hostname deb.example -- -d bookworm -m "$T/mirror" -- --variant=minbase
	check "a minbase guest, offline, from the local mirror" test "$RC" = 0
	check "debootstrap checked the Release signature" grep -q '^I: Valid Release signature' "$T/out"
	check "it is Debian 12" grep -q '^12' "$(rootof deb)/etc/debian_version"
	check "its /dev is the safe set" test -c "$(rootof deb)/dev/null" -a ! -e "$(rootof deb)/dev/sda"
	check "no debootstrap mount is left on the host" sh -c "! grep -q '$(rootof deb)' /proc/mounts"
	check "its dpkg database lists dpkg" grep -q "^Package: dpkg$" "$(rootof deb)/var/lib/dpkg/status"
	expect_ok "it starts (an idle init: minbase has no rc)" vsx deb start
	run vsx deb exec sh -c '. /etc/os-release; echo $VERSION_CODENAME; hostname'
	same "commands run in it" "bookworm
deb.example" "$OUT"
	run vsx deb exec dpkg -l dpkg
	check "dpkg -l works inside" sh -c "test $RC = 0 && printf '%s' \"\$1\" | grep -q '^ii  dpkg '" sh "$OUT"
	expect_ok "it stops" vsx deb stop

	# the same mirror with mmdebstrap: the packages of debootstrap's minbase
	A=(--backend=mmdebstrap --variant=custom "--include=$(cat "$T/mirror/packages")"
		--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
	for c in xz gz bz2 lzma zst lz4; do # the tarball holds the plain Packages only
		A+=("--aptopt=Acquire::CompressionTypes::$c \"false\"")
	done
	run unshare -n "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" mm build -m debootstrap -- -d bookworm -m "$T/mirror" -- "${A[@]}"
	check "mmdebstrap builds a guest, offline, from the same mirror" test "$RC" = 0
	check "mmdebstrap: its dpkg database lists dpkg" grep -q "^Package: dpkg$" "$(rootof mm)/var/lib/dpkg/status"
	check "mmdebstrap: /dev is the safe set" test -c "$(rootof mm)/dev/null" -a ! -e "$(rootof mm)/dev/console"
	check "mmdebstrap: no mount is left" sh -c "! grep -q '$(rootof mm)' /proc/mounts"
	expect_ok "mmdebstrap: it starts" vsx mm start
	run vsx mm exec dpkg -l dpkg
	check "mmdebstrap: dpkg -l works inside" test "$RC" = 0
	expect_ok "mmdebstrap: it stops" vsx mm stop
fi
finish
