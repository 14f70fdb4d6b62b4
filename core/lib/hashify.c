/* The hashify engine (vhashify): shares a guest's files through the
 * content-addressed store of hashstore.h.
 *
 *   walk   directory fds, O_NOFOLLOW, every directory checked against the
 *          walk's lstat; exclude lists; files under 16 bytes, symlinks and
 *          special files skipped; a file whose inode is already an
 *          (immutable) store entry is recognised from its statx alone and
 *          skipped without being read.  The candidates are kept in an
 *          array: 48 bytes plus the path per file.
 *   link   in parallel (2 threads per CPU, 4 to 8: readers enough for a
 *          cold cache, few enough to keep memory small), each file opened
 *          again relative to its directory and checked:
 *     hardlink  under a read lease (no writer can open the file while it
 *               is held), first compared byte for byte with the entries
 *               of its metadata class and size and linked to an equal one
 *               without being hashed (temporary name, rename); else
 *               hashed, then compared with the entry of its digest, or
 *               its own inode is linked into the store under that name
 *               and made immutable: the name goes to what was hashed.
 *     reflink   first deduplicated against the entries of its size (the
 *               kernel compares the bytes), from the file an entry was
 *               cloned from while that still shares the entry's extents;
 *               else the digest comes from the cache (a trusted.* xattr a
 *               guest cannot forge) or the content, and a new entry is an
 *               O_TMPFILE reflink clone made while a read lease holds
 *               writers off (without one, the private clone is hashed
 *               again).  The guest keeps its inode.
 * The digest covers the content only, so an entry is right for any file
 * with its bytes.  A hash is never trusted alone: a forged or stale digest
 * can only make a comparison fail ("content differs from the store
 * entry"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hashstore.h"
#include "internal.h"

#define HBUF (32 << 10)
#define THREADS 8 /* at most; 2 per CPU, at least 4 */
#define CHUNK 16 /* candidates a thread takes at once (one directory) */
#define FREEZE_LOCKS 64
#define GMAX 16 /* candidates of a group handled at once */
#define NSRC 16 /* reflink: contents of a group remembered with a file */

struct hcand {
	char *name;   /* "passwd": in the arena */
	unsigned dir; /* its directory in hrun.dirs ("/etc") */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

/* A directory of the walk: its times are put back when a file in it was
 * replaced (the guest sees no change but ctime). */
struct hdir {
	char *path;
	ino_t ino;
	struct timespec atime, mtime;
	int fd;        /* kept open from the walk, or -1 (opened again) */
	unsigned tree; /* in hrun.trees */
	bool touched;
};

struct hrun {
	struct vs_ctx *ctx;
	const struct vs_unify_tree *const *trees;
	unsigned ntrees, curtree; /* curtree: the one being walked */
	struct vs_hstore *store;
	const struct vs_hash_opts *o;
	struct vs_hash_stats *st;
	dev_t dev;
	struct hcand *c;
	size_t n, cap;
	/* the candidates sorted (indexes into c, 4 bytes each: sorting c
	 * itself would cost a copy of it), and their runs that may be equal
	 * (size, mode, owner, mtime): group k is order[groups[k]] to
	 * order[groups[k + 1]] */
	unsigned *order, *groups;
	size_t ngroups;
	size_t keep_fds; /* directory fds the walk may keep open */
	struct hdir *dirs;
	size_t ndirs, dcap;
	char **arena;
	size_t narena, arena_used;
	atomic_size_t next, done;
	pthread_mutex_t lock; /* the store's inode set, stats, dirs */
	/* one held while an entry's immutable flag is off (by its inode):
	 * two threads linking to one entry must not see each other's half */
	pthread_mutex_t freeze[FREEZE_LOCKS];
	atomic_int xfd[256]; /* the store's <xx> directories, opened once */
	struct hwork *walker; /* the walk's stats */
	ino_t *freed; /* inodes with several names whose last one went */
	size_t nfreed;
};

/* One thread's state. */
struct hwork {
	struct hrun *h;
	bool reporter;
	char *buf1, *buf2;
	const struct hcand *cur; /* the candidate at hand (messages) */
	/* hardlink: new entries go into the class index only when a later
	 * batch of their group looks them up (files that may be equal are
	 * one group: no other lookup in this run can need them) */
	bool index_new;
	/* reflink: files of the group at hand sharing the extents of the
	 * entries with digests src_d */
	int src_fd[NSRC], nsrc;
	unsigned char src_d[NSRC][VS_DIGEST_LEN];
	unsigned curdir;
	int curfd;
	struct vs_hash_stats st;
};

/* ---- output ----------------------------------------------------------- */

/* The root of a candidate's tree, for messages. */
static const char *troot(const struct hrun *h, const struct hcand *c)
{
	return h->trees[h->dirs[c->dir].tree]->root;
}

/* A candidate's path in its tree ("/etc/passwd"), into buf. */
static const char *cpath(const struct hrun *h, const struct hcand *c,
			 char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", h->dirs[c->dir].path, c->name);
	return buf;
}

static void hskip(struct hwork *w, const char *path, int reason)
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

static void hprogress(struct hrun *h, size_t i, size_t n)
{
	if (h->o->progress && (i % 256 == 0 || i == n))
		fprintf(stderr, "\rvs: hashify: %zu/%zu files", i, n);
}

static int open_beneath(int rootfd, const char *path, int flags);

/* ---- walk --------------------------------------------------------------- */

static char *arena_dup(struct hrun *h, const char *s)
{
	size_t len = strlen(s) + 1, chunk = 256 << 10;
	if (!h->narena || h->arena_used + len > chunk) {
		h->arena = vs_xrealloc(h->arena,
				       (h->narena + 1) * sizeof(*h->arena));
		h->arena[h->narena++] = vs_xmalloc(len > chunk ? len : chunk);
		h->arena_used = 0;
	}
	char *p = h->arena[h->narena - 1] + h->arena_used;
	memcpy(p, s, len);
	h->arena_used += len;
	return p;
}

/* A directory of the walk (fd: its open descriptor, kept while there is
 * room, else closed by the caller). */
static unsigned add_dir(struct hrun *h, const char *path, const struct stat *st,
			int *fd)
{
	if (h->ndirs == h->dcap) {
		h->dcap = h->dcap ? 2 * h->dcap : 256;
		h->dirs = vs_xrealloc(h->dirs, h->dcap * sizeof(*h->dirs));
	}
	struct hdir *d = &h->dirs[h->ndirs];
	d->path = arena_dup(h, path);
	d->ino = st->st_ino;
	d->atime = st->st_atim;
	d->mtime = st->st_mtim;
	d->tree = h->curtree;
	d->touched = false;
	d->fd = -1;
	if (h->ndirs < h->keep_fds) {
		d->fd = *fd;
		*fd = -1;
	}
	return (unsigned)h->ndirs++;
}

/* A directory of the walk opened again beneath its tree's root (a new
 * descriptor; its inode is still to be checked). */
static int dir_reopen(struct hrun *h, const struct hdir *d)
{
	int rootfd = h->trees[d->tree]->rootfd;
	return d->path[0] ? open_beneath(rootfd, d->path, O_RDONLY | O_DIRECTORY)
			  : dup(rootfd);
}

/* Puts back the times of the directories whose entries were replaced. */
static void restore_dir_times(struct hrun *h)
{
	for (size_t i = 0; i < h->ndirs; i++) {
		struct hdir *d = &h->dirs[i];
		if (!d->touched)
			continue;
		int fd = d->fd >= 0 ? dup(d->fd) : dir_reopen(h, d);
		struct stat st;
		struct timespec ts[2] = {d->atime, d->mtime};
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == d->ino)
			futimens(fd, ts);
		if (fd >= 0)
			close(fd);
	}
}

static void add_cand(struct hrun *h, const char *path, const struct stat *st,
		     unsigned dir)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 4096;
		h->c = vs_xrealloc(h->c, h->cap * sizeof(*h->c));
	}
	struct hcand *c = &h->c[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = arena_dup(h, strrchr(path, '/') + 1);
	c->dir = dir;
	c->mode = st->st_mode;
	c->uid = st->st_uid;
	c->gid = st->st_gid;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtime = st->st_mtim;
}

/* A temporary link of an interrupted run in a guest directory: a link
 * to a store entry (a guest cannot make one). */
static bool stale_guest_tmp(struct hrun *h, int dirfd, const char *name,
			    const struct stat *st)
{
	if (strncmp(name, VS_UNIFY_TMP, strlen(VS_UNIFY_TMP)) || !S_ISREG(st->st_mode) ||
	    st->st_nlink < 2 || st->st_dev != h->store->dev ||
	    !vs_hstore_has_ino(h->store, st->st_ino))
		return false;
	if (h->o->dry_run)
		return true;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_CLOEXEC);
	bool imm = fd >= 0 && vs_is_immutable(fd);
	if (imm)
		vs_set_immutable(fd, false);
	unlinkat(dirfd, name, 0);
	if (imm)
		vs_set_immutable(fd, true);
	if (fd >= 0)
		close(fd);
	return true;
}

/* lstat plus the immutable attribute, in one statx. */
static int walk_stat(int dirfd, const char *name, struct stat *st, bool *imm)
{
	struct statx x;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS, &x) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	st->st_nlink = x.stx_nlink;
	st->st_uid = x.stx_uid;
	st->st_gid = x.stx_gid;
	st->st_size = (off_t)x.stx_size;
	st->st_blocks = (blkcnt_t)x.stx_blocks;
	st->st_atim.tv_sec = x.stx_atime.tv_sec;
	st->st_atim.tv_nsec = x.stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x.stx_ctime.tv_nsec;
	*imm = (x.stx_attributes_mask & STATX_ATTR_IMMUTABLE) &&
	       (x.stx_attributes & STATX_ATTR_IMMUTABLE);
	return 0;
}

static void hwalk(struct hrun *h, int dirfd, const char *dirpath,
		  unsigned dir, bool inside, int depth)
{
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return;
	struct dirent *e;
	char path[PATH_MAX];
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dirpath, e->d_name) >=
		    (int)sizeof(path))
			continue;
		struct stat st;
		bool imm;
		if (walk_stat(dirfd, e->d_name, &st, &imm) < 0)
			continue;
		if (stale_guest_tmp(h, dirfd, e->d_name, &st)) {
			h->dirs[dir].touched = true;
			continue;
		}
		enum vs_excl_verdict v = vs_excl_match(
			&h->trees[h->curtree]->excl, path, S_ISDIR(st.st_mode),
			inside);
		if (v == VS_EXCLUDED) {
			hskip(h->walker, path, VS_SKIP_EXCLUDED);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != h->dev) {
				hskip(h->walker, path, VS_SKIP_OTHERFS);
				continue;
			}
			if (depth >= 256)
				continue;
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			struct stat cs;
			if (fd < 0 || fstat(fd, &cs) < 0 || cs.st_ino != st.st_ino ||
			    cs.st_dev != st.st_dev)
				hskip(h->walker, path, VS_SKIP_CHANGED);
			else {
				int walkfd = fd;
				unsigned nd = add_dir(h, path, &cs, &fd);
				hwalk(h, walkfd, path, nd,
				      inside || v == VS_DESCEND_EXCLUDED, depth + 1);
			}
			if (fd >= 0)
				close(fd);
		} else if (S_ISLNK(st.st_mode)) {
			hskip(h->walker, path, VS_SKIP_SYMLINK);
		} else if (!S_ISREG(st.st_mode)) {
			hskip(h->walker, path, VS_SKIP_SPECIAL);
		} else if (st.st_size < VS_HASH_MIN_SIZE) {
			hskip(h->walker, path, VS_SKIP_SMALL);
		} else if (!h->o->refresh && imm &&
			   vs_hstore_has_ino(h->store, st.st_ino)) {
			/* a store entry (and immutable: a run killed between
			 * the link and the flag leaves one to finish) */
			h->walker->st.examined++;
			hskip(h->walker, path, VS_SKIP_ALREADY);
		} else {
			add_cand(h, path, &st, dir);
		}
	}
	closedir(d);
}

/* Opens a file of the tree by its path, beneath the root: no symlink, no
 * "..", no other filesystem on the way. */
static int open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	while (*path == '/')
		path++;
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME)) {
		how.flags &= ~(unsigned long long)O_NOATIME;
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	return fd;
}

/* ---- link pass -------------------------------------------------------- */

static bool same_as_walk(const struct hcand *c, const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_ino == c->ino &&
	       st->st_size == c->size && st->st_mtim.tv_sec == c->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == c->mtime.tv_nsec;
}

/* SHA-256 of an open file (pread: mapping would count the file's pages
 * in the process's memory). */
static int digest(struct hwork *w, int fd, off_t size,
		  unsigned char d[VS_DIGEST_LEN])
{
	w->st.bytes_hashed += (unsigned long long)size;
	return vs_digest_fd(fd, size, d, w->buf1, HBUF);
}

enum hresult { R_LINKED, R_NEW, R_ALREADY, R_CHANGED, R_COLLISION, R_FAILED,
	       R_RETRY, R_PENDING };

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The <xx> directory of an entry name, created when asked: opened once
 * per run and kept (the caller does not close it); -1 with errno. */
static int entry_dir(struct hrun *h, const char *entry, bool create)
{
	int hi = hexval(entry[0]), lo = hexval(entry[1]);
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
	if (fd < 0 &&
	    (!create || mkdirat(h->store->fd, xx, 0700) == 0 || errno == EEXIST)) {
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
static int entry_open(struct hrun *h, const char *entry, int flags)
{
	int xfd = entry_dir(h, entry, false);
	return xfd < 0 ? -1
		       : openat(xfd, entry + 3,
				O_RDONLY | O_NOFOLLOW | O_CLOEXEC | flags);
}

static bool store_has(struct hrun *h, ino_t ino)
{
	pthread_mutex_lock(&h->lock);
	bool r = vs_hstore_has_ino(h->store, ino);
	pthread_mutex_unlock(&h->lock);
	return r;
}

#define SRC_XATTR "trusted.vs.src"

/* Records on a new reflink entry a handle of the guest file it was cloned
 * from (a trusted.* attribute: no guest can forge it). */
static void remember_source(int entryfd, int srcfd)
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

/* Shares the extents of the guest's file with the reflink entry efd:
 * R_ALREADY, R_LINKED, R_COLLISION (other bytes) or R_FAILED.  The file
 * the entry was cloned from, when it still shares the entry's extents,
 * is the better source: its pages are likely cached, the entry's are not
 * (the kernel compares the bytes either way). */
static enum hresult share_extents(struct hwork *w, int ffd, int efd,
				  off_t size)
{
	if (vs_same_extents(ffd, efd))
		return R_ALREADY;
	if (w->h->o->dry_run)
		return vs_same_bytes(ffd, efd, w->buf1, w->buf2, HBUF) == 1
			       ? R_LINKED
			       : R_COLLISION;
	int src = clone_source(w->h, efd);
	int x = vs_dedupe(src >= 0 ? src : efd, ffd, size);
	if (x != 0 && src >= 0)
		x = vs_dedupe(efd, ffd, size);
	if (src >= 0)
		close(src);
	return x == 0 ? R_LINKED : x == 1 ? R_COLLISION : R_FAILED;
}

/* The file of this thread's group that shares the extents of the entry
 * with digest d, or -1. */
static int src_of(const struct hwork *w, const unsigned char *d)
{
	for (int s = 0; s < w->nsrc; s++)
		if (!memcmp(d, w->src_d[s], VS_DIGEST_LEN))
			return w->src_fd[s];
	return -1;
}

static enum hresult link_reflink(struct hwork *w, int ffd,
				 const struct stat *fs, bool verified,
				 const unsigned char d[VS_DIGEST_LEN],
				 char *entry, size_t esize)
{
	struct hrun *h = w->h;
	vs_hentry_name(d, NULL, entry, esize);
	int src = h->o->dry_run ? -1 : src_of(w, d);
	if (src >= 0 && vs_dedupe(src, ffd, fs->st_size) == 0)
		return R_LINKED;
	int efd = entry_open(h, entry, 0);
	if (efd >= 0) {
		enum hresult r = share_extents(w, ffd, efd, fs->st_size);
		int e = errno;
		close(efd);
		errno = e;
		return r;
	}
	if (errno != ENOENT)
		return R_FAILED;
	if (h->o->dry_run)
		return R_NEW;
	int xfd = entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	int tfd = openat(xfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	enum hresult r = R_FAILED;
	unsigned char now[VS_DIGEST_LEN];
	if (tfd >= 0 && ioctl(tfd, FICLONE, ffd) == 0) {
		/* with the lease, the clone is what was hashed; without one,
		 * or when the digest came from the cache, the private clone
		 * is hashed */
		if (!verified && (digest(w, tfd, fs->st_size, now) < 0 ||
				memcmp(now, d, VS_DIGEST_LEN)))
			r = R_COLLISION;
		else if (linkat(tfd, "", xfd, entry + 3, AT_EMPTY_PATH) == 0) {
			r = R_NEW;
			remember_source(tfd, ffd);
		}
		else if (errno == EEXIST)
			r = R_RETRY; /* made meanwhile: share it */
	}
	int e = errno;
	if (tfd >= 0)
		close(tfd);
	errno = e;
	return r;
}

/* The lock held while the immutable flag of inode ino is off. */
static pthread_mutex_t *freeze_lock(struct hrun *h, ino_t ino)
{
	return &h->freeze[(ino * 0x9e3779b97f4a7c15ULL) >> 58];
}

/* A guest file on its way to a store entry. */
struct gmem {
	const struct hcand *c;
	int dirfd;	 /* its directory (kept by the walk or owned) */
	bool owned_dir;
	int fd;		 /* -1 once closed */
	bool leased;
	struct stat st;
	char class[128];
	enum hresult r;	 /* R_PENDING until decided */
	int e;		 /* errno of an R_FAILED */
	bool eq;	 /* still equal in a comparison */
	unsigned char d[VS_DIGEST_LEN]; /* its entry's digest (R_NEW, R_LINKED) */
};

/* Gives the guest's name of m to the entry xx/ename (xfd: its <xx>
 * directory) through a temporary link and a rename, only when the name
 * still is the file that was compared (leased: nobody wrote to it).  The
 * entry's immutable flag must be off. */
static enum hresult swap_in(int xfd, const char *ename, struct gmem *m)
{
	const char *name = m->c->name;
	char tmp[NAME_MAX + 1];
	if (snprintf(tmp, sizeof(tmp), VS_UNIFY_TMP "%s", name) >= (int)sizeof(tmp))
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
	if (renameat(dirfd, tmp, dirfd, name) == 0)
		return R_LINKED; /* the directory's times: at the end */
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
static void link_to_entry(struct hrun *h, int efd, ino_t eino,
			  const char *entry, bool held, struct gmem *m, int n)
{
	int want = 0;
	for (int k = 0; k < n; k++)
		want += m[k].eq;
	if (!want)
		return;
	int xfd = entry_dir(h, entry, false);
	pthread_mutex_t *fz = freeze_lock(h, eino);
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

/* Replaces the guest's file (name in dirfd, stat fs) by a link to the
 * store entry efd (inode eino), atomically. */
static enum hresult replace_by_entry(struct hrun *h, int dirfd,
				     const struct hcand *c,
				     const struct stat *fs, const char *entry,
				     int efd, ino_t eino)
{
	struct gmem m = {.c = c, .dirfd = dirfd, .st = *fs, .eq = true};
	link_to_entry(h, efd, eino, entry, false, &m, 1);
	errno = m.e;
	return m.r;
}

/* The guest's own inode, hashed under the lease, becomes the entry. */
static enum hresult new_hard_entry(struct hrun *h, int ffd, ino_t ino,
				   const char *entry)
{
	int xfd = entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	pthread_mutex_t *fz = freeze_lock(h, ino);
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

/* Links the guest's file to the existing entry of that name when its
 * metadata and bytes are the entry's: R_LINKED, R_ALREADY, R_COLLISION
 * (not the same), R_RETRY (no such entry), R_CHANGED or R_FAILED. */
static enum hresult to_entry(struct hwork *w, int dirfd,
			     const char *name, int ffd, const struct stat *fs,
			     const char *entry)
{
	struct hrun *h = w->h;
	/* the file's class (in the entry's name) says it has no xattrs:
	 * then the entry must have none either */
	size_t el = strlen(entry);
	bool no_xattrs = el > 3 && !strcmp(entry + el - 3, "-x0");
	int efd = entry_open(h, entry, O_NONBLOCK);
	if (efd < 0)
		return errno == ENOENT ? R_RETRY : R_FAILED;
	struct stat es;
	enum hresult r;
	if (fstat(efd, &es) < 0) {
		r = R_FAILED;
	} else if (es.st_ino == fs->st_ino && es.st_dev == fs->st_dev) {
		r = R_ALREADY;
	} else if (!S_ISREG(es.st_mode) || es.st_size != fs->st_size ||
		   es.st_mode != fs->st_mode || es.st_uid != fs->st_uid ||
		   es.st_gid != fs->st_gid ||
		   (!h->o->ignore_mtime && es.st_mtim.tv_sec != fs->st_mtim.tv_sec) ||
		   !((no_xattrs && flistxattr(efd, NULL, 0) == 0) ||
		     vs_same_xattrs(ffd, efd))) {
		r = R_COLLISION; /* the entry is not what its name says */
	} else {
		int eq = vs_same_bytes(ffd, efd, w->buf1, w->buf2, HBUF);
		r = eq < 0	       ? R_FAILED
		    : !eq	       ? R_COLLISION
		    : h->o->dry_run ? R_LINKED
				     : replace_by_entry(h, dirfd, w->cur, fs,
							entry, efd, es.st_ino);
	}
	int e = errno;
	close(efd);
	errno = e;
	return r;
}

static enum hresult link_hardlink(struct hwork *w, int dirfd,
				  const char *name, int ffd,
				  const struct stat *fs, const char *class,
				  const unsigned char d[VS_DIGEST_LEN],
				  char *entry, size_t esize)
{
	struct hrun *h = w->h;
	vs_hentry_name(d, class, entry, esize);
	if (store_has(h, fs->st_ino)) {
		if (h->o->dry_run || vs_is_immutable(ffd))
			return R_ALREADY;
		/* linked by a run killed before the flag: finish it when its
		 * content still is its entry's (hashed under the lease) */
		struct stat es;
		char path[PATH_MAX];
		if (fstatat(h->store->fd, entry, &es, AT_SYMLINK_NOFOLLOW) < 0 ||
		    es.st_ino != fs->st_ino) {
			vs_warn(h->ctx,
				"'%s%s' shares a store entry an interrupted run "
				"left writable and has changed since: check the "
				"store with 'vs hashify --verify'",
				troot(h, w->cur), cpath(h, w->cur, path, sizeof(path)));
			return R_FAILED;
		}
		return vs_set_immutable(ffd, true) < 0 ? R_FAILED : R_ALREADY;
	}
	enum hresult r = to_entry(w, dirfd, name, ffd, fs, entry);
	if (r != R_RETRY)
		return r;
	return h->o->dry_run ? R_NEW : new_hard_entry(h, ffd, fs->st_ino, entry);
}

/* The entries of the file's class and size, compared before any
 * hashing: a file equal to one is linked to it (its name was verified
 * when it was made), and is never hashed. */
static enum hresult by_class(struct hwork *w, int dirfd,
			     const char *name, int ffd, const struct stat *fs,
			     const char *class, char *entry, size_t esize)
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

/* Reflink entries of the file's size, tried before any hashing: the
 * kernel compares the bytes when it shares the extents, so a file equal
 * to one is done without being hashed (d gets that entry's digest).
 * R_RETRY when none is equal. */
static enum hresult reflink_by_size(struct hwork *w, int ffd,
				    const struct stat *fs,
				    unsigned char d[VS_DIGEST_LEN], char *entry,
				    size_t esize)
{
	struct hrun *h = w->h;
	unsigned char cand[4][VS_DIGEST_LEN];
	char key[32];
	vs_hsize_key(fs->st_size, key, sizeof(key));
	pthread_mutex_lock(&h->lock);
	int n = vs_hstore_candidates(h->store, key, fs->st_size, cand, 4);
	pthread_mutex_unlock(&h->lock);
	for (int s = 0; s < w->nsrc && !h->o->dry_run; s++) {
		/* the files this thread made or shared the group's entries
		 * from, a moment ago: the kernel compares them with this one */
		if (vs_dedupe(w->src_fd[s], ffd, fs->st_size) == 0) {
			vs_hentry_name(w->src_d[s], NULL, entry, esize);
			memcpy(d, w->src_d[s], VS_DIGEST_LEN);
			return R_LINKED;
		}
	}
	for (int k = 0; k < n; k++) {
		if (src_of(w, cand[k]) >= 0)
			continue; /* tried above */
		vs_hentry_name(cand[k], NULL, entry, esize);
		int efd = entry_open(h, entry, 0);
		if (efd < 0)
			continue;
		enum hresult r = share_extents(w, ffd, efd, fs->st_size);
		if (r == R_COLLISION)
			r = R_RETRY; /* another content of that size */
		int e = errno;
		close(efd);
		errno = e;
		if (r != R_RETRY) {
			memcpy(d, cand[k], VS_DIGEST_LEN);
			return r;
		}
	}
	return R_RETRY;
}

/* The directory of a candidate, opened beneath the root (kept for the
 * next candidate of the same directory). */
static int parent_fd(struct hwork *w, const struct hcand *c)
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
	w->curfd = dir_reopen(h, d);
	struct stat ds;
	if (w->curfd >= 0 &&
	    (fstat(w->curfd, &ds) < 0 || ds.st_ino != h->dirs[c->dir].ino)) {
		close(w->curfd);
		w->curfd = -1;
	}
	return w->curfd;
}

/* Whether replacing this name of a (hardlink) file freed its space: a
 * file with several names frees it when its last name is replaced, and
 * whichever thread sees its link count reach 0 first counts it. */
static bool frees_space(struct hwork *w, int ffd, const struct stat *fs)
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
		h->freed = vs_xrealloc(h->freed,
				       (h->nfreed + 1) * sizeof(*h->freed));
		h->freed[h->nfreed++] = fs->st_ino;
		freed = true;
	}
	pthread_mutex_unlock(&h->lock);
	return freed;
}

/* Counts and reports the outcome r (errno e) of candidate c; entry is
 * the store entry's name, d its digest, class the file's class (hardlink)
 * or NULL. */
static void hreport(struct hwork *w, const struct hcand *c, enum hresult r,
		    int e, const char *entry, const unsigned char *d,
		    const char *class, off_t size, bool freed)
{
	struct hrun *h = w->h;
	bool hard = h->o->link == VS_LINK_HARDLINK;
	char path[PATH_MAX];
	cpath(h, c, path, sizeof(path));
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
		}
		break;
	case R_ALREADY:
		hskip(w, path, VS_SKIP_ALREADY);
		break;
	case R_CHANGED:
		hskip(w, path, VS_SKIP_CHANGED);
		break;
	case R_COLLISION:
		hskip(w, path, VS_SKIP_COLLISION);
		if (h->o->verbose < 1)
			vs_warn(h->ctx,
				"'%s%s': its content differs from the store "
				"entry '%s/%s' of its digest (not linked)",
				troot(h, c), path, h->store->path, entry);
		break;
	default:
		w->st.errors++;
		vs_warn(h->ctx, "cannot hashify '%s%s': %s", troot(h, c),
			path, strerror(e));
	}
}

static void link_one(struct hwork *w, struct hcand *c)
{
	struct hrun *h = w->h;
	char path[PATH_MAX];
	w->cur = c;
	int dirfd = parent_fd(w, c);
	const char *name = c->name;
	int ffd = dirfd < 0 ? -1
			    : openat(dirfd, name,
				     O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_NOATIME | O_CLOEXEC);
	if (ffd < 0 && errno == EPERM && dirfd >= 0)
		ffd = openat(dirfd, name,
			     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat fs;
	if (ffd < 0 || fstat(ffd, &fs) < 0 || !same_as_walk(c, &fs)) {
		if (ffd >= 0)
			close(ffd);
		hskip(w, cpath(h, c, path, sizeof(path)), VS_SKIP_CHANGED);
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
		hskip(w, cpath(h, c, path, sizeof(path)), VS_SKIP_CHANGED);
		return;
	}
	unsigned char d[VS_DIGEST_LEN];
	bool cached = !hard && !h->o->refresh && vs_hcache_get(ffd, &fs, d);
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
		if (!h->o->refresh && !store_has(h, fs.st_ino)) {
			r = by_class(w, dirfd, name, ffd, &fs, class,
				     entry, sizeof(entry));
			if (r != R_RETRY) {
				e = errno;
				goto done;
			}
			r = R_FAILED;
		}
	}
	if (!hard && !cached && !h->o->refresh) {
		r = reflink_by_size(w, ffd, &fs, d, entry, sizeof(entry));
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
	else if (digest(w, ffd, fs.st_size, d) < 0) {
		e = errno;
		r = e == ESTALE ? R_CHANGED : R_FAILED;
		goto done;
	}
	for (int attempt = 0; attempt < 3; attempt++) {
		r = hard ? link_hardlink(w, dirfd, name, ffd, &fs,
					 class, d, entry, sizeof(entry))
			 : link_reflink(w, ffd, &fs, leased && !cached, d, entry,
					sizeof(entry));
		if (r == R_COLLISION && cached) {
			/* a stale or forged cache: the content decides */
			if (digest(w, ffd, fs.st_size, d) < 0)
				break;
			cached = false;
			continue;
		}
		if (r != R_RETRY)
			break;
	}
	e = errno;
	write_cache = !cached;
	if (!hard && r == R_NEW && !h->o->dry_run && w->nsrc < NSRC &&
	    (w->src_fd[w->nsrc] = dup(ffd)) >= 0) {
		/* it shares the new entry's extents */
		memcpy(w->src_d[w->nsrc++], d, VS_DIGEST_LEN);
	}
reflinked:
	if (!hard && !h->o->dry_run && write_cache &&
	    (r == R_LINKED || r == R_NEW || r == R_ALREADY)) {
		struct stat now;
		if (fstat(ffd, &now) == 0)
			vs_hcache_set(ffd, &now, d);
	}
done:
	freed = r == R_LINKED && (hard ? frees_space(w, ffd, &fs) : true);
	if (leased)
		vs_lease_end(ffd);
	close(ffd);
	hreport(w, c, r, e, entry, d, class, fs.st_size, freed);
}

/* ---- groups (hardlink) ------------------------------------------------ */

struct gcmp {
	struct hwork *w;
	struct gmem *m;
	int n;
};

/* vs_chunk_fn: compares a chunk of the source with the same bytes of
 * every member still equal. */
static void cmp_chunk(void *arg, off_t off, const char *buf, size_t len)
{
	struct gcmp *g = arg;
	for (int k = 0; k < g->n; k++) {
		struct gmem *m = &g->m[k];
		if (m->eq && (pread(m->fd, g->w->buf2, len, off) != (ssize_t)len ||
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
	struct gcmp g = {w, m, n};
	if (d)
		w->st.bytes_hashed += (unsigned long long)size;
	if (vs_digest_stream(src, size, d, w->buf1, HBUF, cmp_chunk, &g) < 0)
		return -1;
	for (int k = 0; k < n; k++)
		if (m[k].eq && pread(m[k].fd, w->buf2, 1, size) != 0)
			m[k].eq = false;
	return 0;
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
		m->dirfd = dir_reopen(h, d);
		struct stat ds;
		if (m->dirfd >= 0 &&
		    (fstat(m->dirfd, &ds) < 0 || ds.st_ino != d->ino)) {
			close(m->dirfd);
			m->dirfd = -1;
		}
		m->owned_dir = m->dirfd >= 0;
	}
	const char *name = c->name;
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	if (m->dirfd >= 0) {
		m->fd = openat(m->dirfd, name, flags | O_NOATIME);
		if (m->fd < 0 && errno == EPERM)
			m->fd = openat(m->dirfd, name, flags);
	}
	if (m->fd < 0 || fstat(m->fd, &m->st) < 0 || !same_as_walk(c, &m->st)) {
		m->r = R_CHANGED;
		return false;
	}
	/* every member is read at once: the disk gets them all to do */
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
	size_t cl = strlen(cls);
	bool no_xattrs = cl > 3 && !strcmp(cls + cl - 3, "-x0");
	for (int k = 0; k < nc; k++) {
		char entry[PATH_MAX];
		vs_hentry_name(cand[k], cls, entry, sizeof(entry));
		int efd = entry_open(h, entry, O_NONBLOCK);
		struct stat es;
		if (efd < 0)
			continue;
		const struct stat *fs = NULL;
		int want = 0;
		for (int i = 0; i < n; i++) {
			m[i].eq = m[i].r == R_PENDING && !strcmp(m[i].class, cls);
			fs = m[i].eq && !fs ? &m[i].st : fs;
		}
		bool fits = fs && fstat(efd, &es) == 0 && S_ISREG(es.st_mode) &&
			    es.st_size == size && es.st_mode == fs->st_mode &&
			    es.st_uid == fs->st_uid && es.st_gid == fs->st_gid &&
			    (h->o->ignore_mtime ||
			     es.st_mtim.tv_sec == fs->st_mtim.tv_sec);
		bool ex_none = fits && no_xattrs && flistxattr(efd, NULL, 0) == 0;
		for (int i = 0; i < n; i++) {
			if (!m[i].eq)
				continue;
			if (!fits || (!ex_none && !vs_same_xattrs(m[i].fd, efd)))
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
				link_to_entry(h, efd, es.st_ino, entry, false,
					      m, n);
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
	size_t cl = strlen(cls);
	if (cl < 3 || strcmp(cls + cl - 3, "-x0"))
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
	r->r = new_hard_entry(h, r->fd, r->st.st_ino, entry);
	r->e = errno;
	if (r->r != R_NEW) {
		/* an entry of that name exists, or none could be made: each
		 * on its own (compared with that entry) */
		for (int i = 0; i < n; i++)
			if (m[i].eq || i == rep)
				m[i].r = R_RETRY;
		return;
	}
	link_to_entry(h, r->fd, r->st.st_ino, entry, true, m, n);
}

/* Up to GMAX candidates that may be equal (same size, mode, owner and
 * mtime; see group_key): each opened and leased once, every byte read
 * once, equal files linked to one entry with one flip of its flag. */
static void link_batch(struct hwork *w, struct hcand **c, int n)
{
	struct hrun *h = w->h;
	struct gmem m[GMAX];
	memset(m, 0, sizeof(m));
	for (int i = 0; i < n; i++) {
		m[i].c = c[i];
		m[i].dirfd = -1;
		if (gopen(w, &m[i]) && store_has(h, m[i].st.st_ino))
			m[i].r = R_RETRY; /* an entry already: on its own */
	}
	off_t size = c[0]->size;
	for (int i = 0; i < n; i++) {
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
			     frees_space(w, x->fd, &x->st);
		if (x->leased)
			vs_lease_end(x->fd);
		if (x->fd >= 0)
			close(x->fd);
		if (x->owned_dir)
			close(x->dirfd);
		if (x->r == R_RETRY) {
			link_one(w, c[i]);
			continue;
		}
		char entry[PATH_MAX] = "";
		if (x->r == R_NEW || x->r == R_LINKED)
			vs_hentry_name(x->d, x->class, entry, sizeof(entry));
		w->cur = x->c;
		hreport(w, x->c, x->r == R_PENDING ? R_FAILED : x->r, x->e, entry,
			x->d, x->class, x->c->size, freed);
	}
}

static void *link_worker(void *arg)
{
	struct hwork *w = arg;
	struct hrun *h = w->h;
	bool groups = h->o->link == VS_LINK_HARDLINK && !h->o->refresh;
	for (;;) {
		size_t g = atomic_fetch_add(&h->next, 1);
		if (g >= h->ngroups)
			break;
		size_t i = h->groups[g], end = h->groups[g + 1];
		w->index_new = end - i > GMAX;
		while (w->nsrc > 0)
			close(w->src_fd[--w->nsrc]);
		if (!groups || end - i == 1) {
			for (; i < end; i++)
				link_one(w, &h->c[h->order[i]]);
		} else {
			for (; i < end; i += GMAX) {
				struct hcand *b[GMAX];
				int n = end - i < GMAX ? (int)(end - i) : GMAX;
				for (int k = 0; k < n; k++)
					b[k] = &h->c[h->order[i + k]];
				link_batch(w, b, n);
			}
		}
		size_t n = h->groups[g + 1] - h->groups[g];
		size_t done = atomic_fetch_add(&h->done, n) + n;
		if (w->reporter)
			hprogress(h, done, h->n);
	}
	if (w->curfd >= 0)
		close(w->curfd);
	while (w->nsrc > 0)
		close(w->src_fd[--w->nsrc]);
	return NULL;
}

/* Candidates that may be equal sort next to each other: by size (the
 * largest first, so that the threads end together), then, for hardlink,
 * mode, owner and mtime; then in walk order. */
static int group_key(const struct hrun *h, const struct hcand *a,
		     const struct hcand *b)
{
	const struct vs_hash_opts *o = h->o;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (o->link != VS_LINK_HARDLINK)
		return 0;
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	if (a->gid != b->gid)
		return a->gid < b->gid ? -1 : 1;
	if (!o->ignore_mtime && a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
	return 0;
}

static int cand_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hrun *h = arg;
	const struct hcand *a = &h->c[*(const unsigned *)pa],
			   *b = &h->c[*(const unsigned *)pb];
	int k = group_key(h, a, b);
	if (k)
		return k;
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	return strcmp(a->name, b->name);
}

static void make_groups(struct hrun *h)
{
	h->order = vs_xmalloc((h->n + 1) * sizeof(*h->order));
	for (size_t i = 0; i < h->n; i++)
		h->order[i] = (unsigned)i;
	qsort_r(h->order, h->n, sizeof(*h->order), cand_cmp, h);
	size_t ng = 0;
	for (size_t i = 0; i < h->n; i++)
		ng += i == 0 ||
		      group_key(h, &h->c[h->order[i - 1]], &h->c[h->order[i]]);
	h->groups = vs_xmalloc((ng + 1) * sizeof(*h->groups));
	h->ngroups = 0;
	for (size_t i = 0; i < h->n; i++)
		if (i == 0 ||
		    group_key(h, &h->c[h->order[i - 1]], &h->c[h->order[i]]))
			h->groups[h->ngroups++] = (unsigned)i;
	h->groups[h->ngroups] = (unsigned)h->n;
}

static void add_stats(struct vs_hash_stats *to, const struct vs_hash_stats *s)
{
	to->examined += s->examined;
	to->bytes_hashed += s->bytes_hashed;
	to->cached += s->cached;
	to->new_entries += s->new_entries;
	to->linked += s->linked;
	to->bytes_saved += s->bytes_saved;
	to->errors += s->errors;
	for (int r = 0; r < VS_UNIFY_NREASONS; r++)
		to->skipped[r] += s->skipped[r];
}

static void link_pass(struct hrun *h)
{
	/* one malloc arena: threads allocate little, and an arena each would
	 * cost memory for nothing */
	mallopt(M_ARENA_MAX, 1);
	struct hwork w[THREADS] = {0};
	pthread_t th[THREADS];
	int started = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = cpus < 2 ? 4 : cpus >= THREADS / 2 ? THREADS : 2 * (int)cpus;
	for (int i = 0; i < nth; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].h = h;
		w[i].reporter = i == 0;
		w[i].curfd = -1;
		w[i].buf1 = vs_xmalloc(HBUF);
		w[i].buf2 = vs_xmalloc(HBUF);
	}
	for (int i = 1; i < nth && (size_t)i * CHUNK < h->n; i++)
		if (pthread_create(&th[started], NULL, link_worker, &w[i]) == 0)
			started++;
	link_worker(&w[0]);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < nth; i++) {
		add_stats(h->st, &w[i].st);
		free(w[i].buf1);
		free(w[i].buf2);
	}
}

int vs_hashify_run(struct vs_ctx *ctx, const struct vs_unify_tree *const *trees,
		   unsigned ntrees, struct vs_hstore *store,
		   const struct vs_hash_opts *o, struct vs_hash_stats *st)
{
	struct hrun *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->ctx = ctx;
	h->trees = trees;
	h->ntrees = ntrees;
	h->store = store;
	h->o = o;
	h->st = st;
	h->dev = store->dev;
	pthread_mutex_init(&h->lock, NULL);
	for (int i = 0; i < 256; i++)
		atomic_init(&h->xfd[i], -1);
	for (int i = 0; i < FREEZE_LOCKS; i++)
		pthread_mutex_init(&h->freeze[i], NULL);
	/* the walk keeps the directories open (the groups need them in no
	 * order) while there are descriptors to spare */
	struct rlimit old, nl;
	bool raised = getrlimit(RLIMIT_NOFILE, &old) == 0;
	nl = old;
	if (raised) {
		nl.rlim_cur = old.rlim_max < (1u << 20) ? old.rlim_max : (1u << 20);
		raised = setrlimit(RLIMIT_NOFILE, &nl) == 0;
		if (!raised)
			nl = old;
	}
	size_t reserve = 256 + THREADS * (GMAX + 8);
	h->keep_fds = nl.rlim_cur > 2 * reserve ? nl.rlim_cur - reserve : 0;
	struct hwork walker = {.h = h, .curfd = -1};
	h->walker = &walker;
	for (unsigned t = 0; t < ntrees; t++) {
		struct stat rs;
		if (fstat(trees[t]->rootfd, &rs) < 0) {
			walker.st.errors++;
			vs_warn(ctx, "cannot stat '%s': %s", trees[t]->root,
				strerror(errno));
			continue;
		}
		h->curtree = t;
		int fd = dup(trees[t]->rootfd);
		unsigned root = add_dir(h, "", &rs, &fd);
		if (fd >= 0)
			close(fd);
		hwalk(h, trees[t]->rootfd, "", root, false, 0);
	}
	add_stats(st, &walker.st);
	st->examined += h->n;
	make_groups(h);
	link_pass(h);
	if (!o->dry_run)
		restore_dir_times(h);
	if (o->progress && h->n >= 256)
		fputs("\r\033[K", stderr);
	pthread_mutex_destroy(&h->lock);
	for (int i = 0; i < 256; i++)
		if (h->xfd[i] >= 0)
			close(h->xfd[i]);
	for (int i = 0; i < FREEZE_LOCKS; i++)
		pthread_mutex_destroy(&h->freeze[i]);
	for (size_t i = 0; i < h->ndirs; i++)
		if (h->dirs[i].fd >= 0)
			close(h->dirs[i].fd);
	if (raised)
		setrlimit(RLIMIT_NOFILE, &old);
	free(h->groups);
	free(h->order);
	for (size_t i = 0; i < h->narena; i++)
		free(h->arena[i]);
	free(h->arena);
	free(h->c);
	free(h->dirs);
	free(h->freed);
	free(h);
	fflush(stdout);
	return 0;
}
