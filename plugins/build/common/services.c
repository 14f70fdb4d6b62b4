/* The services of a build in progress (the vs_build_* functions of
 * core.h forward here): accessors, the distribution, tools run with the
 * build's environment, small writers. */
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

/* ---- small writers ---------------------------------------------------- */

int fail_path(struct vs_build *b, const char *what, const char *path)
{
	char real[PATH_MAX];
	return vs_set_errno(b->ctx, errno, "cannot %s '%s'", what,
			    vs_host_real(b->ctx, path, real, sizeof(real)));
}

void remember_parent(struct vs_build *b, const char *path)
{
	const char *base;
	size_t n = (size_t)(strrchr(path, '/') - path);
	for (size_t i = 0; i < b->nparents; i++)
		if (strlen(b->parents[i].path) == n &&
		    !strncmp(b->parents[i].path, path, n))
			return;
	if (b->nparents == sizeof(b->parents) / sizeof(*b->parents))
		return;
	int pfd = vs_host_parent(b->ctx, path, &base);
	struct stat st;
	if (pfd < 0 || fstat(pfd, &st) < 0) {
		if (pfd >= 0)
			close(pfd);
		return;
	}
	close(pfd);
	b->parents[b->nparents].path = vs_asprintf("%.*s", (int)n, path);
	b->parents[b->nparents].times[0] = st.st_atim;
	b->parents[b->nparents].times[1] = st.st_mtim;
	b->nparents++;
}

void restore_parents(struct vs_build *b)
{
	for (size_t i = 0; i < b->nparents; i++) {
		int fd = vs_host_open(b->ctx,
				      *b->parents[i].path ? b->parents[i].path
							  : "/",
				      O_RDONLY | O_DIRECTORY, 0);
		if (fd >= 0) {
			futimens(fd, b->parents[i].times);
			close(fd);
		}
	}
}

int build_write_cfg(struct vs_build *b, const char *rel, const char *value)
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

int write_opt(struct vs_build *b, const char *rel, const char *value)
{
	return value && *value ? build_write_cfg(b, rel, value) : 0;
}

/* ---- the services of a build (vs_build_* in core.h) ------------------- */

static struct vs_ctx *build_ctx(struct vs_build *b)
{
	return b->ctx;
}

static const char *build_name(const struct vs_build *b)
{
	return b->name;
}

static const char *build_cfgdir(const struct vs_build *b)
{
	return b->cfgdir;
}

static const char *build_root(const struct vs_build *b)
{
	return b->vdir;
}

static int build_rootfd(const struct vs_build *b)
{
	return b->rootfd;
}

static const char *build_dist(const struct vs_build *b)
{
	return b->dist;
}

static void build_set_dist(struct vs_build *b, const char *dist)
{
	free(b->dist);
	b->dist = dist ? vs_strdup(dist) : NULL;
}

static void build_set_data(struct vs_build *b, void *data)
{
	b->data = data;
}

static void *build_data(const struct vs_build *b)
{
	return b->data;
}

static void build_want_pkgmgmt(struct vs_build *b)
{
	b->pkgmgmt = true;
}

static const char *build_pkgdir(const struct vs_build *b)
{
	return b->pkgdir;
}

static int build_setenv(struct vs_build *b, const char *name, const char *value)
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

static int build_dist_find(struct vs_build *b, const char *rel, char *buf,
		       size_t size)
{
	char path[PATH_MAX];
	struct stat st;
	if (!b->dist)
		return 0;
	snprintf(path, sizeof(path), "%s/.distributions/%s%s%s",
		 vs_path(b->ctx, VS_PATH_CONFDIR), b->dist, *rel ? "/" : "",
		 rel);
	if (vs_host_exists(b->ctx, path) == 1) {
		vs_host_real(b->ctx, path, buf, size);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s%s%s", vs_distribdir(b->ctx), b->dist,
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

static int build_dist_require(struct vs_build *b, const char *method)
{
	char path[PATH_MAX];
	if (!b->dist)
		return vs_set_error(b->ctx, "%s: no distribution given (-d "
					    "<dist>)",
				    method);
	if (!valid_dist(b->dist))
		return vs_set_error(b->ctx, "%s: invalid distribution '%s'",
				    method, b->dist);
	if (!build_dist_find(b, "", path, sizeof(path)))
		return vs_set_error(b->ctx,
				    "%s: unknown distribution '%s' (neither "
				    "'%s/.distributions/%s' nor '%s/%s' exists)",
				    method, b->dist,
				    vs_host_real(b->ctx,
						 vs_path(b->ctx, VS_PATH_CONFDIR),
						 path, sizeof(path)),
				    b->dist, vs_distribdir(b->ctx), b->dist);
	return 0;
}

static int run_tool(struct vs_build *b, char *const argv[], bool newns);

int build_run(struct vs_build *b, char *const argv[])
{
	return run_tool(b, argv, false);
}

static int build_run_private(struct vs_build *b, char *const argv[])
{
	return run_tool(b, argv, true);
}

static int run_tool(struct vs_build *b, char *const argv[], bool newns)
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

static int build_clear_dev(struct vs_build *b)
{
	const char *failed;
	if (vs_rm_rf_at(b->rootfd, "dev", &failed) < 0)
		return vs_set_errno(b->ctx, errno, "cannot clear '%s/dev' (at '%s')",
				    b->vdir, failed);
	return 0;
}

static int build_reset_dev(struct vs_build *b)
{
	if (build_clear_dev(b) < 0)
		return -1;
	return populate_dev(b);
}

static int build_conf_line(struct vs_build *b, const char *rel, bool shipped,
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
			 vs_path(b->ctx, VS_PATH_CONFDIR), rel);
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

const struct vs_build_services services = {
	.ctx = build_ctx,
	.name = build_name,
	.cfgdir = build_cfgdir,
	.root = build_root,
	.rootfd = build_rootfd,
	.dist = build_dist,
	.set_dist = build_set_dist,
	.want_pkgmgmt = build_want_pkgmgmt,
	.reset_dev = build_reset_dev,
	.clear_dev = build_clear_dev,
	.pkgdir = build_pkgdir,
	.setenv = build_setenv,
	.dist_find = build_dist_find,
	.dist_require = build_dist_require,
	.set_data = build_set_data,
	.data = build_data,
	.write_cfg = build_write_cfg,
	.run = build_run,
	.run_private = build_run_private,
	.conf_line = build_conf_line,
};
