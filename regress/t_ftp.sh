#! /usr/bin/env atf-sh
# FTP and FTPS sessions against private vsftpd servers on loopback:
# logins and their failures, certificates, listings of awkward names,
# transfers checked on the server's disk, interrupted uploads, paths
# that try to smuggle commands, a server that drops idle sessions, and
# the workers' sandbox.

. "$(atf_get_srcdir)/lib/common.sh"
. "$(atf_get_srcdir)/lib/ftpd.sh"

# Start vsftpd (TLS mode $1: "", explicit or implicit), then coreastrad
# trusting its CA, with the extra configuration lines given.
ftp_up()
{
	_tls=$1
	shift
	ftpd_start "$PWD/ftpd" $_tls || atf_fail "vsftpd did not start"
	if [ -n "$FTPD_CA" ]; then
		ca_setup "ftps ca file \"$FTPD_CA\"" "$@"
	else
		ca_setup "$@"
	fi
	ca_start
}

# Clean up after a test: the daemon, vsftpd and its home directory.
ftp_cleanup()
{
	ca_cleanup
	ftpd_stop "$PWD/ftpd"
	return 0
}

# Print the JSON that opens a session: TLS mode $1 (default none),
# password $2, host $3.
json_ftp()
{
	jq -cn --arg u "$FTPD_USER" --arg p "${2-$FTPD_PASS}" \
	    --argjson port "$FTPD_PORT" --arg tls "${1:-none}" \
	    --arg h "${3:-127.0.0.1}" \
	    '{host: $h, port: $port, username: $u, password: $p, tls: $tls}'
}

# Fail unless the last error sentence matches extended regex $1, any case.
expect_message()
{
	jget error | grep -Eqi -- "$1" ||
	    ca_fail "error '$(jget error)' does not match '$1'"
}

# Run shell command $1 as the FTP user.
as_user()
{
	runuser -u "$FTPD_USER" -- sh -c "$1"
}

# Print $1 percent-encoded for a query string.
urlenc()
{
	jq -rn --arg s "$1" '$s | @uri'
}

# Print the number of lines in the vsftpd protocol log (made on the
# first connection).
ftpd_lines()
{
	if [ -f "$FTPD_DIR/vsftpd.log" ]; then
		wc -l <"$FTPD_DIR/vsftpd.log"
	else
		echo 0
	fi
}

# Print the FTP commands vsftpd logged after line $1.
ftpd_commands_since()
{
	tail -n +"$(($1 + 1))" "$FTPD_DIR/vsftpd.log" |
	    sed -n 's/.*FTP command: Client "[^"]*", "\(.*\)"$/\1/p'
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

# Wait up to $1 tenths of a second for session $SID to be idle.
wait_ready()
{
	_n=0
	while [ $_n -lt "$1" ]; do
		api GET "/connections/$SID"
		[ "$STATUS" = 200 ] && [ "$(jget state)" = ready ] && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# Fail if the password shows up in the daemon's log.
no_secrets_logged()
{
	grep -qF -- "$FTPD_PASS" "$CA_LOG" &&
	    ca_fail "the FTP password appears in the daemon log"
	return 0
}

# Fail if an upload's temporary file is left in directory $1.
no_temp_files()
{
	_left=$(find "$1" -maxdepth 1 -name '.coreastra-upload-*' | head -5)
	[ -z "$_left" ] || ca_fail "temporary files left: $_left"
}

# Download $FTPD_HOME/$1 both ways and compare with local file $2.
check_download()
{
	_q=$(urlenc "$FTPD_HOME/$1")
	_t=${CA_CURL_TIMEOUT:-300}
	st=$(curl -s -o "$W/dl" -D "$W/headers" -w '%{http_code}' \
	    --max-time "$_t" "$CA_URL/connections/$SID/files/content?path=$_q")
	[ "$st" = 200 ] || ca_fail "GET content $1: $st $(head -c 300 "$W/dl")"
	[ "$(sha "$W/dl")" = "$(sha "$2")" ] || ca_fail "GET $1 differs"
	[ "$(header Content-Length)" = "$(stat -c %s "$2")" ] ||
	    ca_fail "GET $1 Content-Length '$(header Content-Length)'"
	st=$(curl -s -o "$W/dl" -D "$W/headers" -w '%{http_code}' \
	    --max-time "$_t" -H 'Content-Type: application/json' \
	    --data-binary "$(jq -cn --arg p "$FTPD_HOME/$1" '{path: $p}')" \
	    "$CA_URL/connections/$SID/download")
	[ "$st" = 200 ] ||
	    ca_fail "POST download $1: $st $(head -c 300 "$W/dl")"
	[ "$(sha "$W/dl")" = "$(sha "$2")" ] || ca_fail "POST $1 differs"
	_cd=$(header Content-Disposition)
	case $_cd in
	*"$1"*|*"$(urlenc "$1")"*) ;;
	*) ca_fail "$1: Content-Disposition: $_cd" ;;
	esac
	rm -f "$W/dl"
}

# Upload local file $1 as $FTPD_HOME/$2 by multipart POST and as
# $FTPD_HOME/$3 by PUT; check both on the server's disk.
check_upload()
{
	_t=${CA_CURL_TIMEOUT:-300}
	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time "$_t" \
	    -H 'Expect:' -F "path=$FTPD_HOME" -F "file=@$1;filename=$2" \
	    "$CA_URL/connections/$SID/upload")
	[ "$st" = 201 ] || ca_fail "upload $2: $st $(cat "$W/body")"
	[ "$(jget path)" = "$FTPD_HOME/$2" ] ||
	    ca_fail "upload path $(jget path)"
	[ "$(jget size)" = "$(stat -c %s "$1")" ] ||
	    ca_fail "upload size $(jget size)"
	[ "$(sha "$FTPD_HOME/$2")" = "$(sha "$1")" ] ||
	    ca_fail "upload $2 differs on the server"
	[ "$(stat -c %U "$FTPD_HOME/$2")" = "$FTPD_USER" ] ||
	    ca_fail "$2 owned by $(stat -c %U "$FTPD_HOME/$2")"

	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time "$_t" \
	    -H 'Expect:' -T "$1" \
	    "$CA_URL/connections/$SID/files/content?path=$FTPD_HOME/$3")
	[ "$st" = 201 ] || ca_fail "PUT $3: $st $(cat "$W/body")"
	[ "$(jget size)" = "$(stat -c %s "$1")" ] ||
	    ca_fail "PUT size $(jget size)"
	[ "$(sha "$FTPD_HOME/$3")" = "$(sha "$1")" ] ||
	    ca_fail "PUT $3 differs on the server"
}

# Transfers of 0 B, 70 KB and 100 MiB both ways in TLS mode $1.
transfers()
{
	ftp_up "$1" 'max file size none'
	ca_open ftp "$(json_ftp "$1")"
	: >"$W/f0"
	head -c 70001 /dev/urandom >"$W/f1"
	head -c $((100 * 1024 * 1024)) /dev/urandom >"$W/f100"
	for f in f0 f1 f100; do
		cp "$W/$f" "$FTPD_HOME/$f" &&
		    chown "$FTPD_USER" "$FTPD_HOME/$f" || atf_fail "cp $f"
	done
	for f in f0 f1 f100; do
		check_download "$f" "$W/$f"
	done
	for f in f0 f1 f100; do
		check_upload "$W/$f" "up-$f" "put-$f"
	done
	no_temp_files "$FTPD_HOME"

	# Each data connection after an empty upload still gets in.
	for i in 1 2 3 4 5; do
		check_upload "$W/f0" "again-$i" "again-put-$i"
		api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	done

	api GET "/connections/$SID/files/content?path=$FTPD_HOME/missing"
	expect_error 404 not_found
	api GET "/connections/$SID/files/content?path=$FTPD_HOME"
	expect_error 400 invalid_request

	for p in $CA_PID $(ca_children); do
		kb=$(ca_status "$p" VmHWM | awk '{ print $1 }')
		echo "pid $p $(ca_cmdline "$p"): peak RSS $kb kB"
	done
	api_expect 200 GET "/connections/$SID"
	ca_stop
}

atf_test_case login cleanup
login_head()
{
	atf_set descr "login returns the session; a wrong password is 401" \
	    "at open time; execute is 501"
	atf_set timeout 120
}
login_body()
{
	ftp_up ""
	api_expect 201 POST /connections/ftp \
	    "$(json_ftp | jq -c '.name = "plain"')"
	for f in session_id type host port username name state created_at \
	    last_activity expires_at time_remaining tls; do
		[ "$(jget "has(\"$f\")")" = true ] ||
		    ca_fail "no $f in $(cat "$W/body")"
	done
	[ "$(jget type)" = ftp ] || ca_fail "type $(jget type)"
	[ "$(jget tls)" = none ] || ca_fail "tls $(jget tls)"
	[ "$(jget name)" = plain ] || ca_fail "name $(jget name)"
	[ "$(jget port)" = "$FTPD_PORT" ] || ca_fail "port $(jget port)"
	[ "$(jget username)" = "$FTPD_USER" ] ||
	    ca_fail "username $(jget username)"
	grep -qF -- "$FTPD_PASS" "$W/body" &&
	    ca_fail "the answer shows the password"
	SID=$(jget session_id)
	wait_workers 20 1 || ca_fail "workers: $(ca_workers)"

	api POST /connections/ftp "$(json_ftp none not-the-password)"
	expect_error 401 auth_failed
	[ "$(jget error)" = "Authentication failed" ] ||
	    ca_fail "401 sentence: $(jget error)"
	grep -q 'PASS' "$FTPD_DIR/vsftpd.log" ||
	    ca_fail "vsftpd never saw a login"

	api POST "/connections/$SID/execute" '{"command": "id"}'
	expect_error 501 not_supported

	api POST /connections/ftp "$(json_ftp | jq -c '.passive = false')"
	expect_error 400 invalid_request
	api POST /connections/ftp "$(json_ftp | jq -c '.tls = "maybe"')"
	expect_error 400 invalid_request

	wait_workers 50 1 || ca_fail "workers left: $(ca_workers)"
	api_expect 200 GET /health
	[ "$(jget sessions)" = 1 ] || ca_fail "health: $(cat "$W/body")"
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	api_expect 200 DELETE "/connections/$SID"
	wait_workers 50 0 || ca_fail "worker outlived its session"
	no_secrets_logged
	ca_stop
}
login_cleanup()
{
	ftp_cleanup
}

atf_test_case ftps_explicit cleanup
ftps_explicit_head()
{
	atf_set descr "AUTH TLS against the right CA works; plain FTP to" \
	    "an FTPS-only server is refused saying so"
	atf_set timeout 120
}
ftps_explicit_body()
{
	ftp_up explicit
	ca_open ftp "$(json_ftp explicit)"
	[ "$(jget tls)" = explicit ] || ca_fail "tls $(jget tls)"
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	printf 'over tls\n' >"$W/small"
	check_upload "$W/small" tls-up tls-put
	check_download tls-up "$W/small"
	grep -q '"AUTH TLS"' "$FTPD_DIR/vsftpd.log" ||
	    ca_fail "no AUTH TLS in the vsftpd log"

	# The certificate names localhost too.
	api_expect 201 POST /connections/ftp \
	    "$(json_ftp explicit "$FTPD_PASS" localhost)"

	api POST /connections/ftp "$(json_ftp explicit not-the-password)"
	expect_error 401 auth_failed

	# The server refuses logins without TLS: not a password problem.
	api POST /connections/ftp "$(json_ftp none)"
	expect_error 502 connection_failed
	expect_message 'tls|ssl|encrypt'

	# Implicit TLS against an explicit server fails cleanly.
	api POST /connections/ftp "$(json_ftp implicit)"
	expect_error 502 connection_failed

	api POST /connections/ftp "$(json_ftp explicit | jq -c \
	    '.insecure = true')"
	expect_error 400 invalid_request
	wait_workers 50 2 || ca_fail "workers: $(ca_workers)"
	no_secrets_logged
	ca_stop
}
ftps_explicit_cleanup()
{
	ftp_cleanup
}

atf_test_case ftps_wrong_ca cleanup
ftps_wrong_ca_head()
{
	atf_set descr "FTPS against a CA that did not sign the server is" \
	    "refused, naming the certificate"
	atf_set timeout 120
}
ftps_wrong_ca_body()
{
	ftpd_start "$PWD/ftpd" explicit || atf_fail "vsftpd did not start"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$PWD/other.key" -out "$PWD/other.crt" -days 2 \
	    -subj "/CN=some other CA" >/dev/null 2>&1 ||
	    atf_fail "openssl: cannot make the other CA"
	ca_setup "ftps ca file \"$PWD/other.crt\""
	ca_start
	n0=$(ftpd_lines)

	api POST /connections/ftp "$(json_ftp explicit)"
	expect_error 502 connection_failed
	expect_message 'certificate'
	echo "wrong CA: $(jget error)"
	api POST /connections/ftp "$(json_ftp explicit "$FTPD_PASS" localhost)"
	expect_error 502 connection_failed
	expect_message 'certificate'

	# No credentials went to an unverified server.
	ftpd_commands_since "$n0" | grep -E '^(USER|PASS)' &&
	    ca_fail "credentials sent to an unverified server"
	api POST /connections/ftp "$(json_ftp explicit | jq -c \
	    '.insecure = true')"
	expect_error 400 invalid_request
	wait_workers 50 0 || ca_fail "workers left: $(ca_workers)"
	ca_stop
}
ftps_wrong_ca_cleanup()
{
	ftp_cleanup
}

atf_test_case ftps_implicit cleanup
ftps_implicit_head()
{
	atf_set descr "implicit FTPS: listing and transfers"
	atf_set timeout 120
}
ftps_implicit_body()
{
	ftp_up implicit 'connect timeout 3s'
	ca_open ftp "$(json_ftp implicit)"
	[ "$(jget tls)" = implicit ] || ca_fail "tls $(jget tls)"
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	head -c 300000 /dev/urandom >"$W/small"
	check_upload "$W/small" imp-up imp-put
	check_download imp-up "$W/small"

	# AUTH TLS to a server that waits for a TLS hello: both wait.
	api POST /connections/ftp "$(json_ftp explicit)"
	case $STATUS in
	502) expect_error 502 connection_failed ;;
	*) expect_error 504 timeout ;;
	esac
	ca_stop
}
ftps_implicit_cleanup()
{
	ftp_cleanup
}

atf_test_case browse cleanup
browse_head()
{
	atf_set descr "listing: directories, files, links, spaces, UTF-8," \
	    "leading dashes, dot files, missing paths"
	atf_set timeout 120
}
browse_body()
{
	ftp_up ""
	as_user "cd '$FTPD_HOME' && mkdir 'a dir' sub .dotdir -- -ddir &&
	    printf hello >'with space.txt' &&
	    printf utf >'héllo-ünï ☃.txt' &&
	    printf dash >-rf && printf help >--help && printf dot >.hidden &&
	    ln -s 'with space.txt' flink && ln -s sub dlink &&
	    ln -s /nonexistent dangling && printf in >'a dir/inner'" ||
	    atf_fail "cannot populate $FTPD_HOME"
	ftp_open

	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	[ "$(jget path)" = "$FTPD_HOME" ] || ca_fail "path: $(jget path)"
	echo "entries: $(jget '[.entries[].name] | join(" | ")')"
	[ "$(jget '.entries | length')" = 12 ] ||
	    ca_fail "12 entries expected: $(cat "$W/body")"
	jq -e '[.entries[].name] | index(".") == null and
	    index("..") == null' "$W/body" >/dev/null ||
	    ca_fail ". or .. listed"
	for n in 'a dir' sub -ddir .dotdir; do
		[ "$(jget ".entries[] | select(.name == \"$n\") | .type")" = \
		    dir ] || ca_fail "'$n' is not a dir: $(cat "$W/body")"
	done
	for n in 'with space.txt' 'héllo-ünï ☃.txt' -rf --help .hidden; do
		[ "$(jget ".entries[] | select(.name == \"$n\") | .type")" = \
		    file ] || ca_fail "'$n' is not a file: $(cat "$W/body")"
	done
	e='.entries[] | select(.name == "with space.txt")'
	[ "$(jget "$e | .size")" = 5 ] || ca_fail "size: $(cat "$W/body")"
	for f in name type size mtime mode permissions owner group; do
		[ "$(jget "$e | has(\"$f\")")" = true ] ||
		    ca_fail "no $f in $(jget "$e")"
	done
	case $(jget "$e | .permissions") in
	rw-r--r--) ;;
	*) ca_fail "permissions $(jget "$e | .permissions")" ;;
	esac
	[ "$(jget "$e | .mode")" = 0644 ] || ca_fail "mode $(jget "$e | .mode")"
	for l in 'flink with space.txt' 'dlink sub' 'dangling /nonexistent'; do
		n=${l%% *}
		t=${l#* }
		e=".entries[] | select(.name == \"$n\")"
		[ "$(jget "$e | .type")" = link ] ||
		    ca_fail "$n type: $(jget "$e")"
		[ "$(jget "$e | .link_target")" = "$t" ] ||
		    ca_fail "$n target: $(jget "$e")"
	done

	# Names that need encoding, as directories and as files.
	api_expect 200 GET \
	    "/connections/$SID/files?path=$(urlenc "$FTPD_HOME/a dir")"
	[ "$(jget '[.entries[].name] | join(",")')" = inner ] ||
	    ca_fail "a dir: $(cat "$W/body")"
	api_expect 200 GET \
	    "/connections/$SID/files?path=$(urlenc "$FTPD_HOME/-ddir")"
	[ "$(jget '.entries | length')" = 0 ] || ca_fail "-ddir not empty"
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME/dlink"
	for f in 'with space.txt' 'héllo-ünï ☃.txt' -rf --help .hidden; do
		cp "$FTPD_HOME/$f" "$W/want" || atf_fail "cp $f"
		check_download "$f" "$W/want"
	done

	api GET "/connections/$SID/files?path=$FTPD_HOME/missing"
	expect_error 404 not_found
	api GET "/connections/$SID/files?path=$FTPD_HOME/missing/deeper"
	expect_error 404 not_found
	api GET "/connections/$SID/files?path=$FTPD_HOME/-rf"
	case $STATUS in
	400|404) ;;
	*) ca_fail "listing a file: $STATUS $(cat "$W/body")" ;;
	esac
	# The login directory is the default for relative paths.
	api_expect 200 GET "/connections/$SID/files?path=sub/../a%20dir"
	[ "$(jget path)" = "$FTPD_HOME/a dir" ] ||
	    ca_fail "relative path: $(jget path)"
	ca_stop
}
browse_cleanup()
{
	ftp_cleanup
}

atf_test_case transfer cleanup
transfer_head()
{
	atf_set descr "FTP: 0 B, 70 KB and 100 MiB files arrive intact both" \
	    "ways"
	atf_set timeout 600
}
transfer_body()
{
	transfers ""
}
transfer_cleanup()
{
	ftp_cleanup
}

atf_test_case transfer_ftps cleanup
transfer_ftps_head()
{
	atf_set descr "FTPS: 0 B, 70 KB and 100 MiB files arrive intact" \
	    "both ways, and data connections keep resuming TLS"
	atf_set timeout 600
}
transfer_ftps_body()
{
	transfers explicit
}
transfer_ftps_cleanup()
{
	ftp_cleanup
}

atf_test_case upload_interrupted cleanup
upload_interrupted_head()
{
	atf_set descr "uploads cut mid-body leave no file under their name" \
	    "and no temporary file"
	atf_set timeout 180
}
upload_interrupted_body()
{
	ftp_up "" 'max file size none'
	ftp_open
	head -c $((20 * 1024 * 1024)) /dev/urandom >"$W/big"

	ca_bg curl -s -o /dev/null -H 'Expect:' --limit-rate 1M -T "$W/big" \
	    "$CA_URL/connections/$SID/files/content?path=$FTPD_HOME/cut-put"
	p1=$BG_PID
	sleep 3
	ls -la "$FTPD_HOME"
	[ -n "$(find "$FTPD_HOME" -name '.coreastra-upload-*' -size +0)" ] ||
	    ca_fail "the upload did not reach the server"
	ca_bg_kill "$p1"
	wait_ready 150 || ca_fail "session still busy after a cut PUT"

	ca_bg curl -s -o /dev/null -H 'Expect:' --limit-rate 1M \
	    -F "path=$FTPD_HOME" -F "file=@$W/big;filename=cut-post" \
	    "$CA_URL/connections/$SID/upload"
	p2=$BG_PID
	sleep 3
	ca_bg_kill "$p2"
	wait_ready 150 || ca_fail "session still busy after a cut POST"

	# A raw request whose body stops short, then the end of the stream.
	{
		printf 'PUT /connections/%s/files/content?path=%s/cut-raw' \
		    "$SID" "$FTPD_HOME"
		printf ' HTTP/1.1\r\nHost: 127.0.0.1\r\n'
		printf 'Content-Length: 1000000\r\n\r\n'
		head -c 300000 /dev/urandom
		sleep 1
	} | timeout 30 nc -N 127.0.0.1 "$CA_PORT" >"$W/raw.out"
	wait_ready 150 || ca_fail "session still busy after a cut raw PUT"

	ls -la "$FTPD_HOME"
	for f in cut-put cut-post cut-raw; do
		[ -e "$FTPD_HOME/$f" ] && ca_fail "cut upload left" \
		    "$(stat -c %s "$FTPD_HOME/$f") bytes under $f"
	done
	no_temp_files "$FTPD_HOME"
	ftpd_commands_since 0 >"$W/cmds"
	n=$(grep -c '^STOR \.coreastra-upload-' "$W/cmds")
	[ "$n" = 3 ] || ca_fail "$n temporary files stored, expected 3"
	n=$(grep -c '^DELE .*/\.coreastra-upload-' "$W/cmds")
	[ "$n" = 3 ] || ca_fail "$n temporary files deleted, expected 3"
	grep -E '^(RNFR|RNTO) ' "$W/cmds" && ca_fail "a cut upload was renamed"

	# The session is still usable.
	head -c 1000 /dev/urandom >"$W/small"
	check_upload "$W/small" ok-post ok-put
	no_temp_files "$FTPD_HOME"
	ca_stop
}
upload_interrupted_cleanup()
{
	ftp_cleanup
}

atf_test_case crlf cleanup
crlf_head()
{
	atf_set descr "paths with CR or LF are refused before any FTP" \
	    "command"
	atf_set timeout 120
}
crlf_body()
{
	ftp_up ""
	as_user "printf keep >'$FTPD_HOME/victim'" || atf_fail "victim"
	ftp_open
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	wait_ready 50 || ca_fail "session busy"
	n0=$(ftpd_lines)
	H=$FTPD_HOME
	inj="DELE $H/victim"
	q=$(urlenc "$inj")
	mk=$(urlenc "MKD $H/evil")

	for sep in %0d%0a %0a %0d; do
		api GET "/connections/$SID/files?path=$H/x${sep}$q"
		expect_error 400 invalid_request
		api GET "/connections/$SID/files/content?path=$H/x${sep}$q"
		expect_error 400 invalid_request
		api PUT "/connections/$SID/files/content?path=$H/x${sep}$mk" \
		    body
		expect_error 400 invalid_request
	done
	api PUT "/connections/$SID/files/content?path=$H%0d%0a$mk%0d%0a" body
	expect_error 400 invalid_request
	for sep in '\r\n' '\n' '\r'; do
		api POST "/connections/$SID/download" \
		    "{\"path\": \"$H/x$sep$inj\"}"
		expect_error 400 invalid_request
	done
	printf '%s\r\n%s' "$H" "MKD $H/evil" >"$W/crlfpath"
	st=$(curl -s -o "$W/body" -w '%{http_code}' --max-time 30 \
	    -F "path=<$W/crlfpath" -F "file=@$W/crlfpath;filename=f" \
	    "$CA_URL/connections/$SID/upload")
	[ "$st" = 400 ] || ca_fail "multipart path with CR LF: $st" \
	    "$(cat "$W/body")"
	# A raw part header whose file name holds CR LF.
	{
		printf -- '--XyZ\r\nContent-Disposition: form-data; name="path"'
		printf '\r\n\r\n%s\r\n' "$H"
		printf -- '--XyZ\r\nContent-Disposition: form-data;'
		printf ' name="file"; filename="a\r\n%s"\r\n\r\n' "$inj"
		printf 'body\r\n--XyZ--\r\n'
	} >"$W/raw.body"
	{
		printf 'POST /connections/%s/upload HTTP/1.1\r\n' "$SID"
		printf 'Host: 127.0.0.1\r\nConnection: close\r\n'
		printf 'Content-Type: multipart/form-data; boundary=XyZ\r\n'
		printf 'Content-Length: %s\r\n\r\n' "$(wc -c <"$W/raw.body")"
		cat "$W/raw.body"
	} | timeout 30 nc -N 127.0.0.1 "$CA_PORT" >"$W/raw.out"
	echo "raw CR LF file name: $(head -n 1 "$W/raw.out")"
	head -n 1 "$W/raw.out" | grep -q ' 4[0-9][0-9] ' ||
	    ca_fail "raw CR LF file name: $(head -c 300 "$W/raw.out")"

	wait_ready 50 || ca_fail "session busy"
	echo "commands after the refusals:"
	ftpd_commands_since "$n0" | tee "$W/cmds"
	grep -Eiv '^NOOP$' "$W/cmds" | grep -q . &&
	    ca_fail "vsftpd got commands: $(tr '\n' ';' <"$W/cmds")"
	[ "$(cat "$H/victim")" = keep ] || ca_fail "the victim changed"
	[ -e "$H/evil" ] && ca_fail "$H/evil was created"
	[ "$(find "$H" -mindepth 1 | wc -l)" = 1 ] ||
	    ca_fail "stray files: $(ls -A "$H")"
	api_expect 200 GET "/connections/$SID/files?path=$H"
	ca_stop
}
crlf_cleanup()
{
	ftp_cleanup
}

# Operations in TLS mode $1 with a server that drops control
# connections idle for 2 s, each after 4 s of idleness.
idle_drops()
{
	FTPD_IDLE=2
	export FTPD_IDLE
	ftp_up "$1"
	ca_open ftp "$(json_ftp "$1")"
	H=$FTPD_HOME
	printf 'one\n' >"$W/one"
	# A worker that hangs fails the test rather than its time limit.
	CA_CURL_TIMEOUT=30
	export CA_CURL_TIMEOUT

	sleep 4
	api_expect 200 GET "/connections/$SID/files?path=$H"
	check_upload "$W/one" first first-put
	sleep 4
	# Same directory as the last operation: nothing to send at first.
	check_upload "$W/one" second second-put
	sleep 4
	check_download first "$W/one"
	sleep 4
	api_expect 200 GET "/connections/$SID/files?path=$H"
	[ "$(jget '.entries | length')" = 4 ] ||
	    ca_fail "listing after a drop: $(cat "$W/body")"
	# One control connection at open, a new one after each drop.
	n=$(($(grep -c ' CONNECT: ' "$FTPD_DIR/vsftpd.log") - 1))
	echo "logged in again $n times"
	[ "$n" -ge 4 ] || ca_fail "only $n new control connections"
	w=$(ca_workers)
	cpu=$(sed 's/.*) //' "/proc/$w/stat" | awk '{ print $12 + $13 }')
	sleep 2
	cpu2=$(sed 's/.*) //' "/proc/$w/stat" | awk '{ print $12 + $13 }')
	[ $((cpu2 - cpu)) -lt 50 ] ||
	    ca_fail "the idle worker burns CPU: $((cpu2 - cpu)) ticks in 2 s"
	ca_stop
}

atf_test_case idle_drop cleanup
idle_drop_head()
{
	atf_set descr "the server drops the idle control connection; the" \
	    "next operations log in again and succeed"
	atf_set timeout 180
}
idle_drop_body()
{
	idle_drops ""
}
idle_drop_cleanup()
{
	ftp_cleanup
}

atf_test_case idle_drop_ftps cleanup
idle_drop_ftps_head()
{
	atf_set descr "FTPS: the server drops the idle control connection;" \
	    "the next operations log in again and succeed"
	atf_set timeout 180
}
idle_drop_ftps_body()
{
	idle_drops explicit
}
idle_drop_ftps_cleanup()
{
	ftp_cleanup
}

atf_test_case worker_sandbox cleanup
worker_sandbox_head()
{
	atf_set descr "FTP workers run under seccomp with no_new_privs, as" \
	    "the configured user in the chroot when root"
	atf_set timeout 120
}
worker_sandbox_body()
{
	ftp_up ""
	ftp_open
	ftp_open
	wait_workers 20 2 || ca_fail "workers: $(ca_workers)"
	uid=$(id -u "$CA_USER" 2>/dev/null)
	for w in $(ca_workers); do
		case $(ca_cmdline "$w") in
		*"ftp worker 127.0.0.1:$FTPD_PORT"*) ;;
		*) ca_fail "worker title: $(ca_cmdline "$w")" ;;
		esac
		[ "$(ca_status "$w" Seccomp)" = 2 ] ||
		    ca_fail "worker $w Seccomp: $(ca_status "$w" Seccomp)"
		[ "$(ca_status "$w" NoNewPrivs)" = 1 ] ||
		    ca_fail "worker $w NoNewPrivs:" \
		    "$(ca_status "$w" NoNewPrivs)"
		[ "$(ca_status "$w" CapEff)" = 0000000000000000 ] ||
		    ca_fail "worker $w CapEff $(ca_status "$w" CapEff)"
		[ $CA_ROOT -eq 1 ] || continue
		set -- $(ca_status "$w" Uid)
		[ "$1 $2 $3 $4" = "$uid $uid $uid $uid" ] ||
		    ca_fail "worker $w uids $*, expected $uid"
		[ "$(readlink "/proc/$w/root")" = "$CA_CHROOT" ] ||
		    ca_fail "worker $w root $(readlink "/proc/$w/root")"
	done
	# Still works after the checks.
	api_expect 200 GET "/connections/$SID/files?path=$FTPD_HOME"
	ca_stop
}
worker_sandbox_cleanup()
{
	ftp_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case login
	atf_add_test_case ftps_explicit
	atf_add_test_case ftps_wrong_ca
	atf_add_test_case ftps_implicit
	atf_add_test_case browse
	atf_add_test_case transfer
	atf_add_test_case transfer_ftps
	atf_add_test_case upload_interrupted
	atf_add_test_case crlf
	atf_add_test_case idle_drop
	atf_add_test_case idle_drop_ftps
	atf_add_test_case worker_sandbox
}
