/* Hashify jobs: the public API of api/vs/unify.h for plugin "hash". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vs/unify.h>

#include "hashstore.h"
#include "internal.h"

struct vs_hash_job {
	struct vs_ctx *ctx;
	struct vs_unify_tree t;
	char *root;
	char *hashdir; /* host view */
	int verbose;
};

struct vs_hash_job *vs_hash_job_new(struct vs_ctx *ctx, int verbose)
{
	struct vs_hash_job *j = calloc(1, sizeof(*j));
	if (j) {
		j->ctx = ctx;
		j->verbose = verbose;
		j->t.rootfd = -1;
	}
	return j;
}

void vs_hash_job_free(struct vs_hash_job *j)
{
	if (!j)
		return;
	vs_tree_close(&j->t);
	free(j->root);
	free(j->hashdir);
	free(j);
}

int vs_hash_job_set_guest(struct vs_hash_job *j, struct vs_guest *g)
{
	struct vs_ctx *ctx = j->ctx;
	char path[PATH_MAX];
	if (vs_tree_open_guest(ctx, &j->t, &j->root, g, j->verbose) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/apps/vunify/hash", g->cfgdir);
	if (!vs_host_isdir(ctx, path))
		snprintf(path, sizeof(path), "%s/.defaults/apps/vunify/hash",
			 ctx->paths[VS_PATH_CONFDIR]);
	if (!vs_host_isdir(ctx, path))
		return vs_set_error(ctx,
				    "no hash directory configured for guest '%s' "
				    "(apps/vunify/hash or "
				    ".defaults/apps/vunify/hash)",
				    g->name);
	j->hashdir = vs_strdup(path);
	return 0;
}

int vs_hash_job_set_tree(struct vs_hash_job *j, const char *root,
			 const char *exclude, const char *hashdir)
{
	if (!hashdir || hashdir[0] != '/')
		return vs_set_error(j->ctx,
				    "hash directory '%s' is not an absolute path",
				    hashdir ? hashdir : "");
	if (!vs_host_isdir(j->ctx, hashdir)) {
		char real[PATH_MAX];
		return vs_set_error(j->ctx,
				    "hash directory '%s' does not exist or is "
				    "not a directory",
				    vs_host_real(j->ctx, hashdir, real,
						 sizeof(real)));
	}
	j->hashdir = vs_strdup(hashdir);
	return vs_tree_open(j->ctx, &j->t, &j->root, root, exclude, false,
			    false, j->verbose);
}

static void summary(const struct vs_hash_stats *st)
{
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
	if (st->errors)
		printf("; %llu errors", st->errors);
	putchar('\n');
}

int vs_hash_job_run(struct vs_hash_job *j, const char *link, unsigned flags)
{
	struct vs_ctx *ctx = j->ctx;
	struct vs_hash_opts o = {0};
	o.dry_run = flags & VS_UNIFY_DRY_RUN;
	o.ignore_mtime = flags & VS_UNIFY_IGNORE_MTIME;
	o.refresh = flags & VS_UNIFY_REFRESH;
	o.verbose = j->verbose;
	o.progress = j->verbose == 0 && isatty(2);
	if (!link)
		link = vs_conf_str(ctx, "link");
	if (vs_unify_link_check(ctx, NULL, link) < 0)
		return -1;
	if (j->t.rootfd < 0 || !j->hashdir)
		return vs_set_error(ctx, "nothing to hashify");
	struct vs_hstores hs;
	if (vs_hstores_open(ctx, j->hashdir, &hs) < 0)
		return -1;
	struct stat rs;
	fstat(j->t.rootfd, &rs);
	struct vs_hstore *store = vs_hstore_for(&hs, rs.st_dev);
	int r = 0;
	if (!store) {
		r = vs_set_error(ctx,
				 "no store of '%s' is on the filesystem of '%s' "
				 "(a store must be on the guest's filesystem)",
				 hs.dir, j->t.root);
		goto out;
	}
	int possible = vs_unify_link_mode(store->fd, j->t.rootfd);
	if (!link || !strcmp(link, "auto"))
		o.link = possible;
	else if (!strcmp(link, "reflink") && possible != VS_LINK_REFLINK) {
		r = vs_set_error(ctx,
				 "--link=reflink: the filesystem of '%s' cannot "
				 "share extents (XFS with reflink, btrfs)",
				 j->t.root);
		goto out;
	} else {
		o.link = strcmp(link, "reflink") ? VS_LINK_HARDLINK
						 : VS_LINK_REFLINK;
	}
	if (!o.dry_run && o.link == VS_LINK_HARDLINK &&
	    vs_require_all_stopped(ctx, "hardlink hashification") < 0) {
		r = -1;
		goto out;
	}
	if ((!o.dry_run && vs_hstore_init(ctx, store) < 0) ||
	    vs_hstore_load(ctx, store, o.dry_run) < 0) {
		r = -1;
		goto out;
	}
	struct vs_hash_stats st = {0};
	if (j->verbose >= 1)
		printf("Starting to traverse directories...\n");
	r = vs_hashify_run(ctx, &j->t, store, &o, &st);
	if (r == 0) {
		summary(&st);
		if (st.errors)
			r = vs_set_error(ctx, "%llu files could not be hashified",
					 st.errors);
	}
out:
	vs_hstores_close(&hs);
	return r;
}
