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

/* Whether candidate i's digest cache saves a rerun a read. */
static bool wants_cache(const struct hrun *h, size_t i)
{
	const struct hdone *x = &h->fate[i];
	if ((x->flags & (HD_DIGEST | HD_CACHED)) != HD_DIGEST)
		return false;
	unsigned char cand[SRC_TRIES + 1][VS_DIGEST_LEN];
	char key[32];
	vs_hsize_key(h->c[i].size, key, sizeof(key));
	/* a rerun tries every entry of a size with at most SRC_TRIES */
	return vs_hstore_candidates(h->store, key, h->c[i].size, cand,
				    SRC_TRIES + 1) > SRC_TRIES;
}

HF_INTERNAL void *hf_cache_worker(void *arg)
{
	struct hwork *w = arg;
	struct hrun *h = w->h;
	size_t i, end;
	while (hf_next_chunk(h, &i, &end)) {
		for (; i < end; i++) {
			if (!wants_cache(h, i))
				continue;
			const struct hcand *c = &h->c[i];
			int dirfd = hf_parent_fd(w, c);
			struct stat st;
			int fd = dirfd < 0 ? -1 : hf_cand_open(c, dirfd, &st);
			if (fd >= 0) {
				vs_hcache_set(fd, &st, h->fate[i].d);
				close(fd);
			}
		}
	}
	if (w->curfd >= 0)
		close(w->curfd);
	return NULL;
}
