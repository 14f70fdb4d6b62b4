/* vs list [--json]: the guests with context, state and root. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *state_of(const struct vs_guest *g)
{
	if (vs_guest_running(g))
		return "running";
	return g->root ? "stopped" : "no-root";
}

int cmd_list(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	     int argc, char **argv)
{
	bool seen[1];
	(void)unused;
	(void)n;
	int r = cmd_json_flag(ctx, argc, argv, seen);
	if (r)
		return r;
	bool json = seen[0];
	char **ids = vs_guest_list(ctx);
	if (json)
		fputc('[', stdout);
	else if (ids[0])
		printf("%-20s %-8s %-8s %s\n", "NAME", "CONTEXT", "STATE",
		       "ROOT");
	int status = 0;
	for (char **id = ids; *id; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		if (!g) {
			vs_warn(ctx, "%s", vs_error(ctx));
			vs_clear_error(ctx);
			status = 1;
			continue;
		}
		char display[256] = "";
		if (vs_guest_cfg_line(g, "name", display, sizeof(display)) <= 0)
			snprintf(display, sizeof(display), "%s", g->name);
		vs_clear_error(ctx);
		if (json) {
			fputs(id == ids ? "\n  {\"name\": " : ",\n  {\"name\": ",
			      stdout);
			json_str(stdout, g->name);
			fputs(", \"display_name\": ", stdout);
			json_str(stdout, display);
			if (g->context)
				printf(", \"context\": %u", g->context);
			else
				fputs(", \"context\": null", stdout);
			fputs(", \"state\": ", stdout);
			json_str(stdout, state_of(g));
			fputs(", \"root\": ", stdout);
			if (g->root)
				json_str(stdout, g->root);
			else
				fputs("null", stdout);
			fputs(", \"cfgdir\": ", stdout);
			json_str(stdout, g->cfgdir);
			fputs(", \"addresses\": [", stdout);
			struct vs_net net;
			if (vs_net_load(g, &net) == 0) {
				for (size_t i = 0; i < net.naddrs; i++) {
					fputs(i ? ", " : "", stdout);
					json_str(stdout, net.addrs[i].text);
				}
				vs_net_free(&net);
			}
			vs_clear_error(ctx);
			fputs("]}", stdout);
		} else {
			char ctxs[16] = "-";
			if (g->context)
				snprintf(ctxs, sizeof(ctxs), "%u", g->context);
			printf("%-20s %-8s %-8s %s\n", g->name, ctxs,
			       state_of(g), g->root ? g->root : "-");
		}
		vs_guest_free(g);
	}
	if (json)
		fputs(ids[0] ? "\n]\n" : "]\n", stdout);
	vs_strv_free(ids);
	return status;
}
