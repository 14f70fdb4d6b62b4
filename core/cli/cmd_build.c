/* vs <guest> build -m <method> ...: the build front end is the skeleton
 * plugin's (plugins/build/common); it finds the method itself. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The skeleton plugin, if it carries the front end (ABI 1.2). */
static const struct vs_build_ops *front_end(struct vs_ctx *ctx)
{
	const struct vs_plugin *p = vs_plugin_load(ctx, VS_KIND_BUILD,
						   "skeleton");
	if (p && (p->abi_minor < 2 ||
		  !((const struct vs_build_ops *)p->ops)->run)) {
		vs_set_error(ctx, "build: the skeleton plugin (%s) has no "
				  "build front end (ABI 1.2)",
			     p->version);
		p = NULL;
	}
	return p ? p->ops : NULL;
}

int cmd_build(struct vs_ctx *ctx, struct vs_guest *g, const char *name,
	      int argc, char **argv)
{
	(void)g;
	const struct vs_build_ops *fe = front_end(ctx);
	if (!fe) {
		char why[sizeof(ctx->err)];
		snprintf(why, sizeof(why), "%s", vs_error(ctx));
		vs_set_error(ctx, "build needs the skeleton build plugin: %s",
			     why);
		return 1;
	}
	return fe->run(ctx, name, argc, argv) < 0 ? 1 : 0;
}

void cmd_build_usage(struct vs_ctx *ctx, FILE *out)
{
	const struct vs_build_ops *fe = front_end(ctx);
	if (fe && fe->run_usage)
		fputs(fe->run_usage, out);
	else
		fputs("usage: vs <guest> build -m <method> [options] [-- "
		      "<method options>]\n  (the skeleton build plugin, "
		      "which has the options, is missing)\n",
		      out);
}

int cmd_clone(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	if (argc < 2 || argv[1][0] == '-')
		return vs_set_error(ctx, "clone: usage: vs <guest> clone <new> "
					 "[build options]"),
		       2;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--") || !strcmp(argv[i], "-m"))
			return vs_set_error(ctx, "clone: '%s' is not a clone "
						 "option (the method is "
						 "clone)",
					    argv[i]),
			       2;
	if (vs_guest_name_check(ctx, argv[1]) < 0)
		return 1;
	/* vs <new> build [options] -m clone -- --source <cfgdir> */
	char **v = vs_xmalloc((size_t)(argc + 6) * sizeof(*v));
	int k = 0;
	v[k++] = "build";
	for (int i = 2; i < argc; i++)
		v[k++] = argv[i];
	v[k++] = "-m";
	v[k++] = "clone";
	v[k++] = "--";
	v[k++] = "--source";
	v[k++] = g->cfgdir;
	v[k] = NULL;
	int r = cmd_build(ctx, NULL, argv[1], k, v);
	free(v);
	return r;
}
