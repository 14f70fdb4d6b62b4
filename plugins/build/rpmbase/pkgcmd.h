/* Command lines and generated configuration of the rpm-based build
 * methods (rpm, yum, apt-rpm).  Pure functions: no I/O, no libvs, so that
 * the unit tests check exactly what the plugins run and write. */
#ifndef VS_PKGCMD_H
#define VS_PKGCMD_H

#include <stdbool.h>
#include <stddef.h>

#define PKGCMD_MAX_ARGS 512

/* An argument vector being built; pkgcmd_add borrows its string,
 * pkgcmd_addf formats into the vector's own pool. */
struct pkgcmd {
	const char *argv[PKGCMD_MAX_ARGS + 1];
	int argc;
	bool overflow; /* too many arguments, or the pool was full */
	char pool[16384];
	size_t used;
};

void pkgcmd_init(struct pkgcmd *c);
void pkgcmd_add(struct pkgcmd *c, const char *arg);
void pkgcmd_addf(struct pkgcmd *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One file of a distribution's pkgs/ directory: leading keywords
 * `--reinstall` and `--can-fail`, then package names (whitespace
 * separated; `#` starts a comment up to the end of the line). */
struct pkglist {
	char *words[PKGCMD_MAX_ARGS / 2];
	int n;
	bool reinstall, can_fail;
};
/* Parses text in place (words point into it).  Returns 0, or -1 when it
 * has more words than fit. */
int pkglist_parse(char *text, struct pkglist *l);

/* rpm on a guest: rpm --root <root> --dbpath /var/lib/rpm, then the
 * caller adds the operation. */
void pkgcmd_rpm(struct pkgcmd *c, const char *rpm, const char *root);

/* dnf (or yum) on a guest.  conf, reposdir and varsdir are host paths
 * under the package directory; nothing is read from the guest. */
struct yumcmd {
	const char *tool;	/* dnf or yum, path or name */
	const char *root;	/* the guest root (real path) */
	const char *conf;	/* <pkgdir>/yum/etc/yum.conf */
	const char *reposdir;	/* <pkgdir>/yum/etc/yum.repos.d */
	const char *varsdir;	/* <pkgdir>/yum/etc/vars */
	const char *releasever; /* NULL: none passed */
	bool nogpgcheck;
};
void pkgcmd_yum(struct pkgcmd *c, const struct yumcmd *y);

/* apt-get from apt-rpm, configured by conf only. */
void pkgcmd_apt(struct pkgcmd *c, const char *apt_get, const char *conf);
/* Appends "install -y [--reinstall] <packages>" (apt) or "install
 * <packages>" (yum, where --reinstall has no effect, as in util-vserver). */
void pkgcmd_install(struct pkgcmd *c, const struct pkglist *l, bool apt);

/* yum.conf placeholders: @YUMETCDIR@ becomes etcdir; @YUMCACHEDIR@,
 * @YUMLOGDIR@ and @YUMLOCKDIR@ become the guest's own /var/cache/dnf,
 * /var/log and /var/lock (dnf puts these under the install root).
 * Returns a malloc'd string, NULL when out of memory. */
char *pkgcmd_yum_subst(const char *text, const char *etcdir);

/* <pkgdir>/apt/etc/vs-apt.conf, what apt-rpm runs with (APT_CONFIG and -c
 * name it; it is also Dir::Etc::main): every Dir:: under <pkgdir>/apt, the
 * rpm root and database of the guest.  Returns a malloc'd string. */
char *pkgcmd_apt_conf(const char *pkgdir, const char *root);

#endif
