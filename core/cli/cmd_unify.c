/* vs <guest> unify [-n] [-v...] [--link=auto|reflink|hardlink]
 *                  [--ignore-mtime] [-R]
 * vs unify --manually [-n] [-v] [--link=...] <dst> <dst-exclude>
 *                     (<ref> <ref-exclude>)+
 * vs <guest> deunify [-n] [-v]                                        */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct job {
	struct vs_unify_tree *t; /* t[0]: the destination */
	size_t n;
	char **roots;
	int verbose;
};

static void job_free(struct job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (j->t[i].rootfd >= 0)
			close(j->t[i].rootfd);
		vs_excl_free(&j->t[i].excl);
		free(j->roots[i]);
	}
	free(j->t);
	free(j->roots);
}

/* Adds a tree: its root (host view), its exclude list (host view, real
 * when pkg is set, NULL for none). */
static int add_tree(struct vs_ctx *ctx, struct job *j, const char *root,
		    const char *excl, bool excl_real, bool conffiles)
{
	char real[PATH_MAX];
	j->t = vs_xrealloc(j->t, (j->n + 1) * sizeof(*j->t));
	j->roots = vs_xrealloc(j->roots, (j->n + 1) * sizeof(*j->roots));
	struct vs_unify_tree *t = &j->t[j->n];
	memset(t, 0, sizeof(*t));
	j->roots[j->n] = vs_strdup(vs_host_real(ctx, root, real, sizeof(real)));
	t->root = j->roots[j->n];
	t->rootfd = vs_host_open(ctx, root, O_RDONLY | O_DIRECTORY, 0);
	j->n++;
	if (t->rootfd < 0)
		return vs_set_errno(ctx, errno, "cannot open '%s'", t->root);
	if (excl && *excl) {
		char *s;
		if (excl_real) {
			int fd = open(excl, O_RDONLY | O_CLOEXEC);
			s = fd >= 0 ? vs_read_fd(fd, 1 << 20, NULL) : NULL;
			if (fd >= 0)
				close(fd);
			snprintf(real, sizeof(real), "%s", excl);
		} else {
			s = vs_host_read(ctx, excl, 1 << 20, NULL);
			vs_host_real(ctx, excl, real, sizeof(real));
		}
		if (!s)
			return vs_set_errno(ctx, errno,
					    "cannot read the exclude list '%s'",
					    real);
		int r = vs_excl_parse(ctx, &t->excl, s, real);
		free(s);
		if (r < 0)
			return -1;
	}
	if (conffiles) {
		if (j->verbose >= 2)
			printf("  Fetching configuration-file list from "
			       "packagemanagement\n");
		vs_dpkg_conffiles(t->rootfd, &t->excl);
		vs_rpm_conffiles(t->rootfd, t->root, &t->excl);
	}
	return 0;
}

/* The guest's exclude list, conffiles and root. */
static int add_guest(struct vs_ctx *ctx, struct job *j, struct vs_guest *g)
{
	char path[PATH_MAX];
	if (!vs_guest_cfg_exists(g, "apps/vunify"))
		return vs_set_error(ctx,
				    "guest '%s' has no apps/vunify/ (mkdir it "
				    "to unify this guest)",
				    g->name);
	if (!g->root)
		return vs_set_error(ctx, "guest '%s' has no root", g->name);
	if (j->verbose >= 1) {
		char real[PATH_MAX];
		printf("Initializing exclude-list for %s (%s)\n",
		       vs_host_real(ctx, g->root, real, sizeof(real)), g->name);
	}
	int kind = vs_guest_cfg_find(g, "apps/vunify/exclude", "vunify-exclude",
				     path, sizeof(path));
	return add_tree(ctx, j, g->root, kind ? path : NULL, kind == 2,
			vs_guest_pkgmgmt(g));
}

static int check_trees(struct vs_ctx *ctx, const struct job *j)
{
	for (size_t i = 1; i < j->n; i++) {
		const char *d = j->t[0].root, *r = j->t[i].root;
		size_t dl = strlen(d), rl = strlen(r);
		if (!strcmp(d, r))
			return vs_set_error(ctx,
					    "reference '%s' is the destination "
					    "itself",
					    r);
		if ((rl > dl && !strncmp(r, d, dl) && r[dl] == '/') ||
		    (dl > rl && !strncmp(d, r, rl) && d[rl] == '/'))
			return vs_set_error(ctx,
					    "reference '%s' and destination '%s' "
					    "are inside each other",
					    r, d);
	}
	return 0;
}

/* Hardlinks make a file of one guest another guest's: no guest may run
 * while that happens. */
static int require_stopped(struct vs_ctx *ctx)
{
	char **ids = vs_guest_list(ctx);
	int r = 0;
	for (char **id = ids; *id && r == 0; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		if (g && vs_guest_running(g))
			r = vs_set_error(ctx,
					 "hardlink unification needs every guest "
					 "stopped (guest '%s' is running): a "
					 "running guest could write to a file "
					 "while it becomes shared; stop them, or "
					 "keep the guests on XFS or btrfs "
					 "(reflinks work live)",
					 *id);
		vs_guest_free(g);
	}
	if (r == 0)
		vs_clear_error(ctx);
	vs_strv_free(ids);
	return r;
}

static void summary(const struct vs_unify_stats *st, bool revert)
{
	printf("%s: %llu files examined, %llu %s, %llu bytes saved",
	       revert ? "deunify" : "unify", st->examined, st->linked,
	       revert ? "made private" : "linked", revert ? 0ULL : st->bytes_saved);
	const char *sep = "; skipped: ";
	for (int r = 0; r < VS_UNIFY_NREASONS; r++)
		if (st->skipped[r]) {
			printf("%s%llu %s", sep, st->skipped[r], vs_unify_reason(r));
			sep = ", ";
		}
	if (st->errors)
		printf("; %llu errors", st->errors);
	putchar('\n');
}

static int run_unify(struct vs_ctx *ctx, struct vs_guest *g, int argc,
		     char **argv, bool revert)
{
	static const struct option opts[] = {
		{"dry-run", no_argument, NULL, 'n'},
		{"verbose", no_argument, NULL, 'v'},
		{"link", required_argument, NULL, 'l'},
		{"ignore-mtime", no_argument, NULL, 'i'},
		{"manually", no_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	struct vs_unify_opts o = {0};
	const char *link = vs_conf_str(ctx, "link");
	bool manual = false;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+nvRx", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o.dry_run = true;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'R':
			revert = true;
			break;
		case 'x': /* util-vserver accepts and ignores it */
			break;
		case 'l':
			link = optarg;
			break;
		case 'i':
			o.ignore_mtime = true;
			break;
		case 'm':
			manual = true;
			break;
		default:
			vs_set_error(ctx, "%s: unknown or incomplete option '%s'",
				     argv[0], argv[optind - 1]);
			return 2;
		}
	}
	if (link && strcmp(link, "auto") && strcmp(link, "reflink") &&
	    strcmp(link, "hardlink")) {
		vs_set_error(ctx, "%s: invalid --link '%s' (auto, reflink or "
				  "hardlink)",
			     argv[0], link);
		return 2;
	}
	struct job j = {.verbose = o.verbose};
	o.progress = o.verbose == 0 && isatty(2); /* a line on a terminal */
	int r = 0;
	if (manual) {
		int rest = argc - optind;
		if (g || rest < 4 || rest % 2) {
			vs_set_error(ctx, "unify --manually: expected <dst> "
					  "<dst-exclude> (<ref> <ref-exclude>)+");
			return 2;
		}
		for (int i = optind; i < argc && r == 0; i += 2)
			r = add_tree(ctx, &j, argv[i], argv[i + 1], false, false);
	} else if (!g) {
		vs_set_error(ctx, "%s: no guest given (or use --manually)",
			     argv[0]);
		return 2;
	} else if (optind < argc && !revert) {
		vs_set_error(ctx, "%s: unexpected argument '%s'", argv[0],
			     argv[optind]);
		return 2;
	} else {
		r = add_guest(ctx, &j, g);
		if (r == 0 && !revert) {
			/* references: apps/vunify/refserver.* in sorted order */
			char dir[PATH_MAX];
			snprintf(dir, sizeof(dir), "%s/apps/vunify", g->cfgdir);
			char **names = vs_host_list(ctx, dir);
			for (char **n = names; n && *n && r == 0; n++) {
				if (strncmp(*n, "refserver.", 10) != 0)
					continue;
				char link_path[PATH_MAX];
				snprintf(link_path, sizeof(link_path), "%s/%s", dir,
					 *n);
				char *cfg = vs_host_canon(ctx, link_path);
				struct vs_guest *rg =
					cfg ? vs_guest_open(ctx, cfg) : NULL;
				if (!rg && !vs_error(ctx)[0])
					vs_set_errno(ctx, errno,
						     "cannot use reference '%s'",
						     link_path);
				r = rg ? add_guest(ctx, &j, rg) : -1;
				vs_guest_free(rg);
				free(cfg);
			}
			vs_strv_free(names);
			if (r == 0 && j.n < 2)
				r = vs_set_error(ctx,
						 "guest '%s' has no reference "
						 "(apps/vunify/refserver.*)",
						 g->name);
		}
	}
	if (r == 0)
		r = check_trees(ctx, &j);
	if (r == 0) {
		if (revert || !link || !strcmp(link, "auto"))
			o.link = revert ? VS_LINK_HARDLINK
					: vs_unify_link_mode(j.t[0].rootfd,
							     j.t[1].rootfd);
		else
			o.link = strcmp(link, "reflink") ? VS_LINK_HARDLINK
							 : VS_LINK_REFLINK;
		if (!o.dry_run && o.link == VS_LINK_HARDLINK)
			r = require_stopped(ctx);
	}
	if (r == 0) {
		struct vs_unify_stats st = {0};
		if (o.verbose >= 1)
			printf("Starting to traverse directories...\n");
		r = revert ? vs_deunify_paths(ctx, &j.t[0],
					      manual ? NULL : argv + optind, &o,
					      &st)
			   : vs_unify_run(ctx, &j.t[0], j.t + 1, j.n - 1, &o, &st);
		if (r == 0)
			summary(&st, revert);
		if (r == 0 && st.errors)
			r = vs_set_error(ctx, "%s: %llu files could not be %s",
					 argv[0], st.errors,
					 revert ? "made private" : "unified");
	}
	job_free(&j);
	return r < 0 ? 1 : 0;
}

int cmd_unify(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	return run_unify(ctx, g, argc, argv, false);
}

int cmd_deunify(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
		int argc, char **argv)
{
	(void)n;
	return run_unify(ctx, g, argc, argv, true);
}
