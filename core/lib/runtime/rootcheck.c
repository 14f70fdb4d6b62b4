/* Whether vs itself runs at the top of its mount namespace.
 *
 * A guest's root is pivoted in where vs's own root mount was.  When vs
 * runs in a chroot (its root a directory or bind mount somewhere below the
 * namespace's top), the host's whole tree stays above the guest's root in
 * the guest's namespace, and a guest process with CAP_SYS_CHROOT climbs
 * out to it with a double chroot.  On a booted system vs's root is the
 * top, or a file system mounted directly on the in-memory rootfs that
 * the kernel started with (left empty by switch_root): both are fine. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* In a child of its own (its root changes): 0 when "/" is the top or a
 * mount directly on an in-memory top, 1 when something is above, 2 when
 * it cannot tell. */
static int probe(void)
{
	struct stat root, up, top;
	struct statfs fs;
	int me = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (me < 0 || fstat(me, &root) < 0)
		return 2;
	/* any directory below "/" as the root, so that ".." of the old
	 * root is no longer held back by it */
	static const char *const below[] = {"/proc", "/dev", "/sys", "/tmp"};
	bool in = false;
	for (size_t i = 0; !in && i < sizeof(below) / sizeof(*below); i++)
		in = chroot(below[i]) == 0;
	if (!in || fchdir(me) < 0 || chdir("..") < 0 || stat(".", &up) < 0)
		return 2;
	if (same(&up, &root))
		return 0;
	if (up.st_dev == root.st_dev)
		return 1; /* a directory of a larger file system */
	if (chdir("..") < 0 || stat(".", &top) < 0 || statfs(".", &fs) < 0)
		return 2;
	if (!same(&top, &up))
		return 1;
	return fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC ? 0 : 1;
}

int vs_root_check(struct vs_ctx *ctx, const char *guest)
{
	pid_t pid = fork();
	if (pid < 0)
		return vs_set_errno(ctx, errno, "cannot fork");
	if (pid == 0)
		_exit(probe());
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
		return vs_set_error(ctx,
				    "cannot start guest '%s': vs runs in a chroot "
				    "(its '/' is not the top of its mount "
				    "namespace), which the guest could climb "
				    "out of; run vs where '/' is a namespace's "
				    "root (pivot_root, as a booted system or a "
				    "container engine gives it)",
				    guest);
	return 0;
}
