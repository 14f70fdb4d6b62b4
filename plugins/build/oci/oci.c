/* Build method "oci": an OCI image becomes a guest.
 *   vs <guest> build -m oci [common options] -- <layout-dir>[:tag]
 *   vs <guest> build -m oci [common options] -- docker-archive:<file.tar>
 *       [--nodevsanity]
 * Every blob is checked against its digest; the layers are applied in
 * order (whiteouts, opaque directories) through libarchive's safe
 * extraction; the image config's Entrypoint and Cmd become the init's
 * command (apps/init/cmd.start, style plain), Env its environment,
 * StopSignal its stop signal.  The plugin also adds `vs <guest> export`
 * (export.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vs/plugin.h>

#include "export.h"
#include "image.h"
#include "layer.h"

struct oci_opts {
	const char *ref;
	bool nodevsanity;
};

static struct oci_opts oci_state;

static int oci_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct oci_opts *o = &oci_state;
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--nodevsanity"))
			o->nodevsanity = true;
		else if (argv[i][0] != '-' && !o->ref)
			o->ref = argv[i];
		else
			return vs_set_error(ctx, "oci: unknown option or second "
						 "image '%s'",
					    argv[i]);
	}
	if (!o->ref)
		return vs_set_error(ctx, "oci: no image given (<layout-dir>[:tag] "
					 "or docker-archive:<file.tar>)");
	/* the image is read and checked before anything is written */
	struct oci_image img;
	if (oci_image_open(ctx, o->ref, &img) < 0)
		return -1;
	oci_image_close(&img);
	vs_build_set_data(b, o);
	return 0;
}

/* lines of v, each followed by a newline (malloc'd) */
static char *lines_of(char **v)
{
	size_t n = 1;
	for (char **p = v; *p; p++)
		n += strlen(*p) + 1;
	char *s = malloc(n), *w = s;
	for (char **p = v; *p; p++)
		w += sprintf(w, "%s\n", *p);
	*w = '\0';
	return s;
}

static int write_lines(struct vs_build *b, const char *rel, char **v)
{
	char *s = lines_of(v);
	int r = vs_build_write_cfg(b, rel, s);
	free(s);
	return r;
}

/* The image config's settings as the guest's init settings. */
static int settle_config(struct vs_build *b, const struct oci_image *img)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	for (char **p = img->argv; p && *p; p++)
		if (strchr(*p, '\n'))
			return vs_set_error(ctx, "oci: the image's command has an "
						 "argument with a newline: "
						 "apps/init/cmd.start cannot "
						 "hold it");
	if (img->argv && img->argv[0] &&
	    (vs_build_write_cfg(b, "apps/init/style", "plain\n") < 0 ||
	     write_lines(b, "apps/init/cmd.start", img->argv) < 0))
		return -1;
	if (img->env && img->env[0] &&
	    write_lines(b, "apps/init/environment", img->env) < 0)
		return -1;
	if (img->stopsignal) {
		char *s = vs_asprintf("%s\n", img->stopsignal);
		int r = vs_build_write_cfg(b, "apps/init/stop-signal", s);
		free(s);
		if (r < 0)
			return -1;
	}
	if (img->workdir && strcmp(img->workdir, "/"))
		vs_warn(ctx, "oci: the image's WorkingDir '%s' is not kept (a "
			     "guest's init starts in /)",
			img->workdir);
	if (img->user && strcmp(img->user, "0") && strcmp(img->user, "root") &&
	    strcmp(img->user, "0:0") && strcmp(img->user, "root:root"))
		vs_warn(ctx, "oci: the image's User '%s' is not kept (a "
			     "guest's init runs as root of the guest)",
			img->user);
	return 0;
}

static int oci_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct oci_opts *o = vs_build_data(b);
	struct oci_image img;
	if (oci_image_open(ctx, o->ref, &img) < 0)
		return -1;
	int r = 0;
	for (char **l = img.layers; r == 0 && *l; l++)
		r = oci_layer_apply(ctx, vs_build_rootfd(b), *l, o->nodevsanity);
	if (r == 0)
		r = settle_config(b, &img);
	/* what a guest's start mounts on, where an image has none */
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = {{"proc", 0555}, {"sys", 0555}, {"dev", 0755}, {"tmp", 01777}};
	for (size_t i = 0; r == 0 && i < sizeof(dirs) / sizeof(*dirs); i++)
		if (mkdirat(vs_build_rootfd(b), dirs[i].name, dirs[i].mode) == 0)
			fchmodat(vs_build_rootfd(b), dirs[i].name, dirs[i].mode, 0);
	oci_image_close(&img);
	if (r == 0 && !o->nodevsanity)
		r = vs_build_reset_dev(b);
	return r;
}

static const struct vs_build_ops oci_ops = {
	.usage = "<layout-dir>[:tag] | docker-archive:<file.tar> "
		 "[--nodevsanity]",
	.prepare = oci_prepare,
	.build = oci_build,
};

static const struct vs_verb_def oci_verbs[] = {
	{"export", "write a stopped guest as a one-layer OCI image: "
		   "<guest> export <layout-dir>[:tag]",
	 VS_VERB_GUEST | VS_VERB_ROOT, oci_export},
	{NULL, NULL, 0, NULL},
};

VS_PLUGIN_DEFINE(oci, VS_KIND_BUILD, "1.0",
		 "OCI images as guests (layers, whiteouts, digests checked), "
		 "guests as images",
		 &oci_ops, oci_verbs);
