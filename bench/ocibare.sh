#!/bin/bash
# A bare `<runtime> run` of a bundle (a static busybox running true),
# each runtime in turn, samples interleaved: medians of $BENCH_N
# (default 20) and each runtime's ratio to vs oci.  Run by bench/oci.sh,
# on this host and (--vm) in the test VM, a pure cgroup2 host where crun
# runs too.  Needs $VS and $PLUG (the installed vs and its plugins);
# $BENCH_RUNTIMES lists the others (runc-compatible commands on PATH).
set -eu
cd "$(dirname "$0")/.."
N=${BENCH_N:-20}
RUNTIMES=${BENCH_RUNTIMES:-runc}
T=$(mktemp -d /tmp/vs-bench-bare.XXXXXX)
cleanup() {
	for d in /sys/fs/cgroup/*/vs-bench-bare /sys/fs/cgroup/vs-bench-bare; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
. bench/stats.sh

B=$T/bundle
mkdir -p "$B/rootfs/bin" "$B/rootfs/etc" "$B/rootfs/tmp" "$B/rootfs/proc" "$B/rootfs/dev" "$B/rootfs/sys"
cp /bin/busybox "$B/rootfs/bin/"
for a in sh true; do ln -s busybox "$B/rootfs/bin/$a"; done
(cd "$B" && "$VS" --plugindir "$PLUG" oci spec)
python3 - "$B/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c['process']['terminal'] = False
c['process']['args'] = ['true']
c['linux']['cgroupsPath'] = '/vs-bench-bare/bare'
json.dump(c, open(sys.argv[1], 'w'))
EOF
listing() { find "$1" -printf '%p|%y|%m|%U|%G|%s|%T@|%l\n' | sort | md5sum; }
before=$(listing "$B")

# each runtime once first: one that cannot run here is left out, saying why
ok=
for rt in $RUNTIMES; do
	if out=$("$rt" --root "$T/$rt-state" run -b "$B" w 2>&1); then
		ok="$ok $rt"
	else
		echo "$rt: left out, it cannot run here: $(printf '%s' "$out" | tail -n 1)"
	fi
done
"$VS" --plugindir "$PLUG" oci --root "$T/vs-state" run -b "$B" w

for i in $(seq "$N"); do
	sample vs "$VS" --plugindir "$PLUG" oci --root "$T/vs-state" run -b "$B" "b$i"
	for rt in $ok; do
		sample "$rt" "$rt" --root "$T/$rt-state" run -b "$B" "b$i"
	done
done
[ "$(listing "$B")" = "$before" ] && bundle=unchanged || bundle=CHANGED

echo "bare <runtime> run of a bundle (true), $N interleaved samples; ms (min median max); clock overhead $((overhead / 1000)) us taken off"
printf '%-24s %s\n' "vs oci" "$(stats vs)"
for rt in $ok; do
	printf '%-24s %s   vs/%s %s\n' "$rt $("$rt" --version | awk 'NR == 1 { print $3 }')" "$(stats "$rt")" "$rt" "$(ratio vs "$rt")"
done
echo "the bundle: $bundle"
