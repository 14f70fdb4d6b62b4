/* Shared by the build plugins that extract archives with libarchive. */
#ifndef VS_UNPACK_H
#define VS_UNPACK_H

#include <archive.h>

/* Copies the data of the current entry of in to out (whose header was
 * written) and finishes the entry.  Returns 0, or -1 (the archives'
 * error strings say why). */
int unpack_entry_data(struct archive *in, struct archive *out);

/* A writer to disk that keeps a guest's files as they were packed
 * (owners by number, modes, times, xattrs, ACLs, file flags), replaces
 * what is in the way, and refuses absolute names, ".." and any path
 * through a symlink; extra: more ARCHIVE_EXTRACT_* flags. */
struct archive *unpack_disk_writer(int extra);

#endif
