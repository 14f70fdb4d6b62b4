/* The module directory's index: which file holds which plugin (kind,
 * name, verbs) or why it was refused, so that a verb loads only the
 * module it needs.
 *
 * <plugindir>/.vs-index has a line per module file with the file's
 * device, inode, size, mtime and ctime when it was checked.  It is used
 * only while it names exactly the *.so files of the directory with those
 * same stat fields (a file added, removed, replaced, rewritten or
 * chmod'ed makes it stale), is owned by root and not writable by group
 * or others; otherwise every module is loaded and checked, as
 * `vs plugins` always does, and the index is written again.  A module
 * loaded through the index is still opened, bound immediately and
 * validated like any other: the index only decides which ones. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugins/plugins.h"

#define INDEX_NAME ".vs-index"
#define INDEX_MAGIC "vs-index 1"

struct vs_index_entry {
	char *file; /* the name in the module directory */
	char key[128];
	bool ok;
	unsigned kind;
	char *name;
	char *verbs;  /* ",a,b," or "" */
	char *reason; /* refused: why */
	bool loaded;  /* added to ctx->plugins by this process */
};

struct vs_plugin_index {
	struct vs_index_entry *e;
	size_t n;
	int dirfd;
};

static void key_of(const struct stat *st, char *out, size_t size)
{
	snprintf(out, size, "%llx:%llx:%llx:%lld.%09ld:%lld.%09ld",
		 (unsigned long long)st->st_dev, (unsigned long long)st->st_ino,
		 (unsigned long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec,
		 st->st_ctim.tv_nsec);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so names of the directory, sorted, with their keys. */
static char **list_modules(int dirfd, char ***keys, size_t *n)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t cap = 16;
	char **names = vs_xmalloc(cap * sizeof(*names));
	*n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0)
			continue;
		if (*n + 1 >= cap)
			names = vs_xrealloc(names, (cap *= 2) * sizeof(*names));
		names[(*n)++] = vs_strdup(e->d_name);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	names[*n] = NULL;
	qsort(names, *n, sizeof(*names), cmp_str);
	*keys = vs_xmalloc((*n + 1) * sizeof(**keys));
	for (size_t i = 0; i < *n; i++) {
		struct stat st;
		char k[128] = "-";
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
			key_of(&st, k, sizeof(k));
		(*keys)[i] = vs_strdup(k);
	}
	(*keys)[*n] = NULL;
	return names;
}

static void free_entries(struct vs_plugin_index *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->e[i].file);
		free(x->e[i].name);
		free(x->e[i].verbs);
		free(x->e[i].reason);
	}
	free(x->e);
	x->e = NULL;
	x->n = 0;
}

/* Reads the index; true when it matches names/keys exactly. */
static bool read_index(struct vs_plugin_index *x, char **names, char **keys,
		       size_t n)
{
	int fd = openat(x->dirfd, INDEX_NAME,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH))) {
		close(fd);
		return false;
	}
	FILE *f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return false;
	}
	char line[4096];
	bool ok = fgets(line, sizeof(line), f) &&
		  strncmp(line, INDEX_MAGIC "\n", sizeof(INDEX_MAGIC)) == 0;
	x->e = vs_xmalloc((n + 1) * sizeof(*x->e));
	x->n = 0;
	while (ok && fgets(line, sizeof(line), f)) {
		char *fl[7];
		if (vs_split_fields(line, '\t', fl, 7) != 7 || x->n >= n ||
		    strcmp(fl[0], names[x->n]) != 0 ||
		    strcmp(fl[1], keys[x->n]) != 0) {
			ok = false;
			break;
		}
		struct vs_index_entry *e = &x->e[x->n++];
		memset(e, 0, sizeof(*e));
		e->file = vs_strdup(fl[0]);
		snprintf(e->key, sizeof(e->key), "%s", fl[1]);
		e->ok = !strcmp(fl[2], "ok");
		e->kind = (unsigned)strtoul(fl[3], NULL, 10);
		e->name = vs_strdup(fl[4]);
		e->verbs = vs_asprintf(",%s,", strcmp(fl[5], "-") ? fl[5] : "");
		e->reason = vs_strdup(fl[6]);
	}
	fclose(f);
	if (!ok || x->n != n) {
		free_entries(x);
		return false;
	}
	return true;
}

/* A text without tabs or newlines (reasons quote dlerror). */
static void flatten(char *s)
{
	for (; *s; s++)
		if (*s == '\t' || *s == '\n')
			*s = ' ';
}

/* Writes the index from what vs_plugins_load found (best effort). */
static void write_index(struct vs_ctx *ctx, struct vs_plugin_index *x,
			char **names, char **keys, size_t n)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".vs-index.%d", (int)getpid());
	int fd = openat(x->dirfd, tmp,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0644);
	FILE *f = fd >= 0 ? fdopen(fd, "we") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	fprintf(f, "%s\n", INDEX_MAGIC);
	for (size_t i = 0; i < n; i++) {
		const struct vs_plugin_entry *pe = NULL;
		for (size_t k = 0; k < ctx->nplugins && !pe; k++)
			if (!strcmp(vs_basename(ctx->plugins[k].file), names[i]) &&
			    strcmp(ctx->plugins[k].file, "(built-in)"))
				pe = &ctx->plugins[k];
		char verbs[1024] = "";
		const struct vs_plugin *d = pe ? pe->desc : NULL;
		for (const struct vs_verb_def *v = d ? d->verbs : NULL;
		     v && v->name; v++)
			snprintf(verbs + strlen(verbs), sizeof(verbs) - strlen(verbs),
				 "%s%s", verbs[0] ? "," : "", v->name);
		char *reason = vs_strdup(pe && pe->refusal ? pe->refusal : "-");
		flatten(reason);
		fprintf(f, "%s\t%s\t%s\t%u\t%s\t%s\t%s\n", names[i], keys[i],
			d ? "ok" : "refused", d ? d->kind : 0,
			d ? d->name : "-", verbs[0] ? verbs : "-", reason);
		free(reason);
	}
	bool ok = fflush(f) == 0 && !ferror(f);
	fclose(f);
	if (!ok || renameat(x->dirfd, tmp, x->dirfd, INDEX_NAME) < 0)
		unlinkat(x->dirfd, tmp, 0);
}

/* The module directory, checked as the loader checks it; -1 when it is
 * missing or not to be trusted (the loader says why). */
static int open_moddir(struct vs_ctx *ctx)
{
	const char *dir = ctx->plugindir;
	struct stat st;
	if (dir[0] != '/')
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && (fstat(dfd, &st) < 0 || st.st_uid != 0 ||
			 (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		close(dfd);
		dfd = -1;
	}
	return dfd;
}

/* The index of this process: read, or made by loading every module
 * (then everything is loaded already). */
static struct vs_plugin_index *get_index(struct vs_ctx *ctx)
{
	if (ctx->index)
		return ctx->index;
	struct vs_plugin_index *x = calloc(1, sizeof(*x));
	if (!x)
		abort();
	ctx->index = x;
	ctx->index_free = vs_plugins_index_free;
	x->dirfd = open_moddir(ctx);
	if (x->dirfd < 0) {
		vs_plugins_load(ctx); /* says what is wrong with it */
		return x;
	}
	size_t n;
	char **keys, **names = list_modules(x->dirfd, &keys, &n);
	if (!read_index(x, names, keys, n)) {
		vs_plugins_load(ctx);
		/* the keys as they were when loaded: a module replaced
		 * meanwhile makes the next index stale, never wrong */
		write_index(ctx, x, names, keys, n);
	} else {
		/* refusals are reported as after a full load */
		for (size_t i = 0; i < x->n; i++)
			if (!x->e[i].ok) {
				char *file = vs_path_join(ctx->plugindir,
							  x->e[i].file);
				vs_plugins_add_refusal(ctx, file,
						       x->e[i].reason);
				free(file);
				x->e[i].loaded = true;
			}
	}
	vs_strv_free(names);
	vs_strv_free(keys);
	return x;
}

/* Loads the modules of the index that match (not yet loaded). */
static void load_matching(struct vs_ctx *ctx, unsigned kind, const char *name,
			  const char *verb)
{
	struct vs_plugin_index *x = get_index(ctx);
	if (ctx->plugins_all)
		return;
	vs_plugins_builtin_once(ctx);
	char v[256];
	snprintf(v, sizeof(v), ",%s,", verb ? verb : "");
	for (size_t i = 0; i < x->n; i++) {
		struct vs_index_entry *e = &x->e[i];
		if (e->loaded || !e->ok || (kind && e->kind != kind) ||
		    (name && strcmp(e->name, name) != 0) ||
		    (verb && !strstr(e->verbs, v)))
			continue;
		e->loaded = true;
		vs_plugins_load_file(ctx, x->dirfd, e->file);
	}
}

void vs_plugins_load_all(struct vs_ctx *ctx)
{
	get_index(ctx); /* written again when stale */
	vs_plugins_load(ctx);
}

void vs_plugins_load_kind(struct vs_ctx *ctx, unsigned kind,
			  const char *name)
{
	load_matching(ctx, kind, name, NULL);
}

void vs_plugins_load_verb(struct vs_ctx *ctx, const char *verb)
{
	load_matching(ctx, 0, NULL, verb);
}

bool vs_plugins_verb_exists(struct vs_ctx *ctx, const char *verb)
{
	struct vs_plugin_index *x = get_index(ctx);
	char v[256];
	snprintf(v, sizeof(v), ",%s,", verb);
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].ok && strstr(x->e[i].verbs, v))
			return true;
	for (size_t i = 0; i < ctx->nplugins; i++) { /* after a full load */
		const struct vs_plugin *d = ctx->plugins[i].desc;
		for (const struct vs_verb_def *vd = d ? d->verbs : NULL;
		     vd && vd->name; vd++)
			if (!strcmp(vd->name, verb))
				return true;
	}
	return false;
}

void vs_plugins_index_free(struct vs_plugin_index *x)
{
	if (!x)
		return;
	free_entries(x);
	if (x->dirfd >= 0)
		close(x->dirfd);
	free(x);
}
