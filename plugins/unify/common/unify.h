/* The unify engine for unify plugins (reference, hash): a job made of a
 * destination tree and reference trees, each with its exclude list and
 * the package managers' configuration files.  Objects are owned by the
 * core; free a job with vs_unify_job_free(). */
#ifndef VS_UNIFY_H
#define VS_UNIFY_H

#include <vs/core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vs_unify_job;

#define VS_UNIFY_DRY_RUN 0x1u      /* change nothing, say what would be done */
#define VS_UNIFY_IGNORE_MTIME 0x2u /* hardlink: mtimes may differ */
#define VS_UNIFY_REVERT 0x4u       /* deunify: private copies again */
#define VS_UNIFY_JSON 0x10u        /* the summary as one JSON object */
/* Prints ,"skipped":{"<reason>":n,...} of the counts that are not 0. */
void vs_unify_json_skipped(const unsigned long long *skipped);

/* A new job (verbose: util-vserver's -v count); NULL only when out of
 * memory. */
struct vs_unify_job *vs_unify_job_new(struct vs_ctx *ctx, int verbose);
/* Adds a guest (the first one added is the destination): its root, its
 * exclude list (apps/vunify/exclude, .defaults, shipped) and, unless
 * pkgmgmt-ignore, its dpkg/rpm configuration files.  The guest needs
 * apps/vunify/.  -1 with the error set. */
int vs_unify_job_add_guest(struct vs_unify_job *j, struct vs_guest *g);
/* Adds a tree by host-view path with an exclude list (host view; NULL or
 * "" for none). */
int vs_unify_job_add_tree(struct vs_unify_job *j, const char *root,
			  const char *exclude);
/* Runs the job and prints util-vserver's lines and a summary.  link is
 * "auto", "reflink", "hardlink" or NULL (vs.conf, else auto); paths limit
 * a revert to some guest paths (NULL: all).  Returns 0, or -1 with the
 * error set (per-file problems are warned about and make it -1 at the
 * end). */
int vs_unify_job_run(struct vs_unify_job *j, const char *link, unsigned flags,
		     int verbose, char *const *paths);
void vs_unify_job_free(struct vs_unify_job *j);
/* Checks a link strategy: "auto", "reflink", "hardlink" or NULL give 0;
 * anything else -1 with "[<who>: ]invalid --link ..." set. */
int vs_unify_link_check(struct vs_ctx *ctx, const char *who,
			const char *link);

/* Hashify (vhashify): a guest's files shared through a content-addressed
 * store (the hash directory's store on the guest's filesystem). */
#define VS_UNIFY_REFRESH 0x8u /* ignore the digest cache, recheck all */
struct vs_hash_job;
struct vs_hash_job *vs_hash_job_new(struct vs_ctx *ctx, int verbose);
/* Adds a guest (it needs apps/vunify/): its root, exclude list, package
 * configuration files and hash directory (apps/vunify/hash, else
 * .defaults/apps/vunify/hash; every guest of a job must use the same).
 * -1 with the error set. */
int vs_hash_job_add_guest(struct vs_hash_job *j, struct vs_guest *g);
/* Adds a tree by host-view path, its exclude list (NULL: none) and the
 * hash directory (absolute, host view; the same for every tree). */
int vs_hash_job_add_tree(struct vs_hash_job *j, const char *root,
			 const char *exclude, const char *hashdir);
/* Runs it (link: "auto", "reflink", "hardlink" or NULL for vs.conf) and
 * prints util-vserver's lines and a summary: the trees on one store are
 * hashified together (equal files read once).  0, or -1 with the error
 * set (per-file problems are warned about and make it -1 at the end). */
int vs_hash_job_run(struct vs_hash_job *j, const char *link, unsigned flags);
/* Files smaller than bytes are skipped (by default: more than one block
 * of the store's filesystem for reflink, else 16 bytes, util-vserver's).
 * -1 with the error set when bytes is under 16. */
int vs_hash_job_min_size(struct vs_hash_job *j, off_t bytes);
void vs_hash_job_free(struct vs_hash_job *j);
/* Removes the store entries of a hash directory (host view) that no
 * guest uses any more (flags: VS_UNIFY_DRY_RUN).  0 or -1. */
int vs_hash_gc(struct vs_ctx *ctx, const char *hashdir, unsigned flags,
	       int verbose);
/* Hashes every store entry again; -1 (error set) when one does not match
 * its name (each is reported). */
int vs_hash_verify(struct vs_ctx *ctx, const char *hashdir, int verbose);
/* Renames the entries an earlier vs named by whole seconds to their exact
 * names (hashify --migrate); links nothing.  0, or -1 with the error set
 * when a store cannot be read or an entry is left. */
int vs_hash_migrate(struct vs_ctx *ctx, const char *hashdir, unsigned flags,
		    int verbose);

#ifdef __cplusplus
}
#endif
#endif
