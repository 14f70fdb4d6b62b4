# What the vs oci tests share (sourced after lib.sh): oci (vs oci with a
# state root of the test's own), mkbundle, left.
OR=$T/oci-state
oci() { "$VS" oci --root "$OR" "$@"; }
# bundle DIR: a busybox rootfs and the default spec, adjusted by the
# python snippet $2 (c is the config), cgroupsPath below the test's base
mkbundle() {
	rm -rf "$1"
	mkdir -p "$1/rootfs/bin" "$1/rootfs/tmp" "$1/rootfs/etc" "$1/rootfs/proc" \
		"$1/rootfs/dev" "$1/rootfs/sys"
	cp /bin/busybox "$1/rootfs/bin/busybox"
	for a in sh cat ls id echo sleep mkdir touch hostname grep ps true; do
		ln -s busybox "$1/rootfs/bin/$a"
	done
	(cd "$1" && "$VS" oci spec) || return 1
	python3 - "$1/config.json" "$CGBASE/$(basename "$1")" "$2" <<'EOF'
import json, sys
path, cg, snippet = sys.argv[1:4]
c = json.load(open(path))
c['process']['terminal'] = False
c['linux']['cgroupsPath'] = '/' + cg
exec(snippet)
json.dump(c, open(path, 'w'), indent=1)
EOF
}
# left ID: what container ID left: its state; any cgroup below the test's
# base (the groups are named after the bundles) but those named in $KEEP
# (a container still running)
left() {
	ls -d "$OR/$1" 2>/dev/null
	find /sys/fs/cgroup/*/"$CGBASE" /sys/fs/cgroup/"$CGBASE" -mindepth 1 -maxdepth 1 \
		-type d 2>/dev/null | grep -v "/${KEEP:-/}\$"
}
