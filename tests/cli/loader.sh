#!/bin/bash
# The loader catalogue: every broken plugin refused with its exact line,
# loaded ones listed; other verbs warn once per refusal.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

for f in "$VS_FIXTURES"/*.so; do install -m 0755 "$f" "$MODS/"; done
: >"$MODS/empty.so"
echo "this is not ELF" >"$MODS/junk.so"
chmod 755 "$MODS/empty.so" "$MODS/junk.so"
ln -s skeleton.so "$MODS/link.so"
install -m 0755 "$MODS/skeleton.so" "$MODS/writable.so"
chmod 0666 "$MODS/writable.so"
install -m 0755 "$MODS/skeleton.so" "$MODS/notroot.so"
chown 65534 "$MODS/notroot.so"
install -m 0755 "$MODS/skeleton.so" "$MODS/Bad-Name.so"
echo "not a module" >"$MODS/README"

want="KIND   NAME             VERSION  ABI  FILE
build  apt_rpm          1.0      1.2  $MODS/apt_rpm.so
build  clone            1.0      1.2  $MODS/clone.so
build  debootstrap      1.0      1.2  $MODS/debootstrap.so
unify  hash             1.0      1.2  $MODS/hash.so
build  oci              1.0      1.2  $MODS/oci.so
hook   recorder         1        1.2  $MODS/recorder.so
unify  reference        1.0      1.2  $MODS/reference.so
build  rpm              1.0      1.2  $MODS/rpm.so
hook   scripts          1.0      1.2  $MODS/scripts.so
build  skeleton         1.1      1.2  $MODS/skeleton.so
build  template         1.0      1.2  $MODS/template.so
hook   vshelper         1.0      1.2  $MODS/vshelper.so
build  yum              1.0      1.2  $MODS/yum.so
refused '$MODS/Bad-Name.so': file name is not a valid plugin name ([a-z][a-z0-9_]*.so)
refused '$MODS/bad_kind.so': unknown kind 9
refused '$MODS/bad_magic.so': bad magic 0x12345678 (expected 0x76735031)
refused '$MODS/bad_sig.so': layout signature differs from the core's (built for another architecture or ABI)
refused '$MODS/empty.so': empty file
refused '$MODS/junk.so': not an ELF shared object
refused '$MODS/link.so': is a symbolic link
refused '$MODS/misnamed.so': descriptor name 'other' does not match the file name 'misnamed'
refused '$MODS/new_major.so': built for ABI 2.2, the core has 1.2 (major differs)
refused '$MODS/new_minor.so': built for ABI 1.3, newer than the core's 1.2
refused '$MODS/no_desc.so': no descriptor symbol 'no_desc_LTX_vs_plugin'
refused '$MODS/no_op.so': missing required operation 'build'
refused '$MODS/notroot.so': not owned by root
refused '$MODS/old_major.so': built for ABI 0.2, the core has 1.2 (major differs)
refused '$MODS/unresolved.so': cannot load: $MODS/unresolved.so: undefined symbol: vs_fixture_no_such_function
refused '$MODS/writable.so': writable by group or others"
expect_ok "vs plugins with broken modules" vsx plugins
same "the catalogue, line by line" "$want" "$OUT"

run vsx plugins --json
check "--json: loaded plugin" grep -q '{"kind": "build", "name": "skeleton", "version": "1.1", "abi": "1.2", "file": "'"$MODS"'/skeleton.so"' "$T/out"
check "--json: refused plugin" grep -q '{"file": "'"$MODS"'/no_op.so", "reason": "missing required operation '"'build'"'"}' "$T/out"

run vsx help
same "other verbs warn once per refusal" 16 "$(grep -c "^vs: warning: refusing plugin '$MODS/" "$T/err")"
check "the warning carries the reason" grep -qF "vs: warning: refusing plugin '$MODS/link.so': is a symbolic link" "$T/err"
run vsx foo build -m no_op
check "a refused method: build fails" test "$RC" = 1
check "a refused method: says why" grep -qF "vs: build method 'no_op' is not available: plugin '$MODS/no_op.so' was refused: missing required operation 'build'" "$T/err"
check "a refused method: nothing built" test ! -e "$R$CONFDIR/foo"

# a module directory others may write to is not used at all
chmod 0777 "$MODS"
run vsx plugins
check "writable module directory ignored" grep -q "ignoring module directory '$MODS': not owned by root or writable by group or others" "$T/err"
check "writable module directory: nothing loaded" test "$(grep -c "^build" "$T/out")" = 0
chmod 0755 "$MODS"

finish
