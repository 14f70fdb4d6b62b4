# What the containerd tests share (sourced after lib.sh, C set to a
# directory under $T): a containerd of the test's own, its root, state
# and sockets under $C, in a mount namespace of its own with /run on a
# tmpfs.
for t in containerd ctr containerd-shim-runc-v2 runc unshare nsenter; do
	command -v "$t" >/dev/null || {
		echo "SKIP: $t is not installed (packages containerd, runc)"
		exit 77
	}
done
mkdir -p "$C/bin"
# ctd_head DISABLED: the head of $C/config.toml, DISABLED the plugins
# left out (a TOML list's items)
ctd_head() {
	cat <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = [$1]
[grpc]
  address = "$C/sock"
[ttrpc]
  address = "$C/sock.ttrpc"
EOF
}
# $C/bin/vs-oci: vs oci, noting each call in $C/vs-oci.calls (the test
# knows the shim ran it)
cat >"$C/bin/vs-oci" <<EOF
#!/bin/sh
echo "\$*" >>"$C/vs-oci.calls"
exec "$VS" --plugindir "$MODS" oci "\$@"
EOF
chmod 755 "$C/bin/vs-oci"
# ctd_start: containerd with $C/config.toml (CTD its pid); it and its
# shims go when the test does, however it ends
ctd_start() {
	unshare -m --propagation private sh -c 'mount -t tmpfs vs-test /run && exec "$@"' \
		containerd-ns containerd --config "$C/config.toml" >"$C/log" 2>&1 &
	CTD=$!
	trap 'pkill -KILL -f "$C/" 2>/dev/null; kill -9 $CTD 2>/dev/null; cleanup' EXIT
	await 120 test -S "$C/sock"
	[ -S "$C/sock" ] || { fail "containerd started" "$(tail -3 "$C/log")"; finish; exit 1; }
}
# ctd_want WHO NAME RESULT EXPECTED: the line RESULT of $C/WHO.txt (the
# flows through vs-oci) is EXPECTED and that of $C/runc.txt; WHAT names
# the client in the checks
ctd_result() { sed -n "s/^$1: //p" "$C/$2.txt"; }
ctd_want() {
	same "$WHAT with $1: $2" "$4" "$(ctd_result "$3" "$1")"
	same "$WHAT: $2, $1 as runc" "$(ctd_result "$3" runc)" "$(ctd_result "$3" "$1")"
}
