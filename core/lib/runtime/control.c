/* What hook plugins may ask of a guest (vshelper): start, stop, or a
 * restart by the monitor that runs the hooks.  Above start and stop. */
#define _GNU_SOURCE
#include <string.h>

#include "runtime/runtime.h"

void vs_guest_request_restart(struct vs_guest *g)
{
	g->restart_requested = true;
}

int vs_guest_control(struct vs_guest *g, const char *action)
{
	if (!strcmp(action, "start"))
		return vs_guest_start(g, false);
	if (!strcmp(action, "stop"))
		return vs_guest_stop(g);
	return vs_set_error(g->ctx, "unknown guest action '%s'", action);
}
