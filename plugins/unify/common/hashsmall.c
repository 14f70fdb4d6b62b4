/* Small files of a group (hardlink, at most HBUF bytes), handled digest
 * first: each member is read whole once, in one call, and hashed (a
 * member with the bytes of the one hashed before it takes its digest);
 * the members of one digest and class then go to the entry of that
 * name, their bytes compared in memory with the entry's (read once) or
 * with the first member's.  Comparing stream by stream would read every
 * member again for every content of its size: a group of small files
 * not split by content key (hashkey.c) mostly holds different
 * contents. */
#define _GNU_SOURCE
#include "hashrun.h"

/* Member i's buffer (HBUF + 1 bytes), the worker's GMAX of them made
 * when first needed. */
static char *slot(struct hwork *w, int i)
{
	if (!w->small)
		w->small = vs_xmalloc(GMAX * (size_t)(HBUF + 1));
	return w->small + (size_t)i * (HBUF + 1);
}

/* Reads the whole of fd, size bytes, into buf (size + 1 bytes of room) in
 * one call: a byte more than size asked, so that a longer file shows.
 * 0, or -1 with errno (ESTALE: not size bytes long). */
static int read_whole(int fd, char *buf, off_t size)
{
	ssize_t r;
	do
		r = pread(fd, buf, (size_t)size + 1, 0);
	while (r < 0 && errno == EINTR);
	if (r == size)
		return 0;
	if (r >= 0)
		errno = ESTALE;
	return -1;
}

/* Sets r (and e) of the members of the subgroup (eq) and of its first. */
static void subgroup_set(struct gmem *m, int n, int rep, enum hresult r,
			 int e)
{
	for (int i = 0; i < n; i++)
		if (m[i].eq || i == rep) {
			m[i].r = r;
			m[i].e = e;
			m[i].eq = false;
		}
}

/* The members of the subgroup (eq, and rep) go to the existing entry efd
 * when it has their metadata and bytes; R_COLLISION when it has not (the
 * entry is not what its name says). */
static void to_existing(struct hwork *w, struct gmem *m, int n, int rep,
			int efd, const char *entry, off_t size)
{
	struct hrun *h = w->h;
	struct gmem *r = &m[rep];
	struct stat es;
	if (fstat(efd, &es) < 0) {
		subgroup_set(m, n, rep, R_FAILED, errno);
		return;
	}
	if (es.st_ino == r->st.st_ino) {
		/* another thread's entry already: each on its own */
		subgroup_set(m, n, rep, R_RETRY, 0);
		return;
	}
	bool same = hf_entry_fits(h, efd, &es, r->fd, &r->st);
	if (same && read_whole(efd, w->buf1, size) < 0) {
		if (errno != ESTALE) {
			subgroup_set(m, n, rep, R_FAILED, errno);
			return;
		}
		same = false;
	}
	same = same && !memcmp(w->buf1, slot(w, rep), (size_t)size);
	bool ex_none = same && vs_hclass_no_xattrs(r->class) &&
		       flistxattr(efd, NULL, 0) == 0;
	r->eq = true;
	for (int i = 0; i < n; i++) {
		if (!m[i].eq)
			continue;
		if (!same || (!ex_none && !vs_same_xattrs(m[i].fd, efd))) {
			m[i].eq = false;
			m[i].r = R_COLLISION;
		} else if (h->o->dry_run) {
			m[i].eq = false;
			m[i].r = R_LINKED;
		}
	}
	hf_link_to_entry(h, efd, es.st_ino, entry, false, m, n);
}

/* Member rep and the pending members equal to it (digest, class, bytes,
 * extended attributes) go to the entry of their digest and class: the
 * existing one, or rep's inode made the entry. */
static void subgroup(struct hwork *w, struct gmem *m, int n, int rep,
		     off_t size)
{
	struct hrun *h = w->h;
	struct gmem *r = &m[rep];
	bool no_xattrs = vs_hclass_no_xattrs(r->class);
	for (int i = 0; i < n; i++) {
		m[i].eq = false;
		if (i == rep || m[i].r != R_PENDING ||
		    memcmp(m[i].d, r->d, VS_DIGEST_LEN) ||
		    strcmp(m[i].class, r->class))
			continue;
		if (m[i].st.st_ino == r->st.st_ino)
			m[i].r = R_RETRY; /* another name of the same file */
		else /* the digest and the class are never trusted alone; a
		      * member that differs gets its own turn */
			m[i].eq = !memcmp(slot(w, i), slot(w, rep),
					  (size_t)size) &&
				  (no_xattrs || vs_same_xattrs(m[i].fd, r->fd));
	}
	char entry[PATH_MAX];
	vs_hentry_name(r->d, r->class, entry, sizeof(entry));
	int efd = hf_entry_open(h, entry, O_NONBLOCK);
	if (efd >= 0) {
		to_existing(w, m, n, rep, efd, entry, size);
		close(efd);
		return;
	}
	if (errno != ENOENT) {
		subgroup_set(m, n, rep, R_RETRY, 0);
		return;
	}
	if (h->o->dry_run) {
		subgroup_set(m, n, -1, R_LINKED, 0);
		r->r = R_NEW;
		return;
	}
	r->r = hf_new_hard_entry(h, r->fd, r->st.st_ino, entry);
	r->e = errno;
	if (r->r != R_NEW) {
		/* an entry of that name now, or none could be made: each on
		 * its own (compared with that entry) */
		subgroup_set(m, n, rep, R_RETRY, 0);
		return;
	}
	hf_link_to_entry(h, r->fd, r->st.st_ino, entry, true, m, n);
}

HF_INTERNAL void hf_link_small(struct hwork *w, struct gmem *m, int n,
			       off_t size)
{
	int last = -1; /* the member hashed last */
	for (int i = 0; i < n; i++) {
		if (m[i].r != R_PENDING)
			continue;
		char *b = slot(w, i);
		if (read_whole(m[i].fd, b, size) < 0) {
			m[i].e = errno;
			m[i].r = errno == ESTALE ? R_CHANGED : R_FAILED;
			continue;
		}
		/* a batch of one content key mostly holds one content: a
		 * member with the bytes of the one hashed last has its
		 * digest */
		if (last >= 0 && !memcmp(b, slot(w, last), (size_t)size)) {
			memcpy(m[i].d, m[last].d, VS_DIGEST_LEN);
			continue;
		}
		vs_digest_mem(b, (size_t)size, m[i].d);
		w->st.bytes_hashed += (unsigned long long)size;
		last = i;
	}
	for (int i = 0; i < n; i++)
		if (m[i].r == R_PENDING)
			subgroup(w, m, n, i, size);
}
