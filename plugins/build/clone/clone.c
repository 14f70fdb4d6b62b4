/* Build method "clone" (util-vserver's clone method and vserver-copy on
 * one host): a copy of a stopped guest under a new name.
 *   vs <new> build -m clone [common options] -- --source <guest>
 *   vs <guest> clone <new> [common options]          (the same)
 * The root is copied as rsync -aHAXS --numeric-ids would (reflinks where
 * the file system can; a file unification shares stays shared); the
 * configuration too, but for what makes a guest itself: its name,
 * context, root, cache and run links, addresses (interfaces/), uuid and
 * id maps come new from the build (--context, --interface, ...), and
 * dlimits/ follow the new root. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vs/plugin.h>

#include "clone.h"
#include "copytree.h"

struct clone_opts {
	struct vs_guest *src;
	bool archive; /* --archive -: a copy's stream on stdin */
};

static struct clone_opts clone_state;

static int clone_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct clone_opts *o = &clone_state;
	const char *source = NULL;
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if ((!strcmp(argv[i], "--source") || !strcmp(argv[i], "-s")) &&
		    i + 1 < argc)
			source = argv[++i];
		else if (!strcmp(argv[i], "--archive") && i + 1 < argc &&
			 !strcmp(argv[i + 1], "-")) {
			o->archive = true;
			i++;
		} else
			return vs_set_error(ctx, "clone: unknown or incomplete "
						 "option '%s'",
					    argv[i]);
	}
	if (o->archive && !source) {
		vs_build_set_data(b, o);
		return 0;
	}
	if (!source || o->archive)
		return vs_set_error(ctx, "clone: one guest to copy (--source "
					 "<guest>) or a copy's stream "
					 "(--archive -)");
	o->src = vs_guest_open(ctx, source);
	if (!o->src)
		return -1;
	if (!vs_guest_root(o->src)) {
		vs_set_error(ctx, "clone: guest '%s' has no root", source);
		vs_guest_free(o->src);
		return -1;
	}
	if (vs_guest_running(o->src)) {
		vs_set_error(ctx, "clone: guest '%s' is running: stop it first "
				  "(a copy of a running guest is not a "
				  "consistent one)",
			     vs_guest_name(o->src));
		vs_guest_free(o->src);
		return -1;
	}
	vs_build_set_data(b, o);
	return 0;
}

bool clone_own_config(const char *rel)
{
	static const char *const own[] = {
		"/context", "/name",	 "/vdir",     "/cache",
		"/run",	    "/interfaces", "/uuid",   "/userns",
		"/hostname", "/uts/nodename", "/apps/pkgmgmt/base", NULL};
	for (const char *const *p = own; *p; p++) {
		size_t n = strlen(*p);
		if (!strncmp(rel, *p, n) && (!rel[n] || rel[n] == '/'))
			return true;
	}
	return false;
}

static bool own_config(struct vs_copy *c, const char *rel,
		       const struct stat *st)
{
	(void)c;
	(void)st;
	return clone_own_config(rel);
}

/* Empties the new root the front end made (its /dev, /etc/hosts...):
 * the copy brings the source's. */
static int empty_root(struct vs_ctx *ctx, int rootfd)
{
	DIR *d = clone_opendir(rootfd);
	if (!d)
		return vs_set_errno(ctx, errno, "clone: cannot read the new root");
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		const char *failed = NULL;
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    vs_rm_rf_at(rootfd, e->d_name, &failed) < 0)
			r = vs_set_errno(ctx, errno, "clone: cannot clear '%s' of "
						     "the new root",
					 failed ? failed : e->d_name);
	}
	closedir(d);
	return r;
}

/* dlimits/<x>/directory naming the source's root (or below) names the
 * new one's. */
static int move_dlimits(struct vs_build *b, int cfgfd, const char *oldroot)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/dlimits", vs_build_cfgdir(b));
	char **xs = vs_host_list(ctx, dir);
	vs_clear_error(ctx);
	size_t n = strlen(oldroot);
	int r = 0;
	for (char **x = xs; x && *x && r == 0; x++) {
		char rel[4096], p[4096];
		snprintf(rel, sizeof(rel), "dlimits/%s/directory", *x);
		snprintf(p, sizeof(p), "%s/%s", vs_build_cfgdir(b), rel);
		char *v = vs_host_read(ctx, p, 4096, NULL);
		if (!v)
			continue;
		vs_first_line(v);
		if (!strncmp(v, oldroot, n) && (!v[n] || v[n] == '/')) {
			char *nv = vs_asprintf("%s%s\n", vs_build_root(b), v + n);
			int dl = openat(cfgfd, "dlimits",
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			int xd = dl < 0 ? -1
					: openat(dl, *x,
						 O_RDONLY | O_DIRECTORY |
							 O_NOFOLLOW | O_CLOEXEC);
			if (xd < 0 || vs_replace_at(xd, "directory", nv,
						    strlen(nv), 0644) < 0)
				r = vs_set_errno(ctx, errno, "clone: cannot write "
							     "'%s'",
						 p);
			if (xd >= 0)
				close(xd);
			if (dl >= 0)
				close(dl);
			free(nv);
		}
		free(v);
	}
	vs_strv_free(xs);
	return r;
}

/* --archive -: a guest another host's vs sends (vs <guest> copy). */
static int receive_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	int r = empty_root(ctx, vs_build_rootfd(b));
	int cfg = r == 0 ? vs_host_open(ctx, vs_build_cfgdir(b),
					 O_RDONLY | O_DIRECTORY, 0)
			 : -1;
	if (r == 0 && cfg < 0)
		r = vs_set_errno(ctx, errno, "clone: cannot open the new "
					     "configuration");
	if (r == 0)
		r = clone_receive(ctx, 0, vs_build_rootfd(b), cfg);
	if (cfg >= 0)
		close(cfg);
	return r;
}

static int clone_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct clone_opts *o = vs_build_data(b);
	if (o->archive)
		return receive_build(b);
	const char *sroot = vs_guest_root(o->src);
	int r = empty_root(ctx, vs_build_rootfd(b));
	int sfd = -1, scfg = -1, dcfg = -1;
	struct vs_copy root = {.ctx = ctx}, cfg = {.ctx = ctx, .skip = own_config};
	if (r == 0 &&
	    (sfd = vs_host_open(ctx, sroot, O_RDONLY | O_DIRECTORY, 0)) < 0)
		r = vs_set_errno(ctx, errno, "clone: cannot open the root of "
					     "guest '%s'",
				 vs_guest_name(o->src));
	if (r == 0)
		r = vs_copy_tree(&root, sfd, vs_build_rootfd(b));
	if (r == 0 &&
	    ((scfg = vs_host_open(ctx, vs_guest_cfgdir(o->src),
				  O_RDONLY | O_DIRECTORY, 0)) < 0 ||
	     (dcfg = vs_host_open(ctx, vs_build_cfgdir(b),
				  O_RDONLY | O_DIRECTORY, 0)) < 0))
		r = vs_set_errno(ctx, errno, "clone: cannot open the "
					     "configuration of guest '%s'",
				 vs_guest_name(o->src));
	cfg.replace = true;
	if (r == 0)
		r = vs_copy_tree(&cfg, scfg, dcfg);
	if (r == 0)
		r = move_dlimits(b, dcfg, sroot);
	if (r == 0)
		printf("clone: '%s' copied to '%s': %llu files reflinked, %llu "
		       "copied, %llu kept shared\n",
		       vs_guest_name(o->src), vs_build_name(b), root.reflinked,
		       root.copied, root.shared);
	if (r < 0) /* the front end removes the rest of the new guest */
		vs_copy_undo_shared(&root);
	vs_copy_free(&root);
	vs_copy_free(&cfg);
	int fds[] = {sfd, scfg, dcfg};
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	vs_guest_free(o->src);
	o->src = NULL;
	return r;
}

static const struct vs_verb_def clone_verbs[] = {
	{"copy",
	 "send a stopped guest to another host over ssh (vserver-copy)",
	 VS_VERB_GUEST | VS_VERB_ROOT, clone_copy_verb},
	{NULL, NULL, 0, NULL},
};

static const struct vs_build_ops clone_ops = {
	.usage = "--source <guest> | --archive -   (or: vs <guest> clone "
		 "<new> [options])",
	.prepare = clone_prepare,
	.build = clone_build,
};

VS_PLUGIN_DEFINE(clone, VS_KIND_BUILD, "1.0",
		 "copies a stopped guest (reflinks where possible, shared "
		 "files stay shared)",
		 &clone_ops, clone_verbs);
