/* The guest's system call filter (libseccomp), loaded by every guest
 * process (init, exec, enter) as its last step before execve.
 *
 * A deny list in the spirit of LXC's common.seccomp and Docker's default
 * profile: what reaches past the guest's namespaces on a vanilla kernel
 * (file handles, keyrings, user namespaces, kernel modules, kexec, bpf,
 * perf, userfaultfd, the new mount API, io_uring, swap, the kernel log,
 * TIOCSTI) answers EPERM; clone3 answers ENOSYS so that libc falls back to
 * clone, whose flags the filter can see.  The host's compat ABI (i386 on
 * x86_64) gets the same rules; any other ABI (x32) answers ENOSYS.
 *
 * Per guest (first existing file, per-guest then .defaults):
 *   apps/seccomp/allow   names taken out of the default deny list
 *   apps/seccomp/deny    names added to it
 *   apps/seccomp/none    (flag) no filter at all
 * One system call name per line; '#' starts a comment.
 *
 * libseccomp compiles the rules to BPF once per set of lists (0.6 ms);
 * the program is kept in <rundir>/.seccomp/<key>.bpf (the key: these
 * rules' version, libseccomp's, the ABI, the lists), so a start or an
 * exec only reads and loads it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* Changes whenever the rules below change: part of the cache key, so a
 * program compiled by an older vs is never loaded. */
#define RULES_VERSION 2

/* Denied whatever their arguments. */
static const char *const deny_always[] = {
	"open_by_handle_at", "name_to_handle_at",
	"keyctl", "add_key", "request_key",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "create_module",
	"get_kernel_syms", "query_module",
	"bpf", "perf_event_open", "userfaultfd",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "pivot_root",
	"swapon", "swapoff", "acct", "syslog", "lookup_dcookie",
	"nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
	"vm86", "vm86old", "iopl", "ioperm",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	NULL,
};

/* Names the filter treats by their arguments (or, for clone3, whose
 * arguments it cannot see). */
static const char *const deny_special[] = {"unshare", "clone", "clone3",
					   "ioctl", NULL};

static bool in_list(char *const *list, const char *name)
{
	for (char *const *l = list; l && *l; l++)
		if (!strcmp(*l, name))
			return true;
	return false;
}

/* The names of a list file, comments and blanks dropped; each checked
 * against libseccomp's table.  NULL (no error) when path is NULL. */
static char **read_names(struct vs_guest *g, const char *path, int *err)
{
	char real[PATH_MAX];
	*err = 0;
	if (!path)
		return NULL;
	char *s = vs_host_read(g->ctx, path, 1 << 16, NULL);
	vs_host_real(g->ctx, path, real, sizeof(real));
	if (!s) {
		*err = vs_set_errno(g->ctx, errno, "cannot read '%s'", real);
		return NULL;
	}
	size_t n = 0;
	char **v = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(*v));
	char *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		l[strcspn(l, "#")] = '\0';
		l += strspn(l, " \t");
		l[strcspn(l, " \t")] = '\0';
		if (!*l)
			continue;
		if (seccomp_syscall_resolve_name(l) == __NR_SCMP_ERROR) {
			*err = vs_set_error(g->ctx,
					    "%s:%d: unknown system call '%s'",
					    real, lineno, l);
			break;
		}
		v[n++] = vs_strdup(l);
	}
	v[n] = NULL;
	free(s);
	if (*err) {
		vs_strv_free(v);
		return NULL;
	}
	return v;
}

/* The host's compat ABI gets the same rules (i386 programs run in amd64
 * guests); any other ABI (x32 among them, which Debian's kernels turn
 * off anyway) is answered ENOSYS for every call: a smaller program to
 * load into each guest process. */
static int add_arches(scmp_filter_ctx f)
{
	uint32_t native = seccomp_arch_native();
	uint32_t compat = native == SCMP_ARCH_X86_64	 ? SCMP_ARCH_X86
			  : native == SCMP_ARCH_AARCH64 ? SCMP_ARCH_ARM
							 : 0;
	int r = compat ? seccomp_arch_add(f, compat) : 0;
	if (r < 0 && r != -EEXIST)
		return r;
	return seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH,
				SCMP_ACT_ERRNO(ENOSYS));
}

/* A rule on a name the running kernel's ABI may lack: -EDOM/-EINVAL from
 * libseccomp for a pseudo system call are not errors. */
static int deny(scmp_filter_ctx f, const char *name, int err,
		unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(f, SCMP_ACT_ERRNO((uint16_t)err), nr,
				       n, cmp);
	return r == -EDOM || r == -EINVAL ? 0 : r;
}

static int build(scmp_filter_ctx f, char *const *allow, char *const *add)
{
	int r = add_arches(f);
	if (r == 0)
		r = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	for (const char *const *n = deny_always; r == 0 && *n; n++)
		if (!in_list(allow, *n))
			r = deny(f, *n, EPERM, 0, NULL);
	const struct scmp_arg_cmp newuser = SCMP_A0(
		SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	const struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ,
						0xffffffffu, TIOCSTI);
	if (r == 0 && !in_list(allow, "unshare"))
		r = deny(f, "unshare", EPERM, 1, &newuser);
	if (r == 0 && !in_list(allow, "clone"))
		r = deny(f, "clone", EPERM, 1, &newuser);
	if (r == 0 && !in_list(allow, "clone3"))
		r = deny(f, "clone3", ENOSYS, 0, NULL);
	if (r == 0 && !in_list(allow, "ioctl"))
		r = deny(f, "ioctl", EPERM, 1, &sti);
	for (char *const *n = add; r == 0 && n && *n; n++)
		if (!in_list((char *const *)deny_always, *n) &&
		    !in_list((char *const *)deny_special, *n))
			r = deny(f, *n, EPERM, 0, NULL);
	return r;
}

/* A compiled filter. */
struct vs_bpf {
	unsigned short len;
	struct sock_filter insns[];
};

#define BPF_MAX 4096 /* the kernel's BPF_MAXINSNS */

/* The rules compiled by libseccomp, or NULL with errno. */
static struct vs_bpf *compile(char *const *allow, char *const *add)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	int r = build(f, allow, add);
	int mfd = r == 0 ? memfd_create("vs-seccomp", MFD_CLOEXEC) : -1;
	if (r == 0 && mfd < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_bpf(f, mfd);
	seccomp_release(f);
	struct vs_bpf *b = NULL;
	if (r == 0) {
		off_t size = lseek(mfd, 0, SEEK_END);
		size_t n = size > 0 ? (size_t)size / sizeof(struct sock_filter)
				    : 0;
		if (n == 0 || n > BPF_MAX) {
			r = -E2BIG;
		} else {
			size_t bytes = n * sizeof(struct sock_filter);
			b = vs_xmalloc(sizeof(*b) + bytes);
			b->len = (unsigned short)n;
			if (pread(mfd, b->insns, bytes, 0) != (ssize_t)bytes) {
				r = -EIO;
				free(b);
				b = NULL;
			}
		}
	}
	if (mfd >= 0)
		close(mfd);
	if (!b)
		errno = -r;
	return b;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* The cache file's name: a digest of what decides the program. */
static void cache_name(char *const *allow, char *const *add, char *out,
		       size_t size)
{
	const struct scmp_version *v = seccomp_version();
	char head[64];
	int k = snprintf(head, sizeof(head), "%d/%u.%u.%u/%u/", RULES_VERSION,
			 v->major, v->minor, v->micro, seccomp_arch_native());
	uint64_t h = fnv(1469598103934665603ULL, head, (size_t)k);
	char *const *lists[2] = {allow, add};
	for (int l = 0; l < 2; l++) {
		for (char *const *n = lists[l]; n && *n; n++)
			h = fnv(h, *n, strlen(*n) + 1);
		h = fnv(h, "|", 1);
	}
	snprintf(out, size, "%016llx.bpf", (unsigned long long)h);
}

static struct vs_bpf *cache_read(struct vs_ctx *ctx, const char *path)
{
	size_t len = 0;
	char *s = vs_host_read(ctx, path, BPF_MAX * sizeof(struct sock_filter),
			       &len);
	if (!s)
		return NULL;
	size_t n = len / sizeof(struct sock_filter);
	if (n == 0 || n > BPF_MAX || len % sizeof(struct sock_filter)) {
		free(s);
		return NULL;
	}
	struct vs_bpf *b = vs_xmalloc(sizeof(*b) + len);
	b->len = (unsigned short)n;
	memcpy(b->insns, s, len);
	free(s);
	return b;
}

/* Best effort: a program not kept is compiled again next time. */
static void cache_write(struct vs_ctx *ctx, const char *dir,
			const char *name, const struct vs_bpf *b)
{
	if (vs_host_mkdir_p(ctx, dir, 0700) < 0)
		return;
	int dfd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return;
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%d.tmp", (int)getpid());
	int fd = openat(dfd, tmp,
			O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0600);
	size_t n = b->len * sizeof(struct sock_filter);
	if (fd >= 0) {
		bool ok = write(fd, b->insns, n) == (ssize_t)n;
		close(fd);
		if (!ok || renameat(dfd, tmp, dfd, name) < 0)
			unlinkat(dfd, tmp, 0);
	}
	close(dfd);
}

/* The files of apps/seccomp, per guest and in .defaults, found with one
 * directory open per level (the precedence of vs_guest_cfg_find for the
 * lists, of vs_guest_flag_or for the flags). */
enum { SC_NONE, SC_ALLOW, SC_DENY, SC_NNP, SC_N };
struct sc_files {
	bool none, nnp;
	char allow[PATH_MAX], deny[PATH_MAX]; /* "" when missing */
};

static void find_files(struct vs_guest *g, struct sc_files *f)
{
	static const char *const names[SC_N] = {"none", "allow", "deny",
						"no-new-privs"};
	memset(f, 0, sizeof(*f));
	for (int level = 0; level < 2; level++) {
		char dir[PATH_MAX], path[PATH_MAX];
		if (level == 0)
			snprintf(dir, sizeof(dir), "%s/apps/seccomp", g->cfgdir);
		else
			snprintf(dir, sizeof(dir), "%s/.defaults/apps/seccomp",
				 g->ctx->paths[VS_PATH_CONFDIR]);
		int dfd = vs_host_open(g->ctx, dir, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			continue;
		for (int i = 0; i < SC_N; i++) {
			struct stat st;
			if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			bool list = i == SC_ALLOW || i == SC_DENY;
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
			/* a symlink is followed inside the root (never from
			 * here), except a per-guest flag, whose name counts */
			if (S_ISLNK(st.st_mode) && (list || level == 1) &&
			    vs_host_exists(g->ctx, path) != 1)
				continue;
			char *slot = i == SC_ALLOW ? f->allow
				     : i == SC_DENY ? f->deny : NULL;
			if (slot && !slot[0])
				snprintf(slot, PATH_MAX, "%s", path);
			else if (i == SC_NONE)
				f->none = true;
			else if (i == SC_NNP)
				f->nnp = true;
		}
		close(dfd);
	}
}

int vs_seccomp_prepare(struct vs_guest *g, uint64_t bcaps, bool warn,
		       void **out, bool *nnp)
{
	*out = NULL;
	bool handles = warn && (bcaps & (1ULL << 2 /* CAP_DAC_READ_SEARCH */));
	struct sc_files f;
	find_files(g, &f);
	if (nnp)
		*nnp = f.nnp;
	if (f.none) {
		if (warn)
				vs_warn(g->ctx,
				"guest '%s' runs without a system call filter "
				"(apps/seccomp/none)%s",
				g->name,
				handles ? ": with CAP_DAC_READ_SEARCH its root "
					  "can open any host file by handle"
					: "");
		return 0;
	}
	int err;
	char **allow = read_names(g, f.allow[0] ? f.allow : NULL, &err);
	if (err)
		return -1;
	char **add = read_names(g, f.deny[0] ? f.deny : NULL, &err);
	if (err) {
		vs_strv_free(allow);
		return -1;
	}
	if (handles && in_list(allow, "open_by_handle_at"))
		vs_warn(g->ctx, "guest '%s' has CAP_DAC_READ_SEARCH and may "
				"call open_by_handle_at: its root can open any "
				"host file by handle",
			g->name);
	char dir[PATH_MAX], path[PATH_MAX], name[64];
	cache_name(allow, add, name, sizeof(name));
	snprintf(dir, sizeof(dir), "%s/.seccomp",
		 vs_path(g->ctx, VS_PATH_RUNDIR));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct vs_bpf *b = cache_read(g->ctx, path);
	if (!b && (b = compile(allow, add)))
		cache_write(g->ctx, dir, name, b);
	int e = errno;
	vs_strv_free(allow);
	vs_strv_free(add);
	if (!b)
		return vs_set_errno(g->ctx, e,
				    "cannot build the system call filter of "
				    "guest '%s'",
				    g->name);
	*out = b;
	return 0;
}

int vs_seccomp_load(void *filter)
{
	struct vs_bpf *b = filter;
	if (!b)
		return 0;
	struct sock_fprog prog = {.len = b->len, .filter = b->insns};
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

void vs_seccomp_free(void *filter)
{
	free(filter);
}
