/* vserver-stat's memory and time fields, with the display bugs fixed. */
#include <string.h>

#include "cu.h"

static const char *mem(unsigned long long b)
{
	static char buf[32];
	vs_fmt_mem(b, buf, sizeof(buf));
	return buf;
}

static const char *tm(unsigned long long ms)
{
	static char buf[32];
	vs_fmt_time(ms, buf, sizeof(buf));
	return buf;
}

static void test_mem(void)
{
	CU_ASSERT_STRING_EQUAL(mem(0), "0 ");
	CU_ASSERT_STRING_EQUAL(mem(999), "999 ");
	CU_ASSERT_STRING_EQUAL(mem(1000), "1K");     /* util-vserver: 0.9K */
	CU_ASSERT_STRING_EQUAL(mem(1023), "1K");
	CU_ASSERT_STRING_EQUAL(mem(1536), "1.5K");
	CU_ASSERT_STRING_EQUAL(mem(2048), "2K");
	CU_ASSERT_STRING_EQUAL(mem(2306867), "2.2M");
	CU_ASSERT_STRING_EQUAL(mem(1ULL << 30), "1G");
	CU_ASSERT_STRING_EQUAL(mem(5ULL << 40), "5T");
	CU_ASSERT(strlen(mem(~0ULL / 16)) <= 7);
}

static void test_time(void)
{
	CU_ASSERT_STRING_EQUAL(tm(5), "0m00s00");      /* util-vserver: 05 */
	CU_ASSERT_STRING_EQUAL(tm(50), "0m00s05");
	CU_ASSERT_STRING_EQUAL(tm(123), "0m00s12");
	CU_ASSERT_STRING_EQUAL(tm(61234), "1m01s23");
	CU_ASSERT_STRING_EQUAL(tm(3599999), "59m59s99");
	CU_ASSERT_STRING_EQUAL(tm(3600000), "1h00m00");
	CU_ASSERT_STRING_EQUAL(tm(86399000), "23h59m59");
	CU_ASSERT_STRING_EQUAL(tm(86400000ULL * 3 + 3600000 * 4 + 60000 * 5),
			       "3d04h05");
	CU_ASSERT_STRING_EQUAL(tm(86400000ULL * 1000), "2y270d00");
	CU_ASSERT_STRING_EQUAL(tm(86400000ULL * 365 * 1000), "INVALID");
	CU_ASSERT(strlen(tm(86400000ULL * 999)) <= 10);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("fmt", NULL, NULL);
	if (!s || !CU_add_test(s, "memory", test_mem) ||
	    !CU_add_test(s, "time", test_time))
		return -1;
	return 0;
}
