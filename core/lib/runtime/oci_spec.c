/* An OCI bundle's configuration for the runtime: config.json through
 * the ocispec helper, its seccomp profile through the seccomp helper,
 * its cgroup and resources, its hooks. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/oci_int.h"

struct vs_oci_spec *oci_spec_load(struct vs_ctx *ctx, int dirfd,
				  const char *shown)
{
	const struct vs_oci_spec_ops *ops = vs_helper(ctx, "ocispec");
	if (!ops)
		return NULL;
	int fd = openat(dirfd, "config.json",
			O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		vs_set_errno(ctx, errno, "cannot open '%s/config.json'", shown);
		return NULL;
	}
	char msg[512] = "";
	struct vs_oci_spec *s = ops->load(fd, msg, sizeof(msg));
	close(fd);
	if (!s)
		vs_set_error(ctx, "bad '%s/config.json': %s", shown, msg);
	return s;
}

void oci_spec_free(struct vs_ctx *ctx, struct vs_oci_spec *s)
{
	const struct vs_oci_spec_ops *ops = vs_helper(ctx, "ocispec");
	if (ops && s)
		ops->free_spec(s);
}

/* the layout runtime/seccomp.c loads */
struct oci_bpf {
	unsigned short len;
	struct sock_filter insns[];
};

int oci_seccomp(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		void **filter)
{
	*filter = NULL;
	if (!s->seccomp)
		return 0;
	const struct vs_seccomp_ops *ops = vs_helper(ctx, "seccomp");
	if (!ops)
		return -1;
	char msg[256] = "";
	unsigned short len = 0;
	struct sock_filter *p = ops->compile_oci(s->seccomp, &len, msg,
						 sizeof(msg));
	if (!p)
		return vs_set_error(ctx, "bad linux.seccomp: %s",
				    msg[0] ? msg : strerror(errno));
	struct oci_bpf *b =
	    vs_xmalloc(sizeof(*b) + (size_t)len * sizeof(struct sock_filter));
	b->len = len;
	memcpy(b->insns, p, (size_t)len * sizeof(struct sock_filter));
	free(p);
	*filter = b;
	return 0;
}

/* cgroupsPath in its systemd form, slice:prefix:name, as the directory
 * systemd would give it: the slice's parents spelled out
 * (a-b.slice -> a.slice/a-b.slice), the unit <prefix>-<name>.scope. */
static char *systemd_path(struct vs_ctx *ctx, const char *p)
{
	const char *c1 = strchr(p, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':') || strchr(p, '/')) {
		vs_set_error(ctx, "bad cgroupsPath '%s': with --systemd-cgroup "
				  "it is slice:prefix:name",
			     p);
		return NULL;
	}
	char slice[256];
	snprintf(slice, sizeof(slice), "%.*s", (int)(c1 - p), p);
	if (!slice[0])
		snprintf(slice, sizeof(slice), "system.slice");
	char *dir = vs_strdup("");
	/* each dash-separated prefix of the slice is a parent */
	for (char *d = slice;; d++) {
		if (*d != '-' && *d != '\0')
			continue;
		if (*d == '-' && d == slice)
			continue;
		char *nd = vs_asprintf("%s/%.*s%s", dir, (int)(d - slice), slice,
				       strstr(slice, ".slice") &&
						   d == slice + strlen(slice)
					       ? ""
					       : ".slice");
		free(dir);
		dir = nd;
		if (!*d)
			break;
	}
	char *r = vs_asprintf("%s/%.*s%s%s.scope", dir, (int)(c2 - c1 - 1),
			      c1 + 1, c2 - c1 > 1 ? "-" : "", c2 + 1);
	free(dir);
	return r;
}

/* One setting in v2 spelling (vs_cgroup_set translates it for v1). */
static int set(struct vs_guest *g, const struct vs_cgroup *cg,
	       const char *name, long long v)
{
	char val[64];
	snprintf(val, sizeof(val), "%lld", v);
	return vs_cgroup_set(g, cg, name, val);
}

/* True when the group's controller ctl is a v1 hierarchy's (else it is
 * cgroup2's, enabled when written). */
static bool on_v1(const struct vs_cgroup *cg, const char *ctl)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dirs[i] != cg->v2 && strstr(cg->ctls[i], ctl))
			return true;
	return false;
}

/* blockIO's device lists: io.max on cgroup2, blkio's throttle files on
 * v1; weightDevice as blkio.weight_device (BFQ's file where the kernel
 * has it, else CFQ's or io.weight: vs_cgroup_set chooses).  A throttle
 * not applied fails the create (as runc); a weight only warns, as the
 * weight does. */
static int apply_blkdevs(struct vs_guest *g, const struct vs_cgroup *cg,
			 const struct vs_oci_spec *s)
{
	static const char *const v2key[] = {"rbps", "wbps", "riops", "wiops"};
	static const char *const v1file[] = {
		"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
		"blkio.throttle.read_iops_device",
		"blkio.throttle.write_iops_device"};
	bool v2 = !on_v1(cg, "blkio");
	for (size_t i = 0; i < s->nblkdevs; i++) {
		const struct vs_oci_blkdev *d = &s->blkdevs[i];
		bool weight = d->kind == VS_OCI_WEIGHT;
		char v[96];
		if (v2 && !weight && d->value == 0)
			snprintf(v, sizeof(v), "%lld:%lld %s=max", d->major,
				 d->minor, v2key[d->kind]);
		else if (v2 && !weight)
			snprintf(v, sizeof(v), "%lld:%lld %s=%lld", d->major,
				 d->minor, v2key[d->kind], d->value);
		else
			snprintf(v, sizeof(v), "%lld:%lld %lld", d->major,
				 d->minor, d->value);
		const char *file = weight ? "blkio.weight_device"
				   : v2	  ? "io.max"
					  : v1file[d->kind];
		if (vs_cgroup_set(g, cg, file, v) == 0)
			continue;
		if (!weight)
			return -1;
		vs_warn(g->ctx, "container '%s': blockIO.weightDevice %lld:%lld "
				"not applied: %s",
			g->name, d->major, d->minor, vs_error(g->ctx));
		vs_clear_error(g->ctx);
	}
	return 0;
}

static int apply_resources(struct vs_guest *g, const struct vs_cgroup *cg,
			   const struct vs_oci_spec *s)
{
	if (s->mem_limit >= 0 && set(g, cg, "memory.max", s->mem_limit) < 0)
		return -1;
	if (s->mem_reservation >= 0 &&
	    set(g, cg, "memory.low", s->mem_reservation) < 0)
		return -1;
	if (s->mem_swap >= 0) {
		/* memory plus swap on v1; swap alone on v2 */
		long long swap = s->mem_swap > s->mem_limit && s->mem_limit >= 0
					 ? s->mem_swap - s->mem_limit
					 : 0;
		if (on_v1(cg, "memory")
			? set(g, cg, "memory.memsw.limit_in_bytes",
			      s->mem_swap) < 0
			: set(g, cg, "memory.swap.max", swap) < 0)
			return -1;
	}
	if (s->pids_limit > 0 && set(g, cg, "pids.max", s->pids_limit) < 0)
		return -1;
	if (s->cpu_shares > 0 && set(g, cg, "cpu.shares", s->cpu_shares) < 0)
		return -1;
	if (s->cpu_quota > 0 || s->cpu_period > 0) {
		char quota[32] = "max", v[64];
		if (s->cpu_quota > 0)
			snprintf(quota, sizeof(quota), "%lld", s->cpu_quota);
		snprintf(v, sizeof(v), "%s %lld", quota,
			 s->cpu_period > 0 ? s->cpu_period : 100000LL);
		if (vs_cgroup_set(g, cg, "cpu.max", v) < 0)
			return -1;
	}
	if (s->cpus && s->cpus[0] &&
	    vs_cgroup_set(g, cg, "cpuset.cpus", s->cpus) < 0)
		return -1;
	if (s->mems && s->mems[0] &&
	    vs_cgroup_set(g, cg, "cpuset.mems", s->mems) < 0)
		return -1;
	if (s->blkio_weight > 0 &&
	    set(g, cg, "blkio.weight", s->blkio_weight) < 0) {
		vs_warn(g->ctx, "container '%s': blockIO.weight not applied: %s",
			g->name, vs_error(g->ctx));
		vs_clear_error(g->ctx);
	}
	if (apply_blkdevs(g, cg, s) < 0)
		return -1;
	return oci_devices_apply(g->ctx, cg, s);
}

int oci_cgroup_create(struct vs_ctx *ctx, const char *id,
		      const struct vs_oci_spec *s, bool systemd,
		      struct vs_cgroup *cg)
{
	char *rel;
	if (s->cgroups_path && s->cgroups_path[0])
		rel = systemd ? systemd_path(ctx, s->cgroups_path)
		      : s->cgroups_path[0] == '/'
			  ? vs_strdup(s->cgroups_path)
			  : vs_asprintf("/%s", s->cgroups_path);
	else
		rel = systemd ? vs_asprintf("/system.slice/vs-oci-%s.scope", id)
			      : vs_asprintf("/vs-oci/%s", id);
	if (!rel)
		return -1;
	int r = vs_cgroup_create_path(ctx, rel, cg);
	free(rel);
	if (r < 0)
		return -1;
	struct vs_guest g = {.ctx = ctx, .name = (char *)id};
	if (apply_resources(&g, cg, s) < 0) {
		char saved[sizeof(ctx->err)];
		memcpy(saved, ctx->err, sizeof(saved));
		vs_cgroup_destroy(cg);
		vs_cgroup_free(cg);
		memcpy(ctx->err, saved, sizeof(saved));
		return -1;
	}
	return 0;
}

static const char *const hook_names[VS_OCI_NHOOKS] = {
    "prestart",	      "createRuntime", "createContainer",
    "startContainer", "poststart",     "poststop"};

/* One hook: the state on its stdin, its output on our stderr. */
static int run_hook(struct vs_ctx *ctx, const struct vs_oci_hook *h,
		    const char *state, const char *kind)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vs_set_errno(ctx, errno, "cannot run the %s hook '%s'",
				    kind, h->path);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		dup2(2, 1);
		char *none[] = {NULL}, *dflt[] = {h->path, NULL};
		execve(h->path, h->args ? h->args : dflt,
		       h->env ? h->env : none);
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		return vs_set_errno(ctx, errno, "cannot run the %s hook '%s'",
				    kind, h->path);
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	vs_write_all(p[1], state, strlen(state));
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	int status = 0;
	if (!vs_wait_bounded(pid, h->timeout > 0 ? h->timeout * 1000 : -1,
			     &status))
		return vs_set_error(ctx, "the %s hook '%s' timed out after %d s",
				    kind, h->path, h->timeout);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return vs_set_error(ctx, "the %s hook '%s' failed (exit status "
					 "%d)",
				    kind, h->path, WEXITSTATUS(status));
	return vs_set_error(ctx, "the %s hook '%s' was killed by signal %d",
			    kind, h->path, WTERMSIG(status));
}

int oci_hooks_run(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		  enum vs_oci_hook_kind k, const char *state_json, bool fatal)
{
	int r = 0;
	for (size_t i = 0; i < s->nhooks[k]; i++) {
		if (run_hook(ctx, &s->hooks[k][i], state_json, hook_names[k]) ==
		    0)
			continue;
		if (fatal)
			return -1;
		vs_warn(ctx, "%s", vs_error(ctx));
		vs_clear_error(ctx);
		r = -1;
	}
	return r;
}
