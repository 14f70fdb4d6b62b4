/* dlopens every built module with RTLD_NOW (an unresolved symbol fails
 * here) and validates its descriptor.  Modules come from $VS_MODULES. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

static void test_modules(void)
{
	const char *list = getenv("VS_MODULES");
	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	char *copy = vs_strdup(list), *save = NULL;
	int n = 0;
	for (char *m = strtok_r(copy, " ", &save); m;
	     m = strtok_r(NULL, " ", &save), n++) {
		void *h = dlopen(m, RTLD_NOW | RTLD_LOCAL);
		CU_ASSERT_PTR_NOT_NULL(h);
		if (!h) {
			fprintf(stderr, "\n  %s\n", dlerror());
			continue;
		}
		char stem[256], sym[300], why[512];
		const char *b = vs_basename(m);
		snprintf(stem, sizeof(stem), "%.*s", (int)strcspn(b, "."), b);
		snprintf(sym, sizeof(sym), "%s_LTX_vs_plugin", stem);
		const struct vs_plugin *d = dlsym(h, sym);
		CU_ASSERT_PTR_NOT_NULL(d);
		if (d) {
			const char *r = vs_plugin_check(d, stem, why, sizeof(why));
			CU_ASSERT_PTR_NULL(r);
			if (r)
				fprintf(stderr, "\n  %s: %s\n", m, r);
		}
		/* plugins stay resident: no dlclose */
	}
	CU_ASSERT(n > 0);
	free(copy);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("modules", NULL, NULL);
	if (!s || !CU_add_test(s, "dlopen RTLD_NOW", test_modules))
		return -1;
	return 0;
}
