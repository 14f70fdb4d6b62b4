/* Build method "template": unpacks tarballs into the new root.
 *   vs <guest> build -m template [common options] -- -t <tarball>
 *       [-t <tarball>...] [-d <dist>] [--pkgmgmt] [--nodevsanity]
 * Compression (gzip, bzip2, xz, zstd) is recognised by content.  Entries
 * are checked before they are written: no absolute names, no "..", no
 * path through a symlink (libarchive's secure extraction, inside the new
 * root), no device nodes, FIFOs or sockets; then /dev is reset to the
 * distribution's safe set unless --nodevsanity. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vs/plugin.h>

#include "../common/unpack.h"

#define TEMPLATE_MAX 32

struct template_opts {
	const char *tar[TEMPLATE_MAX];
	int ntar;
	bool nodevsanity;
};

static struct template_opts template_state;

static int template_prepare(struct vs_build *b, int argc, char **argv)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct template_opts *o = &template_state;
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			if (o->ntar == TEMPLATE_MAX)
				return vs_set_error(ctx, "template: too many -t");
			const char *t = argv[++i];
			if (access(t, R_OK) < 0)
				return vs_set_errno(ctx, errno,
						    "template: cannot read '%s'", t);
			o->tar[o->ntar++] = t;
		} else if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			const char *d = argv[++i];
			if (!*d || strchr(d, '/') || d[0] == '.')
				return vs_set_error(ctx,
						    "template: invalid distribution "
						    "'%s'",
						    d);
			vs_build_set_dist(b, d);
		} else if (!strcmp(argv[i], "--pkgmgmt")) {
			vs_build_want_pkgmgmt(b);
		} else if (!strcmp(argv[i], "--nodevsanity")) {
			o->nodevsanity = true;
		} else {
			return vs_set_error(ctx,
					    "template: unknown or incomplete option "
					    "'%s'",
					    argv[i]);
		}
	}
	if (!o->ntar)
		return vs_set_error(ctx, "template: no tarball given (-t "
					 "<tarball>)");
	vs_build_set_data(b, o);
	return 0;
}

/* One tarball, extracted with the working directory at the new root. */
static int template_unpack(struct vs_ctx *ctx, const char *path,
			   bool allow_devices)
{
	struct archive *in = archive_read_new();
	struct archive *out = unpack_disk_writer(0);
	int r = 0;
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	if (archive_read_open_filename(in, path, 1 << 16) != ARCHIVE_OK) {
		r = vs_set_error(ctx, "template: cannot read '%s': %s", path,
				 archive_error_string(in));
		goto out;
	}
	struct archive_entry *e;
	int h;
	while ((h = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
	       h == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		if ((type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO ||
		     type == AE_IFSOCK) &&
		    !allow_devices) {
			archive_read_data_skip(in);
			continue; /* /dev is made from the devs list */
		}
		if (archive_write_header(out, e) != ARCHIVE_OK) {
			r = vs_set_error(ctx, "template: refusing '%s' in '%s': %s",
					 name, path, archive_error_string(out));
			goto out;
		}
		if (unpack_entry_data(in, out) < 0) {
			r = vs_set_error(ctx, "template: cannot unpack '%s' of '%s': %s",
					 name, path,
					 archive_error_string(out)
						 ? archive_error_string(out)
						 : archive_error_string(in));
			goto out;
		}
	}
	if (h != ARCHIVE_EOF)
		r = vs_set_error(ctx, "template: '%s' is damaged: %s", path,
				 archive_error_string(in));
out:
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	return r;
}

static int template_build(struct vs_build *b)
{
	struct vs_ctx *ctx = vs_build_ctx(b);
	struct template_opts *o = vs_build_data(b);
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;
	for (int i = 0; i < o->ntar && r == 0; i++) {
		/* tarball paths are taken before the working directory moves */
		char *abs = realpath(o->tar[i], NULL);
		if (!abs) {
			r = vs_set_errno(ctx, errno, "template: cannot read '%s'",
					 o->tar[i]);
			break;
		}
		if (fchdir(vs_build_rootfd(b)) < 0)
			r = vs_set_errno(ctx, errno, "template: cannot enter the "
						     "new root");
		else
			r = template_unpack(ctx, abs, o->nodevsanity);
		free(abs);
		if (back >= 0 && fchdir(back) < 0 && r == 0)
			r = vs_set_errno(ctx, errno, "template: cannot go back");
	}
	if (back >= 0)
		close(back);
	if (r == 0 && !o->nodevsanity)
		r = vs_build_reset_dev(b);
	return r;
}

static const struct vs_build_ops template_ops = {
	.usage = "-t <tarball> [-t <tarball>...] [-d <distribution>] "
		 "[--pkgmgmt] [--nodevsanity]",
	.prepare = template_prepare,
	.build = template_build,
};

VS_PLUGIN_DEFINE(template, VS_KIND_BUILD, "1.0",
		 "unpacks tarballs (gzip, bzip2, xz, zstd) safely into the root",
		 &template_ops, NULL);
