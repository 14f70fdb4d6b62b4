/* Hook plugin "scripts": util-vserver's per-guest and .defaults scripts
 * (COMPAT §1.3).  For an event <flavor>: <base>/<flavor>, then
 * <base>/<flavor>.d/ entries in name order, for base = <cfgdir>/scripts, then
 * <confdir>/.defaults/scripts only when no per-guest script ran.  Each is
 * run with the arguments "<flavor> <guest>", in the config dir for initialize and
 * prepre-start and in the guest root for the others.  vs has no shell to
 * source a non-executable script into: such a file is refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <vs/plugin.h>

static const char *const scripts_flavors[] = {
	"initialize", "prepre-start", "pre-start",    "post-start",
	"pre-stop",   "post-stop",    "postpost-stop", NULL,
};

static int scripts_is_backup(const char *n)
{
	static const char *const suffixes[] = {".rpmsave", ".rpmnew",
					       ".rpmorig", "~", NULL};
	size_t l = strlen(n);
	for (const char *const *s = suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (l >= k && strcmp(n + l - k, *s) == 0)
			return 1;
	}
	return strstr(n, ".cfsaved") != NULL ||
	       (n[0] == '.' && n[1] == '~');
}

/* Runs one candidate; 1 when it ran, 0 when it is not a script, -1 on
 * failure (error set). */
static int scripts_run_one(struct vs_ctx *ctx, struct vs_guest *g,
			   const char *path, const char *flavor)
{
	struct stat st;
	char real[4096];
	if (vs_host_stat(ctx, path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    scripts_is_backup(strrchr(path, '/') + 1))
		return 0;
	vs_host_real(ctx, path, real, sizeof(real));
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return vs_set_error(ctx,
				    "hook '%s' is not executable (vs runs "
				    "hooks, it does not source them)",
				    real);
	const char *cwd = strcmp(flavor, "initialize") == 0 ||
					  strcmp(flavor, "prepre-start") == 0
				  ? vs_guest_cfgdir(g)
				  : vs_guest_root(g);
	char *argv[] = {real, (char *)flavor, (char *)vs_guest_name(g), NULL};
	int status = vs_host_run(ctx, path, argv, cwd);
	if (status < 0)
		return -1;
	if (status != 0)
		return vs_set_error(ctx, "hook '%s' failed with status %d",
				    real, status);
	return 1;
}

static int scripts_run_base(struct vs_ctx *ctx, struct vs_guest *g,
			    const char *base, const char *flavor, int *ran)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", base, flavor);
	int r = scripts_run_one(ctx, g, path, flavor);
	if (r < 0)
		return -1;
	*ran |= r;
	snprintf(path, sizeof(path), "%s/%s.d", base, flavor);
	char **names = vs_host_list(ctx, path);
	for (char **n = names; n && *n; n++) {
		char file[4096];
		snprintf(file, sizeof(file), "%s/%s", path, *n);
		r = scripts_run_one(ctx, g, file, flavor);
		if (r < 0)
			break;
		*ran |= r;
	}
	vs_strv_free(names);
	return r < 0 ? -1 : 0;
}

static int scripts_event(struct vs_ctx *ctx, struct vs_guest *g,
			 const char *event, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	const char *const *f = scripts_flavors;
	while (*f && strcmp(*f, event) != 0)
		f++;
	if (!*f)
		return 0; /* not a script flavor (e.g. vshelper events) */
	char base[4096];
	int ran = 0;
	snprintf(base, sizeof(base), "%s/scripts", vs_guest_cfgdir(g));
	if (scripts_run_base(ctx, g, base, event, &ran) < 0)
		return -1;
	if (ran)
		return 0; /* per-guest scripts suppress the defaults */
	snprintf(base, sizeof(base), "%s/.defaults/scripts",
		 vs_path(ctx, VS_PATH_CONFDIR));
	return scripts_run_base(ctx, g, base, event, &ran);
}

static const struct vs_hook_ops scripts_ops = {
	.event = scripts_event,
};

VS_PLUGIN_DEFINE(scripts, VS_KIND_HOOK, "1.0",
		 "runs the guest's scripts/ hooks (util-vserver layout)",
		 &scripts_ops, NULL);
