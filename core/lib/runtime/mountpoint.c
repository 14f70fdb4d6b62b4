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

/* Makes path inside the root (the missing directories, and the last one
 * a directory or, with file, an empty file). */
static int make(int rootfd, const char *path, bool file)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int cur = dup(rootfd);
	char *save = NULL;
	for (char *c = strtok_r(buf, "/", &save); c && cur >= 0;
	     c = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save || strspn(save, "/") == strlen(save);
		int next = vs_in_root(cur, c, O_PATH);
		if (next < 0 && errno == ENOENT) {
			int r;
			if (last && file) {
				r = openat(cur, c,
					   O_CREAT | O_EXCL | O_NOFOLLOW |
						   O_CLOEXEC | O_WRONLY,
					   0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(cur, c, 0755);
			}
			if (r < 0 && errno != EEXIST) {
				int e = errno;
				close(cur);
				errno = e;
				return -1;
			}
			next = vs_in_root(cur, c, O_PATH);
		}
		int e = errno;
		close(cur);
		errno = e;
		cur = next;
	}
	return cur;
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
