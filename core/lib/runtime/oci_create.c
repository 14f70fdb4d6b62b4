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

/* The namespaces the launch joins itself (launch.c), by VS_JOIN_*. */
static const int launch_joins[VS_JOIN_N] = {CLONE_NEWPID, CLONE_NEWTIME,
					    CLONE_NEWNS, CLONE_NEWUSER};

struct cinit {
	struct vs_ctx *ctx;
	struct vs_oci_spec *s;
	const struct vs_oci_opts *o;
	const char *id, *dir;
	char rootfs[PATH_MAX], bundle[PATH_MAX];
	void *filter;
	int joinfd[8]; /* namespaces given by path, or -1 */
	/* the pid, time, mount and user namespaces given by path, joined by
	 * the launch (VS_JOIN_*), or -1.  The child makes its mount
	 * namespace as a copy of a joined one. */
	int join[VS_JOIN_N];
	const char *joinpath[VS_JOIN_N];
	int *trees; /* idmapped bind mounts, per mount (oci_idmap.c) */
	int go, err, con[2], fifo;
	int newflags;  /* the namespaces made new */
};

static _Noreturn void fail(struct cinit *c)
{
	vs_launch_fail(c->ctx, c->err);
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
	if (!vs_launch_wait(c->go, &hostpid))
		_exit(1);
	if (((c->newflags & CLONE_NEWUSER) || c->join[VS_JOIN_USER] >= 0) &&
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
	/* not the session keyring of the runtime's caller */
	if (!c->o->no_new_keyring &&
	    oci_session_keyring(ctx, c->id, true,
				(c->newflags & CLONE_NEWUSER) ||
				    c->join[VS_JOIN_USER] >= 0) < 0)
		fail(c);
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
	const int keep[] = {0, 1, 2, c->err, c->con[1], c->fifo, term};
	vs_close_fds_except(keep, sizeof(keep) / sizeof(*keep));
	if (vs_uts_set(ctx, s->hostname, s->domainname) < 0)
		fail(c);
	if (!oci_find_program(&s->process)) {
		vs_set_error(ctx, "cannot run '%s' in the container: "
				  "executable file not found in $PATH",
			     s->process.args[0]);
		fail(c);
	}
	if (term >= 0) {
		if (vs_send_fd(c->con[1], term) < 0) {
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
	if (c->con[1] >= 0)
		close(c->con[1]);
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
	const char *lsm[] = {s->process.apparmor ? "process.apparmorProfile"
						 : NULL,
			     s->process.selinux ? "process.selinuxLabel" : NULL};
	for (size_t i = 0; i < 2; i++)
		if (lsm[i])
			vs_warn(ctx, "container '%s': %s ignored (no such LSM "
				     "support in vs)",
				c->id, lsm[i]);
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
		while (k < VS_JOIN_N && launch_joins[k] != t)
			k++;
		if (k < VS_JOIN_N) {
			c->join[k] = fd;
			c->joinpath[k] = s->ns[i].path;
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
	/* so would a host name (runc refuses it too) */
	if (!(have & CLONE_NEWUTS) && (s->hostname || s->domainname))
		return vs_set_error(ctx, "the spec sets %s but has no UTS "
					 "namespace: it would be the host's",
				    s->hostname ? "hostname" : "domainname");
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

static void container_child(void *arg, int go, int err)
{
	struct cinit *c = arg;
	c->go = go;
	c->err = err;
	if (c->con[0] >= 0)
		close(c->con[0]);
	if (c->newflags & CLONE_NEWTIME)
		vs_timens_start();
	init_main(c);
}

static void container_cloned(void *arg)
{
	struct cinit *c = arg;
	if (c->con[1] >= 0)
		close(c->con[1]);
	c->con[1] = -1;
	close(c->fifo);
	c->fifo = -1;
}

/* The runtime's part while the process waits: its id maps, rlimits and
 * OOM score, the prestart and createRuntime hooks. */
static int container_host(void *arg, pid_t pid, int pidfd)
{
	struct cinit *c = arg;
	struct vs_ctx *ctx = c->ctx;
	(void)pidfd;
	if ((c->newflags & CLONE_NEWUSER) &&
	    (!oci_write_idmap(pid, "uid_map", c->s->uidmap, c->s->nuidmap) ||
	     !oci_write_idmap(pid, "gid_map", c->s->gidmap, c->s->ngidmap)))
		return vs_set_errno(ctx, errno, "cannot write the id maps of "
						"the container");
	if (oci_process_limits(ctx, &c->s->process, pid) < 0)
		return -1;
	if (!c->s->nhooks[VS_OCI_PRESTART] &&
	    !c->s->nhooks[VS_OCI_CREATE_RUNTIME])
		return 0;
	char *js = hook_state(c, pid, "creating");
	int r = oci_hooks_run(ctx, c->s, VS_OCI_PRESTART, js, true);
	if (r == 0)
		r = oci_hooks_run(ctx, c->s, VS_OCI_CREATE_RUNTIME, js, true);
	free(js);
	return r;
}

int vs_oci_create(struct vs_ctx *ctx, const char *id,
		  const struct vs_oci_opts *o)
{
	struct cinit c = {.ctx = ctx,
			  .o = o,
			  .id = id,
			  .go = -1,
			  .err = -1,
			  .con = {-1, -1},
			  .fifo = -1,
			  .join = {-1, -1, -1, -1}};
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
	if (r == 0 && c.s->process.terminal && !o->console_socket &&
	    !o->master)
		r = vs_set_error(ctx, "process.terminal is set: --console-socket "
				      "is needed");
	if (r == 0 && c.s->process.terminal &&
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c.con) < 0)
		r = vs_set_errno(ctx, errno, "cannot create a socket");
	char what[300];
	snprintf(what, sizeof(what), "container '%s'", id);
	struct vs_launch l = {.flags = (uint64_t)c.newflags,
			      .cg = &cg,
			      .what = what,
			      .ready_byte = true,
			      .child = container_child,
			      .cloned = container_cloned,
			      .host = container_host,
			      .arg = &c,
			      .pid = -1,
			      .pidfd = -1};
	memcpy(l.join, c.join, sizeof(l.join));
	memcpy(l.join_path, c.joinpath, sizeof(l.join_path));
	if (r == 0)
		r = vs_launch(ctx, &l);
	if (r == 0 && c.con[0] >= 0) {
		int m = vs_recv_fd(c.con[0]);
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
	struct vs_oci_state st;
	memset(&st, 0, sizeof(st));
	snprintf(st.id, sizeof(st.id), "%s", id);
	snprintf(st.bundle, sizeof(st.bundle), "%s", c.bundle);
	oci_now(st.created, sizeof(st.created));
	st.pid = l.pid;
	st.no_new_keyring = o->no_new_keyring;
	if (r == 0) {
		st.start = vs_proc_starttime(l.pid);
		struct vs_runstate rs;
		memset(&rs, 0, sizeof(rs));
		vs_cgroup_record(&cg, &rs);
		snprintf(st.cgroups, sizeof(st.cgroups), "%s", rs.cgroups);
		r = oci_state_write(ctx, dir, &st);
	}
	if (r == 0 && o->pid_file)
		r = write_pid_file(ctx, o->pid_file, l.pid);
	if (r < 0) {
		vs_launch_abort(&l);
		undo(&c, &cg);
	}
	if (l.pidfd >= 0)
		close(l.pidfd);
	int fds[] = {c.con[0], c.con[1], c.fifo, c.join[0], c.join[1],
		     c.join[2], c.join[3]};
	vs_close_each(fds, sizeof(fds) / sizeof(*fds));
	for (int i = 0; i < 8; i++)
		if (c.joinfd[i] > 0)
			close(c.joinfd[i]);
	for (size_t i = 0; c.trees && c.s && i < c.s->nmounts; i++)
		if (c.trees[i] >= 0)
			close(c.trees[i]);
	free(c.trees);
	vs_seccomp_free(c.filter);
	oci_spec_free(ctx, c.s);
	vs_cgroup_free(&cg);
	free(dir);
	return r;
}
