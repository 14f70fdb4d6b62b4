#!/bin/bash
# vs-systemd-generator: apps/init/depends as unit ordering.  Run under its
# installed name, as systemd runs it (three output directories), on guests
# with marks and dependencies; the drop-ins it writes; what it skips; the
# units with them pass systemd-analyze verify.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

for g in web db cache solo; do
	vsx "$g" build -m skeleton >/dev/null 2>&1 || exit 99
done
mark() { mkdir -p "$R$CONFDIR/$1/apps/init" && printf '%s\n' "$2" >"$R$CONFDIR/$1/apps/init/mark"; }
deps() { mkdir -p "$R$CONFDIR/$1/apps/init" && printf '%s\n' "$2" >"$R$CONFDIR/$1/apps/init/depends"; }
mark web front
mark db default
mark cache front
deps web "db
cache
ghost"
deps cache db
mkdir -p "$T/bin" "$T/n" "$T/e" "$T/l"
ln -s "$top_builddir/.libs/vs" "$T/bin/vs-systemd-generator"
gen() {
	run env VS_SYSROOT="$R" VS_PLUGINDIR="$MODS" VS_DATADIR="$srcdir/conf.d" \
		LD_LIBRARY_PATH="$top_builddir/.libs" "$T/bin/vs-systemd-generator" "$@"
}
gen "$T/n" "$T/e" "$T/l"
check "it exits 0" test "$RC" = 0
same "a dependency that is not a guest: one warning, no ordering" \
	"vs: warning: guest 'web' depends on 'ghost', which is not a guest: no ordering" "$ERR"
D=$T/n
same "vs@web.service wants and follows vs@db and vs@cache" \
	"[Unit]|Wants=vs@db.service|After=vs@db.service|Wants=vs@cache.service|After=vs@cache.service" \
	"$(grep -v '^#' "$D/vs@web.service.d/50-vs-depends.conf" | paste -sd'|')"
same "vs@cache.service follows vs@db" "[Unit]|Wants=vs@db.service|After=vs@db.service" \
	"$(grep -v '^#' "$D/vs@cache.service.d/50-vs-depends.conf" | paste -sd'|')"
same "the mark front follows the mark default (its unit vservers-default), once" \
	"[Unit]|Wants=vservers-default.service|After=vservers-default.service" \
	"$(grep -v '^#' "$D/vservers@front.service.d/50-vs-depends.conf" | paste -sd'|')"
same "nothing else: no drop-in for guests without dependencies, none within a mark" \
	"vs@cache.service.d/50-vs-depends.conf
vs@web.service.d/50-vs-depends.conf
vservers@front.service.d/50-vs-depends.conf" "$(cd "$D" && find . -type f | sed 's|^\./||' | LC_ALL=C sort)"
check "nothing in the early and late directories" test -z "$(find "$T/e" "$T/l" -mindepth 1)"

if command -v systemd-analyze >/dev/null; then
	# the units as installed, with the drop-ins beside them
	U=$T/units
	mkdir -p "$U"
	for f in vs@.service vservers@.service vservers-default.service; do
		sed "s|^\(Exec[A-Za-z]*=\)[^ ]*/vs |\1$top_builddir/.libs/vs |" "$top_builddir/conf.d/systemd/$f" >"$U/$f"
	done
	cp -r "$D"/*.d "$U/"
	for i in web cache db; do ln -s vs@.service "$U/vs@$i.service"; done
	ln -s vservers@.service "$U/vservers@front.service"
	# by name: that is how the drop-ins are found; any word about them
	# is a failure (systemd only warns about a key it does not know)
	run env SYSTEMD_UNIT_PATH="$U:" systemd-analyze verify --man=no \
		vs@web.service vs@cache.service vservers@front.service
	same "systemd-analyze verify with the drop-ins" "0|" \
		"$RC|$(grep -e 50-vs-depends -e 'not found' -e 'nvalid' "$T/err")"
else
	skip "systemd-analyze: not installed"
fi

# a name that cannot be a unit's instance, a wrong command line
vsx "we+ird" build -m skeleton >/dev/null 2>&1 && deps "we+ird" db
rm -rf "$T/n2" && mkdir "$T/n2"
gen "$T/n2" "$T/e" "$T/l"
check "a guest whose name cannot be in a unit's: skipped with a warning, exit 0" \
	sh -c '[ "$1" = 0 ] && printf "%s" "$2" | grep -q "guest '"'"'we+ird'"'"': its name cannot be a unit'"'"'s instance"' - "$RC" "$ERR"
gen
same "no directory: usage, exit 2" "2|usage: vs systemd-generator <normal-dir> [<early-dir> <late-dir>]" "$RC|$ERR"

finish
