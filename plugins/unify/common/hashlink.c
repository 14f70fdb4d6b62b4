/* Linking guest files and hardlink store entries: the store's <xx>
 * directories, a temporary name and a rename under a lease and the
 * entry's freeze lock. */
#define _GNU_SOURCE
#include "hashrun.h"

/* The <xx> directory of an entry name, created when asked: opened once
 * per run and kept (the caller does not close it); -1 with errno. */
HF_INTERNAL int hf_entry_dir(struct hrun *h, const char *entry, bool create)
{
	int hi = vs_hex_digit(entry[0]), lo = vs_hex_digit(entry[1]);
	if (hi < 0 || lo < 0 || entry[2] != '/') {
		errno = EINVAL;
		return -1;
	}
	atomic_int *slot = &h->xfd[hi << 4 | lo];
	int fd = atomic_load(slot);
	if (fd >= 0)
		return fd;
	char xx[3] = {entry[0], entry[1], '\0'};
	pthread_mutex_lock(&h->lock);
	fd = atomic_load(slot);
	if (fd < 0 && (!create || mkdirat(h->store->fd, xx, 0700) == 0 ||
		       errno == EEXIST)) {
		fd = openat(h->store->fd, xx,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0)
			atomic_store(slot, fd);
	}
	int e = errno;
	pthread_mutex_unlock(&h->lock);
	errno = e;
	return fd;
}

/* An entry ("xx/name") opened read-only in its directory; -1 with errno
 * (ENOENT when there is none). */
HF_INTERNAL int hf_entry_open(struct hrun *h, const char *entry, int flags)
{
	int xfd = hf_entry_dir(h, entry, false);
	return xfd < 0 ? -1
		       : openat(xfd, entry + 3,
				O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
}

HF_INTERNAL bool hf_store_has(struct hrun *h, ino_t ino)
{
	pthread_mutex_lock(&h->lock);
	bool r = vs_hstore_has_ino(h->store, ino);
	pthread_mutex_unlock(&h->lock);
	return r;
}

HF_INTERNAL bool hf_entry_fits(const struct hrun *h, int efd,
			       const struct stat *es, int ffd,
			       const struct stat *fs)
{
	return S_ISREG(es->st_mode) && es->st_size == fs->st_size &&
	       es->st_mode == fs->st_mode && es->st_uid == fs->st_uid &&
	       es->st_gid == fs->st_gid &&
	       (h->o->ignore_mtime ||
		(es->st_mtim.tv_sec == fs->st_mtim.tv_sec &&
		 es->st_mtim.tv_nsec == fs->st_mtim.tv_nsec)) &&
	       vs_share_flags(efd) == vs_share_flags(ffd);
}

/* Gives the guest's name of m to the entry xx/ename (xfd: its <xx>
 * directory) through a temporary link and an exchange, only when the
 * name still is the file that was compared (leased: nobody wrote to it,
 * and a writer that opens it meanwhile gets it back unchanged).  The
 * entry's immutable flag must be off. */
static enum hresult swap_in(int xfd, const char *ename, struct gmem *m)
{
	const char *name = m->c->name;
	char tmp[NAME_MAX + 1];
	if (snprintf(tmp, sizeof(tmp), VS_UNIFY_TMP "%s", name) >=
	    (int)sizeof(tmp))
		return R_COLLISION; /* no room for a temporary name */
	int dirfd = m->dirfd;
	int l = linkat(xfd, ename, dirfd, tmp, 0);
	if (l < 0 && errno == EEXIST && unlinkat(dirfd, tmp, 0) == 0)
		l = linkat(xfd, ename, dirfd, tmp, 0); /* a stale one */
	if (l < 0)
		return R_FAILED;
	struct stat now;
	const struct stat *fs = &m->st;
	if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    now.st_ino != fs->st_ino || now.st_size != fs->st_size ||
	    now.st_mtim.tv_sec != fs->st_mtim.tv_sec ||
	    now.st_mtim.tv_nsec != fs->st_mtim.tv_nsec) {
		unlinkat(dirfd, tmp, 0);
		return R_CHANGED;
	}
	/* a writer that came meanwhile (its open waits on the lease) gets
	 * the file back: vs_swap_leased looks after the exchange */
	int r = vs_swap_leased(dirfd, tmp, name, m->fd,
			       m->leased && m->fd >= 0);
	if (r >= 0)
		return r ? R_CHANGED : R_LINKED; /* directory times: at the end */
	int e = errno;
	unlinkat(dirfd, tmp, 0);
	errno = e;
	return R_FAILED;
}

/* Replaces the guest files of m[0..n) with eq set by links to the store
 * entry efd (inode eino), each atomically, setting their r and e.  The
 * entry is writable meanwhile: a read lease (already held when held is
 * true) keeps every writer out (an opener waits, then finds it
 * immutable), and the freeze lock keeps other threads from seeing half
 * of it.  A name of an immutable inode can be neither moved nor removed:
 * the guest's names are replaced before the flag goes back on. */
HF_INTERNAL void hf_link_to_entry(struct hrun *h, int efd, ino_t eino,
				  const char *entry, bool held, struct gmem *m,
				  int n)
{
	int want = 0;
	for (int k = 0; k < n; k++)
		want += m[k].eq;
	if (!want)
		return;
	int xfd = hf_entry_dir(h, entry, false);
	pthread_mutex_t *fz = hf_freeze_lock(h, eino);
	pthread_mutex_lock(fz);
	bool leased = xfd >= 0 && (held || vs_lease_read(efd));
	int e = errno, flags = 0;
	bool imm = leased && ioctl(efd, FS_IOC_GETFLAGS, &flags) == 0 &&
		   (flags & FS_IMMUTABLE_FL);
	int off = flags & ~FS_IMMUTABLE_FL, on = flags | FS_IMMUTABLE_FL;
	bool open = leased && (!imm || ioctl(efd, FS_IOC_SETFLAGS, &off) == 0);
	if (!open)
		e = errno;
	bool linked = false;
	for (int k = 0; k < n; k++) {
		if (!m[k].eq)
			continue;
		if (!open) {
			/* no lease: somebody has the entry open for writing */
			m[k].r = xfd >= 0 && !leased ? R_CHANGED : R_FAILED;
			m[k].e = e;
			continue;
		}
		m[k].r = swap_in(xfd, entry + 3, &m[k]);
		m[k].e = errno;
		linked |= m[k].r == R_LINKED;
	}
	/* on again; or on at last for an entry an interrupted run left
	 * writable, once a guest file shares it */
	if (open && (imm || linked) && ioctl(efd, FS_IOC_SETFLAGS, &on) < 0 &&
	    linked)
		vs_warn(h->ctx, "cannot make '%s/%s' immutable: %s",
			h->store->path, entry, strerror(errno));
	if (leased && !held)
		vs_lease_end(efd);
	pthread_mutex_unlock(fz);
}

/* The guest's own inode, hashed under the lease, becomes the entry. */
HF_INTERNAL enum hresult hf_new_hard_entry(struct hrun *h, int ffd, ino_t ino,
					   const char *entry)
{
	/* an inode with names outside the run (a host file linked into the
	 * guest, say) would freeze them too: it never becomes an entry */
	struct stat st;
	if (fstat(ffd, &st) < 0)
		return R_FAILED;
	if (st.st_nlink > 1 && !hf_links_known(h, ino, st.st_nlink))
		return R_LINKS;
	int xfd = hf_entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	pthread_mutex_t *fz = hf_freeze_lock(h, ino);
	pthread_mutex_lock(fz);
	bool imm = vs_is_immutable(ffd);
	if (imm && vs_set_immutable(ffd, false) < 0) {
		pthread_mutex_unlock(fz);
		return R_FAILED;
	}
	enum hresult r = R_FAILED;
	if (linkat(ffd, "", xfd, entry + 3, AT_EMPTY_PATH) == 0)
		r = R_NEW;
	else if (errno == EEXIST)
		r = R_RETRY;
	int e = errno;
	if ((r == R_NEW || imm) && vs_set_immutable(ffd, true) < 0 &&
	    r == R_NEW) {
		e = errno;
		unlinkat(xfd, entry + 3, 0);
		r = R_FAILED;
	}
	pthread_mutex_unlock(fz);
	errno = e;
	return r;
}
