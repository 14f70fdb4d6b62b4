/* vs attr show|set (also installed as showattr and setattr): util-vserver's
 * 9-letter attribute field (COMPAT §8) on a vanilla kernel.  Letters, low
 * bit first: a admin, w watch, h hide, m write, b barrier, u iunlink,
 * i immutable, c cow, x xid.  Uppercase = set, lowercase = supported but
 * unset, '-' = what this kernel cannot hold for that file.  Immutable and
 * append are the file system's flags; barrier is emulated on directories
 * as util-vserver did without its kernel (mode 000).  Nothing here follows
 * a symlink, and device nodes are never opened. */
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

struct attr_opts {
	bool recurse, all, dir_itself, one_fs;
	int set, clear; /* FS_*_FL */
	int barrier;    /* 1 set, -1 clear, 0 leave */
	dev_t dev;
	int errors;
};

/* Opens an entry for its flags: regular files and directories only. */
static int open_entry(int dirfd, const char *name, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
		return -1;
	return openat(dirfd, name,
		      O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

static void show_one(int dirfd, const char *name, const char *shown,
		     struct attr_opts *o)
{
	struct stat st;
	char field[10] = "---------";
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		printf("%-9s %s\n", "ERR", shown);
		o->errors++;
		return;
	}
	int fd = open_entry(dirfd, name, &st);
	int flags = 0;
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0)
		field[6] = (flags & FS_IMMUTABLE_FL) ? 'I' : 'i';
	if (fd >= 0)
		close(fd);
	if (S_ISDIR(st.st_mode))
		field[4] = (st.st_mode & 07777) == 0 ? 'B' : 'b';
	printf("%s ", field);
	vs_print_line(stdout, "", shown);
}

static void set_one(int dirfd, const char *name, const char *shown,
		    struct attr_opts *o)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fprintf(stderr, "vs: cannot set attributes of '%s': %s\n", shown,
			strerror(errno));
		o->errors++;
		return;
	}
	if (S_ISLNK(st.st_mode)) {
		fprintf(stderr, "vs: cannot set attributes of '%s': a symlink "
				"(not followed)\n",
			shown);
		o->errors++;
		return;
	}
	if (o->barrier) {
		if (!S_ISDIR(st.st_mode)) {
			fprintf(stderr, "vs: cannot set the barrier on '%s': not "
					"a directory\n",
				shown);
			o->errors++;
		} else if (fchmodat(dirfd, name, o->barrier > 0 ? 0 : 0500, 0) <
			   0) {
			fprintf(stderr, "vs: cannot set the barrier on '%s': %s\n",
				shown, strerror(errno));
			o->errors++;
		}
	}
	if (!o->set && !o->clear)
		return;
	int fd = open_entry(dirfd, name, &st);
	int flags;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
		fprintf(stderr, "vs: cannot set attributes of '%s': %s\n", shown,
			fd < 0 ? "not a regular file or directory"
			       : strerror(errno));
		o->errors++;
	} else {
		int want = (flags | o->set) & ~o->clear;
		if (want != flags && ioctl(fd, FS_IOC_SETFLAGS, &want) < 0) {
			fprintf(stderr, "vs: cannot set attributes of '%s': %s\n",
				shown, strerror(errno));
			o->errors++;
		}
	}
	if (fd >= 0)
		close(fd);
}

static void walk(int dirfd, const char *shown, struct attr_opts *o, bool set,
		 int depth)
{
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return;
	struct dirent *e;
	char **subs = NULL;
	size_t nsubs = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_name[0] == '.' && !o->all && !set)
			continue;
		char *p = vs_asprintf("%s/%s", shown, e->d_name);
		(set ? set_one : show_one)(dirfd, e->d_name, p, o);
		struct stat st;
		if (o->recurse &&
		    fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && (!o->one_fs || st.st_dev == o->dev)) {
			subs = vs_xrealloc(subs, (nsubs + 1) * sizeof(*subs));
			subs[nsubs++] = vs_strdup(e->d_name);
		}
		free(p);
	}
	/* files first, then the subdirectories */
	for (size_t i = 0; i < nsubs; i++) {
		int fd = openat(dirfd, subs[i],
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && depth < 512) {
			char *p = vs_asprintf("%s/%s", shown, subs[i]);
			walk(fd, p, o, set, depth + 1);
			free(p);
		}
		if (fd >= 0)
			close(fd);
		free(subs[i]);
	}
	free(subs);
	closedir(d);
}

/* One argument: its parent directory, then the entry itself. */
static void one_arg(const char *arg, struct attr_opts *o, bool set)
{
	char *copy = vs_strdup(arg);
	size_t n = strlen(copy);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';
	char *slash = strrchr(copy, '/');
	const char *name = slash ? (slash[1] ? slash + 1 : ".") : copy;
	char *dir = slash ? (slash == copy ? vs_strdup("/")
					   : strndup(copy, (size_t)(slash - copy)))
			  : vs_strdup(".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (dfd < 0 || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		fprintf(stderr, "vs: cannot read '%s': %s\n", arg,
			strerror(errno));
		o->errors++;
	} else {
		o->dev = st.st_dev;
		bool into = S_ISDIR(st.st_mode) && (set ? o->recurse : !o->dir_itself);
		(set ? set_one : show_one)(dfd, name, arg, o);
		if (into) {
			int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
							   O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				walk(fd, n > 1 && copy[n - 1] == '/' ? copy : copy,
				     o, set, 0);
				close(fd);
			}
		}
	}
	if (dfd >= 0)
		close(dfd);
	free(dir);
	free(copy);
}

static int parse_set_flag(const char *opt, struct attr_opts *o)
{
	const char *f = opt + 2;
	bool neg = *f == '~' || *f == '!';
	if (neg)
		f++;
	int bit = 0;
	if (!strcmp(f, "immutable") || !strcmp(f, "immu") ||
	    !strcmp(f, "iunlink"))
		bit = FS_IMMUTABLE_FL;
	else if (!strcmp(f, "append"))
		bit = FS_APPEND_FL;
	else if (!strcmp(f, "barrier")) {
		o->barrier = neg ? -1 : 1;
		return 0;
	} else if (!strcmp(f, "admin") || !strcmp(f, "watch") ||
		   !strcmp(f, "hide") || !strcmp(f, "write") ||
		   !strcmp(f, "cow") || !strcmp(f, "iunlink-but-not-immutable") ||
		   !strcmp(f, "ixunlink"))
		return 1; /* the kernel has no such attribute */
	else
		return -1;
	if (neg)
		o->clear |= bit;
	else
		o->set |= bit;
	return 0;
}

int cmd_attr(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	     int argc, char **argv)
{
	(void)unused;
	(void)n;
	if (argc < 2 || (strcmp(argv[1], "show") && strcmp(argv[1], "set"))) {
		vs_set_error(ctx, "attr: usage: vs attr show [-Radx] [files] | "
				  "vs attr set [-Rx] --[~]flag... files");
		return 2;
	}
	bool set = !strcmp(argv[1], "set");
	struct attr_opts o = {0};
	int i = 2;
	bool flags_done = false;
	for (; i < argc && argv[i][0] == '-' && !flags_done; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			flags_done = true;
			continue;
		}
		if (set && a[1] == '-') {
			int r = parse_set_flag(a, &o);
			if (r > 0) {
				vs_set_error(ctx,
					     "setattr: '%s' needs the "
					     "Linux-VServer kernel",
					     a);
				return 1;
			}
			if (r < 0) {
				vs_set_error(ctx, "setattr: unknown flag '%s'", a);
				return 2;
			}
			continue;
		}
		for (const char *c = a + 1; *c; c++) {
			if (*c == 'R')
				o.recurse = true;
			else if (*c == 'x')
				o.one_fs = true;
			else if (!set && *c == 'a')
				o.all = true;
			else if (!set && *c == 'd')
				o.dir_itself = true;
			else {
				vs_set_error(ctx, "%s: unknown option '-%c'",
					     set ? "setattr" : "showattr", *c);
				return 2;
			}
		}
	}
	if (set && !o.set && !o.clear && !o.barrier) {
		vs_set_error(ctx, "setattr: no flag given (--immutable, "
				  "--~immutable, --append, --barrier, ...)");
		return 2;
	}
	if (set && i >= argc) {
		vs_set_error(ctx, "setattr: no file given");
		return 2;
	}
	if (i >= argc)
		one_arg(".", &o, set);
	for (; i < argc; i++)
		one_arg(argv[i], &o, set);
	return o.errors ? 1 : 0;
}
