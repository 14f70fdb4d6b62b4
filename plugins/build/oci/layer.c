/* One image layer applied to a guest root: first its whiteouts remove
 * what the layers below left (".wh.<name>" the name, ".wh..wh..opq"
 * everything in its directory), then its entries are extracted safely
 * (no absolute names, no "..", no path through a symlink, no devices).
 * The directories a whiteout names are opened below the root without
 * following any symlink: an image cannot make vs remove a file of the
 * host or through a link. */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/unpack.h"
#include "layer.h"

#define WH ".wh."
#define OPQ ".wh..wh..opq"

static struct archive *reader(const char *path)
{
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	/* an open that fails shows at the first header */
	archive_read_open_filename(in, path, 1 << 16);
	return in;
}

/* The directory rel (relative, may be "") below rootfd, no symlink
 * followed; -1 with errno. */
static int open_dir(int rootfd, const char *rel)
{
	struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
					  RESOLVE_NO_MAGICLINKS |
					  RESOLVE_NO_XDEV};
	return (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how,
			    sizeof(how));
}

/* Empties the directory fd (what lower layers left there). */
static int empty_dir(int fd, const char **failed)
{
	DIR *d = fdopendir(dup(fd));
	if (!d)
		return -1;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			r = vs_rm_rf_at(fd, e->d_name, failed);
	closedir(d);
	return r;
}

/* One whiteout entry name; a path that does not lead to a directory of
 * the root (a symlink on the way, nothing there) removes nothing. */
static int whiteout(struct vs_ctx *ctx, int rootfd, const char *name,
		    const char *layer)
{
	char rel[4096];
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	while (*name == '/')
		name++;
	snprintf(rel, sizeof(rel), "%s", name);
	char *slash = strrchr(rel, '/');
	char *base = slash ? slash + 1 : rel;
	if (slash)
		*slash = '\0';
	else
		rel[0] = '\0';
	const char *failed = NULL;
	int fd = open_dir(rootfd, slash ? rel : "");
	if (fd < 0)
		return 0;
	int r = 0;
	if (!strcmp(base, OPQ))
		r = empty_dir(fd, &failed);
	else if (strcmp(base + strlen(WH), ".") && strcmp(base + strlen(WH), "..") &&
		 base[strlen(WH)])
		r = vs_rm_rf_at(fd, base + strlen(WH), &failed);
	if (r < 0 && errno == ENOENT)
		r = 0;
	if (r < 0)
		vs_set_errno(ctx, errno, "oci: cannot apply the whiteout '%s' "
					 "of '%s'%s%s",
			     name, layer, failed ? ": at " : "",
			     failed ? failed : "");
	close(fd);
	return r;
}

static bool is_whiteout(const char *name)
{
	const char *b = strrchr(name, '/');
	return !strncmp(b ? b + 1 : name, WH, strlen(WH));
}

int oci_layer_apply(struct vs_ctx *ctx, int rootfd, const char *path,
		    bool devices)
{
	/* pass 1: the whiteouts, against the layers below */
	struct archive *in = reader(path);
	struct archive_entry *e;
	int h, r = 0;
	while (r == 0 && ((h = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
			  h == ARCHIVE_WARN))
		if (is_whiteout(archive_entry_pathname(e)))
			r = whiteout(ctx, rootfd, archive_entry_pathname(e),
				     path);
	if (r == 0 && h != ARCHIVE_EOF)
		r = vs_set_error(ctx, "oci: cannot read layer '%s': %s", path,
				 archive_error_string(in));
	archive_read_free(in);
	if (r < 0)
		return -1;
	/* pass 2: the entries, with the working directory at the root */
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (back < 0 || fchdir(rootfd) < 0) {
		r = vs_set_errno(ctx, errno, "oci: cannot enter the new root");
		if (back >= 0)
			close(back);
		return r;
	}
	in = reader(path);
	struct archive *out = unpack_disk_writer(0);
	/* the directories' times, set again at the end: libarchive leaves
	 * a directory that exists already (a lower layer's) as it is */
	struct dirtime {
		char *name;
		struct timespec t;
	} *dirs = NULL;
	size_t ndirs = 0;
	while (r == 0 && ((h = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
			  h == ARCHIVE_WARN)) {
		const char *name = archive_entry_pathname(e);
		mode_t type = archive_entry_filetype(e);
		if (is_whiteout(name) ||
		    (!devices && (type == AE_IFCHR || type == AE_IFBLK ||
				  type == AE_IFIFO || type == AE_IFSOCK))) {
			archive_read_data_skip(in);
			continue;
		}
		if (type == AE_IFDIR && archive_entry_mtime_is_set(e)) {
			dirs = realloc(dirs, (ndirs + 1) * sizeof(*dirs));
			dirs[ndirs].name = strdup(name);
			dirs[ndirs].t.tv_sec = archive_entry_mtime(e);
			dirs[ndirs++].t.tv_nsec = archive_entry_mtime_nsec(e);
		}
		if (archive_write_header(out, e) != ARCHIVE_OK)
			r = vs_set_error(ctx, "oci: refusing '%s' in layer '%s': "
					      "%s",
					 name, path, archive_error_string(out));
		else if (unpack_entry_data(in, out) < 0)
			r = vs_set_error(ctx, "oci: cannot unpack '%s' of layer "
					      "'%s': %s",
					 name, path,
					 archive_error_string(out)
					     ? archive_error_string(out)
					     : archive_error_string(in));
	}
	if (r == 0 && h != ARCHIVE_EOF)
		r = vs_set_error(ctx, "oci: cannot read layer '%s': %s", path,
				 archive_error_string(in));
	archive_write_close(out);
	archive_write_free(out);
	archive_read_free(in);
	for (size_t i = 0; i < ndirs; i++) {
		const char *n = dirs[i].name;
		while (n[0] == '.' && n[1] == '/')
			n += 2;
		int fd = r == 0 ? open_dir(rootfd, strcmp(n, ".") ? n : "")
				: -1;
		struct timespec ts[2] = {{0, UTIME_OMIT}, dirs[i].t};
		if (fd >= 0) {
			futimens(fd, ts);
			close(fd);
		}
		free(dirs[i].name);
	}
	free(dirs);
	if (fchdir(back) < 0 && r == 0)
		r = vs_set_errno(ctx, errno, "oci: cannot go back");
	close(back);
	return r;
}
