/* Build method "debootstrap" (COMPAT §2.3):
 *   vs <guest> build -m debootstrap [common options] -- -d <suite>
 *       [-m <mirror>] [-s <script>] [-- <debootstrap options>]
 * Mirror: -m, .distributions/<d>/debootstrap.mirror,
 * .defaults/apps/debootstrap/mirror, the shipped distributions/<d>/ and
 * defaults/ debootstrap.mirror; a local path ("/..." or "file://...") is a
 * mirror too.  Options: the first line of .distributions/<d>/
 * debootstrap.options, else .defaults/apps/debootstrap/options, before the
 * user's.  mmdebstrap instead with `--backend=mmdebstrap` among the user's
 * options or `backend = "mmdebstrap"` in vs.conf's plugin "debootstrap"
 * section (a local mirror is then copy://, as mmdebstrap needs, and
 * --skip=check/empty lets it fill the skeleton).  It runs in a mount
 * namespace of its own; its failure fails the build (and the build
 * helper removes what was made unless --keep).  Without debootstrap in
 * PATH, the .deb named by .defaults/apps/debootstrap/uri (or the shipped
 * debootstrap.uri) is unpacked into a temporary directory and run from
 * there (debfetch.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <vs/plugin.h>

#include "debfetch.h"

#define DB_MAX_ARGS 64

struct debootstrap_opts {
	char suite[64], mirror[1024], script[1024];
	char *opts[DB_MAX_ARGS];
	int nopts;
	bool mmdebstrap;
	char optline[1024];
	char uri[1024]; /* set: debootstrap comes from this .deb */
};

static struct debootstrap_opts debootstrap_state;

static bool debootstrap_word(const char *s)
{
	if (!*s || s[0] == '-' || strlen(s) >= 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

static int debootstrap_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct debootstrap_opts *o = &debootstrap_state;
	memset(o, 0, sizeof(*o));
	int i = 0;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			return vs_set_error(ctx,
					    "debootstrap: unknown or incomplete "
					    "option '%s'",
					    argv[i]);
		if (!strcmp(argv[i], "-d")) {
			if (!debootstrap_word(argv[i + 1]))
				return vs_set_error(ctx,
						    "debootstrap: invalid suite "
						    "'%s'",
						    argv[i + 1]);
			snprintf(o->suite, sizeof(o->suite), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "-m")) {
			snprintf(o->mirror, sizeof(o->mirror), "%s", argv[++i]);
		} else if (!strcmp(argv[i], "-s")) {
			snprintf(o->script, sizeof(o->script), "%s", argv[++i]);
		} else {
			return vs_set_error(ctx,
					    "debootstrap: unknown option '%s'",
					    argv[i]);
		}
	}
	if (!o->suite[0])
		return vs_set_error(ctx, "debootstrap: no suite given (-d "
					 "<suite>)");
	vs_build_set_dist(b, o->suite);
	char rel[256];
	/* the mirror, first found */
	if (!o->mirror[0]) {
		snprintf(rel, sizeof(rel), ".distributions/%s/debootstrap.mirror",
			 o->suite);
		if (!vs_build_conf_line(b, rel, false, o->mirror,
					sizeof(o->mirror)) &&
		    !vs_build_conf_line(b, ".defaults/apps/debootstrap/mirror",
					false, o->mirror, sizeof(o->mirror))) {
			snprintf(rel, sizeof(rel),
				 "../distributions/%s/debootstrap.mirror",
				 o->suite);
			if (!vs_build_conf_line(b, rel, true, o->mirror,
						sizeof(o->mirror)))
				vs_build_conf_line(b, "debootstrap.mirror", true,
						   o->mirror, sizeof(o->mirror));
		}
	}
	if (!o->mirror[0])
		return vs_set_error(ctx, "debootstrap: no mirror (-m, or "
					 ".defaults/apps/debootstrap/mirror)");
	if (o->mirror[0] == '/') { /* a local mirror */
		char m[1100];
		snprintf(m, sizeof(m), "file://%s", o->mirror);
		snprintf(o->mirror, sizeof(o->mirror), "%s", m);
	}
	if (!o->script[0]) {
		snprintf(rel, sizeof(rel), ".distributions/%s/debootstrap.script",
			 o->suite);
		vs_build_conf_line(b, rel, false, o->script, sizeof(o->script));
	}
	/* configured options, then the user's */
	snprintf(rel, sizeof(rel), ".distributions/%s/debootstrap.options",
		 o->suite);
	if (!vs_build_conf_line(b, rel, false, o->optline, sizeof(o->optline)))
		vs_build_conf_line(b, ".defaults/apps/debootstrap/options", false,
				   o->optline, sizeof(o->optline));
	char *save = NULL;
	for (char *t = strtok_r(o->optline, " \t", &save);
	     t && o->nopts < DB_MAX_ARGS - 8; t = strtok_r(NULL, " \t", &save))
		o->opts[o->nopts++] = t;
	const char *backend = vs_section_str(
		vs_plugin_section(ctx, "debootstrap"), "backend", "debootstrap");
	o->mmdebstrap = !strcmp(backend, "mmdebstrap");
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--backend=mmdebstrap")) {
			o->mmdebstrap = true;
			continue;
		}
		if (!strcmp(argv[i], "--backend=debootstrap")) {
			o->mmdebstrap = false;
			continue;
		}
		if (o->nopts >= DB_MAX_ARGS - 8)
			return vs_set_error(ctx, "debootstrap: too many options");
		o->opts[o->nopts++] = argv[i];
	}
	if (o->mmdebstrap && !strncmp(o->mirror, "file://", 7)) {
		char m[1100]; /* mmdebstrap reads a local mirror with copy:// */
		snprintf(m, sizeof(m), "copy://%s", o->mirror + 7);
		snprintf(o->mirror, sizeof(o->mirror), "%s", m);
	}
	bool installed = vs_find_program("debootstrap", NULL, 0);
	if (o->mmdebstrap && !vs_find_program("mmdebstrap", NULL, 0))
		return vs_set_error(ctx, "debootstrap: mmdebstrap is not "
					 "installed (Debian package mmdebstrap)");
	if (!o->mmdebstrap && !o->script[0] && installed) {
		/* an unknown suite is known before anything is written */
		const char *dir = getenv("DEBOOTSTRAP_DIR");
		char path[1200];
		snprintf(path, sizeof(path), "%s/scripts/%s",
			 dir && *dir ? dir : "/usr/share/debootstrap",
			 o->suite);
		if (access(path, R_OK) < 0)
			return vs_set_error(ctx,
					    "debootstrap: unknown suite '%s' (no "
					    "'%s'; -s <script> names one)",
					    o->suite, path);
	}
	if (!o->mmdebstrap && !installed &&
	    !vs_build_conf_line(b, ".defaults/apps/debootstrap/uri", false,
				o->uri, sizeof(o->uri)) &&
	    !vs_build_conf_line(b, "debootstrap.uri", true, o->uri,
				sizeof(o->uri)))
		return vs_set_error(ctx,
				    "debootstrap: debootstrap is not installed "
				    "and no .defaults/apps/debootstrap/uri names "
				    "a debootstrap .deb (Debian package "
				    "debootstrap)");
	vs_build_set_data(b, o);
	return 0;
}

static int debootstrap_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct debootstrap_opts *o = vs_build_data(b);
	char root[4096];
	vs_host_real(ctx, vs_build_root(b), root, sizeof(root));
	char *argv[DB_MAX_ARGS + 8];
	char dir[512], tool[600];
	int n = 0;
	argv[n++] = o->mmdebstrap ? "mmdebstrap" : "debootstrap";
	if (o->uri[0]) {
		if (debfetch_unpack(b, o->uri, dir, sizeof(dir)) < 0)
			return -1;
		vs_info(ctx, 0, "debootstrap is not installed: using '%s'",
			o->uri);
		snprintf(tool, sizeof(tool), "%s/usr/sbin/debootstrap", dir);
		argv[0] = tool;
		char share[600];
		snprintf(share, sizeof(share), "%s/usr/share/debootstrap", dir);
		if (vs_build_setenv(b, "DEBOOTSTRAP_DIR", share) < 0) {
			debfetch_remove(dir);
			return -1;
		}
	}
	if (o->mmdebstrap) /* the skeleton is there already */
		argv[n++] = "--skip=check/empty";
	for (int i = 0; i < o->nopts; i++)
		argv[n++] = o->opts[i];
	argv[n++] = o->suite;
	argv[n++] = root;
	argv[n++] = o->mirror;
	if (o->script[0] && !o->mmdebstrap)
		argv[n++] = o->script;
	argv[n] = NULL;
	/* debootstrap makes its own device nodes: the skeleton's go first,
	 * and /dev is the safe set again afterwards */
	if (vs_build_clear_dev(b) < 0)
		return -1;
	int st = vs_build_run_private(b, argv);
	if (o->uri[0])
		debfetch_remove(dir);
	if (st < 0)
		return -1;
	if (st != 0)
		return vs_set_error(ctx, "%s failed with status %d (suite '%s', "
					 "mirror '%s')",
				    argv[0], st, o->suite, o->mirror);
	return vs_build_reset_dev(b);
}

static const struct vs_build_ops debootstrap_ops = {
	.usage = "-d <suite> [-m <mirror>] [-s <script>] [-- <debootstrap "
		 "options>]",
	.prepare = debootstrap_prepare,
	.build = debootstrap_build,
};

VS_PLUGIN_DEFINE(debootstrap, VS_KIND_BUILD, "1.0",
		 "Debian and Ubuntu guests with debootstrap (or mmdebstrap)",
		 &debootstrap_ops, NULL);
