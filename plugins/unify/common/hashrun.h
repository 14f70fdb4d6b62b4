/* The hashify engine's private parts, shared by hashify.c (the run, the
 * per-file path and the report), hashwalk.c (the walk), hashlink.c
 * (linking guest files and store entries) and hashgroup.c (files that
 * may be equal, handled together).  Not installed. */
#ifndef VS_HASHRUN_H
#define VS_HASHRUN_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "hashstore.h"
#include "engine.h"

/* internal to libvs: not exported */
#define HF_INTERNAL __attribute__((visibility("hidden")))

#define HBUF	     (32 << 10)
#define DBUF	     (128 << 10) /* a file hashed on its own: read per call */
#define THREADS	     8 /* at most; 2 per CPU, at least 4 */
#define FREEZE_LOCKS 64
#define GMAX	     16		/* candidates of a group handled at once */
#define PREFIX_MIN   (64 << 10) /* reflink: shortest beginning shared */
#define SRC_TRIES    4	/* reflink: group contents (and entries of a size) tried before hashing */
#define SRC_HEAD     64 /* reflink: first bytes of a group's file compared */
#define NSRC	     256 /* reflink: contents of a group remembered with a file */

struct hcand {
	char *name;   /* "passwd": in the arena */
	unsigned dir; /* its directory in hrun.dirs ("/etc") */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	/* hardlink, a small file whose size and metadata others have: a
	 * key of its content (hashkey.c; 0: none) */
	uint64_t key;
};

/* A directory of the walk: its times are put back when a file in it was
 * replaced (the guest sees no change but ctime). */
struct hdir {
	char *path;
	ino_t ino;
	struct timespec atime, mtime;
	int fd;	       /* kept open from the walk, or -1 (opened again) */
	unsigned tree; /* in hrun.trees */
	bool touched;
};

struct hrun {
	struct vs_ctx *ctx;
	const struct vs_unify_tree *const *trees;
	unsigned ntrees;
	struct vs_hstore *store;
	const struct vs_hash_opts *o;
	struct vs_hash_stats *st;
	dev_t dev;
	struct hcand *c;
	size_t n, cap;
	/* the candidates sorted (indexes into c, 4 bytes each: sorting c
	 * itself would cost a copy of it), and their runs that may be equal
	 * (size, mode, owner, mtime): group k is order[groups[k]] to
	 * order[groups[k + 1]] */
	unsigned *order, *groups;
	size_t ngroups;
	/* the groups in the order they are linked (index into groups):
	 * large files' first, then the keyed contents in walk order */
	unsigned *gorder;
	bool keyed;	 /* hardlink: small files are keyed by content */
	off_t min_size;	 /* smaller files are skipped ("too small") */
	size_t keep_fds; /* directory fds the walk may keep open */
	bool cached;	 /* the files are in the page cache (mostly) */
	unsigned nth;	 /* the link pass's threads */
	/* reflink, not a dry run: what became of each candidate, for the
	 * shared beginnings and the digest cache written at the end */
	struct hdone *fate;
	struct hdir *dirs;
	size_t ndirs, dcap;
	char **arena;
	size_t narena, arena_used;
	/* the link pass's work, positions in gorder: range 0 the large
	 * files' groups (every thread's first), range k > 0 the keyed
	 * contents of thread k - 1 (far apart in the trees, so that the
	 * threads do not wait on each other's directories), taken by the
	 * others once theirs is done */
	size_t kfirst;	     /* the first keyed group's position */
	atomic_size_t knext; /* key, then cache pass: the next candidate */
	atomic_size_t next[THREADS + 1];
	size_t end[THREADS + 1];
	unsigned nranges;
	atomic_size_t done;
	pthread_mutex_t lock; /* the store's inode set, stats, dirs */
	/* one held while an entry's immutable flag is off (by its inode):
	 * two threads linking to one entry must not see each other's half */
	pthread_mutex_t freeze[FREEZE_LOCKS];
	atomic_int xfd[256];  /* the store's <xx> directories, opened once */
	ino_t *freed; /* inodes with several names whose last one went */
	size_t nfreed;
	/* candidates with several names: inode, link count, names the walk
	 * saw (sorted by inode after the walk) */
	struct hlinks *links;
	size_t nlinks, lcap;
};

struct hdone {
	unsigned char d[VS_DIGEST_LEN]; /* its content's (HD_DIGEST) */
	unsigned char flags;
};
#define HD_DIGEST 1 /* it has the entry d's content, shared or new */
#define HD_FRESH 2  /* it made that entry */
#define HD_CACHED 4 /* its digest cache holds d already */

struct hlinks {
	ino_t ino;
	nlink_t nlink;
	unsigned seen;
};

/* Reflink: a file of a thread's size group that shares the extents of
 * the entry with digest d, and its first bytes (a file is deduplicated
 * only from those that start as it does: a failed dedupe costs the
 * kernel more than this). */
struct hsrc {
	int fd;
	unsigned char d[VS_DIGEST_LEN];
	unsigned char head[SRC_HEAD];
};

/* Reflink: the extents of a store entry (digest d) as a thread saw them
 * in the group at hand. */
struct hemap {
	unsigned char d[VS_DIGEST_LEN];
	struct vs_extmap m;
};

/* One thread's state. */
struct hwork {
	struct hrun *h;
	bool reporter;
	unsigned id;	   /* link pass: the thread's range of contents */
	char *buf1, *buf2; /* HBUF + 1 bytes each */
	char *dbuf;	   /* DBUF bytes */
	char *small;	   /* GMAX members of at most HBUF bytes (+ 1 each) */
	const struct hcand *cur; /* the candidate at hand (messages) */
	/* hardlink: new entries go into the class index only when a later
	 * batch of their group looks them up (files that may be equal are
	 * one group: no other lookup in this run can need them) */
	bool index_new;
	/* reflink: files of the group at hand sharing the extents of the
	 * entries with digests src_d */
	struct hsrc *src; /* NSRC of them, allocated when first needed */
	int nsrc;
	/* reflink: inodes with several names whose first name this group
	 * shared (the guest keeps its inode: its other names are done; a
	 * dedupe again would have the kernel read all of it from disk,
	 * since a dedupe drops the destination's cached pages) */
	ino_t *done_ino;
	size_t ndone, cdone;
	/* reflink: the extents of the entries this group's files were
	 * compared with (a rerun opens an entry and reads its extent map
	 * once per group, not once per file: at most NSRC), and of the file
	 * at hand (read once; again after a dedupe into it) */
	struct hemap *emaps;
	int nemaps, cemaps;
	struct vs_extmap fmap;
	bool fmap_read;
	unsigned curdir;
	int curfd;
	struct vs_hash_stats st;
};

enum hresult {
	R_LINKED,
	R_NEW,
	R_ALREADY,
	R_CHANGED,
	R_COLLISION,
	R_FAILED,
	R_RETRY,
	R_PENDING,
	R_LINKS /* its inode has other names: it never becomes an entry */
};

/* A guest file on its way to a store entry. */
struct gmem {
	const struct hcand *c;
	int dirfd; /* its directory (kept by the walk or owned) */
	bool owned_dir;
	int fd; /* -1 once closed */
	bool leased;
	struct stat st;
	char class[128];
	enum hresult r; /* R_PENDING until decided */
	int e;		/* errno of an R_FAILED */
	bool eq;	/* still equal in a comparison */
	unsigned char
	    d[VS_DIGEST_LEN]; /* its entry's digest (R_NEW, R_LINKED) */
};

/* The root of a candidate's tree, for messages. */
static inline const char *hf_troot(const struct hrun *h, const struct hcand *c)
{
	return h->trees[h->dirs[c->dir].tree]->root;
}

/* A candidate's path in its tree ("/etc/passwd"), into buf. */
static inline const char *hf_cpath(const struct hrun *h, const struct hcand *c,
				   char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", h->dirs[c->dir].path, c->name);
	return buf;
}

/* ---- link pass -------------------------------------------------------- */

static inline bool hf_same_as_walk(const struct hcand *c, const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_ino == c->ino &&
	       st->st_size == c->size &&
	       st->st_mtim.tv_sec == c->mtime.tv_sec &&
	       st->st_mtim.tv_nsec == c->mtime.tv_nsec;
}

/* The lock held while the immutable flag of inode ino is off. */
static inline pthread_mutex_t *hf_freeze_lock(struct hrun *h, ino_t ino)
{
	return &h->freeze[(ino * 0x9e3779b97f4a7c15ULL) >> 58];
}

/* ---- hashify.c ----------------------------------------------------------- */
/* Counts a skipped file and says so as verbose asks. */
HF_INTERNAL void hf_skip(struct hwork *w, const char *path, int reason);
/* Counts and reports the outcome r (errno e) of candidate c; entry is
 * the store entry's name, d its digest, class the file's class (hardlink)
 * or NULL; freed: its space was freed. */
HF_INTERNAL void hf_report(struct hwork *w, const struct hcand *c,
			   enum hresult r, int e, const char *entry,
			   const unsigned char *d, const char *class,
			   off_t size, bool freed);
/* Whether replacing a name of the (hardlink) file ffd freed its space. */
HF_INTERNAL bool hf_frees_space(struct hwork *w, int ffd,
				const struct stat *fs);
/* The directory of a candidate, opened beneath the root (kept for the
 * next candidate of the same directory; not to be closed). */
HF_INTERNAL int hf_parent_fd(struct hwork *w, const struct hcand *c);
/* Hashifies one candidate on its own, reporting it. */
HF_INTERNAL void hf_link_one(struct hwork *w, struct hcand *c);

/* Records on a new reflink entry a handle of the guest file it was cloned
 * from (a trusted.* attribute: no guest can forge it). */
HF_INTERNAL void hf_remember_source(int entryfd, int srcfd);

/* ---- hashprefix.c -------------------------------------------------------- */
/* Reflink, several trees: files new to the store share their beginning
 * with the file at their path in an earlier tree (h->fate marks them HD_FRESH). */
HF_INTERNAL void hf_share_prefixes(struct hrun *h);
/* Reflink, a thread of the cache pass (arg: its struct hwork): writes
 * the digest cache of the files whose rerun would read them without it
 * (hashcache.c), taking the next candidates in walk order (h->knext)
 * until none is left. */
HF_INTERNAL void *hf_cache_worker(void *arg);

/* ---- hashwalk.c ---------------------------------------------------------- */
/* Adds a directory of the walk; takes *fd (sets it to -1) while there is
 * room to keep it open.  Returns its index. */
HF_INTERNAL unsigned hf_add_dir(struct hrun *h, unsigned tree,
				const char *path, const struct stat *st,
				int *fd);
/* Walks tree number tree from dirfd (dirpath, directory index dir),
 * counting what it skips in w. */
HF_INTERNAL void hf_walk(struct hwork *w, unsigned tree, int dirfd,
			 const char *dirpath, unsigned dir, bool inside,
			 int depth);
/* Opens a path of a tree beneath its root: no symlink, no "..", no other
 * filesystem on the way; -1 with errno. */
HF_INTERNAL int hf_open_beneath(int rootfd, const char *path, int flags);
/* A directory of the walk opened again beneath its tree's root: a new
 * descriptor, or -1 (also when it is no longer the walk's inode). */
HF_INTERNAL int hf_dir_reopen(struct hrun *h, const struct hdir *d);
/* A candidate opened read-only in its directory dirfd (O_NOATIME when
 * allowed) and checked against the walk: -1 when it cannot be opened or
 * is not the file walked (st filled otherwise). */
HF_INTERNAL int hf_cand_open(const struct hcand *c, int dirfd, struct stat *st);
/* The same after the walk, its directory opened again when the walk did
 * not keep it. */
HF_INTERNAL int hf_cand_reopen(struct hrun *h, const struct hcand *c,
			       struct stat *st);
/* The next candidates [*i, *end) of a walk-order pass (the key and cache
 * passes), taken from h->knext: false when none is left. */
HF_INTERNAL bool hf_next_chunk(struct hrun *h, size_t *i, size_t *end);
/* Puts back the times of the directories whose entries were replaced. */
HF_INTERNAL void hf_restore_dir_times(struct hrun *h);

/* ---- hashlink.c ---------------------------------------------------------- */
/* The <xx> directory of an entry name ("xx/..."), created when asked,
 * opened once per run (not to be closed); -1 with errno. */
HF_INTERNAL int hf_entry_dir(struct hrun *h, const char *entry, bool create);
/* An entry opened read-only (plus flags); -1 with errno (ENOENT: none). */
HF_INTERNAL int hf_entry_open(struct hrun *h, const char *entry, int flags);
/* Whether inode ino is a store entry. */
HF_INTERNAL bool hf_store_has(struct hrun *h, ino_t ino);
/* Replaces the guest files of m[0..n) with eq set by links to the entry
 * efd (inode eino), each atomically, setting their r and e (held: the
 * caller holds a read lease on efd). */
HF_INTERNAL void hf_link_to_entry(struct hrun *h, int efd, ino_t eino,
				  const char *entry, bool held, struct gmem *m,
				  int n);
/* Whether the entry efd (stat es) has the metadata of the guest file ffd
 * (stat fs) that a link would show: type, size, mode, owner, mtime (unless
 * ignored) and flags.  Extended attributes are compared apart. */
HF_INTERNAL bool hf_entry_fits(const struct hrun *h, int efd,
			       const struct stat *es, int ffd,
			       const struct stat *fs);
/* After the walk: counts the names the run saw of each inode. */
HF_INTERNAL void hf_count_links(struct hrun *h);
/* True when every one of nlink names of ino is a candidate of the run:
 * making the inode an entry (immutable) freezes no name outside it. */
HF_INTERNAL bool hf_links_known(const struct hrun *h, ino_t ino,
				nlink_t nlink);
/* Makes the guest's own inode ffd (hashed under its lease) the entry:
 * R_NEW, R_RETRY (an entry of that name exists), R_LINKS (it has names
 * outside the run) or R_FAILED. */
HF_INTERNAL enum hresult hf_new_hard_entry(struct hrun *h, int ffd, ino_t ino,
					   const char *entry);

/* ---- hashgroup.c --------------------------------------------------------- */
/* Hashifies up to GMAX candidates that may be equal (hardlink), every
 * byte read once, reporting each. */
HF_INTERNAL void hf_link_batch(struct hwork *w, struct hcand **c, int n);

/* ---- hashkey.c ----------------------------------------------------------- */
/* The content key of the regular file name in dirfd (inode ino, size
 * bytes as walked), read whole into buf (HBUF + 1 bytes): 0 when it is
 * larger than HBUF, cannot be read or is no longer the file walked. */
HF_INTERNAL uint64_t hf_content_key(int dirfd, const char *name, ino_t ino,
				    off_t size, char *buf);
/* A thread of the key pass (arg: its struct hwork, with buf1 of HBUF + 1
 * bytes): keys the candidates marked for it (key 1), taking the next
 * KCHUNK of them in walk order (h->knext) until none is left. */
HF_INTERNAL void *hf_key_worker(void *arg);

/* ---- hashsmall.c --------------------------------------------------------- */
/* The pending members m[0..n) of a batch of files of size bytes, at most
 * HBUF: each read whole once and hashed, those of one digest and class
 * linked to that entry (made from the first when there is none), every
 * byte compared in memory.  Sets their r, e and d. */
HF_INTERNAL void hf_link_small(struct hwork *w, struct gmem *m, int n,
			       off_t size);

#endif
