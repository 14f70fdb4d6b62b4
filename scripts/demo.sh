#!/bin/sh
# Sets everything up and runs the demo on a private sysroot (./demo-root):
# builds guests (one with a static busybox as its userland), starts one,
# runs commands in it, shows vs stat and vs ps, stops it, deletes one.
# The host's own /etc/vservers and /vservers are never touched.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
sh scripts/build.sh
if [ "$(id -u)" != 0 ]; then
	echo "demo: building and starting guests needs root" >&2
	exit 1
fi
root=$top/demo-root
mods=$root.modules
if [ -d "$root" ]; then
	"$top/vs" --sysroot "$root" --plugindir "$mods" web stop 2>/dev/null || :
	rm -rf "$root" "$mods"
fi
mkdir -p "$root" "$mods"
install -m 0755 plugins/build/skeleton/.libs/skeleton.so plugins/hooks/scripts/.libs/scripts.so "$mods/"
vs() { echo "+ vs $*"; "$top/vs" --sysroot "$root" --plugindir "$mods" --datadir "$top/conf.d" "$@"; }

vs plugins
# a guest whose userland is a static busybox: the skeleton method's
# optional command fills the new root (VDIR) on the host
vs web build -m skeleton --hostname web.example.org --initstyle plain \
	--interface eth0:192.168.3.1/24 -- sh -c '
	mkdir -p "$VDIR/bin" "$VDIR/sbin" "$VDIR/tmp"
	cp /bin/busybox "$VDIR/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$VDIR/bin/$a"; done
	ln -s ../bin/busybox "$VDIR/sbin/init"
	printf "::ctrlaltdel:/bin/busybox poweroff -f\n" >"$VDIR/etc/inittab"'
vs build db -m skeleton --hostname db.example.org --interface 'db=eth0:[2001:db8::2]/64'
vs build tmp -m skeleton --context 4242
vs list
vs web start
vs web exec hostname
vs web exec ps
vs web exec sh -c 'echo "inside: $(id -u)@$(hostname), mounts:"; mount | cut -d" " -f3 | tr "\n" " "; echo'
vs stat
vs ps -e | grep -e CONTEXT -e ' web '
vs web status -v
vs web stop
vs web status || :
vs tmp delete --yes
vs list --json
echo "demo: done; the demo's host root is $root (remove it with: rm -rf '$root' '$mods')"
