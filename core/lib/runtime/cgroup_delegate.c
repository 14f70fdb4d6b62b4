/* Where vs runs as a systemd service with Delegate=yes, the guests'
 * cgroups go below the unit's own (systemd's rule for a delegated
 * subtree: the unit manages it, nothing outside the unit's tree is
 * made), instead of below the configured base.  systemd marks a delegated
 * cgroup with the trusted.delegate extended attribute (user.delegate when
 * it runs in a user namespace); that mark, not a guess from the
 * environment, decides. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "runtime/runtime.h"

/* Same controllers in two comma-separated lists, in any order. */
static bool same_set(const char *a, const char *b)
{
	char *x = vs_strdup(a), *save = NULL;
	size_t na = 0, nb = 1;
	bool all = true;
	for (const char *c = b; *c; c++)
		nb += *c == ',';
	for (char *t = strtok_r(x, ",", &save); t && all;
	     t = strtok_r(NULL, ",", &save)) {
		na++;
		size_t l = strlen(t);
		const char *p = b;
		bool hit = false;
		while (p && *p && !hit) {
			const char *e = strchr(p, ',');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			hit = n == l && !strncmp(p, t, l);
			p = e ? e + 1 : NULL;
		}
		all = hit;
	}
	free(x);
	return all && na == nb;
}

char *vs_cgroup_own_path(const char *ctls)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char *line = NULL, *found = NULL;
	size_t cap = 0;
	while (f && !found && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':')
						     : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		bool v2 = c1 == line + 1 && line[0] == '0' && c2 == c1 + 1;
		if (ctls[0] ? same_set(c1 + 1, ctls) : v2)
			found = vs_strdup(c2 + 1);
	}
	free(line);
	if (f)
		fclose(f);
	return found;
}

bool vs_cgroup_is_delegated(const char *dir)
{
	/* trusted.* where systemd may write it; user.* from a systemd in a
	 * user namespace (a systemd guest's own units) */
	static const char *const marks[] = {"trusted.delegate",
					    "user.delegate"};
	for (size_t i = 0; i < sizeof(marks) / sizeof(*marks); i++) {
		char v[8];
		ssize_t n = getxattr(dir, marks[i], v, sizeof(v) - 1);
		if (n == 1 && v[0] == '1')
			return true;
	}
	return false;
}
