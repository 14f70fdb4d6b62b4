/* vs ps [ps options]: vps, ps with a CONTEXT column after PID (the guest's
 * context and name; 0 MAIN for the host).  PIDs of any width are read. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

struct running {
	char cgpath[PATH_MAX]; /* "/<base>/<name>" as /proc/PID/cgroup shows */
	unsigned xid;
	char name[64];
};

static struct running *running_guests(struct vs_ctx *ctx, size_t *n)
{
	char **ids = vs_guest_list(ctx);
	struct running *v = NULL;
	const char *base = vs_conf_str(ctx, "cgroup_base");
	*n = 0;
	for (char **id = ids; *id; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		struct vs_runstate rs;
		if (g && vs_guest_state(g, &rs) == VS_RUNNING) {
			v = vs_xrealloc(v, (*n + 1) * sizeof(*v));
			struct running *r = &v[(*n)++];
			snprintf(r->cgpath, sizeof(r->cgpath), "/%s/%s",
				 base ? base : "vservers", g->name);
			r->xid = rs.xid;
			if (vs_guest_cfg_line(g, "name", r->name,
					      sizeof(r->name)) != 1)
				snprintf(r->name, sizeof(r->name), "%s", g->name);
		}
		vs_guest_free(g);
	}
	vs_clear_error(ctx);
	vs_strv_free(ids);
	return v;
}

/* The guest of a pid, from /proc/PID/cgroup; NULL for the host, and
 * *err when the process is gone. */
static const struct running *guest_of(pid_t pid, const struct running *v,
				      size_t n, bool *err)
{
	char path[64], line[4096];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(path, "re");
	*err = !f;
	const struct running *hit = NULL;
	while (f && !hit && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p)
			continue;
		p++;
		p[strcspn(p, "\n")] = '\0';
		for (size_t i = 0; i < n && !hit; i++) {
			size_t l = strlen(v[i].cgpath);
			/* the group itself or below it (the guest's subgroups) */
			const char *at = strstr(p, v[i].cgpath);
			if (at && (at[l] == '\0' || at[l] == '/'))
				hit = &v[i];
		}
	}
	if (f)
		fclose(f);
	return hit;
}

/* vs ps --json: every process from /proc, with its guest:
 * [{"pid", "ppid", "uid", "context", "guest" (null: the host),
 *   "command"}] */
static int ps_json(struct vs_ctx *ctx)
{
	size_t nrun;
	struct running *run = running_guests(ctx, &nrun);
	DIR *d = opendir("/proc");
	if (!d) {
		free(run);
		return vs_set_errno(ctx, errno, "ps: cannot read /proc"), 1;
	}
	struct dirent *e;
	const char *sep = "";
	putchar('[');
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64], buf[4096];
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		FILE *f = fopen(path, "re");
		size_t k = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[k] = '\0';
		char *rp = strrchr(buf, ')');
		long ppid = 0;
		if (!rp || sscanf(rp + 2, "%*c %ld", &ppid) != 1)
			continue; /* gone meanwhile */
		struct stat st;
		snprintf(path, sizeof(path), "/proc/%ld", pid);
		long uid = stat(path, &st) == 0 ? (long)st.st_uid : -1;
		snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
		f = fopen(path, "re");
		k = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t i = 0; k && i < k - 1; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[k] = '\0';
		bool err;
		const struct running *g = guest_of((pid_t)pid, run, nrun, &err);
		printf("%s{\"pid\":%ld,\"ppid\":%ld,\"uid\":%ld,\"context\":%u,"
		       "\"guest\":",
		       sep, pid, ppid, uid, g ? g->xid : 0);
		if (g)
			json_str(stdout, g->name);
		else
			fputs("null", stdout);
		fputs(",\"command\":", stdout);
		json_str(stdout, buf);
		putchar('}');
		sep = ",";
	}
	puts("]");
	closedir(d);
	free(run);
	return 0;
}

int cmd_ps(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	   int argc, char **argv)
{
	(void)unused;
	(void)n;
	if (argc == 2 && !strcmp(argv[1], "--json"))
		return ps_json(ctx);
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return vs_set_errno(ctx, errno, "ps: cannot create a pipe"), 1;
	char **av = vs_xmalloc((size_t)(argc + 1) * sizeof(*av));
	av[0] = "ps";
	for (int i = 1; i < argc; i++)
		av[i] = argv[i];
	av[argc] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 1);
		int null = open("/dev/null", O_RDONLY);
		if (null >= 0)
			dup2(null, 0);
		execvp("ps", av);
		fprintf(stderr, "vs: ps: cannot run 'ps': %s\n", strerror(errno));
		_exit(127);
	}
	free(av);
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return vs_set_errno(ctx, errno, "ps: cannot fork"), 1;
	}
	size_t nrun;
	struct running *run = running_guests(ctx, &nrun);
	FILE *in = fdopen(pfd[0], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long pid_end = -1; /* index just past the PID header */
	bool first = true;
	while (in && (len = getline(&line, &cap, in)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (first) {
			first = false;
			char *p = strstr(line, "PID");
			if (p)
				pid_end = (long)(p - line) + 3;
			if (pid_end < 0) {
				puts(line);
				continue;
			}
			printf("%.*s %-19s%s\n", (int)pid_end, line, "CONTEXT",
			       line + pid_end);
			continue;
		}
		if (pid_end < 0 || len < pid_end) {
			puts(line);
			continue;
		}
		/* the PID ends where its header ends (right-aligned) */
		long e = pid_end, s = e;
		while (s > 0 && isdigit((unsigned char)line[s - 1]))
			s--;
		char col[64];
		if (s == e) {
			snprintf(col, sizeof(col), "%s", "");
		} else {
			pid_t p = (pid_t)strtol(line + s, NULL, 10);
			bool err;
			const struct running *g = guest_of(p, run, nrun, &err);
			if (err)
				snprintf(col, sizeof(col), "  ERR ");
			else
				snprintf(col, sizeof(col), "%5u %s",
					 g ? g->xid : 0, g ? g->name : "MAIN");
		}
		printf("%.*s %-19.19s%s\n", (int)pid_end, line, col,
		       line + pid_end);
	}
	free(line);
	if (in)
		fclose(in);
	free(run);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
