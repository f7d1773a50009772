# Helpers shared by the regress tests: start coreastrad on a free
# loopback port with a test configuration, talk to its API, look at its
# processes, and stop it leaving nothing behind.
#
# Sourced by atf-sh test programs (and benchmarks):
#
#	. "$(atf_get_srcdir)/lib/common.sh"
#
#	atf_test_case foo cleanup
#	foo_body() {
#		ca_setup 'idle timeout 3s'	# extra configuration lines
#		ca_start
#		api GET /health; [ "$STATUS" = 200 ] || atf_fail ...
#		ca_stop
#	}
#	foo_cleanup() { ca_cleanup; }
#
# Variables: CA_BINDIR CA_SRCDIR CA_DAEMON CA_CTL CA_ROOT (1 when root)
# CA_USER CA_CHROOT W (work directory) CA_PORT CA_CONF CA_LOG CA_PID
# CA_URL.  After api: STATUS, $W/body, $W/headers.
#
# Functions:
#	ca_setup [line ...]	work dir, free port, configuration file
#	ca_start		check the configuration, start, wait for /health
#	ca_stop			SIGTERM, wait, check nothing remains
#	ca_cleanup		kill whatever the test left (cleanup routines)
#	api METHOD PATH [JSON]	request; STATUS, $W/body, $W/headers
#	api_expect CODE METHOD PATH [JSON]	api, fail unless STATUS=CODE
#	jget FILTER		print a jq filter (".a.b" or "a") of $W/body
#	header NAME		print a response header's value from $W/headers
#	ca_children, ca_front, ca_workers	PIDs under the daemon
#	ca_worker_of ID		the worker PID of a session (coreastractl)
#	ca_status PID FIELD	a field of /proc/PID/status
#	ca_cmdline PID		a process's title
#	ca_alive PID, ca_wait_gone PID TENTHS	process state
#	ca_free_port, ca_port_busy PORT	loopback ports
#	ca_wait_health TENTHS	wait for /health to answer 200
#	ca_bg CMD ...		start a helper in its own process group (BG_PID)
#	ca_bg_kill PID		kill such a helper's group
#	ca_fail MSG		fail, with the daemon log's tail
#	ca_standalone BINDIR SRCDIR	outside atf-sh (benchmarks)

CA_USER=_coreastra
CA_CHROOT=/var/empty

# The daemon's sandboxed children cannot run LeakSanitizer (it needs
# ptrace and /proc); unit tests keep it through run-tests.sh.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export UBSAN_OPTIONS

# Outside atf-sh (benchmarks): stand-ins for the atf-sh functions these
# helpers call, with the binaries in $1 and the source tree in $2.
ca_standalone()
{
	_CA_SA_BIN=$1
	_CA_SA_SRC=$2
	atf_get_srcdir() { echo "$_CA_SA_SRC/regress"; }
	atf_config_has() { [ "$1" = bindir ] || [ "$1" = srcdir ]; }
	atf_config_get()
	{
		case $1 in
		bindir) echo "$_CA_SA_BIN" ;;
		srcdir) echo "$_CA_SA_SRC" ;;
		esac
	}
	atf_fail() { echo "error: $*" >&2; exit 1; }
	atf_skip() { echo "skipped: $*" >&2; exit 0; }
}

# Locate the binaries and the source tree from kyua's variables, or from
# where this program lives (BUILD/regress/t_NAME).
_ca_dirs()
{
	_d=$(atf_get_srcdir)
	if atf_config_has bindir; then
		CA_BINDIR=$(atf_config_get bindir)
	else
		CA_BINDIR=$(cd "$_d/.." && pwd)
	fi
	if atf_config_has srcdir; then
		CA_SRCDIR=$(atf_config_get srcdir)
	else
		CA_SRCDIR=$(cd "$_d/../../.." && pwd)
	fi
	CA_DAEMON=$CA_BINDIR/coreastrad
	CA_CTL=$CA_BINDIR/coreastractl
	CA_ROOT=0
	[ "$(id -u)" -eq 0 ] && CA_ROOT=1
	return 0
}

# Fail the test with a message and the end of the daemon's log.
ca_fail()
{
	if [ -n "$CA_LOG" ] && [ -s "$CA_LOG" ]; then
		echo "--- last lines of $CA_LOG:" >&2
		tail -n 40 "$CA_LOG" >&2
	fi
	atf_fail "$*"
}

# Print a pseudo-random number in 0..9999.
_ca_random()
{
	od -An -N2 -tu2 /dev/urandom | awk '{ print $1 % 10000 }'
}

# True when something listens on TCP port $1.
ca_port_busy()
{
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Print a free TCP port in $1..$1+9999 (default 10000), trying up to 50
# from a random start.  The daemon takes 10000..19999, the server
# fixtures 20000..29999: all below the kernel's ephemeral range.
ca_free_port()
{
	_first=${1:-10000}
	_p=$((_first + $(_ca_random)))
	_n=0
	while [ $_n -lt 50 ]; do
		if [ $_p -gt $((_first + 9999)) ]; then
			_p=$_first
		fi
		if ! ca_port_busy $_p; then
			echo $_p
			return 0
		fi
		_p=$((_p + 1))
		_n=$((_n + 1))
	done
	return 1
}

# Make the work directory and the configuration; each argument is one
# more configuration line (callers may also append to $CA_CONF).
ca_setup()
{
	_ca_dirs
	[ -x "$CA_DAEMON" ] || atf_fail "$CA_DAEMON is missing"
	W=$PWD/ca
	mkdir -p "$W" || atf_fail "mkdir $W"
	CA_CONF=$W/coreastrad.conf
	CA_LOG=$W/daemon.log
	CA_PORT=$(ca_free_port) || atf_fail "no free loopback port"
	CA_URL=http://127.0.0.1:$CA_PORT
	(
		umask 077
		cat >"$CA_CONF" <<EOF
# coreastrad test configuration
listen on 127.0.0.1 port $CA_PORT
control socket "$W/ctl.sock"
known hosts "$W/known_hosts"
EOF
	) || atf_fail "cannot write $CA_CONF"
	if [ $CA_ROOT -eq 1 ]; then
		printf 'user "%s"\nchroot "%s"\n' "$CA_USER" "$CA_CHROOT" \
		    >>"$CA_CONF"
	fi
	for _l in "$@"; do
		printf '%s\n' "$_l" >>"$CA_CONF"
	done
	chmod 0600 "$CA_CONF"
	export W CA_PORT CA_CONF CA_LOG CA_URL
}

# True when process $1 exists and is not a zombie.
ca_alive()
{
	[ -r "/proc/$1/stat" ] || return 1
	# The state follows the parenthesised command name.
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# Wait up to $1 tenths of a second for GET /health to answer 200.
ca_wait_health()
{
	_n=0
	while [ $_n -lt "$1" ]; do
		if [ -n "$CA_PID" ] && ! ca_alive "$CA_PID"; then
			return 2
		fi
		_c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
		    "$CA_URL/health" 2>/dev/null)
		[ "$_c" = 200 ] && return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# Check the configuration, start the daemon in the foreground in its
# own session (so that no signal to its process group reaches the test),
# then wait for /health.
ca_start()
{
	"$CA_DAEMON" -n -f "$CA_CONF" >"$W/check.out" 2>&1 ||
	    atf_fail "configuration rejected: $(cat "$W/check.out")"
	setsid "$CA_DAEMON" -d -f "$CA_CONF" ${CA_DAEMON_FLAGS:-} \
	    >>"$CA_LOG" 2>&1 </dev/null &
	CA_PID=$!
	echo "$CA_PID" >"$W/daemon.pid"
	export CA_PID
	trap ca_cleanup EXIT
	ca_wait_health 100
	case $? in
	0)	;;
	2)	ca_fail "coreastrad exited during start-up" ;;
	*)	ca_fail "coreastrad did not answer /health within 10 s" ;;
	esac
	ca_children >"$W/children.start"
}

# Print the PIDs of the daemon's children, one a line.
ca_children()
{
	pgrep -P "$CA_PID" 2>/dev/null
}

# Print process $1's command line with spaces between arguments.
ca_cmdline()
{
	tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# Print the PIDs of the children whose title contains $1.
ca_children_like()
{
	for _c in $(ca_children); do
		case $(ca_cmdline "$_c") in
		*"$1"*) echo "$_c" ;;
		esac
	done
}

# Print the front's PID.
ca_front()
{
	ca_children_like front | head -n 1
}

# Print the PIDs of the workers.
ca_workers()
{
	ca_children_like worker
}

# Print the worker PID of session $1, as coreastractl reports it.
ca_worker_of()
{
	_wp=$("$CA_CTL" -s "$W/ctl.sock" -j show session "$1" | jq -r .pid)
	case $_wp in
	''|null|*[!0-9]*) ca_fail "no worker pid for session $1" ;;
	esac
	echo "$_wp"
}

# Print field $2 of /proc/$1/status, tabs kept inside the value.
ca_status()
{
	awk -v f="$2:" '$1 == f { sub(/^[^:]*:[ \t]*/, ""); print }' \
	    "/proc/$1/status" 2>/dev/null | sed "s/[ \t]*$//"
}

# Fail unless sanitizers stayed silent in the daemon's log.
ca_check_log()
{
	[ -f "$CA_LOG" ] || return 0
	if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' \
	    -e 'ERROR: LeakSanitizer' "$CA_LOG"; then
		ca_fail "sanitizer report in the daemon log"
	fi
}

# Wait up to $2 tenths of a second for process $1 to end.
ca_wait_gone()
{
	_n=0
	while [ $_n -lt "$2" ]; do
		ca_alive "$1" || return 0
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

# Stop the daemon with SIGTERM and check that it and every child it had
# are gone within 5 s.
ca_stop()
{
	[ -n "$CA_PID" ] || return 0
	_kids=$(ca_children | tr '\n' ' ')
	kill -TERM "$CA_PID" 2>/dev/null
	if ! ca_wait_gone "$CA_PID" 50; then
		kill -KILL "$CA_PID" 2>/dev/null
		ca_fail "coreastrad did not exit within 5 s of SIGTERM"
	fi
	wait "$CA_PID" 2>/dev/null
	CA_STATUS=$?
	for _k in $_kids; do
		ca_wait_gone "$_k" 20 ||
		    ca_fail "child $_k ($(ca_cmdline "$_k")) outlived" \
		    "the daemon"
	done
	_left=$(pgrep -P "$CA_PID" 2>/dev/null)
	[ -z "$_left" ] || ca_fail "processes left under $CA_PID: $_left"
	rm -f "$W/daemon.pid"
	CA_PID=
	ca_check_log
}

# Start a helper command in the background in its own process group;
# ca_cleanup kills the group.  Sets BG_PID.
ca_bg()
{
	setsid "$@" &
	BG_PID=$!
	echo "$BG_PID" >>"${W:-$PWD}/bg.pids"
}

# Kill helper $1 started by ca_bg and everything in its group.
ca_bg_kill()
{
	kill -s KILL -- "-$1" 2>/dev/null
	kill -s KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# Kill what a test left behind: helpers, the daemon and its children,
# sshd.  Safe to call from a cleanup routine, where the body's
# variables are gone: PIDs come from files in the work directory.
ca_cleanup()
{
	_w=${W:-$PWD/ca}
	if [ -f "$_w/bg.pids" ]; then
		for _p in $(cat "$_w/bg.pids"); do
			kill -s KILL -- "-$_p" 2>/dev/null
		done
		rm -f "$_w/bg.pids"
	fi
	if [ -f "$_w/daemon.pid" ]; then
		_p=$(cat "$_w/daemon.pid")
		# Only if that PID is still coreastrad.
		if [ "$(readlink "/proc/$_p/exe" 2>/dev/null)" != "" ] &&
		    ca_cmdline "$_p" | grep -q coreastrad; then
			_kids=$(pgrep -P "$_p")
			kill -TERM "$_p" 2>/dev/null
			ca_wait_gone "$_p" 30 || kill -KILL "$_p" 2>/dev/null
			for _k in $_kids; do
				kill -KILL "$_k" 2>/dev/null
			done
		fi
		rm -f "$_w/daemon.pid"
	fi
	if command -v sshd_stop >/dev/null 2>&1; then
		[ -z "$SSHD_PID" ] && [ -s "$PWD/sshd/sshd.pid" ] &&
		    SSHD_PID=$(cat "$PWD/sshd/sshd.pid")
		sshd_stop
	fi
	return 0
}

# Send request $1 $2 with optional JSON body $3; sets STATUS, writes the
# body to $W/body and the response head to $W/headers.
api()
{
	_m=$1
	_u=$2
	if [ $# -ge 3 ]; then
		STATUS=$(curl -s -X "$_m" -o "$W/body" -D "$W/headers" \
		    -w '%{http_code}' --max-time "${CA_CURL_TIMEOUT:-60}" \
		    -H 'Content-Type: application/json' --data-binary "$3" \
		    "$CA_URL$_u")
	else
		STATUS=$(curl -s -X "$_m" -o "$W/body" -D "$W/headers" \
		    -w '%{http_code}' --max-time "${CA_CURL_TIMEOUT:-60}" \
		    "$CA_URL$_u")
	fi
	[ -n "$STATUS" ] || STATUS=000
	return 0
}

# api, then fail unless the status is $1.
api_expect()
{
	_want=$1
	shift
	api "$@"
	[ "$STATUS" = "$_want" ] || ca_fail "$1 $2: status $STATUS," \
	    "expected $_want; body: $(head -c 600 "$W/body")"
}

# Print jq filter $1 applied to $W/body; a bare "a.b" means ".a.b".
jget()
{
	case $1 in
	""|.*|*[!A-Za-z0-9_.]*) jq -r "$1" "$W/body" 2>/dev/null ;;
	*) jq -r ".$1" "$W/body" 2>/dev/null ;;
	esac
}

# Print the value of response header $1 (case-insensitive) from the
# last response head in $W/headers.
header()
{
	tr -d '\r' <"$W/headers" | awk -v h="$1" '
		/^HTTP\// { v = ""; found = 0 }
		{
			n = index($0, ":")
			k = tolower(substr($0, 1, n - 1))
			if (n > 0 && k == tolower(h)) {
				v = substr($0, n + 1)
				sub(/^[ \t]+/, "", v)
				found = 1
			}
		}
		END { if (found) print v }'
}

# Print the JSON that opens a session to 127.0.0.1 port $3 as user $1
# with password $2, with the fields of the JSON object $4 added.
ca_login_json()
{
	jq -cn --arg u "$1" --arg p "$2" --argjson port "$3" \
	    --argjson x "${4:-null}" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p} +
	    $x'
}

# Open a session: POST JSON $2 to /connections/$1, expecting 201; sets
# SID.
ca_open()
{
	api_expect 201 POST "/connections/$1" "$2"
	SID=$(jget session_id)
	[ -n "$SID" ] && [ "$SID" != null ] ||
	    ca_fail "no session_id in $(cat "$W/body")"
}

# Fail unless the last answer is an error with status $1 and code $2.
expect_error()
{
	[ "$STATUS" = "$1" ] || ca_fail "status $STATUS, expected $1:" \
	    "$(head -c 600 "$W/body")"
	[ "$(jget code)" = "$2" ] || ca_fail "code '$(jget code)'," \
	    "expected $2: $(head -c 600 "$W/body")"
	[ "$(jget '.error | type')" = string ] ||
	    ca_fail "no error sentence: $(head -c 600 "$W/body")"
}

# Milliseconds since the epoch.
now_ms()
{
	echo $(($(date +%s%N) / 1000000))
}

# Print the SHA-256 of file $1.
sha()
{
	sha256sum <"$1" | cut -d' ' -f1
}
