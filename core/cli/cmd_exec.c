/* vs <guest> exec CMD..., vs <guest> suexec USER CMD..., vs <guest> enter,
 * vs namespace --enter XID -- CMD */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run_as(struct vs_ctx *ctx, struct vs_guest *g, char *const *argv,
		  const char *const *cands, char **env, bool pty,
		  const char *user)
{
	struct vs_runstate rs;
	if (vs_guest_state(g, &rs) != VS_RUNNING)
		return vs_set_error(ctx, "guest '%s' is not running", g->name),
		       1;
	struct vs_exec_opts o = {.argv = argv,
				 .candidates = cands,
				 .env = env,
				 .timeout_ms = -1,
				 .pty = pty,
				 .user = user};
	int status = 0;
	if (vs_guest_exec(g, &rs, &o, &status) < 0)
		return 1;
	return status;
}

static int run_in(struct vs_ctx *ctx, struct vs_guest *g, char *const *argv,
		  const char *const *cands, char **env)
{
	return run_as(ctx, g, argv, cands, env, false, NULL);
}

/* A terminal of the guest's own when vs itself runs on one. */
static bool on_terminal(void)
{
	return isatty(0) || isatty(1) || isatty(2);
}

int cmd_exec(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	     char **argv)
{
	(void)n;
	int i = 1;
	bool tty = false;
	if (i < argc && (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tty"))) {
		tty = true;
		i++;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return vs_set_error(ctx, "exec: no command given"), 2;
	return run_as(ctx, g, argv + i, NULL, NULL, tty, NULL);
}

int cmd_suexec(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
	       int argc, char **argv)
{
	(void)n;
	int i = 1;
	if (i >= argc || !argv[i][0])
		return vs_set_error(ctx, "suexec: no user given"), 2;
	const char *user = argv[i++];
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return vs_set_error(ctx, "suexec: no command given"), 2;
	return run_as(ctx, g, argv + i, NULL, NULL, false, user);
}

int cmd_enter(struct vs_ctx *ctx, struct vs_guest *g, const char *n,
	      int argc, char **argv)
{
	(void)n;
	int r = cmd_flags(ctx, argc, argv, (const char *const[]){NULL}, NULL);
	if (r)
		return r;
	/* shell: per-guest `shell`, .defaults/shell, else the first of
	 * bash, sh, csh that exists inside the guest */
	char path[PATH_MAX], line[256] = "";
	char *shell_argv[8] = {0};
	static const char *const cands[] = {"/bin/bash", "/bin/sh", "/bin/csh",
					    NULL};
	if (vs_guest_cfg_find(g, "shell", NULL, path, sizeof(path)) == 1) {
		char *s = vs_host_read(ctx, path, 256, NULL);
		if (s) {
			vs_first_line(s);
			snprintf(line, sizeof(line), "%s", s);
			free(s);
		}
	}
	char **env = vs_guest_env(g);
	const char *term = getenv("TERM");
	if (term) {
		size_t k = 0;
		while (env[k])
			k++;
		env = vs_xrealloc(env, (k + 2) * sizeof(*env));
		env[k] = vs_asprintf("TERM=%s", term);
		env[k + 1] = NULL;
	}
	if (line[0]) {
		int k = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " \t", &save); t && k < 7;
		     t = strtok_r(NULL, " \t", &save))
			shell_argv[k++] = t;
		r = run_as(ctx, g, shell_argv, NULL, env, on_terminal(), NULL);
	} else {
		shell_argv[0] = NULL; /* the candidate found */
		shell_argv[1] = "-l";
		r = run_as(ctx, g, shell_argv, cands, env, on_terminal(), NULL);
	}
	vs_strv_free(env);
	return r;
}

int cmd_namespace(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
		  int argc, char **argv)
{
	(void)unused;
	(void)n;
	if (argc < 3 || strcmp(argv[1], "--enter") != 0)
		return vs_set_error(ctx, "namespace: usage: vs namespace "
					 "--enter <xid> -- <command>"),
		       2;
	unsigned xid;
	char *end;
	xid = (unsigned)strtoul(argv[2], &end, 10);
	if (*end || !argv[2][0])
		return vs_set_error(ctx, "namespace: invalid context '%s'",
				    argv[2]),
		       2;
	int i = 3;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return vs_set_error(ctx, "namespace: no command given"), 2;
	/* vs itself, under any of its names (util-vserver's `vnamespace
	 * --enter <xid> vserver <guest> enter`), runs here and enters by
	 * itself: inside, the guest's own programs would be found */
	const char *base = strrchr(argv[i], '/');
	base = base ? base + 1 : argv[i];
	char **alias = NULL;
	int st = 0;
	if (!strcmp(base, "vs") ||
	    (cmd_alias_argv(base, argc - i, argv + i, &alias, &st) && alias)) {
		free(alias);
		char self[PATH_MAX];
		ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (k > 0) {
			self[k] = '\0';
			fflush(stdout);
			char *const *av = argv + i;
			execv(self, av);
		}
		vs_set_errno(ctx, errno, "namespace: cannot run '%s'", argv[i]);
		return 127;
	}
	char **names = vs_guest_list(ctx);
	int r = -1;
	for (char **nm = names; *nm && r < 0; nm++) {
		struct vs_guest *g = vs_guest_open(ctx, *nm);
		struct vs_runstate rs;
		if (g && vs_guest_state(g, &rs) == VS_RUNNING && rs.xid == xid)
			r = run_in(ctx, g, argv + i, NULL, NULL);
		vs_guest_free(g);
	}
	vs_strv_free(names);
	if (r < 0) {
		vs_set_error(ctx, "namespace: no running guest has context %u",
			     xid);
		return 1;
	}
	return r;
}
