/* `vs oci create`: the container's process made in its namespaces and
 * cgroup, its file system and terminal set up, then waiting on
 * exec.fifo until `vs oci start`.  The process is our child; we exit
 * once it waits, so that it becomes the child of whoever asked (conmon,
 * containerd's shim: their subreaper collects its exit status). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/oci_int.h"

enum { JOIN_PID, JOIN_TIME, JOIN_MNT };
static const int join_types[3] = {CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWNS};
static const char *const join_names[3] = {"pid", "time", "mount"};

struct cinit {
	struct vs_ctx *ctx;
	struct vs_oci_spec *s;
	const struct vs_oci_opts *o;
	const char *id, *dir;
	char rootfs[PATH_MAX], bundle[PATH_MAX];
	void *filter;
	int joinfd[8]; /* namespaces given by path, or -1 */
	/* pid, time and mount namespaces given by path (JOIN_PID...): the
	 * runtime joins them for its child only, around the clone; -1 when
	 * none.  The child makes its mount namespace as a copy of the
	 * joined one. */
	int forkjoin[3];
	const char *forkpath[3];
	/* a user namespace given by path: the process joins it first and
	 * makes the new namespaces there (two stages); -1 when none */
	int userjoin;
	int *trees; /* idmapped bind mounts, per mount (oci_idmap.c) */
	const char *userpath;
	int go, err, con, fifo;
	int newflags;  /* the namespaces made new */
};

static void fail(struct cinit *c)
{
	const char *m = vs_error(c->ctx);
	vs_write_all(c->err, m, strlen(m));
	_exit(1);
}

/* The state as the container's own hooks get it. */
static char *hook_state(struct cinit *c, pid_t pid, const char *status)
{
	struct vs_oci_state st;
	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "%s", c->id);
	snprintf(st.bundle, sizeof(st.bundle), "%s", c->bundle);
	snprintf(st.status, sizeof(st.status), "%s", status);
	st.pid = pid;
	return vs_oci_state_json(&st);
}

static void write_sysctl(struct cinit *c)
{
	for (char **k = c->s->sysctl; k && *k; k += 2) {
		char path[PATH_MAX];
		/* checked by prepare: a name of the container's namespaces */
		vs_sysctl_path(k[0], path, sizeof(path));
		int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !vs_write_all(fd, k[1], strlen(k[1]))) {
			vs_set_errno(c->ctx, errno, "cannot set sysctl '%s' to "
						    "'%s'",
				     k[0], k[1]);
			fail(c);
		}
		close(fd);
	}
}

static _Noreturn void init_main(struct cinit *c)
{
	struct vs_ctx *ctx = c->ctx;
	struct vs_oci_spec *s = c->s;
	pid_t hostpid = 0;
	/* until the exec, the container's processes cannot reach ours
	 * through /proc or ptrace: we hold the runtime's descriptors */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* the parent maps our ids, moves us into the cgroup, tells our pid */
	if (read(c->go, &hostpid, sizeof(hostpid)) != sizeof(hostpid))
		_exit(1);
	if (((c->newflags & CLONE_NEWUSER) || c->userjoin >= 0) &&
	    vs_userns_become_root() < 0) {
		vs_set_errno(ctx, errno, "cannot become root of the user "
					 "namespace");
		fail(c);
	}
	for (int i = 0; i < 8; i++)
		if (c->joinfd[i] >= 0 && setns(c->joinfd[i], 0) < 0) {
			vs_set_errno(ctx, errno, "cannot join the namespace "
						 "'%s'",
				     s->ns[i].path);
			fail(c);
		}
	for (int i = 0; i < 8; i++)
		if (c->joinfd[i] >= 0)
			close(c->joinfd[i]);
	/* the cgroup namespace's root is the group we are in now */
	if ((c->newflags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0) {
		vs_set_errno(ctx, errno, "cannot create a cgroup namespace");
		fail(c);
	}
	if (oci_rootfs_setup(ctx, s, c->rootfs, c->bundle, c->trees) < 0)
		fail(c);
	if (s->nhooks[VS_OCI_CREATE_CONTAINER]) {
		/* in the container's namespaces, paths of the runtime's */
		char *js = hook_state(c, hostpid, "created");
		int r = oci_hooks_run(ctx, s, VS_OCI_CREATE_CONTAINER, js, true);
		free(js);
		if (r < 0)
			fail(c);
	}
	if (oci_rootfs_pivot(ctx, c->rootfs, c->o->no_pivot) < 0)
		fail(c);
	/* the terminal, on /dev/console too: before the root may turn
	 * read-only */
	int term = -1;
	if (s->process.terminal && (term = oci_pty(ctx, true)) < 0)
		fail(c);
	/* the sysctls while /proc/sys is writable (as runc) */
	write_sysctl(c);
	if (oci_rootfs_finish(ctx, s) < 0)
		fail(c);
	/* of the runtime's descriptors only the pipes to it and the fifo
	 * stay (the cgroup directory it was born in among those that go) */
	const int keep[] = {0, 1, 2, c->err, c->con, c->fifo, term};
	vs_close_fds_except(keep, sizeof(keep) / sizeof(*keep));
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0) {
		vs_set_errno(ctx, errno, "cannot set the host name '%s'",
			     s->hostname);
		fail(c);
	}
	if (s->domainname &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0) {
		vs_set_errno(ctx, errno, "cannot set the domain name '%s'",
			     s->domainname);
		fail(c);
	}
	if (!oci_find_program(&s->process)) {
		vs_set_error(ctx, "cannot run '%s' in the container: "
				  "executable file not found in $PATH",
			     s->process.args[0]);
		fail(c);
	}
	if (term >= 0) {
		if (vs_send_fd(c->con, term) < 0) {
			vs_set_errno(ctx, errno, "cannot hand over the "
						 "terminal");
			fail(c);
		}
		close(term);
	} else {
		setsid();
	}
	/* ready: the parent may go */
	vs_write_all(c->err, "\1", 1);
	close(c->err);
	if (c->con >= 0)
		close(c->con);
	char b;
	ssize_t n;
	while ((n = read(c->fifo, &b, 1)) < 0 && errno == EINTR)
		;
	close(c->fifo);
	if (n != 1)
		_exit(1);
	if (s->nhooks[VS_OCI_START_CONTAINER]) {
		char *js = hook_state(c, hostpid, "running");
		int r = oci_hooks_run(ctx, s, VS_OCI_START_CONTAINER, js, true);
		free(js);
		if (r < 0) {
			fprintf(stderr, "vs-oci: %s\n", vs_error(ctx));
			_exit(127);
		}
	}
	oci_process_exec(ctx, &s->process, c->filter);
	fprintf(stderr, "vs-oci: %s\n", vs_error(ctx));
	_exit(127);
}

int oci_give_console(struct vs_ctx *ctx, const char *path, int master)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return vs_set_error(ctx, "console socket path too long: '%s'",
				    path);
	memcpy(a.sun_path, path, strlen(path));
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r = s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0 ||
			vs_send_fd(s, master) < 0
		    ? vs_set_errno(ctx, errno, "cannot send the terminal to "
					       "'%s'",
				   path)
		    : 0;
	if (s >= 0)
		close(s);
	return r;
}

static int write_pid_file(struct vs_ctx *ctx, const char *path, pid_t pid)
{
	char *tmp = vs_asprintf("%s.vs-tmp", path), v[32];
	int n = snprintf(v, sizeof(v), "%d", (int)pid);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int r = fd >= 0 && vs_write_all(fd, v, (size_t)n) && close(fd) == 0 &&
			rename(tmp, path) == 0
		    ? 0
		    : vs_set_errno(ctx, errno, "cannot write the pid file '%s'",
				   path);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}

/* Everything up to the clone: bundle, spec, filter, fifo, joins. */
static int prepare(struct cinit *c, const char *bundle_arg)
{
	struct vs_ctx *ctx = c->ctx;
	if (!realpath(bundle_arg, c->bundle))
		return vs_set_errno(ctx, errno, "cannot open the bundle '%s'",
				    bundle_arg);
	int bfd = open(c->bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return vs_set_errno(ctx, errno, "cannot open the bundle '%s'",
				    c->bundle);
	c->s = oci_spec_load(ctx, bfd, c->bundle);
	close(bfd);
	if (!c->s)
		return -1;
	struct vs_oci_spec *s = c->s;
	char root[PATH_MAX * 2];
	snprintf(root, sizeof(root), "%s%s%s", s->root[0] == '/' ? "" : c->bundle,
		 s->root[0] == '/' ? "" : "/", s->root);
	struct stat st;
	if (!realpath(root, c->rootfs) || stat(c->rootfs, &st) < 0 ||
	    !S_ISDIR(st.st_mode))
		return vs_set_error(ctx, "bad root.path '%s': %s", s->root,
				    errno ? strerror(errno) : "not a directory");
	if (!strcmp(c->rootfs, "/"))
		return vs_set_error(ctx, "bad root.path '%s': the host's root",
				    s->root);
	if (s->process.apparmor || s->process.selinux)
		vs_warn(ctx, "container '%s': %s ignored (no such LSM support "
			     "in vs)",
			c->id,
			s->process.apparmor ? "process.apparmorProfile"
					    : "process.selinuxLabel");
	if (oci_seccomp(ctx, s, &c->filter) < 0)
		return -1;
	bool mnt = false;
	for (size_t i = 0; i < s->nns; i++) {
		c->joinfd[i] = -1;
		int t = s->ns[i].type;
		mnt |= t == CLONE_NEWNS;
		if (!s->ns[i].path) {
			c->newflags |= t;
			continue;
		}
		int fd = open(s->ns[i].path, O_RDONLY | O_CLOEXEC), k = 0;
		while (k < 3 && join_types[k] != t)
			k++;
		if (t == CLONE_NEWUSER) {
			c->userjoin = fd;
			c->userpath = s->ns[i].path;
		} else if (k < 3) {
			c->forkjoin[k] = fd;
			c->forkpath[k] = s->ns[i].path;
		} else {
			c->joinfd[i] = fd;
		}
		/* the container's root is made in a copy of a joined mount
		 * namespace: pivot_root there would move the root of every
		 * process of it (the host's, given /proc/1/ns/mnt) */
		if (t == CLONE_NEWNS)
			c->newflags |= CLONE_NEWNS;
		if (fd < 0)
			return vs_set_errno(ctx, errno, "cannot open the "
							"namespace '%s'",
					    s->ns[i].path);
	}
	for (size_t i = s->nns; i < 8; i++)
		c->joinfd[i] = -1;
	/* a sysctl of the host's would change the host (as runc refuses) */
	int have = 0;
	for (size_t i = 0; i < s->nns; i++)
		have |= s->ns[i].type;
	for (char **k = s->sysctl; k && *k; k += 2)
		if (!vs_sysctl_namespaced(k[0], have))
			return vs_set_error(ctx, "sysctl '%s' is not in a "
						 "separate kernel namespace of "
						 "the container",
					    k[0]);
	if (!mnt)
		return vs_set_error(ctx, "linux.namespaces has no mount "
					 "namespace: vs-oci always makes one "
					 "(the rootfs would be the host's)");
	if ((c->newflags & CLONE_NEWUSER) && (!s->nuidmap || !s->ngidmap))
		return vs_set_error(ctx, "a new user namespace needs "
					 "linux.uidMappings and gidMappings");
	if (oci_idmap_trees(ctx, s, c->bundle, &c->trees) < 0)
		return -1;
	char *fifo = vs_asprintf("%s/exec.fifo", c->dir);
	int r = mkfifo(fifo, 0600) < 0
		    ? vs_set_errno(ctx, errno, "cannot make '%s'", fifo)
		    : 0;
	if (r == 0 && (c->fifo = open(fifo, O_RDWR | O_CLOEXEC)) < 0)
		r = vs_set_errno(ctx, errno, "cannot open '%s'", fifo);
	free(fifo);
	return r;
}

static int copy_config(struct vs_ctx *ctx, const char *bundle,
		       const char *dir)
{
	char *from = vs_asprintf("%s/config.json", bundle),
	     *to = vs_asprintf("%s/config.json", dir);
	int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char buf[65536];
	ssize_t n;
	int r = in >= 0 && out >= 0 ? 0 : -1;
	while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (!vs_write_all(out, buf, (size_t)n))
			r = -1;
	if (r < 0)
		vs_set_errno(ctx, errno, "cannot copy '%s'", from);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	free(from);
	free(to);
	return r;
}

static void undo(struct cinit *c, struct vs_cgroup *cg)
{
	char saved[sizeof(c->ctx->err)];
	memcpy(saved, c->ctx->err, sizeof(saved));
	if (cg->n) {
		vs_cgroup_destroy(cg);
		vs_cgroup_free(cg);
	}
	char *p;
	static const char *const files[] = {"exec.fifo", "config.json", "state",
					    ".state"};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		p = vs_asprintf("%s/%s", c->dir, files[i]);
		unlink(p);
		free(p);
	}
	rmdir(c->dir);
	memcpy(c->ctx->err, saved, sizeof(saved));
}

/* Back to the runtime's own pid, time and mount namespaces (back[],
 * with back[3] the working directory it had). */
static void unjoin(int back[4])
{
	for (int i = 0; i < 3; i++)
		if (back[i] > 0) {
			setns(back[i], join_types[i]);
			close(back[i]);
			back[i] = -1;
		}
	if (back[3] >= 0) {
		/* (it was there a moment ago: a failure leaves us at /) */
		int r = fchdir(back[3]);
		(void)r;
		close(back[3]);
		back[3] = -1;
	}
}

/* The pid, time and mount namespaces given by path become those of the
 * runtime's next child: the runtime's own ones go to back[] to return
 * to after the clone (with its working directory, which a mount
 * namespace's join resets).  0, or -1 with the error set (and back
 * already returned to). */
static int join_for_child(struct cinit *c, int back[4])
{
	static const char *const own[3] = {
		"/proc/self/ns/pid", "/proc/self/ns/time", "/proc/self/ns/mnt"};
	for (int i = 0; i < 3; i++) {
		if (c->forkjoin[i] < 0)
			continue;
		if (i == JOIN_MNT &&
		    (back[3] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			back[3] = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		back[i] = open(own[i], O_RDONLY | O_CLOEXEC);
		if (back[i] < 0 || setns(c->forkjoin[i], join_types[i]) < 0) {
			vs_set_errno(c->ctx, errno, "cannot join the %s "
						    "namespace '%s'",
				     join_names[i], c->forkpath[i]);
			unjoin(back);
			return -1;
		}
	}
	return 0;
}

/* The first stage of a process that joins a user namespace given by
 * path: it joins it, makes the new namespaces there (so that they belong
 * to it: the container's root may mount its /proc), and forks the
 * container's process (pid 1 of a new pid namespace), whose pid it
 * writes to relay before it exits.  Returns in that process only. */
static void stage1(struct cinit *c, int relay[2])
{
	close(relay[0]);
	if (setns(c->userjoin, CLONE_NEWUSER) < 0) {
		vs_set_errno(c->ctx, errno, "cannot join the user namespace "
					    "'%s'",
			     c->userpath);
		fail(c);
	}
	int fl = c->newflags & ~(CLONE_NEWCGROUP | CLONE_NEWTIME);
	if (fl && unshare(fl) < 0) {
		vs_set_errno(c->ctx, errno, "cannot create the container's "
					    "namespaces in '%s'",
			     c->userpath);
		fail(c);
	}
	pid_t p = fork();
	if (p == 0) {
		close(relay[1]);
		return;
	}
	if (p < 0) {
		vs_set_errno(c->ctx, errno, "cannot fork");
		fail(c);
	}
	vs_write_all(relay[1], &p, sizeof(p));
	_exit(0);
}

/* The pid of the container's process from stage1 (pid, our child, is
 * reaped), or -1 with the error its stage gave. */
static pid_t stage2_pid(struct cinit *c, pid_t pid, int relay, int err)
{
	pid_t g = -1;
	ssize_t n;
	while ((n = read(relay, &g, sizeof(g))) < 0 && errno == EINTR)
		;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n == sizeof(g) && g > 0)
		return g;
	char msg[sizeof(c->ctx->err)];
	if (vs_read_msg(err, msg, sizeof(msg)))
		vs_set_error(c->ctx, "%s", msg);
	else
		vs_set_error(c->ctx, "the container's process died while it "
				     "was set up");
	return -1;
}

int vs_oci_create(struct vs_ctx *ctx, const char *id,
		  const struct vs_oci_opts *o)
{
	struct cinit c = {.ctx = ctx, .o = o,	   .id = id,	    .go = -1,
			  .err = -1,	 .con = -1, .fifo = -1,
			  .forkjoin = {-1, -1, -1}, .userjoin = -1};
	struct vs_cgroup cg;
	memset(&cg, 0, sizeof(cg));
	char *dir = oci_dir(ctx, o->root, id);
	if (!dir)
		return -1;
	c.dir = dir;
	if (mkdir(o->root, 0700) < 0 && errno != EEXIST) {
		free(dir);
		return vs_set_errno(ctx, errno, "cannot make the state "
						"directory '%s'",
				    o->root);
	}
	if (mkdir(dir, 0700) < 0) {
		int e = errno;
		free(dir);
		return e == EEXIST
			   ? vs_set_error(ctx, "container '%s' exists", id)
			   : vs_set_errno(ctx, e, "cannot make '%s/%s'",
					  o->root, id);
	}
	int r = prepare(&c, o->bundle ? o->bundle : ".");
	if (r == 0)
		r = copy_config(ctx, c.bundle, dir);
	if (r == 0)
		r = oci_cgroup_create(ctx, id, c.s, o->systemd_cgroup, &cg);
	int go[2] = {-1, -1}, err[2] = {-1, -1}, con[2] = {-1, -1},
	    relay[2] = {-1, -1};
	if (r == 0 && (pipe2(go, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
		       (c.userjoin >= 0 && pipe2(relay, O_CLOEXEC) < 0) ||
		       (c.s->process.terminal &&
			socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				   con) < 0)))
		r = vs_set_errno(ctx, errno, "cannot create a pipe");
	if (r == 0 && c.s->process.terminal && !o->console_socket &&
	    !o->master)
		r = vs_set_error(ctx, "process.terminal is set: --console-socket "
				      "is needed");
	pid_t pid = -1;
	int pidfd = -1;
	bool born_in_v2 = false; /* then only the v1 groups take it */
	if (r == 0) {
		c.go = go[0];
		c.err = err[1];
		c.con = con[1];
		int v2fd = cg.v2 ? open(cg.v2, O_RDONLY | O_DIRECTORY |
						       O_CLOEXEC)
				 : -1;
		/* joining a user namespace: the namespaces are made in it */
		int cflags = c.userjoin >= 0 ? 0 : c.newflags;
		struct clone_args ca = {
			.flags = (uint64_t)(cflags & ~CLONE_NEWCGROUP &
					    ~CLONE_NEWTIME) |
				 CLONE_PIDFD,
			.pidfd = (uint64_t)(uintptr_t)&pidfd,
			.exit_signal = SIGCHLD,
		};
		fflush(stdout);
		fflush(stderr);
		int back[4] = {-1, -1, -1, -1};
		bool joined = join_for_child(&c, back) == 0;
		if (joined)
			pid = vs_clone_into(&ca, v2fd, NULL, NULL, &born_in_v2);
		if (pid == 0) {
			close(go[1]);
			close(err[0]);
			if (con[0] >= 0)
				close(con[0]);
			if (c.userjoin >= 0)
				stage1(&c, relay);
			if (c.newflags & CLONE_NEWTIME)
				vs_timens_start();
			init_main(&c);
		}
		int e = errno;
		unjoin(back);
		if (v2fd >= 0)
			close(v2fd);
		close(go[0]);
		close(err[1]);
		if (con[1] >= 0)
			close(con[1]);
		close(c.fifo);
		c.fifo = -1;
		if (pid < 0 && !joined)
			r = -1; /* join_for_child said why */
		else if (pid < 0)
			r = vs_set_errno(ctx, e, "cannot create the container's "
						 "namespaces");
		if (relay[1] >= 0)
			close(relay[1]);
		if (pid > 0 && c.userjoin >= 0 &&
		    (pid = stage2_pid(&c, pid, relay[0], err[0])) < 0)
			r = -1;
		if (relay[0] >= 0)
			close(relay[0]);
	}
	struct vs_oci_state st;
	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "%s", id);
	snprintf(st.bundle, sizeof(st.bundle), "%s", c.bundle);
	oci_now(st.created, sizeof(st.created));
	st.pid = pid;
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	if (r == 0 && (c.newflags & CLONE_NEWUSER) &&
	    (!oci_write_idmap(pid, "uid_map", c.s->uidmap, c.s->nuidmap) ||
	     !oci_write_idmap(pid, "gid_map", c.s->gidmap, c.s->ngidmap)))
		r = vs_set_errno(ctx, errno, "cannot write the id maps of the "
					     "container");
	if (r == 0 && vs_cgroup_attach(&cg, pid, born_in_v2) < 0)
		r = vs_set_errno(ctx, errno, "cannot move the container into "
					     "its cgroup");
	if (r == 0 && oci_process_limits(ctx, &c.s->process, pid) < 0)
		r = -1;
	if (r == 0) {
		snprintf(st.status, sizeof(st.status), "creating");
		char *js = vs_oci_state_json(&st);
		r = oci_hooks_run(ctx, c.s, VS_OCI_PRESTART, js, true);
		if (r == 0)
			r = oci_hooks_run(ctx, c.s, VS_OCI_CREATE_RUNTIME, js,
					  true);
		free(js);
	}
	if (r == 0 && write(go[1], &pid, sizeof(pid)) != sizeof(pid))
		r = vs_set_errno(ctx, errno, "cannot start the container");
	if (go[1] >= 0)
		close(go[1]);
	if (pid > 0) {
		char msg[sizeof(ctx->err)];
		size_t n = vs_read_msg(err[0], msg, sizeof(msg));
		close(err[0]);
		if (r == 0 && n == 0)
			r = vs_set_error(ctx, "the container's process died "
					      "while it was set up");
		else if (r == 0 && msg[0] != '\1')
			r = vs_set_error(ctx, "%s", msg);
	}
	sigaction(SIGPIPE, &old, NULL);
	if (r == 0 && con[0] >= 0) {
		int m = vs_recv_fd(con[0]);
		if (m < 0)
			r = vs_set_error(ctx, "the container has no terminal");
		else if (!o->console_socket) {
			*o->master = m;
			m = -1;
		} else
			r = oci_give_console(ctx, o->console_socket, m);
		if (m >= 0)
			close(m);
	}
	if (con[0] >= 0)
		close(con[0]);
	if (r == 0) {
		st.start = vs_proc_starttime(pid);
		struct vs_runstate rs;
		memset(&rs, 0, sizeof(rs));
		vs_cgroup_record(&cg, &rs);
		snprintf(st.cgroups, sizeof(st.cgroups), "%s", rs.cgroups);
		r = oci_state_write(ctx, dir, &st);
	}
	if (r == 0 && o->pid_file)
		r = write_pid_file(ctx, o->pid_file, pid);
	if (r < 0) {
		if (pid > 0) {
			kill(pid, SIGKILL);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		}
		undo(&c, &cg);
	}
	if (pidfd >= 0)
		close(pidfd);
	if (c.fifo >= 0)
		close(c.fifo);
	for (int i = 0; i < 8; i++)
		if (c.joinfd[i] > 0)
			close(c.joinfd[i]);
	for (size_t i = 0; c.trees && c.s && i < c.s->nmounts; i++)
		if (c.trees[i] >= 0)
			close(c.trees[i]);
	free(c.trees);
	for (int i = 0; i < 3; i++)
		if (c.forkjoin[i] >= 0)
			close(c.forkjoin[i]);
	if (c.userjoin >= 0)
		close(c.userjoin);
	vs_seccomp_free(c.filter);
	oci_spec_free(ctx, c.s);
	vs_cgroup_free(&cg);
	free(dir);
	return r;
}
