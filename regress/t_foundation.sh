#! /usr/bin/env atf-sh
# The daemon without any remote server: /health, the process tree and
# its sandbox, the front's restart, HTTP errors and limits, CORS and
# security headers, signals and configuration checks.

. "$(atf_get_srcdir)/lib/common.sh"

# Send the raw bytes $1 (a printf format) and print the response's
# status line.  The connection stays open for writing meanwhile: a
# half-closed request is not the case tested here.
raw_status()
{
	rm -f "$W/raw.out"
	ca_bg sh -c '{ printf "$1"; sleep 10; } | nc -w 10 127.0.0.1 "$2" \
	    >"$3"' sh "$1" "$CA_PORT" "$W/raw.out"
	_n=0
	while [ $_n -lt 50 ]; do
		# A whole status line has arrived.
		[ -s "$W/raw.out" ] && [ "$(wc -l <"$W/raw.out")" -ge 1 ] &&
		    break
		sleep 0.1
		_n=$((_n + 1))
	done
	ca_bg_kill "$BG_PID"
	head -n 1 "$W/raw.out" 2>/dev/null | tr -d '\r'
}

atf_test_case health cleanup
health_head()
{
	atf_set descr "GET /health answers the documented JSON fields"
}
health_body()
{
	ca_setup
	ca_start
	api_expect 200 GET /health
	[ "$(jget status)" = ok ] || ca_fail "status: $(cat "$W/body")"
	[ "$(jget service)" = coreastra-connection-manager ] ||
	    ca_fail "service: $(cat "$W/body")"
	for f in version sessions max_sessions uptime; do
		[ "$(jget "has(\"$f\")")" = true ] ||
		    ca_fail "no $f in $(cat "$W/body")"
	done
	[ "$(jget '.version | type')" = string ] ||
	    ca_fail "version is not a string"
	[ "$(jget sessions)" = 0 ] || ca_fail "sessions: $(jget sessions)"
	[ "$(jget max_sessions)" = 20 ] ||
	    ca_fail "max_sessions: $(jget max_sessions)"
	[ "$(jget '.uptime | type')" = number ] ||
	    ca_fail "uptime is not a number"
	case $(header Content-Type) in
	application/json*) ;;
	*) ca_fail "Content-Type: $(header Content-Type)" ;;
	esac
	ca_stop
}
health_cleanup()
{
	ca_cleanup
}

atf_test_case proctree cleanup
proctree_head()
{
	atf_set descr "one parent and one front, which runs under seccomp" \
	    "with no_new_privs"
}
proctree_body()
{
	ca_setup
	ca_start
	kids=$(ca_children | wc -l)
	[ "$kids" -eq 1 ] || ca_fail "$kids children, expected 1:" \
	    "$(for k in $(ca_children); do ca_cmdline $k; echo; done)"
	front=$(ca_front)
	[ -n "$front" ] || ca_fail "no child titled front:" \
	    "$(ca_cmdline "$(ca_children)")"
	[ "$(ca_status "$front" Seccomp)" = 2 ] ||
	    ca_fail "front Seccomp: $(ca_status "$front" Seccomp)"
	[ "$(ca_status "$front" NoNewPrivs)" = 1 ] ||
	    ca_fail "front NoNewPrivs: $(ca_status "$front" NoNewPrivs)"
	ca_stop
}
proctree_cleanup()
{
	ca_cleanup
}

atf_test_case privdrop cleanup
privdrop_head()
{
	atf_set descr "as root, the front runs as the configured user with" \
	    "no capabilities, chrooted"
}
privdrop_body()
{
	[ "$(id -u)" -eq 0 ] ||
	    atf_skip "needs root to check the user, capabilities and chroot"
	ca_setup
	ca_start
	front=$(ca_front)
	[ -n "$front" ] || ca_fail "no front"
	uid=$(id -u "$CA_USER") || ca_fail "no user $CA_USER"
	gid=$(id -g "$CA_USER")
	set -- $(ca_status "$front" Uid)
	[ "$1 $2 $3 $4" = "$uid $uid $uid $uid" ] ||
	    ca_fail "front uids $*, expected $uid"
	set -- $(ca_status "$front" Gid)
	[ "$1 $2 $3 $4" = "$gid $gid $gid $gid" ] ||
	    ca_fail "front gids $*, expected $gid"
	g=$(ca_status "$front" Groups)
	[ -z "$g" ] || [ "$g" = "$gid" ] ||
	    ca_fail "front supplementary groups: $g"
	for c in CapEff CapPrm CapInh; do
		[ "$(ca_status "$front" $c)" = 0000000000000000 ] ||
		    ca_fail "front $c $(ca_status "$front" $c)"
	done
	root=$(readlink "/proc/$front/root")
	[ "$root" = "$CA_CHROOT" ] ||
	    ca_fail "front root is $root, expected $CA_CHROOT"
	ca_stop
}
privdrop_cleanup()
{
	ca_cleanup
}

atf_test_case front_restart cleanup
front_restart_head()
{
	atf_set descr "a killed front is replaced; the parent stays"
}
front_restart_body()
{
	ca_setup
	ca_start
	front=$(ca_front)
	[ -n "$front" ] || ca_fail "no front"
	kill -KILL "$front"
	t0=$(now_ms)
	ca_wait_health 50 || ca_fail "no /health within 5 s of killing" \
	    "the front"
	t1=$(now_ms)
	echo "new front answered after $((t1 - t0)) ms"
	ca_alive "$CA_PID" || ca_fail "the parent died"
	new=$(ca_front)
	[ -n "$new" ] && [ "$new" != "$front" ] ||
	    ca_fail "front $front was not replaced (now '$new')"
	ca_alive "$front" && ca_fail "old front $front still runs"
	[ "$(ca_status "$new" Seccomp)" = 2 ] ||
	    ca_fail "new front is not sandboxed"
	[ "$(ca_children | wc -l)" -eq 1 ] ||
	    ca_fail "children after restart: $(ca_children | tr '\n' ' ')"
	ca_stop
}
front_restart_cleanup()
{
	ca_cleanup
}

atf_test_case http_errors cleanup
http_errors_head()
{
	atf_set descr "404, 405, 400, 431 and 414 answers"
}
http_errors_body()
{
	ca_setup
	ca_start

	api_expect 404 GET /no/such/path
	[ "$(jget code)" = not_found ] || ca_fail "404 body: $(cat "$W/body")"
	[ "$(jget '.error | type')" = string ] ||
	    ca_fail "404 without error sentence: $(cat "$W/body")"

	api_expect 405 DELETE /health
	allow=$(header Allow)
	case $allow in
	*GET*) ;;
	*) ca_fail "405 Allow header: '$allow'" ;;
	esac
	[ "$(jget '.code | type')" = string ] ||
	    ca_fail "405 body: $(cat "$W/body")"

	# An unknown method may be 501; the rest is malformed.
	line=$(raw_status 'GARBAGE\r\n\r\n')
	case $line in
	"HTTP/1.1 400 "*|"HTTP/1.1 501 "*) ;;
	*) ca_fail "garbage request line: '$line'" ;;
	esac
	for r in 'GET health HTTP/1.1\r\n\r\n' \
	    'G\001T / HTTP/1.1\r\n\r\n' \
	    'GET /health HTTP/1.1\r\nHost localhost\r\n\r\n' \
	    'POST /connections/ssh HTTP/1.1\r\nContent-Length: x\r\n\r\n'; do
		line=$(raw_status "$r")
		case $line in
		"HTTP/1.1 400 "*) ;;
		*) ca_fail "malformed request $r: '$line'" ;;
		esac
	done
	line=$(raw_status 'GET /health HTTP/9.9\r\n\r\n')
	case $line in
	"HTTP/1.1 400 "*|"HTTP/1.1 505 "*) ;;
	*) ca_fail "HTTP/9.9: '$line'" ;;
	esac

	big=$(head -c 32768 /dev/zero | tr '\0' a)
	st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    -H "X-Big: $big" "$CA_URL/health")
	[ "$st" = 431 ] || ca_fail "32 KiB header: $st, expected 431"

	long=$(head -c 16384 /dev/zero | tr '\0' b)
	st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
	    "$CA_URL/health?x=$long")
	[ "$st" = 414 ] || ca_fail "16 KiB URL: $st, expected 414"

	# Still serving after all that.
	api_expect 200 GET /health
	ca_stop
}
http_errors_cleanup()
{
	ca_cleanup
}

atf_test_case slow_client cleanup
slow_client_head()
{
	atf_set descr "a client that sends its head too slowly is dropped" \
	    "after the header timeout while others are served"
	atf_set timeout 60
}
slow_client_body()
{
	ca_setup 'header timeout 2s'
	ca_start

	# One silent connection, one sending a valid head a byte a second.
	t0=$(now_ms)
	ca_bg sh -c "nc -d 127.0.0.1 $CA_PORT >'$W/silent.out';
	    date +%s%N >'$W/silent.end'"
	ca_bg sh -c "{ printf 'GET /health HTTP/1.1\\r\\nX-Slow: ';
	    for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
	    printf a; sleep 1; done; } 2>/dev/null |
	    { nc 127.0.0.1 $CA_PORT >'$W/drip.out';
	    date +%s%N >'$W/drip.end'; }"
	sleep 0.5
	api_expect 200 GET /health

	n=0
	while [ $n -lt 120 ]; do
		[ -s "$W/silent.end" ] && [ -s "$W/drip.end" ] && break
		sleep 0.1
		n=$((n + 1))
	done
	[ -s "$W/silent.end" ] || ca_fail "silent client not dropped in 12 s"
	[ -s "$W/drip.end" ] || ca_fail "dripping client not dropped in 12 s"
	ts=$(($(cat "$W/silent.end") / 1000000 - t0))
	td=$(($(cat "$W/drip.end") / 1000000 - t0))
	echo "silent client dropped after $ts ms, dripping one after $td ms"
	[ $ts -ge 1500 ] || ca_fail "silent client dropped after $ts ms," \
	    "before the 2 s header timeout"
	[ $ts -lt 6000 ] || ca_fail "silent client dropped after $ts ms"
	[ $td -lt 8000 ] || ca_fail "dripping client dropped after $td ms"
	api_expect 200 GET /health
	ca_stop
}
slow_client_cleanup()
{
	ca_cleanup
}

atf_test_case early_answer cleanup
early_answer_head()
{
	atf_set descr "a client still sending a body after its answer can" \
	    "send on and reads the whole answer"
	atf_set timeout 60
}
early_answer_body()
{
	ca_setup
	ca_start

	# The answer (404) comes after the head; the body keeps coming.
	# Closing at once would reset the connection: the client's
	# writes fail and the answer may be lost.  bash for /dev/tcp.
	cat >"$W/early.sh" <<'EOS'
exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 2
printf 'PUT /connections/00000000-0000-4000-8000-000000000000/files/content?path=/x HTTP/1.1\r\nHost: t\r\nContent-Length: 67108864\r\n\r\n' >&3
sleep 0.5
head -c 8388608 /dev/zero >&3 || { echo "send failed: $?"; exit 1; }
# Stop sending without closing: the answer still ends.
timeout 10 cat <&3 >"$2" || { echo "no end of answer"; exit 1; }
EOS
	n=0
	while [ $n -lt 3 ]; do
		t0=$(now_ms)
		out=$(bash "$W/early.sh" "$CA_PORT" "$W/resp") ||
		    ca_fail "try $n: $out"
		t1=$(now_ms)
		head -n 1 "$W/resp" | grep -q '^HTTP/1.1 404 ' ||
		    ca_fail "try $n: answer $(head -c 200 "$W/resp")"
		grep -q session_not_found "$W/resp" ||
		    ca_fail "try $n: body $(cat "$W/resp")"
		echo "try $n: answer read in $((t1 - t0)) ms"
		n=$((n + 1))
	done
	api_expect 200 GET /health
	ca_stop
}
early_answer_cleanup()
{
	ca_cleanup
}

atf_test_case cors cleanup
cors_head()
{
	atf_set descr "preflight from an allowed origin is granted, from" \
	    "another origin not"
}
cors_body()
{
	ca_setup
	ca_start

	good=http://localhost:3000
	st=$(curl -s -o /dev/null -D "$W/headers" -w '%{http_code}' \
	    --max-time 10 -X OPTIONS -H "Origin: $good" \
	    -H 'Access-Control-Request-Method: POST' \
	    -H 'Access-Control-Request-Headers: content-type' \
	    "$CA_URL/connections/ssh")
	case $st in
	200|204) ;;
	*) ca_fail "preflight from $good: status $st" ;;
	esac
	[ "$(header Access-Control-Allow-Origin)" = "$good" ] ||
	    ca_fail "Allow-Origin '$(header Access-Control-Allow-Origin)'"
	case $(header Access-Control-Allow-Methods) in
	*POST*) ;;
	*) ca_fail "Allow-Methods '$(header Access-Control-Allow-Methods)'" ;;
	esac
	case $(header Access-Control-Allow-Headers | tr A-Z a-z) in
	*content-type*) ;;
	*) ca_fail "Allow-Headers '$(header Access-Control-Allow-Headers)'" ;;
	esac

	# A simple request from the allowed origin carries the header too.
	curl -s -o /dev/null -D "$W/headers" --max-time 10 \
	    -H "Origin: $good" "$CA_URL/health"
	[ "$(header Access-Control-Allow-Origin)" = "$good" ] ||
	    ca_fail "GET from $good: no Allow-Origin"

	for bad in http://evil.example http://localhost:3001 \
	    http://localhost:3000.evil.example; do
		curl -s -o /dev/null -D "$W/headers" --max-time 10 \
		    -X OPTIONS -H "Origin: $bad" \
		    -H 'Access-Control-Request-Method: POST' \
		    "$CA_URL/connections/ssh"
		[ -z "$(header Access-Control-Allow-Origin)" ] ||
		    ca_fail "origin $bad was allowed:" \
		    "$(header Access-Control-Allow-Origin)"
	done
	ca_stop
}
cors_cleanup()
{
	ca_cleanup
}

atf_test_case security_headers cleanup
security_headers_head()
{
	atf_set descr "responses carry nosniff and no-store"
}
security_headers_body()
{
	ca_setup
	ca_start
	for p in /health /nowhere /connections; do
		api GET "$p"
		[ "$(header X-Content-Type-Options)" = nosniff ] ||
		    ca_fail "$p: X-Content-Type-Options" \
		    "'$(header X-Content-Type-Options)'"
		case $(header Cache-Control) in
		*no-store*) ;;
		*) ca_fail "$p: Cache-Control '$(header Cache-Control)'" ;;
		esac
	done
	ca_stop
}
security_headers_cleanup()
{
	ca_cleanup
}

atf_test_case sigterm cleanup
sigterm_head()
{
	atf_set descr "SIGTERM ends the parent and every child; the" \
	    "parent exits 0"
}
sigterm_body()
{
	ca_setup
	ca_start
	front=$(ca_front)
	parent=$CA_PID
	ca_stop
	[ "$CA_STATUS" -eq 0 ] ||
	    atf_fail "exit status $CA_STATUS after SIGTERM, expected 0"
	ca_alive "$parent" && atf_fail "parent $parent still runs"
	ca_alive "$front" && atf_fail "front $front still runs"
	ca_port_busy "$CA_PORT" && atf_fail "port $CA_PORT still listens"
	return 0
}
sigterm_cleanup()
{
	ca_cleanup
}

atf_test_case config_check
config_check_head()
{
	atf_set descr "-n accepts the example file and rejects a broken" \
	    "one with file:line"
}
config_check_body()
{
	_ca_dirs
	atf_check -s exit:0 -o ignore -e ignore \
	    "$CA_DAEMON" -n -f "$CA_SRCDIR/etc/coreastrad.conf"
	printf 'max sessions 5\nlisten at 127.0.0.1\n' >broken.conf
	atf_check -s not-exit:0 -o ignore -e save:err \
	    "$CA_DAEMON" -n -f broken.conf
	grep -q '^broken\.conf:2: ' err ||
	    atf_fail "no 'broken.conf:2:' in: $(cat err)"
	printf 'max sessions 0\n' >zero.conf
	atf_check -s not-exit:0 -o ignore -e save:err \
	    "$CA_DAEMON" -n -f zero.conf
	grep -q '^zero\.conf:1: ' err ||
	    atf_fail "no 'zero.conf:1:' in: $(cat err)"
	atf_check -s not-exit:0 -o ignore -e ignore \
	    "$CA_DAEMON" -n -f does-not-exist.conf
}

atf_test_case reload cleanup
reload_head()
{
	atf_set descr "SIGHUP applies a good file and keeps serving on a" \
	    "broken one"
}
reload_body()
{
	ca_setup 'max sessions 20'
	ca_start
	front=$(ca_front)

	# A good file: the new limit shows in /health.
	echo 'max sessions 7' >>"$CA_CONF"
	kill -HUP "$CA_PID"
	n=0
	while [ $n -lt 50 ]; do
		api GET /health
		[ "$STATUS" = 200 ] && [ "$(jget max_sessions)" = 7 ] && break
		sleep 0.1
		n=$((n + 1))
	done
	[ "$(jget max_sessions)" = 7 ] ||
	    ca_fail "reload not applied: $(cat "$W/body")"

	# A broken file: logged, old configuration kept.
	echo 'this is not a setting' >>"$CA_CONF"
	kill -HUP "$CA_PID"
	sleep 1
	ca_alive "$CA_PID" || ca_fail "the parent died on a broken reload"
	api_expect 200 GET /health
	[ "$(jget max_sessions)" = 7 ] ||
	    ca_fail "configuration changed: $(cat "$W/body")"
	grep -q 'coreastrad.conf:[0-9]*:' "$CA_LOG" ||
	    ca_fail "no file:line error in the log"
	ca_stop
}
reload_cleanup()
{
	ca_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case health
	atf_add_test_case proctree
	atf_add_test_case privdrop
	atf_add_test_case front_restart
	atf_add_test_case http_errors
	atf_add_test_case slow_client
	atf_add_test_case early_answer
	atf_add_test_case cors
	atf_add_test_case security_headers
	atf_add_test_case sigterm
	atf_add_test_case config_check
	atf_add_test_case reload
}
