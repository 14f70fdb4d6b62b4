/* The /dev every guest and OCI container starts with: the character
 * devices of vs_dev_defaults (made, or in a user namespace bound from
 * the host), the links into /proc/self/fd and to pts/ptmx, and a console
 * that is a pty of its own devpts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/runtime.h"

const struct vs_devnode vs_dev_defaults[] = {
    {"null", 1, 3},   {"zero", 1, 5},	 {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
    {NULL, 0, 0}};

/* host bound on a new empty file name in dirfd. */
static int bind_host(int dirfd, const char *name, const char *host)
{
	int fd = openat(dirfd, name,
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0)
		return -1;
	char p[64];
	vs_fdpath(fd, p, sizeof(p));
	int r = mount(host, p, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int vs_dev_node(int dirfd, const char *name, mode_t type, dev_t rdev,
		mode_t mode, uid_t uid, gid_t gid, const char *host, bool bind)
{
	/* a node of the image goes (a directory stays, and fails below) */
	unlinkat(dirfd, name, 0);
	if (!bind) {
		/* 0600 until it has its owner: the umask never widens it */
		if (mknodat(dirfd, name, type | 0600, rdev) == 0)
			return fchownat(dirfd, name, uid, gid,
					AT_SYMLINK_NOFOLLOW) < 0 ||
				       fchmodat(dirfd, name, mode & 07777, 0) < 0
				   ? -1
				   : 0;
		if (errno != EPERM || type == S_IFIFO)
			return -1;
	}
	/* a user namespace may not make nodes */
	return bind_host(dirfd, name, host);
}

int vs_dev_links(int devfd, const char **which)
{
	static const char *const links[][2] = {
	    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"},
	    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	    {"ptmx", "pts/ptmx"}};
	for (size_t i = 0; i < sizeof(links) / sizeof(*links); i++) {
		if (!strcmp(links[i][0], "ptmx"))
			unlinkat(devfd, "ptmx", 0); /* a node of the image */
		/* a link of the image stays */
		if (symlinkat(links[i][1], devfd, links[i][0]) < 0 &&
		    errno != EEXIST) {
			*which = links[i][0];
			return -1;
		}
	}
	return 0;
}

int vs_dev_console(int devfd, int *master, int *slave)
{
	int m = openat(devfd, "pts/ptmx",
		       O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
	int unlock = 0, s = -1, c = -1;
	unlinkat(devfd, "console", 0); /* a node of the image */
	if (m < 0 || ioctl(m, TIOCSPTLCK, &unlock) < 0 ||
	    (s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0 ||
	    (c = openat(devfd, "console",
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			0600)) < 0)
		goto fail;
	char a[64], b[64];
	vs_fdpath(s, a, sizeof(a));
	vs_fdpath(c, b, sizeof(b));
	if (mount(a, b, NULL, MS_BIND, NULL) < 0)
		goto fail;
	close(c);
	*master = m;
	*slave = s;
	return 0;
fail:;
	int e = errno;
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	if (m >= 0)
		close(m);
	errno = e;
	return -1;
}
