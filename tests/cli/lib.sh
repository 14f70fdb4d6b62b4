# Shared helpers for the CLI tests: a temporary sysroot, a module
# directory with the built plugins, assertions, and cleanup that runs
# even when a test fails.  Sourced by tests/cli/*.sh.
set -u
: "${VS:?run through make check}" "${srcdir:?}" "${VS_MODULES:?}"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: these tests build guests (mknod) and need root"
	exit 77
fi

T=$(mktemp -d /tmp/vs-cli.XXXXXX)
R=$T/root
MODS=$T/mods
mkdir -p "$R" "$MODS"
chmod 755 "$T" "$MODS"
for m in $VS_MODULES; do install -m 0755 "$m" "$MODS/"; done

cleanup() {
	# unmount anything a test mounted below $T, deepest first
	grep -o " $T[^ ]*" /proc/mounts 2>/dev/null | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	chmod -R u+rwx "$T" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

PASSES=0
FAILS=0
vsx() { "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "$@"; }
path_of() { vsx paths | awk -v k="$1" '$1 == k { print $2 }'; }
CONFDIR=$(path_of confdir)
VROOTDIR=$(path_of vrootdir)
RUNDIR=$(path_of rundir)
CACHEDIR=$(path_of cachedir)
CONFFILE=$(path_of conffile)

pass() { PASSES=$((PASSES + 1)); echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "not ok - $1"; shift; for l in "$@"; do echo "#   $l"; done; }

# A listing of everything under the sysroot: type, mode, owner, size,
# link target and content digest.
snapshot() {
	(cd "$R" && find . -printf '%p|%y|%m|%U|%s|%l\n' | LC_ALL=C sort &&
		find . -type f -exec md5sum {} + | LC_ALL=C sort)
}

# run CMD...: sets OUT, ERR, RC
run() {
	"$@" >"$T/out" 2>"$T/err"
	RC=$?
	OUT=$(cat "$T/out")
	ERR=$(cat "$T/err")
}

# expect_error NAME STATUS TEXT CMD...: exits with STATUS (or any non-zero
# for "nz"), prints exactly one line on stderr containing TEXT, and
# changes nothing under the sysroot.
expect_error() {
	name=$1 want=$2 text=$3
	shift 3
	before=$(snapshot)
	run "$@"
	after=$(snapshot)
	lines=$(printf '%s\n' "$ERR" | grep -c .)
	if [ "$want" = nz ] && [ "$RC" = 0 ]; then
		fail "$name" "exit status 0"
	elif [ "$want" != nz ] && [ "$RC" != "$want" ]; then
		fail "$name" "exit status $RC, wanted $want" "stderr: $ERR"
	elif [ "$lines" != 1 ]; then
		fail "$name" "stderr has $lines lines:" "$ERR"
	elif ! printf '%s' "$ERR" | grep -qF -- "$text"; then
		fail "$name" "stderr: $ERR" "wanted: $text"
	elif [ "$before" != "$after" ]; then
		fail "$name" "the disk changed:" \
			"$(diff <(echo "$before") <(echo "$after") | head -20)"
	else
		pass "$name"
	fi
}

# expect_ok NAME CMD...: exit 0 and nothing on stderr.
expect_ok() {
	name=$1
	shift
	run "$@"
	if [ "$RC" != 0 ]; then
		fail "$name" "exit status $RC" "stderr: $ERR"
	elif [ -n "$ERR" ]; then
		fail "$name" "stderr: $ERR"
	else
		pass "$name"
	fi
}

# check NAME CONDITION...: passes when the command succeeds.
check() {
	name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name" "failed: $*"; fi
}

# same NAME EXPECTED ACTUAL
same() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "$(diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -40)"
	fi
}

finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" = 0 ]
}
