/* How a guest's init and an OCI container's process come to be: one
 * handshake for both.
 *
 *   parent --clone3 (born in the cgroup2 group)--> child: l->child()
 *   parent: l->cloned(), moves it into the v1 groups, l->host(), then
 *           writes its host pid on "go"; reads "err": a message there is
 *           the child's failure; EOF (its exec), or with ready_byte a
 *           '\1', is success.
 *
 * Namespaces given by path: pid, time and mount are joined by the parent
 * around the clone (its own returned to at once), a user namespace by the
 * child, which makes the new namespaces there and forks the real child
 * (two stages: they belong to the joined user namespace). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

static const int join_types[VS_JOIN_N] = {CLONE_NEWPID, CLONE_NEWTIME,
					  CLONE_NEWNS, CLONE_NEWUSER};
static const char *const join_names[VS_JOIN_N] = {"pid", "time", "mount",
						  "user"};

_Noreturn void vs_launch_fail(struct vs_ctx *ctx, int err)
{
	const char *m = vs_error(ctx);
	if (!m[0])
		m = "the init failed";
	vs_write_all(err, m, strlen(m));
	_exit(127);
}

bool vs_launch_wait(int go, pid_t *hostpid)
{
	pid_t p = 0;
	ssize_t n;
	while ((n = read(go, &p, sizeof(p))) < 0 && errno == EINTR)
		;
	if (hostpid)
		*hostpid = p;
	return n == sizeof(p);
}

/* Back to the parent's own pid, time and mount namespaces (back[], with
 * back[VS_JOIN_N] the working directory a mount namespace's join
 * resets). */
static void unjoin(int back[VS_JOIN_N + 1])
{
	for (int i = 0; i < VS_JOIN_USER; i++)
		if (back[i] >= 0) {
			setns(back[i], join_types[i]);
			close(back[i]);
			back[i] = -1;
		}
	if (back[VS_JOIN_N] >= 0) {
		/* (it was there a moment ago: a failure leaves us at /) */
		int r = fchdir(back[VS_JOIN_N]);
		(void)r;
		close(back[VS_JOIN_N]);
		back[VS_JOIN_N] = -1;
	}
}

/* The pid, time and mount namespaces given by path become those of our
 * next child; 0, or -1 with the error set (and back already returned
 * to). */
static int join_for_child(struct vs_ctx *ctx, const struct vs_launch *l,
			  int back[VS_JOIN_N + 1])
{
	static const char *const own[VS_JOIN_USER] = {
		"/proc/self/ns/pid", "/proc/self/ns/time", "/proc/self/ns/mnt"};
	for (int i = 0; i < VS_JOIN_USER; i++) {
		if (l->join[i] < 0)
			continue;
		if (i == VS_JOIN_MNT &&
		    (back[VS_JOIN_N] = open(".", O_PATH | O_DIRECTORY |
							 O_CLOEXEC)) < 0)
			back[VS_JOIN_N] = open("/", O_PATH | O_DIRECTORY |
							O_CLOEXEC);
		back[i] = open(own[i], O_RDONLY | O_CLOEXEC);
		if (back[i] < 0 || setns(l->join[i], join_types[i]) < 0) {
			vs_set_errno(ctx, errno, "cannot join the %s namespace "
						 "'%s'",
				     join_names[i], l->join_path[i]);
			unjoin(back);
			return -1;
		}
	}
	return 0;
}

/* The first stage of a child that joins a user namespace given by path:
 * it joins it, makes the new namespaces there, and forks the real child,
 * whose pid it writes to relay before it exits.  Returns in that child
 * only. */
static void stage1(struct vs_ctx *ctx, const struct vs_launch *l, int err,
		   int relay[2])
{
	close(relay[0]);
	if (setns(l->join[VS_JOIN_USER], CLONE_NEWUSER) < 0) {
		vs_set_errno(ctx, errno, "cannot join the user namespace '%s'",
			     l->join_path[VS_JOIN_USER]);
		vs_launch_fail(ctx, err);
	}
	int fl = (int)(l->flags & ~(uint64_t)(CLONE_NEWCGROUP | CLONE_NEWTIME));
	if (fl && unshare(fl) < 0) {
		vs_set_errno(ctx, errno, "cannot create the namespaces of %s "
					 "in '%s'",
			     l->what, l->join_path[VS_JOIN_USER]);
		vs_launch_fail(ctx, err);
	}
	pid_t p = fork();
	if (p == 0) {
		close(relay[1]);
		return;
	}
	if (p < 0) {
		vs_set_errno(ctx, errno, "cannot fork");
		vs_launch_fail(ctx, err);
	}
	vs_write_all(relay[1], &p, sizeof(p));
	_exit(0);
}

/* The real child's pid from stage1 (pid, the first stage, is reaped), or
 * -1 with the error the stage gave. */
static pid_t stage2_pid(struct vs_ctx *ctx, const struct vs_launch *l,
			pid_t pid, int relay, int err)
{
	pid_t g = -1;
	ssize_t n;
	while ((n = read(relay, &g, sizeof(g))) < 0 && errno == EINTR)
		;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n == sizeof(g) && g > 0)
		return g;
	char msg[sizeof(ctx->err)];
	if (vs_read_msg(err, msg, sizeof(msg)))
		vs_set_error(ctx, "%s", msg);
	else
		vs_set_error(ctx, "the init of %s died while it was set up",
			     l->what);
	return -1;
}

/* The clone, in the namespaces to join; the child never returns.  The
 * child's pid (after both stages), or -1 with the error set. */
static pid_t spawn(struct vs_ctx *ctx, struct vs_launch *l, int go[2],
		   int err[2], bool *born_in_v2)
{
	int relay[2] = {-1, -1};
	bool userjoin = l->join[VS_JOIN_USER] >= 0;
	if (userjoin && pipe2(relay, O_CLOEXEC) < 0) {
		int e = errno;
		if (l->cloned) /* (no clone: none made) */
			l->cloned(l->arg);
		close(go[0]);
		close(err[1]);
		return vs_set_errno(ctx, e, "cannot create a pipe");
	}
	const struct vs_cgroup *cg = l->cg;
	int v2fd = cg && cg->v2 ? open(cg->v2, O_RDONLY | O_DIRECTORY |
						     O_CLOEXEC)
				: -1;
	/* the cgroup and time namespaces are the child's to make (the
	 * first in its group, the second before its exec); joining a user
	 * namespace, the others are made there */
	uint64_t made = userjoin ? 0
				 : l->flags & ~(uint64_t)(CLONE_NEWCGROUP |
							  CLONE_NEWTIME);
	struct clone_args ca = {.flags = made | CLONE_PIDFD,
				.pidfd = (uint64_t)(uintptr_t)&l->pidfd,
				.exit_signal = SIGCHLD};
	fflush(stdout);
	fflush(stderr);
	int back[VS_JOIN_N + 1] = {-1, -1, -1, -1, -1};
	pid_t pid = -1;
	bool joined = join_for_child(ctx, l, back) == 0;
	if (joined)
		pid = vs_clone_into(&ca, v2fd, NULL, NULL, born_in_v2);
	if (pid == 0) {
		close(go[1]);
		close(err[0]);
		if (userjoin)
			stage1(ctx, l, err[1], relay);
		l->child(l->arg, go[0], err[1]);
		_exit(127); /* (it does not return) */
	}
	int e = errno;
	unjoin(back);
	if (v2fd >= 0)
		close(v2fd);
	if (l->cloned)
		l->cloned(l->arg);
	int theirs[] = {go[0], err[1], relay[1]};
	vs_close_each(theirs, 3);
	go[0] = err[1] = -1;
	if (pid < 0 && joined)
		vs_set_errno(ctx, e, "cannot create the namespaces of %s",
			     l->what);
	if (pid > 0 && userjoin &&
	    (pid = stage2_pid(ctx, l, pid, relay[0], err[0])) < 0 &&
	    l->pidfd >= 0) {
		close(l->pidfd); /* the first stage's */
		l->pidfd = -1;
	}
	if (pid > 0 && userjoin && l->pidfd >= 0) {
		close(l->pidfd);
		l->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	}
	if (relay[0] >= 0)
		close(relay[0]);
	return pid;
}

int vs_launch(struct vs_ctx *ctx, struct vs_launch *l)
{
	l->pid = -1;
	l->pidfd = -1;
	int go[2] = {-1, -1}, err[2] = {-1, -1};
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;
		int fds[] = {go[0], go[1]};
		vs_close_each(fds, 2);
		if (l->cloned)
			l->cloned(l->arg);
		return vs_set_errno(ctx, e, "cannot create a pipe");
	}
	bool born_in_v2 = false;
	pid_t pid = spawn(ctx, l, go, err, &born_in_v2);
	if (pid < 0) {
		close(go[1]);
		close(err[0]);
		return -1;
	}
	int r = 0;
	/* the child may already have failed: its error is the one to tell,
	 * and a write to its pipe must not kill us */
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	if (l->cg && vs_cgroup_attach(l->cg, pid, born_in_v2) < 0)
		r = vs_set_errno(ctx, errno, "cannot move the init of %s into "
					     "its cgroup",
				 l->what);
	if (r == 0 && l->host && l->host(l->arg, pid, l->pidfd) < 0)
		r = -1;
	if (r == 0 && write(go[1], &pid, sizeof(pid)) != sizeof(pid))
		r = vs_set_errno(ctx, errno, "cannot start the init of %s",
				 l->what);
	close(go[1]);
	sigaction(SIGPIPE, &old, NULL);
	if (r < 0)
		kill(pid, SIGKILL); /* unblocks the error pipe */
	char msg[sizeof(ctx->err)];
	size_t n = vs_read_msg(err[0], msg, sizeof(msg));
	close(err[0]);
	if (n && msg[0] != '\1')
		r = vs_set_error(ctx, "%s", msg);
	else if (r == 0 && l->ready_byte && n == 0)
		r = vs_set_error(ctx, "the init of %s died while it was set up",
				 l->what);
	l->pid = pid;
	if (r < 0)
		vs_launch_abort(l);
	return r;
}

void vs_launch_abort(struct vs_launch *l)
{
	if (l->pid > 0) {
		kill(l->pid, SIGKILL);
		while (waitpid(l->pid, NULL, 0) < 0 && errno == EINTR)
			;
		l->pid = -1;
	}
	if (l->pidfd >= 0) {
		close(l->pidfd);
		l->pidfd = -1;
	}
}
