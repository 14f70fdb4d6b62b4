/* What hashify skips, counted and said (the lowest layer of the hashify
 * engine: it calls nothing of it). */
#define _GNU_SOURCE
#include "hashrun.h"

HF_INTERNAL void hf_skip(struct hwork *w, const char *path, int reason)
{
	struct hrun *h = w->h;
	w->st.skipped[reason]++;
	int v = h->o->verbose;
	if (v < 1 || (reason == VS_SKIP_ALREADY && v < 3) ||
	    (reason == VS_SKIP_SYMLINK && v < 6))
		return;
	if (v >= 2)
		printf("  skipping '%s' (%s)\n", path, vs_unify_reason(reason));
	else
		printf("  skipping '%s'\n", path);
}
