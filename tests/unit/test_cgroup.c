/* The v1 and v2 spellings of cgroup settings and their values; cpu
 * lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	/* blkio's weight 10..1000 <-> io.weight 1..10000 (runc's formula);
	 * a device's line and io.weight's "default" keep their prefix */
	{"blkio.weight", "500\n", true, "io.weight", "4950"},
	{"blkio.weight", "10", true, "io.weight", "1"},
	{"blkio.weight", "1000", true, "io.weight", "10000"},
	{"blkio.weight", "1", true, "io.weight", "1"}, /* clamped */
	{"blkio.weight_device", "8:0 500", true, "io.weight", "8:0 4950"},
	{"io.weight", "default 100", false, "blkio.weight", "19"},
	{"io.weight", "10000", false, "blkio.weight", "1000"},
	{"io.weight", "8:16 1", false, "blkio.weight_device", "8:16 10"},
	{"blkio.weight", "500", false, "blkio.weight", "500"},
	{"io.weight", "default 100", true, "io.weight", "default 100"},
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

/* cpu lists as the cpuset files hold them: parsed, then written back in
 * their shortest form */
static void test_cpulist(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"", ""},
		{"\n", ""},
		{"0", "0"},
		{"1\n", "1"},
		{"0-3", "0-3"},
		{"3,1,2,0", "0-3"},
		{"0-1,1-2,7", "0-2,7"},
		{"5,63,64,1023", "5,63-64,1023"},
		{"0-1023", "0-1023"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		struct vs_cpus set;
		char buf[64];
		CU_ASSERT_EQUAL(vs_cpulist_parse(ok[i].in, &set), 0);
		vs_cpulist_format(&set, buf, sizeof(buf));
		if (strcmp(buf, ok[i].out))
			fprintf(stderr, "'%s': got '%s'\n", ok[i].in, buf);
		CU_ASSERT_STRING_EQUAL(buf, ok[i].out);
	}
	static const char *const bad[] = {"x", "1-", "3-1", "-1", "1,,2",
					  "1024", "0-1024", "1 2", "2a"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct vs_cpus set;
		if (vs_cpulist_parse(bad[i], &set) == 0)
			fprintf(stderr, "'%s' taken\n", bad[i]);
		CU_ASSERT_EQUAL(vs_cpulist_parse(bad[i], &set), -1);
	}
	/* a buffer too short: cut at a whole item */
	struct vs_cpus set;
	char small[6];
	vs_cpulist_parse("1,3,5,7", &set);
	vs_cpulist_format(&set, small, sizeof(small));
	CU_ASSERT_STRING_EQUAL(small, "1,3,5");
}

/* The leaf an exec joins in a group that gave its children controllers:
 * read from the init's /proc/<pid>/cgroup, which the guest shapes (its
 * group names, a v1 path with a newline that fakes a line): always a
 * group below the guest's own, or none. */
static void test_leaf(void)
{
	static const char *const v2 = "/sys/fs/cgroup/unified/vs/g1";
	static const struct {
		const char *lines, *dir;
	} leaf[] = {
		{"12:pids:/vs/g1\n0::/vs/g1/init.scope\n",
		 "/sys/fs/cgroup/unified/vs/g1/init.scope"},
		{"0::/vs/g1/a/b\n", "/sys/fs/cgroup/unified/vs/g1/a/b"},
		/* the group itself, another guest's, a sibling's prefix */
		{"0::/vs/g1\n", NULL},
		{"0::/vs/g2/init.scope\n", NULL},
		{"0::/vs/g10/init.scope\n", NULL},
		{"0::/vs/g1x\n", NULL},
		/* climbing out, doubled slashes */
		{"0::/vs/g1/../g2\n", NULL},
		{"0::/vs/g1/..\n", NULL},
		{"0::/vs/g1//x\n", NULL},
		/* a v1 group named "x\n0::/vs/g2" comes first: a fake line */
		{"12:pids:/vs/g1/x\n0::/vs/g2\n0::/vs/g1/init.scope\n", NULL},
		{"12:pids:/vs/g1/x\n0::/vs/g1/fake\n0::/vs/g1/init.scope\n",
		 "/sys/fs/cgroup/unified/vs/g1/fake"},
		/* a group named with a newline: cut there, still below */
		{"0::/vs/g1/a\nb\n", "/sys/fs/cgroup/unified/vs/g1/a"},
		/* a line that only contains the mark, no cgroup2 line */
		{"12:pids:/x0::/vs/g1/y\n", NULL},
		{"", NULL},
		{NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(leaf) / sizeof(*leaf); i++) {
		char *d = vs_cgroup_leaf_dir(v2, leaf[i].lines);
		if (!leaf[i].dir ? d != NULL : !d || strcmp(d, leaf[i].dir))
			fprintf(stderr, "case %zu: '%s'\n", i, d ? d : "(none)");
		if (leaf[i].dir) {
			CU_ASSERT(d && !strcmp(d, leaf[i].dir));
		} else {
			CU_ASSERT_PTR_NULL(d);
		}
		free(d);
	}
}

/* Where a blkio-scale weight goes: BFQ's file when CFQ's is gone (v1)
 * or whenever BFQ has one (cgroup2), as runc chooses. */
static void test_bfq(void)
{
	char dir[] = "/tmp/vs-unit-bfq.XXXXXX", p[64];
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	const char *files[] = {"blkio.bfq.weight", "blkio.bfq.weight_device",
			       "io.bfq.weight"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		fclose(fopen(p, "w"));
	}
	const char *r = vs_cgroup_bfq_file(dir, "blkio.weight", false);
	CU_ASSERT(r && !strcmp(r, "blkio.bfq.weight"));
	r = vs_cgroup_bfq_file(dir, "blkio.weight_device", false);
	CU_ASSERT(r && !strcmp(r, "blkio.bfq.weight_device"));
	r = vs_cgroup_bfq_file(dir, "blkio.weight_device", true);
	CU_ASSERT(r && !strcmp(r, "io.bfq.weight"));
	CU_ASSERT_PTR_NULL(vs_cgroup_bfq_file(dir, "io.weight", true));
	CU_ASSERT_PTR_NULL(vs_cgroup_bfq_file(dir, "cpu.shares", false));
	/* CFQ's own file (kernels before 5.0) wins on v1 */
	snprintf(p, sizeof(p), "%s/blkio.weight", dir);
	fclose(fopen(p, "w"));
	CU_ASSERT_PTR_NULL(vs_cgroup_bfq_file(dir, "blkio.weight", false));
	/* no BFQ: translated as usual (io.weight) */
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	CU_ASSERT_PTR_NULL(vs_cgroup_bfq_file(dir, "blkio.weight", true));
	CU_ASSERT_PTR_NULL(vs_cgroup_bfq_file("/nonexistent", "blkio.weight", true));
	unlink(p);
	snprintf(p, sizeof(p), "%s/blkio.weight", dir);
	unlink(p);
	rmdir(dir);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("cgroup names", NULL, NULL);
	if (!s || !CU_add_test(s, "translate", test_translate) ||
	    !CU_add_test(s, "cpu lists", test_cpulist) ||
	    !CU_add_test(s, "leaf of a guest's group", test_leaf) ||
	    !CU_add_test(s, "BFQ's weight files", test_bfq))
		return -1;
	return 0;
}
