/* The unify engine: walks a destination tree beside its reference trees
 * with directory file descriptors (O_NOFOLLOW, every directory checked
 * against the lstat of the walk), applies the exclude lists, and shares
 * the files that are equal.
 *
 *   reflink:  FIDEDUPERANGE; the kernel compares the bytes under its own
 *             locks and shares the extents; each file keeps its inode,
 *             metadata and copy-on-write.  Safe with running guests.
 *   hardlink: vs compares mode, owner, mtime, extended attributes and the
 *             bytes, links the reference to a temporary name in the same
 *             directory, renames it over the guest's file (the path never
 *             goes missing) and makes the inode immutable.  A running guest
 *             could write to a file while it becomes shared, so this needs
 *             every guest of the host stopped (the caller checks). */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine.h"


static const char *const reason_text[VS_UNIFY_NREASONS] = {
	[VS_SKIP_EXCLUDED] = "excluded",
	[VS_SKIP_SYMLINK] = "symlink",
	[VS_SKIP_SPECIAL] = "non regular file",
	[VS_SKIP_MISSING] = "does not exist in refserver(s)",
	[VS_SKIP_ALREADY] = "already unified",
	[VS_SKIP_DIFFERENT] = "different",
	[VS_SKIP_CHANGED] = "changed during the run",
	[VS_SKIP_OTHERFS] = "other filesystem",
	[VS_SKIP_ERROR] = "error",
	[VS_SKIP_SMALL] = "too small",
	[VS_SKIP_COLLISION] = "content differs from the store entry of its digest",
	[VS_SKIP_LINKS] = "other hard links",
};

const char *vs_unify_reason(int r)
{
	return r >= 0 && r < VS_UNIFY_NREASONS ? reason_text[r] : "?";
}

struct walk {
	struct vs_ctx *ctx;
	const struct vs_unify_tree *dst;
	const struct vs_unify_tree *refs;
	size_t nrefs;
	const struct vs_unify_opts *o;
	struct vs_unify_stats *st;
	dev_t dev; /* the destination's filesystem */
	bool touched; /* an entry of the directory walked was replaced */
	char buf1[1 << 16], buf2[1 << 16];
};

static void skip(struct walk *w, const char *path, int reason,
		 const char *detail)
{
	w->st->skipped[reason]++;
	int v = w->o->verbose;
	if (v < 1 || (reason == VS_SKIP_ALREADY && v < 3) ||
	    (reason == VS_SKIP_SYMLINK && v < 6))
		return;
	if (v >= 2)
		printf("  skipping '%s' (%s%s%s)\n", path, vs_unify_reason(reason),
		       detail ? " " : "", detail ? detail : "");
	else
		printf("  skipping '%s'\n", path);
}

static void say_action(struct walk *w, const char *verb, const char *path,
		       const struct vs_unify_tree *ref)
{
	if (!w->o->dry_run && w->o->verbose < 2)
		return;
	if (w->o->verbose >= 4 && ref)
		printf("%s '%s' (from %s)\n", verb, path, ref->root);
	else
		printf("%s '%s'\n", verb, path);
}

/* Byte comparison of two open files from their start. */
int vs_same_bytes(int a, int b, char *buf1, char *buf2, size_t size)
{
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(a, buf1, size, off);
		ssize_t m = pread(b, buf2, size, off);
		if (n < 0 || m < 0)
			return -1;
		if (n != m || memcmp(buf1, buf2, (size_t)n) != 0)
			return 0;
		if (n == 0)
			return 1;
		off += n;
	}
}

bool vs_stale_original(int dirfd, const char *tmp, const struct stat *tst,
		       const struct stat *nst, bool dry_run)
{
	if (tst->st_ino == nst->st_ino || tst->st_dev != nst->st_dev ||
	    tst->st_size != nst->st_size || tst->st_mode != nst->st_mode ||
	    tst->st_uid != nst->st_uid || tst->st_gid != nst->st_gid ||
	    tst->st_mtim.tv_sec != nst->st_mtim.tv_sec ||
	    tst->st_mtim.tv_nsec != nst->st_mtim.tv_nsec)
		return false;
	const char *name = tmp + strlen(VS_UNIFY_TMP);
	int a = openat(dirfd, tmp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int b = a < 0 ? -1
		      : openat(dirfd, name,
			       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat ca, cb;
	bool same = b >= 0 && fstat(a, &ca) == 0 && fstat(b, &cb) == 0 &&
		    ca.st_ino == tst->st_ino && cb.st_ino == nst->st_ino;
	if (same) {
		char *b1 = vs_xmalloc(1 << 16), *b2 = vs_xmalloc(1 << 16);
		same = vs_same_bytes(a, b, b1, b2, 1 << 16) == 1;
		free(b1);
		free(b2);
	}
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	if (same && !dry_run)
		unlinkat(dirfd, tmp, 0);
	return same;
}

static int same_bytes(struct walk *w, int a, int b)
{
	return vs_same_bytes(a, b, w->buf1, w->buf2, sizeof(w->buf1));
}

/* Equal extended attributes (file capabilities, ACLs, ...); vs's own
 * digest cache (trusted.vs.*) does not count. */
bool vs_same_xattrs(int a, int b)
{
	char la[8192], lb[8192];
	ssize_t na = flistxattr(a, la, sizeof(la));
	ssize_t nb = flistxattr(b, lb, sizeof(lb));
	if (na < 0 || nb < 0)
		return na < 0 && nb < 0 && errno == ENOTSUP;
	size_t ca = 0, cb = 0; /* names that count, in each list */
	for (char *n = la; n < la + na; n += strlen(n) + 1) {
		if (!strncmp(n, VS_XATTR_PREFIX, strlen(VS_XATTR_PREFIX)))
			continue;
		ca++;
		char va[4096], vb[4096];
		ssize_t x = fgetxattr(a, n, va, sizeof(va));
		ssize_t y = fgetxattr(b, n, vb, sizeof(vb));
		if (x < 0 || x != y || memcmp(va, vb, (size_t)x) != 0)
			return false;
	}
	for (char *n = lb; n < lb + nb; n += strlen(n) + 1)
		if (strncmp(n, VS_XATTR_PREFIX, strlen(VS_XATTR_PREFIX)))
			cb++;
	return ca == cb;
}

bool vs_first_extent(int fd, uint64_t *phys)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[1];
	} x;
	memset(&x, 0, sizeof(x));
	x.fm.fm_length = FIEMAP_MAX_OFFSET;
	x.fm.fm_extent_count = 1;
	if (ioctl(fd, FS_IOC_FIEMAP, &x.fm) < 0 || x.fm.fm_mapped_extents < 1 ||
	    (x.ext[0].fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC)))
		return false;
	*phys = x.ext[0].fe_physical;
	return true;
}

/* True when both files map to the same physical extents (shared).  No
 * writeback is forced: an extent not yet on disk (delayed allocation,
 * unknown place) makes it false, and the kernel's dedupe decides. */
bool vs_same_extents(int a, int b)
{
	struct vs_extmap x, y;
	vs_extent_map(a, &x);
	if (!x.n)
		return false;
	vs_extent_map(b, &y);
	return vs_same_map(&x, &y);
}

void vs_extent_map(int fd, struct vs_extmap *m)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[VS_EXTMAP_MAX + 1];
	} x;
	memset(&x, 0, sizeof(x));
	x.fm.fm_length = FIEMAP_MAX_OFFSET;
	x.fm.fm_extent_count = VS_EXTMAP_MAX + 1;
	m->n = 0;
	if (ioctl(fd, FS_IOC_FIEMAP, &x.fm) < 0 ||
	    x.fm.fm_mapped_extents > VS_EXTMAP_MAX)
		return;
	const unsigned unplaced = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC;
	for (unsigned i = 0; i < x.fm.fm_mapped_extents; i++) {
		if (x.ext[i].fe_flags & unplaced)
			return;
		m->e[i].logical = x.ext[i].fe_logical;
		m->e[i].physical = x.ext[i].fe_physical;
		m->e[i].length = x.ext[i].fe_length;
		m->e[i].unwritten = x.ext[i].fe_flags & FIEMAP_EXTENT_UNWRITTEN;
	}
	m->n = x.fm.fm_mapped_extents;
}

bool vs_same_map(const struct vs_extmap *a, const struct vs_extmap *b)
{
	if (!a->n || a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (a->e[i].logical != b->e[i].logical ||
		    a->e[i].physical != b->e[i].physical ||
		    a->e[i].length != b->e[i].length ||
		    a->e[i].unwritten != b->e[i].unwritten)
			return false;
	return true;
}

enum outcome { LINKED, ALREADY, DIFFERENT, CHANGED, FAILED, LINKS };

/* One FIDEDUPERANGE call of at most len bytes at off: 0 and the bytes
 * shared in *done, 1 the bytes differ, -1 with errno. */
static int dedupe_chunk(int src, int dst, off_t off, off_t len, off_t *done)
{
	struct {
		struct file_dedupe_range r;
		struct file_dedupe_range_info i;
	} d;
	memset(&d, 0, sizeof(d));
	d.r.src_offset = (uint64_t)off;
	d.r.src_length = (uint64_t)len;
	d.r.dest_count = 1;
	d.i.dest_fd = dst;
	d.i.dest_offset = (uint64_t)off;
	if (ioctl(src, FIDEDUPERANGE, &d.r) < 0)
		return -1;
	if (d.i.status == FILE_DEDUPE_RANGE_DIFFERS)
		return 1;
	if (d.i.status < 0) {
		errno = -d.i.status;
		return -1;
	}
	if (d.i.bytes_deduped == 0) {
		errno = EIO;
		return -1;
	}
	*done = (off_t)d.i.bytes_deduped;
	return 0;
}

/* The bytes [off, end) in calls of DEDUPE_MAX: as vs_dedupe. */
static int dedupe_span(int src, int dst, off_t off, off_t end)
{
	while (off < end) {
		off_t done;
		int r = dedupe_chunk(
		    src, dst, off,
		    end - off > DEDUPE_MAX ? DEDUPE_MAX : end - off, &done);
		if (r != 0)
			return r;
		off += done;
	}
	return 0;
}

int vs_dedupe(int src, int dst, off_t size)
{
	return dedupe_span(src, dst, 0, size);
}

int vs_dedupe_equal(int src, int dst, off_t size)
{
	/* the last call's bytes first (of a file of one call, all of it): a
	 * file that differs there (an appended line, say) is left as it
	 * was, its pages cached */
	off_t last = size > 0 ? (size - 1) / DEDUPE_MAX * DEDUPE_MAX : 0;
	int r = dedupe_span(src, dst, last, size);
	return r != 0 ? r : dedupe_span(src, dst, 0, last);
}

static enum outcome do_reflink(struct walk *w, int dfd, int rfd, off_t size)
{
	if (vs_same_extents(dfd, rfd))
		return ALREADY;
	if (w->o->dry_run)
		return same_bytes(w, dfd, rfd) == 1 ? LINKED : DIFFERENT;
	int r = vs_dedupe_equal(rfd, dfd, size);
	return r == 0 ? LINKED : r == 1 ? DIFFERENT : FAILED;
}

void vs_unlink_shared(int dirfd, const char *name)
{
	int fd = openat(dirfd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool imm = fd >= 0 && vs_is_immutable(fd);
	if (imm)
		vs_set_immutable(fd, false);
	unlinkat(dirfd, name, 0);
	struct stat after;
	if (imm && fstat(fd, &after) == 0 && after.st_nlink > 1)
		vs_set_immutable(fd, true); /* still shared */
	if (fd >= 0)
		close(fd);
}

bool vs_lease_read(int fd)
{
	static bool ignoring;
	if (!ignoring) { /* a lease break notifies us: nothing to do then */
		struct sigaction ign = {.sa_handler = SIG_IGN};
		sigaction(SIGIO, &ign, NULL);
		ignoring = true;
	}
	return fcntl(fd, F_SETLEASE, F_RDLCK) == 0;
}

void vs_lease_end(int fd)
{
	fcntl(fd, F_SETLEASE, F_UNLCK);
}

int vs_set_immutable(int fd, bool on)
{
	int flags;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return -1;
	int want = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
	return want == flags ? 0 : ioctl(fd, FS_IOC_SETFLAGS, &want);
}

bool vs_is_immutable(int fd)
{
	int flags;
	return ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	       (flags & FS_IMMUTABLE_FL);
}

unsigned vs_share_flags(int fd)
{
	int flags;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
		return 0;
	return (unsigned)flags & (FS_FL_USER_MODIFIABLE & ~FS_IMMUTABLE_FL);
}

bool vs_same_meta(int a, const struct stat *as, int b, const struct stat *bs,
		  bool ignore_mtime)
{
	return as->st_mode == bs->st_mode && as->st_uid == bs->st_uid &&
	       as->st_gid == bs->st_gid &&
	       (ignore_mtime ||
		(as->st_mtim.tv_sec == bs->st_mtim.tv_sec &&
		 as->st_mtim.tv_nsec == bs->st_mtim.tv_nsec)) &&
	       vs_share_flags(a) == vs_share_flags(b) && vs_same_xattrs(a, b);
}

bool vs_lease_broken(int fd)
{
	return fcntl(fd, F_GETLEASE) != F_RDLCK;
}

int vs_swap_leased(int dirfd, const char *tmp, const char *name, int fd,
		   bool leased)
{
	if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) < 0) {
		if (errno != EINVAL)
			return -1;
		return renameat(dirfd, tmp, dirfd, name);
	}
	if (leased && vs_lease_broken(fd)) {
		renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE);
		unlinkat(dirfd, tmp, 0);
		return 1;
	}
	unlinkat(dirfd, tmp, 0); /* the original, now without a name */
	return 0;
}

/* vs_swap_leased as an outcome. */
static enum outcome swap_in(int dirfd, const char *tmp, const char *name,
			    int dfd)
{
	int r = vs_swap_leased(dirfd, tmp, name, dfd, true);
	return r < 0 ? FAILED : r ? CHANGED : LINKED;
}

static enum outcome hardlink_leased(struct walk *w, int dirfd,
				    const char *name, int dfd,
				    const struct stat *ds, int rdir,
				    const char *rname, int rfd,
				    const struct stat *rs)
{
	int eq = same_bytes(w, dfd, rfd);
	if (eq < 0)
		return FAILED;
	if (!eq)
		return DIFFERENT;
	/* an inode with names the run does not know of (a host file linked
	 * into the reference, say) is never shared nor made immutable; an
	 * immutable one with several names is already a shared one */
	if (rs->st_nlink > 1 && !vs_is_immutable(rfd))
		return LINKS;
	if (w->o->dry_run)
		return LINKED;
	/* the temporary name tells the next run whose it is: a link to the
	 * reference's file of the same name (a guest cannot make one) */
	char tmp[NAME_MAX + 1];
	if (snprintf(tmp, sizeof(tmp), VS_UNIFY_TMP "%s", name) >=
	    (int)sizeof(tmp))
		return DIFFERENT; /* a name too long to have a temporary one */
	/* while the shared inode is writable, a read lease keeps writers
	 * out (an opener waits, then finds it immutable again) */
	if (!vs_lease_read(rfd))
		return CHANGED; /* somebody has it open for writing */
	enum outcome oc = FAILED;
	bool was_immutable = vs_is_immutable(rfd);
	if (was_immutable && vs_set_immutable(rfd, false) < 0) {
		vs_lease_end(rfd);
		return FAILED;
	}
	w->touched = true; /* the directory's times go back at its end */
	int r = linkat(rdir, rname, dirfd, tmp, 0);
	if (r < 0 && errno == EEXIST) {
		struct stat old;
		if (fstatat(dirfd, tmp, &old, AT_SYMLINK_NOFOLLOW) == 0 &&
		    old.st_ino == rs->st_ino && old.st_dev == rs->st_dev &&
		    unlinkat(dirfd, tmp, 0) == 0)
			r = linkat(rdir, rname, dirfd, tmp, 0);
		else
			errno = EEXIST;
	}
	if (r == 0) {
		/* the destination must not have changed since it was
		 * compared, nor be wanted by a writer */
		struct stat now;
		if (fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now.st_ino != ds->st_ino || now.st_dev != ds->st_dev ||
		    now.st_mtim.tv_sec != ds->st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != ds->st_mtim.tv_nsec ||
		    now.st_size != ds->st_size || vs_lease_broken(dfd)) {
			unlinkat(dirfd, tmp, 0);
			oc = CHANGED;
		} else {
			oc = swap_in(dirfd, tmp, name, dfd);
			if (oc == FAILED)
				unlinkat(dirfd, tmp, 0);
		}
	}
	int e = errno;
	if (vs_set_immutable(rfd, true) < 0 && oc == LINKED)
		vs_warn(w->ctx, "cannot make a shared file immutable: %s",
			strerror(errno));
	vs_lease_end(rfd);
	errno = e;
	return oc;
}

/* Replaces the destination (dirfd/name, open as dfd) by a link to the
 * reference's equal file.  The destination is under a read lease from
 * its comparison to its replacement: a writer that had it open already
 * makes it CHANGED, one that opens it meanwhile waits and then finds the
 * file untouched, its write never lost to a replaced inode. */
static enum outcome do_hardlink(struct walk *w, int dirfd, const char *name,
				int dfd, const struct stat *ds, int rdir,
				const char *rname, int rfd,
				const struct stat *rs)
{
	if (ds->st_dev != rs->st_dev ||
	    !vs_same_meta(dfd, ds, rfd, rs, w->o->ignore_mtime))
		return DIFFERENT;
	if (!w->o->dry_run && !vs_lease_read(dfd))
		return CHANGED; /* somebody has it open for writing */
	enum outcome oc = hardlink_leased(w, dirfd, name, dfd, ds, rdir, rname,
					  rfd, rs);
	int e = errno;
	if (!w->o->dry_run)
		vs_lease_end(dfd);
	errno = e;
	return oc;
}

static bool stale_tmp(struct walk *w, int dirfd, const char *tmp,
		      const struct stat *st, const int *refdirs);

/* The temporary name an interrupted run left for name, if any, gone (it
 * links the reference's file, which then seems to have other names):
 * true when one was removed.  readdir may list it after name. */
static bool clear_own_tmp(struct walk *w, int dirfd, const char *name,
			  const int *refdirs)
{
	char tmp[NAME_MAX + 1];
	struct stat st;
	return snprintf(tmp, sizeof(tmp), VS_UNIFY_TMP "%s", name) <
		       (int)sizeof(tmp) &&
	       fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISREG(st.st_mode) && stale_tmp(w, dirfd, tmp, &st, refdirs);
}

/* Links one regular file to the first reference that has it equal. */
static void unify_file(struct walk *w, int dirfd, const char *name,
		       const char *path, const struct stat *ds,
		       const int *refdirs, const bool *ref_inside)
{
	w->st->examined++;
	if (w->o->progress && w->st->examined % 500 == 0)
		fprintf(stderr, "\rvs: unify: %llu files examined, %llu linked",
			w->st->examined, w->st->linked);
	int dfd = -1;
	bool found = false, retried = false;
	for (size_t k = 0; k < w->nrefs; k++) {
		if (refdirs[k] < 0 ||
		    vs_excl_match(&w->refs[k].excl, path, false, ref_inside[k]) ==
			    VS_EXCLUDED)
			continue;
		struct stat rs;
		if (fstatat(refdirs[k], name, &rs, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(rs.st_mode))
			continue;
		found = true;
		if (rs.st_dev == ds->st_dev && rs.st_ino == ds->st_ino) {
			skip(w, path, VS_SKIP_ALREADY, NULL);
			goto out;
		}
		if (rs.st_size != ds->st_size)
			continue;
		if (dfd < 0) {
			dfd = openat(dirfd, name,
				     O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_CLOEXEC);
			struct stat cs;
			if (dfd < 0 || fstat(dfd, &cs) < 0 ||
			    cs.st_ino != ds->st_ino || !S_ISREG(cs.st_mode)) {
				skip(w, path, VS_SKIP_CHANGED, NULL);
				goto out;
			}
		}
		int rfd = openat(refdirs[k], name,
				 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		struct stat crs;
		if (rfd < 0 || fstat(rfd, &crs) < 0 || crs.st_ino != rs.st_ino) {
			if (rfd >= 0)
				close(rfd);
			continue;
		}
		enum outcome oc =
			w->o->link == VS_LINK_REFLINK
				? do_reflink(w, dfd, rfd, ds->st_size)
				: do_hardlink(w, dirfd, name, dfd, ds, refdirs[k],
					      name, rfd, &rs);
		int e = errno;
		close(rfd);
		if (oc == LINKED) {
			say_action(w, "unifying  ", path, &w->refs[k]);
			w->st->linked++;
			w->st->bytes_saved += (unsigned long long)ds->st_size;
			goto out;
		}
		if (oc == ALREADY) {
			skip(w, path, VS_SKIP_ALREADY, NULL);
			goto out;
		}
		if (oc == CHANGED) {
			skip(w, path, VS_SKIP_CHANGED, NULL);
			goto out;
		}
		if (oc == LINKS && !retried && !w->o->dry_run &&
		    clear_own_tmp(w, dirfd, name, refdirs)) {
			retried = true;
			k--; /* this reference again (wraps, then back to k) */
			continue;
		}
		if (oc == LINKS) {
			skip(w, path, VS_SKIP_LINKS, NULL);
			if (w->o->verbose < 2)
				vs_warn(w->ctx,
					"not unifying '%s%s': the reference's "
					"file has other hard links",
					w->dst->root, path);
			goto out;
		}
		if (oc == FAILED) {
			w->st->errors++;
			vs_warn(w->ctx, "cannot unify '%s%s': %s", w->dst->root,
				path, strerror(e));
			goto out;
		}
	}
	skip(w, path, found ? VS_SKIP_DIFFERENT : VS_SKIP_MISSING, NULL);
out:
	if (dfd >= 0)
		close(dfd);
}

/* A temporary name left by an interrupted run: a link to the
 * reference's file of the same name (remove it, the inode lives on), or
 * the original of a file the run had just shared (vs_stale_original). */
static bool stale_tmp(struct walk *w, int dirfd, const char *tmp,
		      const struct stat *st, const int *refdirs)
{
	const char *base = tmp + strlen(VS_UNIFY_TMP);
	struct stat ns;
	bool have_name = fstatat(dirfd, base, &ns, AT_SYMLINK_NOFOLLOW) == 0;
	for (size_t k = 0; k < w->nrefs; k++) {
		struct stat rs;
		if (refdirs[k] < 0 ||
		    fstatat(refdirs[k], base, &rs, AT_SYMLINK_NOFOLLOW) < 0 ||
		    rs.st_dev != st->st_dev)
			continue;
		if (rs.st_ino == st->st_ino && st->st_nlink > 1) {
			if (!w->o->dry_run) {
				vs_unlink_shared(dirfd, tmp);
				w->touched = true;
			}
			return true;
		}
		if (have_name && ns.st_ino == rs.st_ino &&
		    vs_stale_original(dirfd, tmp, st, &ns, w->o->dry_run)) {
			w->touched |= !w->o->dry_run;
			return true;
		}
	}
	return false;
}

static void walk_dir(struct walk *w, int dirfd, const char *dirpath,
		     bool inside, const int *refdirs, const bool *ref_inside,
		     int depth)
{
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return;
	/* its times, put back when an entry was replaced */
	struct stat before;
	bool have_times = fstat(dirfd, &before) == 0, outer = w->touched;
	w->touched = false;
	struct dirent *e;
	size_t n = w->nrefs;
	int *sub = vs_xmalloc((n + 1) * sizeof(*sub));
	bool *subin = vs_xmalloc((n + 1) * sizeof(*subin));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *path = vs_asprintf("%s/%s", dirpath, e->d_name);
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			free(path);
			continue;
		}
		if (!strncmp(e->d_name, VS_UNIFY_TMP, strlen(VS_UNIFY_TMP)) &&
		    S_ISREG(st.st_mode) &&
		    stale_tmp(w, dirfd, e->d_name, &st, refdirs)) {
			free(path);
			continue;
		}
		enum vs_excl_verdict v = vs_excl_match(
			&w->dst->excl, path, S_ISDIR(st.st_mode), inside);
		if (v == VS_EXCLUDED) {
			skip(w, path, VS_SKIP_EXCLUDED, NULL);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != w->dev) {
				skip(w, path, VS_SKIP_OTHERFS, NULL);
			} else if (depth < 256) {
				int fd = openat(dirfd, e->d_name,
						O_RDONLY | O_DIRECTORY |
							O_NOFOLLOW | O_CLOEXEC);
				struct stat cs;
				if (fd < 0 || fstat(fd, &cs) < 0 ||
				    cs.st_ino != st.st_ino ||
				    cs.st_dev != st.st_dev) {
					skip(w, path, VS_SKIP_CHANGED, NULL);
				} else {
					bool any = false;
					for (size_t k = 0; k < n; k++) {
						sub[k] = -1;
						subin[k] = ref_inside[k];
						if (refdirs[k] < 0)
							continue;
						enum vs_excl_verdict rv =
							vs_excl_match(
								&w->refs[k].excl,
								path, true,
								ref_inside[k]);
						if (rv == VS_EXCLUDED)
							continue;
						subin[k] = rv ==
								   VS_DESCEND_EXCLUDED ||
							   ref_inside[k];
						sub[k] = openat(
							refdirs[k], e->d_name,
							O_RDONLY | O_DIRECTORY |
								O_NOFOLLOW |
								O_CLOEXEC);
						any |= sub[k] >= 0;
					}
					if (any)
						walk_dir(w, fd, path,
							 v == VS_DESCEND_EXCLUDED ||
								 inside,
							 sub, subin, depth + 1);
					else
						skip(w, path, VS_SKIP_MISSING, NULL);
					for (size_t k = 0; k < n; k++)
						if (sub[k] >= 0)
							close(sub[k]);
				}
				if (fd >= 0)
					close(fd);
			}
		} else if (S_ISLNK(st.st_mode)) {
			skip(w, path, VS_SKIP_SYMLINK, NULL);
		} else if (!S_ISREG(st.st_mode)) {
			skip(w, path, VS_SKIP_SPECIAL, NULL);
		} else {
			unify_file(w, dirfd, e->d_name, path, &st, refdirs,
				   ref_inside);
		}
		free(path);
	}
	free(sub);
	free(subin);
	closedir(d);
	if (w->touched && have_times) {
		struct timespec ts[2] = {before.st_atim, before.st_mtim};
		futimens(dirfd, ts);
	}
	w->touched = outer;
}

/* A walk over dst (its file system is the one walked); NULL with the
 * error set. */
static struct walk *walk_new(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
			     const struct vs_unify_opts *o,
			     struct vs_unify_stats *st)
{
	struct stat ds;
	if (fstat(dst->rootfd, &ds) < 0) {
		vs_set_errno(ctx, errno, "cannot stat '%s'", dst->root);
		return NULL;
	}
	struct walk *w = calloc(1, sizeof(*w));
	if (!w)
		abort();
	w->ctx = ctx;
	w->dst = dst;
	w->o = o;
	w->st = st;
	w->dev = ds.st_dev;
	return w;
}

int vs_unify_link_mode(int dst_rootfd, int ref_rootfd)
{
	struct statfs a, b;
	struct stat sa, sb;
	if (fstatfs(dst_rootfd, &a) < 0 || fstatfs(ref_rootfd, &b) < 0 ||
	    fstat(dst_rootfd, &sa) < 0 || fstat(ref_rootfd, &sb) < 0)
		return VS_LINK_HARDLINK;
	/* filesystems with shared extents: XFS, btrfs, bcachefs, OCFS2 */
	static const long reflinkable[] = {0x58465342, 0x9123683E, 0xca451a4e,
					   0x7461636f};
	(void)sa;
	(void)sb;
	if (a.f_type != b.f_type)
		return VS_LINK_HARDLINK;
	for (size_t i = 0; i < sizeof(reflinkable) / sizeof(*reflinkable); i++)
		if (a.f_type == reflinkable[i])
			return VS_LINK_REFLINK;
	return VS_LINK_HARDLINK;
}

int vs_unify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		 const struct vs_unify_tree *refs, size_t nrefs,
		 const struct vs_unify_opts *o, struct vs_unify_stats *st)
{
	struct walk *w = walk_new(ctx, dst, o, st);
	if (!w)
		return -1;
	w->refs = refs;
	w->nrefs = nrefs;
	int *rd = vs_xmalloc((nrefs + 1) * sizeof(*rd));
	bool *ri = vs_xmalloc((nrefs + 1) * sizeof(*ri));
	for (size_t k = 0; k < nrefs; k++) {
		rd[k] = refs[k].rootfd;
		ri[k] = false;
	}
	walk_dir(w, dst->rootfd, "", false, rd, ri, 0);
	if (o->progress && st->examined >= 500)
		fputs("\r\033[K", stderr);
	free(rd);
	free(ri);
	free(w);
	fflush(stdout);
	return 0;
}

/* ---- deunify ---------------------------------------------------------- */

/* Copies src (open) to a new file dirfd/tmp with its owner, mode, times,
 * extended attributes and holes. */
static int private_copy(int src, int dirfd, const char *tmp,
			const struct stat *st, char *buf, size_t size)
{
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
					   O_CLOEXEC,
			0600);
	if (fd < 0)
		return -1;
	off_t off = 0;
	int r = 0;
	while (r == 0 && off < st->st_size) {
		off_t data = lseek(src, off, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* a hole up to the end */
			data = off;
		}
		off_t hole = lseek(src, data, SEEK_HOLE);
		if (hole < 0)
			hole = st->st_size;
		for (off_t p = data; p < hole && r == 0;) {
			size_t want = (size_t)(hole - p) < size ? (size_t)(hole - p)
								: size;
			ssize_t n = pread(src, buf, want, p);
			if (n <= 0) {
				r = -1;
				break;
			}
			if (pwrite(fd, buf, (size_t)n, p) != n)
				r = -1;
			p += n;
		}
		off = hole;
	}
	char names[8192];
	ssize_t nl = r == 0 ? flistxattr(src, names, sizeof(names)) : -1;
	for (char *n = names; nl > 0 && n < names + nl; n += strlen(n) + 1) {
		char v[4096];
		if (!strncmp(n, VS_XATTR_PREFIX, strlen(VS_XATTR_PREFIX)))
			continue; /* the digest cache belongs to the old inode */
		ssize_t vl = fgetxattr(src, n, v, sizeof(v));
		if (vl >= 0 && fsetxattr(fd, n, v, (size_t)vl, 0) < 0 &&
		    strncmp(n, "security.capability", 19) != 0)
			r = -1;
	}
	struct timespec ts[2] = {st->st_atim, st->st_mtim};
	if (r == 0 && (ftruncate(fd, st->st_size) < 0 ||
		       fchown(fd, st->st_uid, st->st_gid) < 0 ||
		       fchmod(fd, st->st_mode & 07777) < 0 ||
		       futimens(fd, ts) < 0))
		r = -1;
	/* capabilities go last: fchown drops them */
	if (r == 0 && nl > 0) {
		char v[4096];
		ssize_t vl = fgetxattr(src, "security.capability", v, sizeof(v));
		if (vl > 0 &&
		    fsetxattr(fd, "security.capability", v, (size_t)vl, 0) < 0)
			r = -1;
	}
	int e = errno;
	if (close(fd) < 0)
		r = -1;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		errno = e;
	}
	return r;
}

static void deunify_dir(struct walk *w, int dirfd, const char *dirpath,
			int depth)
{
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *path = vs_asprintf("%s/%s", dirpath, e->d_name);
		if (S_ISDIR(st.st_mode) && st.st_dev == w->dev && depth < 256) {
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			struct stat cs;
			if (fd >= 0 && fstat(fd, &cs) == 0 &&
			    cs.st_ino == st.st_ino)
				deunify_dir(w, fd, path, depth + 1);
			if (fd >= 0)
				close(fd);
		} else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			vs_deunify_file(w->ctx, dirfd, e->d_name, path, w->o,
					w->st, w->buf1, sizeof(w->buf1));
		}
		free(path);
	}
	closedir(d);
}

int vs_deunify_file(struct vs_ctx *ctx, int dirfd, const char *name,
		    const char *path, const struct vs_unify_opts *o,
		    struct vs_unify_stats *st, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					     O_CLOEXEC);
	struct stat s;
	if (fd < 0 || fstat(fd, &s) < 0 || !S_ISREG(s.st_mode) ||
	    s.st_nlink < 2 || !vs_is_immutable(fd)) {
		if (fd >= 0)
			close(fd);
		return 0; /* not a unified file */
	}
	st->examined++;
	if (o->dry_run || o->verbose >= 2)
		printf("deunifying '%s'\n", path);
	if (o->dry_run) {
		close(fd);
		st->linked++;
		return 0;
	}
	char tmp[64];
	int r = -1;
	struct stat ds; /* the directory's times are put back afterwards */
	bool dir_times = fstat(dirfd, &ds) == 0;
	for (int i = 0; i < 100 && r < 0; i++) {
		snprintf(tmp, sizeof(tmp), ".vs-deunify-tmp.%d.%d",
			 (int)getpid(), i);
		r = private_copy(fd, dirfd, tmp, &s, buf, size);
		if (r < 0 && errno != EEXIST)
			break;
	}
	if (r == 0) {
		/* the shared inode is immutable: it cannot be renamed over
		 * until the flag is off; it goes back on for the others.
		 * Meanwhile a read lease keeps writers out. */
		bool leased = vs_lease_read(fd);
		vs_set_immutable(fd, false);
		r = renameat(dirfd, tmp, dirfd, name);
		int e = errno;
		if (r < 0)
			unlinkat(dirfd, tmp, 0);
		/* still shared: immutable again; its last name is a private
		 * file again, writable as before it was shared */
		struct stat after;
		if (fstat(fd, &after) == 0 && after.st_nlink > 1)
			vs_set_immutable(fd, true);
		if (leased)
			vs_lease_end(fd);
		errno = e;
	}
	if (r < 0) {
		st->errors++;
		vs_warn(ctx, "cannot deunify '%s': %s", path, strerror(errno));
	} else {
		st->linked++;
	}
	if (dir_times) {
		struct timespec ts[2] = {ds.st_atim, ds.st_mtim};
		futimens(dirfd, ts);
	}
	close(fd);
	return r;
}

int vs_deunify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		   const struct vs_unify_opts *o, struct vs_unify_stats *st)
{
	return vs_deunify_paths(ctx, dst, NULL, o, st);
}

int vs_deunify_paths(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		     char *const *paths, const struct vs_unify_opts *o,
		     struct vs_unify_stats *st)
{
	struct walk *w = walk_new(ctx, dst, o, st);
	if (!w)
		return -1;
	int r = 0;
	if (!paths || !paths[0])
		deunify_dir(w, dst->rootfd, "", 0);
	for (char *const *p = paths; p && *p && r == 0; p++) {
		/* a guest path, resolved below the root without following
		 * any symlink of the guest */
		struct open_how how = {
			.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
				   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
		};
		const char *rel = *p;
		while (*rel == '/')
			rel++;
		char *dir = vs_strdup(*rel ? rel : ".");
		char *slash = strrchr(dir, '/');
		const char *name = slash ? slash + 1 : dir;
		if (slash)
			*slash = '\0';
		int pfd = (int)syscall(SYS_openat2, dst->rootfd,
				       slash ? dir : ".", &how, sizeof(how));
		struct stat s;
		if (pfd < 0 || fstatat(pfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0) {
			r = vs_set_errno(ctx, pfd < 0 ? errno : errno,
					 "cannot deunify '%s'", *p);
		} else if (S_ISDIR(s.st_mode)) {
			int fd = openat(pfd, name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			if (fd >= 0) {
				char *shown = vs_asprintf("/%s", rel);
				if (!strcmp(shown, "/"))
					shown[0] = '\0';
				deunify_dir(w, fd, shown, 0);
				free(shown);
				close(fd);
			}
		} else if (S_ISREG(s.st_mode)) {
			int ofd = openat(pfd, ".", O_RDONLY | O_DIRECTORY |
							   O_CLOEXEC);
			char *shown = vs_asprintf("/%s", rel);
			if (ofd >= 0) {
				vs_deunify_file(ctx, ofd, name, shown, o, st,
						w->buf1, sizeof(w->buf1));
				close(ofd);
			}
			free(shown);
		} else {
			r = vs_set_error(ctx,
					 "cannot deunify '%s': not a regular "
					 "file or directory",
					 *p);
		}
		if (pfd >= 0)
			close(pfd);
		free(dir);
	}
	free(w);
	fflush(stdout);
	return r;
}
