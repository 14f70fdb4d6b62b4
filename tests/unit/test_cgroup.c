/* The v1 and v2 spellings of cgroup settings and their values. */
#include <string.h>

#include "cu.h"

/* a setting as written in cgroup/, and how it is written in a v2 (or v1)
 * hierarchy */
static const struct {
	const char *name, *value;
	bool v2;
	const char *file, *out;
} cases[] = {
	/* memory: renamed; v1's "no limit" is -1, v2's max (v2 refuses -1) */
	{"memory.limit_in_bytes", "268435456\n", true, "memory.max", "268435456"},
	{"memory.limit_in_bytes", "-1\n", true, "memory.max", "max"},
	{"memory.limit_in_bytes", "512M", true, "memory.max", "512M"},
	{"memory.max", "max\n", false, "memory.limit_in_bytes", "-1"},
	{"memory.max", "1G", false, "memory.limit_in_bytes", "1G"},
	{"memory.soft_limit_in_bytes", "1000", true, "memory.low", "1000"},
	{"memory.low", "1000", false, "memory.soft_limit_in_bytes", "1000"},
	{"memory.high", "1000", false, "memory.soft_limit_in_bytes", "1000"},
	{"memory.memsw.limit_in_bytes", "-1", true, "memory.swap.max", "max"},
	{"memory.max", "max", true, "memory.max", "max"},
	{"memory.limit_in_bytes", "-1", false, "memory.limit_in_bytes", "-1"},
	/* cpu.shares 2..262144 <-> cpu.weight 1..10000 (systemd's formula) */
	{"cpu.shares", "2", true, "cpu.weight", "1"},
	{"cpu.shares", "262144", true, "cpu.weight", "10000"},
	{"cpu.weight", "1", false, "cpu.shares", "2"},
	{"cpu.weight", "10000", false, "cpu.shares", "262144"},
	{"cpu.shares", "1024\n", true, "cpu.weight", "39"}, /* v1 default */
	{"cpu.shares", "512", true, "cpu.weight", "20"},
	{"cpu.weight", "100", false, "cpu.shares", "2597"}, /* v2 default */
	{"cpu.weight", "39", false, "cpu.shares", "998"},
	{"cpu.shares", "0", true, "cpu.weight", "1"}, /* clamped */
	{"cpu.shares", "1000000", true, "cpu.weight", "10000"},
	{"cpu.weight", "0", false, "cpu.shares", "2"},
	{"cpu.weight", "20000", false, "cpu.shares", "262144"},
	{"cpu.shares", "512", false, "cpu.shares", "512"}, /* same spelling */
	{"cpu.weight", "100", true, "cpu.weight", "100"},
	/* the rest: the first line, as written */
	{"pids.max", "max\n", false, "pids.max", "max"},
	{"hugetlb.2MB.max", "0\nsecond line\n", true, "hugetlb.2MB.max", "0"},
	{"cpuset.cpus", "0-3", true, "cpuset.cpus", "0-3"},
};

static void test_translate(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char file[128] = "", out[64] = "";
		vs_cgroup_translate(cases[i].name, cases[i].value, cases[i].v2,
				    file, sizeof(file), out, sizeof(out));
		if (strcmp(file, cases[i].file) || strcmp(out, cases[i].out))
			fprintf(stderr, "%s=%s (v%d): got %s=%s\n",
				cases[i].name, cases[i].value,
				cases[i].v2 ? 2 : 1, file, out);
		CU_ASSERT_STRING_EQUAL(file, cases[i].file);
		CU_ASSERT_STRING_EQUAL(out, cases[i].out);
	}
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("cgroup names", NULL, NULL);
	if (!s || !CU_add_test(s, "translate", test_translate))
		return -1;
	return 0;
}
