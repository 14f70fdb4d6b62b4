/* vs systemd-generator (systemd runs it as vs-systemd-generator at boot
 * and at each daemon-reload): apps/init/depends as unit ordering, as
 * util-vserver's generator did.  For a guest with dependencies, a drop-in
 * of vs@<guest>.service with Wants= and After= on vs@<dependency>.service;
 * and for each of its marks, a drop-in of the mark's unit (vservers@<mark>
 * .service; vservers-default.service for the mark default) on the units of
 * its dependencies' other marks, so that a mark's guests start after those
 * of another mark they need.  Within one mark, vs autostart orders them.
 *
 * It runs before anything but the root is mounted: a guest it cannot read
 * or a name that cannot be part of a unit's name is skipped with a warning,
 * never fatal.  Exit 0, or 2 for a wrong command line. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define DROPIN "50-vs-depends.conf"

struct written {
	char **v; /* "unit dependency" pairs already written */
	size_t n;
};

/* Characters a unit's instance may hold unescaped. */
static bool unit_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(":_.-", *s))
			return false;
	return true;
}

static char *mark_unit(const char *mark)
{
	return !strcmp(mark, "default")
		       ? vs_strdup("vservers-default.service")
		       : vs_asprintf("vservers@%s.service", mark);
}

/* Appends Wants= and After= on dep to unit's drop-in in dir, once. */
static int order(const char *dir, struct written *w, const char *unit,
		 const char *dep)
{
	char *key = vs_asprintf("%s %s", unit, dep);
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i], key)) {
			free(key);
			return 0;
		}
	w->v = vs_xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = key;
	char *d = vs_asprintf("%s/%s.d", dir, unit);
	char *f = vs_asprintf("%s/" DROPIN, d);
	int r = -1;
	if (mkdir(d, 0755) == 0 || errno == EEXIST) {
		FILE *o = fopen(f, "ae");
		if (o) {
			if (ftell(o) == 0)
				fputs("# made by vs-systemd-generator from the "
				      "guests' apps/init/depends\n[Unit]\n",
				      o);
			fprintf(o, "Wants=%s\nAfter=%s\n", dep, dep);
			r = fclose(o) == 0 ? 0 : -1;
		}
	}
	if (r < 0)
		fprintf(stderr, "vs: cannot write '%s': %s\n", f,
			strerror(errno));
	free(d);
	free(f);
	return r;
}

static char **lines_of(struct vs_ctx *ctx, const char *guest, const char *rel)
{
	struct vs_guest *g = vs_guest_open(ctx, guest);
	if (!g)
		return NULL;
	int err;
	char **l = vs_guest_cfg_lines(g, rel, &err);
	vs_guest_free(g);
	return l;
}

/* The orderings guest's dependencies ask for. */
static int guest_orders(struct vs_ctx *ctx, const char *dir,
			struct written *w, const char *guest)
{
	char **deps = lines_of(ctx, guest, "apps/init/depends");
	char **marks = lines_of(ctx, guest, "apps/init/mark");
	int r = 0;
	for (char **d = deps; d && *d; d++) {
		struct vs_guest *dg = unit_safe(*d) ? vs_guest_open(ctx, *d)
						     : NULL;
		if (!dg) {
			fprintf(stderr,
				"vs: warning: guest '%s' depends on '%s', "
				"which is not a guest: no ordering\n",
				guest, *d);
			continue;
		}
		vs_guest_free(dg);
		char *unit = vs_asprintf("vs@%s.service", guest);
		char *on = vs_asprintf("vs@%s.service", *d);
		r |= order(dir, w, unit, on);
		free(unit);
		free(on);
		char **dmarks = lines_of(ctx, *d, "apps/init/mark");
		for (char **m = marks; m && *m; m++)
			for (char **dm = dmarks; dm && *dm; dm++) {
				if (!strcmp(*m, *dm) || !unit_safe(*m) ||
				    !unit_safe(*dm))
					continue;
				char *mu = mark_unit(*m), *du = mark_unit(*dm);
				r |= order(dir, w, mu, du);
				free(mu);
				free(du);
			}
		vs_strv_free(dmarks);
	}
	vs_strv_free(deps);
	vs_strv_free(marks);
	return r;
}

int cmd_generator(struct vs_ctx *ctx, struct vs_guest *g, const char *name,
		  int argc, char **argv)
{
	(void)g;
	(void)name;
	if (argc != 2 && argc != 4) {
		fprintf(stderr, "usage: vs systemd-generator <normal-dir> "
				"[<early-dir> <late-dir>]\n");
		return 2;
	}
	struct written w = {0};
	char **guests = vs_guest_list(ctx);
	vs_clear_error(ctx);
	for (char **n = guests; n && *n; n++) {
		if (!unit_safe(*n)) {
			fprintf(stderr,
				"vs: warning: guest '%s': its name cannot be a "
				"unit's instance: no ordering\n",
				*n);
			continue;
		}
		guest_orders(ctx, argv[1], &w, *n);
	}
	vs_strv_free(guests);
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i]);
	free(w.v);
	vs_clear_error(ctx);
	return 0;
}
