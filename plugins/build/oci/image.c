/* Reading OCI images: see image.h. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/unpack.h"
#include "image.h"

#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST \
	"application/vnd.docker.distribution.manifest.list.v2+json"

static void hex_of(const unsigned char *md, char *out)
{
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", md[i]);
}

void oci_sha256_buf(const void *buf, size_t len, char *out)
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	hex_of(md, out);
}

int oci_sha256_file(const char *path, char *out, long long *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	static unsigned char buf[1 << 17];
	ssize_t n;
	long long total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		EVP_DigestUpdate(c, buf, (size_t)n);
		total += n;
	}
	int e = errno;
	close(fd);
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(c, md, &len);
	EVP_MD_CTX_free(c);
	if (n < 0) {
		errno = e;
		return -1;
	}
	hex_of(md, out);
	if (size)
		*size = total;
	return 0;
}

void oci_split_ref(const char *ref, char **dir, char **tag)
{
	const char *colon = strrchr(ref, ':');
	const char *slash = strrchr(ref, '/');
	if (colon && (!slash || colon > slash) && colon[1]) {
		*dir = strndup(ref, (size_t)(colon - ref));
		*tag = strdup(colon + 1);
	} else {
		*dir = strdup(ref);
		*tag = NULL;
	}
}

static char **strv_of(json_t *a)
{
	if (!json_is_array(a))
		return NULL;
	char **v = calloc(json_array_size(a) + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < json_array_size(a); i++)
		if (json_is_string(json_array_get(a, i)))
			v[n++] = strdup(json_string_value(json_array_get(a, i)));
	return v;
}

static void strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static json_t *load_json(struct vs_ctx *ctx, const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!j)
		vs_set_error(ctx, "oci: bad '%s': %s", path, e.text);
	return j;
}

/* A descriptor's blob in the layout dir, its digest and size checked:
 * the path (malloc'd) or NULL with the error set. */
static char *blob(struct vs_ctx *ctx, const char *dir, json_t *desc,
		  const char *what)
{
	const char *dg = json_string_value(json_object_get(desc, "digest"));
	json_t *sz = json_object_get(desc, "size");
	if (!dg || strncmp(dg, "sha256:", 7) || strlen(dg) != 71 ||
	    strspn(dg + 7, "0123456789abcdef") != 64) {
		vs_set_error(ctx, "oci: %s of '%s' has no sha256 digest", what,
			     dir);
		return NULL;
	}
	char *path = vs_asprintf("%s/blobs/sha256/%s", dir, dg + 7), got[72];
	long long size = 0;
	if (oci_sha256_file(path, got, &size) < 0) {
		vs_set_errno(ctx, errno, "oci: cannot read the %s blob '%s'",
			     what, path);
	} else if (strcmp(got, dg)) {
		vs_set_error(ctx, "oci: the %s blob '%s' does not match its "
				  "digest (it is %s)",
			     what, path, got);
	} else if (json_is_integer(sz) && json_integer_value(sz) != size) {
		vs_set_error(ctx, "oci: the %s blob '%s' is %lld bytes, not "
				  "%lld",
			     what, path, size, (long long)json_integer_value(sz));
	} else {
		return path;
	}
	free(path);
	return NULL;
}

/* The image config's parts a guest uses. */
static void read_config(json_t *cfg, struct oci_image *img)
{
	json_t *c = json_object_get(cfg, "config");
	if (!json_is_object(c))
		return;
	img->env = strv_of(json_object_get(c, "Env"));
	char **ep = strv_of(json_object_get(c, "Entrypoint"));
	char **cmd = strv_of(json_object_get(c, "Cmd"));
	size_t n = 0;
	for (char **p = ep; p && *p; p++)
		n++;
	for (char **p = cmd; p && *p; p++)
		n++;
	if (n) {
		img->argv = calloc(n + 1, sizeof(char *));
		n = 0;
		for (char **p = ep; p && *p; p++)
			img->argv[n++] = strdup(*p);
		for (char **p = cmd; p && *p; p++)
			img->argv[n++] = strdup(*p);
	}
	strv_free(ep);
	strv_free(cmd);
	const char *s;
	if ((s = json_string_value(json_object_get(c, "WorkingDir"))) && *s)
		img->workdir = strdup(s);
	if ((s = json_string_value(json_object_get(c, "User"))) && *s)
		img->user = strdup(s);
	if ((s = json_string_value(json_object_get(c, "StopSignal"))) && *s)
		img->stopsignal = strdup(s);
}

/* The manifest of tag (NULL: the only one, else "latest") in an index. */
static json_t *pick(json_t *index, const char *tag)
{
	json_t *m = json_object_get(index, "manifests"), *only = NULL;
	size_t n = json_array_size(m);
	for (size_t i = 0; i < n; i++) {
		json_t *d = json_array_get(m, i);
		const char *name = json_string_value(json_object_get(
		    json_object_get(d, "annotations"),
		    "org.opencontainers.image.ref.name"));
		if (name && !strcmp(name, tag ? tag : "latest"))
			return d;
		only = d;
	}
	return !tag && n == 1 ? only : NULL;
}

/* In a nested index: linux/amd64 (this build's machine), else the
 * first. */
static json_t *pick_platform(json_t *index)
{
	json_t *m = json_object_get(index, "manifests");
	for (size_t i = 0; i < json_array_size(m); i++) {
		json_t *p = json_object_get(json_array_get(m, i), "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch =
		    json_string_value(json_object_get(p, "architecture"));
		if (os && arch && !strcmp(os, "linux") &&
		    !strcmp(arch, VS_OCI_ARCH))
			return json_array_get(m, i);
	}
	return json_array_get(m, 0);
}

static int open_layout(struct vs_ctx *ctx, const char *dir, const char *tag,
		       struct oci_image *img)
{
	char *p = vs_asprintf("%s/oci-layout", dir);
	struct stat sb;
	int r = stat(p, &sb);
	free(p);
	if (r < 0)
		return vs_set_error(ctx, "oci: '%s' is not an OCI image layout "
					 "(no oci-layout file)",
				    dir);
	p = vs_asprintf("%s/index.json", dir);
	json_t *index = load_json(ctx, p), *cfg = NULL, *man = NULL;
	free(p);
	if (!index)
		return -1;
	json_t *d = pick(index, tag);
	r = -1;
	char *path = NULL;
	for (int depth = 0; d && depth < 3; depth++) {
		const char *mt =
		    json_string_value(json_object_get(d, "mediaType"));
		free(path);
		if (!(path = blob(ctx, dir, d, "manifest")))
			goto out;
		json_decref(man);
		if (!(man = load_json(ctx, path)))
			goto out;
		if (!mt || (strcmp(mt, MT_INDEX) && strcmp(mt, MT_DOCKER_LIST)))
			break;
		d = pick_platform(man);
	}
	if (!d) {
		vs_set_error(ctx, "oci: no image tagged '%s' in '%s'",
			     tag ? tag : "latest", dir);
		goto out;
	}
	free(path);
	if (!(path = blob(ctx, dir, json_object_get(man, "config"), "config")) ||
	    !(cfg = load_json(ctx, path)))
		goto out;
	read_config(cfg, img);
	json_t *layers = json_object_get(man, "layers");
	img->layers = calloc(json_array_size(layers) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(layers); i++)
		if (!(img->layers[i] =
			  blob(ctx, dir, json_array_get(layers, i), "layer")))
			goto out;
	r = 0;
out:
	free(path);
	json_decref(cfg);
	json_decref(man);
	json_decref(index);
	return r;
}

/* docker save's format: manifest.json names the config and the layers
 * (uncompressed tarballs, checked against the config's diff_ids). */
static int open_docker(struct vs_ctx *ctx, const char *dir,
		       struct oci_image *img)
{
	char *p = vs_asprintf("%s/manifest.json", dir);
	json_t *m = load_json(ctx, p), *cfg = NULL;
	free(p);
	if (!m)
		return -1;
	json_t *e = json_array_get(m, 0);
	const char *cname = json_string_value(json_object_get(e, "Config"));
	json_t *layers = json_object_get(e, "Layers");
	int r = -1;
	if (!cname || !json_is_array(layers) || strstr(cname, "..")) {
		vs_set_error(ctx, "oci: bad manifest.json in the archive");
		goto out;
	}
	char *cpath = vs_asprintf("%s/%s", dir, cname), got[72];
	cfg = load_json(ctx, cpath);
	/* the config is named by its own digest */
	const char *base = strrchr(cname, '/') ? strrchr(cname, '/') + 1 : cname;
	if (cfg && (oci_sha256_file(cpath, got, NULL) < 0 ||
		    strncmp(got + 7, base, 64))) {
		vs_set_error(ctx, "oci: the config '%s' does not match its "
				  "digest",
			     cname);
		json_decref(cfg);
		cfg = NULL;
	}
	free(cpath);
	if (!cfg)
		goto out;
	read_config(cfg, img);
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"),
				      "diff_ids");
	if (json_array_size(ids) != json_array_size(layers)) {
		vs_set_error(ctx, "oci: the archive has %zu layers, its config "
				  "%zu",
			     json_array_size(layers), json_array_size(ids));
		goto out;
	}
	img->layers = calloc(json_array_size(layers) + 1, sizeof(char *));
	for (size_t i = 0; i < json_array_size(layers); i++) {
		const char *l = json_string_value(json_array_get(layers, i));
		const char *want = json_string_value(json_array_get(ids, i));
		if (!l || strstr(l, "..")) {
			vs_set_error(ctx, "oci: bad layer name in the archive");
			goto out;
		}
		img->layers[i] = vs_asprintf("%s/%s", dir, l);
		if (oci_sha256_file(img->layers[i], got, NULL) < 0) {
			vs_set_errno(ctx, errno, "oci: cannot read layer '%s'",
				     l);
			goto out;
		}
		if (!want || strcmp(got, want)) {
			vs_set_error(ctx, "oci: layer '%s' does not match its "
					  "diff_id (it is %s)",
				     l, got);
			goto out;
		}
	}
	r = 0;
out:
	json_decref(cfg);
	json_decref(m);
	return r;
}

/* Removes the temporary directory dir and frees it. */
static void rm_tmpdir(char *dir)
{
	char *base = strrchr(dir, '/');
	const char *failed;
	*base = '\0';
	int up = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (up >= 0) {
		vs_rm_rf_at(up, base + 1, &failed);
		close(up);
	}
	free(dir);
}

/* Unpacks the archive (regular files and directories only) into a new
 * temporary directory: its path, or NULL with the error set. */
static char *unpack_archive(struct vs_ctx *ctx, const char *file)
{
	const char *t = getenv("TMPDIR");
	char *dir = vs_asprintf("%s/vs-oci.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		vs_set_errno(ctx, errno, "oci: cannot make '%s'", dir);
		free(dir);
		return NULL;
	}
	struct archive *in = archive_read_new();
	struct archive *out = unpack_disk_writer(0);
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	if (archive_read_open_filename(in, file, 1 << 16) != ARCHIVE_OK) {
		r = vs_set_error(ctx, "oci: cannot read '%s': %s", file,
				 archive_error_string(in));
	} else if (chdir(dir) < 0) {
		r = vs_set_errno(ctx, errno, "oci: cannot enter '%s'", dir);
	} else {
		struct archive_entry *e;
		int h;
		while (r == 0 && ((h = archive_read_next_header(in, &e)) ==
					  ARCHIVE_OK ||
				  h == ARCHIVE_WARN)) {
			mode_t type = archive_entry_filetype(e);
			if (type != AE_IFREG && type != AE_IFDIR) {
				archive_read_data_skip(in);
				continue;
			}
			archive_entry_set_uid(e, 0);
			archive_entry_set_gid(e, 0);
			archive_entry_set_perm(e, type == AE_IFDIR ? 0700 : 0600);
			if (archive_write_header(out, e) != ARCHIVE_OK ||
			    unpack_entry_data(in, out) < 0)
				r = vs_set_error(ctx, "oci: cannot unpack '%s' "
						      "of '%s'",
						 archive_entry_pathname(e), file);
		}
		if (r == 0 && h != ARCHIVE_EOF)
			r = vs_set_error(ctx, "oci: '%s' is damaged: %s", file,
					 archive_error_string(in));
	}
	if (back >= 0) {
		if (fchdir(back) < 0 && r == 0)
			r = vs_set_errno(ctx, errno, "oci: cannot go back");
		close(back);
	}
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	if (r < 0) {
		rm_tmpdir(dir);
		return NULL;
	}
	return dir;
}

int oci_image_open(struct vs_ctx *ctx, const char *ref, struct oci_image *img)
{
	memset(img, 0, sizeof(*img));
	int r;
	if (!strncmp(ref, "docker-archive:", 15)) {
		img->tmpdir = unpack_archive(ctx, ref + 15);
		if (!img->tmpdir)
			return -1;
		char *p = vs_asprintf("%s/index.json", img->tmpdir);
		struct stat sb;
		bool layout = stat(p, &sb) == 0;
		free(p);
		r = layout ? open_layout(ctx, img->tmpdir, NULL, img)
			   : open_docker(ctx, img->tmpdir, img);
	} else {
		char *dir, *tag;
		oci_split_ref(ref, &dir, &tag);
		struct stat sb;
		if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
			r = vs_set_error(ctx, "oci: no image layout directory "
					      "'%s'",
					 dir);
		else
			r = open_layout(ctx, dir, tag, img);
		free(dir);
		free(tag);
	}
	if (r < 0)
		oci_image_close(img);
	return r;
}

void oci_image_close(struct oci_image *img)
{
	strv_free(img->layers);
	strv_free(img->env);
	strv_free(img->argv);
	free(img->workdir);
	free(img->user);
	free(img->stopsignal);
	if (img->tmpdir)
		rm_tmpdir(img->tmpdir);
	memset(img, 0, sizeof(*img));
}
