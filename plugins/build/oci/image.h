/* OCI images read and written by the oci plugin: an image layout
 * directory (index.json, blobs/sha256/...) or a docker-archive tarball,
 * every blob checked against its digest. */
#ifndef VS_OCI_IMAGE_H
#define VS_OCI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <vs/core.h>

/* The image architecture of this build's machine (GOARCH's names). */
#if defined(__x86_64__)
#define VS_OCI_ARCH "amd64"
#elif defined(__aarch64__)
#define VS_OCI_ARCH "arm64"
#elif defined(__i386__)
#define VS_OCI_ARCH "386"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VS_OCI_ARCH "ppc64le"
#elif defined(__s390x__)
#define VS_OCI_ARCH "s390x"
#elif defined(__arm__)
#define VS_OCI_ARCH "arm"
#else
#define VS_OCI_ARCH "unknown"
#endif

/* What an image holds: its layers (blob files, bottom first, each
 * checked) and the parts of its config a guest can use. */
struct oci_image {
	char **layers;	  /* paths, NULL-terminated */
	char **env;	  /* Env, NULL-terminated, may be NULL */
	char **argv;	  /* Entrypoint then Cmd, may be NULL */
	char *workdir;	  /* WorkingDir or NULL */
	char *user;	  /* User or NULL */
	char *stopsignal; /* StopSignal or NULL */
	char *tmpdir;	  /* a docker-archive's unpacked copy, removed */
};

/* Reads the image that ref names: "<layout-dir>[:tag]" or
 * "docker-archive:<file.tar>".  0, or -1 with the error set (one line
 * naming what was wrong); img is then empty. */
int oci_image_open(struct vs_ctx *ctx, const char *ref, struct oci_image *img);
void oci_image_close(struct oci_image *img);

/* The sha256 of the file at path as "sha256:<hex>" into out (72 bytes)
 * and its size; 0 or -1 with errno. */
int oci_sha256_file(const char *path, char *out, long long *size);
/* The same of a buffer. */
void oci_sha256_buf(const void *buf, size_t len, char *out);

/* Splits "<dir>[:tag]" into dir and tag (default "latest"); malloc'd. */
void oci_split_ref(const char *ref, char **dir, char **tag);

#endif
