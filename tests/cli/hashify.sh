#!/bin/bash
# hashify (vhashify): two guests built from one tarball made here share
# their files through a content-addressed store; contents and metadata
# stay; digests match sha256sum; the digest cache is used and cannot be
# forged; forged store entries are never linked and --verify finds them;
# files rewritten during a run and kill -9 at random points never lose or
# change a guest file; gc, unhashify, every bad input; reflinks on a
# loop-mounted XFS.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

C=$R$CONFDIR
HD=$CONFDIR/.defaults/apps/vunify/hash
STORE=$R$VROOTDIR/.hash

# ---- the image: sizes of util-vserver's hashcalc cases, binaries, odd
# names, xattrs, a file capability, setuid, other owners, a hard link
IMG=$T/img
mkdir -p "$IMG/bin" "$IMG/doc" "$IMG/sizes" "$IMG/etc" "$IMG/data" "$IMG/odd"
cp -a /usr/share/doc/[a-c]* "$IMG/doc/"
cp /bin/ls /bin/cp /bin/bash "$IMG/bin/"
PAGE=$(getconf PAGESIZE)
for n in 0 1 2 4 8 15 16 23 42 64 $((PAGE - 1)) $PAGE $((PAGE + 1)) $((2 * PAGE - 23)) $((23 * PAGE + 42)); do
	head -c "$n" /dev/urandom >"$IMG/sizes/s$n"
done
truncate -s 5M "$IMG/sizes/sparse" && printf 'middle of a sparse file' | dd of="$IMG/sizes/sparse" bs=1 seek=2M conv=notrunc status=none
printf 'a file with a space in its name\n' >"$IMG/odd/a b"
printf 'a file with a newline in its name\n' >"$IMG/odd/new
line"
printf 'setting = excluded (/etc/*)\n' >"$IMG/etc/app.conf"
printf 'setting = shared by every guest\n' >"$IMG/data/app.conf"
printf 'this file has an extended attribute\n' >"$IMG/data/xattr"
setfattr -n user.note -v hello "$IMG/data/xattr"
cp /bin/ls "$IMG/bin/capls"
setcap cap_net_raw+ep "$IMG/bin/capls" 2>/dev/null
cp /bin/ls "$IMG/bin/suidls" && chmod 4755 "$IMG/bin/suidls"
printf 'owned by somebody else entirely\n' >"$IMG/data/owned" && chown 1000:1000 "$IMG/data/owned"
touch -d '2001-02-03 04:05:06' "$IMG/data/app.conf"
ln "$IMG/doc/bash/RBASH" "$IMG/doc/RBASH.link"
ln -s ../bin/ls "$IMG/odd/link"
tar --xattrs --xattrs-include='*' -czf "$T/img.tgz" -C "$IMG" .

mkimgguest() {
	vsx "$1" build -m template -- -t "$T/img.tgz" >/dev/null && mkdir -p "$C/$1/apps/vunify"
}
# What must never change: names, types, modes, owners, sizes, mtimes,
# link targets, contents, user and security xattrs (with a second
# argument: not the directories' mtimes).
manifest() {
	(cd "$1" && find . -path ./dev -prune -o ${2:+! -type d} -printf '%p|%y|%m|%U|%G|%s|%T@|%l\n' -o -printf '%p|%y|%m|%U|%G\n' | LC_ALL=C sort &&
		find . -path ./dev -prune -o -type f -print0 | xargs -0 sha256sum | LC_ALL=C sort &&
		getfattr -h -R -d -m '^(user|security)\.' . 2>/dev/null | grep -v '^$' | LC_ALL=C sort)
}
inode() { stat -c %i "$1"; }
summary_field() { sed -n "s/.*[:,(] *\([0-9][0-9]*\) $1.*/\1/p" "$T/out" | tail -n 1; }

mkimgguest g1 && mkimgguest g2
check "two guests from one tarball" test -f "$(rootof g2)/etc/app.conf" -a -f "$(rootof g1)/bin/capls"
B1=$(manifest "$(rootof g1)")
B2=$(manifest "$(rootof g2)")
DU0=$(du -s -b --apparent-size "$(rootof g1)" "$(rootof g2)" | awk '{ s += $1 } END { print s }')

# ---- bad input: one line, non-zero, nothing changed ------------------
E=expect_error
$E "no hash directory configured" 1 "no hash directory configured for guest 'g1' (apps/vunify/hash or .defaults/apps/vunify/hash)" vsx g1 hashify
mkdir -p "$R$HD" "$STORE"
$E "an empty hash directory" 1 "no store in the hash directory '$R$HD'" vsx g1 hashify
ln -s ../../.hash "$R$HD/0"
$E "a relative store symlink" 1 "store '$R$HD/0' is a relative symlink ('../../.hash')" vsx g1 hashify
rm "$R$HD/0"
ln -s "$VROOTDIR/.hash" "$R$HD/0"
mkdir -p "$R$VROOTDIR/.hash2"
ln -s "$VROOTDIR/.hash2" "$R$HD/1"
$E "two stores on one filesystem" 1 "two stores on one filesystem: '$R$HD/0' and '$R$HD/1'" vsx g1 hashify
rm "$R$HD/1"
rmdir "$R$VROOTDIR/.hash2"
mkdir -p "$R/other" "$R/tmp/hd"
if mount -t tmpfs -o size=8m vs-test "$R/other" 2>/dev/null; then
	mkdir -p "$R/other/store"
	ln -s /other/store "$R/tmp/hd/0"
	$E "a store on another filesystem than the guest" 1 "no store of '$R/tmp/hd' is on the filesystem of '$(rootof g1)'" \
		vsx hashify --manually --destination /tmp/hd "$VROOTDIR/g1"
	umount "$R/other"
else
	skip "the other-filesystem case: cannot mount a tmpfs"
fi
echo md5 >"$STORE/method"
$E "a store made with another digest" 1 "store '$R$HD/0' was made with 'md5'; vs uses sha256 (start a new store)" vsx g1 hashify
rm "$STORE/method"
$E "--destination not absolute" 1 "hash directory 'tmp/hd' is not an absolute path" vsx hashify --manually --destination tmp/hd "$VROOTDIR/g1"
$E "--destination missing" 1 "hash directory '$R/nonexistent' does not exist or is not a directory" vsx hashify --manually --destination /nonexistent "$VROOTDIR/g1"
$E "an unreadable exclude list" 1 "cannot read the exclude list '$R/nonexistent/list'" vsx hashify --manually --destination "$HD" "$VROOTDIR/g1" /nonexistent/list
$E "--manually without --destination" 2 "hashify --manually: expected --destination <hashdir> <path> [<exclude-list>]" vsx hashify --manually "$VROOTDIR/g1"
$E "--destination without --manually" 2 "hashify: --destination needs --manually" vsx g1 hashify --destination "$HD"
$E "a bad --link" 2 "hashify: invalid --link 'copy' (auto, reflink or hardlink)" vsx g1 hashify --link=copy
$E "--link=reflink on ext4" 1 "--link=reflink: the filesystem of '$(rootof g1)' cannot share extents" vsx g1 hashify --link=reflink
$E "--sledgehammer" 2 "hashify: --sledgehammer is not supported" vsx g1 hashify --sledgehammer
$E "an unknown option" 2 "hashify: unknown or incomplete option '-q'" vsx g1 hashify -q
$E "--gc with a relative directory" 2 "hashify --gc: hash directory 'x' is not an absolute path" vsx hashify --gc x
$E "--migrate with a relative directory" 2 "hashify --migrate: hash directory 'x' is not an absolute path" vsx hashify --migrate x
$E "--migrate without a directory" 2 "hashify --migrate: expected one hash directory" vsx hashify --migrate
$E "--migrate with --gc" 2 "hashify: --manually, --gc, --verify and --migrate exclude each other" vsx hashify --migrate --gc "$HD"
mkdir -p "$R/empty-hd"
$E "--migrate of a directory without a store" 1 "no store in the hash directory '$R/empty-hd'" vsx hashify --migrate /empty-hd
rmdir "$R/empty-hd"
mkimgguest g3 && rmdir "$C/g3/apps/vunify"
$E "a guest without apps/vunify" 1 "guest 'g3' has no apps/vunify/ (mkdir it to unify this guest)" vsx g3 hashify
$E "several guests, one without apps/vunify" 1 "guest 'g3' has no apps/vunify/ (mkdir it to unify this guest)" vsx hashify g1 g3
$E "several guests, one unknown" 1 "guest 'nosuch'" vsx hashify g1 nosuch
mkdir -p "$C/g2/apps/vunify/hash"
$E "several guests with other hash directories" 1 "guest 'g2' uses the hash directory '$C/g2/apps/vunify/hash', not '$C/.defaults/apps/vunify/hash': hashify them separately" vsx hashify g1 g2
rmdir "$C/g2/apps/vunify/hash"
$E "--manually: several paths, one without its exclude list" 2 "hashify --manually: expected --destination <hashdir> <path> [<exclude-list>] (with several paths, each followed by its exclude list, '' for none)" vsx hashify --manually --destination "$HD" "$VROOTDIR/g1" '' "$VROOTDIR/g2"
check "bad input: the store is still empty" test -z "$(ls -A "$STORE")"

# ---- hardlink store (ext4) ----------------------------------------------
expect_ok "-n says what it would do" vsx g1 hashify -n
check "-n changes nothing (no method file either)" test -z "$(ls -A "$STORE")"
expect_ok "hashify the first guest" vsx g1 hashify
check "... writes the method file" test "$(cat "$STORE/method")" = sha256
NL=$(find "$(rootof g1)" -path "$(rootof g1)/dev" -prune -o -type l -print | wc -l)
check "... skips every symlink, and counts it ($NL, /dev excluded)" test "$NL" -gt 0 -a "$(summary_field symlink)" = "$NL"
NEW=$(summary_field "new store entries")
SAVED1=$(summary_field "bytes saved")
expect_ok "hashify the second guest" vsx g2 hashify -v
SAVED=$(( SAVED1 + $(summary_field "bytes saved") ))
LINKED=$(summary_field linked)
check "the first guest made store entries, the second linked to them" test "${NEW:-0}" -gt 250 -a "${LINKED:-0}" -ge "$((NEW - 2))"
same "g1: nothing changed (contents, modes, owners, times, xattrs)" "$B1" "$(manifest "$(rootof g1)")"
same "g2: nothing changed (contents, modes, owners, times, xattrs)" "$B2" "$(manifest "$(rootof g2)")"
check "identical files share one inode" test "$(inode "$(rootof g1)/bin/ls")" = "$(inode "$(rootof g2)/bin/ls")" -a "$(stat -c %h "$(rootof g1)/bin/ls")" = 3
check "a hard link inside the image stays one inode" test "$(inode "$(rootof g2)/doc/RBASH.link")" = "$(inode "$(rootof g2)/doc/bash/RBASH")"
check "the file capability is kept" sh -c "getcap '$(rootof g2)/bin/capls' | grep -q cap_net_raw"
check "a guest's shared file is immutable" sh -c "! printf x >>'$(rootof g2)/bin/cp' 2>/dev/null"
DU1=$(du -s -b --apparent-size "$(rootof g1)" "$(rootof g2)" | awk '{ s += $1 } END { print s }')
same "the bytes saved are what du sees" "$SAVED" "$((DU0 - DU1))"
bad=0
for f in "$(rootof g1)"/sizes/s* "$(rootof g1)/sizes/sparse" "$(rootof g1)/bin/bash" "$(rootof g1)/odd/new
line"; do
	size=$(stat -c %s "$f")
	entry=$(find "$STORE" -inum "$(inode "$f")" -type f | head -n 1)
	if [ "$size" -lt 16 ]; then
		[ -z "$entry" ] || { echo "# $f: $size bytes, yet in the store"; bad=1; }
	else
		want=$(sha256sum <"$f" | cut -c1-64)
		case ${entry##*/} in "$want"-m*) ;; *) echo "# $f: entry '${entry##*/}', sha256sum $want"; bad=1 ;; esac
	fi
done
check "store names start with sha256sum of the content (hashcalc sizes, sparse, odd names); files under 16 bytes stay out" test $bad = 0
expect_ok "a rerun" vsx g2 hashify
same "a rerun reads no file contents" "0" "$(summary_field "bytes hashed")"
check "... and finds them all already hashified" test "$(summary_field "already unified")" -ge "$LINKED"
expect_ok "--verify: the store is sound" vsx hashify --verify "$HD"
expect_ok "--refresh reads everything again" vsx g2 hashify --refresh
check "... hashes every file and changes nothing" test "$(summary_field "bytes hashed")" -gt 1000000 -a "$(summary_field "new store entries")" = 0 -a "$(summary_field linked)" = 0

# ---- several guests in one run: files that may be equal are one group,
# read once; new content, content of the store, more than a batch, and
# a forged entry under the name of a group's content -------------------
mkimgguest g7 && mkimgguest g8
for g in g7 g8; do
	r=$(rootof $g)
	mkdir -p "$r/data/many"
	printf 'content that only g7 and g8 have\n' >"$r/data/both"
	printf 'same size, other bytes: %s\n' "$g" >"$r/data/sized"
	printf 'g7 and g8 have it, and so has a forged entry\n' >"$r/data/forged"
	for i in $(seq 1 20); do printf 'twenty copies of one file\n' >"$r/data/many/f$i"; done
	printf 'one content, other attributes\n' >"$r/data/attrs"
	setfattr -n user.note -v "written in $g" "$r/data/attrs"
	printf 'one content, the same attributes\n' >"$r/data/sameattrs"
	# other bytes with one content key, as a guest can solve for them
	mkdir -p "$r/data/keyed" && "$top_builddir/tests/fixtures/keypair" "$r/data/keyed"
	setfattr -n user.note -v "the same everywhere" "$r/data/sameattrs"
	# the same beyond 32 KiB: files read as streams, not whole at once
	mkdir -p "$r/data/big/many"
	for f in both sized forged attrs sameattrs; do
		{ cat "$r/data/$f" && yes 'a large file is compared as a stream' | head -c 40000; } >"$r/data/big/$f"
	done
	for i in $(seq 1 20); do cp "$r/data/big/both" "$r/data/big/many/f$i"; done
	setfattr -n user.note -v "written in $g" "$r/data/big/attrs"
	setfattr -n user.note -v "the same everywhere" "$r/data/big/sameattrs"
	touch -d '2002-03-04 05:06:07' "$r/data/both" "$r/data/sized" "$r/data/forged" "$r/data/many"/f* "$r/data/attrs" "$r/data/sameattrs" "$r/data/keyed"/* \
		"$r/data/big"/* "$r/data/big/many"/*
	# the whole metadata counts: the nanoseconds of the mtime, the flags
	for f in ns ns2 fl flq; do printf 'one content: %s\n' "${f%2}" >"$r/data/$f"; done
	touch -d @1015218367.000000001 "$r/data/fl" "$r/data/flq"
done
touch -d @1015218367.000000001 "$(rootof g7)/data/ns"
touch -d @1015218367.000000002 "$(rootof g8)/data/ns" "$(rootof g7)/data/ns2"
chattr +d "$(rootof g7)/data/fl" "$(rootof g7)/data/flq" "$(rootof g8)/data/flq"
B7=$(manifest "$(rootof g7)")
B8=$(manifest "$(rootof g8)")
X=$(rootof g7)/data/forged BX=$(rootof g7)/data/big/forged
forge() {
	xd=$(sha256sum <"$1" | cut -c1-64)
	forged=$STORE/${xd:0:2}/$xd-m0644-u0-g0-t$(stat -c %Y "$1").000000000-x0
	mkdir -p "${forged%/*}"
	head -c "$(stat -c %s "$1")" /dev/zero >"$forged" && touch -r "$1" "$forged"
	echo "$forged"
}
forged=$(forge "$X") bforged=$(forge "$BX")
run vsx hashify g7 g8
check "two guests in one run" test "$RC" = 0
same "g7: nothing changed" "$B7" "$(manifest "$(rootof g7)")"
same "g8: nothing changed" "$B8" "$(manifest "$(rootof g8)")"
for d in data data/big; do
	at=${d#data}
	check "a file only they have: one inode for both, in the store$at" test "$(inode "$(rootof g7)/$d/both")" = "$(inode "$(rootof g8)/$d/both")" -a "$(stat -c %h "$(rootof g7)/$d/both")" = $((3 + ${at:+40}))
	check "the same size with other bytes: two entries$at" test "$(inode "$(rootof g7)/$d/sized")" != "$(inode "$(rootof g8)/$d/sized")" -a "$(stat -c %h "$(rootof g8)/$d/sized")" = 2
	check "forty equal files (batches of a group): one inode$at" test "$(stat -c %i "$(rootof g7)"/$d/many/* "$(rootof g8)"/$d/many/* | sort -u | wc -l)" = 1 -a "$(stat -c %h "$(rootof g8)/$d/many/f1")" = $((41 + ${at:+2}))
	check "one content with other extended attributes: not shared$at" test "$(inode "$(rootof g7)/$d/attrs")" != "$(inode "$(rootof g8)/$d/attrs")"
	check "one content with the same extended attributes: shared$at" test "$(inode "$(rootof g7)/$d/sameattrs")" = "$(inode "$(rootof g8)/$d/sameattrs")"
done
K7=$(rootof g7)/data/keyed K8=$(rootof g8)/data/keyed
check "one content key, other bytes (solved for, as a guest can): never linked; each shared with its equal" \
	test "$(inode "$K7/a")" = "$(inode "$K8/a")" -a "$(inode "$K7/b")" = "$(inode "$K8/b")" -a "$(inode "$K7/a")" != "$(inode "$K7/b")"
check "files the store had are linked to its entries" test "$(inode "$(rootof g7)/bin/ls")" = "$(inode "$(rootof g1)/bin/ls")" -a "$(inode "$(rootof g8)/bin/bash")" = "$(inode "$(rootof g1)/bin/bash")"
check "a hard link inside the image stays one inode" test "$(inode "$(rootof g8)/doc/RBASH.link")" = "$(inode "$(rootof g8)/doc/bash/RBASH")"
same "mtimes a nanosecond apart: not shared, across guests or in one; the same nanoseconds: shared" \
	"2 3" "$(stat -c %i "$(rootof g7)/data/ns" "$(rootof g8)/data/ns" "$(rootof g7)/data/ns2" | sort -u | wc -l) $(stat -c %h "$(rootof g8)/data/ns")"
check "other file flags (nodump in g7 only): not shared" test "$(inode "$(rootof g7)/data/fl")" != "$(inode "$(rootof g8)/data/fl")"
check "nodump in both: shared, and the store entry's name says so" \
	sh -c "[ '$(inode "$(rootof g7)/data/flq")' = '$(inode "$(rootof g8)/data/flq")' ] && ls '$STORE'/*/ | grep -q -- '-t1015218367.000000001-x0-f40\$'"
check "store names carry the mtime's nanoseconds" sh -c "ls '$STORE'/*/ | grep -q -- '-t1015218367.000000002-x0\$'"
check "a group whose digest has a forged entry: not linked (a small file, a large one)" test "$(stat -c %h "$X")" = 1 -a "$(stat -c %h "$(rootof g8)/data/forged")" = 1 -a "$(stat -c %h "$BX")" = 1 -a "$(stat -c %h "$(rootof g8)/data/big/forged")" = 1
check "... and reported" sh -c "grep -q \"'$X': its content differs from the store entry '.*/${forged#$STORE/}'\" '$T/err' && grep -q \"'$BX': its content differs from the store entry\" '$T/err'"
check "... the forged entries are left as they were (not made immutable)" rm "$forged" "$bforged"
expect_ok "the forged entries gone, a rerun" vsx hashify g7 g8
same "... reads both files of each once and hashes one (the other is compared with it)" \
	"$(($(stat -c %s "$X") + $(stat -c %s "$BX")))" "$(summary_field "bytes hashed")"
check "... and links them" test "$(inode "$X")" = "$(inode "$(rootof g8)/data/forged")" -a "$(inode "$BX")" = "$(inode "$(rootof g8)/data/big/forged")"
expect_ok "--manually with two <path> <exclude-list> pairs (none)" vsx hashify --manually --destination "$HD" "$VROOTDIR/g7" '' "$VROOTDIR/g8" ''
check "... hashifies what the guests' exclude lists left out" test "$(inode "$(rootof g7)/etc/app.conf")" = "$(inode "$(rootof g8)/etc/app.conf")"
expect_ok "a rerun of both reads no file contents" vsx hashify g7 g8
same "... (none hashed)" "0" "$(summary_field "bytes hashed")"
expect_ok "--verify: the store is sound" vsx hashify --verify "$HD"

# one changed file: only it is read
F=/doc/bash/NEWS.gz
expect_ok "unhashify one file" vsx g2 unhashify "$F"
check "... a private, writable copy" test "$(stat -c %h "$(rootof g2)$F")" = 1 -a "$(cmp "$(rootof g2)$F" "$(rootof g1)$F" && echo same)" = same
printf 'changed' | dd of="$(rootof g2)$F" bs=1 seek=100 conv=notrunc status=none
expect_ok "a rerun after one change" vsx g2 hashify
same "... reads only the changed file" "$(stat -c %s "$(rootof g2)$F")" "$(summary_field "bytes hashed")"

# a forged digest cache: the content decides
G=/doc/bash/README.Debian.gz
expect_ok "unhashify another file" vsx g2 unhashify "$G"
other=$(sha256sum <"$(rootof g2)/data/app.conf" | cut -c1-64)
# a cache entry that would be valid but for its digest (as root can make)
ns() { stat -c "%$1" "$(rootof g2)$G" | sed 's/^[^.]*\.\([0-9]*\) .*/\1/'; }
setfattr -n trusted.vs.sha256 -v "v1 $other $(stat -c '%s %Y' "$(rootof g2)$G" | tr ' ' '\n' | tail -n 1 | sed "s/^/$(stat -c %s "$(rootof g2)$G") /").$(ns y) $(stat -c %Z "$(rootof g2)$G").$(ns z) $(inode "$(rootof g2)$G")" "$(rootof g2)$G"
expect_ok "hashify with a forged digest cache" vsx g2 hashify
check "... the file is linked to the entry of its real content" test "$(inode "$(rootof g2)$G")" = "$(inode "$(rootof g1)$G")"
check "... its content is its own" cmp -s "$(rootof g2)$G" "$IMG$G"

# a user.* attribute a guest could plant: it is just an attribute
mkimgguest g6
printf 'a file of g6 with a planted attribute\n' >"$(rootof g6)/data/planted"
setfattr -n user.vs.sha256 -v "v1 $other" "$(rootof g6)/data/planted"
expect_ok "hashify a guest with a planted user.vs.sha256" vsx g6 hashify
pe=$(find "$STORE" -inum "$(inode "$(rootof g6)/data/planted")" -type f)
check "... its store entry is named by its real content" test "${pe##*/}" != "" -a "$(echo "${pe##*/}" | cut -c1-64)" = "$(sha256sum <"$(rootof g6)/data/planted" | cut -c1-64)"

# a forged store entry under another content's digest
expect_ok "unhashify a third file" vsx g2 unhashify /data/xattr
X=$(rootof g2)/data/xattr
xentry=$(find "$STORE" -inum "$(inode "$(rootof g1)/data/xattr")" -type f)
chattr -i "$xentry" && rm "$xentry"   # its only other user is g1
forged=$STORE/${xentry#"$STORE"/}
head -c "$(stat -c %s "$X")" /dev/zero >"$forged"
chown --reference="$X" "$forged"; chmod --reference="$X" "$forged"; touch -r "$X" "$forged"
setfattr -n user.note -v hello "$forged"
before=$(inode "$X")
run vsx g2 hashify
check "a forged entry is never linked" test "$(inode "$X")" = "$before" -a "$(cat "$X")" = "this file has an extended attribute"
check "... and the file is reported" grep -q "content differs from the store entry" "$T/err"
TOOL_OUTPUT=1 expect_error "--verify reports the forged entry" 1 "1 store entries do not match their names" vsx hashify --verify "$HD"
check "... naming it" grep -q "store entry '$R$HD/0/${forged#"$STORE"/}' does not match its name" "$T/err"
rm "$forged"
expect_ok "with the forged entry gone the file is hashified" vsx g2 hashify
expect_ok "--verify: sound again" vsx hashify --verify "$HD"
same "g2: still nothing changed" "$(printf '%s\n' "$B2" | grep -v "$F")" "$(manifest "$(rootof g2)" | grep -v "$F")"

# ---- a file rewritten during the runs ---------------------------------
mkimgguest g4
V=$(rootof g4)/data/victim
printf 'content A of the victim file, long enough\n' >"$T/A"
printf 'content B of the victim file, long enough\n' >"$T/B"
cp "$T/A" "$V"
# the writer rewrites the file during each run and is stopped before the
# file is looked at (a writer still running would leave B whatever vs did)
bad=0
for i in 1 2 3 4 5 6; do
	rm -f "$T/stop"
	( while [ ! -e "$T/stop" ]; do cp "$T/A" "$V"; cp "$T/B" "$V"; done ) 2>/dev/null &
	HELPER=$!
	vsx g4 hashify >/dev/null 2>&1
	touch "$T/stop"
	wait $HELPER 2>/dev/null
	cmp -s "$V" "$T/A" || cmp -s "$V" "$T/B" || { bad=$((bad + 1)); echo "# run $i: $(head -c 60 "$V" | od -c | head -2)"; }
	vsx g4 unhashify /data/victim >/dev/null 2>&1
done
same "a file rewritten during hashify holds A or B after each of 6 runs" 0 "$bad"
expect_ok "--verify: no content under a wrong name" vsx hashify --verify "$HD"
# the same in a group: g4b holds the other victims (A and B, as g4's can
# be), so with --ignore-mtime g4's rewritten file is grouped with them
mkimgguest g4b
W=$(rootof g4b)/data
cp "$T/A" "$W/victim" && cp "$T/B" "$W/victim-b"
bad=0
for i in 1 2 3 4 5 6; do
	rm -f "$T/stop"
	( while [ ! -e "$T/stop" ]; do cp "$T/A" "$V"; cp "$T/B" "$V"; done ) 2>/dev/null &
	HELPER=$!
	vsx hashify --ignore-mtime g4 g4b >/dev/null 2>&1
	touch "$T/stop"
	wait $HELPER 2>/dev/null
	cmp -s "$V" "$T/A" || cmp -s "$V" "$T/B" || bad=$((bad + 1))
	vsx g4 unhashify /data/victim >/dev/null 2>&1
done
same "rewritten while its group is hashified: A or B after each of 6 runs" 0 "$bad"
check "... the group's other files keep their content" sh -c "cmp -s '$W/victim' '$T/A' && cmp -s '$W/victim-b' '$T/B'"
expect_ok "--verify: no content under a wrong name" vsx hashify --verify "$HD"

# ---- kill -9 at random points -----------------------------------------
mkimgguest g5
B5=$(manifest "$(rootof g5)")
B5N=$(manifest "$(rootof g5)" nodirtimes)
ok=1 killed=0
for i in $(seq 1 12); do
	vsx g5 unhashify >/dev/null 2>&1
	# the vs binary itself in the background (a shell function there
	# would be a subshell: $! would name bash, not vs)
	"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" g5 hashify >/dev/null 2>&1 &
	pid=$!
	sleep "0.0$((RANDOM % 3))$((RANDOM % 10))" # 0 to 29 ms: a run takes longer
	[ "$(cat /proc/$pid/comm 2>/dev/null)" = vs ] && kill -9 $pid 2>/dev/null && killed=$((killed + 1))
	wait $pid 2>/dev/null
	missing=$(LC_ALL=C comm -23 <(printf '%s\n' "$B5N") <(manifest "$(rootof g5)" nodirtimes) | head -n 3)
	[ -z "$missing" ] || { echo "# trial $i: $missing"; ok=0; }
	vsx hashify --verify "$HD" >/dev/null 2>&1 || { echo "# trial $i: --verify failed"; ok=0; }
done
check "kill -9 reached vs itself in at least 3 of the 12 trials ($killed)" test "$killed" -ge 3
check "12 kill -9 trials: no guest path missing or changed (directory mtimes aside), the store verified each time" test $ok = 1
expect_ok "a rerun after the trials completes" vsx g5 hashify
same "g5: exactly as built (directory mtimes aside: a run killed between a rename and putting the time back leaves one)" "$B5N" "$(manifest "$(rootof g5)" nodirtimes)"

# ---- a store named by an earlier vs (mtime in whole seconds) ------------
# the entries of this store renamed as an earlier vs named them (where
# two would get one name, the second keeps its own: an earlier vs made
# one entry of both); $nold of them
old_names() {
	find "$STORE" -type f -name '*-t[0-9]*.[0-9]*-x*' >"$T/exact-names"
	nold=0
	while read -r e; do
		o=$(echo "$e" | sed -E 's/(-t[0-9]+)\.[0-9]{9}(-x[0-9a-f]+)(-f[0-9a-f]+)?$/\1\2/')
		[ -e "$o" ] && continue
		# immutable: no rename
		chattr -i "$e" && mv "$e" "$o" && chattr +i "$o" && nold=$((nold + 1))
	done <"$T/exact-names"
}
exact=$(find "$STORE" -type f -name '*-t[0-9]*' | LC_ALL=C sort)
old_names
S0=$(snapshot)
TOOL_OUTPUT=1 expect_error "a store named by an earlier vs is refused, saying what to run" 1 \
	"vs: store '$R$HD/0' has $nold entries named by an earlier vs (mtime in whole seconds): run 'vs hashify --migrate $R$HD' once" vsx g2 hashify
same "... nothing changed" "$S0" "$(snapshot)"
TOOL_OUTPUT=1 expect_error "--verify names such entries" 1 "store entries do not match their names" vsx hashify --verify "$HD"
check "... and says what to run" grep -q "is named as an earlier vs did (mtime in whole seconds): run 'vs hashify --migrate'" "$T/err"
expect_ok "--migrate -n" vsx hashify --migrate -n "$HD"
same "--migrate -n lists every entry, renames none" "$nold|$S0" "$(grep -c '^renaming ' "$T/out")|$(snapshot)"
expect_ok "--migrate" vsx hashify --migrate "$HD"
same "--migrate gives every entry its exact name again (from its inode: nanoseconds, flags)" "$exact" "$(find "$STORE" -type f -name '*-t[0-9]*' | LC_ALL=C sort)"
same "... linking or unlinking nothing (names aside, the tree as it was)" \
	"$(grep -v '\.hash/' <<<"$S0")" "$(snapshot | grep -v '\.hash/')"
expect_ok "hashify works again" vsx g2 hashify
expect_ok "--verify: sound" vsx hashify --verify "$HD"
# an old name whose entry does not fit it any more: left, said, status 1
old_names
o=$(echo "$exact" | grep -- '-m0644-' | sed -E 's/(-t[0-9]+)\.[0-9]{9}(-x[0-9a-f]+)$/\1\2/' |
	while read -r f; do [ -e "$f" ] && echo "$f" && break; done)
chattr -i "$o"; chmod 600 "$o"; chattr +i "$o"
run vsx hashify --migrate "$HD"
same "--migrate with an entry that does not fit its old name: the others renamed, status 1" \
	"1|migrate: $((nold - 1)) entries renamed, 1 left|vs: 1 store entries could not be renamed" "$RC|$OUT|$(tail -n 1 "$T/err")"
check "... it is named in a warning and left as it was" sh -c "grep -q \"store entry '.*/$(basename "$o")' does not match its name\" '$T/err' && test -e '$o'"
chattr -i "$o"; chmod 644 "$o"; chattr +i "$o"
expect_ok "--migrate once it fits again" vsx hashify --migrate "$HD"

# ---- gc and unhashify ---------------------------------------------------
before=$(find "$STORE" -type f -name '*-m*' | wc -l)
expect_ok "gc -n" vsx hashify --gc -n "$HD"
same "gc -n lists the entries it would remove" "$(grep -c '^removing ' "$T/out")" "$(sed -n 's/.*, \([0-9]*\) removed.*/\1/p' "$T/out")"
same "gc -n removes nothing" "$before" "$(find "$STORE" -type f -name '*-m*' | wc -l)"
expect_ok "unhashify g1 entirely" vsx g1 unhashify
same "g1: as built" "$B1" "$(manifest "$(rootof g1)")"
check "g1: private copies again" test "$(stat -c %h "$(rootof g1)/bin/ls")" = 1 -a -w "$(rootof g1)/bin/ls"
for g in g2 g4 g4b g5 g6 g7 g8 g9; do vsx $g unhashify >/dev/null; done
expect_ok "gc with no guest using the store" vsx hashify --gc "$HD"
same "gc removes every unused entry" "0" "$(find "$STORE" -type f -name '*-m*' | wc -l)"
check "... there were some" test "$before" -gt 0

# ---- --min-size with hard links (by default 16 bytes) -------------------
mkdir -p "$R/ms/a" "$R/ms/b" "$R/ms/hd" "$R/ms/store"
ln -s /ms/store "$R/ms/hd/0"
for t in a b; do
	head -c 5000 /bin/bash | tr '\0' h >"$R/ms/$t/five"
	head -c 7000 /bin/bash | tr '\0' h >"$R/ms/$t/seven"
	head -c 20 /bin/bash | tr '\0' h >"$R/ms/$t/twenty"
	touch -d @1600000000 "$R/ms/$t"/*
done
expect_ok "hardlink: --min-size=6000" vsx hashify --manually --link=hardlink --min-size=6000 --destination /ms/hd /ms/a '' /ms/b ''
same "... links the larger files only (with the store entry: 3 names)" "3 1 1" "$(stat -c %h "$R/ms/a/seven") $(stat -c %h "$R/ms/a/five") $(stat -c %h "$R/ms/a/twenty")"
expect_ok "hardlink: by default" vsx hashify --manually --link=hardlink --destination /ms/hd /ms/a '' /ms/b ''
same "... links every file of 16 bytes or more" "3 3 3" "$(stat -c %h "$R/ms/a/seven") $(stat -c %h "$R/ms/a/five") $(stat -c %h "$R/ms/a/twenty")"
chattr -R -i "$R/ms" 2>/dev/null
rm -rf "$R/ms"

# ---- a running guest: hardlinks refused ---------------------------------
mkguest run1 || exit 99
mkdir -p "$C/run1/apps/vunify"
expect_ok "a guest starts" vsx run1 start
expect_error "hardlink hashify while a guest runs" 1 "hardlink hashification needs every guest stopped (guest 'run1' is running)" vsx g1 hashify
expect_ok "-n is allowed while a guest runs" vsx g1 hashify -n
expect_ok "the guest stops" vsx run1 stop

# ---- reflinks on a loop-mounted XFS --------------------------------------
if ! xfs_mount 512M "$R/xfs"; then
	skip "reflink: $XFS_WHY"
else
	mkdir -p "$R/xfs/guests" "$R/xfs/.hash" "$C/.defaults"
	echo /xfs/guests >"$C/.defaults/vdirbase" 2>/dev/null || true
	rm -f "$C/.defaults/vdirbase"
	mkdir -p "$R/xfs/hd" && ln -s /xfs/.hash "$R/xfs/hd/0"
	for g in x1 x2; do
		vsx $g build -m template --rootdir /xfs/guests -- -t "$T/img.tgz" >/dev/null
	done
	# the checks below are about small files too: every file of 16 bytes
	# or more is a candidate (the default, files of more than one block,
	# has its own checks further down)
	XH=--min-size=16
	BX=$(manifest "$R/xfs/guests/x2")
	sleep 3 # files last changed a while ago: their digest cache must hold
	expect_ok "reflink: hashify x1 (auto picks reflink on XFS)" vsx hashify --manually $XH --destination /xfs/hd /xfs/guests/x1
	expect_ok "reflink: hashify x2" vsx hashify --manually $XH --link=reflink --destination /xfs/hd /xfs/guests/x2
	XS=$(summary_field "bytes saved")
	check "reflink: bytes were saved" test "${XS:-0}" -gt 1000000
	same "reflink: x2 unchanged" "$BX" "$(manifest "$R/xfs/guests/x2")"
	check "reflink: each guest keeps its own inode" test "$(inode "$R/xfs/guests/x1/bin/bash")" != "$(inode "$R/xfs/guests/x2/bin/bash")"
	p1=$(extent "$R/xfs/guests/x1/bin/bash")
	p2=$(extent "$R/xfs/guests/x2/bin/bash")
	check "reflink: the extents are shared" test -n "$p1" -a "$p1" = "$p2"
	check "reflink: x2's files stay writable (copy on write)" sh -c "printf x >>'$R/xfs/guests/x2/data/app.conf' && ! cmp -s '$R/xfs/guests/x2/data/app.conf' '$R/xfs/guests/x1/data/app.conf'"
	expect_ok "reflink: a rerun" vsx hashify --manually $XH --destination /xfs/hd /xfs/guests/x1
	same "reflink: a rerun reads nothing (the digest cache)" "0" "$(summary_field "bytes hashed")"
	check "reflink: ... recognising every file by the extents it shares with its entry: no digest cache was written (no size of x1 has more than 4 entries)" \
		test "$(getfattr -R -h -m '^trusted\.vs\.' "$R/xfs/guests/x1" 2>/dev/null | grep -c '^# file')" = 0
	expect_ok "reflink: --verify" vsx hashify --verify /xfs/hd
	# two guests in one run: a group of one size holds several contents
	for g in x3 x4; do
		vsx $g build -m template --rootdir /xfs/guests -- -t "$T/img.tgz" >/dev/null
		printf 'same size, other bytes: %s\n' $g >"$R/xfs/guests/$g/data/sized"
		printf 'new to the store, in x3 and x4 alike\n' >"$R/xfs/guests/$g/data/both"
		# a file x4 has longer: the image's part shared, x4's own kept
		head -c 300000 /bin/bash >"$R/xfs/guests/$g/data/grown"
		[ $g = x4 ] && printf 'appended in x4 only\n' >>"$R/xfs/guests/$g/data/grown"
		# longer than one dedupe call (16 MiB), one size, other last
		# bytes, other paths (no beginning is shared by path)
		{ head -c $((17 << 20)) /dev/zero | tr '\0' t; echo $g; } >"$R/xfs/guests/$g/data/tail-$g"
		# one file, three names (its inode is shared once)
		head -c 200000 /bin/bash | tr '\0' m >"$R/xfs/guests/$g/data/multi1"
		ln "$R/xfs/guests/$g/data/multi1" "$R/xfs/guests/$g/data/multi2"
		ln "$R/xfs/guests/$g/data/multi1" "$R/xfs/guests/$g/data/multi3"
		# one size, eight contents alike in their first 64 bytes
		mkdir -p "$R/xfs/guests/$g/data/same"
		for i in 1 2 3 4 5 6 7 8; do
			{ head -c 64 /dev/zero; printf 'content %s of one size, and a long enough tail\n' $i; } >"$R/xfs/guests/$g/data/same/f$i"
		done
	done
	B3=$(manifest "$R/xfs/guests/x3")
	B4=$(manifest "$R/xfs/guests/x4")
	expect_ok "reflink: two guests in one run" vsx hashify --manually $XH --destination /xfs/hd /xfs/guests/x3 '' /xfs/guests/x4 ''
	same "reflink: x3 unchanged" "$B3" "$(manifest "$R/xfs/guests/x3")"
	same "reflink: x4 unchanged" "$B4" "$(manifest "$R/xfs/guests/x4")"
	check "reflink: new content shared between them" test -n "$(extent "$R/xfs/guests/x3/data/both")" -a "$(extent "$R/xfs/guests/x3/data/both")" = "$(extent "$R/xfs/guests/x4/data/both")"
	check "reflink: a file with three names is shared with its twin" test -n "$(extent "$R/xfs/guests/x3/data/multi3")" -a "$(extent "$R/xfs/guests/x3/data/multi1")" = "$(extent "$R/xfs/guests/x4/data/multi2")"
	# a name of an inode shared already is not deduplicated again (the
	# kernel would read all of it again: a dedupe drops the cached pages
	# of its destination)
	same "reflink: ... through one name: its two others in each guest are already unified, not deduplicated again (with the image's file of two names: 6)" "6" "$(summary_field "already unified")"
	check "reflink: the same size with other bytes keeps apart" test "$(extent "$R/xfs/guests/x3/data/sized")" != "$(extent "$R/xfs/guests/x4/data/sized")"
	check "reflink: a file of another's size that differs in its last bytes keeps its own extents (a comparison that fails changes nothing)" \
		test -n "$(extent "$R/xfs/guests/x3/data/tail-x3")" -a "$(extent "$R/xfs/guests/x3/data/tail-x3")" != "$(extent "$R/xfs/guests/x4/data/tail-x4")"
	check "reflink: a longer copy in x4 shares its beginning with x3's" test -n "$(extent "$R/xfs/guests/x3/data/grown")" -a "$(extent "$R/xfs/guests/x3/data/grown")" = "$(extent "$R/xfs/guests/x4/data/grown")"
	check "reflink: ... and says so" grep -q "1 new files share their beginning" "$T/out"
	bad=0
	for i in 1 2 3 4 5 6 7 8; do
		[ -n "$(extent "$R/xfs/guests/x3/data/same/f$i")" ] && [ "$(extent "$R/xfs/guests/x3/data/same/f$i")" = "$(extent "$R/xfs/guests/x4/data/same/f$i")" ] || bad=1
		[ "$i" = 1 ] || [ "$(extent "$R/xfs/guests/x3/data/same/f$i")" != "$(extent "$R/xfs/guests/x3/data/same/f1")" ] || bad=1
	done
	check "reflink: eight contents of one size: each shared with its twin only" test $bad = 0
	check "reflink: their digests are cached (a rerun would try only 4 entries of their size), a file alone of its size has none" \
		sh -c "getfattr -h -n trusted.vs.sha256 '$R/xfs/guests/x3/data/same/f8' >/dev/null 2>&1 && ! getfattr -h -n trusted.vs.sha256 '$R/xfs/guests/x3/data/both' >/dev/null 2>&1"
	check "reflink: content the store had is shared with it" test -n "$(extent "$R/xfs/guests/x4/bin/bash")" -a "$(extent "$R/xfs/guests/x4/bin/bash")" = "$(extent "$R/xfs/guests/x1/bin/bash")"
	expect_ok "reflink: --verify after the two (the entry made again from the longer copy)" vsx hashify --verify /xfs/hd
	expect_ok "reflink: a rerun of the two" strace -f -qq -e trace=openat,ioctl -o "$T/trace" \
		"$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" hashify --manually $XH --destination /xfs/hd /xfs/guests/x3 '' /xfs/guests/x4 ''
	same "reflink: ... links nothing, reads nothing" "0 0" "$(summary_field linked) $(summary_field "bytes hashed")"
	# each file's entry is known by the extents they share: a twin's file
	# finds it among those its group saw, and no dedupe is tried
	entry_opens() { grep -o 'openat([0-9]*, "[0-9a-f]\{64\}"' "$T/trace" | sort | uniq -c; }
	same "reflink: ... opens each entry once (not once per file), tries no dedupe" "0 0" \
		"$(entry_opens | awk '$1 > 1' | wc -l) $(grep -c FIDEDUPERANGE "$T/trace")"
	check "reflink: ... (it opened entries)" test "$(entry_opens | wc -l)" -gt 10
	chattr -R -i "$R/xfs/guests/x3" "$R/xfs/guests/x4" 2>/dev/null
	rm -rf "$R/xfs/guests/x3" "$R/xfs/guests/x4"
	expect_ok "reflink: a rerun after x2 changed a file" vsx hashify --manually $XH --destination /xfs/hd /xfs/guests/x2
	same "reflink: ... reads only that file" "$(stat -c %s "$R/xfs/guests/x2/data/app.conf")" "$(summary_field "bytes hashed")"
	chattr -R -i "$R/xfs/guests/x2" 2>/dev/null
	rm -rf "$R/xfs/guests/x2"
	expect_ok "reflink: gc after x2 is gone" vsx hashify --gc /xfs/hd
	same "reflink: gc removed the entries only x2, x3 and x4 used (x2's changed file; x3's and x4's own, both, the file of three names, eight of one size, the shorter and the longer copy, the two that differ in their last bytes)" "17" "$(sed -n 's/.*, \([0-9]*\) removed.*/\1/p' "$T/out")"
	chattr -R -i "$R/xfs/guests/x1" 2>/dev/null
	rm -rf "$R/xfs/guests/x1"
	expect_ok "reflink: gc with no guest left" vsx hashify --gc /xfs/hd
	same "reflink: every entry removed" "0" "$(find "$R/xfs/.hash" -type f ! -name method | wc -l)"
	# forged entries under the digests of new contents: one of their
	# size with other bytes, one of another size (not in the index under
	# the file's size: found when the new entry's link says it exists)
	for t in f1 f2; do
		mkdir -p "$R/xfs/$t/d"
		head -c 300000 /bin/bash | tr '\0' s >"$R/xfs/$t/d/same"
		head -c 300000 /bin/bash | tr '\0' o >"$R/xfs/$t/d/other"
	done
	fr() { xd=$(sha256sum <"$1" | cut -c1-64) && echo "$R/xfs/.hash/${xd:0:2}/$xd"; }
	fs=$(fr "$R/xfs/f1/d/same") fo=$(fr "$R/xfs/f1/d/other")
	mkdir -p "${fs%/*}" "${fo%/*}"
	head -c 300000 /dev/zero >"$fs"
	head -c 1000 /dev/zero >"$fo"
	BF=$(md5sum "$fs" "$fo")
	run vsx hashify --manually --destination /xfs/hd /xfs/f1 '' /xfs/f2 ''
	same "reflink: forged entries under new contents' digests (their size with other bytes, another size): the run ends well" "0" "$RC"
	check "... their files are not shared" test "$(extent "$R/xfs/f1/d/same")" != "$(extent "$R/xfs/f2/d/same")" -a "$(extent "$R/xfs/f1/d/other")" != "$(extent "$R/xfs/f2/d/other")"
	same "... each reported" "4" "$(grep -c "its content differs from the store entry '.*/\(${fs#"$R/xfs/.hash/"}\|${fo#"$R/xfs/.hash/"}\)'" "$T/err")"
	same "... the forged entries are left as they were" "$BF" "$(md5sum "$fs" "$fo")"
	rm -rf "$R/xfs/f1" "$R/xfs/f2" "$fs" "$fo"
	# the default minimum size: more than one block of the filesystem
	# (XFS here: 4096 bytes); files of one block or less are left alone
	for t in y1 y2; do
		mkdir -p "$R/xfs/$t/d"
		head -c 4096 /bin/bash | tr '\0' b >"$R/xfs/$t/d/one block"
		head -c 4097 /bin/bash | tr '\0' b >"$R/xfs/$t/d/two blocks"
		head -c 100 /bin/bash | tr '\0' t >"$R/xfs/$t/d/tiny"
	done
	BY=$(manifest "$R/xfs/y1")$(manifest "$R/xfs/y2")
	HS=$(cd "$R/xfs/.hash" && find . | sort)
	expect_error "reflink: --min-size that is not a number" 2 "hashify: --min-size wants a number of bytes, not '4k'" \
		vsx hashify --manually --min-size=4k --destination /xfs/hd /xfs/y1 '' /xfs/y2 ''
	expect_error "reflink: --min-size under 16" 2 "hashify: --min-size is 15: files under 16 bytes are never shared" \
		vsx hashify --manually --min-size=15 --destination /xfs/hd /xfs/y1 '' /xfs/y2 ''
	expect_error "reflink: --min-size empty" 2 "hashify: --min-size wants a number of bytes, not ''" \
		vsx hashify --manually --min-size= --destination /xfs/hd /xfs/y1 '' /xfs/y2 ''
	same "... nothing changed by them (the trees, the store)" "$BY|$HS" "$(manifest "$R/xfs/y1")$(manifest "$R/xfs/y2")|$(cd "$R/xfs/.hash" && find . | sort)"
	# a dry run (into a store not made yet) leaves out the same files
	mkdir -p "$R/xfs/hd2" "$R/xfs/.hash2" && ln -s /xfs/.hash2 "$R/xfs/hd2/0"
	expect_ok "reflink: a dry run into a new store" vsx hashify -n --manually --link=reflink --destination /xfs/hd2 /xfs/y1 '' /xfs/y2 ''
	same "... leaves out the same four files" "4" "$(summary_field "too small")"
	rm -rf "$R/xfs/hd2" "$R/xfs/.hash2"
	expect_ok "reflink: by default" vsx hashify --manually --destination /xfs/hd /xfs/y1 '' /xfs/y2 ''
	check "... a file of two blocks is shared" test -n "$(extent "$R/xfs/y1/d/two blocks")" -a "$(extent "$R/xfs/y1/d/two blocks")" = "$(extent "$R/xfs/y2/d/two blocks")"
	check "... a file of one block keeps its own" test -n "$(extent "$R/xfs/y1/d/one block")" -a "$(extent "$R/xfs/y1/d/one block")" != "$(extent "$R/xfs/y2/d/one block")"
	check "... a smaller one too" test -n "$(extent "$R/xfs/y1/d/tiny")" -a "$(extent "$R/xfs/y1/d/tiny")" != "$(extent "$R/xfs/y2/d/tiny")"
	same "... the four are counted as too small" "4" "$(summary_field "too small")"
	expect_ok "reflink: --min-size=4096" vsx hashify --manually --min-size=4096 --destination /xfs/hd /xfs/y1 '' /xfs/y2 ''
	check "... shares the file of one block" test "$(extent "$R/xfs/y1/d/one block")" = "$(extent "$R/xfs/y2/d/one block")"
	check "... not the smaller one" test "$(extent "$R/xfs/y1/d/tiny")" != "$(extent "$R/xfs/y2/d/tiny")"
	same "... the trees' files as they were" "$BY" "$(manifest "$R/xfs/y1")$(manifest "$R/xfs/y2")"
	rm -rf "$R/xfs/y1" "$R/xfs/y2"
	umount "$R/xfs"
fi
# a file written while it is linked to the store is never lost (as in
# unify.sh): a writer opens it at one of 9 moments of the run, holds it
# open for 40 ms, then writes its last byte
mkdir -p "$R/wr/a" "$R/wr/b" "$R/wr/hd" "$R/wr/store"
ln -s /wr/store "$R/wr/hd/0"
head -c 20000000 /dev/zero >"$R/wr/a/big"
touch -d @1600000000 "$R/wr/a/big"
vsx hashify --manually --destination /wr/hd /wr/a >/dev/null 2>&1
entry=$(stat -c %i "$R/wr/a/big")
head -c 20000000 /dev/zero >"$R/wr/b/big0"
touch -d @1600000000 "$R/wr/b/big0"
vsx hashify --manually --destination /wr/hd /wr/b >/dev/null 2>&1
same "without a writer the file is linked to the entry (control)" "$entry" "$(stat -c %i "$R/wr/b/big0")"
outcomes=
n=0
for d in 0 0.01 0.02 0.04 0.06 0.09 0.13 0.2 0.3; do
	n=$((n + 1))
	f=$R/wr/b/big$n
	head -c 20000000 /dev/zero >"$f"
	touch -d @1600000000 "$f"
	perl -e 'select(undef, undef, undef, $ARGV[1]);
		open(my $f, "+<", $ARGV[0]) or exit 2;
		select(undef, undef, undef, 0.04);
		seek($f, -1, 2); print $f "X" or exit 3; close($f) or exit 3; exit 0' "$f" "$d" &
	writer=$!
	vsx hashify --manually --destination /wr/hd /wr/b >/dev/null 2>&1
	wait "$writer"
	wrc=$?
	last=$(tail -c 1 "$f" | od -An -c | tr -d ' ')
	if [ "$wrc" = 0 ] && [ "$last" = X ] && [ "$(stat -c %i "$f")" != "$entry" ]; then
		outcomes="$outcomes written"
	elif [ "$wrc" != 0 ] && [ "$last" = '\0' ] && [ "$(stat -c %i "$f")" = "$entry" ]; then
		outcomes="$outcomes shared/$wrc" # 2: open refused, 3: write refused
	else
		outcomes="$outcomes LOST(writer $wrc, last '$last')"
	fi
	[ "$(tail -c 1 "$R/wr/a/big" | od -An -c | tr -d ' ')" = '\0' ] || outcomes="$outcomes ENTRY-WRITTEN"
done
check "a file written while it is linked keeps the write, or was shared before the writer opened it ($outcomes )" \
	sh -c "! echo '$outcomes' | grep -q 'LOST\|ENTRY'"

finish
