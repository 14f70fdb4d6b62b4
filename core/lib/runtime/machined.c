/* A started guest registered with systemd-machined, so that machinectl
 * lists, shows and terminates it (terminate stops the guest's unit, which
 * stops the guest).  Only where systemd runs the host: the helper with
 * libsystemd (helpers/machined.c) is loaded then and only then.
 * RegisterMachine, not CreateMachine: machined takes the unit the guest's
 * init already runs in (vs@<guest>.service) instead of a scope of its own,
 * which would take the init out of the guest's cgroup; so only guests a
 * unit started (below its delegated group) are registered. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"
#include "runtime/helpers/helpers.h"

/* machined's rule for a machine's name: a host name. */
static bool machine_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

void vs_machined_register(struct vs_guest *g, pid_t init)
{
	struct vs_ctx *ctx = g->ctx;
	if (!vs_host_isdir(ctx, "/run/systemd/system"))
		return;
	if (!machine_name_ok(g->name)) {
		vs_warn(ctx, "guest '%s' is not registered with "
			     "systemd-machined: its name is not a machine's",
			g->name);
		return;
	}
	const struct vs_machined_ops *ops = vs_helper(ctx, "machined");
	if (!ops) {
		vs_clear_error(ctx);
		return;
	}
	unsigned char b[16] = {0};
	if (vs_guest_uuid(g, b) < 0)
		memset(b, 0, sizeof(b)); /* machined takes none as well */
	vs_clear_error(ctx);
	char root[PATH_MAX], msg[256];
	vs_host_real(ctx, g->root, root, sizeof(root));
	int r = ops->register_machine(g->name, b, init, root, msg, sizeof(msg));
	if (r < 0 && r != -ENOENT)
		vs_warn(ctx, "guest '%s' is not registered with "
			     "systemd-machined: %s",
			g->name, msg);
}
