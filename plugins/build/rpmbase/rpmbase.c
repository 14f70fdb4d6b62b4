/* Shared by the rpm-based build methods: see rpmbase.h. */
#define _GNU_SOURCE
#include "rpmbase.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RPMBASE_MAX_KEYS 64
#define RPMBASE_MAX_FILE (1 << 20)

char *rpmbase_path(struct vs_build *b, const char *rel, char *buf,
		   size_t size)
{
	char host[PATH_MAX];
	snprintf(host, sizeof(host), "%s/%s", vs_build_pkgdir(b), rel);
	return vs_host_real(vs_build_ctx(b), host, buf, size);
}

static int pkgdir_fd(struct vs_build *b)
{
	int fd = vs_host_open(vs_build_ctx(b), vs_build_pkgdir(b),
			      O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0)
		vs_set_errno(vs_build_ctx(b), errno, "cannot open '%s'",
			     vs_build_pkgdir(b));
	return fd;
}

/* mkdir -p of rel below dirfd, never following a symlink. */
static int mkdirs_at(int dirfd, const char *rel)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", rel);
	for (char *p = path;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdirat(dirfd, path, 0755) < 0 && errno != EEXIST)
				return -1;
			struct stat st;
			if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
				return -1;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
			if (!c)
				return 0;
			*p = c;
		}
	}
}

int rpmbase_mkdir(struct vs_build *b, const char *rel)
{
	int fd = pkgdir_fd(b);
	if (fd < 0)
		return -1;
	int r = mkdirs_at(fd, rel);
	int e = errno;
	close(fd);
	if (r < 0) {
		char real[PATH_MAX];
		return vs_set_errno(vs_build_ctx(b), e, "cannot create '%s'",
				    rpmbase_path(b, rel, real, sizeof(real)));
	}
	return 0;
}

/* Writes len bytes to <pkgdir>/<rel>. */
static int write_file(struct vs_build *b, const char *rel, const char *data,
		      size_t len)
{
	char real[PATH_MAX];
	int dfd = pkgdir_fd(b);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, rel,
			O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0644);
	int e = errno;
	close(dfd);
	ssize_t w = 0;
	size_t done = 0;
	while (fd >= 0 && done < len && (w = write(fd, data + done,
						   len - done)) > 0)
		done += (size_t)w;
	if (fd >= 0) {
		e = errno;
		if (close(fd) < 0 && done == len) {
			e = errno;
			done = 0;
		}
	}
	if (fd < 0 || done < len)
		return vs_set_errno(vs_build_ctx(b), e ? e : EIO,
				    "cannot write '%s'",
				    rpmbase_path(b, rel, real, sizeof(real)));
	return 0;
}

int rpmbase_write(struct vs_build *b, const char *rel, const char *text)
{
	return write_file(b, rel, text, strlen(text));
}

/* Reads a real file: a malloc'd buffer and its length, or NULL. */
static char *read_real(struct vs_build *b, const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < RPMBASE_MAX_FILE) {
		buf = malloc((size_t)st.st_size + 1);
		ssize_t r = 0;
		size_t n = 0;
		while (buf && n < (size_t)st.st_size &&
		       (r = read(fd, buf + n, (size_t)st.st_size - n)) > 0)
			n += (size_t)r;
		if (buf && r < 0) {
			free(buf);
			buf = NULL;
		} else if (buf) {
			buf[n] = '\0';
			*len = n;
		}
	} else if (fd >= 0) {
		errno = EFBIG;
		if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
			errno = EINVAL;
	}
	int e = errno;
	if (fd >= 0)
		close(fd);
	if (!buf)
		vs_set_errno(vs_build_ctx(b), e, "cannot read '%s'", path);
	return buf;
}

char *rpmbase_read(struct vs_build *b, const char *path)
{
	size_t len;
	return read_real(b, path, &len);
}

static int not_hidden(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int rpmbase_copy_dir(struct vs_build *b, const char *src, const char *rel)
{
	struct dirent **names;
	int n = scandir(src, &names, not_hidden, alphasort);
	if (n < 0)
		return vs_set_errno(vs_build_ctx(b), errno, "cannot read '%s'",
				    src);
	int copied = 0;
	for (int i = 0; i < n; i++) {
		char from[PATH_MAX], to[PATH_MAX];
		struct stat st;
		snprintf(from, sizeof(from), "%s/%s", src, names[i]->d_name);
		snprintf(to, sizeof(to), "%s/%s", rel, names[i]->d_name);
		if (copied >= 0 && stat(from, &st) == 0 && S_ISREG(st.st_mode)) {
			size_t len;
			char *data = read_real(b, from, &len);
			if (!data || write_file(b, to, data, len) < 0)
				copied = -1;
			else
				copied++;
			free(data);
		}
		free(names[i]);
	}
	free(names);
	return copied;
}

const char *rpmbase_debian_option(void)
{
	static int known = -1;
	if (known < 0) {
		known = 0;
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
			}
			execlp("rpm", "rpm", "--force-debian", "--version",
			       (char *)NULL);
			_exit(127);
		}
		int st;
		if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			known = 1;
	}
	return known ? "--force-debian" : NULL;
}

int rpmbase_populate(struct vs_build *b, const char *sub, const char *rel)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	const char *dist = vs_build_dist(b);
	char dir[PATH_MAX], host[PATH_MAX];
	struct stat st;
	snprintf(dir, sizeof(dir), "%s/defaults/%s", vs_distribdir(ctx), sub);
	if (stat(dir, &st) == 0 && rpmbase_copy_dir(b, dir, rel) < 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s/%s", vs_distribdir(ctx), dist, sub);
	if (stat(dir, &st) == 0 && rpmbase_copy_dir(b, dir, rel) < 0)
		return -1;
	snprintf(host, sizeof(host), "%s/.distributions/%s/%s",
		 vs_path(ctx, VS_PATH_CONFDIR), dist, sub);
	if (vs_host_stat(ctx, host, &st) == 0 &&
	    rpmbase_copy_dir(b, vs_host_real(ctx, host, dir, sizeof(dir)),
			     rel) < 0)
		return -1;
	return 0;
}

int rpmbase_run(struct vs_build *b, const char *method, struct pkgcmd *c,
		const char *verb, bool can_fail)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	if (c->overflow)
		return vs_set_error(ctx, "%s: too many arguments for '%s %s'",
				    method, c->argv[0], verb);
	int st = vs_build_run(b, (char *const *)c->argv);
	if (st < 0)
		return -1;
	if (st == 0)
		return 0;
	if (can_fail) {
		vs_warn(ctx, "%s: '%s %s' failed with status %d (--can-fail)",
			method, c->argv[0], verb, st);
		return 0;
	}
	return vs_set_error(ctx, "%s: '%s %s' failed with status %d", method,
			    c->argv[0], verb, st);
}

/* Adds the regular files of a real directory to keys[]. */
static void add_keys(const char *dir, char **keys, int *n)
{
	struct dirent **names;
	int m = scandir(dir, &names, not_hidden, alphasort);
	for (int i = 0; i < m; i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (*n < RPMBASE_MAX_KEYS && stat(path, &st) == 0 &&
		    S_ISREG(st.st_mode))
			keys[(*n)++] = strdup(path);
		free(names[i]);
	}
	if (m >= 0)
		free(names);
}

static int import_keys(struct vs_build *b, const char *method,
		       const char *root)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char *keys[RPMBASE_MAX_KEYS];
	char dir[PATH_MAX], host[PATH_MAX];
	int n = 0, r = 0;
	snprintf(host, sizeof(host), "%s/.distributions/%s/pubkeys",
		 vs_path(ctx, VS_PATH_CONFDIR), vs_build_dist(b));
	add_keys(vs_host_real(ctx, host, dir, sizeof(dir)), keys, &n);
	snprintf(host, sizeof(host), "%s/.distributions/.common/pubkeys",
		 vs_path(ctx, VS_PATH_CONFDIR));
	add_keys(vs_host_real(ctx, host, dir, sizeof(dir)), keys, &n);
	snprintf(dir, sizeof(dir), "%s/%s/pubkeys", vs_distribdir(ctx),
		 vs_build_dist(b));
	add_keys(dir, keys, &n);
	if (n > 0) {
		struct pkgcmd c;
		pkgcmd_init(&c);
		pkgcmd_rpm(&c, "rpm", root);
		pkgcmd_add(&c, "--import");
		for (int i = 0; i < n; i++)
			pkgcmd_add(&c, keys[i]);
		r = rpmbase_run(b, method, &c, "--import", false);
	}
	for (int i = 0; i < n; i++)
		free(keys[i]);
	return r;
}

int rpmbase_init(struct vs_build *b, const char *method)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char home[PATH_MAX], root[PATH_MAX];
	if (rpmbase_mkdir(b, "rpm") < 0 ||
	    rpmbase_write(b, "rpm/.rpmmacros",
			  "# generated by vs: the guest's own database\n"
			  "%_dbpath /var/lib/rpm\n") < 0 ||
	    vs_build_setenv(b, "HOME", rpmbase_path(b, "rpm", home,
						     sizeof(home))) < 0)
		return -1;
	if (mkdirs_at(vs_build_rootfd(b), "var/lib/rpm") < 0)
		return vs_set_errno(ctx, errno, "cannot create '%s/var/lib/rpm'",
				    vs_build_root(b));
	vs_host_real(ctx, vs_build_root(b), root, sizeof(root));
	struct pkgcmd c;
	pkgcmd_init(&c);
	pkgcmd_rpm(&c, "rpm", root);
	pkgcmd_add(&c, "--initdb");
	if (rpmbase_run(b, method, &c, "--initdb", false) < 0)
		return -1;
	return import_keys(b, method, root);
}

int rpmbase_pkglists(struct vs_build *b, const char *method,
		     struct rpmbase_lists *out)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char dir[PATH_MAX];
	memset(out, 0, sizeof(*out));
	if (!vs_build_dist_find(b, "pkgs", dir, sizeof(dir)))
		return 0;
	struct dirent **names;
	int m = scandir(dir, &names, not_hidden, alphasort);
	if (m < 0)
		return vs_set_errno(ctx, errno, "%s: cannot read '%s'", method,
				    dir);
	out->list = calloc((size_t)m + 1, sizeof(*out->list));
	out->text = calloc((size_t)m + 1, sizeof(*out->text));
	int r = out->list && out->text ? 0 : vs_set_errno(ctx, ENOMEM, "%s",
							 method);
	for (int i = 0; i < m; i++) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (r == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			char *t = rpmbase_read(b, path);
			if (!t) {
				r = -1;
			} else {
				out->text[out->n] = t;
				if (pkglist_parse(t, &out->list[out->n++]) < 0)
					r = vs_set_error(ctx,
							 "%s: too many packages "
							 "in '%s'",
							 method, path);
			}
		}
		free(names[i]);
	}
	free(names);
	if (r < 0)
		rpmbase_pkglists_free(out);
	return r;
}

void rpmbase_pkglists_free(struct rpmbase_lists *l)
{
	for (int i = 0; l->text && i < l->n; i++)
		free(l->text[i]);
	free(l->text);
	free(l->list);
	memset(l, 0, sizeof(*l));
}
