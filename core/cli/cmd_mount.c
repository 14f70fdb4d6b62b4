/* vs <guest> mount (util-vserver's vmount) and vs top [<guest>] (vtop). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli.h"

int cmd_mount(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	const char *type = NULL, *opts = "defaults";
	char *joined = NULL;
	bool bind = false, rbind = false, ro = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if ((!strcmp(o, "-t") || !strcmp(o, "-o")) && i + 1 < argc) {
			if (o[1] == 't')
				type = argv[++i];
			else
				opts = argv[++i];
		} else if (!strcmp(o, "--bind") || !strcmp(o, "-B")) {
			bind = true;
		} else if (!strcmp(o, "--rbind") || !strcmp(o, "-R")) {
			rbind = true;
		} else if (!strcmp(o, "-r") || !strcmp(o, "--read-only")) {
			ro = true;
		} else {
			return cmd_bad_option(ctx, "mount", o);
		}
	}
	if (argc - i != 2)
		return vs_set_error(ctx, "mount: usage: vs <guest> mount [-t "
					 "<type>] [-o <options>] [--bind] "
					 "<source> <target>"),
		       2;
	struct vs_mount m = {.src = argv[i], .dst = argv[i + 1]};
	if (m.dst[0] != '/')
		return vs_set_error(ctx, "mount: the target '%s' is not an "
					 "absolute path in the guest",
				    m.dst),
		       2;
	joined = vs_asprintf("%s%s%s%s", opts, bind ? ",bind" : "",
			     rbind ? ",rbind" : "", ro ? ",ro" : "");
	vs_mount_options(&m, joined);
	free(joined);
	if (m.prop) {
		free(m.data);
		return vs_set_error(ctx, "mount: '%s': a propagation option is "
					 "not taken for a mount into a running "
					 "guest",
				    opts),
		       2;
	}
	if (!(m.flags & MS_BIND) && !type) {
		free(m.data);
		return vs_set_error(ctx, "mount: a file system type (-t) or "
					 "--bind is needed"),
		       2;
	}
	m.type = (char *)type;
	struct vs_runstate rs;
	int r = 1;
	if (vs_guest_state(g, &rs) != VS_RUNNING)
		vs_set_error(ctx, "guest '%s' is not running", g->name);
	else
		r = vs_guest_mount(g, &rs, &m) < 0 ? 1 : 0;
	free(m.data);
	return r;
}

int cmd_top(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	    char **argv)
{
	(void)n;
	/* top -p takes at most 20 processes */
	enum { TOP_MAX = 20 };
	char **v = vs_xmalloc((size_t)(argc + 4) * sizeof(*v));
	int k = 0;
	v[k++] = "top";
	char list[TOP_MAX * 12] = "";
	if (g) {
		struct vs_runstate rs;
		struct vs_cgroup cg;
		pid_t pids[4096];
		if (vs_guest_state(g, &rs) != VS_RUNNING) {
			free(v);
			return vs_set_error(ctx, "guest '%s' is not running",
					    g->name),
			       1;
		}
		vs_cgroup_of(g, &rs, &cg);
		size_t np = vs_cgroup_pids(&cg, pids, 4096);
		vs_cgroup_free(&cg);
		if (np > TOP_MAX)
			vs_warn(ctx, "top: guest '%s' has %zu processes; top "
				     "follows the first %d",
				g->name, np, TOP_MAX);
		size_t len = 0;
		for (size_t i = 0; i < np && i < TOP_MAX; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%d", i ? "," : "",
						(int)pids[i]);
		v[k++] = "-p";
		v[k++] = list;
	}
	for (int i = 1; i < argc; i++)
		v[k++] = argv[i];
	v[k] = NULL;
	fflush(stdout);
	execvp("top", v);
	int e = errno;
	free(v);
	return vs_set_errno(ctx, e, "cannot run 'top'"), 127;
}
