/* Per-guest cgroups on v2 (where a controller is enabled there) and on the
 * v1 hierarchies (where this machine has memory, pids and cpu).
 *
 * Layout: <mount>/<base>/<guest> in the cgroup2 mount (always, when there
 * is one: membership, cgroup.kill) and in every v1 hierarchy that carries
 * a controller.  Limits come from the guest's cgroup/ directory: each file
 * "<controller>.<setting>" is written to that setting, translated between
 * v1 and v2 names where the guest's file names the other version. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"

static char *read_file(const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *s = NULL;
	char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf) - 1 < max ? sizeof(buf) - 1 : max);
	if (n >= 0) {
		buf[n] = '\0';
		s = vs_strdup(buf);
	}
	close(fd);
	return s;
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* The cgroup mounts: v2 root and v1 hierarchies with their controllers. */
struct mnt {
	char path[PATH_MAX];
	char ctls[256]; /* comma-separated v1 controllers; "" for v2 */
};

static size_t find_mounts_of(struct mnt *out, size_t max, bool named)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0, n = 0;
	while (f && n < max && getline(&line, &cap, f) > 0) {
		char mp[PATH_MAX], fstype[64], opts[1024];
		char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1 ||
		    sscanf(sep + 3, "%63s %*s %1023s", fstype, opts) != 2)
			continue;
		if (strcmp(fstype, "cgroup2") == 0) {
			snprintf(out[n].path, sizeof(out[n].path), "%s", mp);
			out[n++].ctls[0] = '\0';
		} else if (strcmp(fstype, "cgroup") == 0) {
			/* keep the controllers among the super options */
			char ctls[256] = "", name[128] = "", *save = NULL;
			for (char *o = strtok_r(opts, ",", &save); o;
			     o = strtok_r(NULL, ",", &save)) {
				if (!strncmp(o, "name=", 5))
					snprintf(name, sizeof(name), "%s", o);
				static const char *const known[] = {
					"memory", "pids",    "cpu",
					"cpuacct", "cpuset", "blkio",
					"freezer", "devices", "net_cls",
					"net_prio", "perf_event", "hugetlb",
					"rdma",    "misc",    NULL};
				for (const char *const *k = known; *k; k++)
					if (!strcmp(o, *k)) {
						size_t l = strlen(ctls);
						snprintf(ctls + l, sizeof(ctls) - l,
							 "%s%s", l ? "," : "", o);
					}
			}
			/* named hierarchies (name=systemd): OCI containers
			 * only, as runc places them */
			if (!ctls[0] && named && name[0])
				snprintf(ctls, sizeof(ctls), "%s", name);
			if (!ctls[0])
				continue;
			snprintf(out[n].path, sizeof(out[n].path), "%s", mp);
			snprintf(out[n].ctls, sizeof(out[n].ctls), "%s", ctls);
			n++;
		}
	}
	free(line);
	if (f)
		fclose(f);
	return n;
}

/* The controller hierarchies (v1 ones by their controllers, cgroup2
 * with none) that guests use. */
static size_t find_mounts(struct mnt *out, size_t max)
{
	return find_mounts_of(out, max, false);
}

static bool has_word(const char *list, const char *word, char sep)
{
	size_t l = strlen(word);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, sep);
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n && (p[n - 1] == '\n' || p[n - 1] == ' '))
			n--;
		if (n == l && strncmp(p, word, l) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static const char *base_name(const struct vs_ctx *ctx)
{
	const char *b = vs_conf_str(ctx, "cgroup_base");
	return b ? b : "vservers";
}

void vs_cgroup_free(struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		free(cg->dirs[i]);
	memset(cg, 0, sizeof(*cg));
}

/* This process's cgroup2 group when systemd delegated it (a unit with
 * Delegate=yes): the guests' groups then go below it.  malloc'd, or
 * NULL. */
static char *delegated_unit_dir(const struct mnt *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m[i].ctls[0])
			continue;
		char *own = vs_cgroup_own_path("");
		char *d = own && strcmp(own, "/") != 0
				  ? vs_asprintf("%s%s", m[i].path, own)
				  : NULL;
		free(own);
		if (d && !vs_cgroup_is_delegated(d)) {
			free(d);
			d = NULL;
		}
		return d;
	}
	return NULL;
}

int vs_cgroup_supervise(const char *unitdir)
{
	char p[PATH_MAX], pid[32];
	snprintf(p, sizeof(p), "%s/supervisor", unitdir);
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(p, sizeof(p), "%s/supervisor/cgroup.procs", unitdir);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_file(p, pid);
}

void vs_cgroup_leave_unit_root(void)
{
	struct mnt m[16];
	char *unit = delegated_unit_dir(m, find_mounts(m, 16));
	if (unit)
		vs_cgroup_supervise(unit);
	free(unit);
}

/* Every hierarchy the guest could have a group in: below the base, or,
 * in a delegated unit, below the unit's own group where it has one. */
static void all_hierarchies(struct vs_guest *g, struct vs_cgroup *cg)
{
	struct mnt m[16];
	size_t n = find_mounts(m, 16);
	memset(cg, 0, sizeof(*cg));
	snprintf(cg->base, sizeof(cg->base), "%s", base_name(g->ctx));
	char *unit = delegated_unit_dir(m, n);
	cg->delegated = unit != NULL;
	free(unit);
	for (size_t i = 0; i < n && cg->n < VS_CGROUP_MAX; i++) {
		char *dir = NULL;
		if (cg->delegated) {
			char *own = vs_cgroup_own_path(m[i].ctls);
			if (own && strcmp(own, "/") != 0)
				dir = vs_asprintf("%s%s/%s", m[i].path, own,
						  g->name);
			free(own);
		}
		if (!dir)
			dir = vs_asprintf("%s/%s/%s", m[i].path,
					  base_name(g->ctx), g->name);
		if (!m[i].ctls[0] && !cg->v2)
			cg->v2 = dir; /* one of dirs[], not a copy */
		snprintf(cg->ctls[cg->n], sizeof(cg->ctls[0]), "%s", m[i].ctls);
		cg->dirs[cg->n++] = dir;
	}
}

/* Keeps the hierarchies with keep[i] set. */
static void filter(struct vs_cgroup *cg, const bool *keep)
{
	size_t k = 0;
	for (size_t i = 0; i < cg->n; i++) {
		if (!keep[i]) {
			if (cg->dirs[i] == cg->v2) {
				free(cg->v2);
				cg->v2 = NULL;
			} else {
				free(cg->dirs[i]);
			}
			continue;
		}
		cg->dirs[k] = cg->dirs[i];
		memmove(cg->ctls[k], cg->ctls[i], sizeof(cg->ctls[k]));
		k++;
	}
	cg->n = k;
}

int vs_cgroup_locate(struct vs_guest *g, struct vs_cgroup *cg)
{
	bool keep[VS_CGROUP_MAX];
	all_hierarchies(g, cg);
	for (size_t i = 0; i < cg->n; i++)
		keep[i] = access(cg->dirs[i], F_OK) == 0;
	filter(cg, keep);
	return 0;
}

int vs_cgroup_of(struct vs_guest *g, const struct vs_runstate *rs,
		 struct vs_cgroup *cg)
{
	if (!rs || !rs->cgroups[0])
		return vs_cgroup_locate(g, cg);
	memset(cg, 0, sizeof(*cg));
	for (const char *l = rs->cgroups; *l && cg->n < VS_CGROUP_MAX;) {
		const char *sp = strchr(l, ' '), *nl = strchr(l, '\n');
		if (!nl)
			nl = l + strlen(l);
		if (sp && sp < nl && sp > l) {
			size_t k = (size_t)(sp - l);
			bool v2 = k == 1 && *l == '-';
			snprintf(cg->ctls[cg->n], sizeof(cg->ctls[0]), "%.*s",
				 v2 ? 0 : (int)k, l);
			cg->dirs[cg->n] = vs_asprintf("%.*s", (int)(nl - sp - 1),
						       sp + 1);
			if (v2 && !cg->v2)
				cg->v2 = cg->dirs[cg->n];
			cg->n++;
		}
		l = *nl ? nl + 1 : nl;
	}
	snprintf(cg->base, sizeof(cg->base), "%s", base_name(g->ctx));
	if (cg->v2) {
		char unit[PATH_MAX];
		snprintf(unit, sizeof(unit), "%s", cg->v2);
		*strrchr(unit, '/') = '\0';
		cg->delegated = vs_cgroup_is_delegated(unit);
	}
	return 0;
}

void vs_cgroup_record(const struct vs_cgroup *cg, struct vs_runstate *rs)
{
	size_t len = 0, size = sizeof(rs->cgroups);
	rs->cgroups[0] = '\0';
	for (size_t i = 0; i < cg->n; i++) {
		int n = snprintf(rs->cgroups + len, size - len, "%s %s\n",
				 cg->ctls[i][0] ? cg->ctls[i] : "-",
				 cg->dirs[i]);
		if (n < 0 || (size_t)n >= size - len ||
		    strchr(cg->dirs[i], '\n')) {
			rs->cgroups[0] = '\0';
			return;
		}
		len += (size_t)n;
	}
}

/* v1 cpuset: a new group needs cpus and mems before it takes tasks. */
static void cpuset_inherit(const char *dir)
{
	static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
	for (int i = 0; i < 2; i++) {
		char p[PATH_MAX], parent[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		char *cur = read_file(p, 4096);
		if (cur && cur[0] != '\n' && cur[0]) {
			free(cur);
			continue;
		}
		free(cur);
		snprintf(parent, sizeof(parent), "%s", dir);
		*strrchr(parent, '/') = '\0';
		snprintf(parent + strlen(parent), sizeof(parent) - strlen(parent),
			 "/%s", files[i]);
		char *v = read_file(parent, 4096);
		if (v)
			write_file(p, v);
		free(v);
	}
}

/* Creates dir and its parent (the base) when missing. */
static int make_dir(const char *dir, bool cpuset)
{
	char parent[PATH_MAX];
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return -1;
	if (cpuset)
		cpuset_inherit(parent);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -1;
	if (cpuset)
		cpuset_inherit(dir);
	return 0;
}

/* The length of the path of the cgroup2 mount's root in dir, a group
 * below it (its ancestors on the same file system). */
static size_t v2_root_len(const char *dir)
{
	char p[PATH_MAX];
	struct stat st, up;
	size_t len = strlen(dir);
	if (len >= sizeof(p) || stat(dir, &st) < 0)
		return 0;
	memcpy(p, dir, len + 1);
	for (char *s; (s = strrchr(p, '/')) && s != p;) {
		*s = '\0';
		if (stat(p, &up) < 0 || up.st_dev != st.st_dev)
			break;
		len = (size_t)(s - p);
	}
	return len;
}

/* For an engine's path (cg->chain): +ctl in every group from the
 * hierarchy's root down to the parent of the container's (runc's way; a
 * group of the engine's that holds processes refuses it). */
static bool v2_enable_chain(const struct vs_cgroup *cg, const char *plus)
{
	char p[PATH_MAX];
	size_t end = v2_root_len(cg->v2);
	size_t parent = (size_t)(strrchr(cg->v2, '/') - cg->v2);
	if (!end)
		return false;
	for (;;) {
		snprintf(p, sizeof(p), "%.*s/cgroup.subtree_control", (int)end,
			 cg->v2);
		if (write_file(p, plus) < 0)
			return false;
		if (end >= parent)
			return true;
		end = (size_t)(strchr(cg->v2 + end + 1, '/') - cg->v2);
	}
}

/* The group whose controllers the guest's cgroup2 group can be given,
 * into root: the hierarchy's root for an engine's path, the delegated
 * unit's group, else the mount's root above the base. */
static void v2_granter(const struct vs_cgroup *cg, char *root, size_t size)
{
	snprintf(root, size, "%s", cg->v2);
	if (cg->chain) {
		root[v2_root_len(cg->v2)] = '\0';
		return;
	}
	*strrchr(root, '/') = '\0';
	if (!cg->delegated)
		*strrchr(root, '/') = '\0';
}

/* True when the cgroup2 hierarchy offers controller ctl to the guest's
 * group (v2_granter's group offers it). */
static bool v2_offers(const struct vs_cgroup *cg, const char *ctl)
{
	char root[PATH_MAX], p[PATH_MAX];
	if (!cg->v2)
		return false;
	v2_granter(cg, root, sizeof(root));
	snprintf(p, sizeof(p), "%s/cgroup.controllers", root);
	char *avail = read_file(p, 4096);
	bool ok = avail && has_word(avail, ctl, ' ');
	free(avail);
	return ok;
}

/* Enables a controller for the guest's cgroup2 group: in the mount's
 * root and the base, or, in a delegated unit, in the unit's group only
 * (this process first moves to its supervisor leaf: a group with
 * controllers for its children holds no process); false when v2 does not
 * offer it here. */
static bool v2_enable(const struct vs_cgroup *cg, const char *ctl)
{
	char base[PATH_MAX], p[PATH_MAX], plus[64];
	if (!v2_offers(cg, ctl))
		return false;
	snprintf(base, sizeof(base), "%s", cg->v2);
	*strrchr(base, '/') = '\0';
	snprintf(plus, sizeof(plus), "+%s", ctl);
	if (cg->chain)
		return v2_enable_chain(cg, plus);
	if (cg->delegated) {
		if (vs_cgroup_supervise(base) < 0)
			return false;
	} else {
		char root[PATH_MAX];
		snprintf(root, sizeof(root), "%s", base);
		*strrchr(root, '/') = '\0';
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
		if (write_file(p, plus) < 0)
			return false;
	}
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", base);
	return write_file(p, plus) == 0;
}

/* cpu.max ("<quota|max> <period>") on v1: cpu.cfs_period_us, then
 * cpu.cfs_quota_us (-1 for max). */
static int cpu_max_v1(struct vs_guest *g, const char *dir, const char *value)
{
	char quota[32] = "", period[32] = "100000", target[PATH_MAX];
	if (sscanf(value, "%31s %31s", quota, period) < 1)
		return vs_set_error(g->ctx, "guest '%s': bad cpu.max '%s'",
				    g->name, value);
	const char *files[] = {"cpu.cfs_period_us", "cpu.cfs_quota_us"};
	const char *vals[] = {period, strcmp(quota, "max") ? quota : "-1"};
	for (int i = 0; i < 2; i++) {
		snprintf(target, sizeof(target), "%s/%s", dir, files[i]);
		if (write_file(target, vals[i]) < 0)
			return vs_set_errno(g->ctx, errno,
					    "cannot set '%s' to '%s' for guest "
					    "'%s'",
					    target, vals[i], g->name);
	}
	return 0;
}


/* The controller ctl as the hierarchy spells it: block I/O is blkio on
 * v1, io on cgroup2. */
static const char *ctl_on(const char *ctl, bool v2)
{
	if (v2 && !strcmp(ctl, "blkio"))
		return "io";
	if (!v2 && !strcmp(ctl, "io"))
		return "blkio";
	return ctl;
}

static int apply_setting(struct vs_guest *g, const struct vs_cgroup *cg,
			 const char *name, const char *value)
{
	char ctl[64], target[PATH_MAX], conv[256], file[128];
	snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(name, "."), name);
	const char *dir = NULL;
	bool v2 = v2_enable(cg, ctl_on(ctl, true));
	if (v2)
		dir = cg->v2;
	for (size_t i = 0; i < cg->n && !dir; i++)
		if (cg->ctls[i][0] && has_word(cg->ctls[i], ctl_on(ctl, false), ','))
			dir = cg->dirs[i];
	/* an OCI container's group has no configuration directory */
	const char *what = g->cfgdir ? "guest" : "container";
	if (!dir && !g->cfgdir)
		return vs_set_error(g->ctx,
				    "cannot set '%s' for container '%s': no %s "
				    "controller on this host",
				    name, g->name, ctl);
	if (!dir)
		return vs_set_error(g->ctx,
				    "cannot apply 'cgroup/%s' of guest '%s': no "
				    "%s controller on this host",
				    name, g->name, ctl);
	if (!v2 && !strcmp(name, "cpu.max")) /* "quota period" in two files */
		return cpu_max_v1(g, dir, value);
	if (!v2 && !strcmp(name, "memory.min")) {
		vs_warn(g->ctx, "%s '%s': memory.min ignored: the v1 memory "
				"controller has no guaranteed minimum",
			what, g->name);
		return 0;
	}
	const char *bfq = vs_cgroup_bfq_file(dir, name, v2);
	if (bfq) { /* BFQ's weights have blkio's scale */
		snprintf(file, sizeof(file), "%s", bfq);
		snprintf(conv, sizeof(conv), "%.*s",
			 (int)strcspn(value, "\n"), value);
	} else {
		vs_cgroup_translate(name, value, v2, file, sizeof(file), conv,
				    sizeof(conv));
	}
	/* cgroup2 takes cpus another guest's partition holds, and makes
	 * that partition invalid: refused first, as v1 refuses it */
	if (v2 && !strcmp(file, "cpuset.cpus") &&
	    vs_cgroup_partition_free(g, dir, conv) < 0)
		return -1;
	snprintf(target, sizeof(target), "%s/%s", dir, file);
	if (write_file(target, conv) < 0)
		return vs_set_errno(g->ctx, errno,
				    "cannot set '%s' to '%s' for %s '%s'",
				    target, conv, what, g->name);
	return 0;
}

/* Where the guest's cgroup settings come from: its own cgroup/, else
 * .defaults/cgroup/ (util-vserver's rule: the first that exists). */
static void limit_dir(struct vs_guest *g, char *path, size_t size)
{
	snprintf(path, size, "%s/cgroup", g->cfgdir);
	if (vs_host_exists(g->ctx, path) == 1)
		return;
	snprintf(path, size, "%s/.defaults/cgroup",
		 g->ctx->paths[VS_PATH_CONFDIR]);
}

bool vs_cgroup_has(const struct vs_cgroup *cg, const char *ctl)
{
	char p[PATH_MAX];
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dirs[i] != cg->v2 && has_word(cg->ctls[i], ctl, ','))
			return true;
	if (!cg->v2)
		return false;
	snprintf(p, sizeof(p), "%s/cgroup.controllers", cg->v2);
	char *here = read_file(p, 4096);
	bool ok = here && has_word(here, ctl, ' ');
	free(here);
	return ok;
}

int vs_cgroup_set(struct vs_guest *g, const struct vs_cgroup *cg,
		  const char *name, const char *value)
{
	return apply_setting(g, cg, name, value);
}

void vs_cgroup_offer(struct vs_guest *g, const struct vs_cgroup *cg)
{
	char path[PATH_MAX], root[PATH_MAX];
	if (!cg->v2)
		return;
	limit_dir(g, path, sizeof(path));
	size_t l = strlen(path);
	snprintf(path + l, sizeof(path) - l, "/delegate");
	char *want = vs_host_read(g->ctx, path, 4096, NULL);
	bool named = want != NULL;
	vs_clear_error(g->ctx);
	if (!named) {
		/* what the host enables for its children (a delegated unit:
		 * what it was given) */
		v2_granter(cg, root, sizeof(root));
		l = strlen(root);
		snprintf(root + l, sizeof(root) - l, "/%s",
			 cg->delegated ? "cgroup.controllers"
				       : "cgroup.subtree_control");
		want = read_file(root, 4096);
	}
	for (char *save = NULL, *w = want ? strtok_r(want, " \t\n,", &save) : NULL;
	     w; w = strtok_r(NULL, " \t\n,", &save))
		if (!v2_enable(cg, w) && named)
			vs_warn(g->ctx,
				"guest '%s': controller '%s' of %s not "
				"delegated: cgroup2 does not offer it here",
				g->name, w, path);
	free(want);
}

/* The names of the guest's cgroup settings ("<controller>.<x>"),
 * sorted; NULL-terminated. */
static char **limit_names(struct vs_guest *g)
{
	char path[PATH_MAX];
	limit_dir(g, path, sizeof(path));
	char **all = vs_host_list(g->ctx, path);
	size_t k = 0;
	for (char **n = all; n && *n; n++) {
		if ((*n)[0] == '.' || !strchr(*n, '.') ||
		    strchr(*n, '/')) {
			free(*n);
			continue;
		}
		all[k++] = *n;
	}
	if (all)
		all[k] = NULL;
	vs_clear_error(g->ctx);
	return all;
}

/* util-vserver's exclusive cpuset flags, under both spellings (the build
 * writes cpus_exclusive), and the v1 file each one becomes. */
static const struct {
	const char *keys[2];
	const char *file;
} exclusive[] = {
	{{"cpuset/cpu_exclusive", "cpuset/cpus_exclusive"},
	 "cpuset.cpu_exclusive"},
	{{"cpuset/mem_exclusive", "cpuset/mems_exclusive"},
	 "cpuset.mem_exclusive"},
};

/* The key of flag i the guest sets to non-zero, or NULL. */
static const char *exclusive_key(struct vs_guest *g, size_t i)
{
	char v[32];
	for (int k = 0; k < 2; k++)
		if (vs_guest_cfg_line(g, exclusive[i].keys[k], v, sizeof(v)) ==
			    1 &&
		    strtol(v, NULL, 10) != 0)
			return exclusive[i].keys[k];
	return NULL;
}

/* The v1 cpuset group of cg, or NULL. */
static const char *cpuset_dir(const struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dirs[i] != cg->v2 && has_word(cg->ctls[i], "cpuset", ','))
			return cg->dirs[i];
	return NULL;
}

/* How many groups lie above dir below its v1 hierarchy's root (the
 * root, alone, has release_agent); 0 when none is found. */
static int v1_depth(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", dir);
	for (int n = 0; n < 32 && strrchr(p, '/') != p; n++) {
		*strrchr(p, '/') = '\0';
		size_t l = strlen(p);
		snprintf(p + l, sizeof(p) - l, "/release_agent");
		bool root = access(p, F_OK) == 0;
		p[l] = '\0';
		if (root)
			return n;
	}
	return 0;
}

/* The exclusive flags (v1): the kernel takes one only on a group whose
 * parent has it, so every group from the base down to the guest's gets
 * it; their cpus (mems) must then not overlap a sibling's.  On cgroup2
 * exclusive cpus make the guest's group a partition (cgroup_partition.c);
 * cgroup2 has no exclusive mems: a warning. */
static int apply_exclusive(struct vs_guest *g, const struct vs_cgroup *cg)
{
	const char *dir = cpuset_dir(cg);
	for (size_t i = 0; i < sizeof(exclusive) / sizeof(*exclusive); i++) {
		const char *key = exclusive_key(g, i);
		if (!key)
			continue;
		if (!dir && i == 0 && v2_enable(cg, "cpuset")) {
			if (vs_cgroup_partition(g, cg->v2, key) < 0)
				return -1;
			continue;
		}
		if (!dir) {
			vs_warn(g->ctx, "guest '%s': %s ignored: %s",
				g->name, key,
				v2_offers(cg, "cpuset")
					? "cgroup2 has no exclusive mems"
					: "no cpuset controller here");
			continue;
		}
		for (int up = v1_depth(dir); up >= 0; up--) {
			char p[PATH_MAX];
			snprintf(p, sizeof(p), "%s", dir);
			for (int k = 0; k < up; k++)
				*strrchr(p, '/') = '\0';
			size_t l = strlen(p);
			snprintf(p + l, sizeof(p) - l, "/%s", exclusive[i].file);
			char *cur = read_file(p, 64);
			bool on = cur && cur[0] == '1';
			free(cur);
			if (!on && write_file(p, "1") < 0) {
				p[l] = '\0';
				return vs_set_errno(
					g->ctx, errno,
					"cannot apply %s of guest '%s': '%s' "
					"cannot be exclusive (its %s overlap a "
					"sibling's)",
					key, g->name, p,
					i == 0 ? "cpus" : "mems");
			}
		}
	}
	return 0;
}

/* After the guest's cpuset group is gone: a base group none of whose
 * groups is exclusive any more loses the flags apply_exclusive gave it,
 * so that the host's other cpusets may overlap it again. */
static void release_exclusive(const char *dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", dir);
	enum { NFLAGS = sizeof(exclusive) / sizeof(*exclusive) };
	for (int up = v1_depth(dir) + 1; up > 1; up--) {
		*strrchr(p, '/') = '\0';
		bool held[NFLAGS] = {false};
		DIR *d = opendir(p);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_type != DT_DIR || e->d_name[0] == '.')
				continue;
			for (size_t i = 0; i < NFLAGS; i++) {
				char f[PATH_MAX];
				snprintf(f, sizeof(f), "%s/%s/%s", p, e->d_name,
					 exclusive[i].file);
				char *v = held[i] ? NULL : read_file(f, 64);
				held[i] |= v && v[0] == '1';
				free(v);
			}
		}
		if (d)
			closedir(d);
		for (size_t i = 0; i < NFLAGS; i++) {
			char f[PATH_MAX];
			snprintf(f, sizeof(f), "%s/%s", p, exclusive[i].file);
			if (!held[i])
				write_file(f, "0");
		}
	}
}

/* The limits: what the resource keys become (ulimits/, rlimits/,
 * sched/), then every regular file of the cgroup settings, which win,
 * and cpuset/{cpus,mems}. */
static int apply_limits(struct vs_guest *g, const struct vs_cgroup *cg,
			char **names, const struct vs_resources *res)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int r = 0;
	for (size_t i = 0; res && i < res->ncg && r == 0; i++)
		r = apply_setting(g, cg, res->cg[i].name, res->cg[i].value);
	limit_dir(g, dir, sizeof(dir));
	for (size_t i = 0; names && names[i] && r == 0; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		char *v = vs_host_read(g->ctx, path, 4096, NULL);
		if (v)
			r = apply_setting(g, cg, names[i], v);
		free(v);
	}
	static const char *const cpuset[] = {"cpus", "mems"};
	for (int i = 0; i < 2 && r == 0; i++) {
		char v[256], name[32];
		snprintf(name, sizeof(name), "cpuset/%s", cpuset[i]);
		if (vs_guest_cfg_line(g, name, v, sizeof(v)) == 1 && v[0]) {
			snprintf(name, sizeof(name), "cpuset.%s", cpuset[i]);
			r = apply_setting(g, cg, name, v);
		}
	}
	if (r == 0)
		r = apply_exclusive(g, cg);
	/* a cpuset without cpus or mems takes no task (ENOSPC): say why */
	const char *cs = cpuset_dir(cg);
	static const char *const held[] = {"cpus", "mems"};
	for (int i = 0; i < 2 && r == 0 && cs; i++) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/cpuset.%s", cs, held[i]);
		char *v = read_file(p, 4096);
		if (!v || v[0] == '\n' || !v[0])
			r = vs_set_error(g->ctx,
					 "cannot give guest '%s' a cpuset: no %s "
					 "left in '%s' (exclusive cpusets hold "
					 "them); set cpuset/%s",
					 g->name, held[i], p, held[i]);
		free(v);
	}
	return r;
}

/* Which hierarchies a guest needs: the cgroup2 one (membership, kill),
 * and a v1 one only for a controller that a setting needs and cgroup2
 * does not offer here; without cgroup2, one v1 hierarchy for
 * membership. */
static void need(const struct vs_cgroup *cg, bool *keep, const char *setting)
{
	char ctl[64];
	snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(setting, "."), setting);
	if (v2_offers(cg, ctl_on(ctl, true)))
		return;
	for (size_t i = 0; i < cg->n; i++)
		if (cg->ctls[i][0] && has_word(cg->ctls[i], ctl_on(ctl, false), ','))
			keep[i] = true;
}

static void choose(struct vs_guest *g, struct vs_cgroup *cg, char **names,
		   const struct vs_resources *res)
{
	bool keep[VS_CGROUP_MAX] = {false};
	char v[64];
	for (size_t i = 0; i < cg->n; i++)
		keep[i] = cg->dirs[i] == cg->v2;
	for (char **n = names; n && *n; n++)
		need(cg, keep, *n);
	for (size_t i = 0; res && i < res->ncg; i++)
		need(cg, keep, res->cg[i].name);
	if (vs_guest_cfg_line(g, "cpuset/cpus", v, sizeof(v)) == 1 ||
	    vs_guest_cfg_line(g, "cpuset/mems", v, sizeof(v)) == 1 ||
	    exclusive_key(g, 0) || exclusive_key(g, 1))
		need(cg, keep, "cpuset.cpus");
	vs_clear_error(g->ctx);
	if (!cg->v2 && cg->n) {
		size_t pick = 0;
		for (size_t i = 0; i < cg->n; i++)
			if (has_word(cg->ctls[i], "pids", ',') ||
			    has_word(cg->ctls[i], "memory", ','))
				pick = i;
		keep[pick] = true;
	}
	filter(cg, keep);
}

int vs_cgroup_create(struct vs_guest *g, struct vs_cgroup *cg,
		     const struct vs_resources *res)
{
	all_hierarchies(g, cg);
	if (cg->n == 0)
		return vs_set_error(g->ctx, "cannot find a cgroup hierarchy "
					    "(is /sys/fs/cgroup mounted?)");
	char **names = limit_names(g);
	choose(g, cg, names, res);
	for (size_t i = 0; i < cg->n; i++)
		if (make_dir(cg->dirs[i], strstr(cg->ctls[i], "cpuset") != NULL) <
		    0) {
			int e = errno;
			vs_set_errno(g->ctx, e, "cannot create cgroup '%s'",
				     cg->dirs[i]);
			vs_cgroup_destroy(cg);
			return -1;
		}
	int r = apply_limits(g, cg, names, res);
	vs_strv_free(names);
	if (r < 0) {
		char saved[sizeof(g->ctx->err)];
		memcpy(saved, g->ctx->err, sizeof(saved));
		vs_cgroup_destroy(cg);
		memcpy(g->ctx->err, saved, sizeof(saved));
		return -1;
	}
	return 0;
}

int vs_cgroup_create_path(struct vs_ctx *ctx, const char *rel,
			  struct vs_cgroup *cg)
{
	struct mnt m[16];
	size_t n = find_mounts_of(m, 16, true);
	memset(cg, 0, sizeof(*cg));
	snprintf(cg->base, sizeof(cg->base), "/");
	cg->delegated = true; /* the parents are the caller's */
	cg->chain = true;
	if (rel[0] != '/' || strstr(rel, "/../") || strstr(rel, "/./") ||
	    (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/..")) ||
	    !strcmp(rel, "/"))
		return vs_set_error(ctx, "bad cgroup path '%s'", rel);
	if (n == 0)
		return vs_set_error(ctx, "cannot find a cgroup hierarchy "
					 "(is /sys/fs/cgroup mounted?)");
	for (size_t i = 0; i < n && cg->n < VS_CGROUP_MAX; i++) {
		char *dir = vs_asprintf("%s%s", m[i].path, rel);
		bool cpuset = has_word(m[i].ctls, "cpuset", ',');
		/* every missing level, with cpus and mems for v1 cpuset */
		for (char *p = dir + strlen(m[i].path) + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char c = *p;
			*p = '\0';
			int r = mkdir(dir, 0755);
			int e = errno;
			if (r == 0 && cpuset)
				cpuset_inherit(dir);
			*p = c;
			if (r < 0 && e != EEXIST) {
				vs_set_errno(ctx, e, "cannot create cgroup '%s'",
					     dir);
				free(dir);
				vs_cgroup_destroy(cg);
				return -1;
			}
			if (!c)
				break;
		}
		if (!m[i].ctls[0] && !cg->v2)
			cg->v2 = dir;
		snprintf(cg->ctls[cg->n], sizeof(cg->ctls[0]), "%s", m[i].ctls);
		cg->dirs[cg->n++] = dir;
	}
	return 0;
}

char *vs_cgroup_leaf_dir(const char *v2, const char *lines)
{
	/* the cgroup2 line, "0::<path from the hierarchy's root>", at the
	 * start of a line (a v1 path may hold a newline: its own lines
	 * come first, so the first such line may be a guest's) */
	const char *own = NULL;
	for (const char *l = lines; l && *l && !own; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (!strncmp(l, "0::/", 4))
			own = l + 3;
	}
	if (!own)
		return NULL;
	size_t n = strcspn(own, "\n");
	/* v2 is <mount><group>: the path must lie below <group>, and
	 * whatever it says it stays there (no "..") */
	for (const char *g = v2; (g = strchr(g, '/')); g++) {
		size_t l = strlen(g);
		if (l >= n || strncmp(own, g, l) || own[l] != '/')
			continue;
		char *rest = vs_asprintf("%.*s", (int)(n - l), own + l);
		char *dir = NULL;
		if (!strstr(rest, "/..") && !strstr(rest, "//"))
			dir = vs_asprintf("%s%s", v2, rest);
		free(rest);
		return dir;
	}
	return NULL;
}

void vs_cgroup_use_leaf(struct vs_cgroup *cg, pid_t init)
{
	char p[PATH_MAX];
	if (!cg->v2)
		return;
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", cg->v2);
	char *sub = read_file(p, 4096);
	bool leaf = !sub || !sub[strspn(sub, " \n")];
	free(sub);
	if (leaf)
		return;
	snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)init);
	char *lines = read_file(p, 65536);
	char *dir = vs_cgroup_leaf_dir(cg->v2, lines);
	free(lines);
	if (!dir)
		return;
	for (size_t i = 0; i < cg->n; i++)
		if (cg->dirs[i] == cg->v2) {
			free(cg->dirs[i]);
			cg->dirs[i] = cg->v2 = dir;
			return;
		}
	free(dir);
}

int vs_cgroup_attach(const struct vs_cgroup *cg, pid_t pid, bool v1_only)
{
	char p[PATH_MAX], v[32];
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (size_t i = 0; i < cg->n; i++) {
		if (v1_only && cg->dirs[i] == cg->v2)
			continue;
		snprintf(p, sizeof(p), "%s/cgroup.procs", cg->dirs[i]);
		if (write_file(p, v) < 0)
			return -1;
	}
	return 0;
}

struct pid_list {
	pid_t *pids;
	size_t n, max;
};

/* The processes of the group open at fd and of the groups below it (an
 * init such as systemd makes its own), appended to the list. */
static void pids_below(int dfd, const char *name, int fd, int depth,
		       void *arg)
{
	(void)dfd;
	(void)name;
	struct pid_list *l = arg;
	int pfd = openat(fd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	FILE *f = pfd >= 0 ? fdopen(pfd, "re") : NULL;
	long v;
	while (f && l->n < l->max && fscanf(f, "%ld", &v) == 1)
		l->pids[l->n++] = (pid_t)v;
	if (f)
		fclose(f);
	else if (pfd >= 0)
		close(pfd);
	if (l->n < l->max)
		vs_cgroup_each_child(fd, depth, pids_below, l);
}

/* Removes the group name below dfd (open at fd) after those below it,
 * deepest first (their processes are gone). */
static void remove_group(int dfd, const char *name, int fd, int depth,
			 void *arg)
{
	vs_cgroup_each_child(fd, depth, remove_group, arg);
	for (int tries = 0; unlinkat(dfd, name, AT_REMOVEDIR) < 0 &&
			    errno == EBUSY && tries < 200;
	     tries++) {
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

size_t vs_cgroup_pids(const struct vs_cgroup *cg, pid_t *pids, size_t max)
{
	/* the v2 group, else the first v1 one: they hold the same tasks */
	const char *dir = cg->v2 ? cg->v2 : (cg->n ? cg->dirs[0] : NULL);
	int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd < 0)
		return 0;
	struct pid_list l = {.pids = pids, .max = max};
	pids_below(-1, NULL, fd, 0, &l);
	close(fd);
	return l.n;
}

bool vs_cgroup_holds(const struct vs_cgroup *cg, pid_t pid)
{
	pid_t pids[8192];
	size_t n = vs_cgroup_pids(cg, pids, 8192);
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

void vs_cgroup_signal(const struct vs_cgroup *cg, int sig)
{
	pid_t pids[4096];
	size_t n = vs_cgroup_pids(cg, pids, 4096);
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
}

int vs_cgroup_destroy(struct vs_cgroup *cg)
{
	int r = 0;
	/* whatever is left is killed first: cgroup.kill where v2 has it */
	for (int round = 0; round < 200; round++) {
		pid_t pids[16];
		if (vs_cgroup_pids(cg, pids, 16) == 0)
			break;
		char p[PATH_MAX];
		if (cg->v2) {
			snprintf(p, sizeof(p), "%s/cgroup.kill", cg->v2);
			write_file(p, "1");
		}
		vs_cgroup_signal(cg, SIGKILL);
		struct timespec ts = {0, 5 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < cg->n; i++) {
		int tries = 0, fd = open(cg->dirs[i],
					 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) { /* the groups below it first */
			vs_cgroup_each_child(fd, 0, remove_group, NULL);
			close(fd);
		}
		while (rmdir(cg->dirs[i]) < 0 && errno == EBUSY && tries++ < 200) {
			struct timespec ts = {0, 5 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
		if (access(cg->dirs[i], F_OK) == 0)
			r = -1;
		else if (cg->dirs[i] != cg->v2 &&
			 has_word(cg->ctls[i], "cpuset", ','))
			release_exclusive(cg->dirs[i]);
		/* the base goes too when it is empty; a delegated unit's
		 * group is systemd's */
		char base[PATH_MAX];
		snprintf(base, sizeof(base), "%s", cg->dirs[i]);
		*strrchr(base, '/') = '\0';
		if (cg->dirs[i] == cg->v2 && r == 0)
			vs_cgroup_partition_release(base);
		const char *last = strrchr(cg->base, '/');
		last = last ? last + 1 : cg->base;
		if (!cg->delegated &&
		    (!cg->base[0] || !strcmp(strrchr(base, '/') + 1, last)))
			rmdir(base);
	}
	return r;
}

int vs_cgroup_delegate(const struct vs_cgroup *cg, uid_t uid, gid_t gid)
{
	static const char *const files[] = {".", "cgroup.procs",
					    "cgroup.subtree_control",
					    "cgroup.threads"};
	if (!cg->v2)
		return 0;
	int fd = open(cg->v2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files) && r == 0; i++)
		r = fchownat(fd, files[i], uid, gid, AT_SYMLINK_NOFOLLOW);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

bool vs_cgroup_exists(const struct vs_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (access(cg->dirs[i], F_OK) == 0)
			return true;
	return false;
}

char *vs_cgroup_stat(const struct vs_cgroup *cg, const char *ctl,
		     const char *file)
{
	char p[PATH_MAX];
	for (size_t i = 0; i < cg->n; i++)
		if (cg->ctls[i][0] && has_word(cg->ctls[i], ctl, ',')) {
			snprintf(p, sizeof(p), "%s/%s", cg->dirs[i], file);
			return read_file(p, 65536);
		}
	if (cg->v2) {
		snprintf(p, sizeof(p), "%s/%s", cg->v2, file);
		return read_file(p, 65536);
	}
	return NULL;
}
