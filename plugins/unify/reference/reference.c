/* Unify plugin "reference" (util-vserver's vunify): shares a guest's files
 * with its reference guests, apps/vunify/refserver.* in sorted order.
 *   vs <guest> unify [-n] [-v...] [--link=auto|reflink|hardlink]
 *                    [--ignore-mtime] [-R]
 *   vs unify --manually [options] <dst> <dst-exclude> (<ref> <ref-excl>)+
 *   vs <guest> deunify [-n] [-v] [path...] */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vs/plugin.h>
#include "../common/unify.h"

struct reference_args {
	unsigned flags;
	int verbose;
	const char *link;
	int manual;
	int optind;
};

static int reference_options(struct vs_ctx *ctx, int argc, char **argv,
			     struct reference_args *a)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"verbose", no_argument, NULL, 'v'},
		{"link", required_argument, NULL, 'l'},
		{"ignore-mtime", no_argument, NULL, 'i'},
		{"manually", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof(*a));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nvRx", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a->flags |= VS_UNIFY_DRY_RUN;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'R':
			a->flags |= VS_UNIFY_REVERT;
			break;
		case 'x': /* accepted and ignored, as util-vserver */
			break;
		case 'l':
			a->link = optarg;
			break;
		case 'i':
			a->flags |= VS_UNIFY_IGNORE_MTIME;
			break;
		case 'j':
			a->flags |= VS_UNIFY_JSON;
			break;
		case 'm':
			a->manual = 1;
			break;
		default:
			return vs_set_error(ctx,
					    "%s: unknown or incomplete option '%s'",
					    argv[0], argv[optind - 1]);
		}
	}
	a->optind = optind;
	if (vs_unify_link_check(ctx, argv[0], a->link) < 0)
		return -1;
	return 0;
}

/* The references of a guest, in sorted order (alphasort, as util-vserver:
 * refserver.10 before refserver.2). */
static int reference_add_refs(struct vs_ctx *ctx, struct vs_unify_job *j,
			      struct vs_guest *g)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/apps/vunify", vs_guest_cfgdir(g));
	char **names = vs_host_list(ctx, dir);
	int r = 0, n = 0;
	for (char **nm = names; nm && *nm && r == 0; nm++) {
		if (strncmp(*nm, "refserver.", 10) != 0)
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, *nm);
		struct vs_guest *ref = vs_guest_get(ctx, path);
		if (!ref) {
			r = vs_set_error(ctx, "cannot use reference '%s': %s", path,
					 vs_error(ctx));
			break;
		}
		r = vs_unify_job_add_guest(j, ref);
		vs_guest_put(ref);
		n++;
	}
	vs_strv_free(names);
	if (r == 0 && n == 0)
		r = vs_set_error(ctx,
				 "guest '%s' has no reference "
				 "(apps/vunify/refserver.*)",
				 vs_guest_name(g));
	return r;
}

static int reference_unify(struct vs_ctx *ctx, struct vs_guest *g, int argc,
			   char **argv)
{
	struct reference_args a;
	if (reference_options(ctx, argc, argv, &a) < 0)
		return 2;
	if (!strcmp(argv[0], "deunify"))
		a.flags |= VS_UNIFY_REVERT;
	bool revert = a.flags & VS_UNIFY_REVERT;
	int rest = argc - a.optind;
	if (a.manual && (g || rest < 4 || rest % 2))
		return vs_set_error(ctx, "unify --manually: expected <dst> "
					 "<dst-exclude> (<ref> <ref-exclude>)+"),
		       2;
	if (!a.manual && !g)
		return vs_set_error(ctx, "%s: no guest given (or use --manually)",
				    argv[0]),
		       2;
	if (!a.manual && !revert && rest > 0)
		return vs_set_error(ctx, "%s: unexpected argument '%s'", argv[0],
				    argv[a.optind]),
		       2;
	struct vs_unify_job *j = vs_unify_job_new(ctx, a.verbose);
	if (!j)
		return vs_set_error(ctx, "out of memory"), 1;
	int r = 0;
	if (a.manual) {
		for (int i = a.optind; i < argc && r == 0; i += 2)
			r = vs_unify_job_add_tree(j, argv[i], argv[i + 1]);
	} else {
		r = vs_unify_job_add_guest(j, g);
		if (r == 0 && !revert)
			r = reference_add_refs(ctx, j, g);
	}
	if (r == 0)
		r = vs_unify_job_run(j, a.link, a.flags, a.verbose,
				     revert && !a.manual ? argv + a.optind : NULL);
	vs_unify_job_free(j);
	return r < 0 ? 1 : 0;
}

/* The unify kind's entry point: one guest, the command's arguments. */
static int reference_run(struct vs_ctx *ctx, struct vs_guest *g, int argc,
			 char **argv)
{
	return reference_unify(ctx, g, argc, argv);
}

static const struct vs_unify_ops reference_ops = {
	.usage = "[-n] [-v...] [--link=auto|reflink|hardlink] "
		 "[--ignore-mtime] [-R] [--json]\n"
		 "       vs unify --manually [those options] <dst> <dst-exclude> "
		 "(<ref> <ref-exclude>)+\n"
		 "       vs <guest> deunify [-n] [-v] [--json] [path...]\n"
		 "  --json   the summary as {\"verb\", \"examined\", \"linked\" "
		 "(deunify: \"made_private\"),\n"
		 "           \"bytes_saved\", \"skipped\": {reason: n}, "
		 "\"errors\"}",
	.run = reference_run,
};

static const struct vs_verb_def reference_verbs[] = {
	{"deunify", "turn a guest's unified files back into private copies",
	 VS_VERB_GUEST | VS_VERB_ROOT, reference_unify},
	{"unify", "share a guest's files that are equal in its reference "
		  "guests (vunify)",
	 VS_VERB_GUEST | VS_VERB_OPTGUEST | VS_VERB_ROOT, reference_unify},
	{NULL, NULL, 0, NULL},
};

VS_PLUGIN_DEFINE(reference, VS_KIND_UNIFY, "1.0",
		 "unification against reference guests (vunify)",
		 &reference_ops, reference_verbs);
