/* vs: global options, verb dispatch in both argument orders, and the one
 * place where errors are printed and exit statuses chosen. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define EXIT_USAGE 2
#define EXIT_NOGUEST 5 /* util-vserver: no configuration for the guest */

static void usage_hint(void)
{
	fputs("vs: see 'vs help'\n", stderr);
}

static int fail(struct vs_ctx *ctx, int status)
{
	if (vs_error(ctx)[0])
		vs_print_line(stderr, "vs: ", vs_error(ctx));
	return status;
}

/* True when argv (up to "--") asks for help. */
static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"sysroot", required_argument, NULL, 's'},
		{"config", required_argument, NULL, 'c'},
		{"plugindir", required_argument, NULL, 'P'},
		{"datadir", required_argument, NULL, 'D'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *sysroot = getenv("VS_SYSROOT"), *config = NULL;
	/* the environment too: util-vserver's command names take no vs
	 * options */
	const char *plugindir = getenv("VS_PLUGINDIR"),
		   *datadir = getenv("VS_DATADIR");
	struct vs_ctx *ctx = vs_ctx_new();
	int c, verbose = 0, status;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vVh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sysroot = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'P':
			plugindir = optarg;
			break;
		case 'D':
			datadir = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("vs %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       VS_ABI_MAJOR, VS_ABI_MINOR);
			vs_ctx_free(ctx);
			return 0;
		case 'h':
			argc = optind + 1;
			argv[optind] = "help";
			goto args;
		default:
			fprintf(stderr,
				"vs: unknown or incomplete option '%s' (see "
				"'vs help')\n",
				argv[optind - 1]);
			vs_ctx_free(ctx);
			return EXIT_USAGE;
		}
	}
args:
	argc -= optind;
	argv += optind;
	ctx->verbose = verbose;
	if (argc == 0) {
		fputs("vs: no verb given\n", stderr);
		usage_hint();
		vs_ctx_free(ctx);
		return EXIT_USAGE;
	}
	if (vs_ctx_set_sysroot(ctx, sysroot) < 0 ||
	    vs_ctx_configure(ctx, config) < 0) {
		status = fail(ctx, 1);
		vs_ctx_free(ctx);
		return status;
	}
	if (plugindir)
		vs_ctx_set_plugindir(ctx, plugindir);
	if (datadir)
		vs_ctx_set_datadir(ctx, datadir);
	/* a vs that this one runs (vs namespace --enter <xid> vs ..., a
	 * hook) works on the same host */
	if (sysroot)
		setenv("VS_SYSROOT", sysroot, 1);
	if (plugindir)
		setenv("VS_PLUGINDIR", plugindir, 1);
	if (datadir)
		setenv("VS_DATADIR", datadir, 1);
	/* Only the modules a verb needs are loaded (the module directory's
	 * index says which): none for exec, the hooks for start and stop,
	 * the method's for build (build.c), the verb's own for a plugin
	 * verb; help and plugins look at every one. */
	const struct cmd *cmd = cmd_find(argv[0]);
	if (!cmd && argc >= 2)
		cmd = cmd_find(argv[1]);
	if (!cmd) {
		vs_plugins_load_verb(ctx, argv[0]);
		if (argc >= 2)
			vs_plugins_load_verb(ctx, argv[1]);
	} else if (cmd->fn == cmd_help || cmd->fn == cmd_plugins) {
		vs_plugins_load_all(ctx);
	} else if (cmd->flags & CMD_PLUGINS) {
		vs_plugins_load_kind(ctx, VS_KIND_HOOK, NULL);
	}
	cmd_add_plugin_verbs(ctx);

	/* vs <verb> [guest] args  |  vs <guest> <verb> args */
	cmd = cmd_find(argv[0]);
	const char *guestarg = NULL;
	char **vargv;
	int vargc;
	if (cmd) {
		vargv = argv;
		vargc = argc;
		bool optional = (cmd->flags & CMD_OPTGUEST) &&
				(argc < 2 || argv[1][0] == '-');
		if ((cmd->flags & (CMD_GUEST | CMD_NEWGUEST)) && !optional &&
		    !((cmd->flags & CMD_ARGS) ? wants_help(argc < 2 ? argc : 2, argv)
					      : wants_help(argc, argv))) {
			if (argc < 2 || argv[1][0] == '-') {
				fprintf(stderr, "vs: %s: no guest given\n",
					cmd->name);
				cmd_usage(ctx, cmd, stderr);
				vs_ctx_free(ctx);
				return EXIT_USAGE;
			}
			guestarg = argv[1];
			/* drop the guest: argv[1] becomes the verb */
			argv[1] = argv[0];
			vargv = argv + 1;
			vargc = argc - 1;
		}
	} else if (argc >= 2 && (cmd = cmd_find(argv[1])) &&
		   (cmd->flags & (CMD_GUEST | CMD_NEWGUEST))) {
		guestarg = argv[0];
		vargv = argv + 1;
		vargc = argc - 1;
	} else {
		/* vs <guest> <unknown verb>: the verb is what is unknown */
		struct vs_guest *named =
			argc >= 2 && argv[0][0] != '-' ? vs_guest_open(ctx, argv[0])
						      : NULL;
		vs_clear_error(ctx);
		if (named) {
			vs_guest_free(named);
			argv++;
			argc--;
		}
		const char *s = cmd_suggest(argv[0]);
		if (!named && argc >= 2 && cmd_find(argv[1]))
			fprintf(stderr,
				"vs: verb '%s' does not take a guest\n",
				argv[1]);
		else
			fprintf(stderr, "vs: unknown verb '%s'\n", argv[0]);
		if (s)
			fprintf(stderr, "vs: did you mean 'vs %s'?\n", s);
		usage_hint();
		vs_ctx_free(ctx);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ctx->nplugins && cmd->fn != cmd_plugins; i++)
		if (ctx->plugins[i].refusal)
			vs_warn(ctx, "refusing plugin '%s': %s",
				ctx->plugins[i].file, ctx->plugins[i].refusal);

	if (!(cmd->flags & CMD_ARGS) ? wants_help(vargc, vargv)
				      : (vargc > 1 && (!strcmp(vargv[1], "-h") ||
						       !strcmp(vargv[1], "--help")))) {
		cmd_usage(ctx, cmd, stdout);
		vs_ctx_free(ctx);
		return 0;
	}
	if ((cmd->flags & CMD_ROOT) && geteuid() != 0) {
		fprintf(stderr, "vs: %s: must be run as root\n", cmd->name);
		vs_ctx_free(ctx);
		return 1;
	}
	struct vs_guest *guest = NULL;
	if (cmd->flags & CMD_NEWGUEST) {
		if (vs_guest_name_check(ctx, guestarg) < 0) {
			status = fail(ctx, 1);
			vs_ctx_free(ctx);
			return status;
		}
	}
	if (guestarg && (cmd_find(guestarg) ||
			 ((cmd->flags & CMD_NEWGUEST) &&
			  vs_plugins_verb_exists(ctx, guestarg)))) {
		vs_set_error(ctx,
			     "invalid guest name '%s': it is the name of a verb",
			     guestarg);
		fail(ctx, 1);
		vs_ctx_free(ctx);
		return (cmd->flags & CMD_NEWGUEST) ? 1 : EXIT_NOGUEST;
	}
	if ((cmd->flags & CMD_GUEST) && guestarg) {
		guest = cmd_guest_open(ctx, guestarg);
		if (!guest) {
			status = fail(ctx, EXIT_NOGUEST);
			vs_ctx_free(ctx);
			return status;
		}
		if (vs_guest_cfg_exists(guest, "noisy")) /* util-vserver: -v */
			ctx->verbose++;
	}
	vs_clear_error(ctx);
	status = cmd->fn(ctx, guest, guestarg, vargc, vargv);
	if (status != 0)
		fail(ctx, status);
	vs_guest_free(guest);
	vs_ctx_free(ctx);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("vs: cannot write output");
		return 1;
	}
	return status;
}

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	char **v;
	int status = 0;
	if (!cmd_alias_argv(base, argc, argv, &v, &status))
		return run(argc, argv);
	if (!v)
		return status;
	int n = 0;
	while (v[n])
		n++;
	status = run(n, v);
	free(v);
	return status;
}
