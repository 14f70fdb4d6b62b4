#!/bin/bash
# vs oci (vs-oci): runc's command line on bundles made here (a static
# busybox rootfs): spec and run (--no-pivot too), terminals, idmapped
# mounts, namespaces joined by path, config.json's process (user,
# capabilities, rlimits, noNewPrivileges), the read-only root, masked and
# read-only paths, seccomp, hooks, escapes (a symlinked mount
# destination, a double chroot, the caller's descriptors), and every bad
# input with one line and nothing left.  The lifecycle with resources:
# ocicgroup.sh; devices: ocidevices.sh.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99

. "$srcdir/tests/cli/ocilib.sh"

# ---- spec, run -------------------------------------------------------
mkdir -p "$T/s"
cd "$T/s" || exit 99
expect_ok "spec writes a config.json" "$VS" oci spec
check "the spec is JSON with a process" python3 -c "import json; assert json.load(open('$T/s/config.json'))['process']['args']"
expect_error "spec refuses to overwrite one" 1 "cannot write './config.json'" "$VS" oci spec
cd "$T" || exit 99

# ---- --log: an error as containerd's shim reads it --------------------
run "$VS" oci --root "$OR" --log "$T/oci.log" --log-format json state nosuch
check "--log-format json: the error as one JSON line in the log (exit $RC)" /usr/bin/python3 -c "
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
e = json.loads(lines[0])
assert e['level'] == 'error' and e['msg'] == \"container 'nosuch' does not exist\" and e['time'].endswith('Z'), e
assert sys.argv[2] != '0'
" "$T/oci.log" "$RC"
run "$VS" oci --root "$OR" --log "$T/oci.txt" state nosuch
same "--log alone: the error as a text line" "vs-oci: container 'nosuch' does not exist" "$(cat "$T/oci.txt" 2>&1)"
expect_error "--log-format of another kind" 2 "oci: bad --log-format 'xml': text or json" "$VS" oci --root "$OR" --log-format xml state nosuch

B=$T/b1
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'echo out; hostname; exit 7']"
run oci run -b "$B" r1
same "run: the process's exit status" 7 "$RC"
same "run: its output and the spec's host name" "out
vs-oci" "$OUT"
same "run: nothing left" "" "$(left r1)"
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'ls /; exit 5']"
run oci run --no-pivot -b "$B" np1
same "run --no-pivot (the rootfs moved onto /, then chroot): only the rootfs's entries, the status" "bin dev etc proc sys tmp 5" \
	"$(echo $OUT) $RC"
# tried as an attack: a double chroot (CAP_SYS_CHROOT) climbs out of a
# chroot; with the rootfs moved onto / there is nothing above it
echo "vs-host-secret-$$" >"$T/np-marker"
mkbundle "$B" "c['process']['args'] = ['/hostile', 'chroot-out', '$T/np-marker']
c['root']['readonly'] = False
for k in ('bounding', 'effective', 'permitted'): c['process']['capabilities'][k].append('CAP_SYS_CHROOT')"
cp "$top_builddir/tests/fixtures/hostile" "$B/rootfs/hostile"
run oci run --no-pivot -b "$B" np2
same "run --no-pivot: a double chroot does not reach the host's files" "contained after a double chroot" "$OUT"
same "nothing left of np1, np2" "" "$(left np1; left np2)"

# ---- the caller's session keyring -------------------------------------
# tried as an attack: the runtime's caller (an engine, a shim) holds a
# key in its session keyring; the container's process (no seccomp
# profile here to refuse keyctl) looks for it from its own session
# keyring.  Each container has its own, "_ses.<id>", which exec joins;
# --no-new-keyring keeps the caller's, as in runc
HK="$top_builddir/tests/fixtures/hostile"
withkey() { # withkey OCI-ARGS...: vs oci, its caller holding the key
	"$HK" withkey vs-test-key "vs-host-secret-$$" "$VS" oci --root "$OR" "$@"
}
keyring_checks() { # keyring_checks RUN-ID EXEC-ID [SNIPPET]
	mkbundle "$B" "c['process']['args'] = ['/hostile', 'sessionkey', 'vs-test-key']
${3:-}"
	cp "$HK" "$B/rootfs/hostile"
	run withkey run -b "$B" "$1"
	same "${3:+a user-namespace container: }the caller's session key is not reached from the container" \
		"0 _ses.$1 contained Required key not available" "$RC $OUT"
	[ -z "${3:-}" ] && run withkey run --no-new-keyring -b "$B" kr0 &&
		same "--no-new-keyring: the caller's session keyring is kept (as runc)" \
			"0 _ses reached vs-host-secret-$$" "$RC $OUT"
	mkbundle "$B" "c['process']['args'] = ['sleep', '300']
${3:-}"
	cp "$HK" "$B/rootfs/hostile"
	withkey create -b "$B" "$2" && oci start "$2"
	run withkey exec "$2" /hostile sessionkey vs-test-key
	same "${3:+a user-namespace container: }exec: the container's session keyring, not the caller's" \
		"0 _ses.$2 contained Required key not available" "$RC $OUT"
	expect_ok "delete --force $2" oci delete --force "$2"
}
keyring_checks kr1 kr2
# in a user namespace of its own
keyring_checks kr3 kr4 "c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"
same "nothing left of kr0 to kr4" "" "$(for k in 0 1 2 3 4; do left kr$k; done)"

# ---- signals the caller ignored (a background job, nohup) -------------
mkbundle "$B" "c['process']['args'] = ['grep', 'SigIgn', '/proc/self/status']"
run bash -c "trap '' INT HUP; exec \"\$@\"" _ "$VS" oci --root "$OR" run -b "$B" sg1
same "the container's process ignores no signal its caller ignored" "0 SigIgn:	0000000000000000" "$RC $OUT"
same "nothing left of sg1" "" "$(left sg1)"

# ---- exec -t without a console socket: the runtime relays ------------
mkbundle "$B" "c['process']['args'] = ['sleep', '300']"
oci create -b "$B" t1 && oci start t1
run oci exec -t t1 sh -c 'tty; echo in; exit 5' </dev/null
same "exec -t: the process has a terminal, relayed to our output, and its status" "/dev/pts/0
in
5" "$(printf '%s\n' "$OUT" | tr -d '\r'; echo "$RC")"
mkbundle "$T/b3" "c['process']['args'] = ['sh', '-c', 'tty; [ /dev/console -ef \"\$(tty)\" ] && echo console; exit 4']
c['process']['terminal'] = True"
run oci run -b "$T/b3" t2 </dev/null
same "run of a terminal process in the foreground without a console socket: relayed, /dev/console is its terminal (as runc), its status" "/dev/pts/0
console
4" "$(printf '%s\n' "$OUT" | tr -d '\r'; echo "$RC")"
same "nothing left of t2" "" "$(KEEP=b1 left t2)"
expect_error "create of a terminal process without a console socket" 1 "process.terminal is set: --console-socket is needed" oci create -b "$T/b3" t3
run oci exec --cap CAP_NET_ADMIN t1 grep -E '^Cap(Eff|Bnd)' /proc/self/status
same "exec --cap: added to the process's sets (the spec's three and NET_ADMIN)" "CapEff:	0000000020001420
CapBnd:	0000000020001420" "$OUT"
expect_error "exec --cap of an unknown capability" 1 "exec --cap: unknown capability 'CAP_FLY'" oci exec --cap CAP_FLY t1 true
expect_error "exec -t -d without a console socket" 1 "exec --tty --detach needs --console-socket" oci exec -t -d t1 true
oci delete -f t1 >/dev/null 2>&1

# ---- idmapped bind mounts (mounts[].uidMappings) ---------------------
mkdir -p "$T/idm"
echo data >"$T/idm/f"
chown 0:0 "$T/idm/f"
# the file system of $T takes idmapped mounts (the VM's root, an overlay
# of the host's through 9p, does not)
IDMAP=1
case $(stat -f -c %T "$T") in overlayfs | v9fs) IDMAP= ;; esac
if [ -n "$IDMAP" ]; then
	mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'stat -c \"%u %g\" /mnt/f; cat /mnt/f']
c['mounts'].append({'destination': '/mnt', 'type': 'bind', 'source': '$T/idm', 'options': ['bind'],
    'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],
    'gidMappings': [{'containerID': 0, 'hostID': 1001, 'size': 1}]})"
	run oci run -b "$B" im1
	same "an idmapped bind mount: the host's root-owned file seen through the maps" "1000 1001
data" "$OUT$ERR"
	same "the host's file unchanged" "0 0" "$(stat -c '%u %g' "$T/idm/f")"
else
	skip "idmapped bind mounts: $(stat -f -c %T "$T") at $T takes none"
fi
mkbundle "$B" "c['mounts'].append({'destination': '/mnt', 'type': 'tmpfs', 'source': 'tmpfs', 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], 'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]})"
expect_error "id maps on a mount that is not a bind" 1 "only bind mounts can be idmapped" oci create -b "$B" im2
mkbundle "$B" "c['mounts'].append({'destination': '/mnt', 'type': 'bind', 'source': '$T/idm', 'options': ['bind'], 'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]})"
expect_error "uid maps without gid maps" 1 "needs both uidMappings and gidMappings" oci create -b "$B" im3
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'stat -c \"%u %g\" /mnt/f; cat /mnt/f']
c['mounts'].append({'destination': '/mnt', 'type': 'bind', 'source': '$T/idm', 'options': ['bind'], 'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}], 'gidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}]})
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"
mkdir -p "$B/rootfs/mnt" # (its root cannot make it in the host's tree)
if [ -n "$IDMAP" ]; then
	run oci run -b "$B" im4
	same "an idmapped mount in a user-namespace container: the host's root-owned file is its root's" "0 0
data" "$OUT$ERR"
fi
same "nothing left of im1-im4" "" "$(left im1; left im2; left im3; left im4)"

# ---- namespaces joined by path ----------------------------------------
mkbundle "$B" "c['process']['args'] = ['sleep', '300']
c['hostname'] = 'j1host'
c['linux']['namespaces'].append({'type': 'time'})"
oci create -b "$B" --pid-file "$T/jpid" j1 && oci start j1
J=$(cat "$T/jpid" 2>/dev/null)
# exec joins every namespace of the container, its time namespace too
run oci exec j1 sh -c 'readlink /proc/self/ns/time'
same "exec: the process is in the container's time namespace" "0 $(readlink /proc/"$J"/ns/time)" "$RC $OUT"
mkbundle "$T/b2" "c['process']['args'] = ['sh', '-c', 'hostname; cat /proc/1/comm; readlink /proc/self/ns/time']
c['linux']['namespaces'].append({'type': 'time', 'path': '/proc/$J/ns/time'})
c['hostname'] = None
for n in c['linux']['namespaces']:
    if n['type'] in ('pid', 'uts', 'ipc', 'network'):
        n['path'] = '/proc/$J/ns/' + {'pid': 'pid', 'uts': 'uts', 'ipc': 'ipc', 'network': 'net'}[n['type']]
del c['hostname']
c['hooks'] = {'prestart': [{'path': '/bin/sh', 'args': ['sh', '-c', 'readlink /proc/self/ns/pid >$T/hookns']}]}"
run oci run -b "$T/b2" j2
same "joined pid, uts and time namespaces: the other container's host name, its process as pid 1, its time namespace" "j1host
sleep
$(readlink /proc/"$J"/ns/time)" "$OUT"
check "the joined time namespace is not the host's" test "$(readlink /proc/"$J"/ns/time)" != "$(readlink /proc/self/ns/time)"
same "the runtime's other children stay in its pid namespace (a prestart hook's)" \
	"$(readlink /proc/self/ns/pid)" "$(cat "$T/hookns" 2>/dev/null)"
oci delete -f j1 >/dev/null 2>&1
# a user namespace joined by path (a pod's containers share one): the
# container's namespaces are made in it, its root is the other's root
USERNS="c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]"
mkbundle "$B" "c['process']['args'] = ['sleep', '300']
$USERNS"
oci create -b "$B" --pid-file "$T/upid" u1 && oci start u1
U=$(cat "$T/upid" 2>/dev/null)
JOIN="c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/$U/ns/user'})
[n.update(path='/proc/$U/ns/net') for n in c['linux']['namespaces'] if n['type'] == 'network']"
mkbundle "$T/b2" "c['process']['args'] = ['sh', '-c', 'tr -s \" \" </proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/self/ns/net; id -u; cat /proc/1/comm; hostname; exit 3']
$JOIN"
run oci run -b "$T/b2" u2
same "run waits for it (a grandchild: two stages) and gives its exit status" 3 "$RC"
same "a joined user namespace: its maps, the other's user and network namespaces, root there, pid 1 in a new pid namespace with its /proc, its own host name" \
	" 0 100000 65536
$(readlink /proc/"$U"/ns/user /proc/"$U"/ns/net)
0
sh
vs-oci" "$OUT$ERR"
mkbundle "$T/b2" "c['process']['args'] = ['sleep', '300']
$JOIN"
oci create -b "$T/b2" --pid-file "$T/u3pid" u3
U3=$(cat "$T/u3pid" 2>/dev/null)
same "its process is the namespace's root, not the host's (uid 100000 on the host)" "100000" \
	"$(awk '$1 == "Uid:" { print $2 }' /proc/"$U3"/status 2>/dev/null)"
check "its mount namespace belongs to the joined user namespace" \
	test "$(readlink /proc/"$U3"/ns/mnt)" != "$(readlink /proc/"$U"/ns/mnt)" -a -n "$U3"
oci delete -f u3 >/dev/null 2>&1
oci delete -f u1 >/dev/null 2>&1
mkbundle "$T/b2" "c['linux']['namespaces'].append({'type': 'user', 'path': '/proc/self/ns/net'})"
expect_error "a user namespace path that is another kind of namespace: one line" 1 "cannot join the user namespace '/proc/self/ns/net'" oci create -b "$T/b2" j3
# a mount namespace given by path: the container sees what is mounted
# there; its root is made in a copy of it, so the joined one (one held
# by a file, then the test's own) is left exactly as it was
MNTJOIN="[n.update(path='$T/mntns') for n in c['linux']['namespaces'] if n['type'] == 'mount']"
mkbundle "$T/b3" "c['process']['args'] = ['sh', '-c', 'cat /mnt/marker; ls /']
$MNTJOIN"
mkdir "$T/b3/rootfs/mnt" && touch "$T/mntns"
if unshare --mount="$T/mntns" --propagation private true &&
	nsenter --mount="$T/mntns" sh -c "mount -t tmpfs vs-test-j '$T/b3/rootfs/mnt' && echo joined >'$T/b3/rootfs/mnt/marker'"; then
	before=$(nsenter --mount="$T/mntns" cat /proc/self/mountinfo)
	run oci run -b "$T/b3" j6
	same "a joined mount namespace: its mounts seen in the container, whose root is the rootfs" "0 joined bin dev etc mnt proc sys tmp" "$RC $(echo $OUT)"
	same "the joined mount namespace is left as it was" "$before" \
		"$(nsenter --mount="$T/mntns" cat /proc/self/mountinfo)"
	check "the mount made there is not in the test's namespace" test ! -e "$T/b3/rootfs/mnt/marker"
	umount "$T/mntns"
else
	skip "a joined mount namespace: unshare --mount=FILE does not work here"
fi
mkbundle "$T/b3" "c['process']['args'] = ['ls', '/']
[n.update(path='/proc/$$/ns/mnt') for n in c['linux']['namespaces'] if n['type'] == 'mount']"
before=$(cat /proc/self/mountinfo)
run sh -c "cd '$T' && exec '$VS' oci --root '$OR' run -b b3 --pid-file rel.pid j7"
same "the test's own mount namespace joined: the container's root is the rootfs" "0 bin dev etc proc sys tmp" "$RC $(echo $OUT)"
same "the test's own mount namespace is left as it was" "$before" "$(cat /proc/self/mountinfo)"
check "the runtime is back in its working directory (a relative --pid-file)" test -s "$T/rel.pid"
mkbundle "$T/b2" "[n.update(path='/proc/self/ns/net') for n in c['linux']['namespaces'] if n['type'] == 'mount']"
expect_error "a mount namespace path that is another kind of namespace" 1 "cannot join the mount namespace '/proc/self/ns/net'" oci create -b "$T/b2" j8
mkbundle "$T/b2" "[n.update(path='$T/nope') for n in c['linux']['namespaces'] if n['type'] == 'pid']"
expect_error "a pid namespace path that does not exist" 1 "cannot open the namespace '$T/nope'" oci create -b "$T/b2" j4
mkbundle "$T/b2" "[n.update(path='/proc/self/ns/net') for n in c['linux']['namespaces'] if n['type'] == 'pid']"
expect_error "a pid namespace path that is another kind of namespace" 1 "cannot join the pid namespace '/proc/self/ns/net'" oci create -b "$T/b2" j5
same "nothing left of j1-j8, u1-u3" "" "$(for j in j1 j2 j3 j4 j5 j6 j7 j8 u1 u2 u3; do left $j; done)"

# ---- the process -----------------------------------------------------
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'id -u; id -G; grep -E \"^(CapBnd|CapEff|NoNewPrivs)\" /proc/self/status; ulimit -n; touch /x 2>/dev/null && echo rootw; touch /tmp/x 2>/dev/null && echo tmpw; wc -c </proc/timer_list; echo 1 >/proc/sys/kernel/domainname 2>/dev/null && echo sysw; cat /proc/self/oom_score_adj; echo end']
c['process']['user'] = {'uid': 1000, 'gid': 1000, 'additionalGids': [5, 7]}
c['process']['oomScoreAdj'] = 250
c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'hard': 321, 'soft': 123}]
c['process']['capabilities'] = {'bounding': ['CAP_KILL', 'CAP_CHOWN'], 'effective': ['CAP_KILL'], 'permitted': ['CAP_KILL', 'CAP_CHOWN'], 'inheritable': ['CAP_KILL'], 'ambient': ['CAP_KILL']}
c['mounts'].append({'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs', 'options': ['mode=1777']})"
run oci run -b "$B" p1
same "process: uid, groups, effective (ambient) and bounding capabilities, no_new_privs, rlimit, read-only root, writable tmpfs, masked /proc/timer_list, read-only /proc/sys, oomScoreAdj" "1000
1000 5 7
CapEff:	0000000000000020
CapBnd:	0000000000000021
NoNewPrivs:	1
123
tmpw
0
250
end" "$OUT"

# ---- process.env, process.cwd, hostname, domainname, an LSM profile ----
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'pwd; echo \"\$FOO\"; hostname; cat /proc/sys/kernel/domainname']
c['process']['env'] = ['PATH=/bin', 'FOO=bar baz']
c['process']['cwd'] = '/tmp'
c['process']['apparmorProfile'] = 'some-profile'
c['process']['selinuxLabel'] = 'system_u:system_r:container_t:s0'
c['hostname'] = 'h.example'
c['domainname'] = 'dom.example'"
run oci run -b "$B" e1
same "process.env and cwd, hostname and domainname" "0|/tmp
bar baz
h.example
dom.example" "$RC|$OUT"
check "an AppArmor profile is ignored with a warning" grep -q "process.apparmorProfile ignored" "$T/err"
check "an SELinux label too" grep -q "process.selinuxLabel ignored" "$T/err"
# features: what the runtime supports, as runc reports it (containerd
# and Podman read it)
run oci features
check "features: the runtime-spec versions, the hooks, the namespaces, no LSM" /usr/bin/python3 -c "
import json, sys
f = json.loads(sys.argv[1])
assert (f['ociVersionMin'], f['ociVersionMax']) == ('1.0.0', '1.1.0'), f
assert 'createRuntime' in f['hooks'] and 'poststop' in f['hooks'], f['hooks']
assert sorted(f['linux']['namespaces']) == ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts']
assert 'SCMP_ACT_ERRNO' in f['linux']['seccomp']['actions']
assert not f['linux']['apparmor']['enabled'] and not f['linux']['selinux']['enabled']
" "$OUT"
expect_error "features takes no argument" 2 "features takes" oci features x
# a working directory the image lacks (an image's WorkingDir often is)
# is made, inside the rootfs even through a symlink of the image's, as
# runc makes it; with a read-only root too
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'pwd; ls -d /srv/app/x']
c['process']['cwd'] = '/lnk/app/x'"
ln -s /srv "$B/rootfs/lnk"
run oci run -b "$B" e2
same "a missing process.cwd is made (through the image's symlink: inside the rootfs)" "0|/srv/app/x|/srv/app/x|" \
	"$RC|$(echo "$OUT" | paste -sd'|')|$ERR"
check "... nothing made on the host" test ! -e /lnk -a ! -e /srv/app

# ---- linux.sysctl ----------------------------------------------------
# written while /proc/sys is writable, before the spec makes it read-only
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_default_ttl /proc/sys/kernel/domainname']
c['linux']['sysctl'] = {'kernel.msgmax': '12345', 'net.ipv4.ip_default_ttl': '77', 'kernel.domainname': 'sysctl.example'}"
hostmsg=$(cat /proc/sys/kernel/msgmax)
run oci run -b "$B" s1
same "linux.sysctl: the container's IPC, network and UTS settings, with /proc/sys read-only afterwards" "0|12345
77
sysctl.example" "$RC|$OUT"
same "linux.sysctl: the host's own are unchanged" "$hostmsg" "$(cat /proc/sys/kernel/msgmax)"
# a setting of the whole host would change the host (runc refuses it too)
mkbundle "$B" "c['linux']['sysctl'] = {'vm.swappiness': '1'}"
hostswap=$(cat /proc/sys/vm/swappiness)
expect_error "linux.sysctl of the host (vm.swappiness)" 1 "sysctl 'vm.swappiness' is not in a separate kernel namespace of the container" oci run -b "$B" s2
same "... the host's is unchanged, nothing is left" "$hostswap|" "$(cat /proc/sys/vm/swappiness)|$(left s2)"
mkbundle "$B" "c['linux']['sysctl'] = {'net.ipv4.ip_default_ttl': '9'}
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'network']"
hostttl=$(cat /proc/sys/net/ipv4/ip_default_ttl)
expect_error "linux.sysctl net.* without a network namespace of the container" 1 "sysctl 'net.ipv4.ip_default_ttl' is not in a separate kernel namespace of the container" oci run -b "$B" s3
same "... the host's is unchanged" "$hostttl" "$(cat /proc/sys/net/ipv4/ip_default_ttl)"
mkbundle "$B" "c['linux']['sysctl'] = {'kernel..msgmax/../x': '1'}"
expect_error "linux.sysctl: a name with .. and /" 1 "sysctl 'kernel..msgmax/../x' is not in a separate kernel namespace of the container" oci run -b "$B" s4
# a host name or domain name without a UTS namespace of the container
# would be the host's (runc refuses it too); tried in a UTS namespace of
# the test's own, which stands for the host's
for k in hostname domainname; do
	mkbundle "$B" "c['process']['args'] = ['true']
c.pop('hostname', None)
c['$k'] = 'hijacked'
c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'uts']"
	run unshare --uts sh -c '"$1" oci --root "$2" run -b "$3" u1; echo "rc $?"; '$k _ "$VS" "$OR" "$B"
	same "$k without a UTS namespace of the container: refused, the host's unchanged" \
		"rc 1|$($k)|vs: the spec sets $k but has no UTS namespace: it would be the host's" \
		"$(echo "$OUT" | paste -sd'|')|$ERR"
	same "... nothing is left" "" "$(left u1)"
done

# ---- seccomp ---------------------------------------------------------
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'mkdir /tmp/d && echo made; grep ^Seccomp: /proc/self/status; echo vs-oci >/proc/sys/kernel/domainname 2>/dev/null && echo sysw; true']
c['root']['readonly'] = False
c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13}]}"
run oci run -b "$B" s1
check "seccomp: mkdir answered EACCES by the profile" err_has 0 "Permission denied"
check "seccomp: the filter is on" out_has "^Seccomp:.2"
check "seccomp: nothing made" test ! -e "$B/rootfs/tmp/d"
check "root in the container cannot write /proc/sys (readonlyPaths)" test "$(printf '%s\n' "$OUT" | grep -c sysw)" = 0

# ---- hooks -----------------------------------------------------------
mkdir -p "$T/hk"
printf '#!/bin/sh\ncat >>"%s/hk/$1"; echo >>"%s/hk/$1"\n' "$T" "$T" >"$T/hook"
chmod 755 "$T/hook"
mkbundle "$B" "c['process']['args'] = ['true']
c['hooks'] = {k: [{'path': '$T/hook', 'args': ['hook', k]}] for k in ['prestart', 'createRuntime', 'createContainer', 'poststart', 'poststop']}"
expect_ok "hooks: create" oci create -b "$B" h1
check "prestart and createRuntime ran at create, with the state on stdin" grep -q '"id":"h1","status":"creating"' "$T/hk/createRuntime" "$T/hk/prestart"
check "createContainer ran at create" grep -q '"id":"h1"' "$T/hk/createContainer"
check "poststart not yet" test ! -e "$T/hk/poststart"
expect_ok "hooks: start" oci start h1
check "poststart ran at start" grep -q '"status":"running"' "$T/hk/poststart"
for i in $(seq 100); do run oci state h1; out_has stopped && break; sleep 0.02; done
expect_ok "hooks: delete" oci delete h1
check "poststop ran at delete" grep -q '"status":"stopped"' "$T/hk/poststop"
# startContainer runs in the container, just before its process
mkbundle "$B" "c['process']['args'] = ['cat', '/tmp/started']
c['mounts'].append({'destination': '/tmp', 'type': 'tmpfs', 'source': 'tmpfs'})
c['hooks'] = {'startContainer': [{'path': '/bin/sh', 'args': ['sh', '-c', 'hostname >/tmp/started']}]}"
run oci run -b "$B" h3
same "startContainer ran in the container before its process" "0|vs-oci" "$RC|$OUT"
mkbundle "$B" "c['process']['args'] = ['true']
c['hooks'] = {'createRuntime': [{'path': '/bin/false'}]}"
expect_error "a failing createRuntime hook fails the create" 1 "the createRuntime hook '/bin/false' failed (exit status 1)" oci create -b "$B" h2
same "nothing left of h2" "" "$(left h2)"

# ---- a hostile image -------------------------------------------------
# the image's /mnt is a symlink to a host directory: a mount on /mnt/x
# must land inside the rootfs
mkdir -p "$T/host-dir"
echo marker >"$T/host-dir/marker"
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'ls /mnt/x; cat /mnt/marker 2>&1']
c['mounts'].append({'destination': '/mnt/x', 'type': 'tmpfs', 'source': 'tmpfs'})"
ln -s "$T/host-dir" "$B/rootfs/mnt"
run oci run -b "$B" a1
check "a symlinked destination stays inside the rootfs: the host's directory is untouched" test ! -e "$T/host-dir/x"
check "the container does not see the host's file through it" test "$(printf '%s' "$OUT" | grep -c '^marker$')" = 0
check "no mount on the host's directory" test "$(grep -c " $T/host-dir" /proc/mounts)" = 0

# a descriptor of the caller (a host file) never reaches the container
echo host-secret >"$T/host-secret"
mkbundle "$B" "c['process']['args'] = ['sh', '-c', 'ls /proc/self/fd; cat /proc/self/fd/9 2>/dev/null']"
run oci run -b "$B" a2 9<"$T/host-secret"
check "a descriptor the caller left open is not the container's" test "$(printf '%s\n' "$OUT" | grep -c -e '^9$' -e host-secret)" = 0
check "the container's listing of its descriptors ran" out_has '^2$'
# while created, the container's process holds runtime descriptors (the
# host's exec.fifo, its cgroup directory): a process exec'd into the
# container cannot open them through /proc (it is not dumpable).  The
# container has its own user namespace, mapped 0 to 0, and the exec'd
# process CAP_SYS_PTRACE there: enough for a dumpable init
mkbundle "$B" "c['process']['args'] = ['sleep', '100']
c['linux']['namespaces'].append({'type': 'user'})
c['linux']['uidMappings'] = c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 0, 'size': 65536}]
c['process']['capabilities'] = {k: ['CAP_SYS_PTRACE', 'CAP_KILL'] for k in ['bounding', 'effective', 'permitted']}"
expect_ok "create a3" oci create -b "$B" a3
run oci exec a3 sh -c 'for f in /proc/1/fd/*; do readlink $f; done; cat /proc/1/environ >/dev/null && echo read'
check "a container process cannot follow the waiting init's descriptors or read its memory" test "$(printf '%s\n' "$OUT" | grep -c -e exec.fifo -e '^/' -e read)" = 0
check "it was refused by the kernel" err_has nz "Permission denied"
run oci exec a3 ls /proc/self/fd 9<"$T/host-secret"
check "exec: a descriptor the caller left open is not the process's" test "$(printf '%s\n' "$OUT" | grep -c '^9$')" = 0
check "exec: its listing ran" out_has '^2$'
expect_error "exec of a program the container lacks" 1 "cannot run 'nothere' in the container" oci exec a3 nothere
expect_error "exec in an unknown container" 1 "container 'nope' does not exist" oci exec nope true
expect_ok "delete a3" oci delete a3

# ---- bad input -------------------------------------------------------
mkdir -p "$T/bad/rootfs"
snap_oci() { ls -R "$OR" 2>/dev/null; ls -d /sys/fs/cgroup/*/"$CGBASE"/* 2>/dev/null; }
bad() { # NAME TEXT CONFIG-JSON
	printf '%s' "$3" >"$T/bad/config.json"
	was=$(snap_oci)
	expect_error "$1" 1 "$2" oci create -b "$T/bad" bad1
	same "$1: nothing left" "$was" "$(snap_oci)"
}
bad "not JSON" "bad '$T/bad/config.json': line 1" '{"ociVersion": '
bad "no process.args" "process.args must name the program to run" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":[]},"linux":{"namespaces":[{"type":"mount"}]}}'
bad "a wrong type named by its path" "process.user.uid must be an integer" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"],"user":{"uid":"root"}}}'
bad "an unknown capability" "unknown capability 'CAP_FLY'" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"],"capabilities":{"bounding":["CAP_FLY"]}}}'
bad "ociVersion 2" "ociVersion '2.0.0' is not 1.x" '{"ociVersion":"2.0.0","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]}}'
bad "a missing rootfs" "bad root.path 'nope'" '{"ociVersion":"1.0.2","root":{"path":"nope"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"mount"}]}}'
bad "no mount namespace" "has no mount namespace" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"pid"}]}}'
bad "a program the rootfs lacks" "cannot run 'nothere' in the container" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["nothere"]},"linux":{"namespaces":[{"type":"mount"}],"cgroupsPath":"/'"$CGBASE"'/bad1"}}'
bad "an unknown seccomp action" "unknown seccomp action 'SCMP_ACT_MAYBE'" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"mount"}],"seccomp":{"defaultAction":"SCMP_ACT_MAYBE"}}}'
bad "a device rule of an unknown type" "linux.resources.devices[1].type must be a, c or b" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"mount"}],"resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"p","access":"r"}]}}}'
bad "a device rule's unknown access" "linux.resources.devices[0].access must be letters of" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"mount"}],"resources":{"devices":[{"allow":false,"access":"rwx"}]}}}'
bad "a device rule without allow" "linux.resources.devices[0].allow must be true or false" '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"cwd":"/","args":["true"]},"linux":{"namespaces":[{"type":"mount"}],"resources":{"devices":[{"access":"rwm"}]}}}'
bad "a duplicate key" "duplicate object key" '{"ociVersion":"1.0.2","ociVersion":"1.0.2"}'
expect_error "a bad container id" 1 "bad container id '../x'" oci create -b "$B" ../x
expect_error "state of an unknown container" 1 "container 'nope' does not exist" oci state nope
expect_error "start of an unknown container" 1 "container 'nope' does not exist" oci start nope
expect_error "delete of an unknown container" 1 "container 'nope' does not exist" oci delete nope
expect_ok "delete --force of an unknown container (as runc: gone is deleted)" oci delete --force nope
expect_error "delete --force of a bad id" 1 "bad container id" oci delete --force ../x
expect_error "an unknown command" 2 "unknown command 'frobnicate'" oci frobnicate x
expect_error "an unknown signal" 2 "unknown signal" oci kill x SIGFOO
mkbundle "$B" "c['process']['args'] = ['sleep', '100']"
expect_ok "create d1" oci create -b "$B" d1
expect_error "create of an existing id" 1 "container 'd1' exists" oci create -b "$B" d1
expect_ok "delete d1" oci delete d1
same "nothing left of d1" "" "$(left d1)"
check "vs-oci is the same command" sh -c "ln -s '$top_builddir/.libs/vs' '$T/vs-oci' && LD_LIBRARY_PATH='$top_builddir/.libs' '$T/vs-oci' --version | grep -q '^vs-oci version'"

finish
