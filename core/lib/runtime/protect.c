/* What a guest's or an OCI container's processes may not read or change
 * in /proc and /sys: paths masked (an empty read-only tmpfs over a
 * directory, /dev/null over a file) and paths bound read-only.  Guests
 * take the default lists, containers the spec's (`vs oci spec` writes
 * the defaults). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* runc's defaults, with the kernel's symbols and the power readings
 * (an energy side channel) */
const char *const vs_masked_default[] = {
    "/proc/acpi",	   "/proc/asound",	 "/proc/kcore",
    "/proc/keys",	   "/proc/latency_stats", "/proc/timer_list",
    "/proc/timer_stats", "/proc/sched_debug",	 "/proc/kallsyms",
    "/proc/scsi",	   "/sys/firmware",	 "/sys/devices/virtual/powercap",
    NULL};

const char *const vs_readonly_default[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
    NULL};

int vs_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {.flags = (unsigned long long)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	const char *rel = path;
	while (*rel == '/')
		rel++;
	return (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how,
			    sizeof(how));
}

unsigned long vs_locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		f |= MS_RELATIME;
	return f;
}

const char *vs_fdpath(int fd, char *out, size_t size)
{
	snprintf(out, size, "/proc/self/fd/%d", fd);
	return out;
}

int vs_path_mask(struct vs_ctx *ctx, int rootfd, const char *path)
{
	int fd = vs_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : vs_set_errno(ctx, errno,
						      "cannot mask '%s'", path);
	struct stat st;
	char p[64];
	vs_fdpath(fd, p, sizeof(p));
	int r = fstat(fd, &st);
	if (r == 0 && S_ISDIR(st.st_mode))
		r = mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k");
	else if (r == 0)
		r = mount("/dev/null", p, NULL, MS_BIND, NULL);
	int e = errno;
	close(fd);
	return r < 0 ? vs_set_errno(ctx, e, "cannot mask '%s'", path) : 0;
}

int vs_path_readonly(struct vs_ctx *ctx, int rootfd, const char *path)
{
	int fd = vs_in_root(rootfd, path, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0
				       : vs_set_errno(ctx, errno,
						      "cannot make '%s' "
						      "read-only",
						      path);
	char p[64];
	vs_fdpath(fd, p, sizeof(p));
	int r = mount(p, p, NULL, MS_BIND | MS_REC, NULL);
	close(fd);
	/* the bind's top, opened again: the remount is of it */
	fd = r == 0 ? vs_in_root(rootfd, path, O_PATH | O_NOFOLLOW) : -1;
	vs_fdpath(fd, p, sizeof(p));
	if (fd < 0 || mount(NULL, p, NULL,
			    MS_BIND | MS_REMOUNT | MS_RDONLY |
				vs_locked_flags(p),
			    NULL) < 0)
		r = -1;
	int e = errno;
	if (fd >= 0)
		close(fd);
	return r < 0 ? vs_set_errno(ctx, e, "cannot make '%s' read-only", path)
		     : 0;
}

int vs_protect_paths(struct vs_ctx *ctx, int rootfd,
		     const char *const *masked, const char *const *readonly)
{
	for (; masked && *masked; masked++)
		if (vs_path_mask(ctx, rootfd, *masked) < 0)
			return -1;
	for (; readonly && *readonly; readonly++)
		if (vs_path_readonly(ctx, rootfd, *readonly) < 0)
			return -1;
	return 0;
}
