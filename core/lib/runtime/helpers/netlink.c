/* The netlink helper (netlink.so, the only user of libmnl): rtnetlink
 * links (macvlan, veth), addresses, routes.  Every request asks for an
 * acknowledgement; errors come back as -1 with errno set from the
 * kernel's answer. */
#define _GNU_SOURCE
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/helpers/helpers.h"

static int nl_open(struct vs_nl *nl)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return -1;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		errno = e;
		return -1;
	}
	int one = 1; /* the kernel says why a request failed; best effort */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return 0;
}

static void nl_close(struct vs_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

static int ack_attr(const struct nlattr *a, void *data)
{
	struct vs_nl *nl = data;
	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
		snprintf(nl->msg, sizeof(nl->msg), "%s", mnl_attr_get_str(a));
	return MNL_CB_OK;
}

/* An error answer: its extended acknowledgement's message into nl->msg. */
static void ack_message(struct vs_nl *nl, const char *buf, size_t n)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	for (; mnl_nlmsg_ok(h, (int)n); h = mnl_nlmsg_next(h, (int *)&n)) {
		if (h->nlmsg_type != NLMSG_ERROR ||
		    !(h->nlmsg_flags & NLM_F_ACK_TLVS))
			continue;
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
		size_t off = sizeof(*e);
		if (!(h->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		mnl_attr_parse(h, (unsigned)off, ack_attr, nl);
	}
}

/* Sends a request and waits for its acknowledgement. */
static int talk(struct vs_nl *nl, struct nlmsghdr *nlh)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	nl->msg[0] = '\0';
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -1;
		int r = mnl_cb_run(buf, (size_t)n, nl->seq, nl->portid, NULL,
				   NULL);
		if (r == MNL_CB_ERROR) {
			int e = errno; /* from the NLMSG_ERROR */
			ack_message(nl, buf, (size_t)n);
			errno = e;
			return -1;
		}
		if (r == MNL_CB_STOP || r == MNL_CB_OK)
			return 0;
	}
}

static struct nlmsghdr *link_msg(char *buf, int type, unsigned flags,
				 int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)type;
	nlh->nlmsg_flags = (uint16_t)flags;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

static int nl_macvlan(struct vs_nl *nl, int parent, const char *name,
		  const unsigned char *mac, pid_t netns_pid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
		link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)parent);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)netns_pid);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvlan");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_BRIDGE);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return talk(nl, nlh);
}

static int nl_veth(struct vs_nl *nl, const char *host, const char *peer,
	       const unsigned char *peer_mac, pid_t netns_pid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh =
		link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *pe = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	if (peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_PID, (uint32_t)netns_pid);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return talk(nl, nlh);
}

static int nl_link_set(struct vs_nl *nl, int ifindex, bool up, int master)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, ifindex);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = up ? IFF_UP : 0;
	if (master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
	return talk(nl, nlh);
}

static int nl_link_del(struct vs_nl *nl, int ifindex)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = link_msg(buf, RTM_DELLINK, 0, ifindex);
	return talk(nl, nlh);
}

static int nl_addr(struct vs_nl *nl, int ifindex, int family,
	       const unsigned char *addr, int prefix,
	       const unsigned char *bcast, int scope, const char *label)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)prefix;
	ifa->ifa_scope = (uint8_t)scope;
	ifa->ifa_index = (uint32_t)ifindex;
	size_t len = family == AF_INET ? 4 : 16;
	mnl_attr_put(nlh, IFA_LOCAL, len, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, len, addr);
	if (family == AF_INET && bcast)
		mnl_attr_put(nlh, IFA_BROADCAST, 4, bcast);
	if (family == AF_INET && label && *label)
		mnl_attr_put_strz(nlh, IFA_LABEL, label);
	if (family == AF_INET6) /* no duplicate detection: usable at once */
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return talk(nl, nlh);
}

static int nl_route(struct vs_nl *nl, int family, const unsigned char *dst,
		int dst_len, const unsigned char *gw, int ifindex, bool onlink)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)dst_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	if (onlink)
		rtm->rtm_flags |= RTNH_F_ONLINK;
	size_t len = family == AF_INET ? 4 : 16;
	if (dst && dst_len)
		mnl_attr_put(nlh, RTA_DST, len, dst);
	if (gw)
		mnl_attr_put(nlh, RTA_GATEWAY, len, gw);
	if (ifindex > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return talk(nl, nlh);
}

const struct vs_nl_ops vs_helper_netlink = {
	.open = nl_open,
	.close = nl_close,
	.macvlan = nl_macvlan,
	.veth = nl_veth,
	.link_set = nl_link_set,
	.link_del = nl_link_del,
	.addr = nl_addr,
	.route = nl_route,
};
