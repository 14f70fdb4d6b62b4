/* One mount of a guest's fstab or of a container's spec, made onto a
 * mount point inside a root: through the mount point's descriptor (a
 * guest symlink never leads it out of the root), a bind's flags applied
 * by a remount of the new mount that keeps what the kernel locks, then
 * the propagation. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* A remount (or a propagation) of the mount on top of dst now (the new
 * one, not the mount point); with keep, the flags the kernel locks on it
 * kept too. */
static int on_top(int rootfd, const char *dst, unsigned long flags, bool keep)
{
	int fd = vs_in_root(rootfd, dst, O_PATH);
	if (fd < 0)
		return -1;
	char p[64];
	vs_fdpath(fd, p, sizeof(p));
	int r = mount(NULL, p, NULL, flags | (keep ? vs_locked_flags(p) : 0),
		      NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

static int attach(const struct vs_mount_op *op)
{
	char s[64], t[64];
	vs_fdpath(op->at, t, sizeof(t));
	if (!(op->flags & MS_BIND))
		return mount(op->src, t, op->type, op->flags,
			     op->data && op->data[0] ? op->data : NULL);
	if (op->tree >= 0)
		return (int)syscall(SYS_move_mount, op->tree, "", op->at, "",
				    MOVE_MOUNT_F_EMPTY_PATH |
					MOVE_MOUNT_T_EMPTY_PATH);
	return mount(vs_fdpath(op->src_fd, s, sizeof(s)), t, NULL,
		     op->flags & (MS_BIND | MS_REC), NULL);
}

int vs_mount_do(int rootfd, const struct vs_mount_op *op,
		enum vs_mount_step *failed)
{
	enum vs_mount_step s = VS_MOUNT_MAKE;
	if (attach(op) < 0)
		goto fail;
	s = VS_MOUNT_REMOUNT;
	unsigned long rest = op->flags & ~(MS_BIND | MS_REC | MS_REMOUNT);
	if ((op->flags & MS_BIND) && rest &&
	    on_top(rootfd, op->dst, MS_REMOUNT | MS_BIND | rest, true) < 0)
		goto fail;
	s = VS_MOUNT_PROPAGATION;
	if (op->prop && on_top(rootfd, op->dst, op->prop, false) < 0)
		goto fail;
	return 0;
fail:
	if (failed)
		*failed = s;
	return -1;
}
