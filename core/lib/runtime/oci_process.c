/* The process of an OCI container (its init, or one exec'd into it):
 * its terminal, its limits from outside, then its own settings and the
 * exec. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>

#include "runtime/oci_int.h"

int oci_session_keyring(struct vs_ctx *ctx, const char *id, bool made,
			bool userns)
{
	char name[256], desc[512];
	snprintf(name, sizeof(name), "_ses.%s", id);
	long k = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
	if (k < 0 && errno == ENOSYS)
		return 0;
	if (k < 0)
		return vs_set_errno(ctx, errno, "cannot join the session "
						"keyring '%s'",
				    name);
	if (!made)
		return 0;
	/* "type;uid;gid;perm;description", perm in hex */
	errno = EINVAL;
	long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, k, desc, sizeof(desc));
	char *p = n > 0 && (size_t)n <= sizeof(desc) ? desc : NULL;
	if (p)
		desc[sizeof(desc) - 1] = '\0';
	for (int i = 0; p && i < 3; i++)
		p = (p = strchr(p, ';')) ? p + 1 : NULL;
	if (!p)
		return vs_set_errno(ctx, errno, "cannot read the session "
						"keyring '%s'",
				    name);
	/* search: the user's (keyutils' KEY_USR_SEARCH) or the others'
	 * (KEY_OTH_SEARCH) */
	unsigned long perm = strtoul(p, NULL, 16) |
			     (userns ? 0x00000008UL : 0x00080000UL);
	if (syscall(SYS_keyctl, KEYCTL_SETPERM, k, perm) < 0)
		return vs_set_errno(ctx, errno, "cannot set the permissions "
						"of the session keyring '%s'",
				    name);
	return 0;
}

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
	struct vs_rlimit_want want[RLIM_NLIMITS] = {0};
	for (size_t i = 0; i < p->nrlimits; i++) {
		int r = p->rlimits[i].resource;
		if (r < 0 || r >= RLIM_NLIMITS)
			return vs_set_error(ctx, "rlimit %d: not a resource of "
						 "this kernel",
					    r);
		want[r].set = true;
		want[r].lim.rlim_cur = (rlim_t)p->rlimits[i].soft;
		want[r].lim.rlim_max = (rlim_t)p->rlimits[i].hard;
	}
	int bad = 0;
	if (vs_rlimits_set(pid, want, &bad) < 0)
		return vs_set_errno(ctx, errno,
				    "cannot set the rlimit %d of the process",
				    bad);
	if (p->has_oom && vs_oom_write(pid, p->oom_score_adj) < 0)
		return vs_set_errno(ctx, errno, "cannot set oomScoreAdj %d",
				    p->oom_score_adj);
	return 0;
}

void oci_process_exec(struct vs_ctx *ctx, const struct vs_oci_process *p,
		      void *filter)
{
	vs_signals_reset();
	gid_t gids[256];
	size_t ng = p->ngids < 256 ? p->ngids : 256;
	for (size_t i = 0; i < ng; i++)
		gids[i] = (gid_t)p->gids[i];
	/* no capabilities asked for: none at all */
	struct vs_creds c = {.no_new_privs = p->no_new_privs,
			     .filter = filter,
			     .has_sets = true,
			     .set_user = true,
			     .uid = p->uid,
			     .gid = p->gid,
			     .groups = gids,
			     .ngroups = ng};
	if (p->has_caps) {
		c.bounding = p->caps[0];
		c.effective = p->caps[1];
		c.inheritable = p->caps[2];
		c.permitted = p->caps[3];
		c.ambient = p->caps[4];
	}
	enum vs_creds_step s;
	if (vs_creds_apply(&c, &s) < 0) {
		if (s == VS_CREDS_USER)
			vs_set_errno(ctx, errno, "cannot become uid %u gid %u",
				     p->uid, p->gid);
		else
			vs_set_errno(ctx, errno, "cannot %s",
				     vs_creds_what(s));
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
