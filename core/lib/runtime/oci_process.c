/* The process of an OCI container (its init, or one exec'd into it):
 * its terminal, its limits from outside, then its own settings and the
 * exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/oci_int.h"

int oci_pty(struct vs_ctx *ctx, bool console)
{
	int m = -1, s = -1;
	if (console) {
		int dev = open("/dev", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dev < 0 || vs_dev_console(dev, &m, &s) < 0) {
			int e = errno;
			if (dev >= 0)
				close(dev);
			return vs_set_errno(ctx, e, "cannot make the "
						    "container's console (is "
						    "devpts mounted on "
						    "/dev/pts?)");
		}
		close(dev);
		goto own;
	}
	m = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return vs_set_errno(ctx, errno, "cannot open a terminal in the "
						"container (is devpts mounted "
						"on /dev/pts?)");
	if (unlockpt(m) == 0)
		s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (s < 0) {
		int e = errno;
		close(m);
		return vs_set_errno(ctx, e, "cannot open a terminal in the "
					    "container");
	}
own:
	setsid();
	if (ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0 ||
	    dup2(s, 2) < 0) {
		int e = errno;
		close(m);
		close(s);
		return vs_set_errno(ctx, e, "cannot make the terminal ours");
	}
	if (s > 2)
		close(s);
	return m;
}

static const char *env_path(char *const *env)
{
	for (char *const *e = env; e && *e; e++)
		if (!strncmp(*e, "PATH=", 5))
			return *e + 5;
	return "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
}

bool oci_find_program(const struct vs_oci_process *p)
{
	const char *prog = p->args[0];
	if (strchr(prog, '/')) {
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%s%s%s",
			 prog[0] == '/' ? "" : p->cwd ? p->cwd : "/",
			 prog[0] == '/' ? "" : "/", prog);
		return access(full, X_OK) == 0;
	}
	const char *path = env_path(p->env);
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[PATH_MAX];
		snprintf(full, sizeof(full), "%.*s/%s", (int)n, path, prog);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

int oci_process_limits(struct vs_ctx *ctx, const struct vs_oci_process *p,
		       pid_t pid)
{
	for (size_t i = 0; i < p->nrlimits; i++) {
		struct rlimit rl = {(rlim_t)p->rlimits[i].soft,
				    (rlim_t)p->rlimits[i].hard};
		if (prlimit(pid, (__rlimit_resource_t)p->rlimits[i].resource,
			    &rl, NULL) < 0)
			return vs_set_errno(ctx, errno, "cannot set the rlimit "
							"%d of the process",
					    p->rlimits[i].resource);
	}
	if (p->has_oom && vs_oom_write(pid, p->oom_score_adj) < 0)
		return vs_set_errno(ctx, errno, "cannot set oomScoreAdj %d",
				    p->oom_score_adj);
	return 0;
}

/* Sets the capability sets of p (after the ids changed, with keepcaps). */
static int drop_bounding(const struct vs_oci_process *p)
{
	for (unsigned c = 0; c <= vs_caps_last(); c++)
		if (!(p->caps[0] & (1ULL << c)) &&
		    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -1;
	return 0;
}

static int set_caps(const struct vs_oci_process *p)
{
	cap_t caps = cap_init();
	if (!caps)
		return -1;
	static const cap_flag_t flags[] = {CAP_EFFECTIVE, CAP_INHERITABLE,
					   CAP_PERMITTED};
	for (int k = 0; k < 3; k++)
		for (unsigned c = 0; c <= vs_caps_last(); c++)
			if (p->caps[k + 1] & (1ULL << c)) {
				cap_value_t v = (cap_value_t)c;
				cap_set_flag(caps, flags[k], 1, &v, CAP_SET);
			}
	int r = cap_set_proc(caps);
	cap_free(caps);
	if (r < 0)
		return -1;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (unsigned c = 0; c <= vs_caps_last(); c++)
		if ((p->caps[4] & (1ULL << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return -1;
	return 0;
}

void oci_process_exec(struct vs_ctx *ctx, const struct vs_oci_process *p,
		      void *filter)
{
	if (p->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		vs_set_errno(ctx, errno, "cannot set no_new_privs");
		return;
	}
	/* without no_new_privs the filter needs CAP_SYS_ADMIN: loaded
	 * while we are still root */
	if (!p->no_new_privs && vs_seccomp_load(filter) < 0) {
		vs_set_errno(ctx, errno, "cannot load the seccomp filter");
		return;
	}
	gid_t gids[256];
	size_t ng = p->ngids < 256 ? p->ngids : 256;
	for (size_t i = 0; i < ng; i++)
		gids[i] = (gid_t)p->gids[i];
	if (setgroups(ng, gids) < 0 && !(errno == EPERM && ng == 0)) {
		vs_set_errno(ctx, errno, "cannot set the groups of the process");
		return;
	}
	/* the bounding set while CAP_SETPCAP is still effective */
	if (drop_bounding(p) < 0) {
		vs_set_errno(ctx, errno, "cannot limit the capabilities of the "
					 "process");
		return;
	}
	prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
	if (setresgid(p->gid, p->gid, p->gid) < 0 ||
	    setresuid(p->uid, p->uid, p->uid) < 0) {
		vs_set_errno(ctx, errno, "cannot become uid %u gid %u", p->uid,
			     p->gid);
		return;
	}
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (p->has_caps ? set_caps(p) < 0 : vs_caps_limit(0) < 0) {
		vs_set_errno(ctx, errno, "cannot set the capabilities of the "
					 "process");
		return;
	}
	if (p->no_new_privs && vs_seccomp_load(filter) < 0) {
		vs_set_errno(ctx, errno, "cannot load the seccomp filter");
		return;
	}
	umask(p->has_umask ? p->umask : 022);
	if (chdir(p->cwd) < 0) {
		vs_set_errno(ctx, errno, "cannot enter the working directory "
					 "'%s'",
			     p->cwd);
		return;
	}
	/* nothing of the runtime or its caller stays open in the
	 * container */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	char *none[] = {NULL};
	extern char **environ;
	environ = p->env ? p->env : none;
	execvp(p->args[0], p->args);
	vs_set_errno(ctx, errno, "cannot run '%s'", p->args[0]);
}
