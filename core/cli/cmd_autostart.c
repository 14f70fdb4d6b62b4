/* vs autostart (also start-vservers): starts or stops the guests chosen by
 * selectors (COMPAT §6), dependencies first (apps/init/depends), -j in
 * parallel.  Exit: 0 all done (or nothing to do), 1 nothing succeeded,
 * 2 some did not. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

enum sel { SEL_ALL, SEL_MARKED, SEL_UNMARKED, SEL_RUNNING, SEL_STOPPED };

struct target {
	char *name;
	size_t *deps; /* indexes into the target list */
	size_t ndeps;
	bool selected;
	int state; /* 0 waiting, 1 running, 2 done ok, 3 failed */
	pid_t pid;
	bool blocked; /* not started: a dependency failed */
};

struct plan {
	struct target *t;
	size_t n;
};

static bool has_mark(struct vs_guest *g, const char *mark)
{
	int err;
	char **lines = vs_guest_cfg_lines(g, "apps/init/mark", &err);
	bool hit = false;
	for (char **l = lines; l && *l && !hit; l++)
		hit = mark ? !strcmp(*l, mark) : (*l)[0] != '\0';
	vs_strv_free(lines);
	return hit;
}

/* --mark a,b,!c: any listed mark is a line of apps/init/mark; a '!' or
 * '~' on any element inverts the whole test. */
static bool mark_test(struct vs_guest *g, const char *list)
{
	char *copy = vs_strdup(list), *save = NULL;
	bool invert = false, hit = false;
	for (char *m = strtok_r(copy, ",", &save); m;
	     m = strtok_r(NULL, ",", &save)) {
		if (*m == '!' || *m == '~') {
			invert = true;
			m++;
		}
		if (*m && has_mark(g, m))
			hit = true;
	}
	free(copy);
	return hit != invert;
}

static size_t find(struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->t[i].name, name))
			return i;
	return (size_t)-1;
}

static size_t add(struct plan *p, const char *name)
{
	size_t i = find(p, name);
	if (i != (size_t)-1)
		return i;
	p->t = vs_xrealloc(p->t, (p->n + 1) * sizeof(*p->t));
	memset(&p->t[p->n], 0, sizeof(*p->t));
	p->t[p->n].name = vs_strdup(name);
	return p->n++;
}

/* Adds the dependencies of target i (recursively for start). */
static int add_deps(struct vs_ctx *ctx, struct plan *p, size_t i, bool follow)
{
	struct vs_guest *g = vs_guest_open(ctx, p->t[i].name);
	if (!g)
		return -1;
	int err;
	char **deps = vs_guest_cfg_lines(g, "apps/init/depends", &err);
	vs_guest_free(g);
	if (err)
		return -1;
	int r = 0;
	for (char **d = deps; d && *d && r == 0; d++) {
		struct vs_guest *dg = vs_guest_open(ctx, *d);
		if (!dg) {
			r = vs_set_error(ctx,
					 "autostart: guest '%s' depends on '%s', "
					 "which is not a guest",
					 p->t[i].name, *d);
			break;
		}
		vs_guest_free(dg);
		size_t before = p->n;
		size_t k = follow ? add(p, *d) : find(p, *d);
		if (k == (size_t)-1)
			continue; /* stop: only among the selected */
		struct target *t = &p->t[i]; /* after add(): p->t may move */
		t->deps = vs_xrealloc(t->deps, (t->ndeps + 1) * sizeof(*t->deps));
		t->deps[t->ndeps++] = k;
		if (follow && p->n > before)
			r = add_deps(ctx, p, k, follow);
	}
	vs_strv_free(deps);
	return r;
}

/* Finds a cycle with a depth-first walk; writes it into the error. */
static int check_cycles(struct vs_ctx *ctx, struct plan *p, size_t i,
			int *mark, size_t *stack, size_t depth)
{
	if (mark[i] == 2)
		return 0;
	stack[depth] = i;
	if (mark[i] == 1) {
		char msg[1024];
		size_t len = 0, from = 0;
		while (stack[from] != i)
			from++;
		for (size_t k = from; k <= depth && len < sizeof(msg) - 80; k++)
			len += (size_t)snprintf(msg + len, sizeof(msg) - len,
						"%s%s", k > from ? " -> " : "",
						p->t[stack[k]].name);
		return vs_set_error(ctx, "autostart: dependency cycle: %s", msg);
	}
	mark[i] = 1;
	for (size_t d = 0; d < p->t[i].ndeps; d++)
		if (check_cycles(ctx, p, p->t[i].deps[d], mark, stack,
				 depth + 1) < 0)
			return -1;
	mark[i] = 2;
	return 0;
}

/* For stop the edges turn round: a guest stops after its dependents. */
static bool ready(const struct plan *p, size_t i, bool start)
{
	if (start) {
		for (size_t d = 0; d < p->t[i].ndeps; d++)
			if (p->t[p->t[i].deps[d]].state != 2)
				return false;
		return true;
	}
	for (size_t k = 0; k < p->n; k++)
		for (size_t d = 0; d < p->t[k].ndeps; d++)
			if (p->t[k].deps[d] == i && p->t[k].state < 2)
				return false;
	return true;
}

static bool blocked(const struct plan *p, size_t i, bool start)
{
	if (!start)
		return false; /* a failed stop does not keep others running */
	for (size_t d = 0; d < p->t[i].ndeps; d++)
		if (p->t[p->t[i].deps[d]].state == 3)
			return true;
	return false;
}

static pid_t launch(struct vs_ctx *ctx, const char *name, bool start)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	struct vs_guest *g = vs_guest_open(ctx, name);
	int r = -1;
	if (g) {
		bool running = vs_guest_running(g);
		if (running == start)
			r = 0; /* already as wanted */
		else
			r = start ? vs_guest_start(g, false) : vs_guest_stop(g);
	}
	if (r < 0)
		vs_print_line(stderr, "vs: ", vs_error(ctx));
	_exit(r < 0 ? 1 : 0);
}

static int run_plan(struct vs_ctx *ctx, struct plan *p, bool start, long jobs)
{
	size_t done = 0, active = 0, ok = 0;
	while (done < p->n) {
		bool progress = false;
		for (size_t i = 0; i < p->n && active < (size_t)jobs; i++) {
			struct target *t = &p->t[i];
			if (t->state != 0)
				continue;
			if (blocked(p, i, start)) {
				t->state = 3;
				t->blocked = true;
				done++;
				progress = true;
				vs_warn(ctx, "not starting '%s': a dependency "
					     "failed",
					t->name);
				continue;
			}
			if (!ready(p, i, start))
				continue;
			vs_info(ctx, 1, "%s '%s'", start ? "starting" : "stopping",
				t->name);
			t->pid = launch(ctx, t->name, start);
			if (t->pid < 0) {
				t->state = 3;
				done++;
			} else {
				t->state = 1;
				active++;
			}
			progress = true;
		}
		if (active == 0 && !progress)
			break; /* nothing can move: cannot happen without a cycle */
		if (active == 0)
			continue;
		int st;
		pid_t pid = wait(&st);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t i = 0; i < p->n; i++)
			if (p->t[i].state == 1 && p->t[i].pid == pid) {
				bool good = WIFEXITED(st) && WEXITSTATUS(st) == 0;
				p->t[i].state = good ? 2 : 3;
				ok += good;
				active--;
				done++;
			}
	}
	if (p->n == 0)
		return 0;
	if (ok == 0)
		return 1;
	return ok == p->n ? 0 : 2;
}

int cmd_autostart(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
		  int argc, char **argv)
{
	static const struct option opts[] = {
		{"start", no_argument, NULL, 'S'},
		{"stop", no_argument, NULL, 'T'},
		{"all", no_argument, NULL, 'a'},
		{"marked", no_argument, NULL, 'M'},
		{"unmarked", no_argument, NULL, 'U'},
		{"running", no_argument, NULL, 'R'},
		{"stopped", no_argument, NULL, 'P'},
		{"mark", required_argument, NULL, 'm'},
		{"debug", no_argument, NULL, 'd'},
		{"json", no_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	(void)unused;
	(void)n;
	bool start = true, any = false, sel[5] = {false}, json = false;
	const char *marks[16];
	size_t nmarks = 0;
	long jobs = 99;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:m:j:h", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			start = true;
			break;
		case 'T':
			start = false;
			break;
		case 'a':
			sel[SEL_ALL] = any = true;
			break;
		case 'M':
			sel[SEL_MARKED] = any = true;
			break;
		case 'U':
			sel[SEL_UNMARKED] = any = true;
			break;
		case 'R':
			sel[SEL_RUNNING] = any = true;
			break;
		case 'P':
			sel[SEL_STOPPED] = any = true;
			break;
		case 'm':
			if (nmarks < 16)
				marks[nmarks++] = optarg;
			any = true;
			break;
		case 'j': {
			char *end;
			jobs = strtol(optarg, &end, 10);
			if (*end || jobs < 1 || jobs > 1000) {
				vs_set_error(ctx, "autostart: invalid -j '%s'",
					     optarg);
				return 2;
			}
			break;
		}
		case 'c': /* the configuration directory to choose from */
			if (optarg[0] != '/' || !vs_host_isdir(ctx, optarg)) {
				vs_set_error(ctx, "autostart: -c '%s' is not an "
						  "absolute path of a directory",
					     optarg);
				return 2;
			}
			free(ctx->paths[VS_PATH_CONFDIR]);
			ctx->paths[VS_PATH_CONFDIR] = vs_strdup(optarg);
			break;
		case 'd':
			ctx->verbose++;
			break;
		case 'J':
			json = true;
			break;
		default:
			vs_set_error(ctx, "autostart: unknown or incomplete option "
					  "'%s'",
				     argv[optind - 1]);
			return 2;
		}
	}
	int nnames = argc - optind;
	char **names = argv + optind;
	if (!any && nnames == 0) {
		vs_set_error(ctx, "autostart: choose guests with --all, --marked, "
				  "--unmarked, --running, --stopped, --mark or "
				  "names after --");
		return 2;
	}
	/* in a unit with Delegate=yes, the guests' groups go below the
	 * unit's: this process leaves the unit's own group first */
	vs_cgroup_leave_unit_root();
	struct plan p = {0};
	char **ids = vs_guest_list(ctx);
	for (char **id = ids; any && *id; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		if (!g || vs_guest_cfg_exists(g, "disabled")) {
			vs_guest_free(g);
			continue;
		}
		bool keep = true;
		bool running = vs_guest_running(g);
		if (sel[SEL_MARKED])
			keep &= has_mark(g, NULL);
		if (sel[SEL_UNMARKED])
			keep &= !has_mark(g, NULL);
		if (sel[SEL_RUNNING])
			keep &= running;
		if (sel[SEL_STOPPED])
			keep &= !running;
		for (size_t m = 0; m < nmarks; m++)
			keep &= mark_test(g, marks[m]);
		if (keep) {
			size_t k = add(&p, *id); /* add() may move p.t */
			p.t[k].selected = true;
		}
		vs_guest_free(g);
	}
	vs_strv_free(ids);
	vs_clear_error(ctx);
	for (int i = 0; i < nnames; i++) {
		if (!strcmp(names[i], "--"))
			continue;
		struct vs_guest *g = names[i][0] == '/' ? NULL
							: vs_guest_open(ctx, names[i]);
		if (!g) {
			vs_warn(ctx, "autostart: skipping '%s': not a guest name",
				names[i]);
			vs_clear_error(ctx);
			continue;
		}
		vs_guest_free(g);
		size_t k = add(&p, names[i]);
		p.t[k].selected = true;
	}
	int r = 0;
	for (size_t i = 0, n0 = p.n; i < n0 && r == 0; i++)
		r = add_deps(ctx, &p, i, start);
	if (r == 0) {
		int *mark = calloc(p.n + 1, sizeof(*mark));
		size_t *stack = calloc(p.n + 2, sizeof(*stack));
		for (size_t i = 0; i < p.n && r == 0; i++)
			r = check_cycles(ctx, &p, i, mark, stack, 0);
		free(mark);
		free(stack);
	}
	int status = r < 0 ? 1 : run_plan(ctx, &p, start, jobs);
	if (json && r == 0) { /* [{"guest", "action", "result"}] */
		putchar('[');
		for (size_t i = 0; i < p.n; i++) {
			fputs(i ? ",{\"guest\":" : "{\"guest\":", stdout);
			json_str(stdout, p.t[i].name);
			printf(",\"action\":\"%s\",\"result\":\"%s\"}",
			       start ? "start" : "stop",
			       p.t[i].state == 2  ? "ok"
			       : p.t[i].blocked	  ? "blocked"
			       : p.t[i].state == 3 ? "failed"
						   : "not run");
		}
		puts("]");
	}
	for (size_t i = 0; i < p.n; i++) {
		free(p.t[i].name);
		free(p.t[i].deps);
	}
	free(p.t);
	if (status && !vs_error(ctx)[0] && r == 0)
		vs_set_error(ctx, "autostart: %s of some guests failed",
			     start ? "the start" : "the stop");
	return status;
}
