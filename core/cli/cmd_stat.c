/* vs stat: vserver-stat's table (COMPAT §7), with its display bugs fixed:
 * times show hundredths of a second, memory rounds instead of truncating. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct row {
	unsigned xid;
	size_t procs;
	unsigned long long vsz, rss;       /* bytes */
	unsigned long long utime, stime;   /* ms */
	unsigned long long uptime;         /* ms */
	char name[64];
	char addrs[512]; /* JSON array items */
};

static void add_proc(struct row *r, pid_t pid, long tick, long page,
		     unsigned long long now_ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p)
		return;
	unsigned long long f[64] = {0};
	int field = 3;
	char *save = NULL;
	for (char *t = strtok_r(p + 2, " ", &save); t && field < 40;
	     t = strtok_r(NULL, " ", &save), field++)
		f[field] = strtoull(t, NULL, 10);
	/* 14 utime 15 stime 16 cutime 17 cstime 22 starttime 23 vsize
	 * 24 rss (fields counted from 1; f[3] is the state) */
	r->procs++;
	r->utime += (f[14] + f[16]) * 1000 / (unsigned long long)tick;
	r->stime += (f[15] + f[17]) * 1000 / (unsigned long long)tick;
	r->vsz += f[23];
	r->rss += f[24] * (unsigned long long)page;
	unsigned long long up = now_ticks > f[22] ? now_ticks - f[22] : 0;
	up = up * 1000 / (unsigned long long)tick;
	if (up > r->uptime)
		r->uptime = up;
}

static unsigned long long now_ticks(long tick)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (unsigned long long)ts.tv_sec * (unsigned long long)tick +
	       (unsigned long long)ts.tv_nsec * (unsigned long long)tick /
		       1000000000ULL;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	return x->xid < y->xid ? -1 : x->xid > y->xid;
}

static void put(char *line, int end, const char *s)
{
	/* right-aligned so that the last character lands on column end */
	size_t n = strlen(s);
	int start = end - (int)n + 1;
	memcpy(line + (start < 0 ? 0 : start), s, n);
}

int cmd_stat(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	     int argc, char **argv)
{
	static const char *const names[] = {"--json", "-O", "--sort", NULL};
	bool seen[3] = {false};
	(void)unused;
	(void)n;
	int r = cmd_flags(ctx, argc, argv, names, seen);
	if (r)
		return r;
	long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long nt = now_ticks(tick);
	char **ids = vs_guest_list(ctx);
	struct row *rows = NULL;
	size_t nrows = 0;
	for (char **id = ids; *id; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		struct vs_runstate rs;
		if (!g || vs_guest_state(g, &rs) != VS_RUNNING) {
			vs_guest_free(g);
			continue;
		}
		rows = vs_xrealloc(rows, (nrows + 1) * sizeof(*rows));
		struct row *rw = &rows[nrows++];
		memset(rw, 0, sizeof(*rw));
		rw->xid = rs.xid;
		char display[64];
		if (vs_guest_cfg_line(g, "name", display, sizeof(display)) != 1)
			snprintf(display, sizeof(display), "%s", g->name);
		snprintf(rw->name, sizeof(rw->name), "%s", display);
		struct vs_net net;
		if (vs_net_load(g, &net) == 0) {
			size_t len = 0;
			for (size_t i = 0; i < net.naddrs && len < 400; i++)
				len += (size_t)snprintf(rw->addrs + len,
							sizeof(rw->addrs) - len,
							"%s\"%s\"", i ? ", " : "",
							net.addrs[i].text);
			vs_net_free(&net);
		}
		struct vs_cgroup cg;
		pid_t pids[8192];
		vs_cgroup_of(g, &rs, &cg);
		size_t np = vs_cgroup_pids(&cg, pids, 8192);
		for (size_t i = 0; i < np; i++)
			add_proc(rw, pids[i], tick, page, nt);
		vs_cgroup_free(&cg);
		vs_guest_free(g);
	}
	vs_clear_error(ctx);
	vs_strv_free(ids);
	qsort(rows, nrows, sizeof(*rows), cmp_row);
	if (seen[0]) {
		fputc('[', stdout);
		for (size_t i = 0; i < nrows; i++) {
			struct row *rw = &rows[i];
			printf("%s\n  {\"context\": %u, \"processes\": %zu, "
			       "\"vsz\": %llu, \"rss\": %llu, \"user_ms\": %llu, "
			       "\"sys_ms\": %llu, \"uptime_ms\": %llu, \"name\": ",
			       i ? "," : "", rw->xid, rw->procs, rw->vsz, rw->rss,
			       rw->utime, rw->stime, rw->uptime);
			json_str(stdout, rw->name);
			printf(", \"addresses\": [%s]}", rw->addrs);
		}
		fputs(nrows ? "\n]\n" : "]\n", stdout);
		free(rows);
		return 0;
	}
	puts("CTX   PROC    VSZ    RSS  userTIME   sysTIME    UPTIME NAME");
	for (size_t i = 0; i < nrows; i++) {
		struct row *rw = &rows[i];
		char line[128], f[32];
		memset(line, ' ', sizeof(line));
		snprintf(f, sizeof(f), "%u", rw->xid);
		memcpy(line, f, strlen(f));
		snprintf(f, sizeof(f), "%zu", rw->procs);
		put(line, 9, f);
		vs_fmt_mem(rw->vsz, f, sizeof(f));
		put(line, 16, f);
		vs_fmt_mem(rw->rss, f, sizeof(f));
		put(line, 23, f);
		vs_fmt_time(rw->utime, f, sizeof(f));
		put(line, 33, f);
		vs_fmt_time(rw->stime, f, sizeof(f));
		put(line, 43, f);
		vs_fmt_time(rw->uptime, f, sizeof(f));
		put(line, 53, f);
		snprintf(line + 55, sizeof(line) - 55, "%.20s", rw->name);
		puts(line);
	}
	free(rows);
	return 0;
}
