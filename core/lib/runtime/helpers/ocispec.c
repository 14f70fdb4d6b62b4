/* The OCI spec helper (ocispec.so, the only user of jansson): an OCI
 * bundle's config.json (runtime-spec 1.x) read into struct vs_oci_spec.
 * Every member is checked for its type; the first wrong one is named by
 * its JSON path.  Members the runtime does not know are ignored, as the
 * spec asks. */
#define _GNU_SOURCE
#include <errno.h>
#include <jansson.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runtime/helpers/helpers.h"

struct rd {
	char *msg;
	size_t msglen;
	bool failed;
};

static int bad(struct rd *r, const char *fmt, ...)
{
	if (!r->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->msg, r->msglen, fmt, ap);
		va_end(ap);
		r->failed = true;
	}
	return -1;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);
	if (!d)
		abort();
	return d;
}

static void *zalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		abort();
	return p;
}

/* The string member key of o (NULL when absent). */
static int get_str(struct rd *r, json_t *o, const char *key, const char *path,
		   char **out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return bad(r, "%s.%s must be a string", path, key);
	*out = dup_or_die(json_string_value(v));
	return 0;
}

static int get_bool(struct rd *r, json_t *o, const char *key,
		    const char *path, bool *out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(r, "%s.%s must be true or false", path, key);
	*out = json_is_true(v);
	return 0;
}

/* An integer member in [min, max]; *has set when present. */
static int get_int(struct rd *r, json_t *o, const char *key, const char *path,
		   long long min, long long max, long long *out, bool *has)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return bad(r, "%s.%s must be an integer from %lld to %lld",
			   path, key, min, max);
	*out = json_integer_value(v);
	if (has)
		*has = true;
	return 0;
}

/* An unsigned 64-bit member (JSON integers stop at 2^63-1: larger ones,
 * like seccomp masks, are read as reals by jansson; those are refused). */
static int get_u64(struct rd *r, json_t *o, const char *key, const char *path,
		   unsigned long long *out)
{
	long long v = 0;
	bool has = false;
	if (get_int(r, o, key, path, 0, INT64_MAX, &v, &has) < 0)
		return -1;
	if (has)
		*out = (unsigned long long)v;
	return 0;
}

/* An array of strings (NULL-terminated copy); absent: NULL. */
static int get_strv(struct rd *r, json_t *o, const char *key, const char *path,
		    char ***out)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(r, "%s.%s must be an array of strings", path, key);
	size_t n = json_array_size(v);
	char **l = zalloc((n + 1) * sizeof(*l));
	*out = l;
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(v, i);
		if (!json_is_string(e))
			return bad(r, "%s.%s[%zu] must be a string", path, key,
				   i);
		l[i] = dup_or_die(json_string_value(e));
	}
	return 0;
}

static json_t *get_obj(struct rd *r, json_t *o, const char *key,
		       const char *path)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		bad(r, "%s.%s must be an object", path, key);
		return NULL;
	}
	return v;
}

static json_t *get_arr(struct rd *r, json_t *o, const char *key,
		       const char *path)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		bad(r, "%s.%s must be an array", path, key);
		return NULL;
	}
	return v;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{"RLIMIT_AS", RLIMIT_AS},	  {"RLIMIT_CORE", RLIMIT_CORE},
	{"RLIMIT_CPU", RLIMIT_CPU},	  {"RLIMIT_DATA", RLIMIT_DATA},
	{"RLIMIT_FSIZE", RLIMIT_FSIZE},	  {"RLIMIT_LOCKS", RLIMIT_LOCKS},
	{"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
	{"RLIMIT_NICE", RLIMIT_NICE},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
	{"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_RSS", RLIMIT_RSS},
	{"RLIMIT_RTPRIO", RLIMIT_RTPRIO}, {"RLIMIT_RTTIME", RLIMIT_RTTIME},
	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
	{"RLIMIT_STACK", RLIMIT_STACK},
};

/* The capability names of the kernel headers this was built with: bit
 * numbers by name ("CAP_SYS_ADMIN"). */
static const char *const cap_names[] = {
	"CAP_CHOWN",		"CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH",
	"CAP_FOWNER",		"CAP_FSETID",	      "CAP_KILL",
	"CAP_SETGID",		"CAP_SETUID",	      "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE",	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN",	"CAP_NET_RAW",	      "CAP_IPC_LOCK",
	"CAP_IPC_OWNER",	"CAP_SYS_MODULE",     "CAP_SYS_RAWIO",
	"CAP_SYS_CHROOT",	"CAP_SYS_PTRACE",     "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN",	"CAP_SYS_BOOT",	      "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE",	"CAP_SYS_TIME",	      "CAP_SYS_TTY_CONFIG",
	"CAP_MKNOD",		"CAP_LEASE",	      "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL",	"CAP_SETFCAP",	      "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN",	"CAP_SYSLOG",	      "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND",	"CAP_AUDIT_READ",     "CAP_PERFMON",
	"CAP_BPF",		"CAP_CHECKPOINT_RESTORE",
};

static int get_caps(struct rd *r, json_t *o, const char *key,
		    const char *path, uint64_t *out)
{
	char **l = NULL;
	int rc = get_strv(r, o, key, path, &l);
	for (size_t i = 0; rc == 0 && l && l[i]; i++) {
		size_t c = 0;
		while (c < sizeof(cap_names) / sizeof(*cap_names) &&
		       strcasecmp(cap_names[c], l[i]))
			c++;
		if (c == sizeof(cap_names) / sizeof(*cap_names))
			rc = bad(r, "%s.%s: unknown capability '%s'", path, key,
				 l[i]);
		else
			*out |= 1ULL << c;
	}
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
	return rc;
}

static int read_process(struct rd *r, json_t *p, struct vs_oci_process *out)
{
	const char *path = "process";
	long long v = 0;
	bool has = false;
	if (get_bool(r, p, "terminal", path, &out->terminal) < 0 ||
	    get_bool(r, p, "noNewPrivileges", path, &out->no_new_privs) < 0 ||
	    get_strv(r, p, "args", path, &out->args) < 0 ||
	    get_strv(r, p, "env", path, &out->env) < 0 ||
	    get_str(r, p, "cwd", path, &out->cwd) < 0 ||
	    get_int(r, p, "oomScoreAdj", path, -1000, 1000, &v,
		    &out->has_oom) < 0)
		return -1;
	out->oom_score_adj = (int)v;
	if (!out->args || !out->args[0])
		return bad(r, "process.args must name the program to run");
	if (!out->cwd || out->cwd[0] != '/')
		return bad(r, "process.cwd must be an absolute path");
	out->apparmor = json_object_get(p, "apparmorProfile") != NULL &&
			!json_is_null(json_object_get(p, "apparmorProfile"));
	out->selinux = json_object_get(p, "selinuxLabel") != NULL &&
		       !json_is_null(json_object_get(p, "selinuxLabel"));
	json_t *u = get_obj(r, p, "user", path);
	if (r->failed)
		return -1;
	if (u) {
		if (get_int(r, u, "uid", "process.user", 0, UINT32_MAX - 1, &v,
			    NULL) < 0)
			return -1;
		out->uid = (unsigned)v;
		v = 0;
		if (get_int(r, u, "gid", "process.user", 0, UINT32_MAX - 1, &v,
			    NULL) < 0)
			return -1;
		out->gid = (unsigned)v;
		if (get_int(r, u, "umask", "process.user", 0, 0777, &v,
			    &out->has_umask) < 0)
			return -1;
		out->umask = (unsigned)v;
		json_t *g = get_arr(r, u, "additionalGids", "process.user");
		if (r->failed)
			return -1;
		size_t n = g ? json_array_size(g) : 0;
		out->gids = zalloc(n * sizeof(*out->gids));
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(g, i);
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) >= UINT32_MAX)
				return bad(r, "process.user.additionalGids[%zu] "
					      "must be a group id",
					   i);
			out->gids[out->ngids++] =
			    (unsigned)json_integer_value(e);
		}
	}
	json_t *c = get_obj(r, p, "capabilities", path);
	if (r->failed)
		return -1;
	if (c) {
		static const char *const sets[] = {"bounding", "effective",
						   "inheritable", "permitted",
						   "ambient"};
		out->has_caps = true;
		for (int i = 0; i < 5; i++)
			if (get_caps(r, c, sets[i], "process.capabilities",
				     &out->caps[i]) < 0)
				return -1;
	}
	json_t *rl = get_arr(r, p, "rlimits", path);
	if (r->failed)
		return -1;
	size_t n = rl ? json_array_size(rl) : 0;
	out->rlimits = zalloc(n * sizeof(*out->rlimits));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(rl, i);
		char p2[64], *type = NULL;
		snprintf(p2, sizeof(p2), "process.rlimits[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		if (get_str(r, e, "type", p2, &type) < 0)
			return -1;
		size_t k = 0;
		while (type && k < sizeof(rlimit_names) / sizeof(*rlimit_names) &&
		       strcmp(rlimit_names[k].name, type))
			k++;
		if (!type || k == sizeof(rlimit_names) / sizeof(*rlimit_names)) {
			bad(r, "%s.type: unknown limit '%s'", p2,
			    type ? type : "");
			free(type);
			return -1;
		}
		free(type);
		struct vs_oci_rlimit *x = &out->rlimits[out->nrlimits++];
		x->resource = rlimit_names[k].res;
		x->soft = x->hard = 0;
		if (get_u64(r, e, "soft", p2, &x->soft) < 0 ||
		    get_u64(r, e, "hard", p2, &x->hard) < 0)
			return -1;
		if (x->soft > x->hard)
			return bad(r, "%s: soft is above hard", p2);
	}
	(void)has;
	return 0;
}

static const struct {
	const char *name;
	int flag;
} ns_names[] = {
	{"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET},
	{"mount", CLONE_NEWNS},	 {"ipc", CLONE_NEWIPC},
	{"uts", CLONE_NEWUTS},	 {"user", CLONE_NEWUSER},
	{"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int read_idmap(struct rd *r, json_t *l, const char *parent,
		      const char *key, struct vs_oci_idmap *m, size_t *n)
{
	json_t *a = get_arr(r, l, key, parent);
	if (r->failed || !a)
		return r->failed ? -1 : 0;
	if (json_array_size(a) > 16)
		return bad(r, "%s.%s: more than 16 ranges", parent, key);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		char p2[64];
		long long c = -1, h = -1, s = -1;
		snprintf(p2, sizeof(p2), "%s.%s[%zu]", parent, key, i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		if (get_int(r, e, "containerID", p2, 0, UINT32_MAX - 1, &c,
			    NULL) < 0 ||
		    get_int(r, e, "hostID", p2, 0, UINT32_MAX - 1, &h, NULL) <
			0 ||
		    get_int(r, e, "size", p2, 1, UINT32_MAX, &s, NULL) < 0)
			return -1;
		if (c < 0 || h < 0 || s < 0)
			return bad(r, "%s needs containerID, hostID and size",
				   p2);
		m[*n].inside = (unsigned long)c;
		m[*n].outside = (unsigned long)h;
		m[*n].count = (unsigned long)s;
		(*n)++;
	}
	return 0;
}

static int read_devrules(struct rd *r, json_t *res, struct vs_oci_spec *s)
{
	json_t *a = get_arr(r, res, "devices", "linux.resources");
	if (r->failed || !a)
		return r->failed ? -1 : 0;
	s->devrules = zalloc(json_array_size(a) * sizeof(*s->devrules) + 1);
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		char p2[64], *type = NULL, *access = NULL;
		snprintf(p2, sizeof(p2), "linux.resources.devices[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		struct vs_oci_devrule *d = &s->devrules[s->ndevrules++];
		d->major = d->minor = -1;
		if (!json_is_boolean(json_object_get(e, "allow")))
			return bad(r, "%s.allow must be true or false", p2);
		d->allow = json_is_true(json_object_get(e, "allow"));
		if (get_str(r, e, "type", p2, &type) < 0 ||
		    get_str(r, e, "access", p2, &access) < 0 ||
		    get_int(r, e, "major", p2, -1, INT32_MAX, &d->major, NULL) <
			0 ||
		    get_int(r, e, "minor", p2, -1, INT32_MAX, &d->minor, NULL) <
			0) {
			free(type);
			free(access);
			return -1;
		}
		bool ok = !type || (strlen(type) == 1 && strchr("acb", type[0]));
		d->type = type ? type[0] : 'a';
		free(type);
		if (!ok) {
			free(access);
			return bad(r, "%s.type must be a, c or b", p2);
		}
		const char *acc = access ? access : "rwm";
		ok = strlen(acc) <= 3 && strspn(acc, "rwm") == strlen(acc);
		snprintf(d->access, sizeof(d->access), "%s", ok ? acc : "");
		free(access);
		if (!ok)
			return bad(r, "%s.access must be letters of \"rwm\"",
				   p2);
	}
	return 0;
}

/* blockIO's device lists: the four throttles and weightDevice. */
static int read_blkdevs(struct rd *r, json_t *b, struct vs_oci_spec *s)
{
	static const struct {
		const char *key, *value;
		enum vs_oci_blkkind kind;
		long long max;
	} lists[] = {
		{"throttleReadBpsDevice", "rate", VS_OCI_READ_BPS, INT64_MAX},
		{"throttleWriteBpsDevice", "rate", VS_OCI_WRITE_BPS, INT64_MAX},
		{"throttleReadIOPSDevice", "rate", VS_OCI_READ_IOPS, INT64_MAX},
		{"throttleWriteIOPSDevice", "rate", VS_OCI_WRITE_IOPS, INT64_MAX},
		{"weightDevice", "weight", VS_OCI_WEIGHT, 1000},
	};
	size_t total = 0;
	json_t *a[5];
	for (size_t k = 0; k < 5; k++) {
		a[k] = get_arr(r, b, lists[k].key, "linux.resources.blockIO");
		if (r->failed)
			return -1;
		total += a[k] ? json_array_size(a[k]) : 0;
	}
	s->blkdevs = zalloc(total * sizeof(*s->blkdevs) + 1);
	for (size_t k = 0; k < 5; k++)
		for (size_t i = 0; a[k] && i < json_array_size(a[k]); i++) {
			json_t *e = json_array_get(a[k], i);
			char p2[80];
			snprintf(p2, sizeof(p2), "linux.resources.blockIO.%s[%zu]",
				 lists[k].key, i);
			if (!json_is_object(e))
				return bad(r, "%s must be an object", p2);
			struct vs_oci_blkdev *d = &s->blkdevs[s->nblkdevs++];
			d->kind = lists[k].kind;
			bool maj = false, min = false, val = false;
			if (get_int(r, e, "major", p2, 0, INT32_MAX, &d->major,
				    &maj) < 0 ||
			    get_int(r, e, "minor", p2, 0, INT32_MAX, &d->minor,
				    &min) < 0 ||
			    get_int(r, e, lists[k].value, p2, 0, lists[k].max,
				    &d->value, &val) < 0)
				return -1;
			if (!maj || !min || (!val && d->kind != VS_OCI_WEIGHT))
				return bad(r, "%s needs major, minor and %s", p2,
					   lists[k].value);
			if (!val) /* leafWeight alone: cgroups have no such knob */
				s->nblkdevs--;
		}
	return 0;
}

static int read_resources(struct rd *r, json_t *res, struct vs_oci_spec *s)
{
	const char *path = "linux.resources";
	json_t *m = get_obj(r, res, "memory", path);
	if (r->failed)
		return -1;
	if (m && (get_int(r, m, "limit", "linux.resources.memory", -1,
			  INT64_MAX, &s->mem_limit, NULL) < 0 ||
		  get_int(r, m, "reservation", "linux.resources.memory", -1,
			  INT64_MAX, &s->mem_reservation, NULL) < 0 ||
		  get_int(r, m, "swap", "linux.resources.memory", -1,
			  INT64_MAX, &s->mem_swap, NULL) < 0))
		return -1;
	json_t *c = get_obj(r, res, "cpu", path);
	if (r->failed)
		return -1;
	if (c && (get_int(r, c, "shares", "linux.resources.cpu", 0,
			  UINT32_MAX, &s->cpu_shares, NULL) < 0 ||
		  get_int(r, c, "quota", "linux.resources.cpu", -1, INT64_MAX,
			  &s->cpu_quota, NULL) < 0 ||
		  get_int(r, c, "period", "linux.resources.cpu", 0,
			  UINT32_MAX, &s->cpu_period, NULL) < 0 ||
		  get_str(r, c, "cpus", "linux.resources.cpu", &s->cpus) < 0 ||
		  get_str(r, c, "mems", "linux.resources.cpu", &s->mems) < 0))
		return -1;
	json_t *p = get_obj(r, res, "pids", path);
	if (r->failed)
		return -1;
	if (p && get_int(r, p, "limit", "linux.resources.pids", -1, INT64_MAX,
			 &s->pids_limit, NULL) < 0)
		return -1;
	json_t *b = get_obj(r, res, "blockIO", path);
	if (r->failed)
		return -1;
	if (b && (get_int(r, b, "weight", "linux.resources.blockIO", 0, 1000,
			  &s->blkio_weight, NULL) < 0 ||
		  read_blkdevs(r, b, s) < 0))
		return -1;
	return read_devrules(r, res, s);
}

static int read_devices(struct rd *r, json_t *l, struct vs_oci_spec *s)
{
	json_t *a = get_arr(r, l, "devices", "linux");
	if (r->failed || !a)
		return r->failed ? -1 : 0;
	s->devices = zalloc(json_array_size(a) * sizeof(*s->devices));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		char p2[64], *type = NULL;
		snprintf(p2, sizeof(p2), "linux.devices[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		struct vs_oci_device *d = &s->devices[s->ndevices++];
		long long v = 0;
		if (get_str(r, e, "path", p2, &d->path) < 0 ||
		    get_str(r, e, "type", p2, &type) < 0)
			return -1;
		if (!type || strlen(type) != 1 || !strchr("cbup", type[0])) {
			free(type);
			return bad(r, "%s.type must be c, b, u or p", p2);
		}
		d->type = type[0];
		free(type);
		if (!d->path || d->path[0] != '/')
			return bad(r, "%s.path must be an absolute path", p2);
		if (get_int(r, e, "major", p2, 0, INT32_MAX, &d->major, NULL) <
			0 ||
		    get_int(r, e, "minor", p2, 0, INT32_MAX, &d->minor, NULL) <
			0 ||
		    get_int(r, e, "fileMode", p2, 0, 07777, &v, &d->has_mode) <
			0)
			return -1;
		d->mode = (unsigned)v;
		if (get_int(r, e, "uid", p2, 0, UINT32_MAX - 1, &v,
			    &d->has_uid) < 0)
			return -1;
		d->uid = (unsigned)v;
		if (get_int(r, e, "gid", p2, 0, UINT32_MAX - 1, &v,
			    &d->has_gid) < 0)
			return -1;
		d->gid = (unsigned)v;
	}
	return 0;
}

static int read_seccomp(struct rd *r, json_t *sc, struct vs_oci_spec *s)
{
	const char *path = "linux.seccomp";
	struct vs_oci_seccomp *x = zalloc(sizeof(*x));
	s->seccomp = x;
	long long v = 0;
	if (get_str(r, sc, "defaultAction", path, &x->default_action) < 0 ||
	    get_int(r, sc, "defaultErrnoRet", path, 0, 4095, &v,
		    &x->has_default_errno) < 0 ||
	    get_strv(r, sc, "architectures", path, &x->arches) < 0 ||
	    get_strv(r, sc, "flags", path, &x->flags) < 0)
		return -1;
	x->default_errno = (unsigned)v;
	if (!x->default_action)
		return bad(r, "linux.seccomp.defaultAction is missing");
	json_t *a = get_arr(r, sc, "syscalls", path);
	if (r->failed)
		return -1;
	size_t n = a ? json_array_size(a) : 0;
	x->rules = zalloc(n * sizeof(*x->rules));
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(a, i);
		char p2[64];
		snprintf(p2, sizeof(p2), "linux.seccomp.syscalls[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		struct vs_oci_sc_rule *ru = &x->rules[x->nrules++];
		if (get_strv(r, e, "names", p2, &ru->names) < 0 ||
		    get_str(r, e, "action", p2, &ru->action) < 0 ||
		    get_int(r, e, "errnoRet", p2, 0, 4095, &v,
			    &ru->has_errno) < 0)
			return -1;
		ru->errno_ret = (unsigned)v;
		if (!ru->names || !ru->action)
			return bad(r, "%s needs names and an action", p2);
		json_t *args = get_arr(r, e, "args", p2);
		if (r->failed)
			return -1;
		size_t na = args ? json_array_size(args) : 0;
		if (na > 6)
			return bad(r, "%s.args: more than 6", p2);
		ru->args = zalloc(na * sizeof(*ru->args));
		for (size_t k = 0; k < na; k++) {
			json_t *g = json_array_get(args, k);
			char p3[80];
			snprintf(p3, sizeof(p3), "%s.args[%zu]", p2, k);
			if (!json_is_object(g))
				return bad(r, "%s must be an object", p3);
			struct vs_oci_sc_arg *ar = &ru->args[ru->nargs++];
			long long idx = -1;
			if (get_int(r, g, "index", p3, 0, 5, &idx, NULL) < 0 ||
			    get_u64(r, g, "value", p3, &ar->value) < 0 ||
			    get_u64(r, g, "valueTwo", p3, &ar->value2) < 0 ||
			    get_str(r, g, "op", p3, &ar->op) < 0)
				return -1;
			if (idx < 0 || !ar->op)
				return bad(r, "%s needs an index and an op", p3);
			ar->index = (unsigned)idx;
		}
	}
	return 0;
}

static int read_hooks(struct rd *r, json_t *h, struct vs_oci_spec *s)
{
	static const char *const kinds[VS_OCI_NHOOKS] = {
	    "prestart",	       "createRuntime", "createContainer",
	    "startContainer", "poststart",     "poststop"};
	for (int k = 0; k < VS_OCI_NHOOKS; k++) {
		json_t *a = get_arr(r, h, kinds[k], "hooks");
		if (r->failed)
			return -1;
		size_t n = a ? json_array_size(a) : 0;
		s->hooks[k] = zalloc(n * sizeof(*s->hooks[k]));
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(a, i);
			char p2[64];
			long long t = 0;
			snprintf(p2, sizeof(p2), "hooks.%s[%zu]", kinds[k], i);
			if (!json_is_object(e))
				return bad(r, "%s must be an object", p2);
			struct vs_oci_hook *x = &s->hooks[k][s->nhooks[k]++];
			if (get_str(r, e, "path", p2, &x->path) < 0 ||
			    get_strv(r, e, "args", p2, &x->args) < 0 ||
			    get_strv(r, e, "env", p2, &x->env) < 0 ||
			    get_int(r, e, "timeout", p2, 1, 86400, &t, NULL) <
				0)
				return -1;
			x->timeout = (int)t;
			if (!x->path || x->path[0] != '/')
				return bad(r, "%s.path must be an absolute path",
					   p2);
		}
	}
	return 0;
}

static int read_linux(struct rd *r, json_t *l, struct vs_oci_spec *s)
{
	const char *path = "linux";
	json_t *ns = get_arr(r, l, "namespaces", path);
	if (r->failed)
		return -1;
	for (size_t i = 0; ns && i < json_array_size(ns); i++) {
		json_t *e = json_array_get(ns, i);
		char p2[64], *type = NULL, *p = NULL;
		snprintf(p2, sizeof(p2), "linux.namespaces[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		if (get_str(r, e, "type", p2, &type) < 0 ||
		    get_str(r, e, "path", p2, &p) < 0) {
			free(type);
			free(p);
			return -1;
		}
		size_t k = 0;
		while (type && k < sizeof(ns_names) / sizeof(*ns_names) &&
		       strcmp(ns_names[k].name, type))
			k++;
		int rc = 0;
		if (!type || k == sizeof(ns_names) / sizeof(*ns_names))
			rc = bad(r, "%s.type: unknown namespace '%s'", p2,
				 type ? type : "");
		for (size_t j = 0; rc == 0 && j < s->nns; j++)
			if (s->ns[j].type == ns_names[k].flag)
				rc = bad(r, "%s: namespace '%s' named twice", p2,
					 type);
		free(type);
		if (rc < 0 || s->nns == 8) {
			free(p);
			return rc < 0 ? -1 : bad(r, "%s: too many", p2);
		}
		s->ns[s->nns].type = ns_names[k].flag;
		s->ns[s->nns++].path = p;
	}
	if (read_idmap(r, l, "linux", "uidMappings", s->uidmap, &s->nuidmap) < 0 ||
	    read_idmap(r, l, "linux", "gidMappings", s->gidmap, &s->ngidmap) < 0 ||
	    get_str(r, l, "cgroupsPath", path, &s->cgroups_path) < 0 ||
	    get_strv(r, l, "maskedPaths", path, &s->masked) < 0 ||
	    get_strv(r, l, "readonlyPaths", path, &s->readonly) < 0 ||
	    get_str(r, l, "rootfsPropagation", path, &s->rootfs_propagation) <
		0 ||
	    read_devices(r, l, s) < 0)
		return -1;
	json_t *res = get_obj(r, l, "resources", path);
	if (r->failed || (res && read_resources(r, res, s) < 0))
		return -1;
	json_t *sys = get_obj(r, l, "sysctl", path);
	if (r->failed)
		return -1;
	size_t n = sys ? json_object_size(sys) : 0, i = 0;
	s->sysctl = zalloc((2 * n + 1) * sizeof(*s->sysctl));
	const char *key;
	json_t *v;
	if (sys)
		json_object_foreach(sys, key, v)
		{
			if (!json_is_string(v))
				return bad(r, "linux.sysctl.%s must be a string",
					   key);
			s->sysctl[i++] = dup_or_die(key);
			s->sysctl[i++] = dup_or_die(json_string_value(v));
		}
	json_t *sc = get_obj(r, l, "seccomp", path);
	if (r->failed || (sc && read_seccomp(r, sc, s) < 0))
		return -1;
	return 0;
}

static int read_mounts(struct rd *r, json_t *a, struct vs_oci_spec *s)
{
	s->mounts = zalloc(json_array_size(a) * sizeof(*s->mounts));
	for (size_t i = 0; i < json_array_size(a); i++) {
		json_t *e = json_array_get(a, i);
		char p2[64];
		snprintf(p2, sizeof(p2), "mounts[%zu]", i);
		if (!json_is_object(e))
			return bad(r, "%s must be an object", p2);
		struct vs_oci_mount *m = &s->mounts[s->nmounts++];
		if (get_str(r, e, "destination", p2, &m->dst) < 0 ||
		    get_str(r, e, "type", p2, &m->type) < 0 ||
		    get_str(r, e, "source", p2, &m->src) < 0 ||
		    get_strv(r, e, "options", p2, &m->options) < 0)
			return -1;
		if (!m->dst || m->dst[0] != '/')
			return bad(r, "%s.destination must be an absolute path",
				   p2);
		if (read_idmap(r, e, p2, "uidMappings", m->uidmap,
			       &m->nuidmap) < 0 ||
		    read_idmap(r, e, p2, "gidMappings", m->gidmap,
			       &m->ngidmap) < 0)
			return -1;
		if ((m->nuidmap || m->ngidmap) &&
		    (!m->nuidmap || !m->ngidmap))
			return bad(r, "%s needs both uidMappings and "
				      "gidMappings",
				   p2);
	}
	return 0;
}

static void free_strv(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void free_process(struct vs_oci_process *p)
{
	free_strv(p->args);
	free_strv(p->env);
	free(p->cwd);
	free(p->gids);
	free(p->rlimits);
	memset(p, 0, sizeof(*p));
}

static void free_spec(struct vs_oci_spec *s)
{
	if (!s)
		return;
	free(s->version);
	free(s->root);
	free(s->hostname);
	free(s->domainname);
	free_process(&s->process);
	for (size_t i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].dst);
		free(s->mounts[i].type);
		free(s->mounts[i].src);
		free_strv(s->mounts[i].options);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->nns; i++)
		free(s->ns[i].path);
	free(s->cgroups_path);
	free(s->cpus);
	free(s->mems);
	for (size_t i = 0; i < s->ndevices; i++)
		free(s->devices[i].path);
	free(s->devices);
	free(s->devrules);
	free(s->blkdevs);
	free_strv(s->masked);
	free_strv(s->readonly);
	free_strv(s->sysctl);
	if (s->seccomp) {
		struct vs_oci_seccomp *x = s->seccomp;
		free(x->default_action);
		free_strv(x->arches);
		free_strv(x->flags);
		for (size_t i = 0; i < x->nrules; i++) {
			free_strv(x->rules[i].names);
			free(x->rules[i].action);
			for (size_t k = 0; k < x->rules[i].nargs; k++)
				free(x->rules[i].args[k].op);
			free(x->rules[i].args);
		}
		free(x->rules);
		free(x);
	}
	for (int k = 0; k < VS_OCI_NHOOKS; k++) {
		for (size_t i = 0; i < s->nhooks[k]; i++) {
			free(s->hooks[k][i].path);
			free_strv(s->hooks[k][i].args);
			free_strv(s->hooks[k][i].env);
		}
		free(s->hooks[k]);
	}
	free(s->rootfs_propagation);
	free(s);
}

/* The whole of fd (at most 16 MiB): jansson's json_loadfd reads it a
 * byte per system call. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *b = malloc(cap);
	for (;;) {
		if (!b)
			return NULL;
		ssize_t k = read(fd, b + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(b);
			return NULL;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n == cap) {
			if (cap >= ((size_t)16 << 20)) {
				free(b);
				errno = EFBIG;
				return NULL;
			}
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	*len = n;
	return b;
}

static json_t *parse(int fd, struct rd *r)
{
	json_error_t e;
	size_t len = 0;
	char *buf = read_all(fd, &len);
	if (!buf) {
		bad(r, "cannot read it: %s", strerror(errno));
		return NULL;
	}
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (!j) {
		bad(r, "line %d, column %d: %s", e.line, e.column, e.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		bad(r, "the top level must be an object");
		return NULL;
	}
	return j;
}

static struct vs_oci_spec *load(int fd, char *msg, size_t msglen)
{
	struct rd r = {msg, msglen, false};
	json_t *j = parse(fd, &r);
	if (!j)
		return NULL;
	struct vs_oci_spec *s = zalloc(sizeof(*s));
	s->mem_limit = s->mem_reservation = s->mem_swap = s->pids_limit = -1;
	s->cpu_shares = s->cpu_quota = s->cpu_period = s->blkio_weight = -1;
	json_t *root = get_obj(&r, j, "root", "");
	json_t *proc = get_obj(&r, j, "process", "");
	json_t *lx = get_obj(&r, j, "linux", "");
	json_t *mounts = get_arr(&r, j, "mounts", "");
	json_t *hooks = get_obj(&r, j, "hooks", "");
	if (!r.failed && get_str(&r, j, "ociVersion", "", &s->version) == 0 &&
	    !s->version)
		bad(&r, "ociVersion is missing");
	if (!r.failed && s->version && strncmp(s->version, "1.", 2))
		bad(&r, "ociVersion '%s' is not 1.x", s->version);
	if (!r.failed && !root)
		bad(&r, "root is missing");
	if (!r.failed && get_str(&r, root, "path", "root", &s->root) == 0)
		get_bool(&r, root, "readonly", "root", &s->root_ro);
	if (!r.failed && (!s->root || !s->root[0]))
		bad(&r, "root.path is missing");
	if (!r.failed && !proc)
		bad(&r, "process is missing (vs-oci runs a process)");
	if (!r.failed)
		read_process(&r, proc, &s->process);
	if (!r.failed)
		get_str(&r, j, "hostname", "", &s->hostname);
	if (!r.failed)
		get_str(&r, j, "domainname", "", &s->domainname);
	if (!r.failed && mounts)
		read_mounts(&r, mounts, s);
	if (!r.failed && lx)
		read_linux(&r, lx, s);
	if (!r.failed && hooks)
		read_hooks(&r, hooks, s);
	json_decref(j);
	/* the spec's paths in messages start with a dot when at the top */
	if (r.failed && msg[0] == '.')
		memmove(msg, msg + 1, strlen(msg));
	if (r.failed) {
		free_spec(s);
		return NULL;
	}
	return s;
}

static int load_process(int fd, struct vs_oci_process *p, char *msg,
			size_t msglen)
{
	struct rd r = {msg, msglen, false};
	memset(p, 0, sizeof(*p));
	json_t *j = parse(fd, &r);
	if (!j)
		return -1;
	int rc = read_process(&r, j, p);
	json_decref(j);
	if (rc < 0)
		free_process(p);
	return rc;
}

extern const struct vs_oci_spec_ops vs_helper_ocispec;
const struct vs_oci_spec_ops vs_helper_ocispec = {
	.load = load,
	.load_process = load_process,
	.free_spec = free_spec,
	.free_process = free_process,
};
