/* Exclude lists with util-vserver's syntax (COMPAT §3.3): one pattern per
 * line, `#` comments, trailing spaces stripped; `+` includes, `~` skips,
 * `-` or nothing excludes; fnmatch without FNM_PATHNAME against the whole
 * path inside the guest; the first match decides.  Package-manager config
 * files are exact excludes checked before the list.
 *
 * Departure asked for by the seed documentation: an excluded directory is
 * walked (instead of pruned) when an include pattern can match below it;
 * inside it, whatever no pattern includes is excluded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

void vs_excl_free(struct vs_excl *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->pat[i].text);
	free(x->pat);
	vs_strv_free(x->exact);
	memset(x, 0, sizeof(*x));
}

int vs_excl_parse(struct vs_ctx *ctx, struct vs_excl *x, const char *text,
		  const char *shown)
{
	int lineno = 0;
	const char *p = text;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		lineno++;
		char *line = vs_xmalloc(len + 1);
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl ? 1 : 0);
		while (len && line[len - 1] == ' ')
			line[--len] = '\0';
		if (!len || line[0] == '#') {
			free(line);
			continue;
		}
		enum vs_excl_kind kind = VS_EXCL_EXCLUDE;
		char *pat = line;
		if (*pat == '+' || *pat == '~' || *pat == '-') {
			kind = *pat == '+'   ? VS_EXCL_INCLUDE
			       : *pat == '~' ? VS_EXCL_SKIP
					     : VS_EXCL_EXCLUDE;
			pat++;
		}
		if (*pat != '/' && *pat != '*' && *pat != '?' && *pat != '[') {
			vs_set_error(ctx,
				     "%s:%d: pattern '%s' does not start with "
				     "'/' (paths are absolute inside the guest)",
				     shown, lineno, pat);
			free(line);
			return -1;
		}
		x->pat = vs_xrealloc(x->pat, (x->n + 1) * sizeof(*x->pat));
		x->pat[x->n].kind = kind;
		x->pat[x->n].text = vs_strdup(pat);
		x->n++;
		free(line);
	}
	return 0;
}

void vs_excl_add_exact(struct vs_excl *x, const char *path)
{
	size_t n = 0;
	while (x->exact && x->exact[n])
		n++;
	x->exact = vs_xrealloc(x->exact, (n + 2) * sizeof(*x->exact));
	x->exact[n] = vs_strdup(path);
	x->exact[n + 1] = NULL;
}

/* Could pattern match some path below dir ("/etc")?  The literal part of
 * the pattern (up to its first wildcard) must agree with "dir/". */
static bool may_match_below(const char *pat, const char *dir)
{
	size_t lit = strcspn(pat, "*?[\\");
	size_t dl = strlen(dir);
	if (lit > dl) /* a literal longer than dir: it must start with dir/ */
		return strncmp(pat, dir, dl) == 0 && pat[dl] == '/';
	/* the literal ends inside dir: a wildcard can cover the rest */
	return strncmp(pat, dir, lit) == 0;
}

enum vs_excl_verdict vs_excl_match(const struct vs_excl *x, const char *path,
				   bool is_dir, bool inside_excluded)
{
	for (char **e = x->exact; e && *e; e++)
		if (!strcmp(*e, path))
			return VS_EXCLUDED;
	for (size_t i = 0; i < x->n; i++) {
		if (fnmatch(x->pat[i].text, path, 0) != 0)
			continue;
		if (x->pat[i].kind == VS_EXCL_INCLUDE)
			return VS_INCLUDED;
		goto excluded;
	}
	if (!inside_excluded)
		return VS_INCLUDED;
excluded:
	if (!is_dir)
		return VS_EXCLUDED;
	for (size_t i = 0; i < x->n; i++)
		if (x->pat[i].kind == VS_EXCL_INCLUDE &&
		    may_match_below(x->pat[i].text, path))
			return VS_DESCEND_EXCLUDED;
	return VS_EXCLUDED;
}
