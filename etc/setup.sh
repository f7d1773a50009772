#!/bin/sh
# Create what coreastrad needs on the host: the unprivileged user its
# children run as, the empty chroot directory and the state directory
# that holds the known hosts file.  Run by `make setup' and
# `make install'.  As root, missing items are created; otherwise they
# are listed with the commands to run, and the script succeeds (a
# development daemon started by an ordinary user needs none of them).
#
# usage: sh etc/setup.sh [user [chroot [statedir]]]

user=${1:-_coreastra}
chroot=${2:-/var/empty}
statedir=${3:-/var/lib/coreastrad}
nologin=/usr/sbin/nologin
[ -x "$nologin" ] || nologin=/bin/false

missing=0
cmds=

# Remember a command for a non-root caller, or run it as root.
need()
{
	missing=$((missing + 1))
	if [ "$(id -u)" -ne 0 ]; then
		cmds="$cmds  $*
"
		return 0
	fi
	echo "setup: $*"
	"$@" || { echo "setup: failed: $*" >&2; exit 1; }
}

# The user: a system account with no home, no shell and its own group.
if ! getent passwd "$user" >/dev/null 2>&1; then
	need useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell "$nologin" "$user"
fi

# The chroot: root-owned, not writable by others, and empty, or a
# compromised child could find something there.
if [ ! -d "$chroot" ]; then
	need install -d -o root -g root -m 0755 "$chroot"
else
	if [ "$(stat -c %u "$chroot")" -ne 0 ]; then
		need chown root:root "$chroot"
	fi
	if [ $((0$(stat -c %a "$chroot") & 022)) -ne 0 ]; then
		need chmod 0755 "$chroot"
	fi
	if [ -n "$(ls -A "$chroot" 2>/dev/null)" ]; then
		echo "setup: $chroot is not empty; empty it by hand" >&2
		exit 1
	fi
fi

# The state directory: only root reads the known hosts.
if [ ! -d "$statedir" ]; then
	need install -d -o root -g root -m 0700 "$statedir"
fi

if [ "$missing" -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
	echo "setup: not root; coreastrad running as root needs:"
	printf '%s' "$cmds"
	echo "setup: as an ordinary user the daemon runs without them"
fi
exit 0
