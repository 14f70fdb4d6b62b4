#!/bin/bash
# vs autostart / start-vservers: selectors (intersection, inversion, marks
# of several lines), dependencies (outside the selection, order, cycles),
# -j parallelism, exit codes.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

for g in m1 m2 m3 u1 u2 d1 d2 d3 c1 c2 f1; do mkguest $g || exit 99; done
for i in 0 1 2 3 4 5 6 7 8 9; do mkguest p$i || exit 99; done
mark() { mkdir -p "$R$CONFDIR/$1/apps/init"; shift_g=$1; shift; printf '%s\n' "$@" >"$R$CONFDIR/$shift_g/apps/init/mark"; }
dep() { mkdir -p "$R$CONFDIR/$1/apps/init"; printf '%s\n' "$2" >>"$R$CONFDIR/$1/apps/init/depends"; }
mark m1 default
mark m2 default web
mark m3 web
touch "$R$CONFDIR/u2/disabled"
mark d1 chain
dep d1 d2
dep d2 d3
mark c1 cyc
mark f1 broken
rm "$R$VROOTDIR/f1/sbin/init"
for i in 0 1 2 3 4 5 6 7 8 9; do mark p$i par; done
# every start and stop is logged by a .defaults hook
mkdir -p "$R$CONFDIR/.defaults/scripts"
printf '#!/bin/sh\necho "$1 $2" >>"%s/order"\n' "$T" >"$R$CONFDIR/.defaults/scripts/pre-start"
cp "$R$CONFDIR/.defaults/scripts/pre-start" "$R$CONFDIR/.defaults/scripts/pre-stop"
chmod 755 "$R$CONFDIR/.defaults/scripts/pre-start" "$R$CONFDIR/.defaults/scripts/pre-stop"

running() { # the running guests, sorted, on one line
	for c in "$R$CONFDIR"/*/; do
		g=$(basename "$c")
		vsx "$g" running 2>/dev/null && printf '%s ' "$g"
	done | sed 's/ $//'
}
stop_all() { vsx autostart --stop --all -j 8 >/dev/null 2>&1; vsx u2 stop; : >"$T/order"; }
case_() { # case_ NAME "expected running guests" autostart-args...
	name=$1 want=$2
	shift 2
	run vsx autostart --start "$@"
	same "$name" "$want" "$(running)"
	stop_all
}
case_ "--all: every guest but disabled ones (and the broken one fails)" \
	"c1 c2 d1 d2 d3 m1 m2 m3 p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 u1" --all -j 8
case_ "--marked, with dependencies" "d1 d2 d3 m1 m2 m3 p0 p1 p2 p3 p4 p5 p6 p7 p8 p9" --marked --mark '!cyc,broken' -j 8
case_ "--unmarked" "c2 d2 d3 u1" --unmarked
case_ "--mark default" "m1 m2" --mark default
case_ "--mark web (a second mark line)" "m2 m3" --mark web
case_ "--mark default,web" "m1 m2 m3" --mark default,web
case_ "--marked --mark '!default,par,chain,cyc,broken': intersection and inversion" "m3" --marked --mark '!default,par,chain,cyc,broken'
case_ "-m alias, --all intersected" "m1 m2" --all -m default
case_ "names after --" "m3 u1" -- m3 u1
case_ "names after -- added to a selector" "m1 m2 u1" --mark default -- u1

vsx m1 start
case_ "--stopped: the stopped ones" "m1 m2" --stopped --mark default
vsx m1 start
vsx m3 start
vsx u1 start
run vsx autostart --stop --running --mark default
same "--stop --running --mark default: only the selected running one stops" "0|m3 u1" "$RC|$(running)"
stop_all
vsx autostart --start --all -j 8 >/dev/null 2>&1
: >"$T/order"
run vsx autostart --stop --mark web,chain -j 4
same "--stop --mark web,chain: only those stop, not their dependencies" \
	"0|c1 c2 d2 d3 m1 p0 p1 p2 p3 p4 p5 p6 p7 p8 p9 u1" "$RC|$(running)"
same "... and only they ran their pre-stop" "pre-stop d1 pre-stop m2 pre-stop m3" "$(sort "$T/order" | paste -sd' ')"
stop_all

# dependencies: started first (even outside the selection), stopped last
run vsx autostart --start --mark chain -j 4
same "dependency chain: started" "0|d1 d2 d3" "$RC|$(running)"
same "dependencies start first" "pre-start d3 pre-start d2 pre-start d1" "$(tr '\n' ' ' <"$T/order" | sed 's/ $//')"
: >"$T/order"
run vsx autostart --stop --all -j 4
same "dependencies stop last" "pre-stop d1 pre-stop d2 pre-stop d3" "$(grep -E 'd[123]$' "$T/order" | tr '\n' ' ' | sed 's/ $//')"
stop_all

# a dependency cycle: one clear line, nothing started
dep c1 c2
dep c2 c1
expect_error "dependency cycle" 1 "autostart: dependency cycle: c1 -> c2 -> c1" vsx autostart --start --mark cyc
same "cycle: nothing started" "" "$(running)"
rm "$R$CONFDIR/c1/apps/init/depends" "$R$CONFDIR/c2/apps/init/depends"

# exit codes
run vsx autostart --start --mark nosuch
same "exit 0: nothing to do" "0|" "$RC|$(running)"
run vsx autostart --start --mark broken
same "exit 1: nothing succeeded" 1 "$RC"
run vsx autostart --start --mark broken,default
same "exit 2: some succeeded" "2|m1 m2" "$RC|$(running)"
run vsx autostart --start --mark default
same "exit 0: all in the wanted state" 0 "$RC"
stop_all

# ten guests, four at a time
printf '#!/bin/sh\necho + >>"%s/par"; sleep 0.3; echo - >>"%s/par"\n' "$T" "$T" >"$R$CONFDIR/.defaults/scripts/pre-start"
run vsx autostart --start --mark par -j 4
same "-j 4: ten guests started" "0|p0 p1 p2 p3 p4 p5 p6 p7 p8 p9" "$RC|$(running)"
max=$(awk '/\+/ { n++; if (n > m) m = n } /-/ { n-- } END { print m }' "$T/par")
# four hooks running at once is what makes -j 4 faster than one by one
# (measured by overlap, not by the clock: a loaded machine is slow)
same "-j 4: at most four at once, and more than one" 4 "$max"
stop_all

# start-vservers is vs autostart --start
ln -s "$top_builddir/.libs/vs" "$T/start-vservers"
run env LD_LIBRARY_PATH="$top_builddir/.libs" VS_SYSROOT="$R" "$T/start-vservers" -m web
same "start-vservers -m web" "0|m2 m3" "$RC|$(running)"
stop_all

expect_error "a selector is needed" 2 "autostart: choose guests with" vsx autostart --start
expect_error "bad -j" 2 "autostart: invalid -j 'x'" vsx autostart -j x --all

finish
