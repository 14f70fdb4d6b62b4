/* The v1 and v2 spellings of cgroup settings and their values. */
#include <string.h>

#include "cu.h"

static char file[128], val[64];

/* tr: translates into the globals file and val */
static void tr(const char *name, const char *value, bool v2)
{
	vs_cgroup_translate(name, value, v2, file, sizeof(file), val,
			    sizeof(val));
}

static void test_memory(void)
{
	tr("memory.limit_in_bytes", "268435456\n", true);
	CU_ASSERT_STRING_EQUAL(file, "memory.max");
	CU_ASSERT_STRING_EQUAL(val, "268435456");
	tr("memory.limit_in_bytes", "-1\n", true);
	CU_ASSERT_STRING_EQUAL(val, "max"); /* v2 refuses -1 */
	tr("memory.limit_in_bytes", "512M", true);
	CU_ASSERT_STRING_EQUAL(val, "512M");
	tr("memory.max", "max\n", false);
	CU_ASSERT_STRING_EQUAL(file, "memory.limit_in_bytes");
	CU_ASSERT_STRING_EQUAL(val, "-1");
	tr("memory.max", "1G", false);
	CU_ASSERT_STRING_EQUAL(val, "1G");
	tr("memory.soft_limit_in_bytes", "1000", true);
	CU_ASSERT_STRING_EQUAL(file, "memory.low");
	tr("memory.low", "1000", false);
	CU_ASSERT_STRING_EQUAL(file, "memory.soft_limit_in_bytes");
	tr("memory.memsw.limit_in_bytes", "-1", true);
	CU_ASSERT_STRING_EQUAL(file, "memory.swap.max");
	CU_ASSERT_STRING_EQUAL(val, "max");
	/* already in the hierarchy's spelling: unchanged */
	tr("memory.max", "max", true);
	CU_ASSERT_STRING_EQUAL(file, "memory.max");
	CU_ASSERT_STRING_EQUAL(val, "max");
	tr("memory.limit_in_bytes", "-1", false);
	CU_ASSERT_STRING_EQUAL(file, "memory.limit_in_bytes");
	CU_ASSERT_STRING_EQUAL(val, "-1");
}

static void test_cpu(void)
{
	static const struct {
		const char *shares, *weight;
	} pairs[] = {
		{"2", "1"}, {"262144", "10000"}, /* the ends map onto each other */
	};
	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++) {
		tr("cpu.shares", pairs[i].shares, true);
		CU_ASSERT_STRING_EQUAL(file, "cpu.weight");
		CU_ASSERT_STRING_EQUAL(val, pairs[i].weight);
		tr("cpu.weight", pairs[i].weight, false);
		CU_ASSERT_STRING_EQUAL(file, "cpu.shares");
		CU_ASSERT_STRING_EQUAL(val, pairs[i].shares);
	}
	tr("cpu.shares", "1024\n", true); /* the v1 default */
	CU_ASSERT_STRING_EQUAL(val, "39");
	tr("cpu.shares", "512", true);
	CU_ASSERT_STRING_EQUAL(val, "20");
	tr("cpu.weight", "100", false); /* the v2 default */
	CU_ASSERT_STRING_EQUAL(val, "2597");
	tr("cpu.weight", "39", false);
	CU_ASSERT_STRING_EQUAL(val, "998");
	/* out of range: clamped to the other side's range */
	tr("cpu.shares", "0", true);
	CU_ASSERT_STRING_EQUAL(val, "1");
	tr("cpu.shares", "1000000", true);
	CU_ASSERT_STRING_EQUAL(val, "10000");
	tr("cpu.weight", "0", false);
	CU_ASSERT_STRING_EQUAL(val, "2");
	tr("cpu.weight", "20000", false);
	CU_ASSERT_STRING_EQUAL(val, "262144");
	/* the same spelling: the value as written */
	tr("cpu.shares", "512", false);
	CU_ASSERT_STRING_EQUAL(file, "cpu.shares");
	CU_ASSERT_STRING_EQUAL(val, "512");
	tr("cpu.weight", "100", true);
	CU_ASSERT_STRING_EQUAL(val, "100");
}

static void test_others(void)
{
	tr("pids.max", "max\n", false);
	CU_ASSERT_STRING_EQUAL(file, "pids.max");
	CU_ASSERT_STRING_EQUAL(val, "max"); /* v1 pids spells it max too */
	tr("hugetlb.2MB.max", "0\nsecond line\n", true);
	CU_ASSERT_STRING_EQUAL(file, "hugetlb.2MB.max");
	CU_ASSERT_STRING_EQUAL(val, "0");
	tr("cpuset.cpus", "0-3", true);
	CU_ASSERT_STRING_EQUAL(val, "0-3");
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("cgroup names", NULL, NULL);
	if (!s || !CU_add_test(s, "memory", test_memory) ||
	    !CU_add_test(s, "cpu", test_cpu) ||
	    !CU_add_test(s, "others", test_others))
		return -1;
	return 0;
}
