/* Context ids: parsing, uniqueness, allocation from context.next. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define CONTEXT_START 40000

int vs_context_parse(struct vs_ctx *ctx, const char *s, unsigned *out)
{
	unsigned long v = 0;
	const char *c = s;
	if (!*c)
		return vs_set_error(ctx, "invalid context '': not a number");
	for (; *c; c++) {
		if (*c < '0' || *c > '9')
			return vs_set_error(ctx,
					    "invalid context '%s': not a "
					    "number",
					    s);
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > VS_CONTEXT_MAX)
			break;
	}
	if (v < VS_CONTEXT_MIN || v > VS_CONTEXT_MAX)
		return vs_set_error(ctx,
				    "invalid context '%s': must be between %d "
				    "and %d",
				    s, VS_CONTEXT_MIN, VS_CONTEXT_MAX);
	*out = (unsigned)v;
	return 0;
}

char *vs_context_user(struct vs_ctx *ctx, unsigned id)
{
	char **names = vs_guest_list(ctx);
	char *user = NULL;
	char saved[sizeof(ctx->err)];
	memcpy(saved, ctx->err, sizeof(saved));
	for (char **n = names; *n && !user; n++) {
		struct vs_guest *g = vs_guest_open(ctx, *n);
		if (g && g->context == id)
			user = vs_strdup(*n);
		vs_guest_free(g);
	}
	memcpy(ctx->err, saved, sizeof(saved));
	vs_strv_free(names);
	return user;
}

static int read_number(char *s, unsigned *out)
{
	char *end;
	vs_first_line(s);
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (end == s || *end || errno || v > 0xffffffffUL)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int vs_context_allocate(struct vs_ctx *ctx, unsigned *id, unsigned *next)
{
	char path[PATH_MAX], real[PATH_MAX];
	unsigned v = CONTEXT_START;
	char *s;

	snprintf(path, sizeof(path), "%s/.defaults/context.next",
		 ctx->paths[VS_PATH_CONFDIR]);
	s = vs_host_read(ctx, path, 64, NULL);
	if (!s && errno != ENOENT)
		return vs_set_errno(ctx, errno, "cannot read '%s'",
				    vs_host_real(ctx, path, real, sizeof(real)));
	if (!s) {
		snprintf(real, sizeof(real), "%s/context.start",
			 ctx->pkgdefaultsdir);
		int fd = open(real, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			s = vs_read_fd(fd, 64, NULL);
			close(fd);
		}
	} else {
		vs_host_real(ctx, path, real, sizeof(real));
	}
	if (s) {
		int r = read_number(s, &v);
		free(s);
		if (r < 0)
			return vs_set_error(ctx,
					    "cannot parse '%s': not a number",
					    real);
	}
	if (v < VS_CONTEXT_MIN)
		v = VS_CONTEXT_MIN;
	for (; v <= VS_CONTEXT_MAX; v++) {
		char *user = vs_context_user(ctx, v);
		if (!user)
			break;
		free(user);
	}
	if (v > VS_CONTEXT_MAX)
		return vs_set_error(ctx,
				    "cannot allocate a context: no free id "
				    "up to %d (see '%s')",
				    VS_CONTEXT_MAX, real);
	*id = v;
	*next = v + 1;
	return 0;
}

int vs_context_store_next(struct vs_ctx *ctx, unsigned next)
{
	char dir[PATH_MAX], real[PATH_MAX], data[32];
	snprintf(dir, sizeof(dir), "%s/.defaults",
		 ctx->paths[VS_PATH_CONFDIR]);
	if (vs_host_mkdir_p(ctx, dir, 0755) < 0)
		return vs_set_errno(ctx, errno, "cannot create '%s'",
				    vs_host_real(ctx, dir, real, sizeof(real)));
	int dfd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
	if (dfd < 0)
		return vs_set_errno(ctx, errno, "cannot open '%s'",
				    vs_host_real(ctx, dir, real, sizeof(real)));
	int n = snprintf(data, sizeof(data), "%u\n", next);
	int r = vs_replace_at(dfd, "context.next", data, (size_t)n, 0644);
	int e = errno;
	close(dfd);
	if (r < 0)
		return vs_set_errno(ctx, e, "cannot write '%s/context.next'",
				    vs_host_real(ctx, dir, real, sizeof(real)));
	return 0;
}
