/* vs core services available to plugins: opaque handles and accessors.
 *
 * Handles are owned by the core; a plugin never frees them.  Strings
 * returned by accessors stay valid as long as the handle does.  Paths named
 * "host view" are absolute paths as the host sees them, relative to the
 * sysroot (`vs --sysroot DIR`); open them with vs_host_open().
 */
#ifndef VS_CORE_H
#define VS_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vs_ctx;     /* one invocation of vs: paths, configuration, errors */
struct vs_guest;   /* one guest: configuration dir and root */
struct vs_section; /* a plugin's section of vs.conf */
struct vs_build;   /* a build in progress */

#if defined(__GNUC__)
#define VS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VS_PRINTF(a, b)
#endif

/* Errors: set the one message the edge will print as "vs: <message>".
 * Style: lowercase, what failed first, the subject in quotes, errno text
 * last.  Always returns -1 so that `return vs_set_error(...)` works. */
int vs_set_error(struct vs_ctx *ctx, const char *fmt, ...) VS_PRINTF(2, 3);
/* Like vs_set_error, appending ": strerror(errnum)". */
int vs_set_errno(struct vs_ctx *ctx, int errnum, const char *fmt, ...)
	VS_PRINTF(3, 4);
/* The last message set, or "" (owned by ctx). */
const char *vs_error(const struct vs_ctx *ctx);

/* Messages printed now on stderr, prefixed "vs: warning: " / "vs: ". */
void vs_warn(struct vs_ctx *ctx, const char *fmt, ...) VS_PRINTF(2, 3);
/* Printed only when the verbosity is at least level. */
void vs_info(struct vs_ctx *ctx, int level, const char *fmt, ...)
	VS_PRINTF(3, 4);
int vs_verbosity(const struct vs_ctx *ctx);

/* Host paths (host view).  VS_PATH_* select one. */
enum vs_path {
	VS_PATH_CONFDIR,  /* /etc/vservers */
	VS_PATH_VROOTDIR, /* /vservers */
	VS_PATH_RUNDIR,   /* /var/run/vservers */
	VS_PATH_CACHEDIR, /* /var/cache/vservers */
	VS_PATH_LOCKDIR,  /* /var/lock */
};
const char *vs_path(const struct vs_ctx *ctx, enum vs_path which);
/* The sysroot, "/" normally. */
const char *vs_sysroot(const struct vs_ctx *ctx);
/* Installed data: shipped defaults and distributions directories (real
 * paths, not under the sysroot). */
const char *vs_pkgdefaultsdir(const struct vs_ctx *ctx);
const char *vs_distribdir(const struct vs_ctx *ctx);

/* Opens a host-view path inside the sysroot; symlinks and ".." never
 * leave it.  Returns an fd or -1 with errno set. */
int vs_host_open(const struct vs_ctx *ctx, const char *path, int flags,
		 mode_t mode);
/* Writes "sysroot + path" (the real path, for messages and external
 * programs) into buf; returns buf. */
char *vs_host_real(const struct vs_ctx *ctx, const char *path, char *buf,
		   size_t size);

/* Guests. */
/* Opens a guest by name or configuration-directory path (host view;
 * symlinks resolved, so a refserver.N link names its guest).  NULL with
 * the error set.  Release it with vs_guest_put(). */
struct vs_guest *vs_guest_get(struct vs_ctx *ctx, const char *arg);
void vs_guest_put(struct vs_guest *g);
const char *vs_guest_name(const struct vs_guest *g);   /* config dir basename */
const char *vs_guest_cfgdir(const struct vs_guest *g); /* host view */
/* The guest root as a host-view path, or NULL when vdir is missing. */
const char *vs_guest_root(const struct vs_guest *g);
/* Context id, or 0 when none is configured. */
unsigned vs_guest_context(const struct vs_guest *g);

/* Configuration files of a guest, with util-vserver's precedence:
 * per-guest, then .defaults, then the shipped default named pkgdefault
 * (NULL for none).  Writes the host-view (or, for the shipped default, the
 * real) path of the first existing file into buf and returns 1, or returns
 * 0 when none exists. */
int vs_guest_cfg_find(const struct vs_guest *g, const char *rel,
		      const char *pkgdefault, char *buf, size_t size);
/* Reads the first line (without newline) of the guest's <rel> into buf.
 * Returns 1 when read, 0 when missing, -1 on error (set). */
int vs_guest_cfg_line(struct vs_guest *g, const char *rel, char *buf,
		      size_t size);
/* 1 when <rel> exists in the guest's config dir. */
int vs_guest_cfg_exists(const struct vs_guest *g, const char *rel);

/* Asks the guest's monitor to start the guest again once the hook
 * plugins have seen the current event (vshelper's restart method). */
void vs_guest_request_restart(struct vs_guest *g);
/* Starts or stops a guest as `vs <guest> start|stop` would (start forks
 * its own monitor).  Returns 0, or -1 with the error set. */
int vs_guest_control(struct vs_guest *g, const char *action);

/* The vshelper log: appended to .defaults/apps/vshelper/logfile when it
 * exists, else syslog (facility daemon, tag "vs"). */
void vs_log(struct vs_ctx *ctx, const char *fmt, ...) VS_PRINTF(2, 3);

/* vs.conf: the plugin's own `plugin "<name>" { key = value }` section.
 * Returns NULL when there is none; accessors accept NULL. */
const struct vs_section *vs_plugin_section(const struct vs_ctx *ctx,
					   const char *plugin);
const char *vs_section_str(const struct vs_section *s, const char *key,
			   const char *def);
/* The `hook "<plugin>" { }` section of vs.conf, or NULL. */
const struct vs_section *vs_hook_section(const struct vs_ctx *ctx,
					 const char *plugin);

/* Host files (host-view paths, resolved inside the sysroot). */
/* The names in a directory, sorted, without "." and ".."; NULL with
 * errno when it cannot be read.  Free with vs_strv_free(). */
char **vs_host_list(const struct vs_ctx *ctx, const char *dir);
void vs_strv_free(char **v);
/* stat() inside the sysroot (symlinks followed inside it). */
int vs_host_stat(const struct vs_ctx *ctx, const char *path, struct stat *st);
/* Runs the executable at a host-view path with argv (argv[0] as given),
 * the current environment, and cwd (host view, NULL: unchanged); after
 * vs.conf hook_timeout seconds it is killed with its process group.
 * Returns its exit status (128+signal when killed by a signal), or -1
 * with the error set when it could not run or ran out of time. */
int vs_host_run(struct vs_ctx *ctx, const char *path, char *const argv[],
		const char *cwd);
/* Looks name up in PATH (a default one when unset) as exec does: writes
 * the first executable's path into buf (NULL: not wanted) and returns
 * true, or returns false. */
bool vs_find_program(const char *name, char *buf, size_t size);

/* Build helper (for build plugins). */
struct vs_ctx *vs_build_ctx(struct vs_build *b);
const char *vs_build_name(const struct vs_build *b);
const char *vs_build_cfgdir(const struct vs_build *b); /* host view */
const char *vs_build_root(const struct vs_build *b);   /* host view */
/* An O_DIRECTORY fd of the new guest root, valid during build(). */
int vs_build_rootfd(const struct vs_build *b);
/* The distribution (-d), or NULL. */
const char *vs_build_dist(const struct vs_build *b);
void vs_build_set_dist(struct vs_build *b, const char *dist);
/* Asks for a package-management directory (skeleton --pkgmgmt):
 * <pkgbase>/<name> and apps/pkgmgmt/base.  Call from prepare(). */
void vs_build_want_pkgmgmt(struct vs_build *b);
/* Replaces the new root's /dev by the distribution's devs entries (what
 * a template or package may have put there goes). */
int vs_build_reset_dev(struct vs_build *b);
/* Removes the new root's /dev (before a tool that makes its own). */
int vs_build_clear_dev(struct vs_build *b);
/* The package-management directory <pkgbase>/<name> (host view) when
 * vs_build_want_pkgmgmt() was called, else NULL.  Created with the
 * skeleton; a failed build removes it. */
const char *vs_build_pkgdir(const struct vs_build *b);
/* Sets NAME=value in the environment of the tools vs_build_run() starts
 * (copied).  Returns 0, or -1 with the error set. */
int vs_build_setenv(struct vs_build *b, const char *name, const char *value);
/* Finds <rel> of the build's distribution: the host's
 * <confdir>/.distributions/<dist>/<rel>, else the shipped
 * <distribdir>/<dist>/<rel> ("" for the distribution directory itself).
 * Writes the real path into buf and returns 1, or returns 0. */
int vs_build_dist_find(struct vs_build *b, const char *rel, char *buf,
		       size_t size);
/* Fails (error set, "<method>: ...") unless a distribution is set and
 * registered (one of the two directories exists). */
int vs_build_dist_require(struct vs_build *b, const char *method);
/* Private data of the method, kept from prepare() to build(). */
void vs_build_set_data(struct vs_build *b, void *data);
void *vs_build_data(const struct vs_build *b);
/* Writes a file "<cfgdir>/<rel>" containing value plus a newline. */
int vs_build_write_cfg(struct vs_build *b, const char *rel,
		       const char *value);
/* Runs argv on the host (argv[0] searched in PATH) with the
 * util-vserver-like environment of the build; returns its exit status, or
 * -1 with the error set when it could not run. */
int vs_build_run(struct vs_build *b, char *const argv[]);
/* The same in a private mount namespace (debootstrap's mounts of /proc
 * and /sys inside the new root never reach the host's). */
int vs_build_run_private(struct vs_build *b, char *const argv[]);
/* The first line of a configuration file of the build: the host's
 * <confdir>/<rel> (host view) or, with shipped, <datadir>/<rel>; 1 when
 * found. */
int vs_build_conf_line(struct vs_build *b, const char *rel, bool shipped,
		       char *buf, size_t size);

/* ---- since ABI 1.1: what the unify engines use (plugins/unify) ---- */

/* Allocation that aborts when memory runs out (never NULL). */
void *vs_xmalloc(size_t n);
void *vs_xrealloc(void *p, size_t n);
char *vs_strdup(const char *s);
char *vs_asprintf(const char *fmt, ...) VS_PRINTF(1, 2);
/* Forgets the message set by vs_set_error. */
void vs_clear_error(struct vs_ctx *ctx);
/* A global setting of vs.conf ("link", "hash", ...), NULL when unset. */
const char *vs_conf_str(const struct vs_ctx *ctx, const char *key);
/* The configured guests' names (config-dir names, sorted, NULL-terminated;
 * free with vs_strv_free). */
char **vs_guest_list(struct vs_ctx *ctx);
/* A guest by name or config-dir path (NULL with the error set); free it
 * with vs_guest_free. */
struct vs_guest *vs_guest_open(struct vs_ctx *ctx, const char *arg);
void vs_guest_free(struct vs_guest *g);
/* 1 when the guest runs. */
int vs_guest_running(const struct vs_guest *g);
/* util-vserver's Rule C: 1 when the guest's package managers'
 * configuration files are kept out of sharing (pkgmgmt-ignore/-force). */
int vs_guest_pkgmgmt(const struct vs_guest *g);
/* A directory at a host-view path (symlinks followed inside the
 * sysroot)? */
bool vs_host_isdir(const struct vs_ctx *ctx, const char *path);
/* Opens the parent directory of a host-view path; *base points at its
 * last component.  An O_DIRECTORY fd, or -1 with errno. */
int vs_host_parent(const struct vs_ctx *ctx, const char *path,
		   const char **base);
/* A whole file at a host-view path into a malloc'd NUL-terminated buffer
 * of at most max bytes (*len its length when not NULL); NULL with errno
 * (ENOENT missing, EFBIG larger). */
char *vs_host_read(const struct vs_ctx *ctx, const char *path, size_t max,
		   size_t *len);
/* The same from an open regular file; and from a pipe or any fd read to
 * its end. */
char *vs_read_fd(int fd, size_t max, size_t *len);
char *vs_read_fd_stream(int fd, size_t max);
/* Cuts s at its first newline. */
void vs_first_line(char *s);

/* ---- since ABI 1.2: what the build front end uses (plugins/build/common) */

const char *vs_basename(const char *path);
char *vs_path_join(const char *a, const char *b); /* malloc'd */
/* Host-view paths resolved inside the sysroot. */
int vs_host_lstat(const struct vs_ctx *ctx, const char *path, struct stat *st);
/* 1 exists, 0 missing, -1 error (errno); follows symlinks inside. */
int vs_host_exists(const struct vs_ctx *ctx, const char *path);
/* mkdir -p with mode for created components: the existing part is
 * resolved like any host path (the host's symlinks followed inside the
 * sysroot), the components it creates are never links; -1 with errno. */
int vs_host_mkdir_p(const struct vs_ctx *ctx, const char *path, mode_t mode);
/* The canonical host-view form of path (symlinks followed inside the
 * sysroot), malloc'd, or NULL with errno. */
char *vs_host_canon(const struct vs_ctx *ctx, const char *path);
/* fd-relative helpers that never follow symlinks; -1 with errno. */
int vs_write_at(int dirfd, const char *name, const char *data, size_t len,
		mode_t mode);
/* Writes a new file in place of dirfd/name (a temporary file renamed over
 * it: a symlink there is replaced, never followed). */
int vs_replace_at(int dirfd, const char *name, const char *data, size_t len,
		  mode_t mode);
int vs_mkdir_p_at(int dirfd, const char *rel, mode_t mode);
/* Copies a regular file from an fd to a new file (O_EXCL) at dirfd/name. */
int vs_copy_fd_at(int srcfd, int dirfd, const char *name, mode_t mode);
/* Removes name below dirfd recursively without following symlinks or
 * crossing into other filesystems.  -1 with errno; *failed names the
 * first entry that could not be removed (static buffer). */
int vs_rm_rf_at(int dirfd, const char *name, const char **failed);
/* Runs argv (PATH search) with envp (NULL: inherit), cwd (NULL: keep);
 * returns the exit status (128+sig when killed) or -1 with errno. */
int vs_spawn(char *const argv[], char *const envp[], const char *cwd);
/* The same in a private mount namespace of its own. */
int vs_spawn_newns(char *const argv[], char *const envp[], const char *cwd);
/* Context ids: parses one (2..49151; -1 with the error set); the guest
 * (config-dir name, malloc'd) using id, or NULL; the next free id from
 * .defaults/context.next (or the shipped context.start), *next being
 * what to store back once the guest exists. */
int vs_context_parse(struct vs_ctx *ctx, const char *s, unsigned *out);
char *vs_context_user(struct vs_ctx *ctx, unsigned id);
int vs_context_allocate(struct vs_ctx *ctx, unsigned *id, unsigned *next);
int vs_context_store_next(struct vs_ctx *ctx, unsigned next);
/* The name (malloc'd) of a configured guest other than self with a
 * directory that is canon, inside it or around it (*kind says which of
 * its own: "root", "cache", "run", "package directory"), or NULL. */
char *vs_guest_dir_owner(struct vs_ctx *ctx, const char *canon,
			 const char *self, const char **kind);
/* An interface of util-vserver's --interface syntax. */
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

#ifdef __cplusplus
}
#endif
#endif
