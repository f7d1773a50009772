#! /usr/bin/env atf-sh
# Credentials must not leak: after SSH and FTP sessions opened with a
# distinctive password and a key protected by a distinctive passphrase
# have run commands, listings, downloads and uploads, none of those
# secrets may appear in the daemon's log, in coreastractl's output, in
# any API response, in the processes' titles and environments, or in
# the memory of the parent and the front (and, in a second case, of
# the workers, which use them once to log in).

. "$(atf_get_srcdir)/lib/common.sh"
. "$(atf_get_srcdir)/lib/sshd.sh"
. "$(atf_get_srcdir)/lib/ftpd.sh"

# A test user of our own, so that its password can be one nobody else
# uses; sshd.sh and ftpd.sh fix the passwords of theirs.
SEC_USER=casecret

# Print 12 random hex digits.
hex12()
{
	od -An -N6 -tx1 /dev/urandom | tr -d ' \n'
}

# Start sshd (letting our user in), vsftpd and coreastrad; create the
# user with a fresh password, a key with a fresh passphrase, and the
# list of secrets in $SEC/patterns.
secrets_up()
{
	SEC=$PWD/secret
	mkdir -p "$SEC" && chmod 0700 "$SEC" || atf_fail "mkdir $SEC"
	sshd_start "$PWD/sshd" "AllowUsers catest $SEC_USER" ||
	    atf_fail "sshd did not start"
	ftpd_start "$PWD/ftpd" || atf_fail "vsftpd did not start"

	SEC_PASS="Zq7-pw-$(hex12)-Lm"
	SEC_PP="Vx4-pp-$(hex12)-Rk"
	if ! id "$SEC_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$SEC_USER" ||
		    atf_fail "useradd $SEC_USER"
	fi
	echo "$SEC_USER" >"$PWD/user.created"
	echo "$SEC_USER:$SEC_PASS" | chpasswd || atf_fail "chpasswd"
	SEC_HOME=$(getent passwd "$SEC_USER" | cut -d: -f6)
	ssh-keygen -q -t ed25519 -N "$SEC_PP" -C "$SEC_USER" \
	    -f "$SEC/id_pp" || atf_fail "ssh-keygen"
	cat "$SEC/id_pp.pub" >>"$SSHD_DIR/authorized_keys"

	# The password, the passphrase and three lines of the encrypted key.
	n=$(wc -l <"$SEC/id_pp")
	{
		echo "$SEC_PASS"
		echo "$SEC_PP"
		sed -n "2p;$((n / 2))p;$((n - 1))p" "$SEC/id_pp"
	} >"$SEC/patterns"

	ca_setup
	ca_start
	mkdir -p "$W/answers"
}

# Remove what secrets_up made: the daemon, the servers, the user.
sec_cleanup()
{
	ca_cleanup
	ftpd_stop "$PWD/ftpd"
	if [ -s "$PWD/user.created" ]; then
		userdel -r "$(cat "$PWD/user.created")" >/dev/null 2>&1
		rm -f "$PWD/user.created"
	fi
	rm -rf "$PWD/secret"
	return 0
}

# api, keeping the answer (head and body) in $W/answers.
sapi()
{
	api "$@"
	_n=$(ls "$W/answers" | wc -l)
	cat "$W/headers" "$W/body" >"$W/answers/$_n" 2>/dev/null
}

# sapi, then fail unless the status is $1.
sapi_expect()
{
	_want=$1
	shift
	sapi "$@"
	[ "$STATUS" = "$_want" ] || ca_fail "$1 $2: status $STATUS," \
	    "expected $_want; body: $(head -c 300 "$W/body")"
}

# Open the three sessions; sets PW_ID, KEY_ID and FTP_ID.
open_sessions()
{
	sapi_expect 201 POST /connections/ssh "$(jq -cn \
	    --arg u "$SEC_USER" --arg p "$SEC_PASS" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')"
	PW_ID=$(jget session_id)
	sapi_expect 201 POST /connections/ssh "$(jq -cn \
	    --arg u "$SEC_USER" --rawfile k "$SEC/id_pp" --arg pp "$SEC_PP" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, private_key: $k,
	    passphrase: $pp}')"
	KEY_ID=$(jget session_id)
	sapi_expect 201 POST /connections/ftp "$(jq -cn \
	    --arg u "$SEC_USER" --arg p "$SEC_PASS" \
	    --argjson port "$FTPD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')"
	FTP_ID=$(jget session_id)
}

# Run every kind of operation on the sessions, and a failed login.
use_sessions()
{
	echo "some file content" >"$W/small"
	for id in $PW_ID $KEY_ID; do
		sapi_expect 200 POST "/connections/$id/execute" \
		    '{"command": "id; ls -la; echo done"}'
		sapi_expect 200 GET "/connections/$id/files?path=$SEC_HOME"
		q="path=$SEC_HOME/up.$id"
		st=$(curl -s -o "$W/body" -D "$W/headers" -w '%{http_code}' \
		    --max-time 60 -T "$W/small" \
		    "$CA_URL/connections/$id/files/content?$q")
		[ "$st" = 201 ] || ca_fail "upload: $st $(cat "$W/body")"
		cat "$W/headers" "$W/body" >"$W/answers/up.$id"
		sapi_expect 200 POST "/connections/$id/download" \
		    "{\"path\": \"$SEC_HOME/up.$id\"}"
		sapi_expect 200 GET "/connections/$id"
	done
	echo "ftp file" >"$FTPD_HOME/f" && chmod 0644 "$FTPD_HOME/f" ||
	    atf_fail "cannot write $FTPD_HOME/f"
	sapi_expect 200 GET "/connections/$FTP_ID/files?path=$FTPD_HOME"
	sapi_expect 200 POST "/connections/$FTP_ID/download" \
	    "{\"path\": \"$FTPD_HOME/f\"}"
	sapi_expect 200 GET /connections
	sapi_expect 200 GET /health
}

# Try to log in with a wrong password, and with the key and a wrong
# passphrase: such requests carry secrets too (one letter off).
fail_logins()
{
	sapi POST /connections/ssh "$(jq -cn \
	    --arg u "$SEC_USER" --arg p "${SEC_PASS}x" \
	    --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, password: $p}')"
	[ "$STATUS" = 401 ] || ca_fail "wrong password: $STATUS"
	sapi POST /connections/ssh "$(jq -cn \
	    --arg u "$SEC_USER" --rawfile k "$SEC/id_pp" \
	    --arg pp "${SEC_PP}x" --argjson port "$SSHD_PORT" \
	    '{host: "127.0.0.1", port: $port, username: $u, private_key: $k,
	    passphrase: $pp}')"
	case $STATUS in
	400|401) ;;
	*) ca_fail "wrong passphrase: $STATUS $(cat "$W/body")" ;;
	esac
}

# Save what coreastractl shows, as text and JSON, in $W/ctl.*.
save_ctl()
{
	for j in "" -j; do
		for cmd in "show sessions" "show stats" "show session $PW_ID" \
		    "show session $KEY_ID" "show session $FTP_ID"; do
			"$CA_CTL" -s "$W/ctl.sock" $j $cmd \
			    >>"$W/ctl.out$j" 2>&1 ||
			    ca_fail "coreastractl $j $cmd failed"
		done
	done
}

# Print the secrets found in files $@ as "file: count secret-number".
grep_secrets()
{
	_i=0
	while IFS= read -r _s; do
		_i=$((_i + 1))
		for _f in "$@"; do
			_c=$(grep -a -c -F -- "$_s" "$_f" 2>/dev/null)
			[ "${_c:-0}" -gt 0 ] && echo "$_f: $_c x secret $_i"
		done
	done <"$SEC/patterns"
	return 0
}

# Print the secrets found in the readable memory of process $1, which
# is stopped while it is read, as "count secret" lines.  Mappings over
# 1 GiB (AddressSanitizer's shadow) and [vsyscall] are skipped.
mem_secrets()
{
	kill -STOP "$1" || return 1
	while read -r _r _perm _off _dev _ino _path; do
		case $_perm in
		r*) ;;
		*) continue ;;
		esac
		[ "$_path" = "[vsyscall]" ] && continue
		_s=$((0x${_r%-*}))
		_e=$((0x${_r#*-}))
		[ $((_e - _s)) -le 1073741824 ] || continue
		dd if="/proc/$1/mem" bs=4096 skip=$((_s / 4096)) \
		    count=$(((_e - _s) / 4096)) 2>/dev/null
	done <"/proc/$1/maps" >"$W/mem.$1"
	kill -CONT "$1"
	echo "process $1 ($(ca_cmdline "$1")): $(wc -c <"$W/mem.$1")" \
	    "bytes of memory read" >&2
	grep_secrets "$W/mem.$1" | sed 's/^[^:]*: //'
	rm -f "$W/mem.$1"
}

# Print the secrets found in the memory of the parent, the front and
# the spawner (which forks the workers and must never see a credential),
# after the heading $1; nothing when none is (or when not root).
parent_front_secrets()
{
	if [ "$CA_ROOT" -ne 1 ]; then
		echo "memory not searched: reading /proc/PID/mem needs root" >&2
		return 0
	fi
	_sp=$(ca_children_like spawner)
	[ -n "$_sp" ] || echo "no spawner to search" >&2
	for _p in $CA_PID $(ca_front) $_sp; do
		_m=$(mem_secrets "$_p")
		[ -n "$_m" ] && printf '%s memory of %s (%s): %s\n' "$1" \
		    "$_p" "$(ca_cmdline "$_p" | tr -s ' ')" \
		    "$(echo "$_m" | tr -s ' \n' ' ')"
	done
	return 0
}

atf_test_case secrets cleanup
secrets_head()
{
	atf_set descr "passwords, passphrases and keys appear in no log," \
	    "answer, coreastractl output, title, or the memory of the" \
	    "parent, the front or the spawner"
	atf_set timeout 300
}
secrets_body()
{
	secrets_up
	open_sessions
	use_sessions
	found=$(parent_front_secrets "after the logins and operations:")
	fail_logins
	save_ctl

	# Files: the log, the answers, coreastractl's output.
	found="$found
$(grep_secrets "$CA_LOG" "$W/check.out" "$W"/answers/* \
	    "$W"/ctl.out*)"
	# Process titles and environments.
	for p in $CA_PID $(ca_children); do
		tr '\0' '\n' <"/proc/$p/cmdline" >"$W/cmdline.$p"
		tr '\0' '\n' <"/proc/$p/environ" >"$W/environ.$p"
	done
	found="$found
$(grep_secrets "$W"/cmdline.* "$W"/environ.*)"

	found="$found
$(parent_front_secrets "after failed logins too:")"
	found=$(echo "$found" | grep .)
	if [ -n "$found" ]; then
		echo "secrets (1 password, 2 passphrase, 3-5 key lines) found:"
		echo "$found"
		ca_fail "secrets found: $(echo "$found" | tr '\n' ';')"
	fi
	# Still working after the stops.
	sapi_expect 200 POST "/connections/$PW_ID/execute" \
	    '{"command": "true"}'
	ca_stop
}
secrets_cleanup()
{
	sec_cleanup
}

# Print the secrets found in the memory of the workers of sessions $@.
worker_secrets()
{
	for _id in "$@"; do
		_p=$("$CA_CTL" -s "$W/ctl.sock" -j show session "$_id" |
		    jq -r .pid)
		_m=$(mem_secrets "$_p" | tr -s ' \n' ' ')
		[ -n "$_m" ] && echo "worker of $_id" \
		    "($(ca_cmdline "$_p" | tr -s ' ')): $_m"
	done
}

atf_test_case worker_memory cleanup
worker_memory_head()
{
	atf_set descr "SSH workers do not keep the password, passphrase or" \
	    "key once logged in"
	atf_set timeout 300
	atf_set require.user root
}
worker_memory_body()
{
	secrets_up
	open_sessions
	use_sessions
	found=$(worker_secrets $PW_ID $KEY_ID)
	if [ -n "$found" ]; then
		echo "secrets (1 password, 2 passphrase, 3-5 key lines) found:"
		echo "$found"
		ca_fail "secrets found: $(echo "$found" | tr '\n' ';')"
	fi
	for id in $PW_ID $KEY_ID; do
		sapi_expect 200 POST "/connections/$id/execute" \
		    '{"command": "true"}'
	done
	ca_stop
}
worker_memory_cleanup()
{
	sec_cleanup
}

# A known gap, kept visible: it starts failing loudly once it is fixed.
atf_test_case ftp_worker_memory cleanup
ftp_worker_memory_head()
{
	atf_set descr "an FTP worker does not keep the password"
	atf_set timeout 300
	atf_set require.user root
}
ftp_worker_memory_body()
{
	secrets_up
	open_sessions
	use_sessions
	found=$(worker_secrets $FTP_ID)
	sapi_expect 200 GET "/connections/$FTP_ID/files?path=$FTPD_HOME"
	ca_stop
	# Only the search is expected to fail, not the steps before it.
	atf_expect_fail "libcurl keeps its own copy of the FTP password to" \
	    "log in again when the server drops the control connection"
	[ -z "$found" ] || atf_fail "secrets found: $found"
}
ftp_worker_memory_cleanup()
{
	sec_cleanup
}

atf_init_test_cases()
{
	atf_add_test_case secrets
	atf_add_test_case worker_memory
	atf_add_test_case ftp_worker_memory
}
