/* The shared build front end (COMPAT §2.1, §2.2), carried by the skeleton
 * plugin for every method: common options (options.c), checks
 * (checks.c), the skeleton every method starts from and cleanup of a
 * failed build (newroot.c), the services methods call (services.c).
 * This file: the order.
 *
 * Order: parse and validate everything (nothing written), let the method
 * validate its own arguments (prepare), move old trees aside (--force),
 * create the skeleton, run the method's payload (build), then commit the
 * context counter.  Any failure after the first write removes what this
 * build created, unless --keep, and moves --force'd trees back. */
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

static void build_free(struct vs_build *b)
{
	free(b->name);
	free(b->dist);
	free(b->rootdir);
	free(b->vdir);
	free(b->cfgdir);
	free(b->cachebase);
	free(b->lockfile);
	free(b->pkgbase);
	free(b->moved_vdir);
	free(b->moved_cfg);
	free(b->pkgdir);
	free(b->moved_pkg);
	for (size_t i = 0; i < b->nparents; i++)
		free(b->parents[i].path);
	for (size_t i = 0; i < b->nenv; i++)
		free(b->env[i]);
	for (size_t i = 0; i < b->nflags; i++)
		free(b->flags[i]);
	if (b->rootfd >= 0)
		close(b->rootfd);
	if (b->cfgfd >= 0)
		close(b->cfgfd);
}

/* A string for JSON (with its quotes). */
static void json_string(const char *s)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c < 0x20)
			printf("\\u%04x", *c);
		else
			putchar(*c);
	putchar('"');
}

/* build --json: what was built, as a program wants it. */
static void print_json(struct vs_build *b)
{
	char root[PATH_MAX], cfg[PATH_MAX];
	fputs("{\"guest\":", stdout);
	json_string(b->name);
	fputs(",\"method\":", stdout);
	json_string(b->method);
	if (b->context)
		printf(",\"context\":%u", b->context);
	fputs(",\"root\":", stdout);
	json_string(vs_host_real(b->ctx, b->vdir, root, sizeof(root)));
	fputs(",\"config\":", stdout);
	json_string(vs_host_real(b->ctx, b->cfgdir, cfg, sizeof(cfg)));
	puts("}");
}

int vs_build_front_run(struct vs_ctx *ctx, const char *name, int argc,
		       char **argv)
{
	struct vs_build b = {.head = {.svc = &services},
			     .ctx = ctx,
			     .rootfd = -1,
			     .cfgfd = -1,
			     .userns = -1};
	int margc = 0, ndef, r = -1, lockfd = -1;
	char **margv = NULL, **defs = default_options(ctx, &ndef);

	/* argv[0] is the verb; .defaults options go before the CLI ones */
	char **all = vs_xmalloc((size_t)(argc + ndef + 1) * sizeof(*all));
	all[0] = argv[0];
	for (int i = 0; i < ndef; i++)
		all[1 + i] = defs[i];
	for (int i = 1; i < argc; i++)
		all[ndef + i] = argv[i];
	all[argc + ndef] = NULL;

	b.name = vs_strdup(name);
	int p = parse_options(&b, argc + ndef, all, &margc, &margv);
	if (p == 1) {
		fputs(vs_build_front_usage, stdout);
		r = 1;
		goto out;
	}
	if (p < 0)
		goto out;
	if (!b.method) {
		vs_set_error(ctx, "build: no method given (use -m <method>)");
		goto out;
	}
	b.plugin = vs_plugin_load(ctx, VS_KIND_BUILD, b.method);
	if (!b.plugin)
		goto out;
	if (setup_paths(&b) < 0)
		goto out;
	/* Concurrent builds: claiming the name and the context happens under
	 * an exclusive flock of the host's root directory: an object that
	 * always exists (the configuration directory may not yet) and needs
	 * no lock file, so a refused build changes nothing on disk. */
	lockfd = vs_host_open(ctx, "/", O_RDONLY | O_DIRECTORY, 0);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		vs_set_errno(ctx, errno, "cannot lock the configuration");
		goto out;
	}
	if (check_existing(&b) < 0 || check_context(&b) < 0)
		goto out;
	const struct vs_build_ops *ops = b.plugin->ops;
	if (ops->prepare) {
		if (ops->prepare(&b, margc, margv) < 0)
			goto out;
	} else if (margc > 0) {
		vs_set_error(ctx, "build method '%s' takes no options ('%s')",
			     b.method, margv[0]);
		goto out;
	}
	if (b.pkgmgmt && check_pkgdir(&b) < 0)
		goto out;
	/* from here on, the disk changes */
	if (b.force) {
		bool exists;
		if (move_aside(&b, b.cfgdir, &b.moved_cfg) < 0)
			goto fail;
		if (!dir_empty(ctx, b.vdir, &exists) &&
		    move_aside(&b, b.vdir, &b.moved_vdir) < 0)
			goto fail;
		if (b.pkgdir && !dir_empty(ctx, b.pkgdir, &exists) &&
		    move_aside(&b, b.pkgdir, &b.moved_pkg) < 0)
			goto fail;
	}
	if (create_skeleton(&b) < 0)
		goto fail;
	if (lockfd >= 0) {
		close(lockfd); /* the name and context are taken on disk now */
		lockfd = -1;
	}
	if (run_distrib_script(&b, "initpre") < 0 || ops->build(&b) < 0 ||
	    run_distrib_script(&b, "initpost") < 0 || settle_guest(&b) < 0)
		goto fail;
	if (b.store_next && vs_context_store_next(ctx, b.context_next) < 0)
		goto fail;
	if (b.json)
		print_json(&b);
	r = 0;
	goto out;
fail:
	cleanup(&b);
out:
	if (lockfd >= 0)
		close(lockfd);
	build_free(&b);
	for (int i = 0; i < ndef; i++)
		free(defs[i]);
	free(defs);
	free(all);
	return r;
}
