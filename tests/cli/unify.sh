#!/bin/bash
# vs unify / deunify: util-vserver's vunify fixture with every outcome
# asserted, content and xattr checks, hardlinks a guest cannot write,
# deunify, reflinks on a loop-mounted XFS, hostile names and types, bad
# input.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
ino() { stat -c %i "$1"; }

# util-vserver's src/testsuite/vunify-test.sh trees, plus equal files
F=$R/fix
for t in a b c; do
	for d in etc etc/sysconfig usr usr/lib usr/local/lib usr/local/lib/foobar var var/run; do
		mkdir -p "$F/$t/$d"
	done
done
for d in etc etc/sysconfig usr usr/lib usr/local/lib usr/local/lib/foobar var var/run; do
	for i in 0 1 2 3; do echo "a b c d" >"$F/a/$d/X$i"; done
	for i in 0 1 2; do echo "a b c" >"$F/b/$d/X$i"; done
	for i in 0 1; do echo "XX XX" >"$F/c/$d/X$i"; done
	ln "$F/a/$d/X3" "$F/b/$d/X3"
	echo "equal in a and b" >"$F/a/$d/E"
	echo "equal in a and b" >"$F/b/$d/E"
done
find "$F" -type f -exec touch -h -d @1600000000 {} +
sum_before=$(cd "$F" && find . -type f -exec md5sum {} + | sort)

run vsx unify --manually -n /fix/a '' /fix/b ''
same "dry run vs b: summary" "unify: 40 files examined, 8 linked, 136 bytes saved; skipped: 8 already unified, 24 different" "$(tail -n 1 "$T/out")"
same "dry run: the files it would link" 8 "$(grep -c "^unifying   '.*/E'$" "$T/out")"
check "dry run changed nothing" test "$(ino "$F/a/usr/E")" != "$(ino "$F/b/usr/E")"
run vsx unify --manually -n -v -v /fix/a '' /fix/c ''
check "vs c: X0 different" grep -qx "  skipping '/usr/X0' (different)" "$T/out"
check "vs c: X3 missing" grep -qx "  skipping '/usr/X3' (does not exist in refserver(s))" "$T/out"
check "vs c: E missing" grep -qx "  skipping '/usr/E' (does not exist in refserver(s))" "$T/out"
expect_ok "unify a against b" vsx unify --manually /fix/a '' /fix/b ''
same "equal files are linked" "$(ino "$F/b/var/run/E")" "$(ino "$F/a/var/run/E")"
check "different files stay apart" test "$(ino "$F/a/usr/X0")" != "$(ino "$F/b/usr/X0")"
check "already unified stays" test "$(ino "$F/a/usr/X3")" = "$(ino "$F/b/usr/X3")"
check "a shared file is immutable" sh -c "lsattr '$F/a/usr/E' | grep -q '^----i'"
same "no content changed" "$sum_before" "$(cd "$F" && find . -type f -exec md5sum {} + | sort)"
run vsx unify --manually /fix/a '' /fix/b ''
same "a second run finds them unified" "unify: 40 files examined, 0 linked, 0 bytes saved; skipped: 16 already unified, 24 different" "$OUT"
# the exclude list applies
printf '+/etc/sysconfig/E\n/etc\n' >"$R/excl"
expect_ok "unify with an exclude list against c" vsx unify --manually -v -v /fix/b /excl /fix/a ''
check "excluded directory walked for an include below it" grep -qx "  skipping '/etc/X0' (excluded)" "$T/out"

# same size and mtime, other content: never linked; xattrs must match
mkdir -p "$R/x/a" "$R/x/b"
echo "content one" >"$R/x/a/f"; echo "content two" >"$R/x/b/f"
echo "with xattr" >"$R/x/a/g"; echo "with xattr" >"$R/x/b/g"
setfattr -n user.vs -v one "$R/x/a/g"; setfattr -n user.vs -v two "$R/x/b/g"
echo "mode" >"$R/x/a/m"; echo "mode" >"$R/x/b/m"; chmod 600 "$R/x/a/m"
touch -d @1600000000 "$R"/x/a/* "$R"/x/b/*
run vsx unify --manually -v -v /x/a '' /x/b ''
check "same size and mtime, other content: not linked" test "$(ino "$R/x/a/f")" != "$(ino "$R/x/b/f")"
check "other xattrs: not hardlinked" test "$(ino "$R/x/a/g")" != "$(ino "$R/x/b/g")"
check "other mode: not hardlinked" test "$(ino "$R/x/a/m")" != "$(ino "$R/x/b/m")"
# the whole metadata, to the nanosecond and the file flags
for f in ns nsq fl flq; do echo "exact $f" >"$R/x/a/$f"; echo "exact $f" >"$R/x/b/$f"; done
touch -d @1600000000.000000001 "$R/x/a/ns"; touch -d @1600000000.000000002 "$R/x/b/ns"
touch -d @1600000000.000000003 "$R/x/a/nsq" "$R/x/b/nsq"
touch -d @1600000000 "$R"/x/?/fl*
chattr +d "$R/x/a/fl" "$R/x/a/flq" "$R/x/b/flq"
X0=$(snapshot)
run vsx unify --manually /x/a '' /x/b ''
check "mtimes a nanosecond apart: not hardlinked" test "$(ino "$R/x/a/ns")" != "$(ino "$R/x/b/ns")"
check "(the same nanoseconds: hardlinked)" test "$(ino "$R/x/a/nsq")" = "$(ino "$R/x/b/nsq")"
check "other file flags (nodump on one): not hardlinked" test "$(ino "$R/x/a/fl")" != "$(ino "$R/x/b/fl")"
check "(nodump on both: hardlinked, still nodump)" sh -c "[ '$(ino "$R/x/a/flq")' = '$(ino "$R/x/b/flq")' ] && lsattr '$R/x/a/flq' | grep -q '^----i-d'"
same "the files left apart kept every bit of their metadata" \
	"$(grep -E '/(ns|fl)\|' <<<"$X0")" "$(snapshot | grep -E '/(ns|fl)\|')"
echo "capable" >"$R/x/a/c"; echo "capable" >"$R/x/b/c"; touch -d @1600000000 "$R/x/a/c" "$R/x/b/c"
if command -v setcap >/dev/null && setcap cap_net_raw+ep "$R/x/a/c" 2>/dev/null; then
	run vsx unify --manually /x/a '' /x/b ''
	check "a file capability (security.capability) is never lost to a hardlink" test "$(ino "$R/x/a/c")" != "$(ino "$R/x/b/c")"
	check "the capability is still there" sh -c "getcap '$R/x/a/c' | grep -q cap_net_raw"
else
	skip "file capabilities: setcap is missing or the file system has no security.capability"
fi
same "contents kept" "content one|content two" "$(cat "$R/x/a/f")|$(cat "$R/x/b/f")"

# hostile names and types
mkdir -p "$R/h/a/d" "$R/h/b/d"
for n in "with space" "$(printf 'new\nline')" "$(printf 'bad\377utf8')"; do
	echo "same" >"$R/h/a/d/$n"; echo "same" >"$R/h/b/d/$n"
done
mkfifo "$R/h/a/d/fifo"; echo "regular" >"$R/h/b/d/fifo"
ln -s / "$R/h/a/d/root"; mkdir "$R/h/b/d/root"
touch -h -d @1600000000 "$R"/h/a/d/* "$R"/h/b/d/*
run timeout 20 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" unify --manually -v -v /h/a '' /h/b ''
same "hostile tree: completes" 0 "$RC"
same "names with space, newline, bad UTF-8 are linked" 3 "$(grep -c '^unifying' "$T/out")"
check "a FIFO named like a regular file is skipped" grep -q "fifo' (non regular file)" "$T/out"
check "a symlink to / is skipped, not followed" grep -q "skipped: .*1 symlink" "$T/out"

# a directory swapped for a symlink to / while runs go on: nothing outside
# the trees is touched
S=$R/swap
mkdir -p "$S/a/d" "$S/b/d" "$S/b/etc"
for f in $(seq 200); do echo "swap $f" >"$S/a/d/f$f"; echo "swap $f" >"$S/b/d/f$f"; done
echo "root:x:0:0" >"$S/b/etc/passwd"
find "$S" -type f -exec touch -d @1600000000 {} +
# the host's file has a twin at the same place in the reference: a walk
# that followed a/d -> $T would replace the host's file by a link to it
mkdir -p "$T/hostdir2"
echo "host secret" >"$T/hostdir2/host-file"; echo "host secret" >"$S/b/d/host-file"
touch -d @1600000000 "$T/hostdir2/host-file" "$S/b/d/host-file"
hostsum=$(stat -c '%i %h %s %Y' "$T/hostdir2/host-file")
( for i in $(seq 300); do
	mv "$S/a/d" "$S/a/d.real" 2>/dev/null && ln -s "$T/hostdir2" "$S/a/d" 2>/dev/null
	rm -f "$S/a/d" 2>/dev/null; mv "$S/a/d.real" "$S/a/d" 2>/dev/null
done ) &
swapper=$!
ok=0
for i in $(seq 15); do
	timeout 20 "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" unify --manually /swap/a '' /swap/b '' >/dev/null 2>&1
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] && ok=$((ok + 1))
done
wait "$swapper"
[ -d "$S/a/d.real" ] && { rm -f "$S/a/d"; mv "$S/a/d.real" "$S/a/d"; }
same "swapped directory: every run completed or failed cleanly" 15 "$ok"
same "swapped directory: the host's file (twin in the reference) untouched" "$hostsum" "$(stat -c '%i %h %s %Y' "$T/hostdir2/host-file")"
same "swapped directory: nothing linked to the reference's /etc/passwd" 1 "$(stat -c %h "$S/b/etc/passwd")"
same "swapped directory: all files still there" 200 "$(ls "$S/a/d" | grep -c '^f')"

# a file written while it is compared and linked is never lost: a writer
# opens it at one of 8 moments of the run, holds it open for 40 ms, then
# writes its last byte.  Either its write went through (the file keeps it
# and its own inode) or its open found the file already shared and
# immutable (all zeros, linked; the open or the write refused); a write
# that "succeeded" into a replaced inode would leave zeros at the path.
# The reference is never written
mkdir -p "$R/chg/a" "$R/chg/b"
outcomes=
for d in 0 0.005 0.01 0.02 0.03 0.05 0.08 0.12; do
	rm -f "$R/chg/a/big" "$R/chg/b/big" 2>/dev/null
	chattr -i "$R/chg/b/big" 2>/dev/null; rm -f "$R/chg/b/big"
	head -c 20000000 /dev/zero >"$R/chg/a/big"; head -c 20000000 /dev/zero >"$R/chg/b/big"
	touch -d @1600000000 "$R/chg/a/big" "$R/chg/b/big"
	perl -e 'select(undef, undef, undef, $ARGV[1]);
		open(my $f, "+<", $ARGV[0]) or exit 2;
		select(undef, undef, undef, 0.04);
		seek($f, -1, 2); print $f "X" or exit 3; close($f) or exit 3; exit 0' \
		"$R/chg/a/big" "$d" &
	writer=$!
	vsx unify --manually /chg/a '' /chg/b '' >/dev/null 2>&1
	wait "$writer"
	wrc=$?
	last=$(tail -c 1 "$R/chg/a/big" | od -An -c | tr -d ' ')
	[ "$(tail -c 1 "$R/chg/b/big" | od -An -c | tr -d ' ')" = '\0' ] || outcomes="$outcomes REFERENCE-WRITTEN"
	if [ "$wrc" = 0 ] && [ "$last" = X ] && [ "$(ino "$R/chg/a/big")" != "$(ino "$R/chg/b/big")" ]; then
		outcomes="$outcomes written"
	elif [ "$wrc" != 0 ] && [ "$last" = '\0' ] && [ "$(ino "$R/chg/a/big")" = "$(ino "$R/chg/b/big")" ]; then
		outcomes="$outcomes shared/$wrc" # 2: open refused, 3: write refused
	else
		outcomes="$outcomes LOST(writer $wrc, last '$last')"
	fi
done
chattr -i "$R/chg/b/big" 2>/dev/null
check "a file written while compared or linked keeps the write, or was shared before the writer opened it ($outcomes )" \
	sh -c "! echo '$outcomes' | grep -q 'LOST\|REFERENCE'"

# guests: hardlinks need every guest stopped; a guest cannot write them
mkguest g1 || exit 99
mkguest g2 || exit 99
touch -d @1600000000 "$R$VROOTDIR/g1/bin/busybox" "$R$VROOTDIR/g2/bin/busybox"
for g in g1 g2; do mkdir -p "$R$VROOTDIR/$g/usr/share"; echo "shared data" >"$R$VROOTDIR/$g/usr/share/f"; touch -d @1600000000 "$R$VROOTDIR/$g/usr/share/f"; done
mkdir -p "$R$CONFDIR/g1/apps/vunify" "$R$CONFDIR/g2/apps/vunify"
ln -s ../../../g2 "$R$CONFDIR/g1/apps/vunify/refserver.1"
vsx g2 start
expect_error "hardlink with a running guest refused" 1 "hardlink unification needs every guest stopped (guest 'g2' is running)" vsx g1 unify
vsx g2 stop
expect_ok "unify g1 against g2" vsx g1 unify
same "busybox and the data file are shared" "$(ino "$R$VROOTDIR/g2/bin/busybox") $(ino "$R$VROOTDIR/g2/usr/share/f")" "$(ino "$R$VROOTDIR/g1/bin/busybox") $(ino "$R$VROOTDIR/g1/usr/share/f")"
check "the shipped exclude list kept /etc private" test "$(ino "$R$VROOTDIR/g1/etc/inittab")" != "$(ino "$R$VROOTDIR/g2/etc/inittab")"
expect_ok "start the unified guest" vsx g1 start
run vsx g1 exec sh -c 'echo changed >> /usr/share/f'
check "a guest cannot write a shared file" test "$RC" != 0
run vsx g1 exec sh -c 'echo new > /tmp/n && mv /tmp/n /usr/share/f'
check "a guest cannot replace a shared file" test "$RC" != 0
same "the shared file is unchanged" "shared data" "$(cat "$R$VROOTDIR/g2/usr/share/f")"
expect_ok "stop it" vsx g1 stop
ln -s /usr/share "$R$VROOTDIR/g1/via-link"
expect_error "deunify does not follow guest symlinks" 1 "cannot deunify '/via-link/f'" vsx g1 deunify /via-link/f
run vsx g1 deunify /usr/share/f
same "deunify of one path" "deunify: 1 files examined, 1 made private, 0 bytes saved" "$OUT"
check "busybox stays shared" test "$(ino "$R$VROOTDIR/g1/bin/busybox")" = "$(ino "$R$VROOTDIR/g2/bin/busybox")"
run vsx g1 deunify
check "deunify: exit 0" test "$RC" = 0
check "deunify: private copies again" test "$(ino "$R$VROOTDIR/g1/usr/share/f")" != "$(ino "$R$VROOTDIR/g2/usr/share/f")"
same "deunify: content and mtime kept" "shared data 1600000000" "$(cat "$R$VROOTDIR/g1/usr/share/f") $(stat -c %Y "$R$VROOTDIR/g1/usr/share/f")"
check "deunify: the copy is writable" sh -c "! lsattr '$R$VROOTDIR/g1/usr/share/f' | grep -q '^----i'"
check "deunify: the other guest's file, no longer shared, is writable again as before (one name, not immutable)" \
	sh -c "[ \$(stat -c %h '$R$VROOTDIR/g2/usr/share/f') = 1 ] && ! lsattr '$R$VROOTDIR/g2/usr/share/f' | grep -q '^----i'"
expect_ok "the deunified guest starts" vsx g1 start
run vsx g1 exec sh -c 'echo changed >> /usr/share/f && cat /usr/share/f'
same "and may change its file now" "shared data
changed" "$OUT"
vsx g1 stop
same "the other guest's copy did not change" "shared data" "$(cat "$R$VROOTDIR/g2/usr/share/f")"

# deunify keeps holes and extended attributes
for g in g1 g2; do
	truncate -s 1M "$R$VROOTDIR/$g/usr/share/sparse"
	printf 'head' | dd of="$R$VROOTDIR/$g/usr/share/sparse" conv=notrunc 2>/dev/null
	setfattr -n user.note -v kept "$R$VROOTDIR/$g/usr/share/sparse"
	touch -d @1600000000 "$R$VROOTDIR/$g/usr/share/sparse"
done
expect_ok "unify the sparse file" vsx g1 unify
same "the sparse file is shared" "$(ino "$R$VROOTDIR/g2/usr/share/sparse")" "$(ino "$R$VROOTDIR/g1/usr/share/sparse")"
expect_ok "deunify it" vsx g1 deunify /usr/share/sparse
same "deunify: holes kept (blocks)" "$(stat -c %b "$R$VROOTDIR/g2/usr/share/sparse")" "$(stat -c %b "$R$VROOTDIR/g1/usr/share/sparse")"
same "deunify: size and xattr kept" "1048576 kept" "$(stat -c %s "$R$VROOTDIR/g1/usr/share/sparse") $(getfattr --only-values -n user.note "$R$VROOTDIR/g1/usr/share/sparse" 2>/dev/null)"
mkdir -p "$R$VROOTDIR/g1/odd dir"
printf 'odd\n' >"$R$VROOTDIR/g1/odd dir/$(printf 'a\nb')"
run vsx g1 deunify "/odd dir"
same "deunify: names with spaces and newlines" 0 "$RC"

# dpkg's configuration files are never shared
mkdir -p "$R$VROOTDIR/g1/var/lib/dpkg" "$R$VROOTDIR/g1/opt" "$R$VROOTDIR/g2/opt"
printf 'Package: x\nConffiles:\n /opt/conf abc\n' >"$R$VROOTDIR/g1/var/lib/dpkg/status"
for g in g1 g2; do echo "conf" >"$R$VROOTDIR/$g/opt/conf"; touch -d @1600000000 "$R$VROOTDIR/$g/opt/conf"; done
run vsx g1 unify -v -v
check "a dpkg conffile is excluded" grep -qx "  skipping '/opt/conf' (excluded)" "$T/out"

# rpm's configuration files too, when the guest has an rpm database
if command -v rpmbuild >/dev/null && command -v rpm >/dev/null; then
	P=$T/rpmtop
	mkdir -p "$P/SPECS" "$P/BUILD" "$P/RPMS" "$P/SOURCES" "$P/SRPMS" "$P/BUILDROOT"
	cat >"$P/SPECS/vstest.spec" <<'EOS'
Name: vstest
Version: 1
Release: 1
Summary: a package with a config file
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/opt
echo rpmconf >%{buildroot}/opt/rpmconf
echo rpmdata >%{buildroot}/opt/rpmdata
touch -d @1600000000 %{buildroot}/opt/rpmconf %{buildroot}/opt/rpmdata
%files
%config(noreplace) /opt/rpmconf
/opt/rpmdata
EOS
	rpmbuild -bb --quiet --define "_topdir $P" "$P/SPECS/vstest.spec" >/dev/null 2>&1
	rpmfile=$(find "$P/RPMS" -name '*.rpm' | head -n 1)
	for g in g1 g2; do
		rpm --root "$R$VROOTDIR/$g" --dbpath /var/lib/rpm -i --nodeps --noscripts "$rpmfile" >/dev/null 2>&1
	done
	run vsx g1 unify -v -v
	check "an rpm config file is excluded" grep -qx "  skipping '/opt/rpmconf' (excluded)" "$T/out"
	check "the rpm's other file is shared" test "$(ino "$R$VROOTDIR/g1/opt/rpmdata")" = "$(ino "$R$VROOTDIR/g2/opt/rpmdata")"
else
	skip "rpm: no rpm/rpmbuild"
fi

# vs delete of a unified guest: refused while a guest runs, then the
# guest goes and the other guest's shared files stay protected
mkguest g3 || exit 99
touch -d @1600000000 "$R$VROOTDIR/g3/bin/busybox"
# a file only g2 and g3 will share
mkdir -p "$R$VROOTDIR/g3/usr/share"
printf 'g2 and g3 only\n' | tee "$R$VROOTDIR/g2/usr/share/pair" >"$R$VROOTDIR/g3/usr/share/pair"
touch -d @1600000000 "$R$VROOTDIR/g2/usr/share/pair" "$R$VROOTDIR/g3/usr/share/pair"
mkdir -p "$R$CONFDIR/g3/apps/vunify"
ln -s ../../../g2 "$R$CONFDIR/g3/apps/vunify/refserver.1"
expect_ok "unify g3" vsx g3 unify
same "g3 shares busybox and the file only g2 has too" "$(ino "$R$VROOTDIR/g2/bin/busybox") $(ino "$R$VROOTDIR/g2/usr/share/pair")" "$(ino "$R$VROOTDIR/g3/bin/busybox") $(ino "$R$VROOTDIR/g3/usr/share/pair")"
vsx g2 start
expect_error "delete with shared files while a guest runs" 1 "guest 'g3' has files shared with other guests (unified); stop every guest (guest 'g2' is running) or deunify it first" vsx g3 delete --yes
vsx g2 stop
expect_ok "delete the unified guest" vsx g3 delete --yes
check "its root is gone" test ! -e "$R$VROOTDIR/g3"
check "a file still shared ($(stat -c %h "$R$VROOTDIR/g2/bin/busybox") names) stays immutable for the others" \
	sh -c "[ \$(stat -c %h '$R$VROOTDIR/g2/bin/busybox') -ge 2 ] && lsattr '$R$VROOTDIR/g2/bin/busybox' | grep -q '^----i'"
check "g2's file it shared with g3 alone is g2's own again: one name, writable" \
	sh -c "[ \$(stat -c %h '$R$VROOTDIR/g2/usr/share/pair') = 1 ] && ! lsattr '$R$VROOTDIR/g2/usr/share/pair' | grep -q '^----i'"

# reflinks on XFS: extents shared, every file stays its own
if xfs_mount 512M "$T/xfs"; then
	X=$T/xfs
	mkdir -p "$X/a" "$X/b"
	# written twice from a pipe: cp and cat would share extents themselves
	head -c 3000000 /dev/urandom | tee "$X/a/big" >"$X/b/big"
	chown 1000 "$X/b/big"; chmod 600 "$X/b/big"
	run "$VS" --sysroot "$X" --plugindir "$MODS" --datadir "$srcdir/conf.d" unify --manually /a '' /b ''
	same "reflink: one file shared" "0|unify: 1 files examined, 1 linked, 3000000 bytes saved" "$RC|$OUT"
	pa=$(extent "$X/a/big")
	pb=$(extent "$X/b/big")
	check "reflink: the extents are shared ($pa $pb)" test -n "$pa" -a "$pa" = "$pb"
	check "reflink: each keeps its own inode and owner" test "$(ino "$X/a/big")" != "$(ino "$X/b/big")" -a "$(stat -c %u "$X/b/big")" = 1000
	echo more >>"$X/a/big"
	same "reflink: a file changes alone" "3000005 3000000" "$(stat -c %s "$X/a/big") $(stat -c %s "$X/b/big")"
	umount "$T/xfs"
else
	skip "reflink: $XFS_WHY"
fi

# interrupted runs: kill -9 at random points; every path keeps its
# content, and a rerun completes without leftovers
I=$R/int
for t in a b; do
	for d in $(seq 20); do
		mkdir -p "$I/$t/d$d"
		for f in $(seq 60); do echo "file $d $f of the tree" >"$I/$t/d$d/f$f"; done
	done
done
find "$I" -type f -exec touch -d @1600000000 {} +
want=$(cd "$I/a" && find . -type f -exec md5sum {} + | sort)
for trial in $(seq 12); do
	"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" unify --manually /int/a '' /int/b '' >/dev/null 2>&1 &
	pid=$!
	sleep 0.0$((RANDOM % 10))$((RANDOM % 10))
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	got=$(cd "$I/a" && find . -type f ! -name '.vs-unify-tmp.*' -exec md5sum {} + | sort)
	[ "$got" = "$want" ] || { fail "interrupted run $trial: a path lost or changed"; break; }
done
pass "interrupted runs: every path kept its content"
# what a run killed between its link and its rename leaves: a temporary
# name linking the reference's file, which readdir may list after the
# file itself (60 of them: some are)
mkdir "$I/a/dz" "$I/b/dz"
for f in $(seq 60); do
	for t in a b; do echo "file z $f" >"$I/$t/dz/f$f"; done
	ln "$I/b/dz/f$f" "$I/a/dz/.vs-unify-tmp.f$f"
done
find "$I/a/dz" "$I/b/dz" -type f -exec touch -d @1600000000 {} +
want=$(cd "$I/a" && find . -type f ! -name '.vs-unify-tmp.*' -exec md5sum {} + | sort)
expect_ok "a rerun completes" vsx unify --manually /int/a '' /int/b ''
same "no temporary names are left" "" "$(find "$I" -name '.vs-unify-tmp.*')"
same "everything is shared after the rerun" "" "$(for f in "$I"/a/d*/f*; do [ "$(ino "$f")" = "$(ino "${f/\/a\//\/b\/}")" ] || echo "$f"; done)"
same "contents as before" "$want" "$(cd "$I/a" && find . -type f -exec md5sum {} + | sort)"

# what a run killed between its exchange and the removal of the original
# leaves: the original under the temporary name.  Unchanged, it goes; a
# write that landed in it keeps it there
cp -p "$I/a/d1/f1" "$I/a/d1/.vs-unify-tmp.f1"
cp -p "$I/a/d1/f2" "$I/a/d1/.vs-unify-tmp.f2"
sed -i 's/file/FILE/' "$I/a/d1/.vs-unify-tmp.f2" # same size, same time
touch -d @1600000000 "$I/a/d1/.vs-unify-tmp.f2"
expect_ok "a run after one killed in an exchange" vsx unify --manually /int/a '' /int/b ''
check "an original left under the temporary name, unchanged, is removed" test ! -e "$I/a/d1/.vs-unify-tmp.f1"
same "one that a write reached stays" "FILE 1 2 of the tree" "$(cat "$I/a/d1/.vs-unify-tmp.f2" 2>&1)"
rm -f "$I/a/d1/.vs-unify-tmp.f2"

# several references: taken in the sorted order of their names, the
# first that has the file equal wins (refserver.a before refserver.b,
# whatever order they were made in)
for g in ra rb rc; do
	mkguest "$g" || exit 99
	mkdir -p "$R$CONFDIR/$g/apps/vunify" "$R$VROOTDIR/$g/usr/share"
	echo "in every reference" >"$R$VROOTDIR/$g/usr/share/every"
	touch -d @1600000000 "$R$VROOTDIR/$g/usr/share/every"
done
echo "only in rb" >"$R$VROOTDIR/rb/usr/share/one"
cp -p "$R$VROOTDIR/rb/usr/share/one" "$R$VROOTDIR/rc/usr/share/one"
ln -s ../../../rb "$R$CONFDIR/rc/apps/vunify/refserver.b"
ln -s ../../../ra "$R$CONFDIR/rc/apps/vunify/refserver.a"
expect_ok "unify rc against two references" vsx rc unify
same "a file every reference has is linked to the first by name (refserver.a)" \
	"$(ino "$R$VROOTDIR/ra/usr/share/every")" "$(ino "$R$VROOTDIR/rc/usr/share/every")"
same "a file only the second has is linked to the second's" \
	"$(ino "$R$VROOTDIR/rb/usr/share/one")" "$(ino "$R$VROOTDIR/rc/usr/share/one")"

# bad input: one line, non-zero, nothing changed
expect_error "no reference" 1 "guest 'g2' has no reference (apps/vunify/refserver.*)" vsx g2 unify
rm -r "$R$CONFDIR/g2/apps/vunify"
expect_error "a reference without apps/vunify" 1 "guest 'g2' has no apps/vunify/" vsx g1 unify
rm "$R$CONFDIR/g1/apps/vunify/refserver.1"
ln -s ../../../nosuch "$R$CONFDIR/g1/apps/vunify/refserver.1"
expect_error "a dangling reference" 1 "cannot use reference '$CONFDIR/g1/apps/vunify/refserver.1'" vsx g1 unify
expect_error "a guest without apps/vunify" 1 "guest 'g2' has no apps/vunify/" vsx g2 unify
expect_error "an unreadable exclude list" 1 "cannot read the exclude list '$R/nonexistent'" vsx unify --manually /fix/a /nonexistent /fix/b ''
printf '/ok\nnot/absolute\n' >"$R/badexcl"
expect_error "a bad exclude line" 1 "$R/badexcl:2: pattern 'not/absolute' does not start with '/'" vsx unify --manually /fix/a /badexcl /fix/b ''
expect_error "dst equal to ref" 1 "reference '$R/fix/a' is the destination itself" vsx unify --manually /fix/a '' /fix/a ''
expect_error "ref inside dst" 1 "are inside each other" vsx unify --manually /fix '' /fix/b ''
expect_error "a missing reference tree" 1 "cannot open '$R/fix/nope'" vsx unify --manually /fix/a '' /fix/nope ''
expect_error "odd arguments" 2 "unify --manually: expected <dst> <dst-exclude> (<ref> <ref-exclude>)+" vsx unify --manually /fix/a ''
expect_error "bad --link" 2 "invalid --link 'copy'" vsx unify --link=copy --manually /fix/a '' /fix/b ''

finish
