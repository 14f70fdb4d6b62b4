/* libvs internals shared by the core library and the vs command. */
#ifndef VS_INTERNAL_H
#define VS_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <vs/core.h>
#include <vs/unify.h>
#include <vs/plugin.h>

#define VS_NAME_MAX 64     /* longest guest name */
#define VS_CONTEXT_MIN 2   /* static context ids: 2..49151 */
#define VS_CONTEXT_MAX 49151

struct vs_conf;
struct mnl_socket;

/* A plugin the loader looked at: loaded (desc != NULL) or refused. */
struct vs_plugin_entry {
	char *file;                   /* absolute path, or "(built-in)" */
	const struct vs_plugin *desc; /* NULL when refused */
	char *refusal;                /* the reason, when refused */
};

struct vs_ctx {
	char *sysroot; /* "/" or an absolute directory, no trailing '/' */
	int rootfd;    /* O_PATH fd of the sysroot */
	char *paths[VS_PATH_LOCKDIR + 1]; /* host view */
	char *plugindir;      /* real path */
	char *pkgdefaultsdir; /* real path */
	char *distribdir;     /* real path */
	char *conffile;       /* vs.conf: host view, or as given by --config */
	bool conf_loaded;     /* false: built-in defaults */
	struct vs_conf *conf;
	void (*conf_free)(struct vs_conf *); /* set by the one who loads it */
	int hook_timeout; /* vs.conf hook_timeout (seconds) */
	int verbose;
	char err[2048];
	struct vs_plugin_entry *plugins;
	size_t nplugins;
};

struct vs_guest {
	struct vs_ctx *ctx;
	char *name;   /* config dir basename */
	char *cfgdir; /* host view, no trailing '/' */
	char *root;   /* host view of vdir's target, or NULL */
	unsigned context;
	bool restart_requested; /* set by a hook plugin (vshelper) */
};

/* ctx.c */
struct vs_ctx *vs_ctx_new(void);
void vs_ctx_free(struct vs_ctx *ctx);
/* Sets the sysroot (NULL or "/" for none); -1 with the error set. */
int vs_ctx_set_sysroot(struct vs_ctx *ctx, const char *dir);
/* Reads vs.conf (file NULL: the default location, missing is fine) and
 * applies its paths.  -1 with the error set. */
int vs_ctx_configure(struct vs_ctx *ctx, const char *file);
void vs_clear_error(struct vs_ctx *ctx);
/* Prints prefix and msg as one line: control characters are escaped, so
 * a name with a newline never splits a message. */
void vs_print_line(FILE *out, const char *prefix, const char *msg);
/* Installed things: module directory, and the directory holding
 * defaults/ and distributions/ (real paths). */
void vs_ctx_set_plugindir(struct vs_ctx *ctx, const char *dir);
void vs_ctx_set_datadir(struct vs_ctx *ctx, const char *dir);
char *vs_strdup(const char *s); /* aborts on ENOMEM */
char *vs_asprintf(const char *fmt, ...) VS_PRINTF(1, 2);
void *vs_xmalloc(size_t n);
void *vs_xrealloc(void *p, size_t n);

/* conf.c (libconfuse stays inside this file) */
int vs_conf_load(struct vs_ctx *ctx, const char *shown, int fd);
void vs_conf_free(struct vs_conf *conf);
const char *vs_conf_str(const struct vs_ctx *ctx, const char *key);

/* hostpath.c: host-view paths resolved inside the sysroot */
/* Opens the parent directory of path; *base points into path at the last
 * component.  Returns an O_DIRECTORY fd or -1 with errno. */
int vs_host_parent(const struct vs_ctx *ctx, const char *path,
		   const char **base);
int vs_host_lstat(const struct vs_ctx *ctx, const char *path, struct stat *st);
/* 1 exists, 0 missing, -1 error (errno). stat follows symlinks in root. */
int vs_host_exists(const struct vs_ctx *ctx, const char *path);
bool vs_host_isdir(const struct vs_ctx *ctx, const char *path);
/* Reads a symlink; returns length or -1 with errno. */
ssize_t vs_host_readlink(const struct vs_ctx *ctx, const char *path,
			 char *buf, size_t size);
/* mkdir -p with mode for created components; -1 with errno. */
int vs_host_mkdir_p(const struct vs_ctx *ctx, const char *path, mode_t mode);
/* Resolves path (following symlinks inside the sysroot) to its host-view
 * canonical form; returns a malloc'd string or NULL with errno. */
char *vs_host_canon(const struct vs_ctx *ctx, const char *path);
/* Whole file into a malloc'd NUL-terminated buffer (max bytes); NULL with
 * errno.  ENOENT for missing, EFBIG when larger. */
char *vs_host_read(const struct vs_ctx *ctx, const char *path, size_t max,
		   size_t *len);

/* fsutil.c: fd-relative helpers, never following symlinks */
char *vs_read_fd(int fd, size_t max, size_t *len);
/* Reads a pipe or any fd to its end (at most max bytes); malloc'd. */
char *vs_read_fd_stream(int fd, size_t max);
int vs_write_at(int dirfd, const char *name, const char *data, size_t len,
		mode_t mode);
int vs_mkdir_p_at(int dirfd, const char *rel, mode_t mode);
/* Removes name below dirfd recursively without following symlinks or
 * crossing into other filesystems.  -1 with errno; *failed names the
 * first entry that could not be removed (static buffer). */
int vs_rm_rf_at(int dirfd, const char *name, const char **failed);
/* Lets vs_rm_rf_at remove links of immutable inodes shared with other
 * guests (only while no guest runs: the flag is off for a moment). */
void vs_rm_allow_shared(bool allow);
/* True when a tree holds unified files (immutable, several names). */
bool vs_has_shared_files(int dirfd);
/* The first mount point strictly below the real path dir (malloc'd), or
 * NULL when there is none. */
char *vs_mount_below(const char *dir);
/* Copies a regular file from an fd to a new file (O_EXCL) at dirfd/name. */
int vs_copy_fd_at(int srcfd, int dirfd, const char *name, mode_t mode);
void vs_first_line(char *s);
const char *vs_basename(const char *path);
char *vs_path_join(const char *a, const char *b);

/* guest.c */
/* Checks a new guest name; -1 with the error set. */
int vs_guest_name_check(struct vs_ctx *ctx, const char *name);
/* Resolves a name or config-dir path (COMPAT §1.1). */
struct vs_guest *vs_guest_open(struct vs_ctx *ctx, const char *arg);
void vs_guest_free(struct vs_guest *g);
/* The config-dir names of all guests, sorted; NULL-terminated. */
char **vs_guest_list(struct vs_ctx *ctx);

/* runstate.c */
struct vs_runstate {
	unsigned xid;
	pid_t monitor, init;
	unsigned long long monitor_start, init_start; /* /proc stat field 22 */
	time_t started;
	bool nonamespace;
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
/* 1 when running. */
int vs_guest_running(const struct vs_guest *g);
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
void vs_net_host_cleanup(const struct vs_net *net);

/* plan.c: everything a start needs, read and checked up front */
struct vs_mount {
	char *src, *dst, *type, *data;
	unsigned long flags;
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
	struct vs_mount *mounts;
	size_t nmounts;
	bool nonamespace, netns;
	struct vs_net net;
	int killseq[32];
	size_t nkill;
	int timeout; /* seconds a stop may take before the kill sequence */
	void *seccomp;     /* the filter (NULL: none) */
	struct vs_userns userns;
	int treefd;        /* userns: the idmapped root, attached by the init */
	bool no_new_privs; /* apps/seccomp/no-new-privs */
};
int vs_plan_load(struct vs_guest *g, struct vs_plan *p);
void vs_plan_free(struct vs_plan *p);
/* Lines of <cfgdir>/<rel> (empty ones skipped), NULL when missing;
 * *err is -1 (error set) when it could not be read. */
char **vs_guest_cfg_lines(struct vs_guest *g, const char *rel, int *err);

/* guest.c: directories shared between guests */
/* The kinds of a guest's own directories: "root", "cache", "run",
 * "package directory" (NULL-terminated). */
extern const char *const vs_guest_dir_kinds[];
/* The canonical host-view path of one of them (malloc'd), or NULL. */
char *vs_guest_dir_canon(struct vs_guest *g, const char *kind);
/* The name (malloc'd) of a configured guest other than self with a
 * directory that is canon, inside it or around it (*kind says which of
 * its own), or NULL. */
char *vs_guest_dir_owner(struct vs_ctx *ctx, const char *canon,
			 const char *self, const char **kind);

/* fdpass.c */
/* Sends fd over a unix socket; 0 or -1 with errno. */
int vs_send_fd(int sock, int fd);
/* The descriptor received (close-on-exec), or -1 when the peer closed
 * the socket or sent none. */
int vs_recv_fd(int sock);

/* spawn.c */
/* Closes every descriptor above 2 but those in keep (an inherited one
 * must never reach a guest or stay open in a monitor). */
void vs_close_fds_except(const int *keep, size_t n);

/* seccomp.c */
/* Builds the guest's system call filter from its configuration
 * (apps/seccomp/); *filter is NULL when the guest has none.  With warn
 * (at start), says so, and warns when bcaps keeps CAP_DAC_READ_SEARCH
 * and handles are not filtered.  0, or -1 with the error set. */
int vs_seccomp_prepare(struct vs_guest *g, uint64_t bcaps, bool warn,
		       void **filter);
/* Loads the filter into this process (no_new_privs is not set: the
 * caller still holds CAP_SYS_ADMIN).  0, or -1 with errno. */
int vs_seccomp_load(void *filter);
void vs_seccomp_free(void *filter);

/* mounts.c */
/* In the future init: builds the guest's mounts and enters its root
 * (pivot_root, or chroot for nonamespace).  -1 with the error set. */
int vs_mounts_setup(struct vs_plan *p);
/* Unmounts everything below a real path (nonamespace guests). */
int vs_mounts_cleanup(const char *root);

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
/* A pidfd of pid if it still has that start time; -1 with errno. */
int vs_pidfd_open(pid_t pid, unsigned long long start);
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

/* fmt.c: vserver-stat fields */
void vs_fmt_mem(unsigned long long bytes, char *out, size_t size);
void vs_fmt_time(unsigned long long ms, char *out, size_t size);

/* netlink.c: rtnetlink with libmnl; -1 with errno from the kernel */
struct vs_nl {
	struct mnl_socket *sock;
	unsigned portid, seq;
};
int vs_nl_open(struct vs_nl *nl);
void vs_nl_close(struct vs_nl *nl);
/* A macvlan (bridge mode) on parent, created inside netns_pid's netns. */
int vs_nl_macvlan(struct vs_nl *nl, int parent, const char *name,
		  const unsigned char *mac, pid_t netns_pid);
/* A veth pair: host here, peer inside netns_pid's netns. */
int vs_nl_veth(struct vs_nl *nl, const char *host, const char *peer,
	       const unsigned char *peer_mac, pid_t netns_pid);
int vs_nl_link_set(struct vs_nl *nl, int ifindex, bool up, int master);
int vs_nl_link_del(struct vs_nl *nl, int ifindex);
int vs_nl_addr(struct vs_nl *nl, int ifindex, int family,
	       const unsigned char *addr, int prefix,
	       const unsigned char *bcast, int scope, const char *label);
/* A route to dst/dst_len (dst NULL: default) via gw (NULL: on the link). */
int vs_nl_route(struct vs_nl *nl, int family, const unsigned char *dst,
		int dst_len, const unsigned char *gw, int ifindex, bool onlink);

/* exclude.c: util-vserver exclude lists */
enum vs_excl_kind { VS_EXCL_INCLUDE, VS_EXCL_EXCLUDE, VS_EXCL_SKIP };
struct vs_excl {
	struct {
		enum vs_excl_kind kind;
		char *text;
	} *pat;
	size_t n;
	char **exact; /* package-manager config files, NULL-terminated */
};
enum vs_excl_verdict {
	VS_INCLUDED,
	VS_EXCLUDED,
	VS_DESCEND_EXCLUDED, /* a directory to walk, everything in it
				excluded unless a pattern includes it */
};
/* Appends the patterns of a list; -1 with "shown:line: ..." set. */
int vs_excl_parse(struct vs_ctx *ctx, struct vs_excl *x, const char *text,
		  const char *shown);
void vs_excl_add_exact(struct vs_excl *x, const char *path);
/* The verdict for a path inside the guest ("/etc/passwd"); inside_excluded
 * when an ancestor was VS_DESCEND_EXCLUDED. */
enum vs_excl_verdict vs_excl_match(const struct vs_excl *x, const char *path,
				   bool is_dir, bool inside_excluded);
void vs_excl_free(struct vs_excl *x);

/* unify.c: the unify engine */
enum vs_link { VS_LINK_AUTO, VS_LINK_REFLINK, VS_LINK_HARDLINK };
enum {
	VS_SKIP_EXCLUDED, VS_SKIP_SYMLINK, VS_SKIP_SPECIAL, VS_SKIP_MISSING,
	VS_SKIP_ALREADY, VS_SKIP_DIFFERENT, VS_SKIP_CHANGED, VS_SKIP_OTHERFS,
	VS_SKIP_ERROR, VS_SKIP_SMALL, VS_SKIP_COLLISION, VS_SKIP_LINKS,
	VS_UNIFY_NREASONS
};
struct vs_unify_tree {
	const char *root; /* for messages */
	int rootfd;       /* O_DIRECTORY */
	struct vs_excl excl;
};
struct vs_unify_opts {
	bool dry_run, ignore_mtime, progress;
	int verbose;
	enum vs_link link; /* REFLINK or HARDLINK (resolved) */
};
struct vs_unify_stats {
	unsigned long long examined, linked, bytes_saved, errors;
	unsigned long long skipped[VS_UNIFY_NREASONS];
};
const char *vs_unify_reason(int reason);
/* Opens a tree for unify/hashify: its root (host view), the exclude list
 * (host view, or a real path when excl_real; NULL: none) and, with
 * conffiles, the package managers' configuration files.  t->root points
 * into *rootbuf (malloc'd, the caller frees it). */
int vs_tree_open(struct vs_ctx *ctx, struct vs_unify_tree *t, char **rootbuf,
		 const char *root, const char *excl, bool excl_real,
		 bool conffiles, int verbose);
/* The same for a guest: it needs apps/vunify/; its exclude list comes from
 * apps/vunify/exclude, .defaults or the shipped one. */
int vs_tree_open_guest(struct vs_ctx *ctx, struct vs_unify_tree *t,
		       char **rootbuf, struct vs_guest *g, int verbose);
void vs_tree_close(struct vs_unify_tree *t);
/* hashify.c: the hashify engine (hashstore.h for the store) */
struct vs_hstore;
struct vs_hash_opts {
	bool dry_run, ignore_mtime, refresh, progress;
	int verbose;
	enum vs_link link; /* REFLINK or HARDLINK (resolved) */
};
struct vs_hash_stats {
	unsigned long long examined, bytes_hashed, cached, new_entries, linked,
		bytes_saved, errors;
	/* reflink: new files sharing their beginning with the file at their
	 * path in an earlier tree of the run, and the bytes shared */
	unsigned long long prefixes, prefix_bytes;
	unsigned long long skipped[VS_UNIFY_NREASONS];
};
/* Hashifies the files of the trees (all on store's filesystem) into
 * store, in one pass: equal files of different trees are read once.
 * Per-file problems are counted and warned about; -1 only when it
 * cannot start. */
int vs_hashify_run(struct vs_ctx *ctx, const struct vs_unify_tree *const *trees,
		   unsigned ntrees, struct vs_hstore *store,
		   const struct vs_hash_opts *o, struct vs_hash_stats *st);
/* -1 (error set, naming the guest and what) while any guest runs. */
int vs_require_all_stopped(struct vs_ctx *ctx, const char *what);
/* Removes a name (in dirfd) of a file that may be a shared, immutable
 * inode: its flag off for the moment of the unlink, then on again. */
void vs_unlink_shared(int dirfd, const char *name);
/* The temporary name of a link that is about to replace a guest file (a
 * leftover of an interrupted run is recognised and removed). */
#define VS_UNIFY_TMP ".vs-unify-tmp."
/* vs's own extended attributes (the digest cache): never compared or
 * copied as a file's own. */
#define VS_XATTR_PREFIX "trusted.vs."
/* 1 when two open files have the same bytes, 0 when not, -1 on a read
 * error; buf1/buf2 of size bytes are scratch space. */
int vs_same_bytes(int a, int b, char *buf1, char *buf2, size_t size);
/* Equal extended attributes, VS_XATTR_PREFIX names left out. */
bool vs_same_xattrs(int a, int b);
/* True when both files map the same blocks at the same offsets, written
 * or unwritten alike (so they have the same bytes). */
bool vs_same_extents(int a, int b);
/* FIDEDUPERANGE of size bytes from src to dst: 0 shared, 1 the bytes
 * differ, -1 with errno. */
int vs_dedupe(int src, int dst, off_t size);
int vs_set_immutable(int fd, bool on);
bool vs_is_immutable(int fd);
/* A read lease on fd (opened read-only): while it is held nobody can open
 * the file for writing (the opener waits).  False when it cannot be had
 * (a writer has it open, or the filesystem has no leases). */
bool vs_lease_read(int fd);
void vs_lease_end(int fd);
/* The strategy `auto` picks for two trees. */
int vs_unify_link_mode(int dst_rootfd, int ref_rootfd);
/* Shares the files of dst that are equal in a reference (the first one
 * that has it wins).  Per-file problems are counted and warned about;
 * returns -1 only when the run could not start. */
int vs_unify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		 const struct vs_unify_tree *refs, size_t nrefs,
		 const struct vs_unify_opts *o, struct vs_unify_stats *st);

/* Turns the unified (immutable, linked) files below dst into private
 * copies with the same content, owner, mode, times, xattrs and holes. */
int vs_deunify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		   const struct vs_unify_opts *o, struct vs_unify_stats *st);
/* Only the given guest paths (files or directories; NULL: all). */
int vs_deunify_paths(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		     char *const *paths, const struct vs_unify_opts *o,
		     struct vs_unify_stats *st);
int vs_deunify_file(struct vs_ctx *ctx, int dirfd, const char *name,
		    const char *path, const struct vs_unify_opts *o,
		    struct vs_unify_stats *st, char *buf, size_t size);

/* pkgconf.c: dpkg's configuration files of the guest whose root is open
 * at rootfd, added to x as exact excludes. */
int vs_dpkg_conffiles(int rootfd, struct vs_excl *x);
/* rpm's configuration files (`rpm --root -qac` on the host) when the
 * guest has an rpm database. */
int vs_rpm_conffiles(int rootfd, const char *root_real, struct vs_excl *x);

/* cfgtree.c */
/* Rule B: 1 when flag exists per-guest or in .defaults, unless the
 * per-guest override exists (e.g. "nonamespace" / "namespace"). */
int vs_guest_flag_or(const struct vs_guest *g, const char *flag,
		     const char *override);
/* Rule C: 1 when package-manager config files are excluded from
 * unification (pkgmgmt-ignore / pkgmgmt-force precedence). */
int vs_guest_pkgmgmt(const struct vs_guest *g);

/* context.c */
/* Parses a context id (2..49151); -1 with the error set. */
int vs_context_parse(struct vs_ctx *ctx, const char *s, unsigned *out);
/* The guest (config-dir name) using id, or NULL (malloc'd). */
char *vs_context_user(struct vs_ctx *ctx, unsigned id);
/* Picks the next free id from .defaults/context.next (or the shipped
 * context.start); *next is what to store back. -1 with the error set. */
int vs_context_allocate(struct vs_ctx *ctx, unsigned *id, unsigned *next);
int vs_context_store_next(struct vs_ctx *ctx, unsigned next);

/* iface.c */
struct vs_iface_spec {
	char name[64];
	char dev[32];
	char ip[64];
	char mask[16];
	char prefix[8];
	bool nodev;
	bool ipv6;
};
/* Parses [name=][dev:]ip[/mask|prefix]; -1 with the error set. */
int vs_iface_parse(struct vs_ctx *ctx, const char *spec,
		   struct vs_iface_spec *out);
/* Checks a dotted netmask; returns the prefix length or -1. */
int vs_mask_to_prefix(const char *mask);

/* loader.c */
/* Checks a descriptor; NULL when fine, else a static reason text. */
const char *vs_plugin_check(const struct vs_plugin *d, const char *stem,
			    char *buf, size_t size);
/* Validates and registers built-in descriptors (refusals recorded). */
void vs_plugins_add_builtin(struct vs_ctx *ctx,
			    const struct vs_plugin *const *list);
/* Loads every plugin of the module directory plus the built-in ones. */
void vs_plugins_load(struct vs_ctx *ctx);
/* The loaded plugin of kind and name, or NULL; *entry (if not NULL) is
 * set to a refused entry of that stem when there is one. */
const struct vs_plugin *vs_plugin_find(struct vs_ctx *ctx, unsigned kind,
				       const char *name,
				       const struct vs_plugin_entry **refused);
const char *vs_kind_name(unsigned kind);
/* Built-in descriptors (a NULL-terminated list, possibly empty). */
extern const struct vs_plugin *const vs_builtin_plugins[];

/* caps.c */
/* util-vserver's secure bounding set (+SYS_BOOT, AUDIT_WRITE). */
uint64_t vs_caps_secure(void);
unsigned vs_caps_last(void);
/* Applies a list ("name,~name", numbers, ^bit, all/none; one item or
 * more per line) to *set; -1 with the error set naming where. */
int vs_caps_apply_list(struct vs_ctx *ctx, const char *text,
		       const char *where, uint64_t *set);
/* The guest's bounding set: secure default, bcapabilities, host limit. */
int vs_guest_bcaps(struct vs_guest *g, uint64_t *bset);
/* Drops the bounding set to bset and sets P/E/I to it; -1 with errno. */
int vs_caps_limit(uint64_t bset);

/* cgroup.c */
#define VS_CGROUP_MAX 16
struct vs_cgroup {
	char *dirs[VS_CGROUP_MAX]; /* real paths, one per hierarchy */
	char ctls[VS_CGROUP_MAX][256]; /* v1 controllers; "" for v2 */
	size_t n;
	char *v2; /* the cgroup2 one (one of dirs[]), or NULL */
};
/* Fills cg with the guest's existing cgroups (nothing created). */
int vs_cgroup_locate(struct vs_guest *g, struct vs_cgroup *cg);
/* Creates the guest's cgroups and applies cgroup/ and cpuset/ limits;
 * on failure nothing is left.  -1 with the error set. */
int vs_cgroup_create(struct vs_guest *g, struct vs_cgroup *cg);
/* Moves pid (0: the caller) into the groups (v1_only: not cgroup2). */
int vs_cgroup_attach(const struct vs_cgroup *cg, pid_t pid, bool v1_only);
size_t vs_cgroup_pids(const struct vs_cgroup *cg, pid_t *pids, size_t max);
void vs_cgroup_signal(const struct vs_cgroup *cg, int sig);
/* Kills what is left and removes the groups; -1 when one stays. */
int vs_cgroup_destroy(struct vs_cgroup *cg);
bool vs_cgroup_exists(const struct vs_cgroup *cg);
/* Contents of a control file of controller ctl (malloc'd) or NULL. */
char *vs_cgroup_stat(const struct vs_cgroup *cg, const char *ctl,
		     const char *file);
void vs_cgroup_free(struct vs_cgroup *cg);

/* spawn.c */
/* Runs argv (PATH search) with envp (NULL: inherit), cwd (NULL: keep);
 * returns the exit status (128+sig when killed) or -1 with errno. */
int vs_spawn(char *const argv[], char *const envp[], const char *cwd);
/* The same in a private mount namespace of its own. */
int vs_spawn_newns(char *const argv[], char *const envp[], const char *cwd);
/* Runs the executable open at exefd (a script too) with the current
 * environment, in cwdfd (-1: unchanged), its process group killed after
 * timeout_ms (-1: never); exit status or -1 with errno (ETIMEDOUT). */
int vs_spawn_fd(int exefd, char *const argv[], int cwdfd, int timeout_ms);

/* build.c */
int vs_build_main(struct vs_ctx *ctx, const char *name, int argc,
		  char **argv);
void vs_build_usage(FILE *out);

#endif
