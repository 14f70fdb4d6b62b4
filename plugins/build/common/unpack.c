/* Shared archive extraction: see unpack.h. */
#include "unpack.h"

int unpack_entry_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int d;
	while ((d = archive_read_data_block(in, &buf, &size, &off)) ==
	       ARCHIVE_OK)
		if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK)
			return -1;
	if (d != ARCHIVE_EOF || archive_write_finish_entry(out) < ARCHIVE_WARN)
		return -1;
	return 0;
}

struct archive *unpack_disk_writer(int extra)
{
	struct archive *out = archive_write_disk_new();
	archive_write_disk_set_options(
		out, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
			     ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
			     ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS |
			     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
			     ARCHIVE_EXTRACT_SECURE_NODOTDOT |
			     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS |
			     ARCHIVE_EXTRACT_UNLINK | extra);
	return out;
}
