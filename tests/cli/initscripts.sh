#!/bin/bash
# The init integration: unit files pass systemd-analyze verify (where it
# is installed), the SysV initscript passes a shell syntax check and runs
# start/status/stop against a temporary root, make install puts them and
# start-vservers in place.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

U=$top_builddir/conf.d/systemd
for f in vs@.service vservers@.service vservers-default.service; do
	check "$f generated" test -f "$U/$f"
	check "$f names the installed vs" grep -q "^ExecStart=/.*/vs " "$U/$f"
	check "$f: no KillMode=none, no endless start or stop" \
		sh -c '! grep -Eq "^(KillMode=none|Timeout(Start|Stop)?Sec=(0|infinity))$" "$1"' - "$U/$f"
	check "$f: a stop timeout" grep -Eq "^TimeoutStopSec=[1-9]" "$U/$f"
done
check "vs@ uses the foreground monitor" grep -q "^ExecStart=.* %i start --foreground$" "$U/vs@.service"
if command -v systemd-analyze >/dev/null; then
	# verify needs the binaries the units name: point them at the build
	mkdir -p "$T/units"
	for f in vs@.service vservers@.service vservers-default.service; do
		sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/vs |\1$top_builddir/.libs/vs |" "$U/$f" >"$T/units/$f"
	done
	cp "$T/units/vs@.service" "$T/units/vs@web.service"
	cp "$T/units/vservers@.service" "$T/units/vservers@default.service"
	run env SYSTEMD_LOG_LEVEL=err systemd-analyze verify --man=no \
		"$T/units/vs@web.service" "$T/units/vservers@default.service" \
		"$T/units/vservers-default.service"
	same "systemd-analyze verify" "0|" "$RC|$(grep -v -e 'Failed to connect' -e 'ignoring' "$T/err" | grep -i -e error -e invalid -e unknown)"
else
	skip "systemd-analyze: not installed"
fi

I=$top_builddir/conf.d/sysv/vservers-default
check "initscript: sh -n" sh -n "$I"
check "initscript: bash -n" bash -n "$I"
check "initscript: LSB header" grep -q "^### BEGIN INIT INFO" "$I"

# the initscript drives vs autostart with MARK and NUMPARALLEL
mkguest web || exit 99
mkguest other || exit 99
mkdir -p "$R$CONFDIR/web/apps/init"
echo default >"$R$CONFDIR/web/apps/init/mark"
mkdir -p "$T/etc/default" "$T/lock"
printf 'MARK=default\nNUMPARALLEL=2\n' >"$T/etc/default/vservers-default"
sed -e "s|^VS=.*|VS=\"$T/vsx\"|" -e "s|^LOCKDIR=.*|LOCKDIR=$T/lock|" \
	-e "s|/etc/sysconfig/vservers-default [^;]*vservers-default|$T/etc/default/vservers-default|" "$I" >"$T/initscript"
printf '#!/bin/sh\nexec "%s" --sysroot "%s" --plugindir "%s" --datadir "%s" "$@"\n' \
	"$VS" "$R" "$MODS" "$srcdir/conf.d" >"$T/vsx"
chmod 755 "$T/vsx" "$T/initscript"
expect_ok "initscript start" "$T/initscript" start
check "initscript start: the marked guest runs" vsx web running
check "initscript start: the others do not" sh -c "! '$T/vsx' other running"
run "$T/initscript" status
same "initscript status: started" "0|vservers-default: started" "$RC|$OUT"
expect_ok "initscript stop" "$T/initscript" stop
check "initscript stop: stopped" sh -c "! '$T/vsx' web running"
run "$T/initscript" status
same "initscript status: stopped" 3 "$RC"
run "$T/initscript" bogus
same "initscript: usage" 2 "$RC"

# make install puts everything in place
# (made once before the tests: tests/Makefile.inc, check_DATA)
DEST=${VS_INSTALLED:?run through make check}
check "make install" test -f "$top_builddir/tests/inst.stamp"
check "installed: vs@.service" test -n "$(find "$DEST" -name 'vs@.service')"
check "installed: vservers-default.service" test -n "$(find "$DEST" -name 'vservers-default.service')"
check "installed: the initscript" test -x "$(find "$DEST" -path '*/init.d/vservers-default' | head -n 1)"
check "installed: /etc/default/vservers-default" test -f "$(find "$DEST" -path '*/default/vservers-default' | head -n 1)"
check "installed: start-vservers" test -L "$(find "$DEST" -name start-vservers | head -n 1)"
check "installed: the plugins" test -f "$(find "$DEST" -name vshelper.so | head -n 1)"

# make uninstall takes away everything make install made (an install of
# its own, not the one the other tests use)
if build_make install DESTDIR="$T/inst" >"$T/inst.log" 2>&1; then
	n=$(find "$T/inst" \( -type f -o -type l \) | wc -l)
	build_make uninstall DESTDIR="$T/inst" >"$T/uninst.log" 2>&1
	left=$(find "$T/inst" \( -type f -o -type l \) | sed "s|^$T/inst||")
	same "make uninstall removes all $n files and links make install made" "" "$left"
	# what the admin changed stays
	build_make install DESTDIR="$T/inst" >"$T/inst.log" 2>&1
	def=$(find "$T/inst" -path '*/default/vservers-default')
	echo 'MARK=mine' >>"$def"
	build_make uninstall DESTDIR="$T/inst" >"$T/uninst.log" 2>&1
	same "an /etc/default/vservers-default the admin changed stays" "${def#$T/inst}" \
		"$(find "$T/inst" \( -type f -o -type l \) | sed "s|^$T/inst||")"
else
	fail "make install into a directory of the test's" "$(tail -5 "$T/inst.log")"
fi

finish
