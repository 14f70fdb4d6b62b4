/* The build front end's options: the usage, .defaults options, parsing
 * and checking (nothing is written). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "build.h"

static const char *const init_styles[] = {
	"sysv", "plain", "minit", "gentoo", "openrc", "arch", "systemd", "runit",
	NULL,
};

const char vs_build_front_usage[] =
	"usage: vs <guest> build -m <method> [options] [-- <method "
	      "options>]\n"
	      "  -m, --method M        build method (a build plugin)\n"
	      "  --force               move an existing root and configuration "
	      "aside\n"
	      "  --i-know-its-there    allow a non-empty root\n"
	      "  --keep                keep what was built when the build fails\n"
	      "  --json                at the end {\"guest\", \"method\", "
	      "\"context\", \"root\",\n"
	      "                        \"config\"} (root and config: host "
	      "paths)\n"
	      "  --rootdir DIR         parent of the guest root\n"
	      "  --pkgbase DIR         parent of the package-management dir\n"
	      "  --context N           static context id (2..49151)\n"
	      "  --confdir DIR         configuration directory\n"
	      "  --lockfile FILE       run file (target of the 'run' link)\n"
	      "  --hostname NAME       uts/nodename\n"
	      "  --netdev DEV --netmask MASK --netprefix N --netbcast IP\n"
	      "  --interface [name=][dev:]ip[/mask|prefix]   (repeatable)\n"
	      "  --flags a,b,...       context flags (cflags), repeatable\n"
	      "  --initstyle STYLE     sysv, plain, minit, gentoo, openrc, "
	      "arch, systemd, runit\n"
	      "                        (a Debian tree's own init when not "
	      "given)\n"
	      "  --userns, --no-userns a user-namespace guest (spaces/user) "
	      "or not;\n"
	      "                        systemd guests have one unless "
	      "--no-userns\n"
	      "  --cpuset NAME --cpusetcpus N[-M][:excl] --cpusetmems N[-M][:excl] "
	      "--cpusetvirt\n";

/* ---- option parsing --------------------------------------------------- */

enum {
	OPT_FORCE = 256, OPT_IKNOW, OPT_KEEP, OPT_DEBUG, OPT_ROOTDIR,
	OPT_PKGBASE, OPT_CONTEXT, OPT_CONFDIR, OPT_LOCKFILE, OPT_HOSTNAME,
	OPT_NETDEV, OPT_NETMASK, OPT_NETPREFIX, OPT_NETBCAST, OPT_INTERFACE,
	OPT_FLAGS, OPT_INITSTYLE, OPT_CPUSET, OPT_CPUSETCPUS, OPT_CPUSETMEMS,
	OPT_CPUSETVIRT, OPT_USERNS, OPT_NO_USERNS, OPT_JSON,
};

static const struct option build_opts[] = {
	{"method", required_argument, NULL, 'm'},
	{"name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{"force", no_argument, NULL, OPT_FORCE},
	{"i-know-its-there", no_argument, NULL, OPT_IKNOW},
	{"keep", no_argument, NULL, OPT_KEEP},
	{"json", no_argument, NULL, OPT_JSON},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"rootdir", required_argument, NULL, OPT_ROOTDIR},
	{"pkgbase", required_argument, NULL, OPT_PKGBASE},
	{"context", required_argument, NULL, OPT_CONTEXT},
	{"confdir", required_argument, NULL, OPT_CONFDIR},
	{"lockfile", required_argument, NULL, OPT_LOCKFILE},
	{"hostname", required_argument, NULL, OPT_HOSTNAME},
	{"netdev", required_argument, NULL, OPT_NETDEV},
	{"netmask", required_argument, NULL, OPT_NETMASK},
	{"netprefix", required_argument, NULL, OPT_NETPREFIX},
	{"netbcast", required_argument, NULL, OPT_NETBCAST},
	{"interface", required_argument, NULL, OPT_INTERFACE},
	{"flags", required_argument, NULL, OPT_FLAGS},
	{"initstyle", required_argument, NULL, OPT_INITSTYLE},
	{"cpuset", required_argument, NULL, OPT_CPUSET},
	{"cpusetcpus", required_argument, NULL, OPT_CPUSETCPUS},
	{"cpusetmems", required_argument, NULL, OPT_CPUSETMEMS},
	{"cpusetvirt", no_argument, NULL, OPT_CPUSETVIRT},
	{"userns", no_argument, NULL, OPT_USERNS},
	{"no-userns", no_argument, NULL, OPT_NO_USERNS},
	{NULL, 0, NULL, 0},
};

static bool printable_word(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f ||
		    *s == '/')
			return false;
	return true;
}

static int check_abs(struct vs_build *b, const char *opt, const char *v)
{
	if (v[0] != '/')
		return vs_set_error(b->ctx, "invalid %s '%s': not an absolute path",
				    opt, v);
	return 0;
}

static int check_cpus(struct vs_build *b, const char *opt, const char *v)
{
	/* N[-M][,...][:0|1] */
	const char *c = v;
	if (!*c)
		goto bad;
	for (; *c && *c != ':'; c++)
		if (!((*c >= '0' && *c <= '9') || *c == '-' || *c == ','))
			goto bad;
	if (*c == ':' && !(c[1] == '0' || c[1] == '1') && c[2] == '\0')
		goto bad;
	if (*c == ':' && c[2] != '\0')
		goto bad;
	return 0;
bad:
	return vs_set_error(b->ctx, "invalid %s '%s'", opt, v);
}

/* Splits "a,b" flags into b->flags. */
static int add_flags(struct vs_build *b, const char *v)
{
	char *copy = vs_strdup(v), *save = NULL;
	int r = 0;
	for (char *f = strtok_r(copy, ",", &save); f;
	     f = strtok_r(NULL, ",", &save)) {
		if (!printable_word(f, 64)) {
			r = vs_set_error(b->ctx, "invalid flag '%s'", f);
			break;
		}
		if (b->nflags == MAX_FLAGS) {
			r = vs_set_error(b->ctx, "too many flags");
			break;
		}
		b->flags[b->nflags++] = vs_strdup(f);
	}
	free(copy);
	return r;
}

/* Reads .defaults/apps/build/options: one option per line. */
char **default_options(struct vs_ctx *ctx, int *n)
{
	char path[PATH_MAX];
	*n = 0;
	if (getenv("NO_DEFAULT_OPTS"))
		return NULL;
	snprintf(path, sizeof(path), "%s/.defaults/apps/build/options",
		 vs_path(ctx, VS_PATH_CONFDIR));
	char *s = vs_host_read(ctx, path, 65536, NULL);
	if (!s)
		return NULL;
	char **v = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(*v));
	char *save = NULL;
	for (char *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (*l && *l != '#')
			v[(*n)++] = vs_strdup(l);
	free(s);
	return v;
}

int parse_options(struct vs_build *b, int argc, char **argv,
			 int *margc, char ***margv)
{
	struct vs_ctx *ctx = b->ctx;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+m:n:h", build_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'm':
			b->method = optarg;
			break;
		case 'n':
			if (strcmp(optarg, b->name) != 0)
				return vs_set_error(ctx,
						    "-n '%s' does not match the "
						    "guest name '%s'",
						    optarg, b->name);
			break;
		case 'h':
			return 1;
		case OPT_FORCE:
			b->force = true;
			break;
		case OPT_IKNOW:
			b->iknow = true;
			break;
		case OPT_KEEP:
			b->keep = true;
			break;
		case OPT_JSON:
			b->json = true;
			break;
		case OPT_DEBUG:
			b->debug++;
			break;
		case OPT_ROOTDIR:
			if (check_abs(b, "--rootdir", optarg) < 0)
				return -1;
			free(b->rootdir);
			b->rootdir = vs_strdup(optarg);
			break;
		case OPT_PKGBASE:
			if (check_abs(b, "--pkgbase", optarg) < 0)
				return -1;
			free(b->pkgbase);
			b->pkgbase = vs_strdup(optarg);
			break;
		case OPT_CONTEXT:
			if (vs_context_parse(ctx, optarg, &b->context) < 0)
				return -1;
			b->have_context = true;
			break;
		case OPT_CONFDIR:
			if (check_abs(b, "--confdir", optarg) < 0)
				return -1;
			free(b->cfgdir);
			b->cfgdir = vs_strdup(optarg);
			break;
		case OPT_LOCKFILE:
			if (check_abs(b, "--lockfile", optarg) < 0)
				return -1;
			free(b->lockfile);
			b->lockfile = vs_strdup(optarg);
			break;
		case OPT_HOSTNAME:
			if (!printable_word(optarg, 64))
				return vs_set_error(ctx,
						    "invalid hostname '%s'",
						    optarg);
			b->hostname = optarg;
			break;
		case OPT_NETDEV: {
			struct vs_iface_spec t;
			char *spec = vs_asprintf("%s:127.0.0.1", optarg);
			int r = vs_iface_parse(ctx, spec, &t);
			free(spec);
			if (r < 0 || strchr(optarg, ':'))
				return vs_set_error(ctx,
						    "invalid --netdev '%s'",
						    optarg);
			b->netdev = optarg;
			break;
		}
		case OPT_NETMASK:
			if (vs_mask_to_prefix(optarg) < 0)
				return vs_set_error(ctx,
						    "invalid --netmask '%s'",
						    optarg);
			b->netmask = optarg;
			break;
		case OPT_NETPREFIX: {
			char *end;
			long p = strtol(optarg, &end, 10);
			if (*end || !*optarg || p < 0 || p > 128)
				return vs_set_error(ctx,
						    "invalid --netprefix '%s'",
						    optarg);
			b->netprefix = optarg;
			break;
		}
		case OPT_NETBCAST: {
			struct vs_iface_spec t;
			if (vs_iface_parse(ctx, optarg, &t) < 0 || t.dev[0] ||
			    t.name[0] || t.prefix[0] || t.mask[0])
				return vs_set_error(ctx,
						    "invalid --netbcast '%s'",
						    optarg);
			b->netbcast = optarg;
			break;
		}
		case OPT_INTERFACE:
			if (b->nifaces == MAX_IFACES)
				return vs_set_error(ctx, "too many interfaces");
			if (vs_iface_parse(ctx, optarg,
					   &b->ifaces[b->nifaces]) < 0)
				return -1;
			b->nifaces++;
			break;
		case OPT_FLAGS:
			if (add_flags(b, optarg) < 0)
				return -1;
			break;
		case OPT_INITSTYLE: {
			const char *const *s = init_styles;
			while (*s && strcmp(*s, optarg) != 0)
				s++;
			if (!*s)
				return vs_set_error(ctx,
						    "invalid --initstyle '%s'",
						    optarg);
			b->initstyle = optarg;
			break;
		}
		case OPT_CPUSET:
			if (!printable_word(optarg, 64))
				return vs_set_error(ctx,
						    "invalid --cpuset '%s'",
						    optarg);
			b->cpuset = optarg;
			break;
		case OPT_CPUSETCPUS:
			if (check_cpus(b, "--cpusetcpus", optarg) < 0)
				return -1;
			b->cpusetcpus = optarg;
			break;
		case OPT_CPUSETMEMS:
			if (check_cpus(b, "--cpusetmems", optarg) < 0)
				return -1;
			b->cpusetmems = optarg;
			break;
		case OPT_USERNS:
		case OPT_NO_USERNS:
			b->userns = c == OPT_USERNS ? 1 : 0;
			break;
		case OPT_CPUSETVIRT:
			b->cpusetvirt = true;
			break;
		default:
			if (optopt && optopt < 256)
				return vs_set_error(ctx,
						    "build: unknown or incomplete "
						    "option '-%c'",
						    optopt);
			return vs_set_error(ctx,
					    "build: unknown or incomplete option "
					    "'%s'",
					    argv[optind - 1]);
		}
	}
	*margc = argc - optind;
	*margv = argv + optind;
	return 0;
}
