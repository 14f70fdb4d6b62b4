/* One file of a hashify run: checked again, compared, linked to its store
 * entry (or made one), and reported (hashify.c). */
#define _GNU_SOURCE
#include "hashrun.h"

static void hsay(struct hrun *h, const char *path, const char *entry)
{
	if (!h->o->dry_run && h->o->verbose < 2)
		return;
	if (h->o->verbose >= 4)
		printf("unifying   '%s' (to '%s/%s')\n", path, h->store->path,
		       entry);
	else
		printf("unifying   '%s'\n", path);
}

/* The first bytes of a file, kept from the first chunk read. */
struct head {
	unsigned char b[SRC_HEAD];
	size_t want; /* the file's size, at most SRC_HEAD */
	bool got;
};

static void keep_head(void *arg, off_t off, const char *buf, size_t len)
{
	struct head *hd = arg;
	if (off == 0 && len >= hd->want) {
		memcpy(hd->b, buf, hd->want);
		hd->got = true;
	}
}

/* SHA-256 of an open file (pread: mapping would count the file's pages
 * in the process's memory), in chunks of DBUF bytes; its first SRC_HEAD
 * bytes into hd unless NULL (hd->got says whether it was that long). */
static int digest(struct hwork *w, int fd, off_t size,
		  unsigned char d[VS_DIGEST_LEN], struct head *hd)
{
	w->st.bytes_hashed += (unsigned long long)size;
	if (hd) {
		hd->got = false;
		hd->want = size < SRC_HEAD ? (size_t)size : SRC_HEAD;
	}
	return vs_digest_stream(fd, size, d, w->dbuf, DBUF,
				hd ? keep_head : NULL, hd);
}

#define SRC_XATTR "trusted.vs.src"

/* Records on a new reflink entry a handle of the guest file it was cloned
 * from (a trusted.* attribute: no guest can forge it). */
HF_INTERNAL void hf_remember_source(int entryfd, int srcfd)
{
	struct {
		struct file_handle fh;
		unsigned char b[MAX_HANDLE_SZ];
	} hd;
	int mount_id;
	hd.fh.handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(srcfd, "", &hd.fh, &mount_id, AT_EMPTY_PATH) == 0)
		fsetxattr(entryfd, SRC_XATTR, &hd.fh,
			  sizeof(hd.fh) + hd.fh.handle_bytes, 0);
}

/* The file an entry was cloned from, opened by its handle, when it still
 * shares the entry's extents (so it still has the entry's content);
 * else -1. */
static int clone_source(struct hrun *h, int entryfd)
{
	struct {
		struct file_handle fh;
		unsigned char b[MAX_HANDLE_SZ];
	} hd;
	ssize_t n = fgetxattr(entryfd, SRC_XATTR, &hd, sizeof(hd));
	if (n < (ssize_t)sizeof(hd.fh) ||
	    (size_t)n != sizeof(hd.fh) + hd.fh.handle_bytes ||
	    hd.fh.handle_bytes > MAX_HANDLE_SZ)
		return -1;
	int fd = open_by_handle_at(h->store->fd, &hd.fh,
				   O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			!vs_same_extents(fd, entryfd))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The extents of the file at hand, read once. */
static const struct vs_extmap *file_map(struct hwork *w, int ffd)
{
	if (!w->fmap_read) {
		vs_extent_map(ffd, &w->fmap);
		w->fmap_read = true;
	}
	return &w->fmap;
}

/* A dedupe into the file at hand (its extents change). */
static int dedupe_into(struct hwork *w, int src, int ffd, off_t size)
{
	w->fmap_read = false;
	return vs_dedupe_equal(src, ffd, size);
}

/* The extents of the entry with digest d as this group saw them, or
 * NULL. */
static const struct vs_extmap *emap_of(const struct hwork *w,
				       const unsigned char *d)
{
	for (int i = 0; i < w->nemaps; i++)
		if (!memcmp(w->emaps[i].d, d, VS_DIGEST_LEN))
			return &w->emaps[i].m;
	return NULL;
}

/* The extents of the entry efd (digest d), remembered for the group while
 * there is room (not when they cannot decide: one not placed yet may be
 * by the next file's turn). */
static const struct vs_extmap *emap_read(struct hwork *w,
					 const unsigned char *d, int efd,
					 struct vs_extmap *tmp)
{
	const struct vs_extmap *m = emap_of(w, d);
	if (m)
		return m;
	if (w->nemaps == w->cemaps && w->cemaps < NSRC) {
		w->cemaps = w->cemaps ? 2 * w->cemaps : 8;
		w->emaps = vs_xrealloc(w->emaps, w->cemaps * sizeof(*w->emaps));
	}
	if (w->nemaps == w->cemaps) {
		vs_extent_map(efd, tmp);
		return tmp;
	}
	struct hemap *x = &w->emaps[w->nemaps];
	vs_extent_map(efd, &x->m);
	memcpy(x->d, d, VS_DIGEST_LEN);
	if (x->m.n)
		w->nemaps++;
	return &x->m;
}

/* Whether the file at hand shares the extents this group saw entry d
 * have (false when the group has not seen them). */
static bool shares_seen(struct hwork *w, int ffd, const unsigned char *d)
{
	const struct vs_extmap *m = emap_of(w, d);
	return m && vs_same_map(file_map(w, ffd), m);
}

/* Deduplicates the guest's file from the reflink entry efd, whose extents
 * it does not share: R_LINKED, R_COLLISION (other bytes) or R_FAILED.
 * The file the entry was cloned from, when it still shares the entry's
 * extents, is the better source: its pages are likely cached, the
 * entry's are not (the kernel compares the bytes either way). */
static enum hresult dedupe_from_entry(struct hwork *w, int ffd, int efd,
				      off_t size)
{
	if (w->h->o->dry_run)
		return vs_same_bytes(ffd, efd, w->buf1, w->buf2, HBUF) == 1
			   ? R_LINKED
			   : R_COLLISION;
	int src = clone_source(w->h, efd);
	int x = dedupe_into(w, src >= 0 ? src : efd, ffd, size);
	if (x != 0 && src >= 0)
		x = dedupe_into(w, efd, ffd, size);
	if (src >= 0)
		close(src);
	struct stat es;
	if (x < 0 && fstat(efd, &es) == 0 &&
	    (!S_ISREG(es.st_mode) || es.st_size != size))
		x = 1; /* not what its name says: another size */
	return x == 0 ? R_LINKED : x == 1 ? R_COLLISION : R_FAILED;
}

/* Shares the extents of the guest's file with the reflink entry efd
 * (digest d): R_ALREADY when it does already, else as
 * dedupe_from_entry. */
static enum hresult share_extents(struct hwork *w, int ffd, int efd,
				  const unsigned char *d, off_t size)
{
	struct vs_extmap tmp;
	if (vs_same_map(file_map(w, ffd), emap_read(w, d, efd, &tmp)))
		return R_ALREADY;
	return dedupe_from_entry(w, ffd, efd, size);
}

/* The file of this thread's group that shares the extents of the entry
 * with digest d, or -1. */
static int src_of(const struct hwork *w, const unsigned char *d)
{
	for (int s = 0; s < w->nsrc; s++)
		if (!memcmp(d, w->src[s].d, VS_DIGEST_LEN))
			return w->src[s].fd;
	return -1;
}

static enum hresult link_reflink(struct hwork *w, int ffd,
				 const struct stat *fs, bool verified,
				 bool unlisted,
				 const unsigned char d[VS_DIGEST_LEN],
				 char *entry, size_t esize)
{
	struct hrun *h = w->h;
	vs_hentry_name(d, NULL, entry, esize);
	if (shares_seen(w, ffd, d))
		return R_ALREADY;
	int src = h->o->dry_run ? -1 : src_of(w, d);
	if (src >= 0 && dedupe_into(w, src, ffd, fs->st_size) == 0)
		return R_LINKED;
	/* not in the index: none is looked for (one made meanwhile, by
	 * another run, is found when the link says it exists) */
	int efd = unlisted ? -1 : hf_entry_open(h, entry, 0);
	if (unlisted)
		errno = ENOENT;
	if (efd >= 0) {
		enum hresult r = share_extents(w, ffd, efd, d, fs->st_size);
		int e = errno;
		close(efd);
		errno = e;
		return r;
	}
	if (errno != ENOENT)
		return R_FAILED;
	if (h->o->dry_run)
		return R_NEW;
	int xfd = hf_entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	int tfd = openat(xfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	enum hresult r = R_FAILED;
	unsigned char now[VS_DIGEST_LEN];
	if (tfd >= 0 && ioctl(tfd, FICLONE, ffd) == 0) {
		/* with the lease, the clone is what was hashed; without one,
		 * or when the digest came from the cache, the private clone
		 * is hashed */
		if (!verified && (digest(w, tfd, fs->st_size, now, NULL) < 0 ||
				  memcmp(now, d, VS_DIGEST_LEN)))
			r = R_COLLISION;
		else if (linkat(tfd, "", xfd, entry + 3, AT_EMPTY_PATH) == 0) {
			r = R_NEW;
			hf_remember_source(tfd, ffd);
		} else if (errno == EEXIST)
			r = R_RETRY; /* made meanwhile: share it */
	}
	int e = errno;
	if (tfd >= 0)
		close(tfd);
	errno = e;
	return r;
}

/* Replaces the guest's file (name in dirfd, stat fs, open as ffd under
 * our read lease) by a link to the store entry efd (inode eino),
 * atomically. */
static enum hresult replace_by_entry(struct hrun *h, int dirfd,
				     const struct hcand *c,
				     const struct stat *fs, int ffd,
				     const char *entry, int efd, ino_t eino)
{
	struct gmem m = {.c = c,
			 .dirfd = dirfd,
			 .fd = ffd,
			 .leased = true,
			 .st = *fs,
			 .eq = true};
	hf_link_to_entry(h, efd, eino, entry, false, &m, 1);
	errno = m.e;
	return m.r;
}

/* Links the guest's file to the existing entry of that name when its
 * metadata and bytes are the entry's: R_LINKED, R_ALREADY, R_COLLISION
 * (not the same), R_RETRY (no such entry), R_CHANGED or R_FAILED. */
static enum hresult to_entry(struct hwork *w, int dirfd, const char *name,
			     int ffd, const struct stat *fs, const char *entry)
{
	struct hrun *h = w->h;
	/* the file's class (in the entry's name) says it has no xattrs:
	 * then the entry must have none either */
	bool no_xattrs = vs_hclass_no_xattrs(entry);
	int efd = hf_entry_open(h, entry, O_NONBLOCK);
	if (efd < 0)
		return errno == ENOENT ? R_RETRY : R_FAILED;
	struct stat es;
	enum hresult r;
	if (fstat(efd, &es) < 0) {
		r = R_FAILED;
	} else if (es.st_ino == fs->st_ino && es.st_dev == fs->st_dev) {
		r = R_ALREADY;
	} else if (!hf_entry_fits(h, efd, &es, ffd, fs) ||
		   !((no_xattrs && flistxattr(efd, NULL, 0) == 0) ||
		     vs_same_xattrs(ffd, efd))) {
		r = R_COLLISION; /* the entry is not what its name says */
	} else {
		int eq = vs_same_bytes(ffd, efd, w->buf1, w->buf2, HBUF);
		r = eq < 0	    ? R_FAILED
		    : !eq	    ? R_COLLISION
		    : h->o->dry_run ? R_LINKED
				    : replace_by_entry(h, dirfd, w->cur, fs, ffd,
						       entry, efd, es.st_ino);
	}
	int e = errno;
	close(efd);
	errno = e;
	return r;
}

static enum hresult link_hardlink(struct hwork *w, int dirfd, const char *name,
				  int ffd, const struct stat *fs,
				  const char *class,
				  const unsigned char d[VS_DIGEST_LEN],
				  char *entry, size_t esize)
{
	struct hrun *h = w->h;
	vs_hentry_name(d, class, entry, esize);
	if (hf_store_has(h, fs->st_ino)) {
		if (h->o->dry_run || vs_is_immutable(ffd))
			return R_ALREADY;
		/* linked by a run killed before the flag: finish it when its
		 * content still is its entry's (hashed under the lease) */
		struct stat es;
		char path[PATH_MAX];
		if (fstatat(h->store->fd, entry, &es, AT_SYMLINK_NOFOLLOW) <
			0 ||
		    es.st_ino != fs->st_ino) {
			vs_warn(
			    h->ctx,
			    "'%s%s' shares a store entry an interrupted run "
			    "left writable and has changed since: check the "
			    "store with 'vs hashify --verify'",
			    hf_troot(h, w->cur),
			    hf_cpath(h, w->cur, path, sizeof(path)));
			return R_FAILED;
		}
		return vs_set_immutable(ffd, true) < 0 ? R_FAILED : R_ALREADY;
	}
	enum hresult r = to_entry(w, dirfd, name, ffd, fs, entry);
	if (r != R_RETRY)
		return r;
	return h->o->dry_run ? R_NEW
			     : hf_new_hard_entry(h, ffd, fs->st_ino, entry);
}

/* The entries of the file's class and size, compared before any
 * hashing: a file equal to one is linked to it (its name was verified
 * when it was made), and is never hashed. */
static enum hresult by_class(struct hwork *w, int dirfd, const char *name,
			     int ffd, const struct stat *fs, const char *class,
			     char *entry, size_t esize)
{
	struct hrun *h = w->h;
	unsigned char cand[4][VS_DIGEST_LEN];
	pthread_mutex_lock(&h->lock);
	int n = vs_hstore_candidates(h->store, class, fs->st_size, cand, 4);
	pthread_mutex_unlock(&h->lock);
	for (int k = 0; k < n; k++) {
		vs_hentry_name(cand[k], class, entry, esize);
		enum hresult r = to_entry(w, dirfd, name, ffd, fs, entry);
		if (r != R_COLLISION && r != R_RETRY)
			return r;
	}
	return R_RETRY; /* none: hash it */
}

/* Up to max digests of the reflink entries of a size (the store's
 * index, entries made by this run included). */
static int size_entries(struct hrun *h, off_t size,
			unsigned char (*cand)[VS_DIGEST_LEN], int max)
{
	char key[32];
	vs_hsize_key(size, key, sizeof(key));
	pthread_mutex_lock(&h->lock);
	int n = vs_hstore_candidates(h->store, key, size, cand, max);
	pthread_mutex_unlock(&h->lock);
	return n;
}

/* Whether the index lists an entry of digest d and this size. */
static bool size_listed(struct hrun *h, off_t size,
			const unsigned char d[VS_DIGEST_LEN])
{
	char key[32];
	vs_hsize_key(size, key, sizeof(key));
	pthread_mutex_lock(&h->lock);
	bool in = vs_hstore_listed(h->store, key, size, d);
	pthread_mutex_unlock(&h->lock);
	return in;
}

/* Reflink entries of the file's size (the n digests of cand), tried
 * before any hashing: the kernel compares the bytes when it shares the
 * extents, so a file equal to one is done without being hashed (d gets
 * that entry's digest).  R_RETRY when none is equal. */
static enum hresult reflink_by_size(struct hwork *w, int ffd,
				    const struct stat *fs,
				    unsigned char (*cand)[VS_DIGEST_LEN], int n,
				    unsigned char d[VS_DIGEST_LEN], char *entry,
				    size_t esize)
{
	struct hrun *h = w->h;
	unsigned char head[SRC_HEAD];
	size_t hl = fs->st_size < SRC_HEAD ? (size_t)fs->st_size : SRC_HEAD;
	/* a group of many contents: hashing finds the one (a dedupe per
	 * content tried would cost more); of one content so far, the
	 * kernel's comparison decides without a read of ours */
	int tries = w->nsrc <= SRC_TRIES ? w->nsrc : 0;
	if (tries < 2)
		hl = 0;
	else if (pread(ffd, head, hl, 0) != (ssize_t)hl)
		hl = 0; /* unreadable: the kernel decides */
	for (int s = 0; s < tries && !h->o->dry_run; s++) {
		if (hl && memcmp(head, w->src[s].head, hl))
			continue; /* other bytes */
		/* the files this thread made or shared the group's entries
		 * from, a moment ago: the kernel compares them with this one */
		if (dedupe_into(w, w->src[s].fd, ffd, fs->st_size) == 0) {
			vs_hentry_name(w->src[s].d, NULL, entry, esize);
			memcpy(d, w->src[s].d, VS_DIGEST_LEN);
			return R_LINKED;
		}
	}
	/* the entry whose extents the file shares already (a rerun) answers
	 * before any dedupe is tried: the ones this group saw without an
	 * open, the others opened once */
	int efd[SRC_TRIES];
	bool compared[SRC_TRIES];
	enum hresult r = R_RETRY;
	for (int k = 0; k < n; k++) {
		efd[k] = -1;
		compared[k] = false;
		if (r != R_RETRY || src_of(w, cand[k]) >= 0)
			continue; /* tried above */
		vs_hentry_name(cand[k], NULL, entry, esize);
		struct vs_extmap tmp;
		const struct vs_extmap *m = emap_of(w, cand[k]);
		if (!m) {
			efd[k] = hf_entry_open(h, entry, 0);
			if (efd[k] < 0)
				continue;
			m = emap_read(w, cand[k], efd[k], &tmp);
		}
		compared[k] = true;
		if (vs_same_map(file_map(w, ffd), m)) {
			r = R_ALREADY;
			memcpy(d, cand[k], VS_DIGEST_LEN);
		}
	}
	for (int k = 0; k < n && r == R_RETRY; k++) {
		if (src_of(w, cand[k]) >= 0)
			continue; /* tried above */
		vs_hentry_name(cand[k], NULL, entry, esize);
		if (efd[k] < 0)
			efd[k] = hf_entry_open(h, entry, 0);
		if (efd[k] < 0)
			continue;
		/* not compared above when its open failed there */
		r = compared[k]
			? dedupe_from_entry(w, ffd, efd[k], fs->st_size)
			: share_extents(w, ffd, efd[k], cand[k], fs->st_size);
		if (r == R_COLLISION)
			r = R_RETRY; /* another content of that size */
		else
			memcpy(d, cand[k], VS_DIGEST_LEN);
	}
	int e = errno;
	for (int k = 0; k < n; k++)
		if (efd[k] >= 0)
			close(efd[k]);
	errno = e;
	return r;
}

/* The directory of a candidate, opened beneath the root (kept for the
 * next candidate of the same directory). */
HF_INTERNAL int hf_parent_fd(struct hwork *w, const struct hcand *c)
{
	struct hrun *h = w->h;
	struct hdir *d = &h->dirs[c->dir];
	if (d->fd >= 0)
		return d->fd; /* checked by the walk */
	if (w->curfd >= 0 && w->curdir == c->dir)
		return w->curfd;
	if (w->curfd >= 0)
		close(w->curfd);
	w->curdir = c->dir;
	w->curfd = hf_dir_reopen(h, d);
	return w->curfd;
}

/* Whether replacing this name of a (hardlink) file freed its space: a
 * file with several names frees it when its last name is replaced, and
 * whichever thread sees its link count reach 0 first counts it. */
HF_INTERNAL bool hf_frees_space(struct hwork *w, int ffd, const struct stat *fs)
{
	struct hrun *h = w->h;
	if (fs->st_nlink == 1)
		return true;
	struct stat after;
	if (h->o->dry_run || fstat(ffd, &after) < 0 || after.st_nlink != 0)
		return false;
	bool freed = false;
	pthread_mutex_lock(&h->lock);
	size_t k = 0;
	while (k < h->nfreed && h->freed[k] != fs->st_ino)
		k++;
	if (k == h->nfreed) {
		h->freed =
		    vs_xrealloc(h->freed, (h->nfreed + 1) * sizeof(*h->freed));
		h->freed[h->nfreed++] = fs->st_ino;
		freed = true;
	}
	pthread_mutex_unlock(&h->lock);
	return freed;
}

/* Counts and reports the outcome r (errno e) of candidate c; entry is
 * the store entry's name, d its digest, class the file's class (hardlink)
 * or NULL. */
HF_INTERNAL void hf_report(struct hwork *w, const struct hcand *c,
			   enum hresult r, int e, const char *entry,
			   const unsigned char *d, const char *class,
			   off_t size, bool freed)
{
	struct hrun *h = w->h;
	bool hard = h->o->link == VS_LINK_HARDLINK;
	char path[PATH_MAX];
	hf_cpath(h, c, path, sizeof(path));
	switch (r) {
	case R_LINKED:
		if (hard && !h->o->dry_run) {
			/* once more at the end: another thread's rename */
			struct hdir *dd = &h->dirs[c->dir];
			pthread_mutex_lock(&h->lock);
			dd->touched = true;
			pthread_mutex_unlock(&h->lock);
		}
		hsay(h, path, entry);
		w->st.linked++;
		if (freed)
			w->st.bytes_saved += (unsigned long long)size;
		break;
	case R_NEW:
		hsay(h, path, entry);
		w->st.new_entries++;
		if (!h->o->dry_run) {
			char key[32];
			vs_hsize_key(size, key, sizeof(key));
			pthread_mutex_lock(&h->lock);
			if (hard)
				vs_hstore_add_ino(h->store, c->ino);
			if (!hard || w->index_new)
				vs_hstore_index_add(h->store, d,
						    hard ? class : key, size);
			pthread_mutex_unlock(&h->lock);
			if (h->fate)
				h->fate[c - h->c].flags |= HD_FRESH;
		}
		break;
	case R_ALREADY:
		hf_skip(w, path, VS_SKIP_ALREADY);
		break;
	case R_CHANGED:
		hf_skip(w, path, VS_SKIP_CHANGED);
		break;
	case R_LINKS:
		hf_skip(w, path, VS_SKIP_LINKS);
		if (h->o->verbose < 2)
			vs_warn(h->ctx,
				"not hashifying '%s%s': it has hard links "
				"outside the run",
				hf_troot(h, c), path);
		break;
	case R_COLLISION:
		hf_skip(w, path, VS_SKIP_COLLISION);
		if (h->o->verbose < 1)
			vs_warn(h->ctx,
				"'%s%s': its content differs from the store "
				"entry '%s/%s' of its digest (not linked)",
				hf_troot(h, c), path, h->store->path, entry);
		break;
	default:
		w->st.errors++;
		vs_warn(h->ctx, "cannot hashify '%s%s': %s", hf_troot(h, c),
			path, strerror(e));
	}
}

/* Whether this group shared the inode ino already (under another
 * name). */
static bool inode_done(const struct hwork *w, ino_t ino)
{
	for (size_t k = 0; k < w->ndone; k++)
		if (w->done_ino[k] == ino)
			return true;
	return false;
}

static void inode_add(struct hwork *w, ino_t ino)
{
	if (w->ndone == w->cdone) {
		w->cdone = w->cdone ? 2 * w->cdone : 16;
		w->done_ino =
		    vs_xrealloc(w->done_ino, w->cdone * sizeof(*w->done_ino));
	}
	w->done_ino[w->ndone++] = ino;
}

HF_INTERNAL void hf_link_one(struct hwork *w, struct hcand *c)
{
	struct hrun *h = w->h;
	char path[PATH_MAX];
	w->cur = c;
	w->fmap_read = false;
	int dirfd = hf_parent_fd(w, c);
	const char *name = c->name;
	struct stat fs;
	int ffd = hf_cand_open(c, dirfd, &fs);
	if (ffd < 0) {
		hf_skip(w, hf_cpath(h, c, path, sizeof(path)), VS_SKIP_CHANGED);
		return;
	}
	/* while the lease is held nobody can open the file for writing:
	 * what is hashed is what gets linked */
	bool hard = h->o->link == VS_LINK_HARDLINK;
	/* reflink: the kernel compares what it deduplicates; the lease is
	 * taken before hashing (below) */
	bool leased = hard && !h->o->dry_run && vs_lease_read(ffd);
	if (hard && !h->o->dry_run && !leased) {
		close(ffd);
		/* open for writing */
		hf_skip(w, hf_cpath(h, c, path, sizeof(path)), VS_SKIP_CHANGED);
		return;
	}
	if (!hard && fs.st_nlink > 1 && inode_done(w, fs.st_ino)) {
		close(ffd);
		hf_skip(w, hf_cpath(h, c, path, sizeof(path)), VS_SKIP_ALREADY);
		return;
	}
	unsigned char d[VS_DIGEST_LEN];
	/* reflink: the entries of its size; a digest cache is written only
	 * for files of a size with more than SRC_TRIES of them (hashcache.c),
	 * so only then is it looked for */
	unsigned char cand[SRC_TRIES + 1][VS_DIGEST_LEN];
	int nents = hard || h->o->refresh
			? 0
			: size_entries(h, fs.st_size, cand, SRC_TRIES + 1);
	bool cached = nents > SRC_TRIES && vs_hcache_get(ffd, &fs, d);
	struct head hd = {.got = false};
	bool kept = false; /* ffd became a source of the group */
	char entry[PATH_MAX], class[128];
	enum hresult r = R_FAILED;
	bool write_cache = false, freed = false;
	int e = 0;
	if (hard) {
		if (vs_hclass(ffd, &fs, h->o->ignore_mtime, class,
			      sizeof(class)) < 0) {
			e = errno;
			goto done;
		}
		if (!h->o->refresh && !hf_store_has(h, fs.st_ino)) {
			r = by_class(w, dirfd, name, ffd, &fs, class, entry,
				     sizeof(entry));
			if (r != R_RETRY) {
				e = errno;
				goto done;
			}
			r = R_FAILED;
		}
	}
	if (!hard && !cached && !h->o->refresh) {
		r = reflink_by_size(w, ffd, &fs, cand,
				    nents < SRC_TRIES ? nents : SRC_TRIES, d,
				    entry, sizeof(entry));
		if (r != R_RETRY) {
			e = errno;
			write_cache = true; /* d is the entry's */
			goto reflinked;
		}
		r = R_FAILED;
	}
	if (!hard && !h->o->dry_run)
		leased = vs_lease_read(ffd);
	if (cached)
		w->st.cached++;
	else if (digest(w, ffd, fs.st_size, d, hard ? NULL : &hd) < 0) {
		e = errno;
		r = e == ESTALE ? R_CHANGED : R_FAILED;
		goto done;
	}
	/* reflink: a size of few entries has a short list to search for the
	 * digest; a long one would cost more than the open it saves */
	for (int attempt = 0; attempt < 3; attempt++) {
		r = hard ? link_hardlink(w, dirfd, name, ffd, &fs, class, d,
					 entry, sizeof(entry))
			 : link_reflink(w, ffd, &fs, leased && !cached,
					attempt == 0 && nents <= SRC_TRIES &&
					    !size_listed(h, fs.st_size, d),
					d, entry, sizeof(entry));
		if (r == R_COLLISION && cached) {
			/* a stale or forged cache: the content decides */
			if (digest(w, ffd, fs.st_size, d, &hd) < 0)
				break;
			cached = false;
			continue;
		}
		if (r != R_RETRY)
			break;
	}
	e = errno;
	write_cache = !cached;
	if (!hard && r == R_NEW && !h->o->dry_run && w->nsrc < NSRC) {
		/* it shares the new entry's extents: the group's next files
		 * are deduplicated from it (its first bytes came with the
		 * digest; from a cached digest they are read) */
		if (!w->src)
			w->src = vs_xmalloc(NSRC * sizeof(*w->src));
		struct hsrc *x = &w->src[w->nsrc];
		size_t want = fs.st_size < SRC_HEAD ? (size_t)fs.st_size
						    : SRC_HEAD;
		if (hd.got)
			memcpy(x->head, hd.b, want);
		if (hd.got || pread(ffd, x->head, SRC_HEAD, 0) >= (ssize_t)want) {
			x->fd = ffd;
			memcpy(x->d, d, VS_DIGEST_LEN);
			w->nsrc++;
			kept = true;
		}
	}
reflinked:
	/* the digest cache is written at the end of the run, where it saves
	 * a rerun a read (hashcache.c) */
	if (h->fate && (r == R_LINKED || r == R_NEW || r == R_ALREADY)) {
		struct hdone *x = &h->fate[c - h->c];
		memcpy(x->d, d, VS_DIGEST_LEN);
		x->flags |= HD_DIGEST | (write_cache ? 0 : HD_CACHED);
	}
done:
	if (!hard && fs.st_nlink > 1 &&
	    (r == R_LINKED || r == R_NEW || r == R_ALREADY))
		inode_add(w, fs.st_ino);
	freed = r == R_LINKED && (hard ? hf_frees_space(w, ffd, &fs) : true);
	/* closing the descriptor ends its lease; a kept one's ends here */
	if (!kept)
		close(ffd);
	else if (leased)
		vs_lease_end(ffd);
	hf_report(w, c, r, e, entry, d, class, fs.st_size, freed);
}
