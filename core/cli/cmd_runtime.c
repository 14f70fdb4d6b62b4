/* vs <guest> start|stop|restart|status|running */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cmd_start(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	static const char *const names[] = {"--foreground", "--rescue",
					    "--sync", NULL};
	bool seen[3] = {false};
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	g->sync = seen[2];
	if (seen[1])
		return vs_set_error(ctx, "start: --rescue is not supported yet"), 2;
	return vs_guest_start(g, seen[0]) < 0 ? 1 : 0;
}

int cmd_stop(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	     char **argv)
{
	static const char *const names[] = {"--sync", NULL};
	bool seen[1] = {false};
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	g->sync = seen[0];
	return vs_guest_stop(g) < 0 ? 1 : 0;
}

int cmd_restart(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
		int argc, char **argv)
{
	static const char *const names[] = {"--sync", NULL};
	bool seen[1] = {false};
	int r = cmd_flags(ctx, argc, argv, names, seen);
	(void)n;
	if (r)
		return r;
	g->sync = seen[0];
	if (vs_guest_stop(g) < 0)
		return 1;
	return vs_guest_start(g, false) < 0 ? 1 : 0;
}

static void format_uptime(time_t secs, char *buf, size_t size)
{
	long d = (long)(secs / 86400), h = (long)(secs / 3600 % 24),
	     m = (long)(secs / 60 % 60), s = (long)(secs % 60);
	if (d)
		snprintf(buf, size, "%ld day%s %02ld:%02ld:%02ld", d,
			 d == 1 ? "" : "s", h, m, s);
	else
		snprintf(buf, size, "%02ld:%02ld:%02ld", h, m, s);
}

int cmd_status(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
	       int argc, char **argv)
{
	static const char *const names[] = {"-v", "--silent", "-q", "--json",
					    NULL};
	bool seen[4] = {false};
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	struct vs_runstate rs;
	bool quiet = seen[1] || seen[2];
	if (seen[3]) { /* {"guest", "running", "context", "processes", "uptime"} */
		bool on = vs_guest_state(g, &rs) == VS_RUNNING;
		fputs("{\"guest\":", stdout);
		json_str(stdout, g->name);
		printf(",\"running\":%s", on ? "true" : "false");
		if (on) {
			struct vs_cgroup cg;
			pid_t pids[4096];
			vs_cgroup_of(g, &rs, &cg);
			size_t np = vs_cgroup_pids(&cg, pids, 4096);
			vs_cgroup_free(&cg);
			printf(",\"context\":%u,\"processes\":%zu,\"uptime\":%lld",
			       rs.xid, np, (long long)(time(NULL) - rs.started));
		}
		puts("}");
		return on ? 0 : 3;
	}
	if (vs_guest_state(g, &rs) != VS_RUNNING) {
		if (!quiet)
			printf("Vserver '%s' is stopped\n", g->name);
		return 3;
	}
	if (!quiet)
		printf("Vserver '%s' is running at context '%u'\n", g->name,
		       rs.xid);
	if (seen[0]) {
		struct vs_cgroup cg;
		pid_t pids[4096];
		char up[64];
		vs_cgroup_of(g, &rs, &cg);
		size_t np = vs_cgroup_pids(&cg, pids, 4096);
		vs_cgroup_free(&cg);
		format_uptime(time(NULL) - rs.started, up, sizeof(up));
		printf("Number of processes:  %zu\nUptime:               %s\n",
		       np, up);
	}
	return 0;
}

int cmd_running(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
		int argc, char **argv)
{
	(void)n;
	int r = cmd_flags(ctx, argc, argv, (const char *const[]){NULL}, NULL);
	if (r)
		return r;
	return vs_guest_running(g) ? 0 : 1;
}
