/* Running a command inside a running guest (exec, enter, suexec, the
 * stop command): its namespaces, its cgroup, its filter and capability
 * bounding set, a clean environment, through an intermediate process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

int vs_pidfd_open(pid_t pid, unsigned long long start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/* the pid may have been reused between reading it and opening it */
	if (vs_proc_starttime(pid) != start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* The bounding set of a running process. */
static uint64_t proc_capbnd(pid_t pid)
{
	static const char *const key[] = {"CapBnd"};
	unsigned long long v = 0;
	vs_proc_status_masks(pid, key, &v, 1);
	return v;
}

/* The namespaces of pid that differ from ours, as CLONE_NEW* flags. */
static int ns_flags(pid_t pid)
{
	static const struct {
		const char *name;
		int flag;
	} ns[] = {
		{"mnt", CLONE_NEWNS},	  {"uts", CLONE_NEWUTS},
		{"ipc", CLONE_NEWIPC},	  {"net", CLONE_NEWNET},
		{"cgroup", CLONE_NEWCGROUP}, {"user", CLONE_NEWUSER},
	};
	int flags = 0;
	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		snprintf(a, sizeof(a), "/proc/self/ns/%s", ns[i].name);
		snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, ns[i].name);
		if (stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
		    (sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev))
			flags |= ns[i].flag;
	}
	return flags;
}

char **vs_guest_env(struct vs_guest *g)
{
	char path[PATH_MAX];
	int kind = vs_guest_cfg_find(g, "apps/init/environment", "environment",
				     path, sizeof(path));
	char *s = NULL;
	if (kind == 1) {
		s = vs_host_read(g->ctx, path, 1 << 20, NULL);
	} else if (kind == 2) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		s = fd >= 0 ? vs_read_fd(fd, 1 << 20, NULL) : NULL;
		if (fd >= 0)
			close(fd);
	}
	size_t n = 0;
	char **env = vs_xmalloc(((s ? strlen(s) : 0) / 2 + 4) * sizeof(*env));
	char *save = NULL;
	for (char *l = s ? strtok_r(s, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		if (l[0] != '#' && strchr(l, '='))
			env[n++] = vs_strdup(l);
	if (!s)
		env[n++] = vs_strdup("PATH=/bin:/usr/bin:/sbin:/usr/sbin");
	env[n] = NULL;
	free(s);
	return env;
}


/* ---- the intermediate process ----------------------------------------
 *
 *   vs --clone3 (into the guest's cgroup2 group)--> attach process:
 *        joins the v1 cgroups, the guest's mount, uts, ipc, net, cgroup
 *        and pid namespaces (the pid one only for its children), chroots
 *        (nonamespace), opens the pty (enter, exec -t), loads the filter,
 *        drops capabilities (and switches user for suexec), closes every
 *        descriptor it does not need, and only then
 *        --clone(CLONE_VM|CLONE_VFORK)--> the command, born in the guest's
 *        pid namespace with nothing of the host: no mount, root, cwd,
 *        descriptor or capability of it.
 *   The attach process is not in the guest's pid namespace, so no guest
 *   process can see it in its /proc. */

struct attach {
	struct vs_guest *g;
	const struct vs_exec_opts *o;
	int initfd, nsflags, v2fd;
	uint64_t bcaps;
	void *filter;
	bool nnp;
	char root[PATH_MAX]; /* nonamespace: chroot here */
	struct vs_cgroup cg;
	char *const *envp;
	int errfd;  /* to vs: an error message, EOF once the command runs */
	int sockfd; /* to vs: the pty master (SCM_RIGHTS), or -1 */
};

/* What the command's child needs; shared with the attach process
 * (CLONE_VM) until it execs. */
struct final {
	const char *exe;
	char *const *argv, *const *envp;
	int tty; /* the pty's slave, or -1 */
	int err; /* errno of a failed exec */
};

static int final_main(void *arg)
{
	struct final *f = arg;
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (f->tty >= 0) {
		setsid();
		if (ioctl(f->tty, TIOCSCTTY, 0) < 0 || dup2(f->tty, 0) < 0 ||
		    dup2(f->tty, 1) < 0 || dup2(f->tty, 2) < 0) {
			f->err = errno;
			_exit(127);
		}
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	if (strchr(f->exe, '/'))
		execve(f->exe, f->argv, f->envp);
	else
		execvpe(f->exe, f->argv, f->envp);
	f->err = errno;
	_exit(127);
}

/* A pty of the guest's own devpts (we are inside its mount namespace):
 * the master goes to vs, the slave is returned. */
static int open_guest_pty(int sock)
{
	int m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW |
					      O_CLOEXEC | O_NONBLOCK);
	struct statfs sf;
	if (m < 0)
		return -1;
	if (fstatfs(m, &sf) < 0 || sf.f_type != DEVPTS_SUPER_MAGIC) {
		close(m);
		errno = ENOTTY;
		return -1;
	}
	int fl = fcntl(m, F_GETFL);
	fcntl(m, F_SETFL, fl & ~O_NONBLOCK);
	int unlock = 0, s = -1;
	if (ioctl(m, TIOCSPTLCK, &unlock) == 0)
		s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	/* the caller's window size before the command starts (vs forwards
	 * later changes) */
	if (s >= 0)
		vs_pty_copy_winsize(m);
	if (s >= 0 && vs_send_fd(sock, m) < 0) {
		close(s);
		s = -1;
	}
	int e = errno;
	close(m);
	errno = e;
	return s;
}

/* Moves the descriptors to keep to 3, 4, ... (close-on-exec) and closes
 * every other one above 2. */
static void keep_only(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100 + i);
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			fds[i] = dup3(fds[i], 3 + i, O_CLOEXEC) < 0 ? -1
								     : 3 + i;
	syscall(SYS_close_range, 3 + n, ~0U, 0);
}

static _Noreturn void attach_fail(struct attach *a, const char *what,
				  const char *exe)
{
	char msg[600];
	int e = errno;
	snprintf(msg, sizeof(msg), "cannot %s guest '%s'%s%s%s: %s", what,
		 a->g->name, exe ? " ('" : "", exe ? exe : "", exe ? "')" : "",
		 strerror(e));
	ssize_t w = write(a->errfd, msg, strlen(msg));
	(void)w;
	_exit(127);
}

static _Noreturn void attach_main(struct attach *a, bool born_in_v2)
{
	const struct vs_exec_opts *o = a->o;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (vs_cgroup_attach(&a->cg, 0, born_in_v2) < 0 && a->cg.n)
		attach_fail(a, "join the cgroup of", NULL);
	if (setns(a->initfd, a->nsflags | CLONE_NEWPID) < 0)
		attach_fail(a, "enter the namespaces of", NULL);
	if ((a->nsflags & CLONE_NEWUSER) && vs_userns_become_root() < 0)
		attach_fail(a, "become root of the user namespace of", NULL);
	if (a->root[0] && chroot(a->root) < 0)
		attach_fail(a, "enter the root of", NULL);
	if (chdir("/") < 0)
		attach_fail(a, "enter the root of", NULL);
	int tty = -1;
	if (a->sockfd >= 0) {
		tty = open_guest_pty(a->sockfd);
		if (tty < 0)
			attach_fail(a, "open a terminal in", NULL);
	}
	struct vs_user u = {0};
	if (o->user && vs_guest_user(o->user, &u) < 0)
		attach_fail(a, "find the user in", o->user);
	if (a->nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		attach_fail(a, "set no_new_privs in", NULL);
	if (vs_seccomp_load(a->filter) < 0)
		attach_fail(a, "load the system call filter of", NULL);
	if (vs_caps_limit(a->bcaps) < 0)
		attach_fail(a, "limit the capabilities in", NULL);
	if (o->user) {
		if (setgroups(u.ngroups, u.groups) < 0 || setgid(u.gid) < 0 ||
		    setuid(u.uid) < 0)
			attach_fail(a, "switch to the user in", o->user);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by setuid */
		if (u.home[0] && chdir(u.home) < 0 && chdir("/") < 0)
			attach_fail(a, "enter the root of", NULL);
	}
	int keep[2] = {a->errfd, tty};
	keep_only(keep, 2);
	a->errfd = keep[0];
	tty = keep[1];
	/* the first candidate that exists inside the guest */
	const char *exe = o->argv[0];
	for (const char *const *c = o->candidates; c && *c; c++)
		if (access(*c, X_OK) == 0) {
			exe = *c;
			break;
		}
	if (!exe) {
		errno = ENOENT;
		attach_fail(a, "find a command in", NULL);
	}
	char **av = (char **)o->argv;
	if (!av[0]) { /* argv[0] from the chosen candidate */
		size_t k = 1;
		while (av[k])
			k++;
		av = vs_xmalloc((k + 1) * sizeof(*av));
		memcpy(av, o->argv, (k + 1) * sizeof(*av));
		av[0] = (char *)exe;
	}
	/* execvpe searches the PATH of our environment: the guest's */
	environ = (char **)a->envp;
	struct final f = {.exe = exe, .argv = av, .envp = a->envp,
			  .tty = tty};
	size_t stack_size = 64 * 1024;
	char *stack = vs_xmalloc(stack_size);
	pid_t pid = clone(final_main, stack + stack_size,
			  CLONE_VM | CLONE_VFORK | SIGCHLD, &f);
	if (pid < 0)
		attach_fail(a, "run the command in", exe);
	if (f.err) {
		errno = f.err;
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		errno = f.err;
		attach_fail(a, "run the command in", exe);
	}
	close(a->errfd);
	if (tty >= 0)
		close(tty);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

/* ---- in vs ------------------------------------------------------------ */

static int attach_prepare(struct attach *a, struct vs_guest *g,
			  const struct vs_runstate *rs)
{
	struct vs_ctx *ctx = g->ctx;
	a->g = g;
	a->initfd = vs_pidfd_open(rs->init, rs->init_start);
	if (a->initfd < 0)
		return vs_set_error(ctx, "guest '%s' is not running", g->name);
	a->bcaps = proc_capbnd(rs->init);
	a->nsflags = ns_flags(rs->init);
	if (vs_seccomp_prepare(g, a->bcaps, false, &a->filter) < 0) {
		close(a->initfd);
		return -1;
	}
	a->nnp = vs_guest_flag_or(g, "apps/seccomp/no-new-privs", NULL);
	vs_cgroup_locate(g, &a->cg);
	if (rs->nonamespace && g->root)
		vs_host_real(ctx, g->root, a->root, sizeof(a->root));
	return 0;
}

static void attach_free(struct attach *a)
{
	if (a->initfd >= 0)
		close(a->initfd);
	vs_cgroup_free(&a->cg);
	vs_seccomp_free(a->filter);
}

int vs_guest_exec(struct vs_guest *g, const struct vs_runstate *rs,
		  const struct vs_exec_opts *o, int *status)
{
	struct vs_ctx *ctx = g->ctx;
	struct attach a = {.o = o, .errfd = -1, .sockfd = -1};
	if (attach_prepare(&a, g, rs) < 0)
		return -1;
	char **env = o->env ? NULL : vs_guest_env(g);
	a.envp = o->env ? o->env : env;
	int errpipe[2], sock[2] = {-1, -1};
	if (pipe2(errpipe, O_CLOEXEC) < 0 ||
	    (o->pty &&
	     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0)) {
		attach_free(&a);
		vs_strv_free(env);
		return vs_set_errno(ctx, errno, "cannot create a pipe");
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(stdout);
	fflush(stderr);
	/* born in the guest's cgroup2 group when there is one: a move would
	 * wait for an RCU grace period */
	a.v2fd = a.cg.v2 ? open(a.cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			 : -1;
	int pidfd = -1;
	struct clone_args ca = {
		.flags = CLONE_PIDFD | (a.v2fd >= 0 ? CLONE_INTO_CGROUP : 0),
		.pidfd = (uint64_t)(uintptr_t)&pidfd,
		.exit_signal = SIGCHLD,
		.cgroup = a.v2fd >= 0 ? (uint64_t)a.v2fd : 0,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && a.v2fd >= 0) {
		close(a.v2fd);
		a.v2fd = -1;
		ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		ca.cgroup = 0;
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	}
	if (pid == 0) {
		close(errpipe[0]);
		if (sock[0] >= 0)
			close(sock[0]);
		a.errfd = errpipe[1];
		a.sockfd = sock[1];
		attach_main(&a, a.v2fd >= 0);
	}
	int fork_errno = errno;
	close(errpipe[1]);
	if (sock[1] >= 0)
		close(sock[1]);
	if (a.v2fd >= 0)
		close(a.v2fd);
	attach_free(&a);
	vs_strv_free(env);
	int r = 0, master = -1;
	if (pid < 0) {
		r = vs_set_errno(ctx, fork_errno, "cannot fork");
	} else {
		if (sock[0] >= 0)
			master = vs_recv_fd(sock[0]);
		char msg[1024];
		ssize_t n;
		do
			n = read(errpipe[0], msg, sizeof(msg) - 1);
		while (n < 0 && errno == EINTR);
		if (n <= 0 && master >= 0)
			vs_pty_relay(master, pidfd);
		int st = 0;
		/* killed at the timeout: its status says so (128 + 9) */
		bool ok = vs_wait_bounded(pid, o->timeout_ms, &st) ||
			  errno == ETIMEDOUT;
		if (n > 0) {
			msg[n] = '\0';
			r = vs_set_error(ctx, "%s", msg);
		} else if (!ok) {
			r = vs_set_errno(ctx, errno, "cannot wait for the command");
		} else {
			*status = WIFEXITED(st) ? WEXITSTATUS(st)
						: 128 + WTERMSIG(st);
		}
	}
	if (master >= 0)
		close(master); /* what the guest left behind gets a hangup */
	if (pidfd >= 0)
		close(pidfd);
	if (sock[0] >= 0)
		close(sock[0]);
	close(errpipe[0]);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return r;
}
