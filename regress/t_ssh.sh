#! /usr/bin/env atf-sh
# SSH sessions against a private OpenSSH sshd on loopback: logins and
# their failures, host keys, the session table, execute, browsing,
# transfers, limits, expiry and crashed or sandboxed workers.

. "$(atf_get_srcdir)/lib/common.sh"
. "$(atf_get_srcdir)/lib/sshd.sh"

# Start sshd, then coreastrad with the extra configuration lines given.
ssh_up()
{
	sshd_start "$PWD/sshd" || atf_fail "sshd did not start"
	ca_setup "$@"
	ca_start
}

# Clean up after a test: the daemon, sshd and the remote directory.
ssh_cleanup()
{
	ca_cleanup
	if [ -s "$PWD/remote.dir" ]; then
		rm -rf "$(cat "$PWD/remote.dir")"
	fi
	return 0
}

# Print the JSON that opens a session with password $1 on port $2.
json_pw()
{
	jq -cn --arg u "$SSHD_USER" --arg p "${1-$SSHD_PASS}" \
	    --argjson port "${2:-$SSHD_PORT}" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}'
}

# Print the JSON that opens a session with key file $1, passphrase $2.
json_key()
{
	if [ $# -ge 2 ]; then
		jq -cn --arg u "$SSHD_USER" --argjson port "$SSHD_PORT" \
		    --rawfile k "$1" --arg pp "$2" \
		    '{host: "127.0.0.1", port: $port, username: $u,
		    private_key: $k, passphrase: $pp, name: "key-pp"}'
	else
		jq -cn --arg u "$SSHD_USER" --argjson port "$SSHD_PORT" \
		    --rawfile k "$1" \
		    '{host: "127.0.0.1", port: $port, username: $u,
		    private_key: $k, name: "key"}'
	fi
}

# Run shell command $1 as the test user.
as_user()
{
	runuser -u "$SSHD_USER" -- sh -c "$1"
}

# Make a private directory in the test user's home; sets RD.
remote_dir()
{
	RD=$(as_user "mktemp -d '$SSHD_HOME/ca.XXXXXXXX'") ||
	    atf_fail "mktemp as $SSHD_USER"
	echo "$RD" >"$PWD/remote.dir"
}

# Wait up to $1 tenths of a second for the daemon to have $2 workers.
wait_workers()
{
	_n=0
	while [ $_n -lt "$1" ]; do
		[ "$(ca_workers | wc -l)" -eq "$2" ] && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# Fail if a credential shows up in the daemon's log.
no_secrets_logged()
{
	for s in "$SSHD_PASS" "$SSHD_KEY_PASSPHRASE" \
	    "$(sed -n 2p "$SSHD_KEY")"; do
		grep -qF -- "$s" "$CA_LOG" &&
		    ca_fail "a credential appears in the daemon log"
	done
	return 0
}

atf_test_case login_password cleanup
login_password_head()
{
	atf_set descr "password login returns the session and host key"
	atf_set timeout 120
}
login_password_body()
{
	ssh_up
	api_expect 201 POST /connections/ssh "$(json_pw)"
	for f in session_id type host port username name state created_at \
	    last_activity expires_at time_remaining host_key; do
		[ "$(jget "has(\"$f\")")" = true ] ||
		    ca_fail "no $f in $(cat "$W/body")"
	done
	[ "$(jget type)" = ssh ] || ca_fail "type $(jget type)"
	[ "$(jget host)" = 127.0.0.1 ] || ca_fail "host $(jget host)"
	[ "$(jget port)" = "$SSHD_PORT" ] || ca_fail "port $(jget port)"
	[ "$(jget username)" = "$SSHD_USER" ] ||
	    ca_fail "username $(jget username)"
	[ "$(jget host_key.type)" = ssh-ed25519 ] ||
	    ca_fail "host key type $(jget host_key.type)"
	fp=$(jget host_key.sha256)
	[ "${fp#SHA256:}" = "$SSHD_HOSTKEY_FP" ] ||
	    ca_fail "host key $fp, sshd has $SSHD_HOSTKEY_FP"
	grep -qF -- "$SSHD_PASS" "$W/body" &&
	    ca_fail "the answer shows the password"
	[ "$(jget 'has("password")')" = false ] ||
	    ca_fail "the answer has a password field"
	grep -q "^127.0.0.1 $SSHD_PORT ssh-ed25519 SHA256:$SSHD_HOSTKEY_FP" \
	    "$W/known_hosts" || ca_fail "key not remembered:" \
	    "$(cat "$W/known_hosts" 2>&1)"
	wait_workers 20 1 || ca_fail "workers: $(ca_workers)"
	api_expect 200 GET /health
	[ "$(jget sessions)" = 1 ] || ca_fail "health: $(cat "$W/body")"
	no_secrets_logged
	ca_stop
}
login_password_cleanup()
{
	ssh_cleanup
}

atf_test_case login_key cleanup
login_key_head()
{
	atf_set descr "key login, with and without a passphrase"
	atf_set timeout 120
}
login_key_body()
{
	ssh_up
	api_expect 201 POST /connections/ssh "$(json_key "$SSHD_KEY")"
	[ "$(jget name)" = key ] || ca_fail "name $(jget name)"
	api_expect 201 POST /connections/ssh \
	    "$(json_key "$SSHD_KEY_PP" "$SSHD_KEY_PASSPHRASE")"
	[ "$(jget name)" = key-pp ] || ca_fail "name $(jget name)"
	api POST /connections/ssh "$(json_key "$SSHD_KEY_PP" wrong-pp)"
	case $STATUS in
	400|401) ;;
	*) ca_fail "wrong passphrase: $STATUS $(cat "$W/body")" ;;
	esac
	api_expect 200 GET /connections
	[ "$(jget '.sessions | length')" = 2 ] ||
	    ca_fail "sessions: $(cat "$W/body")"
	no_secrets_logged
	ca_stop
}
login_key_cleanup()
{
	ssh_cleanup
}

atf_test_case open_errors cleanup
open_errors_head()
{
	atf_set descr "wrong password 401, closed port 502, silent port" \
	    "504, bad requests 400"
	atf_set timeout 120
}
open_errors_body()
{
	ssh_up 'connect timeout 3s'

	api POST /connections/ssh "$(json_pw not-the-password)"
	expect_error 401 auth_failed
	[ "$(jget error)" = "Authentication failed" ] ||
	    ca_fail "401 sentence: $(jget error)"

	closed=$(ca_free_port) || ca_fail "no free port"
	api POST /connections/ssh "$(json_pw "$SSHD_PASS" "$closed")"
	expect_error 502 connection_failed
	case $(jget error) in
	"Connection failed"*) ;;
	*) ca_fail "502 sentence: $(jget error)" ;;
	esac

	silent=$(ca_free_port) || ca_fail "no free port"
	ca_bg sh -c "sleep 60 | nc -l 127.0.0.1 $silent >/dev/null"
	silent_pid=$BG_PID
	n=0
	while [ $n -lt 50 ] && ! ca_port_busy "$silent"; do
		sleep 0.1
		n=$((n + 1))
	done
	t0=$(now_ms)
	api POST /connections/ssh "$(json_pw "$SSHD_PASS" "$silent")"
	t1=$(now_ms)
	ca_bg_kill "$silent_pid"
	expect_error 504 timeout
	echo "silent port answered after $((t1 - t0)) ms"
	[ $((t1 - t0)) -lt 15000 ] ||
	    ca_fail "silent port took $((t1 - t0)) ms with a 3 s timeout"

	api POST /connections/ssh '{"host": "127.0.0.1", "port": 22'
	expect_error 400 invalid_request
	api POST /connections/ssh \
	    "$(jq -cn --argjson p "$SSHD_PORT" '{host: "127.0.0.1", port: $p}')"
	expect_error 400 invalid_request
	api POST /connections/ssh "$(json_pw | jq -c '.port = "22"')"
	expect_error 400 invalid_request
	api POST /connections/ssh "$(json_pw | jq -c '.port = 70000')"
	expect_error 400 invalid_request

	wait_workers 50 0 || ca_fail "workers left: $(ca_workers)"
	api_expect 200 GET /health
	[ "$(jget sessions)" = 0 ] || ca_fail "health: $(cat "$W/body")"
	no_secrets_logged
	ca_stop
}
open_errors_cleanup()
{
	ssh_cleanup
}

atf_test_case hostkey_change cleanup
hostkey_change_head()
{
	atf_set descr "accept-new refuses a changed host key"
	atf_set timeout 120
}
hostkey_change_body()
{
	ssh_up 'host key policy accept-new'
	ssh_open
	api_expect 200 DELETE "/connections/$SID"
	old=$SSHD_HOSTKEY_FP

	# Same port, new host key.
	sshd_stop
	rm -f "$SSHD_DIR/host_ed25519" "$SSHD_DIR/host_ed25519.pub"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_ed25519" ||
	    atf_fail "ssh-keygen"
	new=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" |
	    awk '{ sub("^SHA256:", "", $2); print $2 }')
	rm -f "$SSHD_DIR/sshd.pid"
	/usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" \
	    </dev/null || atf_fail "sshd restart"
	n=0
	while [ $n -lt 100 ]; do
		[ -s "$SSHD_DIR/sshd.pid" ] && ca_port_busy "$SSHD_PORT" &&
		    break
		sleep 0.1
		n=$((n + 1))
	done
	SSHD_PID=$(cat "$SSHD_DIR/sshd.pid") || atf_fail "sshd not back"

	api POST /connections/ssh "$(json_pw)"
	expect_error 502 connection_failed
	jget error | grep -qF "$new" ||
	    ca_fail "message does not name the new key $new: $(jget error)"
	grep -q "SHA256:$old" "$W/known_hosts" ||
	    ca_fail "the remembered key changed"
	grep -q "SHA256:$new" "$W/known_hosts" &&
	    ca_fail "the new key was remembered"
	wait_workers 50 0 || ca_fail "workers left: $(ca_workers)"
	ca_stop
}
hostkey_change_cleanup()
{
	ssh_cleanup
}

atf_test_case hostkey_strict cleanup
hostkey_strict_head()
{
	atf_set descr "strict refuses unknown hosts and accepts known ones"
	atf_set timeout 120
}
hostkey_strict_body()
{
	ssh_up 'host key policy strict'
	api POST /connections/ssh "$(json_pw)"
	expect_error 502 connection_failed
	[ -s "$W/known_hosts" ] && ca_fail "strict wrote the known hosts"
	printf '127.0.0.1 %s ssh-ed25519 SHA256:%s\n' "$SSHD_PORT" \
	    "$SSHD_HOSTKEY_FP" >"$W/known_hosts"
	ssh_open
	ca_stop
}
hostkey_strict_cleanup()
{
	ssh_cleanup
}

atf_test_case sessions cleanup
sessions_head()
{
	atf_set descr "GET /connections and /connections/ID, DELETE, cleanup"
	atf_set timeout 120
}
sessions_body()
{
	ssh_up
	ssh_open
	a=$SID
	api_expect 201 POST /connections/ssh \
	    "$(json_pw | jq -c '.name = "second"')"
	b=$(jget session_id)
	[ "$a" != "$b" ] || ca_fail "two sessions share id $a"

	api_expect 200 GET /connections
	[ "$(jget '.sessions | length')" = 2 ] ||
	    ca_fail "list: $(cat "$W/body")"
	for f in id type host port username name state created_at \
	    last_activity expires_at time_remaining; do
		[ "$(jget "[.sessions[] | has(\"$f\")] | all")" = true ] ||
		    ca_fail "a session lacks $f: $(cat "$W/body")"
	done
	[ "$(jget "[.sessions[] | select(.id == \"$b\") | .name][0]")" = \
	    second ] || ca_fail "name of $b: $(cat "$W/body")"
	[ "$(jget '[.sessions[].time_remaining | type == "number"] | all')" \
	    = true ] || ca_fail "time_remaining: $(cat "$W/body")"

	api_expect 200 GET "/connections/$a"
	[ "$(jget id)" = "$a" ] || ca_fail "GET $a: $(cat "$W/body")"
	[ "$(jget type)" = ssh ] || ca_fail "GET $a: $(cat "$W/body")"

	api_expect 200 DELETE "/connections/$a"
	api GET "/connections/$a"
	expect_error 404 session_not_found
	[ "$(jget error)" = "Session expired or not found" ] ||
	    ca_fail "404 sentence: $(jget error)"
	api DELETE "/connections/$a"
	expect_error 404 session_not_found
	api GET /connections/00000000-0000-0000-0000-000000000000
	expect_error 404 session_not_found
	wait_workers 50 1 || ca_fail "workers: $(ca_workers)"

	api_expect 200 POST /connections/cleanup
	[ "$(jget removed)" = 0 ] || ca_fail "cleanup: $(cat "$W/body")"
	api_expect 200 GET "/connections/$b"
	ca_stop
}
sessions_cleanup()
{
	ssh_cleanup
}

atf_test_case expiry cleanup
expiry_head()
{
	atf_set descr "an idle session expires and its worker ends"
	atf_set timeout 120
}
expiry_body()
{
	ssh_up 'idle timeout 3s'
	ssh_open
	api_expect 200 GET "/connections/$SID"
	r=$(jget time_remaining)
	[ "$r" -le 3 ] 2>/dev/null || ca_fail "time_remaining $r"
	wait_workers 20 1 || ca_fail "workers: $(ca_workers)"
	sleep 5
	api GET "/connections/$SID"
	expect_error 404 session_not_found
	[ "$(jget error)" = "Session expired or not found" ] ||
	    ca_fail "404 sentence: $(jget error)"
	wait_workers 30 0 || ca_fail "worker outlived its session"

	# Activity keeps a session alive; cleanup counts what it removes.
	ssh_open
	for i in 1 2 3; do
		sleep 1.5
		api_expect 200 POST "/connections/$SID/execute" \
		    '{"command": "true"}'
	done
	api_expect 200 POST /connections/cleanup
	case $(jget removed) in
	0) ;;
	*) ca_fail "cleanup removed a live session: $(cat "$W/body")" ;;
	esac
	api_expect 200 GET "/connections/$SID"
	ca_stop
}
expiry_cleanup()
{
	ssh_cleanup
}

atf_test_case execute cleanup
execute_head()
{
	atf_set descr "execute: output, exit codes, binary output, limits" \
	    "and timeouts"
	atf_set timeout 120
}
execute_body()
{
	ssh_up 'max output size 64K'
	ssh_open

	api_expect 200 POST "/connections/$SID/execute" \
	    '{"command": "echo out; echo err >&2; exit 3"}'
	[ "$(jget stdout)" = out ] || ca_fail "stdout: $(cat "$W/body")"
	[ "$(jget stderr)" = err ] || ca_fail "stderr: $(cat "$W/body")"
	[ "$(jget exit_code)" = 3 ] || ca_fail "exit: $(cat "$W/body")"
	[ "$(jget truncated)" = false ] ||
	    ca_fail "truncated: $(cat "$W/body")"
	for f in exit_signal duration_ms; do
		[ "$(jget "has(\"$f\")")" = true ] ||
		    ca_fail "no $f in $(cat "$W/body")"
	done
	[ "$(jget .stdout)" = out ] || ca_fail "stdout"
	jq -e '.stdout == "out\n"' "$W/body" >/dev/null ||
	    ca_fail "stdout not exactly 'out\\n': $(cat "$W/body")"

	api_expect 200 POST "/connections/$SID/execute" \
	    '{"command": "printf \"\\377\\376ok\\300\""}'
	jq -e . "$W/body" >/dev/null || ca_fail "not JSON: $(cat "$W/body")"
	iconv -f UTF-8 -t UTF-8 "$W/body" >/dev/null 2>&1 ||
	    ca_fail "answer is not valid UTF-8: $(od -c "$W/body" | head)"
	jget stdout | grep -q ok || ca_fail "stdout: $(cat "$W/body")"

	api_expect 200 POST "/connections/$SID/execute" \
	    '{"command": "head -c 200000 /dev/zero | tr \"\\0\" a"}'
	[ "$(jget truncated)" = true ] ||
	    ca_fail "200 KB output not truncated at 64K"
	len=$(jget '.stdout | length')
	[ "$len" -le 65536 ] && [ "$len" -gt 0 ] ||
	    ca_fail "truncated stdout of $len bytes"

	api_expect 200 POST "/connections/$SID/execute" \
	    '{"command": "kill -9 $$"}'
	case $(jget exit_signal) in
	*KILL*|9) ;;
	*) ca_fail "exit_signal: $(cat "$W/body")" ;;
	esac

	t0=$(now_ms)
	api POST "/connections/$SID/execute" \
	    '{"command": "sleep 30", "timeout": 2}'
	t1=$(now_ms)
	expect_error 504 timeout
	echo "2 s command timeout answered after $((t1 - t0)) ms"
	[ $((t1 - t0)) -lt 15000 ] || ca_fail "timeout took $((t1 - t0)) ms"

	api_expect 200 POST "/connections/$SID/execute" \
	    '{"command": "echo again"}'
	[ "$(jget stdout)" = again ] || ca_fail "after a timeout:" \
	    "$(cat "$W/body")"

	api POST "/connections/$SID/execute" '{"cmd": "true"}'
	expect_error 400 invalid_request
	api POST /connections/00000000-0000-0000-0000-000000000000/execute \
	    '{"command": "true"}'
	expect_error 404 session_not_found
	ca_stop
}
execute_cleanup()
{
	ssh_cleanup
}

atf_test_case browse cleanup
browse_head()
{
	atf_set descr "listing: directories first, links, 404 and 403"
	atf_set timeout 120
}
browse_body()
{
	ssh_up
	remote_dir
	as_user "cd '$RD' && mkdir bdir adir noperm && printf hello >zfile &&
	    : >afile && ln -s zfile alink && chmod 000 noperm" ||
	    atf_fail "cannot populate $RD"
	ssh_open

	api_expect 200 GET "/connections/$SID/files?path=$RD"
	[ "$(jget path)" = "$RD" ] || ca_fail "path: $(jget path)"
	names=$(jget '[.entries[].name] | join(" ")')
	echo "entries: $names"
	[ "$(jget '.entries | length')" = 6 ] ||
	    ca_fail "6 entries expected: $(cat "$W/body")"
	# No directory after a non-directory.
	jq -e '[.entries[].type == "dir"] | . == (sort | reverse)' \
	    "$W/body" >/dev/null || ca_fail "directories not first: $names"
	for d in adir bdir noperm; do
		[ "$(jget ".entries[] | select(.name == \"$d\") | .type")" = \
		    dir ] || ca_fail "$d is not a dir: $(cat "$W/body")"
	done
	e='.entries[] | select(.name == "zfile")'
	[ "$(jget "$e | .type")" = file ] || ca_fail "zfile type"
	[ "$(jget "$e | .size")" = 5 ] || ca_fail "zfile size"
	[ "$(jget "$e | .uid")" = "$(id -u "$SSHD_USER")" ] ||
	    ca_fail "zfile uid"
	for f in name type size mtime mode permissions uid gid; do
		[ "$(jget "$e | has(\"$f\")")" = true ] ||
		    ca_fail "zfile has no $f: $(cat "$W/body")"
	done
	[ "$(jget "$e | .mtime | type")" != null ] || ca_fail "mtime null"
	case $(jget "$e | .permissions") in
	*rw-r*) ;;
	*) ca_fail "zfile permissions $(jget "$e | .permissions")" ;;
	esac
	e='.entries[] | select(.name == "alink")'
	[ "$(jget "$e | .type")" = link ] ||
	    ca_fail "alink type: $(cat "$W/body")"
	[ "$(jget "$e | .link_target")" = zfile ] ||
	    ca_fail "alink target: $(cat "$W/body")"
	jq -e '[.entries[].name] | index(".") == null and
	    index("..") == null' "$W/body" >/dev/null ||
	    ca_fail ". or .. listed"

	api GET "/connections/$SID/files?path=$RD/missing"
	expect_error 404 not_found
	api GET "/connections/$SID/files?path=$RD/noperm"
	expect_error 403 permission_denied
	# A big listing: sorted and encoded in the sandboxed front.
	as_user "mkdir '$RD/many' && cd '$RD/many' &&
	    seq -f 'f%04g' 1 1000 | xargs touch" || atf_fail "1000 files"
	front=$(ca_front)
	api_expect 200 GET "/connections/$SID/files?path=$RD/many"
	[ "$(jget '.entries | length')" = 1000 ] ||
	    ca_fail "1000 files listed as $(jget '.entries | length')"
	[ "$(ca_front)" = "$front" ] || ca_fail "the front was replaced"

	api GET "/connections/$SID/files?path=relative"
	case $STATUS in
	200|400|404) ;;
	*) ca_fail "relative path: $STATUS $(cat "$W/body")" ;;
	esac
	api_expect 200 GET "/connections/$SID/files?path=$RD"
	ca_stop
}
browse_cleanup()
{
	ssh_cleanup
}

# Download $RD/$1 both ways and compare with local file $2.
check_download()
{
	st=$(curl -s -o "$W/dl" -D "$W/headers" -w '%{http_code}' \
	    --max-time 300 "$CA_URL/connections/$SID/files/content?path=$RD/$1")
	[ "$st" = 200 ] || ca_fail "GET content $1: $st $(head -c 300 "$W/dl")"
	[ "$(sha "$W/dl")" = "$(sha "$2")" ] || ca_fail "GET $1 differs"
	# A remote size of 0 may be a /proc-like file: sent until close.
	cl=$(header Content-Length)
	if [ -s "$2" ] || [ -n "$cl" ]; then
		[ "$cl" = "$(stat -c %s "$2")" ] ||
		    ca_fail "GET $1 Content-Length '$cl'"
	fi
	st=$(curl -s -o "$W/dl" -D "$W/headers" -w '%{http_code}' \
	    --max-time 300 -H 'Content-Type: application/json' \
	    --data-binary "{\"path\": \"$RD/$1\"}" \
	    "$CA_URL/connections/$SID/download")
	[ "$st" = 200 ] || ca_fail "POST download $1: $st"
	[ "$(sha "$W/dl")" = "$(sha "$2")" ] || ca_fail "POST $1 differs"
	header Content-Disposition | grep -q "$1" ||
	    ca_fail "Content-Disposition: $(header Content-Disposition)"
	rm -f "$W/dl"
}

# Upload local file $1 as $RD/$2 by multipart POST and by PUT as $3.
check_upload()
{
	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 300 \
	    -F "path=$RD" -F "file=@$1;filename=$2" \
	    "$CA_URL/connections/$SID/upload")
	[ "$st" = 201 ] || ca_fail "upload $2: $st $(cat "$W/body")"
	[ "$(jget path)" = "$RD/$2" ] || ca_fail "upload path $(jget path)"
	[ "$(jget size)" = "$(stat -c %s "$1")" ] ||
	    ca_fail "upload size $(jget size)"
	[ "$(sha "$RD/$2")" = "$(sha "$1")" ] || ca_fail "upload $2 differs"
	[ "$(stat -c %U "$RD/$2")" = "$SSHD_USER" ] || ca_fail "owner"

	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 300 \
	    -T "$1" "$CA_URL/connections/$SID/files/content?path=$RD/$3")
	[ "$st" = 201 ] || ca_fail "PUT $3: $st $(cat "$W/body")"
	[ "$(sha "$RD/$3")" = "$(sha "$1")" ] || ca_fail "PUT $3 differs"
}

atf_test_case transfer cleanup
transfer_head()
{
	atf_set descr "download and upload of 0 B, 70 KB and 100 MiB files" \
	    "arrive intact"
	atf_set timeout 600
}
transfer_body()
{
	ssh_up 'max file size none'
	remote_dir
	ssh_open
	: >"$W/f0"
	head -c 70001 /dev/urandom >"$W/f1"
	head -c $((100 * 1024 * 1024)) /dev/urandom >"$W/f100"
	for f in f0 f1 f100; do
		cp "$W/$f" "$RD/$f" && chown "$SSHD_USER" "$RD/$f" ||
		    atf_fail "cp $f"
	done
	for f in f0 f1 f100; do
		check_download "$f" "$W/$f"
	done
	for f in f0 f1 f100; do
		check_upload "$W/$f" "up-$f" "put-$f"
	done

	api GET "/connections/$SID/files/content?path=$RD/missing"
	expect_error 404 not_found
	api POST "/connections/$SID/download" '{"path": 5}'
	expect_error 400 invalid_request

	# Memory: the daemon's processes did not keep the file.
	for p in $CA_PID $(ca_children); do
		kb=$(ca_status "$p" VmHWM | awk '{ print $1 }')
		echo "pid $p $(ca_cmdline "$p"): peak RSS $kb kB"
	done
	api_expect 200 GET "/connections/$SID"
	ca_stop
}
transfer_cleanup()
{
	ssh_cleanup
}

atf_test_case upload_interrupted cleanup
upload_interrupted_head()
{
	atf_set descr "an upload cut mid-body leaves no file under its name"
	atf_set timeout 120
}
upload_interrupted_body()
{
	ssh_up 'max file size none'
	remote_dir
	ssh_open
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$W/big"

	ca_bg curl -s -o /dev/null --limit-rate 1M -F "path=$RD" \
	    -F "file=@$W/big;filename=cut-post" \
	    "$CA_URL/connections/$SID/upload"
	p1=$BG_PID
	ca_bg curl -s -o /dev/null --limit-rate 1M -T "$W/big" \
	    "$CA_URL/connections/$SID/files/content?path=$RD/cut-put"
	p2=$BG_PID
	sleep 3
	ca_bg_kill "$p1"
	ca_bg_kill "$p2"

	# Give the worker time to notice and clean up.
	sleep 3
	ls -la "$RD"
	[ -e "$RD/cut-post" ] && ca_fail "cut multipart upload left" \
	    "$(stat -c %s "$RD/cut-post") bytes under its name"
	[ -e "$RD/cut-put" ] && ca_fail "cut PUT upload left" \
	    "$(stat -c %s "$RD/cut-put") bytes under its name"

	# The session is still usable.
	head -c 1000 /dev/urandom >"$W/small"
	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 60 \
	    -T "$W/small" "$CA_URL/connections/$SID/files/content?path=$RD/ok")
	[ "$st" = 201 ] || ca_fail "upload after a cut one: $st" \
	    "$(cat "$W/body")"
	[ "$(sha "$RD/ok")" = "$(sha "$W/small")" ] || ca_fail "ok differs"
	ca_stop
}
upload_interrupted_cleanup()
{
	ssh_cleanup
}

atf_test_case upload_refused cleanup
upload_refused_head()
{
	atf_set descr "an upload the server refuses at once gets its own" \
	    "error, also while the client is still sending"
	atf_set timeout 300
}
upload_refused_body()
{
	ssh_up 'max file size none'
	remote_dir
	ssh_open
	# The worker answers and closes the data channel while the front
	# still has megabytes to send it: the answer must not be lost.
	head -c $((16 * 1024 * 1024)) /dev/urandom >"$W/big"
	n=0
	while [ $n -lt 5 ]; do
		st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 60 \
		    -T "$W/big" \
		    "$CA_URL/connections/$SID/files/content?path=$RD/no/x$n")
		[ "$st" = 404 ] || ca_fail "PUT into a missing directory," \
		    "try $n: $st $(cat "$W/body")"
		[ "$(jget code)" = not_found ] || ca_fail "PUT code $(jget code)"
		st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 60 \
		    -F "path=$RD/no/y$n" -F "file=@$W/big;filename=y$n" \
		    "$CA_URL/connections/$SID/upload")
		[ "$st" = 404 ] || ca_fail "POST into a missing directory," \
		    "try $n: $st $(cat "$W/body")"
		n=$((n + 1))
	done
	[ -e "$RD/no" ] && ca_fail "$RD/no was made"
	api_expect 200 POST "/connections/$SID/execute" '{"command": "echo ok"}'
	ca_stop
}
upload_refused_cleanup()
{
	ssh_cleanup
}

atf_test_case session_limit cleanup
session_limit_head()
{
	atf_set descr "40 opens at once against max sessions 20: exactly" \
	    "20 succeed"
	atf_set timeout 300
}
session_limit_body()
{
	ssh_up 'max sessions 20' 'connect timeout 60s'
	json=$(json_pw)
	pids=
	i=0
	while [ $i -lt 40 ]; do
		curl -s -o "$W/open.$i" -w '%{http_code}\n' --max-time 120 \
		    -H 'Content-Type: application/json' --data-binary "$json" \
		    "$CA_URL/connections/ssh" >"$W/status.$i" &
		pids="$pids $!"
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p"
	done
	ok=$(cat "$W"/status.* | grep -c '^201$')
	busy=$(cat "$W"/status.* | grep -c '^503$')
	echo "201: $ok, 503: $busy, others: $(cat "$W"/status.* |
	    grep -v '^201$' | grep -v '^503$' | tr '\n' ' ')"
	[ "$ok" -eq 20 ] && [ "$busy" -eq 20 ] ||
	    ca_fail "$ok opened and $busy refused, expected 20 and 20"
	for i in $(seq 0 39); do
		if [ "$(cat "$W/status.$i")" = 503 ]; then
			cp "$W/open.$i" "$W/body"
			STATUS=503
			expect_error 503 too_many_sessions
			break
		fi
	done
	api_expect 200 GET /health
	[ "$(jget sessions)" = 20 ] || ca_fail "health: $(cat "$W/body")"
	wait_workers 20 20 || ca_fail "$(ca_workers | wc -l) workers"

	# One closed, one more fits.
	for i in $(seq 0 39); do
		if [ "$(cat "$W/status.$i")" = 201 ]; then
			id=$(jq -r .session_id "$W/open.$i")
			break
		fi
	done
	api_expect 200 DELETE "/connections/$id"
	ssh_open
	api POST /connections/ssh "$json"
	expect_error 503 too_many_sessions
	ca_stop
}
session_limit_cleanup()
{
	ssh_cleanup
}

atf_test_case worker_crash cleanup
worker_crash_head()
{
	atf_set descr "a worker killed by SIGSEGV ends its session only"
	atf_set timeout 120
}
worker_crash_body()
{
	ssh_up
	ssh_open
	a=$SID
	wait_workers 20 1 || ca_fail "workers: $(ca_workers)"
	wa=$(ca_workers)
	ssh_open
	b=$SID
	wait_workers 20 2 || ca_fail "workers: $(ca_workers)"
	wb=$(ca_workers | grep -vx "$wa")
	front=$(ca_front)

	kill -SEGV "$wa"
	wait_workers 30 1 || ca_fail "workers after the crash: $(ca_workers)"
	[ "$(ca_workers)" = "$wb" ] || ca_fail "the wrong worker went"
	api_expect 200 POST "/connections/$b/execute" '{"command": "echo b"}'
	[ "$(jget stdout)" = b ] || ca_fail "b: $(cat "$W/body")"
	api GET "/connections/$a"
	expect_error 404 session_not_found
	ca_alive "$CA_PID" || ca_fail "the parent died"
	[ "$(ca_front)" = "$front" ] || ca_fail "the front changed"
	grep -q "$wa" "$CA_LOG" || ca_fail "the crash was not logged"
	ca_stop
}
worker_crash_cleanup()
{
	ssh_cleanup
}

# Check the sandbox of the only worker; $1 is "fork" or "exec", how the
# configuration says workers start.
check_worker()
{
	mode=$1
	wait_workers 20 1 || ca_fail "workers: $(ca_workers)"
	w=$(ca_workers)
	case $(ca_cmdline "$w") in
	*"ssh worker 127.0.0.1:$SSHD_PORT"*) ;;
	*) ca_fail "worker title: $(ca_cmdline "$w")" ;;
	esac
	# Forked or exec'd, the parent reaps it.
	[ "$(ca_status "$w" PPid)" = "$CA_PID" ] ||
	    ca_fail "worker parent $(ca_status "$w" PPid), not $CA_PID"
	[ "$(ca_status "$w" Seccomp)" = 2 ] ||
	    ca_fail "worker Seccomp: $(ca_status "$w" Seccomp)"
	[ "$(ca_status "$w" NoNewPrivs)" = 1 ] ||
	    ca_fail "worker NoNewPrivs: $(ca_status "$w" NoNewPrivs)"
	uid=$(id -u "$CA_USER")
	set -- $(ca_status "$w" Uid)
	[ "$1 $2 $3 $4" = "$uid $uid $uid $uid" ] ||
	    ca_fail "worker uids $*, expected $uid"
	[ "$(ca_status "$w" CapEff)" = 0000000000000000 ] ||
	    ca_fail "worker CapEff $(ca_status "$w" CapEff)"
	[ "$(readlink "/proc/$w/root")" = "$CA_CHROOT" ] ||
	    ca_fail "worker root $(readlink "/proc/$w/root")"
	# The front, the worker and, when workers fork, the spawner.
	sp=$(ca_children_like spawner)
	if [ "$mode" = fork ]; then
		[ "$(echo "$sp" | wc -w)" -eq 1 ] ||
		    ca_fail "spawners: '$sp', expected one"
		[ "$(ca_children | wc -l)" -eq 3 ] ||
		    ca_fail "children: $(ca_children | tr '\n' ' ')"
	else
		[ -z "$sp" ] || ca_fail "a spawner runs with workers exec: $sp"
		[ "$(ca_children | wc -l)" -eq 2 ] ||
		    ca_fail "children: $(ca_children | tr '\n' ' ')"
	fi
	# Still works after the checks.
	api_expect 200 POST "/connections/$SID/execute" '{"command": "id -un"}'
	[ "$(jget stdout)" = "$SSHD_USER" ] || ca_fail "id: $(cat "$W/body")"
}

# Print where libc is mapped in the worker of session $1: its layout.
libc_base()
{
	awk '/\/libc\.so/ { split($1, a, "-"); print a[1]; exit }' \
	    "/proc/$(ca_worker_of "$1")/maps"
}

atf_test_case worker_sandbox cleanup
worker_sandbox_head()
{
	atf_set descr "workers forked by the spawner run under seccomp with" \
	    "no_new_privs, as the configured user in the chroot when root"
	atf_set timeout 120
}
worker_sandbox_body()
{
	ssh_up
	ssh_open
	check_worker fork
	ca_stop
}
worker_sandbox_cleanup()
{
	ssh_cleanup
}

atf_test_case worker_exec cleanup
worker_exec_head()
{
	atf_set descr "with workers exec, a worker is a fresh exec of the" \
	    "daemon, as sandboxed, and logs in with a key and passphrase"
	atf_set timeout 120
}
worker_exec_body()
{
	ssh_up "workers exec"
	ssh_open
	check_worker exec
	api_expect 201 POST /connections/ssh \
	    "$(json_key "$SSHD_KEY_PP" "$SSHD_KEY_PASSPHRASE")"
	k=$(jget session_id)
	api_expect 200 POST "/connections/$k/execute" '{"command": "echo k"}'
	[ "$(jget stdout)" = k ] || ca_fail "execute: $(cat "$W/body")"
	# Each exec'd worker has its own layout.
	[ "$(libc_base "$SID")" != "$(libc_base "$k")" ] ||
	    ca_fail "two exec'd workers have libc at $(libc_base "$k")"
	ca_stop
}
worker_exec_cleanup()
{
	ssh_cleanup
}

atf_test_case spawner_batch cleanup
spawner_batch_head()
{
	atf_set descr "the workers one spawner forks share its layout; after" \
	    "'workers fork 2' a new spawner, with a new layout, takes over"
	atf_set timeout 120
	atf_set require.user root
}
spawner_batch_body()
{
	ssh_up "workers fork 2"
	ssh_open; a=$SID
	sp1=$(ca_children_like spawner)
	ssh_open; b=$SID
	ssh_open; c=$SID
	sp2=$(ca_children_like spawner)
	[ -n "$sp1" ] && [ -n "$sp2" ] && [ "$sp1" != "$sp2" ] ||
	    ca_fail "spawners: '$sp1', then '$sp2'"
	# The first one retired once it had answered: it is gone.
	ca_wait_gone "$sp1" 50 || ca_fail "spawner $sp1 did not retire"
	la=$(libc_base "$a") lb=$(libc_base "$b") lc=$(libc_base "$c")
	echo "libc at $la, $lb, $lc"
	[ -n "$la" ] && [ "$la" = "$lb" ] ||
	    ca_fail "one spawner's workers differ: $la, $lb"
	[ "$lc" != "$la" ] || ca_fail "a new spawner kept the layout $la"
	for s in $a $b $c; do
		api_expect 200 POST "/connections/$s/execute" \
		    '{"command": "echo ok"}'
		[ "$(jget stdout)" = ok ] || ca_fail "execute on $s"
	done
	grep -q "spawner $sp1 .*a new one starts" "$CA_LOG" &&
	    ca_fail "a retirement was logged as a death:" \
	    "$(grep "spawner" "$CA_LOG")"
	n=$("$CA_CTL" -s "$W/ctl.sock" -j show stats | jq -r .spawner_deaths)
	[ "$n" = 0 ] || ca_fail "spawner deaths: $n"
	ca_stop
}
spawner_batch_cleanup()
{
	ssh_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case login_password
	atf_add_test_case login_key
	atf_add_test_case open_errors
	atf_add_test_case hostkey_change
	atf_add_test_case hostkey_strict
	atf_add_test_case sessions
	atf_add_test_case expiry
	atf_add_test_case execute
	atf_add_test_case browse
	atf_add_test_case transfer
	atf_add_test_case upload_interrupted
	atf_add_test_case upload_refused
	atf_add_test_case session_limit
	atf_add_test_case worker_crash
	atf_add_test_case worker_sandbox
	atf_add_test_case worker_exec
	atf_add_test_case spawner_batch
}
