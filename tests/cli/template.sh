#!/bin/bash
# Build method "template": tarballs unpacked safely (compression found by
# content), owners and modes kept, device nodes dropped, /dev reset, and
# hostile archives refused with nothing left behind.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

S=$T/stage
mkdir -p "$S/etc" "$S/usr/bin" "$S/dev" "$T/outside"
echo "from the template" >"$S/etc/motd"
printf '#!/bin/sh\necho tool\n' >"$S/usr/bin/tool"
chmod 4755 "$S/usr/bin/tool"
head -c 200000 /dev/urandom >"$S/usr/bin/blob"
chown 1000:1000 "$S/etc/motd"
mknod "$S/dev/mem-lookalike" c 1 1
mkfifo "$S/etc/fifo"
tar -C "$S" -cf "$T/img.tar" .
gzip -c "$T/img.tar" >"$T/gz"
bzip2 -c "$T/img.tar" >"$T/bz2"
xz -c "$T/img.tar" >"$T/xz"
zstd -q -c "$T/img.tar" >"$T/zst"
n=0
for f in gz bz2 xz zst; do
	n=$((n + 1))
	expect_ok "a $f tarball (no extension)" vsx t$n build -m template --context $((600 + n)) -- -t "$T/$f"
	same "$f: content, owner, mode" "from the template 1000 4755" \
		"$(cat "$R$VROOTDIR/t$n/etc/motd") $(stat -c %u "$R$VROOTDIR/t$n/etc/motd") $(stat -c %a "$R$VROOTDIR/t$n/usr/bin/tool")"
done
check "device nodes and FIFOs of a template are dropped" test ! -e "$R$VROOTDIR/t1/dev/mem-lookalike" -a ! -e "$R$VROOTDIR/t1/etc/fifo"
vsx s0 build -m skeleton --context 650 >/dev/null 2>&1
same "/dev is the safe set again: a skeleton guest's" "$(ls -l "$R$VROOTDIR/s0/dev" | awk 'NR > 1 { print $1, $5, $6, $NF }')" \
	"$(ls -l "$R$VROOTDIR/t1/dev" | awk 'NR > 1 { print $1, $5, $6, $NF }')"
check "/dev/null is there" test -c "$R$VROOTDIR/t1/dev/null"

# hostile archives
echo evil >"$T/evil"
tar -cPf "$T/abs.tar" "$T/evil" 2>/dev/null
expect_error "an absolute path is refused" 1 "template: refusing '$T/evil'" vsx a1 build -m template -- -t "$T/abs.tar"
check "absolute: no guest left" test ! -e "$R$VROOTDIR/a1" -a ! -e "$R$CONFDIR/a1"
(cd "$T" && tar -cf "$T/dot.tar" --transform 's,^,../../../,' evil)
expect_error "a '..' path is refused" 1 "template: refusing '../../../evil'" vsx a2 build -m template -- -t "$T/dot.tar"
mkdir -p "$T/s1" "$T/s2/link"
ln -s "$T/outside" "$T/s1/link"
echo evil >"$T/s2/link/planted"
tar -C "$T/s1" -cf "$T/link.tar" link
tar -C "$T/s2" -cf "$T/through.tar" link/planted
expect_ok "a path through a symlink of an earlier tarball: the symlink is replaced" \
	vsx a3 build -m template --context 610 -- -t "$T/link.tar" -t "$T/through.tar"
check "nothing written outside the root" test ! -e "$T/outside/planted"
check "the file landed inside the root, in a real directory" test -f "$R$VROOTDIR/a3/link/planted" -a ! -L "$R$VROOTDIR/a3/link"
head -c 1000 /dev/urandom >"$T/junk"
expect_error "not a tarball" 1 "template: cannot read '$T/junk': Unrecognized archive format" vsx a4 build -m template -- -t "$T/junk"
head -c $(( $(stat -c %s "$T/gz") / 2 )) "$T/gz" >"$T/truncated.gz"
expect_error "a truncated tarball" 1 "template: " vsx a7 build -m template -- -t "$T/truncated.gz"
check "truncated: no guest left" test ! -e "$R$VROOTDIR/a7" -a ! -e "$R$CONFDIR/a7"
expect_error "no tarball" 1 "template: no tarball given (-t <tarball>)" vsx a5 build -m template
expect_error "a missing tarball" 1 "template: cannot read '$T/none'" vsx a6 build -m template -- -t "$T/none"

# --nodevsanity keeps the template's /dev
expect_ok "--nodevsanity" vsx t9 build -m template --context 609 -- -t "$T/gz" --nodevsanity
check "--nodevsanity: the template's device node is kept" test -c "$R$VROOTDIR/t9/dev/mem-lookalike"
finish
