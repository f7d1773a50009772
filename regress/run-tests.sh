#!/bin/sh
# Run every unit and regress test under kyua and end with one line,
# "N passed, N failed" (", N skipped" when some were).  Broken tests
# count as failed, expected failures as passed.  Exits 1 when any test
# failed or kyua could not run.
#
# usage: sh regress/run-tests.sh [builddir] [kyua test filter ...]
#
# The build directory (default build/san) holds coreastrad,
# coreastractl and tests/t_*; the regress scripts are copied next to
# them, as build/regress/t_NAME without the .sh, with their lib/.
# Set KYUA_JOBS to run that many tests at once (default 1).

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
build=${1:-build/san}
[ $# -gt 0 ] && shift
case $build in
/*) ;;
*) build=$top/$build ;;
esac
if [ ! -x "$build/coreastrad" ]; then
	echo "run-tests: $build/coreastrad is missing; build it first" >&2
	exit 1
fi

# Stage the regress programs where kyua looks for them.
rm -rf "$build/regress"
mkdir -p "$build/regress/lib" || exit 1
for f in regress/t_*.sh; do
	[ -e "$f" ] || continue
	t=$build/regress/$(basename "$f" .sh)
	cp "$f" "$t" && chmod 0755 "$t" || exit 1
done
cp regress/lib/*.sh "$build/regress/lib/" || exit 1

# Unit tests keep leak detection; regress/lib/common.sh turns it off for
# the daemon, whose sandboxed children cannot run LeakSanitizer.
export ASAN_OPTIONS=abort_on_error=0
export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

results=$build/kyua-results.db
out=$build/kyua-test.out
rm -f "$results" "$out" "$build/kyua.rc"
{
	kyua -c none --logfile="$build/kyua.log" \
	    -v parallelism="${KYUA_JOBS:-1}" \
	    -v test_suites.coreastrad.bindir="$build" \
	    -v test_suites.coreastrad.srcdir="$top" \
	    test --kyuafile=Kyuafile --build-root="$build" \
	    --results-file="$results" "$@" 2>&1
	echo $? >"$build/kyua.rc"
} | tee "$out"
rc=$(cat "$build/kyua.rc" 2>/dev/null || echo 1)

# Lines look like "regress/t_ssh:login  ->  passed  [1.234s]".
counts=$(awk '
	/  ->  / {
		r = $0
		sub(/.*  ->  /, "", r)
		sub(/[: ].*/, "", r)
		if (r == "passed" || r == "expected_failure")
			p++
		else if (r == "skipped")
			s++
		else
			f++
	}
	END { printf "%d %d %d\n", p, f, s }' "$out")
set -- $counts
passed=$1 failed=$2 skipped=$3

if [ "$failed" -gt 0 ]; then
	echo
	echo "===> Details of failed and broken tests"
	kyua -c none --logfile="$build/kyua.log" report \
	    --results-file="$results" --verbose \
	    --results-filter=broken,failed
fi
# kyua failing with no failed test means it could not run them at all.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	echo "run-tests: kyua exited with status $rc" >&2
	failed=1
fi
if [ $((passed + failed + skipped)) -eq 0 ]; then
	echo "run-tests: no test ran" >&2
	failed=1
fi

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
