/* hashify --migrate: renames the hardlink entries an earlier vs named by
 * their mtime in whole seconds ("-t1700000000-") to the exact names of
 * this one (nanoseconds, file flags), read from the entries themselves.
 * Nothing is linked or unlinked: the guests' files keep their inodes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "hashstore.h"
#include "unify.h"

struct migrate {
	struct vs_ctx *ctx;
	bool dry_run;
	int verbose;
	unsigned long long renamed, left;
};

/* The exact class cut back to what an earlier vs wrote: no nanoseconds,
 * no flags. */
static void old_form(const char *cls, char *out, size_t size)
{
	snprintf(out, size, "%s", cls);
	char *t = strstr(out, "-t"), *dot = t ? strchr(t, '.') : NULL;
	if (dot && strlen(dot) >= 10)
		memmove(dot, dot + 10, strlen(dot + 10) + 1);
	char *f = strstr(out, "-f");
	if (f)
		*f = '\0';
}

static void migrate_entry(int xfd, const char *name, ino_t ino,
			  const char *shown, void *arg)
{
	struct migrate *m = arg;
	(void)ino;
	if (strlen(name) <= VS_DIGEST_HEX + 1 || name[VS_DIGEST_HEX] != '-' ||
	    !vs_hclass_is_old(name + VS_DIGEST_HEX + 1))
		return;
	int fd = openat(xfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
	struct stat st;
	char cls[128], old[128], to[VS_DIGEST_HEX + 130];
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    vs_hclass(fd, &st, false, cls, sizeof(cls)) < 0) {
		m->left++;
		vs_warn(m->ctx, "cannot read store entry '%s': %s", shown,
			strerror(fd < 0 || errno == 0 ? EINVAL : errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	old_form(cls, old, sizeof(old));
	snprintf(to, sizeof(to), "%.*s-%s", VS_DIGEST_HEX, name, cls);
	if (strcmp(old, name + VS_DIGEST_HEX + 1)) {
		m->left++;
		vs_warn(m->ctx,
			"store entry '%s' does not match its name (its metadata "
			"is %s): left as it is",
			shown, cls);
	} else if (m->dry_run) {
		printf("renaming '%s' to '%s'\n", shown, to);
		m->renamed++;
	} else {
		if (m->verbose >= 1)
			printf("renaming '%s' to '%s'\n", shown, to);
		/* a shared inode is immutable, and so its names: the flag
		 * goes for the moment of the rename */
		bool imm = vs_is_immutable(fd);
		int r = imm ? vs_set_immutable(fd, false) : 0;
		if (r == 0)
			r = renameat2(xfd, name, xfd, to, RENAME_NOREPLACE);
		int e = errno;
		if (imm)
			vs_set_immutable(fd, true);
		if (r < 0) {
			m->left++;
			vs_warn(m->ctx, "cannot rename store entry '%s': %s",
				shown, strerror(e));
		} else {
			m->renamed++;
		}
	}
	close(fd);
}

int vs_hash_migrate(struct vs_ctx *ctx, const char *hashdir, unsigned flags,
		    int verbose)
{
	struct migrate m = {.ctx = ctx,
			    .dry_run = flags & VS_UNIFY_DRY_RUN,
			    .verbose = verbose};
	if (vs_hstores_each(ctx, hashdir, migrate_entry, &m) < 0)
		return -1;
	printf("migrate: %llu entries renamed, %llu left\n", m.renamed, m.left);
	if (m.left)
		return vs_set_error(ctx,
				    "%llu store entries could not be renamed",
				    m.left);
	return 0;
}
