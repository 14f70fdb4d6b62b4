#!/bin/bash
# Build methods rpm, yum and apt-rpm: packages built at test time with
# rpmbuild from tests/fixtures/rpm/vs-test.spec, a repository made with
# createrepo_c, real guests built with the host's rpm and dnf, apt-rpm
# against a stub apt-get that records its calls; the host's own rpm
# databases stay untouched.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

for t in rpm rpmbuild; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (Debian package rpm)"; exit 77; }
done

qa() { rpm --root "$(rootof "$1")" --dbpath /var/lib/rpm -qa --qf '%{NAME}\n' 2>/dev/null | LC_ALL=C sort | tr '\n' ' '; }
hostdbs() { find "$HOME/.rpmdb" /var/lib/rpm -type f -exec md5sum {} + 2>/dev/null | LC_ALL=C sort; }
HOSTDB=$(hostdbs)

# the packages and the repository
mkdir -p "$T/rb"
run env HOME="$T/rb" rpmbuild -bb --define "_topdir $T/rb" "$srcdir/tests/fixtures/rpm/vs-test.spec"
check "rpmbuild makes the test packages" test "$RC" = 0 -a -f "$T/rb/RPMS/noarch/vs-test-base-1.0-1.noarch.rpm" -a -f "$T/rb/RPMS/noarch/vs-test-app-1.0-1.noarch.rpm"
BASE=$T/rb/RPMS
mkdir -p "$T/lists"
printf '# both, in one transaction\nnoarch/vs-test-app-1.0-1.noarch.rpm\n\n  noarch/vs-test-base-1.0-1.noarch.rpm\n' >"$T/lists/both"
printf 'noarch/vs-test-app-1.0-1.noarch.rpm\n' >"$T/lists/app"
printf 'noarch/vs-test-base-1.0-1.noarch.rpm\n' >"$T/lists/base"
printf 'noarch/vs-test-base-1.0-1.noarch.rpm\nnoarch/vs-test-gone-1.0-1.noarch.rpm\n' >"$T/lists/gone"

# ---- rpm -----------------------------------------------------------------
expect_ok "rpm: a manifest" vsx r1 build -m rpm -- -b "$BASE" "$T/lists/both"
same "rpm: both packages in the guest's database" "vs-test-app vs-test-base " "$(qa r1)"
check "rpm: the database is the guest's /var/lib/rpm" test -d "$(rootof r1)/var/lib/rpm" -a -n "$(ls "$(rootof r1)/var/lib/rpm")"
same "rpm: the %config file is installed and known" "/etc/vs-test.conf" "$(rpm --root "$(rootof r1)" --dbpath /var/lib/rpm -qc vs-test-base 2>/dev/null)"
same "rpm: its content" "setting = base" "$(cat "$(rootof r1)/etc/vs-test.conf")"
check "rpm: a package directory with the macros" grep -qx '%_dbpath /var/lib/rpm' "$R$VROOTDIR/.pkg/r1/rpm/.rpmmacros"
check "rpm: apps/pkgmgmt/base names it" test "$(readlink "$R$CONFDIR/r1/apps/pkgmgmt/base")" = "$VROOTDIR/.pkg/r1"
check "rpm: the distribution defaults to template" test -c "$(rootof r1)/dev/null" -a -f "$R$CONFDIR/r1/name"

expect_ok "rpm: --nodeps applies to the next manifest only" vsx r2 build -m rpm -- -b "$BASE" --nodeps "$T/lists/app" "$T/lists/base"
same "rpm: installed in manifest order" "vs-test-app vs-test-base " "$(qa r2)"
run vsx r3 build -m rpm -- -b "$BASE" --nodeps "$T/lists/base" "$T/lists/app"
check "rpm: app alone after base is fine" test "$RC" = 0
TOOL_OUTPUT=1 expect_error "rpm: a failing rpm fails the build" 1 "rpm: 'rpm -U' failed with status 1" vsx f1 build -m rpm -- -b "$BASE" "$T/lists/app"
check "rpm: nothing left of the failed guest" test ! -e "$(rootof f1)" -a ! -e "$R$CONFDIR/f1" -a ! -e "$R$VROOTDIR/.pkg/f1"
run vsx f2 build -m rpm --keep -- -b "$BASE" "$T/lists/app"
check "rpm: --keep keeps it" test "$RC" = 1 -a -d "$(rootof f2)/var/lib/rpm" -a -d "$R$VROOTDIR/.pkg/f2"
expect_error "rpm: a missing manifest" 1 "rpm: cannot read manifest '$T/lists/nope': No such file or directory" vsx f3 build -m rpm -- -b "$BASE" "$T/lists/nope"
expect_error "rpm: a package missing from the base" 1 "rpm: package 'noarch/vs-test-gone-1.0-1.noarch.rpm' (manifest '$T/lists/gone', line 2) not found in '$BASE'" vsx f3 build -m rpm -- -b "$BASE" "$T/lists/gone"
expect_error "rpm: a missing base directory" 1 "rpm: base directory '$T/none': No such file or directory" vsx f3 build -m rpm -- -b "$T/none" "$T/lists/both"
expect_error "rpm: -d naming no distribution" 1 "rpm: unknown distribution 'fc99' (neither '$R$CONFDIR/.distributions/fc99' nor '$srcdir/conf.d/distributions/fc99' exists)" vsx f3 build -m rpm -- -d fc99 -b "$BASE" "$T/lists/both"
expect_error "rpm: an invalid distribution" 1 "rpm: invalid distribution '../x'" vsx f3 build -m rpm -- -d ../x "$T/lists/both"
expect_error "rpm: --force without a manifest" 1 "rpm: '--force' is not followed by a manifest" vsx f3 build -m rpm -- -b "$BASE" "$T/lists/both" --force
expect_error "rpm: an unknown option" 1 "rpm: unknown or incomplete option '-x'" vsx f3 build -m rpm -- -x
expect_error "rpm: nothing to install" 1 "rpm: no manifest given and no rpmlist.d/*.lst for distribution 'template' (use --empty for an empty guest)" vsx f3 build -m rpm
mkdir -p "$R$VROOTDIR/.pkg/f3"; echo stale >"$R$VROOTDIR/.pkg/f3/x"
expect_error "rpm: an old package directory is never overwritten" 1 "package directory '$R$VROOTDIR/.pkg/f3' exists and is not empty; use --force to move it aside" vsx f3 build -m rpm -- -b "$BASE" "$T/lists/both"
rm -r "$R$VROOTDIR/.pkg/f3"
expect_ok "rpm: --empty" vsx r4 build -m rpm -- --empty
same "rpm: an empty database" "" "$(qa r4)"
check "rpm: --empty still made the database" test -n "$(ls "$(rootof r4)/var/lib/rpm")"

# rpmlist.d of a configured distribution, with .cmd options
D=$R$CONFDIR/.distributions/fc-test
mkdir -p "$D/rpmlist.d"
sed "s|^noarch|$BASE/noarch|" "$T/lists/app" >"$D/rpmlist.d/10-app.lst"
echo --nodeps >"$D/rpmlist.d/10-app.cmd"
sed "s|^noarch|$BASE/noarch|" "$T/lists/base" >"$D/rpmlist.d/20-base.lst"
expect_ok "rpm: the distribution's rpmlist.d with its .cmd" vsx r5 build -m rpm -- -d fc-test -b /
same "rpm: both from the lists" "vs-test-app vs-test-base " "$(qa r5)"
echo --bogus >"$D/rpmlist.d/10-app.cmd"
expect_error "rpm: a bad .cmd" 1 "rpm: unknown option '--bogus' in '$D/rpmlist.d/10-app.cmd'" vsx f4 build -m rpm -- -d fc-test -b /
rm -r "$D"

# ---- yum (dnf) -------------------------------------------------------------
if command -v dnf >/dev/null && command -v createrepo_c >/dev/null; then
	cp -r "$BASE" "$T/repo"
	run createrepo_c -q "$T/repo"
	check "createrepo_c makes the repository" test "$RC" = 0 -a -f "$T/repo/repodata/repomd.xml"
	D=$R$CONFDIR/.distributions/fc-test
	mkdir -p "$D/yum.repos.d" "$D/pkgs"
	printf '[vs-test]\nname=vs test\nbaseurl=file://%s\nenabled=1\n' "$T/repo" >"$D/yum.repos.d/test.repo"
	echo vs-test-base >"$D/pkgs/01-base"
	TOOL_OUTPUT=1 expect_error "yum: unsigned packages are refused without nogpgcheck" 1 "yum: '$(command -v dnf) install' failed with status 1" vsx y0 build -m yum -- -d fc-test
	check "yum: nothing left" test ! -e "$(rootof y0)" -a ! -e "$R$CONFDIR/y0" -a ! -e "$R$VROOTDIR/.pkg/y0"
	touch "$D/nogpgcheck"
	expect_ok "yum: pkgs/ and an extra package from the local repository" vsx y1 build -m yum -- -d fc-test -- vs-test-app
	same "yum: both in the guest's database" "vs-test-app vs-test-base " "$(qa y1)"
	check "yum: the files are there" test -f "$(rootof y1)/usr/share/vs-test/app" -a -f "$(rootof y1)/etc/vs-test.conf"
	check "yum: the repositories are a copy under the package directory" cmp -s "$D/yum.repos.d/test.repo" "$R$VROOTDIR/.pkg/y1/yum/etc/yum.repos.d/test.repo"
	check "yum: the guest has no yum.repos.d of ours" test ! -e "$(rootof y1)/etc/yum.repos.d"
	check "yum: placeholders substituted" grep -qx "reposdir=$R$VROOTDIR/.pkg/y1/yum/etc/yum.repos.d" "$R$VROOTDIR/.pkg/y1/yum/etc/yum.conf"
	same "yum: clean all ran (no packages or metadata cached)" "" "$(find "$(rootof y1)/var/cache/dnf" -name '*.rpm' -o -name repomd.xml)"
	# a root prepared with a hostile repository and dnf variables: never read
	G=$(rootof y2)
	mkdir -p "$G/etc/yum.repos.d" "$G/etc/dnf/vars"
	printf '[evil]\nname=evil\nbaseurl=file:///nonexistent/evil\nenabled=1\n' >"$G/etc/yum.repos.d/evil.repo"
	printf '[main]\nreposdir=/etc/yum.repos.d\n' >"$G/etc/dnf/dnf.conf"
	expect_ok "yum: repositories and dnf.conf planted in the root are not read" vsx y2 build -m yum --i-know-its-there -- -d fc-test
	same "yum: the base package only" "vs-test-base " "$(qa y2)"
	TOOL_OUTPUT=1 expect_error "yum: an unknown package" 1 "yum: '$(command -v dnf) install' failed with status 1" vsx y3 build -m yum -- -d fc-test -- vs-test-none
	echo "--can-fail vs-test-none" >"$D/pkgs/00-optional"
	run vsx y4 build -m yum -- -d fc-test
	check "yum: a --can-fail list may fail" test "$RC" = 0
	check "yum: ... with a warning" grep -q "failed with status 1 (--can-fail)" "$T/err"
	rm "$D/pkgs/00-optional"
	expect_error "yum: no -d" 1 "yum: no distribution given (-d <dist>)" vsx y5 build -m yum
	expect_error "yum: -d naming no distribution" 1 "yum: unknown distribution 'nodist'" vsx y5 build -m yum -- -d nodist
	mkdir -p "$R$CONFDIR/.distributions/norepos"
	expect_error "yum: a distribution without repositories" 1 "yum: distribution 'norepos' has no yum.repos.d" vsx y5 build -m yum -- -d norepos
	mkdir -p "$R$CONFDIR/.distributions/norepos/yum.repos.d"
	expect_error "yum: nothing to install" 1 "yum: nothing to install (distribution 'norepos' has no pkgs/ lists and no packages follow '--')" vsx y5 build -m yum -- -d norepos
	rm -r "$R$CONFDIR/.distributions/norepos"
	printf 'plugin "yum" {\n  command = "/nonexistent/dnf"\n}\n' >"$R$CONFFILE"
	expect_error "yum: a configured tool that is missing" 1 "yum: cannot run '/nonexistent/dnf' (vs.conf): No such file or directory" vsx y5 build -m yum -- -d fc-test
	rm "$R$CONFFILE"
	rm -r "$D"
else
	skip "the yum method: dnf or createrepo_c is missing (Debian packages dnf, createrepo-c)"
fi

# ---- apt-rpm (a stub apt-get: Debian has no apt-rpm) ----------------------
mkdir -p "$T/bin"
cat >"$T/bin/apt-get" <<'EOS'
#!/bin/sh
echo "$* | APT_CONFIG=$APT_CONFIG | HOME=$HOME" >>"$STUB_LOG"
case " $* " in *" vs-test-none "*) exit 100;; esac
exit 0
EOS
chmod 755 "$T/bin/apt-get"
export STUB_LOG=$T/apt.log
D=$R$CONFDIR/.distributions/apt-test
mkdir -p "$D/apt" "$D/pkgs" "$D/pubkeys"
echo "rpm file://$T/repo noarch main" >"$D/apt/sources.list"
echo 'APT::Get::Show-Versions "true";' >"$D/apt.conf"
printf -- '--can-fail vs-test-none\n' >"$D/pkgs/00-opt"
printf 'vs-test-base  # the base\nvs-test-app\n' >"$D/pkgs/10-base"
printf -- '--reinstall vs-test-app\n' >"$D/pkgs/20-again"
expect_error "apt-rpm: no apt-get configured" 1 "apt-rpm: no apt-get of apt-rpm configured" vsx a1 build -m apt-rpm -- -d apt-test
if [ -x /usr/bin/apt-get ] && grep -qx /usr/bin/apt-get /var/lib/dpkg/info/apt.list 2>/dev/null; then
	printf 'plugin "apt-rpm" {\n  apt_get = "/usr/bin/apt-get"\n}\n' >"$R$CONFFILE"
	expect_error "apt-rpm: Debian's apt-get is refused" 1 "apt-rpm: '/usr/bin/apt-get' is Debian's apt-get (package apt), which cannot install rpm packages" vsx a1 build -m apt-rpm -- -d apt-test
else
	skip "apt-rpm: no Debian apt-get here to be refused"
fi
printf 'plugin "apt-rpm" {\n  apt_get = "bin/apt-get"\n}\n' >"$R$CONFFILE"
expect_error "apt-rpm: a relative apt_get" 1 "apt-rpm: cannot run 'bin/apt-get' (apt_get in vs.conf): not an absolute path" vsx a1 build -m apt-rpm -- -d apt-test
printf 'plugin "apt-rpm" {\n  apt_get = "%s"\n}\n' "$T/bin/apt-get" >"$R$CONFFILE"
expect_error "apt-rpm: -d naming no distribution" 1 "apt-rpm: unknown distribution 'nodist'" vsx a1 build -m apt-rpm -- -d nodist
# a key to import: made with gpg when it is there
if command -v gpg >/dev/null; then
	export GNUPGHOME=$T/gnupg
	mkdir -m 700 "$GNUPGHOME"
	gpg -q --batch --passphrase '' --quick-gen-key "vs test <vs@example.org>" ed25519 sign never 2>/dev/null &&
		gpg -q --batch --armor --export vs@example.org >"$D/pubkeys/vs-test.asc"
fi
run vsx a1 build -m apt-rpm -- -d apt-test
check "apt-rpm: the build succeeds (a --can-fail list failed)" test "$RC" = 0
P=$VROOTDIR/.pkg/a1
same "apt-rpm: the calls, in order" "-c $R$P/apt/etc/vs-apt.conf update | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm
-c $R$P/apt/etc/vs-apt.conf install -y vs-test-none | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm
-c $R$P/apt/etc/vs-apt.conf install -y vs-test-base vs-test-app | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm
-c $R$P/apt/etc/vs-apt.conf install -y --reinstall vs-test-app | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm
-c $R$P/apt/etc/vs-apt.conf dist-upgrade -y | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm
-c $R$P/apt/etc/vs-apt.conf clean | APT_CONFIG=$R$P/apt/etc/vs-apt.conf | HOME=$R$P/rpm" "$(cat "$STUB_LOG")"
check "apt-rpm: the distribution's sources.list is copied" cmp -s "$D/apt/sources.list" "$R$P/apt/etc/sources.list"
check "apt-rpm: its apt.conf is apt.conf.d/default.conf" cmp -s "$D/apt.conf" "$R$P/apt/etc/apt.conf.d/default.conf"
check "apt-rpm: vs-apt.conf names the guest root" grep -qx "RPM::RootDir \"$(rootof a1)\";" "$R$P/apt/etc/vs-apt.conf"
check "apt-rpm: vs-apt.conf keeps apt off the host's /etc/apt" grep -qx "Dir::Etc::parts \"$R$P/apt/etc/apt.conf.d/\";" "$R$P/apt/etc/vs-apt.conf"
check "apt-rpm: the state directories" test -d "$R$P/apt/state/lists/partial" -a -d "$R$P/apt/archives/partial"
check "apt-rpm: the guest's rpm database exists" test -n "$(ls "$(rootof a1)/var/lib/rpm")"
if [ -s "$D/pubkeys/vs-test.asc" ]; then
	same "apt-rpm: the distribution's key is imported" "gpg-pubkey" "$(rpm --root "$(rootof a1)" --dbpath /var/lib/rpm -qa --qf '%{NAME}\n' 2>/dev/null)"
else
	skip "apt-rpm: the key import: gpg could not make a key"
fi
printf -- 'vs-test-none\n' >"$D/pkgs/00-opt"
expect_error "apt-rpm: a failing install fails the build" 1 "apt-rpm: '$T/bin/apt-get install' failed with status 100" vsx a2 build -m apt-rpm -- -d apt-test
check "apt-rpm: nothing left" test ! -e "$(rootof a2)" -a ! -e "$R$CONFDIR/a2" -a ! -e "$R$VROOTDIR/.pkg/a2"
rm "$D/apt/sources.list"
expect_error "apt-rpm: no sources.list" 1 "apt-rpm: distribution 'apt-test' has no apt/sources.list" vsx a3 build -m apt-rpm -- -d apt-test
rm "$R$CONFFILE"

same "the host's rpm databases are untouched" "$HOSTDB" "$(hostdbs)"
finish
