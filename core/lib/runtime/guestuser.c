/* A user of the guest (suexec), read from the guest's own passwd and
 * group files by a process already inside the guest's root. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/runtime.h"

/* A regular file of the guest (never a FIFO or device that could block). */
static FILE *open_plain(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	return fdopen(fd, "re");
}

static bool is_number(const char *s, unsigned long *v)
{
	char *end;
	if (!*s)
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !*end && !errno && *v < 0xffffffffUL;
}

static bool in_members(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && !strncmp(p, name, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

int vs_guest_user(const char *name, struct vs_user *u)
{
	memset(u, 0, sizeof(*u));
	unsigned long num = 0;
	bool numeric = is_number(name, &num);
	FILE *f = open_plain("/etc/passwd");
	char line[1024], uname[256] = "";
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char *fl[7];
		unsigned long uid, gid;
		if (vs_split_fields(line, ':', fl, 7) < 6 || !is_number(fl[2], &uid) ||
		    !is_number(fl[3], &gid) ||
		    (numeric ? uid != num : strcmp(fl[0], name) != 0))
			continue;
		snprintf(uname, sizeof(uname), "%s", fl[0]);
		u->uid = (uid_t)uid;
		u->gid = (gid_t)gid;
		snprintf(u->home, sizeof(u->home), "%s", fl[5]);
		found = true;
	}
	if (f)
		fclose(f);
	if (!found) {
		if (!numeric) {
			errno = ENOENT;
			return -1;
		}
		u->uid = (uid_t)num; /* a number the guest does not name */
		u->gid = (gid_t)num;
	}
	u->groups[u->ngroups++] = u->gid;
	f = uname[0] ? open_plain("/etc/group") : NULL;
	while (f && fgets(line, sizeof(line), f) &&
	       u->ngroups < sizeof(u->groups) / sizeof(*u->groups)) {
		char *fl[4];
		unsigned long gid;
		if (vs_split_fields(line, ':', fl, 4) == 4 && is_number(fl[2], &gid) &&
		    (gid_t)gid != u->gid && in_members(fl[3], uname))
			u->groups[u->ngroups++] = (gid_t)gid;
	}
	if (f)
		fclose(f);
	return 0;
}
