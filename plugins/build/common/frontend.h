/* The shared build front end (COMPAT §2.1, §2.2), carried by the skeleton
 * plugin: `vs build` calls it for every method (struct vs_build_ops, ABI
 * 1.2). */
#ifndef VS_BUILD_FRONTEND_H
#define VS_BUILD_FRONTEND_H

#include <vs/plugin.h>

/* The whole build of guest name: options (.defaults ones first), the
 * method looked up and its prepare(), the skeleton, its build(), cleanup
 * of a failure.  0, 1 (usage printed), or -1 with the error set. */
int vs_build_front_run(struct vs_ctx *ctx, const char *name, int argc,
		       char **argv);
/* Its options. */
extern const char vs_build_front_usage[];

#endif
