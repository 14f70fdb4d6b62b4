/* A guest's interfaces/ (COMPAT §1.2) in a network namespace of its own.
 *
 * Entries (interfaces/<name>/, sorted, `disabled` skipped) are grouped by
 * kind and host device: one guest interface (eth0, eth1, ...) per group,
 * carrying the addresses of its entries.  Kinds: macvlan on `dev` (the
 * default), veth (host end named after the guest, on `bridge` or with a
 * host route per address), and nodev entries, whose addresses go to the
 * guest's loopback.  Values fall back to interfaces/ itself for dev,
 * prefix, mask, bcast, scope, type, bridge and gateway.
 *
 * The monitor creates the links inside the new namespace (IFLA_NET_NS_PID)
 * and the host ends; the init configures addresses, links and routes
 * before it execs.  Links inside the namespace end with it; veth host ends
 * are removed at stop too, so nothing waits for the namespace's cleanup. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* First line of interfaces/<entry>/<key>, else (fallback) interfaces/<key>.
 * 1 found, 0 missing. */
static int value(struct vs_guest *g, const char *entry, const char *key,
		 bool fallback, char *buf, size_t size)
{
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "interfaces/%s/%s", entry, key);
	if (vs_guest_cfg_line(g, rel, buf, size) == 1)
		return 1;
	if (!fallback)
		return 0;
	snprintf(rel, sizeof(rel), "interfaces/%s", key);
	return vs_guest_cfg_line(g, rel, buf, size) == 1;
}

static bool flag(struct vs_guest *g, const char *entry, const char *key)
{
	char rel[PATH_MAX];
	snprintf(rel, sizeof(rel), "interfaces/%s/%s", entry, key);
	return vs_guest_cfg_exists(g, rel);
}

static int bad(struct vs_guest *g, const char *entry, const char *fmt,
	       const char *arg)
{
	char msg[512];
	snprintf(msg, sizeof(msg), fmt, arg);
	return vs_set_error(g->ctx, "cannot start guest '%s': interfaces/%s: %s",
			    g->name, entry, msg);
}

static bool valid_ifname(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f || *s == '/' || *s == ':')
			return false;
	return true;
}

static int parse_mac(const char *s, unsigned char *mac)
{
	unsigned v[6];
	char end;
	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
		   &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (v[i] > 255)
			return -1;
		mac[i] = (unsigned char)v[i];
	}
	return mac[0] & 1 ? -1 : 0; /* no multicast address */
}

static int parse_scope(const char *s)
{
	if (!strcmp(s, "global") || !strcmp(s, "universe"))
		return RT_SCOPE_UNIVERSE;
	if (!strcmp(s, "site"))
		return RT_SCOPE_SITE;
	if (!strcmp(s, "link"))
		return RT_SCOPE_LINK;
	if (!strcmp(s, "host"))
		return RT_SCOPE_HOST;
	char *end;
	long v = strtol(s, &end, 10);
	return *end || !*s || v < 0 || v > 255 ? -1 : (int)v;
}

static int parse_addr(const char *s, int *family, unsigned char *out)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/* The group (guest interface) for kind and dev, created on first use. */
static int group(struct vs_guest *g, struct vs_net *net, const char *kind,
		 const char *dev, const char *bridge, const char *entry)
{
	for (size_t i = 0; i < net->nlinks; i++)
		if (!strcmp(net->links[i].kind, kind) &&
		    !strcmp(net->links[i].dev, dev))
			return (int)i;
	net->links = vs_xrealloc(net->links,
				 (net->nlinks + 1) * sizeof(*net->links));
	struct vs_netlink_spec *l = &net->links[net->nlinks];
	memset(l, 0, sizeof(*l));
	snprintf(l->kind, sizeof(l->kind), "%s", kind);
	snprintf(l->dev, sizeof(l->dev), "%s", dev);
	snprintf(l->bridge, sizeof(l->bridge), "%s", bridge);
	char name[64];
	if (value(g, entry, "ifname", false, name, sizeof(name))) {
		if (!valid_ifname(name))
			return bad(g, entry, "invalid ifname '%s'", name);
		snprintf(l->ifname, sizeof(l->ifname), "%s", name);
	} else {
		snprintf(l->ifname, sizeof(l->ifname), "eth%zu", net->nlinks);
	}
	if (!strcmp(kind, "veth")) {
		/* the host end: "v<guest>", ".<n>" for the second and later */
		char suffix[8] = "";
		if (net->nlinks)
			snprintf(suffix, sizeof(suffix), ".%zu", net->nlinks);
		int room = IFNAMSIZ - 2 - (int)strlen(suffix);
		snprintf(l->host, sizeof(l->host), "v%.*s%s", room, g->name,
			 suffix);
	}
	return (int)net->nlinks++;
}

static int load_entry(struct vs_guest *g, struct vs_net *net,
		      const char *entry, const char *default_type)
{
	char v[256], dev[64] = "", type[32], bridge[64] = "";
	struct vs_netif a;
	memset(&a, 0, sizeof(a));
	snprintf(a.entry, sizeof(a.entry), "%s", entry);
	if (!value(g, entry, "ip", false, v, sizeof(v)))
		return bad(g, entry, "no ip%s", "");
	if (parse_addr(v, &a.family, a.addr) < 0)
		return bad(g, entry, "'%s' is not an IP address", v);
	int max = a.family == AF_INET ? 32 : 128;
	a.prefix = max;
	if (value(g, entry, "prefix", true, v, sizeof(v))) {
		char *end;
		long p = strtol(v, &end, 10);
		if (*end || !*v || p < 0 || p > max) {
			char m[96];
			snprintf(m, sizeof(m), "prefix '%s' is not between 0 and %d",
				 v, max);
			return bad(g, entry, "%s", m);
		}
		a.prefix = (int)p;
	} else if (value(g, entry, "mask", true, v, sizeof(v))) {
		if (a.family == AF_INET6)
			return bad(g, entry,
				   "an IPv6 address takes a prefix, not the mask "
				   "'%s'",
				   v);
		int p = vs_mask_to_prefix(v);
		if (p < 0)
			return bad(g, entry, "bad netmask '%s'", v);
		a.prefix = p;
	}
	if (a.family == AF_INET) {
		if (value(g, entry, "bcast", true, v, sizeof(v))) {
			int f;
			if (parse_addr(v, &f, a.bcast) < 0 || f != AF_INET)
				return bad(g, entry, "bad bcast '%s'", v);
			a.have_bcast = true;
		} else if (a.prefix < 31) { /* "broadcast +" */
			uint32_t ip, mask = a.prefix ? ~0u << (32 - a.prefix) : 0;
			memcpy(&ip, a.addr, 4);
			ip = htonl(ntohl(ip) | ~mask);
			memcpy(a.bcast, &ip, 4);
			a.have_bcast = true;
		}
	}
	a.scope = RT_SCOPE_UNIVERSE;
	if (value(g, entry, "scope", true, v, sizeof(v)) &&
	    (a.scope = parse_scope(v)) < 0)
		return bad(g, entry, "unknown scope '%s'", v);
	if (value(g, entry, "gateway", false, v, sizeof(v))) {
		int f;
		if (parse_addr(v, &f, a.gw) < 0 || f != a.family)
			return bad(g, entry, "bad gateway '%s'", v);
		a.have_gw = true;
	}
	char text[INET6_ADDRSTRLEN];
	inet_ntop(a.family, a.addr, text, sizeof(text));
	snprintf(a.text, sizeof(a.text), "%s/%d", text, a.prefix);

	bool nodev = flag(g, entry, "nodev") || flag(g, entry, "only_ip");
	if (nodev) {
		a.link = -1;
		/* loopback addresses live in scope host, as ip(8) puts them */
		if ((a.family == AF_INET && a.addr[0] == 127) ||
		    (a.family == AF_INET6 &&
		     IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a.addr)))
			a.scope = RT_SCOPE_HOST;
	} else {
		if (!value(g, entry, "type", true, type, sizeof(type)))
			snprintf(type, sizeof(type), "%s", default_type);
		if (strcmp(type, "macvlan") && strcmp(type, "veth"))
			return bad(g, entry,
				   "unknown type '%s' (macvlan or veth)", type);
		value(g, entry, "dev", true, dev, sizeof(dev));
		if (dev[0] && !valid_ifname(dev))
			return bad(g, entry, "invalid dev '%s'", dev);
		if (!strcmp(type, "macvlan") && !dev[0])
			return bad(g, entry, "no dev (and no nodev flag)%s", "");
		if (!strcmp(type, "veth")) {
			value(g, entry, "bridge", true, bridge, sizeof(bridge));
			if (bridge[0] && !valid_ifname(bridge))
				return bad(g, entry, "invalid bridge '%s'",
					   bridge);
		}
		int k = group(g, net, type, dev, bridge, entry);
		if (k < 0)
			return -1;
		a.link = k;
		struct vs_netlink_spec *l = &net->links[k];
		if (value(g, entry, "mac", false, v, sizeof(v))) {
			if (parse_mac(v, l->mac) < 0)
				return bad(g, entry, "bad mac '%s'", v);
			l->have_mac = true;
		}
		if (flag(g, entry, "down"))
			l->down = true;
		if (value(g, entry, "name", false, v, sizeof(v)) &&
		    a.family == AF_INET)
			snprintf(a.label, sizeof(a.label), "%.7s:%.7s",
				 l->ifname, v);
	}
	net->addrs = vs_xrealloc(net->addrs,
				 (net->naddrs + 1) * sizeof(*net->addrs));
	net->addrs[net->naddrs++] = a;
	return 0;
}

int vs_net_load(struct vs_guest *g, struct vs_net *net)
{
	char path[PATH_MAX], v[256];
	memset(net, 0, sizeof(*net));
	snprintf(path, sizeof(path), "%s/interfaces", g->cfgdir);
	char **names = vs_host_list(g->ctx, path);
	const char *dtype = vs_conf_str(g->ctx, "net_type");
	int r = 0;
	for (char **n = names; n && *n && r == 0; n++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/interfaces/%s", g->cfgdir, *n);
		if ((*n)[0] == '.' || vs_host_stat(g->ctx, path, &st) < 0 ||
		    !S_ISDIR(st.st_mode) || flag(g, *n, "disabled"))
			continue;
		r = load_entry(g, net, *n, dtype ? dtype : "macvlan");
	}
	vs_strv_free(names);
	if (r < 0)
		return -1;
	/* the default route: interfaces/gateway, else the first entry's */
	if (vs_guest_cfg_line(g, "interfaces/gateway", v, sizeof(v)) == 1) {
		if (parse_addr(v, &net->gw_family, net->gw) < 0)
			return vs_set_error(g->ctx,
					    "cannot start guest '%s': "
					    "interfaces/gateway: bad address '%s'",
					    g->name, v);
		net->have_gw = true;
	} else if (net->naddrs && net->addrs[0].have_gw) {
		net->gw_family = net->addrs[0].family;
		memcpy(net->gw, net->addrs[0].gw, 16);
		net->have_gw = true;
	}
	vs_clear_error(g->ctx);
	return 0;
}

/* Appends the kernel's reason for a failed request to the error. */
static void kernel_says(struct vs_ctx *ctx, const struct vs_nl *nl)
{
	size_t n = strlen(ctx->err);
	if (nl->msg[0] && n < sizeof(ctx->err))
		snprintf(ctx->err + n, sizeof(ctx->err) - n, " (%s)", nl->msg);
}

void vs_net_free(struct vs_net *net)
{
	free(net->addrs);
	free(net->links);
	memset(net, 0, sizeof(*net));
}

int vs_net_check_unique(struct vs_guest *g, const struct vs_net *net)
{
	if (!net->naddrs)
		return 0;
	/* host devices first: a start that cannot work does not begin */
	for (size_t i = 0; i < net->nlinks; i++) {
		const struct vs_netlink_spec *l = &net->links[i];
		if (!strcmp(l->kind, "macvlan") && !if_nametoindex(l->dev))
			return vs_set_error(g->ctx,
					    "cannot start guest '%s': host device "
					    "'%s' does not exist",
					    g->name, l->dev);
		if (l->bridge[0] && !if_nametoindex(l->bridge))
			return vs_set_error(g->ctx,
					    "cannot start guest '%s': bridge '%s' "
					    "does not exist",
					    g->name, l->bridge);
	}
	char **ids = vs_guest_list(g->ctx);
	char saved[sizeof(g->ctx->err)];
	int r = 0;
	for (char **id = ids; *id && r == 0; id++) {
		if (!strcmp(*id, g->name))
			continue;
		struct vs_guest *o = vs_guest_open(g->ctx, *id);
		struct vs_net on;
		if (!o || vs_guest_state(o, NULL) != VS_RUNNING ||
		    vs_net_load(o, &on) < 0) {
			vs_guest_free(o);
			continue;
		}
		for (size_t i = 0; i < net->naddrs && r == 0; i++)
			for (size_t k = 0; k < on.naddrs && r == 0; k++)
				if (net->addrs[i].family == on.addrs[k].family &&
				    !memcmp(net->addrs[i].addr, on.addrs[k].addr,
					    net->addrs[i].family == AF_INET ? 4
									    : 16)) {
					memcpy(saved, net->addrs[i].text,
					       sizeof(net->addrs[i].text));
					saved[strcspn(saved, "/")] = '\0';
					r = -1;
				}
		vs_net_free(&on);
		if (r < 0)
			vs_set_error(g->ctx,
				     "cannot start guest '%s': address %s is "
				     "already used by running guest '%s'",
				     g->name, saved, *id);
		vs_guest_free(o);
	}
	if (r == 0)
		vs_clear_error(g->ctx);
	vs_strv_free(ids);
	return r;
}

/* Removes the veth host ends of a guest (they would otherwise wait for
 * the namespace's asynchronous cleanup). */
void vs_net_host_cleanup(struct vs_ctx *ctx, const struct vs_net *net)
{
	struct vs_nl nl;
	if (!net->nlinks || vs_nl_open(ctx, &nl) < 0)
		return;
	for (size_t i = 0; i < net->nlinks; i++) {
		unsigned idx = net->links[i].host[0]
				       ? if_nametoindex(net->links[i].host)
				       : 0;
		if (idx)
			vs_nl_link_del(&nl, (int)idx);
	}
	vs_nl_close(&nl);
}

static void proxy_arp(const char *ifname)
{
	char p[128];
	snprintf(p, sizeof(p), "/proc/sys/net/ipv4/conf/%s/proxy_arp", ifname);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t w = write(fd, "1", 1);
		(void)w;
		close(fd);
	}
}

int vs_net_host_setup(struct vs_guest *g, const struct vs_net *net,
		      pid_t init)
{
	struct vs_ctx *ctx = g->ctx;
	struct vs_nl nl;
	if (!net->nlinks)
		return 0;
	if (vs_nl_open(ctx, &nl) < 0)
		return errno == ELIBACC ? -1
					: vs_set_errno(ctx, errno,
						       "cannot open a netlink "
						       "socket");
	int r = 0;
	for (size_t i = 0; i < net->nlinks && r == 0; i++) {
		const struct vs_netlink_spec *l = &net->links[i];
		const unsigned char *mac = l->have_mac ? l->mac : NULL;
		if (!strcmp(l->kind, "macvlan")) {
			unsigned parent = if_nametoindex(l->dev);
			if (!parent) {
				r = vs_set_error(ctx,
						 "cannot start guest '%s': host "
						 "device '%s' does not exist",
						 g->name, l->dev);
				break;
			}
			if (vs_nl_macvlan(&nl, (int)parent, l->ifname, mac, init) <
			    0)
				r = vs_set_errno(ctx, errno,
						 "cannot create a macvlan on '%s' "
						 "for guest '%s'",
						 l->dev, g->name);
			continue;
		}
		/* veth: a stale host end of an earlier run goes first */
		unsigned stale = if_nametoindex(l->host);
		if (stale)
			vs_nl_link_del(&nl, (int)stale);
		unsigned master = 0;
		if (l->bridge[0] && !(master = if_nametoindex(l->bridge))) {
			r = vs_set_error(ctx,
					 "cannot start guest '%s': bridge '%s' "
					 "does not exist",
					 g->name, l->bridge);
			break;
		}
		if (vs_nl_veth(&nl, l->host, l->ifname, mac, init) < 0) {
			r = vs_set_errno(ctx, errno,
					 "cannot create the veth pair '%s' of "
					 "guest '%s'",
					 l->host, g->name);
			break;
		}
		unsigned idx = if_nametoindex(l->host);
		if (!idx || vs_nl_link_set(&nl, (int)idx, true, (int)master) < 0) {
			r = vs_set_errno(ctx, idx ? errno : ENODEV,
					 "cannot set up '%s' for guest '%s'",
					 l->host, g->name);
			break;
		}
		if (master)
			continue;
		/* no bridge: the guest's addresses are routed to it */
		proxy_arp(l->host);
		for (size_t k = 0; k < net->naddrs && r == 0; k++) {
			const struct vs_netif *a = &net->addrs[k];
			if (a->link != (int)i)
				continue;
			if (vs_nl_route(&nl, a->family, a->addr,
					a->family == AF_INET ? 32 : 128, NULL,
					(int)idx, false) < 0 &&
			    errno != EEXIST)
				r = vs_set_errno(ctx, errno,
						 "cannot route %s to guest '%s'",
						 a->text, g->name);
		}
	}
	if (r < 0) {
		kernel_says(ctx, &nl);
		vs_net_host_cleanup(ctx, net);
	}
	vs_nl_close(&nl);
	return r;
}

/* The loopback up, by ioctl: a guest without interfaces or addresses
 * needs no netlink (nor its helper). */
static int loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (r == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		r = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int vs_net_guest_setup(struct vs_guest *g, const struct vs_net *net)
{
	struct vs_ctx *ctx = g->ctx;
	if (loopback_up() < 0)
		return vs_set_errno(ctx, errno,
				    "cannot set up the loopback of guest '%s'",
				    g->name);
	if (!net->nlinks && !net->naddrs)
		return 0;
	struct vs_nl nl;
	if (vs_nl_open(ctx, &nl) < 0)
		return errno == ELIBACC
			       ? -1
			       : vs_set_errno(ctx, errno,
					      "cannot open a netlink socket in "
					      "guest '%s'",
					      g->name);
	int r = 0;
	unsigned lo = if_nametoindex("lo");
	int first = -1;
	for (size_t i = 0; i < net->nlinks && r == 0; i++) {
		const struct vs_netlink_spec *l = &net->links[i];
		unsigned idx = if_nametoindex(l->ifname);
		if (!idx)
			r = vs_set_errno(ctx, ENODEV, "no '%s' in guest '%s'",
					 l->ifname, g->name);
		else if (!l->down && vs_nl_link_set(&nl, (int)idx, true, 0) < 0)
			r = vs_set_errno(ctx, errno,
					 "cannot set up '%s' in guest '%s'",
					 l->ifname, g->name);
		if (first < 0 && !l->down)
			first = (int)idx;
	}
	for (size_t k = 0; k < net->naddrs && r == 0; k++) {
		const struct vs_netif *a = &net->addrs[k];
		unsigned idx = a->link < 0 ? lo
					   : if_nametoindex(net->links[a->link].ifname);
		if (vs_nl_addr(&nl, (int)idx, a->family, a->addr, a->prefix,
			       a->have_bcast ? a->bcast : NULL, a->scope,
			       a->label) < 0 &&
		    errno != EEXIST)
			r = vs_set_errno(ctx, errno,
					 "cannot add %s (interfaces/%s) in guest "
					 "'%s'",
					 a->text, a->entry, g->name);
	}
	if (r == 0 && first > 0) {
		if (net->have_gw) {
			if (vs_nl_route(&nl, net->gw_family, NULL, 0, net->gw,
					first, true) < 0)
				r = vs_set_errno(ctx, errno,
						 "cannot add the default route of "
						 "guest '%s'",
						 g->name);
		} else {
			/* veth without gateway: everything through the
			 * host end, which answers by proxy ARP */
			for (size_t i = 0; i < net->nlinks && r == 0; i++) {
				if (strcmp(net->links[i].kind, "veth") ||
				    net->links[i].bridge[0] || net->links[i].down)
					continue;
				int idx = (int)if_nametoindex(net->links[i].ifname);
				if (vs_nl_route(&nl, AF_INET, NULL, 0, NULL, idx,
						false) < 0 &&
				    errno != EEXIST)
					r = vs_set_errno(ctx, errno,
							 "cannot add a route in "
							 "guest '%s'",
							 g->name);
				break;
			}
		}
	}
	if (r < 0)
		kernel_says(ctx, &nl);
	vs_nl_close(&nl);
	return r;
}
