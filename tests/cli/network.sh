#!/bin/bash
# Guests with interfaces/ in network namespaces, inside test namespaces
# made here: "host" (where vs runs, eth0 is one end of a veth pair) and
# "lan" (the other end, 10.99.0.1).  Only these namespaces' addresses are
# used; nothing leaves the machine.
. "${srcdir:?run through make check}/tests/cli/lib.sh" || exit 99
use_test_cgroups
command -v ip >/dev/null || { echo "SKIP: no ip (iproute2)"; exit 77; }

H=vsh$$
L=vsl$$
ip netns add "$H" && ip netns add "$L" || { echo "SKIP: cannot create network namespaces"; exit 77; }
netns_cleanup() { ip netns del "$H" 2>/dev/null; ip netns del "$L" 2>/dev/null; }
trap 'cleanup; netns_cleanup' EXIT
ip link add eth0 netns "$H" type veth peer name peer0 netns "$L"
ip -n "$H" addr add 10.99.0.2/24 dev eth0
ip -n "$H" link set eth0 up
ip -n "$H" link set lo up
ip -n "$L" addr add 10.99.0.1/24 dev peer0
ip -n "$L" addr add 2001:db8:99::1/64 dev peer0 nodad
ip -n "$L" link set peer0 up
vsn() { nsenter --net="/run/netns/$H" "$VS" --sysroot "$R" --plugindir "$MODS" --datadir "$srcdir/conf.d" "$@"; }
iface() { # iface GUEST ENTRY key=value...
	d=$R$CONFDIR/$1/interfaces/$2
	mkdir -p "$d"
	shift 2
	for kv in "$@"; do
		case $kv in
		*=*) printf '%s\n' "${kv#*=}" >"$d/${kv%%=*}" ;;
		*) : >"$d/$kv" ;;
		esac
	done
}
hoststate() { ip -n "$H" -o link | awk '{ print $2 }'; ip -n "$H" route; ip -n "$H" -6 route | grep -v fe80; ip -n "$H" -o addr | awk '{ print $2, $4 }'; }
hostbefore=$(hoststate)

mkguest a --context 401 || exit 99
mkguest b --context 402 || exit 99
mkguest c --context 403 || exit 99
mkguest d --context 404 || exit 99
for g in a b c; do echo NET_RAW >"$R$CONFDIR/$g/bcapabilities"; done
iface a 0 dev=eth0 ip=10.99.0.11 prefix=24
iface a 1 dev=eth0 ip=2001:db8:99::11 prefix=64
iface a 2 nodev ip=192.0.2.77 prefix=32
iface b 0 ip=10.99.0.12 mask=255.255.255.0
iface b 1 ip=2001:db8:99::12 prefix=64
echo eth0 >"$R$CONFDIR/b/interfaces/dev"
iface c 0 type=veth ip=10.98.0.5 prefix=32

expect_ok "start a (macvlan, IPv4 + IPv6 + nodev)" vsn a start
expect_ok "start b (dev from interfaces/, mask)" vsn b start
expect_ok "start c (veth)" vsn c start
run vsn a exec sh -c 'ip -o addr | grep -v " lo " | awk "{ print \$2, \$4 }"'
same "a: one interface with both addresses" "eth0 10.99.0.11/24
eth0 2001:db8:99::11/64" "$(printf '%s\n' "$OUT" | grep -v fe80)"
run vsn a exec sh -c 'ip -o addr show dev lo | awk "{ print \$4 }" | grep 192'
same "a: the nodev address is on the loopback" "192.0.2.77/32" "$OUT"
run vsn a exec ping -c 1 -W 2 10.99.0.12
same "a pings b" 0 "$RC"
run vsn b exec ping -c 1 -W 2 10.99.0.11
same "b pings a" 0 "$RC"
run vsn a exec ping -c 1 -W 2 10.99.0.1
same "a pings the host end of the LAN" 0 "$RC"
run vsn b exec ping6 -c 1 -W 2 2001:db8:99::11
same "b pings a over IPv6" 0 "$RC"
run vsn a exec ping6 -c 1 -W 2 2001:db8:99::1
same "a pings the LAN end over IPv6" 0 "$RC"
run ip netns exec "$H" /bin/busybox ping -c 1 -W 2 10.98.0.5
same "the veth guest is reachable from the host namespace by its route" 0 "$RC"
run vsn c exec ping -c 1 -W 2 10.99.0.2
same "the veth guest reaches the host" 0 "$RC"
# (the listener's input never ends: busybox nc leaves when its input
# does, and under load that came before the data)
vsn a exec sh -c '(sleep 120 | nc -l -p 5000 >/tmp/received 2>/dev/null) &'
# under load the listener and the write take their time: wait for each
# (port 5000 is 1388 in /proc/net/tcp, state 0A listening)
for i in $(seq 1 200); do
	vsn a exec cat /proc/net/tcp 2>/dev/null | grep -q ':1388 00000000:0000 0A' && break
	sleep 0.1
done
# a send that found no listener yet (CI's load) is tried again: the
# listener takes one connection, so nothing arrives twice
for try in 1 2 3; do
	run vsn b exec sh -c 'echo carried-over-tcp | nc -w 5 10.99.0.11 5000'
	for i in $(seq 1 50); do
		run vsn a exec cat /tmp/received
		[ -n "$OUT" ] && break
		sleep 0.1
	done
	[ -n "$OUT" ] && break
done
same "a TCP connection between two guests carries data" "carried-over-tcp" "$OUT"
run vsn list --json
check "list --json shows the addresses" grep -q '"name": "a", .*"addresses": \["10.99.0.11/24", "2001:db8:99::11/64", "192.0.2.77/32"\]' "$T/out"
run vsn stat --json
check "stat --json shows the addresses" grep -q '"addresses": \["10.98.0.5/32"\]' "$T/out"
check "host: the veth host end is named after the guest" sh -c "ip -n $H -o link | grep -q ' vc@'"

# the default route from interfaces/gateway; a veth on a bridge
expect_ok "stop a for the gateway case" vsn a stop
echo 10.99.0.1 >"$R$CONFDIR/a/interfaces/gateway"
expect_ok "start a with a gateway" vsn a start
run vsn a exec ip route
check "default route via interfaces/gateway" grep -q "^default via 10.99.0.1 dev eth0" "$T/out"
ip -n "$H" link add br0 type bridge
ip -n "$H" addr add 10.97.0.1/24 dev br0
ip -n "$H" link set br0 up
mkguest e --context 405 || exit 99
echo NET_RAW >"$R$CONFDIR/e/bcapabilities"
iface e 0 type=veth bridge=br0 ip=10.97.0.5 prefix=24
expect_ok "start a veth guest on a bridge" vsn e start
check "its host end is on the bridge" sh -c "ip -n $H -o link show master br0 | grep -q ' ve@'"
run ip netns exec "$H" /bin/busybox ping -c 1 -W 2 10.97.0.5
same "the bridged guest answers on the bridge's network" 0 "$RC"
expect_ok "stop e" vsn e stop
check "no host end left" sh -c "! ip -n $H -o link | grep -q ' ve@'"
ip -n "$H" link del br0

# bad input: one line, nothing left behind
snap() { hoststate; ls "$R$RUNDIR" 2>/dev/null; ls -d /sys/fs/cgroup/*/$CGBASE/d 2>/dev/null; }
iface d 0 dev=eth0 ip=10.99.0.11 prefix=24
s0=$(snap)
expect_error "an address used by a running guest" 1 "cannot start guest 'd': address 10.99.0.11 is already used by running guest 'a'" vsn d start
same "duplicate: nothing left" "$s0" "$(snap)"
iface d 0 dev=eth9 ip=10.99.0.13
expect_error "a host device that does not exist" 1 "cannot start guest 'd': host device 'eth9' does not exist" vsn d start
same "missing dev: nothing left" "$s0" "$(snap)"
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 dev=eth0 ip=10.99.0.13 prefix=33
expect_error "prefix out of range" 1 "cannot start guest 'd': interfaces/0: prefix '33' is not between 0 and 32" vsn d start
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 dev=eth0 ip=2001:db8:99::13 mask=255.255.255.0
expect_error "IPv6 with a mask" 1 "interfaces/0: an IPv6 address takes a prefix, not the mask '255.255.255.0'" vsn d start
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 dev=eth0 ip=10.99.0.300
expect_error "a bad address" 1 "interfaces/0: '10.99.0.300' is not an IP address" vsn d start
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 dev=eth0
expect_error "no ip" 1 "cannot start guest 'd': interfaces/0: no ip" vsn d start
iface d 0 ip=10.99.0.13 mac=zz:00:00:00:00:00
expect_error "a bad mac" 1 "interfaces/0: bad mac 'zz:00:00:00:00:00'" vsn d start
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 ip=10.99.0.13
expect_error "no dev and no nodev" 1 "interfaces/0: no dev (and no nodev flag)" vsn d start
rm -r "$R$CONFDIR/d/interfaces/0"
iface d 0 type=bridge dev=eth0 ip=10.99.0.13
expect_error "an unknown type" 1 "interfaces/0: unknown type 'bridge' (macvlan or veth)" vsn d start
rm -r "$R$CONFDIR/d/interfaces"
same "bad input: nothing left on the host" "$s0" "$(snap)"
iface d 0 nodev ip=127.0.0.5 prefix=8
expect_ok "a nodev loopback address (scope host)" vsn d start
run vsn d exec sh -c 'ip -o addr show dev lo | grep -c "127.0.0.5/8 .*scope host"'
same "the loopback address is there" 1 "$OUT"
expect_ok "stop d (loopback)" vsn d stop
rm -r "$R$CONFDIR/d/interfaces"
iface d 0 disabled dev=eth9 ip=10.99.0.13
expect_ok "a disabled entry is skipped" vsn d start
run vsn d exec sh -c 'ip -o link | grep -c "eth0@"'
same "only disabled entries: the host's network, as without interfaces" "1" "$OUT"
expect_ok "stop d" vsn d stop

rm -r "$R$CONFDIR/d/interfaces"
# the per-entry attributes: mac, ifname, name (the address's label),
# bcast, scope; two entries on one device share its interface
iface d 0 dev=eth0 ip=10.99.0.21 prefix=24 mac=02:00:00:00:99:21 ifname=lan0 name=web bcast=10.99.0.127
iface d 1 dev=eth0 ip=10.99.0.22 prefix=24 scope=link
# the kernel refuses a second address of a subnet in another scope: the
# error says so in its words
expect_error "a secondary address in another scope" 1 "vs: cannot add 10.99.0.22/24 (interfaces/1) in guest 'd': Invalid argument (ipv4: Invalid scope value" vsn d start
same "refused scope: nothing left" "$s0" "$(snap)"
rm -r "$R$CONFDIR/d/interfaces/1"
iface d 1 dev=eth0 ip=10.99.0.22 prefix=24
iface d 2 nodev ip=192.0.2.9 scope=link
expect_ok "start d with mac, ifname, name, bcast and scope" vsn d start
run vsn d exec sh -c 'ip -o link | grep -v " lo:" | awk "{ print \$2 }" | cut -d@ -f1; ip link show lan0 | awk "/link.ether/ { print \$2 }"'
same "one interface, named by ifname, with the mac" "lan0 02:00:00:00:99:21" "$(echo $OUT)"
run vsn d exec sh -c 'ip -o -4 addr show dev lan0 | sed "s/  */ /g; s/\\\\.*//" | cut -d" " -f4-'
same "its addresses: bcast and label (lan0:web) on the first, the subnet's bcast on the second" \
	"10.99.0.21/24 brd 10.99.0.127 scope global lan0:web
10.99.0.22/24 brd 10.99.0.255 scope global secondary lan0" "$OUT"
run vsn d exec sh -c 'ip -o -4 addr show dev lo | grep 192.0.2.9 | sed "s/  */ /g; s/\\\\.*//" | cut -d" " -f4-'
same "the nodev address in scope link" "192.0.2.9/32 scope link lo" "$OUT"
expect_ok "stop d (attributes)" vsn d stop
rm -r "$R$CONFDIR/d/interfaces"
iface d 0 dev=eth0 ip=10.99.0.21 scope=galaxy
expect_error "an unknown scope" 1 "cannot start guest 'd': interfaces/0: unknown scope 'galaxy'" vsn d start
rm -r "$R$CONFDIR/d/interfaces"
iface d 0 dev=eth0 ip=10.99.0.21 bcast=10.99.0.999
expect_error "a bad bcast" 1 "cannot start guest 'd': interfaces/0: bad bcast '10.99.0.999'" vsn d start
rm -r "$R$CONFDIR/d/interfaces"
iface d 0 dev=eth0 ip=10.99.0.21 ifname=a/b
expect_error "a bad ifname" 1 "cannot start guest 'd': interfaces/0: invalid ifname 'a/b'" vsn d start
rm -r "$R$CONFDIR/d/interfaces"
iface d 0 type=veth bridge=br9 ip=10.99.0.21
mkdir -p "$R$CONFDIR/d/scripts"
printf '#!/bin/sh\ntouch "%s/d-initialized"\n' "$T" >"$R$CONFDIR/d/scripts/initialize"
chmod 755 "$R$CONFDIR/d/scripts/initialize"
expect_error "a bridge that does not exist" 1 "cannot start guest 'd': bridge 'br9' does not exist" vsn d start
same "missing bridge: nothing left" "$s0" "$(snap)"
check "missing bridge: refused before the start began (no initialize hook)" test ! -e "$T/d-initialized"
rm -r "$R$CONFDIR/d/interfaces"
# vs.conf net_type: the kind of entries that name none
cp "$R$CONFFILE" "$T/vs.conf.saved"
echo 'net_type = "veth"' >>"$R$CONFFILE"
iface d 0 ip=10.96.0.5 prefix=32
expect_ok "start d with net_type = veth and no type or dev" vsn d start
check "net_type veth: the host end of a veth pair" sh -c "ip -n $H -o link | grep -q ' vd@'"
check "(and a start that begins runs the initialize hook)" test -e "$T/d-initialized"
rm -r "$R$CONFDIR/d/scripts"
expect_ok "stop d (net_type)" vsn d stop
cp "$T/vs.conf.saved" "$R$CONFFILE"
rm -r "$R$CONFDIR/d/interfaces"

expect_ok "stop a" vsn a stop
expect_ok "stop b" vsn b stop
expect_ok "stop c" vsn c stop

# twenty cycles: no interface, address or route left on the host
for i in $(seq 20); do
	vsn a start && vsn c start && vsn c stop && vsn a stop || { fail "cycle $i"; break; }
done
same "20 start/stop cycles leave the host namespace as it was" "$hostbefore" "$(hoststate)"

# vs.conf net = "private": guests without interfaces get an empty one
echo 'net = "private"' >>"$R$CONFFILE"
expect_ok "start with net = private" vsn d start
run vsn d exec sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
same "net = private: loopback only" "lo" "$OUT"
expect_ok "stop" vsn d stop

finish
