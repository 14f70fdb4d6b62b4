/* vs <guest> condrestart | kill | wait: util-vserver's condrestart, vkill
 * and vwait on a running guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

int cmd_condrestart(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
		    int argc, char **argv)
{
	/* util-vserver: only a running guest restarts (the options are
	 * checked either way) */
	if (!vs_guest_running(g)) {
		static const char *const names[] = {"--sync", NULL};
		bool seen[1] = {false};
		return cmd_flags(ctx, argc, argv, names, seen);
	}
	return cmd_restart(ctx, g, n, argc, argv);
}

/* The running guest's state and cgroups; -1 (error set) when stopped. */
static int running(struct vs_guest *g, struct vs_runstate *rs,
		   struct vs_cgroup *cg)
{
	if (vs_guest_state(g, rs) != VS_RUNNING)
		return vs_set_error(g->ctx, "guest '%s' is not running",
				    g->name);
	vs_cgroup_of(g, rs, cg);
	return 0;
}

/* Signals one process of the guest, given by its host pid (as vs ps
 * shows it): it is checked to be the guest's through a pidfd, so a
 * recycled pid is never hit. */
static int kill_one(struct vs_guest *g, const struct vs_cgroup *cg,
		    const char *arg, int sig)
{
	long pid = strtol(arg, NULL, 10); /* checked by the caller */
	int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
	bool ours = fd >= 0 && vs_cgroup_holds(cg, (pid_t)pid);
	int r = 0;
	if (!ours)
		r = vs_set_error(g->ctx, "kill: process %ld is not in guest '%s'",
				 pid, g->name);
	else if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		r = vs_set_errno(g->ctx, errno, "kill: cannot signal process %ld",
				 pid);
	if (fd >= 0)
		close(fd);
	return r;
}

int cmd_kill(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	     char **argv)
{
	(void)n;
	int sig = SIGKILL, i = 1; /* vkill's default: 9 */
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		const char *s = NULL;
		if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--signal")) {
			if (++i >= argc)
				return vs_set_error(ctx, "kill: -s needs a "
							 "signal"),
				       2;
			s = argv[i];
		} else if (argv[i][1] && argv[i][1] != '-') {
			s = argv[i] + 1; /* -TERM, -9 */
		} else {
			return vs_set_error(ctx, "kill: unknown option '%s'",
					    argv[i]),
			       2;
		}
		if (!strcmp(s, "0")) /* only whether the process exists */
			sig = 0;
		else if ((sig = vs_signal_parse(s)) < 0)
			return vs_set_error(ctx, "kill: unknown signal '%s'", s),
			       2;
	}
	for (int k = i; k < argc; k++) { /* every pid checked before any */
		char *end;
		long pid = strtol(argv[k], &end, 10);
		if (*end || pid <= 0 || !argv[k][0])
			return vs_set_error(ctx, "kill: not a process id '%s'",
					    argv[k]),
			       2;
	}
	struct vs_runstate rs;
	struct vs_cgroup cg;
	if (running(g, &rs, &cg) < 0)
		return 1;
	int r = 0;
	if (i == argc) /* vkill without a pid: every process of the guest */
		vs_cgroup_signal(&cg, sig);
	for (; i < argc && r == 0; i++)
		r = kill_one(g, &cg, argv[i], sig);
	vs_cgroup_free(&cg);
	return r < 0 ? 1 : 0;
}

/* vwait's report on --status-fd: "FINISHED 0", "TIMEOUT", "KILLED". */
static void report(int fd, const char *what)
{
	if (fd < 0)
		return;
	dprintf(fd, "%s\n", what);
}

int cmd_wait(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	     char **argv)
{
	(void)n;
	long timeout = 0, status_fd = -1;
	bool terminate = false;
	for (int i = 1; i < argc; i++) {
		char *end;
		long *v = NULL;
		if (!strcmp(argv[i], "--terminate")) {
			terminate = true;
			continue;
		}
		if (!strcmp(argv[i], "--timeout"))
			v = &timeout;
		else if (!strcmp(argv[i], "--status-fd"))
			v = &status_fd;
		else
			return vs_set_error(ctx, "wait: unknown option '%s'",
					    argv[i]),
			       2;
		if (i + 1 >= argc)
			return vs_set_error(ctx, "wait: %s needs a number",
					    argv[i]),
			       2;
		*v = strtol(argv[++i], &end, 10);
		if (*end || !argv[i][0] || *v < 0)
			return vs_set_error(ctx, "wait: %s: not a number '%s'",
					    argv[i - 1], argv[i]),
			       2;
	}
	struct vs_runstate rs;
	int fd = -1;
	if (vs_guest_state(g, &rs) == VS_RUNNING)
		fd = vs_pidfd_open(rs.init, rs.init_start);
	if (fd >= 0) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int k;
		while ((k = poll(&p, 1, timeout ? (int)(timeout * 1000) : -1)) <
			       0 &&
		       errno == EINTR)
			;
		close(fd);
		if (k == 0 && !terminate) {
			report((int)status_fd, "TIMEOUT");
			return vs_set_error(ctx, "guest '%s' still runs after "
						 "%ld s",
					    g->name, timeout),
			       2;
		}
		if (k == 0) { /* --terminate: as vwait, the guest is killed */
			struct vs_cgroup cg;
			vs_cgroup_of(g, &rs, &cg);
			vs_cgroup_signal(&cg, SIGKILL);
			vs_cgroup_free(&cg);
			report((int)status_fd, "KILLED");
			return 1;
		}
	}
	report((int)status_fd, "FINISHED 0");
	return 0;
}
