/* util-vserver's sysctl/<x>/{setting,value}: the settings of the guest's
 * own namespaces (network with spaces/net, IPC, UTS) are written from a
 * child that joins them; a setting of the whole host is refused with a
 * warning, since writing it would change the host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* Namespaced by the IPC namespace (and fs.mqueue.*); kernel.hostname and
 * kernel.domainname by the UTS one, net.* by the network one. */
static const char *const ipc[] = {
	"kernel.shmmax",      "kernel.shmall",	   "kernel.shmmni",
	"kernel.shm_rmid_forced", "kernel.msgmax", "kernel.msgmnb",
	"kernel.msgmni",      "kernel.sem",	   "kernel.auto_msgmni",
	"kernel.msg_next_id", "kernel.sem_next_id", "kernel.shm_next_id",
	NULL};

static bool name_ok(const char *s)
{
	if (!*s || *s == '.' || strstr(s, ".."))
		return false;
	for (; *s; s++)
		if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
		    !(*s >= '0' && *s <= '9') && !strchr("._-", *s))
			return false;
	return true;
}

void vs_sysctl_path(const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "/proc/sys/%s", name);
	for (char *p = out + 10; p < out + n && *p; p++)
		if (*p == '.')
			*p = '/';
}

bool vs_sysctl_namespaced(const char *name, int nsflags)
{
	if (!name_ok(name))
		return false;
	if (!strncmp(name, "net.", 4))
		return nsflags & CLONE_NEWNET;
	if (!strncmp(name, "fs.mqueue.", 10))
		return nsflags & CLONE_NEWIPC;
	if (!strcmp(name, "kernel.hostname") ||
	    !strcmp(name, "kernel.domainname"))
		return nsflags & CLONE_NEWUTS;
	for (const char *const *p = ipc; *p; p++)
		if (!strcmp(name, *p))
			return nsflags & CLONE_NEWIPC;
	return false;
}

int vs_sysctl_load(struct vs_guest *g, bool netns, bool warn,
		   struct vs_sysctl **out, size_t *n)
{
	struct vs_ctx *ctx = g->ctx;
	char path[PATH_MAX], real[PATH_MAX];
	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/sysctl", g->cfgdir);
	char **xs = vs_host_list(ctx, path);
	vs_clear_error(ctx);
	int r = 0;
	for (char **x = xs; x && *x && r == 0; x++) {
		char rel[PATH_MAX], set[256] = "", val[1024] = "";
		snprintf(rel, sizeof(rel), "sysctl/%s/setting", *x);
		if (vs_guest_cfg_line(g, rel, set, sizeof(set)) < 0) {
			r = -1;
			break;
		}
		snprintf(rel, sizeof(rel), "sysctl/%s/value", *x);
		int k = vs_guest_cfg_line(g, rel, val, sizeof(val));
		if (k < 0) {
			r = -1;
			break;
		}
		snprintf(path, sizeof(path), "%s/sysctl/%s", g->cfgdir, *x);
		vs_host_real(ctx, path, real, sizeof(real));
		if (!set[0] || !k) {
			if (warn)
				vs_warn(ctx, "guest '%s': %s ignored: it needs a "
					     "setting and a value",
					g->name, real);
			continue;
		}
		if (!name_ok(set)) {
			r = vs_set_error(ctx, "%s/setting: not a sysctl name '%s'",
					 real, set);
			break;
		}
		if (!strncmp(set, "net.", 4) && !netns) {
			if (warn)
				vs_warn(ctx, "guest '%s': %s ignored: the guest "
					     "shares the host's network, whose "
					     "'%s' it would change (give it "
					     "spaces/net)",
					g->name, real, set);
			continue;
		}
		/* every guest has its own IPC and UTS namespaces */
		if (!vs_sysctl_namespaced(set, CLONE_NEWIPC | CLONE_NEWUTS |
						   CLONE_NEWNET)) {
			if (warn)
				vs_warn(ctx, "guest '%s': %s ignored: '%s' is "
					     "not a setting of the guest's own "
					     "namespaces: it would change the "
					     "host",
					g->name, real, set);
			continue;
		}
		*out = vs_xrealloc(*out, (*n + 1) * sizeof(**out));
		struct vs_sysctl *s = &(*out)[(*n)++];
		snprintf(s->name, sizeof(s->name), "%s", set);
		snprintf(s->value, sizeof(s->value), "%s", val);
	}
	vs_strv_free(xs);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* In the child: joins the guest's namespaces, writes each setting;
 * reports the index that failed and its errno (or -1, 0). */
static _Noreturn void write_all(int pidfd, const struct vs_sysctl *s,
				size_t n, int out)
{
	int rep[2] = {-1, 0};
	if (setns(pidfd, CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		rep[1] = errno;
	for (size_t i = 0; i < n && !rep[1]; i++) {
		char path[PATH_MAX];
		vs_sysctl_path(s[i].name, path, sizeof(path));
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		size_t len = strlen(s[i].value);
		if (fd < 0 || write(fd, s[i].value, len) != (ssize_t)len) {
			rep[0] = (int)i;
			rep[1] = errno;
		}
		if (fd >= 0)
			close(fd);
	}
	if (write(out, rep, sizeof(rep)) != sizeof(rep))
		_exit(1);
	_exit(0);
}

int vs_sysctl_apply(struct vs_guest *g, const struct vs_sysctl *s, size_t n,
		    int pidfd)
{
	if (!n)
		return 0;
	struct vs_ctx *ctx = g->ctx;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vs_set_errno(ctx, errno, "cannot set the sysctls of "
						"guest '%s'",
				    g->name);
	pid_t c = fork();
	if (c == 0) {
		close(p[0]);
		write_all(pidfd, s, n, p[1]);
	}
	close(p[1]);
	int rep[2] = {-1, c < 0 ? errno : EIO};
	if (c > 0 && read(p[0], rep, sizeof(rep)) != sizeof(rep))
		rep[1] = EIO;
	close(p[0]);
	if (c > 0)
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
	if (!rep[1])
		return 0;
	if (rep[0] < 0)
		return vs_set_errno(ctx, rep[1], "cannot enter the namespaces "
						 "of guest '%s'",
				    g->name);
	return vs_set_errno(ctx, rep[1], "cannot set sysctl '%s' to '%s' in "
					 "guest '%s'",
			    s[rep[0]].name, s[rep[0]].value, g->name);
}
