/* The verb table: one sorted list of core verbs, then plugin verbs. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cmd core_cmds[] = {
	{"attr", cmd_attr, CMD_ARGS,
	 "show or set file attributes (showattr, setattr)",
	 "usage: vs attr show [-Radx] [--] [file...]\n"
	 "       vs attr set [-Rx] --[~]immutable|--[~]append|--[~]barrier... "
	 "[--] file...\n",
	 NULL},
	{"autostart", cmd_autostart, CMD_ROOT | CMD_PLUGINS | CMD_ARGS,
	 "start or stop the guests chosen by marks (start-vservers)",
	 "usage: vs autostart [--start|--stop] [-j N] [--all] [--marked] "
	 "[--unmarked]\n"
	 "                    [--running] [--stopped] [--mark a,b,!c] [-- "
	 "guests...]\n"
	 "  selectors intersect; names after -- are added; guests with a "
	 "'disabled'\n"
	 "  file are skipped; apps/init/depends start first and stop last\n"
	 "  -c DIR   choose among the guests of the configuration directory "
	 "DIR\n"
	 "  --json   [{\"guest\", \"action\", \"result\": ok, failed, "
	 "blocked}]\n",
	 NULL},
	{"build", cmd_build, CMD_NEWGUEST | CMD_ROOT | CMD_PLUGINS, "build a new guest",
	 NULL, NULL},
	{"clone", cmd_clone, CMD_GUEST | CMD_ROOT | CMD_PLUGINS | CMD_ARGS,
	 "copy a stopped guest under a new name (vserver-copy)",
	 "usage: vs <guest> clone <new> [build options: --context, "
	 "--interface,\n"
	 "                              --hostname, --rootdir, ...]\n"
	 "  the root as rsync -aHAXS --numeric-ids would copy it (reflinks\n"
	 "  where the file system can; files a unification shares stay\n"
	 "  shared), the configuration but the name, context, addresses,\n"
	 "  uuid and id maps, which come new\n",
	 NULL},
	{"condrestart", cmd_condrestart, CMD_GUEST | CMD_ROOT | CMD_PLUGINS,
	 "restart a guest when it runs (nothing when it does not)",
	 "usage: vs <guest> condrestart [--sync]\n", NULL},
	{"console", cmd_console, CMD_GUEST | CMD_ROOT,
	 "the guest's console: attach to it, or print its log",
	 "usage: vs <guest> console [--log]\n"
	 "  attaches the terminal to the console of the running guest;\n"
	 "  ^] three times within a second detaches\n"
	 "  --log   print the console log (<rundir>/.console/<guest>.log,\n"
	 "          kept after the guest stops; the previous start's in\n"
	 "          <guest>.log.1, as is a log that reached 1 MiB)\n",
	 NULL},
	{"delete", cmd_delete, CMD_GUEST | CMD_ROOT,
	 "delete a guest: root, configuration, cache and run state",
	 "usage: vs <guest> delete [--yes|--silent]\n"
	 "  -y, --yes, --silent   do not ask for confirmation\n",
	 NULL},
	{"dlimit", cmd_dlimit, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "show or set the disk limit of a guest (vdlimit)",
	 "usage: vs <guest> dlimit [--set space_total=<KiB>] "
	 "[--set inodes_total=<n>]\n"
	 "                         [--remove] <directory>\n"
	 "  the project quota of the guest's context on the file system of\n"
	 "  <directory> (ext4 with prjquota, XFS with pquota); -1 is no "
	 "limit\n",
	 NULL},
	{"du", cmd_du, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "space and inodes of a guest's files (vdu)",
	 "usage: vs <guest> du (--space|--inodes)... [--blocksize <n>] "
	 "[--script] <directory>...\n"
	 "  counts what below <directory> has the guest's context as its\n"
	 "  project id (one file system; hard links once)\n",
	 NULL},
	{"enter", cmd_enter, CMD_GUEST | CMD_ROOT,
	 "a login shell inside a running guest",
	 "usage: vs <guest> enter\n"
	 "  the shell runs on a terminal of the guest's own, relayed by vs,\n"
	 "  when vs runs on one\n", NULL},
	{"exec", cmd_exec, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "run a command inside a running guest",
	 "usage: vs <guest> exec [-t] [--] <command> [args]\n"
	 "  -t, --tty   run the command on a terminal of the guest's own\n",
	 NULL},
	{"help", cmd_help, CMD_PLUGINS, "show help for vs or for one verb",
	 "usage: vs help [verb]\n", NULL},
	{"info", cmd_info, CMD_ARGS,
	 "what scripts ask about a guest (vserver-info)",
	 "usage: vs info [-q] [-l] <guest|context|pid|-> <TAG> [args]\n"
	 "  tags: CONTEXT ID RUNNING VDIR NAME CFGDIR APPDIR <app> INITPID\n"
	 "  XID (of a process) UTS <field> XIDTYPE; with '-': FEATURE <name>\n"
	 "  SYSINFO CANONIFY <name>; exit 1 when the answer is no (RUNNING)\n",
	 NULL},
	{"kill", cmd_kill, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "signal processes of a running guest (vkill)",
	 "usage: vs <guest> kill [-s <signal>|-<signal>] [--] [<pid>...]\n"
	 "  pids as 'vs ps' shows them (the host's), each checked to be the\n"
	 "  guest's; without one, every process of the guest; the signal\n"
	 "  defaults to KILL, as vkill's\n",
	 NULL},
	{"limit", cmd_limit, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "show or change the limits of a running guest (vlimit)",
	 "usage: vs <guest> limit [-a] [[-SH] --<resource> <value>]...\n"
	 "  resources: cpu fsize data stack core rss nproc nofile memlock as\n"
	 "  locks msgqueue sigpending rtprio; -S the soft limit, -H the hard\n"
	 "  one (the default);\n"
	 "  values as rlimits/ (k K m M, inf; rss, as, memlock in pages);\n"
	 "  every process of the guest gets it, nproc and rss also its group\n"
	 "  (pids.max, memory); -a (or no change) shows them\n",
	 NULL},
	{"list", cmd_list, 0, "list guests with context, state and root",
	 "usage: vs list [--json]\n", NULL},
	{"mount", cmd_mount, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "mount into a running guest (vmount)",
	 "usage: vs <guest> mount [-t <type>] [-o <options>] [--bind|--rbind] "
	 "[-r]\n"
	 "                        <source> <target>\n"
	 "  the file system is made (or the host's tree, --bind, cloned) on\n"
	 "  the host, then attached at <target>, resolved inside the guest's\n"
	 "  root, in its mount namespace; no program of the guest runs\n",
	 NULL},
	{"namespace", cmd_namespace, CMD_ROOT | CMD_ARGS,
	 "run a command in the namespaces of the guest with a context",
	 "usage: vs namespace --enter <xid> [--] <command> [args]\n", NULL},
	{"oci", cmd_oci, CMD_ARGS,
	 "an OCI runtime: runc's command line (vs-oci)",
	 "usage: vs oci [--root DIR] [--log FILE] [--log-format text|json]\n"
	 "              [--systemd-cgroup] COMMAND [options] ID ...\n"
	 "  create, start, run, state, kill, delete, ps, exec, list,\n"
	 "  features, spec: see 'vs oci --help'\n",
	 NULL},
	{"paths", cmd_paths, 0, "show the paths vs uses",
	 "usage: vs paths [--json]\n", NULL},
	{"plugins", cmd_plugins, CMD_PLUGINS, "list loaded and refused plugins",
	 "usage: vs plugins [--json]\n", NULL},
	{"ps", cmd_ps, CMD_ARGS, "ps with the guest of each process (vps)",
	 "usage: vs ps [ps options]\n"
	 "       vs ps --json   [{\"pid\", \"ppid\", \"uid\", \"context\", "
	 "\"guest\", \"command\"}]\n", NULL},
	{"restart", cmd_restart, CMD_GUEST | CMD_ROOT | CMD_PLUGINS, "stop, then start a guest",
	 "usage: vs <guest> restart [--sync]\n"
	 "  --sync   run apps/init/cmd.stop-sync and cmd.start-sync (also\n"
	 "           with an apps/init/sync file)\n", NULL},
	{"running", cmd_running, CMD_GUEST,
	 "exit 0 when the guest runs, 1 when not",
	 "usage: vs <guest> running\n", NULL},
	{"sched", cmd_sched, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "change the CPU share of a running guest (vsched)",
	 "usage: vs <guest> sched --fill-rate <n> --interval <n> [--idle-time]\n"
	 "  the share fill-rate/interval of each CPU becomes cpu.max, or with\n"
	 "  --idle-time (idle CPUs usable) cpu.weight, as sched/ at start\n",
	 NULL},
	{"start", cmd_start, CMD_GUEST | CMD_ROOT | CMD_PLUGINS, "start a guest",
	 "usage: vs <guest> start [--foreground] [--sync]\n"
	 "  --foreground   stay in the foreground as the guest's monitor "
	 "(service managers)\n"
	 "  --sync         run apps/init/cmd.start-sync once the init runs\n"
	 "                 (also with an apps/init/sync file)\n",
	 NULL},
	{"stat", cmd_stat, 0, "running guests with processes, memory, times "
			       "(vserver-stat)",
	 "usage: vs stat [--json]\n", NULL},
	{"status", cmd_status, CMD_GUEST,
	 "whether a guest runs (exit 0) or not (exit 3)",
	 "usage: vs <guest> status [-v] [--silent] [--json]\n"
	 "  --json   {\"guest\", \"running\", \"context\", \"processes\", "
	 "\"uptime\"}\n", NULL},
	{"stop", cmd_stop, CMD_GUEST | CMD_ROOT | CMD_PLUGINS, "stop a guest",
	 "usage: vs <guest> stop [--sync]\n"
	 "  --sync   run apps/init/cmd.stop-sync after the stop command (also\n"
	 "           with an apps/init/sync file)\n", NULL},
	{"suexec", cmd_suexec, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "run a command as a user of a running guest",
	 "usage: vs <guest> suexec <user> [--] <command> [args]\n"
	 "  the user (a name or a number) comes from the guest's own "
	 "/etc/passwd\n",
	 NULL},
	{"systemd-generator", cmd_generator, CMD_ARGS,
	 "order the guests' units by apps/init/depends (systemd generator)",
	 "usage: vs systemd-generator <normal-dir> [<early-dir> <late-dir>]\n"
	 "  systemd runs it as vs-systemd-generator: drop-ins that make\n"
	 "  vs@<guest>.service and the mark units (vservers@<mark>.service,\n"
	 "  vservers-default.service) want and follow those of the guests\n"
	 "  in apps/init/depends\n",
	 NULL},
	{"top", cmd_top, CMD_GUEST | CMD_OPTGUEST | CMD_ARGS,
	 "top, or top of one guest's processes (vtop)",
	 "usage: vs top [<guest>] [top options]\n", NULL},
	{"uname", cmd_uname, CMD_GUEST | CMD_ROOT | CMD_ARGS,
	 "show or set the uname of a running guest (vuname)",
	 "usage: vs <guest> uname [-g] [<tag>...]\n"
	 "       vs <guest> uname -s -t nodename=<name> [-t domainname=<name>]\n"
	 "  tags: context sysname nodename release version machine domainname\n",
	 NULL},
	{"wait", cmd_wait, CMD_GUEST,
	 "wait until a guest has stopped (vwait)",
	 "usage: vs <guest> wait [--timeout <s>] [--terminate] "
	 "[--status-fd <fd>]\n"
	 "  exit 0 once it has stopped (FINISHED), 2 when it still runs at\n"
	 "  the timeout (TIMEOUT), 1 when --terminate killed it then\n"
	 "  (KILLED); --status-fd writes that word to the descriptor\n",
	 NULL},
};
#define NCORE (sizeof(core_cmds) / sizeof(core_cmds[0]))

static struct cmd *plugin_cmds;
static size_t nplugin_cmds;

static int cmp_cmd(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cmd *)elem)->name);
}

const struct cmd *cmd_find(const char *name)
{
	static bool checked;
	if (!checked) { /* bsearch needs the table sorted */
		for (size_t i = 1; i < NCORE; i++)
			if (strcmp(core_cmds[i - 1].name, core_cmds[i].name) >= 0)
				abort();
		checked = true;
	}
	const struct cmd *c =
		bsearch(name, core_cmds, NCORE, sizeof(*c), cmp_cmd);
	if (c)
		return c;
	for (size_t i = 0; i < nplugin_cmds; i++)
		if (strcmp(plugin_cmds[i].name, name) == 0)
			return &plugin_cmds[i];
	return NULL;
}

static int run_plugin_verb(struct vs_ctx *ctx, struct vs_guest *g,
			   const char *name, int argc, char **argv)
{
	(void)name;
	const struct cmd *c = cmd_find(argv[0]);
	return c->plugin_verb->run(ctx, g, argc, argv);
}

static int cmp_by_name(const void *a, const void *b)
{
	return strcmp(((const struct cmd *)a)->name,
		      ((const struct cmd *)b)->name);
}

void cmd_add_plugin_verbs(struct vs_ctx *ctx)
{
	for (size_t i = 0; i < ctx->nplugins; i++) {
		const struct vs_plugin *d = ctx->plugins[i].desc;
		for (const struct vs_verb_def *v = d ? d->verbs : NULL;
		     v && v->name; v++) {
			if (cmd_find(v->name)) {
				vs_warn(ctx,
					"ignoring verb '%s' of plugin '%s': "
					"the verb exists already",
					v->name, ctx->plugins[i].file);
				continue;
			}
			plugin_cmds = vs_xrealloc(plugin_cmds,
						  (nplugin_cmds + 1) *
							  sizeof(*plugin_cmds));
			plugin_cmds[nplugin_cmds++] = (struct cmd){
				.name = v->name,
				.fn = run_plugin_verb,
				.flags = ((v->flags & VS_VERB_GUEST) ? CMD_GUEST
								       : 0) |
					 ((v->flags & VS_VERB_OPTGUEST)
						  ? CMD_OPTGUEST
						  : 0) |
					 ((v->flags & VS_VERB_ROOT) ? CMD_ROOT
								    : 0),
				.synopsis = v->synopsis ? v->synopsis : "",
				.plugin_verb = v,
			};
			/* a unify plugin's options are in its ops */
			const struct vs_plugin *pd = ctx->plugins[i].desc;
			const struct vs_unify_ops *uo =
				pd->kind == VS_KIND_UNIFY ? pd->ops : NULL;
			if (uo && uo->usage)
				plugin_cmds[nplugin_cmds - 1].usage = vs_asprintf(
					"usage: vs %s%s %s\n  %s\n",
					(v->flags & VS_VERB_GUEST) ? "<guest> " : "",
					v->name, uo->usage,
					v->synopsis ? v->synopsis : "");
		}
	}
	if (nplugin_cmds)
		qsort(plugin_cmds, nplugin_cmds, sizeof(*plugin_cmds),
		      cmp_by_name);
}

void cmd_usage(struct vs_ctx *ctx, const struct cmd *c, FILE *out)
{
	if (c->fn == cmd_build) {
		cmd_build_usage(ctx, out);
		return;
	}
	if (c->usage) {
		fputs(c->usage, out);
		return;
	}
	fprintf(out, "usage: vs %s%s [options]\n  %s\n",
		(c->flags & CMD_GUEST) ? "<guest> " : "", c->name, c->synopsis);
}

/* Edit distance with a swap of two neighbours as one edit ("lsit" is one
 * from "list"; optimal string alignment). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev2[64], prev[64], cur[64];
	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = prev2[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t d = sub < del ? (sub < ins ? sub : ins)
					     : (del < ins ? del : ins);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *cmd_suggest(const char *name)
{
	const char *best = NULL;
	size_t bd = 3;
	for (size_t i = 0; i < NCORE + nplugin_cmds; i++) {
		const char *n = i < NCORE ? core_cmds[i].name
					  : plugin_cmds[i - NCORE].name;
		size_t d = distance(name, n);
		if (d < bd) {
			bd = d;
			best = n;
		}
	}
	return best;
}

int cmd_bad_option(struct vs_ctx *ctx, const char *verb, const char *opt)
{
	vs_set_error(ctx, "%s: unknown or incomplete option '%s'", verb, opt);
	return 2;
}

int cmd_flags(struct vs_ctx *ctx, int argc, char **argv,
	      const char *const *names, bool *seen)
{
	bool options = true;
	for (int i = 1; i < argc; i++) {
		if (options && strcmp(argv[i], "--") == 0) {
			options = false;
			continue;
		}
		if (!options) {
			vs_set_error(ctx, "%s: unexpected argument '%s'",
				     argv[0], argv[i]);
			return 2;
		}
		size_t k = 0;
		while (names[k] && strcmp(names[k], argv[i]) != 0)
			k++;
		if (!names[k]) {
			vs_set_error(ctx, "%s: unknown option '%s'", argv[0],
				     argv[i]);
			return 2;
		}
		seen[k] = true;
	}
	return 0;
}

int cmd_help(struct vs_ctx *ctx, struct vs_guest *g, const char *name,
	     int argc, char **argv)
{
	(void)g;
	(void)name;
	if (argc > 1) {
		const struct cmd *c = cmd_find(argv[1]);
		if (!c) {
			vs_set_error(ctx, "help: unknown verb '%s'", argv[1]);
			return 2;
		}
		cmd_usage(ctx, c, stdout);
		if (c->fn == cmd_build) {
			fputs("\nbuild methods:\n", stdout);
			for (size_t i = 0; i < ctx->nplugins; i++) {
				const struct vs_plugin *d = ctx->plugins[i].desc;
				if (!d || d->kind != VS_KIND_BUILD)
					continue;
				const struct vs_build_ops *o = d->ops;
				printf("  %-12s %s\n  %-12s   -- %s\n", d->name,
				       d->summary ? d->summary : "", "",
				       o->usage ? o->usage : "");
			}
		}
		return 0;
	}
	fputs("usage: vs [--sysroot DIR] [--config FILE] [-v] <verb> [<guest>] "
	      "[args]\n"
	      "       vs [options] <guest> <verb> [args]\n\n"
	      "global options:\n"
	      "  --sysroot DIR     treat DIR as the host's root for all host "
	      "state\n"
	      "                    (also VS_SYSROOT)\n"
	      "  --config FILE     read FILE instead of vs.conf\n"
	      "  --plugindir DIR   load plugins from DIR (also VS_PLUGINDIR)\n"
	      "  --datadir DIR     shipped defaults and distributions (also\n"
	      "                    VS_DATADIR)\n"
	      "  -v, --verbose     more messages (repeatable)\n"
	      "  -V, --version     show the version\n\n"
	      "verbs:\n",
	      stdout);
	for (size_t i = 0; i < NCORE; i++)
		printf("  %-11s %s\n", core_cmds[i].name, core_cmds[i].synopsis);
	for (size_t i = 0; i < nplugin_cmds; i++)
		printf("  %-11s %s\n", plugin_cmds[i].name,
		       plugin_cmds[i].synopsis);
	fputs("\n'vs help <verb>' shows the options of one verb.\n", stdout);
	return 0;
}

int cmd_json_flag(struct vs_ctx *ctx, int argc, char **argv, bool *json)
{
	static const char *const names[] = {"--json", NULL};
	*json = false;
	return cmd_flags(ctx, argc, argv, names, json);
}

struct vs_guest *cmd_guest_open(struct vs_ctx *ctx, const char *arg)
{
	struct vs_guest *g = vs_guest_open(ctx, arg);
	char *end;
	unsigned long xid = strtoul(arg, &end, 10);
	if (g || *end || !arg[0] || !isdigit((unsigned char)arg[0]))
		return g;
	char saved[sizeof(ctx->err)];
	memcpy(saved, ctx->err, sizeof(saved));
	char **names = vs_guest_list(ctx);
	for (char **n = names; n && *n && !g; n++) {
		struct vs_runstate rs;
		g = vs_guest_open(ctx, *n);
		if (g && (vs_guest_state(g, &rs) != VS_RUNNING || rs.xid != xid)) {
			vs_guest_free(g);
			g = NULL;
		}
	}
	/* else a stopped guest whose static context it is */
	for (char **n = names; n && *n && !g; n++) {
		g = vs_guest_open(ctx, *n);
		if (g && g->context != xid) {
			vs_guest_free(g);
			g = NULL;
		}
	}
	vs_strv_free(names);
	if (g)
		vs_clear_error(ctx);
	else
		memcpy(ctx->err, saved, sizeof(saved));
	return g;
}
