/* A process of the host becomes one of a running guest or container
 * (vs exec and enter, vs oci exec): its cgroups, its namespaces, its
 * root.  The pid namespace is joined for the process's children only:
 * the joining process itself stays out of the guest's /proc. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/runtime.h"

static const int ns_types[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWIPC,
			       CLONE_NEWUTS,  CLONE_NEWNET, CLONE_NEWPID,
			       CLONE_NEWCGROUP};
static const char *const ns_files[] = {"user", "mnt", "ipc",   "uts",
				       "net",  "pid", "cgroup"};

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

int vs_pidfd_open(pid_t pid, unsigned long long start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0)
		return -1;
	/* the pid may have been reused between reading it and opening it */
	if (vs_proc_starttime(pid) != start) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

int vs_join_open(struct vs_join *j, pid_t pid, unsigned long long start)
{
	j->nsflags = 0;
	j->timefd = -1;
	j->initfd = vs_pidfd_open(pid, start);
	if (j->initfd < 0)
		return -1;
	char p[64], own[64];
	for (size_t i = 0; i < sizeof(ns_types) / sizeof(*ns_types); i++) {
		snprintf(p, sizeof(p), "/proc/%d/ns/%s", (int)pid, ns_files[i]);
		snprintf(own, sizeof(own), "/proc/self/ns/%s", ns_files[i]);
		if (!same_file(p, own))
			j->nsflags |= ns_types[i];
	}
	/* the time namespace of its children (a sysv stub init made one for
	 * them without an exec of its own) */
	snprintf(p, sizeof(p), "/proc/%d/ns/time_for_children", (int)pid);
	if (!same_file(p, "/proc/self/ns/time"))
		j->timefd = open(p, O_RDONLY | O_CLOEXEC);
	/* it may have ended meanwhile: what was read may be anyone's */
	if (vs_proc_starttime(pid) != start) {
		vs_join_close(j);
		errno = ESRCH;
		return -1;
	}
	return 0;
}

void vs_join_close(struct vs_join *j)
{
	if (j->initfd >= 0)
		close(j->initfd);
	if (j->timefd >= 0)
		close(j->timefd);
	j->initfd = j->timefd = -1;
}

const char *vs_join_enter(const struct vs_join *j, bool born_in_v2)
{
	if (vs_cgroup_attach(&j->cg, 0, born_in_v2) < 0 && j->cg.n)
		return "join the cgroup of";
	if (setns(j->initfd, j->nsflags | CLONE_NEWPID) < 0)
		return "enter the namespaces of";
	if ((j->nsflags & CLONE_NEWUSER) && vs_userns_become_root() < 0)
		return "become root of the user namespace of";
	if (j->timefd >= 0 && setns(j->timefd, CLONE_NEWTIME) < 0)
		return "enter the time namespace of";
	if (j->root[0] && chroot(j->root) < 0)
		return "enter the root of";
	if (chdir("/") < 0)
		return "enter the root of";
	return NULL;
}
