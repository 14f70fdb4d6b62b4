/* User-namespace guests (opt-in: a `spaces/user` flag): the guest's root
 * is an unprivileged user of the host.
 *
 * Its ids: `userns/uidmap` and `userns/gidmap` (lines "<inside> <outside>
 * <count>", as /proc/<pid>/uid_map), else 65536 ids from the host's
 * /etc/subuid and /etc/subgid entries of root, the slot chosen by the
 * guest's context (context modulo the number of slots).  Two guests with
 * overlapping ranges are refused at start.
 *
 * The guest's root is mounted through an idmapped mount (mount_setattr
 * with MOUNT_ATTR_IDMAP) made by the monitor, so files keep their on-disk
 * owners: a util-vserver guest moves over without a chown, and files
 * shared between guests (unify, hashify) stay shared whatever their
 * ranges. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

#define VS_USERNS_IDS 65536u

/* The first "root:<start>:<count>" line of a subid file (host view). */
static int subid_range(struct vs_ctx *ctx, const char *file,
		       unsigned long *start, unsigned long *count)
{
	char *s = vs_host_read(ctx, file, 1 << 20, NULL);
	char real[PATH_MAX];
	vs_host_real(ctx, file, real, sizeof(real));
	if (!s)
		return vs_set_errno(ctx, errno,
				    "cannot read '%s' (the ids of user-namespace "
				    "guests; or write userns/uidmap)",
				    real);
	int r = -1;
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l && r < 0;
	     l = strtok_r(NULL, "\n", &save))
		if ((!strncmp(l, "root:", 5) || !strncmp(l, "0:", 2)) &&
		    sscanf(strchr(l, ':') + 1, "%lu:%lu", start, count) == 2)
			r = 0;
	free(s);
	if (r < 0)
		return vs_set_error(ctx, "'%s' has no range for root", real);
	return 0;
}

/* One map: the file's lines, or the guest's slot of the subid range. */
static int load_map(struct vs_guest *g, const char *rel, const char *subid,
		    struct vs_idmap *m)
{
	struct vs_ctx *ctx = g->ctx;
	char path[PATH_MAX], real[PATH_MAX];
	memset(m, 0, sizeof(*m));
	if (vs_guest_cfg_find(g, rel, NULL, path, sizeof(path)) == 1) {
		char *s = vs_host_read(ctx, path, 4096, NULL);
		vs_host_real(ctx, path, real, sizeof(real));
		if (!s)
			return vs_set_errno(ctx, errno, "cannot read '%s'", real);
		char *save = NULL;
		int lineno = 0, r = 0;
		for (char *l = strtok_r(s, "\n", &save); l && r == 0;
		     l = strtok_r(NULL, "\n", &save)) {
			lineno++;
			unsigned long in, out, n;
			char extra;
			if (l[strspn(l, " \t")] == '#' || !l[strspn(l, " \t")])
				continue;
			if (sscanf(l, "%lu %lu %lu %c", &in, &out, &n, &extra) != 3 ||
			    !n || in + n > 0xffffffffUL || out + n > 0xffffffffUL ||
			    m->n == VS_IDMAP_MAX)
				r = vs_set_error(ctx,
						 "%s:%d: not '<inside> <outside> "
						 "<count>'",
						 real, lineno);
			else
				m->e[m->n++] = (struct vs_idrange){in, out, n};
		}
		free(s);
		if (r == 0 && !m->n)
			r = vs_set_error(ctx, "'%s' maps no ids", real);
		return r;
	}
	unsigned long start, count;
	if (subid_range(ctx, subid, &start, &count) < 0)
		return -1;
	unsigned long slots = count / VS_USERNS_IDS;
	if (!slots)
		return vs_set_error(ctx,
				    "'%s' gives root fewer than %u ids: a "
				    "user-namespace guest needs %u",
				    vs_host_real(ctx, subid, real, sizeof(real)),
				    VS_USERNS_IDS, VS_USERNS_IDS);
	unsigned long slot = g->context % slots;
	m->e[0] = (struct vs_idrange){0, start + slot * VS_USERNS_IDS,
				      VS_USERNS_IDS};
	m->n = 1;
	return 0;
}

int vs_userns_load(struct vs_guest *g, struct vs_userns *u)
{
	memset(u, 0, sizeof(*u));
	if (!vs_guest_cfg_exists(g, "spaces/user"))
		return 0;
	u->on = true;
	if (load_map(g, "userns/uidmap", "/etc/subuid", &u->uid) < 0 ||
	    load_map(g, "userns/gidmap", "/etc/subgid", &u->gid) < 0)
		return -1;
	return 0;
}

static bool overlap(const struct vs_idmap *a, const struct vs_idmap *b)
{
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (a->e[i].outside < b->e[j].outside + b->e[j].count &&
			    b->e[j].outside < a->e[i].outside + a->e[i].count)
				return true;
	return false;
}

int vs_userns_check_unique(struct vs_guest *g, const struct vs_userns *u)
{
	if (!u->on)
		return 0;
	char **names = vs_guest_list(g->ctx);
	int r = 0;
	for (char **n = names; n && *n && r == 0; n++) {
		if (!strcmp(*n, g->name))
			continue;
		struct vs_guest *o = vs_guest_open(g->ctx, *n);
		struct vs_userns ou;
		if (o && vs_userns_load(o, &ou) == 0 && ou.on &&
		    overlap(&u->uid, &ou.uid))
			r = vs_set_error(g->ctx,
					 "guest '%s' has user ids of guest '%s' "
					 "(%lu..%lu): give one of them "
					 "userns/uidmap or another context",
					 g->name, *n, u->uid.e[0].outside,
					 u->uid.e[0].outside + u->uid.e[0].count - 1);
		vs_guest_free(o);
	}
	vs_strv_free(names);
	if (r == 0)
		vs_clear_error(g->ctx);
	return r;
}

static int write_map(pid_t pid, const char *file, const struct vs_idmap *m)
{
	char path[64], buf[VS_IDMAP_MAX * 40] = "";
	size_t n = 0;
	for (size_t i = 0; i < m->n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%lu %lu %lu\n",
				      m->e[i].inside, m->e[i].outside,
				      m->e[i].count);
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, buf, n);
	int e = errno;
	close(fd);
	errno = e;
	return w == (ssize_t)n ? 0 : -1;
}

int vs_userns_map(struct vs_guest *g, const struct vs_userns *u, pid_t pid)
{
	if (write_map(pid, "uid_map", &u->uid) < 0 ||
	    write_map(pid, "gid_map", &u->gid) < 0)
		return vs_set_errno(g->ctx, errno,
				    "cannot map the ids of guest '%s'", g->name);
	return 0;
}

int vs_userns_root_tree(struct vs_guest *g, const char *root, pid_t pid)
{
	struct vs_ctx *ctx = g->ctx;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0)
		return vs_set_errno(ctx, errno,
				    "cannot open the user namespace of guest "
				    "'%s'",
				    g->name);
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, root,
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
					AT_RECURSIVE);
	if (tree < 0) {
		int e = errno;
		close(ns);
		return vs_set_errno(ctx, e, "cannot bind '%s'", root);
	}
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP,
				  .userns_fd = (uint64_t)ns};
	int r = (int)syscall(SYS_mount_setattr, tree, "",
			     AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr));
	int e = errno;
	close(ns);
	if (r < 0) {
		close(tree);
		struct statfs sf;
		if (e == EINVAL && statfs(root, &sf) == 0)
			return vs_set_error(
				ctx,
				"cannot start guest '%s' in a user namespace: "
				"the file system of '%s' (type 0x%lx) has no "
				"idmapped mounts (ext4, XFS, btrfs and tmpfs "
				"have)",
				g->name, root, (unsigned long)sf.f_type);
		return vs_set_errno(ctx, e,
				    "cannot map the ids of the root of guest "
				    "'%s'",
				    g->name);
	}
	return tree;
}

int vs_userns_become_root(void)
{
	if (setgroups(0, NULL) < 0 && errno != EPERM)
		return -1;
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -1;
	return 0;
}
