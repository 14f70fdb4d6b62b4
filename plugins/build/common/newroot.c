/* The skeleton every build method starts from: the configuration
 * directory, the new root with /dev and /etc, the package-management
 * directory; and removing what a failed build made. */
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

/* ---- the skeleton ----------------------------------------------------- */

/* A source file: host view (in the sysroot) or real (installed data). */
int open_source(struct vs_build *b, const char *path, bool host)
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
			    makedev(maj, min)) < 0) {
			/* vs in a user namespace (a systemd guest's): no
			 * node; every start makes the guest's /dev anew */
			if (errno != EPERM)
				goto err;
			if (!b->nodes_refused++)
				vs_warn(b->ctx, "no device nodes in '%s/dev': "
						"mknod is refused here; each start "
						"gives the guest a /dev of its own",
					b->vdir);
			return 0;
		}
		if (fchmodat(devfd, name, mode, AT_SYMLINK_NOFOLLOW) < 0)
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

int populate_dev(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char h1[PATH_MAX] = "", r1[PATH_MAX] = "", r2[PATH_MAX], shown[PATH_MAX];
	if (b->dist) {
		snprintf(h1, sizeof(h1), "%s/.distributions/%s/devs",
			 vs_path(ctx, VS_PATH_CONFDIR), b->dist);
		snprintf(r1, sizeof(r1), "%s/%s/devs", vs_distribdir(ctx),
			 b->dist);
	}
	snprintf(r2, sizeof(r2), "%s/defaults/devs", vs_distribdir(ctx));
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
	/* its mode, writable by the guest's root (a read-only source, as a
	 * dist tarball's tree under make distcheck, gives 0444) */
	if (vs_copy_fd_at(srcfd, etcfd, name, (sst.st_mode & 07777) | 0200) < 0)
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
	const char *confdir = vs_path(ctx, VS_PATH_CONFDIR);
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
		snprintf(r1, sizeof(r1), "%s/%s/files/%s", vs_distribdir(ctx), d,
			 *n);
		snprintf(r2, sizeof(r2), "%s/defaults/files/%s",
			 vs_distribdir(ctx), *n);
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
	if (build_write_cfg(b, "name", b->name) < 0)
		return -1;
	if (b->have_context) {
		snprintf(num, sizeof(num), "%u", b->context);
		if (build_write_cfg(b, "context", num) < 0)
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
	if (b->cpusetvirt && build_write_cfg(b, "cpuset/virtualized", "1") < 0)
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
		 vs_path(b->ctx, VS_PATH_CONFDIR));
	snprintf(rr, sizeof(rr), "%s/fstab", vs_pkgdefaultsdir(b->ctx));
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
	remember_parent(b, path);
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

int run_distrib_script(struct vs_build *b, const char *which)
{
	char h[PATH_MAX], r1[PATH_MAX], real[PATH_MAX];
	if (!b->dist)
		return 0;
	snprintf(h, sizeof(h), "%s/.distributions/%s/%s",
		 vs_path(b->ctx, VS_PATH_CONFDIR), b->dist, which);
	snprintf(r1, sizeof(r1), "%s/%s/%s", vs_distribdir(b->ctx), b->dist,
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
	int st = build_run(b, argv);
	if (st < 0)
		return -1;
	if (st != 0)
		return vs_set_error(b->ctx, "'%s' failed with status %d",
				    script, st);
	return 0;
}

int create_skeleton(struct vs_build *b)
{
	struct vs_ctx *ctx = b->ctx;
	char real[PATH_MAX];
	bool vdir_exists;

	dir_empty(ctx, b->vdir, &vdir_exists);
	if (!vdir_exists) {
		if (strcmp(b->rootdir, vs_path(ctx, VS_PATH_VROOTDIR)) == 0 &&
		    vs_host_mkdir_p(ctx, b->rootdir, 0755) < 0)
			return fail_path(b, "create", b->rootdir);
		const char *base;
		remember_parent(b, b->vdir);
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

void cleanup(struct vs_build *b)
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
	restore_parents(b); /* as they were: the build left no trace */
}
