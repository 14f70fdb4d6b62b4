/* Run state of a guest: the run file (the target of the config dir's
 * "run" link), the per-guest lock, and whether the guest is running. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "runtime/runtime.h"

unsigned long long vs_proc_starttime(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* after the command name in parentheses: state is field 3 */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0; /* a zombie is gone, whoever reaps it */
	unsigned long long v = 0;
	int field = 2;
	for (char *save = NULL, *t = strtok_r(p + 1, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		if (++field == 22) {
			v = strtoull(t, NULL, 10);
			break;
		}
	}
	return v;
}

bool vs_proc_alive(pid_t pid, unsigned long long start)
{
	return pid > 0 && start && vs_proc_starttime(pid) == start;
}

/* The run file: the absolute target of <cfgdir>/run, else RUNDIR/<name>. */
char *vs_run_path(const struct vs_guest *g)
{
	char link[PATH_MAX], target[PATH_MAX];
	snprintf(link, sizeof(link), "%s/run", g->cfgdir);
	if (vs_host_readlink(g->ctx, link, target, sizeof(target)) > 0 &&
	    target[0] == '/')
		return vs_strdup(target);
	return vs_path_join(g->ctx->paths[VS_PATH_RUNDIR], g->name);
}

int vs_run_read(const struct vs_guest *g, struct vs_runstate *rs)
{
	memset(rs, 0, sizeof(*rs));
	char *path = vs_run_path(g);
	char *s = vs_host_read(g->ctx, path, 4096, NULL);
	free(path);
	if (!s)
		return errno == ENOENT ? 0 : -1;
	char *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save), lineno++) {
		long long a, b;
		if (lineno == 0)
			rs->xid = (unsigned)strtoul(l, NULL, 10);
		else if (sscanf(l, "monitor %lld %lld", &a, &b) == 2) {
			rs->monitor = (pid_t)a;
			rs->monitor_start = (unsigned long long)b;
		} else if (sscanf(l, "init %lld %lld", &a, &b) == 2) {
			rs->init = (pid_t)a;
			rs->init_start = (unsigned long long)b;
		} else if (sscanf(l, "started %lld", &a) == 1)
			rs->started = (time_t)a;
		else if (strcmp(l, "nonamespace") == 0)
			rs->nonamespace = true;
		else if (strncmp(l, "cgroup ", 7) == 0) {
			size_t len = strlen(rs->cgroups), n = strlen(l + 7);
			if (len + n + 2 <= sizeof(rs->cgroups))
				snprintf(rs->cgroups + len,
					 sizeof(rs->cgroups) - len, "%s\n",
					 l + 7);
		}
	}
	free(s);
	return 1;
}

int vs_run_write(struct vs_guest *g, const struct vs_runstate *rs)
{
	char data[512 + 2 * sizeof(rs->cgroups)], real[PATH_MAX];
	char tmp[NAME_MAX + 1];
	char *path = vs_run_path(g);
	const char *base;
	int n = snprintf(data, sizeof(data),
			 "%u\nmonitor %d %llu\ninit %d %llu\nstarted %lld\n%s",
			 rs->xid, (int)rs->monitor, rs->monitor_start,
			 (int)rs->init, rs->init_start, (long long)rs->started,
			 rs->nonamespace ? "nonamespace\n" : "");
	for (const char *l = rs->cgroups; *l;) {
		const char *nl = strchr(l, '\n');
		size_t k = nl ? (size_t)(nl - l) : strlen(l);
		n += snprintf(data + n, sizeof(data) - (size_t)n,
			      "cgroup %.*s\n", (int)k, l);
		l += k + (nl != NULL);
	}
	char *dir = vs_strdup(path);
	*strrchr(dir, '/') = '\0';
	int r = -1;
	if (vs_host_mkdir_p(g->ctx, *dir ? dir : "/", 0755) == 0) {
		int dfd = vs_host_parent(g->ctx, path, &base);
		if (dfd >= 0) {
			snprintf(tmp, sizeof(tmp), ".%.200s.%d", base,
				 (int)getpid());
			unlinkat(dfd, tmp, 0);
			r = vs_write_at(dfd, tmp, data, (size_t)n, 0644);
			if (r == 0 && renameat(dfd, tmp, dfd, base) < 0) {
				r = -1;
				unlinkat(dfd, tmp, 0);
			}
			close(dfd);
		}
	}
	if (r < 0)
		vs_set_errno(g->ctx, errno, "cannot write the run file '%s'",
			     vs_host_real(g->ctx, path, real, sizeof(real)));
	free(dir);
	free(path);
	return r;
}

void vs_run_remove(struct vs_guest *g)
{
	char *path = vs_run_path(g);
	const char *base;
	int dfd = vs_host_parent(g->ctx, path, &base);
	if (dfd >= 0) {
		unlinkat(dfd, base, 0);
		close(dfd);
	}
	free(path);
}

enum vs_state vs_guest_state(const struct vs_guest *g, struct vs_runstate *rs)
{
	struct vs_runstate tmp;
	if (!rs)
		rs = &tmp;
	if (vs_run_read(g, rs) != 1)
		return VS_STOPPED;
	if (vs_proc_alive(rs->monitor, rs->monitor_start) &&
	    vs_proc_alive(rs->init, rs->init_start))
		return VS_RUNNING;
	return VS_STALE;
}

int vs_guest_running(const struct vs_guest *g)
{
	return vs_guest_state(g, NULL) == VS_RUNNING;
}

int vs_guest_lock(struct vs_guest *g)
{
	/* an exclusive flock of the guest's configuration directory: one
	 * lock per guest, and no lock file, so that a refused start changes
	 * nothing on disk */
	char real[PATH_MAX];
	int fd = vs_host_open(g->ctx, g->cfgdir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return vs_set_errno(g->ctx, errno, "cannot open '%s'",
				    vs_host_real(g->ctx, g->cfgdir, real,
						 sizeof(real)));
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return vs_set_errno(g->ctx, e, "cannot lock '%s'",
					    vs_host_real(g->ctx, g->cfgdir, real,
							 sizeof(real)));
		}
	}
	return fd;
}

int vs_proc_status_masks(pid_t pid, const char *const *keys,
			 unsigned long long *out, int n)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	int seen = 0;
	while (f && fgets(line, sizeof(line), f))
		for (int i = 0; i < n; i++) {
			size_t k = strlen(keys[i]);
			if (!strncmp(line, keys[i], k) && line[k] == ':' &&
			    sscanf(line + k + 1, "%llx", &out[i]) == 1)
				seen++;
		}
	if (f)
		fclose(f);
	return seen;
}
