/* Build method "yum" (COMPAT §2.3):
 *   vs <guest> build -m yum [common options] -- -d <dist> [-- <packages>]
 * Installs with the host's dnf (or yum; vs.conf `plugin "yum" { command =
 * "..." }` names another) into the new root with --installroot.  All of
 * its configuration lives under the package directory and comes from
 * the host's configuration only, never from the guest:
 *   yum/etc/yum.conf   from <distribdir>/defaults/yum, <distribdir>/<d>/yum,
 *                      .distributions/<d>/yum (files copied in that order,
 *                      later ones win), @YUM...@ placeholders substituted
 *   yum/etc/yum.repos.d  a copy of .distributions/<d>/yum.repos.d, else
 *                      <distribdir>/<d>/yum.repos.d (required)
 *   yum/etc/vars       empty: $variables never come from the guest
 * and --config, --setopt=reposdir/varsdir and --noplugins say so on the
 * command line.  Each file of the distribution's pkgs/ is one `install`
 * (keywords --can-fail, --reinstall as util-vserver), then the extra
 * packages, then `clean all`.  --nogpgcheck only when the distribution
 * has a `nogpgcheck` file; --releasever from its `releasever` file, else
 * the distribution's name.  The rpm database is the guest's
 * /var/lib/rpm (rpmbase.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rpmbase/rpmbase.h"

struct yum_opts {
	char tool[PATH_MAX];
	char repos[PATH_MAX];
	char releasever[256];
	bool nogpgcheck;
	char **extra;
	int nextra;
	struct rpmbase_lists lists;
};

static struct yum_opts yum_state;

static int yum_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct yum_opts *o = &yum_state;
	rpmbase_pkglists_free(&o->lists);
	memset(o, 0, sizeof(*o));
	int i = 0;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			vs_build_set_dist(b, argv[++i]);
		else
			return vs_set_error(ctx,
					    "yum: unknown or incomplete option "
					    "'%s'",
					    argv[i]);
	}
	o->extra = argv + i;
	o->nextra = argc - i;
	if (vs_build_dist_require(b, "yum") < 0)
		return -1;
	const char *dist = vs_build_dist(b);
	const char *tool = vs_section_str(vs_plugin_section(ctx, "yum"),
					  "command", NULL);
	if (tool) {
		if (access(tool, X_OK) < 0)
			return vs_set_errno(ctx, errno,
					    "yum: cannot run '%s' (vs.conf)", tool);
		snprintf(o->tool, sizeof(o->tool), "%s", tool);
	} else if (!vs_find_program("dnf", o->tool, sizeof(o->tool)) &&
		   !vs_find_program("yum", o->tool, sizeof(o->tool))) {
		return vs_set_error(ctx, "yum: neither dnf nor yum is installed "
					 "(Debian package dnf)");
	}
	if (!vs_build_dist_find(b, "yum.repos.d", o->repos, sizeof(o->repos)))
		return vs_set_error(ctx,
				    "yum: distribution '%s' has no yum.repos.d "
				    "(put the repositories in "
				    ".distributions/%s/yum.repos.d)",
				    dist, dist);
	char path[PATH_MAX];
	o->nogpgcheck = vs_build_dist_find(b, "nogpgcheck", path, sizeof(path));
	snprintf(o->releasever, sizeof(o->releasever), "%s", dist);
	if (vs_build_dist_find(b, "releasever", path, sizeof(path))) {
		char *t = rpmbase_read(b, path);
		if (!t)
			return -1;
		t[strcspn(t, "\r\n")] = '\0';
		if (*t)
			snprintf(o->releasever, sizeof(o->releasever), "%s", t);
		free(t);
	}
	if (rpmbase_pkglists(b, "yum", &o->lists) < 0)
		return -1;
	int words = o->nextra;
	for (int j = 0; j < o->lists.n; j++)
		words += o->lists.list[j].n;
	if (!words) {
		rpmbase_pkglists_free(&o->lists);
		return vs_set_error(ctx,
				    "yum: nothing to install (distribution '%s' "
				    "has no pkgs/ lists and no packages follow "
				    "'--')",
				    dist);
	}
	vs_build_want_pkgmgmt(b);
	vs_build_set_data(b, o);
	return 0;
}

/* yum/etc from the shipped and configured yum directories; the main
 * configuration's placeholders substituted. */
static int yum_configure(struct vs_build *b, struct yum_opts *o)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char etc[PATH_MAX], conf[PATH_MAX];
	if (rpmbase_mkdir(b, "yum/etc/yum.repos.d") < 0 ||
	    rpmbase_mkdir(b, "yum/etc/vars") < 0)
		return -1;
	if (rpmbase_populate(b, "yum", "yum/etc") < 0)
		return -1;
	struct stat st;
	rpmbase_path(b, "yum/etc/yum.conf", conf, sizeof(conf));
	char *text = NULL;
	if (stat(conf, &st) == 0)
		text = rpmbase_read(b, conf);
	else /* no yum.conf anywhere: dnf's defaults, checked signatures */
		text = strdup("[main]\ngpgcheck=1\n");
	if (!text)
		return -1;
	char *out = pkgcmd_yum_subst(text, rpmbase_path(b, "yum/etc", etc,
							 sizeof(etc)));
	free(text);
	if (!out)
		return vs_set_errno(ctx, ENOMEM, "yum");
	int r = rpmbase_write(b, "yum/etc/yum.conf", out);
	free(out);
	if (r < 0 || rpmbase_copy_dir(b, o->repos, "yum/etc/yum.repos.d") < 0)
		return -1;
	return 0;
}

static int yum_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct yum_opts *o = vs_build_data(b);
	char root[PATH_MAX], conf[PATH_MAX], repos[PATH_MAX], vars[PATH_MAX];
	int r = rpmbase_init(b, "yum");
	if (!r)
		r = yum_configure(b, o);
	struct yumcmd y = {
		.tool = o->tool,
		.root = vs_host_real(ctx, vs_build_root(b), root, sizeof(root)),
		.conf = rpmbase_path(b, "yum/etc/yum.conf", conf, sizeof(conf)),
		.reposdir = rpmbase_path(b, "yum/etc/yum.repos.d", repos,
					 sizeof(repos)),
		.varsdir = rpmbase_path(b, "yum/etc/vars", vars, sizeof(vars)),
		.releasever = o->releasever,
		.nogpgcheck = o->nogpgcheck,
	};
	struct pkgcmd c;
	for (int i = 0; i < o->lists.n && !r; i++) {
		if (!o->lists.list[i].n)
			continue;
		pkgcmd_init(&c);
		pkgcmd_yum(&c, &y);
		pkgcmd_install(&c, &o->lists.list[i], false);
		r = rpmbase_run(b, "yum", &c, "install",
				o->lists.list[i].can_fail);
	}
	if (!r && o->nextra) {
		pkgcmd_init(&c);
		pkgcmd_yum(&c, &y);
		pkgcmd_add(&c, "install");
		for (int i = 0; i < o->nextra; i++)
			pkgcmd_add(&c, o->extra[i]);
		r = rpmbase_run(b, "yum", &c, "install", false);
	}
	if (!r) {
		pkgcmd_init(&c);
		pkgcmd_yum(&c, &y);
		pkgcmd_add(&c, "clean");
		pkgcmd_add(&c, "all");
		r = rpmbase_run(b, "yum", &c, "clean all", false);
	}
	rpmbase_pkglists_free(&o->lists);
	return r;
}

static const struct vs_build_ops yum_ops = {
	.usage = "-d <dist> [-- <packages>]",
	.prepare = yum_prepare,
	.build = yum_build,
};

VS_PLUGIN_DEFINE(yum, VS_KIND_BUILD, "1.0",
		 "rpm-based guests from repositories with the host's dnf or yum",
		 &yum_ops, NULL);
