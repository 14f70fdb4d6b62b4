/* plugins: the loader.  Calls base only. */
#ifndef VS_PLUGINS_H
#define VS_PLUGINS_H

#include "base/base.h"

/* loader.c */
/* Checks a descriptor; NULL when fine, else a static reason text. */
const char *vs_plugin_check(const struct vs_plugin *d, const char *stem,
			    char *buf, size_t size);
/* Validates and registers built-in descriptors (refusals recorded). */
void vs_plugins_add_builtin(struct vs_ctx *ctx,
			    const struct vs_plugin *const *list);
/* Loads every plugin of the module directory plus the built-in ones
 * (those loaded already stay as they are). */
void vs_plugins_load(struct vs_ctx *ctx);
/* Registers the built-in descriptors once. */
void vs_plugins_builtin_once(struct vs_ctx *ctx);
/* Records a refused module (found refused by the index). */
void vs_plugins_add_refusal(struct vs_ctx *ctx, const char *file,
			    const char *reason);
/* Loads one module file of the module directory (open at dirfd), unless
 * it was looked at already. */
void vs_plugins_load_file(struct vs_ctx *ctx, int dirfd, const char *fname);
/* The loaded plugin of kind and name, or NULL; *entry (if not NULL) is
 * set to a refused entry of that stem when there is one. */
const struct vs_plugin *vs_plugin_find(struct vs_ctx *ctx, unsigned kind,
				       const char *name,
				       const struct vs_plugin_entry **refused);
const char *vs_kind_name(unsigned kind);
/* index.c: which module holds which plugin, so that a verb loads only
 * what it needs (index.c says when the index is trusted) */
/* Loads every module, and writes the index again when it is stale. */
void vs_plugins_load_all(struct vs_ctx *ctx);
/* Loads the modules of kind (0: any) and name (NULL: any). */
void vs_plugins_load_kind(struct vs_ctx *ctx, unsigned kind,
			  const char *name);
/* Loads the module(s) that provide verb. */
void vs_plugins_load_verb(struct vs_ctx *ctx, const char *verb);
/* True when a module (loaded or not) provides verb. */
bool vs_plugins_verb_exists(struct vs_ctx *ctx, const char *verb);
void vs_plugins_index_free(struct vs_plugin_index *x);

/* Built-in descriptors (a NULL-terminated list, possibly empty). */
extern const struct vs_plugin *const vs_builtin_plugins[];

#endif
