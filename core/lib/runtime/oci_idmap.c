/* Idmapped bind mounts (runtime-spec 1.1 mounts[].uidMappings and
 * gidMappings): the runtime, still in the host's namespaces, clones each
 * source as a detached tree and idmaps it through a user namespace made
 * with those maps; the container's process attaches the trees in its own
 * mount namespace (oci_rootfs.c): a process of a user namespace of its
 * own could not idmap a host mount itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/oci_int.h"

bool oci_write_idmap(pid_t pid, const char *file,
		     const struct vs_oci_idmap *m, size_t n)
{
	char path[64], buf[1024];
	size_t len = 0;
	for (size_t i = 0; i < n && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"%lu %lu %lu\n", m[i].inside,
					m[i].outside, m[i].count);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, buf, len) == (ssize_t)len;
	int e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return ok;
}

/* A user namespace with m's maps, held by its fd; -1 with errno. */
static int userns_of(const struct vs_oci_mount *m)
{
	int p[2], ready[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		char c = 1;
		close(p[1]);
		close(ready[0]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		/* held until the runtime has the namespace */
		_exit(read(p[0], &c, 1) < 0);
	}
	close(p[0]);
	close(ready[1]);
	int fd = -1, e = EINVAL;
	char c;
	if (pid > 0 && read(ready[0], &c, 1) == 1) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		if (oci_write_idmap(pid, "uid_map", m->uidmap, m->nuidmap) &&
		    oci_write_idmap(pid, "gid_map", m->gidmap, m->ngidmap))
			fd = open(path, O_RDONLY | O_CLOEXEC);
		e = errno;
	}
	close(ready[0]);
	close(p[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	errno = e;
	return fd;
}

int oci_idmap_trees(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		    const char *bundle, int **trees)
{
	*trees = NULL;
	bool any = false;
	for (size_t i = 0; i < s->nmounts; i++)
		any |= s->mounts[i].nuidmap > 0;
	if (!any)
		return 0;
	int *t = vs_xmalloc((s->nmounts ? s->nmounts : 1) * sizeof(*t));
	for (size_t i = 0; i < s->nmounts; i++)
		t[i] = -1;
	*trees = t;
	for (size_t i = 0; i < s->nmounts; i++) {
		const struct vs_oci_mount *m = &s->mounts[i];
		if (!m->nuidmap)
			continue;
		bool rec = false, bind = m->type && !strcmp(m->type, "bind");
		for (char **o = m->options; o && *o; o++) {
			bind |= !strcmp(*o, "bind") || !strcmp(*o, "rbind");
			rec |= !strcmp(*o, "rbind");
		}
		if (!bind || !m->src)
			return vs_set_error(ctx, "mount '%s' has id maps: only "
						 "bind mounts can be idmapped",
					    m->dst);
		char *src = m->src[0] == '/'
				? vs_strdup(m->src)
				: vs_asprintf("%s/%s", bundle, m->src);
		t[i] = open_tree(AT_FDCWD, src,
				 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				     (rec ? AT_RECURSIVE : 0));
		int ns = t[i] >= 0 ? userns_of(m) : -1;
		struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP,
				       .userns_fd = (uint64_t)ns};
		int r = 0;
		if (t[i] < 0 || ns < 0 ||
		    mount_setattr(t[i], "",
				  AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a,
				  sizeof(a)) < 0)
			r = vs_set_errno(ctx, errno, "cannot idmap '%s' for "
						     "'%s'",
					 src, m->dst);
		if (ns >= 0)
			close(ns);
		free(src);
		if (r < 0)
			return -1;
	}
	return 0;
}
