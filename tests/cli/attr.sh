#!/bin/bash
# vs attr show|set (showattr, setattr): the 9-letter field, immutable and
# barrier, recursion order, symlinks never followed, odd names.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

A=$T/attr
mkdir -p "$A/d/sub" "$A/bar"
echo x >"$A/d/f"
echo y >"$A/d/sub/g"
echo z >"$A/d/.hidden"
echo n >"$A/d/$(printf 'new\nline')"
ln -s "$T/target" "$A/d/link"
echo keep >"$T/target"
mkfifo "$A/d/fifo"
chattr +i "$A/d/f"
chmod 000 "$A/bar"

run "$VS" attr show "$A/d"
same "show: the directory first" "----b-i-- $A/d" "$(sed -n 1p "$T/out")"
same "show: its entries (no dot-files), odd names escaped" "$(printf '%s\n' "------I-- $A/d/f" "--------- $A/d/fifo" "--------- $A/d/link" "------i-- $A/d/new\\nline" "----b-i-- $A/d/sub" | sort)" "$(sed 1d "$T/out" | sort)"
run "$VS" attr show -a "$A/d"
check "show -a: dot-files too" grep -q "$A/d/.hidden$" "$T/out"
run "$VS" attr show -R "$A/d"
same "show -R: files first, then subdirectories" "------i-- $A/d/sub/g" "$(tail -n 1 "$T/out")"
run "$VS" attr show -d "$A/bar"
same "show -d: a barrier directory" "----B-i-- $A/bar" "$OUT"
expect_ok "set --~immutable" "$VS" attr set --~immutable "$A/d/f"
run "$VS" attr show "$A/d/f"
same "immutable cleared" "------i-- $A/d/f" "$OUT"
expect_ok "set --immutable" "$VS" attr set --immutable "$A/d/f"
run sh -c "echo more >>'$A/d/f'"
check "an immutable file cannot be written" test "$RC" != 0
expect_ok "set --barrier" "$VS" attr set --barrier "$A/d/sub"
same "barrier: mode 000" 0 "$(stat -c %a "$A/d/sub")"
expect_ok "set --~barrier" "$VS" attr set --~barrier "$A/d/sub"
same "no barrier: mode 500 as util-vserver" 500 "$(stat -c %a "$A/d/sub")"
run "$VS" attr set --immutable "$A/d/link"
same "a symlink is refused, not followed" "1|vs: cannot set attributes of '$A/d/link': a symlink (not followed)" "$RC|$ERR"
check "its target is untouched" sh -c "echo ok >>'$T/target'"
run "$VS" attr set --immutable "$A/d/fifo"
check "a FIFO is never opened" test "$RC" = 1
expect_error "a flag vanilla kernels lack" 1 "setattr: '--cow' needs the Linux-VServer kernel" "$VS" attr set --cow "$A/d/f"
expect_error "an unknown flag" 2 "setattr: unknown flag '--bogus'" "$VS" attr set --bogus "$A/d/f"
expect_error "set without files" 2 "setattr: no file given" "$VS" attr set --immutable
ln -s "$top_builddir/.libs/vs" "$T/showattr"
run env LD_LIBRARY_PATH="$top_builddir/.libs" "$T/showattr" -d "$A/bar"
same "showattr is vs attr show" "----B-i-- $A/bar" "$OUT"
chattr -i "$A/d/f"
finish
