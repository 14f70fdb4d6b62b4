/* Reflink: the digest cache, written at the end of a run and only where
 * it saves a rerun a read.  A rerun finds a file's entry among the
 * entries of its size (at most SRC_TRIES are tried: the one whose
 * extents the file shares answers without a read); only a file of a size
 * with more entries than that needs its digest cached, and only then is
 * the cache looked for (hashone.c).  The attribute is a logged
 * write per file (XFS): written for every file it cost more than the
 * reads it saved. */
#define _GNU_SOURCE
#include "hashrun.h"

HF_INTERNAL void hf_write_caches(struct hrun *h)
{
	for (size_t i = 0; i < h->n; i++) {
		const struct hdone *x = &h->fate[i];
		const struct hcand *c = &h->c[i];
		if ((x->flags & (HD_DIGEST | HD_CACHED)) != HD_DIGEST)
			continue;
		unsigned char cand[SRC_TRIES + 1][VS_DIGEST_LEN];
		char key[32];
		vs_hsize_key(c->size, key, sizeof(key));
		if (vs_hstore_candidates(h->store, key, c->size, cand,
					 SRC_TRIES + 1) <= SRC_TRIES)
			continue; /* a rerun tries every entry of its size */
		struct stat st;
		int fd = hf_cand_reopen(h, c, &st);
		if (fd >= 0) {
			vs_hcache_set(fd, &st, x->d);
			close(fd);
		}
	}
}
