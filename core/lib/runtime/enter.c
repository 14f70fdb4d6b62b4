/* Running a command inside a running guest (exec, enter, suexec, the
 * stop command): its namespaces, its cgroup, its filter and capability
 * bounding set, a clean environment, through an intermediate process. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

/* The bounding set of a running process. */
static uint64_t proc_capbnd(pid_t pid)
{
	static const char *const key[] = {"CapBnd"};
	unsigned long long v = 0;
	vs_proc_status_masks(pid, key, &v, 1);
	return v;
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


/* ---- the attach process ---------------------------------------------
 *
 *   vs --clone3 (into the guest's cgroup2 group: a move would wait for an
 *        RCU grace period, milliseconds)--> attach process:
 *        joins the v1 cgroups, the guest's mount, uts, ipc, net, cgroup
 *        and pid namespaces (the pid one only for its children), chroots
 *        (nonamespace), opens the pty (enter, exec -t), closes every
 *        descriptor it does not need, loads the filter, drops
 *        capabilities (and switches user for suexec), and only then
 *        --clone(CLONE_VM|CLONE_VFORK)--> the command, born in the guest's
 *        pid namespace with nothing of the host: no mount, root, cwd,
 *        descriptor or capability of it.
 *   The attach process is not in the guest's pid namespace, so no guest
 *   process can see it in its /proc.  (vs itself cannot join in its place,
 *   as nsenter does, and save a process: the child it would then create
 *   in the guest's pid namespace would hold a descriptor of the cgroup2
 *   group for clone3 until it closes it, and a guest process with
 *   CAP_SYS_PTRACE, in the default set, reaches the host through it.) */

struct attach {
	struct vs_guest *g;
	const struct vs_exec_opts *o;
	struct vs_join j; /* the init, its namespaces, cgroups and root */
	int v2fd;
	struct vs_resources res; /* ulimits/, rlimits/, personality */
	uint64_t bcaps;
	void *filter;
	bool nnp;
	char *const *envp;
	int errfd;  /* an error message goes here, EOF once the command runs */
	int sockfd; /* to vs: the pty master (SCM_RIGHTS), or -1 */
	int tty;    /* the pty's slave, or -1 */
	int master; /* the pty's master until sent, or -1 */
};

/* Formats "cannot WHAT guest 'NAME' ('EXE'): strerror(errno)". */
static void attach_msg(const struct attach *a, const char *what,
		       const char *exe, char *msg, size_t size)
{
	snprintf(msg, size, "cannot %s guest '%s'%s%s%s: %s", what,
		 a->g->name, exe ? " ('" : "", exe ? exe : "", exe ? "')" : "",
		 strerror(errno));
}

/* The message to errfd, then exit 127. */
static _Noreturn void attach_fail(struct attach *a, const char *what,
				  const char *exe)
{
	char msg[600];
	attach_msg(a, what, exe, msg, sizeof(msg));
	ssize_t w = write(a->errfd, msg, strlen(msg));
	(void)w;
	_exit(127);
}

/* A pty of the guest's own devpts (we are inside its mount namespace):
 * returns the slave, *master the master (the caller's window size). */
static int open_guest_pty(int *master)
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
	if (s < 0) {
		int e = errno;
		close(m);
		errno = e;
		return -1;
	}
	/* the caller's window size before the command starts (vs forwards
	 * later changes) */
	vs_pty_copy_winsize(m);
	*master = m;
	return s;
}

/* Joins the guest: v1 cgroups, namespaces, root, pty.  NULL, or what
 * failed (errno set). */
static const char *attach_join(struct attach *a, bool born_in_v2)
{
	const char *failed = vs_join_enter(&a->j, born_in_v2);
	if (failed)
		return failed;
	if (a->o->pty && (a->tty = open_guest_pty(&a->master)) < 0)
		return "open a terminal in";
	return NULL;
}

/* Moves the descriptors to keep (-1: none) to 3, 4, ... in order
 * (close-on-exec) and closes every other one above 2. */
static void keep_only(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100 + i);
	int next = 3;
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			fds[i] = dup3(fds[i], next, O_CLOEXEC) < 0 ? -1 : next++;
	syscall(SYS_close_range, next, ~0U, 0);
}

/* The command's restrictions, in the attach process: only errfd and the
 * tty left open, the user looked up, the filter, the bounding set, the
 * user switched.  Returns the command to run and its argv; on failure
 * reports and exits. */
static const char *attach_restrict(struct attach *a, char ***argv)
{
	const struct vs_exec_opts *o = a->o;
	/* nothing of the host reaches the command: no descriptor, no
	 * ignored signal */
	vs_signals_reset();
	int keep[2] = {a->errfd, a->tty};
	keep_only(keep, 2);
	a->errfd = keep[0];
	a->tty = keep[1];
	struct vs_user u = {0};
	if (o->user && vs_guest_user(o->user, &u) < 0)
		attach_fail(a, "find the user in", o->user);
	if (vs_resources_self(&a->res) < 0)
		attach_fail(a, "set the personality of", NULL);
	struct vs_creds cr = {.no_new_privs = a->nnp,
			     .filter = a->filter,
			     .bounding = a->bcaps,
			     .set_user = o->user != NULL,
			     .uid = u.uid,
			     .gid = u.gid,
			     .groups = u.groups,
			     .ngroups = u.ngroups};
	enum vs_creds_step s;
	if (vs_creds_apply(&cr, &s) < 0) {
		char what[64];
		snprintf(what, sizeof(what), "%s in", vs_creds_what(s));
		attach_fail(a, what, s == VS_CREDS_USER ? o->user : NULL);
	}
	if (o->user) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by setuid */
		if (u.home[0] && chdir(u.home) < 0 && chdir("/") < 0)
			attach_fail(a, "enter the root of", NULL);
	}
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
	*argv = av;
	return exe;
}

/* The command's own last steps: its terminal, no descriptor above 2,
 * execve.  Returns the errno of a failure. */
static int run_command(const char *exe, char *const *argv,
		       char *const *envp, int tty)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (tty >= 0) {
		setsid();
		if (ioctl(tty, TIOCSCTTY, 0) < 0 || dup2(tty, 0) < 0 ||
		    dup2(tty, 1) < 0 || dup2(tty, 2) < 0)
			return errno;
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	if (strchr(exe, '/'))
		execve(exe, argv, envp);
	else
		execvpe(exe, argv, envp);
	return errno;
}

/* What the command's vfork child needs; shared with the attach process
 * (CLONE_VM) until it execs. */
struct final {
	const char *exe;
	char *const *argv, *const *envp;
	int tty;
	int err; /* errno of a failed exec */
};

static int final_main(void *arg)
{
	struct final *f = arg;
	f->err = run_command(f->exe, f->argv, f->envp, f->tty);
	_exit(127);
}

static _Noreturn void attach_main(struct attach *a, bool born_in_v2)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* badness (our /proc is the host's until we join) */
	if (a->res.have_oom && vs_oom_write(0, a->res.oom_score_adj) < 0)
		attach_fail(a, "set the OOM badness in", NULL);
	/* the limits while the host's CAP_SYS_RESOURCE counts: in the
	 * guest's user namespace a hard limit is never raised */
	int bad;
	if (vs_rlimits_set(0, a->res.rlim, &bad) < 0)
		attach_fail(a, "set the resource limits of", NULL);
	const char *failed = attach_join(a, born_in_v2);
	if (failed)
		attach_fail(a, failed, NULL);
	if (a->master >= 0) {
		if (vs_send_fd(a->sockfd, a->master) < 0)
			attach_fail(a, "open a terminal in", NULL);
		close(a->master);
	}
	char **av;
	const char *exe = attach_restrict(a, &av);
	struct final f = {.exe = exe, .argv = av, .envp = a->envp,
			  .tty = a->tty};
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
	if (a->tty >= 0)
		close(a->tty);
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
	if (vs_join_open(&a->j, rs->init, rs->init_start) < 0)
		return vs_set_error(ctx, "guest '%s' is not running", g->name);
	a->bcaps = proc_capbnd(rs->init);
	if (vs_seccomp_prepare(g, a->bcaps, false, &a->filter, &a->nnp) < 0) {
		vs_join_close(&a->j);
		return -1;
	}
	if (vs_resources_load(g, &a->res, false) < 0) {
		vs_seccomp_free(a->filter);
		vs_join_close(&a->j);
		return -1;
	}
	vs_cgroup_of(g, rs, &a->j.cg);
	vs_cgroup_use_leaf(&a->j.cg, rs->init);
	if (rs->nonamespace && g->root)
		vs_host_real(ctx, g->root, a->j.root, sizeof(a->j.root));
	return 0;
}

static void attach_free(struct attach *a)
{
	vs_join_close(&a->j);
	vs_cgroup_free(&a->j.cg);
	vs_seccomp_free(a->filter);
}

static int open_v2(const struct attach *a)
{
	return a->j.cg.v2 ? open(a->j.cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			: -1;
}

/* Waits for the command's end (the message of a failure first, the pty
 * relayed meanwhile) and sets *status, or the error. */
static int collect(struct vs_ctx *ctx, const struct vs_exec_opts *o,
		   pid_t pid, int pidfd, int errfd, int master, int *status)
{
	char msg[1024];
	ssize_t n;
	do
		n = read(errfd, msg, sizeof(msg) - 1);
	while (n < 0 && errno == EINTR);
	if (n <= 0 && master >= 0)
		vs_pty_relay(master, pidfd);
	int st = 0;
	/* killed at the timeout: its status says so (128 + 9) */
	bool ok = vs_wait_bounded(pid, o->timeout_ms, &st) ||
		  errno == ETIMEDOUT;
	if (n > 0) {
		msg[n] = '\0';
		return vs_set_error(ctx, "%s", msg);
	}
	if (!ok)
		return vs_set_errno(ctx, errno, "cannot wait for the command");
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}

/* An attach process joins the guest; vs stays outside. */
static int exec_through(struct attach *a, int *status)
{
	struct vs_ctx *ctx = a->g->ctx;
	const struct vs_exec_opts *o = a->o;
	int errpipe[2], sock[2] = {-1, -1};
	if (pipe2(errpipe, O_CLOEXEC) < 0 ||
	    (o->pty &&
	     socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0))
		return vs_set_errno(ctx, errno, "cannot create a pipe");
	int pidfd = -1;
	bool born_in_v2;
	a->v2fd = open_v2(a);
	struct clone_args ca = {.flags = CLONE_PIDFD,
				.pidfd = (uint64_t)(uintptr_t)&pidfd,
				.exit_signal = SIGCHLD};
	pid_t pid = vs_clone_into(&ca, a->v2fd, NULL, NULL, &born_in_v2);
	if (pid == 0) {
		close(errpipe[0]);
		if (sock[0] >= 0)
			close(sock[0]);
		a->errfd = errpipe[1];
		a->sockfd = sock[1];
		attach_main(a, born_in_v2);
	}
	int e = errno;
	close(errpipe[1]);
	if (sock[1] >= 0)
		close(sock[1]);
	if (a->v2fd >= 0)
		close(a->v2fd);
	int r = 0, master = -1;
	if (pid < 0) {
		r = vs_set_errno(ctx, e, "cannot fork");
	} else {
		if (sock[0] >= 0)
			master = vs_recv_fd(sock[0]);
		r = collect(ctx, o, pid, pidfd, errpipe[0], master, status);
	}
	if (master >= 0)
		close(master); /* what the guest left behind gets a hangup */
	if (pidfd >= 0)
		close(pidfd);
	if (sock[0] >= 0)
		close(sock[0]);
	close(errpipe[0]);
	return r;
}

struct shared_start {
	struct attach *a;
	bool born_in_v2;
};

static int shared_main(void *arg)
{
	struct shared_start *v = arg;
	attach_main(v->a, v->born_in_v2);
}

/* The attach process shares vs's memory (CLONE_VM) and vs waits while it
 * lives (CLONE_VFORK): nothing of vs is copied, as with a thread, and it
 * is still born in the cgroup2 group.  Only when vs has nothing to do
 * meanwhile (no pty to relay, no timeout).  *unsupported when the machine
 * has no such clone (the caller forks instead). */
static int exec_shared(struct attach *a, int *status, bool *unsupported)
{
	struct vs_ctx *ctx = a->g->ctx;
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return vs_set_errno(ctx, errno, "cannot create a pipe");
	size_t stack_size = 256 * 1024;
	char *stack = vs_xmalloc(stack_size);
	char **saved_environ = environ; /* the attach process sets it */
	a->v2fd = open_v2(a);
	a->errfd = errpipe[1];
	struct shared_start v = {.a = a};
	struct clone_args ca = {.flags = CLONE_VM | CLONE_VFORK,
				.exit_signal = SIGCHLD,
				.stack = (uint64_t)(uintptr_t)stack,
				.stack_size = stack_size};
	pid_t pid = vs_clone_into(&ca, a->v2fd, shared_main, &v, &v.born_in_v2);
	/* the attach process has ended or exec'd nothing: it is gone or
	 * waiting no more (CLONE_VFORK); what it changed of ours goes */
	int e = errno;
	environ = saved_environ;
	close(errpipe[1]);
	if (a->v2fd >= 0)
		close(a->v2fd);
	int r;
	if (pid < 0) {
		*unsupported = e == ENOSYS;
		r = *unsupported ? -1 : vs_set_errno(ctx, e, "cannot fork");
	} else {
		r = collect(ctx, a->o, pid, -1, errpipe[0], -1, status);
	}
	close(errpipe[0]);
	free(stack);
	return r;
}

int vs_guest_exec(struct vs_guest *g, const struct vs_runstate *rs,
		  const struct vs_exec_opts *o, int *status)
{
	struct attach a = {.o = o, .errfd = -1, .sockfd = -1, .tty = -1,
			   .master = -1, .v2fd = -1,
			   .j = {.initfd = -1, .timefd = -1}};
	if (attach_prepare(&a, g, rs) < 0)
		return -1;
	char **env = o->env ? NULL : vs_guest_env(g);
	a.envp = o->env ? o->env : env;
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(stdout);
	fflush(stderr);
	bool unsupported = false;
	int r = -1;
	/* joining a time namespace needs a process of its own memory */
	bool shared = !o->pty && o->timeout_ms < 0 && a.j.timefd < 0;
	if (shared)
		r = exec_shared(&a, status, &unsupported);
	if (!shared || unsupported)
		r = exec_through(&a, status);
	attach_free(&a);
	vs_strv_free(env);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return r;
}
