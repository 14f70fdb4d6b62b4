/* The runtime helpers (core/lib/runtime/helpers): found beside libvs,
 * their tables work, a missing one is a clear error, and none is ever
 * opened inside a chroot (a guest's root). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cu.h"

static struct vs_ctx *ctx;

static void test_seccomp(void)
{
	const struct vs_seccomp_ops *ops = vs_helper(ctx, "seccomp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
	CU_ASSERT_TRUE(ops->known("keyctl"));
	CU_ASSERT_FALSE(ops->known("no_such_call"));
	char *allow[] = {"keyctl", NULL};
	unsigned short with = 0, without = 0;
	struct sock_filter *a = ops->compile(NULL, NULL, &with);
	struct sock_filter *b = ops->compile(allow, NULL, &without);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_PTR_NOT_NULL(b);
	/* allowing a call takes its rule out of the program */
	CU_ASSERT(with > 0 && without > 0 && without < with);
	free(a);
	free(b);
	/* opened once */
	CU_ASSERT_PTR_EQUAL(vs_helper(ctx, "seccomp"), ops);
}

static void test_netlink(void)
{
	struct vs_nl nl;
	CU_ASSERT_EQUAL_FATAL(vs_nl_open(ctx, &nl), 0);
	CU_ASSERT_PTR_NOT_NULL(nl.sock);
	vs_nl_close(&nl);
}

static void test_missing(void)
{
	vs_clear_error(ctx);
	errno = 0;
	CU_ASSERT_PTR_NULL(vs_helper(ctx, "nosuchhelper"));
	CU_ASSERT_EQUAL(errno, ELIBACC);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx),
				      "cannot load the runtime helper '"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "/nosuchhelper.so'"));
}

/* Copies the file src to dst (parents made), 0 or -1. */
static int copy_file(const char *src, const char *dst)
{
	char cmd[3 * PATH_MAX];
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && cp '%s' '%s'",
		 dst, src, dst);
	return system(cmd) == 0 ? 0 : -1;
}

/* In a chroot whose tree holds a working helper at the very path libvs
 * would open, nothing is opened: the child reports what vs_helper
 * answered. */
static void test_not_in_guest(void)
{
	Dl_info info;
	CU_ASSERT_FATAL(dladdr((void *)vs_helper, &info) && info.dli_fname);
	char dir[PATH_MAX], src[PATH_MAX], dst[2 * PATH_MAX];
	snprintf(dir, sizeof(dir), "%.*s",
		 (int)(strrchr(info.dli_fname, '/') - info.dli_fname),
		 info.dli_fname);
	snprintf(src, sizeof(src), "%s/%s/netlink.so", dir,
		 strstr(dir, "/.libs") ? "vs-runtime" : "vs/runtime");
	snprintf(dst, sizeof(dst), "%s%s", tmp_root(), src);
	CU_ASSERT_EQUAL_FATAL(copy_file(src, dst), 0);
	/* and what it needs, so that only the refusal can stop it */
	CU_ASSERT_EQUAL_FATAL(system("for l in $(ldd /bin/true | grep -o '/[^ ]*'); do "
				     "mkdir -p \"$VS_TMPROOT$(dirname $l)\" && "
				     "cp -L $l \"$VS_TMPROOT$l\"; done; "
				     "l=$(ldconfig -p | grep -o '/[^ ]*libmnl.so.0$' | head -n 1); "
				     "mkdir -p \"$VS_TMPROOT$(dirname $l)\" && "
				     "cp -L $l \"$VS_TMPROOT$l\""), 0);
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char msg[512] = "chroot failed";
		if (chroot(tmp_root()) == 0 && chdir("/") == 0) {
			const void *t = vs_helper(ctx, "netlink");
			snprintf(msg, sizeof(msg), "%s|%s",
				 t ? "opened" : "refused", vs_error(ctx));
		}
		ssize_t w = write(p[1], msg, strlen(msg));
		(void)w;
		_exit(0);
	}
	close(p[1]);
	char buf[512] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "refused|cannot load the runtime "
					   "helper 'netlink' inside a guest"));
	if (!strstr(buf, "refused|"))
		fprintf(stderr, "\n  %s\n", buf);
}

int add_suites(void)
{
	ctx = vs_ctx_new();
	setenv("VS_TMPROOT", tmp_root(), 1);
	CU_pSuite s = CU_add_suite("helper", NULL, NULL);
	if (!s || !CU_add_test(s, "seccomp table", test_seccomp) ||
	    !CU_add_test(s, "missing helper", test_missing) ||
	    !CU_add_test(s, "not inside a guest", test_not_in_guest) ||
	    !CU_add_test(s, "netlink table", test_netlink))
		return -1;
	return 0;
}
