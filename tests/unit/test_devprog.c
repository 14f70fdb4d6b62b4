/* The eBPF device program of linux.resources.devices (what a pure
 * cgroup v2 host enforces): loaded by the kernel's verifier, attached to
 * a group of the cgroup2 hierarchy (on a hybrid host too), and a process
 * in that group may open and make exactly the devices the rules allow,
 * the last matching rule deciding. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu.h"
#include "runtime/oci_int.h"

static char group[512];

static bool find_cgroup2(char *out, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char mp[1024], *sep = strstr(line, " - ");
		if (sep && !strncmp(sep + 3, "cgroup2 ", 8) &&
		    sscanf(line, "%*s %*s %*s %*s %1023s", mp) == 1) {
			snprintf(out, size, "%s", mp);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* In a child moved into the group: each access's errno (0: allowed). */
static int try_in_group(const char *what)
{
	pid_t pid = fork();
	if (pid == 0) {
		char procs[600], me[32];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", group);
		int fd = open(procs, O_WRONLY);
		int n = snprintf(me, sizeof(me), "%d", getpid());
		if (fd < 0 || write(fd, me, (size_t)n) != n)
			_exit(200);
		close(fd);
		int e = 0;
		if (!strncmp(what, "mknod:", 6)) {
			char p[600];
			snprintf(p, sizeof(p), "%s/node", tmp_root());
			unlink(p);
			if (mknod(p, S_IFCHR | 0600, makedev(1, 3)) < 0)
				e = errno;
			unlink(p);
		} else {
			int flags = what[0] == 'w' ? O_WRONLY : O_RDONLY;
			fd = open(what + 2, flags);
			if (fd < 0)
				e = errno;
			else
				close(fd);
		}
		_exit(e);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 201;
}

/* group: a new group of the cgroup2 hierarchy; false when the machine
 * has none or we are not root (said why), or it cannot be made (a
 * failure) */
static bool make_group(void)
{
	char root[256];
	if (getuid() != 0 || !find_cgroup2(root, sizeof(root))) {
		fprintf(stderr, "SKIP device program: needs root and a cgroup2 "
				"hierarchy\n");
		return false;
	}
	snprintf(group, sizeof(group), "%s/vs-test-devprog-%d", root,
		 (int)getpid());
	if (mkdir(group, 0755) == 0)
		return true;
	CU_FAIL("cannot make a group in the cgroup2 hierarchy");
	return false;
}

static void test_rules(void)
{
	if (!make_group())
		return;
	const struct vs_oci_devrule rules[] = {
		{false, 'a', -1, -1, "rwm"}, /* nothing */
		{true, 'c', 1, 3, "rwm"},    /* /dev/null */
		{true, 'c', 1, -1, "r"},     /* reading any c 1:* */
		{false, 'c', 1, 7, "r"},     /* but not /dev/full */
		{true, 'b', -1, -1, "m"},
	};
	struct vs_ctx *ctx = tmp_ctx();
	int r = oci_devices_attach(ctx, group, rules,
				   sizeof(rules) / sizeof(*rules));
	if (r < 0)
		fprintf(stderr, "%s\n", vs_error(ctx));
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(try_in_group("w:/dev/null"), 0);
	CU_ASSERT_EQUAL(try_in_group("r:/dev/null"), 0);
	CU_ASSERT_EQUAL(try_in_group("r:/dev/zero"), 0);      /* c 1:* r */
	CU_ASSERT_EQUAL(try_in_group("w:/dev/zero"), EPERM);  /* not w */
	CU_ASSERT_EQUAL(try_in_group("r:/dev/full"), EPERM);  /* denied later */
	CU_ASSERT_EQUAL(try_in_group("r:/dev/tty"), EPERM);   /* c 5:0: none */
	CU_ASSERT_EQUAL(try_in_group("mknod:c1:3"), 0);       /* m of 1:3 */
	/* outside the group the program does not apply */
	int fd = open("/dev/full", O_RDONLY);
	CU_ASSERT(fd >= 0);
	if (fd >= 0)
		close(fd);
	vs_ctx_free(ctx);
	CU_ASSERT_EQUAL(rmdir(group), 0);
}

/* As many rules as a spec may give (runc's default list and Podman's
 * add up to dozens): the verifier's log of a long program does not fit
 * a small buffer, which must not fail the load. */
static void test_many_rules(void)
{
	if (!make_group())
		return;
	struct vs_oci_devrule rules[64];
	rules[0] = (struct vs_oci_devrule){false, 'a', -1, -1, "rwm"};
	for (int i = 1; i < 64; i++)
		rules[i] = (struct vs_oci_devrule){true, 'c', 1, 100 + i, "rwm"};
	rules[63] = (struct vs_oci_devrule){true, 'c', 1, 5, "r"};
	struct vs_ctx *ctx = tmp_ctx();
	int r = oci_devices_attach(ctx, group, rules, 64);
	if (r < 0)
		fprintf(stderr, "%s\n", vs_error(ctx));
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(try_in_group("r:/dev/zero"), 0);
	CU_ASSERT_EQUAL(try_in_group("r:/dev/null"), EPERM);
	vs_ctx_free(ctx);
	CU_ASSERT_EQUAL(rmdir(group), 0);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("device program", NULL, NULL);
	if (!s || !CU_add_test(s, "rules", test_rules) ||
	    !CU_add_test(s, "many rules", test_many_rules))
		return -1;
	return 0;
}
