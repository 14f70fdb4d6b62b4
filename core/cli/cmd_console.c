/* vs <guest> console [--log]: attached to the guest's console, or what
 * the guest wrote there (the monitor keeps it, runtime/console.c), also
 * after it stopped; on a terminal with its control characters shown, not
 * obeyed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

/* The guest wrote the log: on a terminal, its control characters are
 * shown, not obeyed (an escape sequence could rewrite the admin's screen
 * or more); \r of a \r\n is dropped.  Nonzero when output failed. */
static int print_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		if (c == '\n' || c == '\t' || (c >= 0x20 && c != 0x7f))
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	return fflush(stdout) != 0 || ferror(stdout);
}

int cmd_console(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
		int argc, char **argv)
{
	static const char *const names[] = {"--log", NULL};
	bool seen[1] = {false};
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	if (!seen[0])
		return vs_console_attach(g) < 0 ? 1 : 0;
	char *path = vs_console_log_path(g);
	size_t len = 0;
	char *s = vs_host_read(ctx, path, 2 * VS_CONSOLE_CAP, &len);
	char real[PATH_MAX];
	vs_host_real(ctx, path, real, sizeof(real));
	free(path);
	if (!s) {
		if (errno == ENOENT)
			return vs_set_error(ctx, "guest '%s' has no console log "
						 "('%s'): it has not been "
						 "started in the background",
					    g->name, real),
			       1;
		return vs_set_errno(ctx, errno, "cannot read '%s'", real), 1;
	}
	r = isatty(1) ? print_safe(s, len) : fwrite(s, 1, len, stdout) != len;
	free(s);
	return r ? 1 : 0;
}
