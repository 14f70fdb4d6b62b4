/* An OCI container's state: <root>/<id>/state (key value lines, written
 * by rename), its status computed from the process and exec.fifo, and
 * the runtime-spec JSON of it. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/oci_int.h"

char *oci_dir(struct vs_ctx *ctx, const char *root, const char *id)
{
	size_t n = strlen(id);
	bool ok = n > 0 && n <= 200 && strcmp(id, ".") && strcmp(id, "..");
	for (const char *c = id; ok && *c; c++)
		ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		     (*c >= '0' && *c <= '9') || strchr("_.+-", *c);
	if (!ok) {
		vs_set_error(ctx, "bad container id '%s': letters, digits and "
				  "'_.+-' only, at most 200",
			     id);
		return NULL;
	}
	return vs_asprintf("%s/%s", root, id);
}

void oci_now(char *out, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char day[32];
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%09ldZ", day, ts.tv_nsec);
}

int oci_state_write(struct vs_ctx *ctx, const char *dir,
		    const struct vs_oci_state *st)
{
	char *tmp = vs_asprintf("%s/.state", dir), *to = vs_asprintf("%s/state",
								      dir);
	FILE *f = fopen(tmp, "we");
	int r = 0;
	if (!f) {
		r = vs_set_errno(ctx, errno, "cannot write '%s'", tmp);
	} else {
		fprintf(f, "pid %d\nstart %llu\ncreated %s\nbundle %s\n",
			(int)st->pid, st->start, st->created, st->bundle);
		for (const char *l = st->cgroups; *l;) {
			const char *nl = strchr(l, '\n');
			size_t k = nl ? (size_t)(nl - l) : strlen(l);
			fprintf(f, "cgroup %.*s\n", (int)k, l);
			l += k + (nl ? 1 : 0);
		}
		if (st->no_new_keyring)
			fputs("keyring caller\n", f);
		if (fflush(f) != 0 || fsync(fileno(f)) != 0)
			r = vs_set_errno(ctx, errno, "cannot write '%s'", tmp);
		fclose(f);
		if (r == 0 && rename(tmp, to) < 0)
			r = vs_set_errno(ctx, errno, "cannot write '%s'", to);
	}
	free(tmp);
	free(to);
	return r;
}

int vs_oci_state(struct vs_ctx *ctx, const char *root, const char *id,
		 struct vs_oci_state *st)
{
	memset(st, 0, sizeof(*st));
	char *dir = oci_dir(ctx, root, id);
	if (!dir)
		return -1;
	snprintf(st->id, sizeof(st->id), "%s", id);
	char *path = vs_asprintf("%s/state", dir);
	FILE *f = fopen(path, "re");
	int r = 0;
	if (!f) {
		struct stat sb;
		if (errno == ENOENT && stat(dir, &sb) == 0) {
			/* being created (or a create that died: delete
			 * removes it) */
			snprintf(st->status, sizeof(st->status), "creating");
		} else {
			r = vs_set_error(ctx, "container '%s' does not exist",
					 id);
		}
		free(path);
		free(dir);
		return r;
	}
	char *line = NULL;
	size_t cap = 0, cl = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "pid"))
			st->pid = (pid_t)atoi(v);
		else if (!strcmp(line, "start"))
			st->start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "created"))
			snprintf(st->created, sizeof(st->created), "%s", v);
		else if (!strcmp(line, "bundle"))
			snprintf(st->bundle, sizeof(st->bundle), "%s", v);
		else if (!strcmp(line, "keyring"))
			st->no_new_keyring = !strcmp(v, "caller");
		else if (!strcmp(line, "cgroup")) {
			int n = snprintf(st->cgroups + cl,
					 sizeof(st->cgroups) - cl, "%s\n", v);
			if (n > 0 && (size_t)n < sizeof(st->cgroups) - cl)
				cl += (size_t)n;
		}
	}
	free(line);
	fclose(f);
	free(path);
	char *fifo = vs_asprintf("%s/exec.fifo", dir);
	bool alive = st->pid > 0 && vs_proc_alive(st->pid, st->start);
	snprintf(st->status, sizeof(st->status), "%s",
		 !alive ? "stopped"
		 : access(fifo, F_OK) == 0 ? "created"
					   : "running");
	free(fifo);
	free(dir);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **vs_oci_list(struct vs_ctx *ctx, const char *root)
{
	(void)ctx;
	size_t n = 0;
	char **ids = vs_xmalloc(sizeof(*ids));
	DIR *d = opendir(root);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		ids = vs_xrealloc(ids, (n + 2) * sizeof(*ids));
		ids[n++] = vs_strdup(e->d_name);
	}
	if (d)
		closedir(d);
	ids[n] = NULL;
	qsort(ids, n, sizeof(*ids), by_name);
	return ids;
}

void oci_state_cgroups(struct vs_ctx *ctx, const struct vs_oci_state *st,
		       struct vs_cgroup *cg)
{
	struct vs_guest g = {.ctx = ctx, .name = (char *)st->id};
	struct vs_runstate rs;
	memset(&rs, 0, sizeof(rs));
	memset(cg, 0, sizeof(*cg));
	if (!st->cgroups[0])
		return;
	snprintf(rs.cgroups, sizeof(rs.cgroups), "%s", st->cgroups);
	vs_cgroup_of(&g, &rs, cg);
	/* the parent of an OCI container's group is the engine's */
	snprintf(cg->base, sizeof(cg->base), "/");
	cg->delegated = true;
	cg->chain = true;
}

/* s as a JSON string (with quotes), appended to a malloc'd buffer. */
static void jstr(char **buf, size_t *len, const char *s)
{
	size_t need = *len + 6 * strlen(s) + 3;
	*buf = vs_xrealloc(*buf, need + 1);
	char *o = *buf + *len;
	*o++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*o++ = '\\';
			*o++ = (char)*c;
		} else if (*c < 0x20) {
			o += sprintf(o, "\\u%04x", *c);
		} else {
			*o++ = (char)*c;
		}
	}
	*o++ = '"';
	*o = '\0';
	*len = (size_t)(o - *buf);
}

static void jraw(char **buf, size_t *len, const char *s)
{
	size_t n = strlen(s);
	*buf = vs_xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

char *vs_oci_state_json(const struct vs_oci_state *st)
{
	char *b = NULL, num[32];
	size_t n = 0;
	jraw(&b, &n, "{\"ociVersion\":\"1.1.0\",\"id\":");
	jstr(&b, &n, st->id);
	jraw(&b, &n, ",\"status\":");
	jstr(&b, &n, st->status);
	snprintf(num, sizeof(num), ",\"pid\":%d", (int)(strcmp(st->status,
								 "stopped")
							  ? st->pid
							  : 0));
	jraw(&b, &n, num);
	jraw(&b, &n, ",\"bundle\":");
	jstr(&b, &n, st->bundle);
	jraw(&b, &n, ",\"created\":");
	jstr(&b, &n, st->created);
	jraw(&b, &n, ",\"owner\":\"\",\"annotations\":{}}");
	return b;
}
