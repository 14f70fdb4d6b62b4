/* Unify jobs: the public engine API of api/vs/unify.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unify.h"

#include "engine.h"

struct vs_unify_job {
	struct vs_ctx *ctx;
	struct vs_unify_tree *t; /* t[0]: the destination */
	size_t n;
	char **roots;
	int verbose;
};

struct vs_unify_job *vs_unify_job_new(struct vs_ctx *ctx, int verbose)
{
	struct vs_unify_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->ctx = ctx;
		j->verbose = verbose;
	}
	return j;
}

void vs_unify_job_free(struct vs_unify_job *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++) {
		vs_tree_close(&j->t[i]);
		free(j->roots[i]);
	}
	free(j->t);
	free(j->roots);
	free(j);
}

int vs_tree_open(struct vs_ctx *ctx, struct vs_unify_tree *t, char **rootbuf,
		 const char *root, const char *excl, bool excl_real,
		 bool conffiles, int verbose)
{
	char real[PATH_MAX];
	memset(t, 0, sizeof(*t));
	*rootbuf = vs_strdup(vs_host_real(ctx, root, real, sizeof(real)));
	t->root = *rootbuf;
	t->rootfd = vs_host_open(ctx, root, O_RDONLY | O_DIRECTORY, 0);
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
	t->conffiles = conffiles;
	t->verbose = verbose;
	return 0;
}

void vs_tree_conffiles(struct vs_unify_tree *t)
{
	if (!t->conffiles)
		return;
	t->conffiles = false;
	if (t->verbose >= 2)
		printf("  Fetching configuration-file list from "
		       "packagemanagement\n");
	vs_dpkg_conffiles(t->rootfd, &t->excl);
	vs_rpm_conffiles(t->rootfd, t->root, &t->excl);
}

int vs_tree_open_guest(struct vs_ctx *ctx, struct vs_unify_tree *t,
		       char **rootbuf, struct vs_guest *g, int verbose)
{
	char path[PATH_MAX];
	memset(t, 0, sizeof(*t));
	t->rootfd = -1;
	if (!vs_guest_cfg_exists(g, "apps/vunify"))
		return vs_set_error(ctx,
				    "guest '%s' has no apps/vunify/ (mkdir it "
				    "to unify this guest)",
				    vs_guest_name(g));
	if (!vs_guest_root(g))
		return vs_set_error(ctx, "guest '%s' has no root", vs_guest_name(g));
	if (verbose >= 1) {
		char real[PATH_MAX];
		printf("Initializing exclude-list for %s (%s)\n",
		       vs_host_real(ctx, vs_guest_root(g), real, sizeof(real)), vs_guest_name(g));
	}
	int kind = vs_guest_cfg_find(g, "apps/vunify/exclude", "vunify-exclude",
				     path, sizeof(path));
	return vs_tree_open(ctx, t, rootbuf, vs_guest_root(g), kind ? path : NULL,
			    kind == 2, vs_guest_pkgmgmt(g), verbose);
}

void vs_tree_close(struct vs_unify_tree *t)
{
	if (t->rootfd >= 0)
		close(t->rootfd);
	t->rootfd = -1;
	vs_excl_free(&t->excl);
}

static struct vs_unify_tree *job_slot(struct vs_unify_job *j)
{
	j->t = vs_xrealloc(j->t, (j->n + 1) * sizeof(*j->t));
	j->roots = vs_xrealloc(j->roots, (j->n + 1) * sizeof(*j->roots));
	j->roots[j->n] = NULL;
	struct vs_unify_tree *t = &j->t[j->n++];
	memset(t, 0, sizeof(*t));
	t->rootfd = -1;
	return t;
}

int vs_unify_job_add_tree(struct vs_unify_job *j, const char *root,
			  const char *exclude)
{
	struct vs_unify_tree *t = job_slot(j);
	return vs_tree_open(j->ctx, t, &j->roots[j->n - 1], root, exclude,
			    false, false, j->verbose);
}

int vs_unify_job_add_guest(struct vs_unify_job *j, struct vs_guest *g)
{
	struct vs_unify_tree *t = job_slot(j);
	return vs_tree_open_guest(j->ctx, t, &j->roots[j->n - 1], g,
				  j->verbose);
}

static int check_trees(struct vs_ctx *ctx, const struct vs_unify_job *j)
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
int vs_require_all_stopped(struct vs_ctx *ctx, const char *what)
{
	char **ids = vs_guest_list(ctx);
	int r = 0;
	for (char **id = ids; *id && r == 0; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		if (g && vs_guest_running(g))
			r = vs_set_error(ctx,
					 "%s needs every guest stopped (guest "
					 "'%s' is running): a running guest could "
					 "write to a file while it becomes shared; "
					 "stop them, or keep the guests on XFS or "
					 "btrfs (reflinks work live)",
					 what, *id);
		vs_guest_free(g);
	}
	if (r == 0)
		vs_clear_error(ctx);
	vs_strv_free(ids);
	return r;
}

void vs_unify_json_skipped(const unsigned long long *skipped)
{
	const char *sep = "";
	fputs(",\"skipped\":{", stdout);
	for (int r = 0; r < VS_UNIFY_NREASONS; r++)
		if (skipped[r]) {
			printf("%s\"%s\":%llu", sep, vs_unify_reason(r),
			       skipped[r]);
			sep = ",";
		}
	putchar('}');
}

static void summary(const struct vs_unify_stats *st, bool revert, bool json)
{
	if (json) {
		printf("{\"verb\":\"%s\",\"examined\":%llu,\"%s\":%llu,"
		       "\"bytes_saved\":%llu",
		       revert ? "deunify" : "unify", st->examined,
		       revert ? "made_private" : "linked", st->linked,
		       revert ? 0ULL : st->bytes_saved);
		vs_unify_json_skipped(st->skipped);
		printf(",\"errors\":%llu}\n", st->errors);
		return;
	}
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

int vs_unify_link_check(struct vs_ctx *ctx, const char *who,
			const char *link)
{
	if (!link || !strcmp(link, "auto") || !strcmp(link, "reflink") ||
	    !strcmp(link, "hardlink"))
		return 0;
	return vs_set_error(ctx,
			    "%s%sinvalid --link '%s' (auto, reflink or hardlink)",
			    who ? who : "", who ? ": " : "", link);
}

int vs_unify_job_run(struct vs_unify_job *j, const char *link, unsigned flags,
		     int verbose, char *const *paths)
{
	struct vs_ctx *ctx = j->ctx;
	struct vs_unify_opts o = {0};
	bool revert = flags & VS_UNIFY_REVERT;
	o.dry_run = flags & VS_UNIFY_DRY_RUN;
	o.ignore_mtime = flags & VS_UNIFY_IGNORE_MTIME;
	o.verbose = verbose;
	o.progress = verbose == 0 && isatty(2); /* a line on a terminal */
	if (!link)
		link = vs_conf_str(ctx, "link");
	if (vs_unify_link_check(ctx, NULL, link) < 0)
		return -1;
	if (j->n < 1 || (!revert && j->n < 2))
		return vs_set_error(ctx, "nothing to unify against");
	int r = check_trees(ctx, j);
	if (r < 0)
		return -1;
	if (revert || !link || !strcmp(link, "auto"))
		o.link = revert ? VS_LINK_HARDLINK
				: vs_unify_link_mode(j->t[0].rootfd, j->t[1].rootfd);
	else
		o.link = strcmp(link, "reflink") ? VS_LINK_HARDLINK
						 : VS_LINK_REFLINK;
	if (!o.dry_run && o.link == VS_LINK_HARDLINK && vs_require_all_stopped(ctx, "hardlink unification") < 0)
		return -1;
	for (size_t i = 0; i < j->n; i++)
		vs_tree_conffiles(&j->t[i]);
	struct vs_unify_stats st = {0};
	if (verbose >= 1 && !revert)
		printf("Starting to traverse directories...\n");
	r = revert ? vs_deunify_paths(ctx, &j->t[0], paths, &o, &st)
		   : vs_unify_run(ctx, &j->t[0], j->t + 1, j->n - 1, &o, &st);
	if (r < 0)
		return -1;
	summary(&st, revert, flags & VS_UNIFY_JSON);
	if (st.errors)
		return vs_set_error(ctx, "%llu files could not be %s", st.errors,
				    revert ? "made private" : "unified");
	return 0;
}
