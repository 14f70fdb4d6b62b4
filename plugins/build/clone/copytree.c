/* A faithful copy of a tree (rsync -aHAXS --numeric-ids): contents by
 * reflink where the file system can (else copied with its holes), owners
 * by number, modes, nanosecond times, every extended attribute (file
 * capabilities and ACLs included), file flags, hard links, symlinks,
 * devices, FIFOs and sockets.  A file a unification shares (immutable,
 * more than one link) gets one more name instead of a copy, so it stays
 * shared.  The source is walked with directory descriptors and never
 * through a symlink: a guest's tree is the guest's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copytree.h"

static const char *fdpath(int fd, const char *name, char *buf, size_t size)
{
	if (name)
		snprintf(buf, size, "/proc/self/fd/%d/%s", fd, name);
	else
		snprintf(buf, size, "/proc/self/fd/%d", fd);
	return buf;
}

/* Every extended attribute of src (an fd, or dirfd/name for what cannot
 * be opened) onto dst likewise. */
static int copy_xattrs(int sfd, const char *sname, int dfd, const char *dname)
{
	char sp[PATH_MAX], dp[PATH_MAX];
	if (sname)
		fdpath(sfd, sname, sp, sizeof(sp));
	if (dname)
		fdpath(dfd, dname, dp, sizeof(dp));
	ssize_t n = sname ? llistxattr(sp, NULL, 0) : flistxattr(sfd, NULL, 0);
	if (n <= 0)
		return n < 0 && errno != ENOTSUP && errno != EPERM ? -1 : 0;
	char *list = vs_xmalloc((size_t)n);
	n = sname ? llistxattr(sp, list, (size_t)n) : flistxattr(sfd, list, (size_t)n);
	int r = n < 0 ? -1 : 0;
	for (char *k = list; r == 0 && k < list + (n > 0 ? n : 0);
	     k += strlen(k) + 1) {
		ssize_t vl = sname ? lgetxattr(sp, k, NULL, 0)
				   : fgetxattr(sfd, k, NULL, 0);
		if (vl < 0) {
			r = -1;
			break;
		}
		char *v = vs_xmalloc((size_t)vl + 1);
		vl = sname ? lgetxattr(sp, k, v, (size_t)vl)
			   : fgetxattr(sfd, k, v, (size_t)vl);
		if (vl < 0 ||
		    (dname ? lsetxattr(dp, k, v, (size_t)vl, 0)
			   : fsetxattr(dfd, k, v, (size_t)vl, 0)) < 0)
			r = -1;
		free(v);
	}
	free(list);
	return r;
}

/* Owner, xattrs (after chown, which drops file capabilities), mode (after
 * chown, which drops set-id bits), times, then the file flags (an
 * immutable file takes no times). */
static int copy_meta(int sfd, int dfd, const struct stat *st)
{
	int flags = 0;
	/* a unification's shared file copied (not linked) is private now:
	 * writable again, as deunify leaves it */
	bool was_shared = S_ISREG(st->st_mode) && st->st_nlink > 1;
	if (fchown(dfd, st->st_uid, st->st_gid) < 0 ||
	    copy_xattrs(sfd, NULL, dfd, NULL) < 0 ||
	    fchmod(dfd, st->st_mode & 07777) < 0)
		return -1;
	struct timespec t[2] = {st->st_atim, st->st_mtim};
	if (futimens(dfd, t) < 0)
		return -1;
	/* the flags an administrator sets (chattr's), onto what the target
	 * file system keeps of its own (ext4's extents flag, say) */
	const int portable = FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL |
			     FS_NOATIME_FL | FS_SYNC_FL | FS_DIRSYNC_FL |
			     FS_PROJINHERIT_FL;
	int dflags = 0;
	if (ioctl(sfd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    ioctl(dfd, FS_IOC_GETFLAGS, &dflags) < 0)
		return 0; /* a file system without flags */
	if (was_shared)
		flags &= ~FS_IMMUTABLE_FL;
	int want = (dflags & ~portable) | (flags & portable);
	if (want != dflags && ioctl(dfd, FS_IOC_SETFLAGS, &want) < 0)
		return -1;
	return 0;
}

/* The data: a reflink, else the data ranges copied (holes stay holes). */
static int copy_data(struct vs_copy *c, int sfd, int dfd, off_t size)
{
	if (ioctl(dfd, FICLONE, sfd) == 0) {
		c->reflinked++;
		return 0;
	}
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(sfd, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				break; /* a hole to the end */
			data = pos;
		}
		off_t hole = lseek(sfd, data, SEEK_HOLE);
		if (hole <= data) /* unknown, or a file system that lies */
			hole = size;
		off_t in = data, out = data;
		while (in < hole) {
			ssize_t k = c->plain ? -1
					     : copy_file_range(sfd, &in, dfd, &out,
							       (size_t)(hole - in),
							       0);
			if (k < 0 && (c->plain || errno == EXDEV ||
				      errno == EOPNOTSUPP || errno == EINVAL ||
				      errno == ENOSYS)) {
				/* another file system: by read and write */
				c->plain = true;
				char buf[1 << 16];
				size_t want = (size_t)(hole - in) < sizeof(buf)
						      ? (size_t)(hole - in)
						      : sizeof(buf);
				k = pread(sfd, buf, want, in);
				if (k > 0 && pwrite(dfd, buf, (size_t)k, out) != k)
					return -1;
				if (k > 0) {
					in += k;
					out += k;
				}
			}
			if (k < 0)
				return -1;
			if (k == 0)
				break; /* shorter than it said */
		}
		if (hole <= pos)
			break;
		pos = hole;
	}
	c->copied++;
	return ftruncate(dfd, size);
}

/* A unification's shared file: one more name for it, under a read lease
 * (no writer can have it open) while its immutable flag is off for the
 * link, as the unify engine does.  1 linked, 0 not possible, -1 error. */
static int link_shared(struct vs_copy *c, int sfd, const char *name, int ddir)
{
	int flags = 0;
	if (ioctl(sfd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    !(flags & FS_IMMUTABLE_FL))
		return 0;
	if (fcntl(sfd, F_SETLEASE, F_RDLCK) < 0)
		return 0; /* a writer has it open: copy it instead */
	int off = flags & ~FS_IMMUTABLE_FL, r = 0;
	if (ioctl(sfd, FS_IOC_SETFLAGS, &off) == 0) {
		char p[64];
		r = linkat(AT_FDCWD, fdpath(sfd, NULL, p, sizeof(p)), ddir,
			   name, AT_SYMLINK_FOLLOW) == 0
			    ? 1
			    : (errno == EXDEV ? 0 : -1);
		int e = errno;
		ioctl(sfd, FS_IOC_SETFLAGS, &flags);
		errno = e;
	}
	fcntl(sfd, F_SETLEASE, F_UNLCK);
	if (r == 1) {
		c->shared++;
		c->shared_names = vs_xrealloc(c->shared_names,
					      (c->nshared + 1) *
						      sizeof(*c->shared_names));
		c->shared_names[c->nshared++] = NULL; /* named by the caller */
	}
	return r;
}

static size_t slot_of(const struct vs_copy *c, ino_t ino)
{
	size_t i = (size_t)(ino * 0x9e3779b97f4a7c15ULL) & (c->cap - 1);
	while (c->links[i].rel && c->links[i].ino != ino)
		i = (i + 1) & (c->cap - 1);
	return i;
}

static struct vs_copy_link *find_link(struct vs_copy *c, const struct stat *st)
{
	if (!c->cap)
		return NULL;
	struct vs_copy_link *l = &c->links[slot_of(c, st->st_ino)];
	return l->rel ? l : NULL;
}

static void add_link(struct vs_copy *c, const struct stat *st,
		     const char *rel, bool immutable)
{
	if (2 * (c->nlinks + 1) > c->cap) { /* grow: at most half full */
		struct vs_copy_link *old = c->links;
		size_t n = c->cap;
		c->cap = c->cap ? 2 * c->cap : 256;
		c->links = calloc(c->cap, sizeof(*c->links));
		if (!c->links)
			abort();
		for (size_t i = 0; i < n; i++)
			if (old[i].rel)
				c->links[slot_of(c, old[i].ino)] = old[i];
		free(old);
	}
	struct vs_copy_link *l = &c->links[slot_of(c, st->st_ino)];
	if (l->rel)
		return;
	l->ino = st->st_ino;
	l->rel = vs_strdup(rel);
	l->nlink = st->st_nlink;
	l->seen = 1;
	l->immutable = immutable;
	c->nlinks++;
}

DIR *clone_opendir(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d && dup >= 0)
		close(dup);
	return d;
}

static int fail(struct vs_copy *c, const char *what, const char *rel)
{
	return vs_set_errno(c->ctx, errno, "clone: cannot %s '%s'", what,
			    rel[0] ? rel : "/");
}

static int copy_entry(struct vs_copy *c, int sdir, int ddir, const char *name,
		      const char *rel, int depth);

static int copy_dir(struct vs_copy *c, int sfd, int dfd, const char *rel,
		    int depth)
{
	DIR *d = clone_opendir(sfd);
	if (!d)
		return fail(c, "read", rel);
	int r = 0;
	struct dirent *e;
	while (r == 0 && (errno = 0, e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *sub = vs_asprintf("%s/%s", rel, e->d_name);
		r = copy_entry(c, sfd, dfd, e->d_name, sub, depth + 1);
		free(sub);
	}
	if (r == 0 && errno)
		r = fail(c, "read", rel);
	closedir(d);
	return r;
}

static int copy_entry(struct vs_copy *c, int sdir, int ddir, const char *name,
		      const char *rel, int depth)
{
	struct stat st;
	if (depth > 4096)
		return errno = ELOOP, fail(c, "copy", rel);
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, "read", rel);
	if (c->skip && c->skip(c, rel, &st))
		return 0;
	if (st.st_dev != c->dev) {
		vs_warn(c->ctx, "clone: '%s' is on another file system: left out",
			rel);
		return 0;
	}
	struct vs_copy_link *l = st.st_nlink > 1 && !S_ISDIR(st.st_mode)
					 ? find_link(c, &st)
					 : NULL;
	if (l) { /* another name of a file copied already */
		if (linkat(c->dstroot, l->rel + 1, ddir, name, 0) < 0)
			return fail(c, "link", rel);
		l->seen++;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		int sfd = openat(sdir, name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0)
			return fail(c, "open", rel);
		int dfd = -1, r;
		if ((mkdirat(ddir, name, 0700) < 0 && errno != EEXIST) ||
		    (dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY |
						      O_NOFOLLOW | O_CLOEXEC)) <
			    0)
			r = fail(c, "make", rel);
		else if ((r = copy_dir(c, sfd, dfd, rel, depth)) == 0 &&
			 copy_meta(sfd, dfd, &st) < 0)
			r = fail(c, "copy the attributes of", rel);
		close(sfd);
		if (dfd >= 0)
			close(dfd);
		return r;
	}
	if (c->replace && unlinkat(ddir, name, 0) < 0 && errno != ENOENT &&
	    errno != EISDIR)
		return fail(c, "replace", rel);
	if (S_ISREG(st.st_mode)) {
		int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat now;
		if (sfd < 0 || fstat(sfd, &now) < 0 || now.st_ino != st.st_ino) {
			if (sfd >= 0)
				close(sfd);
			return errno = errno ? errno : ESTALE,
			       fail(c, "open", rel);
		}
		int r = st.st_nlink > 1 ? link_shared(c, sfd, name, ddir)
					: 0;
		int sflags = 0;
		bool copied = r == 0;
		if (r == 1)
			c->shared_names[c->nshared - 1] = vs_strdup(rel);
		if (r == 0) {
			int dfd = openat(ddir, name,
					 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
						 O_CLOEXEC,
					 0600);
			if (dfd < 0 || copy_data(c, sfd, dfd, st.st_size) < 0)
				r = fail(c, "copy", rel);
			else if (copy_meta(sfd, dfd, &st) < 0)
				r = fail(c, "copy the attributes of", rel);
			if (dfd >= 0)
				close(dfd);
		} else if (r < 0) {
			r = fail(c, "link", rel);
		} else {
			r = 0;
		}
		bool immutable = copied && st.st_nlink > 1 &&
				 ioctl(sfd, FS_IOC_GETFLAGS, &sflags) == 0 &&
				 (sflags & FS_IMMUTABLE_FL);
		close(sfd);
		if (r == 0 && st.st_nlink > 1)
			add_link(c, &st, rel, immutable);
		return r;
	}
	/* symlinks, devices, FIFOs, sockets: made by name */
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return fail(c, "read", rel);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return fail(c, "make", rel);
	} else if (mknodat(ddir, name, st.st_mode & (S_IFMT | 0600),
			   st.st_rdev) < 0) {
		return fail(c, "make", rel);
	}
	struct timespec t[2] = {st.st_atim, st.st_mtim};
	if (fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) <
		    0 ||
	    copy_xattrs(sdir, name, ddir, name) < 0 ||
	    (!S_ISLNK(st.st_mode) &&
	     fchmodat(ddir, name, st.st_mode & 07777, 0) < 0) ||
	    utimensat(ddir, name, t, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(c, "copy the attributes of", rel);
	if (st.st_nlink > 1)
		add_link(c, &st, rel, false);
	return 0;
}

/* An immutable file copied with its flag off (copy_meta: a
 * unification's, shared with other guests, becomes private) whose names
 * were all in the tree was no unification's: its flag back on. */
static int restore_immutable(struct vs_copy *c)
{
	for (size_t i = 0; i < c->cap; i++) {
		const struct vs_copy_link *l = &c->links[i];
		if (!l->rel || !l->immutable || l->seen < l->nlink)
			continue;
		int fd = openat(c->dstroot, l->rel + 1,
				O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int flags = 0;
		int r = fd < 0 ? -1 : ioctl(fd, FS_IOC_GETFLAGS, &flags);
		if (r == 0) {
			flags |= FS_IMMUTABLE_FL;
			r = ioctl(fd, FS_IOC_SETFLAGS, &flags);
		}
		if (r < 0) {
			int e = errno;
			if (fd >= 0)
				close(fd);
			errno = e;
			return fail(c, "copy the attributes of", l->rel);
		}
		close(fd);
	}
	return 0;
}

int vs_copy_tree(struct vs_copy *c, int sfd, int dfd)
{
	struct stat st;
	if (fstat(sfd, &st) < 0)
		return fail(c, "read", "");
	c->dev = st.st_dev;
	c->dstroot = dfd;
	int r = copy_dir(c, sfd, dfd, "", 0);
	if (r == 0)
		r = restore_immutable(c);
	if (r == 0 && copy_meta(sfd, dfd, &st) < 0)
		r = fail(c, "copy the attributes of", "");
	return r;
}

void vs_copy_undo_shared(struct vs_copy *c)
{
	for (size_t i = 0; i < c->nshared; i++) {
		const char *rel = c->shared_names[i];
		int fd = rel ? openat(c->dstroot, rel + 1,
				      O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
			     : -1;
		int flags = 0;
		if (fd < 0)
			continue;
		if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0 &&
		    ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
			int off = flags & ~FS_IMMUTABLE_FL;
			if (ioctl(fd, FS_IOC_SETFLAGS, &off) == 0) {
				unlinkat(c->dstroot, rel + 1, 0);
				ioctl(fd, FS_IOC_SETFLAGS, &flags);
			}
			fcntl(fd, F_SETLEASE, F_UNLCK);
		}
		close(fd);
	}
}

void vs_copy_free(struct vs_copy *c)
{
	for (size_t i = 0; i < c->nshared; i++)
		free(c->shared_names[i]);
	free(c->shared_names);
	c->shared_names = NULL;
	c->nshared = 0;
	for (size_t i = 0; i < c->cap; i++)
		free(c->links[i].rel);
	free(c->links);
	c->links = NULL;
	c->nlinks = c->cap = 0;
}
