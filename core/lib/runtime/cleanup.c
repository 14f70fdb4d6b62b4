/* What a stopped guest leaves is removed: post-stop hooks, the mounts of
 * a nonamespace guest, network host ends, cgroups, postpost-stop, the run
 * file.  Below start and stop, which both call it. */
#define _GNU_SOURCE
#include <limits.h>
#include <string.h>

#include "runtime/runtime.h"

void vs_guest_cleanup(struct vs_guest *g, const struct vs_runstate *rs,
		      bool hooks)
{
	char saved[sizeof(g->ctx->err)];
	memcpy(saved, g->ctx->err, sizeof(saved));
	if (hooks)
		vs_hooks_run(g, "post-stop", false);
	if (rs && rs->nonamespace && g->root) {
		char root[PATH_MAX];
		vs_mounts_cleanup(vs_host_real(g->ctx, g->root, root,
					       sizeof(root)));
	}
	struct vs_net net;
	if (vs_net_load(g, &net) == 0) {
		vs_net_host_cleanup(g->ctx, &net);
		vs_net_free(&net);
	}
	struct vs_cgroup cg;
	vs_cgroup_of(g, rs, &cg); /* where the start put them */
	if (vs_cgroup_exists(&cg) && vs_cgroup_destroy(&cg) < 0)
		vs_warn(g->ctx, "cannot remove the cgroup of guest '%s'",
			g->name);
	vs_cgroup_free(&cg);
	if (hooks)
		vs_hooks_run(g, "postpost-stop", false);
	vs_run_remove(g);
	memcpy(g->ctx->err, saved, sizeof(saved));
}
