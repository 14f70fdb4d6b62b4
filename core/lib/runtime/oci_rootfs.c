/* An OCI container's file system, made by its own process in its mount
 * namespace: the spec's mounts below the rootfs (every destination
 * resolved inside the rootfs: a symlink of the image never leads out),
 * the devices, pivot_root, then masked and read-only paths and the
 * read-only root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/oci_int.h"

struct mopts {
	unsigned long flags, prop;
	char data[1024];
};

static int parse_options(struct vs_ctx *ctx, const struct vs_oci_mount *m,
			 struct mopts *o)
{
	memset(o, 0, sizeof(*o));
	for (char **p = m->options; p && *p; p++) {
		if (vs_mount_option(*p, &o->flags, &o->prop) ||
		    !strcmp(*p, "tmpcopyup"))
			continue;
		if (!strcmp(*p, "idmap") || !strcmp(*p, "ridmap"))
			return vs_set_error(ctx, "mount '%s': idmapped mounts "
						 "are not supported yet",
					    m->dst);
		size_t l = strlen(o->data);
		if (l + strlen(*p) + 2 > sizeof(o->data))
			return vs_set_error(ctx, "mount '%s': options too long",
					    m->dst);
		snprintf(o->data + l, sizeof(o->data) - l, "%s%s", l ? "," : "",
			 *p);
	}
	return 0;
}

/* Mounts one hierarchy (names its v1 controllers, NULL for cgroup2) on
 * p, the directory dst/<name> of the container's cgroup tmpfs.  Without
 * a cgroup namespace of its own the container sees only its own group:
 * the hierarchy goes on a scratch directory, its group is bound on p,
 * the scratch mount is detached (as runc does). */
static void mount_hierarchy(int rootfd, const char *dst, const char *p,
			    const char *names, unsigned long flags)
{
	const char *type = names ? "cgroup" : "cgroup2";
	char tmp[PATH_MAX], tp[64], gp[64], data[300];
	/* a named hierarchy (name=systemd) is mounted by its name alone */
	snprintf(data, sizeof(data), "%s%s",
		 names && !strncmp(names, "name=", 5) ? "none," : "",
		 names ? names : "");
	char *own = vs_cgroup_own_path(names ? names : "");
	if (!own || !strcmp(own, "/")) {
		free(own);
		mount(type, p, type, flags, names ? data : NULL);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s/.vs-scratch", dst);
	int t = vs_mount_point(rootfd, tmp, VS_MP_DIR);
	if (t < 0) {
		free(own);
		return;
	}
	vs_fdpath(t, tp, sizeof(tp));
	if (mount(type, tp, type, flags, names ? data : NULL) == 0) {
		/* the mount over the scratch directory, not the directory */
		int scratch = vs_in_root(rootfd, tmp, O_PATH | O_DIRECTORY);
		struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				       .resolve = RESOLVE_BENEATH |
						  RESOLVE_NO_SYMLINKS};
		int g = scratch < 0 ? -1
				    : (int)syscall(SYS_openat2, scratch,
						   own[1] ? own + 1 : ".", &how,
						   sizeof(how));
		if (g >= 0) {
			vs_fdpath(g, gp, sizeof(gp));
			unsigned long keep = flags & (MS_RDONLY | MS_NOSUID |
						      MS_NODEV | MS_NOEXEC);
			if (mount(gp, p, NULL, MS_BIND, NULL) == 0 && keep)
				mount(NULL, p, NULL,
				      MS_REMOUNT | MS_BIND | keep, NULL);
			close(g);
		}
		if (scratch >= 0) {
			vs_fdpath(scratch, tp, sizeof(tp));
			umount2(tp, MNT_DETACH);
			close(scratch);
		}
	}
	close(t);
	free(own);
	int d = vs_in_root(rootfd, dst, O_PATH | O_DIRECTORY);
	if (d >= 0) {
		unlinkat(d, ".vs-scratch", AT_REMOVEDIR);
		close(d);
	}
}

/* A pure cgroup2 host: cgroup2 on dst (at, an O_PATH fd of it);
 * without a cgroup namespace of its own the container sees only its
 * own group there: the hierarchy is mounted, a detached copy of the
 * group's directory taken, the hierarchy detached and the copy put in
 * its place.  0, or -1 with errno. */
static int mount_v2(int rootfd, const char *dst, int at, unsigned long flags)
{
	char p[64], mp[64];
	vs_fdpath(at, p, sizeof(p));
	if (mount("cgroup2", p, "cgroup2", flags, NULL) < 0)
		return -1;
	char *own = vs_cgroup_own_path("");
	if (!own || !strcmp(own, "/")) {
		free(own);
		return 0;
	}
	/* the mount (dst again, across it), the group in it: no link */
	int m = vs_in_root(rootfd, dst, O_PATH | O_DIRECTORY);
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
	int g = m < 0 ? -1
		      : (int)syscall(SYS_openat2, m, own + 1, &how, sizeof(how));
	int t = g < 0 ? -1
		      : (int)syscall(SYS_open_tree, g, "",
				     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					     AT_EMPTY_PATH);
	int e = errno, r = -1;
	if (m >= 0) {
		vs_fdpath(m, mp, sizeof(mp));
		umount2(mp, MNT_DETACH);
	}
	if (t >= 0) {
		r = (int)syscall(SYS_move_mount, t, "", at, "",
				 MOVE_MOUNT_F_EMPTY_PATH |
					 MOVE_MOUNT_T_EMPTY_PATH);
		e = errno;
		close(t);
	}
	if (g >= 0)
		close(g);
	if (m >= 0)
		close(m);
	free(own);
	errno = e;
	return r;
}

/* A v1 host: a tmpfs at dst with each hierarchy mounted in it (the
 * container's own group, as its cgroup namespace shows it); cgroup2
 * alone on a pure v2 host. */
static int mount_cgroup(struct vs_ctx *ctx, int rootfd, const char *dst,
			unsigned long flags)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL, names[16][256];
	size_t cap = 0, n = 0;
	bool v2 = false;
	while (f && getline(&line, &cap, f) > 0) {
		char *sep = strstr(line, " - ");
		char fstype[64], opts[1024];
		if (!sep || sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2"))
			v2 = true;
		if (strcmp(fstype, "cgroup") || n == 16)
			continue;
		char keep[256] = "", named[128] = "", *save = NULL;
		for (char *o = strtok_r(opts, ",", &save); o;
		     o = strtok_r(NULL, ",", &save))
			if (!strncmp(o, "name=", 5))
				snprintf(named, sizeof(named), "%s", o);
			else if (strcmp(o, "rw") && strcmp(o, "ro") &&
			    strncmp(o, "release_agent", 13) &&
			    strcmp(o, "clone_children") &&
			    strcmp(o, "noprefix")) {
				size_t l = strlen(keep);
				snprintf(keep + l, sizeof(keep) - l, "%s%s",
					 l ? "," : "", o);
			}
		if (!keep[0]) /* named hierarchies: systemd's */
			snprintf(keep, sizeof(keep), "%s", named);
		bool dup = !keep[0];
		for (size_t i = 0; i < n && !dup; i++)
			dup = !strcmp(names[i], keep);
		if (!dup)
			snprintf(names[n++], sizeof(names[0]), "%s", keep);
	}
	free(line);
	if (f)
		fclose(f);
	int fd = vs_mount_point(rootfd, dst, VS_MP_DIR);
	char p[64], sub[PATH_MAX];
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot make '%s'", dst);
	vs_fdpath(fd, p, sizeof(p));
	int r = 0;
	if (n == 0) { /* pure cgroup2 */
		if (mount_v2(rootfd, dst, fd, flags) < 0)
			r = vs_set_errno(ctx, errno, "cannot mount cgroup2 on "
						     "'%s'",
					 dst);
		close(fd);
		return r;
	}
	if (mount("cgroup", p, "tmpfs", (flags & ~MS_RDONLY), "mode=755") < 0) {
		r = vs_set_errno(ctx, errno, "cannot mount a tmpfs on '%s'", dst);
		close(fd);
		return r;
	}
	close(fd);
	for (size_t i = 0; i <= n; i++) {
		if (i == n && !v2)
			break;
		bool named = i < n && !strncmp(names[i], "name=", 5);
		snprintf(sub, sizeof(sub), "%s/%s", dst,
			 i < n ? names[i] + (named ? 5 : 0) : "unified");
		int s = vs_mount_point(rootfd, sub, VS_MP_DIR);
		if (s < 0)
			continue;
		vs_fdpath(s, p, sizeof(p));
		/* a hierarchy the kernel will not mount here (a user
		 * namespace) is left out */
		mount_hierarchy(rootfd, dst, p, i < n ? names[i] : NULL, flags);
		close(s);
		/* cpu,cpuacct is also seen as cpu and cpuacct */
		int dfd = i < n && !named && strchr(names[i], ',')
			      ? vs_in_root(rootfd, dst, O_PATH | O_DIRECTORY)
			      : -1;
		char each[256], *save = NULL;
		snprintf(each, sizeof(each), "%s", i < n ? names[i] : "");
		for (char *a = strtok_r(each, ",", &save); dfd >= 0 && a;
		     a = strtok_r(NULL, ",", &save))
			symlinkat(names[i], dfd, a);
		if (dfd >= 0)
			close(dfd);
	}
	if (flags & MS_RDONLY) {
		fd = vs_in_root(rootfd, dst, O_PATH);
		vs_fdpath(fd, p, sizeof(p));
		if (fd >= 0)
			mount(NULL, p, NULL,
			      MS_REMOUNT | MS_BIND | MS_RDONLY | vs_locked_flags(p),
			      NULL);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

static int do_mount(struct vs_ctx *ctx, int rootfd, const char *bundle,
		    const struct vs_oci_mount *m, int tree)
{
	struct mopts o;
	if (parse_options(ctx, m, &o) < 0)
		return -1;
	const char *type = m->type ? m->type : "";
	bool bind = (o.flags & MS_BIND) || !strcmp(type, "bind");
	if (bind)
		o.flags |= MS_BIND;
	if (!strcmp(type, "cgroup"))
		return mount_cgroup(ctx, rootfd, m->dst, o.flags);
	char src[PATH_MAX];
	struct stat ss;
	bool file = false;
	if (bind) {
		if (!m->src)
			return vs_set_error(ctx, "bind mount '%s' has no source",
					    m->dst);
		snprintf(src, sizeof(src), "%s%s%s",
			 m->src[0] == '/' ? "" : bundle,
			 m->src[0] == '/' ? "" : "/", m->src);
		if (stat(src, &ss) < 0)
			return vs_set_errno(ctx, errno, "cannot bind '%s' on "
							"'%s'",
					    src, m->dst);
		file = !S_ISDIR(ss.st_mode);
	}
	int fd = vs_mount_point(rootfd, m->dst, file ? VS_MP_FILE : VS_MP_DIR);
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot make '%s' in the rootfs",
				    m->dst);
	struct vs_mount_op op = {.dst = m->dst,
				 .at = fd,
				 .tree = bind ? tree : -1,
				 .src_fd = -1,
				 .src = m->src ? m->src : type,
				 .type = type,
				 .data = o.data,
				 .flags = o.flags,
				 .prop = o.prop};
	enum vs_mount_step step = VS_MOUNT_MAKE;
	/* an idmapped bind was made by the runtime: attached here */
	int r = bind && tree < 0 &&
			(op.src_fd = open(src, O_PATH | O_CLOEXEC)) < 0
		    ? -1
		    : vs_mount_do(rootfd, &op, &step);
	int e = errno;
	if (op.src_fd >= 0)
		close(op.src_fd);
	close(fd);
	if (r == 0)
		return 0;
	if (step == VS_MOUNT_REMOUNT)
		return vs_set_errno(ctx, e, "cannot remount '%s'", m->dst);
	if (step == VS_MOUNT_PROPAGATION)
		return vs_set_errno(ctx, e, "cannot set the propagation of '%s'",
				    m->dst);
	if (bind)
		return vs_set_errno(ctx, e, "cannot bind '%s' on '%s'", src,
				    m->dst);
	return vs_set_errno(ctx, e, "cannot mount %s on '%s'", type, m->dst);
}

/* A device node in the rootfs; where mknod is refused (a user namespace)
 * the host's node of that path is bound on an empty file instead. */
static int make_device(struct vs_ctx *ctx, int rootfd,
		       const struct vs_oci_device *d)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", d->path);
	char *base = strrchr(dir, '/');
	*base++ = '\0';
	int dfd = vs_mount_point(rootfd, dir[0] ? dir : "/", VS_MP_DIR);
	if (dfd < 0)
		return vs_set_errno(ctx, errno, "cannot make '%s'", d->path);
	int real = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	close(dfd);
	if (real < 0)
		return vs_set_errno(ctx, errno, "cannot make '%s'", d->path);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO
								 : S_IFCHR;
	int r = vs_dev_node(real, base, type, makedev(d->major, d->minor),
			    d->has_mode ? d->mode & 07777 : 0666,
			    d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0,
			    d->path, false);
	int e = errno;
	close(real);
	if (r < 0)
		return vs_set_errno(ctx, e, "cannot make the device '%s'",
				    d->path);
	return 0;
}

/* The default devices the spec does not name, the spec's, the links. */
static int make_devices(struct vs_ctx *ctx, const struct vs_oci_spec *s,
			int rootfd)
{
	int r = 0;
	for (const struct vs_devnode *n = vs_dev_defaults; r == 0 && n->name;
	     n++) {
		char path[64];
		snprintf(path, sizeof(path), "/dev/%s", n->name);
		struct vs_oci_device d = {.type = 'c',
					  .path = path,
					  .major = n->major,
					  .minor = n->minor,
					  .mode = 0666,
					  .has_mode = true};
		bool mine = false;
		for (size_t k = 0; k < s->ndevices && !mine; k++)
			mine = !strcmp(s->devices[k].path, d.path);
		if (!mine)
			r = make_device(ctx, rootfd, &d);
	}
	for (size_t i = 0; r == 0 && i < s->ndevices; i++)
		r = make_device(ctx, rootfd, &s->devices[i]);
	int dfd = r == 0 ? vs_in_root(rootfd, "/dev", O_RDONLY | O_DIRECTORY)
			 : -1;
	const char *link = NULL;
	if (dfd >= 0 && vs_dev_links(dfd, &link) < 0)
		r = vs_set_errno(ctx, errno, "cannot make '/dev/%s'", link);
	if (dfd >= 0)
		close(dfd);
	return r;
}

int oci_rootfs_setup(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		     const char *rootfs, const char *bundle, const int *trees)
{
	/* nothing we mount goes back to the host */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return vs_set_errno(ctx, errno, "cannot make the mounts private");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return vs_set_errno(ctx, errno, "cannot bind the rootfs '%s'",
				    rootfs);
	int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vs_set_errno(ctx, errno, "cannot open the rootfs '%s'",
				    rootfs);
	int r = 0;
	for (size_t i = 0; r == 0 && i < s->nmounts; i++)
		r = do_mount(ctx, rootfd, bundle, &s->mounts[i],
			     trees ? trees[i] : -1);
	if (r == 0)
		r = make_devices(ctx, s, rootfd);
	/* the working directory, when the image lacks it (as runc makes
	 * it): inside the rootfs, before the root may turn read-only */
	int cwd = r == 0 && s->process.cwd
			  ? vs_mount_point(rootfd, s->process.cwd, VS_MP_DIR)
			  : -1;
	if (r == 0 && s->process.cwd && cwd < 0)
		r = vs_set_errno(ctx, errno, "cannot make the working "
					     "directory '%s'",
				 s->process.cwd);
	if (cwd >= 0)
		close(cwd);
	if (r < 0) {
		close(rootfd);
		return -1;
	}
	close(rootfd);
	return 0;
}

int oci_rootfs_pivot(struct vs_ctx *ctx, const char *rootfs, bool no_pivot)
{
	if (chdir(rootfs) < 0)
		return vs_set_errno(ctx, errno, "cannot enter the rootfs '%s'",
				    rootfs);
	return vs_root_switch(ctx, rootfs,
			      no_pivot ? VS_ROOT_MOVE : VS_ROOT_PIVOT);
}

int oci_rootfs_finish(struct vs_ctx *ctx, const struct vs_oci_spec *s)
{
	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return vs_set_errno(ctx, errno, "cannot open the root");
	int r = vs_protect_paths(ctx, rootfd, (const char *const *)s->masked,
				 (const char *const *)s->readonly);
	close(rootfd);
	if (r == 0 && s->root_ro &&
	    mount(NULL, "/", NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | vs_locked_flags("/"),
		  NULL) < 0)
		r = vs_set_errno(ctx, errno, "cannot make the root read-only");
	unsigned long fl = 0, prop = 0;
	if (r == 0 && s->rootfs_propagation &&
	    vs_mount_option(s->rootfs_propagation, &fl, &prop) && prop &&
	    mount(NULL, "/", NULL, prop, NULL) < 0)
		r = vs_set_errno(ctx, errno, "cannot set the root's propagation");
	return r;
}
