/* The event log of monitors and vshelper: nobody reads their stderr.  The
 * file .defaults/apps/vshelper/logfile when there is one, else the journal
 * (with GUEST= and CONTEXT=) where journald runs, else syslog. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* journald's native protocol: one datagram of KEY=value lines, the
 * monitor's guest as fields of their own.  0 when it was taken. */
static int journal_send(const struct vs_ctx *ctx, const char *msg)
{
	if (access(JOURNAL_SOCKET, W_OK) < 0)
		return -1;
	char buf[2600], line[2100];
	/* one line (a guest's name may hold a newline) */
	snprintf(line, sizeof(line), "%s", msg);
	for (char *c = line; *c; c++)
		if (*c == '\n')
			*c = ' ';
	int n = snprintf(buf, sizeof(buf),
			 "MESSAGE=%s\nPRIORITY=6\nSYSLOG_IDENTIFIER=vs\n", line);
	if (ctx->log_guest[0] && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "GUEST=%s\n",
			      ctx->log_guest);
	if (ctx->log_xid && n > 0 && (size_t)n < sizeof(buf))
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "CONTEXT=%u\n",
			      ctx->log_xid);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -1;
	return vs_dgram_send(JOURNAL_SOCKET, buf, (size_t)n);
}

void vs_log(struct vs_ctx *ctx, const char *fmt, ...)
{
	char msg[2048], path[PATH_MAX], line[2200], when[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/.defaults/apps/vshelper/logfile",
		 ctx->paths[VS_PATH_CONFDIR]);
	int fd = vs_host_open(ctx, path, O_WRONLY | O_APPEND | O_NOCTTY, 0);
	if (fd >= 0) {
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
			 localtime_r(&now, &tm));
		int n = snprintf(line, sizeof(line), "%s: %s\n", when, msg);
		ssize_t w = write(fd, line, (size_t)n);
		(void)w;
		close(fd);
		return;
	}
	if (journal_send(ctx, msg) == 0)
		return;
	openlog("vs", LOG_PID, LOG_DAEMON);
	syslog(LOG_INFO, "%s", msg);
	closelog();
}
