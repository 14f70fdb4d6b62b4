#!/bin/bash
# A plugin built out of tree with `pkg-config vs-plugin` against the
# installed headers, dropped into the module directory: listed, and its
# verbs run (one plain, one taking a guest).
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

if ! command -v pkg-config >/dev/null || ! command -v cc >/dev/null; then
	echo "SKIP: needs pkg-config and cc"
	exit 77
fi
# (made once before the tests: tests/Makefile.inc, check_DATA)
DEST=${VS_INSTALLED:?run through make check}
check "make install DESTDIR" test -f "$top_builddir/tests/inst.stamp"
pc=$(find "$DEST" -name vs-plugin.pc | head -n 1)
check "vs-plugin.pc installed" test -n "$pc"
check "headers installed" test -f "$(find "$DEST" -path '*/include/vs/plugin.h' | head -n 1)"
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$DEST
cflags=$(pkg-config --cflags vs-plugin)
libs=$(pkg-config --libs vs-plugin)
ldflags=$(pkg-config --variable=plugin_ldflags vs-plugin)
run cc $cflags -o "$T/hello.so" "$srcdir/tests/fixtures/thirdparty/hello.c" $ldflags $libs
check "out-of-tree build" test "$RC" = 0
[ "$RC" = 0 ] || echo "# $ERR"
install -m 0755 "$T/hello.so" "$MODS/hello.so"

expect_ok "plugins lists it" vsx plugins
check "listed as a verb plugin" grep -q "^verb  *hello  *0.1  *1.2  *$MODS/hello.so$" "$T/out"
expect_ok "its verb runs" vsx hello a b
same "its verb's output" "hello from a third-party plugin (2 args)" "$OUT"
run vsx foo build -m skeleton --context 77
expect_ok "its guest verb runs (guest first)" vsx foo greet
same "guest verb output" "greetings, foo (context 77, root $VROOTDIR/foo)" "$OUT"
expect_ok "its guest verb runs (verb first)" vsx greet foo
expect_error "its errors go through the core" 2 "greet: takes no arguments" vsx foo greet x
run vsx help
check "help lists plugin verbs" grep -q '^  greet  *greet a guest$' "$T/out"
expect_error "a guest may not be named like a plugin verb" 1 "invalid guest name 'hello': it is the name of a verb" \
	vsx build hello -m skeleton

# the only module in its directory: its verb still runs (the index is
# made from it alone)
mkdir -m 0755 "$T/only"
install -m 0755 "$T/hello.so" "$T/only/hello.so"
run "$VS" --sysroot "$R" --plugindir "$T/only" --datadir "$srcdir/conf.d" hello x
same "a plugin alone in its module directory: its verb runs" "0|hello from a third-party plugin (1 args)" "$RC|$OUT"
run "$VS" --sysroot "$R" --plugindir "$T/only" --datadir "$srcdir/conf.d" hello x
same "and again through the index" "0|hello from a third-party plugin (1 args)|" "$RC|$OUT|$ERR"
check "the index names it" grep -q '^hello.so	.*	ok	4	hello	hello,greet	' "$T/only/.vs-index"

# a build method of ABI 1.1 (prepare and build only, the vs_build_*
# services of libvs): the skeleton plugin's front end drives it
run cc $cflags -o "$T/mybuild.so" "$srcdir/tests/fixtures/thirdparty/mybuild.c" $ldflags $libs
check "out-of-tree build of a build method" test "$RC" = 0
install -m 0755 "$T/mybuild.so" "$MODS/mybuild.so"
expect_ok "plugins lists it" vsx plugins
check "listed as a build method of ABI 1.1" grep -q "^build  *mybuild  *0.1  *1.1  *$MODS/mybuild.so$" "$T/out"
expect_ok "an ABI 1.1 build method builds" vsx mb build -m mybuild --context 78 -- plover
same "its file in the new root, its configuration, its tool's environment" \
	"plover|plover|mb" \
	"$(cat "$R$VROOTDIR/mb/etc/mybuild")|$(cat "$R$CONFDIR/mb/apps/mybuild/word")|$(cat "$R$VROOTDIR/mb/etc/mybuild.tool")"
same "the skeleton is the front end's (context, hostname)" "78" "$(cat "$R$CONFDIR/mb/context")"
snapshot >"$T/before"
expect_error "its prepare() refuses: nothing is left" 1 "mybuild: one word, please (2 given)" \
	vsx mb2 build -m mybuild -- a b
same "nothing changed on disk" "" "$(snapshot | diff "$T/before" - )"
# with only the skeleton plugin and the method in the module directory
mkdir -m 0755 "$T/two"
install -m 0755 "$T/mybuild.so" "$MODS/skeleton.so" "$T/two/"
run "$VS" --sysroot "$R" --plugindir "$T/two" --datadir "$srcdir/conf.d" mb3 build -m mybuild --context 79 -- tern
same "the skeleton plugin and the method alone build" "0|tern" "$RC|$(cat "$R$VROOTDIR/mb3/etc/mybuild" 2>/dev/null)"
# without the skeleton plugin there is no front end: one clear line
rm -f "$T/two/skeleton.so" "$T/two/.vs-index"
snapshot >"$T/before"
run "$VS" --sysroot "$R" --plugindir "$T/two" --datadir "$srcdir/conf.d" mb4 build -m mybuild --context 80 -- tern
same "without the skeleton plugin: one line naming it" \
	"1|vs: build needs the skeleton build plugin: unknown build method 'skeleton' (see 'vs plugins')" "$RC|$ERR"
same "and nothing changed on disk" "" "$(snapshot | diff "$T/before" - )"

finish
