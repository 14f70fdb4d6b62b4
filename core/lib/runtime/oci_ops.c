/* `vs oci start`, `kill`, `delete`, `ps` and `exec` on a container
 * made by vs_oci_create. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/oci_int.h"

/* The copy of config.json in the container's state directory. */
static struct vs_oci_spec *saved_spec(struct vs_ctx *ctx, const char *root,
				      const char *id)
{
	char *dir = oci_dir(ctx, root, id);
	if (!dir)
		return NULL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct vs_oci_spec *s = fd >= 0 ? oci_spec_load(ctx, fd, dir) : NULL;
	if (fd < 0)
		vs_set_errno(ctx, errno, "cannot open '%s'", dir);
	else
		close(fd);
	free(dir);
	return s;
}

int vs_oci_start(struct vs_ctx *ctx, const char *id,
		 const struct vs_oci_opts *o)
{
	struct vs_oci_state st;
	if (vs_oci_state(ctx, o->root, id, &st) < 0)
		return -1;
	if (strcmp(st.status, "created"))
		return vs_set_error(ctx, "cannot start container '%s': it is %s",
				    id, st.status);
	char *dir = oci_dir(ctx, o->root, id);
	char *fifo = vs_asprintf("%s/exec.fifo", dir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	int r = 0;
	if (fd < 0 || write(fd, "0", 1) != 1)
		r = vs_set_errno(ctx, errno == ENXIO ? ESRCH : errno,
				 "cannot start container '%s'", id);
	if (fd >= 0)
		close(fd);
	if (r == 0)
		unlink(fifo);
	free(fifo);
	free(dir);
	if (r == 0) {
		struct vs_oci_spec *s = saved_spec(ctx, o->root, id);
		if (s) {
			snprintf(st.status, sizeof(st.status), "running");
			char *js = vs_oci_state_json(&st);
			oci_hooks_run(ctx, s, VS_OCI_POSTSTART, js, false);
			free(js);
			oci_spec_free(ctx, s);
		} else {
			vs_warn(ctx, "poststart hooks not run: %s",
				vs_error(ctx));
			vs_clear_error(ctx);
		}
	}
	return r;
}

int vs_oci_kill(struct vs_ctx *ctx, const char *root, const char *id,
		int sig, bool all)
{
	struct vs_oci_state st;
	if (vs_oci_state(ctx, root, id, &st) < 0)
		return -1;
	/* --all reaches what a stopped process left in its group (a
	 * container without a pid namespace of its own), as runc's does */
	if ((!all && !strcmp(st.status, "stopped")) ||
	    !strcmp(st.status, "creating"))
		return vs_set_error(ctx, "container '%s' is not running", id);
	if (all) {
		struct vs_cgroup cg;
		oci_state_cgroups(ctx, &st, &cg);
		vs_cgroup_signal(&cg, sig);
		vs_cgroup_free(&cg);
		return 0;
	}
	int fd = vs_pidfd_open(st.pid, st.start);
	if (fd < 0 || syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vs_set_errno(ctx, e, "cannot signal container '%s'", id);
	}
	close(fd);
	return 0;
}

int vs_oci_pids(struct vs_ctx *ctx, const char *root, const char *id,
		pid_t **pids, size_t *n)
{
	struct vs_oci_state st;
	if (vs_oci_state(ctx, root, id, &st) < 0)
		return -1;
	struct vs_cgroup cg;
	oci_state_cgroups(ctx, &st, &cg);
	*pids = vs_xmalloc(65536 * sizeof(**pids));
	*n = cg.n ? vs_cgroup_pids(&cg, *pids, 65536) : 0;
	vs_cgroup_free(&cg);
	return 0;
}

int vs_oci_delete(struct vs_ctx *ctx, const char *root, const char *id,
		  bool force)
{
	struct vs_oci_state st;
	if (force) { /* a container that is gone already is deleted (runc) */
		char *d = oci_dir(ctx, root, id);
		struct stat sb;
		bool gone = d && lstat(d, &sb) < 0 && errno == ENOENT;
		free(d);
		if (!d)
			return -1;
		if (gone)
			return 0;
	}
	if (vs_oci_state(ctx, root, id, &st) < 0)
		return -1;
	if (!strcmp(st.status, "running") && !force)
		return vs_set_error(ctx, "cannot delete container '%s': it is "
					 "running (stop it, or --force)",
				    id);
	struct vs_cgroup cg;
	oci_state_cgroups(ctx, &st, &cg);
	if (strcmp(st.status, "stopped") && st.pid > 0) {
		int fd = vs_pidfd_open(st.pid, st.start);
		if (fd >= 0) {
			syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
			close(fd);
		}
	}
	int r = 0;
	if (cg.n && vs_cgroup_destroy(&cg) < 0)
		r = vs_set_error(ctx, "cannot remove the cgroup of container "
				      "'%s': processes remain",
				 id);
	/* vs-oci's own parent group (no cgroupsPath) goes when empty */
	for (size_t i = 0; r == 0 && i < cg.n; i++) {
		char *parent = vs_strdup(cg.dirs[i]);
		char *sl = strrchr(parent, '/');
		if (sl) {
			*sl = '\0';
			sl = strrchr(parent, '/');
			if (sl && !strcmp(sl + 1, "vs-oci"))
				rmdir(parent);
		}
		free(parent);
	}
	vs_cgroup_free(&cg);
	char *dir = oci_dir(ctx, root, id);
	if (r == 0) {
		struct vs_oci_spec *s = saved_spec(ctx, root, id);
		if (s) {
			snprintf(st.status, sizeof(st.status), "stopped");
			char *js = vs_oci_state_json(&st);
			oci_hooks_run(ctx, s, VS_OCI_POSTSTOP, js, false);
			free(js);
			oci_spec_free(ctx, s);
		}
		vs_clear_error(ctx);
		static const char *const files[] = {"exec.fifo", "config.json",
						    "state", ".state"};
		for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
			char *p = vs_asprintf("%s/%s", dir, files[i]);
			unlink(p);
			free(p);
		}
		if (rmdir(dir) < 0)
			r = vs_set_errno(ctx, errno, "cannot remove '%s'", dir);
	}
	free(dir);
	return r;
}

/* ---- exec ---------------------------------------------------------- */

static void add_env(struct vs_oci_process *p, char **env)
{
	size_t n = 0, k = 0;
	while (p->env && p->env[n])
		n++;
	while (env && env[k])
		k++;
	char **all = vs_xmalloc((n + k + 1) * sizeof(*all));
	for (size_t i = 0; i < n; i++)
		all[i] = p->env[i];
	for (size_t i = 0; i < k; i++)
		all[n + i] = vs_strdup(env[i]);
	all[n + k] = NULL;
	free(p->env);
	p->env = all;
}

/* The process to exec: --process, else the config's with the options. */
static int exec_process_of(struct vs_ctx *ctx, const struct vs_oci_opts *o,
			   struct vs_oci_spec *s, struct vs_oci_process *p)
{
	const struct vs_oci_spec_ops *ops = vs_helper(ctx, "ocispec");
	if (!ops)
		return -1;
	if (o->process) {
		int fd = open(o->process, O_RDONLY | O_CLOEXEC);
		char msg[512] = "";
		if (fd < 0)
			return vs_set_errno(ctx, errno, "cannot open '%s'",
					    o->process);
		int r = ops->load_process(fd, p, msg, sizeof(msg));
		close(fd);
		if (r < 0)
			return vs_set_error(ctx, "bad '%s': %s", o->process,
					    msg);
		return 0;
	}
	*p = s->process; /* taken over: s keeps none of it */
	memset(&s->process, 0, sizeof(s->process));
	size_t n = 0;
	while (o->args && o->args[n])
		n++;
	if (!n)
		return vs_set_error(ctx, "exec: no command given");
	for (size_t i = 0; p->args && p->args[i]; i++)
		free(p->args[i]);
	free(p->args);
	p->args = vs_xmalloc((n + 1) * sizeof(*p->args));
	for (size_t i = 0; i <= n; i++)
		p->args[i] = o->args[i] ? vs_strdup(o->args[i]) : NULL;
	add_env(p, o->env);
	if (o->cwd) {
		free(p->cwd);
		p->cwd = vs_strdup(o->cwd);
	}
	if (o->tty_set)
		p->terminal = o->tty;
	if (o->user) {
		unsigned u = 0, g = 0;
		int k = sscanf(o->user, "%u:%u", &u, &g);
		if (k < 1)
			return vs_set_error(ctx, "exec: bad --user '%s' "
						 "(uid[:gid])",
					    o->user);
		p->uid = u;
		p->gid = k == 2 ? g : p->gid;
	}
	return 0;
}

/* exec --cap NAME: added to the bounding, effective and permitted sets
 * (and the ambient one when the process has inheritable ones), as runc
 * does.  0, or -1 with the error set. */
static int add_caps(struct vs_ctx *ctx, const struct vs_oci_opts *o,
		    struct vs_oci_process *p)
{
	for (char **c = o->caps; c && *c; c++) {
		uint64_t m = 0;
		if (vs_caps_parse_item(ctx, *c, "exec --cap", &m) < 0)
			return -1;
		p->caps[0] |= m;
		p->caps[1] |= m;
		p->caps[3] |= m;
		if (p->caps[2])
			p->caps[4] |= m;
		p->has_caps = true;
	}
	return 0;
}

static int exec_process(struct vs_ctx *ctx, const struct vs_oci_opts *o,
			struct vs_oci_spec *s, struct vs_oci_process *p)
{
	int r = exec_process_of(ctx, o, s, p);
	return r < 0 ? r : add_caps(ctx, o, p);
}

int vs_oci_exec(struct vs_ctx *ctx, const char *id,
		const struct vs_oci_opts *o, int *status)
{
	struct vs_oci_state st;
	if (vs_oci_state(ctx, o->root, id, &st) < 0)
		return -1;
	if (strcmp(st.status, "running") && strcmp(st.status, "created"))
		return vs_set_error(ctx, "cannot exec in container '%s': it is %s",
				    id, st.status);
	struct vs_oci_spec *s = saved_spec(ctx, o->root, id);
	if (!s)
		return -1;
	struct vs_oci_process p;
	memset(&p, 0, sizeof(p));
	void *filter = NULL;
	int r = exec_process(ctx, o, s, &p);
	if (r == 0)
		r = oci_seccomp(ctx, s, &filter);
	/* a terminal without a console socket is relayed here, as runc */
	if (r == 0 && p.terminal && !o->console_socket && o->detach)
		r = vs_set_error(ctx, "exec --tty --detach needs "
				      "--console-socket");
	struct vs_join j = {.initfd = -1, .timefd = -1};
	if (r == 0 && vs_join_open(&j, st.pid, st.start) < 0)
		r = vs_set_error(ctx, "container '%s' is not running", id);
	int pidfile_dir = -1;
	if (r == 0 && o->pid_file) {
		char *d = vs_strdup(o->pid_file);
		char *sl = strrchr(d, '/');
		if (sl)
			*sl = '\0';
		pidfile_dir = open(sl ? (d[0] ? d : "/") : ".",
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pidfile_dir < 0)
			r = vs_set_errno(ctx, errno, "cannot open the pid file's "
						     "directory");
		free(d);
	}
	int err[2] = {-1, -1}, con[2] = {-1, -1};
	if (r == 0 && (pipe2(err, O_CLOEXEC) < 0 ||
		       (p.terminal && socketpair(AF_UNIX,
						 SOCK_STREAM | SOCK_CLOEXEC, 0,
						 con) < 0)))
		r = vs_set_errno(ctx, errno, "cannot create a pipe");
	pid_t child = -1;
	if (r == 0) {
		/* the process is born in the container's cgroup2 group,
		 * joins the rest (joining, it stays outside the container's
		 * pid namespace, its child is born there) */
		oci_state_cgroups(ctx, &st, &j.cg);
		/* a group that gave its children controllers takes no
		 * process: the init's own group below it (as runc) */
		vs_cgroup_use_leaf(&j.cg, st.pid);
		int v2fd = j.cg.v2 ? open(j.cg.v2, O_RDONLY | O_DIRECTORY |
							 O_CLOEXEC)
				   : -1;
		struct clone_args ca = {.exit_signal = SIGCHLD};
		bool born_in_v2 = false;
		fflush(stdout);
		fflush(stderr);
		child = vs_clone_into(&ca, v2fd, NULL, NULL, &born_in_v2);
		if (child == 0) {
			/* not reachable from the container before the exec;
			 * no descriptor of the host's goes in */
			prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
			close(err[0]);
			if (con[0] >= 0)
				close(con[0]);
			if (pidfile_dir >= 0)
				close(pidfile_dir);
			/* the limits while the host's CAP_SYS_RESOURCE counts:
			 * in the container's user namespace a hard limit is
			 * never raised */
			if (oci_process_limits(ctx, &p, 0) < 0)
				goto child_fail;
			const char *failed = vs_join_enter(&j, born_in_v2);
			if (failed) {
				vs_set_errno(ctx, errno, "cannot %s container "
							 "'%s'",
					     failed, id);
				goto child_fail;
			}
			vs_join_close(&j);
			pid_t g = fork();
			if (g > 0) {
				/* the middle process: reports the pid, waits
				 * unless detached */
				char rec[1 + sizeof(g)] = {'\1'};
				memcpy(rec + 1, &g, sizeof(g));
				vs_write_all(err[1], rec, sizeof(rec));
				close(err[1]);
				if (o->detach)
					_exit(0);
				int ws = 0;
				while (waitpid(g, &ws, 0) < 0 && errno == EINTR)
					;
				_exit(WIFEXITED(ws) ? WEXITSTATUS(ws)
						    : 128 + WTERMSIG(ws));
			}
			if (g < 0) {
				vs_set_errno(ctx, errno, "cannot fork");
				goto child_fail;
			}
			if (!st.no_new_keyring &&
			    oci_session_keyring(ctx, id, false, false) < 0)
				goto child_fail;
			if (p.terminal) {
				int m = oci_pty(ctx, false);
				if (m < 0 || vs_send_fd(con[1], m) < 0)
					goto child_fail;
				close(m);
			} else if (o->detach) {
				setsid();
			}
			if (!oci_find_program(&p)) {
				vs_set_error(ctx, "cannot run '%s' in the "
						  "container: executable file "
						  "not found in $PATH",
					     p.args[0]);
				goto child_fail;
			}
			oci_process_exec(ctx, &p, filter);
		child_fail:;
			char msg[sizeof(ctx->err) + 1];
			msg[0] = '\2';
			snprintf(msg + 1, sizeof(msg) - 1, "%s", vs_error(ctx));
			vs_write_all(err[1], msg, strlen(msg));
			_exit(127);
		}
		if (v2fd >= 0)
			close(v2fd);
		vs_cgroup_free(&j.cg);
		if (child < 0)
			r = vs_set_errno(ctx, errno, "cannot fork");
	}
	if (err[1] >= 0)
		close(err[1]);
	if (con[1] >= 0)
		close(con[1]);
	pid_t g = -1;
	if (r == 0) {
		/* until the process's exec, in either order: its pid from
		 * the middle process ('\1' and the pid), an error of either
		 * ('\2' and the message); each one write */
		char buf[sizeof(ctx->err) + 16];
		size_t k = vs_read_msg(err[0], buf, sizeof(buf));
		bool have = false;
		for (size_t i = 0; i < k && r == 0;) {
			if (buf[i] == '\1' && i + 1 + sizeof(g) <= k) {
				memcpy(&g, buf + i + 1, sizeof(g));
				have = true;
				i += 1 + sizeof(g);
			} else if (buf[i] == '\2') {
				size_t end = i + 1;
				while (end < k && buf[end] != '\1')
					end++;
				r = vs_set_error(ctx, "%.*s", (int)(end - i - 1),
						 buf + i + 1);
			} else {
				i++;
			}
		}
		if (r == 0 && !have)
			r = vs_set_error(ctx, "cannot enter container '%s'", id);
	}
	if (err[0] >= 0)
		close(err[0]);
	int master = -1;
	if (r == 0 && con[0] >= 0) {
		master = vs_recv_fd(con[0]);
		if (master < 0)
			r = vs_set_error(ctx, "the process has no terminal");
		else if (o->console_socket)
			r = oci_give_console(ctx, o->console_socket, master);
	}
	if (con[0] >= 0)
		close(con[0]);
	if (r == 0 && o->pid_file) {
		char v[32];
		int n = snprintf(v, sizeof(v), "%d", (int)g);
		const char *base = strrchr(o->pid_file, '/');
		base = base ? base + 1 : o->pid_file;
		int fd = openat(pidfile_dir, base,
				O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || !vs_write_all(fd, v, (size_t)n))
			r = vs_set_errno(ctx, errno, "cannot write the pid "
						     "file '%s'",
					 o->pid_file);
		if (fd >= 0)
			close(fd);
	}
	*status = 0;
	if (r == 0 && master >= 0 && !o->console_socket) {
		/* our terminal and the process's, until the middle process
		 * (which waits for it) ends */
		int pfd = (int)syscall(SYS_pidfd_open, child, 0);
		if (pfd >= 0) {
			vs_pty_relay(master, pfd);
			close(pfd);
		}
	}
	if (master >= 0)
		close(master);
	if (child > 0) {
		int ws = 0;
		while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
			;
		if (r == 0 && !o->detach)
			*status = WIFEXITED(ws) ? WEXITSTATUS(ws)
						: 128 + WTERMSIG(ws);
	}
	if (pidfile_dir >= 0)
		close(pidfile_dir);
	vs_join_close(&j);
	const struct vs_oci_spec_ops *ops = vs_helper(ctx, "ocispec");
	if (ops)
		ops->free_process(&p);
	vs_seccomp_free(filter);
	oci_spec_free(ctx, s);
	return r;
}
