/* The build services of core.h (vs_build_*), forwarded to the table the
 * build in progress starts with (struct vs_build_head): the shared front
 * end, in the skeleton plugin, provides them; a method of any minor calls
 * them here.  And vs_plugin_load(), with which the front end finds the
 * method. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "plugins/plugins.h"

static const struct vs_build_services *svc(const struct vs_build *b)
{
	return ((const struct vs_build_head *)b)->svc;
}

struct vs_ctx *vs_build_ctx(struct vs_build *b)
{
	return svc(b)->ctx(b);
}

const char *vs_build_name(const struct vs_build *b)
{
	return svc(b)->name(b);
}

const char *vs_build_cfgdir(const struct vs_build *b)
{
	return svc(b)->cfgdir(b);
}

const char *vs_build_root(const struct vs_build *b)
{
	return svc(b)->root(b);
}

int vs_build_rootfd(const struct vs_build *b)
{
	return svc(b)->rootfd(b);
}

const char *vs_build_dist(const struct vs_build *b)
{
	return svc(b)->dist(b);
}

void vs_build_set_dist(struct vs_build *b, const char *dist)
{
	svc(b)->set_dist(b, dist);
}

void vs_build_want_pkgmgmt(struct vs_build *b)
{
	svc(b)->want_pkgmgmt(b);
}

int vs_build_reset_dev(struct vs_build *b)
{
	return svc(b)->reset_dev(b);
}

int vs_build_clear_dev(struct vs_build *b)
{
	return svc(b)->clear_dev(b);
}

const char *vs_build_pkgdir(const struct vs_build *b)
{
	return svc(b)->pkgdir(b);
}

int vs_build_setenv(struct vs_build *b, const char *name, const char *value)
{
	return svc(b)->setenv(b, name, value);
}

int vs_build_dist_find(struct vs_build *b, const char *rel, char *buf,
		       size_t size)
{
	return svc(b)->dist_find(b, rel, buf, size);
}

int vs_build_dist_require(struct vs_build *b, const char *method)
{
	return svc(b)->dist_require(b, method);
}

void vs_build_set_data(struct vs_build *b, void *data)
{
	svc(b)->set_data(b, data);
}

void *vs_build_data(const struct vs_build *b)
{
	return svc(b)->data(b);
}

int vs_build_write_cfg(struct vs_build *b, const char *rel, const char *value)
{
	return svc(b)->write_cfg(b, rel, value);
}

int vs_build_run(struct vs_build *b, char *const argv[])
{
	return svc(b)->run(b, argv);
}

int vs_build_run_private(struct vs_build *b, char *const argv[])
{
	return svc(b)->run_private(b, argv);
}

int vs_build_conf_line(struct vs_build *b, const char *rel, bool shipped,
		       char *buf, size_t size)
{
	return svc(b)->conf_line(b, rel, shipped, buf, size);
}

const struct vs_plugin *vs_plugin_load(struct vs_ctx *ctx,
				       enum vs_plugin_kind kind,
				       const char *name)
{
	char stem[64];
	snprintf(stem, sizeof(stem), "%s", name);
	for (char *c = stem; *c; c++)
		if (*c == '-')
			*c = '_';
	const struct vs_plugin_entry *refused;
	vs_plugins_load_kind(ctx, kind, stem);
	const struct vs_plugin *p = vs_plugin_find(ctx, kind, stem, &refused);
	if (p)
		return p;
	if (refused)
		vs_set_error(ctx,
			     "%s method '%s' is not available: plugin '%s' was "
			     "refused: %s",
			     vs_kind_name(kind), name, refused->file,
			     refused->refusal);
	else
		vs_set_error(ctx, "unknown %s method '%s' (see 'vs plugins')",
			     vs_kind_name(kind), name);
	return NULL;
}
