#! /usr/bin/env atf-sh
# coreastrad fed bad input: malformed HTTP, lying lengths, oversized
# heads and bodies, malformed and hostile JSON, CR/LF and NUL in every
# string field, path traversal strings, floods of unknown session ids,
# slow clients and a crowd of idle connections.  Every case must get its
# documented status with a JSON error {"error", "code"}, the daemon must
# keep serving, and its memory must come back near where it started.

. "$(atf_get_srcdir)/lib/common.sh"
. "$(atf_get_srcdir)/lib/sshd.sh"
. "$(atf_get_srcdir)/lib/ftpd.sh"

# Growth of the parent's and front's resident memory allowed over a test.
MEM_SLACK_KB=32768

# Clean up after a test: helpers, the daemon, the servers, remote files.
bad_cleanup()
{
	ca_cleanup
	ftpd_stop "$PWD/ftpd"
	if [ -s "$PWD/remote.dir" ]; then
		rm -rf "$(cat "$PWD/remote.dir")"
	fi
	return 0
}

# Start coreastrad with the extra lines given; remember the front and
# the memory baseline.  AddressSanitizer's quarantine would hold every
# freed block (up to 256 MB) and its allocator keeps freed pages: turn
# both off so that memory measures what the daemon keeps.
bad_up()
{
	ASAN_OPTIONS=$ASAN_OPTIONS:quarantine_size_mb=0
	ASAN_OPTIONS=$ASAN_OPTIONS:thread_local_quarantine_size_kb=0
	ASAN_OPTIONS=$ASAN_OPTIONS:allocator_release_to_os_interval_ms=0
	export ASAN_OPTIONS
	ca_setup "$@"
	ca_start
	FRONT=$(ca_front)
	[ -n "$FRONT" ] || ca_fail "no front"
	# Warm up the allocators before the baseline.
	for _i in 1 2 3 4 5; do
		api_expect 200 GET /health
		api GET /connections/unknown
	done
	MEM0=$(rss_kb)
}

# Print the resident memory of the parent and the front, in kB.
rss_kb()
{
	_t=0
	for _p in "$CA_PID" $(ca_front); do
		_k=$(ca_status "$_p" VmRSS | awk '{ print $1 }')
		_t=$((_t + ${_k:-0}))
	done
	echo "$_t"
}

# Fail unless the daemon still serves with the same front, and its
# memory is back within MEM_SLACK_KB of the baseline (waiting a little
# for connections to close).
bad_check()
{
	ca_alive "$CA_PID" || ca_fail "the parent died"
	api_expect 200 GET /health
	[ "$(ca_front)" = "$FRONT" ] ||
	    ca_fail "the front changed: $FRONT -> $(ca_front) (it crashed)"
	_n=0
	while [ $_n -lt 50 ]; do
		_m=$(rss_kb)
		[ $((_m - MEM0)) -le $MEM_SLACK_KB ] && break
		sleep 0.2
		_n=$((_n + 1))
	done
	echo "parent+front RSS: $MEM0 kB before, $_m kB after," \
	    "growth $((_m - MEM0)) kB"
	[ $((_m - MEM0)) -le $MEM_SLACK_KB ] || ca_fail "memory grew from" \
	    "$MEM0 kB to $_m kB"
	_r=$("$CA_CTL" -s "$W/ctl.sock" -j show stats | jq -r .front_restarts)
	[ "$_r" = 0 ] || ca_fail "the front restarted $_r times"
}

# Fail; with SOFT=1, note the failure in $W/soft and return 1 instead,
# so that a list of cases reports every failure (see soft_end).
bad_fail()
{
	if [ "${SOFT:-0}" = 1 ]; then
		echo "FAILED: $*" | tr '\n' ' ' | tee -a "$W/soft" >&2
		echo >>"$W/soft"
		echo >&2
		return 1
	fi
	ca_fail "$@"
}

# Fail with every failure bad_fail noted.
soft_end()
{
	[ -s "$W/soft" ] || return 0
	ca_fail "$(wc -l <"$W/soft") cases failed: $(tr '\n' ';' \
	    <"$W/soft")"
}

# Fail unless $W/body is a JSON error {"error": string, "code": string};
# $1 describes the case.
json_error()
{
	jq -e 'type == "object" and (.error | type) == "string" and
	    (.code | type) == "string"' "$W/body" >/dev/null 2>&1 ||
	    bad_fail "$1: not a JSON error: $(head -c 200 "$W/body" |
	    od -An -c | tr -s ' \n' ' ')"
}

# Fail unless the status is one of the others ($1: the case, $2: the
# status) and, unless 000 was allowed and came, the body a JSON error
# whose code is the one documented for the status.
expect_in()
{
	_case=$1
	_st=$2
	shift 2
	_ok=0
	for _s in "$@"; do
		[ "$_st" = "$_s" ] && _ok=1
	done
	if [ $_ok -eq 0 ]; then
		_b="(no answer)"
		[ "$_st" = 000 ] || _b=$(head -c 300 "$W/body")
		bad_fail "$_case: status $_st, expected one of $*: $_b"
		return 0
	fi
	if [ "$_st" -lt 400 ]; then
		echo "$_case: $_st"
		return 0
	fi
	json_error "$_case" || return 0
	_code=$(jget code)
	case $_st in
	400|414|431)	_want=invalid_request ;;
	401)		_want=auth_failed ;;
	403)		_want=permission_denied ;;
	404)		_want="session_not_found not_found" ;;
	405)		_want=method_not_allowed ;;
	413)		_want=too_large ;;
	501)		_want="not_supported invalid_request" ;;
	502)		_want=connection_failed ;;
	*)		_want=$_code ;;
	esac
	case " $_want " in
	*" $_code "*) ;;
	*) bad_fail "$_case: status $_st with code $_code"; return 0 ;;
	esac
	echo "$_case: $_st $_code"
}

# Send the bytes of file $1 on a new connection (and half-close it if
# $2 is "half"), read until the daemon closes (at most 30 s), and parse
# the first response: RSTATUS (000 for none), $W/rhead, $W/body.
raw_file()
{
	if [ "$2" = half ]; then
		timeout 30 nc -N 127.0.0.1 "$CA_PORT" <"$1" >"$W/resp" \
		    2>/dev/null
	else
		timeout 30 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		    cat "$2" >&3; cat <&3' sh "$CA_PORT" "$1" >"$W/resp" \
		    2>/dev/null
	fi
	parse_resp "$W/resp"
}

# Parse the first HTTP response in file $1: RSTATUS (000 for none),
# $W/rhead and $W/body.
parse_resp()
{
	RSTATUS=$(head -n 1 "$1" | tr -d '\r' | awk '{ print $2 }')
	case $RSTATUS in
	[0-9][0-9][0-9]) ;;
	*) RSTATUS=000 ;;
	esac
	# The head ends at the first empty line; the body is Content-Length
	# bytes after it.
	_hl=$(awk 'BEGIN { RS = "\r\n\r\n" } { print length($0) + 4; exit }' \
	    "$1")
	tr -d '\r' <"$1" | awk '/^$/ { exit } { print }' >"$W/rhead"
	_cl=$(awk -F': *' 'tolower($1) == "content-length" {
	    print $2 + 0; exit }' "$W/rhead")
	tail -c +$((${_hl:-0} + 1)) "$1" | head -c "${_cl:-0}" >"$W/body"
}

# Send request $1, written with printf %b escapes (\r, \n, \0NNN);
# $2 as for raw_file.
raw()
{
	printf '%b' "$1" >"$W/req"
	raw_file "$W/req" "$2"
}

# raw, then expect_in with case $1 and the statuses after $2.
raw_expect()
{
	_c=$1
	raw "$2"
	shift 2
	expect_in "$_c" "$RSTATUS" "$@"
}

# POST file $2 as JSON to $1; STATUS and $W/body.
post_file()
{
	STATUS=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 60 \
	    -H 'Content-Type: application/json' --data-binary "@$2" \
	    "$CA_URL$1")
	[ -n "$STATUS" ] || STATUS=000
}

# api, then expect_in with case $1 and statuses $2 (space-separated).
api_in()
{
	_c=$1
	_sts=$2
	shift 2
	api "$@"
	expect_in "$_c" "$STATUS" $_sts
}

# Print $1 copies of string $2.
rep()
{
	head -c "$1" /dev/zero | tr '\0' "$2"
}

atf_test_case http_malformed cleanup
http_malformed_head()
{
	atf_set descr "garbage, bad framing, lying Content-Length, oversized" \
	    "request lines and heads"
	atf_set timeout 300
	atf_set require.progs bash
}
http_malformed_body()
{
	bad_up
	SOFT=1
	H='Host: 127.0.0.1\r\nConnection: close'
	raw_expect garbage 'GARBAGE\r\n\r\n' 400 501
	head -c 4000 /dev/urandom >"$W/req.bin"
	raw_file "$W/req.bin"
	expect_in binary "$RSTATUS" 400 501 414 431
	raw_expect nul-in-line 'GET /he\0000alth HTTP/1.1\r\n'"$H"'\r\n\r\n' 400
	raw_expect bad-version 'GET /health HTTP/9.9\r\n'"$H"'\r\n\r\n' 400 505
	raw_expect no-version 'GET /health\r\n\r\n' 400
	raw_expect lowercase 'get /health HTTP/1.1\r\n'"$H"'\r\n\r\n' 400 501
	raw_expect no-colon 'GET /health HTTP/1.1\r\nBadHeader\r\n\r\n' 400
	raw_expect space-name 'GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n' \
	    400
	raw_expect nul-header 'GET /health HTTP/1.1\r\nX-A: a\0000b\r\n\r\n' 400
	raw_expect bare-lf 'GET /health HTTP/1.1\nConnection: close\n\n' \
	    200 400
	raw_expect fold 'GET /health HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n' 400
	raw_expect cl-neg 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Content-Length: -5\r\n\r\n{}' 400
	raw_expect cl-alpha 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Content-Length: 1x\r\n\r\n{}' 400
	raw_expect cl-huge 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Content-Length: 99999999999999999999999\r\n\r\n{}' 400 413
	raw_expect cl-twice 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ' 400
	raw_expect cl-and-te 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' 400
	raw_expect bad-te 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Transfer-Encoding: gzip\r\n\r\n' 400 501
	raw_expect bad-chunk 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n' 400
	raw_expect huge-chunk 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\n'\
'Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n' 400 413

	# Content-Length shorter than the body: the first bytes are the
	# body (bad JSON), the rest an unparsable second request.
	raw 'POST /connections/ssh HTTP/1.1\r\nHost: x\r\nContent-Length: 10'\
'\r\n\r\n{"host": "127.0.0.1", "port": 22, "username": "u", "password": "p"}'
	expect_in cl-short "$RSTATUS" 400
	# Truncated body: the client half-closes before Content-Length bytes.
	raw 'POST /connections/ssh HTTP/1.1\r\n'"$H"'\r\nContent-Length: 100'\
'\r\n\r\n{"host": "127.0.0.1", "port": 22' half
	expect_in truncated "$RSTATUS" 000 400
	# A whole request, then a half-close: the answer is still due.
	raw 'GET /health HTTP/1.1\r\n'"$H"'\r\n\r\n' half
	expect_in half-close "$RSTATUS" 200

	# Oversized request line and heads.
	api GET "/health?$(rep 9000 a)"
	expect_in long-url "$STATUS" 414
	api GET "/connections/$(rep 20000 a)"
	expect_in long-path "$STATUS" 414
	STATUS=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 30 \
	    -H "X-Big: $(rep 20000 a)" "$CA_URL/health")
	expect_in big-header "$STATUS" 431
	i=0
	set --
	while [ $i -lt 100 ]; do
		set -- "$@" -H "X-H$i: v"
		i=$((i + 1))
	done
	STATUS=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 30 \
	    "$@" "$CA_URL/health")
	expect_in many-headers "$STATUS" 431
	{
		printf 'GET /health HTTP/1.1\r\nHost: x\r\n'
		i=0
		while [ $i -lt 2000 ]; do
			printf 'X-%d: %s\r\n' $i "$(rep 100 b)"
			i=$((i + 1))
		done
		printf '\r\n'
	} >"$W/req.big"
	raw_file "$W/req.big"
	expect_in endless-head "$RSTATUS" 431

	# Routing: unknown endpoints and methods.
	api_in unknown-endpoint 404 GET /nothing/here
	api_in wrong-method 405 DELETE /health
	[ -n "$(header Allow)" ] || ca_fail "405 without an Allow header"
	api_in wrong-method2 "404 405" GET /connections/ssh
	api_in execute-get 405 GET /connections/x/execute
	soft_end
	bad_check
	ca_stop
}
http_malformed_cleanup()
{
	bad_cleanup
}

atf_test_case json_malformed cleanup
json_malformed_head()
{
	atf_set descr "malformed, deeply nested, oversized and mistyped" \
	    "JSON, NUL bytes and invalid UTF-8: 400 or 413"
	atf_set timeout 300
}
json_malformed_body()
{
	bad_up 'max body size 64K'
	SOFT=1
	for ep in /connections/ssh /connections/ftp; do
		api_in "$ep empty" 400 POST "$ep" ''
		api_in "$ep bad" 400 POST "$ep" '{"host": '
		api_in "$ep trailing" 400 POST "$ep" '{"host": "a"} x'
		api_in "$ep array" 400 POST "$ep" '[1, 2]'
		api_in "$ep null" 400 POST "$ep" 'null'
		api_in "$ep string" 400 POST "$ep" '"host"'
		api_in "$ep number" 400 POST "$ep" '12'
		api_in "$ep nan" 400 POST "$ep" '{"port": NaN}'
		api_in "$ep comment" 400 POST "$ep" '{/* */"host": "a"}'
		api_in "$ep single" 400 POST "$ep" "{'host': 'a'}"
		api_in "$ep dupkey" 400 POST "$ep" \
		    '{"host": "a", "host": 5, "username": "u", "password": "p"}'
	done

	{ printf '{"a": '; rep 30000 '['; rep 30000 ']'; printf '}'; } \
	    >"$W/nested.json"
	post_file /connections/ssh "$W/nested.json"
	expect_in nested-arrays "$STATUS" 400
	{
		i=0
		while [ $i -lt 3000 ]; do printf '{"a":'; i=$((i + 1)); done
		printf 1
		rep 3000 '}'
	} >"$W/nested2.json"
	post_file /connections/ssh "$W/nested2.json"
	expect_in nested-objects "$STATUS" 400
	{ printf '{"host": "'; rep 200000 a; printf '"}'; } >"$W/huge.json"
	post_file /connections/ssh "$W/huge.json"
	expect_in huge-string "$STATUS" 413
	STATUS=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 60 \
	    -H 'Content-Type: application/json' \
	    -H 'Transfer-Encoding: chunked' --data-binary "@$W/huge.json" \
	    "$CA_URL/connections/ftp")
	expect_in huge-chunked "$STATUS" 413
	{ printf '{"host": "'; rep 60000 a; printf '"}'; } >"$W/long.json"
	post_file /connections/ssh "$W/long.json"
	expect_in long-host "$STATUS" 400
	{ printf '{"x": ['; rep 30000 '1,'; printf '1]}'; } >"$W/wide.json"
	post_file /connections/ssh "$W/wide.json"
	expect_in wide-array "$STATUS" 400

	ssh='{"host": "127.0.0.1", "username": "u", "password": "p"'
	for f in '"host": 5' '"host": null, "x": 1' '"username": ["u"]' \
	    '"password": {}' '"port": "22"' '"port": 22.5' '"port": -1' \
	    '"port": 0' '"port": 65536' '"port": 1e3' '"timeout": "x"' \
	    '"timeout": true' '"private_key": 1' '"passphrase": []' \
	    '"name": 7' '"host": ""' '"username": ""' '"host": "-oProxy"' \
	    '"host": "a b"' '"port": 99999999999999999999999'; do
		api_in "ssh {$f}" 400 POST /connections/ssh "$ssh, $f}"
	done
	for f in '"tls": 1' '"tls": "maybe"' '"passive": "yes"' \
	    '"insecure": 1' '"password": 5' '"port": "21"'; do
		api_in "ftp {$f}" 400 POST /connections/ftp "$ssh, $f}"
	done
	api_in "ftp no password" 400 POST /connections/ftp \
	    '{"host": "127.0.0.1", "username": "u"}'
	api_in "ssh no secret" 400 POST /connections/ssh \
	    '{"host": "127.0.0.1", "username": "u"}'

	# NUL bytes: escaped, and raw in the body.
	api_in "nul escaped" 400 POST /connections/ssh \
	    '{"host": "127.0.0.1", "username": "u\u0000x", "password": "p"}'
	printf '{"host": "127.0.0.1", "username": "u\0x", "password": "p"}' \
	    >"$W/nul.json"
	post_file /connections/ssh "$W/nul.json"
	expect_in "nul raw" "$STATUS" 400
	printf '{"host": "127.0.0.1", "username": "u", "password": "p"}\0' \
	    >"$W/nul2.json"
	post_file /connections/ssh "$W/nul2.json"
	expect_in "nul after" "$STATUS" 400

	# Invalid UTF-8: raw bytes, overlong forms, surrogates.
	for bad in '\377' '\300\257' '\355\240\200' '\364\220\200\200' \
	    '\303'; do
		for f in username password name; do
			printf '{"host": "127.0.0.1", "username": "u",' \
			    >"$W/u.json"
			printf ' "password": "p", "%s": "a%bz"}' "$f" "$bad" \
			    >>"$W/u.json"
			post_file /connections/ssh "$W/u.json"
			expect_in "utf8 $bad in $f" "$STATUS" 400
		done
	done
	# json-c turns a lone surrogate escape into U+FFFD, valid UTF-8:
	# then the connection to port 1 fails.
	api_in "lone surrogate" "400 502" POST /connections/ssh \
	    '{"host": "127.0.0.1", "port": 1, "username": "\ud800",
	    "password": "p"}'
	soft_end
	bad_check
	ca_stop
}
json_malformed_cleanup()
{
	bad_cleanup
}

# Start sshd, vsftpd and coreastrad; open one session of each (SSH_ID,
# FTP_ID); make a remote directory RD with a file f in it.
fields_up()
{
	sshd_start "$PWD/sshd" || atf_fail "sshd did not start"
	ftpd_start "$PWD/ftpd" || atf_fail "vsftpd did not start"
	bad_up 'connect timeout 5s'
	RD=$(runuser -u "$SSHD_USER" -- mktemp -d "$SSHD_HOME/ca.XXXXXXXX") ||
	    atf_fail "mktemp as $SSHD_USER"
	echo "$RD" >"$PWD/remote.dir"
	echo data >"$W/small"
	echo hello >"$RD/f" && chown "$SSHD_USER" "$RD/f" || atf_fail "f"
	echo hello >"$FTPD_HOME/f" && chown "$FTPD_USER" "$FTPD_HOME/f" ||
	    atf_fail "f"
	ssh_open
	SSH_ID=$SID
	ftp_open
	FTP_ID=$SID
}

# Fail if vsftpd received a command injected by a test ($1: a word).
no_injection()
{
	if grep -q "$1" "$FTPD_DIR/vsftpd.log"; then
		grep "$1" "$FTPD_DIR/vsftpd.log" >&2
		bad_fail "a command injected through a field reached vsftpd:" \
		    "$(grep "$1" "$FTPD_DIR/vsftpd.log" | head -n 1 |
		    sed 's/.*\] //')"
	fi
	[ -e "$FTPD_HOME/$1" ] && bad_fail "$FTPD_HOME/$1 was created"
	[ -e "$RD/$1" ] && bad_fail "$RD/$1 was created"
	return 0
}

atf_test_case crlf_fields cleanup
crlf_fields_head()
{
	atf_set descr "CR or LF in every string field of every endpoint: 400" \
	    "and nothing reaches the remote"
	atf_set timeout 300
}
crlf_fields_body()
{
	fields_up
	SOFT=1
	inj=INJ$$X
	ssh=$(jq -cn --arg u "$SSHD_USER" --arg p "$SSHD_PASS" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')
	ftp=$(jq -cn --arg u "$FTPD_USER" --arg p "$FTPD_PASS" \
	    --argjson port "$FTPD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')
	# private_key is PEM text, made of lines, and command is a shell
	# script, which may have several: both legitimately hold LF.
	for eol in '\r\n' '\n' '\r'; do
		for f in host username name password passphrase; do
			api_in "ssh $f $eol" 400 POST /connections/ssh \
			    "$(echo "$ssh" | jq -c --arg f "$f" --arg e "$eol" \
			    '.[$f] = (.[$f] // "x") + ($e | gsub("\\\\r";
			    "\r") | gsub("\\\\n"; "\n")) + "MKD '"$inj"'"')"
		done
		for f in host username name password tls; do
			api_in "ftp $f $eol" 400 POST /connections/ftp \
			    "$(echo "$ftp" | jq -c --arg f "$f" --arg e "$eol" \
			    '.[$f] = (.[$f] // "none") + ($e | gsub("\\\\r";
			    "\r") | gsub("\\\\n"; "\n")) + "MKD '"$inj"'"')"
		done
	done
	no_injection "$inj"
	# A fresh marker for the session endpoints.
	inj=INJ$$Y

	for id in "$SSH_ID" "$FTP_ID"; do
		for e in %0d%0a %0a %0d; do
			q="path=/tmp/x${e}MKD%20$inj"
			api_in "list $e" 400 GET "/connections/$id/files?$q"
			api_in "content $e" 400 GET \
			    "/connections/$id/files/content?$q"
			STATUS=$(curl -s -o "$W/body" -w '%{http_code}' \
			    --max-time 30 -T "$W/small" \
			    "$CA_URL/connections/$id/files/content?$q")
			expect_in "put $e" "$STATUS" 400
		done
		for e in '\r\n' '\n' '\r'; do
			api_in "download $e" 400 POST \
			    "/connections/$id/download" \
			    "{\"path\": \"/tmp/x${e}MKD $inj\"}"
		done
		printf 'x\r\nMKD %s' "$inj" >"$W/crlf.path"
		STATUS=$(curl -s -o "$W/body" -w '%{http_code}' \
		    --max-time 30 -F "path=<$W/crlf.path" \
		    -F "file=@$W/small;filename=up" \
		    "$CA_URL/connections/$id/upload")
		expect_in "multipart path CRLF" "$STATUS" 400
	done
	for e in %0d%0a %0a; do
		api_in "id $e" "400 404" GET "/connections/$SSH_ID${e}x"
	done
	no_injection "$inj"

	# Both sessions still work.
	api_expect 200 POST "/connections/$SSH_ID/execute" \
	    '{"command": "echo ok"}'
	api_expect 200 GET "/connections/$FTP_ID/files?path=$FTPD_HOME"
	soft_end
	bad_check
	ca_stop
}
crlf_fields_cleanup()
{
	bad_cleanup
}

atf_test_case fields cleanup
fields_head()
{
	atf_set descr "wrong types, unknown fields (ignored), NUL, invalid" \
	    "UTF-8 and traversal strings on the session endpoints"
	atf_set timeout 300
}
fields_body()
{
	fields_up
	SOFT=1

	# Unknown fields are ignored, null counts as absent.
	ssh_open '{"colour": "blue", "nested": {"a": [1, 2]}, "name": null}'
	api_expect 200 POST "/connections/$SSH_ID/execute" \
	    '{"command": "echo ok", "shell": "/bin/zsh", "env": {"A": 1}}'
	[ "$(jget stdout)" = ok ] || ca_fail "execute: $(cat "$W/body")"
	api_expect 200 POST "/connections/$SSH_ID/download" \
	    "{\"path\": \"$RD/f\", \"offset\": 3}"
	[ "$(cat "$W/body")" = hello ] || ca_fail "download with extras"

	for id in "$SSH_ID" "$FTP_ID"; do
		for b in '{"path": 5}' '{"path": ["/"]}' '{"path": ""}' \
		    '{}' '{"path": {}}' '[]' '"x"' '{"path": "/\u0000x"}'; do
			api_in "download $b" 400 POST \
			    "/connections/$id/download" "$b"
		done
		api_in "list no path" "200 400" GET "/connections/$id/files"
		api_in "list empty" "200 400" GET "/connections/$id/files?path="
		api_in "list nul" 400 GET "/connections/$id/files?path=/a%00b"
		api_in "content nul" 400 GET \
		    "/connections/$id/files/content?path=/a%00b"
		api_in "content no path" 400 GET \
		    "/connections/$id/files/content"
		api_in "bad escape" "400 404" GET \
		    "/connections/$id/files?path=%zz%"
	done
	for b in '{"command": 5}' '{"command": ""}' '{"command": null}' \
	    '{"command": "true", "timeout": "5"}' \
	    '{"command": "true", "timeout": 0}' \
	    '{"command": "true", "timeout": 99999999}' \
	    '{"command": "a\u0000b"}'; do
		api_in "execute $b" 400 POST "/connections/$SSH_ID/execute" "$b"
	done
	printf '{"command": "echo \377"}' >"$W/u.json"
	post_file "/connections/$SSH_ID/execute" "$W/u.json"
	expect_in "execute invalid UTF-8" "$STATUS" 400
	printf '{"path": "/tmp/\300\257"}' >"$W/u.json"
	post_file "/connections/$SSH_ID/download" "$W/u.json"
	expect_in "download invalid UTF-8" "$STATUS" 400 404
	api_in "execute on FTP" 501 POST "/connections/$FTP_ID/execute" \
	    '{"command": "true"}'

	# Traversal strings go to the remote as they are; it decides.
	for id in "$SSH_ID" "$FTP_ID"; do
		for p in ../../../../../../etc /../../.. "$RD/../../../etc" \
		    ./. // /./././ "/etc/passwd/.." "$(rep 3000 /)" \
		    "$(rep 1000 ../)"; do
			api_in "list $p" "200 400 403 404" GET \
			    "/connections/$id/files?path=$p"
			api_in "download $p" "200 400 403 404" POST \
			    "/connections/$id/download" \
			    "$(jq -cn --arg p "$p" '{path: $p}')"
		done
		api_in "list %2e%2e" "200 400 403 404" GET \
		    "/connections/$id/files?path=%2e%2e%2f%2e%2e%2fetc"
		api_in "upload ../" "201 400 403 404 502" PUT \
		    "/connections/$id/files/content?path=../../nonexistent/x" \
		    'data'
	done
	# Dot segments in the URL itself (curl would remove them): the
	# daemon may resolve them or refuse the URL.
	for u in /connections/../health /connections/%2e%2e/health \
	    //connections '/connections/..\health' \
	    "/connections/$SSH_ID/../$FTP_ID" "/connections/$SSH_ID%2f..%2f" \
	    "/connections/$SSH_ID/files/../../../health" \
	    /../../../etc/passwd; do
		STATUS=$(curl -s --path-as-is -o "$W/body" -w '%{http_code}' \
		    --max-time 30 "$CA_URL$u")
		expect_in "URL $u" "$STATUS" 200 400 404
	done

	# Both sessions still work.
	api_expect 200 POST "/connections/$SSH_ID/execute" \
	    '{"command": "echo ok"}'
	api_expect 200 GET "/connections/$FTP_ID/files?path=$FTPD_HOME"
	api_expect 200 GET /connections
	[ "$(jget '.sessions | length')" = 3 ] ||
	    ca_fail "sessions: $(cat "$W/body")"
	soft_end
	bad_check
	ca_stop
}
fields_cleanup()
{
	bad_cleanup
}

atf_test_case unknown_ids cleanup
unknown_ids_head()
{
	atf_set descr "10,000 distinct unknown session ids: all 404"
	atf_set timeout 300
}
unknown_ids_body()
{
	bad_up
	# One curl, one kept-alive connection, 10,000 URLs over 5 endpoints.
	awk -v u="$CA_URL" 'BEGIN {
		split("files?path=/ files/content?path=/x", sub_, " ")
		for (i = 0; i < 10000; i++) {
			id = sprintf("%08x-%04x-4%03x-8%03x-%012x", i * 7919,
			    i % 65536, i % 4096, (i * 3) % 4096, i * 104729)
			s = ""
			if (i % 5 == 1) s = "/" sub_[1]
			if (i % 5 == 2) s = "/" sub_[2]
			printf "url = \"%s/connections/%s%s\"\n", u, id, s
			print "output = \"/dev/null\""
		}
	}' >"$W/ids.cfg"
	t0=$(now_ms)
	curl -s -K "$W/ids.cfg" -w '%{http_code}\n' --max-time 10 \
	    >"$W/ids.out"
	t1=$(now_ms)
	echo "10,000 GETs in $((t1 - t0)) ms"
	sort "$W/ids.out" | uniq -c
	n=$(grep -c '^404$' "$W/ids.out")
	[ "$n" -eq 10000 ] || ca_fail "$n of 10000 answered 404"
	[ $((t1 - t0)) -lt 120000 ] ||
	    ca_fail "10,000 requests took $((t1 - t0)) ms"

	# Deletes and operations on unknown ids, a sample of each.
	i=0
	while [ $i -lt 50 ]; do
		id=$(printf '%08x-0000-4000-8000-%012x' $i $i)
		api_in "delete $i" 404 DELETE "/connections/$id"
		api_in "execute $i" 404 POST "/connections/$id/execute" \
		    '{"command": "true"}'
		api_in "download $i" 404 POST "/connections/$id/download" \
		    '{"path": "/x"}'
		i=$((i + 10))
	done
	for id in x "$(rep 36 z)" "$(rep 200 a)" 00000000-0000-0000-0000 \
	    "00000000-0000-0000-0000-0000000000000"; do
		api_in "id $id" "400 404" GET "/connections/$id"
	done
	bad_check
	ca_stop
}
unknown_ids_cleanup()
{
	bad_cleanup
}

# Fail unless the connection that wrote file $1 ($2: the case) got no
# answer or a 408 with a JSON error.
timed_out()
{
	[ -s "$1" ] || return 0
	parse_resp "$1"
	echo "$2: $(head -n 1 "$W/rhead")"
	[ "$RSTATUS" = 408 ] || ca_fail "$2: got $(head -n 1 "$W/rhead")"
	json_error "$2"
}

# Write $W/conn.sh, a bash client: conn.sh REQ DELAY OUT connects to the
# daemon, sends file REQ (one byte every DELAY seconds unless DELAY is
# 0), keeps its side open, copies what comes back to OUT, and exits when
# the daemon closes the connection.
conn_script()
{
	cat >"$W/conn.sh" <<EOF
exec 3<>/dev/tcp/127.0.0.1/$CA_PORT || exit 1
(
	if [ "\$2" = 0 ]; then
		cat "\$1"
	else
		n=\$(wc -c <"\$1")
		i=1
		while [ \$i -le \$n ]; do
			tail -c +\$i "\$1" | head -c 1 || exit 0
			sleep "\$2"
			i=\$((i + 1))
		done
	fi
	sleep 300
) >&3 2>/dev/null &
w=\$!
cat <&3 >"\$3"
kill \$(pgrep -P \$w) \$w 2>/dev/null
EOF
}

# Wait up to $2 tenths of a second for process $1 to end; 0 if it did.
wait_pid()
{
	_n=0
	while [ $_n -lt "$2" ]; do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

atf_test_case timeouts cleanup
timeouts_head()
{
	atf_set descr "incomplete heads, trickled heads and bodies shorter" \
	    "than their Content-Length are dropped by the timeouts"
	atf_set timeout 300
	atf_set require.progs bash
}
timeouts_body()
{
	bad_up 'header timeout 2s' 'keepalive timeout 2s'
	conn_script
	# A body that never comes: Content-Length 1000, 2 bytes sent, the
	# connection left open.  The front waits, then its body timeout
	# (60 s, fixed) drops it.
	printf 'POST /connections/ssh HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n{}' \
	    'Content-Length: 1000' >"$W/req.long"
	ca_bg bash "$W/conn.sh" "$W/req.long" 0 "$W/resp.long"
	long=$BG_PID
	tl=$(now_ms)

	# An incomplete head: cut by the header timeout.
	printf 'GET /health HTTP/1.1\r\nHost: x\r\n' >"$W/req.head"
	ca_bg bash "$W/conn.sh" "$W/req.head" 0 "$W/resp.head"
	head=$BG_PID
	# A kept-alive connection left idle: cut by the keepalive timeout.
	printf 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' >"$W/req.idle"
	ca_bg bash "$W/conn.sh" "$W/req.idle" 0 "$W/resp.idle"
	idle=$BG_PID
	# A head trickled one byte every half second: the header timeout
	# bounds the whole head ("how long a client may take to send a
	# request's headers"), not the gap between two bytes.
	printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: %s\r\n\r\n' \
	    "$(rep 60 a)" >"$W/req.slow"
	ca_bg bash "$W/conn.sh" "$W/req.slow" 0.5 "$W/resp.slow"
	slow=$BG_PID
	t0=$(now_ms)

	wait_pid "$head" 200 || ca_fail "an incomplete head was kept 20 s" \
	    "with a 2 s header timeout"
	echo "incomplete head dropped after $(($(now_ms) - t0)) ms"
	timed_out "$W/resp.head" "incomplete head"
	wait_pid "$idle" 200 || ca_fail "an idle kept-alive connection" \
	    "stayed 20 s with a 2 s keepalive timeout"
	echo "idle connection dropped after $(($(now_ms) - t0)) ms"
	head -n 1 "$W/resp.idle" | grep -q ' 200 ' ||
	    ca_fail "the idle connection's request got: $(head -c 200 \
	    "$W/resp.idle")"
	ok=1
	wait_pid "$slow" 200 || ok=0
	echo "trickled head: connection ended after $(($(now_ms) - t0)) ms"
	api_expect 200 GET /health

	# The long body: waited for, then dropped.
	wait_pid "$long" 900 || ca_fail "a connection missing its body" \
	    "was kept 90 s"
	echo "missing body dropped after $(($(now_ms) - tl)) ms"
	timed_out "$W/resp.long" "missing body"
	[ $ok -eq 1 ] || ca_fail "a head trickled one byte every 0.5 s" \
	    "was still being read 20 s later with a 2 s header timeout"
	timed_out "$W/resp.slow" "trickled head"
	bad_check
	ca_stop
}
timeouts_cleanup()
{
	bad_cleanup
}

# Open 1,000 idle connections to the daemon from one bash, check that a
# normal client is served among them, and close them again.
crowd_round()
{
	rm -f "$W/idle.ok"
	ca_bg bash -c "ulimit -n 4096 || exit 1; i=0
	    while [ \$i -lt 1000 ]; do
		exec {fd}<>/dev/tcp/127.0.0.1/$CA_PORT || exit 1
		i=\$((i + 1))
	    done; echo opened >'$W/idle.ok'; sleep 200"
	idle=$BG_PID
	n=0
	while [ $n -lt 300 ] && [ ! -s "$W/idle.ok" ]; do
		kill -0 "$idle" 2>/dev/null || ca_fail "the idle opener died"
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$W/idle.ok" ] || ca_fail "1,000 connections not open in 30 s"
	c=$(ss -Htn state established "sport = :$CA_PORT" | wc -l)
	echo "$c connections established to the front"
	[ "$c" -ge 1000 ] || ca_fail "only $c connections established"

	for i in 1 2 3; do
		t0=$(now_ms)
		st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 5 \
		    "$CA_URL/health")
		t1=$(now_ms)
		echo "GET /health among the crowd: $st in $((t1 - t0)) ms"
		[ "$st" = 200 ] || ca_fail "a normal client got $st within 5 s"
		st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 5 \
		    "$CA_URL/connections")
		[ "$st" = 200 ] || ca_fail "GET /connections: $st within 5 s"
		sleep 1
	done
	c=$(ss -Htn state established "sport = :$CA_PORT" | wc -l)
	[ "$c" -ge 1000 ] || ca_fail "the front dropped idle connections" \
	    "before their timeout: $c left"
	echo "parent+front RSS with the crowd: $(rss_kb) kB"

	ca_bg_kill "$idle"
	n=0
	while [ $n -lt 100 ]; do
		c=$(ss -Htn state established "sport = :$CA_PORT" | wc -l)
		[ "$c" -lt 50 ] && break
		sleep 0.1
		n=$((n + 1))
	done
}

atf_test_case crowd cleanup
crowd_head()
{
	atf_set descr "1,000 idle connections and slow clients do not stop" \
	    "a normal client from being served"
	atf_set timeout 300
	atf_set require.progs bash
}
crowd_body()
{
	bad_up 'max clients 2000' 'header timeout 60s' 'keepalive timeout 60s'
	nofile=$(awk '/^Max open files/ { print $4 }' "/proc/$FRONT/limits")
	echo "front RLIMIT_NOFILE: $nofile"
	[ "$nofile" -ge 1100 ] 2>/dev/null ||
	    ca_fail "the front's RLIMIT_NOFILE $nofile < 1,000 clients"

	# Slow clients: one byte a second, each its own connection.
	printf 'GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: %s\r\n\r\n' \
	    "$(rep 200 a)" >"$W/req.slow"
	conn_script
	for i in 1 2 3 4 5 6 7 8; do
		ca_bg bash "$W/conn.sh" "$W/req.slow" 1 "$W/resp.slow$i"
	done
	crowd_round
	# A second crowd must not add memory (a leak per client would).
	m1=$(rss_kb)
	crowd_round
	n=0
	while [ $n -lt 50 ]; do
		m2=$(rss_kb)
		[ $((m2 - m1)) -le 8192 ] && break
		sleep 0.2
		n=$((n + 1))
	done
	echo "parent+front RSS: $MEM0 kB at start, $m1 kB after one crowd," \
	    "$m2 kB after two"
	[ $((m2 - m1)) -le 8192 ] || ca_fail "a second crowd of 1,000" \
	    "connections added $((m2 - m1)) kB"
	bad_check
	ca_stop
}
crowd_cleanup()
{
	bad_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case http_malformed
	atf_add_test_case json_malformed
	atf_add_test_case crlf_fields
	atf_add_test_case fields
	atf_add_test_case unknown_ids
	atf_add_test_case timeouts
	atf_add_test_case crowd
}
