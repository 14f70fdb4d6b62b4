/* util-vserver's exclusive cpus on cgroup2: the guest's group becomes a
 * partition of its own (cpuset.cpus.partition "root"), whose cpus neither
 * the host nor another guest runs on.  The base above it stays a member:
 * its cpuset.cpus.exclusive (Linux 6.7) lends the guest's cpus through
 * it, a remote partition, so the host and the other guests keep every
 * other cpu.  The base's exclusive cpus are always the union of those of
 * its exclusive guests: set at start, given back when a guest's group is
 * gone. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/runtime.h"

#define NCPUS (int)(sizeof(((struct vs_cpus *)0)->bits) * 8)
#define WORD (int)(sizeof(unsigned long) * 8)

static bool has(const struct vs_cpus *set, int c)
{
	return set->bits[c / WORD] >> (c % WORD) & 1;
}

static void or_into(struct vs_cpus *to, const struct vs_cpus *from)
{
	for (size_t i = 0; i < sizeof(to->bits) / sizeof(*to->bits); i++)
		to->bits[i] |= from->bits[i];
}

static int count(const struct vs_cpus *set)
{
	int n = 0;
	for (int c = 0; c < NCPUS; c++)
		n += has(set, c);
	return n;
}

int vs_cpulist_parse(const char *s, struct vs_cpus *set)
{
	memset(set, 0, sizeof(*set));
	while (*s == ' ')
		s++;
	while (*s && *s != '\n') {
		char *end;
		errno = 0;
		long a = strtol(s, &end, 10), b = a;
		if (end == s || errno || a < 0)
			return -1;
		s = end;
		if (*s == '-') {
			b = strtol(++s, &end, 10);
			if (end == s || errno || b < a)
				return -1;
			s = end;
		}
		if (b >= NCPUS)
			return -1;
		for (long c = a; c <= b; c++)
			set->bits[c / WORD] |= 1UL << (c % WORD);
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -1;
	}
	return 0;
}

void vs_cpulist_format(const struct vs_cpus *set, char *buf, size_t len)
{
	size_t o = 0;
	buf[0] = '\0';
	for (int c = 0; c < NCPUS; c++) {
		if (!has(set, c))
			continue;
		int e = c;
		while (e + 1 < NCPUS && has(set, e + 1))
			e++;
		int n = e == c ? snprintf(buf + o, len - o, "%s%d", o ? "," : "", c)
			       : snprintf(buf + o, len - o, "%s%d-%d",
					  o ? "," : "", c, e);
		if (n < 0 || (size_t)n >= len - o) {
			buf[o] = '\0';
			return;
		}
		o += (size_t)n;
		c = e;
	}
}

/* The cpu list in dir/file into set; false when unreadable or bad. */
static bool read_cpus(int dirfd, const char *file, struct vs_cpus *set)
{
	char buf[4096];
	int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	return vs_cpulist_parse(buf, set) == 0;
}

static int write_at(int dirfd, const char *file, const char *value)
{
	int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* an empty list is written as a newline */
	const char *v = value[0] ? value : "\n";
	ssize_t n = write(fd, v, strlen(v));
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)strlen(v) ? 0 : -1;
}

/* Adds a child group's exclusive cpus to the set at arg. */
static void add_exclusive(int dfd, const char *name, int fd, int depth,
			  void *arg)
{
	(void)dfd;
	(void)name;
	(void)depth;
	struct vs_cpus c;
	if (read_cpus(fd, "cpuset.cpus.exclusive", &c))
		or_into(arg, &c);
}

/* The union of the exclusive cpus of base's child groups. */
static void children_exclusive(int basefd, struct vs_cpus *all)
{
	memset(all, 0, sizeof(*all));
	vs_cgroup_each_child(basefd, 0, add_exclusive, all);
}

int vs_cgroup_partition(struct vs_guest *g, const char *dir, const char *key)
{
	char base[PATH_MAX], list[4096];
	snprintf(base, sizeof(base), "%s", dir);
	*strrchr(base, '/') = '\0';
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int gfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct vs_cpus want, held;
	int r = -1;
	if (bfd < 0 || gfd < 0) {
		vs_set_errno(g->ctx, errno, "cannot open '%s'",
			     bfd < 0 ? base : dir);
		goto out;
	}
	if (faccessat(bfd, "cpuset.cpus.exclusive", F_OK, 0) < 0) {
		vs_warn(g->ctx,
			"guest '%s': %s ignored: this kernel's cgroup2 cpuset "
			"has no cpuset.cpus.exclusive (Linux 6.7), which an "
			"exclusive cpuset below '%s' needs",
			g->name, key, base);
		r = 0;
		goto out;
	}
	if (!read_cpus(gfd, "cpuset.cpus", &want) || count(&want) == 0) {
		vs_set_error(g->ctx,
			     "cannot apply %s of guest '%s': it needs its own "
			     "cpus (cpuset/cpus), which the host then no longer "
			     "uses",
			     key, g->name);
		goto out;
	}
	vs_cpulist_format(&want, list, sizeof(list));
	/* the base lends the guest's cpus on top of its other guests' */
	children_exclusive(bfd, &held);
	or_into(&held, &want);
	char all[4096];
	vs_cpulist_format(&held, all, sizeof(all));
	if (write_at(bfd, "cpuset.cpus.exclusive", all) < 0 ||
	    write_at(gfd, "cpuset.cpus.exclusive", list) < 0) {
		vs_set_errno(g->ctx, errno,
			     "cannot apply %s of guest '%s': cpus %s cannot be "
			     "exclusive below '%s' (another group holds them, "
			     "or they are all the host has)",
			     key, g->name, list, base);
		goto out;
	}
	char state[256] = "";
	if (write_at(gfd, "cpuset.cpus.partition", "root") == 0) {
		int fd = openat(gfd, "cpuset.cpus.partition",
				O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, state, sizeof(state) - 1) : -1;
		if (fd >= 0)
			close(fd);
		state[n > 0 ? n : 0] = '\0';
		state[strcspn(state, "\n")] = '\0';
	} else {
		snprintf(state, sizeof(state), "refused: %s", strerror(errno));
	}
	if (strcmp(state, "root") != 0) {
		vs_set_error(g->ctx,
			     "cannot apply %s of guest '%s': '%s' is no "
			     "partition of cpus %s (%s)",
			     key, g->name, dir, list, state);
		write_at(gfd, "cpuset.cpus.partition", "member");
		goto out;
	}
	r = 0;
out:
	if (bfd >= 0)
		close(bfd);
	if (gfd >= 0)
		close(gfd);
	return r;
}

int vs_cgroup_partition_free(struct vs_guest *g, const char *dir,
			     const char *list)
{
	char base[PATH_MAX], taken[4096];
	snprintf(base, sizeof(base), "%s", dir);
	*strrchr(base, '/') = '\0';
	struct vs_cpus want, held;
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool known = bfd >= 0 && vs_cpulist_parse(list, &want) == 0 &&
		     read_cpus(bfd, "cpuset.cpus.exclusive", &held);
	if (bfd >= 0)
		close(bfd);
	if (!known)
		return 0; /* nothing lent, or the kernel judges the list */
	bool clash = false;
	for (size_t i = 0; i < sizeof(held.bits) / sizeof(*held.bits); i++) {
		held.bits[i] &= want.bits[i];
		clash |= held.bits[i] != 0;
	}
	if (!clash)
		return 0;
	vs_cpulist_format(&held, taken, sizeof(taken));
	/* (an OCI container's group has no configuration directory) */
	return vs_set_error(g->ctx,
			    "cannot give %s '%s' cpus %s: cpus %s belong to "
			    "an exclusive guest's partition (cpuset.cpus."
			    "exclusive of '%s')",
			    g->cfgdir ? "guest" : "container", g->name, list,
			    taken, base);
}

void vs_cgroup_partition_release(const char *base)
{
	int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0)
		return;
	struct vs_cpus cur, held;
	if (read_cpus(bfd, "cpuset.cpus.exclusive", &cur) &&
	    count(&cur) > 0) {
		children_exclusive(bfd, &held);
		if (memcmp(&cur, &held, sizeof(cur)) != 0) {
			char list[4096];
			vs_cpulist_format(&held, list, sizeof(list));
			write_at(bfd, "cpuset.cpus.exclusive", list);
		}
	}
	close(bfd);
}
