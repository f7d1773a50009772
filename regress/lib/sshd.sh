# A private OpenSSH sshd on loopback for the regress tests.
#
# Sourced, after lib/common.sh, by atf-sh test programs and benchmarks:
#
#	. "$(atf_get_srcdir)/lib/sshd.sh"
#	sshd_start "$PWD/sshd" || atf_fail "sshd did not start"
#	... connect to 127.0.0.1:$SSHD_PORT as $SSHD_USER ...
#	sshd_stop
#
# sshd_start DIR [EXTRA]
#	Creates DIR, an ed25519 host key and a configuration in it, makes
#	sure the test user exists, generates two ed25519 client key pairs
#	(one protected by a passphrase), starts /usr/sbin/sshd on a free
#	127.0.0.1 port and waits until it listens.  EXTRA, if given, holds
#	sshd_config lines placed before the defaults (sshd keeps the first
#	value it reads for a keyword, so EXTRA overrides them).  Exports
#	SSHD_DIR SSHD_PORT SSHD_PID SSHD_USER SSHD_PASS SSHD_HOME SSHD_KEY
#	SSHD_KEY_PP SSHD_KEY_PASSPHRASE SSHD_HOSTKEY_FP.  The log is
#	DIR/sshd.log.  Needs root (it creates a user); otherwise the test
#	is skipped.
# sshd_stop
#	Kills the sshd that sshd_start started, by its pid, and waits for it.
# sshd_json [FIELDS]
#	Prints the JSON that opens a password session to it, with the
#	fields of the JSON object FIELDS added or replaced.
# ssh_open [FIELDS]
#	Opens that session through the daemon (lib/common.sh's ca_open);
#	sets SID.

SSHD_USER=catest
# Fixed, so that tests running at the same time agree on it.
SSHD_PASS='ca-Test-pw-7391'
SSHD_KEY_PASSPHRASE='ca-key-pp-2846'
SSHD_BIN=/usr/sbin/sshd

# Skip the current test with a reason, or fail outside atf-sh.
_sshd_skip()
{
	if command -v atf_skip >/dev/null 2>&1; then
		atf_skip "$1"
	fi
	echo "sshd.sh: skipped: $1" >&2
	return 1
}

# Create the test user with its fixed password if it does not exist.
_sshd_user()
{
	if ! id "$SSHD_USER" >/dev/null 2>&1; then
		# Tests may start at the same time: lose the race quietly.
		useradd -m -s /bin/sh "$SSHD_USER" 2>/dev/null ||
		    id "$SSHD_USER" >/dev/null 2>&1 || return 1
	fi
	echo "$SSHD_USER:$SSHD_PASS" | chpasswd || return 1
	SSHD_HOME=$(getent passwd "$SSHD_USER" | cut -d: -f6)
	[ -d "$SSHD_HOME" ] || return 1
}

# Generate the host key and the client keys in $1.
_sshd_keys()
{
	ssh-keygen -q -t ed25519 -N '' -C sshd-host -f "$1/host_ed25519" ||
	    return 1
	ssh-keygen -q -t ed25519 -N '' -C "$SSHD_USER" -f "$1/id_ed25519" ||
	    return 1
	ssh-keygen -q -t ed25519 -N "$SSHD_KEY_PASSPHRASE" -C "$SSHD_USER" \
	    -f "$1/id_ed25519_pp" || return 1
	cat "$1/id_ed25519.pub" "$1/id_ed25519_pp.pub" >"$1/authorized_keys"
	chmod 0600 "$1/authorized_keys"
}

# Write $1/sshd_config for port $2 with extra lines $3 first.
_sshd_config()
{
	{
		[ -n "$3" ] && printf '%s\n' "$3"
		cat <<EOF
ListenAddress 127.0.0.1
Port $2
HostKey $1/host_ed25519
PidFile $1/sshd.pid
# sshd reads AuthorizedKeysFile as the user, who cannot reach the test's
# working directory; a command run as root can.
AuthorizedKeysFile none
AuthorizedKeysCommand /bin/cat $1/authorized_keys
AuthorizedKeysCommandUser root
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $SSHD_USER
Subsystem sftp internal-sftp
MaxStartups 100:30:200
MaxSessions 50
MaxAuthTries 10
UseDNS no
PrintMotd no
LogLevel VERBOSE
EOF
	} >"$1/sshd_config"
}

# Wait up to 10 s for sshd to write its pid file and listen on port $2.
_sshd_wait()
{
	_n=0
	while [ $_n -lt 100 ]; do
		if [ -s "$1/sshd.pid" ] && ca_port_busy $2; then
			return 0
		fi
		sleep 0.1
		_n=$((_n + 1))
	done
	return 1
}

sshd_start()
{
	SSHD_DIR=$1
	[ -n "$SSHD_DIR" ] || { echo "usage: sshd_start DIR" >&2; return 1; }
	[ "$(id -u)" -eq 0 ] ||
	    { _sshd_skip "needs root to create the test user"; return 1; }
	[ -x "$SSHD_BIN" ] ||
	    { _sshd_skip "$SSHD_BIN is not installed"; return 1; }

	mkdir -p "$SSHD_DIR" /run/sshd || return 1
	chmod 0755 /run/sshd
	SSHD_DIR=$(cd "$SSHD_DIR" && pwd) || return 1
	_sshd_user || { echo "cannot create user $SSHD_USER" >&2; return 1; }
	_sshd_keys "$SSHD_DIR" >/dev/null || return 1
	SSHD_HOSTKEY_FP=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" |
	    awk '{ sub("^SHA256:", "", $2); print $2 }')

	# Another test may take the port between the check and the bind:
	# try a few ports.
	_try=0
	while [ $_try -lt 5 ]; do
		_try=$((_try + 1))
		SSHD_PORT=$(ca_free_port 20000) || continue
		_sshd_config "$SSHD_DIR" "$SSHD_PORT" "$2"
		rm -f "$SSHD_DIR/sshd.pid"
		"$SSHD_BIN" -f "$SSHD_DIR/sshd_config" \
		    -E "$SSHD_DIR/sshd.log" </dev/null || continue
		if _sshd_wait "$SSHD_DIR" "$SSHD_PORT"; then
			SSHD_PID=$(cat "$SSHD_DIR/sshd.pid")
			SSHD_KEY=$SSHD_DIR/id_ed25519
			SSHD_KEY_PP=$SSHD_DIR/id_ed25519_pp
			export SSHD_DIR SSHD_PORT SSHD_PID SSHD_USER SSHD_PASS
			export SSHD_HOME SSHD_KEY SSHD_KEY_PP
			export SSHD_KEY_PASSPHRASE SSHD_HOSTKEY_FP
			return 0
		fi
		[ -s "$SSHD_DIR/sshd.pid" ] &&
		    kill "$(cat "$SSHD_DIR/sshd.pid")" 2>/dev/null
	done
	echo "sshd did not start; see $SSHD_DIR/sshd.log" >&2
	return 1
}

sshd_stop()
{
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	# Not our child (it daemonised): poll until it is gone, up to 5 s.
	_n=0
	while [ $_n -lt 50 ] && kill -0 "$SSHD_PID" 2>/dev/null; do
		sleep 0.1
		_n=$((_n + 1))
	done
	SSHD_PID=
}

sshd_json()
{
	ca_login_json "$SSHD_USER" "$SSHD_PASS" "$SSHD_PORT" "$1"
}

ssh_open()
{
	ca_open ssh "$(sshd_json "$1")"
}
