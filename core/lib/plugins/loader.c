/* The plugin loader: validates files and descriptors, loads with libltdl.
 *
 * A module is opened through an O_NOFOLLOW fd whose fstat was checked (no
 * window to swap the file), bound immediately with dlopen(RTLD_NOW |
 * RTLD_LOCAL) so that an unresolved symbol is refused at load, then handed
 * to libltdl (same object, resident) for the descriptor look-up.  Nothing
 * is ever unloaded. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/plugins.h"

const char *vs_kind_name(unsigned kind)
{
	switch (kind) {
	case VS_KIND_BUILD:
		return "build";
	case VS_KIND_UNIFY:
		return "unify";
	case VS_KIND_HOOK:
		return "hook";
	case VS_KIND_VERB:
		return "verb";
	}
	return "unknown";
}

static bool valid_ident(const char *s, bool dash)
{
	if (!s || !(*s >= 'a' && *s <= 'z'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || (dash && *s == '-')))
			return false;
	return true;
}

static const unsigned char core_signature[VS_SIG_LEN] =
	VS_PLUGIN_SIGNATURE_INIT;

const char *vs_plugin_check(const struct vs_plugin *d, const char *stem,
			    char *buf, size_t size)
{
	if (d->magic != VS_PLUGIN_MAGIC) {
		snprintf(buf, size, "bad magic 0x%08x (expected 0x%08x)",
			 d->magic, VS_PLUGIN_MAGIC);
		return buf;
	}
	if (d->abi_major != VS_ABI_MAJOR) {
		snprintf(buf, size,
			 "built for ABI %u.%u, the core has %u.%u (major "
			 "differs)",
			 d->abi_major, d->abi_minor, VS_ABI_MAJOR,
			 VS_ABI_MINOR);
		return buf;
	}
	if (d->abi_minor > VS_ABI_MINOR) {
		snprintf(buf, size,
			 "built for ABI %u.%u, newer than the core's %u.%u",
			 d->abi_major, d->abi_minor, VS_ABI_MAJOR,
			 VS_ABI_MINOR);
		return buf;
	}
	if (memcmp(d->signature, core_signature, VS_SIG_LEN) != 0) {
		snprintf(buf, size,
			 "layout signature differs from the core's (built for "
			 "another architecture or ABI)");
		return buf;
	}
	if (d->kind < VS_KIND_BUILD || d->kind > VS_KIND_VERB) {
		snprintf(buf, size, "unknown kind %u", d->kind);
		return buf;
	}
	if (!d->name || strcmp(d->name, stem) != 0) {
		snprintf(buf, size,
			 "descriptor name '%s' does not match the file name "
			 "'%s'",
			 d->name ? d->name : "", stem);
		return buf;
	}
	if (!d->version || !*d->version) {
		snprintf(buf, size, "descriptor has no version");
		return buf;
	}
	const char *missing = NULL;
	switch (d->kind) {
	case VS_KIND_BUILD: {
		const struct vs_build_ops *o = d->ops;
		if (!o || !o->build)
			missing = "build";
		break;
	}
	case VS_KIND_UNIFY: {
		const struct vs_unify_ops *o = d->ops;
		if (!o || !o->run)
			missing = "run";
		break;
	}
	case VS_KIND_HOOK: {
		const struct vs_hook_ops *o = d->ops;
		if (!o || !o->event)
			missing = "event";
		break;
	}
	case VS_KIND_VERB:
		if (!d->verbs || !d->verbs[0].name)
			missing = "verbs";
		break;
	}
	if (missing) {
		snprintf(buf, size, "missing required operation '%s'",
			 missing);
		return buf;
	}
	for (const struct vs_verb_def *v = d->verbs; v && v->name; v++) {
		if (!valid_ident(v->name, true) || !v->run) {
			snprintf(buf, size, "invalid verb '%s'", v->name);
			return buf;
		}
	}
	return NULL;
}

static void add_entry(struct vs_ctx *ctx, const char *file,
		      const struct vs_plugin *d, const char *refusal)
{
	ctx->plugins = vs_xrealloc(ctx->plugins, (ctx->nplugins + 1) *
							 sizeof(*ctx->plugins));
	struct vs_plugin_entry *e = &ctx->plugins[ctx->nplugins++];
	e->file = vs_strdup(file);
	e->desc = refusal ? NULL : d;
	e->refusal = refusal ? vs_strdup(refusal) : NULL;
}

static const struct vs_plugin_entry *find_loaded(struct vs_ctx *ctx,
						 const char *name)
{
	for (size_t i = 0; i < ctx->nplugins; i++)
		if (ctx->plugins[i].desc &&
		    strcmp(ctx->plugins[i].desc->name, name) == 0)
			return &ctx->plugins[i];
	return NULL;
}

/* Replaces "/proc/self/fd/N" in a dlerror text by the file's path. */
static void fix_dlerror(char *out, size_t size, const char *msg,
			const char *fdpath, const char *file)
{
	const char *p = msg ? strstr(msg, fdpath) : NULL;
	if (!msg)
		msg = "unknown error";
	if (p)
		snprintf(out, size, "%.*s%s%s", (int)(p - msg), msg, file,
			 p + strlen(fdpath));
	else
		snprintf(out, size, "%s", msg);
}

/* Loads one module.  Returns the fd the module was loaded through, to be
 * closed after the whole pass (libltdl names handles by path, and
 * "/proc/self/fd/N" must stay unique while it looks them up), or -1. */
static int load_file(struct vs_ctx *ctx, int dirfd, const char *dir,
		     const char *fname)
{
	char file[PATH_MAX], why[1024], stem[NAME_MAX + 1], fdpath[64];
	struct stat st;
	snprintf(file, sizeof(file), "%s/%s", dir, fname);
	snprintf(stem, sizeof(stem), "%.*s", (int)(strlen(fname) - 3), fname);

	if (fstatat(dirfd, fname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(why, sizeof(why), "cannot stat: %s", strerror(errno));
		return add_entry(ctx, file, NULL, why), -1;
	}
	if (S_ISLNK(st.st_mode))
		return add_entry(ctx, file, NULL, "is a symbolic link"), -1;
	int fd = openat(dirfd, fname,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, sizeof(why), "cannot open: %s", strerror(errno));
		return add_entry(ctx, file, NULL, why), -1;
	}
	const char *reason = NULL;
	unsigned char hdr[EI_NIDENT + 4];
	ssize_t n;
	if (fstat(fd, &st) < 0)
		reason = "cannot stat";
	else if (!S_ISREG(st.st_mode))
		reason = "not a regular file";
	else if (st.st_uid != 0)
		reason = "not owned by root";
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		reason = "writable by group or others";
	else if (st.st_size == 0)
		reason = "empty file";
	else if (!valid_ident(stem, false))
		reason = "file name is not a valid plugin name "
			 "([a-z][a-z0-9_]*.so)";
	else if ((n = pread(fd, hdr, sizeof(hdr), 0)) < (ssize_t)sizeof(hdr) ||
		 memcmp(hdr, ELFMAG, SELFMAG) != 0 ||
		 ((Elf64_Half *)(hdr + EI_NIDENT))[0] != ET_DYN)
		reason = "not an ELF shared object";
	else if (find_loaded(ctx, stem))
		reason = "a plugin of that name is already loaded";
	if (reason) {
		close(fd);
		return add_entry(ctx, file, NULL, reason), -1;
	}

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
	void *dl = dlopen(fdpath, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		char msg[900];
		fix_dlerror(msg, sizeof(msg), dlerror(), fdpath, file);
		snprintf(why, sizeof(why), "cannot load: %s", msg);
		close(fd);
		return add_entry(ctx, file, NULL, why), -1;
	}
	lt_dladvise advise;
	lt_dlhandle h = NULL;
	if (lt_dladvise_init(&advise) == 0) {
		lt_dladvise_local(&advise);
		lt_dladvise_resident(&advise);
		h = lt_dlopenadvise(fdpath, advise);
		lt_dladvise_destroy(&advise);
	}
	if (!h) {
		char msg[900];
		fix_dlerror(msg, sizeof(msg), lt_dlerror(), fdpath, file);
		snprintf(why, sizeof(why), "cannot load: %s", msg);
		add_entry(ctx, file, NULL, why);
		return fd;
	}
	char sym[NAME_MAX + 32];
	snprintf(sym, sizeof(sym), "%s_LTX_%s", stem, VS_PLUGIN_SYMBOL);
	const struct vs_plugin *d = lt_dlsym(h, sym);
	if (!d) {
		snprintf(why, sizeof(why), "no descriptor symbol '%s'", sym);
		add_entry(ctx, file, NULL, why);
		return fd;
	}
	add_entry(ctx, file, d, vs_plugin_check(d, stem, why, sizeof(why)));
	return fd;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void vs_plugins_add_builtin(struct vs_ctx *ctx,
			    const struct vs_plugin *const *list)
{
	char why[512];
	for (; *list; list++) {
		const struct vs_plugin *d = *list;
		const char *name = d->name && valid_ident(d->name, false)
					   ? d->name
					   : "(invalid)";
		const char *reason = vs_plugin_check(d, name, why, sizeof(why));
		if (!reason && find_loaded(ctx, name))
			reason = "a plugin of that name is already loaded";
		add_entry(ctx, "(built-in)", d, reason);
	}
}

static bool ltdl_init(struct vs_ctx *ctx)
{
	static bool ready;
	if (!ready && lt_dlinit() != 0) {
		vs_warn(ctx, "cannot initialise libltdl: %s", lt_dlerror());
		return false;
	}
	ready = true;
	return true;
}

void vs_plugins_builtin_once(struct vs_ctx *ctx)
{
	if (ctx->builtin_added)
		return;
	ctx->builtin_added = true;
	vs_plugins_add_builtin(ctx, vs_builtin_plugins);
}

void vs_plugins_add_refusal(struct vs_ctx *ctx, const char *file,
			    const char *reason)
{
	add_entry(ctx, file, NULL, reason);
}

/* True when file (a path in the module directory) is in ctx->plugins. */
static bool seen_file(const struct vs_ctx *ctx, const char *file)
{
	for (size_t i = 0; i < ctx->nplugins; i++)
		if (!strcmp(ctx->plugins[i].file, file))
			return true;
	return false;
}

void vs_plugins_load_file(struct vs_ctx *ctx, int dirfd, const char *fname)
{
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s/%s", ctx->plugindir, fname);
	if (seen_file(ctx, file) || !ltdl_init(ctx))
		return;
	/* the descriptor stays open: libltdl knows the module by its
	 * /proc/self/fd path, which must not name another one later */
	load_file(ctx, dirfd, ctx->plugindir, fname);
}

void vs_plugins_load(struct vs_ctx *ctx)
{
	struct stat st;

	if (ctx->plugins_all)
		return;
	ctx->plugins_all = true;
	vs_plugins_builtin_once(ctx);
	if (!ltdl_init(ctx))
		return;
	const char *dir = ctx->plugindir;
	if (dir[0] != '/') {
		vs_warn(ctx, "ignoring module directory '%s': not absolute",
			dir);
		return;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno != ENOENT)
			vs_warn(ctx, "cannot read module directory '%s': %s",
				dir, strerror(errno));
		return;
	}
	if (fstat(dfd, &st) < 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		vs_warn(ctx,
			"ignoring module directory '%s': not owned by root or "
			"writable by group or others",
			dir);
		close(dfd);
		return;
	}
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	size_t n = 0, cap = 16;
	char **names = vs_xmalloc(cap * sizeof(*names));
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		if (n == cap)
			names = vs_xrealloc(names, (cap *= 2) * sizeof(*names));
		names[n++] = vs_strdup(e->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_name);
	int *fds = vs_xmalloc((n + 1) * sizeof(*fds));
	for (size_t i = 0; i < n; i++) {
		char file[PATH_MAX];
		snprintf(file, sizeof(file), "%s/%s", dir, names[i]);
		fds[i] = seen_file(ctx, file)
				 ? -1 /* loaded through the index already */
				 : load_file(ctx, dirfd(d), dir, names[i]);
	}
	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		free(names[i]);
	}
	free(fds);
	free(names);
	closedir(d);
}

const struct vs_plugin *vs_plugin_find(struct vs_ctx *ctx, unsigned kind,
				       const char *name,
				       const struct vs_plugin_entry **refused)
{
	if (refused)
		*refused = NULL;
	for (size_t i = 0; i < ctx->nplugins; i++) {
		struct vs_plugin_entry *e = &ctx->plugins[i];
		if (e->desc && e->desc->kind == kind &&
		    strcmp(e->desc->name, name) == 0)
			return e->desc;
		if (!e->desc && refused) {
			const char *b = vs_basename(e->file);
			size_t l = strlen(name);
			if (strncmp(b, name, l) == 0 && strcmp(b + l, ".so") == 0)
				*refused = e;
		}
	}
	return NULL;
}
