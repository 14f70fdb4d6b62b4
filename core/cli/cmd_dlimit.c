/* vs <guest> dlimit (util-vserver's vdlimit) and vs <guest> du (vdu):
 * the guest's disk limit as the project quota of its context, and the
 * space and inodes of its project's files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int open_dir(struct vs_ctx *ctx, const char *dir)
{
	char real[PATH_MAX];
	int fd = vs_host_open(ctx, dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		vs_set_errno(ctx, errno, "cannot open '%s'",
			     vs_host_real(ctx, dir, real, sizeof(real)));
	return fd;
}

static void put(const char *key, unsigned long long v, bool limit)
{
	if (limit && v == 0)
		printf("%s=-1\n", key); /* util-vserver: no limit */
	else
		printf("%s=%llu\n", key, v);
}

int cmd_dlimit(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
	       int argc, char **argv)
{
	(void)n;
	bool set = false, remove = false, have_sp = false, have_in = false;
	unsigned long long sp = 0, in = 0;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--remove") || !strcmp(o, "-d")) {
			remove = true;
		} else if ((!strcmp(o, "--set") || !strcmp(o, "-s")) &&
			   i + 1 < argc) {
			char *kv = argv[++i], *eq = strchr(kv, '='), *end;
			if (!eq)
				return vs_set_error(ctx, "dlimit: --set needs "
							 "<limit>=<value>, not "
							 "'%s'",
						    kv),
				       2;
			long long v = strtoll(eq + 1, &end, 10);
			if (*end || eq[1] == '\0' || v < -1)
				return vs_set_error(ctx, "dlimit: %s: not a "
							 "number",
						    kv),
				       2;
			unsigned long long u = v < 0 ? 0 : (unsigned long long)v;
			size_t k = (size_t)(eq - kv);
			if (!strncmp(kv, "space_total", k) && k == 11)
				sp = u, have_sp = true;
			else if (!strncmp(kv, "inodes_total", k) && k == 12)
				in = u, have_in = true;
			else if ((k == 10 && !strncmp(kv, "space_used", k)) ||
				 (k == 11 && !strncmp(kv, "inodes_used", k)) ||
				 (k == 8 && !strncmp(kv, "reserved", k)))
				; /* the file system counts; nothing reserved */
			else
				return vs_set_error(ctx, "dlimit: unknown limit "
							 "'%.*s'",
						    (int)k, kv),
				       2;
			set = true;
		} else if (!strcmp(o, "--flags") && i + 1 < argc) {
			i++;
		} else {
			return cmd_bad_option(ctx, "dlimit", o);
		}
	}
	if (argc - i != 1)
		return vs_set_error(ctx, "dlimit: usage: vs <guest> dlimit "
					 "[--set <limit>=<value>]... [--remove] "
					 "<directory>"),
		       2;
	if (!g->context)
		return vs_set_error(ctx, "dlimit: guest '%s' has no static "
					 "context (the project id)",
				    g->name),
		       1;
	int fd = open_dir(ctx, argv[i]);
	if (fd < 0)
		return 1;
	struct vs_dlimit d;
	int r = 0;
	if (vs_quota_get(fd, g->context, &d) < 0) {
		r = vs_set_errno(ctx, errno, "dlimit: no project quota on '%s'",
				 argv[i]);
	} else if (remove || set) {
		if (remove)
			sp = in = 0;
		if (!remove && !have_sp)
			sp = d.space_total;
		if (!remove && !have_in)
			in = d.inodes_total;
		if (vs_quota_set(fd, g->context, sp, in) < 0)
			r = vs_set_errno(ctx, errno, "dlimit: cannot set the "
						     "project quota on '%s'",
					 argv[i]);
	} else {
		printf("%u %s\n", g->context, argv[i]);
		put("space_used", d.space_used, false);
		put("space_total", d.space_total, true);
		put("inodes_used", d.inodes_used, false);
		put("inodes_total", d.inodes_total, true);
		put("reserved", 0, false);
	}
	close(fd);
	return r < 0 ? 1 : 0;
}

/* Files with more than one link are counted once: their inodes and
 * blocks are kept, sorted and summed at the end. */
struct linked {
	ino_t ino;
	unsigned long long blocks;
};
struct usage {
	unsigned long long blocks, inodes;
	struct linked *multi;
	size_t nmulti, cap;
};

static void add_multi(struct usage *u, ino_t ino, unsigned long long blocks)
{
	if (u->nmulti == u->cap) {
		u->cap = u->cap ? 2 * u->cap : 64;
		u->multi = vs_xrealloc(u->multi, u->cap * sizeof(*u->multi));
	}
	u->multi[u->nmulti++] = (struct linked){ino, blocks};
}

static int cmp_linked(const void *a, const void *b)
{
	ino_t x = ((const struct linked *)a)->ino,
	      y = ((const struct linked *)b)->ino;
	return x < y ? -1 : x > y;
}

static void sum_multi(struct usage *u)
{
	qsort(u->multi, u->nmulti, sizeof(*u->multi), cmp_linked);
	for (size_t i = 0; i < u->nmulti; i++)
		if (i == 0 || u->multi[i].ino != u->multi[i - 1].ino) {
			u->blocks += u->multi[i].blocks;
			u->inodes++;
		}
}

/* The project of one entry, or -1 when it has none to read. */
static long project_of(int dfd, const char *name, const struct stat *st)
{
	if (!S_ISDIR(st->st_mode) && !S_ISREG(st->st_mode))
		return -1;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_NOCTTY | O_CLOEXEC);
	struct fsxattr fx;
	long id = fd >= 0 && ioctl(fd, FS_IOC_FSGETXATTR, &fx) == 0
			  ? (long)fx.fsx_projid
			  : -1;
	if (fd >= 0)
		close(fd);
	return id;
}

/* Sums what belongs to project id below dfd (one file system, no
 * symlink followed). */
static void du_walk(int dfd, dev_t dev, unsigned id, struct usage *u,
		    int depth)
{
	DIR *d = vs_opendir_fd(dfd);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != dev)
			continue;
		if (project_of(dfd, e->d_name, &st) != (long)id)
			;
		else if (st.st_nlink > 1 && !S_ISDIR(st.st_mode))
			add_multi(u, st.st_ino, (unsigned long long)st.st_blocks);
		else {
			u->blocks += (unsigned long long)st.st_blocks;
			u->inodes++;
		}
		if (S_ISDIR(st.st_mode) && depth < 4096) {
			int fd = openat(dfd, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			if (fd >= 0) {
				du_walk(fd, dev, id, u, depth + 1);
				close(fd);
			}
		}
	}
	closedir(d);
}

int cmd_du(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	   char **argv)
{
	(void)n;
	bool space = false, inodes = false, script = false;
	unsigned long bs = 1024;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		char *end;
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--space"))
			space = true;
		else if (!strcmp(o, "--inodes"))
			inodes = true;
		else if (!strcmp(o, "--script"))
			script = true;
		else if (!strcmp(o, "--blocksize") && i + 1 < argc &&
			 (bs = strtoul(argv[++i], &end, 10)) && !*end)
			;
		else
			return cmd_bad_option(ctx, "du", o);
	}
	if (!space && !inodes)
		return vs_set_error(ctx, "du: --space or --inodes is needed"), 2;
	if (i == argc)
		return vs_set_error(ctx, "du: no directory given"), 2;
	if (!g->context)
		return vs_set_error(ctx, "du: guest '%s' has no static context "
					 "(the project id)",
				    g->name),
		       1;
	for (; i < argc; i++) {
		int fd = open_dir(ctx, argv[i]);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (fd >= 0)
				close(fd);
			return 1;
		}
		struct usage u = {0};
		struct fsxattr fx;
		if (ioctl(fd, FS_IOC_FSGETXATTR, &fx) == 0 &&
		    fx.fsx_projid == g->context) {
			u.blocks += (unsigned long long)st.st_blocks;
			u.inodes++;
		}
		du_walk(fd, st.st_dev, g->context, &u, 0);
		close(fd);
		sum_multi(&u);
		free(u.multi);
		if (!script)
			printf("%s ", argv[i]);
		if (space)
			printf("%llu", u.blocks * 512 / bs);
		if (inodes)
			printf("%s%llu", space ? " " : "", u.inodes);
		putchar('\n');
	}
	return 0;
}
