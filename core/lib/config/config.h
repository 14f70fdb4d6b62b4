/* config: vs.conf, the per-guest configuration tree, guests, contexts,
 * interfaces, capability lists.  Calls base only. */
#ifndef VS_CONFIG_H
#define VS_CONFIG_H

#include "base/base.h"

struct vs_guest {
	struct vs_ctx *ctx;
	char *name;   /* config dir basename */
	char *cfgdir; /* host view, no trailing '/' */
	char *root;   /* host view of vdir's target, or NULL */
	unsigned context;
	unsigned xid; /* the running guest's context (start, stop), or 0 */
	bool restart_requested; /* set by a hook plugin (vshelper) */
	bool sync; /* --sync: cmd.start-sync, cmd.stop-sync run */
};

/* conf.c (libconfuse stays inside this file) */
/* Reads vs.conf (file NULL: the default location, missing is fine) and
 * applies its paths.  -1 with the error set. */
int vs_ctx_configure(struct vs_ctx *ctx, const char *file);
int vs_conf_load(struct vs_ctx *ctx, const char *shown, int fd);
void vs_conf_free(struct vs_conf *conf);

/* guest.c */
/* Checks a new guest name; -1 with the error set. */
int vs_guest_name_check(struct vs_ctx *ctx, const char *name);

/* guest.c: directories shared between guests */
/* The kinds of a guest's own directories: "root", "cache", "run",
 * "package directory" (NULL-terminated). */
extern const char *const vs_guest_dir_kinds[];
/* The canonical host-view path of one of them (malloc'd), or NULL. */
char *vs_guest_dir_canon(struct vs_guest *g, const char *kind);

/* cfgtree.c */
/* Rule B: 1 when flag exists per-guest or in .defaults, unless the
 * per-guest override exists (e.g. "nonamespace" / "namespace"). */
int vs_guest_flag_or(const struct vs_guest *g, const char *flag,
		     const char *override);

/* Lines of <cfgdir>/<rel> (empty ones skipped), NULL when missing;
 * *err is -1 (error set) when it could not be read. */
char **vs_guest_cfg_lines(struct vs_guest *g, const char *rel, int *err);
/* The same of a host-view path (real: a real one). */
char **vs_read_lines(struct vs_ctx *ctx, const char *path, bool real,
		     int *err);

/* context.c */

/* iface.c */

/* caps.c */
/* util-vserver's secure bounding set (+SYS_BOOT, AUDIT_WRITE). */
uint64_t vs_caps_secure(void);
unsigned vs_caps_last(void);
/* One capability: name, CAP_name, number, ^bit, all/any/none, as a
 * mask; -1 with the error set ("<where>: unknown capability 'x'"). */
int vs_caps_parse_item(struct vs_ctx *ctx, const char *item,
		       const char *where, uint64_t *mask);
/* Applies a list ("name,~name", numbers, ^bit, all/none; one item or
 * more per line) to *set; -1 with the error set naming where. */
int vs_caps_apply_list(struct vs_ctx *ctx, const char *text,
		       const char *where, uint64_t *set);
/* The secure set and what a user-namespace guest has besides. */
uint64_t vs_caps_userns(void);
/* The guest's bounding set: the secure set (or the user-namespace one),
 * bcapabilities, the host's limit. */
int vs_guest_bcaps(struct vs_guest *g, bool userns, uint64_t *bset);
/* Writes into out the capabilities of bset that reach the host when the
 * guest shares the host's user namespace, each with what it gives
 * ("cap_sys_admin (mount …), …"); returns how many. */
int vs_caps_host_reaching(uint64_t bset, bool own_netns, char *out,
			  size_t size);
/* Drops the bounding set to bset (the other sets as they are); -1 with
 * errno. */
int vs_caps_bound(uint64_t bset);

#endif
