/* vs <guest> build -m <method> ... */
#include "cli.h"

int cmd_build(struct vs_ctx *ctx, struct vs_guest *g, const char *name,
	      int argc, char **argv)
{
	(void)g;
	return vs_build_main(ctx, name, argc, argv) < 0 ? 1 : 0;
}
