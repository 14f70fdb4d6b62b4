/* libvs as a whole, for the vs command and the build helper (which moves
 * to plugins/build/common): every layer. */
#ifndef VS_INTERNAL_H
#define VS_INTERNAL_H

#include "runtime/runtime.h"
#include "plugins/plugins.h"

/* build.c */
int vs_build_main(struct vs_ctx *ctx, const char *name, int argc,
		  char **argv);
void vs_build_usage(FILE *out);

#endif
