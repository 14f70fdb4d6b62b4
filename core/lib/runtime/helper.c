/* Opening the runtime helpers (helpers/helpers.h): <dir>/vs/runtime/
 * <name>.so, where <dir> holds the libvs that runs (dladdr), so the
 * helpers of one installation are never mixed with another's; in the
 * build tree, where <dir> is libtool's .libs (and .libs/vs the vs
 * program), .libs/vs-runtime/<name>.so.  Each is opened once, bound at
 * once, and kept. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/runtime.h"

static struct {
	char name[32];
	const void *table;
} opened[8];

/* The root this process started with: a helper is only ever opened
 * there, never inside a guest, whose files its path would name. */
static struct stat host_root;

__attribute__((constructor)) static void note_root(void)
{
	if (stat("/", &host_root) < 0)
		memset(&host_root, 0, sizeof(host_root));
}

static bool at_host_root(void)
{
	struct stat st;
	return host_root.st_ino && stat("/", &st) == 0 &&
	       st.st_dev == host_root.st_dev && st.st_ino == host_root.st_ino;
}

const void *vs_helper(struct vs_ctx *ctx, const char *name)
{
	size_t i = 0;
	for (; i < sizeof(opened) / sizeof(*opened) && opened[i].name[0]; i++)
		if (!strcmp(opened[i].name, name))
			return opened[i].table;
	Dl_info info;
	char path[PATH_MAX], sym[64];
	if (!at_host_root()) {
		vs_set_error(ctx, "cannot load the runtime helper '%s' inside "
				  "a guest: it is opened before entering it",
			     name);
		errno = ELIBACC;
		return NULL;
	}
	if (!dladdr((void *)vs_helper, &info) || !info.dli_fname ||
	    !strchr(info.dli_fname, '/')) {
		vs_set_error(ctx, "cannot find the runtime helper '%s': where "
				  "libvs lies is unknown", name);
		errno = ELIBACC;
		return NULL;
	}
	int dirlen = (int)(strrchr(info.dli_fname, '/') - info.dli_fname);
	bool build_tree = dirlen >= 6 &&
			  !strncmp(info.dli_fname + dirlen - 6, "/.libs/", 7);
	snprintf(path, sizeof(path), "%.*s/%s/%s.so", dirlen, info.dli_fname,
		 build_tree ? "vs-runtime" : "vs/runtime", name);
	snprintf(sym, sizeof(sym), "vs_helper_%s", name);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const void *table = h ? dlsym(h, sym) : NULL;
	if (!table) {
		vs_set_error(ctx, "cannot load the runtime helper '%s': %s",
			     path, dlerror());
		if (h)
			dlclose(h);
		errno = ELIBACC;
		return NULL;
	}
	if (i < sizeof(opened) / sizeof(*opened)) {
		snprintf(opened[i].name, sizeof(opened[i].name), "%s", name);
		opened[i].table = table;
	}
	return table;
}

int vs_nl_open(struct vs_ctx *ctx, struct vs_nl *nl)
{
	memset(nl, 0, sizeof(*nl));
	nl->ops = vs_helper(ctx, "netlink");
	return nl->ops ? nl->ops->open(nl) : -1;
}
