/* The unify and hashify engines shared by the reference (vunify) and
 * hash (vhashify) plugins: exclude lists, package managers'
 * configuration files, the walk, byte/xattr/extent comparison, dedupe,
 * the immutable flip, the hash store.  A convenience library linked into
 * those two plugins; it sees the core through api/vs only. */
#ifndef VS_UNIFY_ENGINE_H
#define VS_UNIFY_ENGINE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <vs/core.h>
#include <vs/plugin.h>

#include "unify.h"

/* exclude.c: util-vserver exclude lists */
enum vs_excl_kind { VS_EXCL_INCLUDE, VS_EXCL_EXCLUDE, VS_EXCL_SKIP };
struct vs_excl {
	struct {
		enum vs_excl_kind kind;
		char *text;
	} *pat;
	size_t n;
	char **exact; /* package-manager config files, NULL-terminated */
};
enum vs_excl_verdict {
	VS_INCLUDED,
	VS_EXCLUDED,
	VS_DESCEND_EXCLUDED, /* a directory to walk, everything in it
				excluded unless a pattern includes it */
};
/* Appends the patterns of a list; -1 with "shown:line: ..." set. */
int vs_excl_parse(struct vs_ctx *ctx, struct vs_excl *x, const char *text,
		  const char *shown);
void vs_excl_add_exact(struct vs_excl *x, const char *path);
/* The verdict for a path inside the guest ("/etc/passwd"); inside_excluded
 * when an ancestor was VS_DESCEND_EXCLUDED. */
enum vs_excl_verdict vs_excl_match(const struct vs_excl *x, const char *path,
				   bool is_dir, bool inside_excluded);
void vs_excl_free(struct vs_excl *x);

/* unify.c: the unify engine */
enum vs_link { VS_LINK_AUTO, VS_LINK_REFLINK, VS_LINK_HARDLINK };
enum {
	VS_SKIP_EXCLUDED, VS_SKIP_SYMLINK, VS_SKIP_SPECIAL, VS_SKIP_MISSING,
	VS_SKIP_ALREADY, VS_SKIP_DIFFERENT, VS_SKIP_CHANGED, VS_SKIP_OTHERFS,
	VS_SKIP_ERROR, VS_SKIP_SMALL, VS_SKIP_COLLISION, VS_SKIP_LINKS,
	VS_UNIFY_NREASONS
};
struct vs_unify_tree {
	const char *root; /* for messages */
	int rootfd;       /* O_DIRECTORY */
	struct vs_excl excl;
	bool conffiles;   /* the package managers' list still to add */
	int verbose;
};
struct vs_unify_opts {
	bool dry_run, ignore_mtime, progress;
	int verbose;
	enum vs_link link; /* REFLINK or HARDLINK (resolved) */
};
struct vs_unify_stats {
	unsigned long long examined, linked, bytes_saved, errors;
	unsigned long long skipped[VS_UNIFY_NREASONS];
};
const char *vs_unify_reason(int reason);
/* Opens a tree for unify/hashify: its root (host view), the exclude list
 * (host view, or a real path when excl_real; NULL: none) and, with
 * conffiles, the package managers' configuration files.  t->root points
 * into *rootbuf (malloc'd, the caller frees it). */
int vs_tree_open(struct vs_ctx *ctx, struct vs_unify_tree *t, char **rootbuf,
		 const char *root, const char *excl, bool excl_real,
		 bool conffiles, int verbose);
/* The same for a guest: it needs apps/vunify/; its exclude list comes from
 * apps/vunify/exclude, .defaults or the shipped one. */
int vs_tree_open_guest(struct vs_ctx *ctx, struct vs_unify_tree *t,
		       char **rootbuf, struct vs_guest *g, int verbose);
void vs_tree_close(struct vs_unify_tree *t);

/* hashify.c: the hashify engine (hashstore.h for the store) */
struct vs_hstore;
struct vs_hash_opts {
	bool dry_run, ignore_mtime, refresh, progress;
	int verbose;
	enum vs_link link; /* REFLINK or HARDLINK (resolved) */
	/* smaller files are skipped; 0: the strategy's own (hashify.c) */
	off_t min_size;
};
struct vs_hash_stats {
	unsigned long long examined, bytes_hashed, cached, new_entries, linked,
		bytes_saved, errors;
	/* reflink: new files sharing their beginning with the file at their
	 * path in an earlier tree of the run, and the bytes shared */
	unsigned long long prefixes, prefix_bytes;
	unsigned long long skipped[VS_UNIFY_NREASONS];
};
/* Hashifies the files of the trees (all on store's filesystem) into
 * store, in one pass: equal files of different trees are read once.
 * Per-file problems are counted and warned about; -1 only when it
 * cannot start. */
int vs_hashify_run(struct vs_ctx *ctx, const struct vs_unify_tree *const *trees,
		   unsigned ntrees, struct vs_hstore *store,
		   const struct vs_hash_opts *o, struct vs_hash_stats *st);
/* -1 (error set, naming the guest and what) while any guest runs. */
int vs_require_all_stopped(struct vs_ctx *ctx, const char *what);
/* Removes a name (in dirfd) of a file that may be a shared, immutable
 * inode: its flag off for the moment of the unlink, then on again while
 * two names or more are left. */
void vs_unlink_shared(int dirfd, const char *name);
/* The temporary name of a link that is about to replace a guest file (a
 * leftover of an interrupted run is recognised and removed). */
#define VS_UNIFY_TMP ".vs-unify-tmp."
/* vs's own extended attributes (the digest cache): never compared or
 * copied as a file's own. */
#define VS_XATTR_PREFIX "trusted.vs."
/* 1 when two open files have the same bytes, 0 when not, -1 on a read
 * error; buf1/buf2 of size bytes are scratch space. */
int vs_same_bytes(int a, int b, char *buf1, char *buf2, size_t size);
/* Equal extended attributes, VS_XATTR_PREFIX names left out. */
bool vs_same_xattrs(int a, int b);
/* True when both files map the same blocks at the same offsets, written
 * or unwritten alike (so they have the same bytes). */
bool vs_same_extents(int a, int b);
/* A file's extents as vs_same_extents compares them (at most
 * VS_EXTMAP_MAX): n is 0 when they cannot decide (none, more, or one
 * not placed yet). */
#define VS_EXTMAP_MAX 31
struct vs_extmap {
	unsigned n;
	struct {
		uint64_t logical, physical, length;
		bool unwritten;
	} e[VS_EXTMAP_MAX];
};
/* Reads the extent map of fd into m (n 0 when it cannot decide). */
void vs_extent_map(int fd, struct vs_extmap *m);
/* True when two maps of vs_extent_map are the same placed blocks. */
bool vs_same_map(const struct vs_extmap *a, const struct vs_extmap *b);
/* The physical address of a file's first extent, where it has a known
 * one (not a hole-only, inline or not yet allocated file). */
bool vs_first_extent(int fd, uint64_t *phys);
/* The bytes one FIDEDUPERANGE call is given at most. */
#define DEDUPE_MAX ((off_t)16 << 20)
/* FIDEDUPERANGE of size bytes from src to dst, in calls of DEDUPE_MAX
 * from the start: 0 shared, 1 the bytes differ (what the calls before
 * shared stays shared), -1 with errno. */
int vs_dedupe(int src, int dst, off_t size);
/* As vs_dedupe, for files that may be equal: the last call's bytes are
 * compared first, so one that differs there changes nothing. */
int vs_dedupe_equal(int src, int dst, off_t size);
int vs_set_immutable(int fd, bool on);
bool vs_is_immutable(int fd);
/* The file flags (chattr) a hardlink would share, immutable left out (vs
 * sets it on every shared inode); 0 where the filesystem has none. */
unsigned vs_share_flags(int fd);
/* Whether two files' metadata allow one inode for both: mode, owner,
 * group, mtime to the nanosecond (unless ignore_mtime), extended
 * attributes and file flags. */
bool vs_same_meta(int a, const struct stat *as, int b, const struct stat *bs,
		  bool ignore_mtime);
/* A read lease on fd (opened read-only): while it is held nobody can open
 * the file for writing (the opener waits).  False when it cannot be had
 * (a writer has it open, or the filesystem has no leases). */
bool vs_lease_read(int fd);
void vs_lease_end(int fd);
/* A read lease of ours that an opener for writing has broken (it waits
 * in open(2) until we let go). */
bool vs_lease_broken(int fd);
/* Puts the file at tmp in place of name (whose inode is fd's, under our
 * read lease when leased), exchanged so that the original keeps a name
 * until no writer wants it: a writer that opened name meanwhile waits on
 * the lease, and seeing that, the exchange is undone (1); else the
 * original is dropped (0).  A plain rename on a file system without
 * RENAME_EXCHANGE; -1 with errno. */
int vs_swap_leased(int dirfd, const char *tmp, const char *name, int fd,
		   bool leased);
/* What an interrupted exchange leaves: tmp (VS_UNIFY_TMP + name, stat
 * tst) holding the original of name (stat nst), which the run had
 * already shared.  It is removed (unless dry_run) and true returned when
 * its bytes, mode, owner and mtime are name's: nothing wrote to it after
 * the comparison.  Else it stays, for the administrator. */
bool vs_stale_original(int dirfd, const char *tmp, const struct stat *tst,
		       const struct stat *nst, bool dry_run);
/* The strategy `auto` picks for two trees. */
int vs_unify_link_mode(int dst_rootfd, int ref_rootfd);
/* Shares the files of dst that are equal in a reference (the first one
 * that has it wins).  Per-file problems are counted and warned about;
 * returns -1 only when the run could not start. */
int vs_unify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		 const struct vs_unify_tree *refs, size_t nrefs,
		 const struct vs_unify_opts *o, struct vs_unify_stats *st);

/* Turns the unified (immutable, linked) files below dst into private
 * copies with the same content, owner, mode, times, xattrs and holes. */
int vs_deunify_run(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		   const struct vs_unify_opts *o, struct vs_unify_stats *st);
/* Only the given guest paths (files or directories; NULL: all). */
int vs_deunify_paths(struct vs_ctx *ctx, const struct vs_unify_tree *dst,
		     char *const *paths, const struct vs_unify_opts *o,
		     struct vs_unify_stats *st);
int vs_deunify_file(struct vs_ctx *ctx, int dirfd, const char *name,
		    const char *path, const struct vs_unify_opts *o,
		    struct vs_unify_stats *st, char *buf, size_t size);

/* pkgconf.c: dpkg's configuration files of the guest whose root is open
 * at rootfd, added to x as exact excludes. */
int vs_dpkg_conffiles(int rootfd, struct vs_excl *x);
/* rpm's configuration files (`rpm --root -qac` on the host) when the
 * guest has an rpm database. */
int vs_rpm_conffiles(int rootfd, const char *root_real, struct vs_excl *x);
/* Adds the configuration files of the tree's package managers to its
 * exclude list, once (vs_tree_open only notes that they are wanted: a run
 * refused for bad input never runs rpm, which writes to the guest's
 * database files). */
void vs_tree_conffiles(struct vs_unify_tree *t);

#endif
