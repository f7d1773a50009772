#!/bin/sh
# Install the Debian packages listed in $1 that are missing.  As root they
# are installed with apt-get; otherwise the command to run is printed and
# the script fails.
list=${1:-etc/deps.debian}
missing=
for p in $(grep -v '^#' "$list"); do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$s" in
	*"ok installed") ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages; run as root:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || exit 1
# Keep the packaged sshd and vsftpd from starting on their standard ports.
apt-get install -y -q --no-install-recommends $missing || exit 1
