/* The host side of a guest's terminal (enter, exec -t): vs holds the
 * master of a pty allocated from the guest's own devpts and copies bytes
 * between it and its own stdin/stdout, so no guest process ever holds the
 * admin's terminal (no TIOCSTI into it, no handle on it afterwards). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/runtime.h"

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

void vs_pty_copy_winsize(int master)
{
	struct winsize ws;
	for (int fd = 0; fd <= 2; fd++)
		if (ioctl(fd, TIOCGWINSZ, &ws) == 0) {
			ioctl(master, TIOCSWINSZ, &ws);
			return;
		}
}

/* Copies what the master has (one read with once); false at its end
 * (EIO: no slave left). */
static bool drain(int master, bool once)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0)
			return false;
		vs_write_all(1, buf, (size_t)n);
		if (once)
			return true;
	}
}

/* Our input ended: a piped one becomes an end-of-file for a reader of
 * the guest's terminal in canonical mode (its own EOF character); a
 * terminal of ours that hung up sends nothing. */
static void end_of_input(int master, bool tty)
{
	struct termios t;
	if (!tty && tcgetattr(master, &t) == 0 && (t.c_lflag & ICANON)) {
		char eof = (char)t.c_cc[VEOF];
		vs_write_all(master, &eof, 1);
	}
}

void vs_term_begin(struct vs_term *t, int master)
{
	t->tty = tcgetattr(0, &t->saved) == 0;
	if (t->tty) {
		struct termios raw = t->saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	struct sigaction sa = {.sa_handler = on_winch};
	sigaction(SIGWINCH, &sa, &t->old_winch);
	vs_pty_copy_winsize(master);
}

void vs_term_winch(int master)
{
	if (winch) {
		winch = 0;
		vs_pty_copy_winsize(master);
	}
}

void vs_term_end(struct vs_term *t)
{
	sigaction(SIGWINCH, &t->old_winch, NULL);
	if (t->tty)
		tcsetattr(0, TCSANOW, &t->saved);
}

void vs_pty_relay(int master, int pidfd)
{
	struct vs_term term;
	vs_term_begin(&term, master);
	bool tty = term.tty;
	struct sigaction ign = {.sa_handler = SIG_IGN}, oldpipe;
	sigaction(SIGPIPE, &ign, &oldpipe);
	fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
	bool in_open = true, out_open = true;
	for (;;) {
		struct pollfd p[3] = {
			{.fd = pidfd, .events = POLLIN},
			{.fd = out_open ? master : -1, .events = POLLIN},
			{.fd = in_open ? 0 : -1, .events = POLLIN},
		};
		int r = poll(p, 3, -1);
		vs_term_winch(master);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			out_open = drain(master, true);
		if (p[2].revents) {
			char buf[4096];
			ssize_t n = read(0, buf, sizeof(buf));
			if (n > 0) {
				vs_write_all(master, buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				in_open = false;
				end_of_input(master, tty);
			}
		}
		if (p[0].revents)
			break; /* the command has ended */
	}
	/* what the command wrote last may still be on its way through the
	 * line discipline: read until the end of the slave (every guest
	 * holder closed it), or until a process it left behind keeps it
	 * open and quiet for a moment */
	while (out_open) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		int r = poll(&p, 1, 200);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		out_open = drain(master, false);
	}
	sigaction(SIGPIPE, &oldpipe, NULL);
	vs_term_end(&term);
}
