#!/bin/bash
# The manual pages: one per verb (plugin verbs too), and every option
# `vs help <verb>` names is in its page; every page renders without a
# warning; make install puts them in place with util-vserver's names as
# .so links, and vs@.service's man:vs(8) is one of them.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

MAN=$srcdir/doc/man
verbs=$(vsx help | awk '/^verbs:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
check "vs help lists verbs" [ "$(printf '%s\n' $verbs | wc -l)" -gt 30 ]
for v in $verbs; do
	page=$MAN/vs-$v.8.scd
	if [ ! -f "$page" ]; then
		fail "vs-$v(8): a page" "no $page"
		continue
	fi
	missing=
	for o in $(vsx help "$v" | grep -oE -- '(^|[ [|(])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[ [|(]//' | sort -u); do
		grep -qF -- "$o" "$page" || missing="$missing $o"
	done
	same "vs-$v(8) names every option of 'vs help $v'" "" "$missing"
	grep -q "vs-$v" "$MAN/vs.8.scd" || fail "vs(8) points at vs-$v(8)"
done

# every page renders as man does it (preconv, groff; warnings as errors)
# (built here, or shipped built in the source tree of a dist tarball)
seen=" "
for p in "$top_builddir"/doc/man/*.[358] "$srcdir"/doc/man/*.[358]; do
	[ -f "$p" ] || continue
	case $seen in *" $(basename "$p") "*) continue ;; esac
	seen="$seen$(basename "$p") "
	grep -q '^\.so ' "$p" && continue
	run sh -c "preconv '$p' | groff -man -Tutf8 -ww -z"
	same "$(basename "$p") renders without a warning" "0|" "$RC|$ERR"
done

# installed: the pages, and util-vserver's names as links
DEST=${VS_INSTALLED:?run through make check}
check "installed: vs(8)" test -n "$(find "$DEST" -path '*/man8/vs.8')"
check "installed: vs-config(5), vs.conf(5)" \
	sh -c "[ -n \"\$(find '$DEST' -path '*/man5/vs-config.5')\" ] && [ -n \"\$(find '$DEST' -path '*/man5/vs.conf.5')\" ]"
check "installed: vs-plugin(3)" test -n "$(find "$DEST" -path '*/man3/vs-plugin.3')"
same "installed: vserver(8) is vs(8)" ".so man8/vs.8" "$(cat "$(find "$DEST" -path '*/man8/vserver.8')")"
same "installed: vkill(8) is vs-kill(8)" ".so man8/vs-kill.8" "$(cat "$(find "$DEST" -path '*/man8/vkill.8')")"
for l in "$MAN"/*.8; do
	t=$(sed -n 's|^\.so man8/\(.*\)\.8$|\1|p' "$l")
	[ -n "$t" ] || continue
	check "$(basename "$l") points at an existing page ($t)" test -f "$MAN/$t.8.scd"
done
unit=$(find "$DEST" -name 'vs@.service' | head -n 1)
check "vs@.service's documentation is an installed page ($(grep Documentation "$unit"))" \
	sh -c "grep -q '^Documentation=man:vs(8)' '$unit'"

finish
