/* Applying an OCI image layer to a guest root. */
#ifndef VS_OCI_LAYER_H
#define VS_OCI_LAYER_H

#include <stdbool.h>

#include <vs/core.h>

/* Applies the layer tarball at path (any compression) to the root open
 * at rootfd: its whiteouts, then its entries (device nodes, FIFOs and
 * sockets only with devices).  0, or -1 with the error set. */
int oci_layer_apply(struct vs_ctx *ctx, int rootfd, const char *path,
		    bool devices);

#endif
