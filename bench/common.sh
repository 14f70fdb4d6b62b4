# What the runtime benchmarks share, sourced from the top of the tree
# (set -eu there): the build, LXC, the installed vs in a temporary
# directory $T with a sysroot $R (vs() runs it there; the caller sets
# the EXIT trap), the monotonic clock, samples and their statistics.
top=$(pwd)
sh scripts/deps.sh
sh scripts/build.sh
command -v lxc-start >/dev/null || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq lxc >/dev/null
}
T=$(mktemp -d /tmp/vs-bench.XXXXXX)
R=$T/root
mkdir -p "$R"
make -s install DESTDIR="$T/inst" >/dev/null
P=$T/inst/usr/local
export LD_LIBRARY_PATH=$P/lib
VS=$P/bin/vs
vs() { "$VS" --sysroot "$R" --plugindir "$P/lib/vs/plugins" --datadir "$P/share/vs" "$@"; }

. bench/stats.sh
