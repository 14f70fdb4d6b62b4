/* fd-relative file helpers that never follow symlinks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/base.h"

char *vs_read_fd(int fd, size_t max, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		return NULL;
	}
	size_t cap = 256, n = 0;
	char *buf = vs_xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = vs_xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		free(buf);
		errno = EFBIG;
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *vs_read_fd_stream(int fd, size_t max)
{
	size_t cap = 4096, n = 0;
	char *buf = vs_xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			if (cap > max)
				break;
			buf = vs_xrealloc(buf, cap *= 2);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return buf;
}

size_t vs_read_msg(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t k;
	while (n < size - 1 && ((k = read(fd, buf + n, size - 1 - n)) > 0 ||
				(k < 0 && errno == EINTR)))
		if (k > 0)
			n += (size_t)k;
	buf[n] = '\0';
	return n;
}

bool vs_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

int vs_write_at(int dirfd, const char *name, const char *data, size_t len,
		mode_t mode)
{
	int fd = openat(dirfd, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			mode);
	if (fd < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, data, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			unlinkat(dirfd, name, 0);
			errno = e;
			return -1;
		}
		data += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0) {
		int e = errno;
		unlinkat(dirfd, name, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int vs_replace_at(int dirfd, const char *name, const char *data, size_t len,
		  mode_t mode)
{
	char tmp[NAME_MAX + 1];
	snprintf(tmp, sizeof(tmp), ".%.200s.vs%ld", name, (long)getpid());
	unlinkat(dirfd, tmp, 0);
	int r = vs_write_at(dirfd, tmp, data, len, mode);
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -1;
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
	}
	return r;
}

int vs_mkdir_p_at(int dirfd, const char *rel, mode_t mode)
{
	char buf[PATH_MAX];
	int fd = dup(dirfd);
	if (fd < 0)
		return -1;
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		if (mkdirat(fd, c, mode) < 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		int nfd = openat(fd, c,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
		int e = errno;
		close(fd);
		if (nfd < 0) {
			errno = e == ELOOP ? ENOTDIR : e;
			return -1;
		}
		fd = nfd;
	}
	close(fd);
	return 0;
}

static char rm_failed[PATH_MAX];
static bool rm_shared_ok;

/* An immutable (or append-only) file (a guest's own, or a unified one
 * shared with other guests): its flag goes off for the unlink and, while the inode stays
 * shared (two names or more), back on; the last name is a private file
 * again, writable as before it was shared. */
static int unlink_immutable(int parent, const char *name, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || (st->st_nlink > 1 && !rm_shared_ok)) {
		errno = EPERM;
		return -1;
	}
	int fd = openat(parent, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					      O_CLOEXEC);
	int flags;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 ||
	    !(flags & (FS_IMMUTABLE_FL | FS_APPEND_FL))) {
		if (fd >= 0)
			close(fd);
		errno = EPERM;
		return -1;
	}
	int off = flags & ~(FS_IMMUTABLE_FL | FS_APPEND_FL);
	int r = ioctl(fd, FS_IOC_SETFLAGS, &off);
	if (r == 0)
		r = unlinkat(parent, name, 0);
	int e = errno;
	struct stat after;
	if (fstat(fd, &after) == 0 && after.st_nlink > 1)
		ioctl(fd, FS_IOC_SETFLAGS, &flags);
	close(fd);
	errno = e;
	return r;
}

void vs_rm_allow_shared(bool allow)
{
	rm_shared_ok = allow;
}

static int rm_tree(int parent, const char *name, dev_t dev, int depth)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) < 0 && errno != ENOENT &&
		    (errno != EPERM || unlink_immutable(parent, name, &st) < 0)) {
			snprintf(rm_failed, sizeof(rm_failed), "%s", name);
			return -1;
		}
		return 0;
	}
	if (st.st_dev != dev || depth > 4096) {
		/* a mount point or absurd depth: never descend */
		snprintf(rm_failed, sizeof(rm_failed), "%s", name);
		errno = EXDEV;
		return -1;
	}
	int fd = openat(parent, name,
			O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(rm_failed, sizeof(rm_failed), "%s", name);
		return -1;
	}
	struct stat st2;
	if (fstat(fd, &st2) < 0 || st2.st_ino != st.st_ino ||
	    st2.st_dev != st.st_dev) {
		close(fd);
		snprintf(rm_failed, sizeof(rm_failed), "%s", name);
		errno = ESTALE;
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (rm_tree(dirfd(d), e->d_name, dev, depth + 1) < 0) {
			r = -1;
			break;
		}
	}
	int err = errno;
	closedir(d);
	if (r < 0) {
		errno = err;
		return -1;
	}
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		snprintf(rm_failed, sizeof(rm_failed), "%s", name);
		return -1;
	}
	return 0;
}

int vs_rm_rf_at(int dirfd, const char *name, const char **failed)
{
	struct stat st;
	rm_failed[0] = '\0';
	if (failed)
		*failed = rm_failed;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return rm_tree(dirfd, name, st.st_dev, 0);
}

int vs_copy_fd_at(int srcfd, int dirfd, const char *name, mode_t mode)
{
	int fd = openat(dirfd, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			mode);
	if (fd < 0)
		return -1;
	char buf[65536];
	for (;;) {
		ssize_t r = read(srcfd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				goto fail;
			break;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				goto fail;
			}
			off += w;
		}
	}
	if (fchmod(fd, mode) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:;
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, name, 0);
	errno = e;
	return -1;
}

void vs_first_line(char *s)
{
	s[strcspn(s, "\n")] = '\0';
}

const char *vs_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

char *vs_path_join(const char *a, const char *b)
{
	size_t n = strlen(a);
	while (n > 1 && a[n - 1] == '/')
		n--;
	while (*b == '/')
		b++;
	if (n == 1 && a[0] == '/')
		return vs_asprintf("/%s", b);
	if (!*b)
		return vs_asprintf("%.*s", (int)n, a);
	return vs_asprintf("%.*s/%s", (int)n, a, b);
}

/* Undoes the octal escapes of /proc/self/mountinfo in place. */
static void unescape_mountinfo(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

DIR *vs_opendir_fd(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	if (!d && dup >= 0) {
		int e = errno;
		close(dup);
		errno = e;
	}
	return d;
}

char *vs_mount_below(const char *dir)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0, n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	while (f && !found && getline(&line, &cap, f) > 0) {
		char mnt[PATH_MAX];
		/* id parent major:minor root mountpoint ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_mountinfo(mnt);
		if (strncmp(mnt, dir, n) == 0 && mnt[n] == '/')
			found = vs_strdup(mnt);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

/* Counts the files below dirfd/name that share an immutable inode with
 * other names (unified files); stops at the first when stop_at_one. */
static size_t count_shared(int dirfd, dev_t dev, int depth)
{
	size_t n = 0;
	DIR *d = fdopendir(dup(dirfd));
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < 4096) {
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			if (fd >= 0) {
				n += count_shared(fd, dev, depth + 1);
				close(fd);
			}
		} else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						O_CLOEXEC);
			int flags;
			if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
			    (flags & FS_IMMUTABLE_FL))
				n++;
			if (fd >= 0)
				close(fd);
		}
		if (n)
			break;
	}
	if (d)
		closedir(d);
	return n;
}

bool vs_has_shared_files(int dirfd)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return false;
	return count_shared(dirfd, st.st_dev, 0) > 0;
}

int vs_split_fields(char *line, char sep, char **f, int max)
{
	int n = 0;
	line[strcspn(line, "\n")] = '\0';
	for (char *p = line; n < max;) {
		f[n++] = p;
		p = strchr(p, sep);
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}
