/* Starting a guest: the per-guest monitor on the host and the guest's
 * init in new mount, pid, uts, ipc (and net, cgroup) namespaces.
 *
 *   vs start --fork--> monitor (setsid, stays on the host)
 *                        --clone3--> init: waits for "go", unshares the
 *                                    cgroup ns, mounts, pivot_root, drops
 *                                    capabilities, execs the init command
 *   The monitor moves the new init into the guest's cgroups, says "go",
 *   reads the init's close-on-exec error pipe (EOF = exec done), reports
 *   to vs start, then waits for the init to end. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* ---- in the guest's init ---------------------------------------------- */

static void write_msg(int fd, const char *s)
{
	vs_write_all(fd, s, strlen(s));
}

/* A signal to the stub init: SIGCHLD reaps, any other ends it. */
static void stub_signal(int signo)
{
	if (signo != SIGCHLD)
		_exit(0);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

/* Starts argv with env (the rc command), its errors to errfd. */
static void spawn_rc(char *const argv[], char *const env[], int errfd,
		     const sigset_t *set)
{
	pid_t pid = fork();
	if (pid != 0)
		return;
	sigprocmask(SIG_UNBLOCK, set, NULL);
	execve(argv[0], argv, env);
	char msg[512];
	snprintf(msg, sizeof(msg), "cannot run '%s' in the guest: %s",
		 argv[0], strerror(errno));
	if (errfd >= 0)
		write_msg(errfd, msg);
	_exit(127);
}

/* rc for a runlevel asked for through /run/initctl: the start's command
 * with the new level, RUNLEVEL and PREVLEVEL. */
static void change_level(char *const argv[], char *const env[], int level,
			 char *cur, const sigset_t *set)
{
	size_t n = 0;
	while (env[n])
		n++;
	char **e = vs_xmalloc((n + 3) * sizeof(*e)), next[2] = {(char)level, 0};
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(env[i], "RUNLEVEL=", 9) &&
		    strncmp(env[i], "PREVLEVEL=", 10))
			e[k++] = env[i];
	e[k++] = vs_asprintf("PREVLEVEL=%s", cur);
	e[k++] = vs_asprintf("RUNLEVEL=%s", next);
	e[k] = NULL;
	char *a[] = {argv[0], next, NULL};
	vs_initctl_record(cur[0], (char)level);
	spawn_rc(a, e, -1, set);
	free(e[k - 1]);
	free(e[k - 2]);
	free(e);
	snprintf(cur, 2, "%s", next);
}

/* PID 1 for styles whose start command is not an init (sysv rc scripts):
 * starts the command, reaps orphans, ends on TERM, INT or PWR; with
 * initctl, answers runlevel requests on /run/initctl by running the
 * command again with the new level. */
static _Noreturn void stub_init(char *const argv[], char *const env[],
				int errfd, bool initctl)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPWR);
	sigprocmask(SIG_BLOCK, &set, NULL);
	prctl(PR_SET_NAME, "init", 0, 0, 0);
	if (argv && argv[0])
		spawn_rc(argv, env, errfd, &set);
	close(errfd);
	/* this init never execs: drop what CLOEXEC would have closed (the
	 * monitor's status pipe among them, or `vs start` waits forever) */
	syscall(SYS_close_range, 3, ~0U, 0);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	while (sfd < 0) { /* no signalfd: signals only */
		int sig = sigwaitinfo(&set, NULL);
		if (sig > 0)
			stub_signal(sig);
	}
	int ctl = initctl && argv && argv[0] && argv[1] ? vs_initctl_open()
							   : -1;
	char level[2] = {argv && argv[1] ? argv[1][0] : 'N', 0};
	if (ctl >= 0)
		vs_initctl_record('N', level[0]);
	for (;;) {
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
				      {.fd = ctl, .events = POLLIN}};
		if (poll(p, ctl >= 0 ? 2 : 1, -1) < 0)
			continue;
		struct signalfd_siginfo si;
		if (p[0].revents && read(sfd, &si, sizeof(si)) == sizeof(si))
			stub_signal((int)si.ssi_signo);
		int l = ctl >= 0 && p[1].revents ? vs_initctl_read(ctl) : 0;
		if (l)
			change_level(argv, env, l, level, &set);
	}
}

static char **sysv_command(struct vs_plan *p, char ***env)
{
	static const char *const rcs[] = {"/etc/init.d/rc", "/etc/rc.d/rc"};
	const char *rc = NULL;
	for (int i = 0; i < 2; i++) /* the last executable one wins */
		if (access(rcs[i], X_OK) == 0)
			rc = rcs[i];
	if (!rc)
		return NULL; /* no rc: an idle init, for exec-only guests */
	size_t n = 0;
	while (p->env[n])
		n++;
	char **e = vs_xmalloc((n + 3) * sizeof(*e));
	memcpy(e, p->env, n * sizeof(*e));
	e[n] = "PREVLEVEL=N";
	e[n + 1] = vs_asprintf("RUNLEVEL=%s", p->runlevel_start);
	e[n + 2] = NULL;
	*env = e;
	char **argv = vs_xmalloc(3 * sizeof(*argv));
	argv[0] = (char *)rc;
	argv[1] = p->runlevel_start;
	argv[2] = NULL;
	return argv;
}

static _Noreturn void init_main(struct vs_plan *p, int gofd, int errfd,
				int nullfd, int treesock, int consock,
				bool foreground)
{
	struct vs_ctx *ctx = p->g->ctx;
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (p->userns.on) {
		/* the monitor maps our ids and hands over the idmapped root
		 * first; then we are root of our own user namespace only */
		if (!vs_launch_wait(gofd, NULL))
			_exit(127);
		p->treefd = vs_recv_fd(treesock);
		close(treesock);
		if (p->treefd < 0)
			_exit(127);
		if (vs_userns_become_root() < 0) {
			vs_set_errno(ctx, errno,
				     "cannot become root of the user namespace");
			vs_launch_fail(ctx, errfd);
		}
	}
	/* the mounts are made while the monitor moves us into the v1
	 * cgroups (a v1 move waits for an RCU grace period) */
	if (vs_mounts_setup(p) < 0)
		vs_launch_fail(ctx, errfd);
	/* the console's master goes to the monitor */
	if (p->console_master >= 0) {
		if (vs_send_fd(consock, p->console_master) < 0) {
			vs_set_errno(ctx, errno, "cannot hand over the console");
			vs_launch_fail(ctx, errfd);
		}
		close(p->console_master);
	}
	if (consock >= 0)
		close(consock);
	if (!p->userns.on && !vs_launch_wait(gofd, NULL))
		_exit(127); /* the monitor gave up */
	close(gofd);
	if (p->netns && vs_net_guest_setup(p->g, &p->net) < 0)
		vs_launch_fail(ctx, errfd);
	/* fstab.remote: in the guest's network (util-vserver: chbind) */
	if (vs_mounts_remote(p) < 0)
		vs_launch_fail(ctx, errfd);
	if (unshare(CLONE_NEWCGROUP) < 0 && errno != EINVAL) {
		vs_set_errno(ctx, errno, "cannot create a cgroup namespace");
		vs_launch_fail(ctx, errfd);
	}
	/* systemd's container interface: the guest's own cgroup2 hierarchy
	 * (the root of this new cgroup namespace: its group) */
	if (p->api_fs && mount("cgroup2", "/sys/fs/cgroup", "cgroup2",
			       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		vs_set_errno(ctx, errno, "cannot mount /sys/fs/cgroup in guest "
					 "'%s'",
			     p->g->name);
		vs_launch_fail(ctx, errfd);
	}
	if (vs_uts_set(ctx, p->nodename, p->domainname) < 0)
		vs_launch_fail(ctx, errfd);
	/* apps/init/mtab: the guest's /etc/mtab, unless that is a symlink
	 * (to /proc/self/mounts, as current systems have it) or not a file */
	if (p->mtab) {
		int fd = open("/etc/mtab", O_WRONLY | O_CREAT | O_NOFOLLOW |
						   O_NONBLOCK | O_CLOEXEC,
			      0644);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    ftruncate(fd, 0) == 0 &&
		    write(fd, p->mtab, strlen(p->mtab)) < 0) {
			/* the guest's file system is full: it boots anyway */
		}
		if (fd >= 0)
			close(fd);
	}
	/* util-vserver's virt_uptime: the guest's uptime counts from here;
	 * where the namespace is refused (vs itself in a guest) only a guest
	 * that names the flag fails, the default gives way */
	if (p->res.virt_uptime && vs_timens_start() < 0 &&
	    (errno != EPERM || p->res.virt_uptime_asked)) {
		vs_set_errno(ctx, errno, "cannot create the time namespace of "
					 "guest '%s'",
			     p->g->name);
		vs_launch_fail(ctx, errfd);
	}
	if (vs_resources_self(&p->res) < 0) {
		vs_set_errno(ctx, errno, "cannot set the personality of guest "
					 "'%s'",
			     p->g->name);
		vs_launch_fail(ctx, errfd);
	}
	setsid();
	if (!foreground) {
		int con = p->console_slave >= 0 ? p->console_slave : nullfd;
		dup2(con, 0);
		dup2(con, 1);
		dup2(con, 2);
		/* the console is the controlling terminal of the init */
		if (p->console_slave >= 0 && ioctl(0, TIOCSCTTY, 0) < 0) {
			vs_set_errno(ctx, errno, "cannot make the console the "
						 "init's terminal");
			vs_launch_fail(ctx, errfd);
		}
	}
	/* the init stays root, with the bounding set as its capabilities */
	struct vs_creds cr = {.no_new_privs = p->no_new_privs,
			     .filter = p->seccomp,
			     .bounding = p->bcaps};
	enum vs_creds_step s;
	if (vs_creds_apply(&cr, &s) < 0) {
		vs_set_errno(ctx, errno, "cannot %s", vs_creds_what(s));
		vs_launch_fail(ctx, errfd);
	}
	umask(022);
	vs_signals_reset();
	/* nothing of the host stays open in the guest */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	char **env = p->env;
	char **argv = p->start_argv;
	if (!argv && !strcmp(p->style, "sysv"))
		argv = sysv_command(p, &env);
	if (p->fakeinit) {
		execve(argv[0], argv, env);
		vs_set_errno(ctx, errno, "cannot run the init '%s' of guest '%s'",
			     argv[0], p->g->name);
		vs_launch_fail(ctx, errfd);
	}
	stub_init(argv, env, errfd, !p->start_argv && !strcmp(p->style, "sysv"));
}

/* ---- in the monitor --------------------------------------------------- */

struct vs_init {
	pid_t pid;
	int pidfd;
	bool console;	   /* a console pty (not the caller's stdio) */
	int console_slave; /* the monitor's hold on it, or -1 */
};

/* A user-namespace init: maps its ids and sends it the idmapped root
 * over sock (closed here). */
static int give_root(struct vs_plan *p, pid_t pid, int sock)
{
	int tree = -1, r = 0;
	if (vs_userns_map(p->g, &p->userns, pid) < 0 ||
	    (tree = vs_userns_root_tree(p->g, p->root, pid)) < 0)
		r = -1;
	else if (vs_send_fd(sock, tree) < 0)
		r = vs_set_errno(p->g->ctx, errno, "cannot start the init");
	if (tree >= 0)
		close(tree);
	close(sock);
	return r;
}

/* The host id of id 0 inside (the guest's root). */
static unsigned long host_root(const struct vs_idmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->e[i].inside == 0)
			return m->e[i].outside;
	return 65534; /* unmapped: nobody */
}

/* What the guest's launch shares between its parts. */
struct guest_launch {
	struct vs_plan *p;
	const struct vs_cgroup *cg;
	bool foreground;
	int nullfd, cwd;
	int tsock[2]; /* the idmapped root goes over it (a user namespace) */
	int csock[2]; /* the console's master comes back over it */
};

static void guest_child(void *arg, int go, int err)
{
	struct guest_launch *gl = arg;
	if (gl->tsock[0] >= 0)
		close(gl->tsock[0]);
	if (gl->csock[0] >= 0)
		close(gl->csock[0]);
	init_main(gl->p, go, err, gl->nullfd, gl->tsock[1], gl->csock[1],
		  gl->foreground);
}

static void guest_cloned(void *arg)
{
	struct guest_launch *gl = arg;
	if (gl->cwd >= 0) {
		if (fchdir(gl->cwd) < 0) { /* cannot fail: it is where we were */
		}
		close(gl->cwd);
		gl->cwd = -1;
	}
	int theirs[] = {gl->tsock[1], gl->csock[1], gl->nullfd};
	vs_close_each(theirs, sizeof(theirs) / sizeof(*theirs));
	gl->tsock[1] = gl->csock[1] = gl->nullfd = -1;
}

/* The monitor's part while the init waits: its ids and root, the
 * delegation, the host's end of the network, resources, sysctls. */
static int guest_host(void *arg, pid_t pid, int pidfd)
{
	struct guest_launch *gl = arg;
	struct vs_plan *p = gl->p;
	struct vs_ctx *ctx = p->g->ctx;
	if (p->userns.on) {
		int r = give_root(p, pid, gl->tsock[0]);
		gl->tsock[0] = -1;
		if (r < 0)
			return -1;
	}
	/* its root may manage the groups below its own (systemd does) */
	if (p->userns.on && p->api_fs &&
	    vs_cgroup_delegate(gl->cg, (uid_t)host_root(&p->userns.uid),
			       (gid_t)host_root(&p->userns.gid)) < 0)
		return vs_set_errno(ctx, errno, "cannot delegate the cgroup of "
						"guest '%s'",
				    p->g->name);
	if (vs_net_host_setup(p->g, &p->net, pid) < 0 ||
	    vs_resources_apply(p->g, &p->res, pid) < 0 ||
	    vs_sysctl_apply(p->g, p->sysctls, p->nsysctls, pidfd) < 0)
		return -1;
	return 0;
}

/* Creates the init; on success it has exec'd its command. */
static int spawn_init(struct vs_plan *p, const struct vs_cgroup *cg,
		      bool foreground, struct vs_init *out)
{
	struct vs_ctx *ctx = p->g->ctx;
	struct guest_launch gl = {.p = p,
				  .cg = cg,
				  .foreground = foreground,
				  .cwd = -1,
				  .tsock = {-1, -1},
				  .csock = {-1, -1}};
	gl.nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	p->console = !foreground;
	p->console_master = p->console_slave = -1;
	if (p->console &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gl.csock) < 0) {
		int e = errno;
		vs_close_each(&gl.nullfd, 1);
		return vs_set_errno(ctx, e, "cannot create a socket");
	}
	/* a user-namespace init gets its idmapped root over a socket, and
	 * starts in the guest's root (its mount namespace's copy of our
	 * working directory): the directories above it (a barrier) need
	 * not be searchable by the guest's ids */
	if (p->userns.on &&
	    (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gl.tsock) < 0 ||
	     (gl.cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	     chdir(p->root) < 0)) {
		int e = errno;
		int fds[] = {gl.tsock[0], gl.tsock[1], gl.cwd,
			     gl.csock[0], gl.csock[1], gl.nullfd};
		vs_close_each(fds, sizeof(fds) / sizeof(*fds));
		return vs_set_errno(ctx, e, "cannot enter '%s'", p->root);
	}
	char what[300];
	snprintf(what, sizeof(what), "guest '%s'", p->g->name);
	struct vs_launch l = {
		.flags = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
			 (p->nonamespace ? 0 : CLONE_NEWNS) |
			 (p->userns.on ? CLONE_NEWUSER : 0) |
			 (p->netns ? CLONE_NEWNET : 0),
		.cg = cg,
		.what = what,
		.join = {-1, -1, -1, -1},
		.child = guest_child,
		.cloned = guest_cloned,
		.host = guest_host,
		.arg = &gl,
	};
	int r = vs_launch(ctx, &l);
	if (gl.tsock[0] >= 0)
		close(gl.tsock[0]);
	/* the init has exec'd: the console's master is waiting (or, when
	 * it could not be made, the socket is closed) */
	int hold = -1;
	if (gl.csock[0] >= 0) {
		int master = r == 0 ? vs_recv_fd(gl.csock[0]) : -1;
		close(gl.csock[0]);
		if (r == 0 && master < 0)
			r = vs_set_error(ctx, "guest '%s' has no console",
					 p->g->name);
		else if (r == 0 && vs_console_start(p->g, master, &hold) < 0) {
			close(master);
			r = -1;
		}
	}
	if (r < 0) {
		vs_launch_abort(&l);
		if (hold >= 0)
			close(hold);
		vs_net_host_cleanup(p->g->ctx, &p->net);
		return -1;
	}
	out->console_slave = hold;
	out->pid = l.pid;
	out->pidfd = l.pidfd;
	out->console = p->console;
	return 0;
}

static volatile sig_atomic_t stop_requested, term_requested;

static void on_usr1(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

/* What the end of an init means: reboot(2) in a pid namespace ends its
 * init with SIGHUP (restart) or SIGINT (halt and power-off alike). */
static const char *event_of(const siginfo_t *si)
{
	if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED) {
		if (si->si_status == SIGHUP)
			return "restart";
		if (si->si_status == SIGINT)
			return "halt";
	}
	return "exit";
}

enum { MON_DONE, MON_FAILED, MON_RESTART };

/* Waits for the init; cleans up after it unless `vs stop` does, then
 * hands reboot and halt events to the hook plugins (vshelper). */
static int monitor_loop(struct vs_guest *g, struct vs_init *init)
{
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &(struct sigaction){.sa_handler = SIG_IGN}, NULL);
	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PIDFD, (id_t)init->pidfd, &si, WEXITED) == 0)
			break;
		if (errno != EINTR)
			return MON_FAILED;
		if (term_requested && !stop_requested) {
			/* a service manager stops us: stop the guest */
			term_requested = 0;
			vs_notify("STOPPING=1\nSTATUS=stopping guest %s",
				  g->name);
			vs_guest_stop_from_monitor(g);
			return MON_DONE;
		}
	}
	if (stop_requested)
		return MON_DONE; /* vs stop cleans up */
	int lock;
	while ((lock = vs_guest_lock(g)) < 0) {
		if (stop_requested)
			return MON_DONE;
		sleep(1);
	}
	struct vs_runstate rs;
	if (stop_requested || vs_run_read(g, &rs) != 1 ||
	    rs.monitor != getpid()) {
		close(lock);
		return MON_DONE;
	}
	const char *event = event_of(&si);
	vs_guest_cleanup(g, &rs, true);
	close(lock);
	if (!strcmp(event, "exit")) {
		vs_log(g->ctx, "guest '%s' ended (its init exited)", g->name);
		return MON_DONE;
	}
	/* the hook plugins decide; vshelper may ask for a restart */
	char xid[16];
	snprintf(xid, sizeof(xid), "%u", rs.xid);
	g->restart_requested = false;
	char *argv[] = {(char *)event, g->name, xid, NULL};
	vs_hooks_run_args(g, event, false, 3, argv);
	return g->restart_requested ? MON_RESTART : MON_DONE;
}

/* ---- vs start --------------------------------------------------------- */

static unsigned dynamic_xid(struct vs_ctx *ctx)
{
	char **names = vs_guest_list(ctx);
	unsigned xid = 49152;
	bool clash = true;
	while (clash) {
		clash = false;
		for (char **n = names; *n && !clash; n++) {
			struct vs_guest *o = vs_guest_open(ctx, *n);
			struct vs_runstate rs;
			if (o && vs_guest_state(o, &rs) == VS_RUNNING &&
			    rs.xid == xid)
				clash = true;
			vs_guest_free(o);
		}
		if (clash)
			xid++;
	}
	vs_clear_error(ctx);
	vs_strv_free(names);
	return xid;
}

static void undo_start(struct vs_guest *g, struct vs_plan *p,
		       struct vs_cgroup *cg)
{
	char saved[sizeof(g->ctx->err)];
	memcpy(saved, g->ctx->err, sizeof(saved));
	if (p->nonamespace)
		vs_mounts_cleanup(p->root);
	vs_cgroup_destroy(cg);
	memcpy(g->ctx->err, saved, sizeof(saved));
}

/* Everything before the init exists, under the lock: state, plan, the
 * initialize/prepre-start hooks, cgroups, pre-start.  On failure nothing
 * is left. */
static int prepare(struct vs_guest *g, struct vs_plan *plan,
		   struct vs_cgroup *cg, struct vs_runstate *rs)
{
	memset(plan, 0, sizeof(*plan));
	enum vs_state st = vs_guest_state(g, rs);
	if (st == VS_RUNNING)
		return vs_set_error(g->ctx, "guest '%s' is already running",
				    g->name);
	if (st == VS_STALE)
		vs_guest_cleanup(g, rs, false);
	/* the netlink helper is opened here, on the host: the init sets up
	 * the interfaces inside the guest's mount namespace, where a path
	 * names a file of the guest */
	if (vs_plan_load(g, plan, true) < 0 ||
	    (!plan->nonamespace && vs_root_check(g->ctx, g->name) < 0))
		return -1;
	vs_plan_warn(g, plan);
	vs_keys_warn(g);
	if (((plan->net.nlinks || plan->net.naddrs) &&
	     !vs_helper(g->ctx, "netlink")) ||
	    vs_seccomp_prepare(g, plan->bcaps, true, &plan->seccomp, NULL) < 0 ||
	    vs_userns_check_unique(g, &plan->userns) < 0 ||
	    vs_net_check_unique(g, &plan->net) < 0)
		return -1;
	memset(rs, 0, sizeof(*rs));
	rs->xid = g->context ? g->context : dynamic_xid(g->ctx);
	rs->nonamespace = plan->nonamespace;
	g->xid = rs->xid;
	if (vs_hooks_run(g, "initialize", true) < 0 ||
	    vs_hooks_run(g, "prepre-start", true) < 0 ||
	    vs_dlimits_apply(g) < 0 ||
	    vs_run_cfg_command(g, "apps/init/cmd.prepare", plan->root) < 0 ||
	    vs_cgroup_create(g, cg, &plan->res) < 0)
		return -1;
	if (plan->api_fs)
		vs_cgroup_offer(g, cg);
	vs_cgroup_record(cg, rs);
	if (vs_hooks_run(g, "pre-start", true) < 0) {
		undo_start(g, plan, cg);
		return -1;
	}
	return 0;
}

/* After the init exists: the run file and post-start.  On failure the
 * guest is killed and cleaned up again. */
static int finish(struct vs_guest *g, struct vs_runstate *rs, pid_t init,
		  bool separate_monitor)
{
	struct vs_ctx *ctx = g->ctx;
	rs->init = init;
	rs->init_start = vs_proc_starttime(init);
	rs->monitor_start = vs_proc_starttime(rs->monitor);
	rs->started = time(NULL);
	char root[PATH_MAX];
	if (vs_run_write(g, rs) == 0 &&
	    (!vs_guest_sync(g) ||
	     vs_run_cfg_command(g, "apps/init/cmd.start-sync",
				vs_host_real(ctx, g->root, root,
					     sizeof(root))) == 0) &&
	    vs_hooks_run(g, "post-start", true) == 0)
		return 0;
	char saved[sizeof(ctx->err)];
	memcpy(saved, ctx->err, sizeof(saved));
	if (separate_monitor)
		kill(rs->monitor, SIGUSR1);
	int ifd = vs_pidfd_open(rs->init, rs->init_start);
	if (ifd >= 0) {
		syscall(SYS_pidfd_send_signal, ifd, SIGKILL, NULL, 0);
		poll(&(struct pollfd){.fd = ifd, .events = POLLIN}, 1, 5000);
		close(ifd);
	}
	if (separate_monitor) {
		int mfd = vs_pidfd_open(rs->monitor, rs->monitor_start);
		if (mfd >= 0) {
			poll(&(struct pollfd){.fd = mfd, .events = POLLIN}, 1,
			     5000);
			close(mfd);
		}
	} else {
		while (waitpid(init, NULL, 0) < 0 && errno == EINTR)
			;
	}
	vs_guest_cleanup(g, rs, false);
	memcpy(ctx->err, saved, sizeof(saved));
	return -1;
}

/* Starts the guest again from its monitor, which stays its monitor. */
static int restart_here(struct vs_guest *g, struct vs_init *init)
{
	struct vs_plan plan;
	struct vs_cgroup cg = {0};
	struct vs_runstate rs;
	int lock = vs_guest_lock(g);
	if (lock < 0)
		return -1;
	int r = prepare(g, &plan, &cg, &rs);
	if (r == 0) {
		r = spawn_init(&plan, &cg, !init->console, init);
		if (r < 0)
			undo_start(g, &plan, &cg);
	}
	if (r == 0) {
		rs.monitor = getpid();
		r = finish(g, &rs, init->pid, false);
	}
	close(lock);
	vs_cgroup_free(&cg);
	vs_plan_free(&plan);
	return r;
}

/* The monitor: waits for the guest, restarts it when asked to. */
static int run_monitor(struct vs_guest *g, struct vs_init *init)
{
	snprintf(g->ctx->log_guest, sizeof(g->ctx->log_guest), "%s", g->name);
	g->ctx->log_xid = g->xid;
	for (;;) {
		int a = monitor_loop(g, init);
		close(init->pidfd);
		if (init->console_slave >= 0) { /* the console ends with it */
			close(init->console_slave);
			init->console_slave = -1;
		}
		if (a != MON_RESTART) {
			vs_notify("STOPPING=1\nSTATUS=guest %s stopped", g->name);
			return a == MON_DONE ? 0 : 1;
		}
		vs_notify("STATUS=guest %s restarting", g->name);
		if (restart_here(g, init) < 0) {
			vs_log(g->ctx, "cannot restart guest '%s': %s", g->name,
			       vs_error(g->ctx));
			return 1;
		}
		vs_log(g->ctx, "guest '%s' restarted", g->name);
		vs_notify("READY=1\nSTATUS=guest %s runs (restarted, init %d)",
			  g->name, (int)init->pid);
	}
}

int vs_guest_start(struct vs_guest *g, bool foreground)
{
	struct vs_ctx *ctx = g->ctx;
	struct vs_runstate rs;
	struct vs_plan plan;
	struct vs_cgroup cg = {0};
	struct vs_init init = {.console_slave = -1};
	/* a service manager's readiness socket is ours alone: taken before
	 * any hook runs */
	if (foreground)
		vs_notify_take();
	int lock = vs_guest_lock(g);
	if (lock < 0)
		return -1;
	int r = prepare(g, &plan, &cg, &rs);
	if (r < 0)
		goto out;
	if (foreground) {
		int keep[] = {lock, ctx->rootfd};
		vs_close_fds_except(keep, 2);
		r = spawn_init(&plan, &cg, true, &init);
		if (r < 0) {
			undo_start(g, &plan, &cg);
			goto out;
		}
		rs.monitor = getpid();
		r = finish(g, &rs, init.pid, false);
		if (r < 0)
			goto out;
		if (cg.delegated)
			vs_machined_register(g, init.pid);
		vs_notify("READY=1\nMAINPID=%d\nSTATUS=guest %s runs (context "
			  "%u, init %d)",
			  (int)getpid(), g->name, rs.xid, (int)init.pid);
		close(lock);
		vs_cgroup_free(&cg);
		vs_plan_free(&plan);
		return run_monitor(g, &init) == 0 ? 0 : -1;
	}
	int rep[2];
	if (pipe2(rep, O_CLOEXEC) < 0) {
		r = vs_set_errno(ctx, errno, "cannot create a pipe");
		undo_start(g, &plan, &cg);
		goto out;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t mon = fork();
	if (mon == 0) {
		close(rep[0]);
		close(lock);
		/* nothing the caller had open lives on in the monitor */
		int keep[] = {rep[1], ctx->rootfd};
		vs_close_fds_except(keep, 2);
		setsid();
		if (spawn_init(&plan, &cg, false, &init) < 0) {
			write_msg(rep[1], ctx->err);
			_exit(1);
		}
		char ok[64];
		snprintf(ok, sizeof(ok), "OK %d", (int)init.pid);
		write_msg(rep[1], ok);
		close(rep[1]);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
		vs_plan_free(&plan);
		vs_cgroup_free(&cg);
		_exit(run_monitor(g, &init));
	}
	close(rep[1]);
	if (mon < 0) {
		r = vs_set_errno(ctx, errno, "cannot start the monitor");
		close(rep[0]);
		undo_start(g, &plan, &cg);
		goto out;
	}
	char msg[sizeof(ctx->err)];
	size_t n = vs_read_msg(rep[0], msg, sizeof(msg));
	close(rep[0]);
	if (strncmp(msg, "OK ", 3) != 0) {
		r = vs_set_error(ctx, "%s",
				 n ? msg : "the monitor died while starting");
		waitpid(mon, NULL, 0);
		undo_start(g, &plan, &cg);
		goto out;
	}
	rs.monitor = mon;
	r = finish(g, &rs, (pid_t)atoi(msg + 3), true);
	if (r == 0 && cg.delegated)
		vs_machined_register(g, rs.init);
out:
	close(lock);
	vs_cgroup_free(&cg);
	vs_plan_free(&plan);
	return r;
}
