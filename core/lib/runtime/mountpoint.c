/* Where a mount of a guest or a container goes: its mount point found
 * inside the root, never outside it (a symlink of the guest's or the
 * image's resolves inside the root, or refuses), and made when the
 * policy says so (a container's, as the runtime-spec asks; a guest's
 * never: a start changes nothing in the guest's root). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* path beneath rootfd without any symlink (O_PATH, a directory). */
static int open_fixed(int rootfd, const char *path)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS};
	while (*path == '/')
		path++;
	int fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how,
			      sizeof(how));
	if (fd < 0 && errno == ELOOP)
		errno = ENOTDIR; /* (a symlink there: not a directory to us) */
	return fd;
}

/* Makes path inside the root: the missing directories, and the last one
 * a directory or, with file, an empty file.  Every prefix is resolved
 * from the root (an absolute symlink of the image's means the root's
 * path, .. stops at the root); a symlink to a missing path has that
 * path made, as runc's MkdirAll through securejoin does. */
static int make(int rootfd, const char *path, bool file)
{
	char cur[PATH_MAX];
	if (snprintf(cur, sizeof(cur), "%s", path) >= (int)sizeof(cur)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (int links = 0; links < 40;) {
		int fd = vs_in_root(rootfd, cur, O_PATH);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		/* the first missing component: its parent exists */
		size_t end = 0, start = 0, len = strlen(cur);
		char prefix[PATH_MAX];
		for (;;) {
			while (end < len && cur[end] == '/')
				end++;
			start = end;
			while (end < len && cur[end] != '/')
				end++;
			if (start == end) { /* (cannot be: it exists) */
				errno = ENOENT;
				return -1;
			}
			memcpy(prefix, cur, end);
			prefix[end] = '\0';
			int p = vs_in_root(rootfd, prefix, O_PATH);
			if (p >= 0) {
				close(p);
				continue;
			}
			if (errno != ENOENT)
				return -1;
			break;
		}
		prefix[start] = '\0';
		int parent = vs_in_root(rootfd, prefix[0] ? prefix : "/",
					O_PATH | O_DIRECTORY);
		if (parent < 0)
			return -1;
		char name[NAME_MAX + 1], target[PATH_MAX];
		snprintf(name, sizeof(name), "%.*s", (int)(end - start),
			 cur + start);
		ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);
		if (n >= 0) {
			/* a dangling symlink: its target instead, then the
			 * rest (an absolute one from the root) */
			close(parent);
			target[n] = '\0';
			char next[PATH_MAX];
			if (snprintf(next, sizeof(next), "%s/%s%s",
				     target[0] == '/' ? "" : prefix, target,
				     cur + end) >= (int)sizeof(next)) {
				errno = ENAMETOOLONG;
				return -1;
			}
			memcpy(cur, next, sizeof(cur));
			links++;
			continue;
		}
		int r;
		if (file && cur[end + strspn(cur + end, "/")] == '\0') {
			r = openat(parent, name,
				   O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC |
					   O_WRONLY,
				   0644);
			if (r >= 0)
				close(r);
		} else {
			r = mkdirat(parent, name, 0755);
		}
		int e = errno;
		close(parent);
		if (r < 0 && e != EEXIST) {
			errno = e;
			return -1;
		}
	}
	errno = ELOOP;
	return -1;
}

int vs_mount_point(int rootfd, const char *path, enum vs_mount_point_how how)
{
	if (how == VS_MP_FIXED)
		return open_fixed(rootfd, path);
	int fd = vs_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || errno != ENOENT || how == VS_MP_EXISTING)
		return fd;
	return make(rootfd, path, how == VS_MP_FILE);
}
