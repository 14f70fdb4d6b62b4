/* The guest's console, seen from the host: the monitor holds the pty's
 * master and a thread of its own copies everything the guest writes to
 * it into <rundir>/.console/<guest>.log (root's, 0600).  A start moves
 * the previous log to <guest>.log.1; a log that reaches VS_CONSOLE_CAP
 * does too, so at most twice the cap is kept.  The thread only reads and
 * writes (no allocation, no lock), so the monitor may fork while it
 * runs; it ends when the guest's last use of the console is gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

struct console {
	int master, dirfd, logfd;
	char name[NAME_MAX + 1], old[NAME_MAX + 1];
	off_t size;
};

char *vs_console_log_path(const struct vs_guest *g)
{
	return vs_asprintf("%s/.console/%s.log",
			   vs_path(g->ctx, VS_PATH_RUNDIR), g->name);
}

/* The log moves to .log.1 and a new one starts. */
static int rotate(struct console *c)
{
	renameat(c->dirfd, c->name, c->dirfd, c->old);
	int fd = openat(c->dirfd, c->name,
			O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW |
				O_CLOEXEC,
			0600);
	if (fd < 0)
		return -1;
	if (c->logfd >= 0)
		close(c->logfd);
	c->logfd = fd;
	c->size = 0;
	return 0;
}

static void *drain(void *arg)
{
	struct console *c = arg;
	char buf[4096];
	for (;;) {
		ssize_t n = read(c->master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* EIO: no one has the console open any more */
		if (c->size + n > VS_CONSOLE_CAP && rotate(c) < 0)
			continue; /* the bytes are dropped, the guest goes on */
		ssize_t w = write(c->logfd, buf, (size_t)n);
		if (w > 0)
			c->size += w;
	}
	close(c->master);
	close(c->logfd);
	close(c->dirfd);
	free(c);
	return NULL;
}

int vs_console_start(struct vs_guest *g, int master)
{
	struct vs_ctx *ctx = g->ctx;
	char *path = vs_console_log_path(g);
	char *dir = vs_strdup(path);
	*strrchr(dir, '/') = '\0';
	struct console *c = vs_xmalloc(sizeof(*c));
	memset(c, 0, sizeof(*c));
	c->master = master;
	c->logfd = -1;
	c->dirfd = -1;
	snprintf(c->name, sizeof(c->name), "%s.log", g->name);
	snprintf(c->old, sizeof(c->old), "%s.log.1", g->name);
	int r = -1;
	if (vs_host_mkdir_p(ctx, dir, 0700) == 0 &&
	    (c->dirfd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0)) >= 0 &&
	    rotate(c) == 0) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		pthread_attr_setstacksize(&at, 64 * 1024);
		r = pthread_create(&t, &at, drain, c) == 0 ? 0 : -1;
		pthread_attr_destroy(&at);
	}
	if (r < 0) {
		char real[PATH_MAX];
		vs_set_errno(ctx, errno, "cannot keep the console log '%s'",
			     vs_host_real(ctx, path, real, sizeof(real)));
		if (c->logfd >= 0)
			close(c->logfd);
		if (c->dirfd >= 0)
			close(c->dirfd);
		free(c);
	}
	free(dir);
	free(path);
	return r;
}
