/* The invocation context: sysroot and paths. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "vs-paths.h"

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
	ctx->hook_timeout = 300;
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
	if (ctx->conf_free)
		ctx->conf_free(ctx->conf);
	if (ctx->index_free)
		ctx->index_free(ctx->index);
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
