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
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* The options the kernel takes as flags (set or cleared), the
 * propagations, and fstab's words that mean nothing to it. */
static const struct {
	const char *name;
	unsigned long set, clear, prop;
} options[] = {
	{"defaults", 0, 0, 0},
	{"ro", MS_RDONLY, 0, 0},
	{"rw", 0, MS_RDONLY, 0},
	{"nosuid", MS_NOSUID, 0, 0},
	{"suid", 0, MS_NOSUID, 0},
	{"nodev", MS_NODEV, 0, 0},
	{"dev", 0, MS_NODEV, 0},
	{"noexec", MS_NOEXEC, 0, 0},
	{"exec", 0, MS_NOEXEC, 0},
	{"sync", MS_SYNCHRONOUS, 0, 0},
	{"async", 0, MS_SYNCHRONOUS, 0},
	{"dirsync", MS_DIRSYNC, 0, 0},
	{"remount", MS_REMOUNT, 0, 0},
	{"mand", MS_MANDLOCK, 0, 0},
	{"nomand", 0, MS_MANDLOCK, 0},
	{"noatime", MS_NOATIME, 0, 0},
	{"atime", 0, MS_NOATIME, 0},
	{"nodiratime", MS_NODIRATIME, 0, 0},
	{"diratime", 0, MS_NODIRATIME, 0},
	{"relatime", MS_RELATIME, 0, 0},
	{"norelatime", 0, MS_RELATIME, 0},
	{"strictatime", MS_STRICTATIME, 0, 0},
	{"nostrictatime", 0, MS_STRICTATIME, 0},
	{"bind", MS_BIND, 0, 0},
	{"rbind", MS_BIND | MS_REC, 0, 0},
	{"private", 0, 0, MS_PRIVATE},
	{"rprivate", 0, 0, MS_PRIVATE | MS_REC},
	{"shared", 0, 0, MS_SHARED},
	{"rshared", 0, 0, MS_SHARED | MS_REC},
	{"slave", 0, 0, MS_SLAVE},
	{"rslave", 0, 0, MS_SLAVE | MS_REC},
	{"unbindable", 0, 0, MS_UNBINDABLE},
	{"runbindable", 0, 0, MS_UNBINDABLE | MS_REC},
	{"auto", 0, 0, 0},
	{"user", 0, 0, 0},
	{"nouser", 0, 0, 0},
	{"_netdev", 0, 0, 0},
	{"nofail", 0, 0, 0},
};

bool vs_mount_option(const char *o, unsigned long *flags, unsigned long *prop)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(*options); i++)
		if (!strcmp(o, options[i].name)) {
			*flags = (*flags | options[i].set) & ~options[i].clear;
			if (options[i].prop)
				*prop = options[i].prop;
			return true;
		}
	return false;
}

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
