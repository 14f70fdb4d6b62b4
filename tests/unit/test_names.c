/* Guest-name validation. */
#include <string.h>

#include "cu.h"

static struct vs_ctx *ctx;

static void test_good(void)
{
	const char *good[] = {"foo", "web1", "a", "my-guest", "x.y", "A_b",
			      "0123456789012345678901234567890123456789"
			      "012345678901234567890123",
			      NULL};
	for (const char **n = good; *n; n++) {
		CU_ASSERT_EQUAL(vs_guest_name_check(ctx, *n), 0);
		if (vs_guest_name_check(ctx, *n))
			fprintf(stderr, "\n  %s: %s\n", *n, vs_error(ctx));
	}
}

static void bad(const char *name, const char *fragment)
{
	vs_clear_error(ctx);
	CU_ASSERT_EQUAL(vs_guest_name_check(ctx, name), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), fragment));
	if (!strstr(vs_error(ctx), fragment))
		fprintf(stderr, "\n  got '%s'\n", vs_error(ctx));
}

static void test_bad(void)
{
	bad("", "empty");
	bad("a/b", "contains '/'");
	bad(".hidden", "starts with '.'");
	bad(".defaults", "starts with '.'");
	bad("-x", "starts with '-'");
	bad("with space", "printable");
	bad("new\nline", "printable");
	bad("tab\there", "printable");
	bad("\x7f", "printable");
	bad("caf\xc3\xa9", "printable");
	bad("foo~", "backup");
	bad("foo.rpmnew", "backup");
	bad("01234567890123456789012345678901234567890123456789012345678901234",
	    "longer than 64");
}

int add_suites(void)
{
	ctx = vs_ctx_new();
	CU_pSuite s = CU_add_suite("names", NULL, NULL);
	if (!s || !CU_add_test(s, "good names", test_good) ||
	    !CU_add_test(s, "bad names", test_bad))
		return -1;
	return 0;
}
