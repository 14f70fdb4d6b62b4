/* The capability list syntax (COMPAT §1.2) and the secure default set. */
#include <linux/capability.h>
#include <string.h>

#include "cu.h"

static struct vs_ctx *ctx;

static uint64_t apply(uint64_t start, const char *text, int *r)
{
	vs_clear_error(ctx);
	*r = vs_caps_apply_list(ctx, text, "bcapabilities", &start);
	return start;
}

#define BIT(c) (1ULL << (c))

static void test_syntax(void)
{
	int r;
	CU_ASSERT_EQUAL(apply(0, "CAP_NET_RAW\n", &r), BIT(CAP_NET_RAW));
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(apply(0, "net_raw", &r), BIT(CAP_NET_RAW));
	CU_ASSERT_EQUAL(apply(0, "Net_Admin,SYS_TIME", &r),
			BIT(CAP_NET_ADMIN) | BIT(CAP_SYS_TIME));
	CU_ASSERT_EQUAL(apply(BIT(CAP_KILL) | BIT(CAP_CHOWN), "~KILL", &r),
			BIT(CAP_CHOWN));
	CU_ASSERT_EQUAL(apply(BIT(CAP_KILL) | BIT(CAP_CHOWN), "!chown", &r),
			BIT(CAP_KILL));
	CU_ASSERT_EQUAL(apply(0, "^13", &r), BIT(13));
	CU_ASSERT_EQUAL(apply(0, "0x3", &r), 3);
	CU_ASSERT_EQUAL(apply(0, "# comment\n\n  MKNOD  \n", &r), BIT(CAP_MKNOD));
	CU_ASSERT_EQUAL(apply(BIT(3), "none", &r), BIT(3));
	CU_ASSERT_EQUAL(apply(BIT(3), "~all", &r), 0);
	uint64_t all = apply(0, "all", &r);
	CU_ASSERT(all & BIT(CAP_SYS_ADMIN));
	CU_ASSERT_EQUAL(apply(0, "any\n~SYS_ADMIN", &r), all & ~BIT(CAP_SYS_ADMIN));
}

static void test_errors(void)
{
	int r;
	apply(0, "NET_RAW\nbogus", &r);
	CU_ASSERT_EQUAL(r, -1);
	CU_ASSERT_STRING_EQUAL(vs_error(ctx),
			       "bcapabilities:2: unknown capability 'bogus'");
	apply(0, "^99", &r);
	CU_ASSERT_EQUAL(r, -1);
	apply(0, "~", &r);
	CU_ASSERT_EQUAL(r, -1);
	apply(0, "12abc", &r);
	CU_ASSERT_EQUAL(r, -1);
}

static void test_secure(void)
{
	uint64_t s = vs_caps_secure();
	int want[] = {CAP_CHOWN,	CAP_DAC_OVERRIDE,
		      CAP_FOWNER,	CAP_FSETID,	  CAP_KILL,
		      CAP_SETGID,	CAP_SETUID,	  CAP_NET_BIND_SERVICE,
		      CAP_SYS_CHROOT, CAP_SYS_PTRACE,   CAP_SYS_TTY_CONFIG,
		      CAP_LEASE,	CAP_SETFCAP,	  CAP_SYS_BOOT,
		      CAP_AUDIT_WRITE};
	uint64_t m = 0;
	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++)
		m |= BIT(want[i]);
	CU_ASSERT_EQUAL(s, m);
	CU_ASSERT_FALSE(s & BIT(CAP_DAC_READ_SEARCH)); /* handles */
	CU_ASSERT_FALSE(s & BIT(CAP_SYS_ADMIN));
	CU_ASSERT_FALSE(s & BIT(CAP_MKNOD));
	CU_ASSERT_FALSE(s & BIT(CAP_SYS_MODULE));
	CU_ASSERT_FALSE(s & BIT(CAP_SYS_RAWIO));
	CU_ASSERT_FALSE(s & BIT(CAP_NET_ADMIN));
}

int add_suites(void)
{
	ctx = vs_ctx_new();
	CU_pSuite s = CU_add_suite("caps", NULL, NULL);
	if (!s || !CU_add_test(s, "list syntax", test_syntax) ||
	    !CU_add_test(s, "errors", test_errors) ||
	    !CU_add_test(s, "secure default", test_secure))
		return -1;
	return 0;
}
