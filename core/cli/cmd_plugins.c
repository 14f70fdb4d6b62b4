/* vs plugins [--json] and vs paths [--json]. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_plugins(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
		int argc, char **argv)
{
	bool seen[1];
	(void)unused;
	(void)n;
	int r = cmd_json_flag(ctx, argc, argv, seen);
	if (r)
		return r;
	if (seen[0]) {
		fputs("{\"loaded\": [", stdout);
		bool first = true;
		for (size_t i = 0; i < ctx->nplugins; i++) {
			const struct vs_plugin_entry *e = &ctx->plugins[i];
			if (!e->desc)
				continue;
			fputs(first ? "\n  {\"kind\": " : ",\n  {\"kind\": ",
			      stdout);
			first = false;
			json_str(stdout, vs_kind_name(e->desc->kind));
			fputs(", \"name\": ", stdout);
			json_str(stdout, e->desc->name);
			fputs(", \"version\": ", stdout);
			json_str(stdout, e->desc->version);
			printf(", \"abi\": \"%u.%u\", \"file\": ",
			       e->desc->abi_major, e->desc->abi_minor);
			json_str(stdout, e->file);
			fputs(", \"summary\": ", stdout);
			json_str(stdout, e->desc->summary);
			fputs(", \"verbs\": [", stdout);
			for (const struct vs_verb_def *v = e->desc->verbs;
			     v && v->name; v++) {
				if (v != e->desc->verbs)
					fputs(", ", stdout);
				json_str(stdout, v->name);
			}
			fputs("]}", stdout);
		}
		fputs(first ? "], \"refused\": [" : "\n], \"refused\": [",
		      stdout);
		first = true;
		for (size_t i = 0; i < ctx->nplugins; i++) {
			const struct vs_plugin_entry *e = &ctx->plugins[i];
			if (e->desc)
				continue;
			fputs(first ? "\n  {\"file\": " : ",\n  {\"file\": ",
			      stdout);
			first = false;
			json_str(stdout, e->file);
			fputs(", \"reason\": ", stdout);
			json_str(stdout, e->refusal);
			fputc('}', stdout);
		}
		fputs(first ? "]}\n" : "\n]}\n", stdout);
		return 0;
	}
	printf("%-6s %-16s %-8s %-4s %s\n", "KIND", "NAME", "VERSION", "ABI",
	       "FILE");
	for (size_t i = 0; i < ctx->nplugins; i++) {
		const struct vs_plugin_entry *e = &ctx->plugins[i];
		if (e->desc)
			printf("%-6s %-16s %-8s %u.%-2u %s\n",
			       vs_kind_name(e->desc->kind), e->desc->name,
			       e->desc->version, e->desc->abi_major,
			       e->desc->abi_minor, e->file);
	}
	for (size_t i = 0; i < ctx->nplugins; i++) {
		const struct vs_plugin_entry *e = &ctx->plugins[i];
		if (!e->desc)
			printf("refused '%s': %s\n", e->file, e->refusal);
	}
	return 0;
}

int cmd_paths(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	      int argc, char **argv)
{
	bool seen[1];
	(void)unused;
	(void)n;
	int r = cmd_json_flag(ctx, argc, argv, seen);
	if (r)
		return r;
	const char *keys[] = {"sysroot",  "conffile", "confdir",   "vrootdir",
			      "rundir",   "cachedir", "lockdir",   "plugindir",
			      "defaults", "distributions"};
	const char *vals[] = {
		ctx->sysroot,
		ctx->conffile,
		ctx->paths[VS_PATH_CONFDIR],
		ctx->paths[VS_PATH_VROOTDIR],
		ctx->paths[VS_PATH_RUNDIR],
		ctx->paths[VS_PATH_CACHEDIR],
		ctx->paths[VS_PATH_LOCKDIR],
		ctx->plugindir,
		ctx->pkgdefaultsdir,
		ctx->distribdir,
	};
	size_t k = sizeof(keys) / sizeof(keys[0]);
	char missing[PATH_MAX + 32];
	if (!ctx->conf_loaded) {
		snprintf(missing, sizeof(missing), "%s (missing: built-in defaults)",
			 ctx->conffile);
		vals[1] = missing;
	}
	for (size_t i = 0; i < k; i++) {
		if (seen[0]) {
			fputs(i ? ", " : "{", stdout);
			json_str(stdout, keys[i]);
			fputs(": ", stdout);
			json_str(stdout, vals[i]);
		} else {
			printf("%-14s %s\n", keys[i], vals[i]);
		}
	}
	if (seen[0])
		fputs("}\n", stdout);
	return 0;
}
