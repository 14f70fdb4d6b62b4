/* Build method "apt-rpm" (COMPAT §2.3), plugin apt_rpm:
 *   vs <guest> build -m apt-rpm [common options] -- -d <dist>
 * Drives apt-get from apt-rpm, named in vs.conf:
 *   plugin "apt-rpm" { apt_get = "/usr/bin/apt-get" }
 * There is no default: Debian's apt-get (the one its dpkg lists as
 * package apt's) cannot install rpm packages and is refused.  Its whole
 * configuration lives under <pkgdir>/apt (see pkgcmd_apt_conf): the
 * shipped and configured apt/ directories copied in order (defaults,
 * <distribdir>/<d>, .distributions/<d>), the first apt.conf of
 * .distributions/<d>, .defaults/apps/pkgmgmt, <distribdir>/<d>,
 * <distribdir>/defaults as apt.conf.d/default.conf, and vs-apt.conf,
 * which APT_CONFIG names, so that no file of the host's /etc/apt and none
 * of the guest's is read.  Then: update; one `install -y` per file of the
 * distribution's pkgs/ (keywords --reinstall, --can-fail); dist-upgrade
 * -y; clean. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../rpmbase/rpmbase.h"

#define DPKG_APT_LIST "/var/lib/dpkg/info/apt.list"

struct aptrpm_opts {
	char apt_get[PATH_MAX];
	struct rpmbase_lists lists;
};

static struct aptrpm_opts aptrpm_state;

/* True when path is a file of Debian's own apt package. */
static bool aptrpm_is_debian_apt(const char *path)
{
	char real[PATH_MAX], line[PATH_MAX + 2], other[PATH_MAX];
	if (!realpath(path, real))
		return false;
	FILE *f = fopen(DPKG_APT_LIST, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		found = !strcmp(line, real) ||
			(realpath(line, other) && !strcmp(other, real));
	}
	if (f)
		fclose(f);
	return found;
}

static int aptrpm_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct aptrpm_opts *o = &aptrpm_state;
	rpmbase_pkglists_free(&o->lists);
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			vs_build_set_dist(b, argv[++i]);
		else
			return vs_set_error(ctx,
					    "apt-rpm: unknown or incomplete option "
					    "'%s'",
					    argv[i]);
	}
	if (vs_build_dist_require(b, "apt-rpm") < 0)
		return -1;
	const char *apt = vs_section_str(vs_plugin_section(ctx, "apt-rpm"),
					 "apt_get", NULL);
	if (!apt)
		return vs_set_error(ctx,
				    "apt-rpm: no apt-get of apt-rpm configured "
				    "(set apt_get in vs.conf's plugin \"apt-rpm\" "
				    "section; Debian's apt-get cannot install rpm "
				    "packages)");
	if (apt[0] != '/' || access(apt, X_OK) < 0)
		return vs_set_error(ctx,
				    "apt-rpm: cannot run '%s' (apt_get in "
				    "vs.conf): %s",
				    apt, apt[0] != '/' ? "not an absolute path"
						       : strerror(errno));
	if (aptrpm_is_debian_apt(apt))
		return vs_set_error(ctx,
				    "apt-rpm: '%s' is Debian's apt-get (package "
				    "apt), which cannot install rpm packages; "
				    "apt_get must name apt-rpm's",
				    apt);
	snprintf(o->apt_get, sizeof(o->apt_get), "%s", apt);
	if (rpmbase_pkglists(b, "apt-rpm", &o->lists) < 0)
		return -1;
	vs_build_want_pkgmgmt(b);
	vs_build_set_data(b, o);
	return 0;
}

/* Copies the first existing of the candidate real files to <pkgdir>/rel. */
static int aptrpm_copy_first(struct vs_build *b, const char *const *cands,
			     const char *rel)
{
	struct stat st;
	for (; *cands; cands++) {
		if (stat(*cands, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		char *t = rpmbase_read(b, *cands);
		if (!t)
			return -1;
		int r = rpmbase_write(b, rel, t);
		free(t);
		return r;
	}
	return 0;
}

static int aptrpm_configure(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	const char *dist = vs_build_dist(b), *confdir = vs_path(ctx,
								 VS_PATH_CONFDIR);
	static const char *const dirs[] = {
		"etc/sources.list.d", "etc/vendors.list.d", "etc/apt.conf.d",
		"archives/partial",   "cache",		    "state/lists/partial",
	};
	char rel[64], path[PATH_MAX], host[PATH_MAX];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(rel, sizeof(rel), "apt/%s", dirs[i]);
		if (rpmbase_mkdir(b, rel) < 0)
			return -1;
	}
	struct stat st;
	if (rpmbase_populate(b, "apt", "apt/etc") < 0)
		return -1;
	char c1[PATH_MAX], c2[PATH_MAX], c3[PATH_MAX], c4[PATH_MAX];
	snprintf(host, sizeof(host), "%s/.distributions/%s/apt.conf", confdir,
		 dist);
	vs_host_real(ctx, host, c1, sizeof(c1));
	snprintf(host, sizeof(host), "%s/.defaults/apps/pkgmgmt/apt.conf",
		 confdir);
	vs_host_real(ctx, host, c2, sizeof(c2));
	snprintf(c3, sizeof(c3), "%s/%s/apt.conf", vs_distribdir(ctx), dist);
	snprintf(c4, sizeof(c4), "%s/defaults/apt.conf", vs_distribdir(ctx));
	const char *const cands[] = {c1, c2, c3, c4, NULL};
	if (aptrpm_copy_first(b, cands, "apt/etc/apt.conf.d/default.conf") < 0)
		return -1;
	if (stat(rpmbase_path(b, "apt/etc/sources.list", path, sizeof(path)),
		 &st) < 0)
		return vs_set_error(ctx,
				    "apt-rpm: distribution '%s' has no "
				    "apt/sources.list (put it in "
				    ".distributions/%s/apt/sources.list)",
				    dist, dist);
	char pkgdir[PATH_MAX], root[PATH_MAX];
	vs_host_real(ctx, vs_build_pkgdir(b), pkgdir, sizeof(pkgdir));
	vs_host_real(ctx, vs_build_root(b), root, sizeof(root));
	char *conf = pkgcmd_apt_conf(pkgdir, root);
	if (!conf)
		return vs_set_errno(ctx, ENOMEM, "apt-rpm");
	int r = rpmbase_write(b, "apt/etc/vs-apt.conf", conf);
	free(conf);
	if (!r)
		r = vs_build_setenv(b, "APT_CONFIG",
				    rpmbase_path(b, "apt/etc/vs-apt.conf", path,
						 sizeof(path)));
	return r;
}

/* Runs apt-get <verb...> (and the list's packages when l is given). */
static int aptrpm_run(struct vs_build *b, const char *conf,
		      const char *const *verb, const struct pkglist *l)
{
	struct aptrpm_opts *o = vs_build_data(b);
	struct pkgcmd c;
	pkgcmd_init(&c);
	pkgcmd_apt(&c, o->apt_get, conf);
	if (l)
		pkgcmd_install(&c, l, true);
	for (; verb && *verb; verb++)
		pkgcmd_add(&c, *verb);
	return rpmbase_run(b, "apt-rpm", &c, l ? "install" : verb ? verb[0] : "",
			   l && l->can_fail);
}

static int aptrpm_build(struct vs_build *b)
{
	struct aptrpm_opts *o = vs_build_data(b);
	char conf[PATH_MAX];
	rpmbase_path(b, "apt/etc/vs-apt.conf", conf, sizeof(conf));
	static const char *const update[] = {"update", NULL};
	static const char *const upgrade[] = {"dist-upgrade", "-y", NULL};
	static const char *const clean[] = {"clean", NULL};
	int r = rpmbase_init(b, "apt-rpm");
	if (!r)
		r = aptrpm_configure(b);
	if (!r)
		r = aptrpm_run(b, conf, update, NULL);
	for (int i = 0; i < o->lists.n && !r; i++)
		if (o->lists.list[i].n)
			r = aptrpm_run(b, conf, NULL, &o->lists.list[i]);
	if (!r)
		r = aptrpm_run(b, conf, upgrade, NULL);
	if (!r)
		r = aptrpm_run(b, conf, clean, NULL);
	rpmbase_pkglists_free(&o->lists);
	return r;
}

static const struct vs_build_ops aptrpm_ops = {
	.usage = "-d <dist>",
	.prepare = aptrpm_prepare,
	.build = aptrpm_build,
};

VS_PLUGIN_DEFINE(apt_rpm, VS_KIND_BUILD, "1.0",
		 "rpm-based guests with apt-rpm's apt-get (method apt-rpm)",
		 &aptrpm_ops, NULL);
