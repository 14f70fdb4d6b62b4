/* The hashify walk: directory fds, O_NOFOLLOW, statx, exclude lists;
 * candidates and directories recorded for the link pass.  Several trees
 * are walked at once, one thread each: the run's arrays (directories,
 * candidates, names, links) are changed under h->lock only. */
#define _GNU_SOURCE
#include "hashrun.h"

/* ---- walk --------------------------------------------------------------- */

static char *arena_dup(struct hrun *h, const char *s)
{
	size_t len = strlen(s) + 1, chunk = 256 << 10;
	if (!h->narena || h->arena_used + len > chunk) {
		h->arena =
		    vs_xrealloc(h->arena, (h->narena + 1) * sizeof(*h->arena));
		h->arena[h->narena++] = vs_xmalloc(len > chunk ? len : chunk);
		h->arena_used = 0;
	}
	char *p = h->arena[h->narena - 1] + h->arena_used;
	memcpy(p, s, len);
	h->arena_used += len;
	return p;
}

/* A directory of the walk (fd: its open descriptor, kept while there is
 * room, else closed by the caller). */
HF_INTERNAL unsigned hf_add_dir(struct hrun *h, unsigned tree,
				const char *path, const struct stat *st,
				int *fd)
{
	pthread_mutex_lock(&h->lock);
	if (h->ndirs == h->dcap) {
		h->dcap = h->dcap ? 2 * h->dcap : 256;
		h->dirs = vs_xrealloc(h->dirs, h->dcap * sizeof(*h->dirs));
	}
	struct hdir *d = &h->dirs[h->ndirs];
	d->path = arena_dup(h, path);
	d->ino = st->st_ino;
	d->atime = st->st_atim;
	d->mtime = st->st_mtim;
	d->tree = tree;
	d->touched = false;
	d->fd = -1;
	if (h->ndirs < h->keep_fds) {
		d->fd = *fd;
		*fd = -1;
	}
	unsigned i = (unsigned)h->ndirs++;
	pthread_mutex_unlock(&h->lock);
	return i;
}

/* A directory of the walk opened again beneath its tree's root (a new
 * descriptor; its inode is still to be checked). */
HF_INTERNAL int hf_dir_reopen(struct hrun *h, const struct hdir *d)
{
	int rootfd = h->trees[d->tree]->rootfd;
	int fd = d->path[0]
		     ? hf_open_beneath(rootfd, d->path, O_RDONLY | O_DIRECTORY)
		     : dup(rootfd);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != d->ino)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

HF_INTERNAL int hf_cand_open(const struct hcand *c, int dirfd, struct stat *st)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = dirfd < 0 ? -1 : openat(dirfd, c->name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM && dirfd >= 0)
		fd = openat(dirfd, c->name, flags); /* not the owner's */
	if (fd >= 0 && (fstat(fd, st) < 0 || !hf_same_as_walk(c, st))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

HF_INTERNAL int hf_cand_reopen(struct hrun *h, const struct hcand *c,
			       struct stat *st)
{
	const struct hdir *dd = &h->dirs[c->dir];
	int dirfd = dd->fd >= 0 ? dd->fd : hf_dir_reopen(h, dd);
	int fd = hf_cand_open(c, dirfd, st);
	if (dd->fd < 0 && dirfd >= 0)
		close(dirfd);
	return fd;
}

/* Puts back the times of the directories whose entries were replaced. */
HF_INTERNAL void hf_restore_dir_times(struct hrun *h)
{
	for (size_t i = 0; i < h->ndirs; i++) {
		struct hdir *d = &h->dirs[i];
		if (!d->touched)
			continue;
		int fd = d->fd >= 0 ? dup(d->fd) : hf_dir_reopen(h, d);
		struct timespec ts[2] = {d->atime, d->mtime};
		if (fd >= 0)
			futimens(fd, ts);
		if (fd >= 0)
			close(fd);
	}
}

static void add_cand(struct hrun *h, const char *path, const struct stat *st,
		     unsigned dir)
{
	pthread_mutex_lock(&h->lock);
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 4096;
		h->c = vs_xrealloc(h->c, h->cap * sizeof(*h->c));
	}
	struct hcand *c = &h->c[h->n++];
	memset(c, 0, sizeof(*c));
	c->name = arena_dup(h, strrchr(path, '/') + 1);
	c->dir = dir;
	c->mode = st->st_mode;
	c->uid = st->st_uid;
	c->gid = st->st_gid;
	c->ino = st->st_ino;
	c->size = st->st_size;
	c->mtime = st->st_mtim;
	if (st->st_nlink > 1) {
		if (h->nlinks == h->lcap) {
			h->lcap = h->lcap ? 2 * h->lcap : 64;
			h->links = vs_xrealloc(h->links,
					       h->lcap * sizeof(*h->links));
		}
		h->links[h->nlinks++] =
			(struct hlinks){st->st_ino, st->st_nlink, 1};
	}
	pthread_mutex_unlock(&h->lock);
}

static int links_cmp(const void *a, const void *b)
{
	ino_t x = ((const struct hlinks *)a)->ino,
	      y = ((const struct hlinks *)b)->ino;
	return x < y ? -1 : x > y;
}

HF_INTERNAL void hf_count_links(struct hrun *h)
{
	if (!h->nlinks)
		return;
	qsort(h->links, h->nlinks, sizeof(*h->links), links_cmp);
	size_t k = 0;
	for (size_t i = 0; i < h->nlinks; i++)
		if (k && h->links[k - 1].ino == h->links[i].ino)
			h->links[k - 1].seen++;
		else
			h->links[k++] = h->links[i];
	h->nlinks = k;
}

HF_INTERNAL bool hf_links_known(const struct hrun *h, ino_t ino,
				nlink_t nlink)
{
	struct hlinks key = {.ino = ino};
	const struct hlinks *l =
		h->nlinks ? bsearch(&key, h->links, h->nlinks,
				    sizeof(*h->links), links_cmp)
			  : NULL;
	return l && l->seen >= nlink;
}

/* A temporary name of an interrupted run in a guest directory: a link
 * to a store entry (a guest cannot make one), or the original of a file
 * the run had just linked to one (vs_stale_original). */
static bool stale_guest_tmp(struct hrun *h, int dirfd, const char *name,
			    const struct stat *st)
{
	if (strncmp(name, VS_UNIFY_TMP, strlen(VS_UNIFY_TMP)) ||
	    !S_ISREG(st->st_mode) || st->st_dev != h->store->dev)
		return false;
	if (st->st_nlink >= 2 && vs_hstore_has_ino(h->store, st->st_ino)) {
		if (!h->o->dry_run)
			vs_unlink_shared(dirfd, name);
		return true;
	}
	struct stat ns;
	return fstatat(dirfd, name + strlen(VS_UNIFY_TMP), &ns,
		       AT_SYMLINK_NOFOLLOW) == 0 &&
	       vs_hstore_has_ino(h->store, ns.st_ino) &&
	       vs_stale_original(dirfd, name, st, &ns, h->o->dry_run);
}

/* lstat plus the immutable attribute, in one statx. */
static int walk_stat(int dirfd, const char *name, struct stat *st, bool *imm)
{
	struct statx x;
	if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT,
		  STATX_BASIC_STATS, &x) < 0)
		return -1;
	memset(st, 0, sizeof(*st));
	st->st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
	st->st_ino = x.stx_ino;
	st->st_mode = x.stx_mode;
	st->st_nlink = x.stx_nlink;
	st->st_uid = x.stx_uid;
	st->st_gid = x.stx_gid;
	st->st_size = (off_t)x.stx_size;
	st->st_blocks = (blkcnt_t)x.stx_blocks;
	st->st_atim.tv_sec = x.stx_atime.tv_sec;
	st->st_atim.tv_nsec = x.stx_atime.tv_nsec;
	st->st_mtim.tv_sec = x.stx_mtime.tv_sec;
	st->st_mtim.tv_nsec = x.stx_mtime.tv_nsec;
	st->st_ctim.tv_sec = x.stx_ctime.tv_sec;
	st->st_ctim.tv_nsec = x.stx_ctime.tv_nsec;
	*imm = (x.stx_attributes_mask & STATX_ATTR_IMMUTABLE) &&
	       (x.stx_attributes & STATX_ATTR_IMMUTABLE);
	return 0;
}

/* A directory entry as getdents64 returns it. */
struct dent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

#define DENTS (32 << 10)

HF_INTERNAL void hf_walk(struct hwork *w, unsigned tree, int dirfd,
			 const char *dirpath, unsigned dir, bool inside,
			 int depth)
{
	struct hrun *h = w->h;
	/* the entries read straight from dirfd (a directory stream would
	 * cost a descriptor of its own and three calls more; a tree's root
	 * may have been read before) */
	char *buf = malloc(DENTS);
	if (!buf || (depth == 0 && lseek(dirfd, 0, SEEK_SET) < 0)) {
		free(buf);
		return;
	}
	long got = 0, pos = 0;
	char path[PATH_MAX];
	for (;;) {
		if (pos >= got) {
			got = syscall(SYS_getdents64, dirfd, buf, DENTS);
			pos = 0;
			if (got <= 0)
				break;
		}
		const struct dent64 *e = (const struct dent64 *)(buf + pos);
		pos += e->reclen;
		if (!strcmp(e->name, ".") || !strcmp(e->name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dirpath, e->name) >=
		    (int)sizeof(path))
			continue;
		struct stat st;
		bool imm = false;
		if (e->type == DT_LNK) {
			/* skipped whatever it is: no stat needed */
			memset(&st, 0, sizeof(st));
			st.st_mode = S_IFLNK;
		} else if (walk_stat(dirfd, e->name, &st, &imm) < 0)
			continue;
		if (stale_guest_tmp(h, dirfd, e->name, &st)) {
			pthread_mutex_lock(&h->lock);
			h->dirs[dir].touched = true;
			pthread_mutex_unlock(&h->lock);
			continue;
		}
		enum vs_excl_verdict v =
		    vs_excl_match(&h->trees[tree]->excl, path,
				  S_ISDIR(st.st_mode), inside);
		if (v == VS_EXCLUDED) {
			hf_skip(w, path, VS_SKIP_EXCLUDED);
		} else if (S_ISDIR(st.st_mode)) {
			if (st.st_dev != h->dev) {
				hf_skip(w, path, VS_SKIP_OTHERFS);
				continue;
			}
			if (depth >= 256)
				continue;
			int fd = openat(dirfd, e->name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);
			struct stat cs;
			if (fd < 0 || fstat(fd, &cs) < 0 ||
			    cs.st_ino != st.st_ino || cs.st_dev != st.st_dev)
				hf_skip(w, path, VS_SKIP_CHANGED);
			else {
				int walkfd = fd;
				unsigned nd =
				    hf_add_dir(h, tree, path, &cs, &fd);
				hf_walk(w, tree, walkfd, path, nd,
					inside || v == VS_DESCEND_EXCLUDED,
					depth + 1);
			}
			if (fd >= 0)
				close(fd);
		} else if (S_ISLNK(st.st_mode)) {
			hf_skip(w, path, VS_SKIP_SYMLINK);
		} else if (!S_ISREG(st.st_mode)) {
			hf_skip(w, path, VS_SKIP_SPECIAL);
		} else if (st.st_size < h->min_size) {
			hf_skip(w, path, VS_SKIP_SMALL);
		} else if (!h->o->refresh && imm &&
			   vs_hstore_has_ino(h->store, st.st_ino)) {
			/* a store entry (and immutable: a run killed between
			 * the link and the flag leaves one to finish) */
			w->st.examined++;
			hf_skip(w, path, VS_SKIP_ALREADY);
		} else {
			add_cand(h, path, &st, dir);
		}
	}
	free(buf);
}

/* Opens a file of the tree by its path, beneath the root: no symlink, no
 * "..", no other filesystem on the way. */
HF_INTERNAL int hf_open_beneath(int rootfd, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
		       RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	while (*path == '/')
		path++;
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME)) {
		how.flags &= ~(unsigned long long)O_NOATIME;
		fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	return fd;
}

#define KCHUNK 256 /* candidates a walk-order pass's thread takes at once */

HF_INTERNAL bool hf_next_chunk(struct hrun *h, size_t *i, size_t *end)
{
	*i = atomic_fetch_add(&h->knext, KCHUNK);
	if (*i >= h->n)
		return false;
	*end = h->n - *i > KCHUNK ? *i + KCHUNK : h->n;
	return true;
}
