/* The shared build helper (COMPAT §2.1, §2.2): common options, the
 * skeleton every method starts from, and cleanup of a failed build.
 *
 * Order: parse and validate everything (nothing written), let the method
 * validate its own arguments (prepare), move old trees aside (--force),
 * create the skeleton, run the method's payload (build), then commit the
 * context counter.  Any failure after the first write removes what this
 * build created, unless --keep, and moves --force'd trees back. */
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

#include "internal.h"

#define MAX_IFACES 64
#define MAX_FLAGS 64
#define VS_BUILD_MAX_ENV 8

struct vs_build {
	struct vs_ctx *ctx;
	const struct vs_plugin *plugin;
	const char *method;
	char *name;
	char *dist;
	/* host views */
	char *rootdir, *vdir, *cfgdir, *cachebase, *lockfile, *pkgbase;
	char *pkgdir; /* <pkgbase>/<name> when package management is wanted */
	int rootfd, cfgfd;
	char *env[VS_BUILD_MAX_ENV]; /* "NAME=value" for the method's tools */
	size_t nenv;
	void *data;
	bool force, iknow, keep, pkgmgmt, cpusetvirt;
	int debug;
	bool have_context;
	unsigned context, context_next;
	bool store_next;
	const char *hostname, *netdev, *netmask, *netprefix, *netbcast;
	const char *initstyle, *cpuset, *cpusetcpus, *cpusetmems;
	struct vs_iface_spec ifaces[MAX_IFACES];
	size_t nifaces;
	char *flags[MAX_FLAGS];
	size_t nflags;
	/* cleanup state */
	bool created_vdir, created_cfg, created_pkg;
	char *moved_vdir, *moved_cfg, *moved_pkg;
};

static const char *const init_styles[] = {
	"sysv", "plain", "minit", "gentoo", "openrc", "arch", "systemd", NULL,
};

void vs_build_usage(FILE *out)
{
	fputs("usage: vs <guest> build -m <method> [options] [-- <method "
	      "options>]\n"
	      "  -m, --method M        build method (a build plugin)\n"
	      "  --force               move an existing root and configuration "
	      "aside\n"
	      "  --i-know-its-there    allow a non-empty root\n"
	      "  --keep                keep what was built when the build fails\n"
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
	      "arch, systemd\n"
	      "  --cpuset NAME --cpusetcpus N[-M][:excl] --cpusetmems N[-M][:excl] "
	      "--cpusetvirt\n",
	      out);
}

/* ---- small writers ---------------------------------------------------- */

static int fail_path(struct vs_build *b, const char *what, const char *path)
{
	char real[PATH_MAX];
	return vs_set_errno(b->ctx, errno, "cannot %s '%s'", what,
			    vs_host_real(b->ctx, path, real, sizeof(real)));
}

int vs_build_write_cfg(struct vs_build *b, const char *rel, const char *value)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", b->cfgdir, rel);
	char *data = vs_asprintf("%s\n", value);
	const char *slash = strrchr(rel, '/');
	int r = 0;
	if (slash) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
		r = vs_mkdir_p_at(b->cfgfd, dir, 0755);
	}
	if (r == 0)
		r = vs_write_at(b->cfgfd, rel, data, strlen(data), 0644);
	free(data);
	return r < 0 ? fail_path(b, "write", path) : 0;
}

static int write_opt(struct vs_build *b, const char *rel, const char *value)
{
	return value && *value ? vs_build_write_cfg(b, rel, value) : 0;
}

/* ---- option parsing --------------------------------------------------- */

enum {
	OPT_FORCE = 256, OPT_IKNOW, OPT_KEEP, OPT_DEBUG, OPT_ROOTDIR,
	OPT_PKGBASE, OPT_CONTEXT, OPT_CONFDIR, OPT_LOCKFILE, OPT_HOSTNAME,
	OPT_NETDEV, OPT_NETMASK, OPT_NETPREFIX, OPT_NETBCAST, OPT_INTERFACE,
	OPT_FLAGS, OPT_INITSTYLE, OPT_CPUSET, OPT_CPUSETCPUS, OPT_CPUSETMEMS,
	OPT_CPUSETVIRT,
};

static const struct option build_opts[] = {
	{"method", required_argument, NULL, 'm'},
	{"name", required_argument, NULL, 'n'},
	{"help", no_argument, NULL, 'h'},
	{"force", no_argument, NULL, OPT_FORCE},
	{"i-know-its-there", no_argument, NULL, OPT_IKNOW},
	{"keep", no_argument, NULL, OPT_KEEP},
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
static char **default_options(struct vs_ctx *ctx, int *n)
{
	char path[PATH_MAX];
	*n = 0;
	if (getenv("NO_DEFAULT_OPTS"))
		return NULL;
	snprintf(path, sizeof(path), "%s/.defaults/apps/build/options",
		 ctx->paths[VS_PATH_CONFDIR]);
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

static int parse_options(struct vs_build *b, int argc, char **argv,
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

/* ---- paths and existence checks -------------------------------------- */

static bool dir_empty(struct vs_ctx *ctx, const char *path, bool *exists)
{
	int fd = vs_host_open(ctx, path, O_RDONLY | O_DIRECTORY, 0);
	*exists = fd >= 0 || errno != ENOENT;
	if (fd < 0)
		return errno == ENOENT;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, "lost+found"))
			empty = false;
	closedir(d);
	return empty;
}

static int setup_paths(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char path[PATH_MAX], real[PATH_MAX];
	const char *confdir = ctx->paths[VS_PATH_CONFDIR];

	if (!b->rootdir) {
		snprintf(path, sizeof(path), "%s/.defaults/vdirbase", confdir);
		b->rootdir = vs_host_isdir(ctx, path)
				     ? vs_strdup(path)
				     : vs_strdup(ctx->paths[VS_PATH_VROOTDIR]);
	} else if (!vs_host_isdir(ctx, b->rootdir)) {
		return vs_set_error(ctx,
				    "root directory '%s' does not exist or is "
				    "not a directory",
				    vs_host_real(ctx, b->rootdir, real,
						 sizeof(real)));
	}
	snprintf(path, sizeof(path), "%s/.defaults/cachebase", confdir);
	b->cachebase = vs_host_isdir(ctx, path)
			       ? vs_strdup(path)
			       : vs_strdup(ctx->paths[VS_PATH_CACHEDIR]);
	if (!b->pkgbase) {
		snprintf(path, sizeof(path), "%s/.defaults/apps/pkgmgmt/base",
			 confdir);
		if (vs_host_isdir(ctx, path))
			b->pkgbase = vs_strdup(path);
		else
			b->pkgbase = vs_path_join(b->rootdir, ".pkg");
	}
	b->vdir = vs_path_join(b->rootdir, b->name);
	if (!b->cfgdir)
		b->cfgdir = vs_path_join(confdir, b->name);
	if (!b->lockfile)
		b->lockfile = vs_path_join(ctx->paths[VS_PATH_RUNDIR], b->name);
	return 0;
}

static int check_context(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char path[PATH_MAX];
	if (b->have_context) {
		char *user = vs_context_user(ctx, b->context);
		if (user && b->force && strcmp(user, b->name) == 0) {
			free(user); /* its configuration is moved aside */
			user = NULL;
		}
		if (user) {
			vs_set_error(ctx,
				     "context %u is already used by guest '%s'",
				     b->context, user);
			free(user);
			return -1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/.defaults/context.dynamic",
		 ctx->paths[VS_PATH_CONFDIR]);
	if (vs_host_exists(ctx, path) == 1)
		return 0;
	if (vs_context_allocate(ctx, &b->context, &b->context_next) < 0)
		return -1;
	b->have_context = true;
	b->store_next = true;
	return 0;
}

static int check_existing(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char real[PATH_MAX];
	bool vdir_exists, cfg_exists = vs_host_exists(ctx, b->cfgdir) != 0;
	bool empty = dir_empty(ctx, b->vdir, &vdir_exists);
	struct stat st;
	if (!cfg_exists && vs_host_lstat(ctx, b->cfgdir, &st) == 0)
		cfg_exists = true; /* a dangling symlink counts too */
	/* never a root another guest has: deleting one would take both */
	char *canon = vdir_exists ? vs_host_canon(ctx, b->vdir) : NULL;
	const char *kind = NULL;
	char *other = canon ? vs_guest_dir_owner(ctx, canon, b->name, &kind)
			    : NULL;
	free(canon);
	if (other) {
		vs_set_error(ctx, "root '%s' is also the %s of guest '%s'",
			     vs_host_real(ctx, b->vdir, real, sizeof(real)),
			     kind, other);
		free(other);
		return -1;
	}
	if (b->force)
		return 0;
	if (cfg_exists)
		return vs_set_error(ctx,
				    "guest '%s' exists already (configuration "
				    "'%s'); use --force to move it aside",
				    b->name,
				    vs_host_real(ctx, b->cfgdir, real,
						 sizeof(real)));
	if (!empty && !b->iknow)
		return vs_set_error(ctx,
				    "root '%s' exists and is not empty; use "
				    "--force to move it aside or "
				    "--i-know-its-there",
				    vs_host_real(ctx, b->vdir, real,
						 sizeof(real)));
	return 0;
}

/* The package-management directory must be new (or empty) unless
 * --force moves it aside: a failed build removes only what it made. */
static int check_pkgdir(struct vs_build *b)
{
	char real[PATH_MAX];
	bool exists;
	b->pkgdir = vs_path_join(b->pkgbase, b->name);
	if (b->force || dir_empty(b->ctx, b->pkgdir, &exists))
		return 0;
	return vs_set_error(b->ctx,
			    "package directory '%s' exists and is not empty; "
			    "use --force to move it aside",
			    vs_host_real(b->ctx, b->pkgdir, real, sizeof(real)));
}

/* Renames path to path.~<secs>~ (host view); *moved gets the new name. */
static int move_aside(struct vs_build *b, const char *path, char **moved)
{
	const char *base;
	char newname[NAME_MAX + 1];
	int dfd = vs_host_parent(b->ctx, path, &base);
	if (dfd < 0)
		return errno == ENOENT ? 0 : fail_path(b, "open parent of", path);
	snprintf(newname, sizeof(newname), "%s.~%lld~", base,
		 (long long)time(NULL));
	int r = renameat2(dfd, base, dfd, newname, RENAME_NOREPLACE);
	int e = errno;
	close(dfd);
	if (r < 0) {
		if (e == ENOENT)
			return 0;
		errno = e;
		return fail_path(b, "move aside", path);
	}
	*moved = vs_asprintf("%.*s%s", (int)(base - path), path, newname);
	char real[PATH_MAX], real2[PATH_MAX];
	vs_info(b->ctx, 0, "moved '%s' to '%s'",
		vs_host_real(b->ctx, path, real, sizeof(real)),
		vs_host_real(b->ctx, *moved, real2, sizeof(real2)));
	return 0;
}

static void move_back(struct vs_build *b, const char *path, char *moved)
{
	const char *base, *mbase;
	if (!moved)
		return;
	int dfd = vs_host_parent(b->ctx, path, &base);
	mbase = vs_basename(moved);
	if (dfd >= 0) {
		if (renameat2(dfd, mbase, dfd, base, RENAME_NOREPLACE) < 0)
			vs_warn(b->ctx, "cannot move '%s' back: %s", moved,
				strerror(errno));
		close(dfd);
	}
}

/* ---- the skeleton ----------------------------------------------------- */

/* A source file: host view (in the sysroot) or real (installed data). */
static int open_source(struct vs_build *b, const char *path, bool host)
{
	if (host)
		return vs_host_open(b->ctx, path, O_RDONLY | O_NOFOLLOW, 0);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The first existing file of a candidate list: returns its fd. */
static int find_source(struct vs_build *b, const char *const *host_cands,
		       const char *const *real_cands, char *shown,
		       size_t size)
{
	for (const char *const *c = host_cands; c && *c; c++) {
		int fd = open_source(b, *c, true);
		if (fd >= 0) {
			vs_host_real(b->ctx, *c, shown, size);
			return fd;
		}
	}
	for (const char *const *c = real_cands; c && *c; c++) {
		int fd = open_source(b, *c, false);
		if (fd >= 0) {
			snprintf(shown, size, "%s", *c);
			return fd;
		}
	}
	return -1;
}

static int make_dev_entry(struct vs_build *b, int devfd, char *line)
{
	char name[64], type[4], a1[PATH_MAX], a2[32], a3[32];
	int n = sscanf(line, "%63s %3s %4095s %31s %31s", name, type, a1, a2,
		       a3);
	if (n < 1)
		return 0;
	if (name[0] == '#')
		return 0;
	if (strchr(name, '/') || name[0] == '.')
		goto bad;
	if ((type[0] == 'c' || type[0] == 'b') && n == 5) {
		unsigned maj = (unsigned)strtoul(a1, NULL, 10);
		unsigned min = (unsigned)strtoul(a2, NULL, 10);
		mode_t mode = (mode_t)strtoul(a3, NULL, 8) & 07777;
		if (mknodat(devfd, name,
			    (type[0] == 'c' ? S_IFCHR : S_IFBLK) | 0600,
			    makedev(maj, min)) < 0 ||
		    fchmodat(devfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0)
			goto err;
		return 0;
	}
	if (type[0] == 'd' && n == 3) {
		mode_t mode = (mode_t)strtoul(a1, NULL, 8) & 07777;
		if ((mkdirat(devfd, name, 0700) < 0 && errno != EEXIST) ||
		    fchmodat(devfd, name, mode, 0) < 0)
			goto err;
		return 0;
	}
	if (type[0] == 'l' && n >= 3) {
		if (symlinkat(a1, devfd, name) < 0)
			goto err;
		return 0;
	}
	if (type[0] == 'f' && n == 3) {
		mode_t mode = (mode_t)strtoul(a1, NULL, 8) & 07777;
		if (vs_write_at(devfd, name, "", 0, mode) < 0)
			goto err;
		return 0;
	}
bad:
	return vs_set_error(b->ctx, "invalid devs entry '%s'", line);
err:
	return vs_set_errno(b->ctx, errno, "cannot create '%s/dev/%s'",
			    b->vdir, name);
}

static int populate_dev(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char h1[PATH_MAX] = "", r1[PATH_MAX] = "", r2[PATH_MAX], shown[PATH_MAX];
	if (b->dist) {
		snprintf(h1, sizeof(h1), "%s/.distributions/%s/devs",
			 ctx->paths[VS_PATH_CONFDIR], b->dist);
		snprintf(r1, sizeof(r1), "%s/%s/devs", ctx->distribdir,
			 b->dist);
	}
	snprintf(r2, sizeof(r2), "%s/defaults/devs", ctx->distribdir);
	const char *hc[] = {b->dist ? h1 : NULL, NULL};
	const char *rc[] = {b->dist ? r1 : r2, b->dist ? r2 : NULL, NULL};

	if (mkdirat(b->rootfd, "dev", 0755) < 0 && errno != EEXIST)
		return vs_set_errno(ctx, errno, "cannot create '%s/dev'",
				    b->vdir);
	int devfd = openat(b->rootfd, "dev",
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (devfd < 0)
		return vs_set_errno(ctx, errno, "cannot open '%s/dev'", b->vdir);
	int r = 0;
	if (mkdirat(devfd, "pts", 0755) < 0 && errno != EEXIST)
		r = vs_set_errno(ctx, errno, "cannot create '%s/dev/pts'",
				 b->vdir);
	int fd = r < 0 ? -1 : find_source(b, hc, rc, shown, sizeof(shown));
	if (r == 0 && fd < 0)
		r = vs_set_error(ctx, "cannot find a devs file (looked for '%s')",
				 r2);
	char *list = fd >= 0 ? vs_read_fd(fd, 65536, NULL) : NULL;
	if (fd >= 0 && !list)
		r = vs_set_errno(ctx, errno, "cannot read '%s'", shown);
	if (fd >= 0)
		close(fd);
	char *save = NULL;
	for (char *l = list ? strtok_r(list, "\n", &save) : NULL; l && r == 0;
	     l = strtok_r(NULL, "\n", &save))
		r = make_dev_entry(b, devfd, l);
	free(list);
	close(devfd);
	return r;
}

/* Copies one file or symlink to guest etc/<name> if the target is missing
 * or empty and the source non-empty (util-vserver's findAndCopy). */
static int copy_etc(struct vs_build *b, int etcfd, const char *name, int srcfd,
		    const char *shown)
{
	struct stat st, sst;
	if (fstatat(etcfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISREG(st.st_mode) && st.st_size == 0))
		return 0;
	if (fstat(srcfd, &sst) < 0 || !S_ISREG(sst.st_mode) ||
	    sst.st_size == 0)
		return 0;
	unlinkat(etcfd, name, 0);
	if (vs_copy_fd_at(srcfd, etcfd, name, sst.st_mode & 07777) < 0)
		return vs_set_errno(b->ctx, errno,
				    "cannot copy '%s' to '%s/etc/%s'", shown,
				    b->vdir, name);
	return 0;
}

static int copy_etc_files(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	static const char *const names[] = {
		"hosts",     "nsswitch.conf", "krb5.conf",  "krb.conf",
		"krb.realms", "ldap.conf",    "localtime", "resolv.conf",
		NULL,
	};
	const char *confdir = ctx->paths[VS_PATH_CONFDIR];
	int etcfd = openat(b->rootfd, "etc",
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (etcfd < 0)
		return vs_set_errno(ctx, errno, "cannot open '%s/etc'", b->vdir);
	int r = 0;
	for (const char *const *n = names; *n && r == 0; n++) {
		char h1[PATH_MAX], h2[PATH_MAX], r1[PATH_MAX], r2[PATH_MAX],
			shown[PATH_MAX];
		const char *d = b->dist ? b->dist : "";
		snprintf(h1, sizeof(h1), "%s/.defaults/files/%s", confdir, *n);
		snprintf(h2, sizeof(h2), "%s/.distributions/%s/files/%s",
			 confdir, d, *n);
		snprintf(r1, sizeof(r1), "%s/%s/files/%s", ctx->distribdir, d,
			 *n);
		snprintf(r2, sizeof(r2), "%s/defaults/files/%s",
			 ctx->distribdir, *n);
		bool hosts = strcmp(*n, "hosts") == 0;
		const char *hc[] = {h1, b->dist ? h2 : NULL, NULL};
		const char *rc[] = {hosts && b->dist ? r1 : NULL, NULL, NULL};
		if (hosts)
			rc[b->dist ? 1 : 0] = r2;
		int fd = find_source(b, hc, rc, shown, sizeof(shown));
		if (fd < 0 && strcmp(*n, "resolv.conf") == 0) {
			fd = vs_host_open(ctx, "/etc/resolv.conf", O_RDONLY, 0);
			if (fd >= 0)
				vs_info(ctx, 0,
					"no resolv.conf in .defaults/files: "
					"copying the host's /etc/resolv.conf");
			vs_host_real(ctx, "/etc/resolv.conf", shown,
				     sizeof(shown));
		}
		if (fd < 0)
			continue;
		r = copy_etc(b, etcfd, *n, fd, shown);
		close(fd);
	}
	close(etcfd);
	return r;
}

static int write_interfaces(struct vs_build *b)
{
	int r = 0;
	r |= write_opt(b, "interfaces/dev", b->netdev);
	r |= write_opt(b, "interfaces/mask", b->netmask);
	r |= write_opt(b, "interfaces/prefix", b->netprefix);
	r |= write_opt(b, "interfaces/bcast", b->netbcast);
	for (size_t i = 0; i < b->nifaces && r == 0; i++) {
		const struct vs_iface_spec *s = &b->ifaces[i];
		char dir[64], rel[96];
		snprintf(dir, sizeof(dir), "interfaces/%zu", i);
		if (mkdirat(b->cfgfd, dir, 0755) < 0)
			return fail_path(b, "create", dir);
#define W(field, file)                                              \
	do {                                                        \
		snprintf(rel, sizeof(rel), "%s/" file, dir);        \
		if (write_opt(b, rel, s->field) < 0)                \
			return -1;                                  \
	} while (0)
		W(name, "name");
		W(dev, "dev");
		W(ip, "ip");
		W(mask, "mask");
		W(prefix, "prefix");
#undef W
		if (!s->dev[0] && (s->nodev || !b->netdev)) {
			if (!s->nodev)
				vs_warn(b->ctx,
					"no device specified for interface "
					"'%zu'; setting 'nodev'",
					i);
			snprintf(rel, sizeof(rel), "%s/nodev", dir);
			if (vs_write_at(b->cfgfd, rel, "", 0, 0644) < 0)
				return fail_path(b, "create", rel);
		}
	}
	return r ? -1 : 0;
}

static int write_config(struct vs_build *b)
{
	char num[16];
	static const char *const dirs[] = {"interfaces", "apps/init", "uts",
					   "cpuset", NULL};
	for (const char *const *d = dirs; *d; d++)
		if (vs_mkdir_p_at(b->cfgfd, *d, 0755) < 0)
			return fail_path(b, "create", *d);
	if (vs_build_write_cfg(b, "name", b->name) < 0)
		return -1;
	if (b->have_context) {
		snprintf(num, sizeof(num), "%u", b->context);
		if (vs_build_write_cfg(b, "context", num) < 0)
			return -1;
	}
	if (write_opt(b, "uts/nodename", b->hostname) < 0 ||
	    write_opt(b, "apps/init/style", b->initstyle) < 0 ||
	    write_opt(b, "cpuset/name", b->cpuset) < 0)
		return -1;
	const char *cpuset_files[][3] = {
		{b->cpusetcpus, "cpuset/cpus", "cpuset/cpus_exclusive"},
		{b->cpusetmems, "cpuset/mems", "cpuset/mem_exclusive"},
	};
	for (int i = 0; i < 2; i++) {
		const char *v = cpuset_files[i][0];
		if (!v)
			continue;
		char *copy = vs_strdup(v), *colon = strchr(copy, ':');
		if (colon)
			*colon++ = '\0';
		int r = write_opt(b, cpuset_files[i][1], copy);
		if (r == 0)
			r = write_opt(b, cpuset_files[i][2], colon);
		free(copy);
		if (r < 0)
			return -1;
	}
	if (b->cpusetvirt && vs_build_write_cfg(b, "cpuset/virtualized", "1") < 0)
		return -1;
	if (write_interfaces(b) < 0)
		return -1;
	if (b->nflags) {
		size_t len = 0;
		for (size_t i = 0; i < b->nflags; i++)
			len += strlen(b->flags[i]) + 1;
		char *data = vs_xmalloc(len + 1), *p = data;
		for (size_t i = 0; i < b->nflags; i++)
			p += sprintf(p, "%s\n", b->flags[i]);
		int r = vs_write_at(b->cfgfd, "cflags", data, len, 0644);
		free(data);
		if (r < 0)
			return fail_path(b, "write", "cflags");
	}
	if (symlinkat(b->lockfile, b->cfgfd, "run") < 0)
		return fail_path(b, "create", "run");

	/* fstab: .defaults/fstab, else the shipped one */
	char h[PATH_MAX], rr[PATH_MAX], shown[PATH_MAX];
	snprintf(h, sizeof(h), "%s/.defaults/fstab",
		 b->ctx->paths[VS_PATH_CONFDIR]);
	snprintf(rr, sizeof(rr), "%s/fstab", b->ctx->pkgdefaultsdir);
	const char *hc[] = {h, NULL}, *rc[] = {rr, NULL};
	int fd = find_source(b, hc, rc, shown, sizeof(shown));
	if (fd >= 0) {
		int r = vs_copy_fd_at(fd, b->cfgfd, "fstab", 0644);
		close(fd);
		if (r < 0)
			return vs_set_errno(b->ctx, errno,
					    "cannot copy '%s' to the "
					    "configuration",
					    shown);
	}
	return 0;
}

/* Creates the parents of path and then path itself (host view).  An
 * existing path is an error unless may_exist; *created tells which. */
static int make_dir(struct vs_build *b, const char *path, bool may_exist,
		    bool *created)
{
	const char *base;
	char *parent = vs_strdup(path);
	*strrchr(parent, '/') = '\0';
	int r = vs_host_mkdir_p(b->ctx, *parent ? parent : "/", 0755);
	free(parent);
	if (r < 0)
		return fail_path(b, "create", path);
	int pfd = vs_host_parent(b->ctx, path, &base);
	if (pfd < 0)
		return fail_path(b, "open parent of", path);
	r = mkdirat(pfd, base, 0755);
	int e = errno;
	close(pfd);
	errno = e;
	*created = r == 0;
	if (r < 0 && !(may_exist && errno == EEXIST))
		return fail_path(b, "create", path);
	return 0;
}

static int make_pkgmgmt(struct vs_build *b)
{
	if (make_dir(b, b->pkgdir, true, &b->created_pkg) < 0)
		return -1;
	if (vs_mkdir_p_at(b->cfgfd, "apps/pkgmgmt", 0755) < 0 ||
	    symlinkat(b->pkgdir, b->cfgfd, "apps/pkgmgmt/base") < 0)
		return fail_path(b, "create", "apps/pkgmgmt/base");
	return 0;
}

static int open_dir_fd(struct vs_build *b, const char *path, int *fd)
{
	*fd = vs_host_open(b->ctx, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
			   0);
	return *fd < 0 ? fail_path(b, "open", path) : 0;
}

static int run_distrib_script(struct vs_build *b, const char *which)
{
	char h[PATH_MAX], r1[PATH_MAX], real[PATH_MAX];
	if (!b->dist)
		return 0;
	snprintf(h, sizeof(h), "%s/.distributions/%s/%s",
		 b->ctx->paths[VS_PATH_CONFDIR], b->dist, which);
	snprintf(r1, sizeof(r1), "%s/%s/%s", b->ctx->distribdir, b->dist,
		 which);
	const char *script = NULL;
	if (vs_host_exists(b->ctx, h) == 1)
		script = vs_host_real(b->ctx, h, real, sizeof(real));
	else if (access(r1, X_OK) == 0)
		script = r1;
	if (!script)
		return 0;
	char cfg[PATH_MAX];
	vs_host_real(b->ctx, b->cfgdir, cfg, sizeof(cfg));
	char *argv[] = {(char *)script, cfg, NULL};
	int st = vs_build_run(b, argv);
	if (st < 0)
		return -1;
	if (st != 0)
		return vs_set_error(b->ctx, "'%s' failed with status %d",
				    script, st);
	return 0;
}

static int create_skeleton(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char real[PATH_MAX];
	bool vdir_exists;

	dir_empty(ctx, b->vdir, &vdir_exists);
	if (!vdir_exists) {
		if (strcmp(b->rootdir, ctx->paths[VS_PATH_VROOTDIR]) == 0 &&
		    vs_host_mkdir_p(ctx, b->rootdir, 0755) < 0)
			return fail_path(b, "create", b->rootdir);
		const char *base;
		int pfd = vs_host_parent(ctx, b->vdir, &base);
		if (pfd < 0)
			return fail_path(b, "open parent of", b->vdir);
		int r = mkdirat(pfd, base, 0755);
		int e = errno;
		if (r == 0) {
			b->created_vdir = true;
			fchmodat(pfd, base, 0755, 0);
			/* barrier: the guest's parent directory gets mode
			 * 000, as util-vserver does without the kernel flag */
			if (fchmod(pfd, 0) < 0)
				vs_warn(ctx, "cannot set the barrier on '%s': %s",
					vs_host_real(ctx, b->rootdir, real,
						     sizeof(real)),
					strerror(errno));
		}
		close(pfd);
		errno = e;
		if (r < 0)
			return fail_path(b, "create", b->vdir);
	}
	if (open_dir_fd(b, b->vdir, &b->rootfd) < 0)
		return -1;

	/* configuration directory */
	if (make_dir(b, b->cfgdir, false, &b->created_cfg) < 0)
		return -1;
	if (open_dir_fd(b, b->cfgdir, &b->cfgfd) < 0)
		return -1;

	if (mkdirat(b->cfgfd, "apps", 0755) < 0)
		return fail_path(b, "create", "apps");
	if (mkdirat(b->rootfd, "etc", 0755) < 0 && errno != EEXIST)
		return vs_set_errno(ctx, errno, "cannot create '%s/etc'",
				    b->vdir);
	char *cache = vs_path_join(b->cachebase, b->name);
	int r = symlinkat(b->vdir, b->cfgfd, "vdir");
	if (r == 0)
		r = symlinkat(cache, b->cfgfd, "cache");
	free(cache);
	if (r < 0)
		return fail_path(b, "create links in", b->cfgdir);
	if (populate_dev(b) < 0)
		return -1;
	if (mkdirat(b->rootfd, "proc", 0755) < 0 && errno != EEXIST)
		return vs_set_errno(ctx, errno, "cannot create '%s/proc'",
				    b->vdir);
	if (copy_etc_files(b) < 0 || write_config(b) < 0)
		return -1;
	if (b->pkgmgmt && make_pkgmgmt(b) < 0)
		return -1;
	return 0;
}

static void cleanup(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	const char *failed;
	char real[PATH_MAX];
	if (b->keep) {
		vs_info(ctx, 0, "keeping what was built (--keep)");
		return;
	}
	const char *paths[] = {b->created_cfg ? b->cfgdir : NULL,
			       b->created_vdir ? b->vdir : NULL};
	for (int i = 0; i < 2; i++) {
		if (!paths[i])
			continue;
		const char *base;
		int pfd = vs_host_parent(ctx, paths[i], &base);
		if (pfd < 0 || vs_rm_rf_at(pfd, base, &failed) < 0)
			vs_warn(ctx, "cannot remove '%s' (at '%s'): %s",
				vs_host_real(ctx, paths[i], real, sizeof(real)),
				pfd < 0 ? "" : failed, strerror(errno));
		if (pfd >= 0)
			close(pfd);
	}
	if (b->created_pkg) {
		const char *base;
		int pfd = vs_host_parent(ctx, b->pkgdir, &base);
		if (pfd < 0 || vs_rm_rf_at(pfd, base, &failed) < 0)
			vs_warn(ctx, "cannot remove '%s': %s",
				vs_host_real(ctx, b->pkgdir, real, sizeof(real)),
				strerror(errno));
		if (pfd >= 0)
			close(pfd);
	}
	move_back(b, b->cfgdir, b->moved_cfg);
	move_back(b, b->vdir, b->moved_vdir);
	if (b->pkgdir)
		move_back(b, b->pkgdir, b->moved_pkg);
}

static void build_free(struct vs_build *b)
{
	free(b->name);
	free(b->dist);
	free(b->rootdir);
	free(b->vdir);
	free(b->cfgdir);
	free(b->cachebase);
	free(b->lockfile);
	free(b->pkgbase);
	free(b->moved_vdir);
	free(b->moved_cfg);
	free(b->pkgdir);
	free(b->moved_pkg);
	for (size_t i = 0; i < b->nenv; i++)
		free(b->env[i]);
	for (size_t i = 0; i < b->nflags; i++)
		free(b->flags[i]);
	if (b->rootfd >= 0)
		close(b->rootfd);
	if (b->cfgfd >= 0)
		close(b->cfgfd);
}

int vs_build_main(struct vs_ctx *ctx, const char *name, int argc, char **argv)
{
	struct vs_build b = {.ctx = ctx, .rootfd = -1, .cfgfd = -1};
	int margc = 0, ndef, r = -1, lockfd = -1;
	char **margv = NULL, **defs = default_options(ctx, &ndef);

	/* argv[0] is the verb; .defaults options go before the CLI ones */
	char **all = vs_xmalloc((size_t)(argc + ndef + 1) * sizeof(*all));
	all[0] = argv[0];
	for (int i = 0; i < ndef; i++)
		all[1 + i] = defs[i];
	for (int i = 1; i < argc; i++)
		all[ndef + i] = argv[i];
	all[argc + ndef] = NULL;

	b.name = vs_strdup(name);
	int p = parse_options(&b, argc + ndef, all, &margc, &margv);
	if (p == 1) {
		vs_build_usage(stdout);
		r = 0;
		goto out;
	}
	if (p < 0)
		goto out;
	if (!b.method) {
		vs_set_error(ctx, "build: no method given (use -m <method>)");
		goto out;
	}
	const struct vs_plugin_entry *refused;
	/* plugin names are C identifiers: method apt-rpm is plugin apt_rpm */
	char stem[64];
	snprintf(stem, sizeof(stem), "%s", b.method);
	for (char *c = stem; *c; c++)
		if (*c == '-')
			*c = '_';
	vs_plugins_load_kind(ctx, VS_KIND_BUILD, stem);
	b.plugin = vs_plugin_find(ctx, VS_KIND_BUILD, stem, &refused);
	if (!b.plugin) {
		if (refused)
			vs_set_error(ctx,
				     "build method '%s' is not available: "
				     "plugin '%s' was refused: %s",
				     b.method, refused->file, refused->refusal);
		else
			vs_set_error(ctx,
				     "unknown build method '%s' (see 'vs "
				     "plugins')",
				     b.method);
		goto out;
	}
	if (setup_paths(&b) < 0)
		goto out;
	/* Concurrent builds: claiming the name and the context happens under
	 * an exclusive flock of the host's root directory: an object that
	 * always exists (the configuration directory may not yet) and needs
	 * no lock file, so a refused build changes nothing on disk. */
	lockfd = vs_host_open(ctx, "/", O_RDONLY | O_DIRECTORY, 0);
	if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
		vs_set_errno(ctx, errno, "cannot lock the configuration");
		goto out;
	}
	if (check_existing(&b) < 0 || check_context(&b) < 0)
		goto out;
	const struct vs_build_ops *ops = b.plugin->ops;
	if (ops->prepare) {
		if (ops->prepare(&b, margc, margv) < 0)
			goto out;
	} else if (margc > 0) {
		vs_set_error(ctx, "build method '%s' takes no options ('%s')",
			     b.method, margv[0]);
		goto out;
	}
	if (b.pkgmgmt && check_pkgdir(&b) < 0)
		goto out;
	/* from here on, the disk changes */
	if (b.force) {
		bool exists;
		if (move_aside(&b, b.cfgdir, &b.moved_cfg) < 0)
			goto fail;
		if (!dir_empty(ctx, b.vdir, &exists) &&
		    move_aside(&b, b.vdir, &b.moved_vdir) < 0)
			goto fail;
		if (b.pkgdir && !dir_empty(ctx, b.pkgdir, &exists) &&
		    move_aside(&b, b.pkgdir, &b.moved_pkg) < 0)
			goto fail;
	}
	if (create_skeleton(&b) < 0)
		goto fail;
	if (lockfd >= 0) {
		close(lockfd); /* the name and context are taken on disk now */
		lockfd = -1;
	}
	if (run_distrib_script(&b, "initpre") < 0 || ops->build(&b) < 0 ||
	    run_distrib_script(&b, "initpost") < 0)
		goto fail;
	if (b.store_next && vs_context_store_next(ctx, b.context_next) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	cleanup(&b);
out:
	if (lockfd >= 0)
		close(lockfd);
	build_free(&b);
	for (int i = 0; i < ndef; i++)
		free(defs[i]);
	free(defs);
	free(all);
	return r;
}

/* ---- accessors for build plugins -------------------------------------- */

struct vs_ctx *vs_build_ctx(struct vs_build *b)
{
	return b->ctx;
}

const char *vs_build_name(const struct vs_build *b)
{
	return b->name;
}

const char *vs_build_cfgdir(const struct vs_build *b)
{
	return b->cfgdir;
}

const char *vs_build_root(const struct vs_build *b)
{
	return b->vdir;
}

int vs_build_rootfd(const struct vs_build *b)
{
	return b->rootfd;
}

const char *vs_build_dist(const struct vs_build *b)
{
	return b->dist;
}

void vs_build_set_dist(struct vs_build *b, const char *dist)
{
	free(b->dist);
	b->dist = dist ? vs_strdup(dist) : NULL;
}

void vs_build_set_data(struct vs_build *b, void *data)
{
	b->data = data;
}

void *vs_build_data(const struct vs_build *b)
{
	return b->data;
}

void vs_build_want_pkgmgmt(struct vs_build *b)
{
	b->pkgmgmt = true;
}

const char *vs_build_pkgdir(const struct vs_build *b)
{
	return b->pkgdir;
}

int vs_build_setenv(struct vs_build *b, const char *name, const char *value)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < b->nenv; i++)
		if (!strncmp(b->env[i], name, len) && b->env[i][len] == '=') {
			free(b->env[i]);
			b->env[i] = vs_asprintf("%s=%s", name, value);
			return 0;
		}
	if (b->nenv == VS_BUILD_MAX_ENV)
		return vs_set_error(b->ctx, "build: too many variables");
	b->env[b->nenv++] = vs_asprintf("%s=%s", name, value);
	return 0;
}

int vs_build_dist_find(struct vs_build *b, const char *rel, char *buf,
		       size_t size)
{
	char path[PATH_MAX];
	struct stat st;
	if (!b->dist)
		return 0;
	snprintf(path, sizeof(path), "%s/.distributions/%s%s%s",
		 b->ctx->paths[VS_PATH_CONFDIR], b->dist, *rel ? "/" : "",
		 rel);
	if (vs_host_exists(b->ctx, path) == 1) {
		vs_host_real(b->ctx, path, buf, size);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s%s%s", b->ctx->distribdir, b->dist,
		 *rel ? "/" : "", rel);
	if (stat(path, &st) == 0) {
		snprintf(buf, size, "%s", path);
		return 1;
	}
	return 0;
}

static bool valid_dist(const char *d)
{
	if (!*d || d[0] == '.' || strlen(d) > 64)
		return false;
	for (; *d; d++)
		if (*d == '/' || *d <= ' ' || *d == 0x7f)
			return false;
	return true;
}

int vs_build_dist_require(struct vs_build *b, const char *method)
{
	char path[PATH_MAX];
	if (!b->dist)
		return vs_set_error(b->ctx, "%s: no distribution given (-d "
					    "<dist>)",
				    method);
	if (!valid_dist(b->dist))
		return vs_set_error(b->ctx, "%s: invalid distribution '%s'",
				    method, b->dist);
	if (!vs_build_dist_find(b, "", path, sizeof(path)))
		return vs_set_error(b->ctx,
				    "%s: unknown distribution '%s' (neither "
				    "'%s/.distributions/%s' nor '%s/%s' exists)",
				    method, b->dist,
				    vs_host_real(b->ctx,
						 b->ctx->paths[VS_PATH_CONFDIR],
						 path, sizeof(path)),
				    b->dist, b->ctx->distribdir, b->dist);
	return 0;
}

static int build_run(struct vs_build *b, char *const argv[], bool newns);

int vs_build_run(struct vs_build *b, char *const argv[])
{
	return build_run(b, argv, false);
}

int vs_build_run_private(struct vs_build *b, char *const argv[])
{
	return build_run(b, argv, true);
}

static int build_run(struct vs_build *b, char *const argv[], bool newns)
{
	char vdir[PATH_MAX], cfg[PATH_MAX];
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **env = vs_xmalloc((n + 5 + b->nenv) * sizeof(*env));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool mine = false;
		for (size_t j = 0; j < b->nenv && !mine; j++) {
			size_t len = strcspn(b->env[j], "=") + 1;
			mine = !strncmp(environ[i], b->env[j], len);
		}
		if (!mine && strncmp(environ[i], "VSERVER_NAME=", 13) &&
		    strncmp(environ[i], "VDIR=", 5) &&
		    strncmp(environ[i], "CONFDIR=", 8))
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < b->nenv; j++)
		env[k++] = b->env[j];
	char *e1 = vs_asprintf("VSERVER_NAME=%s", b->name);
	char *e2 = vs_asprintf("VDIR=%s",
			       vs_host_real(b->ctx, b->vdir, vdir, sizeof(vdir)));
	char *e3 = vs_asprintf("CONFDIR=%s", vs_host_real(b->ctx, b->cfgdir,
							  cfg, sizeof(cfg)));
	env[k++] = e1;
	env[k++] = e2;
	env[k++] = e3;
	env[k] = NULL;
	int st = newns ? vs_spawn_newns(argv, env, vdir) : vs_spawn(argv, env, vdir);
	if (st < 0)
		vs_set_errno(b->ctx, errno, "cannot run '%s'", argv[0]);
	free(e1);
	free(e2);
	free(e3);
	free(env);
	return st;
}

int vs_build_clear_dev(struct vs_build *b)
{
	const char *failed;
	if (vs_rm_rf_at(b->rootfd, "dev", &failed) < 0)
		return vs_set_errno(b->ctx, errno, "cannot clear '%s/dev' (at '%s')",
				    b->vdir, failed);
	return 0;
}

int vs_build_reset_dev(struct vs_build *b)
{
	if (vs_build_clear_dev(b) < 0)
		return -1;
	return populate_dev(b);
}

int vs_build_conf_line(struct vs_build *b, const char *rel, bool shipped,
		       char *buf, size_t size)
{
	char path[PATH_MAX];
	char *s;
	if (shipped) {
		snprintf(path, sizeof(path), "%s/%s",
			 vs_pkgdefaultsdir(b->ctx), rel);
		int fd = open_source(b, path, false);
		s = fd >= 0 ? vs_read_fd(fd, 65536, NULL) : NULL;
		if (fd >= 0)
			close(fd);
	} else {
		snprintf(path, sizeof(path), "%s/%s",
			 b->ctx->paths[VS_PATH_CONFDIR], rel);
		s = vs_host_read(b->ctx, path, 65536, NULL);
	}
	if (!s)
		return 0;
	vs_first_line(s);
	snprintf(buf, size, "%s", s);
	int found = s[0] != '\0';
	free(s);
	return found;
}
