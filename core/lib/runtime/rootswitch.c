/* The last step of a guest's and an OCI container's file system: the
 * current directory becomes the root. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

int vs_root_switch(struct vs_ctx *ctx, const char *name, enum vs_root_how how)
{
	switch (how) {
	case VS_ROOT_PIVOT:
		/* the old root stacked under the new one, then detached */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return vs_set_errno(ctx, errno,
					    "cannot pivot_root to '%s'", name);
		if (umount2(".", MNT_DETACH) < 0)
			return vs_set_errno(ctx, errno,
					    "cannot detach the host's root");
		break;
	case VS_ROOT_MOVE:
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return vs_set_errno(ctx, errno, "cannot move '%s' to /",
					    name);
		/* fall through */
	case VS_ROOT_CHROOT:
		if (chroot(".") < 0)
			return vs_set_errno(ctx, errno, "cannot chroot to '%s'",
					    name);
		break;
	}
	if (chdir("/") < 0)
		return vs_set_errno(ctx, errno, "cannot chdir to '/'");
	return 0;
}
