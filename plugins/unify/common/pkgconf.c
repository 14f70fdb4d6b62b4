/* Package-manager configuration files of a guest, read from the host side
 * without running anything in the guest: dpkg's status file (Conffiles:
 * fields, obsolete entries skipped) and info/ *.conffiles, opened below the
 * guest root with openat2(RESOLVE_IN_ROOT) so that a guest symlink cannot
 * point the reader at a host file; and, when the guest has an rpm
 * database, the host's `rpm --root <root> --dbpath /var/lib/rpm -qac`. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"

#define MAX_DPKG_FILE (256u << 20)

static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* "Conffiles:" continuation lines: " /path md5 [obsolete]". */
static void parse_status(struct vs_excl *x, char *s)
{
	bool in = false;
	for (char *save = NULL, *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (l[0] != ' ') {
			in = !strncmp(l, "Conffiles:", 10);
			continue;
		}
		if (!in)
			continue;
		char path[4096], sum[128], extra[64] = "";
		int n = sscanf(l, " %4095s %127s %63s", path, sum, extra);
		if (n >= 2 && path[0] == '/' && strcmp(extra, "obsolete") != 0)
			vs_excl_add_exact(x, path);
	}
}

int vs_dpkg_conffiles(int rootfd, struct vs_excl *x)
{
	int fd = open_in_root(rootfd, "var/lib/dpkg/status", O_RDONLY);
	if (fd >= 0) {
		char *s = vs_read_fd(fd, MAX_DPKG_FILE, NULL);
		close(fd);
		if (s)
			parse_status(x, s);
		free(s);
	}
	int dfd = open_in_root(rootfd, "var/lib/dpkg/info",
			       O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		return 0;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return 0;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 11 || strcmp(e->d_name + n - 10, ".conffiles") != 0)
			continue;
		int f = openat(dirfd(d), e->d_name,
			       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0)
			continue;
		char *s = vs_read_fd(f, MAX_DPKG_FILE, NULL);
		close(f);
		for (char *save = NULL, *l = s ? strtok_r(s, "\n", &save) : NULL;
		     l; l = strtok_r(NULL, "\n", &save)) {
			/* newer dpkg may append " remove-on-upgrade" */
			l[strcspn(l, " \t")] = '\0';
			if (l[0] == '/')
				vs_excl_add_exact(x, l);
		}
		free(s);
	}
	closedir(d);
	return 0;
}

int vs_rpm_conffiles(int rootfd, const char *root_real, struct vs_excl *x)
{
	static const char *const dbs[] = {"var/lib/rpm/rpmdb.sqlite",
					  "var/lib/rpm/Packages",
					  "var/lib/rpm/Packages.db", NULL};
	bool have = false;
	for (const char *const *d = dbs; *d && !have; d++) {
		int fd = open_in_root(rootfd, *d, O_RDONLY);
		if (fd >= 0) {
			have = true;
			close(fd);
		}
	}
	if (!have) /* even a query would create an empty database */
		return 0;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 2); /* Debian's rpm warns about alien */
		}
		execlp("rpm", "rpm", "--root", root_real, "--dbpath",
		       "/var/lib/rpm", "-qac", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	char *s = vs_read_fd_stream(p[0], MAX_DPKG_FILE);
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	for (char *save = NULL, *l = s ? strtok_r(s, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save))
		if (l[0] == '/')
			vs_excl_add_exact(x, l);
	free(s);
	return 0;
}
