/* The invocation context: sysroot, paths, errors and messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "vs-paths.h"

void *vs_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void *vs_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

char *vs_strdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

char *vs_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static const char *const default_paths[] = {
	[VS_PATH_CONFDIR] = VS_CONFDIR,
	[VS_PATH_VROOTDIR] = VS_VROOTDIR,
	[VS_PATH_RUNDIR] = VS_RUNDIR,
	[VS_PATH_CACHEDIR] = VS_CACHEDIR,
	[VS_PATH_LOCKDIR] = VS_LOCKDIR,
};

struct vs_ctx *vs_ctx_new(void)
{
	struct vs_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		abort();
	ctx->rootfd = -1;
	ctx->sysroot = vs_strdup("/");
	for (size_t i = 0; i <= VS_PATH_LOCKDIR; i++)
		ctx->paths[i] = vs_strdup(default_paths[i]);
	ctx->plugindir = vs_strdup(VS_PLUGINDIR);
	vs_ctx_set_datadir(ctx, VS_PKGDATADIR);
	return ctx;
}

void vs_ctx_set_datadir(struct vs_ctx *ctx, const char *dir)
{
	free(ctx->pkgdefaultsdir);
	free(ctx->distribdir);
	ctx->pkgdefaultsdir = vs_path_join(dir, "defaults");
	ctx->distribdir = vs_path_join(dir, "distributions");
}

void vs_ctx_set_plugindir(struct vs_ctx *ctx, const char *dir)
{
	free(ctx->plugindir);
	ctx->plugindir = vs_strdup(dir);
}

void vs_ctx_free(struct vs_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	free(ctx->sysroot);
	for (size_t i = 0; i <= VS_PATH_LOCKDIR; i++)
		free(ctx->paths[i]);
	free(ctx->plugindir);
	free(ctx->pkgdefaultsdir);
	free(ctx->distribdir);
	free(ctx->conffile);
	vs_conf_free(ctx->conf);
	/* plugins stay resident: only the bookkeeping is freed */
	for (size_t i = 0; i < ctx->nplugins; i++) {
		free(ctx->plugins[i].file);
		free(ctx->plugins[i].refusal);
	}
	free(ctx->plugins);
	free(ctx);
}

int vs_ctx_set_sysroot(struct vs_ctx *ctx, const char *dir)
{
	char *real;
	if (!dir || !*dir)
		dir = "/";
	real = realpath(dir, NULL);
	if (!real)
		return vs_set_errno(ctx, errno, "cannot use sysroot '%s'", dir);
	int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(real);
		return vs_set_errno(ctx, e, "cannot use sysroot '%s'", dir);
	}
	if (ctx->rootfd >= 0)
		close(ctx->rootfd);
	ctx->rootfd = fd;
	free(ctx->sysroot);
	ctx->sysroot = real;
	return 0;
}

static int apply_path(struct vs_ctx *ctx, const char *key, char **slot)
{
	const char *v = vs_conf_str(ctx, key);
	if (!v)
		return 0;
	free(*slot);
	*slot = vs_strdup(v);
	/* strip trailing slashes, keep "/" */
	for (size_t n = strlen(*slot); n > 1 && (*slot)[n - 1] == '/'; n--)
		(*slot)[n - 1] = '\0';
	return 0;
}

int vs_ctx_configure(struct vs_ctx *ctx, const char *file)
{
	int fd;
	struct stat st;
	char real[PATH_MAX];

	if (ctx->rootfd < 0 && vs_ctx_set_sysroot(ctx, "/") < 0)
		return -1;
	if (file) {
		/* given on the command line: a real path */
		fd = open(file, O_RDONLY | O_CLOEXEC);
		snprintf(real, sizeof(real), "%s", file);
	} else {
		file = VS_SYSCONFDIR "/vs.conf";
		fd = vs_host_open(ctx, file, O_RDONLY, 0);
		vs_host_real(ctx, file, real, sizeof(real));
		if (fd < 0 && errno == ENOENT &&
		    vs_host_lstat(ctx, file, &st) < 0) {
			ctx->conffile = vs_strdup(file);
			return 0; /* no vs.conf: built-in defaults */
		}
	}
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot read '%s'", real);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		return vs_set_errno(ctx, e, "cannot read '%s'", real);
	}
	ctx->conffile = vs_strdup(file);
	ctx->conf_loaded = true;
	if (vs_conf_load(ctx, real, fd) < 0)
		return -1;
	static const char *const keys[] = {
		[VS_PATH_CONFDIR] = "confdir", [VS_PATH_VROOTDIR] = "vrootdir",
		[VS_PATH_RUNDIR] = "rundir",   [VS_PATH_CACHEDIR] = "cachedir",
		[VS_PATH_LOCKDIR] = "lockdir",
	};
	for (size_t i = 0; i <= VS_PATH_LOCKDIR; i++)
		apply_path(ctx, keys[i], &ctx->paths[i]);
	if (vs_conf_str(ctx, "plugindir"))
		vs_ctx_set_plugindir(ctx, vs_conf_str(ctx, "plugindir"));
	if (vs_conf_str(ctx, "datadir"))
		vs_ctx_set_datadir(ctx, vs_conf_str(ctx, "datadir"));
	return 0;
}

int vs_set_error(struct vs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	return -1;
}

int vs_set_errno(struct vs_ctx *ctx, int errnum, const char *fmt, ...)
{
	va_list ap;
	size_t n;
	va_start(ap, fmt);
	vsnprintf(ctx->err, sizeof(ctx->err), fmt, ap);
	va_end(ap);
	n = strlen(ctx->err);
	snprintf(ctx->err + n, sizeof(ctx->err) - n, ": %s", strerror(errnum));
	errno = errnum;
	return -1;
}

const char *vs_error(const struct vs_ctx *ctx)
{
	return ctx->err;
}

void vs_clear_error(struct vs_ctx *ctx)
{
	ctx->err[0] = '\0';
}

void vs_print_line(FILE *out, const char *prefix, const char *msg)
{
	fflush(stdout);
	fputs(prefix, out);
	for (const unsigned char *c = (const unsigned char *)msg; *c; c++) {
		if (*c == '\n')
			fputs("\\n", out);
		else if (*c == '\t')
			fputs("\\t", out);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(out, "\\x%02x", *c);
		else
			fputc(*c, out);
	}
	fputc('\n', out);
}

static void vprint(const char *prefix, const char *fmt, va_list ap)
{
	char msg[4096];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	vs_print_line(stderr, prefix, msg);
}

void vs_warn(struct vs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	(void)ctx;
	va_start(ap, fmt);
	vprint("vs: warning: ", fmt, ap);
	va_end(ap);
}

void vs_info(struct vs_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	if (ctx->verbose < level)
		return;
	va_start(ap, fmt);
	vprint("vs: ", fmt, ap);
	va_end(ap);
}

int vs_verbosity(const struct vs_ctx *ctx)
{
	return ctx->verbose;
}

const char *vs_path(const struct vs_ctx *ctx, enum vs_path which)
{
	if ((unsigned)which > VS_PATH_LOCKDIR)
		return NULL;
	return ctx->paths[which];
}

const char *vs_sysroot(const struct vs_ctx *ctx)
{
	return ctx->sysroot;
}

const char *vs_pkgdefaultsdir(const struct vs_ctx *ctx)
{
	return ctx->pkgdefaultsdir;
}

const char *vs_distribdir(const struct vs_ctx *ctx)
{
	return ctx->distribdir;
}
