/* vs <guest> limit (util-vserver's vlimit) and vs <guest> sched (vsched)
 * on a running guest: the same vanilla equivalents as rlimits/ and sched/
 * at start (setrlimit on every process, pids.max, the memory group,
 * cpu.max or cpu.weight). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

/* vlimit's resources: setrlimit's (the VServer-only ones have no
 * vanilla equivalent) */
#define limits vs_rlimit_names
#define MAXLIMITS 32 /* more than vs_rlimit_names has */

struct change {
	bool soft, hard;
	rlim_t value_soft, value_hard;
};

static void fmt_limit(rlim_t v, char *buf, size_t size)
{
	if (v == RLIM_INFINITY)
		snprintf(buf, size, "inf");
	else
		snprintf(buf, size, "%llu", (unsigned long long)v);
}

/* The init's limits, and the group's pids.max and memory limit. */
static void show(struct vs_guest *g, const struct vs_runstate *rs,
		 const struct vs_cgroup *cg)
{
	printf("%-10s %-20s %s\n", "RESOURCE", "SOFT", "HARD");
	for (size_t i = 0; limits[i].name; i++) {
		struct rlimit l;
		char s[32], h[32];
		if (prlimit(rs->init, limits[i].res, NULL, &l) < 0)
			continue;
		fmt_limit(l.rlim_cur, s, sizeof(s));
		fmt_limit(l.rlim_max, h, sizeof(h));
		printf("%-10s %-20s %s\n", limits[i].name, s, h);
	}
	static const char *const ctls[] = {"pids", "memory", "memory"};
	static const char *const files[] = {"pids.max", "memory.max",
					    "memory.limit_in_bytes"};
	for (int i = 0; i < 3; i++) {
		char *v = vs_cgroup_stat(cg, ctls[i], files[i]);
		if (v) {
			v[strcspn(v, "\n")] = '\0';
			printf("%-10s %-20s %s\n",
			       i == 0 ? "nproc(all)" : "rss(all)", "-", v);
		}
		free(v);
	}
	(void)g;
}

/* Applies one resource's change to every process of the guest; nproc and
 * rss also to its group. */
static int apply(struct vs_guest *g, const struct vs_cgroup *cg, size_t i,
		 const struct change *c)
{
	pid_t pids[8192];
	size_t n = vs_cgroup_pids(cg, pids, 8192);
	char v[64];
	if (!strcmp(limits[i].name, "rss") || !strcmp(limits[i].name, "nproc")) {
		bool rss = limits[i].name[0] == 'r';
		if (!rss && !vs_cgroup_has(cg, "pids")) {
			/* started without a process limit: its processes'
			 * own limits only */
			vs_warn(g->ctx, "limit: guest '%s' has no pids group "
					"(it started without rlimits/nproc): "
					"nproc is set on its processes only; "
					"restart it for a limit of the whole "
					"guest",
				g->name);
		} else if (c->hard) {
			fmt_limit(c->value_hard, v, sizeof(v));
			if (vs_cgroup_set(g, cg, rss ? "memory.max" : "pids.max",
					  strcmp(v, "inf") ? v : "max") < 0)
				return -1;
		}
		if (rss && c->soft) {
			fmt_limit(c->value_soft, v, sizeof(v));
			if (vs_cgroup_set(g, cg, "memory.high",
					  strcmp(v, "inf") ? v : "max") < 0)
				return -1;
		}
		if (rss)
			return 0;
	}
	for (size_t k = 0; k < n; k++) {
		struct rlimit l;
		if (prlimit(pids[k], limits[i].res, NULL, &l) < 0)
			continue; /* gone meanwhile */
		if (c->soft)
			l.rlim_cur = c->value_soft;
		if (c->hard)
			l.rlim_max = c->value_hard;
		if (l.rlim_cur > l.rlim_max)
			l.rlim_cur = l.rlim_max;
		if (prlimit(pids[k], limits[i].res, &l, NULL) < 0 &&
		    errno != ESRCH)
			return vs_set_errno(g->ctx, errno,
					    "limit: cannot set %s of process %d",
					    limits[i].name, (int)pids[k]);
	}
	return 0;
}

int cmd_limit(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	struct change ch[MAXLIMITS];
	memset(ch, 0, sizeof(ch));
	bool all = false, any = false, M = false, S = false, H = false;
	long page = sysconf(_SC_PAGESIZE);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "-a") || !strcmp(o, "--all")) {
			all = true;
		} else if (!strcmp(o, "-d") || !strcmp(o, "-n")) {
			/* decimal, unresolved names: ours are both anyway */
		} else if (o[0] == '-' && o[1] && o[1] != '-' &&
			   strspn(o + 1, "MSH") == strlen(o + 1)) {
			M |= strchr(o, 'M') != NULL;
			S |= strchr(o, 'S') != NULL;
			H |= strchr(o, 'H') != NULL;
		} else if (!strncmp(o, "--", 2) && o[2]) {
			size_t k = 0;
			while (limits[k].name && strcmp(limits[k].name, o + 2))
				k++;
			if (!limits[k].name)
				return vs_set_error(ctx, "limit: unknown resource "
							 "'%s' (vanilla kernels "
							 "have no VServer-only "
							 "limits)",
						    o + 2),
				       2;
			if (i + 1 >= argc)
				return vs_set_error(ctx, "limit: %s needs a "
							 "value",
						    o),
				       2;
			rlim_t v;
			if (vs_limit_parse(argv[++i], &v) < 0)
				return vs_set_error(ctx, "limit: %s: not a limit "
							 "'%s'",
						    o, argv[i]),
				       2;
			if (limits[k].pages && v != RLIM_INFINITY)
				v *= (rlim_t)page;
			if (M && !S && !H)
				return vs_set_error(ctx, "limit: -M: a "
							 "guaranteed minimum "
							 "is not supported"),
				       2;
			if (!S && !H)
				H = true; /* vlimit: hard by default */
			if (S) {
				ch[k].soft = true;
				ch[k].value_soft = v;
			}
			if (H) {
				ch[k].hard = true;
				ch[k].value_hard = v;
			}
			M = S = H = false;
			any = true;
		} else {
			return vs_set_error(ctx, "limit: unknown option '%s'", o),
			       2;
		}
	}
	struct vs_runstate rs;
	if (vs_guest_state(g, &rs) != VS_RUNNING)
		return vs_set_error(ctx, "guest '%s' is not running", g->name),
		       1;
	struct vs_cgroup cg;
	vs_cgroup_of(g, &rs, &cg);
	int r = 0;
	for (size_t k = 0; limits[k].name && r == 0; k++)
		if (ch[k].soft || ch[k].hard)
			r = apply(g, &cg, k, &ch[k]);
	if (r == 0 && (all || !any))
		show(g, &rs, &cg);
	vs_cgroup_free(&cg);
	return r < 0 ? 1 : 0;
}

int cmd_sched(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	unsigned long fill = 0, interval = 0;
	bool idle = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		unsigned long *v = NULL;
		if (!strcmp(o, "--idle-time")) {
			idle = true;
			continue;
		}
		if (!strcmp(o, "--force"))
			continue; /* every change is immediate */
		if (!strcmp(o, "--fill-rate"))
			v = &fill;
		else if (!strcmp(o, "--interval"))
			v = &interval;
		else if (!strcmp(o, "--tokens") || !strcmp(o, "--tokens-min") ||
			 !strcmp(o, "--tokens-max") || !strcmp(o, "--prio-bias") ||
			 !strcmp(o, "--priority-bias") ||
			 !strcmp(o, "--fill-rate2") || !strcmp(o, "--interval2") ||
			 !strcmp(o, "--cpu-id") || !strcmp(o, "--bucket-id")) {
			vs_warn(ctx, "sched: %s ignored: the token bucket of the "
				     "VServer scheduler has no vanilla "
				     "equivalent",
				o);
			i++;
			continue;
		} else
			return vs_set_error(ctx, "sched: unknown option '%s'", o),
			       2;
		char *end;
		if (i + 1 >= argc)
			return vs_set_error(ctx, "sched: %s needs a number", o), 2;
		*v = strtoul(argv[++i], &end, 10);
		if (*end || !argv[i][0] || !*v)
			return vs_set_error(ctx, "sched: %s: not a positive "
						 "number '%s'",
					    o, argv[i]),
			       2;
	}
	if (!fill || !interval)
		return vs_set_error(ctx, "sched: --fill-rate and --interval are "
					 "needed"),
		       2;
	struct vs_runstate rs;
	if (vs_guest_state(g, &rs) != VS_RUNNING)
		return vs_set_error(ctx, "guest '%s' is not running", g->name),
		       1;
	char name[32], value[64];
	vs_sched_setting(fill, interval, idle, name, value);
	struct vs_cgroup cg;
	vs_cgroup_of(g, &rs, &cg);
	int r = vs_cgroup_set(g, &cg, name, value);
	if (r == 0 && idle) /* no hard limit any more */
		r = vs_cgroup_set(g, &cg, "cpu.max", "max 100000");
	vs_cgroup_free(&cg);
	return r < 0 ? 1 : 0;
}
