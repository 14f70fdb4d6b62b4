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
/* Loads every plugin of the module directory plus the built-in ones. */
void vs_plugins_load(struct vs_ctx *ctx);
/* The loaded plugin of kind and name, or NULL; *entry (if not NULL) is
 * set to a refused entry of that stem when there is one. */
const struct vs_plugin *vs_plugin_find(struct vs_ctx *ctx, unsigned kind,
				       const char *name,
				       const struct vs_plugin_entry **refused);
const char *vs_kind_name(unsigned kind);
/* Built-in descriptors (a NULL-terminated list, possibly empty). */
extern const struct vs_plugin *const vs_builtin_plugins[];

#endif
