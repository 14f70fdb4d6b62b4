/* base: the context, errors, allocation, log, host paths, descriptors,
 * spawning.  Calls nothing above it. */
#ifndef VS_BASE_H
#define VS_BASE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <vs/core.h>
#include <vs/plugin.h>

#define VS_NAME_MAX 64     /* longest guest name */
#define VS_CONTEXT_MIN 2   /* static context ids: 2..49151 */
#define VS_CONTEXT_MAX 49151

struct vs_conf;
struct vs_plugin_index;
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
	/* the guest a monitor logs for (GUEST= and CONTEXT= in the journal) */
	char log_guest[64];
	unsigned log_xid;
	int verbose;
	char err[2048];
	struct vs_plugin_entry *plugins;
	size_t nplugins;
	bool plugins_all;  /* every module of the directory looked at */
	bool builtin_added;
	struct vs_plugin_index *index; /* read by the loader */
	void (*index_free)(struct vs_plugin_index *);
};

/* ctx.c */
struct vs_ctx *vs_ctx_new(void);
void vs_ctx_free(struct vs_ctx *ctx);
/* Sets the sysroot (NULL or "/" for none); -1 with the error set. */
int vs_ctx_set_sysroot(struct vs_ctx *ctx, const char *dir);
/* Prints prefix and msg as one line: control characters are escaped, so
 * a name with a newline never splits a message. */
void vs_print_line(FILE *out, const char *prefix, const char *msg);
/* Installed things: module directory, and the directory holding
 * defaults/ and distributions/ (real paths). */
void vs_ctx_set_plugindir(struct vs_ctx *ctx, const char *dir);
void vs_ctx_set_datadir(struct vs_ctx *ctx, const char *dir);

/* Reads a symlink; returns length or -1 with errno. */
ssize_t vs_host_readlink(const struct vs_ctx *ctx, const char *path,
			 char *buf, size_t size);

/* fsutil.c: fd-relative helpers, never following symlinks */
/* A DIR stream of the directory open at fd, which stays the caller's
 * (a duplicate is read); NULL with errno. */
DIR *vs_opendir_fd(int fd);

/* notify.c: systemd's readiness protocol.  vs_notify_take() keeps
 * $NOTIFY_SOCKET for us and takes it out of the environment (nothing we
 * run speaks for the unit); vs_notify() sends "KEY=value" lines to it,
 * nothing without one. */
void vs_notify_take(void);
/* Sends n bytes as one datagram to the unix socket at path ('@': an
 * abstract one).  0, or -1 when it was not taken. */
int vs_dgram_send(const char *path, const char *msg, size_t n);
void vs_notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Lets vs_rm_rf_at remove links of immutable inodes shared with other
 * guests (only while no guest runs: the flag is off for a moment). */
void vs_rm_allow_shared(bool allow);
/* True when a tree holds unified files (immutable, several names). */
bool vs_has_shared_files(int dirfd);
/* The first mount point strictly below the real path dir (malloc'd), or
 * NULL when there is none. */
char *vs_mount_below(const char *dir);
/* Splits a line (its newline dropped) in place at sep into at most max
 * fields; returns their count. */
int vs_split_fields(char *line, char sep, char **f, int max);
/* Writes all n bytes (again after EINTR and short writes); false when
 * the descriptor refuses them. */
bool vs_write_all(int fd, const void *p, size_t n);
/* Reads fd until EOF into buf (NUL-terminated, at most size - 1 bytes):
 * a message a child writes before it ends.  Returns its length. */
size_t vs_read_msg(int fd, char *buf, size_t size);

/* fdpass.c */
/* Sends fd over a unix socket; 0 or -1 with errno. */
int vs_send_fd(int sock, int fd);
/* The descriptor received (close-on-exec), or -1 when the peer closed
 * the socket or sent none. */
int vs_recv_fd(int sock);


/* spawn.c */
/* Waits for a child; after timeout_ms (-1: never) kills it and its
 * process group.  *status is set whenever it was reaped; false with errno
 * ETIMEDOUT when it had to be killed, or the errno of waitpid. */
bool vs_wait_bounded(pid_t pid, int timeout_ms, int *status);
/* Closes every descriptor above 2 but those in keep (an inherited one
 * must never reach a guest or stay open in a monitor). */
void vs_close_fds_except(const int *keep, size_t n);
/* Closes each of the n descriptors in fds that is not -1. */
void vs_close_each(const int *fds, size_t n);
/* Every signal back to its default action and none blocked, before a
 * guest's or container's program is run: what our caller ignored (a
 * background job's SIGINT, nohup's SIGHUP) is not the program's. */
void vs_signals_reset(void);

/* hash.c: 64-bit FNV-1a of n bytes, continuing from h (start with
 * VS_FNV_BASIS). */
#define VS_FNV_BASIS 1469598103934665603ULL
uint64_t vs_fnv1a(uint64_t h, const void *data, size_t n);

/* fmt.c: vserver-stat fields */
void vs_fmt_mem(unsigned long long bytes, char *out, size_t size);
void vs_fmt_time(unsigned long long ms, char *out, size_t size);

/* clonevm.c */
struct clone_args;
/* clone3(ca) whose child runs fn(arg) on ca->stack (its own) and exits
 * with fn's value: for CLONE_VM children.  The child's pid, or -1 with
 * errno (ENOSYS where the machine has no such path: x86_64 only). */
pid_t vs_clone3_fn(struct clone_args *ca, int (*fn)(void *), void *arg);
/* clone(2) for what ca asks where clone3 answers ENOSYS (a seccomp filter:
 * vs itself in a guest, say): the same flags and pidfd, without
 * CLONE_INTO_CGROUP (the caller moves the child), fn(arg) on ca's stack
 * when fn is given.  The child's pid (0 in the child without fn), or -1
 * with errno. */
pid_t vs_clone_fallback(struct clone_args *ca, int (*fn)(void *), void *arg);
/* clone3(ca) born in the cgroup2 group open at v2fd (-1: none; a move
 * would wait for an RCU grace period: milliseconds), else a plain one,
 * else (clone3 filtered) clone: *born_in_v2 says which, set before each
 * try (a CLONE_VM child reads it).  With fn, the child runs fn(arg) on
 * ca's stack; without, it returns 0 in the child.  The child's pid, or
 * -1 with errno. */
pid_t vs_clone_into(struct clone_args *ca, int v2fd, int (*fn)(void *),
		    void *arg, bool *born_in_v2);

/* spawn.c */
/* Runs the executable open at exefd (a script too) with the current
 * environment, in cwdfd (-1: unchanged), its process group killed after
 * timeout_ms (-1: never); exit status or -1 with errno (ETIMEDOUT). */
int vs_spawn_fd(int exefd, char *const argv[], int cwdfd, int timeout_ms);

#endif
