#!/bin/bash
# The module directory's index: a verb loads only the modules it needs,
# a module changed on disk is checked again, a broken module the verb
# does not need changes nothing.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
IDX=$MODS/.vs-index
SWAP=$top_builddir/tests/fixtures/swap

expect_ok "vs plugins" vsx plugins
check "it writes the index, root's, not writable by others" \
	sh -c "ls -l '$IDX' | grep -q '^-rw-r--r-- 1 root root'"
same "the index names every module" "$(cd "$MODS" && ls *.so | sort)" "$(tail -n +2 "$IDX" | cut -f1)"

mkguest g1 --context 401 || exit 99
# the monitor of a --foreground start is this vs: what it mapped
"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g1 start --foreground >/dev/null 2>&1 &
mon=$!
await 60 vsx g1 running
maps=$(grep -o '[a-z_]*\.so$' /proc/$mon/maps 2>/dev/null | sort -u | tr '\n' ' ')
check "start maps the hook modules ($maps)" sh -c "echo '$maps' | grep -q 'scripts.so' && echo '$maps' | grep -q 'vshelper.so'"
check "start maps no build or unify module" sh -c "! echo '$maps' | grep -Eq 'skeleton.so|template.so|debootstrap.so|reference.so|hash.so'"
install -m 0755 "$VS_FIXTURES/unresolved.so" "$MODS/"
run vsx g1 exec true
same "exec works while a broken build module sits in the directory" "0|" "$RC|$ERR"
run vsx g1 stop
wait $mon
rm "$MODS/unresolved.so"

# a module replaced on disk by one with an unresolved symbol
install -m 0755 "$SWAP/ok/.libs/swapper.so" "$MODS/"
expect_ok "a build with the good module" vsx s1 build -m swapper
check "the index has it" grep -q '^swapper.so	.*	ok	' "$IDX"
install -m 0755 "$SWAP/bad/.libs/swapper.so" "$MODS/swapper.so.new"
mv "$MODS/swapper.so.new" "$MODS/swapper.so"
# (the refusal is warned about first, then the build fails: vs's line last)
TOOL_OUTPUT=1 expect_error "replaced by one with an unresolved symbol, it is refused" 1 \
	"plugin '$MODS/swapper.so' was refused: cannot load: $MODS/swapper.so: undefined symbol: vs_fixture_no_such_function" \
	vsx s2 build -m swapper
check "the index says so" grep -q '^swapper.so	.*	refused	' "$IDX"
# rewritten in place (same inode): its size, times say it changed
cp "$SWAP/ok/.libs/swapper.so" "$MODS/swapper.so"
expect_ok "rewritten in place with the good one, it builds again" vsx s3 build -m swapper
cp "$SWAP/bad/.libs/swapper.so" "$MODS/swapper.so"
TOOL_OUTPUT=1 expect_error "rewritten in place with the bad one, it is refused" 1 "plugin '$MODS/swapper.so' was refused: cannot load" vsx s4 build -m swapper
rm "$MODS/swapper.so"

# an index not to be trusted is made again
expect_ok "vs plugins" vsx plugins
chmod g+w "$IDX"
echo "swapper.so	forged" >>"$IDX"
expect_ok "a group-writable index is ignored" vsx g1 stop
check "and written again" sh -c "ls -l '$IDX' | grep -q '^-rw-r--r--' && ! grep -q forged '$IDX'"

finish
