/* What the rpm-based build methods (rpm, yum, apt-rpm) share: the guest's
 * rpm database, the distribution's keys and package lists, running the
 * tools.  Compiled into each of those plugins. */
#ifndef VS_RPMBASE_H
#define VS_RPMBASE_H

#include <stdbool.h>
#include <stddef.h>

#include <vs/plugin.h>

#include "pkgcmd.h"

/* Prepares the guest's rpm database: <pkgdir>/rpm/.rpmmacros pins
 * %_dbpath to /var/lib/rpm (inside the root) and is the HOME of every
 * tool the method runs, so no tool ever opens the host's or root's own
 * database; creates the guest's /var/lib/rpm, runs rpm --initdb and
 * imports the distribution's keys (.distributions/<d>/pubkeys,
 * .distributions/.common/pubkeys, <distribdir>/<d>/pubkeys).  Needs
 * vs_build_want_pkgmgmt() in prepare.  Returns 0 or -1 (error set). */
int rpmbase_init(struct vs_build *b, const char *method);

/* Debian's rpm warns on every install ("use Alien instead") unless
 * given --force-debian, which other rpms reject: returns that option
 * when the host's rpm knows it, else NULL. */
const char *rpmbase_debian_option(void);

/* Runs c through vs_build_run.  A non-zero status is an error
 * ("<method>: '<tool> <verb>' failed with status N") unless can_fail,
 * when it is only a warning.  Returns 0 or -1. */
int rpmbase_run(struct vs_build *b, const char *method, struct pkgcmd *c,
		const char *verb, bool can_fail);

/* The files of the distribution's pkgs/ directory (.distributions/<d>/pkgs
 * or <distribdir>/<d>/pkgs), sorted by name, parsed.  *lists is an array
 * of *n entries; free it with rpmbase_pkglists_free().  Returns 0 (also
 * when there is none) or -1. */
struct rpmbase_lists {
	struct pkglist *list;
	char **text;
	int n;
};
int rpmbase_pkglists(struct vs_build *b, const char *method,
		     struct rpmbase_lists *out);
void rpmbase_pkglists_free(struct rpmbase_lists *l);

/* Creates <pkgdir>/<rel> (and its parents); returns 0 or -1. */
int rpmbase_mkdir(struct vs_build *b, const char *rel);
/* Writes text to <pkgdir>/<rel> (replacing it); returns 0 or -1. */
int rpmbase_write(struct vs_build *b, const char *rel, const char *text);
/* Copies the regular files of the real directory src (not recursively)
 * into <pkgdir>/<rel>, replacing files of the same name.  Returns the
 * number copied, or -1. */
int rpmbase_copy_dir(struct vs_build *b, const char *src, const char *rel);
/* Copies into <pkgdir>/<rel> the files of the shipped
 * <distribdir>/defaults/<sub>, <distribdir>/<dist>/<sub> and the host's
 * .distributions/<dist>/<sub>, in that order (later ones win).  0 or -1. */
int rpmbase_populate(struct vs_build *b, const char *sub, const char *rel);
/* Reads a whole real file (at most 1 MiB) into a malloc'd string, or NULL
 * with the error set. */
char *rpmbase_read(struct vs_build *b, const char *path);
/* The real path of <pkgdir>/<rel> in buf. */
char *rpmbase_path(struct vs_build *b, const char *rel, char *buf,
		   size_t size);

#endif
