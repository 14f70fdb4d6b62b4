/* util-vserver's resource keys on a vanilla kernel: ulimits/ and rlimits/
 * (setrlimit, pids.max, the memory controller), nice, ionice, badness
 * (oom_score_adj), personality and uts/machine (personality(2)), sched/
 * and schedule (cpu.max, cpu.weight), and the cflags (virt_uptime: a
 * time namespace).  What has no vanilla equivalent is named in a warning
 * at start, never silently ignored. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "runtime/runtime.h"

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

const struct vs_rlimit_name vs_rlimit_names[] = {
	{"cpu", RLIMIT_CPU, false},	  {"fsize", RLIMIT_FSIZE, false},
	{"data", RLIMIT_DATA, false},	  {"stack", RLIMIT_STACK, false},
	{"core", RLIMIT_CORE, false},	  {"rss", RLIMIT_RSS, true},
	{"nproc", RLIMIT_NPROC, false},	  {"nofile", RLIMIT_NOFILE, false},
	{"memlock", RLIMIT_MEMLOCK, true}, {"as", RLIMIT_AS, true},
	{"locks", RLIMIT_LOCKS, false},	  {"msgqueue", RLIMIT_MSGQUEUE, false},
	{"sigpending", RLIMIT_SIGPENDING, false},
	{"rtprio", RLIMIT_RTPRIO, false},
	{NULL, 0, false},
};
#define rlimit_names vs_rlimit_names

/* the VServer kernel's own context limits: no vanilla equivalent */
static const char *const vlimit_names[] = {"nsock", "openfd", "anon",
					   "shmem", "semary", "nsems",
					   "dentry"};

static const struct {
	const char *name;
	unsigned long value;
} persona_types[] = {
	{"LINUX", PER_LINUX},	      {"LINUX_32BIT", PER_LINUX_32BIT},
	{"LINUX32", PER_LINUX32},     {"LINUX32_3GB", PER_LINUX32_3GB},
	{"SVR4", PER_SVR4},	      {"SVR3", PER_SVR3},
	{"SCOSVR3", PER_SCOSVR3},     {"OSR5", PER_OSR5},
	{"WYSEV386", PER_WYSEV386},   {"ISCR4", PER_ISCR4},
	{"BSD", PER_BSD},	      {"SUNOS", PER_SUNOS},
	{"XENIX", PER_XENIX},	      {"IRIX32", PER_IRIX32},
	{"IRIXN32", PER_IRIXN32},     {"IRIX64", PER_IRIX64},
	{"RISCOS", PER_RISCOS},	      {"SOLARIS", PER_SOLARIS},
	{"UW7", PER_UW7},	      {"OSF4", PER_OSF4},
	{"HPUX", PER_HPUX},
}, persona_flags[] = {
	{"MMAP_PAGE_ZERO", MMAP_PAGE_ZERO},
	{"ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT},
	{"SHORT_INODE", SHORT_INODE},
	{"WHOLE_SECONDS", WHOLE_SECONDS},
	{"STICKY_TIMEOUTS", STICKY_TIMEOUTS},
	{"ADDR_LIMIT_3GB", ADDR_LIMIT_3GB},
	{"UNAME26", UNAME26},
	{"ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE},
	{"READ_IMPLIES_EXEC", READ_IMPLIES_EXEC},
	{"ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT},
	{"FDPIC_FUNCPTRS", FDPIC_FUNCPTRS},
};

static const char *cfg_path(struct vs_guest *g, const char *rel, char *buf,
			    size_t size)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", g->cfgdir, rel);
	return vs_host_real(g->ctx, p, buf, size);
}

static int bad_value(struct vs_guest *g, const char *rel, const char *what,
		     const char *value)
{
	char real[PATH_MAX];
	return vs_set_error(g->ctx, "%s: %s '%s'",
			    cfg_path(g, rel, real, sizeof(real)), what, value);
}

int vs_limit_parse(const char *s, rlim_t *out)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!strncmp(s, "inf", 3)) {
		const char *e = s + 3;
		if (!strncmp(e, "inity", 5))
			e += 5;
		while (isspace((unsigned char)*e))
			e++;
		if (*e)
			return -1;
		*out = RLIM_INFINITY;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *e;
	unsigned long long v = strtoull(s, &e, 10);
	unsigned long long mul = 1;
	switch (*e) {
	case 'k': mul = 1000; e++; break;
	case 'K': mul = 1024; e++; break;
	case 'm': mul = 1000000; e++; break;
	case 'M': mul = 1024 * 1024; e++; break;
	case 'g': mul = 1000000000; e++; break;
	case 'G': mul = 1024ULL * 1024 * 1024; e++; break;
	}
	while (isspace((unsigned char)*e))
		e++;
	if (*e || errno || (v && mul > ULLONG_MAX / v))
		return -1;
	*out = (rlim_t)(v * mul);
	return 0;
}

/* 1 and *v when <dir>/<file> exists, 0 when not, -1 (error set) when it
 * cannot be read or holds no limit. */
static int read_limit(struct vs_guest *g, const char *dir, const char *file,
		      rlim_t *v)
{
	char rel[128], buf[128];
	snprintf(rel, sizeof(rel), "%s/%s", dir, file);
	int r = vs_guest_cfg_line(g, rel, buf, sizeof(buf));
	if (r <= 0)
		return r;
	if (vs_limit_parse(buf, v) < 0)
		return bad_value(g, rel, "not a limit (a number with k, K, m "
					 "or M, or inf)",
				 buf);
	return 1;
}

/* The hard and soft value of one resource: <res> (both), <res>.hard,
 * <res>.soft, <res>.min.  0 when none is set. */
struct triple {
	bool set, have_min;
	rlim_t soft, hard, min;
};

static int read_triple(struct vs_guest *g, const char *dir, const char *res,
		       struct triple *t)
{
	char f[64];
	rlim_t v;
	int r;
	memset(t, 0, sizeof(*t));
	t->soft = t->hard = RLIM_INFINITY;
	if ((r = read_limit(g, dir, res, &v)) < 0)
		return -1;
	if (r) {
		t->soft = t->hard = v;
		t->set = true;
	}
	static const char *const sfx[] = {".hard", ".soft", ".min"};
	for (int i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", res, sfx[i]);
		if ((r = read_limit(g, dir, f, &v)) < 0)
			return -1;
		if (!r)
			continue;
		if (i == 0)
			t->hard = v, t->set = true;
		else if (i == 1)
			t->soft = v, t->set = true;
		else
			t->min = v, t->have_min = true;
	}
	if (t->soft > t->hard)
		t->soft = t->hard;
	return 0;
}

static void add_cg(struct vs_resources *r, const char *name, const char *fmt,
		   unsigned long long v)
{
	if (r->ncg >= VS_RES_CG_MAX)
		return;
	snprintf(r->cg[r->ncg].name, sizeof(r->cg[0].name), "%s", name);
	if (v == (unsigned long long)RLIM_INFINITY)
		snprintf(r->cg[r->ncg].value, sizeof(r->cg[0].value), "max");
	else
		snprintf(r->cg[r->ncg].value, sizeof(r->cg[0].value), fmt, v);
	r->ncg++;
}

static void warn_key(struct vs_guest *g, bool warn, const char *rel,
		     const char *why)
{
	char real[PATH_MAX];
	if (warn)
		vs_warn(g->ctx, "guest '%s': %s ignored: %s", g->name,
			cfg_path(g, rel, real, sizeof(real)), why);
}

static int load_limits(struct vs_guest *g, struct vs_resources *r, bool warn)
{
	long page = sysconf(_SC_PAGESIZE);
	/* ulimits/ (exec-ulimit: per process), then rlimits/ (vlimit: the
	 * context's), which wins where both name a resource */
	for (int pass = 0; pass < 2; pass++) {
		const char *dir = pass ? "rlimits" : "ulimits";
		/* (every exec reads these: a missing directory ends it) */
		if (!vs_guest_cfg_exists(g, dir))
			continue;
		for (size_t i = 0; rlimit_names[i].name; i++) {
			struct triple t;
			if (read_triple(g, dir, rlimit_names[i].name, &t) < 0)
				return -1;
			char rel[64];
			snprintf(rel, sizeof(rel), "%s/%s.min", dir,
				 rlimit_names[i].name);
			if (pass && rlimit_names[i].pages) {
				/* pages, as the VServer kernel counted them */
				if (t.soft != RLIM_INFINITY)
					t.soft *= (rlim_t)page;
				if (t.hard != RLIM_INFINITY)
					t.hard *= (rlim_t)page;
				if (t.min != RLIM_INFINITY)
					t.min *= (rlim_t)page;
			}
			if (pass && !strcmp(rlimit_names[i].name, "rss")) {
				/* the context's resident memory: its memory
				 * group */
				if (t.set && t.hard != RLIM_INFINITY)
					add_cg(r, "memory.max", "%llu",
					       (unsigned long long)t.hard);
				if (t.set && t.soft != t.hard)
					add_cg(r, "memory.high", "%llu",
					       (unsigned long long)t.soft);
				if (t.have_min)
					add_cg(r, "memory.min", "%llu",
					       (unsigned long long)t.min);
				continue;
			}
			if (t.have_min)
				warn_key(g, warn, rel,
					 "a guaranteed minimum exists only for "
					 "rss (memory.min)");
			if (!t.set)
				continue;
			if (pass && !strcmp(rlimit_names[i].name, "nproc"))
				add_cg(r, "pids.max", "%llu",
				       (unsigned long long)t.hard);
			r->rlim[rlimit_names[i].res].set = true;
			r->rlim[rlimit_names[i].res].lim.rlim_cur = t.soft;
			r->rlim[rlimit_names[i].res].lim.rlim_max = t.hard;
		}
	}
	for (size_t i = 0; vs_guest_cfg_exists(g, "rlimits") &&
			   i < sizeof(vlimit_names) / sizeof(*vlimit_names);
	     i++) {
		static const char *const sfx[] = {"", ".hard", ".soft",
						  ".min"};
		for (int k = 0; k < 4; k++) {
			char rel[64];
			snprintf(rel, sizeof(rel), "rlimits/%s%s",
				 vlimit_names[i], sfx[k]);
			if (vs_guest_cfg_exists(g, rel))
				warn_key(g, warn, rel,
					 "a limit of the VServer kernel that a "
					 "vanilla kernel does not have");
		}
	}
	return 0;
}

static int load_scalars(struct vs_guest *g, struct vs_resources *r)
{
	char buf[128], *e;
	int k;
	if ((k = vs_guest_cfg_line(g, "nice", buf, sizeof(buf))) < 0)
		return -1;
	if (k) {
		long v = strtol(buf, &e, 10);
		if (e == buf || *e || v < -20 || v > 19)
			return bad_value(g, "nice",
					 "not a nice value (-20 to 19)", buf);
		r->have_nice = true;
		r->nice = (int)v;
	}
	char cls[64] = "", prio[64] = "";
	if (vs_guest_cfg_line(g, "ionice/class", cls, sizeof(cls)) < 0 ||
	    vs_guest_cfg_line(g, "ionice/priority", prio, sizeof(prio)) < 0)
		return -1;
	if (cls[0] || prio[0]) {
		static const char *const names[] = {"none", "realtime",
						    "best-effort", "idle"};
		long c = 2, p = 4;
		if (cls[0]) {
			c = -1;
			for (int i = 0; i < 4; i++)
				if (!strcasecmp(cls, names[i]))
					c = i;
			if (c < 0) {
				c = strtol(cls, &e, 10);
				if (e == cls || *e || c < 1 || c > 3)
					return bad_value(
						g, "ionice/class",
						"not an I/O class (1 realtime, 2 "
						"best-effort, 3 idle)",
						cls);
			}
		}
		if (prio[0]) {
			p = strtol(prio, &e, 10);
			if (e == prio || *e || p < 0 || p > 7)
				return bad_value(g, "ionice/priority",
						 "not an I/O priority (0 to 7)",
						 prio);
		}
		if (c == 3)
			p = 0;
		r->ioprio = (int)((c << IOPRIO_CLASS_SHIFT) | p);
	}
	if ((k = vs_guest_cfg_line(g, "badness", buf, sizeof(buf))) < 0)
		return -1;
	if (k) {
		long v = strtol(buf, &e, 10);
		if (e == buf || *e)
			return bad_value(g, "badness", "not a number", buf);
		r->have_oom = true;
		r->oom_score_adj = v < -1000 ? -1000 : v > 1000 ? 1000 : (int)v;
	}
	return 0;
}

static bool lookup(const char *s, unsigned long *v, bool flags)
{
	size_t n = flags ? sizeof(persona_flags) / sizeof(*persona_flags)
			 : sizeof(persona_types) / sizeof(*persona_types);
	if (!strncasecmp(s, "PER_", 4))
		s += 4;
	for (size_t i = 0; i < n; i++) {
		const char *name = flags ? persona_flags[i].name
					 : persona_types[i].name;
		if (!strcasecmp(s, name)) {
			*v = flags ? persona_flags[i].value
				   : persona_types[i].value;
			return true;
		}
	}
	return false;
}

static int load_personality(struct vs_guest *g, struct vs_resources *r,
			    bool warn)
{
	int err = 0;
	char **l = vs_guest_cfg_lines(g, "personality", &err);
	if (err)
		return -1;
	r->persona = -1;
	if (l && l[0]) {
		unsigned long type, all = 0;
		if (!lookup(l[0], &type, false)) {
			bad_value(g, "personality", "unknown personality type",
				  l[0]);
			vs_strv_free(l);
			return -1;
		}
		for (char **f = l + 1; *f; f++) {
			unsigned long v;
			char *save = NULL;
			for (char *t = strtok_r(*f, ", \t", &save); t;
			     t = strtok_r(NULL, ", \t", &save)) {
				if (t[0] == '#')
					break;
				if (!lookup(t, &v, true)) {
					bad_value(g, "personality",
						  "unknown personality flag", t);
					vs_strv_free(l);
					return -1;
				}
				all |= v;
			}
		}
		r->persona = (long)(type | all);
	}
	vs_strv_free(l);
	/* uts/machine: through the 32-bit personality where it names the
	 * host's 32-bit sibling */
	char m[64];
	struct utsname u;
	int k = vs_guest_cfg_line(g, "uts/machine", m, sizeof(m));
	if (k < 0)
		return -1;
	if (k && uname(&u) == 0 && strcmp(m, u.machine) != 0) {
		bool x86 = !strcmp(u.machine, "x86_64") &&
			   strlen(m) == 4 && m[0] == 'i' && m[2] == '8' &&
			   m[3] == '6' && strchr("3456", m[1]);
		bool arm = !strcmp(u.machine, "aarch64") &&
			   (!strcmp(m, "armv7l") || !strcmp(m, "armv8l"));
		if (x86 || arm) {
			if (r->persona < 0)
				r->persona = PER_LINUX32;
		} else {
			char why[160];
			snprintf(why, sizeof(why),
				 "a vanilla kernel shows '%s' or, through the "
				 "linux32 personality, its 32-bit sibling",
				 u.machine);
			warn_key(g, warn, "uts/machine", why);
		}
	}
	static const char *const fixed[] = {"uts/sysname", "uts/release",
					    "uts/version"};
	for (int i = 0; i < 3; i++)
		if (vs_guest_cfg_exists(g, fixed[i]))
			warn_key(g, warn, fixed[i],
				 "a vanilla kernel has one value for all "
				 "namespaces");
	return 0;
}

/* sched/ (or the legacy 6-line schedule file): the token bucket's
 * fill-rate/interval is the guest's share of each CPU; a hard limit
 * (cpu.max) unless idle-time lets it use idle CPUs, then its weight
 * (cpu.weight, 100 for a whole CPU's share). */
static int load_sched(struct vs_guest *g, struct vs_resources *r, bool warn)
{
	char rate[64] = "", ivl[64] = "", *e;
	bool dir = vs_guest_cfg_exists(g, "sched");
	const char *rel_rate = "sched/fill-rate", *rel_ivl = "sched/interval";
	bool idle = false;
	if (dir) {
		if (vs_guest_cfg_line(g, rel_rate, rate, sizeof(rate)) < 0 ||
		    vs_guest_cfg_line(g, rel_ivl, ivl, sizeof(ivl)) < 0)
			return -1;
		idle = vs_guest_cfg_exists(g, "sched/idle-time");
		static const char *const other[] = {
			"sched/tokens",	     "sched/tokens-min",
			"sched/tokens-max",  "sched/priority-bias",
			"sched/fill-rate2",  "sched/interval2",
			"sched/tokens_min",  "sched/tokens_max",
			"sched/prio-bias",   "sched/cpu-id",
			"sched/bucket-id"};
		for (size_t i = 0; i < sizeof(other) / sizeof(*other); i++)
			if (vs_guest_cfg_exists(g, other[i]))
				warn_key(g, warn, other[i],
					 "the token bucket of the VServer "
					 "scheduler has no vanilla "
					 "equivalent (fill-rate/interval "
					 "become cpu.max or cpu.weight)");
	} else if (vs_guest_cfg_exists(g, "schedule")) {
		int err = 0;
		char **l = vs_guest_cfg_lines(g, "schedule", &err);
		if (err)
			return -1;
		size_t n = 0;
		while (l && l[n])
			n++;
		if (n < 6) {
			vs_strv_free(l);
			return bad_value(g, "schedule",
					 "needs six lines (fill rate, interval, "
					 "tokens, min, max, priority bias), has",
					 n ? "fewer" : "none");
		}
		snprintf(rate, sizeof(rate), "%s", l[0]);
		snprintf(ivl, sizeof(ivl), "%s", l[1]);
		vs_strv_free(l);
		rel_rate = rel_ivl = "schedule";
	}
	if (!rate[0] && !ivl[0])
		return 0;
	unsigned long fr = strtoul(rate, &e, 10);
	if (!rate[0] || *e || !fr)
		return bad_value(g, rel_rate, "not a fill rate (a positive "
					      "number)",
				 rate);
	unsigned long iv = strtoul(ivl, &e, 10);
	if (!ivl[0] || *e || !iv)
		return bad_value(g, rel_ivl, "not an interval (a positive "
					     "number)",
				 ivl);
	if (r->ncg < VS_RES_CG_MAX) {
		vs_sched_setting(fr, iv, idle, r->cg[r->ncg].name,
				 r->cg[r->ncg].value);
		r->ncg++;
	}
	return 0;
}

void vs_sched_setting(unsigned long fill, unsigned long interval, bool idle,
		      char name[32], char value[64])
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long long period = 100000;
	if (cpus < 1)
		cpus = 1;
	if (idle) {
		unsigned long long w = 100ULL * fill / interval;
		snprintf(name, 32, "cpu.weight");
		snprintf(value, 64, "%llu", w < 1 ? 1 : w > 10000 ? 10000 : w);
	} else if (fill < interval) {
		unsigned long long q =
			period * (unsigned long long)cpus * fill / interval;
		snprintf(name, 32, "cpu.max");
		snprintf(value, 64, "%llu %llu", q < 1000 ? 1000 : q, period);
	} else {
		snprintf(name, 32, "cpu.max");
		snprintf(value, 64, "max %llu", period);
	}
}

/* cflags (or flags): util-vserver starts from "default" (virt_uptime and
 * sc_helper); a line adds a flag, "~flag" or "!flag" removes it. */
static int load_cflags(struct vs_guest *g, struct vs_resources *r, bool warn)
{
	static const char *const kept[] = {
		"fakeinit",  "namespace", "sc_helper", "default",
		"hide_netif", "virt_uptime", "lock", "nproc", "private",
		"ulimit",   "state_setup", "state_init", "state_admin",
		"persistent", "reboot"};
	const char *rel = vs_guest_cfg_exists(g, "cflags") ? "cflags" : "flags";
	int err = 0;
	char **l = vs_guest_cfg_lines(g, rel, &err);
	if (err)
		return -1;
	r->virt_uptime = true;
	for (char **f = l; f && *f; f++) {
		char *save = NULL;
		for (char *t = strtok_r(*f, ", \t", &save); t;
		     t = strtok_r(NULL, ", \t", &save)) {
			if (t[0] == '#')
				break;
			bool off = t[0] == '~' || t[0] == '!';
			const char *name = t + off;
			if (!strcasecmp(name, "virt_uptime") ||
			    !strcasecmp(name, "default")) {
				r->virt_uptime = !off;
				r->virt_uptime_asked =
					!off && !strcasecmp(name, "virt_uptime");
				continue;
			}
			bool known = false;
			for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++)
				known |= !strcasecmp(name, kept[i]);
			if (!known && !off) {
				char why[160];
				snprintf(why, sizeof(why),
					 "the flag '%s' has no vanilla "
					 "equivalent",
					 name);
				warn_key(g, warn, rel, why);
			}
		}
	}
	vs_strv_free(l);
	return 0;
}

int vs_resources_load(struct vs_guest *g, struct vs_resources *r, bool warn)
{
	memset(r, 0, sizeof(*r));
	r->ioprio = -1;
	r->persona = -1;
	if (load_limits(g, r, warn) < 0 || load_scalars(g, r) < 0 ||
	    load_personality(g, r, warn) < 0 || load_sched(g, r, warn) < 0 ||
	    load_cflags(g, r, warn) < 0)
		return -1;
	if (r->virt_uptime && access("/proc/self/ns/time", F_OK) != 0) {
		r->virt_uptime = false; /* a kernel without time namespaces */
		if (warn && g->ctx->verbose)
			vs_warn(g->ctx, "guest '%s': no time namespace on this "
					"kernel: the guest sees the host's "
					"uptime",
				g->name);
	}
	return 0;
}

int vs_oom_write(pid_t pid, int adj)
{
	char p[64], v[16];
	if (pid)
		snprintf(p, sizeof(p), "/proc/%d/oom_score_adj", (int)pid);
	else
		snprintf(p, sizeof(p), "/proc/self/oom_score_adj");
	int n = snprintf(v, sizeof(v), "%d", adj);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, v, (size_t)n);
	int e = errno;
	close(fd);
	errno = e;
	return w == n ? 0 : -1;
}

int vs_rlimits_set(pid_t pid, const struct vs_rlimit_want *rlim, int *failed)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		if (rlim[i].set &&
		    prlimit(pid, (__rlimit_resource_t)i, &rlim[i].lim, NULL) < 0) {
			*failed = i;
			return -1;
		}
	return 0;
}

int vs_resources_apply(struct vs_guest *g, const struct vs_resources *r,
		       pid_t pid)
{
	struct vs_ctx *ctx = g->ctx;
	int bad = 0;
	if (vs_rlimits_set(pid, r->rlim, &bad) < 0)
		return vs_set_errno(ctx, errno,
				    "cannot set resource limit %d of guest '%s'",
				    bad, g->name);
	if (r->have_nice && setpriority(PRIO_PROCESS, (id_t)pid, r->nice) < 0)
		return vs_set_errno(ctx, errno, "cannot set the nice value of "
						"guest '%s'",
				    g->name);
	if (r->ioprio >= 0 && syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS,
				      (int)pid, r->ioprio) < 0)
		return vs_set_errno(ctx, errno, "cannot set the I/O priority "
						"of guest '%s'",
				    g->name);
	if (r->have_oom && vs_oom_write(pid, r->oom_score_adj) < 0)
		return vs_set_errno(ctx, errno, "cannot set the OOM badness of "
						"guest '%s'",
				    g->name);
	return 0;
}

int vs_resources_self(const struct vs_resources *r)
{
	if (r->persona >= 0 && personality((unsigned long)r->persona) < 0)
		return -1;
	return 0;
}

int vs_timens_start(void)
{
	struct timespec now;
	if (unshare(CLONE_NEWTIME) < 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &now) < 0)
		return -1;
	/* the boot clock starts near 0: uptime counts from the start */
	char line[64];
	int n = snprintf(line, sizeof(line), "boottime %lld 0\n",
			 -(long long)now.tv_sec);
	/* our /proc files belong to the global root unless we are dumpable
	 * (a user-namespace init, after its switch to uid 0, is not): no
	 * guest process exists yet to take advantage of it */
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (dumpable == 0)
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	ssize_t w = fd < 0 ? -1 : write(fd, line, (size_t)n);
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (dumpable == 0)
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	errno = e;
	return w == n ? 0 : -1;
}
