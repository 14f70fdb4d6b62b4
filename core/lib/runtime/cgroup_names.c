/* The v1 and v2 spellings of the same cgroup setting, the conversion
 * of its value between them, and the BFQ files a block I/O weight takes
 * where the kernel has no other. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static const struct {
	const char *v1, *v2;
} renames[] = {
	{"memory.limit_in_bytes", "memory.max"},
	{"memory.soft_limit_in_bytes", "memory.low"},
	{"memory.memsw.limit_in_bytes", "memory.swap.max"},
	{"cpu.shares", "cpu.weight"},
	{"memory.soft_limit_in_bytes", "memory.high"}, /* v2 -> v1 only */
	{"blkio.weight", "io.weight"},
	{"blkio.weight_device", "io.weight"}, /* v1 -> v2 only */
};

/* v in lo..hi (clamped) mapped linearly onto to_lo..to_hi: cpu.shares
 * 2..262144 <-> cpu.weight 1..10000, the conversion systemd, runc and
 * crun use (1024 -> 39) */
static unsigned long long rescale(unsigned long long v, unsigned long long lo,
				  unsigned long long hi,
				  unsigned long long to_lo,
				  unsigned long long to_hi)
{
	v = v < lo ? lo : v > hi ? hi : v;
	return to_lo + ((v - lo) * (to_hi - to_lo)) / (hi - lo);
}

/* A weight line ("N", "default N" or "MAJ:MIN N") with N converted:
 * blkio's 10..1000 <-> io.weight's 1..10000, runc's conversion
 * (500 -> 4950). */
static void weight_line(const char *in, bool to_io, char *out, size_t osize)
{
	const char *n = strrchr(in, ' ');
	n = n ? n + 1 : in;
	unsigned long long v = strtoull(n, NULL, 10);
	int keep = (int)(n - in);
	if (!to_io && !strncmp(in, "default ", 8))
		keep = 0; /* blkio.weight is the number alone */
	snprintf(out, osize, "%.*s%llu", keep, in,
		 to_io ? rescale(v, 10, 1000, 1, 10000)
		       : rescale(v, 1, 10000, 10, 1000));
}

void vs_cgroup_translate(const char *name, const char *value, bool v2,
			 char *file, size_t fsize, char *out, size_t osize)
{
	const char *to = name;
	for (size_t i = 0; i < sizeof(renames) / sizeof(*renames); i++)
		if (!strcmp(name, v2 ? renames[i].v1 : renames[i].v2)) {
			to = v2 ? renames[i].v2 : renames[i].v1;
			break; /* the first spelling wins */
		}
	snprintf(file, fsize, "%s", to);
	char in[256];
	snprintf(in, sizeof(in), "%.*s", (int)strcspn(value, "\n"), value);
	if (!strcmp(name, "cpu.shares") && !strcmp(to, "cpu.weight"))
		snprintf(out, osize, "%llu",
			 rescale(strtoull(in, NULL, 10), 2, 262144, 1, 10000));
	else if (!strcmp(name, "cpu.weight") && !strcmp(to, "cpu.shares"))
		snprintf(out, osize, "%llu",
			 rescale(strtoull(in, NULL, 10), 1, 10000, 2, 262144));
	else if (!strncmp(name, "blkio.weight", 12) && !strcmp(to, "io.weight"))
		weight_line(in, true, out, osize);
	else if (!strcmp(name, "io.weight") && !strcmp(to, "blkio.weight")) {
		weight_line(in, false, out, osize);
		if (strchr(in, ':')) /* a device's line */
			snprintf(file, fsize, "blkio.weight_device");
	}
	else if (!strncmp(to, "memory.", 7) && v2 && !strcmp(in, "-1"))
		snprintf(out, osize, "max"); /* v1's "no limit" */
	else if (!strncmp(to, "memory.", 7) && !v2 && !strcmp(in, "max"))
		snprintf(out, osize, "-1");
	else
		snprintf(out, osize, "%s", in);
}

const char *vs_cgroup_bfq_file(const char *dir, const char *name, bool v2)
{
	/* the setting (CFQ's own v1 file), BFQ's v1 file, BFQ's cgroup2 one */
	static const struct {
		const char *name, *bfq1, *bfq2;
	} bfq[] = {
		{"blkio.weight", "blkio.bfq.weight", "io.bfq.weight"},
		{"blkio.weight_device", "blkio.bfq.weight_device",
		 "io.bfq.weight"},
	};
	size_t i = 0;
	while (i < sizeof(bfq) / sizeof(*bfq) && strcmp(name, bfq[i].name))
		i++;
	if (i == sizeof(bfq) / sizeof(*bfq))
		return NULL; /* not a weight: no look at the group */
	int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	const char *f = v2 ? bfq[i].bfq2 : bfq[i].bfq1;
	/* v1: CFQ's own file first (before Linux 5.0) */
	if ((!v2 && faccessat(dfd, name, F_OK, 0) == 0) ||
	    faccessat(dfd, f, F_OK, 0) < 0)
		f = NULL;
	close(dfd);
	return f;
}
