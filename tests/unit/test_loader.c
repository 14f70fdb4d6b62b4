/* Descriptor validation, for built-in plugins and loaded ones alike. */
#include <string.h>

#include "cu.h"

static int build_ok(struct vs_build *b)
{
	(void)b;
	return 0;
}

static int verb_ok(struct vs_ctx *c, struct vs_guest *g, int argc, char **argv)
{
	return 0;
}

static const struct vs_build_ops bops = {.build = build_ok};
static const struct vs_build_ops bops_none = {.build = NULL};
static const struct vs_verb_def verbs[] = {
	{"hello", "say hello", 0, verb_ok},
	{NULL, NULL, 0, NULL},
};
static const struct vs_verb_def bad_verbs[] = {
	{"Bad Verb", "x", 0, verb_ok},
	{NULL, NULL, 0, NULL},
};

static struct vs_plugin good(void)
{
	struct vs_plugin d = {
		.magic = VS_PLUGIN_MAGIC,
		.abi_major = VS_ABI_MAJOR,
		.abi_minor = VS_ABI_MINOR,
		.signature = VS_PLUGIN_SIGNATURE_INIT,
		.kind = VS_KIND_BUILD,
		.name = "demo",
		.version = "1",
		.ops = &bops,
	};
	return d;
}

static const char *check(const struct vs_plugin *d)
{
	static char buf[512];
	const char *r = vs_plugin_check(d, "demo", buf, sizeof(buf));
	return r ? r : "";
}

static void test_good(void)
{
	struct vs_plugin d = good();
	CU_ASSERT_STRING_EQUAL(check(&d), "");
	d.kind = VS_KIND_VERB;
	d.ops = NULL;
	d.verbs = verbs;
	CU_ASSERT_STRING_EQUAL(check(&d), "");
}

static void test_refusals(void)
{
	struct vs_plugin d = good();
	d.magic = 0x12345678;
	CU_ASSERT_STRING_EQUAL(check(&d),
			       "bad magic 0x12345678 (expected 0x76735031)");
	d = good();
	d.abi_major = VS_ABI_MAJOR - 1;
	CU_ASSERT_PTR_NOT_NULL(strstr(check(&d), "(major differs)"));
	d.abi_major = VS_ABI_MAJOR + 1;
	CU_ASSERT_PTR_NOT_NULL(strstr(check(&d), "(major differs)"));
	d = good();
	d.abi_minor = VS_ABI_MINOR + 1;
	CU_ASSERT_PTR_NOT_NULL(strstr(check(&d), "newer than the core's"));
	d = good();
	d.signature[2] ^= 0xff;
	CU_ASSERT_PTR_NOT_NULL(strstr(check(&d), "layout signature"));
	d = good();
	d.kind = 9;
	CU_ASSERT_STRING_EQUAL(check(&d), "unknown kind 9");
	d = good();
	d.name = "other";
	CU_ASSERT_STRING_EQUAL(
		check(&d),
		"descriptor name 'other' does not match the file name 'demo'");
	d = good();
	d.version = NULL;
	CU_ASSERT_STRING_EQUAL(check(&d), "descriptor has no version");
	d = good();
	d.ops = &bops_none;
	CU_ASSERT_STRING_EQUAL(check(&d), "missing required operation 'build'");
	d.ops = NULL;
	CU_ASSERT_STRING_EQUAL(check(&d), "missing required operation 'build'");
	d = good();
	d.kind = VS_KIND_UNIFY;
	CU_ASSERT_STRING_EQUAL(check(&d), "missing required operation 'run'");
	d.kind = VS_KIND_HOOK;
	CU_ASSERT_STRING_EQUAL(check(&d), "missing required operation 'event'");
	d.kind = VS_KIND_VERB;
	d.ops = NULL;
	CU_ASSERT_STRING_EQUAL(check(&d), "missing required operation 'verbs'");
	d.verbs = bad_verbs;
	CU_ASSERT_STRING_EQUAL(check(&d), "invalid verb 'Bad Verb'");
}

static void test_builtin_same_validation(void)
{
	struct vs_ctx *ctx = vs_ctx_new();
	static struct vs_plugin ok, bad, dup;
	ok = good();
	bad = good();
	bad.name = "broken";
	bad.abi_minor = VS_ABI_MINOR + 3;
	dup = good();
	const struct vs_plugin *list[] = {&ok, &bad, &dup, NULL};
	vs_plugins_add_builtin(ctx, list);
	CU_ASSERT_EQUAL(ctx->nplugins, 3);
	CU_ASSERT_PTR_EQUAL(ctx->plugins[0].desc, &ok);
	CU_ASSERT_PTR_NULL(ctx->plugins[1].desc);
	CU_ASSERT_PTR_NOT_NULL(strstr(ctx->plugins[1].refusal,
				      "newer than the core's"));
	CU_ASSERT_PTR_NULL(ctx->plugins[2].desc);
	CU_ASSERT_STRING_EQUAL(ctx->plugins[2].refusal,
			       "a plugin of that name is already loaded");
	CU_ASSERT_PTR_EQUAL(vs_plugin_find(ctx, VS_KIND_BUILD, "demo", NULL),
			    &ok);
	CU_ASSERT_PTR_NULL(vs_plugin_find(ctx, VS_KIND_HOOK, "demo", NULL));
	vs_ctx_free(ctx);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("loader", NULL, NULL);
	if (!s || !CU_add_test(s, "good descriptors", test_good) ||
	    !CU_add_test(s, "refusals", test_refusals) ||
	    !CU_add_test(s, "built-in plugins", test_builtin_same_validation))
		return -1;
	return 0;
}
