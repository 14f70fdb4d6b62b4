/* After a build: the guest's init style when --initstyle was not given
 * (a Debian tree's /sbin/init says which init it has), the user
 * namespace of systemd guests, the guest's /etc/hostname from
 * --hostname (an init such as systemd sets the name from that file, over
 * uts/nodename), and a fresh /run at each start.
 *
 * The tree was just made by the method's tools, but what it holds is
 * the guest's: its paths are resolved inside the root (RESOLVE_IN_ROOT),
 * never followed on the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build.h"

/* A directory of the guest's tree (resolved inside it), or -1. */
static int guest_dir(struct vs_build *b, const char *rel)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, b->rootfd, rel, &how, sizeof(how));
}

/* The style of the init the tree has: "systemd" or "runit" when
 * /sbin/init links to systemd or runit-init, NULL for anything else
 * (sysv, the default, or no init). */
static const char *detect(struct vs_build *b)
{
	int sbin = guest_dir(b, "sbin");
	if (sbin < 0)
		return NULL;
	char target[PATH_MAX];
	ssize_t n = readlinkat(sbin, "init", target, sizeof(target) - 1);
	close(sbin);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	const char *base = strrchr(target, '/');
	base = base ? base + 1 : target;
	return !strcmp(base, "systemd")	   ? "systemd"
	       : !strcmp(base, "runit-init") ? "runit"
					     : NULL;
}

/* The tree's /etc/hostname, when it has one (debootstrap copies the
 * host's), holds --hostname (a new file: a symlink there is replaced,
 * never followed).  A tree without one (skeleton) stays as util-vserver
 * made it. */
static int write_hostname(struct vs_build *b)
{
	int etc = guest_dir(b, "etc");
	struct stat st;
	if (etc >= 0 && fstatat(etc, "hostname", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(etc); /* a tree without the file: nothing reads it */
		etc = -1;
	}
	if (etc < 0)
		return 0;
	char data[300], path[PATH_MAX];
	int n = snprintf(data, sizeof(data), "%s\n", b->hostname);
	int r = vs_replace_at(etc, "hostname", data, (size_t)n, 0644);
	close(etc);
	snprintf(path, sizeof(path), "%s/etc/hostname", b->vdir);
	return r < 0 ? fail_path(b, "write", path) : 0;
}

/* A tree with a /run directory (Debian's and most others') gets a fresh
 * tmpfs there at each start, as a booting machine has: an rc that leaves
 * no trace of the previous run's daemons (pid files, OpenRC's state,
 * utmp).  A line appended to the guest's fstab, where the administrator
 * sees and edits it; systemd guests have theirs from vs already. */
static int fresh_run(struct vs_build *b, bool systemd)
{
	char path[PATH_MAX];
	if (systemd)
		return 0;
	int run = guest_dir(b, "run"); /* a directory of the tree, or -1 */
	if (run < 0)
		return 0;
	close(run);
	/* a tree whose fstab mounts /run already (a clone's) */
	char *fstab = NULL;
	int ffd = openat(b->cfgfd, "fstab", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ffd >= 0) {
		fstab = vs_read_fd(ffd, 1 << 20, NULL);
		close(ffd);
	}
	bool has = false;
	char *save = NULL;
	for (char *l = fstab ? strtok_r(fstab, "\n", &save) : NULL; l && !has;
	     l = strtok_r(NULL, "\n", &save)) {
		char src[256], dst[256];
		has = sscanf(l, "%255s %255s", src, dst) == 2 && src[0] != '#' &&
		      !strcmp(dst, "/run");
	}
	free(fstab);
	if (has)
		return 0;
	static const char line[] =
		"none\t/run\t\ttmpfs\t\tmode=755,nosuid,nodev,size=10%\t0 0\n";
	int fd = openat(b->cfgfd, "fstab",
			O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			0644);
	bool ok = fd >= 0 && write(fd, line, sizeof(line) - 1) ==
				     (ssize_t)(sizeof(line) - 1);
	int e = errno;
	if (fd >= 0 && close(fd) < 0)
		ok = false;
	errno = e;
	snprintf(path, sizeof(path), "%s/fstab", b->cfgdir);
	return ok ? 0 : fail_path(b, "write", path);
}

int settle_guest(struct vs_build *b)
{
	if (b->hostname && write_hostname(b) < 0)
		return -1;
	const char *style = b->initstyle;
	if (!style) {
		style = detect(b);
		if (style && build_write_cfg(b, "apps/init/style", style) < 0)
			return -1;
	}
	bool systemd = style && strcmp(style, "systemd") == 0;
	if (fresh_run(b, systemd) < 0)
		return -1;
	if (b->userns == 1 || (b->userns == -1 && systemd)) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/spaces/user", b->cfgdir);
		if (vs_mkdir_p_at(b->cfgfd, "spaces", 0755) < 0 ||
		    vs_write_at(b->cfgfd, "spaces/user", "", 0, 0644) < 0)
			return fail_path(b, "write", path);
		if (systemd && !b->nifaces && !b->netdev)
			vs_warn(b->ctx,
				"guest '%s' shares the host's network from a "
				"user namespace: its services cannot bind ports "
				"below 1024 (sshd fails); give it --interface, "
				"or spaces/net for a network of its own",
				b->name);
	} else if (systemd) {
		vs_warn(b->ctx,
			"guest '%s' runs systemd without a user namespace "
			"(--no-userns): journald and logind fail unless "
			"bcapabilities adds SETPCAP, and the sandboxing of "
			"its services is skipped (it needs CAP_SYS_ADMIN, "
			"which reaches the host from such a guest)",
			b->name);
	}
	return 0;
}
