/* runtime: start, stop, exec/enter, the monitor, mounts, cgroups,
 * networking, the run state, the filter, user namespaces.  Calls config
 * and base. */
#ifndef VS_RUNTIME_H
#define VS_RUNTIME_H

#include <signal.h>
#include <sys/resource.h>
#include <termios.h>

#include "config/config.h"
#include "runtime/helpers/helpers.h"

/* runstate.c */
struct vs_runstate {
	unsigned xid;
	pid_t monitor, init;
	unsigned long long monitor_start, init_start; /* /proc stat field 22 */
	time_t started;
	bool nonamespace;
	/* the guest's cgroups as made at start, one "<ctls> <dir>" line
	 * each ("-" for cgroup2), or "" (a run file of an older vs) */
	char cgroups[2048];
};
enum vs_state { VS_STOPPED, VS_RUNNING, VS_STALE };
/* Start time of a process (clock ticks since boot) or 0 when gone. */
unsigned long long vs_proc_starttime(pid_t pid);
bool vs_proc_alive(pid_t pid, unsigned long long start);
char *vs_run_path(const struct vs_guest *g); /* host view, malloc'd */
/* 1 read, 0 no run file, -1 error (errno). */
int vs_run_read(const struct vs_guest *g, struct vs_runstate *rs);
int vs_run_write(struct vs_guest *g, const struct vs_runstate *rs);
void vs_run_remove(struct vs_guest *g);
/* Running (monitor and init alive), stopped, or stale (a run file whose
 * processes are gone).  rs may be NULL. */
enum vs_state vs_guest_state(const struct vs_guest *g, struct vs_runstate *rs);
/* Reads the hexadecimal fields keys ("CapBnd", "SigCgt", ...) of
 * /proc/<pid>/status into out; returns how many were found. */
int vs_proc_status_masks(pid_t pid, const char *const *keys,
			 unsigned long long *out, int n);
/* Takes the guest's start/stop lock; returns the fd to close, or -1. */
int vs_guest_lock(struct vs_guest *g);

/* net.c: interfaces/ in the guest's network namespace */
struct vs_netif { /* one address */
	char entry[64];    /* interfaces/<entry> */
	int family, prefix, scope;
	unsigned char addr[16], bcast[4], gw[16];
	bool have_bcast, have_gw;
	char text[64];     /* "10.0.0.1/24" */
	char label[16];
	int link;          /* index into links, -1: the loopback (nodev) */
};
struct vs_netlink_spec { /* one guest interface */
	char kind[8];      /* macvlan, veth */
	char dev[16], ifname[16], host[16], bridge[16];
	unsigned char mac[6];
	bool have_mac, down;
};
struct vs_net {
	struct vs_netif *addrs;
	size_t naddrs;
	struct vs_netlink_spec *links;
	size_t nlinks;
	bool have_gw;
	int gw_family;
	unsigned char gw[16];
};
/* Reads and checks interfaces/; -1 with one clear line. */
int vs_net_load(struct vs_guest *g, struct vs_net *net);
void vs_net_free(struct vs_net *net);
/* -1 when an address is used by another running guest. */
int vs_net_check_unique(struct vs_guest *g, const struct vs_net *net);
/* Monitor side, after the init exists: links inside its namespace and
 * veth host ends (removed again on failure). */
int vs_net_host_setup(struct vs_guest *g, const struct vs_net *net,
		      pid_t init);
/* Init side, inside the namespace: loopback, links, addresses, routes. */
int vs_net_guest_setup(struct vs_guest *g, const struct vs_net *net);
void vs_net_host_cleanup(struct vs_ctx *ctx, const struct vs_net *net);

/* plan.c: everything a start needs, read and checked up front */
struct vs_mount {
	char *src, *dst, *type, *data;
	unsigned long flags, prop; /* prop: a propagation, or 0 */
	int line;
	bool noauto;
};

/* userns.c: user-namespace guests */
#define VS_IDMAP_MAX 16
struct vs_idrange {
	unsigned long inside, outside, count;
};
struct vs_idmap {
	struct vs_idrange e[VS_IDMAP_MAX];
	size_t n;
};
struct vs_userns {
	bool on; /* spaces/user */
	struct vs_idmap uid, gid;
};
/* Reads spaces/user and the id maps (userns/uidmap, userns/gidmap, else
 * a slot of root's /etc/subuid and /etc/subgid).  0, or -1 with the
 * error set. */
int vs_userns_load(struct vs_guest *g, struct vs_userns *u);
/* -1 (error set) when another configured guest's uids overlap. */
int vs_userns_check_unique(struct vs_guest *g, const struct vs_userns *u);
/* Writes the maps of the new user namespace of pid. */
int vs_userns_map(struct vs_guest *g, const struct vs_userns *u, pid_t pid);
/* A detached, idmapped copy of root (the mapping of pid's user
 * namespace): its descriptor, or -1 with the error set (one line naming
 * the file system when it cannot be idmapped). */
int vs_userns_root_tree(struct vs_guest *g, const char *root, pid_t pid);
/* In a new user namespace whose maps are written: uid and gid 0 there,
 * no supplementary groups.  0 or -1 with errno. */
int vs_userns_become_root(void);

/* resources.c: util-vserver's resource keys on a vanilla kernel */
#define VS_RES_CG_MAX 8
/* One resource limit to set, or not (set false). */
struct vs_rlimit_want {
	bool set;
	struct rlimit lim;
};
/* Sets the limits marked in rlim (RLIM_NLIMITS entries) on pid (0: the
 * caller) with prlimit, where the host's CAP_SYS_RESOURCE still counts:
 * before the process joins a user namespace (only it raises a hard
 * limit).  A guest's init, a command entered into a guest and an OCI
 * container's process all get their limits here.  0, or -1 with errno
 * and *failed the resource. */
int vs_rlimits_set(pid_t pid, const struct vs_rlimit_want *rlim,
		   int *failed);
struct vs_resources {
	struct vs_rlimit_want rlim[RLIM_NLIMITS]; /* ulimits/, rlimits/ */
	bool have_nice, have_oom;
	int nice, oom_score_adj; /* nice, badness */
	int ioprio;		 /* ionice/, or -1 */
	long persona;		 /* personality, uts/machine; or -1 */
	bool virt_uptime;	 /* cflags (util-vserver's default) */
	bool virt_uptime_asked;	 /* named in cflags, not by default */
	/* cgroup settings they become (pids.max, memory.*, cpu.*): applied
	 * before the guest's own cgroup/, which wins */
	struct {
		char name[32], value[64];
	} cg[VS_RES_CG_MAX];
	size_t ncg;
};
/* The setrlimit resources by util-vserver's names (ulimits/, rlimits/,
 * vlimit); pages: rlimits/ and vlimit count it in pages, as the VServer
 * kernel did.  {NULL}-terminated. */
struct vs_rlimit_name {
	const char *name;
	int res;
	bool pages;
};
extern const struct vs_rlimit_name vs_rlimit_names[];
/* Reads them; with warn, names each key that has no vanilla equivalent
 * (one warning each).  0, or -1 with the error set (a bad value, named
 * with its file). */
int vs_resources_load(struct vs_guest *g, struct vs_resources *r, bool warn);
/* From the host, on the guest's init pid before it runs its command:
 * limits, nice, I/O priority, OOM badness.  0 or -1 (error set). */
int vs_resources_apply(struct vs_guest *g, const struct vs_resources *r,
		       pid_t pid);
/* Writes the oom_score_adj (badness) of pid, 0 for our own (entered
 * processes, OCI processes).  0 or -1 (errno). */
int vs_oom_write(pid_t pid, int adj);
/* In a process of the guest: its personality.  0 or -1 (errno). */
int vs_resources_self(const struct vs_resources *r);
/* The cgroup setting of a VServer token bucket (fill rate per interval,
 * idle-time): cpu.max ("<quota> <period>", "max <period>" for a whole
 * CPU or more), or cpu.weight with idle. */
void vs_sched_setting(unsigned long fill, unsigned long interval, bool idle,
		      char name[32], char value[64]);
/* A value of ulimits/ or rlimits/: a number with k, K, m, M, g, G or
 * "inf".  0, or -1 when it is none. */
int vs_limit_parse(const char *s, rlim_t *out);
/* dlimits.c: disk limits as project quotas */
struct vs_dlimit {
	unsigned long long space_used, space_total; /* KiB; total 0: none */
	unsigned long long inodes_used, inodes_total;
};
/* The project quota of project id on fd's file system.  0 or -1 (errno;
 * ESRCH, ENOSYS, EINVAL...: no project quotas there). */
int vs_quota_get(int fd, unsigned id, struct vs_dlimit *out);
/* Sets its hard (and soft) limits; 0 removes them.  0 or -1 (errno). */
int vs_quota_set(int fd, unsigned id, unsigned long long space_kb,
		 unsigned long long inodes);
/* At start: every dlimits/<x>/ of g (its directory, the guest's root or
 * below, gets g's context as project id, the project its limits); what
 * cannot be applied is a warning.  0, or -1 with the error set (a bad
 * value). */
int vs_dlimits_apply(struct vs_guest *g);
/* sysctl.c: sysctl/<x>/{setting,value} */
struct vs_sysctl {
	char name[128], value[1024];
};
/* Whether the sysctl name (dotted) belongs to a namespace of nsflags
 * (CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET): one a guest or container
 * may set without changing the host. */
bool vs_sysctl_namespaced(const char *name, int nsflags);
/* The file of the sysctl name under /proc/sys ("a.b" -> /proc/sys/a/b)
 * into out (size bytes). */
void vs_sysctl_path(const char *name, char *out, size_t size);
/* The settings of the guest's own namespaces (net.* only with netns);
 * with warn, one warning for each other one.  0, or -1 with the error
 * set (a bad name). */
int vs_sysctl_load(struct vs_guest *g, bool netns, bool warn,
		   struct vs_sysctl **out, size_t *n);
/* From the host, in a child that joins the namespaces of the process of
 * pidfd (the new init).  0, or -1 with the error set. */
int vs_sysctl_apply(struct vs_guest *g, const struct vs_sysctl *s, size_t n,
		    int pidfd);
/* keys.c: names each key of g's configuration that vs does not apply
 * (a warning each, with the reason). */
void vs_keys_warn(struct vs_guest *g);
/* A new time namespace for our children (and for us after an exec) whose
 * boot clock starts near 0.  0 or -1 (errno). */
int vs_timens_start(void);

/* launch.c: the one way a guest's init and a container's process are
 * made (the handshake; see the file) */
enum { VS_JOIN_PID, VS_JOIN_TIME, VS_JOIN_MNT, VS_JOIN_USER, VS_JOIN_N };
struct vs_cgroup;
struct vs_launch {
	uint64_t flags;		    /* the CLONE_NEW* namespaces to make */
	const struct vs_cgroup *cg; /* its groups (NULL: none) */
	const char *what;	    /* "guest 'x'", in messages */
	/* namespaces given by path (VS_JOIN_*; -1: none) and their paths */
	int join[VS_JOIN_N];
	const char *join_path[VS_JOIN_N];
	/* success is a '\1' on err (the child waits for more before its
	 * exec), not the EOF of its exec */
	bool ready_byte;
	/* the child's part: never returns; it reads go (vs_launch_wait)
	 * when it needs the parent's part done, fails through
	 * vs_launch_fail(err) */
	void (*child)(void *arg, int go, int err);
	/* the parent's, right after the clone, whether it worked or not
	 * (closes the child's ends of what the caller made) */
	void (*cloned)(void *arg);
	/* the parent's, the child in its groups and waiting: -1 (error
	 * set) fails */
	int (*host)(void *arg, pid_t pid, int pidfd);
	void *arg;
	pid_t pid; /* out: the child, -1 */
	int pidfd; /* out: its pidfd (the caller's to close), -1 */
};
/* Makes the child and runs the handshake.  0 (l->pid has exec'd, or
 * with ready_byte is ready), or -1 with the error set and nothing left
 * of the child. */
int vs_launch(struct vs_ctx *ctx, struct vs_launch *l);
/* Kills and reaps l's child, closes its pidfd. */
void vs_launch_abort(struct vs_launch *l);
/* In the child: waits for the parent's part; its host pid to *hostpid
 * (NULL: not wanted).  false: the parent gave up. */
bool vs_launch_wait(int go, pid_t *hostpid);
/* In the child: the error of ctx to the parent, then _exit(127). */
_Noreturn void vs_launch_fail(struct vs_ctx *ctx, int err);

struct vs_plan {
	struct vs_guest *g;
	char root[PATH_MAX]; /* real path of the guest root */
	uint64_t bcaps;
	char **env;        /* the init's whole environment */
	char style[32];
	char **start_argv; /* NULL for sysv: the rc script, found inside */
	char **stop_argv;  /* run inside the guest to stop it, or NULL */
	char runlevel_start[32], runlevel_stop[32];
	int stop_signal;   /* sent to the init to stop it, or 0 */
	bool fakeinit;     /* the start command is PID 1 */
	char *nodename, *domainname;
	struct vs_mount *mounts; /* fstab */
	size_t nmounts;
	struct vs_mount *remote; /* fstab.remote: after the network */
	size_t nremote;
	bool nonamespace, netns;
	struct vs_net net;
	int killseq[32];
	size_t nkill;
	int timeout; /* seconds a stop may take before the kill sequence */
	void *seccomp;     /* the filter (NULL: none) */
	struct vs_userns userns;
	int treefd;        /* userns: the idmapped root, attached by the init */
	bool no_new_privs; /* apps/seccomp/no-new-privs */
	/* the console: a pty of the guest's devpts, its slave the init's
	 * stdio and /dev/console, its master for the monitor (console.c);
	 * without it (foreground) the init keeps the caller's stdio */
	bool console;
	int console_master, console_slave; /* set by vs_mounts_setup */
	/* systemd's container interface: /run and /run/lock as tmpfs, the
	 * guest's own cgroup2 hierarchy at /sys/fs/cgroup, container=vs */
	bool api_fs;
	struct vs_resources res;
	struct vs_sysctl *sysctls;
	size_t nsysctls;
	char *mtab; /* apps/init/mtab (else .defaults/init/mtab), or NULL */
};
/* uts.c: our node and domain name (NULL: unchanged), in the new UTS
 * namespace of a guest's init or a container's process.  0, or -1 with
 * the error set. */
int vs_uts_set(struct vs_ctx *ctx, const char *nodename,
	       const char *domainname);
/* The running guest's uname, read from its UTS namespace after setting
 * nodename and domainname where not NULL.  0, or -1 with the error
 * set. */
struct utsname;
int vs_guest_uts(struct vs_guest *g, const struct vs_runstate *rs,
		 const char *nodename, const char *domainname,
		 struct utsname *out);
/* A signal by number or name ("TERM", "SIGTERM", "RTMIN+3"); -1 when
 * it is none. */
int vs_signal_parse(const char *s);
/* Reads and checks everything a start needs; with warn, names the keys
 * that have no vanilla equivalent.  0, or -1 with the error set. */
int vs_plan_load(struct vs_guest *g, struct vs_plan *p, bool warn);
/* The guest's UUID, 16 bytes (its uuid file, else derived from the
 * host's machine-id and its name); -1 with the error set. */
int vs_guest_uuid(struct vs_guest *g, uint8_t b[16]);
/* machined.c: registers the started guest (init its leader, running in a
 * unit's delegated group) with systemd-machined where systemd runs the
 * host; silent without machined, a warning when it refuses; never
 * fatal. */
void vs_machined_register(struct vs_guest *g, pid_t init);
/* 0 when vs's own root is the top of its mount namespace (or a mount
 * directly on the kernel's empty rootfs); -1 with the error set when vs
 * runs in a chroot, which a guest with its own mount namespace could
 * climb out of (guest names the guest in the message). */
int vs_root_check(struct vs_ctx *ctx, const char *guest);
void vs_plan_free(struct vs_plan *p);
/* Warns (once, at start) when a guest without a user namespace has
 * capabilities that reach the host, or runs systemd without what its
 * services need. */
void vs_plan_warn(struct vs_guest *g, const struct vs_plan *p);


/* seccomp.c */
/* Builds the guest's system call filter from its configuration
 * (apps/seccomp/); *filter is NULL when the guest has none.  With warn
 * (at start), says so, and warns when bcaps keeps CAP_DAC_READ_SEARCH
 * and handles are not filtered.  *nnp (unless NULL) says whether
 * apps/seccomp/no-new-privs is set.  0, or -1 with the error set. */
int vs_seccomp_prepare(struct vs_guest *g, uint64_t bcaps, bool warn,
		       void **filter, bool *nnp);
/* Loads the filter into this process (no_new_privs is not set: the
 * caller still holds CAP_SYS_ADMIN).  0, or -1 with errno. */
int vs_seccomp_load(void *filter);
void vs_seccomp_free(void *filter);

/* creds.c */
/* What a process of a guest or a container becomes before its exec. */
struct vs_creds {
	bool no_new_privs;
	void *filter;	   /* a compiled system call filter, or NULL */
	uint64_t bounding; /* the bounding set */
	/* the capability sets; without them the bounding set is root's
	 * permitted, effective and inheritable set (none for another user:
	 * the kernel clears them at the switch) and nothing is ambient */
	bool has_sets;
	uint64_t effective, inheritable, permitted, ambient;
	bool set_user; /* else the process keeps its ids and groups */
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
};
enum vs_creds_step {
	VS_CREDS_NNP,
	VS_CREDS_FILTER,
	VS_CREDS_BOUNDING,
	VS_CREDS_USER,
	VS_CREDS_SETS
};
/* Applies c to the calling process, in this order: no_new_privs, the
 * filter (last instead when no_new_privs lets it load without
 * CAP_SYS_ADMIN), the bounding set, the user, the capability sets.  0, or
 * -1 with errno and *failed (unless NULL) the step that failed. */
int vs_creds_apply(const struct vs_creds *c, enum vs_creds_step *failed);
/* What a step does, for "cannot <what>" ("load the system call
 * filter"). */
const char *vs_creds_what(enum vs_creds_step s);

/* initctl.c */
/* Makes the guest's /run/initctl (from inside its root) and opens it; -1
 * when the guest has no /run or it cannot be made. */
int vs_initctl_open(void);
/* One request read from the channel: the runlevel asked for ('0'..'6',
 * 'S'), or 0 for none or anything else. */
int vs_initctl_read(int fd);
/* Records the runlevel in the guest's utmp (a RUN_LVL entry, as
 * sysvinit's); prev 'N' for none. */
void vs_initctl_record(char prev, char cur);

/* console.c */
#define VS_CONSOLE_CAP (1024 * 1024) /* bytes of a console log */
/* <rundir>/.console/<guest>.log (host view, malloc'd). */
char *vs_console_log_path(const struct vs_guest *g);
/* Copies what the guest writes to its console (the pty master, which is
 * taken over) into its log, from a thread of the calling monitor; the
 * previous log becomes <guest>.log.1.  *slave is the monitor's hold on
 * the console, to close once the init is gone (the thread then ends).
 * 0, or -1 with the error set (the master is then the caller's still). */
int vs_console_start(struct vs_guest *g, int master, int *slave);
#define VS_CONSOLE_DETACH 0x1d /* ^]: three within a second detach */
/* Attaches our terminal to the running guest's console until three ^]
 * within a second or the console's end.  0, or -1 with the error set
 * (not running in the background, attached elsewhere). */
int vs_console_attach(struct vs_guest *g);

/* mounts.c */
/* In the future init: builds the guest's mounts and enters its root
 * (pivot_root, or chroot for nonamespace).  -1 with the error set. */
int vs_mounts_setup(struct vs_plan *p);
/* Fills m's flags, propagation, data and noauto from an fstab option
 * list ("ro,size=1m"); m->data is malloc'd.  0. */
int vs_mount_options(struct vs_mount *m, const char *opts);
/* Mounts into a running guest (vmount): m->src a host-view path to bind
 * (MS_BIND) or the source of a new file system of type m->type, made on
 * the host side, then attached at m->dst resolved inside the guest's
 * root, in its mount namespace.  0, or -1 with the error set. */
int vs_guest_mount(struct vs_guest *g, const struct vs_runstate *rs,
		   const struct vs_mount *m);
/* In the init, inside the guest's root once its network is up: the
 * fstab.remote mounts.  -1 with the error set. */
int vs_mounts_remote(struct vs_plan *p);
/* Unmounts everything below a real path (nonamespace guests). */
int vs_mounts_cleanup(const char *root);
/* A host command of g's configuration (rel: apps/init/cmd.prepare,
 * cmd.start-sync, cmd.stop-sync; one argument per line, the program
 * looked up in PATH unless it has a '/'), run in root (a real path) with
 * the hooks' environment.  0 (also when rel is missing), or -1 with the
 * error set when it failed or could not run. */
int vs_run_cfg_command(struct vs_guest *g, const char *rel, const char *root);
/* util-vserver's sync: `vs start|stop --sync` or apps/init/sync; then
 * cmd.start-sync and cmd.stop-sync run. */
bool vs_guest_sync(struct vs_guest *g);
/* Exports VSERVER_DIR, VSERVER_NAME and S_CONTEXT (util-vserver's start
 * script's variables) for the host commands run for g; set false: takes
 * them away. */
void vs_hooks_env(struct vs_guest *g, bool set);

/* hooks.c */
/* Hands event to the hook plugins selected for the guest.  With fatal,
 * the first failure stops and returns -1 (error set); otherwise failures
 * are warned about and -1 returned at the end. */
int vs_hooks_run(struct vs_guest *g, const char *event, bool fatal);
/* The same with the arguments given to the plugins (argv[0] = event). */
int vs_hooks_run_args(struct vs_guest *g, const char *event, bool fatal,
		      int argc, char **argv);

/* enter.c */
struct vs_exec_opts {
	char *const *argv;             /* argv[0] may be NULL with candidates */
	const char *const *candidates; /* first executable inside wins */
	char *const *env;              /* NULL: the guest's environment */
	int timeout_ms;                /* -1: wait for ever, else kill */
	bool pty;                      /* a pty of the guest's devpts */
	const char *user;              /* suexec: a user of the guest */
};
/* A user of the guest, from its own /etc/passwd and /etc/group (read
 * inside the guest's mount namespace, never the host's). */
struct vs_user {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	size_t ngroups;
	char home[256];
};
/* Looks up name (or a number) in ./etc/passwd and ./etc/group of the
 * current root.  0, or -1 with errno (ENOENT: no such user). */
int vs_guest_user(const char *name, struct vs_user *u);
/* Relays the terminal (stdin/stdout) and the pty master until the
 * process of pidfd ends; forwards the window size. */
void vs_pty_relay(int master, int pidfd);
/* Gives the pty master the window size of our terminal (0, 1 or 2). */
void vs_pty_copy_winsize(int master);
/* Our terminal (stdin) in raw mode while a relay runs, the window size
 * of master following ours: begin, winch after each wakeup, end. */
struct vs_term {
	struct termios saved;
	bool tty;
	struct sigaction old_winch;
};
void vs_term_begin(struct vs_term *t, int master);
void vs_term_winch(int master);
void vs_term_end(struct vs_term *t);
/* The guest's init environment (apps/init/environment precedence). */
char **vs_guest_env(struct vs_guest *g);
/* Runs a command in the running guest; *status is its exit status
 * (128+signal when killed).  -1 with the error set when it could not. */
int vs_guest_exec(struct vs_guest *g, const struct vs_runstate *rs,
		  const struct vs_exec_opts *o, int *status);

/* start.c, stop.c */
/* Starts the guest (background monitor, or this process as the monitor
 * with foreground, returning when the guest ends).  -1 with the error. */
int vs_guest_start(struct vs_guest *g, bool foreground);
/* Stops the guest (a stopped one: leftovers cleaned, success). */
int vs_guest_stop(struct vs_guest *g);
/* The monitor's own stop (it received SIGTERM). */
void vs_guest_stop_from_monitor(struct vs_guest *g);
/* post-stop hooks, unmounts, cgroup removal, postpost-stop, run file. */
void vs_guest_cleanup(struct vs_guest *g, const struct vs_runstate *rs,
		      bool hooks);

/* helper.c: the runtime helpers (helpers/helpers.h) */
/* The table vs_helper_<name> of <libvs's dir>/vs/runtime/<name>.so,
 * opened on first use; NULL with the error set (errno ELIBACC). */
const void *vs_helper(struct vs_ctx *ctx, const char *name);
/* rtnetlink through the netlink helper; -1 with errno from the kernel.
 * vs_nl_open: -1 with errno ELIBACC and the error set when the helper
 * could not be loaded. */
int vs_nl_open(struct vs_ctx *ctx, struct vs_nl *nl);
static inline void vs_nl_close(struct vs_nl *nl)
{
	nl->ops->close(nl);
}
static inline int vs_nl_macvlan(struct vs_nl *nl, int parent,
				const char *name, const unsigned char *mac,
				pid_t netns_pid)
{
	return nl->ops->macvlan(nl, parent, name, mac, netns_pid);
}
static inline int vs_nl_veth(struct vs_nl *nl, const char *host,
			     const char *peer, const unsigned char *peer_mac,
			     pid_t netns_pid)
{
	return nl->ops->veth(nl, host, peer, peer_mac, netns_pid);
}
static inline int vs_nl_link_set(struct vs_nl *nl, int ifindex, bool up,
				 int master)
{
	return nl->ops->link_set(nl, ifindex, up, master);
}
static inline int vs_nl_link_del(struct vs_nl *nl, int ifindex)
{
	return nl->ops->link_del(nl, ifindex);
}
static inline int vs_nl_addr(struct vs_nl *nl, int ifindex, int family,
			     const unsigned char *addr, int prefix,
			     const unsigned char *bcast, int scope,
			     const char *label)
{
	return nl->ops->addr(nl, ifindex, family, addr, prefix, bcast, scope,
			     label);
}
static inline int vs_nl_route(struct vs_nl *nl, int family,
			      const unsigned char *dst, int dst_len,
			      const unsigned char *gw, int ifindex, bool onlink)
{
	return nl->ops->route(nl, family, dst, dst_len, gw, ifindex, onlink);
}

/* cgroup.c */
#define VS_CGROUP_MAX 16
struct vs_cgroup {
	char *dirs[VS_CGROUP_MAX]; /* real paths, one per hierarchy */
	char ctls[VS_CGROUP_MAX][256]; /* v1 controllers; "" for v2 */
	size_t n;
	char *v2; /* the cgroup2 one (one of dirs[]), or NULL */
	bool delegated; /* below a systemd unit's delegated group */
	/* an engine's path (vs oci): controllers are enabled in every group
	 * from the hierarchy's root down to the parent, none is moved */
	bool chain;
	char base[128];	/* the configured base (removed when empty) */
};
/* cgroup_delegate.c: this process's group in the hierarchy with the v1
 * controllers ctls ("" for cgroup2), from /proc/self/cgroup; malloc'd, or
 * NULL. */
char *vs_cgroup_own_path(const char *ctls);
/* True when systemd delegated the group dir (Delegate=yes: the
 * trusted.delegate or, from a user namespace, user.delegate attribute). */
bool vs_cgroup_is_delegated(const char *dir);
/* Moves this process into unitdir/supervisor (a delegated unit's own
 * processes may not sit beside groups with controllers); -1 with errno. */
int vs_cgroup_supervise(const char *unitdir);
/* In a delegated unit, moves this process to the unit's supervisor leaf
 * (before it starts guests below the unit's group); else nothing. */
void vs_cgroup_leave_unit_root(void);
/* Calls fn for each group directly below the group open at dfd (its
 * name, an fd of it, depth + 1), to a depth of 32: cgroupfs has no
 * symlinks, and the guest may have made these. */
void vs_cgroup_each_child(int dfd, int depth,
			  void (*fn)(int dfd, const char *name, int fd,
				     int depth, void *arg),
			  void *arg);
/* cgroup_partition.c: a set of cpus (0 to 1023) */
struct vs_cpus {
	unsigned long bits[1024 / (8 * sizeof(unsigned long))];
};
/* A cpu list ("0-3,8") into set; -1 when bad. */
int vs_cpulist_parse(const char *s, struct vs_cpus *set);
/* set as a cpu list into buf ("" for none; cut short when len is). */
void vs_cpulist_format(const struct vs_cpus *set, char *buf, size_t len);
/* Makes the cgroup2 group dir of g (its cpuset.cpus set) a partition of
 * its cpus, lent through the base's cpuset.cpus.exclusive; key names the
 * setting in errors.  A kernel without cpuset.cpus.exclusive: a warning
 * and 0.  -1 with the error set. */
int vs_cgroup_partition(struct vs_guest *g, const char *dir, const char *key);
/* 0 when the cpus of list are lent to no partition below the base of
 * g's group dir (they are then free for that group's cpuset.cpus); -1
 * with the error set, naming them. */
int vs_cgroup_partition_free(struct vs_guest *g, const char *dir,
			     const char *list);
/* The base's exclusive cpus shrink to those its child groups still
 * hold (after a guest's group is gone). */
void vs_cgroup_partition_release(const char *base);
/* Offers cgroup2 controllers in the group of a guest with a cgroup2
 * hierarchy of its own (enabled in the base, and the root): those its
 * cgroup/delegate (else .defaults/cgroup/delegate) names, a warning for
 * one cgroup2 lacks; without the file, those the host's cgroup2 root
 * enables for its children. */
void vs_cgroup_offer(struct vs_guest *g, const struct vs_cgroup *cg);
/* For a process joining the running guest whose cgroup2 group cg holds:
 * when the guest gave that group's children controllers (systemd does),
 * the group takes no process (EBUSY): cg->v2 becomes the group of the
 * guest's init below it (systemd's init.scope), as runc's exec does. */
void vs_cgroup_use_leaf(struct vs_cgroup *cg, pid_t init);
/* The group below the cgroup2 group v2 (<mount><group>) that lines (a
 * /proc/<pid>/cgroup) names for the process, as <v2>/<rest>: malloc'd,
 * or NULL when it names none below v2, or one with "..". */
char *vs_cgroup_leaf_dir(const char *v2, const char *lines);

/* mountop.c: one mount onto a mount point inside a root, for a guest's
 * fstab and a container's spec. */
struct vs_mount_op {
	const char *dst; /* the mount point inside the root */
	int at;		 /* it, opened beneath the root (O_PATH) */
	/* a bind (MS_BIND in flags): a detached mount to attach (tree), or
	 * the source to bind (src_fd, O_PATH; MS_REC: what is below too) */
	int tree, src_fd;
	const char *src, *type, *data; /* else the file system to mount */
	unsigned long flags; /* a bind's other flags come with a remount */
	unsigned long prop;  /* a propagation (MS_SHARED, ...) or 0 */
};
enum vs_mount_step { VS_MOUNT_MAKE, VS_MOUNT_REMOUNT, VS_MOUNT_PROPAGATION };
/* One mount option (of a guest's fstab or a spec mount) applied to
 * *flags (set or cleared) or *prop (a propagation: MS_SHARED, ...);
 * fstab's words that mean nothing to the kernel (defaults, auto, nofail,
 * ...) are taken too.  False for an option of the file system's own (its
 * data). */
bool vs_mount_option(const char *o, unsigned long *flags,
		     unsigned long *prop);
/* Mounts op below the root rootfd.  0, or -1 with errno and *failed
 * (unless NULL) the step that failed; the caller says what. */
int vs_mount_do(int rootfd, const struct vs_mount_op *op,
		enum vs_mount_step *failed);

/* mountpoint.c: a mount point inside a root, by policy */
enum vs_mount_point_how {
	VS_MP_FIXED,	/* exists, a directory, no symlink on the way (the
			 * fixed mounts of a guest: /proc, /dev, ...) */
	VS_MP_EXISTING, /* exists; symlinks resolved inside the root (a
			 * guest's fstab) */
	VS_MP_DIR,	/* made when missing, a directory (a container's) */
	VS_MP_FILE,	/* made when missing, the last an empty file (a
			 * container's bind of a file) */
};
/* path (absolute, inside the root open at rootfd) as a mount point: an
 * O_PATH fd of it, never outside the root, or -1 with errno (ENOTDIR: a
 * symlink where none may be). */
int vs_mount_point(int rootfd, const char *path, enum vs_mount_point_how how);

/* protect.c: paths of /proc and /sys a guest or container may not read
 * (masked) or change (read-only).  The defaults, NULL-terminated: guests
 * take them, `vs oci spec` writes them. */
extern const char *const vs_masked_default[];
extern const char *const vs_readonly_default[];
/* path (absolute, inside the root open at rootfd) opened with flags,
 * never leaving that root (no magic links); -1 with errno. */
int vs_in_root(int rootfd, const char *path, int flags);
/* "/proc/self/fd/<fd>" into out (size bytes; 32 suffice): a mount's
 * source or target by its descriptor.  Returns out. */
const char *vs_fdpath(int fd, char *out, size_t size);
/* The flags a bind remount of the mount at path must keep (a user
 * namespace cannot drop them). */
unsigned long vs_locked_flags(const char *path);
/* Mounts an empty read-only tmpfs over the directory path inside rootfd,
 * /dev/null over a file; nothing for a missing path.  0, or -1 with the
 * error set. */
int vs_path_mask(struct vs_ctx *ctx, int rootfd, const char *path);
/* Binds path inside rootfd read-only onto itself (what is mounted below
 * it too); nothing for a missing path.  0, or -1 with the error set. */
int vs_path_readonly(struct vs_ctx *ctx, int rootfd, const char *path);
/* Masks every path of masked, then makes every path of readonly
 * read-only (both NULL-terminated, or NULL).  0, or -1 with the error
 * set (the first failure). */
int vs_protect_paths(struct vs_ctx *ctx, int rootfd,
		     const char *const *masked, const char *const *readonly);

/* devnodes.c: the /dev of a guest or container.  vs_dev_defaults: the
 * character devices every one gets (mode 0666), up to a NULL name. */
struct vs_devnode {
	const char *name;
	unsigned major, minor;
};
extern const struct vs_devnode vs_dev_defaults[];
/* Makes the node name in dirfd (type S_IFCHR, S_IFBLK or S_IFIFO) with
 * mode and owner, replacing a node of that name.  With bind, or where
 * mknod is refused (a user namespace), the host's node at host is bound
 * on an empty file instead.  0, or -1 with errno. */
int vs_dev_node(int dirfd, const char *name, mode_t type, dev_t rdev,
		mode_t mode, uid_t uid, gid_t gid, const char *host, bool bind);
/* The links of devfd: fd, stdin, stdout and stderr into /proc/self/fd,
 * ptmx to pts/ptmx (replacing a node); a link already there stays.  0,
 * or -1 with errno and *which naming the link. */
int vs_dev_links(int devfd, const char **which);
/* The console: a pty of devfd's devpts (at pts), its slave bound on
 * devfd's console (replacing a node); *master and *slave are the
 * caller's to close.  0, or -1 with errno. */
int vs_dev_console(int devfd, int *master, int *slave);

/* rootswitch.c: how the current directory becomes the root: pivot_root
 * (the old root detached), a move onto / then chroot (no pivot_root:
 * an initramfs), or a chroot alone (no mount namespace). */
enum vs_root_how { VS_ROOT_PIVOT, VS_ROOT_MOVE, VS_ROOT_CHROOT };
/* Makes the current directory the root, how says how; name (for the
 * error) is what it is.  0, or -1 with the error set. */
int vs_root_switch(struct vs_ctx *ctx, const char *name, enum vs_root_how how);
/* Fills cg with the guest's existing cgroups (nothing created). */
int vs_cgroup_locate(struct vs_guest *g, struct vs_cgroup *cg);
/* Fills cg from the groups the run state recorded at start (no mount
 * table read, no probing), else as vs_cgroup_locate does. */
int vs_cgroup_of(struct vs_guest *g, const struct vs_runstate *rs,
		 struct vs_cgroup *cg);
/* Records cg in rs->cgroups (left empty when it does not fit). */
void vs_cgroup_record(const struct vs_cgroup *cg, struct vs_runstate *rs);
/* Creates the guest's cgroups and applies cgroup/ and cpuset/ limits;
 * on failure nothing is left.  -1 with the error set. */
int vs_cgroup_create(struct vs_guest *g, struct vs_cgroup *cg,
		     const struct vs_resources *res);
/* How cgroup/<name> (v1 or v2 spelling) holding value is written in a
 * v2 (or v1) hierarchy: the file's name into file, the value (its first
 * line, converted: cpu.shares <-> cpu.weight, -1 <-> max for memory)
 * into out. */
void vs_cgroup_translate(const char *name, const char *value, bool v2,
			 char *file, size_t fsize, char *out, size_t osize);
/* The BFQ file the group directory dir takes a blkio-scale weight
 * setting (blkio.weight, blkio.weight_device) in, as runc chooses it:
 * on v1 where CFQ's file is gone (Linux 5.0 removed CFQ), on cgroup2
 * wherever BFQ has one; NULL: translate as usual.  A static string. */
const char *vs_cgroup_bfq_file(const char *dir, const char *name, bool v2);
/* True when the guest's groups include one of controller ctl (a v1
 * hierarchy, or enabled for its cgroup2 group). */
bool vs_cgroup_has(const struct vs_cgroup *cg, const char *ctl);
/* Writes one setting (v1 or v2 spelling, translated) to the group that
 * has its controller.  0, or -1 with the error set. */
int vs_cgroup_set(struct vs_guest *g, const struct vs_cgroup *cg,
		  const char *name, const char *value);
/* Creates the group rel ("/a/b") in every hierarchy (missing parents
 * too); cg's base is never removed.  -1 with the error set (nothing
 * left of this group). */
int vs_cgroup_create_path(struct vs_ctx *ctx, const char *rel,
			  struct vs_cgroup *cg);
/* Moves pid (0: the caller) into the groups (v1_only: not cgroup2). */
int vs_cgroup_attach(const struct vs_cgroup *cg, pid_t pid, bool v1_only);
size_t vs_cgroup_pids(const struct vs_cgroup *cg, pid_t *pids, size_t max);
void vs_cgroup_signal(const struct vs_cgroup *cg, int sig);
/* True when pid is a process of the groups (or of one below them). */
bool vs_cgroup_holds(const struct vs_cgroup *cg, pid_t pid);
/* Kills what is left and removes the groups; -1 when one stays. */
int vs_cgroup_destroy(struct vs_cgroup *cg);
bool vs_cgroup_exists(const struct vs_cgroup *cg);
/* Hands the cgroup2 group to uid:gid (the group itself, cgroup.procs,
 * cgroup.subtree_control, cgroup.threads: cgroup v2's delegation), for
 * the root of a user-namespace guest.  0, or -1 with errno. */
int vs_cgroup_delegate(const struct vs_cgroup *cg, uid_t uid, gid_t gid);
/* Contents of a control file of controller ctl (malloc'd) or NULL. */
char *vs_cgroup_stat(const struct vs_cgroup *cg, const char *ctl,
		     const char *file);
void vs_cgroup_free(struct vs_cgroup *cg);

/* oci*.c: vs as an OCI runtime (runc's command line: vs oci, vs-oci).
 * A container's state lives in <root>/<id>/ (state, config.json copy,
 * exec.fifo while it is created and not yet started). */
struct vs_oci_opts {
	const char *root;	    /* --root: the state directory */
	const char *bundle;	    /* create: the bundle directory */
	const char *pid_file;	    /* create, exec: host pid written here */
	const char *console_socket; /* the pty master is sent there */
	bool no_pivot;		    /* create: MS_MOVE + chroot */
	bool no_new_keyring;	    /* create: keep the caller's session
				       keyring (runc's --no-new-keyring) */
	bool systemd_cgroup;	    /* cgroupsPath is slice:prefix:name */
	/* exec */
	const char *process;	    /* --process: a process JSON */
	char **args;		    /* else: args, with the config's process */
	char **env;		    /* -e NAME=VALUE added */
	const char *cwd, *user;	    /* uid[:gid] */
	bool tty, detach, tty_set;
	char **caps;		    /* --cap added */
	/* create without console_socket: a terminal's master is kept
	 * here (run in the foreground relays it); -1 when none */
	int *master;
};
struct vs_oci_state {
	char id[256];
	pid_t pid;
	unsigned long long start; /* /proc stat field 22 */
	char bundle[PATH_MAX];
	char created[40]; /* RFC 3339 */
	char status[16];  /* creating, created, running, stopped */
	char cgroups[2048]; /* as vs_cgroup_record writes them */
	bool no_new_keyring; /* created with --no-new-keyring */
};
/* Creates the container id from the bundle (the process waits for
 * start).  0, or -1 with the error set (nothing left behind). */
int vs_oci_create(struct vs_ctx *ctx, const char *id,
		  const struct vs_oci_opts *o);
/* Lets the created container's process run; poststart hooks.  0/-1. */
int vs_oci_start(struct vs_ctx *ctx, const char *id,
		 const struct vs_oci_opts *o);
/* Reads the state of id (status computed now).  0, or -1 with the error
 * set (no such container). */
int vs_oci_state(struct vs_ctx *ctx, const char *root, const char *id,
		 struct vs_oci_state *st);
/* The ids in root (sorted, NULL-terminated, malloc'd). */
char **vs_oci_list(struct vs_ctx *ctx, const char *root);
/* Sends sig to the container's process (all: to every process of its
 * cgroup).  0/-1. */
int vs_oci_kill(struct vs_ctx *ctx, const char *root, const char *id,
		int sig, bool all);
/* Removes a stopped (or created; with force any) container: processes,
 * cgroups, poststop hooks, state.  0/-1. */
int vs_oci_delete(struct vs_ctx *ctx, const char *root, const char *id,
		  bool force);
/* The host pids of the container's processes (malloc'd).  0/-1. */
int vs_oci_pids(struct vs_ctx *ctx, const char *root, const char *id,
		pid_t **pids, size_t *n);
/* Runs a process in the running container; *status its exit status
 * (detach: 0 once it runs).  0, or -1 with the error set. */
int vs_oci_exec(struct vs_ctx *ctx, const char *id,
		const struct vs_oci_opts *o, int *status);
/* The state as runtime-spec JSON (malloc'd). */
char *vs_oci_state_json(const struct vs_oci_state *st);

/* join.c: a host process becomes one of a running guest or container
 * (vs exec and enter, vs oci exec) */
struct vs_join {
	int initfd;	     /* a pidfd of its init */
	int nsflags;	     /* the init's namespaces that are not ours */
	int timefd;	     /* its children's time namespace if not ours, -1 */
	char root[PATH_MAX]; /* chroot there (a guest without namespaces) */
	struct vs_cgroup cg; /* its groups (the caller fills them in) */
};
/* A pidfd of pid if it still has that start time; -1 with errno. */
int vs_pidfd_open(pid_t pid, unsigned long long start);
/* Opens what joining pid (started at start) takes: its pidfd, which of
 * its namespaces are not ours, its children's time namespace.  0, or -1
 * with errno (ESRCH: it is gone). */
int vs_join_open(struct vs_join *j, pid_t pid, unsigned long long start);
/* Closes what vs_join_open opened (not cg). */
void vs_join_close(struct vs_join *j);
/* In the joining process, its limits set before (in a user namespace a
 * hard limit is never raised): the cgroups (born_in_v2: in the cgroup2
 * group already), the namespaces (the pid one for its children), root of
 * the user namespace, the time namespace, the root.  NULL, or what
 * failed ("enter the namespaces of"; errno set). */
const char *vs_join_enter(const struct vs_join *j, bool born_in_v2);

#endif
