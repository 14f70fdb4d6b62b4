/* Build method "skeleton": the common skeleton only (COMPAT §2.2), then an
 * optional command run on the host.
 *   vs <guest> build -m skeleton [common options] -- [-d <dist>]
 *       [--pkgmgmt] [<command> <args>...] */
#include <stdlib.h>
#include <string.h>

#include <vs/plugin.h>
#include "frontend.h"

struct skeleton_opts {
	char **cmd; /* NULL-terminated, or NULL */
};

static struct skeleton_opts skeleton_state;

static int skeleton_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	int i = 0;
	while (i < argc) {
		if (strcmp(argv[i], "-d") == 0) {
			if (i + 1 >= argc)
				return vs_set_error(ctx,
						    "skeleton: -d needs a "
						    "distribution");
			const char *d = argv[i + 1];
			if (!*d || strchr(d, '/') || d[0] == '.')
				return vs_set_error(ctx,
						    "skeleton: invalid "
						    "distribution '%s'",
						    d);
			/* ":" means none, as util-vserver */
			vs_build_set_dist(b, strcmp(d, ":") ? d : NULL);
			i += 2;
		} else if (strcmp(argv[i], "--pkgmgmt") == 0) {
			vs_build_want_pkgmgmt(b);
			i++;
		} else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (argv[i][0] == '-') {
			return vs_set_error(ctx, "skeleton: unknown option '%s'",
					    argv[i]);
		} else {
			break;
		}
	}
	skeleton_state.cmd = i < argc ? argv + i : NULL;
	vs_build_set_data(b, &skeleton_state);
	return 0;
}

static int skeleton_build(struct vs_build *b)
{
	struct skeleton_opts *o = vs_build_data(b);
	if (!o || !o->cmd)
		return 0;
	int st = vs_build_run(b, o->cmd);
	if (st < 0)
		return -1;
	if (st != 0)
		return vs_set_error(vs_build_ctx(b),
				    "skeleton: '%s' failed with status %d",
				    o->cmd[0], st);
	return 0;
}

static const struct vs_build_ops skeleton_ops = {
	.usage = "[-d <distribution>] [--pkgmgmt] [<command> <args>...]",
	.prepare = skeleton_prepare,
	.build = skeleton_build,
	/* the front end of every build method */
	.run = vs_build_front_run,
	.run_usage = vs_build_front_usage,
};

VS_PLUGIN_DEFINE(skeleton, VS_KIND_BUILD, "1.1",
		 "the configuration and an empty root only; the build front end", &skeleton_ops,
		 NULL);
