#! /usr/bin/env atf-sh
# The control socket and coreastractl: every command in text and JSON
# against a daemon with real SSH sessions, who may connect, reload with a
# broken file, log levels, a daemon that is absent or mute, and raw
# clients that send garbage.

. "$(atf_get_srcdir)/lib/common.sh"
. "$(atf_get_srcdir)/lib/sshd.sh"

# Run coreastractl on the test daemon's socket (or CTL_SOCK); the output
# goes to $W/out and $W/err, the exit status to RC.
ctl()
{
	"$CA_CTL" -s "${CTL_SOCK:-$W/ctl.sock}" "$@" >"$W/out" 2>"$W/err"
	RC=$?
}

# ctl, then fail unless it exited with status $1.
ctl_expect()
{
	_want=$1
	shift
	ctl "$@"
	[ "$RC" -eq "$_want" ] || ca_fail "coreastractl $*: exit $RC," \
	    "expected $_want; out: $(head -c 600 "$W/out");" \
	    "err: $(head -c 600 "$W/err")"
}

# Fail unless file $1 has a line matching the extended regex $2.
has_line()
{
	grep -Eq -- "$2" "$1" ||
	    ca_fail "no line like '$2' in $1: $(head -c 800 "$1")"
}

# Print jq filter $1 applied to $W/out.
jout()
{
	jq -r "$1" "$W/out" 2>/dev/null
}

# Run a command as nobody, group nogroup, no supplementary groups.
as_nobody()
{
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"
}

# Make a directory in /tmp that nobody can enter, for a socket; sets D,
# and NCTL to a coreastractl that nobody can run.
nobody_dir()
{
	D=$(mktemp -d /tmp/ca-ctl.XXXXXXXX) || atf_fail "mktemp"
	echo "$D" >"$PWD/ctl.dir"
	chmod 0755 "$D"
	NCTL=$CA_CTL
	if ! as_nobody test -x "$NCTL"; then
		NCTL=$D/coreastractl
		cp "$CA_CTL" "$NCTL" && chmod 0755 "$NCTL" || atf_fail "cp"
	fi
	CA_DAEMON_FLAGS="-s $D/ctl.sock"
}

# Skip unless netcat-openbsd's nc, which speaks to UNIX sockets, is here.
need_nc()
{
	nc -h 2>&1 | grep -q -- '-U' ||
	    atf_skip "nc with -U (netcat-openbsd) is not installed"
}

# Print the value of message type $1 in the protocol header's enum.
imsg_type()
{
	awk -v want="$1" '
		/^enum imsg_type/ { on = 1; n = 0; next }
		on && /^}/ { exit }
		on && $1 ~ /^IMSG_/ {
			name = $1
			sub(/[,=].*/, "", name)
			if ($2 == "=")
				n = $3 + 0
			if (name == want) {
				print n
				exit
			}
			n++
		}' "$CA_SRCDIR/proto/coreastra_proto.h"
}

# Print $1 as a little-endian 32-bit integer, as printf octal escapes.
le32()
{
	printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $((($1 >> 8) & 255)) \
	    $((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# Write a frame header: type $1, payload length $2.
frame()
{
	printf "$(le32 "$1")$(le32 "$2")$(le32 0)$(le32 0)$(le32 0)"
}

# A well-formed hello for protocol version $1.
hello()
{
	frame "$T_HELLO" 4
	printf "$(le32 "$1")"
}

# Send the bytes of file $1 as a raw client; the answer is in $W/raw.out.
raw()
{
	timeout 5 nc -N -U "$W/ctl.sock" <"$1" >"$W/raw.out" 2>&1
	_rc=$?
	[ $_rc -ne 124 ] || ca_fail "the daemon kept raw client $1 open"
}

# Fail unless the daemon still answers on its control socket and API.
still_serving()
{
	ctl_expect 0 show stats
	api_expect 200 GET /health
}

atf_test_case commands cleanup
commands_head()
{
	atf_set descr "every command and its -j form, with two SSH sessions"
	atf_set timeout 120
}
commands_body()
{
	sshd_start "$PWD/sshd" || atf_fail "sshd did not start"
	ca_setup
	ca_start
	ssh_open '{"name": "one"}'
	S1=$SID
	ssh_open '{"name": "two"}'
	S2=$SID
	api_expect 200 POST "/connections/$S1/execute" '{"command": "echo hi"}'

	# show sessions: a table, abbreviated keywords, JSON.
	ctl_expect 0 show sessions
	has_line "$W/out" '^ID +TYPE +USER@HOST:PORT +NAME +STATE +IDLE'
	remote="$SSHD_USER@127\.0\.0\.1:$SSHD_PORT"
	for s in "$S1" "$S2"; do
		has_line "$W/out" \
		    "^$(echo "$s" | cut -c1-8) +ssh +$remote +(one|two) +ready "
	done
	ctl_expect 0 sh ses
	for s in "$S1" "$S2"; do
		has_line "$W/out" "^$(echo "$s" | cut -c1-8) +ssh "
	done
	ctl_expect 0 -j show sessions
	[ "$(jout '.sessions | length')" = 2 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout '[.sessions[].id] | sort | join(" ")')" = \
	    "$(printf '%s\n' "$S1" "$S2" | sort | tr '\n' ' ' | \
	    sed 's/ $//')" ] || ca_fail "ids: $(cat "$W/out")"

	# show session by a prefix: everything, host key included.
	ctl_expect 0 show session "$(echo "$S1" | cut -c1-8)"
	has_line "$W/out" "^Session $S1\$"
	grep -qF "host key:        ssh-ed25519 SHA256:$SSHD_HOSTKEY_FP" \
	    "$W/out" || ca_fail "host key: $(cat "$W/out")"
	has_line "$W/out" "remote: +$remote\$"
	has_line "$W/out" '^  operations: +1$'
	has_line "$W/out" '^  worker pid: +[0-9]+$'
	ctl_expect 0 -j show session "$S1"
	[ "$(jout .id)" = "$S1" ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .state)" = ready ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .port)" = "$SSHD_PORT" ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .name)" = one ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .hostkey_sha256)" = "$SSHD_HOSTKEY_FP" ] ||
	    ca_fail "$(cat "$W/out")"
	[ "$(jout .operations)" = 1 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout '.time_remaining > 0')" = true ] || ca_fail "$(cat "$W/out")"
	ca_workers | grep -qx "$(jout .pid)" ||
	    ca_fail "pid $(jout .pid) is not a worker: $(ca_workers)"
	ctl_expect 1 show session ffffffff
	has_line "$W/err" '^coreastractl: no session matches ffffffff$'
	ctl_expect 1 -j show session ffffffff
	[ "$(jout .code)" = session_not_found ] || ca_fail "$(cat "$W/out")"

	# show stats.
	ctl_expect 0 show stats
	has_line "$W/out" '^sessions: +2 open, [0-9]+ max, 2 total, 0 failed$'
	has_line "$W/out" \
	    '^operations: +list 0, download 0, upload 0, execute 1$'
	has_line "$W/out" \
	    '^worker deaths: +exit 0, signal 0, sandbox violation 0$'
	ctl_expect 0 -j show stats
	[ "$(jout .sessions.open)" = 2 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .sessions.by_type.ssh)" = 2 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .operations.execute)" = 1 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout '.uptime >= 0')" = true ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .front_restarts)" = 0 ] || ca_fail "$(cat "$W/out")"
	[ "$(jout .spawner_deaths)" = 0 ] || ca_fail "$(cat "$W/out")"

	# kill one: the API forgets it at once.
	ctl_expect 0 kill session "$(echo "$S1" | cut -c1-8)"
	has_line "$W/out" '^killed 1 session$'
	api GET "/connections/$S1"
	[ "$STATUS" = 404 ] || ca_fail "killed session: status $STATUS"
	api_expect 200 POST "/connections/$S2/execute" '{"command": "true"}'
	ctl_expect 1 -j kill session "$S1"
	[ "$(jout .code)" = session_not_found ] || ca_fail "$(cat "$W/out")"

	# cleanup removes nothing live; kill all ends the rest.
	ctl_expect 0 cleanup
	has_line "$W/out" '^removed 0 expired sessions$'
	ctl_expect 0 -j cleanup
	[ "$(jout .status)" = ok ] || ca_fail "$(cat "$W/out")"
	ctl_expect 0 -j kill sessions all
	[ "$(jout .message)" = "killed 1 session" ] || ca_fail "$(cat "$W/out")"
	api GET "/connections/$S2"
	[ "$STATUS" = 404 ] || ca_fail "killed session: status $STATUS"
	ctl_expect 0 show sessions
	has_line "$W/out" '^no sessions$'
	ctl_expect 0 -j show sessions
	[ "$(jout '.sessions | length')" = 0 ] || ca_fail "$(cat "$W/out")"

	# log verbose reaches workers started after it.
	grep -q ': host key ssh-ed25519 SHA256:' "$CA_LOG" &&
	    ca_fail "debug lines before log verbose"
	ctl_expect 0 log verbose
	has_line "$W/out" '^logging verbose$'
	ssh_open '{"name": "three"}'
	has_line "$CA_LOG" ': host key ssh-ed25519 SHA256:'
	ctl_expect 0 -j log brief
	[ "$(jout .message)" = "logging brief" ] || ca_fail "$(cat "$W/out")"

	# Every command is logged with the client's uid and pid.
	has_line "$CA_LOG" 'uid 0 pid [0-9]+: show sessions all$'
	has_line "$CA_LOG" "uid 0 pid [0-9]+: kill $(echo "$S1" | cut -c1-8)\$"
	has_line "$CA_LOG" 'uid 0 pid [0-9]+: kill all$'
	has_line "$CA_LOG" 'uid 0 pid [0-9]+: show stats$'
	has_line "$CA_LOG" 'uid 0 pid [0-9]+: cleanup$'
	has_line "$CA_LOG" 'session .* closed: .*: killed by operator$'
	grep -qF -- "$SSHD_PASS" "$W/out" "$CA_LOG" &&
	    ca_fail "a password was shown"
	ca_stop
}
commands_cleanup()
{
	ca_cleanup
}

atf_test_case log_levels cleanup
log_levels_head()
{
	atf_set descr "log verbose and log brief change what the parent logs"
}
log_levels_body()
{
	ca_setup
	ca_start
	# The parent logs each control connection at debug level.
	pat='client uid [0-9]+ pid [0-9]+ connected'
	ctl_expect 0 show stats
	[ "$(grep -Ec "$pat" "$CA_LOG")" = 0 ] ||
	    ca_fail "debug lines without -v"
	ctl_expect 0 log verbose
	ctl_expect 0 show stats
	[ "$(grep -Ec "$pat" "$CA_LOG")" -ge 1 ] ||
	    ca_fail "no debug line after log verbose"
	ctl_expect 0 log brief
	has_line "$W/out" '^logging brief$'
	n=$(grep -Ec "$pat" "$CA_LOG")
	ctl_expect 0 show stats
	[ "$(grep -Ec "$pat" "$CA_LOG")" = "$n" ] ||
	    ca_fail "debug lines after log brief"
	ca_stop
}
log_levels_cleanup()
{
	ca_cleanup
}

atf_test_case reload cleanup
reload_head()
{
	atf_set descr "reload applies a good file; a broken one is refused," \
	    "logged with file:line, and the daemon keeps serving"
}
reload_body()
{
	ca_setup 'max sessions 20'
	ca_start
	echo 'max sessions 9' >>"$CA_CONF"
	ctl_expect 0 reload
	has_line "$W/out" '^configuration reloaded$'
	ca_wait_health 50 || ca_fail "no /health after reload"
	ctl_expect 0 -j show stats
	[ "$(jout .sessions.max)" = 9 ] || ca_fail "$(cat "$W/out")"

	echo 'this is not a setting' >>"$CA_CONF"
	ctl_expect 1 reload
	has_line "$W/err" '^coreastractl: reload failed'
	ctl_expect 1 -j reload
	[ "$(jout .code)" = reload_failed ] || ca_fail "$(cat "$W/out")"
	has_line "$CA_LOG" 'coreastrad.conf:[0-9]+: '
	ca_alive "$CA_PID" || ca_fail "the parent died on a broken reload"
	still_serving
	ctl_expect 0 -j show stats
	[ "$(jout .sessions.max)" = 9 ] || ca_fail "$(cat "$W/out")"
	ca_stop
}
reload_cleanup()
{
	ca_cleanup
}

atf_test_case access cleanup
access_head()
{
	atf_set descr "the socket is 0660; another user is refused by the" \
	    "file mode and, past it, by its credentials"
	atf_set require.user root
}
access_body()
{
	ca_setup
	nobody_dir
	ca_start
	CTL_SOCK=$D/ctl.sock
	[ -S "$D/ctl.sock" ] || ca_fail "no socket at $D/ctl.sock"
	[ "$(stat -c %a "$D/ctl.sock")" = 660 ] ||
	    ca_fail "mode $(stat -c %a "$D/ctl.sock")"

	# The file mode stops nobody first.
	as_nobody "$NCTL" -s "$D/ctl.sock" show stats >"$W/out" 2>"$W/err"
	[ $? -eq 1 ] || ca_fail "nobody got in: $(cat "$W/out" "$W/err")"
	has_line "$W/err" 'cannot connect to .*: Permission denied'

	# Past the file mode, the daemon checks who is calling.
	chmod 0666 "$D/ctl.sock"
	as_nobody "$NCTL" -s "$D/ctl.sock" -j show sessions >"$W/out" 2>"$W/err"
	[ $? -eq 1 ] || ca_fail "nobody got in: $(cat "$W/out" "$W/err")"
	[ "$(jout .error)" = "permission denied" ] ||
	    ca_fail "answer: $(cat "$W/out" "$W/err")"
	has_line "$CA_LOG" \
	    'client uid 65534 pid [0-9]+ refused: permission denied'
	grep -Eq 'uid 65534 pid [0-9]+: show' "$CA_LOG" &&
	    ca_fail "a refused client's command ran"
	still_serving
	ca_stop
}
access_cleanup()
{
	ca_cleanup
	[ -s "$PWD/ctl.dir" ] && rm -rf "$(cat "$PWD/ctl.dir")"
	return 0
}

atf_test_case group cleanup
group_head()
{
	atf_set descr "members of the control group may use the socket"
	atf_set require.user root
}
group_body()
{
	ca_setup 'control group "nogroup"'
	nobody_dir
	ca_start
	[ "$(stat -c %U:%G "$D/ctl.sock")" = root:nogroup ] ||
	    ca_fail "owner $(stat -c %U:%G "$D/ctl.sock")"
	# nobody's primary group is nogroup.
	as_nobody "$NCTL" -s "$D/ctl.sock" -j show stats >"$W/out" 2>"$W/err" ||
	    ca_fail "nobody refused: $(cat "$W/out" "$W/err")"
	[ "$(jout .sessions.open)" = 0 ] || ca_fail "$(cat "$W/out")"
	has_line "$CA_LOG" 'uid 65534 pid [0-9]+: show stats$'
	ca_stop
}
group_cleanup()
{
	ca_cleanup
	[ -s "$PWD/ctl.dir" ] && rm -rf "$(cat "$PWD/ctl.dir")"
	return 0
}

atf_test_case socket_file cleanup
socket_file_head()
{
	atf_set descr "a stale socket is replaced, a file that is not a" \
	    "socket is left alone, and the socket goes with the daemon"
}
socket_file_body()
{
	ca_setup
	ca_start
	ctl_expect 0 show stats
	ca_stop
	[ -e "$W/ctl.sock" ] && ca_fail "the socket outlived the daemon"

	# A stale socket, as a killed daemon leaves it.
	ca_start
	kill -KILL "$CA_PID"
	wait "$CA_PID" 2>/dev/null
	for k in $(cat "$W/children.start"); do
		ca_wait_gone "$k" 30 || ca_fail "child $k outlived the parent"
	done
	[ -S "$W/ctl.sock" ] || ca_fail "no stale socket to test with"
	ca_start
	ctl_expect 0 show stats
	ca_stop

	# Not a socket: the daemon runs without one and leaves the file.
	echo keep >"$W/ctl.sock"
	ca_start
	[ "$(cat "$W/ctl.sock")" = keep ] || ca_fail "the file was replaced"
	has_line "$CA_LOG" 'ctl.sock: exists and is not a socket'
	api_expect 200 GET /health
	ca_stop
}
socket_file_cleanup()
{
	ca_cleanup
}

atf_test_case no_daemon
no_daemon_head()
{
	atf_set descr "no daemon: one clear line and exit 1, at once"
}
no_daemon_body()
{
	_ca_dirs
	W=$PWD
	t0=$(now_ms)
	ctl_expect 1 show sessions
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 3000 ] || atf_fail "took $((t1 - t0)) ms"
	[ "$(cat "$W/err")" = "coreastractl: cannot connect to $W/ctl.sock:\
 No such file or directory (is coreastrad running?)" ] ||
	    atf_fail "message: $(cat "$W/err")"
	[ -s "$W/out" ] && atf_fail "output: $(cat "$W/out")"

	# A leftover socket file that nobody listens on.
	echo x >"$W/ctl.sock"
	ctl_expect 1 -j show stats
	has_line "$W/err" 'cannot connect to .*\(is coreastrad running\?\)$'
	return 0
}

atf_test_case no_answer cleanup
no_answer_head()
{
	atf_set descr "a listener that never answers: exit 1 after the" \
	    "timeout, not a hang"
	atf_set timeout 60
}
no_answer_body()
{
	need_nc
	_ca_dirs
	W=$PWD/ca
	mkdir -p "$W"
	ca_bg sh -c "exec nc -lU '$W/ctl.sock' >/dev/null </dev/null"
	n=0
	while [ ! -S "$W/ctl.sock" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -S "$W/ctl.sock" ] || atf_fail "nc did not listen"
	t0=$(now_ms)
	ctl_expect 1 show stats
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 20000 ] || atf_fail "took $((t1 - t0)) ms"
	has_line "$W/err" '^coreastractl: no answer from coreastrad'
}
no_answer_cleanup()
{
	ca_cleanup
}

atf_test_case usage
usage_head()
{
	atf_set descr "command line errors exit 2 without connecting"
}
usage_body()
{
	_ca_dirs
	W=$PWD
	CTL_SOCK=$PWD/none.sock
	for args in "" "show" "bogus" "show bogus" "show session xyz!" \
	    "kill" "kill session" "reload now" "log" "log loud" \
	    "show stats extra" "-x show stats"; do
		# shellcheck disable=SC2086
		ctl_expect 2 $args
		grep -q 'cannot connect' "$W/err" &&
		    atf_fail "'$args' tried to connect"
	done
	ctl_expect 2 show
	has_line "$W/err" \
	    'incomplete command: expected sessions or session or stats'
	ctl_expect 2 log loud
	has_line "$W/err" 'unknown word "loud"'
	# Abbreviations that are complete commands get as far as connecting.
	for args in "sh ses" "sh st" "k s all" "cl" "rel" "l v" "l b"; do
		# shellcheck disable=SC2086
		ctl_expect 1 $args
		has_line "$W/err" 'cannot connect'
	done
}

atf_test_case garbage cleanup
garbage_head()
{
	atf_set descr "malformed frames close that client only, with a" \
	    "logged reason; a version mismatch is answered plainly"
	atf_set timeout 90
}
garbage_body()
{
	need_nc
	ca_setup
	ca_start
	T_HELLO=$(imsg_type IMSG_CTL_HELLO)
	T_SESSIONS=$(imsg_type IMSG_CTL_SHOW_SESSIONS)
	T_STATS=$(imsg_type IMSG_CTL_SHOW_STATS)
	[ -n "$T_HELLO" ] && [ -n "$T_STATS" ] ||
	    atf_fail "message types not found in the protocol header"
	V=$(awk '$2 == "COREASTRA_PROTO_VERSION" { print $3 }' \
	    "$CA_SRCDIR/proto/coreastra_proto.h")

	# A well-formed exchange first: it is answered.
	{ hello "$V"; frame "$T_STATS" 0; } >"$W/f.ok"
	raw "$W/f.ok"
	[ -s "$W/raw.out" ] || ca_fail "no answer to a good request"

	printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' >"$W/f.text"
	{ hello "$V"; frame "$T_STATS" 1000000
	    head -c 70000 /dev/zero; } >"$W/f.huge"
	frame "$T_STATS" 0 >"$W/f.nohello"
	{ frame "$T_HELLO" 8; printf "$(le32 "$V")$(le32 0)"; } >"$W/f.hello8"
	{ hello "$V"; frame "$T_STATS" 4; printf abcd; } >"$W/f.size"
	{ hello "$V"; frame "$T_SESSIONS" 37
	    head -c 37 /dev/zero | tr '\0' a; } >"$W/f.unbounded"
	{ hello "$V"; frame 4000 0; } >"$W/f.unknown"
	for f in text huge nohello hello8 size unbounded unknown; do
		raw "$W/f.$f"
		grep -q 'protocol version' "$W/raw.out" &&
		    ca_fail "$f: answered as a mismatch"
		still_serving
	done
	for why in 'malformed message header' 'a command before hello' \
	    'a hello of the wrong size' 'a message of the wrong size' \
	    'an unterminated session id' 'an unknown message'; do
		has_line "$CA_LOG" "client uid 0 pid [0-9]+.*$why.*closing it"
	done

	# Another version is told so, in words.
	{ hello 99; frame "$T_STATS" 0; } >"$W/f.v99"
	raw "$W/f.v99"
	grep -aq "protocol version mismatch: daemon $V, client 99" \
	    "$W/raw.out" || ca_fail "mismatch answer: $(tr -c '[:print:]' \
	    . <"$W/raw.out")"
	has_line "$CA_LOG" 'speaks protocol 99, not'
	ca_alive "$CA_PID" || ca_fail "the parent died"
	still_serving
	ca_stop
}
garbage_cleanup()
{
	ca_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case commands
	atf_add_test_case log_levels
	atf_add_test_case reload
	atf_add_test_case access
	atf_add_test_case group
	atf_add_test_case socket_file
	atf_add_test_case no_daemon
	atf_add_test_case no_answer
	atf_add_test_case usage
	atf_add_test_case garbage
}
