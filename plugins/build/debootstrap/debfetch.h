/* debootstrap without the Debian package installed (COMPAT §2.3): a
 * debootstrap .deb named by .defaults/apps/debootstrap/uri (or the
 * shipped debootstrap.uri) is fetched and unpacked without dpkg. */
#ifndef VS_DEBFETCH_H
#define VS_DEBFETCH_H

#include <stddef.h>

#include <vs/plugin.h>

/* Fetches uri (an absolute path, file://, http://, https:// or ftp://;
 * URLs with the host's curl or wget) into a new temporary directory and
 * unpacks the .deb's data archive there; writes that directory into dir
 * (with its arch file, for a host without dpkg).  Returns 0, or -1 with
 * the error set (and nothing left behind). */
int debfetch_unpack(struct vs_build *b, const char *uri, char *dir,
		    size_t size);
/* Removes a directory made by debfetch_unpack (never follows links). */
void debfetch_remove(const char *dir);

#endif
