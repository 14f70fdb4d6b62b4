#!/bin/bash
# vs <guest> copy [user@]host:<new>: a stopped guest sent to another vs
# host over ssh, against a real sshd on the loopback of a test network
# namespace; the other host is a second sysroot.  Every byte, owner, mode,
# time, xattr, capability, hard link and hole arrives; the configuration
# but for the guest's own (name, context, addresses, uuid); a running
# guest and bad input are refused; a failure on the other side is said.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups

SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || {
	echo "SKIP: no sshd and ssh (Debian packages openssh-server, openssh-client)"
	exit 77
}
NS=vs-test-ssh-$$
ip netns add "$NS" && ip -n "$NS" link set lo up || {
	echo "SKIP: cannot create a network namespace"
	exit 77
}
ssh_cleanup() {
	[ -f "$T/sshd.pid" ] && kill "$(cat "$T/sshd.pid")" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap 'ssh_cleanup; cleanup' EXIT

# sshd: its own keys, root by key only, on 127.0.0.1:2222 of the
# namespace; its privilege separation directory on a tmpfs of its own
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$T/userkey"
cp "$T/userkey.pub" "$T/authorized_keys"
cat >"$T/sshd_config" <<EOF
Port 2222
ListenAddress 127.0.0.1
HostKey $T/hostkey
PermitRootLogin prohibit-password
AuthorizedKeysFile $T/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PidFile $T/sshd.pid
LogLevel ERROR
EOF
ip netns exec "$NS" sh -c "mount -t tmpfs none /run && mkdir -m 755 /run/sshd &&
	exec $SSHD -D -e -f '$T/sshd_config'" 2>"$T/sshd.log" &
SSH="ssh -p 2222 -i $T/userkey -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR"
for _ in $(seq 100); do
	ip netns exec "$NS" $SSH root@127.0.0.1 true 2>/dev/null && break
	sleep 0.1
done
ip netns exec "$NS" $SSH root@127.0.0.1 true || { cat "$T/sshd.log"; echo "Bail out! sshd did not come up"; exit 99; }

# the other host: a second sysroot, its own vs
R2=$T/other
mkdir -p "$R2"
REMOTE="env VS_SYSROOT=$R2 VS_PLUGINDIR=$MODS VS_DATADIR=$srcdir/conf.d $VS"
vsc() { ip netns exec "$NS" "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "$@"; }

mkguest g1 --context 101 --interface nodev:10.9.9.1/32 || exit 99
V=$(rootof g1)
rich_tree "$V"
echo SETPCAP >"$R$CONFDIR/g1/bcapabilities"
# a file a unification shares (immutable, two links)
mkdir -p "$R/ref/data"
head -c 50000 /dev/urandom >"$V/data/shared"
cp -a "$V/data/shared" "$R/ref/data/shared"
vsx unify --manually --link=hardlink "$VROOTDIR/g1" '' /ref '' >/dev/null 2>&1
check "g1's file is shared (immutable)" sh -c "lsattr '$V/data/shared' | cut -c1-16 | grep -q i"
before=$(tree_listing "$V")

run vsc g1 copy root@127.0.0.1:g2 --context 202 --hostname g2.example -e "$SSH" --remote-vs "$REMOTE"
same "vs g1 copy root@127.0.0.1:g2 over ssh" "0|copy: guest 'g1' copied to root@127.0.0.1 as 'g2'|" "$RC|$OUT|$ERR"
V2=$R2$VROOTDIR/g2
C2=$R2$CONFDIR/g2
# (the shared file arrives with one link, the others not being the
# guest's, and writable)
same "the other host's root is the guest's: every byte, owner, mode, time, xattr, link" \
	"$(printf '%s\n' "$before" | sed -e 's#^\(\./data/shared|f|[0-9]*|[0-9]*|[0-9]*|[0-9]*|\)2|#\11|#' \
		-e 's#^\(....\)i\(.* \./data/shared\)$#\1-\2#' | LC_ALL=C sort)" \
	"$(tree_listing "$V2" | LC_ALL=C sort)"
check "hard links arrive as hard links" \
	[ "$(stat -c %i "$V2/data/a")" = "$(stat -c %i "$V2/data/sub dir/a-link")" ]
check "holes stay holes ($(du -k "$V2/data/sparse" | cut -f1) KiB for 10 MiB)" [ "$(du -k "$V2/data/sparse" | cut -f1)" -lt 100 ]
if command -v getcap >/dev/null; then
	same "the file capability arrives" "cap_net_raw=ep" "$(getcap "$V2/data/capable" | awk '{ print $2 }')"
fi
check "the shared file arrives private: not immutable" \
	sh -c "[ -f '$V2/data/shared' ] && ! lsattr '$V2/data/shared' | cut -c1-16 | grep -q i"
same "the copy's name, context and node name are its own" "g2 202 g2.example" \
	"$(cat "$C2/name") $(cat "$C2/context") $(cat "$C2/uts/nodename")"
check "no addresses unless told" [ -z "$(ls -A "$C2/interfaces")" ]
same "the rest of the configuration arrives (bcapabilities)" "SETPCAP" "$(cat "$C2/bcapabilities")"
same "the source is unchanged" "$before" "$(tree_listing "$V")"
run env VS_SYSROOT="$R2" "$VS" --plugindir "$MODS" --datadir "$srcdir/conf.d" g2 start
same "the copy starts on the other host" 0 "$RC"
same "and runs the guest's tree" "guest g1" \
	"$(env VS_SYSROOT="$R2" "$VS" --plugindir "$MODS" --datadir "$srcdir/conf.d" g2 exec cat /etc/guest-marker)"
env VS_SYSROOT="$R2" "$VS" --plugindir "$MODS" --datadir "$srcdir/conf.d" g2 stop >/dev/null 2>&1

# ---- arguments with blanks reach the other side whole ------------------------------
mkdir -p "$R2/my roots"
run vsc g1 copy root@127.0.0.1:g7 --context 207 --rootdir '/my roots' -e "$SSH" --remote-vs "$REMOTE"
check "a --rootdir with a blank reaches the other host as one argument ($ERR)" \
	sh -c "[ '$RC' = 0 ] && [ -f '$R2/my roots/g7/etc/guest-marker' ]"

# ---- the receiving side trusts no stream ---------------------------------------------
# (made here with Python's tarfile: pax, as vs sends)
mkstream() { # OUT NAME=CONTENT...: regular files
	python3 - "$@" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for spec in sys.argv[2:]:
        name, data = spec.split("=", 1)
        i = tarfile.TarInfo(name)
        i.size = len(data)
        t.addfile(i, io.BytesIO(data.encode()))
PY
}
mkstream "$T/own.tar" root/etc/guest-marker=x config/context=999 config/interfaces/0/ip=10.1.1.1 config/bcapabilities=NET_RAW
run sh -c "$REMOTE g8 build -m clone --context 208 -- --archive - <'$T/own.tar'"
same "a stream's own entries (context, interfaces) never land; the rest does" "0|208||NET_RAW" \
	"$RC|$(cat "$R2$CONFDIR/g8/context")|$(ls -A "$R2$CONFDIR/g8/interfaces")|$(cat "$R2$CONFDIR/g8/bcapabilities")"
# (root/../../escaped from the new root <R2>/vservers/g9 would be <R2>/escaped)
mkstream "$T/dotdot.tar" root/etc/x=1 'root/../../escaped=owned'
run sh -c "$REMOTE g9 build -m clone --context 209 -- --archive - <'$T/dotdot.tar'"
check "a stream entry with '..' is refused ($ERR)" err_has 1 "clone: cannot make 'root/../../escaped'"
check "nothing escaped, and the half-made guest is gone" \
	sh -c "[ ! -e '$R2/escaped' ] && [ ! -e '$R2$CONFDIR/g9' ]"
mkstream "$T/other.tar" etc/passwd=x
run sh -c "$REMOTE g10 build -m clone --context 210 -- --archive - <'$T/other.tar'"
check "an entry outside root/ and config/ is refused ($ERR)" err_has 1 "is neither root/ nor config/"

# ---- refusals -------------------------------------------------------------------
run vsc g1 copy root@127.0.0.1:g2 -e "$SSH" --remote-vs "$REMOTE"
check "a name the other host has already: refused there, and said here ($ERR)" \
	err_has 1 "copy: the other host did not take guest 'g1' as 'g2'"
expect_ok "start g1" vsx g1 start
expect_error "a running guest is refused" 1 "copy: guest 'g1' is running: stop it first" \
	vsc g1 copy root@127.0.0.1:g3 -e "$SSH" --remote-vs "$REMOTE"
expect_ok "stop g1" vsx g1 stop
expect_error "no host:name" 2 "copy: usage: vs <guest> copy [user@]host:<new>" vsc g1 copy g3
expect_error "an unknown option" 2 "copy: unknown or incomplete option '--bogus'" vsc g1 copy h:g3 --bogus
run vsc g1 copy root@127.0.0.1:g4 -e "ssh -p 2223 -o BatchMode=yes -o ConnectTimeout=2" --remote-vs "$REMOTE"
check "an unreachable host is said ($ERR)" err_has 1 "copy: the other host did not take guest 'g1' as 'g4'"
check "and nothing arrived" [ ! -e "$R2$CONFDIR/g4" ]
# a stream that is not one of ours, sent straight to the receiving side
run sh -c "echo garbage | $REMOTE g5 build -m clone -- --archive -"
check "the receiving side refuses a damaged stream ($ERR)" err_has 1 "clone: cannot read the stream"
check "and removes the half-made guest" [ ! -e "$R2$CONFDIR/g5" ]

finish
