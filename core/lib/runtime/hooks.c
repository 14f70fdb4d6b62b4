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
#include <unistd.h>
#include <fcntl.h>
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

bool vs_guest_sync(struct vs_guest *g)
{
	return g->sync || vs_guest_cfg_exists(g, "apps/init/sync");
}

int vs_run_cfg_command(struct vs_guest *g, const char *rel, const char *root)
{
	struct vs_ctx *ctx = g->ctx;
	int err = 0;
	char **argv = vs_guest_cfg_lines(g, rel, &err);
	if (err || !argv)
		return err ? -1 : 0;
	int exe = -1;
	if (strchr(argv[0], '/')) {
		exe = open(argv[0], O_RDONLY | O_CLOEXEC);
	} else {
		const char *path = getenv("PATH");
		char *dirs = vs_strdup(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin"),
		     *save = NULL;
		for (char *d = strtok_r(dirs, ":", &save); d && exe < 0;
		     d = strtok_r(NULL, ":", &save)) {
			char f[PATH_MAX];
			snprintf(f, sizeof(f), "%s/%s", d, argv[0]);
			if (access(f, X_OK) == 0)
				exe = open(f, O_RDONLY | O_CLOEXEC);
		}
		free(dirs);
		if (exe < 0)
			errno = ENOENT;
	}
	int cwd = exe >= 0 ? open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)
			   : -1;
	int st = -1, e = errno;
	if (exe >= 0 && cwd >= 0) {
		vs_hooks_env(g, true);
		st = vs_spawn_fd(exe, argv, cwd, ctx->hook_timeout * 1000);
		e = errno;
		vs_hooks_env(g, false);
	}
	if (exe >= 0)
		close(exe);
	if (cwd >= 0)
		close(cwd);
	int r = 0;
	if (st < 0)
		r = vs_set_errno(ctx, e, "cannot run %s '%s' of guest '%s'", rel,
				 argv[0], g->name);
	else if (st)
		r = vs_set_error(ctx, "%s '%s' of guest '%s' failed with status "
				      "%d",
				 rel, argv[0], g->name, st);
	vs_strv_free(argv);
	return r;
}
