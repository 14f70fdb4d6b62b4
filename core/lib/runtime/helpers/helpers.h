/* Runtime helpers: shared objects of their own for the code that needs a
 * library only some runs use, opened by libvs when first needed
 * (runtime/helper.c): netlink.so (libmnl: a guest's interfaces),
 * seccomp.so (libseccomp: compiling a filter; an exec or a start whose
 * filter is already compiled only loads it) and machined.so (libsystemd's
 * sd-bus: a guest registered with systemd-machined).  Each exports one table,
 * vs_helper_<name>; the helpers call nothing of libvs. */
#ifndef VS_HELPERS_H
#define VS_HELPERS_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

/* ---- netlink.so: rtnetlink; -1 with errno from the kernel ------------ */
struct vs_nl_ops;
struct vs_nl {
	void *sock; /* struct mnl_socket */
	unsigned portid, seq;
	const struct vs_nl_ops *ops;
	/* the kernel's own words on the last failed request (its extended
	 * acknowledgement), or "" */
	char msg[160];
};
struct vs_nl_ops {
	int (*open)(struct vs_nl *nl);
	void (*close)(struct vs_nl *nl);
	/* A macvlan (bridge mode) on parent, made inside netns_pid's netns. */
	int (*macvlan)(struct vs_nl *nl, int parent, const char *name,
		       const unsigned char *mac, pid_t netns_pid);
	/* A veth pair: host here, peer inside netns_pid's netns. */
	int (*veth)(struct vs_nl *nl, const char *host, const char *peer,
		    const unsigned char *peer_mac, pid_t netns_pid);
	int (*link_set)(struct vs_nl *nl, int ifindex, bool up, int master);
	int (*link_del)(struct vs_nl *nl, int ifindex);
	int (*addr)(struct vs_nl *nl, int ifindex, int family,
		    const unsigned char *addr, int prefix,
		    const unsigned char *bcast, int scope, const char *label);
	/* A route to dst/dst_len (dst NULL: default) via gw (NULL: on the
	 * link). */
	int (*route)(struct vs_nl *nl, int family, const unsigned char *dst,
		     int dst_len, const unsigned char *gw, int ifindex,
		     bool onlink);
};

/* ---- seccomp.so: the guest filter's rules compiled to BPF ------------- */
/* Changes whenever the rules change: part of the cache key of a compiled
 * program (runtime/seccomp.c), so one of an older vs is never loaded. */
#define VS_SECCOMP_RULES_VERSION 3
#define VS_BPF_MAX 4096 /* the kernel's BPF_MAXINSNS */
struct vs_seccomp_ops {
	/* Whether the system call name is known on this machine. */
	bool (*known)(const char *name);
	/* The default rules less allow, plus add (NULL-terminated lists of
	 * known names): a malloc'd program of *len instructions, or NULL
	 * with errno. */
	struct sock_filter *(*compile)(char *const *allow, char *const *add,
				       unsigned short *len);
};

/* ---- machined.so: systemd-machined on the system bus ------------------ */
struct vs_machined_ops {
	/* RegisterMachine(name, uuid, "vs", "container", leader, root):
	 * machined takes the leader's unit as the machine's (no scope of its
	 * own).  0, or a negative errno with the bus's error name and text in
	 * msg; -ENOENT when no machined runs or can be started. */
	int (*register_machine)(const char *name, const unsigned char *uuid,
				pid_t leader, const char *root, char *msg,
				size_t msglen);
};

#endif
