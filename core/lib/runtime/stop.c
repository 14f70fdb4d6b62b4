/* Stopping a guest: pre-stop, the init style's stop, a wait bounded by
 * the sync timeout, the kill sequence, then post-stop, cgroup removal and
 * postpost-stop. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* Waits up to ms for a pidfd to become readable (the process ended). */
static bool wait_gone(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

static void signal_guest(const struct vs_cgroup *cg, int initfd, int sig)
{
	if (sig == SIGKILL && cg->v2) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/cgroup.kill", cg->v2);
		FILE *f = fopen(p, "we");
		if (f) {
			fputs("1", f);
			fclose(f);
		}
	}
	vs_cgroup_signal(cg, sig);
	syscall(SYS_pidfd_send_signal, initfd, sig, NULL, 0);
}

/* True when pid catches or blocks sig (SigCgt, SigBlk of its status), as
 * far as /proc shows (not a wait in sigtimedwait): then the sync timeout
 * is waited for its answer.  True too when that cannot be read. */
static bool answers(pid_t pid, int sig)
{
	static const char *const keys[] = {"SigCgt", "SigBlk"};
	unsigned long long m[2] = {0, 0};
	if (vs_proc_status_masks(pid, keys, m, 2) < 2)
		return true;
	return (m[0] | m[1]) & (1ULL << (sig - 1));
}

/* Seconds since the process started (its start time in clock ticks
 * since boot against /proc/uptime), or -1. */
static double age_of(unsigned long long start_ticks)
{
	FILE *f = fopen("/proc/uptime", "re");
	double up = -1;
	if (f) {
		if (fscanf(f, "%lf", &up) != 1)
			up = -1;
		fclose(f);
	}
	long hz = sysconf(_SC_CLK_TCK);
	return up < 0 || hz <= 0 ? -1 : up - (double)start_ticks / (double)hz;
}

/* After the stop signal, for an init that seems neither to catch nor to
 * block it (answers() false): busybox waits for it in sigtimedwait, which
 * looks just so, and handles it; an init in its first moments, before it
 * has set up its handling (a stop right after the start), drops it; one
 * that ignores it for good never answers.  The signal goes again every
 * 20 ms for 200 ms, and at least until the init is a second old; then the
 * kill sequence, never the sync timeout.  True when the init is gone. */
static bool resend_stop(const struct vs_runstate *rs, int initfd, int sig)
{
	for (int ms = 0;; ms += 20) {
		if (wait_gone(initfd, 20))
			return true;
		double age = age_of(rs->init_start);
		if (ms >= 200 && (age < 0 || age >= 1.0))
			return false;
		syscall(SYS_pidfd_send_signal, initfd, sig, NULL, 0);
	}
}

/* The stop itself: the style's action, the wait, the kill sequence.
 * Returns when the init is gone. */
static void stop_sequence(struct vs_guest *g, const struct vs_plan *p,
			  const struct vs_runstate *rs, int initfd)
{
	struct vs_cgroup cg;
	vs_cgroup_of(g, rs, &cg);
	int timeout_ms = p->timeout > 0 ? p->timeout * 1000 : 0;
	bool waited = false;
	/* the init is to end by itself (its answer to the stop), not by
	 * the kill sequence */
	bool by_itself = false;
	if (p->stop_argv || (!strcmp(p->style, "sysv") && !p->stop_argv)) {
		/* a stop command, run inside the guest within the timeout */
		static const char *const rcs[] = {"/etc/rc.d/rc",
						  "/etc/init.d/rc", NULL};
		char *rc_argv[] = {NULL, (char *)p->runlevel_stop, NULL};
		char **env = vs_guest_env(g);
		size_t n = 0;
		while (env[n])
			n++;
		env = vs_xrealloc(env, (n + 3) * sizeof(*env));
		if (!p->stop_argv) {
			env[n++] = vs_asprintf("PREVLEVEL=%s", p->runlevel_start);
			env[n++] = vs_asprintf("RUNLEVEL=%s", p->runlevel_stop);
		}
		env[n] = NULL;
		struct vs_exec_opts o = {
			.argv = p->stop_argv ? p->stop_argv : rc_argv,
			.candidates = p->stop_argv ? NULL : rcs,
			.env = env,
			.timeout_ms = timeout_ms,
		};
		int status;
		if (vs_guest_exec(g, rs, &o, &status) < 0 ||
		    (status != 0 && status != 127)) {
			if (g->ctx->err[0])
				vs_info(g->ctx, 1, "%s", g->ctx->err);
			vs_clear_error(g->ctx);
		}
		vs_strv_free(env);
		/* a fake init (the guest's own PID 1) ends when its stop
		 * command has told it to: it gets the timeout for that;
		 * vs's init ends only by the kill sequence */
		waited = !p->fakeinit;
		by_itself = p->fakeinit;
	} else if (p->stop_signal) {
		bool visible = answers(rs->init, p->stop_signal);
		by_itself = visible;
		syscall(SYS_pidfd_send_signal, initfd, p->stop_signal, NULL, 0);
		if (!visible) {
			resend_stop(rs, initfd, p->stop_signal);
			waited = true;
		}
	}
	if (vs_guest_sync(g) && g->root) { /* util-vserver: it waits */
		char root[PATH_MAX];
		if (vs_run_cfg_command(g, "apps/init/cmd.stop-sync",
				       vs_host_real(g->ctx, g->root, root,
						    sizeof(root))) < 0) {
			vs_warn(g->ctx, "%s", vs_error(g->ctx));
			vs_clear_error(g->ctx);
		}
	}
	if (!waited)
		wait_gone(initfd, timeout_ms);
	if (by_itself && !wait_gone(initfd, 0))
		vs_info(g->ctx, 1,
			"guest '%s': its init did not end within %d s of the "
			"stop: the kill sequence follows",
			g->name, p->timeout);
	for (size_t i = 0; i < p->nkill && !wait_gone(initfd, 0); i += 2) {
		signal_guest(&cg, initfd, p->killseq[i]);
		int wait = i + 1 < p->nkill ? p->killseq[i + 1] : 1;
		wait_gone(initfd, wait * 1000);
	}
	/* the namespace's init ignores what it has no handler for: its end
	 * ends every process of the guest */
	while (!wait_gone(initfd, 5000))
		signal_guest(&cg, initfd, SIGKILL);
	vs_cgroup_free(&cg);
}

static void default_plan(struct vs_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->killseq[0] = SIGTERM;
	p->killseq[1] = 5;
	p->killseq[2] = SIGKILL;
	p->nkill = 3;
	p->timeout = 30;
	snprintf(p->style, sizeof(p->style), "none");
}

/* Stops a running guest whose lock is held. */
static void stop_locked(struct vs_guest *g, struct vs_runstate *rs,
			bool from_monitor)
{
	struct vs_plan p;
	if (vs_plan_load(g, &p, false) < 0) {
		vs_warn(g->ctx, "%s; stopping with the default kill sequence",
			vs_error(g->ctx));
		vs_clear_error(g->ctx);
		vs_plan_free(&p);
		default_plan(&p);
	}
	g->xid = rs->xid;
	vs_hooks_run(g, "pre-stop", false);
	int initfd = vs_pidfd_open(rs->init, rs->init_start);
	int monfd = -1;
	if (!from_monitor) {
		monfd = vs_pidfd_open(rs->monitor, rs->monitor_start);
		if (monfd >= 0)
			syscall(SYS_pidfd_send_signal, monfd, SIGUSR1, NULL, 0);
	}
	if (initfd >= 0) {
		stop_sequence(g, &p, rs, initfd);
		close(initfd);
	}
	if (monfd >= 0) {
		wait_gone(monfd, 5000);
		close(monfd);
	}
	vs_guest_cleanup(g, rs, true);
	vs_plan_free(&p);
}

int vs_guest_stop(struct vs_guest *g)
{
	struct vs_runstate rs;
	int lock = vs_guest_lock(g);
	if (lock < 0)
		return -1;
	enum vs_state st = vs_guest_state(g, &rs);
	if (st == VS_RUNNING) {
		stop_locked(g, &rs, false);
	} else {
		/* not running: only what a dead monitor left behind */
		if (st == VS_STALE) {
			int fd = vs_pidfd_open(rs.init, rs.init_start);
			if (fd >= 0) {
				syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
				wait_gone(fd, 5000);
				close(fd);
			}
		}
		vs_guest_cleanup(g, st == VS_STALE ? &rs : NULL, false);
		vs_info(g->ctx, 1, "guest '%s' is not running", g->name);
	}
	close(lock);
	return 0;
}

void vs_guest_stop_from_monitor(struct vs_guest *g)
{
	struct vs_runstate rs;
	int lock = vs_guest_lock(g);
	if (lock < 0)
		return;
	if (vs_guest_state(g, &rs) == VS_RUNNING && rs.monitor == getpid())
		stop_locked(g, &rs, true);
	close(lock);
}
