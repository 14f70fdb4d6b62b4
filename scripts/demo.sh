#!/bin/sh
# Sets everything up and runs the demo on a private sysroot (./demo-root):
# builds guests, lists them, shows the plugins, deletes one.  The host's
# own /etc/vservers and /vservers are never touched.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh scripts/deps.sh
sh scripts/build.sh
if [ "$(id -u)" != 0 ]; then
	echo "demo: building guests needs root" >&2
	exit 1
fi
root=$top/demo-root
mods=$root.modules
rm -rf "$root" "$mods"
mkdir -p "$root" "$mods"
install -m 0755 plugins/build/skeleton/.libs/skeleton.so "$mods/"
vs() { echo "+ vs $*"; "$top/vs" --sysroot "$root" --plugindir "$mods" --datadir "$top/conf.d" "$@"; }

vs plugins
vs web build -m skeleton --hostname web.example.org --interface eth0:192.168.3.1/24
vs build db -m skeleton --hostname db.example.org --interface 'db=eth0:[2001:db8::2]/64'
vs build tmp -m skeleton --context 4242
vs list
vs list --json
echo "+ the configuration of 'web':"
(cd "$root$("$top/vs" --sysroot "$root" paths | awk '$1=="confdir"{print $2}')/web" &&
	find . -type f -printf '  %p: ' -exec head -n 1 {} \;)
vs tmp delete --yes
vs list
echo "demo: done; the demo's host root is $root (remove it with: rm -rf '$root' '$mods')"
