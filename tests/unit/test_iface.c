/* The --interface parser: COMPAT §2.1 cases, IPv6, bad input. */
#include <string.h>

#include "cu.h"

static struct vs_ctx *ctx;

static struct vs_iface_spec parse_ok(const char *spec)
{
	struct vs_iface_spec s;
	int r = vs_iface_parse(ctx, spec, &s);
	CU_ASSERT_EQUAL(r, 0);
	if (r)
		fprintf(stderr, "\n  '%s': %s\n", spec, vs_error(ctx));
	return s;
}

static void test_seed_cases(void)
{
	struct vs_iface_spec s = parse_ok("eth0:192.168.3.1/21");
	CU_ASSERT_STRING_EQUAL(s.dev, "eth0");
	CU_ASSERT_STRING_EQUAL(s.ip, "192.168.3.1");
	CU_ASSERT_STRING_EQUAL(s.prefix, "21");
	CU_ASSERT_STRING_EQUAL(s.mask, "");
	CU_ASSERT_STRING_EQUAL(s.name, "");

	/* util-vserver's own setup_test list */
	s = parse_ok("foo0=eth0:1.2.3.4/1");
	CU_ASSERT_STRING_EQUAL(s.name, "foo0");
	CU_ASSERT_STRING_EQUAL(s.dev, "eth0");
	CU_ASSERT_STRING_EQUAL(s.prefix, "1");
	s = parse_ok("foo1=eth0:1.2.3.4/255.255.248.0");
	CU_ASSERT_STRING_EQUAL(s.mask, "255.255.248.0");
	CU_ASSERT_STRING_EQUAL(s.prefix, "");
	s = parse_ok("foo2=eth0:1.2.3.4");
	CU_ASSERT_STRING_EQUAL(s.ip, "1.2.3.4");
	CU_ASSERT_STRING_EQUAL(s.prefix, "");
	s = parse_ok("foo3=1.2.3.4");
	CU_ASSERT_STRING_EQUAL(s.dev, "");
	CU_ASSERT_STRING_EQUAL(s.name, "foo3");
	s = parse_ok("foo4=1.2.3.4/1");
	CU_ASSERT_STRING_EQUAL(s.prefix, "1");
	s = parse_ok("eth0:1.2.3.4");
	CU_ASSERT_STRING_EQUAL(s.dev, "eth0");
	s = parse_ok("1.2.3.4");
	CU_ASSERT_STRING_EQUAL(s.ip, "1.2.3.4");
	CU_ASSERT_FALSE(s.ipv6);
	s = parse_ok("nodev:10.0.0.1/8");
	CU_ASSERT_TRUE(s.nodev);
	CU_ASSERT_STRING_EQUAL(s.dev, "");
}

static void test_ipv6(void)
{
	struct vs_iface_spec s = parse_ok("2001:db8::1");
	CU_ASSERT_TRUE(s.ipv6);
	CU_ASSERT_STRING_EQUAL(s.dev, "");
	CU_ASSERT_STRING_EQUAL(s.ip, "2001:db8::1");
	s = parse_ok("2001:db8::1/64");
	CU_ASSERT_STRING_EQUAL(s.prefix, "64");
	s = parse_ok("eth0:2001:db8::1/64");
	CU_ASSERT_STRING_EQUAL(s.dev, "eth0");
	CU_ASSERT_STRING_EQUAL(s.ip, "2001:db8::1");
	s = parse_ok("eth0:[2001:db8::2]/128");
	CU_ASSERT_STRING_EQUAL(s.dev, "eth0");
	CU_ASSERT_STRING_EQUAL(s.ip, "2001:db8::2");
	CU_ASSERT_STRING_EQUAL(s.prefix, "128");
	s = parse_ok("v6=[::1]");
	CU_ASSERT_STRING_EQUAL(s.name, "v6");
	CU_ASSERT_STRING_EQUAL(s.ip, "::1");
	s = parse_ok("fe80::1");
	CU_ASSERT_TRUE(s.ipv6);
}

static void expect_bad(const char *spec, const char *fragment)
{
	struct vs_iface_spec s;
	vs_clear_error(ctx);
	CU_ASSERT_EQUAL(vs_iface_parse(ctx, spec, &s), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), fragment));
	if (!strstr(vs_error(ctx), fragment))
		fprintf(stderr, "\n  '%s' gave '%s'\n", spec, vs_error(ctx));
	CU_ASSERT_PTR_NULL(strchr(vs_error(ctx), '\n'));
}

static void test_bad_input(void)
{
	expect_bad("eth0:192.168.3.1/33", "prefix '33' is not between 0 and 32");
	expect_bad("2001:db8::1/129", "prefix '129' is not between 0 and 128");
	expect_bad("eth0:192.168.3.1/-1", "is not between");
	expect_bad("eth0:192.168.3.1/", "empty prefix");
	expect_bad("eth0:192.168.3.1/255.0.255.0", "bad netmask");
	expect_bad("eth0:[2001:db8::1]/255.255.0.0", "IPv6 address takes a prefix");
	expect_bad("2001:db8::1/255.255.255.0", "IPv6 address takes a prefix");
	expect_bad("eth0:999.1.1.1", "is not an IP address");
	expect_bad("eth0:", "is not an IP address");
	expect_bad("", "is not an IP address");
	expect_bad("eth0:[2001:db8::1", "unbalanced brackets");
	expect_bad("eth0[::1]", "expected ':' before '['");
	expect_bad("averyveryverylongdevice:1.2.3.4", "bad device name");
	expect_bad("bad name=eth0:1.2.3.4", "bad name");
	expect_bad("eth 0:1.2.3.4", "bad device name");
	expect_bad("eth0:1.2.3.4/24x", "is not between");
	expect_bad("[1.2.3.4]", "is not an IPv6 address");
}

static void test_mask(void)
{
	CU_ASSERT_EQUAL(vs_mask_to_prefix("255.255.248.0"), 21);
	CU_ASSERT_EQUAL(vs_mask_to_prefix("0.0.0.0"), 0);
	CU_ASSERT_EQUAL(vs_mask_to_prefix("255.255.255.255"), 32);
	CU_ASSERT_EQUAL(vs_mask_to_prefix("255.0.255.0"), -1);
	CU_ASSERT_EQUAL(vs_mask_to_prefix("garbage"), -1);
}

int add_suites(void)
{
	ctx = vs_ctx_new();
	CU_pSuite s = CU_add_suite("iface", NULL, NULL);
	if (!s || !CU_add_test(s, "seed cases", test_seed_cases) ||
	    !CU_add_test(s, "ipv6", test_ipv6) ||
	    !CU_add_test(s, "bad input", test_bad_input) ||
	    !CU_add_test(s, "netmask", test_mask))
		return -1;
	return 0;
}
