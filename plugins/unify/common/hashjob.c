/* Hashify jobs: the public API of api/vs/unify.h for plugin "hash". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unify.h"

#include "hashstore.h"
#include "engine.h"

struct vs_hash_job {
	struct vs_ctx *ctx;
	struct vs_unify_tree *t; /* the trees, in the order added */
	char **root;
	unsigned n;
	char *hashdir; /* host view */
	int verbose;
	off_t min_size; /* 0: the strategy's own */
};

struct vs_hash_job *vs_hash_job_new(struct vs_ctx *ctx, int verbose)
{
	struct vs_hash_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->ctx = ctx;
		j->verbose = verbose;
	}
	return j;
}

void vs_hash_job_free(struct vs_hash_job *j)
{
	if (!j)
		return;
	for (unsigned i = 0; i < j->n; i++) {
		vs_tree_close(&j->t[i]);
		free(j->root[i]);
	}
	free(j->t);
	free(j->root);
	free(j->hashdir);
	free(j);
}

/* A new tree slot (not yet counted). */
static struct vs_unify_tree *new_tree(struct vs_hash_job *j)
{
	j->t = vs_xrealloc(j->t, (j->n + 1) * sizeof(*j->t));
	j->root = vs_xrealloc(j->root, (j->n + 1) * sizeof(*j->root));
	memset(&j->t[j->n], 0, sizeof(*j->t));
	j->t[j->n].rootfd = -1;
	j->root[j->n] = NULL;
	return &j->t[j->n];
}

/* The job's hash directory: the first one given, and every later one
 * the same. */
static int use_hashdir(struct vs_hash_job *j, const char *dir, const char *who)
{
	if (!j->hashdir) {
		j->hashdir = vs_strdup(dir);
		return 0;
	}
	if (!strcmp(j->hashdir, dir))
		return 0;
	char a[PATH_MAX], b[PATH_MAX];
	return vs_set_error(j->ctx,
			    "%s uses the hash directory '%s', not '%s': "
			    "hashify them separately",
			    who, vs_host_real(j->ctx, dir, a, sizeof(a)),
			    vs_host_real(j->ctx, j->hashdir, b, sizeof(b)));
}

int vs_hash_job_add_guest(struct vs_hash_job *j, struct vs_guest *g)
{
	struct vs_ctx *ctx = j->ctx;
	char path[PATH_MAX], who[PATH_MAX];
	snprintf(path, sizeof(path), "%s/apps/vunify/hash", vs_guest_cfgdir(g));
	if (!vs_host_isdir(ctx, path))
		snprintf(path, sizeof(path), "%s/.defaults/apps/vunify/hash",
			 vs_path(ctx, VS_PATH_CONFDIR));
	struct vs_unify_tree *t = new_tree(j);
	if (vs_tree_open_guest(ctx, t, &j->root[j->n], g, j->verbose) < 0) {
		free(j->root[j->n]);
		return -1;
	}
	j->n++;
	if (!vs_host_isdir(ctx, path))
		return vs_set_error(
		    ctx,
		    "no hash directory configured for guest '%s' "
		    "(apps/vunify/hash or "
		    ".defaults/apps/vunify/hash)",
		    vs_guest_name(g));
	snprintf(who, sizeof(who), "guest '%s'", vs_guest_name(g));
	return use_hashdir(j, path, who);
}

int vs_hash_job_add_tree(struct vs_hash_job *j, const char *root,
			 const char *exclude, const char *hashdir)
{
	if (!hashdir || hashdir[0] != '/')
		return vs_set_error(
		    j->ctx, "hash directory '%s' is not an absolute path",
		    hashdir ? hashdir : "");
	if (!vs_host_isdir(j->ctx, hashdir)) {
		char real[PATH_MAX];
		return vs_set_error(
		    j->ctx,
		    "hash directory '%s' does not exist or is "
		    "not a directory",
		    vs_host_real(j->ctx, hashdir, real, sizeof(real)));
	}
	if (use_hashdir(j, hashdir, "a tree") < 0)
		return -1;
	struct vs_unify_tree *t = new_tree(j);
	if (vs_tree_open(j->ctx, t, &j->root[j->n], root, exclude, false, false,
			 j->verbose) < 0) {
		free(j->root[j->n]);
		return -1;
	}
	j->n++;
	return 0;
}

static void summary(const struct vs_hash_stats *st, bool json)
{
	if (json) {
		printf("{\"verb\":\"hashify\",\"examined\":%llu,"
		       "\"bytes_hashed\":%llu,\"cached\":%llu,"
		       "\"new_entries\":%llu,\"linked\":%llu,"
		       "\"bytes_saved\":%llu",
		       st->examined, st->bytes_hashed, st->cached,
		       st->new_entries, st->linked, st->bytes_saved);
		vs_unify_json_skipped(st->skipped);
		printf(",\"prefixes\":%llu,\"prefix_bytes\":%llu,"
		       "\"errors\":%llu}\n",
		       st->prefixes, st->prefix_bytes, st->errors);
		return;
	}
	printf("hashify: %llu files examined, %llu bytes hashed (%llu digests "
	       "from the cache), %llu new store entries, %llu linked, %llu "
	       "bytes saved",
	       st->examined, st->bytes_hashed, st->cached, st->new_entries,
	       st->linked, st->bytes_saved);
	const char *sep = "; skipped: ";
	for (int r = 0; r < VS_UNIFY_NREASONS; r++)
		if (st->skipped[r]) {
			printf("%s%llu %s", sep, st->skipped[r],
			       vs_unify_reason(r));
			sep = ", ";
		}
	if (st->prefixes)
		printf("; %llu new files share their beginning (%llu bytes) "
		       "with an earlier guest's",
		       st->prefixes, st->prefix_bytes);
	if (st->errors)
		printf("; %llu errors", st->errors);
	putchar('\n');
}

/* The link strategy for the trees on store s: -1 with the error set
 * when reflink was asked for and one of them cannot share extents. */
static int resolve_link(struct vs_ctx *ctx, const char *link,
			const struct vs_hstore *s,
			struct vs_unify_tree *const *t, unsigned n,
			enum vs_link *out)
{
	bool want_reflink = link && !strcmp(link, "reflink");
	bool want_hard = link && !strcmp(link, "hardlink");
	enum vs_link mode = VS_LINK_REFLINK;
	for (unsigned i = 0; i < n; i++) {
		int possible = vs_unify_link_mode(s->fd, t[i]->rootfd);
		if (want_reflink && possible != VS_LINK_REFLINK)
			return vs_set_error(
			    ctx,
			    "--link=reflink: the filesystem of "
			    "'%s' cannot share extents (XFS with "
			    "reflink, btrfs)",
			    t[i]->root);
		if (possible != VS_LINK_REFLINK)
			mode = VS_LINK_HARDLINK;
	}
	*out = want_hard ? VS_LINK_HARDLINK : mode;
	return 0;
}

int vs_hash_job_min_size(struct vs_hash_job *j, off_t bytes)
{
	if (bytes < VS_HASH_MIN_SIZE)
		return vs_set_error(j->ctx,
				    "hashify: --min-size is %lld: files under "
				    "%d bytes are never shared",
				    (long long)bytes, VS_HASH_MIN_SIZE);
	j->min_size = bytes;
	return 0;
}

int vs_hash_job_run(struct vs_hash_job *j, const char *link, unsigned flags)
{
	struct vs_ctx *ctx = j->ctx;
	struct vs_hash_opts o = {0};
	o.dry_run = flags & VS_UNIFY_DRY_RUN;
	o.ignore_mtime = flags & VS_UNIFY_IGNORE_MTIME;
	o.refresh = flags & VS_UNIFY_REFRESH;
	o.min_size = j->min_size;
	o.verbose = j->verbose;
	o.progress = j->verbose == 0 && isatty(2);
	if (!link)
		link = vs_conf_str(ctx, "link");
	if (vs_unify_link_check(ctx, NULL, link) < 0)
		return -1;
	if (!j->n || !j->hashdir)
		return vs_set_error(ctx, "nothing to hashify");
	struct vs_hstores hs;
	if (vs_hstores_open(ctx, j->hashdir, &hs) < 0)
		return -1;
	/* every tree needs the store of its filesystem, checked before
	 * anything is written */
	struct vs_hstore **of = vs_xmalloc(j->n * sizeof(*of));
	struct vs_unify_tree **run = vs_xmalloc(j->n * sizeof(*run));
	int r = 0;
	for (unsigned i = 0; i < j->n && r == 0; i++) {
		struct stat rs;
		of[i] = fstat(j->t[i].rootfd, &rs) == 0
			    ? vs_hstore_for(&hs, rs.st_dev)
			    : NULL;
		if (!of[i])
			r = vs_set_error(
			    ctx,
			    "no store of '%s' is on the filesystem "
			    "of '%s' (a store must be on the guest's "
			    "filesystem)",
			    hs.dir, j->t[i].root);
	}
	bool hard = false;
	for (unsigned i = 0; i < j->n && r == 0; i++) {
		struct vs_unify_tree *one = &j->t[i];
		enum vs_link m;
		r = resolve_link(ctx, link, of[i], &one, 1, &m);
		hard |= m == VS_LINK_HARDLINK;
	}
	if (r == 0 && hard && !o.dry_run &&
	    vs_require_all_stopped(ctx, "hardlink hashification") < 0)
		r = -1;
	for (unsigned i = 0; i < j->n && r == 0; i++)
		vs_tree_conffiles(&j->t[i]);
	struct vs_hash_stats st = {0};
	if (r == 0 && j->verbose >= 1)
		printf("Starting to traverse directories...\n");
	/* one run per store, with all of its trees */
	for (size_t s = 0; s < hs.n && r == 0; s++) {
		unsigned n = 0;
		for (unsigned i = 0; i < j->n; i++)
			if (of[i] == &hs.s[s])
				run[n++] = &j->t[i];
		if (!n)
			continue;
		if (resolve_link(ctx, link, &hs.s[s], run, n, &o.link) < 0 ||
		    (!o.dry_run && vs_hstore_init(ctx, &hs.s[s]) < 0) ||
		    vs_hstore_load(ctx, &hs.s[s], o.dry_run) < 0) {
			r = -1;
			break;
		}
		if (hs.s[s].nold) {
			r = vs_set_error(ctx,
					 "store '%s' has %zu entries named by an "
					 "earlier vs (mtime in whole seconds): "
					 "run 'vs hashify --migrate %s' once",
					 hs.s[s].path, hs.s[s].nold, hs.dir);
			break;
		}
		r = vs_hashify_run(ctx,
				   (const struct vs_unify_tree *const *)run, n,
				   &hs.s[s], &o, &st);
	}
	if (r == 0) {
		summary(&st, flags & VS_UNIFY_JSON);
		if (st.errors)
			r = vs_set_error(ctx,
					 "%llu files could not be hashified",
					 st.errors);
	}
	free(of);
	free(run);
	vs_hstores_close(&hs);
	return r;
}
