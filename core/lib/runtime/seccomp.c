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
 * The rules themselves are in the seccomp helper (helpers/seccomp.c,
 * seccomp.so), which libseccomp compiles to BPF once per set of lists
 * (0.6 ms); the program is kept in <rundir>/.seccomp/<key>.bpf (the key:
 * the rules' version, the libseccomp vs was built with, the machine, the
 * lists), so a start or an exec only reads and loads it, without loading
 * the helper or libseccomp.  (A libseccomp upgraded under a built vs is
 * used from the next reboot, when the run directory is empty again, or
 * at once after `rm -r <rundir>/.seccomp`.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h> /* SCMP_VER_*: the version, nothing linked */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/helpers/helpers.h"
#include "runtime/runtime.h"

static bool in_list(char *const *list, const char *name)
{
	for (char *const *l = list; l && *l; l++)
		if (!strcmp(*l, name))
			return true;
	return false;
}

/* The names of a list file, comments and blanks dropped, each with its
 * line number in lines[] (checked when the rules are compiled).  NULL (no
 * error) when path is NULL. */
static char **read_names(struct vs_guest *g, const char *path, int **lines,
			 int *err)
{
	char real[PATH_MAX];
	*err = 0;
	*lines = NULL;
	if (!path)
		return NULL;
	char *s = vs_host_read(g->ctx, path, 1 << 16, NULL);
	if (!s) {
		vs_host_real(g->ctx, path, real, sizeof(real));
		*err = vs_set_errno(g->ctx, errno, "cannot read '%s'", real);
		return NULL;
	}
	size_t n = 0;
	char **v = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(*v));
	*lines = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(**lines));
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
		(*lines)[n] = lineno;
		v[n++] = vs_strdup(l);
	}
	v[n] = NULL;
	free(s);
	return v;
}

/* A compiled filter. */
struct vs_bpf {
	unsigned short len;
	struct sock_filter insns[];
};

/* The ABI vs was built for: the native one of its filters. */
#if defined(__x86_64__) && defined(__ILP32__)
#define ABI "x32"
#elif defined(__x86_64__)
#define ABI "x86_64"
#elif defined(__i386__)
#define ABI "i386"
#elif defined(__aarch64__)
#define ABI "aarch64"
#elif defined(__arm__)
#define ABI "arm"
#else
#define ABI "other"
#endif

/* The cache file's name: a digest of what decides the program. */
static void cache_name(char *const *allow, char *const *add, char *out,
		       size_t size)
{
	char head[128];
	int k = snprintf(head, sizeof(head), "%d/%d.%d.%d/%s/%zu/",
			 VS_SECCOMP_RULES_VERSION, SCMP_VER_MAJOR,
			 SCMP_VER_MINOR, SCMP_VER_MICRO, ABI, sizeof(long));
	uint64_t h = vs_fnv1a(VS_FNV_BASIS, head, (size_t)k);
	char *const *lists[2] = {allow, add};
	for (int l = 0; l < 2; l++) {
		for (char *const *n = lists[l]; n && *n; n++)
			h = vs_fnv1a(h, *n, strlen(*n) + 1);
		h = vs_fnv1a(h, "|", 1);
	}
	snprintf(out, size, "%016llx.bpf", (unsigned long long)h);
}

static struct vs_bpf *cache_read(struct vs_ctx *ctx, const char *path)
{
	size_t len = 0;
	char *s = vs_host_read(ctx, path, VS_BPF_MAX * sizeof(struct sock_filter),
			       &len);
	if (!s)
		return NULL;
	size_t n = len / sizeof(struct sock_filter);
	if (n == 0 || n > VS_BPF_MAX || len % sizeof(struct sock_filter)) {
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

/* The rules compiled by the seccomp helper, every name of the lists
 * checked first.  0, or -1 with the error set. */
static int compile(struct vs_guest *g, const char *const files[2],
		   char **const lists[2], int *const lines[2],
		   struct vs_bpf **out)
{
	const struct vs_seccomp_ops *ops = vs_helper(g->ctx, "seccomp");
	if (!ops)
		return -1;
	for (int l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			if (ops->known(lists[l][i]))
				continue;
			char real[PATH_MAX];
			return vs_set_error(g->ctx,
					    "%s:%d: unknown system call '%s'",
					    vs_host_real(g->ctx, files[l], real,
							 sizeof(real)),
					    lines[l][i], lists[l][i]);
		}
	unsigned short len = 0;
	struct sock_filter *insns = ops->compile(lists[0], lists[1], &len);
	if (!insns)
		return vs_set_errno(g->ctx, errno,
				    "cannot build the system call filter of "
				    "guest '%s'",
				    g->name);
	struct vs_bpf *b = vs_xmalloc(sizeof(*b) + len * sizeof(*insns));
	b->len = len;
	memcpy(b->insns, insns, len * sizeof(*insns));
	free(insns);
	*out = b;
	return 0;
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
	int err, *allow_lines, *add_lines;
	char **allow = read_names(g, f.allow[0] ? f.allow : NULL, &allow_lines,
				  &err);
	if (err)
		return -1;
	char **add = read_names(g, f.deny[0] ? f.deny : NULL, &add_lines, &err);
	if (err) {
		vs_strv_free(allow);
		free(allow_lines);
		return -1;
	}
	char dir[PATH_MAX], path[PATH_MAX], name[64];
	cache_name(allow, add, name, sizeof(name));
	snprintf(dir, sizeof(dir), "%s/.seccomp",
		 vs_path(g->ctx, VS_PATH_RUNDIR));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct vs_bpf *b = cache_read(g->ctx, path);
	int r = 0;
	if (!b) {
		const char *files[2] = {f.allow, f.deny};
		char **lists[2] = {allow, add};
		int *lines[2] = {allow_lines, add_lines};
		r = compile(g, files, lists, lines, &b);
		if (r == 0)
			cache_write(g->ctx, dir, name, b);
	}
	if (r == 0 && handles && in_list(allow, "open_by_handle_at"))
		vs_warn(g->ctx, "guest '%s' has CAP_DAC_READ_SEARCH and may "
				"call open_by_handle_at: its root can open any "
				"host file by handle",
			g->name);
	vs_strv_free(allow);
	vs_strv_free(add);
	free(allow_lines);
	free(add_lines);
	if (r < 0)
		return -1;
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
