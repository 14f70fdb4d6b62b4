/* The clone method's parts (plugins/build/clone). */
#ifndef VS_CLONE_H
#define VS_CLONE_H

#include <stdbool.h>
#include <vs/core.h>

/* True for what of a guest's configuration (rel: "/context",
 * "/interfaces/0/ip", ...) belongs to that guest alone: name, context,
 * links, addresses, uuid, id maps, node name. */
bool clone_own_config(const char *rel);

/* transfer.c: the verb `vs <guest> copy [user@]host:<new> [options]`. */
int clone_copy_verb(struct vs_ctx *ctx, struct vs_guest *g, int argc,
		    char **argv);
/* Extracts a copy's stream from fd: root/ into rootfd, config/ (but the
 * guest's own entries) into cfgfd.  0, or -1 with the error set. */
int clone_receive(struct vs_ctx *ctx, int fd, int rootfd, int cfgfd);

#endif
