/* The error of an invocation (one message, printed once at the edge),
 * warnings and informational messages. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

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
