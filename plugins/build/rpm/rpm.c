/* Build method "rpm" (COMPAT §2.3):
 *   vs <guest> build -m rpm [common options] -- [-d <dist>] [-b <basedir>]
 *       [-e|--empty] [--] ([--force] [--nodeps] <manifest>)+
 * A manifest lists package files relative to basedir (default: the
 * current directory), one per line; blank lines and `#` lines are
 * skipped.  --force and --nodeps apply to the next manifest only.  With
 * no manifest and no --empty, the lists are the distribution's
 * rpmlist.d/<x>.lst, each with the options of its <x>.cmd.  The
 * distribution defaults to "template" and must be registered.  Every
 * manifest and package file is checked before anything is written; the
 * packages are installed with the host's rpm, --root <guest> --dbpath
 * /var/lib/rpm (the guest's own database, never the host's or HOME's):
 * one run per manifest, the paths handed over in a manifest file under
 * the package directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../rpmbase/rpmbase.h"

#define RPM_MAX_MANIFESTS 64

struct rpm_manifest {
	char *name;  /* as given, for messages */
	char **pkgs; /* full paths */
	int npkgs;
	bool force, nodeps;
};

struct rpm_opts {
	char basedir[PATH_MAX];
	bool remote; /* basedir is a URL: rpm fetches, nothing to check */
	bool empty;
	struct rpm_manifest m[RPM_MAX_MANIFESTS];
	int nm;
};

static struct rpm_opts rpm_state;

static void rpm_free(struct rpm_opts *o)
{
	for (int i = 0; i < o->nm; i++) {
		for (int j = 0; j < o->m[i].npkgs; j++)
			free(o->m[i].pkgs[j]);
		free(o->m[i].pkgs);
		free(o->m[i].name);
	}
	o->nm = 0;
}

/* Reads one manifest: every listed package must exist below basedir. */
static int rpm_load(struct vs_build *b, struct rpm_opts *o, const char *path,
		    bool force, bool nodeps)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	if (o->nm == RPM_MAX_MANIFESTS)
		return vs_set_error(ctx, "rpm: too many manifests");
	char *text = rpmbase_read(b, path);
	if (!text)
		return vs_set_error(ctx, "rpm: cannot read manifest '%s': %s",
				    path, strerror(errno));
	struct rpm_manifest *m = &o->m[o->nm++];
	memset(m, 0, sizeof(*m));
	m->name = strdup(path);
	m->force = force;
	m->nodeps = nodeps;
	int line = 0, r = 0, cap = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && !r;
	     l = strtok_r(NULL, "\n", &save)) {
		line++;
		l += strspn(l, " \t");
		size_t len = strlen(l);
		while (len && strchr(" \t\r", l[len - 1]))
			l[--len] = '\0';
		if (!len || l[0] == '#')
			continue;
		char *full = NULL;
		if (asprintf(&full, "%s/%s", o->basedir, l) < 0)
			return vs_set_errno(ctx, ENOMEM, "rpm");
		struct stat st;
		if (!o->remote && (stat(full, &st) < 0 || !S_ISREG(st.st_mode)))
			r = vs_set_error(ctx,
					 "rpm: package '%s' (manifest '%s', line "
					 "%d) not found in '%s'",
					 l, path, line, o->basedir);
		if (m->npkgs == cap) {
			cap = cap ? cap * 2 : 64;
			char **n = realloc(m->pkgs, (size_t)cap * sizeof(*n));
			if (!n) {
				free(full);
				free(text);
				return vs_set_errno(ctx, ENOMEM, "rpm");
			}
			m->pkgs = n;
		}
		m->pkgs[m->npkgs++] = full;
	}
	free(text);
	return r;
}

static int lst_only(const struct dirent *e)
{
	size_t n = strlen(e->d_name);
	return e->d_name[0] != '.' && n > 4 &&
	       !strcmp(e->d_name + n - 4, ".lst");
}

/* The distribution's rpmlist.d: <x>.lst with the options of <x>.cmd. */
static int rpm_lists_of_dist(struct vs_build *b, struct rpm_opts *o)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char dir[PATH_MAX];
	if (!vs_build_dist_find(b, "rpmlist.d", dir, sizeof(dir)))
		return 0;
	struct dirent **names;
	int n = scandir(dir, &names, lst_only, alphasort);
	if (n < 0)
		return vs_set_errno(ctx, errno, "rpm: cannot read '%s'", dir);
	int r = 0;
	for (int i = 0; i < n; i++) {
		char lst[PATH_MAX], cmd[PATH_MAX];
		bool force = false, nodeps = false;
		snprintf(lst, sizeof(lst), "%s/%s", dir, names[i]->d_name);
		snprintf(cmd, sizeof(cmd), "%.*s.cmd", (int)strlen(lst) - 4, lst);
		struct stat st;
		if (!r && stat(cmd, &st) == 0) {
			char *t = rpmbase_read(b, cmd);
			if (!t)
				r = -1;
			for (char *save = NULL,
				  *w = t ? strtok_r(t, " \t\n", &save) : NULL;
			     w && !r; w = strtok_r(NULL, " \t\n", &save)) {
				if (!strcmp(w, "--force"))
					force = true;
				else if (!strcmp(w, "--nodeps"))
					nodeps = true;
				else
					r = vs_set_error(ctx,
							 "rpm: unknown option "
							 "'%s' in '%s'",
							 w, cmd);
			}
			free(t);
		}
		if (!r)
			r = rpm_load(b, o, lst, force, nodeps);
		free(names[i]);
	}
	free(names);
	return r;
}

static int rpm_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct rpm_opts *o = &rpm_state;
	rpm_free(o);
	memset(o, 0, sizeof(*o));
	const char *dist = "template", *basedir = ".";
	int i = 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-e") || !strcmp(argv[i], "--empty"))
			o->empty = true;
		else if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dist = argv[++i];
		else if (!strcmp(argv[i], "-b") && i + 1 < argc)
			basedir = argv[++i];
		else if (!strcmp(argv[i], "--force") ||
			 !strcmp(argv[i], "--nodeps"))
			break; /* the first manifest's options */
		else
			return vs_set_error(ctx,
					    "rpm: unknown or incomplete option "
					    "'%s'",
					    argv[i]);
	}
	vs_build_set_dist(b, dist);
	if (vs_build_dist_require(b, "rpm") < 0)
		return -1;
	o->remote = strstr(basedir, "://") != NULL;
	if (o->remote)
		snprintf(o->basedir, sizeof(o->basedir), "%s", basedir);
	else if (!realpath(basedir, o->basedir))
		return vs_set_errno(ctx, errno, "rpm: base directory '%s'",
				    basedir);
	bool force = false, nodeps = false;
	int r = 0;
	for (; i < argc && !r; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = true;
		} else if (!strcmp(argv[i], "--nodeps")) {
			nodeps = true;
		} else {
			r = rpm_load(b, o, argv[i], force, nodeps);
			force = nodeps = false;
		}
	}
	if (!r && (force || nodeps))
		r = vs_set_error(ctx, "rpm: '%s' is not followed by a manifest",
				 argv[argc - 1]);
	if (!r && !o->nm && !o->empty) {
		r = rpm_lists_of_dist(b, o);
		if (!r && !o->nm)
			r = vs_set_error(ctx,
					 "rpm: no manifest given and no "
					 "rpmlist.d/*.lst for distribution '%s' "
					 "(use --empty for an empty guest)",
					 dist);
	}
	if (r) {
		rpm_free(o);
		return -1;
	}
	vs_build_want_pkgmgmt(b);
	vs_build_set_data(b, o);
	return 0;
}

static int rpm_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct rpm_opts *o = vs_build_data(b);
	char root[PATH_MAX];
	int r = rpmbase_init(b, "rpm");
	vs_host_real(ctx, vs_build_root(b), root, sizeof(root));
	for (int i = 0; i < o->nm && !r; i++) {
		struct rpm_manifest *m = &o->m[i];
		if (!m->npkgs)
			continue;
		vs_info(ctx, 1, "rpm: installing '%s' (%d packages)", m->name,
			m->npkgs);
		struct pkgcmd c;
		pkgcmd_init(&c);
		pkgcmd_rpm(&c, "rpm", root);
		pkgcmd_add(&c, "-U");
		if (rpmbase_debian_option())
			pkgcmd_add(&c, rpmbase_debian_option());
		if (vs_verbosity(ctx) > 0)
			pkgcmd_add(&c, "-vh");
		if (m->force)
			pkgcmd_add(&c, "--force");
		if (m->nodeps)
			pkgcmd_add(&c, "--nodeps");
		/* the paths go to rpm as a manifest of its own: any number
		 * of packages, one command line */
		char rel[64], real[PATH_MAX];
		size_t len = 0;
		for (int j = 0; j < m->npkgs; j++)
			len += strlen(m->pkgs[j]) + 1;
		char *text = malloc(len + 1), *p = text;
		if (!text) {
			r = vs_set_errno(ctx, ENOMEM, "rpm");
			break;
		}
		for (int j = 0; j < m->npkgs; j++)
			p += sprintf(p, "%s\n", m->pkgs[j]);
		snprintf(rel, sizeof(rel), "rpm/manifest.%d", i);
		r = rpmbase_write(b, rel, text);
		free(text);
		if (!r) {
			pkgcmd_add(&c, rpmbase_path(b, rel, real, sizeof(real)));
			r = rpmbase_run(b, "rpm", &c, "-U", false);
		}
	}
	rpm_free(o);
	return r;
}

static const struct vs_build_ops rpm_ops = {
	.usage = "[-d <dist>] [-b <basedir>] [-e] ([--force] [--nodeps] "
		 "<manifest>)+",
	.prepare = rpm_prepare,
	.build = rpm_build,
};

VS_PLUGIN_DEFINE(rpm, VS_KIND_BUILD, "1.0",
		 "rpm-based guests from package manifests with the host's rpm",
		 &rpm_ops, NULL);
