#!/bin/sh
# Benchmark: a 256 MiB file over loopback FTP (a private vsftpd) with
# the optimised build (build/coreastrad, made here with `make'):
#
#   - downloaded and uploaded through coreastrad (GET and PUT on
#     files/content, and a multipart POST upload) and with curl's ftp://
#     directly, in MB/s, and coreastrad's speed as a ratio of curl's;
#   - the growth of the daemon's total RSS (parent and children,
#     sampled every 0.2 s) during each coreastrad transfer.
#
# Each transfer runs RUNS times (default 3); the median speed is shown.
# Uploads send no "Expect: 100-continue": browsers do not, and curl
# would wait a second for an answer the front does not give.
# Goals: download >= 0.9 x curl, upload >= 0.8 x curl, RSS growth under
# 16 MiB.  Prints figures and whether each goal is met; asserts nothing
# but that the bytes arrived intact.  Needs root (ftpd.sh creates the
# test user).
#
# usage: sh regress/bench/transfer_ftp.sh [MiB]

cd "$(dirname "$0")/../.." || exit 1
top=$(pwd)
mib=${1:-256}
runs=${RUNS:-3}

make -s all >/dev/null || { echo "transfer_ftp: make failed" >&2; exit 1; }

. "$top/regress/lib/common.sh"
. "$top/regress/lib/ftpd.sh"
. "$top/regress/bench/lib.sh"
ca_standalone "$top/build" "$top"

tmp=$(mktemp -d /tmp/ca-bench-ftp.XXXXXX) || exit 1
chmod 0755 "$tmp"
cd "$tmp" || exit 1
bench_exit()
{
	rss_stop
	ca_cleanup
	ftpd_stop "$tmp/ftpd"
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

# Print "met" when $1 >= $2, else "NOT met".
goal_min()
{
	awk -v a="$1" -v b="$2" \
	    'BEGIN { print ((a + 0 >= b + 0) ? "met" : "NOT met") }'
}

# Print "met" when $1 < $2, else "NOT met".
goal_max()
{
	awk -v a="$1" -v b="$2" \
	    'BEGIN { print ((a + 0 < b + 0) ? "met" : "NOT met") }'
}

# Print the median of the numbers given.
median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
	    END { print v[int((NR + 1) / 2)] }'
}

# Print the largest of the numbers given.
largest()
{
	printf '%s\n' "$@" | sort -g | tail -n 1
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

# Run shell command $1 through coreastrad $runs times, sampling RSS and
# checking with shell command $2 (then removing with $3); sets SPEED
# (median MB/s) and GROW (largest RSS growth in MiB).
through_ca()
{
	_sp=
	_gr=
	_i=0
	while [ $_i -lt "$runs" ]; do
		_base=$(rss_total)
		rss_sampler run
		_ms=$(timed "$1")
		[ -n "$_ms" ] || atf_fail "failed: $1"
		rss_growth run "$_base"
		_gr="$_gr $RSS_GROW"
		sh -c "$2" || atf_fail "check failed: $2"
		sh -c "$3"
		_sp="$_sp $(mbps "$SIZE" "$_ms")"
		_i=$((_i + 1))
	done
	SPEED=$(median $_sp)
	GROW=$(largest $_gr)
	echo "  runs:$_sp MB/s; RSS growth:$_gr MiB" >&2
}

# Run shell command $1 with curl $runs times, checking with $2 and
# removing with $3; sets SPEED (median MB/s).
direct()
{
	_sp=
	_i=0
	while [ $_i -lt "$runs" ]; do
		_ms=$(timed "$1")
		[ -n "$_ms" ] || atf_fail "failed: $1"
		sh -c "$2" || atf_fail "check failed: $2"
		sh -c "$3"
		_sp="$_sp $(mbps "$SIZE" "$_ms")"
		_i=$((_i + 1))
	done
	SPEED=$(median $_sp)
	echo "  runs:$_sp MB/s" >&2
}

bench_setup()
{
	ftpd_start "$tmp/ftpd" || atf_fail "vsftpd did not start"
	ca_setup 'max file size none' 'idle timeout 1h'
	ca_start
	trap bench_exit EXIT
	SIZE=$((mib * 1024 * 1024))
	head -c "$SIZE" /dev/urandom >"$tmp/src" || atf_fail "no space"
	cp "$tmp/src" "$FTPD_HOME/src" && chown "$FTPD_USER" "$FTPD_HOME/src"
	api_expect 201 POST /connections/ftp "$(jq -cn \
	    --arg u "$FTPD_USER" --arg p "$FTPD_PASS" \
	    --argjson port "$FTPD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')"
	SID=$(jget session_id)
}

# coreastrad: GET files/content, PUT and multipart POST.
bench_coreastrad()
{
	u=$CA_URL/connections/$SID
	H=$FTPD_HOME
	echo "coreastrad download:" >&2
	through_ca "curl -sf -o '$tmp/ca.dl' '$u/files/content?path=$H/src'" \
	    "cmp -s '$tmp/src' '$tmp/ca.dl'" "rm -f '$tmp/ca.dl'"
	CA_DL=$SPEED
	CA_DL_GROW=$GROW
	echo "coreastrad PUT:" >&2
	through_ca "curl -sf -o /dev/null -H 'Expect:' -T '$tmp/src' \
	    '$u/files/content?path=$H/ca.put'" \
	    "cmp -s '$tmp/src' '$H/ca.put'" "rm -f '$H/ca.put'"
	CA_PUT=$SPEED
	CA_PUT_GROW=$GROW
	echo "coreastrad multipart POST:" >&2
	through_ca "curl -sf -o /dev/null -H 'Expect:' -F 'path=$H' \
	    -F 'file=@$tmp/src;filename=ca.post' '$u/upload'" \
	    "cmp -s '$tmp/src' '$H/ca.post'" "rm -f '$H/ca.post'"
	CA_POST=$SPEED
	CA_POST_GROW=$GROW
}

# curl's ftp:// straight to vsftpd (paths relative to the login
# directory).
bench_curl()
{
	f="ftp://127.0.0.1:$FTPD_PORT"
	auth="-u '$FTPD_USER:$FTPD_PASS'"
	echo "curl ftp:// download:" >&2
	direct "curl -sf $auth -o '$tmp/curl.dl' '$f/src'" \
	    "cmp -s '$tmp/src' '$tmp/curl.dl'" "rm -f '$tmp/curl.dl'"
	CURL_DL=$SPEED
	echo "curl ftp:// upload:" >&2
	direct "curl -sf $auth -T '$tmp/src' '$f/curl.up'" \
	    "cmp -s '$tmp/src' '$FTPD_HOME/curl.up'" \
	    "rm -f '$FTPD_HOME/curl.up'"
	CURL_UP=$SPEED
}

bench_setup
same "$tmp/src" "$FTPD_HOME/src"
bench_curl
bench_coreastrad

r_dl=$(ratio "$CA_DL" "$CURL_DL")
r_put=$(ratio "$CA_PUT" "$CURL_UP")
r_post=$(ratio "$CA_POST" "$CURL_UP")
grow=$(largest "$CA_DL_GROW" "$CA_PUT_GROW" "$CA_POST_GROW")
echo "transfer_ftp: $mib MiB over loopback FTP (vsftpd), median of $runs" \
    "runs, MB/s"
printf '  %-22s %10s %10s %10s\n' "" download upload "upload(mp)"
printf '  %-22s %10s %10s %10s\n' coreastrad "$CA_DL" "$CA_PUT" "$CA_POST"
printf '  %-22s %10s %10s\n' "curl ftp://" "$CURL_DL" "$CURL_UP"
printf '  %-22s %10s %10s %10s\n' "ratio to curl" "$r_dl" "$r_put" "$r_post"
echo "transfer_ftp: daemon RSS growth (all processes, largest of $runs):" \
    "download $CA_DL_GROW MiB, PUT $CA_PUT_GROW MiB," \
    "multipart $CA_POST_GROW MiB"
echo "transfer_ftp: goals: download >= 0.9x curl $(goal_min "$r_dl" 0.9);" \
    "upload >= 0.8x curl $(goal_min "$r_put" 0.8) (multipart" \
    "$(goal_min "$r_post" 0.8)); RSS growth < 16 MiB $(goal_max "$grow" 16)"
api_expect 200 DELETE "/connections/$SID"
ca_stop
