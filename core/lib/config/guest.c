/* Guests: name rules, lookup (COMPAT §1.1), listing, config precedence. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

static const char *const backup_suffixes[] = {
	"~", ".rpmsave", ".rpmnew", ".rpmorig", ".dpkg-old", ".dpkg-new",
	".dpkg-dist", NULL,
};

static bool has_backup_suffix(const char *name)
{
	size_t n = strlen(name);
	for (const char *const *s = backup_suffixes; *s; s++) {
		size_t k = strlen(*s);
		if (n >= k && strcmp(name + n - k, *s) == 0)
			return true;
	}
	return strstr(name, ".cfsaved") != NULL;
}

int vs_guest_name_check(struct vs_ctx *ctx, const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return vs_set_error(ctx, "invalid guest name '': empty");
	if (n > VS_NAME_MAX)
		return vs_set_error(ctx,
				    "invalid guest name '%.20s...': longer "
				    "than %d characters",
				    name, VS_NAME_MAX);
	for (const char *c = name; *c; c++) {
		unsigned char u = (unsigned char)*c;
		if (u <= 0x20 || u >= 0x7f)
			return vs_set_error(ctx,
					    "invalid guest name '%s': only "
					    "printable characters without "
					    "spaces are allowed",
					    name);
		if (u == '/')
			return vs_set_error(ctx,
					    "invalid guest name '%s': contains "
					    "'/'",
					    name);
	}
	if (name[0] == '.')
		return vs_set_error(ctx,
				    "invalid guest name '%s': starts with '.'",
				    name);
	if (name[0] == '-')
		return vs_set_error(ctx,
				    "invalid guest name '%s': starts with '-'",
				    name);
	if (has_backup_suffix(name))
		return vs_set_error(ctx,
				    "invalid guest name '%s': looks like a "
				    "backup file",
				    name);
	return 0;
}

static int read_context(struct vs_guest *g)
{
	char path[PATH_MAX], *s;
	size_t len;
	snprintf(path, sizeof(path), "%s/context", g->cfgdir);
	s = vs_host_read(g->ctx, path, 50, &len);
	if (!s)
		return errno == ENOENT ? 0 : -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	bool ok = end != s && (*end == '\0' || strcmp(end, "\n") == 0) &&
		  s[0] >= '0' && s[0] <= '9' && !errno && v <= 0xffffffffUL;
	free(s);
	if (!ok) {
		errno = EINVAL;
		return -1;
	}
	g->context = (unsigned)v;
	return 0;
}

/* Turns a user-given relative path into a host-view path. */
static char *host_view_of(struct vs_ctx *ctx, const char *arg)
{
	char *real = realpath(arg, NULL);
	if (!real)
		return NULL;
	if (strcmp(ctx->sysroot, "/") == 0)
		return real;
	size_t rl = strlen(ctx->sysroot);
	char *view = NULL;
	if (strncmp(real, ctx->sysroot, rl) == 0 &&
	    (real[rl] == '/' || real[rl] == '\0'))
		view = vs_strdup(real[rl] ? real + rl : "/");
	else
		errno = EXDEV;
	free(real);
	return view;
}

struct vs_guest *vs_guest_open(struct vs_ctx *ctx, const char *arg)
{
	char buf[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *cfgdir;
	bool is_path = arg[0] == '/' || strncmp(arg, "./", 2) == 0 ||
		       strncmp(arg, "../", 3) == 0;

	if (is_path) {
		if (arg[0] == '/')
			cfgdir = vs_strdup(arg);
		else if (!(cfgdir = host_view_of(ctx, arg))) {
			vs_set_errno(ctx, errno,
				     "cannot find guest configuration '%s'",
				     arg);
			return NULL;
		}
	} else {
		size_t n = strlen(arg);
		while (n > 1 && arg[n - 1] == '/')
			n--;
		snprintf(buf, sizeof(buf), "%.*s", (int)n, arg);
		if (vs_guest_name_check(ctx, buf) < 0)
			return NULL;
		cfgdir = vs_path_join(ctx->paths[VS_PATH_CONFDIR], buf);
	}
	for (size_t n = strlen(cfgdir); n > 1 && cfgdir[n - 1] == '/'; n--)
		cfgdir[n - 1] = '\0';

	snprintf(buf, sizeof(buf), "%s/vdir", cfgdir);
	/* vdir: a directory or a symlink (possibly dangling, so that a
	 * guest whose root is gone can still be listed and deleted) */
	bool ok = vs_host_lstat(ctx, buf, &st) == 0 &&
		  (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode));
	if (!ok) {
		vs_set_error(ctx, "no guest '%s' (no configuration at '%s')",
			     arg, vs_host_real(ctx, cfgdir, real, sizeof(real)));
		free(cfgdir);
		return NULL;
	}
	struct vs_guest *g = calloc(1, sizeof(*g));
	if (!g)
		abort();
	g->ctx = ctx;
	g->cfgdir = cfgdir;
	g->name = vs_strdup(vs_basename(cfgdir));
	g->root = vs_host_canon(ctx, buf);
	if (g->root && !vs_host_isdir(ctx, g->root)) {
		free(g->root);
		g->root = NULL;
	}
	if (read_context(g) < 0) {
		vs_set_errno(ctx, errno, "cannot read '%s/context'",
			     vs_host_real(ctx, cfgdir, real, sizeof(real)));
		vs_guest_free(g);
		return NULL;
	}
	return g;
}

void vs_guest_free(struct vs_guest *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->cfgdir);
	free(g->root);
	free(g);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vs_guest_list(struct vs_ctx *ctx)
{
	size_t n = 0, cap = 16;
	char **v = vs_xmalloc(cap * sizeof(*v));
	int fd = vs_host_open(ctx, ctx->paths[VS_PATH_CONFDIR],
			      O_RDONLY | O_DIRECTORY, 0);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		char vdir[NAME_MAX + 8];
		if (e->d_name[0] == '.' || has_backup_suffix(e->d_name))
			continue;
		snprintf(vdir, sizeof(vdir), "%s/vdir", e->d_name);
		if (fstatat(dirfd(d), vdir, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)))
			continue;
		if (n + 2 > cap)
			v = vs_xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = vs_strdup(e->d_name);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	qsort(v, n, sizeof(*v), cmp_str);
	v[n] = NULL;
	return v;
}

const char *vs_guest_name(const struct vs_guest *g)
{
	return g->name;
}

const char *vs_guest_cfgdir(const struct vs_guest *g)
{
	return g->cfgdir;
}

const char *vs_guest_root(const struct vs_guest *g)
{
	return g->root;
}

unsigned vs_guest_context(const struct vs_guest *g)
{
	return g->context;
}


struct vs_guest *vs_guest_get(struct vs_ctx *ctx, const char *arg)
{
	if (arg[0] != '/')
		return vs_guest_open(ctx, arg);
	char *canon = vs_host_canon(ctx, arg);
	if (!canon) {
		char real[PATH_MAX];
		vs_set_errno(ctx, errno, "cannot use the guest configuration '%s'",
			     vs_host_real(ctx, arg, real, sizeof(real)));
		return NULL;
	}
	struct vs_guest *g = vs_guest_open(ctx, canon);
	free(canon);
	return g;
}

void vs_guest_put(struct vs_guest *g)
{
	vs_guest_free(g);
}

/* Is one of a and b (canonical paths) the other, or inside it? */
static bool nested(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;
	return strncmp(a, b, n) == 0 &&
	       (na == nb || (na < nb ? b[n] : a[n]) == '/');
}

char *vs_guest_dir_canon(struct vs_guest *g, const char *what)
{
	char path[PATH_MAX], target[PATH_MAX];
	if (!strcmp(what, "root"))
		return g->root ? vs_host_canon(g->ctx, g->root) : NULL;
	snprintf(path, sizeof(path), "%s/%s", g->cfgdir,
		 strcmp(what, "package directory") == 0 ? "apps/pkgmgmt/base"
							: what);
	ssize_t n = vs_host_readlink(g->ctx, path, target, sizeof(target));
	if (n <= 0 || target[0] != '/')
		return NULL;
	return vs_host_canon(g->ctx, target);
}

const char *const vs_guest_dir_kinds[] = {"root", "cache", "run",
					  "package directory", NULL};

char *vs_guest_dir_owner(struct vs_ctx *ctx, const char *canon,
			 const char *self, const char **what)
{
	char **names = vs_guest_list(ctx);
	char *owner = NULL;
	for (char **n = names; n && *n && !owner; n++) {
		if (self && !strcmp(*n, self))
			continue;
		struct vs_guest *o = vs_guest_open(ctx, *n);
		for (const char *const *k = vs_guest_dir_kinds; o && *k && !owner;
		     k++) {
			char *c = vs_guest_dir_canon(o, *k);
			if (c && nested(c, canon)) {
				owner = vs_strdup(*n);
				*what = *k;
			}
			free(c);
		}
		vs_guest_free(o);
	}
	vs_strv_free(names);
	vs_clear_error(ctx);
	return owner;
}
