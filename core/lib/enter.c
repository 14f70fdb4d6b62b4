/* Running a command inside a running guest: its namespaces, its cgroup,
 * its capability bounding set, a clean environment. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

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
	char path[64], line[256];
	uint64_t v = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "CapBnd:", 7) == 0)
			v = strtoull(line + 7, NULL, 16);
	if (f)
		fclose(f);
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
		{"cgroup", CLONE_NEWCGROUP},
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

static bool wait_child(pid_t pid, int timeout_ms, int *status)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd >= 0 && timeout_ms >= 0) {
		struct pollfd p = {.fd = pfd, .events = POLLIN};
		int r;
		do
			r = poll(&p, 1, timeout_ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			kill(pid, SIGKILL);
		}
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return false;
	return true;
}

int vs_guest_exec(struct vs_guest *g, const struct vs_runstate *rs,
		  const struct vs_exec_opts *o, int *status)
{
	struct vs_ctx *ctx = g->ctx;
	int initfd = vs_pidfd_open(rs->init, rs->init_start);
	if (initfd < 0)
		return vs_set_error(ctx, "guest '%s' is not running", g->name);
	uint64_t bcaps = proc_capbnd(rs->init);
	int flags = ns_flags(rs->init);
	struct vs_cgroup cg;
	vs_cgroup_locate(g, &cg);
	char root[PATH_MAX] = "";
	if (rs->nonamespace && g->root)
		vs_host_real(ctx, g->root, root, sizeof(root));
	char **env = o->env ? NULL : vs_guest_env(g);
	char *const *envp = o->env ? o->env : env;

	/* children of this process are born in the guest's pid namespace */
	if (setns(initfd, CLONE_NEWPID) < 0) {
		int e = errno;
		close(initfd);
		vs_cgroup_free(&cg);
		vs_strv_free(env);
		return vs_set_errno(ctx, e,
				    "cannot enter the namespaces of guest '%s'",
				    g->name);
	}
	int errpipe[2];
	if (pipe2(errpipe, O_CLOEXEC) < 0) {
		close(initfd);
		return vs_set_errno(ctx, errno, "cannot create a pipe");
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(stdout);
	fflush(stderr);
	/* born in the guest's cgroup2 group when there is one: a move would
	 * wait for an RCU grace period */
	int v2fd = cg.v2 ? open(cg.v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	struct clone_args ca = {
		.flags = v2fd >= 0 ? CLONE_INTO_CGROUP : 0,
		.exit_signal = SIGCHLD,
		.cgroup = v2fd >= 0 ? (uint64_t)v2fd : 0,
	};
	pid_t pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0 && v2fd >= 0) {
		close(v2fd);
		v2fd = -1;
		pid = fork();
	}
	bool born_in_v2 = v2fd >= 0;
	if (pid == 0) {
		close(errpipe[0]);
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		const char *exe = NULL;
		const char *what = "join the cgroup of";
		if (vs_cgroup_attach(&cg, 0, born_in_v2) < 0 && cg.n)
			goto fail;
		what = "enter the namespaces of";
		if (flags && setns(initfd, flags) < 0)
			goto fail;
		if (root[0] && chroot(root) < 0)
			goto fail;
		if (chdir("/") < 0)
			goto fail;
		what = "limit the capabilities in";
		if (vs_caps_limit(bcaps) < 0)
			goto fail;
		/* the first candidate that exists inside the guest */
		exe = o->argv[0];
		for (const char *const *c = o->candidates; c && *c; c++)
			if (access(*c, X_OK) == 0) {
				exe = *c;
				break;
			}
		if (!exe) {
			errno = ENOENT;
			what = "find a command in";
			goto fail;
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
		if (strchr(exe, '/'))
			execve(exe, av, envp);
		else
			execvpe(exe, av, envp);
		what = "run the command in";
		char msg[512];
		int e;
fail:
		e = errno;
		snprintf(msg, sizeof(msg), "cannot %s guest '%s'%s%s%s: %s",
			 what, g->name, exe ? " ('" : "", exe ? exe : "",
			 exe ? "')" : "", strerror(e));
		ssize_t w = write(errpipe[1], msg, strlen(msg));
		(void)w;
		_exit(127);
	}
	close(errpipe[1]);
	close(initfd);
	if (v2fd >= 0)
		close(v2fd);
	vs_cgroup_free(&cg);
	vs_strv_free(env);
	int r = 0;
	if (pid < 0) {
		r = vs_set_errno(ctx, errno, "cannot fork");
	} else {
		char msg[1024];
		ssize_t n;
		do
			n = read(errpipe[0], msg, sizeof(msg) - 1);
		while (n < 0 && errno == EINTR);
		int st = 0;
		bool ok = wait_child(pid, o->timeout_ms, &st);
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
	close(errpipe[0]);
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return r;
}
