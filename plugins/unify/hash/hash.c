/* Unify plugin "hash" (util-vserver's vhashify): shares a guest's files
 * through a content-addressed store.
 *   vs <guest> hashify [-n] [-v...] [--link=auto|reflink|hardlink]
 *                      [--ignore-mtime] [--refresh] [--min-size=BYTES]
 *   vs hashify [options] <guest> <guest>...   (hashified together)
 *   vs hashify --manually [-n] [-v] --destination <hashdir> <path>
 *              [<exclude-list>] [<path> <exclude-list>]...
 *   vs hashify --gc [-n] [-v] <hashdir>
 *   vs hashify --verify [-v] <hashdir>
 *   vs hashify --migrate [-n] [-v] <hashdir>
 *   vs <guest> unhashify [-n] [-v] [path...]   (as deunify) */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vs/plugin.h>
#include "../common/unify.h"

struct hash_args {
	unsigned flags;
	int verbose;
	const char *link, *dest;
	long long min_size; /* -1: not given */
	bool manual, gc, verify, migrate;
	int optind;
};

/* A decimal number of bytes: 0, or -1 for anything else. */
static int parse_bytes(const char *s, long long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int hash_options(struct vs_ctx *ctx, int argc, char **argv,
			struct hash_args *a)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"verbose", no_argument, NULL, 'v'},
		{"link", required_argument, NULL, 'l'},
		{"ignore-mtime", no_argument, NULL, 'i'},
		{"refresh", no_argument, NULL, 'r'},
		{"manually", no_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"destination", required_argument, NULL, 'd'},
		{"gc", no_argument, NULL, 'g'},
		{"verify", no_argument, NULL, 'V'},
		{"migrate", no_argument, NULL, 'M'},
		{"insecure", no_argument, NULL, 'I'},
		{"sledgehammer", no_argument, NULL, 'S'},
		{"min-size", required_argument, NULL, 'z'},
		{NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof(*a));
	a->min_size = -1;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nv", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			a->flags |= VS_UNIFY_DRY_RUN;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'l':
			a->link = optarg;
			break;
		case 'i':
			a->flags |= VS_UNIFY_IGNORE_MTIME;
			break;
		case 'r':
			a->flags |= VS_UNIFY_REFRESH;
			break;
		case 'j':
			a->flags |= VS_UNIFY_JSON;
			break;
		case 'm':
			a->manual = true;
			break;
		case 'd':
			a->dest = optarg;
			break;
		case 'g':
			a->gc = true;
			break;
		case 'V':
			a->verify = true;
			break;
		case 'M':
			a->migrate = true;
			break;
		case 'z':
			if (parse_bytes(optarg, &a->min_size) < 0)
				return vs_set_error(ctx,
						    "%s: --min-size wants a "
						    "number of bytes, not '%s'",
						    argv[0], optarg);
			break;
		case 'I': /* util-vserver: no effect */
			break;
		case 'S':
			return vs_set_error(ctx,
					    "%s: --sledgehammer is not supported: "
					    "vs always compares contents before "
					    "sharing",
					    argv[0]);
		default:
			return vs_set_error(ctx,
					    "%s: unknown or incomplete option '%s'",
					    argv[0], argv[optind - 1]);
		}
	}
	a->optind = optind;
	if (vs_unify_link_check(ctx, argv[0], a->link) < 0)
		return -1;
	if (a->gc + a->verify + a->migrate + a->manual > 1)
		return vs_set_error(ctx, "%s: --manually, --gc, --verify and "
					 "--migrate exclude each other",
				    argv[0]);
	return 0;
}

/* --gc / --verify / --migrate <hashdir> */
static int hash_maintain(struct vs_ctx *ctx, struct vs_guest *g, int argc,
			 char **argv, const struct hash_args *a)
{
	const char *what = a->gc ? "--gc" : a->migrate ? "--migrate" : "--verify";
	if (g || argc - a->optind != 1)
		return vs_set_error(ctx, "hashify %s: expected one hash "
					 "directory",
				    what),
		       2;
	const char *dir = argv[a->optind];
	if (dir[0] != '/')
		return vs_set_error(ctx,
				    "hashify %s: hash directory '%s' is not an "
				    "absolute path",
				    what, dir),
		       2;
	int r = a->gc	   ? vs_hash_gc(ctx, dir, a->flags, a->verbose)
		: a->migrate ? vs_hash_migrate(ctx, dir, a->flags, a->verbose)
			     : vs_hash_verify(ctx, dir, a->verbose);
	return r < 0 ? 1 : 0;
}

static int hash_unhashify(struct vs_ctx *ctx, struct vs_guest *g, int argc,
			  char **argv, const struct hash_args *a)
{
	if (!g)
		return vs_set_error(ctx, "unhashify: no guest given"), 2;
	struct vs_unify_job *j = vs_unify_job_new(ctx, a->verbose);
	if (!j)
		return vs_set_error(ctx, "out of memory"), 1;
	(void)argc;
	int r = vs_unify_job_add_guest(j, g);
	if (r == 0)
		r = vs_unify_job_run(j, NULL, a->flags | VS_UNIFY_REVERT,
				     a->verbose, argv + a->optind);
	vs_unify_job_free(j);
	return r < 0 ? 1 : 0;
}

static int hash_verb(struct vs_ctx *ctx, struct vs_guest *g, int argc,
		     char **argv)
{
	struct hash_args a;
	if (hash_options(ctx, argc, argv, &a) < 0)
		return 2;
	if (!strcmp(argv[0], "unhashify"))
		return hash_unhashify(ctx, g, argc, argv, &a);
	if (a.gc || a.verify || a.migrate)
		return hash_maintain(ctx, g, argc, argv, &a);
	int rest = argc - a.optind;
	char **arg = argv + a.optind;
	if (a.manual && (g || rest < 1 || !a.dest || (rest > 2 && rest % 2)))
		return vs_set_error(ctx, "hashify --manually: expected "
					 "--destination <hashdir> <path> "
					 "[<exclude-list>] (with several paths, "
					 "each followed by its exclude list, '' "
					 "for none)"),
		       2;
	if (!a.manual && a.dest)
		return vs_set_error(ctx, "hashify: --destination needs "
					 "--manually"),
		       2;
	if (!a.manual && !g && rest == 0)
		return vs_set_error(ctx, "hashify: no guest given (or use "
					 "--manually, --gc or --verify)"),
		       2;
	struct vs_hash_job *j = vs_hash_job_new(ctx, a.verbose);
	if (!j)
		return vs_set_error(ctx, "out of memory"), 1;
	if (a.min_size >= 0 && vs_hash_job_min_size(j, a.min_size) < 0) {
		vs_hash_job_free(j);
		return 2;
	}
	int r = 0;
	if (a.manual) {
		for (int i = 0; i < rest && r == 0; i += 2)
			r = vs_hash_job_add_tree(j, arg[i],
						 i + 1 < rest ? arg[i + 1] : NULL,
						 a.dest);
	} else {
		/* vs hashify [options] <guest> <guest>...: together */
		if (g)
			r = vs_hash_job_add_guest(j, g);
		for (int i = 0; i < rest && r == 0; i++) {
			struct vs_guest *o = vs_guest_get(ctx, arg[i]);
			r = o ? vs_hash_job_add_guest(j, o) : -1;
			vs_guest_put(o);
		}
	}
	if (r == 0)
		r = vs_hash_job_run(j, a.link, a.flags);
	vs_hash_job_free(j);
	return r < 0 ? 1 : 0;
}

static int hash_run(struct vs_ctx *ctx, struct vs_guest *g, int argc,
		    char **argv)
{
	return hash_verb(ctx, g, argc, argv);
}

static const struct vs_unify_ops hash_ops = {
	.usage = "[-n] [-v...] [--link=auto|reflink|hardlink] "
		 "[--ignore-mtime] [--refresh] [--min-size=BYTES] "
		 "[--json]\n"
		 "       vs hashify [those options] <guest> <guest>...\n"
		 "       vs hashify --manually [-n] [-v] --destination "
		 "<hashdir> <path> [<exclude-list>]...\n"
		 "       vs hashify --gc|--verify|--migrate [-n] [-v] <hashdir>\n"
		 "       vs <guest> unhashify [-n] [-v] [path...]\n"
		 "  --min-size=BYTES  skip files smaller than BYTES (16 or more; by "
		 "default\n"
		 "                    more than one filesystem block for reflink, "
		 "16 for hardlink)\n"
		 "  --json            the summary as {\"verb\", \"examined\", "
		 "\"bytes_hashed\",\n"
		 "                    \"cached\", \"new_entries\", \"linked\", "
		 "\"bytes_saved\",\n"
		 "                    \"skipped\": {reason: n}, \"prefixes\", "
		 "\"prefix_bytes\", \"errors\"}",
	.run = hash_run,
};

static const struct vs_verb_def hash_verbs[] = {
	{"hashify", "share a guest's files through a content-addressed store "
		    "(vhashify)",
	 VS_VERB_GUEST | VS_VERB_OPTGUEST | VS_VERB_ROOT, hash_verb},
	{"unhashify", "turn a guest's hashified files back into private copies",
	 VS_VERB_GUEST | VS_VERB_ROOT, hash_verb},
	{NULL, NULL, 0, NULL},
};

VS_PLUGIN_DEFINE(hash, VS_KIND_UNIFY, "1.0",
		 "unification through a content-addressed store (vhashify)",
		 &hash_ops, hash_verbs);
