/* Runtime helpers: shared objects of their own for the code that needs a
 * library only some runs use, opened by libvs when first needed
 * (runtime/helper.c): netlink.so (libmnl: a guest's interfaces),
 * seccomp.so (libseccomp: compiling a filter; an exec or a start whose
 * filter is already compiled only loads it) and machined.so (libsystemd's
 * sd-bus: a guest registered with systemd-machined) and ocispec.so
 * (jansson: an OCI bundle's config.json read into struct vs_oci_spec).  Each exports one table,
 * vs_helper_<name>; the helpers call nothing of libvs. */
#ifndef VS_HELPERS_H
#define VS_HELPERS_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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


/* ---- ocispec.so: config.json (runtime-spec 1.x) in plain C ------------ */
struct vs_oci_rlimit {
	int resource; /* RLIMIT_* */
	unsigned long long soft, hard;
};
struct vs_oci_idmap {
	unsigned long inside, outside, count;
};
struct vs_oci_mount {
	char *dst, *type, *src;
	char **options; /* NULL-terminated */
	/* an idmapped bind mount: its uid and gid maps (runtime-spec 1.1) */
	struct vs_oci_idmap uidmap[16], gidmap[16];
	size_t nuidmap, ngidmap;
};
struct vs_oci_ns {
	int type;   /* CLONE_NEW* */
	char *path; /* join it, or NULL: a new one */
};
struct vs_oci_device {
	char type; /* c, b, u, p */
	char *path;
	long long major, minor;
	unsigned mode;
	bool has_mode, has_uid, has_gid;
	unsigned uid, gid;
};
/* A linux.resources.devices rule: type 'a', 'c' or 'b'; major and
 * minor -1 for any; access a subset of "rwm". */
struct vs_oci_devrule {
	bool allow;
	char type;
	long long major, minor;
	char access[4];
};
struct vs_oci_hook {
	char *path;
	char **args, **env; /* NULL-terminated, may be NULL */
	int timeout;	    /* seconds, 0: none */
};
enum vs_oci_hook_kind {
	VS_OCI_PRESTART,
	VS_OCI_CREATE_RUNTIME,
	VS_OCI_CREATE_CONTAINER,
	VS_OCI_START_CONTAINER,
	VS_OCI_POSTSTART,
	VS_OCI_POSTSTOP,
	VS_OCI_NHOOKS
};
struct vs_oci_sc_arg {
	unsigned index;
	unsigned long long value, value2;
	char *op; /* SCMP_CMP_EQ... */
};
struct vs_oci_sc_rule {
	char **names; /* NULL-terminated */
	char *action; /* SCMP_ACT_... */
	bool has_errno;
	unsigned errno_ret;
	struct vs_oci_sc_arg *args;
	size_t nargs;
};
struct vs_oci_seccomp {
	char *default_action;
	bool has_default_errno;
	unsigned default_errno;
	char **arches; /* SCMP_ARCH_..., NULL-terminated, may be NULL */
	char **flags;  /* SECCOMP_FILTER_FLAG_..., may be NULL */
	struct vs_oci_sc_rule *rules;
	size_t nrules;
};
/* One entry of a blockIO device list: a throttle (bytes or operations
 * per second, 0: none) or weightDevice's weight, for major:minor. */
enum vs_oci_blkkind {
	VS_OCI_READ_BPS,
	VS_OCI_WRITE_BPS,
	VS_OCI_READ_IOPS,
	VS_OCI_WRITE_IOPS,
	VS_OCI_WEIGHT
};
struct vs_oci_blkdev {
	enum vs_oci_blkkind kind;
	long long major, minor, value;
};
struct vs_oci_process {
	bool terminal, no_new_privs;
	unsigned uid, gid, umask;
	bool has_umask;
	unsigned *gids; /* additionalGids */
	size_t ngids;
	char **args, **env; /* NULL-terminated */
	char *cwd;
	bool has_caps;
	uint64_t caps[5]; /* bounding, effective, inheritable, permitted,
			     ambient */
	struct vs_oci_rlimit *rlimits;
	size_t nrlimits;
	bool has_oom;
	int oom_score_adj;
	bool apparmor, selinux; /* asked for: ignored with a warning */
};
struct vs_oci_spec {
	char *version;
	char *root; /* root.path, relative to the bundle or absolute */
	bool root_ro;
	char *hostname, *domainname;
	struct vs_oci_process process;
	struct vs_oci_mount *mounts;
	size_t nmounts;
	struct vs_oci_ns ns[8];
	size_t nns;
	struct vs_oci_idmap uidmap[16], gidmap[16];
	size_t nuidmap, ngidmap;
	char *cgroups_path;
	/* linux.resources; -1: not set */
	long long mem_limit, mem_reservation, mem_swap, pids_limit;
	long long cpu_shares, cpu_quota, cpu_period, blkio_weight;
	char *cpus, *mems;
	struct vs_oci_devrule *devrules; /* in order: the last match wins */
	size_t ndevrules;
	struct vs_oci_device *devices;
	size_t ndevices;
	char **masked, **readonly; /* NULL-terminated, may be NULL */
	char **sysctl;		   /* key, value, key, value..., NULL */
	struct vs_oci_seccomp *seccomp; /* NULL: none */
	struct vs_oci_hook *hooks[VS_OCI_NHOOKS];
	size_t nhooks[VS_OCI_NHOOKS];
	char *rootfs_propagation;
	struct vs_oci_blkdev *blkdevs; /* linux.resources.blockIO's lists */
	size_t nblkdevs;
};
struct vs_oci_spec_ops {
	/* Reads config.json from the open file fd: a spec to free with
	 * free_spec, or NULL with one line in msg naming what was wrong
	 * (the JSON path and why). */
	struct vs_oci_spec *(*load)(int fd, char *msg, size_t msglen);
	/* Reads a process object (exec --process) into p.  0, or -1 with
	 * the reason in msg. */
	int (*load_process)(int fd, struct vs_oci_process *p, char *msg,
			    size_t msglen);
	void (*free_spec)(struct vs_oci_spec *s);
	void (*free_process)(struct vs_oci_process *p);
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
	/* An OCI profile (linux.seccomp of config.json): a malloc'd program
	 * of *len instructions, or NULL with errno and the reason in msg
	 * (an unknown action, architecture or operator). */
	struct sock_filter *(*compile_oci)(const struct vs_oci_seccomp *s,
					   unsigned short *len, char *msg,
					   size_t msglen);
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
