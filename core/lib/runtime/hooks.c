/* Lifecycle events handed to hook plugins.
 *
 * Which plugins: "scripts" (util-vserver's scripts/ directories) always;
 * any other hook plugin when vs.conf has a `hook "<name>" { }` section
 * whose `guests` value (names separated by spaces or commas, "*" for all;
 * absent means all) lists the guest. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

#include "runtime/runtime.h"

static bool always_on(const char *name)
{
	return !strcmp(name, "scripts") || !strcmp(name, "vshelper");
}

static bool selected(struct vs_guest *g, const char *plugin)
{
	if (always_on(plugin))
		return true;
	const struct vs_section *sec = vs_hook_section(g->ctx, plugin);
	if (!sec)
		return false;
	const char *list = vs_section_str(sec, "guests", "*");
	char *copy = vs_strdup(list), *save = NULL;
	bool hit = false;
	for (char *t = strtok_r(copy, " ,\t", &save); t && !hit;
	     t = strtok_r(NULL, " ,\t", &save))
		hit = !strcmp(t, "*") || !strcmp(t, g->name);
	free(copy);
	return hit;
}

static int hooks_each(struct vs_guest *g, const char *event, bool fatal,
		      int argc, char **argv);

int vs_hooks_run(struct vs_guest *g, const char *event, bool fatal)
{
	char *argv[] = {(char *)event, g->name, NULL};
	return vs_hooks_run_args(g, event, fatal, 2, argv);
}

/* util-vserver's scripts saw the variables of its start script; those
 * that describe the guest are exported to hooks (and taken away again). */
void vs_hooks_env(struct vs_guest *g, bool set)
{
	if (!set) {
		unsetenv("VSERVER_DIR");
		unsetenv("VSERVER_NAME");
		unsetenv("S_CONTEXT");
		return;
	}
	char real[PATH_MAX], xid[16];
	setenv("VSERVER_DIR", vs_host_real(g->ctx, g->cfgdir, real,
					   sizeof(real)),
	       1);
	setenv("VSERVER_NAME", g->name, 1);
	unsigned x = g->xid ? g->xid : g->context;
	if (x) {
		snprintf(xid, sizeof(xid), "%u", x);
		setenv("S_CONTEXT", xid, 1);
	}
}

int vs_hooks_run_args(struct vs_guest *g, const char *event, bool fatal,
		      int argc, char **argv)
{
	vs_hooks_env(g, true);
	int r = hooks_each(g, event, fatal, argc, argv);
	vs_hooks_env(g, false);
	return r;
}

static int hooks_each(struct vs_guest *g, const char *event, bool fatal,
		      int argc, char **argv)
{
	struct vs_ctx *ctx = g->ctx;
	int r = 0;
	for (size_t i = 0; i < ctx->nplugins; i++) {
		const struct vs_plugin *d = ctx->plugins[i].desc;
		if (!d || d->kind != VS_KIND_HOOK || !selected(g, d->name))
			continue;
		const struct vs_hook_ops *ops = d->ops;
		vs_clear_error(ctx);
		if (ops->event(ctx, g, event, argc, argv) < 0) {
			if (fatal)
				return -1;
			vs_warn(ctx, "%s", ctx->err[0] ? ctx->err : "hook failed");
			vs_clear_error(ctx);
			r = -1;
		}
	}
	return r;
}
