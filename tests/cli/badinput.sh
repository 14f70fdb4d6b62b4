#!/bin/bash
# Every bad input: one clear line, a non-zero exit status, nothing changed.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

run vsx a build -m skeleton --context 42
check "setup: guest a" test "$RC" = 0

E=expect_error
# build methods and options
$E "unknown method" 1 "unknown build method 'nosuch' (see 'vs plugins')" vsx foo build -m nosuch
$E "no method" 1 "build: no method given (use -m <method>)" vsx foo build
$E "unknown build option" 1 "build: unknown or incomplete option '--bogus'" vsx foo build -m skeleton --bogus
$E "option without its value" 1 "build: unknown or incomplete option '--context'" vsx foo build -m skeleton --context
$E "unknown method option" 1 "skeleton: unknown option '--bogus'" vsx foo build -m skeleton -- --bogus
$E "-n differs from the guest" 1 "-n 'bar' does not match the guest name 'foo'" vsx foo build -m skeleton -n bar
# interfaces
$E "interface: prefix out of range" 1 "invalid interface 'eth0:192.168.3.1/33': prefix '33' is not between 0 and 32" \
	vsx foo build -m skeleton --interface eth0:192.168.3.1/33
$E "interface: not an address" 1 "invalid interface 'eth0:300.1.1.1': '300.1.1.1' is not an IP address" \
	vsx foo build -m skeleton --interface eth0:300.1.1.1
$E "interface: bad mask" 1 "bad netmask '255.0.255.0'" vsx foo build -m skeleton --interface eth0:10.0.0.1/255.0.255.0
$E "interface: IPv6 with a mask" 1 "an IPv6 address takes a prefix length, not a mask" \
	vsx foo build -m skeleton --interface 'eth0:[2001:db8::1]/255.255.255.0'
$E "interface: IPv6 prefix out of range" 1 "prefix '200' is not between 0 and 128" \
	vsx foo build -m skeleton --interface 2001:db8::1/200
$E "interface: device name too long" 1 "bad device name" vsx foo build -m skeleton --interface abcdefghijklmnopq:10.0.0.1
$E "netmask" 1 "invalid --netmask '255.255.0.255'" vsx foo build -m skeleton --netmask 255.255.0.255
$E "netprefix" 1 "invalid --netprefix 'x'" vsx foo build -m skeleton --netprefix x
# contexts
$E "duplicate context" 1 "context 42 is already used by guest 'a'" vsx foo build -m skeleton --context 42
$E "context not a number" 1 "invalid context 'abc': not a number" vsx foo build -m skeleton --context abc
$E "context too small" 1 "invalid context '1': must be between 2 and 49151" vsx foo build -m skeleton --context 1
$E "context too large" 1 "invalid context '50000': must be between 2 and 49151" vsx foo build -m skeleton --context 50000
# other options
$E "init style" 1 "invalid --initstyle 'upstart'" vsx foo build -m skeleton --initstyle upstart
$E "hostname with a space" 1 "invalid hostname 'a b'" vsx foo build -m skeleton --hostname 'a b'
$E "hostname with a newline" 1 "invalid hostname" vsx foo build -m skeleton --hostname "$(printf 'a\nb')"
$E "rootdir missing" 1 "root directory '$R/nonexistent' does not exist or is not a directory" \
	vsx foo build -m skeleton --rootdir /nonexistent
$E "confdir relative" 1 "invalid --confdir 'rel': not an absolute path" vsx foo build -m skeleton --confdir rel
$E "cpusetcpus" 1 "invalid --cpusetcpus '0-1:x'" vsx foo build -m skeleton --cpusetcpus 0-1:x
$E "skeleton -d with a slash" 1 "skeleton: invalid distribution '../x'" vsx foo build -m skeleton -- -d ../x
# existing guests
$E "existing guest without --force" 1 "guest 'a' exists already (configuration '$R$CONFDIR/a'); use --force to move it aside" \
	vsx a build -m skeleton
mkdir -p "$R$VROOTDIR/b" && touch "$R$VROOTDIR/b/file"
$E "non-empty root without --force" 1 "root '$R$VROOTDIR/b' exists and is not empty" vsx b build -m skeleton
# guest names
$E "name with a slash" 1 "invalid guest name 'x/y': contains '/'" vsx x/y build -m skeleton
$E "name with a space" 1 "invalid guest name 'x y'" vsx 'x y' build -m skeleton
$E "name with a newline" 1 "invalid guest name" vsx "$(printf 'x\ny')" build -m skeleton
$E "name starting with a dot" 1 "invalid guest name '.x': starts with '.'" vsx build .x -m skeleton
$E "name too long" 1 "longer than 64 characters" vsx build "$(printf 'a%.0s' $(seq 65))" -m skeleton
$E "name of a verb" 1 "invalid guest name 'list': it is the name of a verb" vsx build list -m skeleton
# vs.conf
mkdir -p "$(dirname "$R$CONFFILE")"
mkdir "$R$CONFFILE"
$E "unreadable vs.conf" 1 "cannot read '$R$CONFFILE': Is a directory" vsx list
rmdir "$R$CONFFILE"
printf 'confdir = "/etc/vservers"\nfrobnicate = 1\n' >"$R$CONFFILE"
$E "malformed vs.conf line" 1 "$R$CONFFILE:2: no such option 'frobnicate'" vsx list
printf '\nlink = "copy"\n' >"$R$CONFFILE"
$E "bad vs.conf value" 1 "$R$CONFFILE:2: invalid value 'copy' for option 'link'" vsx a build -m skeleton
printf 'vrootdir = "relative"\n' >"$R$CONFFILE"
$E "relative path in vs.conf" 1 "$R$CONFFILE:1: option 'vrootdir' must be an absolute path" vsx list
rm "$R$CONFFILE"
$E "--config missing" 1 "cannot read '$T/none.conf': No such file or directory" vsx --config "$T/none.conf" list
$E "bad sysroot" 1 "cannot use sysroot '$T/nope'" "$VS" --sysroot "$T/nope" list
# the command line itself
$E "list: unknown option" 2 "list: unknown option '--bogus'" vsx list --bogus
$E "plugins: extra argument" 2 "plugins: unknown option 'x'" vsx plugins x
$E "list: argument after --" 2 "list: unexpected argument '--json'" vsx list -- --json
$E "unknown guest" 5 "no guest 'nosuch' (no configuration at '$R$CONFDIR/nosuch')" vsx nosuch delete --yes
$E "help for an unknown verb" 2 "help: unknown verb 'nosuch'" vsx help nosuch
$E "unknown global option" 2 "unknown or incomplete option '--bogus' (see 'vs help')" "$VS" --bogus list

before=$(snapshot)
run vsx frobnicate
same "unknown verb: exit 2 with a hint" "2|vs: unknown verb 'frobnicate'|vs: see 'vs help'" \
	"$RC|$(sed -n 1p "$T/err")|$(tail -n 1 "$T/err")"
run vsx lsit
check "a mistyped verb gets a suggestion" grep -q "did you mean 'vs list'" "$T/err"
run vsx build
same "verb without its guest" "2|vs: build: no guest given" "$RC|$(sed -n 1p "$T/err")"
run vsx
same "no verb" "2|vs: no verb given" "$RC|$(sed -n 1p "$T/err")"
same "these changed nothing" "$before" "$(snapshot)"

finish
