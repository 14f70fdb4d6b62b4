/* A guest's configuration tree read with util-vserver's precedence rules
 * (COMPAT §1.4): first existing file wins (per-guest, .defaults, shipped),
 * OR-disable flags, and Rule C for package management. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

int vs_guest_cfg_exists(const struct vs_guest *g, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir, rel);
	return vs_host_lstat(g->ctx, path, &st) == 0;
}

int vs_guest_cfg_find(const struct vs_guest *g, const char *rel,
		      const char *pkgdefault, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", g->cfgdir, rel);
	if (vs_host_exists(g->ctx, buf) == 1)
		return 1;
	snprintf(buf, size, "%s/.defaults/%s",
		 g->ctx->paths[VS_PATH_CONFDIR], rel);
	if (vs_host_exists(g->ctx, buf) == 1)
		return 1;
	if (pkgdefault) {
		snprintf(buf, size, "%s/%s", g->ctx->pkgdefaultsdir,
			 pkgdefault);
		if (access(buf, F_OK) == 0)
			return 2;
	}
	return 0;
}

int vs_guest_cfg_line(struct vs_guest *g, const char *rel, char *buf,
		      size_t size)
{
	char path[PATH_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir, rel);
	char *s = vs_host_read(g->ctx, path, 65536, NULL);
	if (!s) {
		if (errno == ENOENT)
			return 0;
		return vs_set_errno(g->ctx, errno, "cannot read '%s'",
				    vs_host_real(g->ctx, path, real,
						 sizeof(real)));
	}
	vs_first_line(s);
	snprintf(buf, size, "%s", s);
	free(s);
	return 1;
}

static int defaults_exists(const struct vs_guest *g, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/.defaults/%s",
		 g->ctx->paths[VS_PATH_CONFDIR], rel);
	return vs_host_exists(g->ctx, path) == 1;
}

int vs_guest_flag_or(const struct vs_guest *g, const char *flag,
		     const char *override)
{
	if (override && vs_guest_cfg_exists(g, override))
		return 0;
	return vs_guest_cfg_exists(g, flag) || defaults_exists(g, flag);
}

int vs_guest_pkgmgmt(const struct vs_guest *g)
{
	if (vs_guest_cfg_exists(g, "apps/vunify/pkgmgmt-ignore"))
		return 0;
	if (vs_guest_cfg_exists(g, "apps/vunify/pkgmgmt-force"))
		return 1;
	if (defaults_exists(g, "apps/vunify/pkgmgmt-ignore"))
		return 0;
	return 1; /* .defaults force, or the built-in default: on */
}

char **vs_read_lines(struct vs_ctx *ctx, const char *path, bool real,
		     int *err)
{
	char *s;
	*err = 0;
	if (real) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		s = fd >= 0 ? vs_read_fd(fd, 1 << 20, NULL) : NULL;
		if (fd >= 0)
			close(fd);
	} else {
		s = vs_host_read(ctx, path, 1 << 20, NULL);
	}
	if (!s) {
		if (errno != ENOENT) {
			char shown[PATH_MAX];
			*err = -1;
			vs_set_errno(ctx, errno, "cannot read '%s'",
				     real ? path
					  : vs_host_real(ctx, path, shown,
							 sizeof(shown)));
		}
		return NULL;
	}
	size_t n = 0;
	char **v = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(*v));
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (*l)
			v[n++] = vs_strdup(l);
	v[n] = NULL;
	free(s);
	return v;
}

char **vs_guest_cfg_lines(struct vs_guest *g, const char *rel, int *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir, rel);
	return vs_read_lines(g->ctx, path, false, err);
}
