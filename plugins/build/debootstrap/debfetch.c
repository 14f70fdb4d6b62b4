/* Unpacking a debootstrap .deb without dpkg: see debfetch.h.  A .deb is
 * an ar archive; its member data.tar(.gz|.xz|.zst|.bz2) is read straight
 * from the ar stream by a second libarchive reader and extracted with
 * the secure options (no "..", no absolute names, no path through a
 * symlink) inside the temporary directory. */
#define _GNU_SOURCE
#include "debfetch.h"
#include "../common/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void debfetch_remove(const char *dir)
{
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The data member of the outer (ar) archive, as a stream. */
struct member {
	struct archive *outer;
	char block[1 << 16];
};

static la_ssize_t member_read(struct archive *a, void *data,
			      const void **buf)
{
	struct member *m = data;
	(void)a;
	*buf = m->block;
	return archive_read_data(m->outer, m->block, sizeof(m->block));
}

/* Extracts the nested data archive into the working directory. */
static int extract_data(struct vs_ctx *ctx, struct archive *outer,
			const char *deb)
{
	struct member *m = malloc(sizeof(*m));
	if (!m)
		return vs_set_errno(ctx, ENOMEM, "debootstrap");
	m->outer = outer;
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	int r = 0;
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	archive_write_disk_set_options(
		out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
			     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			     ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	struct archive_entry *e;
	int h = archive_read_open(in, m, NULL, member_read, NULL);
	while (h == ARCHIVE_OK &&
	       ((h = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
		h == ARCHIVE_WARN)) {
		mode_t type = archive_entry_filetype(e);
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			continue; /* no device or FIFO from a download */
		if (archive_write_header(out, e) < ARCHIVE_WARN) {
			r = -1;
			break;
		}
		if (unpack_entry_data(in, out) < 0) {
			r = -1;
			break;
		}
		h = ARCHIVE_OK;
	}
	if (r < 0 || h != ARCHIVE_EOF)
		r = vs_set_error(ctx, "debootstrap: cannot unpack '%s': %s", deb,
				 archive_error_string(out)
					 ? archive_error_string(out)
					 : archive_error_string(in)
						   ? archive_error_string(in)
						   : "damaged");
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	free(m);
	return r;
}

/* Reads the .deb (ar) and extracts its data member. */
static int unpack_deb(struct vs_ctx *ctx, const char *deb)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_ar(a);
	int r = -1;
	struct archive_entry *e;
	if (archive_read_open_filename(a, deb, 1 << 16) != ARCHIVE_OK) {
		vs_set_error(ctx, "debootstrap: cannot read '%s': %s", deb,
			     archive_error_string(a));
		goto out;
	}
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		if (strncmp(archive_entry_pathname(e), "data.tar", 8))
			continue;
		r = extract_data(ctx, a, deb);
		goto out;
	}
	vs_set_error(ctx, "debootstrap: '%s' is not a .deb (no data.tar "
			  "member)",
		     deb);
out:
	archive_read_free(a);
	return r;
}

/* A download with curl or wget, whichever the host has. */
static int download(struct vs_build *b, const char *uri, const char *to)
{
	static const char *const paths[] = {"/usr/bin/curl", "/usr/bin/wget",
					    NULL};
	for (const char *const *p = paths; *p; p++) {
		if (access(*p, X_OK) < 0)
			continue;
		char *const curl[] = {(char *)*p, "-fsSL", "-o", (char *)to,
				      (char *)uri, NULL};
		char *const wget[] = {(char *)*p, "-q", "-O", (char *)to,
				      (char *)uri, NULL};
		int st = vs_build_run(b, strstr(*p, "curl") ? curl : wget);
		if (st < 0)
			return -1;
		if (st != 0)
			return vs_set_error(vs_build_ctx(b),
					    "debootstrap: cannot download '%s' "
					    "(%s status %d)",
					    uri, *p, st);
		return 0;
	}
	return vs_set_error(vs_build_ctx(b),
			    "debootstrap: cannot download '%s': neither curl "
			    "nor wget is installed",
			    uri);
}

/* debootstrap reads the architecture from $DEBOOTSTRAP_DIR/arch when the
 * host has no dpkg. */
static const char *deb_arch(void)
{
	struct utsname u;
	static char m[65];
	if (uname(&u) < 0)
		return "amd64";
	if (!strcmp(u.machine, "x86_64"))
		return "amd64";
	if (u.machine[0] == 'i' && !strcmp(u.machine + 2, "86"))
		return "i386";
	if (!strcmp(u.machine, "aarch64"))
		return "arm64";
	snprintf(m, sizeof(m), "%s", u.machine);
	return m;
}

int debfetch_unpack(struct vs_build *b, const char *uri, char *dir,
		    size_t size)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	char tmpl[] = "/tmp/vs-debootstrap.XXXXXX", deb[64];
	if (!mkdtemp(tmpl))
		return vs_set_errno(ctx, errno, "debootstrap: cannot create a "
						"temporary directory");
	snprintf(dir, size, "%s", tmpl);
	const char *src = uri;
	int r = 0;
	if (!strncmp(uri, "file://", 7))
		src = uri + 7;
	if (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8) ||
	    !strncmp(uri, "ftp://", 6)) {
		snprintf(deb, sizeof(deb), "%s/debootstrap.deb", tmpl);
		r = download(b, uri, deb);
		src = deb;
	} else if (src[0] != '/') {
		r = vs_set_error(ctx,
				 "debootstrap: unsupported uri '%s' (an absolute "
				 "path, file://, http://, https:// or ftp://)",
				 uri);
	}
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!r && chdir(tmpl) < 0)
		r = vs_set_errno(ctx, errno, "debootstrap: cannot enter '%s'",
				 tmpl);
	else if (!r)
		r = unpack_deb(ctx, src);
	if (back >= 0) {
		if (fchdir(back) < 0 && !r)
			r = vs_set_errno(ctx, errno, "debootstrap: cannot go back");
		close(back);
	}
	char path[4200];
	snprintf(path, sizeof(path), "%s/usr/sbin/debootstrap", tmpl);
	if (!r && access(path, X_OK) < 0)
		r = vs_set_error(ctx, "debootstrap: '%s' holds no "
				      "usr/sbin/debootstrap",
				 uri);
	snprintf(path, sizeof(path), "%s/usr/share/debootstrap/arch", tmpl);
	FILE *f = r ? NULL : fopen(path, "we");
	if (!r && (!f || fprintf(f, "%s\n", deb_arch()) < 0))
		r = vs_set_errno(ctx, errno, "debootstrap: cannot write '%s'",
				 path);
	if (f && fclose(f) != 0 && !r)
		r = vs_set_errno(ctx, errno, "debootstrap: cannot write '%s'",
				 path);
	if (r)
		debfetch_remove(tmpl);
	return r;
}
