/* The hashify engine (vhashify): shares the files of one or more trees
 * through the content-addressed store of hashstore.h.  This file: the
 * run (walk, sort, parallel link passes); hashwalk.c walks, hashgroup.c
 * handles files that may be equal together, hashone.c the path of one
 * file and its report, hashlink.c links guest files and entries,
 * hashkey.c keys small files by content, hashcache.c writes reflink
 * digest caches, hashsay.c says what is skipped (private parts in
 * hashrun.h).  Calls go one way: hashjob -> hashify -> hashgroup,
 * hashprefix, hashkey, hashcache -> hashone -> hashlink -> hashwalk ->
 * hashsay, and each to hashstore and unify.
 *
 *   walk   every tree (several at once, one thread per CPU), directory
 *          fds (kept open while the file limit allows), the entries read
 *          straight from them, O_NOFOLLOW, every directory checked against the
 *          walk's lstat; exclude lists; files under the minimum size
 *          (16 bytes; reflink: more than a block), symlinks and special
 *          files skipped; a file whose inode is already an
 *          (immutable) store entry is recognised from its statx alone and
 *          skipped without being read.  64 bytes plus the name per file.
 *   sort   the candidates of all trees by size (largest first), then for
 *          hardlink by mode, owner and mtime: runs of them that may be
 *          equal are groups, each handled by one thread.  Hardlink: the
 *          small files of a group of several are read in walk order and
 *          keyed by content (hashkey.c), and their group split by key.
 *   link   in parallel (2 threads per CPU, 4 to 8), the large files'
 *          groups first, then the keyed contents in the order their
 *          first file was walked, each thread a stretch of its own (so
 *          the guests' directories and inodes change in their order on
 *          disk, not in the random order of contents), each file opened
 *          again relative to its directory and checked:
 *     hardlink  a group: every member under a read lease (no writer can
 *               open it while it is held), compared with the entries of
 *               its class and size, else the first hashed while the
 *               others are compared with it in the same read; its own
 *               inode becomes the entry (immutable), the equal ones are
 *               linked to it (temporary name, rename).  A single file:
 *               the same on its own, compared with the entry of its
 *               digest when one exists.
 *     reflink   first deduplicated against the entries of its size (the
 *               kernel compares the bytes), from a file of its group that
 *               shares an entry's extents, or the file an entry was cloned
 *               from while that still shares them; else the digest comes
 *               from the cache (a trusted.* xattr a guest cannot forge) or
 *               the content, and a new entry is an O_TMPFILE reflink
 *               clone made while a read lease holds writers off (without
 *               one, or from a cached digest, the private clone is hashed
 *               again).  The guest keeps its inode.
 * The digest covers the content only, so an entry is right for any file
 * with its bytes.  A hash is never trusted alone: a forged or stale digest
 * can only make a comparison fail ("content differs from the store
 * entry"). */
#define _GNU_SOURCE
#include "hashrun.h"
#include <sys/mman.h>
#include <sys/statvfs.h>

static void hprogress(struct hrun *h, size_t i, size_t n)
{
	if (h->o->progress && (i % 256 == 0 || i == n))
		fprintf(stderr, "\rvs: hashify: %zu/%zu files", i, n);
}

/* The next group for thread id (false when none is left): the large
 * files' first, then its own range, then the others'. */
static bool next_group(struct hrun *h, unsigned id, size_t *g)
{
	for (unsigned k = 0; k < h->nranges; k++) {
		unsigned r = k == 0 ? 0 : 1 + (id + k - 1) % (h->nranges - 1);
		size_t x = atomic_fetch_add(&h->next[r], 1);
		if (x < h->end[r]) {
			*g = h->gorder[x];
			return true;
		}
	}
	return false;
}

/* The ranges of next_group for n threads. */
static void split_groups(struct hrun *h, unsigned n)
{
	size_t keyed = h->ngroups - h->kfirst, at = h->kfirst;
	h->nranges = n + 1;
	atomic_init(&h->next[0], 0);
	h->end[0] = h->kfirst;
	for (unsigned r = 1; r <= n; r++) {
		atomic_init(&h->next[r], at);
		at += keyed / n + (r <= keyed % n);
		h->end[r] = at;
	}
}

static void *link_worker(void *arg)
{
	struct hwork *w = arg;
	struct hrun *h = w->h;
	bool groups = h->o->link == VS_LINK_HARDLINK && !h->o->refresh;
	size_t g;
	while (next_group(h, w->id, &g)) {
		size_t i = h->groups[g], end = h->groups[g + 1];
		/* small files of a group find their entry by digest */
		w->index_new = end - i > GMAX && h->c[h->order[i]].size > HBUF;
		while (w->nsrc > 0)
			close(w->src[--w->nsrc].fd);
		w->ndone = 0;
		w->nemaps = 0;
		if (!groups || end - i == 1) {
			for (; i < end; i++)
				hf_link_one(w, &h->c[h->order[i]]);
		} else {
			for (; i < end; i += GMAX) {
				struct hcand *b[GMAX];
				int n = end - i < GMAX ? (int)(end - i) : GMAX;
				for (int k = 0; k < n; k++)
					b[k] = &h->c[h->order[i + k]];
				hf_link_batch(w, b, n);
			}
		}
		size_t n = h->groups[g + 1] - h->groups[g];
		size_t done = atomic_fetch_add(&h->done, n) + n;
		if (w->reporter)
			hprogress(h, done, h->n);
	}
	if (w->curfd >= 0)
		close(w->curfd);
	while (w->nsrc > 0)
		close(w->src[--w->nsrc].fd);
	return NULL;
}

/* Candidates that may be equal sort next to each other: by size (the
 * largest first, so that the threads end together), then, for hardlink,
 * mode, owner and mtime; then in walk order. */
static int group_key(const struct hrun *h, const struct hcand *a,
		     const struct hcand *b)
{
	const struct vs_hash_opts *o = h->o;
	if (a->size != b->size)
		return a->size > b->size ? -1 : 1;
	if (o->link != VS_LINK_HARDLINK)
		return 0;
	if (a->mode != b->mode)
		return a->mode < b->mode ? -1 : 1;
	if (a->uid != b->uid)
		return a->uid < b->uid ? -1 : 1;
	if (a->gid != b->gid)
		return a->gid < b->gid ? -1 : 1;
	if (!o->ignore_mtime && a->mtime.tv_sec != b->mtime.tv_sec)
		return a->mtime.tv_sec < b->mtime.tv_sec ? -1 : 1;
	if (!o->ignore_mtime && a->mtime.tv_nsec != b->mtime.tv_nsec)
		return a->mtime.tv_nsec < b->mtime.tv_nsec ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return 0;
}

/* Walk order: by tree, then the tree's directories as walked, then by
 * name. */
static int walk_cmp(const struct hrun *h, const struct hcand *a,
		    const struct hcand *b)
{
	unsigned ta = h->dirs[a->dir].tree, tb = h->dirs[b->dir].tree;
	if (ta != tb)
		return ta < tb ? -1 : 1;
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int cand_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hrun *h = arg;
	const struct hcand *a = &h->c[*(const unsigned *)pa],
			   *b = &h->c[*(const unsigned *)pb];
	int k = group_key(h, a, b);
	return k ? k : walk_cmp(h, a, b);
}

/* Keyed groups by their first member's place in the walk. */
static int first_cmp(const void *pa, const void *pb, void *arg)
{
	const struct hrun *h = arg;
	const struct hcand
	    *a = &h->c[h->order[h->groups[*(const unsigned *)pa]]],
	    *b = &h->c[h->order[h->groups[*(const unsigned *)pb]]];
	return walk_cmp(h, a, b);
}

/* The order the groups are linked in: largest files first (the threads
 * then end together), then the small files' contents as their first
 * file lies in the walk (keyed, one content a group: the trees'
 * directories and inodes are then changed in their order). */
static void order_groups(struct hrun *h)
{
	h->gorder = vs_xmalloc((h->ngroups + 1) * sizeof(*h->gorder));
	size_t first = h->ngroups;
	for (size_t g = 0; g < h->ngroups; g++) {
		h->gorder[g] = (unsigned)g;
		if (first == h->ngroups && h->keyed &&
		    h->c[h->order[h->groups[g]]].size <= HBUF)
			first = g;
	}
	qsort_r(h->gorder + first, h->ngroups - first, sizeof(*h->gorder),
		first_cmp, h);
	h->kfirst = first;
}

/* Threads of a pass that reads files: 2 per CPU, 4 to THREADS. */
static int link_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus < 2 ? 4 : cpus >= THREADS / 2 ? THREADS : 2 * (int)cpus;
}

/* The runs of h->order that may be equal: h->groups. */
static void find_groups(struct hrun *h)
{
	size_t ng = 0;
	for (size_t i = 0; i < h->n; i++)
		ng += i == 0 ||
		      group_key(h, &h->c[h->order[i - 1]], &h->c[h->order[i]]);
	h->groups = vs_xmalloc((ng + 1) * sizeof(*h->groups));
	h->ngroups = 0;
	for (size_t i = 0; i < h->n; i++)
		if (i == 0 ||
		    group_key(h, &h->c[h->order[i - 1]], &h->c[h->order[i]]))
			h->groups[h->ngroups++] = (unsigned)i;
	h->groups[h->ngroups] = (unsigned)h->n;
}

/* Runs fn on n argument blocks of size bytes at args: the first (always,
 * n 0 too) in this thread, the others each in a thread of its own; the
 * workers take their work from a shared queue, so a thread that cannot
 * be made is one worker fewer.  Returns when all are done. */
static void run_threads(void *(*fn)(void *), void *args, size_t size,
			unsigned n)
{
	pthread_t th[THREADS];
	unsigned started = 0;
	for (unsigned i = 1; i < n && i < THREADS; i++)
		if (pthread_create(&th[started], NULL, fn,
				   (char *)args + i * size) == 0)
			started++;
	fn(args);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

/* A pass over the candidates in walk order: nth threads running worker
 * (hashkey.c, hashcache.c), each taking the next ones (h->knext), with
 * a buffer of HBUF + 1 bytes in buf1 when buf asks. */
static void walk_order_pass(struct hrun *h, unsigned nth,
			    void *(*worker)(void *), bool buf)
{
	struct hwork w[THREADS];
	if (nth > THREADS)
		nth = THREADS;
	for (unsigned i = 0; i < nth; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].h = h;
		w[i].curfd = -1;
		w[i].buf1 = buf ? vs_xmalloc(HBUF + 1) : NULL;
	}
	atomic_init(&h->knext, 0);
	run_threads(worker, w, sizeof(w[0]), nth);
	for (unsigned i = 0; i < nth; i++)
		free(w[i].buf1);
}

/* Whether group g (of h->groups) is small files that a key can split. */
static bool keyable(const struct hrun *h, size_t g)
{
	return h->keyed && h->groups[g + 1] - h->groups[g] > 1 &&
	       h->c[h->order[h->groups[g]]].size <= HBUF;
}

/* Candidates sorted and grouped by size and metadata; then (hardlink)
 * the small files of a group of several keyed by their content (read in
 * walk order) and their groups split by key; then the groups ordered. */
static void make_groups(struct hrun *h)
{
	h->order = vs_xmalloc((h->n + 1) * sizeof(*h->order));
	for (size_t i = 0; i < h->n; i++)
		h->order[i] = (unsigned)i;
	qsort_r(h->order, h->n, sizeof(*h->order), cand_cmp, h);
	find_groups(h);
	size_t want = 0;
	for (size_t g = 0; g < h->ngroups; g++) {
		if (!keyable(h, g))
			continue;
		for (size_t i = h->groups[g]; i < h->groups[g + 1]; i++, want++)
			h->c[h->order[i]].key = 1; /* to be keyed */
	}
	if (want) {
		/* keys of the candidates marked for it (key 1) */
		walk_order_pass(h, (unsigned)link_threads(), hf_key_worker,
				true);
		for (size_t g = 0; g < h->ngroups; g++)
			if (keyable(h, g))
				qsort_r(h->order + h->groups[g],
					h->groups[g + 1] - h->groups[g],
					sizeof(*h->order), cand_cmp, h);
		free(h->groups);
		find_groups(h);
	}
	order_groups(h);
}

static void add_stats(struct vs_hash_stats *to, const struct vs_hash_stats *s)
{
	to->examined += s->examined;
	to->bytes_hashed += s->bytes_hashed;
	to->cached += s->cached;
	to->new_entries += s->new_entries;
	to->linked += s->linked;
	to->bytes_saved += s->bytes_saved;
	to->errors += s->errors;
	for (int r = 0; r < VS_UNIFY_NREASONS; r++)
		to->skipped[r] += s->skipped[r];
}

/* Whether the files of the run are in the page cache: the first MiB of
 * up to 32 candidates spread over the run, by mincore(2). */
static bool mostly_cached(struct hrun *h)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t in = 0, all = 0, step = h->n / 32 + 1;
	unsigned char vec[256];
	for (size_t i = 0; i < h->n; i += step) {
		const struct hcand *c = &h->c[h->order[i]];
		struct stat st;
		int fd = hf_cand_reopen(h, c, &st);
		if (fd < 0)
			continue;
		size_t len = st.st_size < (256 * pg) ? (size_t)st.st_size
						     : (size_t)(256 * pg);
		void *m = len ? mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0)
			      : MAP_FAILED;
		size_t np = (len + (size_t)pg - 1) / (size_t)pg;
		if (m != MAP_FAILED && mincore(m, len, vec) == 0) {
			for (size_t k = 0; k < np; k++)
				in += vec[k] & 1;
			all += np;
		}
		if (m != MAP_FAILED)
			munmap(m, len);
		close(fd);
	}
	return all && in * 10 >= all * 9;
}

/* The size below which files are skipped: --min-size, else for reflink
 * more than one block of the store's filesystem (a file of one block
 * shares at most that block, for a dedupe's transaction and a store
 * entry's inode: about a quarter of a warm run's time on a guest's
 * files, for 1% of the space), else util-vserver's 16 bytes. */
static off_t min_size(const struct hrun *h)
{
	struct statvfs sv;
	if (h->o->min_size)
		return h->o->min_size;
	if (h->o->link == VS_LINK_REFLINK && fstatvfs(h->store->fd, &sv) == 0 &&
	    sv.f_bsize >= VS_HASH_MIN_SIZE && sv.f_bsize <= (1u << 20))
		return (off_t)sv.f_bsize + 1;
	return VS_HASH_MIN_SIZE;
}

static void link_pass(struct hrun *h)
{
	struct hwork w[THREADS] = {0};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = link_threads();
	/* reflink: more threads than CPUs help only while threads wait for
	 * the disk; with the files cached they wait on each other instead
	 * (XFS: in every clone and dedupe, on the lock of an allocation
	 * group), so a warm run takes one per CPU */
	h->cached = mostly_cached(h);
	if (h->o->link == VS_LINK_REFLINK && cpus >= 2 && h->cached)
		nth = cpus >= THREADS ? THREADS : (int)cpus;
	for (int i = 0; i < nth; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].h = h;
		w[i].reporter = i == 0;
		w[i].id = (unsigned)i;
		w[i].curfd = -1;
		w[i].buf1 = vs_xmalloc(HBUF + 1);
		w[i].buf2 = vs_xmalloc(HBUF + 1);
		w[i].dbuf = vs_xmalloc(DBUF);
	}
	/* no more workers than groups */
	unsigned busy =
	    h->ngroups < (size_t)nth ? (unsigned)h->ngroups : (unsigned)nth;
	split_groups(h, busy ? busy : 1);
	h->nth = (unsigned)nth;
	run_threads(link_worker, w, sizeof(w[0]), busy);
	for (int i = 0; i < nth; i++) {
		add_stats(h->st, &w[i].st);
		free(w[i].buf1);
		free(w[i].buf2);
		free(w[i].dbuf);
		free(w[i].small);
		free(w[i].src);
		free(w[i].done_ino);
		free(w[i].emaps);
	}
}

/* The walk of several trees: the next tree to take, and each walking
 * thread's counts. */
struct walks {
	struct hrun *h;
	atomic_uint next;
};
struct walker {
	struct hwork w;
	struct walks *x;
};

static void walk_tree(struct hwork *w, unsigned t)
{
	struct hrun *h = w->h;
	const struct vs_unify_tree *tr = h->trees[t];
	struct stat rs;
	if (fstat(tr->rootfd, &rs) < 0) {
		w->st.errors++;
		vs_warn(h->ctx, "cannot stat '%s': %s", tr->root,
			strerror(errno));
		return;
	}
	int fd = dup(tr->rootfd);
	unsigned root = hf_add_dir(h, t, "", &rs, &fd);
	if (fd >= 0)
		close(fd);
	hf_walk(w, t, tr->rootfd, "", root, false, 0);
}

static void *walk_worker(void *arg)
{
	struct walker *k = arg;
	for (;;) {
		unsigned t = atomic_fetch_add(&k->x->next, 1);
		if (t >= k->x->h->ntrees)
			return NULL;
		walk_tree(&k->w, t);
	}
}

/* Walks every tree, one thread per CPU at most, each taking the next
 * tree (their candidates and directories go to the run's arrays under
 * its lock); a verbose run walks them in order, so that what it says
 * about them comes in order too.  The walkers' counts go to h->st. */
static void walk_trees(struct hrun *h)
{
	struct walks x = {.h = h};
	atomic_init(&x.next, 0);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned nth = h->o->verbose || h->ntrees < 2 ? 1 : h->ntrees;
	if (cpus >= 1 && nth > (unsigned)cpus)
		nth = (unsigned)cpus;
	if (nth > THREADS)
		nth = THREADS;
	struct walker k[THREADS] = {0};
	for (unsigned i = 0; i < nth; i++) {
		k[i].w.h = h;
		k[i].w.curfd = -1;
		k[i].x = &x;
	}
	run_threads(walk_worker, k, sizeof(k[0]), nth);
	for (unsigned i = 0; i < nth; i++)
		add_stats(h->st, &k[i].w.st);
}

int vs_hashify_run(struct vs_ctx *ctx, const struct vs_unify_tree *const *trees,
		   unsigned ntrees, struct vs_hstore *store,
		   const struct vs_hash_opts *o, struct vs_hash_stats *st)
{
	struct hrun *h = calloc(1, sizeof(*h));
	if (!h)
		abort();
	h->ctx = ctx;
	h->trees = trees;
	h->ntrees = ntrees;
	h->store = store;
	h->o = o;
	h->st = st;
	h->dev = store->dev;
	h->keyed = o->link == VS_LINK_HARDLINK && !o->refresh;
	h->min_size = min_size(h);
	pthread_mutex_init(&h->lock, NULL);
	for (int i = 0; i < 256; i++)
		atomic_init(&h->xfd[i], -1);
	for (int i = 0; i < FREEZE_LOCKS; i++)
		pthread_mutex_init(&h->freeze[i], NULL);
	/* the walk keeps the directories open (the groups need them in no
	 * order) while there are descriptors to spare */
	struct rlimit old, nl;
	bool raised = getrlimit(RLIMIT_NOFILE, &old) == 0;
	nl = old;
	if (raised) {
		nl.rlim_cur =
		    old.rlim_max < (1u << 20) ? old.rlim_max : (1u << 20);
		raised = setrlimit(RLIMIT_NOFILE, &nl) == 0;
		if (!raised)
			nl = old;
	}
	size_t reserve = 256 + THREADS * (GMAX + NSRC + 8);
	h->keep_fds = nl.rlim_cur > 2 * reserve ? nl.rlim_cur - reserve : 0;
	/* one malloc arena: the walking and linking threads allocate little
	 * (the walk's arrays grow under the run's lock), and an arena each
	 * would cost memory for nothing */
	mallopt(M_ARENA_MAX, 1);
	walk_trees(h);
	st->examined += h->n;
	hf_count_links(h);
	make_groups(h);
	if (o->link == VS_LINK_REFLINK && !o->dry_run)
		h->fate = calloc(h->n ? h->n : 1, sizeof(*h->fate));
	link_pass(h);
	if (h->fate && ntrees > 1)
		hf_share_prefixes(h);
	if (h->fate)
		walk_order_pass(h, h->nth, hf_cache_worker, false);
	if (!o->dry_run)
		hf_restore_dir_times(h);
	if (o->progress && h->n >= 256)
		fputs("\r\033[K", stderr);
	pthread_mutex_destroy(&h->lock);
	for (int i = 0; i < 256; i++)
		if (h->xfd[i] >= 0)
			close(h->xfd[i]);
	for (int i = 0; i < FREEZE_LOCKS; i++)
		pthread_mutex_destroy(&h->freeze[i]);
	for (size_t i = 0; i < h->ndirs; i++)
		if (h->dirs[i].fd >= 0)
			close(h->dirs[i].fd);
	if (raised)
		setrlimit(RLIMIT_NOFILE, &old);
	free(h->groups);
	free(h->gorder);
	free(h->fate);
	free(h->order);
	free(h->links);
	for (size_t i = 0; i < h->narena; i++)
		free(h->arena[i]);
	free(h->arena);
	free(h->c);
	free(h->dirs);
	free(h->freed);
	free(h);
	fflush(stdout);
	return 0;
}
