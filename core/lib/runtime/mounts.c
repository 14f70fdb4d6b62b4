/* The guest's file system view, built by the future init before it execs:
 * the root bound onto itself, /proc (with the host-wide knobs read-only or
 * masked), /sys read-only, a minimal /dev with its own devpts, the guest's
 * fstab, then pivot_root.  Every target inside the guest is opened with
 * openat2() below the root and mounted through its /proc/self/fd path, so
 * a guest symlink never leads a mount out of the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

static int open_in(int dirfd, const char *path, int flags, unsigned long long how)
{
	struct open_how oh = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = how | RESOLVE_NO_MAGICLINKS,
	};
	while (*path == '/')
		path++;
	return (int)syscall(SYS_openat2, dirfd, *path ? path : ".", &oh,
			    sizeof(oh));
}

#define FIXED (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)

/* Opens the fixed mount point <name> of the guest (never created: a start
 * changes nothing in the guest's root).  A symlink there refuses the
 * start. */
static int mount_point(struct vs_plan *p, int rootfd, const char *name)
{
	int fd = vs_mount_point(rootfd, name, VS_MP_FIXED);
	if (fd < 0)
		vs_set_errno(p->g->ctx, errno, "cannot use '/%s' of guest '%s'",
			     name, p->g->name);
	return fd;
}

/* A file system on the mount point fd (through the executor the fstab
 * and a container's mounts use); shown names it in the message, NULL:
 * none (-1 with errno only). */
static int do_mount(struct vs_plan *p, const char *src, int fd,
		    const char *type, unsigned long flags, const char *data,
		    const char *shown)
{
	struct vs_mount_op op = {.dst = shown,
				 .at = fd,
				 .tree = -1,
				 .src_fd = -1,
				 .src = src,
				 .type = type,
				 .data = data,
				 .flags = flags};
	if (vs_mount_do(-1, &op, NULL) < 0)
		return shown ? vs_set_errno(p->g->ctx, errno,
					    "cannot mount %s in guest '%s'",
					    shown, p->g->name)
			     : -1;
	return 0;
}

static int setup_proc(struct vs_plan *p, int rootfd)
{
	int fd = mount_point(p, rootfd, "proc");
	if (fd < 0)
		return -1;
	int r = do_mount(p, "proc", fd, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			 NULL, "/proc");
	close(fd);
	return r;
}

/* A read-only copy of the host's tree at src onto the mount point fd
 * (every mount below it read-only too). */
static int bind_readonly(const char *src, int fd)
{
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, src,
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					AT_RECURSIVE);
	if (tree < 0)
		return -1;
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY |
					      MOUNT_ATTR_NOSUID |
					      MOUNT_ATTR_NODEV |
					      MOUNT_ATTR_NOEXEC};
	int r = (int)syscall(SYS_mount_setattr, tree, "",
			     AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
	if (r == 0)
		r = (int)syscall(SYS_move_mount, tree, "", fd, "",
				 MOVE_MOUNT_F_EMPTY_PATH |
					 MOVE_MOUNT_T_EMPTY_PATH);
	int e = errno;
	close(tree);
	errno = e;
	return r;
}

static int setup_sys(struct vs_plan *p, int rootfd)
{
	struct stat st;
	/* util-vserver guests may have no /sys; one of style systemd gets
	 * it (its cgroup hierarchy goes below) */
	if (p->api_fs && mkdirat(rootfd, "sys", 0755) < 0 && errno != EEXIST)
		return vs_set_errno(p->g->ctx, errno,
				    "cannot make /sys in guest '%s'", p->g->name);
	if (fstatat(rootfd, "sys", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    errno == ENOENT)
		return 0;
	int fd = mount_point(p, rootfd, "sys");
	if (fd < 0)
		return -1;
	int r = do_mount(p, "sysfs", fd, "sysfs",
			 MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
			 NULL);
	/* a user-namespace guest without a network namespace of its own may
	 * not mount sysfs: the host's, with what is mounted below it, all
	 * read-only */
	if (r < 0 && p->userns.on && errno == EPERM)
		r = bind_readonly("/sys", fd);
	if (r < 0)
		vs_set_errno(p->g->ctx, errno, "cannot mount /sys in guest '%s'",
			     p->g->name);
	close(fd);
	return r;
}

static int setup_dev(struct vs_plan *p, int rootfd)
{
	struct vs_ctx *ctx = p->g->ctx;
	int fd = mount_point(p, rootfd, "dev");
	if (fd < 0)
		return -1;
	int r = do_mount(p, "tmpfs", fd, "tmpfs", MS_NOSUID | MS_NOEXEC,
			 "mode=755,size=256k", "/dev");
	close(fd);
	if (r < 0)
		return -1;
	int dev = open_in(rootfd, "dev", O_RDONLY | O_DIRECTORY, FIXED);
	if (dev < 0)
		return vs_set_errno(ctx, errno, "cannot open /dev of guest '%s'",
				    p->g->name);
	char host[64];
	const char *link = NULL;
	for (const struct vs_devnode *n = vs_dev_defaults; n->name && r == 0;
	     n++) {
		/* bound from the host's /dev in a user namespace, and where
		 * mknod is refused (vs itself in one: a systemd guest's) */
		snprintf(host, sizeof(host), "/dev/%s", n->name);
		if (vs_dev_node(dev, n->name, S_IFCHR,
				makedev(n->major, n->minor), 0666, 0, 0, host,
				p->userns.on) < 0)
			r = vs_set_errno(ctx, errno,
					 "cannot create /dev/%s in guest '%s'",
					 n->name, p->g->name);
	}
	/* a console that is /dev/null, unless it is a pty (below) */
	if (r == 0 && !p->console &&
	    vs_dev_node(dev, "console", S_IFCHR, makedev(1, 3), 0600, 0, 0,
			"/dev/null", p->userns.on) < 0)
		r = vs_set_errno(ctx, errno,
				 "cannot create /dev/console in guest '%s'",
				 p->g->name);
	if (r == 0 && vs_dev_links(dev, &link) < 0)
		r = vs_set_errno(ctx, errno, "cannot create /dev/%s in guest '%s'",
				 link, p->g->name);
	static const char *const dirs[] = {"pts", "shm", "mqueue"};
	for (size_t i = 0; i < 3 && r == 0; i++)
		if (mkdirat(dev, dirs[i], 0755) < 0)
			r = vs_set_errno(ctx, errno,
					 "cannot create /dev/%s in guest '%s'",
					 dirs[i], p->g->name);
	if (r == 0) {
		fd = vs_mount_point(dev, "pts", VS_MP_FIXED);
		r = fd < 0 ? -1
			   : do_mount(p, "devpts", fd, "devpts",
				      MS_NOSUID | MS_NOEXEC,
				      "newinstance,ptmxmode=0666,mode=0620,gid=5",
				      "/dev/pts");
		if (fd >= 0)
			close(fd);
	}
	if (r == 0 && p->console &&
	    vs_dev_console(dev, &p->console_master, &p->console_slave) < 0)
		r = vs_set_errno(ctx, errno, "cannot make the console of guest '%s'",
				 p->g->name);
	if (r == 0) {
		fd = vs_mount_point(dev, "shm", VS_MP_FIXED);
		r = fd < 0 ? -1
			   : do_mount(p, "shm", fd, "tmpfs",
				      MS_NOSUID | MS_NODEV, "mode=1777",
				      "/dev/shm");
		if (fd >= 0)
			close(fd);
	}
	if (r == 0) {
		fd = vs_mount_point(dev, "mqueue", VS_MP_FIXED);
		/* mqueue belongs to the IPC namespace; optional */
		if (fd >= 0) {
			do_mount(p, "mqueue", fd, "mqueue",
				 MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, NULL);
			close(fd);
		}
	}
	close(dev);
	return r;
}

/* systemd's container interface: /run and /run/lock as tmpfs (the init
 * may not mount them itself). */
static int setup_run(struct vs_plan *p, int rootfd)
{
	static const struct {
		const char *dir, *data;
		unsigned long flags;
	} m[] = {
		{"run", "mode=755,size=20%", MS_NOSUID | MS_NODEV},
		{"run/lock", "mode=1777,size=5m", MS_NOSUID | MS_NODEV | MS_NOEXEC},
	};
	/* a tree without /run gets one (a symlink there is refused below) */
	if (mkdirat(rootfd, "run", 0755) < 0 && errno != EEXIST)
		return vs_set_errno(p->g->ctx, errno,
				    "cannot make /run in guest '%s'", p->g->name);
	for (size_t i = 0; i < 2; i++) {
		int fd = mount_point(p, rootfd, m[i].dir);
		if (fd < 0)
			return -1;
		int r = do_mount(p, "tmpfs", fd, "tmpfs", m[i].flags, m[i].data,
				 i ? "/run/lock" : "/run");
		close(fd);
		if (r < 0)
			return -1;
		if (i == 0) { /* the new /run: its lock directory */
			fd = vs_mount_point(rootfd, "run", VS_MP_FIXED);
			r = fd < 0 ? -1 : mkdirat(fd, "lock", 0755);
			if (fd >= 0)
				close(fd);
			if (r < 0)
				return vs_set_errno(p->g->ctx, errno,
						    "cannot make /run/lock in "
						    "guest '%s'",
						    p->g->name);
		}
	}
	return 0;
}

/* One line of a fstab file (shown, for messages); sys: the sysroot
 * opened in this mount namespace (a bind's source is opened beneath it:
 * one of the namespace vs started in cannot be bound here, EINVAL). */
static int fstab_one(struct vs_ctx *ctx, int rootfd, int sys,
		     const struct vs_mount *m, const char *shown)
{
	int tfd = vs_mount_point(rootfd, m->dst, VS_MP_EXISTING);
	if (tfd < 0)
		return vs_set_errno(ctx, errno, "%s:%d: cannot mount on '%s'",
				    shown, m->line, m->dst);
	struct vs_mount_op op = {.dst = m->dst,
				 .at = tfd,
				 .tree = -1,
				 .src_fd = -1,
				 .src = m->src,
				 .type = m->type,
				 .data = m->data,
				 .flags = m->flags,
				 .prop = m->prop};
	if ((m->flags & MS_BIND) &&
	    (op.src_fd = vs_in_root(sys, m->src, O_PATH)) < 0) {
		int e = errno;
		close(tfd);
		return vs_set_errno(ctx, e, "%s:%d: cannot bind '%s'", shown,
				    m->line, m->src);
	}
	int r = vs_mount_do(rootfd, &op, NULL);
	int e = errno;
	if (op.src_fd >= 0)
		close(op.src_fd);
	close(tfd);
	return r < 0 ? vs_set_errno(ctx, e, "%s:%d: cannot mount '%s' on '%s'",
				    shown, m->line, m->src, m->dst)
		     : 0;
}

static int setup_fstab(struct vs_plan *p, int rootfd, const char *file,
		       const struct vs_mount *list, size_t n)
{
	struct vs_ctx *ctx = p->g->ctx;
	char shown[PATH_MAX], cfg[PATH_MAX];
	snprintf(shown, sizeof(shown), "%s/%s",
		 vs_host_real(ctx, p->g->cfgdir, cfg, sizeof(cfg)), file);
	int sys = -1, r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if ((list[i].flags & MS_BIND) && sys < 0 &&
		    (sys = open(ctx->sysroot,
				O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			r = vs_set_errno(ctx, errno, "cannot open '%s'",
					 ctx->sysroot);
		else
			r = fstab_one(ctx, rootfd, sys, &list[i], shown);
	}
	if (sys >= 0)
		close(sys);
	return r;
}

int vs_mounts_setup(struct vs_plan *p)
{
	struct vs_ctx *ctx = p->g->ctx;
	if (!p->nonamespace) {
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			return vs_set_errno(ctx, errno,
					    "cannot make the mounts private");
		if (p->treefd >= 0) {
			/* the idmapped root, onto the guest root we started
			 * in (our working directory) */
			if (syscall(SYS_move_mount, p->treefd, "", AT_FDCWD, ".",
				    MOVE_MOUNT_F_EMPTY_PATH) < 0)
				return vs_set_errno(ctx, errno,
						    "cannot mount the root of "
						    "guest '%s'",
						    p->g->name);
		} else if (mount(p->root, p->root, NULL, MS_BIND | MS_REC,
				 NULL) < 0) {
			return vs_set_errno(ctx, errno, "cannot bind '%s'",
					    p->root);
		}
	}
	int rootfd = p->treefd >= 0
			     ? openat(p->treefd, ".",
				      O_RDONLY | O_DIRECTORY | O_CLOEXEC)
			     : open(p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vs_set_errno(ctx, errno, "cannot open '%s'", p->root);
	int r = setup_proc(p, rootfd);
	if (r == 0)
		r = setup_sys(p, rootfd);
	if (r == 0)
		r = setup_dev(p, rootfd);
	if (r == 0 && p->api_fs)
		r = setup_run(p, rootfd);
	if (r == 0)
		r = setup_fstab(p, rootfd, "fstab", p->mounts, p->nmounts);
	/* last: no mount of the fstab shows what they hide */
	if (r == 0)
		r = vs_protect_paths(ctx, rootfd, vs_masked_default,
				     vs_readonly_default);
	if (r == 0 && fchdir(rootfd) < 0)
		r = vs_set_errno(ctx, errno, "cannot enter '%s'", p->root);
	close(rootfd);
	if (r < 0)
		return -1;
	return vs_root_switch(ctx, p->root,
			      p->nonamespace ? VS_ROOT_CHROOT : VS_ROOT_PIVOT);
}

int vs_mounts_remote(struct vs_plan *p)
{
	if (!p->nremote)
		return 0;
	int rootfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vs_set_errno(p->g->ctx, errno, "cannot open '/'");
	int r = setup_fstab(p, rootfd, "fstab.remote", p->remote, p->nremote);
	close(rootfd);
	return r;
}

int vs_mounts_cleanup(const char *root)
{
	/* nonamespace guests: their mounts live in the host's namespace */
	int r = 0;
	for (int i = 0; i < 256; i++) {
		char *m = vs_mount_below(root);
		if (!m)
			break;
		/* unmount the deepest first: find one with no mount below */
		char *deeper;
		while ((deeper = vs_mount_below(m))) {
			free(m);
			m = deeper;
		}
		if (umount2(m, MNT_DETACH) < 0)
			r = -1;
		free(m);
		if (r < 0)
			break;
	}
	return r;
}

/* ---- a mount into a running guest (vmount) ---------------------------- */

static unsigned long long mount_attrs(unsigned long flags)
{
	unsigned long long a = 0;
	if (flags & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (flags & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	if (flags & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	if (flags & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	return a;
}

/* The detached mount to attach: a clone of a host tree (bind), or a new
 * file system configured option by option.  Its fd, or -1 (errno). */
static int detached_mount(struct vs_ctx *ctx, const struct vs_mount *m)
{
	unsigned long long attrs = mount_attrs(m->flags);
	if (m->flags & MS_BIND) {
		int src = vs_host_open(ctx, m->src, O_PATH, 0);
		if (src < 0)
			return -1;
		int fd = (int)syscall(SYS_open_tree, src, "",
				      OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					      AT_EMPTY_PATH |
					      ((m->flags & MS_REC) ? AT_RECURSIVE
								   : 0));
		int e = errno;
		close(src);
		struct mount_attr ma = {.attr_set = attrs};
		if (fd >= 0 && attrs &&
		    syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH, &ma,
			    sizeof(ma)) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
		errno = e;
		return fd;
	}
	int fs = (int)syscall(SYS_fsopen, m->type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "source",
			     m->src, 0);
	char *opts = vs_strdup(m->data ? m->data : ""), *save = NULL;
	for (char *o = strtok_r(opts, ",", &save); o && r == 0;
	     o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		if (eq)
			*eq = '\0';
		r = (int)syscall(SYS_fsconfig, fs,
				 eq ? FSCONFIG_SET_STRING : FSCONFIG_SET_FLAG, o,
				 eq ? eq + 1 : NULL, 0);
	}
	free(opts);
	if (r == 0)
		r = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL,
				 NULL, 0);
	int fd = r < 0 ? -1
		       : (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
				      (unsigned)attrs);
	int e = errno;
	close(fs);
	errno = e;
	return fd;
}

int vs_guest_mount(struct vs_guest *g, const struct vs_runstate *rs,
		   const struct vs_mount *m)
{
	struct vs_ctx *ctx = g->ctx;
	char real[PATH_MAX];
	int mfd = detached_mount(ctx, m);
	if (mfd < 0)
		return vs_set_errno(ctx, errno, "cannot mount '%s' for guest "
						"'%s'",
				    (m->flags & MS_BIND)
					    ? vs_host_real(ctx, m->src, real,
							   sizeof(real))
					    : m->src,
				    g->name);
	int initfd = vs_pidfd_open(rs->init, rs->init_start);
	int p[2] = {-1, -1};
	if (initfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
		close(mfd);
		if (initfd >= 0)
			close(initfd);
		return vs_set_error(ctx, "guest '%s' is not running", g->name);
	}
	pid_t pid = fork();
	if (pid == 0) {
		/* the guest's root: its mount namespace's, or (nonamespace)
		 * its directory here */
		close(p[0]);
		int root = -1, e = 0;
		if (rs->nonamespace)
			root = g->root ? open(vs_host_real(ctx, g->root, real,
							   sizeof(real)),
					      O_PATH | O_DIRECTORY | O_CLOEXEC)
				       : -1;
		else if (setns(initfd, CLONE_NEWNS) == 0)
			root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		int t = root < 0 ? -1
				 : vs_mount_point(root, m->dst, VS_MP_EXISTING);
		struct stat rst, ts;
		if (t >= 0 && fstat(root, &rst) == 0 && fstat(t, &ts) == 0 &&
		    rst.st_dev == ts.st_dev && rst.st_ino == ts.st_ino)
			/* the guest's root itself (a target of "/", or a link
			 * a guest swapped in that climbs to it): a mount there
			 * would hide every mount of the guest below it */
			e = -1;
		else if (t < 0 || syscall(SYS_move_mount, mfd, "", t, "",
					  MOVE_MOUNT_F_EMPTY_PATH |
						  MOVE_MOUNT_T_EMPTY_PATH) < 0)
			e = errno;
		if (write(p[1], &e, sizeof(e)) != sizeof(e))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	close(initfd);
	close(mfd);
	int e = pid < 0 ? errno : EIO;
	if (pid > 0 && read(p[0], &e, sizeof(e)) != sizeof(e))
		e = EIO;
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (e == -1)
		return vs_set_error(ctx, "cannot mount on '%s' in guest '%s': it "
					 "is the guest's root",
				    m->dst, g->name);
	if (e)
		return vs_set_errno(ctx, e, "cannot mount on '%s' in guest '%s'",
				    m->dst, g->name);
	return 0;
}
