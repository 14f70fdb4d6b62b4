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

#ifdef __cplusplus
}
#endif
#endif
