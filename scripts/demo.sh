#!/bin/sh
# Sets everything up and runs the demo on a private sysroot (./demo-root):
# builds guests (two with a static busybox as their userland), starts one,
# runs commands in it, shows vs stat and vs ps, stops it, unifies the two
# busybox guests and shows the space saved, builds two more guests from
# one image and hashifies them into a store (the space saved again),
# deletes one.
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
	chattr -R -i "$root" 2>/dev/null || : # unified files are immutable
	rm -rf "$root" "$mods"
fi
mkdir -p "$root" "$mods"
for p in plugins/*/*/.libs/*.so; do install -m 0755 "$p" "$mods/"; done
vs() { echo "+ vs $*"; "$top/vs" --sysroot "$root" --plugindir "$mods" --datadir "$top/conf.d" "$@"; }

vs plugins
# a guest whose userland is a static busybox: the skeleton method's
# optional command fills the new root (VDIR) on the host
busybox_root='
	mkdir -p "$VDIR/bin" "$VDIR/sbin" "$VDIR/tmp" "$VDIR/usr/share/doc"
	cp -p /bin/busybox "$VDIR/bin/"
	for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$VDIR/bin/$a"; done
	ln -s ../bin/busybox "$VDIR/sbin/init"
	cp -rp /usr/share/common-licenses "$VDIR/usr/share/doc/" 2>/dev/null || :
	printf "::ctrlaltdel:/bin/busybox poweroff -f\n" >"$VDIR/etc/inittab"'
vs web build -m skeleton --hostname web.example.org --initstyle plain \
	--interface nodev:192.0.2.10/24 -- sh -c "$busybox_root"
vs web2 build -m skeleton --hostname web2.example.org --initstyle plain -- sh -c "$busybox_root"
vs build db -m skeleton --hostname db.example.org --interface 'db=nodev:[2001:db8::2]/64'
vs build tmp -m skeleton --context 4242
vs list
vs web start
vs web exec hostname
vs web exec ps
vs web exec sh -c 'echo "inside: $(id -u)@$(hostname), mounts:"; mount | cut -d" " -f3 | tr "\n" " "; echo'
# its own network namespace: the nodev address sits on its loopback only,
# so nothing of the demo reaches a real network
vs web exec ip -o addr
vs stat
vs ps -e | grep -e CONTEXT -e ' web '
vs web status -v
vs web stop
vs web status || :
# share the identical files of web2 with web (hardlinks here: ext4)
vrootdir=$("$top/vs" --sysroot "$root" paths | awk '$1 == "vrootdir" { print $2 }')
confdir=$("$top/vs" --sysroot "$root" paths | awk '$1 == "confdir" { print $2 }')
mkdir -p "$root$confdir/web/apps/vunify" "$root$confdir/web2/apps/vunify"
ln -s ../../../web "$root$confdir/web2/apps/vunify/refserver.1"
before=$(du -sk "$root$vrootdir" | cut -f1)
vs web2 unify
after=$(du -sk "$root$vrootdir" | cut -f1)
echo "space used by the guest roots: ${before} KiB before, ${after} KiB after unification ($((before - after)) KiB saved)"
vs attr show "$root$vrootdir/web2/bin/busybox"
vs web2 start
vs web2 exec sh -c 'echo "web2 runs on the shared busybox: $(busybox | head -n 1)"'
vs web2 stop
# two guests from one image (the template method), hashified into a
# store for all guests, as the util-vserver documentation sets it up
tar -czf "$root.image.tgz" -C "$root$vrootdir/web" .
vs img1 build -m template --hostname img1.example.org -- -t "$root.image.tgz"
vs img2 build -m template --hostname img2.example.org -- -t "$root.image.tgz"
rm -f "$root.image.tgz"
mkdir -p "$root$confdir/.defaults/apps/vunify/hash" "$root$vrootdir/.hash"
ln -s "$vrootdir/.hash" "$root$confdir/.defaults/apps/vunify/hash/0"
mkdir -p "$root$confdir/img1/apps/vunify" "$root$confdir/img2/apps/vunify"
before=$(du -sk "$root$vrootdir/img1" "$root$vrootdir/img2" | awk '{ s += $1 } END { print s }')
vs hashify img1 img2
after=$(du -sk "$root$vrootdir/img1" "$root$vrootdir/img2" | awk '{ s += $1 } END { print s }')
echo "space used by img1 and img2: ${before} KiB before, ${after} KiB after hashification ($((before - after)) KiB saved)"
vs hashify --verify "$confdir/.defaults/apps/vunify/hash"
vs img2 start
vs img2 exec sh -c 'echo "img2 runs on the store'"'"'s busybox: $(busybox | head -n 1)"'
vs img2 stop
vs tmp delete --yes
vs list --json
echo "demo: done; the demo's host root is $root (remove it with: chattr -R -i '$root'; rm -rf '$root' '$mods')"
