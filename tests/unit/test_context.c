/* Context ids: parsing, uniqueness, allocation from context.next. */
#include <stdlib.h>
#include <string.h>

#include "cu.h"

static void make_guest(const char *name, const char *context)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "etc/vservers/%s/vdir", name);
	tmp_link(rel, "/vservers/x");
	if (context) {
		snprintf(rel, sizeof(rel), "etc/vservers/%s/context", name);
		tmp_put(rel, context);
	}
}

static void test_parse(void)
{
	struct vs_ctx *ctx = vs_ctx_new();
	unsigned v;
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "42", &v), 0);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "2", &v), 0);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "49151", &v), 0);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "1", &v), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "between 2 and 49151"));
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "49152", &v), -1);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "99999999999999999999", &v), -1);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "", &v), -1);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "4x", &v), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "not a number"));
	CU_ASSERT_EQUAL(vs_context_parse(ctx, "-5", &v), -1);
	CU_ASSERT_EQUAL(vs_context_parse(ctx, " 5", &v), -1);
	vs_ctx_free(ctx);
}

static void test_allocate(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	unsigned id, next;
	/* nothing configured: the shipped context.start */
	CU_ASSERT_EQUAL(vs_context_allocate(ctx, &id, &next), 0);
	CU_ASSERT_EQUAL(id, 40000);
	CU_ASSERT_EQUAL(next, 40001);
	CU_ASSERT_EQUAL(vs_context_store_next(ctx, next), 0);
	char *s = tmp_get("etc/vservers/.defaults/context.next");
	CU_ASSERT_STRING_EQUAL(s ? s : "", "40001\n");
	free(s);

	/* ids in use are skipped */
	make_guest("a", "40001\n");
	make_guest("b", "40002");
	make_guest("c", NULL);
	CU_ASSERT_EQUAL(vs_context_allocate(ctx, &id, &next), 0);
	CU_ASSERT_EQUAL(id, 40003);
	CU_ASSERT_EQUAL(next, 40004);
	s = vs_context_user(ctx, 40002);
	CU_ASSERT_STRING_EQUAL(s ? s : "", "b");
	free(s);
	CU_ASSERT_PTR_NULL(vs_context_user(ctx, 40003));

	/* exhausted */
	tmp_put("etc/vservers/.defaults/context.next", "49151\n");
	make_guest("d", "49151\n");
	CU_ASSERT_EQUAL(vs_context_allocate(ctx, &id, &next), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "no free id"));

	/* garbage */
	tmp_put("etc/vservers/.defaults/context.next", "abc\n");
	CU_ASSERT_EQUAL(vs_context_allocate(ctx, &id, &next), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "not a number"));
	vs_ctx_free(ctx);
	tmp_cleanup();
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("context", NULL, NULL);
	if (!s || !CU_add_test(s, "parse", test_parse) ||
	    !CU_add_test(s, "allocate", test_allocate))
		return -1;
	return 0;
}
