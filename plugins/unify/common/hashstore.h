/* The content-addressed store of hashify (vhashify): layout, digests, the
 * digest cache.  Internal to libvs.
 *
 * A hash directory (apps/vunify/hash, .defaults/apps/vunify/hash or
 * --destination) holds entries such as "0" that are (symlinks to) store
 * directories, at most one per filesystem.  A store holds:
 *   method          "sha256": the digest; another one is refused
 *   <xx>/<digest>   reflink entries: a file with that content (its own
 *                   inode, extents shared with the guests' files)
 *   <xx>/<digest>-m<mode>-u<uid>-g<gid>-t<mtime|->-x<xattrs>[-f<flags>]
 *                   hardlink entries: the guests' (immutable) inode with
 *                   that content and metadata class; <mtime> is seconds
 *                   and nine digits of nanoseconds ("1700000000.000000001",
 *                   vs before 2026-12 wrote seconds only: such a store is
 *                   refused until `hashify --migrate` renamed it),
 *                   <xattrs> is "0" or 16 hex digits of the SHA-256 of the
 *                   sorted xattrs, <flags> the file flags in hex other
 *                   than immutable, when there are any
 * where <xx> are the digest's first two hex digits and <digest> its 64.
 * `sha256sum` of an entry gives the start of its name. */
#ifndef VS_HASHSTORE_H
#define VS_HASHSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct vs_ctx;

#define VS_DIGEST_LEN 32
#define VS_DIGEST_HEX (2 * VS_DIGEST_LEN)
#define VS_DIGEST_NAME "sha256"
#define VS_HASH_XATTR "trusted.vs.sha256"
#define VS_HASH_MIN_SIZE 16 /* smaller files are skipped, as util-vserver */
#define VS_STORE_TMP ".tmp."

/* The hardlink entries of a store by metadata class: lets a file be
 * compared with the entries of its class and size before it is hashed. */
struct vs_hent {
	unsigned char d[VS_DIGEST_LEN];
	off_t size; /* -1: not known yet */
	size_t next; /* the next entry of its list, or (size_t)-1 */
};
struct vs_hclass_slot {
	char *name;  /* "<class>|<size>", or the class for entries of a size
		      * not looked up yet; NULL: empty slot */
	size_t first; /* its first entry, or (size_t)-1 */
};

struct vs_hstore {
	char *name;  /* the hash-dir entry, e.g. "0" */
	char *path;  /* the store directory (real path, for messages) */
	int fd;      /* O_DIRECTORY */
	dev_t dev;
	ino_t *inos; /* entries' inodes: a hash set (vs_hstore_load) */
	size_t ninos, cap;
	struct vs_hent *ents; /* hardlink entries (vs_hstore_load) */
	size_t nents, ecap;
	struct vs_hclass_slot *cls; /* open addressing by class text */
	size_t ncls, ccap;
	size_t nold; /* entries named by an earlier vs (vs_hstore_load) */
};

struct vs_hstores {
	struct vs_hstore *s;
	size_t n;
	char *dir; /* the hash directory (real path) */
};

/* Opens every store of a hash directory (host view).  Refuses a relative
 * symlink, two stores on one filesystem, a store made with another
 * digest, an empty hash directory; changes nothing.  Returns 0, or -1
 * with the error set. */
int vs_hstores_open(struct vs_ctx *ctx, const char *hashdir,
		    struct vs_hstores *out);
/* Writes the method file of a new store (before its first entry). */
int vs_hstore_init(struct vs_ctx *ctx, struct vs_hstore *s);
void vs_hstores_close(struct vs_hstores *h);
/* The store on filesystem dev, or NULL. */
struct vs_hstore *vs_hstore_for(struct vs_hstores *h, dev_t dev);
/* Calls fn for every name in the store's <xx> directories (entries and
 * temporary names) with that directory's fd, the name's inode and its
 * path for messages.  Returns 0, or -1 (error set) when a directory
 * cannot be read. */
typedef void vs_hstore_fn(int xfd, const char *name, ino_t ino,
			  const char *shown, void *arg);
int vs_hstore_each(struct vs_ctx *ctx, struct vs_hstore *s, vs_hstore_fn *fn,
		   void *arg);
/* vs_hstore_each over every store of a hash directory (host view), each
 * opened and closed here.  0, or -1 with the error set. */
int vs_hstores_each(struct vs_ctx *ctx, const char *hashdir, vs_hstore_fn *fn,
		    void *arg);
/* Reads the inodes of the store's entries (one readdir per <xx>
 * directory, no stat); removes temporary names a crashed run left unless
 * dry_run.  Returns 0 or -1 (error set). */
int vs_hstore_load(struct vs_ctx *ctx, struct vs_hstore *s, bool dry_run);
bool vs_hstore_has_ino(const struct vs_hstore *s, ino_t ino);
/* The index key of reflink entries of a size ("=<size>": no class of a
 * hardlink entry starts with '='). */
void vs_hsize_key(off_t size, char *buf, size_t len);
/* Records an entry in the index: a hardlink entry under its class, a
 * reflink entry under vs_hsize_key(). */
void vs_hstore_index_add(struct vs_hstore *s, const unsigned char *d,
			 const char *class, off_t size);
/* Up to max digests of entries of class (or size key) and size (sizes
 * are looked up once per entry; a lookup walks only the entries of its
 * class and size).  Returns how many. */
int vs_hstore_candidates(struct vs_hstore *s, const char *class, off_t size,
			 unsigned char (*out)[VS_DIGEST_LEN], int max);
/* Whether the index lists an entry of digest d under class (or size
 * key) and size. */
bool vs_hstore_listed(struct vs_hstore *s, const char *class, off_t size,
		      const unsigned char d[VS_DIGEST_LEN]);
/* Adds an inode to the set. */
void vs_hstore_add_ino(struct vs_hstore *s, ino_t ino);

/* Called with each chunk of a file read by vs_digest_stream (off: where
 * it starts; buf is valid for the call only). */
typedef void vs_chunk_fn(void *arg, off_t off, const char *buf, size_t len);
/* Reads fd (expected to be size bytes) once, in chunks of bufsize through
 * buf: the SHA-256 of the content into out (unless NULL), and every chunk
 * within size to chunk (unless NULL).  0, or -1 with errno (ESTALE: the
 * file is not size bytes long). */
int vs_digest_stream(int fd, off_t size, unsigned char out[VS_DIGEST_LEN],
		     char *buf, size_t bufsize, vs_chunk_fn *chunk, void *arg);
/* SHA-256 of an open file's first size bytes (from offset 0, pread), buf
 * is scratch space.  Returns 0, or -1 with errno (ESTALE when the file
 * is shorter or longer than size: it changed while being hashed). */
int vs_digest_fd(int fd, off_t size, unsigned char out[VS_DIGEST_LEN],
		 char *buf, size_t bufsize);
/* SHA-256 of len bytes at buf. */
void vs_digest_mem(const void *buf, size_t len,
		   unsigned char out[VS_DIGEST_LEN]);
void vs_digest_hex(const unsigned char d[VS_DIGEST_LEN],
		   char hex[VS_DIGEST_HEX + 1]);
/* The value of a lowercase hex digit, or -1. */
int vs_hex_digit(char c);
/* Parses 64 hex digits; false when malformed. */
bool vs_digest_parse(const char *hex, unsigned char d[VS_DIGEST_LEN]);

/* The metadata class of a hardlink entry for an open file with stat st:
 * "m0644-u0-g0-t1700000000.123456789-x0" (t- with ignore_mtime; "-f<hex>"
 * after it for file flags).  Returns 0 or -1 (xattrs unreadable). */
int vs_hclass(int fd, const struct stat *st, bool ignore_mtime, char *buf,
	      size_t size);
/* Whether a class (or an entry name ending in one) says "no xattrs". */
bool vs_hclass_no_xattrs(const char *cls);
/* Whether a class has the whole-second mtime of an earlier vs. */
bool vs_hclass_is_old(const char *cls);
/* "<xx>/<hex>" or "<xx>/<hex>-<class>" (class NULL: reflink entry). */
void vs_hentry_name(const unsigned char d[VS_DIGEST_LEN], const char *class,
		    char *buf, size_t size);

/* The digest cache of a file: valid when size, mtime and inode are those
 * recorded and ctime is within two seconds after the recorded one (the
 * cache's own write moves ctime).  Returns true and fills d when valid. */
bool vs_hcache_get(int fd, const struct stat *st,
		   unsigned char d[VS_DIGEST_LEN]);
/* Records the digest of an open file whose stat is st; 0 or -1. */
int vs_hcache_set(int fd, const struct stat *st,
		  const unsigned char d[VS_DIGEST_LEN]);

#endif
