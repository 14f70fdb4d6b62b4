/* Host-view paths, resolved by the kernel inside the sysroot.
 *
 * Every path of host state (configuration tree, guest roots, run state,
 * cache) is a host-view absolute path.  It is opened with openat2() and
 * RESOLVE_IN_ROOT relative to the sysroot, so absolute symlinks and ".."
 * stay inside it whether the sysroot is "/" or a test directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"

static int root_openat2(const struct vs_ctx *ctx, const char *path, int flags,
			mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	return (int)syscall(SYS_openat2, ctx->rootfd, path, &how, sizeof(how));
}

int vs_host_open(const struct vs_ctx *ctx, const char *path, int flags,
		 mode_t mode)
{
	int fd;
	do
		fd = root_openat2(ctx, path, flags, mode);
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

char *vs_host_real(const struct vs_ctx *ctx, const char *path, char *buf,
		   size_t size)
{
	if (strcmp(ctx->sysroot, "/") == 0)
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "%s%s%s", ctx->sysroot,
			 path[0] == '/' ? "" : "/", path);
	return buf;
}

int vs_host_parent(const struct vs_ctx *ctx, const char *path,
		   const char **base)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];

	if (!slash || slash[1] == '\0') {
		errno = EINVAL;
		return -1;
	}
	size_t n = (size_t)(slash - path);
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = '\0';
	*base = slash + 1;
	if (strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0) {
		errno = EINVAL;
		return -1;
	}
	return vs_host_open(ctx, n ? dir : "/", O_RDONLY | O_DIRECTORY, 0);
}

int vs_host_lstat(const struct vs_ctx *ctx, const char *path, struct stat *st)
{
	const char *base;
	int dfd = vs_host_parent(ctx, path, &base);
	if (dfd < 0)
		return -1;
	int r = fstatat(dfd, base, st, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(dfd);
	errno = e;
	return r;
}

int vs_host_exists(const struct vs_ctx *ctx, const char *path)
{
	int fd = vs_host_open(ctx, path, O_PATH, 0);
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
}

bool vs_host_isdir(const struct vs_ctx *ctx, const char *path)
{
	int fd = vs_host_open(ctx, path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

ssize_t vs_host_readlink(const struct vs_ctx *ctx, const char *path,
			 char *buf, size_t size)
{
	const char *base;
	int dfd = vs_host_parent(ctx, path, &base);
	if (dfd < 0)
		return -1;
	ssize_t n = readlinkat(dfd, base, buf, size - 1);
	int e = errno;
	close(dfd);
	if (n < 0) {
		errno = e;
		return -1;
	}
	if ((size_t)n >= size - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	return n;
}

int vs_host_mkdir_p(const struct vs_ctx *ctx, const char *path, mode_t mode)
{
	/* the deepest directory that exists, through the host's own links
	 * (/var/run -> /run on Debian), then what is missing below it */
	char have[PATH_MAX];
	if (snprintf(have, sizeof(have), "%s", path) >= (int)sizeof(have)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	size_t n = strlen(have);
	int fd;
	for (;;) {
		while (n > 1 && have[n - 1] == '/')
			have[--n] = '\0';
		fd = vs_host_open(ctx, n ? have : "/", O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0 || errno != ENOENT || n == 0)
			break;
		char *slash = strrchr(have, '/');
		n = slash ? (size_t)(slash - have) : 0;
		have[n] = '\0';
	}
	if (fd < 0)
		return -1;
	const char *rest = path + n;
	while (*rest == '/')
		rest++;
	int r = *rest ? vs_mkdir_p_at(fd, rest, mode) : 0;
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

char *vs_host_canon(const struct vs_ctx *ctx, const char *path)
{
	char proc[64], real[PATH_MAX];
	int fd = vs_host_open(ctx, path, O_PATH, 0);
	if (fd < 0)
		return NULL;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(proc, real, sizeof(real) - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		errno = e;
		return NULL;
	}
	real[n] = '\0';
	size_t rl = strlen(ctx->sysroot);
	if (strcmp(ctx->sysroot, "/") == 0)
		return vs_strdup(real);
	if (strncmp(real, ctx->sysroot, rl) != 0 ||
	    (real[rl] != '/' && real[rl] != '\0')) {
		errno = EXDEV;
		return NULL;
	}
	return vs_strdup(real[rl] ? real + rl : "/");
}

char *vs_host_read(const struct vs_ctx *ctx, const char *path, size_t max,
		   size_t *len)
{
	int fd = vs_host_open(ctx, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		return NULL;
	char *s = vs_read_fd(fd, max, len);
	int e = errno;
	close(fd);
	errno = e;
	return s;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vs_host_list(const struct vs_ctx *ctx, const char *dir)
{
	int fd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return NULL;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return NULL;
	}
	size_t n = 0, cap = 16;
	char **v = vs_xmalloc(cap * sizeof(*v));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n + 2 > cap)
			v = vs_xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = vs_strdup(e->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_names);
	v[n] = NULL;
	return v;
}

int vs_host_stat(const struct vs_ctx *ctx, const char *path, struct stat *st)
{
	int fd = vs_host_open(ctx, path, O_PATH, 0);
	if (fd < 0)
		return -1;
	int r = fstat(fd, st);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int vs_host_run(struct vs_ctx *ctx, const char *path, char *const argv[],
		const char *cwd)
{
	char real[PATH_MAX];
	vs_host_real(ctx, path, real, sizeof(real));
	int fd = vs_host_open(ctx, path, O_RDONLY, 0);
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot run '%s'", real);
	int cwdfd = -1;
	if (cwd && (cwdfd = vs_host_open(ctx, cwd, O_PATH | O_DIRECTORY, 0)) < 0) {
		int e = errno;
		close(fd);
		vs_host_real(ctx, cwd, real, sizeof(real));
		return vs_set_errno(ctx, e, "cannot enter '%s'", real);
	}
	int timeout = ctx->hook_timeout;
	int st = vs_spawn_fd(fd, argv, cwdfd, timeout * 1000);
	int e = errno;
	close(fd);
	if (cwdfd >= 0)
		close(cwdfd);
	if (st < 0 && e == ETIMEDOUT)
		return vs_set_error(ctx,
				    "'%s' did not end within %d s "
				    "(hook_timeout): killed",
				    real, timeout);
	if (st < 0)
		return vs_set_errno(ctx, e, "cannot run '%s'", real);
	return st;
}
