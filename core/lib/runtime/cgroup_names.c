/* The v1 and v2 spellings of the same cgroup setting, and the conversion
 * of its value between them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct {
	const char *v1, *v2;
} renames[] = {
	{"memory.limit_in_bytes", "memory.max"},
	{"memory.soft_limit_in_bytes", "memory.low"},
	{"memory.memsw.limit_in_bytes", "memory.swap.max"},
	{"cpu.shares", "cpu.weight"},
	{"memory.soft_limit_in_bytes", "memory.high"}, /* v2 -> v1 only */
};

/* cpu.shares 2..262144 <-> cpu.weight 1..10000, the conversion systemd,
 * runc and crun use (1024 -> 39) */
static unsigned long long shares_to_weight(unsigned long long v)
{
	v = v < 2 ? 2 : v > 262144 ? 262144 : v;
	return 1 + ((v - 2) * 9999) / 262142;
}

static unsigned long long weight_to_shares(unsigned long long v)
{
	v = v < 1 ? 1 : v > 10000 ? 10000 : v;
	return 2 + ((v - 1) * 262142) / 9999;
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
			 shares_to_weight(strtoull(in, NULL, 10)));
	else if (!strcmp(name, "cpu.weight") && !strcmp(to, "cpu.shares"))
		snprintf(out, osize, "%llu",
			 weight_to_shares(strtoull(in, NULL, 10)));
	else if (!strncmp(to, "memory.", 7) && v2 && !strcmp(in, "-1"))
		snprintf(out, osize, "max"); /* v1's "no limit" */
	else if (!strncmp(to, "memory.", 7) && !v2 && !strcmp(in, "max"))
		snprintf(out, osize, "-1");
	else
		snprintf(out, osize, "%s", in);
}
