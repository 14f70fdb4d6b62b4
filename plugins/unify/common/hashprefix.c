/* Shared beginnings (reflink, several trees in one run): a file whose
 * content was new to the store shares its beginning with the file at its
 * path in an earlier tree, and its entry is made again from it. */
#define _GNU_SOURCE
#include "hashrun.h"

/* Replaces the reflink entry (name "xx/...") by a new clone of ffd, which
 * has its bytes and is leased: the entry then shares ffd's extents, and
 * the old ones are freed.  0 or -1. */
static int renew_entry(struct hrun *h, int ffd, const char *entry)
{
	int xfd = hf_entry_dir(h, entry, false);
	char tmp[NAME_MAX + 1];
	snprintf(tmp, sizeof(tmp), VS_STORE_TMP "%.64s", entry + 3);
	int tfd = xfd < 0
		      ? -1
		      : openat(xfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	int r = -1;
	if (tfd >= 0 && ioctl(tfd, FICLONE, ffd) == 0 &&
	    linkat(tfd, "", xfd, tmp, AT_EMPTY_PATH) == 0) {
		hf_remember_source(tfd, ffd);
		r = renameat(xfd, tmp, xfd, entry + 3);
		if (r < 0)
			unlinkat(xfd, tmp, 0);
	}
	if (tfd >= 0)
		close(tfd);
	return r;
}

/* Shares the beginning of candidate c (an entry's source, of digest d,
 * open as ffd) with the file at its path in an earlier tree; 0 when
 * done (the entry made again from it). */
static int share_prefix(struct hrun *h, const struct hcand *c, int ffd,
			const struct stat *fs, const unsigned char *d)
{
	const struct hdir *dd = &h->dirs[c->dir];
	char path[PATH_MAX];
	hf_cpath(h, c, path, sizeof(path));
	int gfd = -1;
	struct stat gs = {0};
	for (unsigned t = 0; t < dd->tree && gfd < 0; t++) {
		gfd = hf_open_beneath(h->trees[t]->rootfd, path,
				      O_RDONLY | O_NONBLOCK);
		if (gfd >= 0 &&
		    (fstat(gfd, &gs) < 0 || !S_ISREG(gs.st_mode) ||
		     gs.st_dev != fs->st_dev || gs.st_ino == fs->st_ino)) {
			close(gfd);
			gfd = -1;
		}
	}
	off_t blk = fs->st_blksize > 0 ? fs->st_blksize : 4096;
	off_t common = fs->st_size < gs.st_size ? fs->st_size : gs.st_size;
	common -= common % blk;
	char entry[PATH_MAX];
	vs_hentry_name(d, NULL, entry, sizeof(entry));
	int efd =
	    gfd < 0 || common < PREFIX_MIN ? -1 : hf_entry_open(h, entry, 0);
	int r = -1;
	/* leased, and still sharing every extent of its entry: it still
	 * has the entry's bytes and keeps them */
	struct stat es;
	if (efd >= 0 && fstat(efd, &es) == 0 && es.st_size == fs->st_size &&
	    vs_lease_read(ffd)) {
		if (vs_same_extents(ffd, efd) &&
		    vs_dedupe(gfd, ffd, common) == 0 &&
		    renew_entry(h, ffd, entry) == 0) {
			h->st->prefixes++;
			h->st->prefix_bytes += (unsigned long long)common;
			h->st->bytes_saved += (unsigned long long)common;
			r = 0;
		}
		vs_lease_end(ffd);
	}
	if (efd >= 0)
		close(efd);
	if (gfd >= 0)
		close(gfd);
	return r;
}

/* Whether another candidate of group positions [a, b) (not k) has the
 * content of digest d: it shares the extents d's entry has now. */
static bool content_shared(struct hrun *h, size_t a, size_t b, size_t k,
			   const unsigned char *d)
{
	for (size_t x = a; x < b; x++) {
		const struct hdone *m = &h->fate[h->order[x]];
		if (x != k && (m->flags & HD_DIGEST) &&
		    !memcmp(m->d, d, VS_DIGEST_LEN))
			return true;
	}
	return false;
}

/* Reflink, several trees: a file whose content was new to the store (a
 * guest's changed or extended copy, say) shares its beginning with the
 * file at its path in an earlier tree, and so does its entry (else the
 * entry would keep the old extents).  The kernel compares the bytes;
 * nothing is shared when they differ. */
HF_INTERNAL void hf_share_prefixes(struct hrun *h)
{
	for (size_t g = 0; g < h->ngroups; g++) {
		size_t a = h->groups[g], b = h->groups[g + 1];
		if (h->c[h->order[a]].size < PREFIX_MIN)
			break; /* largest first: the rest are smaller */
		for (size_t k = a; k < b; k++) {
			size_t i = h->order[k];
			const struct hcand *c = &h->c[i];
			const struct hdone *x = &h->fate[i];
			if (!(x->flags & HD_FRESH) || h->dirs[c->dir].tree == 0)
				continue;
			/* only a content no other file has: one that others
			 * share would keep its old extents through them */
			if (content_shared(h, a, b, k, x->d))
				continue;
			struct stat fs;
			int ffd = hf_cand_reopen(h, c, &fs);
			if (ffd >= 0)
				share_prefix(h, c, ffd, &fs, x->d);
			if (ffd >= 0)
				close(ffd);
		}
	}
}
