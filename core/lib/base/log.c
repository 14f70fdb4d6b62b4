/* The event log of monitors and vshelper: nobody reads their stderr. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

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
	openlog("vs", LOG_PID, LOG_DAEMON);
	syslog(LOG_INFO, "%s", msg);
	closelog();
}
