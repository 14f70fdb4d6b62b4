/* Capabilities: util-vserver's list syntax (COMPAT §1.2) and the guest's
 * bounding set. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "config/config.h"

/* util-vserver's --secure set, plus SYS_BOOT (vshelper) and AUDIT_WRITE,
 * less DAC_READ_SEARCH: on a vanilla kernel it opens any file of the
 * host by handle (open_by_handle_at), and DAC_OVERRIDE already lets the
 * guest's root read its own tree */
static const int secure_caps[] = {
	CAP_CHOWN,	     CAP_DAC_OVERRIDE,
	CAP_FOWNER,	     CAP_FSETID,	CAP_KILL,
	CAP_SETGID,	     CAP_SETUID,	CAP_NET_BIND_SERVICE,
	CAP_SYS_CHROOT,	     CAP_SYS_PTRACE,	CAP_SYS_TTY_CONFIG,
	CAP_LEASE,	     CAP_SETFCAP,	CAP_SYS_BOOT,
	CAP_AUDIT_WRITE,
};

/* What a user-namespace guest has beyond the secure set.  Each of them
 * reaches only what the guest's own namespaces own (its mounts, its
 * network namespace if it has one, its processes): the kernel checks
 * them against the namespace, not the host.  systemd needs SETPCAP to
 * give each service its bounding set and SYS_ADMIN for their sandboxing
 * (mount namespaces).  Left out: what the kernel checks against the
 * host only (SYS_MODULE, SYS_RAWIO, SYS_TIME, MAC_*, SYSLOG, WAKE_ALARM,
 * BLOCK_SUSPEND, AUDIT_READ, BPF, PERFMON), where the extra capability
 * would only confuse the software inside, and DAC_READ_SEARCH (file
 * handles). */
static const int userns_caps[] = {
	CAP_SETPCAP,	 CAP_SYS_ADMIN,	  CAP_NET_ADMIN, CAP_NET_RAW,
	CAP_NET_BROADCAST, CAP_IPC_LOCK,  CAP_IPC_OWNER, CAP_SYS_NICE,
	CAP_SYS_RESOURCE, CAP_MKNOD,	  CAP_LINUX_IMMUTABLE,
	CAP_AUDIT_CONTROL, CAP_SYS_PACCT,
};

static uint64_t mask_of(const int *caps, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= 1ULL << caps[i];
	return m;
}

uint64_t vs_caps_secure(void)
{
	return mask_of(secure_caps, sizeof(secure_caps) / sizeof(*secure_caps));
}

uint64_t vs_caps_userns(void)
{
	return vs_caps_secure() |
	       mask_of(userns_caps, sizeof(userns_caps) / sizeof(*userns_caps));
}

/* Capabilities that reach past the guest when it shares the host's user
 * namespace, with what each one gives its root. */
static const struct {
	int cap;
	const char *gives;
} host_reaching[] = {
	{CAP_SYS_ADMIN, "mount file systems and remount what vs made "
			"read-only"},
	{CAP_SYS_MODULE, "load kernel modules"},
	{CAP_SYS_RAWIO, "read and write the host's memory and disks"},
	{CAP_MKNOD, "make device nodes of the host's disks"},
	{CAP_SYS_TIME, "set the host's clock"},
	{CAP_NET_ADMIN, "change the host's network (without spaces/net)"},
	{CAP_MAC_ADMIN, "change the host's security policy"},
	{CAP_MAC_OVERRIDE, "override the host's security policy"},
	{CAP_SYSLOG, "read and clear the kernel's log"},
	{CAP_BPF, "load BPF programs into the kernel"},
	{CAP_PERFMON, "observe every process of the host"},
	{CAP_WAKE_ALARM, "wake the host from suspend"},
	{CAP_BLOCK_SUSPEND, "keep the host from suspending"},
};

int vs_caps_host_reaching(uint64_t bset, bool own_netns, char *out,
			  size_t size)
{
	int n = 0;
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(host_reaching) / sizeof(*host_reaching);
	     i++) {
		int c = host_reaching[i].cap;
		if (!(bset & (1ULL << c)) || (c == CAP_NET_ADMIN && own_netns))
			continue;
		char *name = cap_to_name((cap_value_t)c);
		int w = snprintf(out + len, size - len, "%s%s (%s)",
				 n ? ", " : "", name ? name : "?",
				 host_reaching[i].gives);
		cap_free(name);
		if (w > 0 && (size_t)w < size - len)
			len += (size_t)w;
		n++;
	}
	return n;
}

unsigned vs_caps_last(void)
{
	/* libcap probed the kernel when it was loaded */
	int bits = cap_max_bits();
	return bits > 0 && bits <= 64 ? (unsigned)bits - 1 : CAP_LAST_CAP;
}

static uint64_t all_caps(void)
{
	unsigned last = vs_caps_last();
	return last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
}

int vs_caps_parse_item(struct vs_ctx *ctx, const char *item,
		       const char *where, uint64_t *mask)
{
	char low[64];
	size_t n = strlen(item);
	if (n == 0 || n >= sizeof(low))
		goto bad;
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)item[i]);
	if (!strcmp(low, "all") || !strcmp(low, "any")) {
		*mask = all_caps();
		return 0;
	}
	if (!strcmp(low, "none")) {
		*mask = 0;
		return 0;
	}
	char *end;
	if (low[0] == '^') {
		unsigned long bit = strtoul(low + 1, &end, 10);
		if (end == low + 1 || *end || bit > vs_caps_last())
			goto bad;
		*mask = 1ULL << bit;
		return 0;
	}
	if (isdigit((unsigned char)low[0])) {
		errno = 0;
		unsigned long long v = strtoull(low, &end, 0);
		if (*end || errno || (v & ~all_caps()))
			goto bad;
		*mask = v;
		return 0;
	}
	char name[80];
	snprintf(name, sizeof(name), "%s%s",
		 strncmp(low, "cap_", 4) == 0 ? "" : "cap_", low);
	cap_value_t cap;
	if (cap_from_name(name, &cap) < 0 || cap < 0 ||
	    (unsigned)cap > vs_caps_last())
		goto bad;
	*mask = 1ULL << cap;
	return 0;
bad:
	return vs_set_error(ctx, "%s: unknown capability '%s'", where, item);
}

int vs_caps_apply_list(struct vs_ctx *ctx, const char *text,
		       const char *where, uint64_t *set)
{
	char *copy = vs_strdup(text), *save = NULL;
	int r = 0, lineno = 0;
	for (char *line = strtok_r(copy, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		while (isspace((unsigned char)*line))
			line++;
		if (!*line || *line == '#')
			continue;
		char *save2 = NULL;
		for (char *it = strtok_r(line, ",", &save2); it && r == 0;
		     it = strtok_r(NULL, ",", &save2)) {
			while (isspace((unsigned char)*it))
				it++;
			char *e = it + strlen(it);
			while (e > it && isspace((unsigned char)e[-1]))
				*--e = '\0';
			if (!*it)
				continue;
			bool neg = *it == '~' || *it == '!';
			uint64_t m = 0;
			char pos[256];
			snprintf(pos, sizeof(pos), "%s:%d", where, lineno);
			r = vs_caps_parse_item(ctx, it + neg, pos, &m);
			if (r == 0)
				*set = neg ? (*set & ~m) : (*set | m);
		}
	}
	free(copy);
	return r;
}

int vs_guest_bcaps(struct vs_guest *g, bool userns, uint64_t *bset)
{
	char path[PATH_MAX], real[PATH_MAX];
	*bset = userns ? vs_caps_userns() : vs_caps_secure();
	snprintf(path, sizeof(path), "%s/bcapabilities", g->cfgdir);
	char *s = vs_host_read(g->ctx, path, 65536, NULL);
	if (!s && errno != ENOENT)
		return vs_set_errno(g->ctx, errno, "cannot read '%s'",
				    vs_host_real(g->ctx, path, real,
						 sizeof(real)));
	if (s) {
		int r = vs_caps_apply_list(
			g->ctx, s, vs_host_real(g->ctx, path, real, sizeof(real)),
			bset);
		free(s);
		if (r < 0)
			return -1;
	}
	/* never more than the host itself has */
	uint64_t host = 0;
	for (unsigned c = 0; c <= vs_caps_last(); c++)
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
			host |= 1ULL << c;
	*bset &= host;
	return 0;
}

int vs_caps_bound(uint64_t bset)
{
	for (unsigned c = 0; c <= vs_caps_last(); c++)
		if (!(bset & (1ULL << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	return 0;
}
