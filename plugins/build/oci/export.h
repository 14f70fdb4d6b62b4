/* The export verb of the oci plugin. */
#ifndef VS_OCI_EXPORT_H
#define VS_OCI_EXPORT_H

#include <vs/core.h>

/* vs <guest> export <layout-dir>[:tag]: the exit status (0, 1 with one
 * line on stderr, 2 usage). */
int oci_export(struct vs_ctx *ctx, struct vs_guest *g, int argc, char **argv);

#endif
