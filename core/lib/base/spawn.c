/* Running a program on the host and waiting for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"

extern char **environ;

bool vs_wait_bounded(pid_t pid, int timeout_ms, int *status)
{
	bool killed = false;
	if (timeout_ms >= 0) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		do
			r = pfd >= 0 ? poll(&p, 1, timeout_ms) : 1;
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
		if (pfd >= 0)
			close(pfd);
	}
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return false;
	if (killed)
		errno = ETIMEDOUT;
	return !killed;
}

/* Forks; the child calls exec(arg), which returns only on failure (errno
 * set); that errno reaches the parent through a close-on-exec pipe.  With
 * a timeout the child leads a process group of its own, killed whole when
 * the time is up.  Returns the exit status, 128+signal, or -1 with errno
 * (ETIMEDOUT: killed). */
static int spawn_with(void (*exec)(const void *arg), const void *arg,
		      int timeout_ms)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		signal(SIGPIPE, SIG_DFL);
		if (timeout_ms >= 0)
			setpgid(0, 0);
		exec(arg);
		int e = errno;
		ssize_t w = write(pipefd[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	if (timeout_ms >= 0)
		setpgid(pid, pid);
	close(pipefd[1]);
	int err = 0;
	ssize_t r;
	do
		r = read(pipefd[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	int status;
	if (!vs_wait_bounded(pid, timeout_ms, &status))
		return -1;
	if (r == (ssize_t)sizeof(err)) {
		errno = err;
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

struct path_exec {
	char *const *argv, *const *envp;
	const char *cwd;
	bool newns;
};

static void exec_path(const void *arg)
{
	const struct path_exec *a = arg;
	/* a mount namespace of its own: what it mounts stays there */
	if (a->newns && (unshare(CLONE_NEWNS) < 0 ||
			 mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
		return;
	if (!a->cwd || chdir(a->cwd) == 0)
		execvpe(a->argv[0], a->argv, a->envp ? a->envp : environ);
}

int vs_spawn(char *const argv[], char *const envp[], const char *cwd)
{
	struct path_exec a = {argv, envp, cwd, false};
	return spawn_with(exec_path, &a, -1);
}

int vs_spawn_newns(char *const argv[], char *const envp[], const char *cwd)
{
	struct path_exec a = {argv, envp, cwd, true};
	return spawn_with(exec_path, &a, -1);
}

struct fd_exec {
	int exefd, cwdfd;
	char *const *argv;
};

static void exec_fd(const void *arg)
{
	const struct fd_exec *a = arg;
	/* a script's interpreter reads it through /dev/fd/N */
	int fl = fcntl(a->exefd, F_GETFD);
	if (fl >= 0)
		fcntl(a->exefd, F_SETFD, fl & ~FD_CLOEXEC);
	if (a->cwdfd < 0 || fchdir(a->cwdfd) == 0)
		fexecve(a->exefd, a->argv, environ);
}

int vs_spawn_fd(int exefd, char *const argv[], int cwdfd, int timeout_ms)
{
	struct fd_exec a = {exefd, cwdfd, argv};
	return spawn_with(exec_fd, &a, timeout_ms);
}

bool vs_find_program(const char *name, char *buf, size_t size)
{
	char tmp[PATH_MAX];
	const char *path = getenv("PATH");
	if (!buf) {
		buf = tmp;
		size = sizeof(tmp);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
	while (*path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, size, "%.*s/%s", (int)n, path, name);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

void vs_close_fds_except(const int *keep, size_t n)
{
	unsigned lo = 3;
	for (;;) {
		/* the lowest kept descriptor at or above lo */
		unsigned next = ~0U;
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= (int)lo && (unsigned)keep[i] < next)
				next = (unsigned)keep[i];
		if (next > lo)
			syscall(SYS_close_range, lo, next == ~0U ? ~0U : next - 1,
				0);
		if (next == ~0U)
			return;
		lo = next + 1;
	}
}

void vs_signals_reset(void)
{
	/* the system call itself: libc refuses the signals it keeps for its
	 * threads (32, 33), which a caller may still have ignored */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} dfl = {.handler = SIG_DFL};
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			syscall(SYS_rt_sigaction, s, &dfl, NULL,
				sizeof(dfl.mask));
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void vs_close_each(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}
