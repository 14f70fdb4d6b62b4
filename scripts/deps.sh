#!/bin/sh
# Installs what vs needs to build and test on Debian 12 (run as root).
# Does nothing when everything is there already.
set -e
PKGS="build-essential autoconf automake libtool pkg-config libltdl-dev
libconfuse-dev libcap-dev libattr1-dev libcunit1-dev libssl-dev libarchive-dev
busybox-static procps libmnl-dev iproute2 libcap2-bin
e2fsprogs xfsprogs attr rpm zstd bzip2 xz-utils debootstrap
dnf createrepo-c gpg mmdebstrap libseccomp-dev libjansson-dev openssh-server
openssh-client zsh scdoc debhelper lintian bash-completion
libsystemd-dev dbus podman runc containerd qemu-system-x86 kmod python3-grpcio
strace"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# no service starts from a package here (openssh-server's sshd: the copy
# test runs its own on the loopback of a network namespace)
policy=
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy=1
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
