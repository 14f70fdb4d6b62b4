/* systemd's readiness protocol (sd_notify(3)), which is a datagram of
 * "KEY=value" lines to $NOTIFY_SOCKET: a few lines here rather than
 * libsystemd in every verb. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/base.h"

static char notify_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

void vs_notify_take(void)
{
	const char *p = getenv("NOTIFY_SOCKET");
	if (p && (p[0] == '/' || p[0] == '@') && strlen(p) < sizeof(notify_path))
		snprintf(notify_path, sizeof(notify_path), "%s", p);
	/* nothing we run (hooks, the guest) speaks for the unit */
	unsetenv("NOTIFY_SOCKET");
}

int vs_dgram_send(const char *path, const char *msg, size_t n)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* an abstract socket */
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t w = sendto(fd, msg, n, MSG_NOSIGNAL, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len));
	close(fd);
	return w == (ssize_t)n ? 0 : -1;
}

void vs_notify(const char *fmt, ...)
{
	if (!notify_path[0])
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	vs_dgram_send(notify_path, msg, (size_t)n);
}
