/* The build front end's paths and existence checks, and moving old
 * trees aside (--force) and back. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "build.h"

/* ---- paths and existence checks -------------------------------------- */

bool dir_empty(struct vs_ctx *ctx, const char *path, bool *exists)
{
	int fd = vs_host_open(ctx, path, O_RDONLY | O_DIRECTORY, 0);
	*exists = fd >= 0 || errno != ENOENT;
	if (fd < 0)
		return errno == ENOENT;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "lost+found"))
			empty = false;
	closedir(d);
	return empty;
}

int setup_paths(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char path[PATH_MAX], real[PATH_MAX];
	const char *confdir = vs_path(ctx, VS_PATH_CONFDIR);

	if (!b->rootdir) {
		snprintf(path, sizeof(path), "%s/.defaults/vdirbase", confdir);
		b->rootdir = vs_host_isdir(ctx, path)
				     ? vs_strdup(path)
				     : vs_strdup(vs_path(ctx, VS_PATH_VROOTDIR));
	} else if (!vs_host_isdir(ctx, b->rootdir)) {
		return vs_set_error(ctx,
				    "root directory '%s' does not exist or is "
				    "not a directory",
				    vs_host_real(ctx, b->rootdir, real,
						 sizeof(real)));
	}
	snprintf(path, sizeof(path), "%s/.defaults/cachebase", confdir);
	b->cachebase = vs_host_isdir(ctx, path)
			       ? vs_strdup(path)
			       : vs_strdup(vs_path(ctx, VS_PATH_CACHEDIR));
	if (!b->pkgbase) {
		snprintf(path, sizeof(path), "%s/.defaults/apps/pkgmgmt/base",
			 confdir);
		if (vs_host_isdir(ctx, path))
			b->pkgbase = vs_strdup(path);
		else
			b->pkgbase = vs_path_join(b->rootdir, ".pkg");
	}
	b->vdir = vs_path_join(b->rootdir, b->name);
	if (!b->cfgdir)
		b->cfgdir = vs_path_join(confdir, b->name);
	if (!b->lockfile)
		b->lockfile = vs_path_join(vs_path(ctx, VS_PATH_RUNDIR), b->name);
	return 0;
}

int check_context(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char path[PATH_MAX];
	if (b->have_context) {
		char *user = vs_context_user(ctx, b->context);
		if (user && b->force && strcmp(user, b->name) == 0) {
			free(user); /* its configuration is moved aside */
			user = NULL;
		}
		if (user) {
			vs_set_error(ctx,
				     "context %u is already used by guest '%s'",
				     b->context, user);
			free(user);
			return -1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/.defaults/context.dynamic",
		 vs_path(ctx, VS_PATH_CONFDIR));
	if (vs_host_exists(ctx, path) == 1)
		return 0;
	if (vs_context_allocate(ctx, &b->context, &b->context_next) < 0)
		return -1;
	b->have_context = true;
	b->store_next = true;
	return 0;
}

int check_existing(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char real[PATH_MAX];
	bool vdir_exists, cfg_exists = vs_host_exists(ctx, b->cfgdir) != 0;
	bool empty = dir_empty(ctx, b->vdir, &vdir_exists);
	struct stat st;
	if (!cfg_exists && vs_host_lstat(ctx, b->cfgdir, &st) == 0)
		cfg_exists = true; /* a dangling symlink counts too */
	/* never a root another guest has: deleting one would take both */
	char *canon = vdir_exists ? vs_host_canon(ctx, b->vdir) : NULL;
	const char *kind = NULL;
	char *other = canon ? vs_guest_dir_owner(ctx, canon, b->name, &kind)
			    : NULL;
	free(canon);
	if (other) {
		vs_set_error(ctx, "root '%s' is also the %s of guest '%s'",
			     vs_host_real(ctx, b->vdir, real, sizeof(real)),
			     kind, other);
		free(other);
		return -1;
	}
	if (b->force)
		return 0;
	if (cfg_exists)
		return vs_set_error(ctx,
				    "guest '%s' exists already (configuration "
				    "'%s'); use --force to move it aside",
				    b->name,
				    vs_host_real(ctx, b->cfgdir, real,
						 sizeof(real)));
	if (!empty && !b->iknow)
		return vs_set_error(ctx,
				    "root '%s' exists and is not empty; use "
				    "--force to move it aside or "
				    "--i-know-its-there",
				    vs_host_real(ctx, b->vdir, real,
						 sizeof(real)));
	return 0;
}

/* The package-management directory must be new (or empty) unless
 * --force moves it aside: a failed build removes only what it made. */
int check_pkgdir(struct vs_build *b)
{
	char real[PATH_MAX];
	bool exists;
	b->pkgdir = vs_path_join(b->pkgbase, b->name);
	if (b->force || dir_empty(b->ctx, b->pkgdir, &exists))
		return 0;
	return vs_set_error(b->ctx,
			    "package directory '%s' exists and is not empty; "
			    "use --force to move it aside",
			    vs_host_real(b->ctx, b->pkgdir, real, sizeof(real)));
}

/* Renames path to path.~<secs>~ (host view); *moved gets the new name. */
int move_aside(struct vs_build *b, const char *path, char **moved)
{
	const char *base;
	char newname[NAME_MAX + 1];
	int dfd = vs_host_parent(b->ctx, path, &base);
	if (dfd < 0)
		return errno == ENOENT ? 0 : fail_path(b, "open parent of", path);
	snprintf(newname, sizeof(newname), "%s.~%lld~", base,
		 (long long)time(NULL));
	remember_parent(b, path);
	int r = renameat2(dfd, base, dfd, newname, RENAME_NOREPLACE);
	int e = errno;
	close(dfd);
	if (r < 0) {
		if (e == ENOENT)
			return 0;
		errno = e;
		return fail_path(b, "move aside", path);
	}
	*moved = vs_asprintf("%.*s%s", (int)(base - path), path, newname);
	char real[PATH_MAX], real2[PATH_MAX];
	vs_info(b->ctx, 0, "moved '%s' to '%s'",
		vs_host_real(b->ctx, path, real, sizeof(real)),
		vs_host_real(b->ctx, *moved, real2, sizeof(real2)));
	return 0;
}

void move_back(struct vs_build *b, const char *path, char *moved)
{
	const char *base, *mbase;
	if (!moved)
		return;
	int dfd = vs_host_parent(b->ctx, path, &base);
	mbase = vs_basename(moved);
	if (dfd >= 0) {
		if (renameat2(dfd, mbase, dfd, base, RENAME_NOREPLACE) < 0)
			vs_warn(b->ctx, "cannot move '%s' back: %s", moved,
				strerror(errno));
		close(dfd);
	}
}
