/* The vs command: verb table and the cmd_<verb>() implementations. */
#ifndef VS_CLI_H
#define VS_CLI_H

#include <stdio.h>

#include "../lib/internal.h"

#define CMD_GUEST 0x1u    /* needs an existing guest */
#define CMD_NEWGUEST 0x2u /* takes the name of a guest to create */
#define CMD_ROOT 0x4u     /* needs root */
#define CMD_ARGS 0x8u     /* options are the command's: no -h scan */
#define CMD_PLUGINS 0x10u /* needs the plugins loaded */
#define CMD_OPTGUEST 0x20u /* verb first: a guest unless an option follows */

/* A verb.  argv[0] is the verb; guest is the opened guest (CMD_GUEST) and
 * name the guest argument (CMD_GUEST, CMD_NEWGUEST).  Returns the exit
 * status; on failure the message is in vs_error(ctx). */
struct cmd {
	const char *name;
	int (*fn)(struct vs_ctx *ctx, struct vs_guest *guest, const char *name,
		  int argc, char **argv);
	unsigned flags;
	const char *synopsis; /* one line */
	const char *usage;    /* "usage: ..." and options */
	const struct vs_verb_def *plugin_verb; /* plugin verbs only */
};

/* Finds a verb (core first, then plugins); NULL when unknown. */
const struct cmd *cmd_find(const char *name);
/* Adds the verbs of loaded plugins; refuses clashes with a warning. */
void cmd_add_plugin_verbs(struct vs_ctx *ctx);
/* Prints the usage of one verb. */
void cmd_usage(struct vs_ctx *ctx, const struct cmd *c, FILE *out);
/* The nearest verb to a mistyped one, or NULL. */
const char *cmd_suggest(const char *name);

int cmd_attr(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_autostart(struct vs_ctx *, struct vs_guest *, const char *, int,
		  char **);
int cmd_enter(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_generator(struct vs_ctx *, struct vs_guest *, const char *, int,
		  char **);
int cmd_exec(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_suexec(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_namespace(struct vs_ctx *, struct vs_guest *, const char *, int,
		  char **);
int cmd_oci(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_ps(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_restart(struct vs_ctx *, struct vs_guest *, const char *, int,
		char **);
int cmd_console(struct vs_ctx *, struct vs_guest *, const char *, int,
		char **);
int cmd_condrestart(struct vs_ctx *, struct vs_guest *, const char *, int,
		    char **);
int cmd_kill(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_wait(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_running(struct vs_ctx *, struct vs_guest *, const char *, int,
		char **);
int cmd_start(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_stat(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_status(struct vs_ctx *, struct vs_guest *, const char *, int,
	       char **);
int cmd_stop(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_build(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_clone(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
/* The build front end's usage (the skeleton plugin's). */
void cmd_build_usage(struct vs_ctx *ctx, FILE *out);
int cmd_delete(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_help(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_list(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_paths(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_plugins(struct vs_ctx *, struct vs_guest *, const char *, int,
		char **);

/* aliases.c: when base (the program's name) is one of util-vserver's
 * commands, true, and *out the vs command line it stands for (malloc'd,
 * NULL-terminated; its strings are argv's or static), or *out NULL when
 * it has finished with *status (its help, a usage error). */
bool cmd_alias_argv(const char *base, int argc, char **argv, char ***out,
		    int *status);

/* A guest by its name or configuration path, else (a number) the running
 * guest with that context, as util-vserver's commands take either.  NULL
 * with the error set when there is none. */
struct vs_guest *cmd_guest_open(struct vs_ctx *ctx, const char *arg);

int cmd_info(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_dlimit(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_du(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_limit(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_mount(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_top(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_sched(struct vs_ctx *, struct vs_guest *, const char *, int, char **);
int cmd_uname(struct vs_ctx *, struct vs_guest *, const char *, int, char **);

/* json.c: writes s as a JSON string (with quotes). */
void json_str(FILE *out, const char *s);

/* Parses a verb's options that are all flags: each of argv[1..] must be
 * one of the NULL-terminated names; sets seen[i].  Returns 0, or 2 after
 * setting the error. */
int cmd_flags(struct vs_ctx *ctx, int argc, char **argv,
	      const char *const *names, bool *seen);

/* Sets "<verb>: unknown or incomplete option '<opt>'"; returns 2. */
int cmd_bad_option(struct vs_ctx *ctx, const char *verb, const char *opt);

/* cmd_flags for verbs whose only option is --json. */
int cmd_json_flag(struct vs_ctx *ctx, int argc, char **argv, bool *json);

#endif
