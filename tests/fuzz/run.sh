#!/bin/sh
# Run libFuzzer targets one after the other, each for a fixed time, on
# one core at low priority.  Usage: run.sh BUILD SECONDS TARGET...
# With FUZZ_RUNS set in the environment, a target also stops after that
# many executions (whichever comes first).
#
# Seeds come from tests/fuzz/corpus/NAME (read only); what the fuzzer
# adds goes to BUILD/corpus/NAME, crash and leak reproducers to
# BUILD/crashes/, the output of each run to BUILD/logs/TARGET.log.  A
# working corpus over 4000 files is first merged down (libFuzzer -merge).
# Ends with one line "fuzz: N passed, N failed"; fails if any failed.

build=$1
secs=$2
shift 2
here=$(dirname "$0")
pass=0
fail=0

runs=${FUZZ_RUNS:--1}
case "$secs" in
''|*[!0-9]*) echo "run.sh: bad number of seconds: $secs" >&2; exit 2 ;;
esac
case "$runs" in
-1) ;;
''|*[!0-9]*) echo "run.sh: bad FUZZ_RUNS: $runs" >&2; exit 2 ;;
esac
mkdir -p "$build/crashes" "$build/logs" || exit 1

for t in "$@"; do
	name=${t#fz_}
	seeds=$here/corpus/$name
	work=$build/corpus/$name
	log=$build/logs/$t.log
	mkdir -p "$work" || exit 1
	# Keep the working corpus small: merge it down to what adds coverage.
	if [ "$(ls "$work" | wc -l)" -gt 4000 ]; then
		rm -rf "$work.merge" && mkdir "$work.merge" &&
		    nice -n 10 "$build/$t" -merge=1 "$work.merge" "$work" \
		    >"$log" 2>&1 && rm -rf "$work" && mv "$work.merge" "$work"
		rm -rf "$work.merge"
	fi
	dict=
	[ -f "$here/$name.dict" ] && dict=-dict=$here/$name.dict
	nice -n 10 "$build/$t" -max_total_time="$secs" -runs="$runs" \
	    -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$build/crashes/$name-" $dict \
	    "$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "$t: ok, ${execs:-?} runs in ${took:-$secs} s"
	else
		fail=$((fail + 1))
		echo "$t: FAILED (exit $rc), see $log"
		grep -E -e '==ERROR|^SUMMARY|check failed' \
		    -e 'Test unit written' "$log" | head -n 8
	fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
