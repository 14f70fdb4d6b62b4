/* What a start needs, read from the configuration before anything runs:
 * init style and commands, environment, uts names, fstab, capabilities,
 * kill sequence, timeouts.  Every configuration error is found here. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* Lines of a config file as an argv (empty lines skipped); NULL when the
 * file is missing.  `real` selects a real path instead of a host view. */

int vs_signal_parse(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = {
		{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},
		{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"USR1", SIGUSR1},
		{"USR2", SIGUSR2}, {"PWR", SIGPWR},   {"CONT", SIGCONT},
		{"STOP", SIGSTOP},
	};
	if (isdigit((unsigned char)s[0])) {
		char *end;
		long v = strtol(s, &end, 10);
		return *end || v < 1 || v > 64 ? -1 : (int)v;
	}
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
		/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (systemd's RTMIN+3, halt) */
		bool min = toupper((unsigned char)s[3]) == 'I';
		long n = 0;
		if (s[5]) {
			char *end;
			if (s[5] != (min ? '+' : '-') ||
			    !isdigit((unsigned char)s[6]))
				return -1;
			n = strtol(s + 6, &end, 10);
			if (*end)
				return -1;
		}
		long sig = min ? SIGRTMIN + n : SIGRTMAX - n;
		return sig < SIGRTMIN || sig > SIGRTMAX ? -1 : (int)sig;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].sig;
	return -1;
}

/* ---- fstab ------------------------------------------------------------ */

static void unescape_field(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

int vs_mount_options(struct vs_mount *m, const char *opts)
{
	char *copy = vs_strdup(opts), *save = NULL;
	size_t dlen = 0;
	m->data = vs_xmalloc(strlen(opts) + 1);
	m->data[0] = '\0';
	for (char *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "noauto")) {
			m->noauto = true;
			continue;
		}
		if (!vs_mount_option(o, &m->flags, &m->prop))
			dlen += (size_t)sprintf(m->data + dlen, "%s%s",
						dlen ? "," : "", o);
	}
	free(copy);
	return 0;
}

/* Reads <cfgdir>/<file> (fstab, fstab.remote) into *mounts. */
static int parse_fstab(struct vs_guest *g, const char *file,
		       struct vs_mount **mounts, size_t *nmounts)
{
	char path[PATH_MAX], shown[PATH_MAX];
	bool remote = !strcmp(file, "fstab.remote");
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir, file);
	vs_host_real(g->ctx, path, shown, sizeof(shown));
	char *s = vs_host_read(g->ctx, path, 1 << 20, NULL);
	if (!s)
		return errno == ENOENT
			       ? 0
			       : vs_set_errno(g->ctx, errno, "cannot read '%s'",
					      shown);
	int lineno = 0, r = 0;
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l && r == 0;
	     l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *f[6] = {0}, *save2 = NULL;
		int nf = 0;
		while (isspace((unsigned char)*l))
			l++;
		if (!*l || *l == '#')
			continue;
		for (char *t = strtok_r(l, " \t", &save2); t && nf < 6;
		     t = strtok_r(NULL, " \t", &save2))
			f[nf++] = t;
		if (nf < 3) {
			r = vs_set_error(g->ctx,
					 "%s:%d: expected 'source target type "
					 "[options]'",
					 shown, lineno);
			break;
		}
		for (int i = 0; i < nf; i++)
			unescape_field(f[i]);
		if (f[1][0] != '/') {
			r = vs_set_error(g->ctx,
					 "%s:%d: mount point '%s' is not an "
					 "absolute path",
					 shown, lineno, f[1]);
			break;
		}
		/* vs mounts these itself, with safe options */
		if (!strcmp(f[2], "proc") || !strcmp(f[2], "sysfs") ||
		    !strcmp(f[2], "devpts") || !strcmp(f[1], "/dev") ||
		    !strcmp(f[1], "/dev/pts") || !strcmp(f[1], "/proc") ||
		    !strcmp(f[1], "/sys"))
			continue;
		if (!strcmp(f[1], "/")) {
			r = vs_set_error(g->ctx,
					 "%s:%d: mounting on '/' is not "
					 "supported (mount the guest root "
					 "before starting it)",
					 shown, lineno);
			break;
		}
		*mounts = vs_xrealloc(*mounts,
				      (*nmounts + 1) * sizeof(**mounts));
		struct vs_mount *m = &(*mounts)[(*nmounts)++];
		memset(m, 0, sizeof(*m));
		m->src = vs_strdup(f[0]);
		m->dst = vs_strdup(f[1]);
		m->type = vs_strdup(f[2]);
		m->line = lineno;
		vs_mount_options(m, nf > 3 ? f[3] : "defaults");
		if (remote && (m->flags & MS_BIND)) {
			/* the host's files are out of reach by then */
			r = vs_set_error(g->ctx,
					 "%s:%d: a bind mount belongs in fstab, "
					 "not fstab.remote",
					 shown, lineno);
			m->noauto = true;
		}
		if (m->noauto) {
			free(m->src);
			free(m->dst);
			free(m->type);
			free(m->data);
			(*nmounts)--;
		}
	}
	free(s);
	return r;
}

/* ---- the plan --------------------------------------------------------- */

static char **strv_of(const char *const *items)
{
	size_t n = 0;
	while (items[n])
		n++;
	char **v = vs_xmalloc((n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = vs_strdup(items[i]);
	v[n] = NULL;
	return v;
}

static int load_environment(struct vs_guest *g, struct vs_plan *p)
{
	char path[PATH_MAX];
	int kind = vs_guest_cfg_find(g, "apps/init/environment", "environment",
				     path, sizeof(path));
	int err = 0;
	char **lines = kind ? vs_read_lines(g->ctx, path, kind == 2, &err) : NULL;
	if (err)
		return -1;
	size_t n = 0;
	for (char **l = lines; l && *l; l++)
		n++;
	p->env = vs_xmalloc((n + 4) * sizeof(*p->env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strchr(lines[i], '=') || lines[i][0] == '#') {
			free(lines[i]);
			continue;
		}
		p->env[k++] = lines[i];
	}
	if (!kind)
		p->env[k++] = vs_strdup("PATH=/bin:/usr/bin:/sbin:/usr/sbin");
	p->env[k] = NULL;
	free(lines);
	return 0;
}

/* The guest's UUID (container_uuid, from which systemd makes the
 * machine-id of a guest whose /etc/machine-id is empty): the `uuid` file
 * of its configuration (32 hex digits, dashes allowed), else one derived
 * from the host's machine-id and the guest's name, the same at every
 * start. */
int vs_guest_uuid(struct vs_guest *g, uint8_t b[16])
{
	char line[128], hex[33];
	size_t n = 0;
	if (vs_guest_cfg_line(g, "uuid", line, sizeof(line)) == 1) {
		for (const char *c = line; *c && n < 33; c++)
			if (isxdigit((unsigned char)*c))
				hex[n++] = (char)tolower((unsigned char)*c);
			else if (*c != '-')
				n = 33;
		if (n != 32) {
			char real[PATH_MAX];
			return vs_set_error(
				g->ctx, "%s/uuid: not a UUID ('%s')",
				vs_host_real(g->ctx, g->cfgdir, real,
					     sizeof(real)),
				line);
		}
		for (int i = 0; i < 16; i++)
			sscanf(hex + 2 * i, "%2hhx", &b[i]);
	} else {
		char *host = vs_host_read(g->ctx, "/etc/machine-id", 256, NULL);
		const char *id = host ? host : "", *gname = g->name;
		uint64_t h1 = vs_fnv1a(VS_FNV_BASIS, id, strlen(id));
		uint64_t h2 = vs_fnv1a(h1 ^ 0x9e3779b97f4a7c15ULL, "vs guest ", 9);
		h1 = vs_fnv1a(vs_fnv1a(h1, "\n", 1), gname, strlen(gname));
		h2 = vs_fnv1a(h2, gname, strlen(gname));
		free(host);
		for (int i = 0; i < 8; i++) {
			b[i] = (uint8_t)(h1 >> (8 * i));
			b[8 + i] = (uint8_t)(h2 >> (8 * i));
		}
		b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
		b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 */
	}
	return 0;
}

int vs_plan_load(struct vs_guest *g, struct vs_plan *p, bool warn)
{
	struct vs_ctx *ctx = g->ctx;
	char buf[256], real[PATH_MAX];
	int err;
	memset(p, 0, sizeof(*p));
	p->g = g;
	if (!g->root)
		return vs_set_error(ctx,
				    "cannot start guest '%s': its root (vdir) "
				    "does not exist",
				    g->name);
	vs_host_real(ctx, g->root, p->root, sizeof(p->root));
	p->treefd = -1;
	if (vs_userns_load(g, &p->userns) < 0 ||
	    vs_guest_bcaps(g, p->userns.on, &p->bcaps) < 0)
		return -1;
	p->nonamespace = vs_guest_flag_or(g, "nonamespace", "namespace");
	if (p->nonamespace && (p->bcaps & (1ULL << 18 /* SYS_CHROOT */))) {
		/* without a mount namespace the guest lives in a chroot, which
		 * CAP_SYS_CHROOT could leave (double chroot) */
		p->bcaps &= ~(1ULL << 18);
	}
	p->no_new_privs = vs_guest_flag_or(g, "apps/seccomp/no-new-privs",
					   NULL);
	if (p->userns.on && p->nonamespace)
		return vs_set_error(ctx,
				    "guest '%s' has spaces/user and nonamespace: "
				    "a user-namespace guest needs a mount "
				    "namespace of its own",
				    g->name);
	if (vs_net_load(g, &p->net) < 0)
		return -1;
	const char *netconf = vs_conf_str(ctx, "net");
	p->netns = vs_guest_cfg_exists(g, "spaces/net") || p->net.naddrs ||
		   (netconf && !strcmp(netconf, "private"));
	if (vs_guest_cfg_line(g, "uts/nodename", buf, sizeof(buf)) == 1)
		p->nodename = vs_strdup(buf);
	else if (vs_guest_cfg_line(g, "hostname", buf, sizeof(buf)) == 1)
		p->nodename = vs_strdup(buf); /* legacy */
	if (vs_guest_cfg_line(g, "uts/domainname", buf, sizeof(buf)) == 1)
		p->domainname = vs_strdup(buf);
	if (ctx->err[0])
		return -1;

	/* init style */
	char style[64] = "sysv", rl_start[32] = "", rl_stop[32] = "";
	vs_guest_cfg_line(g, "apps/init/style", style, sizeof(style));
	vs_guest_cfg_line(g, "apps/init/runlevel", rl_start, sizeof(rl_start));
	vs_guest_cfg_line(g, "apps/init/runlevel.start", rl_start,
			  sizeof(rl_start));
	vs_guest_cfg_line(g, "apps/init/runlevel.stop", rl_stop,
			  sizeof(rl_stop));
	snprintf(p->style, sizeof(p->style), "%s", style);
	if (!strcmp(style, "plain")) {
		const char *a[] = {"/sbin/init", rl_start[0] ? rl_start : NULL,
				   NULL};
		p->start_argv = strv_of(a);
		p->fakeinit = true;
		p->stop_signal = SIGINT;
	} else if (!strcmp(style, "minit")) {
		const char *a[] = {"/sbin/minit-start",
				   rl_start[0] ? rl_start : NULL, NULL};
		const char *b[] = {"/sbin/minit-stop",
				   rl_stop[0] ? rl_stop : NULL, NULL};
		p->start_argv = strv_of(a);
		p->stop_argv = strv_of(b);
		p->fakeinit = true;
	} else if (!strcmp(style, "sysv")) {
		/* the rc script is looked up inside the guest at start */
		snprintf(p->runlevel_start, sizeof(p->runlevel_start), "%s",
			 rl_start[0] ? rl_start : "3");
		snprintf(p->runlevel_stop, sizeof(p->runlevel_stop), "%s",
			 rl_stop[0] ? rl_stop : "6");
	} else if (!strcmp(style, "gentoo") || !strcmp(style, "openrc")) {
		const char *a[] = {"/sbin/openrc",
				   rl_start[0] ? rl_start : "default", NULL};
		const char *b[] = {"/sbin/openrc", "shutdown", NULL};
		p->start_argv = strv_of(a);
		p->stop_argv = strv_of(b);
	} else if (!strcmp(style, "arch")) {
		const char *a[] = {"/etc/rc.multi", NULL};
		const char *b[] = {"/etc/rc.shutdown", NULL};
		p->start_argv = strv_of(a);
		p->stop_argv = strv_of(b);
	} else if (!strcmp(style, "runit")) {
		/* runit-init becomes runit as PID 1; halt asks it for stage 3
		 * (SIGCONT with /run/runit.stopit), which ends in halt(2) */
		const char *a[] = {"/sbin/init", NULL};
		const char *b[] = {"/sbin/halt", NULL};
		p->start_argv = strv_of(a);
		p->stop_argv = strv_of(b);
		p->fakeinit = true;
	} else if (!strcmp(style, "systemd")) {
		const char *a[] = {"/sbin/init", NULL};
		p->start_argv = strv_of(a);
		p->fakeinit = true;
		p->stop_signal = SIGRTMIN + 3; /* systemd: halt */
		p->api_fs = true;
	} else {
		return vs_set_error(ctx,
				    "cannot start guest '%s': unknown init style "
				    "'%s' in apps/init/style",
				    g->name, style);
	}
	char **v = vs_guest_cfg_lines(g, "apps/init/cmd.start", &err);
	if (err)
		return -1;
	if (v) {
		vs_strv_free(p->start_argv);
		p->start_argv = v;
	}
	v = vs_guest_cfg_lines(g, "apps/init/cmd.stop", &err);
	if (err)
		return -1;
	if (v) {
		vs_strv_free(p->stop_argv);
		p->stop_argv = v;
		p->stop_signal = 0;
	}
	if (vs_guest_cfg_exists(g, "cflags") || vs_guest_cfg_exists(g, "flags")) {
		char **fl = vs_guest_cfg_lines(
			g, vs_guest_cfg_exists(g, "cflags") ? "cflags" : "flags",
			&err);
		for (char **f = fl; f && *f; f++)
			if (!strcmp(*f, "fakeinit"))
				p->fakeinit = true;
		vs_strv_free(fl);
	}
	if (vs_guest_cfg_line(g, "apps/init/stop-signal", buf, sizeof(buf)) ==
	    1) {
		int sig = vs_signal_parse(buf);
		if (sig < 0)
			return vs_set_error(ctx,
					    "%s/apps/init/stop-signal: unknown "
					    "signal '%s'",
					    vs_host_real(ctx, g->cfgdir, real,
							 sizeof(real)),
					    buf);
		p->stop_signal = sig;
	}

	/* kill sequence: signal [wait signal]... */
	v = vs_guest_cfg_lines(g, "apps/init/killseq", &err);
	if (err)
		return -1;
	const char *dflt[] = {"15", "5", "9", NULL};
	char **ks = v ? v : strv_of(dflt);
	char *joined = NULL;
	size_t jl = 0;
	for (char **l = ks; *l; l++) {
		joined = vs_xrealloc(joined, jl + strlen(*l) + 2);
		jl += (size_t)sprintf(joined + jl, "%s ", *l);
	}
	vs_strv_free(ks);
	char *save = NULL;
	int idx = 0;
	for (char *t = joined ? strtok_r(joined, " \t", &save) : NULL; t;
	     t = strtok_r(NULL, " \t", &save), idx++) {
		if (p->nkill >= sizeof(p->killseq) / sizeof(*p->killseq))
			break;
		int val = idx % 2 == 0 ? vs_signal_parse(t) : atoi(t);
		if (val < 0 || (idx % 2 && !isdigit((unsigned char)t[0]))) {
			free(joined);
			return vs_set_error(ctx,
					    "%s/apps/init/killseq: bad entry "
					    "'%s'",
					    vs_host_real(ctx, g->cfgdir, real,
							 sizeof(real)),
					    t);
		}
		p->killseq[p->nkill++] = val;
	}
	free(joined);

	/* how long a stop may take before the kill sequence */
	p->timeout = 30;
	char path[PATH_MAX];
	if (vs_guest_cfg_find(g, "apps/vshelper/sync-timeout", NULL, path,
			      sizeof(path)) == 1) {
		char *t = vs_host_read(ctx, path, 64, NULL);
		if (t) {
			p->timeout = atoi(t);
			free(t);
		}
	}
	if (load_environment(g, p) < 0 ||
	    parse_fstab(g, "fstab", &p->mounts, &p->nmounts) < 0 ||
	    parse_fstab(g, "fstab.remote", &p->remote, &p->nremote) < 0 ||
	    vs_resources_load(g, &p->res, warn) < 0 ||
	    vs_sysctl_load(g, p->netns, warn, &p->sysctls, &p->nsysctls) < 0)
		return -1;
	/* util-vserver rewrote the guest's /etc/mtab at each start from
	 * apps/init/mtab, else .defaults/init/mtab (without apps/) */
	char mpath[PATH_MAX];
	snprintf(mpath, sizeof(mpath), "%s/apps/init/mtab", g->cfgdir);
	p->mtab = vs_host_read(ctx, mpath, 1 << 16, NULL);
	if (!p->mtab && errno == ENOENT) {
		snprintf(mpath, sizeof(mpath), "%s/.defaults/init/mtab",
			 ctx->paths[VS_PATH_CONFDIR]);
		p->mtab = vs_host_read(ctx, mpath, 1 << 16, NULL);
	}
	if (!p->mtab && errno != ENOENT)
		return vs_set_errno(ctx, errno, "cannot read '%s'",
				    vs_host_real(ctx, mpath, real, sizeof(real)));
	if (p->api_fs) { /* systemd's container interface: who runs it */
		size_t n = 0;
		while (p->env[n])
			n++;
		uint8_t b[16];
		char var[64];
		if (vs_guest_uuid(g, b) < 0)
			return -1;
		snprintf(var, sizeof(var),
			 "container_uuid=%02x%02x%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8],
			 b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
		p->env = vs_xrealloc(p->env, (n + 3) * sizeof(*p->env));
		p->env[n] = vs_strdup("container=vs");
		p->env[n + 1] = vs_strdup(var);
		p->env[n + 2] = NULL;
	}
	return 0;
}

void vs_plan_warn(struct vs_guest *g, const struct vs_plan *p)
{
	if (p->userns.on)
		return;
	char what[1024];
	if (vs_caps_host_reaching(p->bcaps, p->netns, what, sizeof(what)))
		vs_warn(g->ctx,
			"guest '%s' shares the host's user namespace and has "
			"%s: give it spaces/user instead",
			g->name, what);
	else if (p->api_fs && !(p->bcaps & (1ULL << 8 /* CAP_SETPCAP */)))
		vs_warn(g->ctx,
			"guest '%s' runs systemd without a user namespace and "
			"without CAP_SETPCAP: the services that set their own "
			"capabilities (journald, logind) fail; give it "
			"spaces/user (or SETPCAP in bcapabilities)",
			g->name);
}

void vs_plan_free(struct vs_plan *p)
{
	vs_net_free(&p->net);
	vs_strv_free(p->env);
	vs_strv_free(p->start_argv);
	vs_strv_free(p->stop_argv);
	free(p->nodename);
	free(p->domainname);
	struct vs_mount *lists[] = {p->mounts, p->remote};
	size_t counts[] = {p->nmounts, p->nremote};
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < counts[k]; i++) {
			free(lists[k][i].src);
			free(lists[k][i].dst);
			free(lists[k][i].type);
			free(lists[k][i].data);
		}
		free(lists[k]);
	}
	vs_seccomp_free(p->seccomp);
	free(p->sysctls);
	free(p->mtab);
	memset(p, 0, sizeof(*p));
}
