/* The walk over a cgroup's child groups, shared by the removal and the
 * process listing of a guest's groups and the cpu partitions. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "runtime/runtime.h"

void vs_cgroup_each_child(int dfd, int depth,
		       void (*fn)(int dfd, const char *name, int fd, int depth,
				  void *arg),
		       void *arg)
{
	DIR *d = depth < 32 ? vs_opendir_fd(dfd) : NULL;
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		int c = openat(dfd, e->d_name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (c >= 0) {
			fn(dfd, e->d_name, c, depth + 1, arg);
			close(c);
		}
	}
	closedir(d);
}
