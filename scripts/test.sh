#!/bin/sh
# The whole test suite: installs dependencies, builds, runs `make check`.
# Tests use their own temporary roots under /tmp and clean up after
# themselves; nothing of the host's /etc/vservers or /vservers is touched.
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/build.sh
status=0
make -j"$(nproc)" check VERBOSE=yes || status=$?
pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null | head -n 1)
fail=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null | head -n 1)
err=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null | head -n 1)
skip=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null | head -n 1)
# sections a program skipped (what this machine lacks), each said once
sections=$(cat tests/*/*.log 2>/dev/null | grep -c '^# SKIP ' || :)
cat tests/*/*.log 2>/dev/null | sed -n 's/^# SKIP /skipped: /p' | sort | uniq -c
# the slowest test programs (each prints its time last)
for f in tests/cli/*.sh.log; do
	t=$(sed -n 's/.* sections skipped (\([0-9]*\) s)$/\1/p' "$f" | tail -n 1)
	[ -n "$t" ] && echo "$t $(basename "$f" .sh.log)"
done | sort -rn | head -n 8 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : "slowest: "), $2, $1 } END { print "" }'
echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed, ${skip:-0} skipped, ${sections:-0} sections skipped"
# The dist tarball: it builds in a read-only copy of itself (VPATH),
# installs, uninstalls leaving nothing, and cleans up (make distcheck),
# with the tests that read the source tree or install (the whole suite
# ran above)
DC_TESTS="tests/cli/skeleton.sh tests/cli/manpages.sh tests/cli/completion.sh
tests/cli/initscripts.sh tests/unit/test_config"
if make distcheck TESTS="$(echo $DC_TESTS)" >distcheck.log 2>&1; then
	echo "distcheck: passed ($(echo $DC_TESTS | wc -w) test programs)"
else
	tail -n 40 distcheck.log
	echo "distcheck: FAILED (distcheck.log)"
	status=1
fi
exit $status
