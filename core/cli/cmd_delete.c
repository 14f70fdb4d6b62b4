/* vs <guest> delete [--yes|--silent]: removes the root, the configuration
 * directory, the targets of the cache, run and pkgmgmt links, and its
 * console logs. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* True when path is "/" or an ancestor of (or equal to) one of vs's own
 * directories: deleting it would take more than one guest. */
static bool protected_path(const struct vs_ctx *ctx, const char *path)
{
	size_t n = strlen(path);
	if (n <= 1)
		return true;
	for (int i = 0; i <= VS_PATH_LOCKDIR; i++) {
		const char *p = ctx->paths[i];
		if (strncmp(p, path, n) == 0 && (p[n] == '/' || p[n] == '\0'))
			return true;
	}
	return false;
}

/* Removes a host-view path (recursively, never following symlinks). */
static int remove_host(struct vs_ctx *ctx, const char *path, const char *what)
{
	char real[PATH_MAX];
	const char *base, *failed = "";
	if (protected_path(ctx, path))
		return vs_set_error(ctx, "refusing to delete %s '%s'", what,
				    vs_host_real(ctx, path, real, sizeof(real)));
	vs_host_real(ctx, path, real, sizeof(real));
	char *canon = vs_host_canon(ctx, path), creal[PATH_MAX];
	char *mnt = canon ? vs_mount_below(vs_host_real(ctx, canon, creal,
							sizeof(creal)))
			  : NULL;
	free(canon);
	if (mnt) {
		vs_set_error(ctx, "cannot delete '%s': '%s' is a mount point",
			     real, mnt);
		free(mnt);
		return -1;
	}
	int pfd = vs_host_parent(ctx, path, &base);
	if (pfd < 0)
		return errno == ENOENT ? 0
				       : vs_set_errno(ctx, errno,
						      "cannot delete '%s'",
						      vs_host_real(ctx, path, real,
								   sizeof(real)));
	int r = vs_rm_rf_at(pfd, base, &failed);
	int e = errno;
	close(pfd);
	if (r < 0)
		return vs_set_errno(ctx, e, "cannot delete '%s' (at '%s')",
				    vs_host_real(ctx, path, real, sizeof(real)),
				    failed);
	return 0;
}

/* The target of a link in the config dir, as a host-view path. */
static char *link_target(struct vs_guest *g, const char *rel)
{
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir, rel);
	if (vs_host_readlink(g->ctx, path, target, sizeof(target)) < 0 ||
	    target[0] != '/')
		return NULL;
	return vs_strdup(target);
}

static bool confirm(const struct vs_guest *g)
{
	char line[64], real[PATH_MAX], cfg[PATH_MAX];
	printf("Delete guest '%s' with its root '%s' and configuration '%s'? "
	       "[y/N] ",
	       g->name,
	       g->root ? vs_host_real(g->ctx, g->root, real, sizeof(real))
		       : "(none)",
	       vs_host_real(g->ctx, g->cfgdir, cfg, sizeof(cfg)));
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin)) {
		putchar('\n');
		return false;
	}
	vs_first_line(line);
	return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0 ||
	       strcmp(line, "yes") == 0;
}

int cmd_delete(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
	       int argc, char **argv)
{
	static const char *const names[] = {"--yes", "-y", "--silent", NULL};
	bool seen[3] = {false};
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	if (vs_guest_running(g))
		return vs_set_error(ctx, "guest '%s' is running; stop it first",
				    g->name),
		       1;
	char *cache = link_target(g, "cache");
	char *run = link_target(g, "run");
	char *pkg = link_target(g, "apps/pkgmgmt/base");
	char *clog = vs_console_log_path(g);
	char *clog1 = vs_asprintf("%s.1", clog);
	char real[PATH_MAX];
	const char *bad = NULL;
	if (g->root && protected_path(ctx, g->root))
		bad = g->root;
	else if (cache && protected_path(ctx, cache))
		bad = cache;
	else if (pkg && protected_path(ctx, pkg))
		bad = pkg;
	/* a directory another guest has too (a copied configuration) would
	 * take that guest's data with it */
	const char *kind = NULL, *okind = NULL;
	char *other = NULL;
	for (const char *const *k = vs_guest_dir_kinds; !bad && *k && !other;
	     k++) {
		char *c = vs_guest_dir_canon(g, *k);
		if (c && (other = vs_guest_dir_owner(ctx, c, g->name, &okind)))
			kind = *k;
		free(c);
	}
	/* unified files: their links go only while no guest runs */
	bool shared = false;
	if (!bad && g->root) {
		int rfd = vs_host_open(ctx, g->root, O_RDONLY | O_DIRECTORY, 0);
		shared = rfd >= 0 && vs_has_shared_files(rfd);
		if (rfd >= 0)
			close(rfd);
	}
	const char *running = NULL;
	char **ids = shared ? vs_guest_list(ctx) : NULL;
	for (char **id = ids; id && *id && !running; id++) {
		struct vs_guest *o = vs_guest_open(ctx, *id);
		if (o && vs_guest_running(o))
			running = vs_strdup(*id);
		vs_guest_free(o);
	}
	vs_strv_free(ids);
	vs_rm_allow_shared(shared && !running);
	if (bad) {
		vs_set_error(ctx, "refusing to delete '%s': it is not a guest's "
				  "own directory",
			     vs_host_real(ctx, bad, real, sizeof(real)));
		r = 1;
	} else if (other) {
		vs_set_error(ctx,
			     "refusing to delete guest '%s': its %s is also "
			     "the %s of guest '%s' (a copied configuration?)",
			     g->name, kind, okind, other);
		r = 1;
	} else if (running) {
		vs_set_error(ctx,
			     "guest '%s' has files shared with other guests "
			     "(unified); stop every guest (guest '%s' is "
			     "running) or deunify it first",
			     g->name, running);
		r = 1;
	} else if (!(seen[0] || seen[1] || seen[2]) && !confirm(g)) {
		vs_set_error(ctx, "delete: not confirmed; nothing deleted");
		r = 1;
	} else if ((g->root && remove_host(ctx, g->root, "root") < 0) ||
		   (cache && remove_host(ctx, cache, "cache") < 0) ||
		   (run && remove_host(ctx, run, "run file") < 0) ||
		   (vs_host_exists(ctx, clog) == 1 &&
		    remove_host(ctx, clog, "console log") < 0) ||
		   (vs_host_exists(ctx, clog1) == 1 &&
		    remove_host(ctx, clog1, "console log") < 0) ||
		   (pkg && remove_host(ctx, pkg, "package directory") < 0) ||
		   remove_host(ctx, g->cfgdir, "configuration") < 0) {
		r = 1;
	}
	free(cache);
	free(run);
	free(pkg);
	free(clog);
	free(clog1);
	free((char *)running);
	free(other);
	return r;
}
