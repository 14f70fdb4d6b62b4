/* The guest's console, seen from the host: the monitor holds the pty's
 * master and a thread of its own copies everything the guest writes to
 * it into <rundir>/.console/<guest>.log (root's, 0600).  A start moves
 * the previous log to <guest>.log.1; a log that reaches VS_CONSOLE_CAP
 * does too, so at most twice the cap is kept.  The same thread serves
 * one attached `vs <guest> console` at a time on <guest>.sock beside the
 * log: what the guest writes goes to it too (dropped, never waited for,
 * when it does not keep up), what it sends goes to the guest; it gets
 * the master itself only to set the window size.  The thread only polls,
 * reads and writes (no allocation, no lock), so the monitor may fork
 * while it runs.  The monitor holds a slave of its own until the init
 * is gone, so the console outlives an init that closes its stdio; the
 * thread ends after that. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

struct console {
	int master, dirfd, logfd, listenfd, client;
	char name[NAME_MAX + 1], old[NAME_MAX + 1], sock[NAME_MAX + 1];
	off_t size;
};

/* The socket's address through the directory's descriptor (no path of
 * the host is followed); false when it does not fit. */
static bool sock_addr(int dirfd, const char *name, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	int n = snprintf(a->sun_path, sizeof(a->sun_path), "/proc/self/fd/%d/%s",
			 dirfd, name);
	return n > 0 && (size_t)n < sizeof(a->sun_path);
}

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

/* What the guest wrote: to the log, and to the attached client when it
 * takes it at once.  False at the console's end. */
static bool from_guest(struct console *c)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(c->master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false; /* EIO: no one has the console open */
		if (c->size + n > VS_CONSOLE_CAP && rotate(c) < 0)
			continue; /* the bytes are dropped, the guest goes on */
		ssize_t w = write(c->logfd, buf, (size_t)n);
		if (w > 0)
			c->size += w;
		if (c->client >= 0)
			send(c->client, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

static void drop_client(struct console *c)
{
	close(c->client);
	c->client = -1;
}

/* A new client: the one, or turned away (closed without the master). */
static void accept_client(struct console *c)
{
	int s = accept4(c->listenfd, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0)
		return;
	if (c->client >= 0 || vs_send_fd(s, c->master) < 0) {
		close(s);
		return;
	}
	c->client = s;
}

/* What the client typed goes to the guest (dropped when the guest's
 * input is full: the console is never held up). */
static void from_client(struct console *c)
{
	char buf[4096];
	ssize_t n = recv(c->client, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		drop_client(c);
		return;
	}
	ssize_t w = write(c->master, buf, (size_t)n);
	(void)w;
}

static void *drain(void *arg)
{
	struct console *c = arg;
	for (;;) {
		struct pollfd p[3] = {
			{.fd = c->master, .events = POLLIN},
			{.fd = c->listenfd, .events = POLLIN},
			{.fd = c->client, .events = POLLIN},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & POLLIN)
			accept_client(c);
		if (p[2].revents)
			from_client(c);
		if (p[0].revents && !from_guest(c))
			break;
	}
	if (c->client >= 0)
		close(c->client);
	if (c->listenfd >= 0) {
		close(c->listenfd);
		unlinkat(c->dirfd, c->sock, 0);
	}
	close(c->master);
	close(c->logfd);
	close(c->dirfd);
	free(c);
	return NULL;
}

/* The attach socket: <guest>.sock, root's alone; -1 leaves the console
 * without one (the log still works). */
static int listen_on(struct console *c)
{
	struct sockaddr_un a;
	if (!sock_addr(c->dirfd, c->sock, &a))
		return -1;
	unlinkat(c->dirfd, c->sock, 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    fchmodat(c->dirfd, c->sock, 0600, 0) < 0 || listen(s, 4) < 0) {
		close(s);
		return -1;
	}
	return s;
}

int vs_console_start(struct vs_guest *g, int master, int *slave)
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
	c->listenfd = -1;
	c->client = -1;
	snprintf(c->name, sizeof(c->name), "%s.log", g->name);
	snprintf(c->old, sizeof(c->old), "%s.log.1", g->name);
	snprintf(c->sock, sizeof(c->sock), "%s.sock", g->name);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	/* the monitor's own hold on the console: without it, an init that
	 * closes its stdio (systemd) would end the console, and a pty whose
	 * master is gone cannot be opened again (EIO) */
	*slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (*slave < 0) {
		vs_set_errno(ctx, errno, "cannot keep the console of guest '%s'",
			     g->name);
		free(c);
		return -1;
	}
	int r = -1;
	if (vs_host_mkdir_p(ctx, dir, 0700) == 0 &&
	    (c->dirfd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0)) >= 0 &&
	    rotate(c) == 0) {
		c->listenfd = listen_on(c);
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
		if (c->listenfd >= 0) {
			close(c->listenfd);
			unlinkat(c->dirfd, c->sock, 0);
		}
		if (c->dirfd >= 0)
			close(c->dirfd);
		free(c);
		close(*slave);
		*slave = -1;
	}
	free(dir);
	free(path);
	return r;
}

/* ---- vs <guest> console: the client ----------------------------------- */

/* Three ^] within a second detach (counted over what is typed). */
static bool detach_typed(const char *buf, ssize_t n, int *count,
			 struct timespec *first)
{
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] != VS_CONSOLE_DETACH) {
			*count = 0;
			continue;
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (*count == 0 || now.tv_sec - first->tv_sec > 1 ||
		    (now.tv_sec - first->tv_sec) * 1000000000L + now.tv_nsec -
				    first->tv_nsec >
			    1000000000L) {
			*count = 0;
			*first = now;
		}
		if (++*count == 3)
			return true;
	}
	return false;
}

/* Copies between our terminal and the console until detached (three ^],
 * or the end of our input) or the console's end (1). */
static int relay(int sock, int master)
{
	struct vs_term term;
	vs_term_begin(&term, master);
	/* a console gone while we write is its end, not our death */
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldpipe;
	sigaction(SIGPIPE, &ign, &oldpipe);
	int count = 0, r = 0;
	struct timespec first = {0, 0};
	for (;;) {
		struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
				      {.fd = 0, .events = POLLIN}};
		int k = poll(p, 2, -1);
		vs_term_winch(master);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		char buf[4096];
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0 && detach_typed(buf, n, &count, &first)) {
				r = 0;
				break;
			}
			if (n > 0)
				vs_write_all(sock, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				break; /* our input ended: detached */
		}
		if (p[0].revents) {
			ssize_t n = recv(sock, buf, sizeof(buf), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = 1; /* the console ended: the guest stopped */
				break;
			}
			ssize_t w = write(1, buf, (size_t)n);
			(void)w;
		}
	}
	sigaction(SIGPIPE, &oldpipe, NULL);
	vs_term_end(&term);
	return r;
}

int vs_console_attach(struct vs_guest *g)
{
	struct vs_ctx *ctx = g->ctx;
	char *path = vs_console_log_path(g);
	*strrchr(path, '/') = '\0';
	int dirfd = vs_host_open(ctx, path, O_PATH | O_DIRECTORY, 0);
	free(path);
	char sock[NAME_MAX + 1];
	snprintf(sock, sizeof(sock), "%s.sock", g->name);
	struct sockaddr_un a;
	int s = -1;
	if (dirfd >= 0 && sock_addr(dirfd, sock, &a) &&
	    (s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0 &&
	    connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		s = -1;
	}
	if (dirfd >= 0)
		close(dirfd);
	if (s < 0)
		return vs_set_error(ctx, "guest '%s' has no console to attach "
					 "to (it is not running in the "
					 "background)",
				    g->name);
	int master = vs_recv_fd(s);
	if (master < 0) {
		close(s);
		return vs_set_error(ctx, "the console of guest '%s' is "
					 "attached elsewhere",
				    g->name);
	}
	fprintf(stderr, "vs: the console of guest '%s'; ^] three times "
			"within a second detaches\r\n",
		g->name);
	int r = relay(s, master);
	close(master);
	close(s);
	fprintf(stderr, r ? "\r\nvs: the console of guest '%s' ended\n"
			  : "\r\nvs: detached from guest '%s'\n",
		g->name);
	return 0;
}
