/* util-vserver's disk limits (dlimits/<x>/{directory,space_total,
 * inodes_total,reserved}) as project quotas: the tree gets the guest's
 * context as its project id (inherited by whatever is made in it), the
 * project its space and inode limits.  ext4 mounted with prjquota and XFS
 * with pquota have them; elsewhere the start says so. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

int vs_quota_get(int fd, unsigned id, struct vs_dlimit *out)
{
	struct if_dqblk q;
	memset(&q, 0, sizeof(q));
	if (syscall(SYS_quotactl_fd, fd, QCMD(Q_GETQUOTA, PRJQUOTA), id, &q) <
	    0)
		return -1;
	out->space_used = q.dqb_curspace / 1024;
	out->space_total = q.dqb_bhardlimit;
	out->inodes_used = q.dqb_curinodes;
	out->inodes_total = q.dqb_ihardlimit;
	return 0;
}

int vs_quota_set(int fd, unsigned id, unsigned long long space_kb,
		 unsigned long long inodes)
{
	struct if_dqblk q;
	memset(&q, 0, sizeof(q));
	q.dqb_bhardlimit = q.dqb_bsoftlimit = space_kb;
	q.dqb_ihardlimit = q.dqb_isoftlimit = inodes;
	q.dqb_valid = QIF_LIMITS;
	return (int)syscall(SYS_quotactl_fd, fd, QCMD(Q_SETQUOTA, PRJQUOTA), id,
			    &q);
}

/* Gives fd's file the project id (and directories the inheritance). */
static int set_project(int fd, unsigned id, bool dir)
{
	struct fsxattr fx;
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) < 0)
		return -1;
	unsigned want = dir ? FS_XFLAG_PROJINHERIT : 0;
	if (fx.fsx_projid == id && (fx.fsx_xflags & want) == want)
		return 0;
	fx.fsx_projid = id;
	fx.fsx_xflags |= want;
	return ioctl(fd, FS_IOC_FSSETXATTR, &fx);
}

/* The tree below dfd (one file system, never through a symlink):
 * directories and regular files get the project.  Symlinks and special
 * files are left (they cannot be opened to be changed), as are other
 * file systems mounted below.  -1 (errno) at the first failure. */
static int walk_project(int dfd, dev_t dev, unsigned id, int depth)
{
	if (depth > 4096)
		return errno = ELOOP, -1;
	if (set_project(dfd, id, true) < 0)
		return -1;
	DIR *d = vs_opendir_fd(dfd);
	if (!d)
		return -1;
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev ||
		    !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)))
			continue;
		int fd = openat(dfd, e->d_name,
				O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
					O_CLOEXEC |
					(S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			continue; /* replaced meanwhile */
		struct stat now;
		if (fstat(fd, &now) == 0 && now.st_ino == st.st_ino &&
		    now.st_dev == dev)
			r = S_ISDIR(now.st_mode)
				    ? walk_project(fd, dev, id, depth + 1)
				    : set_project(fd, id, false);
		close(fd);
	}
	closedir(d);
	return r;
}

/* One dlimits/<x>/: 0 applied (or disabled), 1 warned, -1 error set. */
static int apply_one(struct vs_guest *g, const char *x, unsigned xid,
		     const char *rootcanon)
{
	struct vs_ctx *ctx = g->ctx;
	char rel[PATH_MAX], dir[PATH_MAX], space[64] = "", inodes[64] = "",
						   reserved[64] = "", real[PATH_MAX];
	snprintf(rel, sizeof(rel), "dlimits/%s/disabled", x);
	if (vs_guest_cfg_exists(g, rel))
		return 0;
	const char *names[] = {"directory", "space_total", "inodes_total",
			       "reserved"};
	char *vals[] = {dir, space, inodes, reserved};
	size_t sizes[] = {sizeof(dir), sizeof(space), sizeof(inodes),
			  sizeof(reserved)};
	for (int i = 0; i < 4; i++) {
		snprintf(rel, sizeof(rel), "dlimits/%s/%s", x, names[i]);
		vals[i][0] = '\0';
		if (vs_guest_cfg_line(g, rel, vals[i], sizes[i]) < 0)
			return -1;
	}
	snprintf(rel, sizeof(rel), "%s/dlimits/%s", g->cfgdir, x);
	vs_host_real(ctx, rel, real, sizeof(real));
	if (!dir[0] || !space[0] || !inodes[0]) {
		vs_warn(ctx, "guest '%s': %s ignored: it needs directory, "
			     "space_total and inodes_total",
			g->name, real);
		return 1;
	}
	char *e1, *e2;
	unsigned long long sp = strtoull(space, &e1, 10),
			   in = strtoull(inodes, &e2, 10);
	if (*e1 || *e2 || space[0] == '-' || inodes[0] == '-')
		return vs_set_error(ctx, "%s: space_total '%s' and inodes_total "
					 "'%s' must be numbers (KiB, inodes)",
				    real, space, inodes);
	if (reserved[0] && strcmp(reserved, "0"))
		vs_warn(ctx, "guest '%s': %s/reserved ignored: project quotas "
			     "keep no space for root",
			g->name, real);
	/* the directory: the guest's root or inside it */
	char *canon = vs_host_canon(ctx, dir);
	size_t n = strlen(rootcanon);
	if (!canon || strncmp(canon, rootcanon, n) ||
	    (canon[n] && canon[n] != '/')) {
		free(canon);
		vs_clear_error(ctx);
		vs_warn(ctx, "guest '%s': %s ignored: its directory '%s' is not "
			     "the guest's root or below it",
			g->name, real, dir);
		return 1;
	}
	int fd = vs_host_open(ctx, canon, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	free(canon);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		vs_clear_error(ctx);
		vs_warn(ctx, "guest '%s': %s ignored: cannot open '%s'", g->name,
			real, dir);
		return 1;
	}
	/* the tree once (what is made in it later inherits the project),
	 * then the limits */
	int r = 0;
	struct fsxattr fx;
	bool done = ioctl(fd, FS_IOC_FSGETXATTR, &fx) == 0 &&
		    fx.fsx_projid == xid &&
		    (fx.fsx_xflags & FS_XFLAG_PROJINHERIT);
	if (!done && walk_project(fd, st.st_dev, xid, 0) < 0) {
		vs_warn(ctx, "guest '%s': %s ignored: cannot give '%s' the "
			     "project %u (%s; ext4 needs the project feature)",
			g->name, real, dir, xid, strerror(errno));
		r = 1;
	} else if (vs_quota_set(fd, xid, sp, in) < 0) {
		vs_warn(ctx, "guest '%s': %s ignored: '%s' is on a file system "
			     "without project quotas (%s; mount ext4 with "
			     "prjquota, XFS with pquota)",
			g->name, real, dir, strerror(errno));
		r = 1;
	}
	close(fd);
	return r;
}

int vs_dlimits_apply(struct vs_guest *g)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/dlimits", g->cfgdir);
	char **xs = vs_host_list(g->ctx, path);
	vs_clear_error(g->ctx);
	if (!xs || !xs[0]) {
		vs_strv_free(xs);
		return 0;
	}
	int r = 0;
	char *root = g->root ? vs_host_canon(g->ctx, g->root) : NULL;
	if (!g->context) {
		vs_warn(g->ctx, "guest '%s': dlimits/ ignored: disk limits need "
				"a static context (the project id)",
			g->name);
	} else if (root) {
		for (char **x = xs; *x && r >= 0; x++) {
			struct stat st;
			snprintf(path, sizeof(path), "%s/dlimits/%s", g->cfgdir,
				 *x);
			if (vs_host_stat(g->ctx, path, &st) == 0 &&
			    S_ISDIR(st.st_mode))
				r = apply_one(g, *x, g->context, root);
			if (r >= 0)
				vs_clear_error(g->ctx);
		}
	}
	free(root);
	vs_strv_free(xs);
	return r < 0 ? -1 : 0;
}
