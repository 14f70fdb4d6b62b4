/* Running a program on the host and waiting for it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

extern char **environ;

int vs_spawn(char *const argv[], char *const envp[], const char *cwd)
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
		if (!cwd || chdir(cwd) == 0)
			execvpe(argv[0], argv, envp ? envp : environ);
		int e = errno;
		ssize_t w = write(pipefd[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(pipefd[1]);
	int err = 0;
	ssize_t r;
	do
		r = read(pipefd[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (r == (ssize_t)sizeof(err)) {
		errno = err;
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int vs_spawn_fd(int exefd, char *const argv[], int cwdfd)
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
		/* a script's interpreter reads it through /dev/fd/N */
		int fl = fcntl(exefd, F_GETFD);
		if (fl >= 0)
			fcntl(exefd, F_SETFD, fl & ~FD_CLOEXEC);
		if (cwdfd < 0 || fchdir(cwdfd) == 0)
			fexecve(exefd, argv, environ);
		int e = errno;
		ssize_t w = write(pipefd[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(pipefd[1]);
	int err = 0;
	ssize_t r;
	do
		r = read(pipefd[0], &err, sizeof(err));
	while (r < 0 && errno == EINTR);
	close(pipefd[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (r == (ssize_t)sizeof(err)) {
		errno = err;
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
