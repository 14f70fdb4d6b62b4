/* `vs <guest> export <layout-dir>[:tag]`: a stopped guest as a one-layer
 * OCI image.  Reproducible: the layer's entries sorted by name, numeric
 * owners only, no access or change times, xattrs (sorted) kept, hard
 * links as links; the config's time is the newest file's.  The guest's
 * tree is walked with directory descriptors, never following a link,
 * and not into other file systems. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "image.h"

#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

struct link {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct walk {
	struct vs_ctx *ctx;
	struct archive *a;
	dev_t dev;
	time_t newest;
	struct link *links;
	size_t nlinks;
	const char *failed; /* the path that failed */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the directory fd (malloc'd vector). */
static char **sorted_names(int fd, size_t *n)
{
	DIR *d = fdopendir(dup(fd));
	char **v = NULL;
	size_t cap = 0;
	*n = 0;
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (*n == cap)
			v = realloc(v, (cap = cap ? 2 * cap : 32) * sizeof(*v));
		v[(*n)++] = strdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void add_xattrs(struct archive_entry *e, int pathfd)
{
	char p[64], names[65536];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", pathfd);
	ssize_t len = listxattr(p, names, sizeof(names));
	if (len <= 0)
		return;
	char *v[1024];
	size_t n = 0;
	for (char *s = names; s < names + len && n < 1024; s += strlen(s) + 1)
		v[n++] = s;
	qsort(v, n, sizeof(*v), cmp_str);
	static char val[65536];
	for (size_t i = 0; i < n; i++) {
		ssize_t vl = getxattr(p, v[i], val, sizeof(val));
		if (vl >= 0)
			archive_entry_xattr_add_entry(e, v[i], val, (size_t)vl);
	}
}

static int copy_data(struct walk *w, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	static char buf[1 << 17];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(w->a, buf, (size_t)n) != n) {
			close(fd);
			errno = EIO;
			return -1;
		}
	int e = errno;
	close(fd);
	errno = e;
	return n < 0 ? -1 : 0;
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix);

static int one(struct walk *w, int dirfd, const char *name, const char *path)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != w->dev || S_ISSOCK(st.st_mode))
		return 0; /* gone, another file system, a socket */
	if (st.st_mtime > w->newest)
		w->newest = st.st_mtime;
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_pathname(e, path);
	int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd >= 0 && !S_ISLNK(st.st_mode))
		add_xattrs(e, pfd);
	if (pfd >= 0)
		close(pfd);
	bool data = S_ISREG(st.st_mode);
	if (S_ISLNK(st.st_mode)) {
		char t[4096];
		ssize_t n = readlinkat(dirfd, name, t, sizeof(t) - 1);
		t[n < 0 ? 0 : n] = '\0';
		archive_entry_set_symlink(e, t);
	} else if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		for (size_t i = 0; i < w->nlinks; i++)
			if (w->links[i].dev == st.st_dev &&
			    w->links[i].ino == st.st_ino) {
				archive_entry_set_hardlink(e, w->links[i].path);
				archive_entry_set_size(e, 0);
				data = false;
				break;
			}
		if (data) {
			w->links = realloc(w->links, (w->nlinks + 1) *
							 sizeof(*w->links));
			w->links[w->nlinks++] =
			    (struct link){st.st_dev, st.st_ino, strdup(path)};
		}
	}
	int r = archive_write_header(w->a, e) == ARCHIVE_OK ? 0 : -1;
	archive_entry_free(e);
	if (r == 0 && data)
		r = copy_data(w, dirfd, name);
	if (r == 0 && S_ISDIR(st.st_mode)) {
		int sub = openat(dirfd, name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		r = sub < 0 ? -1 : walk_dir(w, sub, path);
		if (sub >= 0)
			close(sub);
	}
	if (r < 0 && !w->failed)
		w->failed = strdup(path);
	return r;
}

static int walk_dir(struct walk *w, int dirfd, const char *prefix)
{
	size_t n;
	char **v = sorted_names(dirfd, &n);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			char *path = prefix[0] ? vs_asprintf("%s/%s", prefix, v[i])
					       : vs_asprintf("%s", v[i]);
			r = one(w, dirfd, v[i], path);
			free(path);
		}
		free(v[i]);
	}
	free(v);
	return r;
}

/* Writes data as the blob of its digest in dir; the digest into dg. */
static int put_blob(struct vs_ctx *ctx, const char *dir, const char *data,
		    size_t len, char *dg)
{
	oci_sha256_buf(data, len, dg);
	char *p = vs_asprintf("%s/blobs/sha256/%s", dir, dg + 7);
	FILE *f = fopen(p, "we");
	int r = 0;
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		r = vs_set_errno(ctx, errno, "cannot write '%s'", p);
	free(p);
	return r;
}

static json_t *strv_json(char **v)
{
	json_t *a = json_array();
	for (char **p = v; p && *p; p++)
		json_array_append_new(a, json_string(*p));
	return a;
}

/* The lines of the guest's file rel (NULL when none). */
static char **cfg_lines(struct vs_ctx *ctx, struct vs_guest *g,
			const char *rel)
{
	char path[4096];
	if (vs_guest_cfg_find(g, rel, NULL, path, sizeof(path)) != 1)
		return NULL;
	int fd = vs_host_open(ctx, path, O_RDONLY, 0);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "re");
	char **v = NULL, *line = NULL;
	size_t n = 0, cap = 0;
	while (f && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		v = realloc(v, (n + 2) * sizeof(*v));
		v[n++] = strdup(line);
		v[n] = NULL;
	}
	free(line);
	if (f)
		fclose(f);
	return v;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static json_t *descriptor(const char *mt, const char *dg, long long size)
{
	return json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", dg,
			 "size", (json_int_t)size);
}

/* The layer of the guest's root as a blob in dir: digest and size. */
static int write_layer(struct vs_ctx *ctx, struct vs_guest *g,
		       const char *dir, char *dg, long long *size,
		       time_t *newest)
{
	const char *root = vs_guest_root(g);
	int rootfd = root ? vs_host_open(ctx, root, O_RDONLY | O_DIRECTORY, 0)
			  : -1;
	if (rootfd < 0)
		return vs_set_errno(ctx, errno, "cannot open the root of guest "
						"'%s'",
				    vs_guest_name(g));
	char *tmp = vs_asprintf("%s/blobs/sha256/.layer.XXXXXX", dir);
	int fd = mkostemp(tmp, O_CLOEXEC);
	struct stat rs;
	fstat(rootfd, &rs);
	struct walk w = {.ctx = ctx, .dev = rs.st_dev};
	int r = 0;
	if (fd < 0) {
		r = vs_set_errno(ctx, errno, "cannot write '%s'", tmp);
	} else {
		w.a = archive_write_new();
		archive_write_set_format_pax(w.a); /* nanosecond times */
		archive_write_set_bytes_in_last_block(w.a, 1);
		if (archive_write_open_fd(w.a, fd) != ARCHIVE_OK ||
		    walk_dir(&w, rootfd, "") < 0 ||
		    archive_write_close(w.a) != ARCHIVE_OK)
			r = vs_set_error(ctx, "cannot export '%s' of guest "
					      "'%s': %s",
					 w.failed ? w.failed : "/",
					 vs_guest_name(g),
					 archive_error_string(w.a)
					     ? archive_error_string(w.a)
					     : strerror(errno));
		archive_write_free(w.a);
		close(fd);
	}
	if (r == 0 && oci_sha256_file(tmp, dg, size) < 0)
		r = vs_set_errno(ctx, errno, "cannot read '%s'", tmp);
	if (r == 0) {
		char *final = vs_asprintf("%s/blobs/sha256/%s", dir, dg + 7);
		if (rename(tmp, final) < 0)
			r = vs_set_errno(ctx, errno, "cannot write '%s'", final);
		free(final);
	}
	if (r < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	for (size_t i = 0; i < w.nlinks; i++)
		free(w.links[i].path);
	free(w.links);
	free((char *)w.failed);
	close(rootfd);
	*newest = w.newest;
	return r;
}

/* index.json with tag pointing at the manifest (other tags kept). */
static int write_index(struct vs_ctx *ctx, const char *dir, const char *tag,
		       const char *mdg, long long msize)
{
	char *p = vs_asprintf("%s/index.json", dir);
	json_t *index = json_load_file(p, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(index)) {
		json_decref(index);
		index = json_pack("{s:i, s:[]}", "schemaVersion", 2,
				  "manifests");
	}
	json_t *m = json_object_get(index, "manifests");
	for (size_t i = json_array_size(m); i-- > 0;) {
		const char *name = json_string_value(json_object_get(
		    json_object_get(json_array_get(m, i), "annotations"),
		    "org.opencontainers.image.ref.name"));
		if (name && !strcmp(name, tag))
			json_array_remove(m, i);
	}
	json_t *d = descriptor(MT_MANIFEST, mdg, msize);
	json_object_set_new(d, "annotations",
			    json_pack("{s:s}",
				      "org.opencontainers.image.ref.name", tag));
	json_array_append_new(m, d);
	int r = 0;
	if (json_dump_file(index, p, JSON_SORT_KEYS | JSON_COMPACT) < 0)
		r = vs_set_errno(ctx, errno, "cannot write '%s'", p);
	json_decref(index);
	free(p);
	return r;
}

/* mkdir -p of the administrator's path p */
static int mkdir_p(const char *p)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", p);
	for (char *c = buf + 1; *c; c++) {
		if (*c != '/')
			continue;
		*c = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -1;
		*c = '/';
	}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

int oci_export(struct vs_ctx *ctx, struct vs_guest *g, int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: vs <guest> export <layout-dir>[:tag]\n");
		return 2;
	}
	char *dir, *tag;
	oci_split_ref(argv[1], &dir, &tag);
	if (!tag)
		tag = strdup("latest");
	int r = -1;
	bool ok = strlen(tag) <= 128 &&
		  strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
			      "XYZ0123456789_.-") == strlen(tag);
	char *blobs = vs_asprintf("%s/blobs/sha256", dir);
	if (!ok) {
		vs_set_error(ctx, "bad tag '%s': letters, digits and '_.-' only, "
				  "at most 128",
			     tag);
	} else if (vs_guest_running(g)) {
		vs_set_error(ctx, "cannot export guest '%s': it is running "
				  "(stop it first)",
			     vs_guest_name(g));
	} else if (mkdir_p(blobs) < 0) {
		vs_set_errno(ctx, errno, "cannot make '%s'", blobs);
	} else {
		char ldg[72], cdg[72], mdg[72], when[32];
		long long lsize = 0;
		time_t newest = 0;
		if (write_layer(ctx, g, dir, ldg, &lsize, &newest) == 0) {
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
				 gmtime(&newest));
			char **cmd = cfg_lines(ctx, g, "apps/init/cmd.start");
			char **env = cfg_lines(ctx, g, "apps/init/environment");
			char *defcmd[] = {"/sbin/init", NULL};
			char *defenv[] = {"PATH=/usr/local/sbin:/usr/local/bin:"
					  "/usr/sbin:/usr/bin:/sbin:/bin",
					  NULL};
			json_t *cfg = json_pack(
			    "{s:s, s:s, s:s, s:{s:o, s:o}, s:{s:s, s:[s]}, "
			    "s:[{s:s, s:s}]}",
			    "architecture", VS_OCI_ARCH, "os", "linux", "created",
			    when, "config", "Cmd", strv_json(cmd ? cmd : defcmd),
			    "Env", strv_json(env ? env : defenv), "rootfs", "type",
			    "layers", "diff_ids", ldg, "history", "created", when,
			    "created_by", "vs export");
			strv_free(cmd);
			strv_free(env);
			char *cs = json_dumps(cfg, JSON_SORT_KEYS | JSON_COMPACT);
			json_decref(cfg);
			if (put_blob(ctx, dir, cs, strlen(cs), cdg) == 0) {
				json_t *man = json_pack(
				    "{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2,
				    "mediaType", MT_MANIFEST, "config",
				    descriptor(MT_CONFIG, cdg,
					       (long long)strlen(cs)),
				    "layers", descriptor(MT_LAYER, ldg, lsize));
				char *ms = json_dumps(man, JSON_SORT_KEYS |
							       JSON_COMPACT);
				json_decref(man);
				char *lay = vs_asprintf("%s/oci-layout", dir);
				const char *lv = "{\"imageLayoutVersion\":\"1.0.0\"}";
				FILE *f = fopen(lay, "we");
				bool lok = f && fputs(lv, f) >= 0 && fclose(f) == 0;
				if (!lok)
					vs_set_errno(ctx, errno, "cannot write '%s'",
						     lay);
				else if (put_blob(ctx, dir, ms, strlen(ms), mdg) ==
					     0 &&
					 write_index(ctx, dir, tag, mdg,
						     (long long)strlen(ms)) == 0)
					r = 0;
				free(lay);
				free(ms);
			}
			free(cs);
		}
	}
	free(blobs);
	free(dir);
	free(tag);
	return r < 0 ? 1 : 0;
}
