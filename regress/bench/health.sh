#!/bin/sh
# Benchmark: requests per second and latency of GET /health against the
# optimised build (build/coreastrad, made here with `make'), with wrk:
# 2 threads, 32 connections, 10 seconds.  Prints figures; asserts
# nothing.
#
# usage: sh regress/bench/health.sh [seconds [connections]]

cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
secs=${1:-10}
conns=${2:-32}

command -v wrk >/dev/null 2>&1 ||
    { echo "health: wrk is not installed (apt-get install wrk)" >&2; exit 1; }
make -s all >/dev/null || { echo "health: make failed" >&2; exit 1; }

. "$top/regress/lib/common.sh"
ca_standalone "$top/build" "$top"

tmp=$(mktemp -d /tmp/ca-bench-health.XXXXXX) || exit 1
cd "$tmp" || exit 1
trap 'ca_cleanup; cd /; rm -rf "$tmp"' EXIT

ca_setup "max clients $((conns * 4))"
ca_start
trap 'ca_cleanup; cd /; rm -rf "$tmp"' EXIT

wrk -t2 -c"$conns" -d"${secs}s" --latency "$CA_URL/health" >"$W/wrk.out" \
    2>&1 || { cat "$W/wrk.out"; exit 1; }
cat "$W/wrk.out"

# wrk prints "Requests/sec: N" and, with --latency, "99%  1.23ms".
rps=$(awk '/^Requests\/sec:/ { print $2 }' "$W/wrk.out")
p50=$(awk '$1 == "50%" { print $2 }' "$W/wrk.out")
p99=$(awk '$1 == "99%" { print $2 }' "$W/wrk.out")
errs=$(awk '/Non-2xx|Socket errors/ { print }' "$W/wrk.out")
echo
echo "health: $rps requests/s, p50 $p50, p99 $p99" \
    "($conns connections, $secs s, pid $CA_PID)"
[ -z "$errs" ] || echo "health: $errs"
for p in $CA_PID $(ca_children); do
	echo "health: $(ca_cmdline "$p"): RSS $(ca_status "$p" VmRSS)"
done
ca_stop
