#!/bin/sh
# Benchmark: how many SSH sessions coreastrad holds, and what they cost,
# with the optimised build (build/coreastrad, made here with `make').
#
#   - opens SESSIONS (1,000) password sessions to a local sshd, CONC
#     (32) at a time, and prints the time that took and any failure;
#   - prints the daemon's memory per session: the PSS of all its
#     processes (parent, front, one worker per session) from
#     /proc/PID/smaps_rollup, divided by the number of sessions;
#   - then CLIENTS (32) clients, each on a kept-alive connection, run
#     executes (`echo hi') and listings of a small directory on random
#     sessions for SECS (60) seconds; prints requests, errors (goal 0),
#     requests per second, p50 and p99 latency, and the memory again;
#   - for reference, the PSS of plain OpenSSH client sessions
#     (ssh -N with a key, to the same sshd), per session.
#
# Goal: 1,000 sessions on a 2-core machine, at most 1 MiB of PSS per
# session, no error.  Prints figures and whether the goal was met;
# exits 1 only when it could not run.  Needs root (sshd.sh creates the
# test user).
#
# usage: sh regress/bench/capacity.sh [sessions [secs [clients [conc]]]]
#
# WORKERS=exec in the environment starts every worker with "workers
# exec" (each exec'd afresh) instead of forked from the spawner, the
# default, to show what the spawner saves.

cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
nsess=${1:-1000}
secs=${2:-60}
nclients=${3:-32}
conc=${4:-32}
workers=${WORKERS:-fork}
case $workers in
fork|exec) ;;
*) echo "capacity: WORKERS must be fork or exec" >&2; exit 1 ;;
esac

make -s all >/dev/null || { echo "capacity: make failed" >&2; exit 1; }
# A thousand sessions take a thousand workers and sshd processes, and as
# many descriptors in the parent and in sshd.
ulimit -n 65536 2>/dev/null || ulimit -n 16384 ||
    { echo "capacity: cannot raise the descriptor limit" >&2; exit 1; }

tmp=$(mktemp -d /tmp/ca-bench-capacity.XXXXXX) || exit 1
chmod 0755 "$tmp"
# The daemon re-executes its own file for every worker: run a copy, so
# that a rebuild during the run does not change it.
mkdir "$tmp/bin" && cp build/coreastrad build/coreastractl "$tmp/bin/" ||
    exit 1

. "$top/regress/lib/common.sh"
. "$top/regress/lib/sshd.sh"
ca_standalone "$tmp/bin" "$top"
cd "$tmp" || exit 1
RD=
LOADPIDS=
bench_exit()
{
	for p in $LOADPIDS; do
		kill "$p" 2>/dev/null
	done
	ca_cleanup
	[ -n "$RD" ] && rm -rf "$RD"
	cd /
	rm -rf "$tmp"
}
trap bench_exit EXIT
trap 'exit 1' INT TERM

# Print the summed PSS, in kB, of the processes whose PIDs are given.
pss_kb()
{
	for _p in "$@"; do
		awk '$1 == "Pss:" { print $2 }' "/proc/$_p/smaps_rollup" \
		    2>/dev/null
	done | awk '{ t += $1 } END { print t + 0 }'
}

# Print the PIDs of the daemon: the parent and all its children.
daemon_pids()
{
	echo "$CA_PID"
	ca_children
}

# Print "p50 p99" in ms of the seconds listed one a line in file $1.
percentiles()
{
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		i50 = int(NR * 0.50); if (i50 < 1) i50 = 1
		i99 = int(NR * 0.99); if (i99 < 1) i99 = 1
		printf "%.1f %.1f\n", v[i50] * 1000, v[i99] * 1000 }'
}

# Print the memory figures for $1 sessions under the heading $2.
memory_report()
{
	_all=$(pss_kb $(daemon_pids))
	_per=$(awk -v t="$_all" -v n="$1" \
	    'BEGIN { printf "%.0f", n ? t / n : 0 }')
	_extra=$(awk -v t="$_all" -v b="$BASE_KB" -v n="$1" \
	    'BEGIN { printf "%.0f", n ? (t - b) / n : 0 }')
	echo "capacity: $2: daemon PSS $_all kB for $1 sessions:" \
	    "$_per kB per session ($_extra kB each above the idle daemon)"
	PER_KB=$_per
}

echo "capacity: starting sshd and coreastrad ($nsess sessions," \
    "$nclients clients, $secs s, workers $workers)"
sshd_start "$tmp/sshd" "MaxStartups 2000:30:4000
MaxSessions 10" >/dev/null || { echo "capacity: sshd did not start" >&2
	exit 1; }
ca_setup "max sessions $((nsess + 100))" "max clients 2000" \
    "connect timeout 120s" "idle timeout 1h" "workers $workers"
ca_start
trap bench_exit EXIT

RD=$(runuser -u "$SSHD_USER" -- mktemp -d "$SSHD_HOME/cap.XXXXXXXX") ||
    exit 1
i=0
while [ $i -lt 20 ]; do
	: >"$RD/file$i"
	i=$((i + 1))
done
chown -R "$SSHD_USER" "$RD"

BASE_KB=$(pss_kb $(daemon_pids))
echo "capacity: idle daemon (parent and front): PSS $BASE_KB kB"

# Open the sessions, conc at a time; one status and id a line.
json=$(jq -cn --arg u "$SSHD_USER" --arg p "$SSHD_PASS" \
    --argjson port "$SSHD_PORT" \
    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')
printf '%s\n' "$json" >"$W/open.json"
t0=$(now_ms)
seq 1 "$nsess" | xargs -P "$conc" -I{} sh -c 'curl -s -o "$1/open.$2" \
    -w "%{http_code}\n" --max-time 300 -H "Content-Type: application/json" \
    --data-binary "@$1/open.json" "$3/connections/ssh"' sh "$W" {} \
    "$CA_URL" >"$W/open.status"
t1=$(now_ms)
open_ms=$((t1 - t0))
opened=$(grep -c '^201$' "$W/open.status")
failed=$((nsess - opened))
cat "$W"/open.[0-9]* 2>/dev/null | jq -r 'select(.session_id != null) |
    .session_id' >"$W/ids"
echo "capacity: opened $opened of $nsess sessions in $open_ms ms" \
    "($conc at a time), $failed failed"
if [ "$failed" -gt 0 ]; then
	echo "capacity: failures by status:"
	grep -v '^201$' "$W/open.status" | sort | uniq -c
	for f in "$W"/open.[0-9]*; do
		jq -r 'select(.error != null) | .error' "$f" 2>/dev/null
	done | sort | uniq -c | sort -rn | head -5
fi
if ! ca_alive "$CA_PID"; then
	echo "capacity: coreastrad died; the end of its log:" >&2
	grep -v 'daemon exiting' "$CA_LOG" | tail -n 20 >&2
	exit 1
fi
nids=$(wc -l <"$W/ids")
[ "$nids" -gt 0 ] || { echo "capacity: no session opened" >&2; exit 1; }
echo "capacity: workers running: $(ca_workers | wc -l)"
memory_report "$nids" "idle"
idle_per=$PER_KB

# The load: each client one curl process with a kept-alive connection
# and a list of random requests, stopped after secs seconds.
c=0
while [ $c -lt "$nclients" ]; do
	shuf -r -n 20000 "$W/ids" | awk -v u="$CA_URL" -v d="$RD" -v s="$c" '
	    BEGIN { srand(s + 1) }
	    {
		if (rand() < 0.5) {
			printf "url = \"%s/connections/%s/execute\"\n", u, $1
			print "header = \"Content-Type: application/json\""
			print "data = \"{\\\"command\\\": \\\"echo hi\\\"}\""
		} else
			printf "url = \"%s/connections/%s/files?path=%s\"\n",
			    u, $1, d
		print "output = \"/dev/null\""
		print "max-time = 60"
		print "write-out = \"%{http_code} %{time_total}\\n\""
		print "next"
	    }' >"$W/load.$c.cfg"
	c=$((c + 1))
done
echo "capacity: $nclients clients for $secs s..."
LOADPIDS=
c=0
t0=$(now_ms)
while [ $c -lt "$nclients" ]; do
	timeout "$secs" curl -s -K "$W/load.$c.cfg" >"$W/load.$c.out" \
	    2>/dev/null &
	LOADPIDS="$LOADPIDS $!"
	c=$((c + 1))
done
for p in $LOADPIDS; do
	wait "$p"
done
LOADPIDS=
t1=$(now_ms)

# A line cut by the stop is not a request.
cat "$W"/load.*.out | awk 'NF == 2 && $1 ~ /^[0-9][0-9][0-9]$/' \
    >"$W/load.all"
nreq=$(wc -l <"$W/load.all")
nerr=$(awk '$1 != 200' "$W/load.all" | wc -l)
awk '{ print $2 }' "$W/load.all" >"$W/load.times"
set -- $(percentiles "$W/load.times")
p50=$1 p99=$2
rps=$(awk -v n="$nreq" -v ms="$((t1 - t0))" \
    'BEGIN { printf "%.0f", ms ? n / (ms / 1000) : 0 }')
echo "capacity: $nreq requests in $((t1 - t0)) ms: $rps/s, $nerr errors," \
    "p50 $p50 ms, p99 $p99 ms"
if [ "$nerr" -gt 0 ]; then
	echo "capacity: errors by status:"
	awk '$1 != 200 { print $1 }' "$W/load.all" | sort | uniq -c
fi
memory_report "$nids" "after the load"
load_per=$PER_KB
api GET /health
echo "capacity: health after the load: $STATUS, sessions $(jget sessions)"

# Reference: plain OpenSSH clients holding sessions to the same sshd.
nref=20
i=0
REFPIDS=
while [ $i -lt $nref ]; do
	ssh -N -i "$SSHD_KEY" -o BatchMode=yes -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    -p "$SSHD_PORT" "$SSHD_USER@127.0.0.1" </dev/null &
	REFPIDS="$REFPIDS $!"
	LOADPIDS=$REFPIDS
	i=$((i + 1))
done
sleep 3
ref=$(pss_kb $REFPIDS)
echo "capacity: reference: $nref OpenSSH clients (ssh -N):" \
    "$((ref / nref)) kB PSS per session"
for p in $REFPIDS; do
	kill "$p" 2>/dev/null
done
LOADPIDS=

ok=yes
[ "$opened" -eq "$nsess" ] || ok=no
[ "$nerr" -eq 0 ] || ok=no
[ "$idle_per" -le 1024 ] && [ "$load_per" -le 1024 ] || ok=no
echo "capacity: goal ($nsess sessions, <= 1024 kB PSS each, no error):" \
    "$ok"
echo "capacity: summary: workers $workers, sessions $opened/$nsess," \
    "open time $open_ms ms, PSS/session idle $idle_per kB," \
    "loaded $load_per kB, requests $nreq, errors $nerr, p50 $p50 ms," \
    "p99 $p99 ms"
ca_stop
