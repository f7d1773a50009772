# A private vsftpd on loopback for the regress tests.
#
# Sourced, after lib/common.sh, by atf-sh test programs and benchmarks:
#
#	. "$(atf_get_srcdir)/lib/ftpd.sh"
#	ftpd_start "$PWD/ftpd" || atf_fail "vsftpd did not start"
#	... connect to 127.0.0.1:$FTPD_PORT as $FTPD_USER ...
#	ftpd_stop
#
# ftpd_start DIR [TLS]
#	Creates DIR and a vsftpd configuration in it, makes sure the test
#	user exists, creates a fresh home directory for this server (the
#	FTP login directory), starts /usr/sbin/vsftpd on a free 127.0.0.1
#	port and waits until it listens.  TLS is "explicit" (or "tls": AUTH
#	TLS required for logins and data) or "implicit" (TLS from the first
#	byte); for either, DIR gets a test CA and a server certificate for
#	"localhost" and 127.0.0.1 (ECDSA P-256).  Environment read:
#	FTPD_IDLE (idle_session_timeout, seconds, default 300) and
#	FTPD_EXTRA (vsftpd.conf lines appended last; vsftpd keeps the last
#	value it reads).  Exports FTPD_DIR FTPD_PORT FTPD_PID FTPD_USER
#	FTPD_PASS FTPD_HOME FTPD_TLS FTPD_CA FTPD_PASV_MIN FTPD_PASV_MAX.
#	The log, with every command and reply, is DIR/vsftpd.log; transfers
#	are in DIR/xferlog; start-up errors in DIR/startup.log; the pid is
#	in DIR/vsftpd.pid and the home directory's path in DIR/home.  Needs
#	root (it creates a user); otherwise the test is skipped.
# ftpd_stop [DIR]
#	Kills the vsftpd that ftpd_start started, by its pid, waits for it
#	and removes the home directory it created.  A cleanup routine, which
#	does not see the body's variables, passes the DIR it gave ftpd_start.
# ftpd_json [FIELDS]
#	Prints the JSON that opens a session to it (passive, no TLS), with
#	the fields of the JSON object FIELDS added or replaced.
# ftp_open [FIELDS]
#	Opens that session through the daemon (lib/common.sh's ca_open);
#	sets SID.

FTPD_USER=catftp
# Fixed, so that tests running at the same time agree on it.
FTPD_PASS='ca-Ftp-pw-5826'
FTPD_BIN=/usr/sbin/vsftpd
# Passive data ports: fixed so that a sandbox or firewall can name them.
FTPD_PASV_MIN=40000
FTPD_PASV_MAX=40199

# Skip the current test with a reason, or fail outside atf-sh.
_ftpd_skip()
{
	if command -v atf_skip >/dev/null 2>&1; then
		atf_skip "$1"
	fi
	echo "ftpd.sh: skipped: $1" >&2
	return 1
}

# Create the test user if needed and set its fixed password.  PAM's
# vsftpd service wants a shell listed in /etc/shells and the user out
# of /etc/ftpusers.
_ftpd_user()
{
	if ! id "$FTPD_USER" >/dev/null 2>&1; then
		# Tests may start at the same time: lose the race quietly.
		useradd -m -s /bin/sh "$FTPD_USER" 2>/dev/null ||
		    id "$FTPD_USER" >/dev/null 2>&1 || return 1
	fi
	echo "$FTPD_USER:$FTPD_PASS" | chpasswd || return 1
	grep -qx /bin/sh /etc/shells || return 1
	! grep -qx "$FTPD_USER" /etc/ftpusers 2>/dev/null
}

# A test CA and a server certificate signed by it, in $1.
_ftpd_certs()
{
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1/ca.key" || return 1
	openssl req -x509 -new -key "$1/ca.key" -days 30 \
	    -subj "/CN=coreastra regress CA" -out "$1/ca.crt" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign || return 1
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1/server.key" || return 1
	openssl req -new -key "$1/server.key" -subj "/CN=localhost" \
	    -out "$1/server.csr" || return 1
	cat >"$1/server.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOF
	openssl x509 -req -in "$1/server.csr" -CA "$1/ca.crt" \
	    -CAkey "$1/ca.key" -CAcreateserial -days 30 \
	    -extfile "$1/server.ext" -out "$1/server.crt" || return 1
	chmod 0600 "$1/server.key" "$1/ca.key"
}

# Write $1/vsftpd.conf for port $2 and TLS mode $3.
_ftpd_config()
{
	cat >"$1/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$2
background=NO
# vsftpd's own seccomp filter does not know this kernel's syscalls.
seccomp_sandbox=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
local_root=$FTPD_HOME
chroot_local_user=NO
userlist_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
pasv_enable=YES
pasv_min_port=$FTPD_PASV_MIN
pasv_max_port=$FTPD_PASV_MAX
port_enable=NO
max_clients=200
max_per_ip=200
idle_session_timeout=${FTPD_IDLE:-300}
data_connection_timeout=60
xferlog_enable=YES
xferlog_std_format=NO
xferlog_file=$1/xferlog
vsftpd_log_file=$1/vsftpd.log
dual_log_enable=YES
log_ftp_protocol=YES
EOF
	case "$3" in
	"")	;;
	explicit|implicit)
		cat >>"$1/vsftpd.conf" <<EOF
ssl_enable=YES
allow_anon_ssl=NO
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=YES
ssl_ciphers=HIGH
rsa_cert_file=$1/server.crt
rsa_private_key_file=$1/server.key
EOF
		[ "$3" = implicit ] && echo implicit_ssl=YES >>"$1/vsftpd.conf"
		;;
	*)	echo "ftpd_start: unknown TLS mode $3" >&2
		return 1
		;;
	esac
	[ -n "$FTPD_EXTRA" ] && printf '%s\n' "$FTPD_EXTRA" >>"$1/vsftpd.conf"
	return 0
}

# Wait up to 10 s for vsftpd (pid $1) to listen on port $2.
_ftpd_wait()
{
	_fn=0
	while [ $_fn -lt 100 ]; do
		kill -0 "$1" 2>/dev/null || return 1
		ca_port_busy "$2" && return 0
		sleep 0.1
		_fn=$((_fn + 1))
	done
	return 1
}

# Stop vsftpd $1 and wait up to 5 s for it.
_ftpd_kill()
{
	kill "$1" 2>/dev/null
	_fn=0
	while [ $_fn -lt 50 ] && kill -0 "$1" 2>/dev/null; do
		sleep 0.1
		_fn=$((_fn + 1))
	done
	wait "$1" 2>/dev/null
	return 0
}

ftpd_start()
{
	FTPD_DIR=$1
	FTPD_TLS=$2
	[ "$FTPD_TLS" = tls ] && FTPD_TLS=explicit
	[ -n "$FTPD_DIR" ] ||
	    { echo "usage: ftpd_start DIR [explicit|implicit]" >&2; return 1; }
	[ "$(id -u)" -eq 0 ] ||
	    { _ftpd_skip "needs root to create the test user"; return 1; }
	[ -x "$FTPD_BIN" ] ||
	    { _ftpd_skip "$FTPD_BIN is not installed"; return 1; }

	mkdir -p "$FTPD_DIR" /var/run/vsftpd/empty || return 1
	FTPD_DIR=$(cd "$FTPD_DIR" && pwd) || return 1
	_ftpd_user || { echo "cannot set up user $FTPD_USER" >&2; return 1; }

	# The login directory: somewhere the user can reach, unlike the
	# test's own working directory.
	FTPD_HOME=$(mktemp -d /tmp/ftpd-home.XXXXXXXX) || return 1
	echo "$FTPD_HOME" >"$FTPD_DIR/home"
	chown "$FTPD_USER:" "$FTPD_HOME" && chmod 0755 "$FTPD_HOME" ||
	    return 1
	FTPD_CA=
	if [ -n "$FTPD_TLS" ]; then
		_ftpd_certs "$FTPD_DIR" >"$FTPD_DIR/openssl.log" 2>&1 ||
		    { echo "ftpd_start: openssl failed" >&2; return 1; }
		FTPD_CA=$FTPD_DIR/ca.crt
	fi

	# Another test may take the port between the check and the bind:
	# try a few ports.
	_ftry=0
	while [ $_ftry -lt 5 ]; do
		_ftry=$((_ftry + 1))
		FTPD_PORT=$(ca_free_port 20000) || continue
		_ftpd_config "$FTPD_DIR" "$FTPD_PORT" "$FTPD_TLS" || return 1
		# vsftpd reports start-up errors on fd 0.
		"$FTPD_BIN" "$FTPD_DIR/vsftpd.conf" 0>>"$FTPD_DIR/startup.log" \
		    >>"$FTPD_DIR/startup.log" 2>&1 &
		FTPD_PID=$!
		if _ftpd_wait "$FTPD_PID" "$FTPD_PORT"; then
			echo "$FTPD_PID" >"$FTPD_DIR/vsftpd.pid"
			export FTPD_DIR FTPD_PORT FTPD_PID FTPD_USER FTPD_PASS
			export FTPD_HOME FTPD_TLS FTPD_CA
			export FTPD_PASV_MIN FTPD_PASV_MAX
			return 0
		fi
		_ftpd_kill "$FTPD_PID"
	done
	FTPD_PID=
	echo "vsftpd did not start; see $FTPD_DIR/startup.log" >&2
	return 1
}

ftpd_stop()
{
	_fdir=${1:-$FTPD_DIR}
	if [ -n "$1" ]; then
		FTPD_PID=
		FTPD_HOME=
		# Only the vsftpd that runs this directory's configuration.
		[ -s "$1/vsftpd.pid" ] && _fpid=$(cat "$1/vsftpd.pid") &&
		    tr '\0' ' ' <"/proc/$_fpid/cmdline" 2>/dev/null |
		    grep -qF "$1/vsftpd.conf" && FTPD_PID=$_fpid
		[ -s "$1/home" ] && FTPD_HOME=$(cat "$1/home")
	fi
	if [ -n "$FTPD_PID" ]; then
		_ftpd_kill "$FTPD_PID"
		FTPD_PID=
	fi
	[ -n "$_fdir" ] && rm -f "$_fdir/vsftpd.pid" "$_fdir/home"
	case "$FTPD_HOME" in
	/tmp/ftpd-home.*)
		rm -rf "$FTPD_HOME"
		FTPD_HOME=
		;;
	esac
	return 0
}

ftpd_json()
{
	ca_login_json "$FTPD_USER" "$FTPD_PASS" "$FTPD_PORT" "$1"
}

ftp_open()
{
	ca_open ftp "$(ftpd_json "$1")"
}
