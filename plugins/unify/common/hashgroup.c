/* Files that may be equal (hardlink), handled together: opened and
 * leased once, the first hashed while the others are compared with it,
 * the equal ones linked to one entry. */
#define _GNU_SOURCE
#include "hashrun.h"

struct gcmp {
	struct hwork *w;
	struct gmem *m;
	int n;
	off_t size;
};

/* vs_chunk_fn: compares a chunk of the source with the same bytes of
 * every member still equal (the last chunk with one byte more asked: a
 * member that has it is longer). */
static void cmp_chunk(void *arg, off_t off, const char *buf, size_t len)
{
	struct gcmp *g = arg;
	size_t ask = len + (off + (off_t)len == g->size);
	for (int k = 0; k < g->n; k++) {
		struct gmem *m = &g->m[k];
		if (m->eq &&
		    (pread(m->fd, g->w->buf2, ask, off) != (ssize_t)len ||
		     memcmp(buf, g->w->buf2, len)))
			m->eq = false;
	}
}

/* Reads src (size bytes) once, into the digest d unless NULL, comparing
 * the members with eq set with it (eq cleared at their first difference
 * or when longer).  0, or -1 with errno (ESTALE: src changed). */
static int stream_compare(struct hwork *w, int src, off_t size,
			  unsigned char *d, struct gmem *m, int n)
{
	struct gcmp g = {w, m, n, size};
	if (d)
		w->st.bytes_hashed += (unsigned long long)size;
	return vs_digest_stream(src, size, d, w->buf1, HBUF, cmp_chunk, &g);
}

/* Opens a member beneath its directory and checks it against the walk:
 * false when it is to be reported as it is (r set). */
static bool gopen(struct hwork *w, struct gmem *m)
{
	struct hrun *h = w->h;
	const struct hcand *c = m->c;
	struct hdir *d = &h->dirs[c->dir];
	m->fd = -1;
	m->r = R_PENDING;
	m->dirfd = d->fd;
	if (m->dirfd < 0) {
		m->dirfd = hf_dir_reopen(h, d);
		m->owned_dir = m->dirfd >= 0;
	}
	m->fd = hf_cand_open(c, m->dirfd, &m->st);
	if (m->fd < 0) {
		m->r = R_CHANGED;
		return false;
	}
	/* every member is read at once: the disk gets them all to do (a
	 * call that costs the kernel a page cache lookup per page when the
	 * files are there already) */
	if (!h->cached)
		posix_fadvise(m->fd, 0, 0, POSIX_FADV_WILLNEED);
	/* while the lease is held nobody can open the file for writing */
	if (!h->o->dry_run && !(m->leased = vs_lease_read(m->fd))) {
		m->r = R_CHANGED; /* open for writing */
		return false;
	}
	if (vs_hclass(m->fd, &m->st, h->o->ignore_mtime, m->class,
		      sizeof(m->class)) < 0) {
		m->r = R_FAILED;
		m->e = errno;
		return false;
	}
	return true;
}

/* Links the pending members of class cls equal to an existing store
 * entry of their class and size to it (compared byte for byte, one read
 * of the entry for all). */
static void group_to_existing(struct hwork *w, struct gmem *m, int n,
			      const char *cls, off_t size)
{
	struct hrun *h = w->h;
	unsigned char cand[4][VS_DIGEST_LEN];
	pthread_mutex_lock(&h->lock);
	int nc = vs_hstore_candidates(h->store, cls, size, cand, 4);
	pthread_mutex_unlock(&h->lock);
	bool no_xattrs = vs_hclass_no_xattrs(cls);
	for (int k = 0; k < nc; k++) {
		char entry[PATH_MAX];
		vs_hentry_name(cand[k], cls, entry, sizeof(entry));
		int efd = hf_entry_open(h, entry, O_NONBLOCK);
		struct stat es;
		if (efd < 0)
			continue;
		const struct stat *fs = NULL;
		int want = 0, ffd = -1;
		for (int i = 0; i < n; i++) {
			m[i].eq =
			    m[i].r == R_PENDING && !strcmp(m[i].class, cls);
			if (m[i].eq && !fs) {
				fs = &m[i].st;
				ffd = m[i].fd;
			}
		}
		bool fits = fs && fstat(efd, &es) == 0 &&
			    hf_entry_fits(h, efd, &es, ffd, fs);
		bool ex_none =
		    fits && no_xattrs && flistxattr(efd, NULL, 0) == 0;
		for (int i = 0; i < n; i++) {
			if (!m[i].eq)
				continue;
			if (!fits ||
			    (!ex_none && !vs_same_xattrs(m[i].fd, efd)))
				m[i].eq = false;
			want += m[i].eq;
		}
		if (want && stream_compare(w, efd, size, NULL, m, n) == 0) {
			for (int i = 0; i < n; i++)
				if (m[i].eq)
					memcpy(m[i].d, cand[k], VS_DIGEST_LEN);
			if (h->o->dry_run) {
				for (int i = 0; i < n; i++)
					if (m[i].eq)
						m[i].r = R_LINKED;
			} else {
				hf_link_to_entry(h, efd, es.st_ino, entry,
						 false, m, n);
			}
		}
		close(efd);
	}
}

/* Hashes the first pending member of class cls, comparing the others of
 * that class with it on the way, makes it a new store entry and links
 * the equal ones to it.  Members that differ stay pending; the ones
 * that cannot be done here are marked R_RETRY (each on its own later). */
static void group_to_new(struct hwork *w, struct gmem *m, int n,
			 const char *cls, off_t size)
{
	struct hrun *h = w->h;
	int rep = -1;
	for (int i = 0; i < n; i++) {
		m[i].eq = false;
		if (m[i].r != R_PENDING || strcmp(m[i].class, cls))
			continue;
		if (rep < 0)
			rep = i;
		else if (m[i].st.st_ino == m[rep].st.st_ino)
			m[i].r = R_RETRY; /* another name of the same file */
		else
			m[i].eq = true;
	}
	if (rep < 0)
		return;
	struct gmem *r = &m[rep];
	/* the class names the attributes by a digest: they are compared
	 * too, never trusted by it */
	if (!vs_hclass_no_xattrs(cls))
		for (int i = 0; i < n; i++)
			if (m[i].eq && !vs_same_xattrs(m[i].fd, r->fd))
				m[i].eq = false;
	unsigned char d[VS_DIGEST_LEN];
	if (stream_compare(w, r->fd, size, d, m, n) < 0) {
		r->e = errno;
		r->r = errno == ESTALE ? R_CHANGED : R_FAILED;
		return;
	}
	char entry[PATH_MAX];
	vs_hentry_name(d, cls, entry, sizeof(entry));
	for (int i = 0; i < n; i++)
		if (m[i].eq || i == rep)
			memcpy(m[i].d, d, VS_DIGEST_LEN);
	if (h->o->dry_run) {
		r->r = R_NEW;
		for (int i = 0; i < n; i++)
			if (m[i].eq)
				m[i].r = R_LINKED;
		return;
	}
	r->r = hf_new_hard_entry(h, r->fd, r->st.st_ino, entry);
	r->e = errno;
	if (r->r != R_NEW) {
		/* an entry of that name exists, or none could be made: each
		 * on its own (compared with that entry) */
		for (int i = 0; i < n; i++)
			if (m[i].eq || i == rep)
				m[i].r = R_RETRY;
		return;
	}
	hf_link_to_entry(h, r->fd, r->st.st_ino, entry, true, m, n);
}

/* Up to GMAX candidates that may be equal (same size, mode, owner and
 * mtime; see group_key): each opened and leased once, every byte read
 * once, equal files linked to one entry with one flip of its flag. */
HF_INTERNAL void hf_link_batch(struct hwork *w, struct hcand **c, int n)
{
	struct hrun *h = w->h;
	struct gmem m[GMAX];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		m[i].c = c[i];
		m[i].dirfd = -1;
		if (gopen(w, &m[i]) && hf_store_has(h, m[i].st.st_ino))
			m[i].r = R_RETRY; /* an entry already: on its own */
	}
	off_t size = c[0]->size;
	if (size <= HBUF)
		hf_link_small(w, m, n, size); /* leaves none pending */
	for (int i = 0; i < n && size > HBUF; i++) {
		if (m[i].r != R_PENDING)
			continue;
		char cls[128];
		snprintf(cls, sizeof(cls), "%s", m[i].class);
		group_to_existing(w, m, n, cls, size);
		for (int k = 0; k < n; k++) {
			int pending = 0;
			for (int j = 0; j < n; j++)
				pending += m[j].r == R_PENDING &&
					   !strcmp(m[j].class, cls);
			if (!pending)
				break;
			group_to_new(w, m, n, cls, size);
		}
	}
	for (int i = 0; i < n; i++) {
		struct gmem *x = &m[i];
		bool freed = x->r == R_LINKED && x->fd >= 0 &&
			     hf_frees_space(w, x->fd, &x->st);
		if (x->fd >= 0)
			close(x->fd); /* its lease goes with it */
		if (x->owned_dir)
			close(x->dirfd);
		if (x->r == R_RETRY) {
			hf_link_one(w, c[i]);
			continue;
		}
		char entry[PATH_MAX] = "";
		if (x->r == R_NEW || x->r == R_LINKED || x->r == R_COLLISION)
			vs_hentry_name(x->d, x->class, entry, sizeof(entry));
		w->cur = x->c;
		hf_report(w, x->c, x->r == R_PENDING ? R_FAILED : x->r, x->e,
			  entry, x->d, x->class, x->c->size, freed);
	}
}
