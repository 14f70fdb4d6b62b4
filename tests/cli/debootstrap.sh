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
exit "${STUB_RC:-0}"
EOS
chmod 755 "$T/bin/debootstrap"
stub() { env PATH="$T/bin:$PATH" STUB_LOG="$T/args" "$@"; }
rootof() { printf '%s' "$R$VROOTDIR/$1"; }

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
expect_error "a failing debootstrap fails the build" 1 "debootstrap failed with status 3 (suite 'bookworm', mirror 'http://mirror.example/debian')" \
	stub env STUB_RC=3 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" f1 build -m debootstrap -- -d bookworm
check "failure: nothing left" test ! -e "$(rootof f1)" -a ! -e "$R$CONFDIR/f1"
run stub env STUB_RC=3 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" f2 build -m debootstrap --keep -- -d bookworm
check "failure with --keep: kept" test "$RC" = 1 -a -d "$(rootof f2)" -a -L "$R$CONFDIR/f2/vdir"
expect_error "no suite" 1 "debootstrap: no suite given (-d <suite>)" vsx f3 build -m debootstrap
expect_error "a bad suite" 1 "debootstrap: invalid suite '../x'" vsx f3 build -m debootstrap -- -d ../x
expect_error "an unknown option" 1 "debootstrap: unknown option '-x'" vsx f3 build -m debootstrap -- -x y
check "bad options: nothing made" test ! -e "$(rootof f3)" -a ! -e "$R$CONFDIR/f3"
rm -r "$R$CONFDIR/.defaults/apps/debootstrap" "$R$CONFDIR/.distributions"

# a real guest from a cached tarball (made once, with the Debian mirror)
CACHE=$top_builddir/tests/cache/bookworm-minbase.tgz
if [ ! -s "$CACHE" ] && command -v debootstrap >/dev/null; then
	mkdir -p "$(dirname "$CACHE")"
	timeout 600 debootstrap --variant=minbase --make-tarball="$CACHE.tmp" bookworm \
		"$T/mk" http://deb.debian.org/debian >"$T/mk.log" 2>&1 && mv "$CACHE.tmp" "$CACHE"
	rm -rf "$T/mk" "$CACHE.tmp"
fi
if [ -s "$CACHE" ] && command -v debootstrap >/dev/null; then
	expect_ok "a minbase guest from the cached tarball" vsx deb build -m debootstrap --hostname deb.example -- -d bookworm -- --variant=minbase "--unpack-tarball=$CACHE"
	check "it is Debian 12" grep -q '^12' "$(rootof deb)/etc/debian_version"
	check "its /dev is the safe set" test -c "$(rootof deb)/dev/null" -a ! -e "$(rootof deb)/dev/sda"
	check "no debootstrap mount is left on the host" sh -c "! grep -q '$(rootof deb)' /proc/mounts"
	check "its dpkg database lists dpkg" grep -q "^Package: dpkg$" "$(rootof deb)/var/lib/dpkg/status"
	expect_ok "it starts (an idle init: minbase has no rc)" vsx deb start
	run vsx deb exec sh -c '. /etc/os-release; echo $VERSION_CODENAME; hostname'
	same "commands run in it" "bookworm
deb.example" "$OUT"
	run vsx deb exec dpkg -l dpkg
	check "its dpkg works" test "$RC" = 0
	expect_ok "it stops" vsx deb stop
else
	echo "# SKIP the real debootstrap run: no cached tarball and no mirror reachable ($(tail -n 1 "$T/mk.log" 2>/dev/null))"
fi
finish
