/* The keys of util-vserver's configuration tree that vs does not apply:
 * each one present is named in a warning at start with the reason and,
 * where there is one, what to use instead.  (The resource keys that
 * partly map are warned about where they are read: resources.c.)  The
 * whole table, honoured keys included, is doc/config-keys.md. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdio.h>

#include "runtime/runtime.h"

static const struct {
	const char *rel;
	bool defaults; /* also looked up in .defaults (the first one wins) */
	const char *why;
} refused[] = {
	{"fstab.local", false,
	 "deprecated in util-vserver; move its lines to fstab"},
	{"apps/init/tty", true,
	 "the guest's console is a pty of its own, logged ('vs <guest> "
	 "console')"},
	{"ccapabilities", false,
	 "context capabilities of the VServer kernel; bcapabilities limit the "
	 "guest"},
	{"ncapabilities", false,
	 "network context capabilities of the VServer kernel; the guest's "
	 "network namespace (spaces/net) isolates it"},
	{"nflags", false, "network context flags of the VServer kernel"},
	{"umask", false, "a namespace mask of the VServer kernel"},
	{"ncontext", false,
	 "network contexts are network namespaces here (spaces/net)"},
	{"noncontext", false,
	 "network contexts are network namespaces here (spaces/net)"},
	{"tag", false, "disk tags of the VServer kernel"},
	{"nocgroup", false, "every guest has its cgroup here"},
	{"netns", false, "give the guest spaces/net (and interfaces/)"},
	{"nonetns", false, "a guest shares the host's network unless it has "
			   "spaces/net or interfaces/"},
	{"keepfds", true,
	 "vs never hands the host's descriptors to a guest"},
	{"apps/vdevmap", false,
	 "device maps of the VServer kernel; bind the devices the guest needs "
	 "in fstab"},
	{"cpuset/virtualized", false, "cpuset virtualization of the VServer "
				      "kernel"},
};

void vs_keys_warn(struct vs_guest *g)
{
	char path[PATH_MAX], real[PATH_MAX];
	for (size_t i = 0; i < sizeof(refused) / sizeof(*refused); i++) {
		bool found;
		if (refused[i].defaults)
			found = vs_guest_cfg_find(g, refused[i].rel, NULL, path,
						  sizeof(path)) > 0;
		else {
			snprintf(path, sizeof(path), "%s/%s", g->cfgdir,
				 refused[i].rel);
			found = vs_host_exists(g->ctx, path) == 1;
		}
		if (found)
			vs_warn(g->ctx, "guest '%s': %s ignored: %s", g->name,
				vs_host_real(g->ctx, path, real, sizeof(real)),
				refused[i].why);
	}
	vs_clear_error(g->ctx);
}
