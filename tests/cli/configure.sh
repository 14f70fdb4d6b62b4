#!/bin/bash
# ./configure: the default prefix puts everything under /usr/local, the
# path options are honoured, and a missing library names its Debian
# package.  Built in a copy of the source tree.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

S=$T/src
mkdir -p "$S"
tar -C "$srcdir" --exclude=./.git --exclude=./demo-root --exclude=./demo-root.modules \
	-cf - . | tar -C "$S" -xf -
cd "$S" || exit 99
[ -f Makefile ] && make -s distclean >/dev/null 2>&1
paths() { ./vs --sysroot "$T/empty" paths | awk '{ printf "%s=%s\n", $1, $2 }' | grep -v '^sysroot='; }
mkdir -p "$T/empty"

run ./configure -q
check "configure with defaults" test "$RC" = 0
run make -s vs
check "make vs" test "$RC" = 0
same "default paths under /usr/local" "conffile=/usr/local/etc/vs.conf
confdir=/usr/local/etc/vservers
vrootdir=/vservers
rundir=/usr/local/var/run/vservers
cachedir=/usr/local/var/cache/vservers
lockdir=/var/lock
plugindir=/usr/local/lib/vs/plugins
defaults=/usr/local/share/vs/defaults
distributions=/usr/local/share/vs/distributions" "$(paths)"

run ./configure -q --prefix=/opt/vs --sysconfdir=/etc --localstatedir=/var \
	--runstatedir=/run --with-vrootdir=/srv/guests --with-plugindir=/opt/vs-plugins
check "configure with paths" test "$RC" = 0
run make -s vs
same "configured paths honoured" "conffile=/etc/vs.conf
confdir=/etc/vservers
vrootdir=/srv/guests
rundir=/run/vservers
cachedir=/var/cache/vservers
lockdir=/var/lock
plugindir=/opt/vs-plugins
defaults=/opt/vs/share/vs/defaults
distributions=/opt/vs/share/vs/distributions" "$(paths)"

# a library that cannot be found: the message names the Debian package
run env PKG_CONFIG_LIBDIR=/nonexistent PKG_CONFIG_PATH= ./configure -q
check "missing library: configure fails" test "$RC" != 0
check "missing library: names the package" \
	grep -q "libconfuse not found: install the Debian package libconfuse-dev" "$T/err"

finish
