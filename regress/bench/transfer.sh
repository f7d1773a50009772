#!/bin/sh
# Benchmark: file transfers and small operations over loopback SSH with
# the optimised build (build/coreastrad, made here with `make').
#
#   - a 256 MiB file downloaded and uploaded through coreastrad, through
#     curl's sftp:// and through OpenSSH's sftp client, in MB/s, and
#     coreastrad's speed as a ratio of the other two;
#   - the growth of the daemon's total RSS (parent and children,
#     sampled every 0.2 s) during each coreastrad transfer;
#   - p50 and p99 of 100 executes of `echo hi' and of 100 listings of a
#     1000-file directory, and the time to open a session.
#
# Prints figures; asserts nothing but that the bytes arrived intact.
# Needs root (sshd.sh creates the test user).
#
# usage: sh regress/bench/transfer.sh [MiB]

cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
mib=${1:-256}

make -s all >/dev/null || { echo "transfer: make failed" >&2; exit 1; }

. "$top/regress/lib/common.sh"
. "$top/regress/lib/sshd.sh"
. "$top/regress/bench/lib.sh"
ca_standalone "$top/build" "$top"

tmp=$(mktemp -d /tmp/ca-bench-transfer.XXXXXX) || exit 1
chmod 0755 "$tmp"
cd "$tmp" || exit 1
RD=
bench_exit()
{
	rss_stop
	ca_cleanup
	[ -n "$RD" ] && rm -rf "$RD"
	cd /
	rm -rf "$tmp"
}
trap bench_exit EXIT

# Print MB/s (10^6 bytes) for $1 bytes in $2 milliseconds.
mbps()
{
	awk -v b="$1" -v ms="$2" \
	    'BEGIN { if (ms <= 0) ms = 1; printf "%.1f", b / 1e6 / (ms / 1e3) }'
}

# Print p50 and p99 in ms of the numbers (seconds) in file $1.
percentiles()
{
	sort -g "$1" | awk '{ v[NR] = $1 }
	    END {
		i50 = int(NR * 0.50 + 0.5); if (i50 < 1) i50 = 1
		i99 = int(NR * 0.99 + 0.5); if (i99 < 1) i99 = 1
		printf "p50 %.1f ms, p99 %.1f ms", v[i50] * 1000, v[i99] * 1000
	    }'
}

# Fail unless files $1 and $2 have the same bytes.
same()
{
	[ "$(sha256sum <"$1")" = "$(sha256sum <"$2")" ] ||
	    atf_fail "$1 and $2 differ"
}

# Run $1 (a shell command) and print its duration in ms.
timed()
{
	_t0=$(now_ms)
	sh -c "$1" || atf_fail "failed: $1"
	echo $(($(now_ms) - _t0))
}

bench_setup()
{
	sshd_start "$tmp/sshd" || atf_fail "sshd did not start"
	ca_setup 'max file size none' 'idle timeout 1h'
	ca_start
	trap bench_exit EXIT
	RD=$(runuser -u "$SSHD_USER" -- mktemp -d "$SSHD_HOME/bench.XXXXXX") ||
	    atf_fail "mktemp"
	SIZE=$((mib * 1024 * 1024))
	head -c "$SIZE" /dev/urandom >"$tmp/src" || atf_fail "no space"
	cp "$tmp/src" "$RD/src" && chown "$SSHD_USER" "$RD/src"
	T_OPEN0=$(now_ms)
	api_expect 201 POST /connections/ssh "$(jq -cn \
	    --arg u "$SSHD_USER" --arg p "$SSHD_PASS" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')"
	T_OPEN=$(($(now_ms) - T_OPEN0))
	SID=$(jget session_id)
}

# coreastrad: GET files/content, PUT and multipart POST.
bench_coreastrad()
{
	u=$CA_URL/connections/$SID
	base=$(rss_total)
	rss_sampler dl
	ms=$(timed "curl -sf -o '$tmp/ca.dl' '$u/files/content?path=$RD/src'")
	rss_growth dl "$base"
	CA_DL_GROW=$RSS_GROW
	same "$tmp/src" "$tmp/ca.dl"
	rm -f "$tmp/ca.dl"
	CA_DL=$(mbps "$SIZE" "$ms")

	base=$(rss_total)
	rss_sampler put
	ms=$(timed "curl -sf -o /dev/null -T '$tmp/src' \
	    '$u/files/content?path=$RD/ca.put'")
	rss_growth put "$base"
	CA_PUT_GROW=$RSS_GROW
	same "$tmp/src" "$RD/ca.put"
	rm -f "$RD/ca.put"
	CA_PUT=$(mbps "$SIZE" "$ms")

	base=$(rss_total)
	rss_sampler post
	ms=$(timed "curl -sf -o /dev/null -F 'path=$RD' \
	    -F 'file=@$tmp/src;filename=ca.post' '$u/upload'")
	rss_growth post "$base"
	CA_POST_GROW=$RSS_GROW
	same "$tmp/src" "$RD/ca.post"
	rm -f "$RD/ca.post"
	CA_POST=$(mbps "$SIZE" "$ms")
}

# curl's sftp:// (libssh2).
bench_curl_sftp()
{
	s="sftp://127.0.0.1:$SSHD_PORT"
	auth="-u '$SSHD_USER:$SSHD_PASS' -k"
	ms=$(timed "curl -sf $auth -o '$tmp/curl.dl' '$s$RD/src'")
	same "$tmp/src" "$tmp/curl.dl"
	rm -f "$tmp/curl.dl"
	CURL_DL=$(mbps "$SIZE" "$ms")
	ms=$(timed "curl -sf $auth -T '$tmp/src' '$s$RD/curl.up'")
	same "$tmp/src" "$RD/curl.up"
	rm -f "$RD/curl.up"
	CURL_UP=$(mbps "$SIZE" "$ms")
}

# OpenSSH's sftp client with the test key.
bench_openssh_sftp()
{
	cp "$SSHD_KEY" "$tmp/key" && chmod 0600 "$tmp/key"
	opts="-q -i '$tmp/key' -o StrictHostKeyChecking=no \
	    -o UserKnownHostsFile=/dev/null -o BatchMode=yes -P $SSHD_PORT"
	echo "get $RD/src $tmp/sftp.dl" >"$tmp/batch.get"
	echo "put $tmp/src $RD/sftp.up" >"$tmp/batch.put"
	ms=$(timed "sftp $opts -b '$tmp/batch.get' $SSHD_USER@127.0.0.1 \
	    >/dev/null")
	same "$tmp/src" "$tmp/sftp.dl"
	rm -f "$tmp/sftp.dl"
	SFTP_DL=$(mbps "$SIZE" "$ms")
	ms=$(timed "sftp $opts -b '$tmp/batch.put' $SSHD_USER@127.0.0.1 \
	    >/dev/null")
	same "$tmp/src" "$RD/sftp.up"
	rm -f "$RD/sftp.up"
	SFTP_UP=$(mbps "$SIZE" "$ms")
}

# Latency of small operations: 100 executes, 100 listings of 1000 files.
bench_small()
{
	u=$CA_URL/connections/$SID
	: >"$tmp/exec.t"
	i=0
	while [ $i -lt 100 ]; do
		curl -sf -o /dev/null -w '%{time_total}\n' \
		    -H 'Content-Type: application/json' \
		    --data-binary '{"command": "echo hi"}' \
		    "$u/execute" >>"$tmp/exec.t" || atf_fail "execute"
		i=$((i + 1))
	done
	runuser -u "$SSHD_USER" -- sh -c "mkdir '$RD/many' && cd '$RD/many' &&
	    seq -f 'file%04g' 1 1000 | xargs touch" || atf_fail "1000 files"
	EXEC_P=$(percentiles "$tmp/exec.t")
	: >"$tmp/list.t"
	i=0
	while [ $i -lt 100 ]; do
		if ! curl -sf -o "$tmp/list.json" -w '%{time_total}\n' \
		    "$u/files?path=$RD/many" >>"$tmp/list.t"; then
			LIST_P="failed (call $((i + 1))); see the daemon log"
			tail -n 3 "$CA_LOG"
			return 0
		fi
		i=$((i + 1))
	done
	n=$(jq '.entries | length' "$tmp/list.json")
	[ "$n" = 1000 ] || atf_fail "listing has $n entries"
	LIST_P=$(percentiles "$tmp/list.t")
}

# Time to open a session, 10 times, then close them.
bench_open()
{
	json=$(jq -cn --arg u "$SSHD_USER" --arg p "$SSHD_PASS" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')
	: >"$tmp/open.t"
	i=0
	while [ $i -lt 10 ]; do
		curl -sf -o "$tmp/open.json" -w '%{time_total}\n' \
		    -H 'Content-Type: application/json' --data-binary "$json" \
		    "$CA_URL/connections/ssh" >>"$tmp/open.t" ||
		    atf_fail "open"
		curl -sf -o /dev/null -X DELETE "$CA_URL/connections/$(jq -r \
		    .session_id "$tmp/open.json")" || atf_fail "close"
		i=$((i + 1))
	done
	OPEN_P=$(percentiles "$tmp/open.t")
}

bench_setup
bench_coreastrad
bench_curl_sftp
bench_openssh_sftp
bench_small
bench_open

echo "transfer: $mib MiB over loopback SSH, MB/s (ratio = coreastrad / other)"
printf '  %-22s %10s %10s %10s\n' "" download upload "upload(mp)"
printf '  %-22s %10s %10s %10s\n' coreastrad "$CA_DL" "$CA_PUT" "$CA_POST"
printf '  %-22s %10s %10s\n' "curl sftp://" "$CURL_DL" "$CURL_UP"
printf '  %-22s %10s %10s\n' "OpenSSH sftp" "$SFTP_DL" "$SFTP_UP"
printf '  %-22s %10s %10s\n' "ratio to curl" "$(ratio "$CA_DL" "$CURL_DL")" \
    "$(ratio "$CA_PUT" "$CURL_UP")"
printf '  %-22s %10s %10s\n' "ratio to sftp" "$(ratio "$CA_DL" "$SFTP_DL")" \
    "$(ratio "$CA_PUT" "$SFTP_UP")"
echo "transfer: daemon RSS growth (all processes): download" \
    "$CA_DL_GROW MiB, PUT $CA_PUT_GROW MiB, multipart $CA_POST_GROW MiB"
echo "transfer: execute 'echo hi' x100: $EXEC_P"
echo "transfer: list 1000 files x100: $LIST_P"
echo "transfer: open session: first $T_OPEN ms; x10: $OPEN_P"
api_expect 200 DELETE "/connections/$SID"
ca_stop
