# Samples and their statistics, sourced (by bench/common.sh, and alone
# by bench/ocibare.sh in the VM) with $T a scratch directory.
# the monotonic clock, in ns (one small program: bash has no monotonic
# clock; its own cost is measured and taken off every sample)
printf '#include <stdio.h>\n#include <time.h>\nint main(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);printf("%%lld\\n",(long long)t.tv_sec*1000000000LL+t.tv_nsec);return 0;}\n' >"$T/tick.c"
cc -O2 -o "$T/tick" "$T/tick.c"
tick() { "$T/tick"; }
overhead=0
for _ in $(seq 21); do t0=$(tick); t1=$(tick); echo $((t1 - t0)); done | sort -n >"$T/ov"
overhead=$(sed -n 11p "$T/ov")

# sample LABEL CMD...: one timed run, appended to $T/LABEL
sample() {
	l=$1
	shift
	t0=$(tick)
	"$@" >/dev/null 2>&1
	t1=$(tick)
	echo $((t1 - t0 - overhead)) >>"$T/$l"
}
# min median max of a sample file, in ms
stats() {
	[ -s "$T/$1" ] || { echo "-"; return; }
	sort -n "$T/$1" | awk '{ a[NR] = $1 } END {
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		printf "%7.2f %7.2f %7.2f", a[1] / 1e6, m / 1e6, a[NR] / 1e6 }'
}
med() { sort -n "$T/$1" | awk '{ a[NR] = $1 } END { printf "%f", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { [ -s "$T/$2" ] && awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2f", a / b }' || echo -; }
diffms() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%+.2f", (a - b) / 1e6 }'; }
