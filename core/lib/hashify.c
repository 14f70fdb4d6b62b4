/* The hashify engine (vhashify): shares a guest's files through the
 * content-addressed store of hashstore.h.
 *
 * Three passes over one guest tree:
 *   walk    directory fds, O_NOFOLLOW, every directory checked against
 *           the walk's lstat; exclude lists; files under 16 bytes,
 *           symlinks and special files skipped; a file whose inode is
 *           already a store entry is recognised from readdir's inode
 *           numbers alone and skipped without being read.  The candidates
 *           are kept in an array: 56 bytes plus the path per file.
 *   digest  in parallel (one thread per CPU, at most 8): the digest cache
 *           (a trusted.* xattr a guest cannot forge) or SHA-256 of the
 *           content, read through a file opened beneath the root.
 *   link    one at a time, with the file open again and checked:
 *     reflink   a store entry is an O_TMPFILE reflink clone of the file,
 *               hashed again (it is private, so it cannot change) and
 *               linked under its digest only when it matches; an existing
 *               entry is shared with FIDEDUPERANGE, where the kernel
 *               compares the bytes.  The guest keeps its inode.
 *     hardlink  under a read lease (no writer can open the file while it
 *               is held) the file's bytes are compared with the existing
 *               entry before a link to the entry replaces it (temporary
 *               name, rename), or, for a new entry, hashed again and the
 *               file's own inode linked into the store and made immutable.
 * A hash is never trusted alone: a forged or stale digest can only make
 * a comparison fail ("content differs from the store entry"). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "hashstore.h"
#include "internal.h"

#define HBUF (1 << 20)
#define GUEST_TMP ".vs-unify-tmp."
#define MAX_THREADS 8

enum hstate { H_PENDING, H_CACHED, H_HASHED, H_CHANGED, H_ERROR };

struct hcand {
	char *path; /* "/etc/passwd": in the arena */
	unsigned dir; /* its directory in hrun.dirs */
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned char digest[VS_DIGEST_LEN];
	unsigned char state;
	int err;
};

/* A directory of the walk: its times are put back when a file in it was
 * replaced (the guest sees no change but ctime). */
struct hdir {
	char *path;
	ino_t ino;
	struct timespec atime, mtime;
	bool touched;
};

struct hrun {
	struct vs_ctx *ctx;
	const struct vs_unify_tree *t;
	struct vs_hstore *store;
	const struct vs_hash_opts *o;
	struct vs_hash_stats *st;
	dev_t dev;
	struct hcand *c;
	size_t n, cap;
	struct hdir *dirs;
	size_t ndirs, dcap;
	char **arena;
	size_t narena, arena_used;
	atomic_size_t next, done;
	atomic_ullong bytes_hashed, cached;
	char *buf1, *buf2;
	unsigned long tmpseq;
};

/* ---- output ----------------------------------------------------------- */

static void hskip(struct hrun *h, const char *path, int reason)
{
	h->st->skipped[reason]++;
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

static void hprogress(struct hrun *h, const char *what, size_t i, size_t n)
{
	if (h->o->progress && (i % 256 == 0 || i == n))
		fprintf(stderr, "\rvs: hashify: %s %zu/%zu files", what, i, n);
}

static int open_beneath(int rootfd, const char *path, int flags);

/* ---- walk --------------------------------------------------------------- */

static char *arena_dup(struct hrun *h, const char *s)
{
	size_t len = strlen(s) + 1, chunk = 1 << 20;
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

static unsigned add_dir(struct hrun *h, const char *path, const struct stat *st)
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
	d->touched = false;
	return (unsigned)h->ndirs++;
}

/* Puts back the times of the directories whose entries were replaced. */
static void restore_dir_times(struct hrun *h)
{
	for (size_t i = 0; i < h->ndirs; i++) {
		struct hdir *d = &h->dirs[i];
		if (!d->touched)
			continue;
		int fd = i == 0 ? dup(h->t->rootfd)
				: open_beneath(h->t->rootfd, d->path,
					       O_RDONLY | O_DIRECTORY);
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
	c->path = arena_dup(h, path);
	c->dir = dir;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtime = st->st_mtim;
}

/* A temporary link of an interrupted run in a guest directory: a link
 * to a store entry (a guest cannot make one). */
static bool stale_guest_tmp(struct hrun *h, int dirfd, const char *name,
			    const struct stat *st)
{
	if (strncmp(name, GUEST_TMP, strlen(GUEST_TMP)) || !S_ISREG(st->st_mode) ||
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
			&h->t->excl, path, S_ISDIR(st.st_mode), inside);
		if (v == VS_EXCLUDED) {
			hskip(h, path, VS_SKIP_EXCLUDED);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != h->dev) {
				hskip(h, path, VS_SKIP_OTHERFS);
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
				hskip(h, path, VS_SKIP_CHANGED);
			else
				hwalk(h, fd, path, add_dir(h, path, &cs),
				      inside || v == VS_DESCEND_EXCLUDED, depth + 1);
			if (fd >= 0)
				close(fd);
		} else if (S_ISLNK(st.st_mode)) {
			hskip(h, path, VS_SKIP_SYMLINK);
		} else if (!S_ISREG(st.st_mode)) {
			hskip(h, path, VS_SKIP_SPECIAL);
		} else if (st.st_size < VS_HASH_MIN_SIZE) {
			hskip(h, path, VS_SKIP_SMALL);
		} else if (!h->o->refresh && imm &&
			   vs_hstore_has_ino(h->store, st.st_ino)) {
			/* a store entry (and immutable: a run killed between
			 * the link and the flag leaves one to finish) */
			h->st->examined++;
			hskip(h, path, VS_SKIP_ALREADY);
		} else {
			add_cand(h, path, &st, dir);
		}
	}
	closedir(d);
}

/* ---- digest pass ----------------------------------------------------- */

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

static bool same_as_walk(const struct hcand *c, const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_ino == c->ino &&
	       st->st_size == c->size && st->st_mtim.tv_sec == c->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == c->mtime.tv_nsec;
}

static void digest_one(struct hrun *h, struct hcand *c, char *buf)
{
	int fd = open_beneath(h->t->rootfd, c->path,
			      O_RDONLY | O_NONBLOCK | O_NOATIME);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !same_as_walk(c, &st)) {
		c->state = H_CHANGED;
	} else if (!h->o->refresh && vs_hcache_get(fd, &st, c->digest)) {
		c->state = H_CACHED;
		atomic_fetch_add(&h->cached, 1);
	} else if (vs_digest_fd(fd, st.st_size, c->digest, buf, HBUF) == 0) {
		c->state = H_HASHED;
		atomic_fetch_add(&h->bytes_hashed, (unsigned long long)st.st_size);
	} else {
		c->err = errno;
		c->state = errno == ESTALE ? H_CHANGED : H_ERROR;
	}
	if (fd >= 0)
		close(fd);
}

static void *digest_worker(void *arg)
{
	struct hrun *h = arg;
	char *buf = vs_xmalloc(HBUF);
	for (;;) {
		size_t i = atomic_fetch_add(&h->next, 1);
		if (i >= h->n)
			break;
		digest_one(h, &h->c[i], buf);
		size_t done = atomic_fetch_add(&h->done, 1) + 1;
		if (arg == h && done % 256 == 0)
			hprogress(h, "hashing", done, h->n);
	}
	free(buf);
	return NULL;
}

static void digest_pass(struct hrun *h)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int n = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : (int)cpus;
	pthread_t th[MAX_THREADS];
	int started = 0;
	for (int i = 1; i < n && (size_t)i < h->n; i++)
		if (pthread_create(&th[started], NULL, digest_worker, h) == 0)
			started++;
	digest_worker(h); /* this thread too */
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* ---- link pass -------------------------------------------------------- */

enum hresult { R_LINKED, R_NEW, R_ALREADY, R_CHANGED, R_COLLISION, R_FAILED,
	       R_RETRY };

/* The <xx> directory of an entry name, created when asked. */
static int entry_dir(struct hrun *h, const char *entry, bool create)
{
	char xx[3] = {entry[0], entry[1], '\0'};
	if (create && mkdirat(h->store->fd, xx, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(h->store->fd, xx,
		      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Hashes an open file again; true when it still has digest d. */
static bool still_digest(struct hrun *h, int fd, off_t size,
			 const unsigned char d[VS_DIGEST_LEN])
{
	unsigned char now[VS_DIGEST_LEN];
	if (vs_digest_fd(fd, size, now, h->buf1, HBUF) < 0)
		return false;
	h->st->bytes_hashed += (unsigned long long)size;
	return memcmp(now, d, VS_DIGEST_LEN) == 0;
}

static enum hresult link_reflink(struct hrun *h, struct hcand *c, int ffd,
				 const struct stat *fs, char *entry,
				 size_t esize)
{
	vs_hentry_name(c->digest, NULL, entry, esize);
	int efd = openat(h->store->fd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (efd >= 0) {
		enum hresult r;
		if (vs_same_extents(ffd, efd))
			r = R_ALREADY;
		else if (h->o->dry_run)
			r = vs_same_bytes(ffd, efd, h->buf1, h->buf2, HBUF) == 1
				    ? R_LINKED
				    : R_COLLISION;
		else {
			int d = vs_dedupe(efd, ffd, fs->st_size);
			r = d == 0 ? R_LINKED : d == 1 ? R_COLLISION : R_FAILED;
		}
		int e = errno;
		close(efd);
		errno = e;
		return r;
	}
	if (errno != ENOENT)
		return R_FAILED;
	if (h->o->dry_run)
		return R_NEW;
	/* a private clone, hashed: what goes under the digest's name is
	 * exactly what was hashed */
	int xfd = entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	int tfd = openat(xfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0444);
	enum hresult r = R_FAILED;
	if (tfd >= 0 && ioctl(tfd, FICLONE, ffd) == 0) {
		if (!still_digest(h, tfd, fs->st_size, c->digest))
			r = c->state == H_CACHED ? R_COLLISION : R_CHANGED;
		else if (linkat(tfd, "", xfd, entry + 3, AT_EMPTY_PATH) == 0)
			r = R_NEW;
		else if (errno == EEXIST)
			r = R_RETRY; /* made meanwhile: share it */
	}
	int e = errno;
	if (tfd >= 0)
		close(tfd);
	close(xfd);
	errno = e;
	return r;
}

/* Replaces the guest's file (name in dirfd, open as ffd with stat fs) by
 * a link to the store entry efd (stat es), atomically. */
static enum hresult replace_by_entry(struct hrun *h, int dirfd,
				     const char *name, const struct stat *fs,
				     const char *entry, int efd)
{
	char tmp[NAME_MAX + 1];
	if (snprintf(tmp, sizeof(tmp), GUEST_TMP "%s", name) >= (int)sizeof(tmp))
		return R_COLLISION; /* no room for a temporary name */
	int xfd = entry_dir(h, entry, false);
	if (xfd < 0)
		return R_FAILED;
	/* the entry is writable for a moment: a read lease keeps every
	 * writer out meanwhile (an opener waits, then finds it immutable) */
	bool leased = vs_lease_read(efd);
	bool imm = vs_is_immutable(efd);
	if (!leased || (imm && vs_set_immutable(efd, false) < 0)) {
		if (leased)
			vs_lease_end(efd);
		close(xfd);
		return leased ? R_FAILED : R_CHANGED;
	}
	enum hresult r = R_FAILED;
	unlinkat(dirfd, tmp, 0); /* a stale one: checked by the walk */
	if (linkat(xfd, entry + 3, dirfd, tmp, 0) == 0) {
		struct stat now;
		if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_ino != fs->st_ino || now.st_size != fs->st_size ||
		    now.st_mtim.tv_sec != fs->st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != fs->st_mtim.tv_nsec) {
			unlinkat(dirfd, tmp, 0);
			r = R_CHANGED;
		} else if (renameat(dirfd, tmp, dirfd, name) == 0) {
			r = R_LINKED;
		} else {
			unlinkat(dirfd, tmp, 0);
		}
	}
	int e = errno;
	if (vs_set_immutable(efd, true) < 0 && r == R_LINKED)
		vs_warn(h->ctx, "cannot make '%s/%s' immutable: %s",
			h->store->path, entry, strerror(errno));
	vs_lease_end(efd);
	close(xfd);
	errno = e;
	return r;
}

/* The guest's own (verified) inode becomes the entry. */
static enum hresult new_hard_entry(struct hrun *h, struct hcand *c, int ffd,
				   const struct stat *fs, const char *entry)
{
	if (!still_digest(h, ffd, fs->st_size, c->digest))
		return c->state == H_CACHED ? R_COLLISION : R_CHANGED;
	int xfd = entry_dir(h, entry, true);
	if (xfd < 0)
		return R_FAILED;
	bool imm = vs_is_immutable(ffd);
	if (imm && vs_set_immutable(ffd, false) < 0) {
		close(xfd);
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
	close(xfd);
	errno = e;
	return r;
}

static enum hresult link_hardlink(struct hrun *h, struct hcand *c, int dirfd,
				  const char *name, int ffd,
				  const struct stat *fs, char *entry,
				  size_t esize)
{
	char class[128];
	if (vs_hstore_has_ino(h->store, fs->st_ino)) {
		if (h->o->dry_run || vs_is_immutable(ffd))
			return R_ALREADY;
		/* linked by a run killed before the flag: finish it when the
		 * content still matches its entry (the lease holds writers) */
		if (vs_hclass(ffd, fs, h->o->ignore_mtime, class,
			      sizeof(class)) < 0)
			return R_FAILED;
		vs_hentry_name(c->digest, class, entry, esize);
		struct stat es;
		if (!still_digest(h, ffd, fs->st_size, c->digest) ||
		    fstatat(h->store->fd, entry, &es, AT_SYMLINK_NOFOLLOW) < 0 ||
		    es.st_ino != fs->st_ino) {
			vs_warn(h->ctx,
				"'%s%s' shares a store entry an interrupted run "
				"left writable and has changed since: check the "
				"store with 'vs hashify --verify'",
				h->t->root, c->path);
			return R_FAILED;
		}
		return vs_set_immutable(ffd, true) < 0 ? R_FAILED : R_ALREADY;
	}
	if (vs_hclass(ffd, fs, h->o->ignore_mtime, class, sizeof(class)) < 0)
		return R_FAILED;
	vs_hentry_name(c->digest, class, entry, esize);
	int efd = openat(h->store->fd, entry,
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (efd < 0 && errno != ENOENT)
		return R_FAILED;
	if (efd < 0)
		return h->o->dry_run ? R_NEW : new_hard_entry(h, c, ffd, fs, entry);
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
		   !vs_same_xattrs(ffd, efd)) {
		r = R_COLLISION; /* the entry is not what its name says */
	} else {
		int eq = vs_same_bytes(ffd, efd, h->buf1, h->buf2, HBUF);
		r = eq < 0	       ? R_FAILED
		    : !eq	       ? R_COLLISION
		    : h->o->dry_run ? R_LINKED
				     : replace_by_entry(h, dirfd, name, fs, entry,
							efd);
	}
	int e = errno;
	close(efd);
	errno = e;
	return r;
}

/* The parent directory of a candidate, opened beneath the root (kept
 * open for the next candidate of the same directory). */
static int parent_fd(struct hrun *h, const char *path, char *cur, int *curfd)
{
	const char *slash = strrchr(path, '/');
	size_t len = (size_t)(slash - path);
	if (*curfd >= 0 && strlen(cur) == len && !strncmp(cur, path, len))
		return *curfd;
	if (*curfd >= 0)
		close(*curfd);
	snprintf(cur, PATH_MAX, "%.*s", (int)len, path);
	*curfd = len ? open_beneath(h->t->rootfd, cur, O_RDONLY | O_DIRECTORY)
		     : dup(h->t->rootfd);
	return *curfd;
}

static void link_one(struct hrun *h, struct hcand *c, char *cur, int *curfd)
{
	if (c->state == H_CHANGED) {
		hskip(h, c->path, VS_SKIP_CHANGED);
		return;
	}
	if (c->state == H_ERROR) {
		h->st->errors++;
		vs_warn(h->ctx, "cannot hash '%s%s': %s", h->t->root, c->path,
			strerror(c->err));
		return;
	}
	int dirfd = parent_fd(h, c->path, cur, curfd);
	const char *name = strrchr(c->path, '/') + 1;
	int ffd = dirfd < 0 ? -1
			    : openat(dirfd, name,
				     O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_CLOEXEC);
	struct stat fs;
	if (ffd < 0 || fstat(ffd, &fs) < 0 || !same_as_walk(c, &fs)) {
		if (ffd >= 0)
			close(ffd);
		hskip(h, c->path, VS_SKIP_CHANGED);
		return;
	}
	/* hardlink: no writer may open the file while it is compared,
	 * hashed, linked and frozen (a read lease; the opener waits) */
	bool hard = h->o->link == VS_LINK_HARDLINK;
	bool leased = hard && !h->o->dry_run && vs_lease_read(ffd);
	if (hard && !h->o->dry_run && !leased) {
		close(ffd);
		hskip(h, c->path, VS_SKIP_CHANGED); /* open for writing */
		return;
	}
	char entry[PATH_MAX];
	enum hresult r = R_FAILED;
	for (int attempt = 0; attempt < 3; attempt++) {
		r = hard ? link_hardlink(h, c, dirfd, name, ffd, &fs, entry,
					 sizeof(entry))
			 : link_reflink(h, c, ffd, &fs, entry, sizeof(entry));
		if (r == R_COLLISION && c->state == H_CACHED) {
			/* a stale cache: the content decides */
			if (vs_digest_fd(ffd, fs.st_size, c->digest, h->buf1,
					 HBUF) < 0)
				break;
			h->st->bytes_hashed += (unsigned long long)fs.st_size;
			c->state = H_HASHED;
			continue;
		}
		if (r != R_RETRY)
			break;
	}
	int e = errno;
	if (!hard && !h->o->dry_run && c->state == H_HASHED &&
	    (r == R_LINKED || r == R_NEW || r == R_ALREADY)) {
		struct stat now;
		if (fstat(ffd, &now) == 0)
			vs_hcache_set(ffd, &now, c->digest);
	}
	if (leased)
		vs_lease_end(ffd);
	close(ffd);
	switch (r) {
	case R_LINKED:
		if (hard && !h->o->dry_run) {
			/* the rename moved the directory's mtime: put it back
			 * now (and once more at the end, for a crash between) */
			struct hdir *d = &h->dirs[c->dir];
			struct stat ds;
			struct timespec ts[2] = {d->atime, d->mtime};
			d->touched = true;
			if (fstat(dirfd, &ds) == 0 && ds.st_ino == d->ino)
				futimens(dirfd, ts);
		}
		hsay(h, c->path, entry);
		h->st->linked++;
		if (fs.st_nlink == 1 || !hard) /* its last name: space freed */
			h->st->bytes_saved += (unsigned long long)fs.st_size;
		break;
	case R_NEW:
		hsay(h, c->path, entry);
		h->st->new_entries++;
		if (hard && !h->o->dry_run)
			vs_hstore_add_ino(h->store, fs.st_ino);
		break;
	case R_ALREADY:
		hskip(h, c->path, VS_SKIP_ALREADY);
		break;
	case R_CHANGED:
		hskip(h, c->path, VS_SKIP_CHANGED);
		break;
	case R_COLLISION:
		hskip(h, c->path, VS_SKIP_COLLISION);
		if (h->o->verbose < 1)
			vs_warn(h->ctx,
				"'%s%s': its content differs from the store "
				"entry '%s/%s' of its digest (not linked)",
				h->t->root, c->path, h->store->path, entry);
		break;
	default:
		h->st->errors++;
		vs_warn(h->ctx, "cannot hashify '%s%s': %s", h->t->root,
			c->path, strerror(e));
	}
}

int vs_hashify_run(struct vs_ctx *ctx, const struct vs_unify_tree *t,
		   struct vs_hstore *store, const struct vs_hash_opts *o,
		   struct vs_hash_stats *st)
{
	struct stat rs;
	if (fstat(t->rootfd, &rs) < 0)
		return vs_set_errno(ctx, errno, "cannot stat '%s'", t->root);
	struct hrun *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->ctx = ctx;
	h->t = t;
	h->store = store;
	h->o = o;
	h->st = st;
	h->dev = rs.st_dev;
	h->buf1 = vs_xmalloc(HBUF);
	h->buf2 = vs_xmalloc(HBUF);
	hwalk(h, t->rootfd, "", add_dir(h, "", &rs), false, 0);
	st->examined += h->n;
	digest_pass(h);
	st->bytes_hashed += atomic_load(&h->bytes_hashed);
	st->cached += atomic_load(&h->cached);
	char cur[PATH_MAX] = "";
	int curfd = -1;
	for (size_t i = 0; i < h->n; i++) {
		link_one(h, &h->c[i], cur, &curfd);
		hprogress(h, "linking", i + 1, h->n);
	}
	if (curfd >= 0)
		close(curfd);
	if (!o->dry_run)
		restore_dir_times(h);
	if (o->progress && h->n >= 256)
		fputs("\r\033[K", stderr);
	for (size_t i = 0; i < h->narena; i++)
		free(h->arena[i]);
	free(h->arena);
	free(h->c);
	free(h->dirs);
	free(h->buf1);
	free(h->buf2);
	free(h);
	fflush(stdout);
	return 0;
}
