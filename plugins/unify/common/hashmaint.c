/* Store maintenance: `vs hashify --gc` and `--verify` (api/vs/unify.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unify.h"

#include "hashstore.h"
#include "engine.h"

/* Digests in the guests' caches: a hash set of digests. */
struct dset {
	unsigned char (*d)[VS_DIGEST_LEN];
	size_t n, cap;
};

static size_t dslot(const unsigned char *d, size_t mask)
{
	size_t h;
	memcpy(&h, d, sizeof(h));
	return h & mask;
}

static bool dzero(const unsigned char *d)
{
	for (int i = 0; i < VS_DIGEST_LEN; i++)
		if (d[i])
			return false;
	return true;
}

static void dset_add(struct dset *s, const unsigned char *d)
{
	if (dzero(d))
		return;
	if (2 * (s->n + 1) > s->cap) {
		struct dset ns = {calloc(s->cap ? 2 * s->cap : 4096, VS_DIGEST_LEN),
				  0, s->cap ? 2 * s->cap : 4096};
		if (!ns.d)
			abort();
		for (size_t i = 0; i < s->cap; i++)
			if (!dzero(s->d[i]))
				dset_add(&ns, s->d[i]);
		free(s->d);
		*s = ns;
	}
	size_t j = dslot(d, s->cap - 1);
	while (!dzero(s->d[j]) && memcmp(s->d[j], d, VS_DIGEST_LEN))
		j = (j + 1) & (s->cap - 1);
	if (dzero(s->d[j])) {
		memcpy(s->d[j], d, VS_DIGEST_LEN);
		s->n++;
	}
}

static bool dset_has(const struct dset *s, const unsigned char *d)
{
	if (!s->cap)
		return false;
	size_t j = dslot(d, s->cap - 1);
	while (!dzero(s->d[j])) {
		if (!memcmp(s->d[j], d, VS_DIGEST_LEN))
			return true;
		j = (j + 1) & (s->cap - 1);
	}
	return false;
}

/* The key of a reflink file in a dset: its filesystem, size and first
 * extent (a store entry whose content a guest file shares has the same),
 * marked so that no SHA-256 digest is one. */
static void extent_key(dev_t dev, off_t size, uint64_t phys,
		       unsigned char k[VS_DIGEST_LEN])
{
	uint64_t v[3] = {(uint64_t)dev, (uint64_t)size, phys};
	memset(k, 0xe5, VS_DIGEST_LEN);
	memcpy(k, v, sizeof(v));
}

/* Collects below a directory (fds, O_NOFOLLOW) the digests in the files'
 * caches and the keys of their extents: a reflink entry is used while a
 * guest file has its digest cached or shares its extents (the cache is
 * written only where a rerun needs it). */
static void collect(int dirfd, struct dset *s, int depth)
{
	DIR *d = fdopendir(dup(dirfd));
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR && depth < 256) {
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
						O_CLOEXEC);
			if (fd >= 0) {
				collect(fd, s, depth + 1);
				close(fd);
			}
		} else if (e->d_type == DT_REG || e->d_type == DT_UNKNOWN) {
			int fd = openat(dirfd, e->d_name,
					O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						O_CLOEXEC);
			struct stat st;
			unsigned char dg[VS_DIGEST_LEN];
			uint64_t phys;
			if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
				if (vs_hcache_get(fd, &st, dg))
					dset_add(s, dg);
				if (st.st_size > 0 && vs_first_extent(fd, &phys)) {
					extent_key(st.st_dev, st.st_size, phys, dg);
					dset_add(s, dg);
				}
			}
			if (fd >= 0)
				close(fd);
		}
	}
	closedir(d);
}

/* The digests every guest's files carry in their caches. */
static void guest_digests(struct vs_ctx *ctx, struct dset *s)
{
	char **ids = vs_guest_list(ctx);
	for (char **id = ids; *id; id++) {
		struct vs_guest *g = vs_guest_open(ctx, *id);
		int fd = g && vs_guest_root(g) ? vs_host_open(ctx, vs_guest_root(g),
						      O_RDONLY | O_DIRECTORY, 0)
				      : -1;
		if (fd >= 0) {
			collect(fd, s, 0);
			close(fd);
		}
		vs_guest_free(g);
	}
	vs_strv_free(ids);
	vs_clear_error(ctx);
}

struct gc {
	struct vs_ctx *ctx;
	bool dry_run, need_digests, have_digests;
	int verbose;
	struct dset used;
	unsigned long long kept, removed, bytes, errors;
};

static void gc_entry(int xfd, const char *name, ino_t ino, const char *shown,
		     void *arg)
{
	struct gc *g = arg;
	struct stat st;
	if (fstatat(xfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	bool tmp = !strncmp(name, VS_STORE_TMP, strlen(VS_STORE_TMP));
	unsigned char d[VS_DIGEST_LEN];
	bool hard = strlen(name) > VS_DIGEST_HEX && name[VS_DIGEST_HEX] == '-';
	bool valid = strlen(name) >= VS_DIGEST_HEX && vs_digest_parse(name, d);
	bool unused;
	if (tmp || !S_ISREG(st.st_mode) || !valid)
		unused = tmp; /* foreign names are left alone */
	else if (hard)
		unused = st.st_nlink == 1;
	else {
		if (!g->have_digests) {
			guest_digests(g->ctx, &g->used);
			g->have_digests = true;
		}
		unused = !dset_has(&g->used, d);
		int efd = unused ? openat(xfd, name, O_RDONLY | O_NOFOLLOW |
							     O_NONBLOCK | O_CLOEXEC)
				 : -1;
		uint64_t phys;
		unsigned char k[VS_DIGEST_LEN];
		if (efd >= 0 && st.st_size > 0 && vs_first_extent(efd, &phys)) {
			extent_key(st.st_dev, st.st_size, phys, k);
			unused = !dset_has(&g->used, k);
		}
		if (efd >= 0)
			close(efd);
	}
	if (!unused) {
		g->kept++;
		return;
	}
	if (g->dry_run || g->verbose >= 1)
		printf("removing '%s'\n", shown);
	if (!g->dry_run) {
		int fd = openat(xfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
						   O_CLOEXEC);
		if (fd >= 0 && vs_is_immutable(fd))
			vs_set_immutable(fd, false);
		if (fd >= 0)
			close(fd);
		if (unlinkat(xfd, name, 0) < 0) {
			g->errors++;
			vs_warn(g->ctx, "cannot remove '%s': %s", shown,
				strerror(errno));
			return;
		}
	}
	g->removed++;
	if (st.st_nlink <= 1)
		g->bytes += (unsigned long long)st.st_blocks * 512;
}

int vs_hash_gc(struct vs_ctx *ctx, const char *hashdir, unsigned flags,
	       int verbose)
{
	struct gc g = {.ctx = ctx, .dry_run = flags & VS_UNIFY_DRY_RUN,
		       .verbose = verbose};
	int r = vs_hstores_each(ctx, hashdir, gc_entry, &g);
	free(g.used.d);
	if (r < 0)
		return -1;
	printf("gc: %llu entries kept, %llu removed, %llu bytes freed\n", g.kept,
	       g.removed, g.bytes);
	if (g.errors)
		return vs_set_error(ctx, "%llu store entries could not be removed",
				    g.errors);
	return 0;
}

struct verify {
	struct vs_ctx *ctx;
	int verbose;
	char *buf;
	unsigned long long checked, bad;
};

static void verify_entry(int xfd, const char *name, ino_t ino,
			 const char *shown, void *arg)
{
	struct verify *v = arg;
	unsigned char want[VS_DIGEST_LEN], got[VS_DIGEST_LEN];
	if (name[0] == '.' || strlen(name) < VS_DIGEST_HEX ||
	    !vs_digest_parse(name, want))
		return;
	int fd = openat(xfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
					   O_CLOEXEC);
	struct stat st;
	v->checked++;
	char hex[VS_DIGEST_HEX + 1];
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    vs_digest_fd(fd, st.st_size, got, v->buf, 1 << 20) < 0) {
		v->bad++;
		vs_warn(v->ctx, "cannot verify store entry '%s': %s", shown,
			strerror(fd < 0 || errno == 0 ? EINVAL : errno));
	} else if (memcmp(got, want, VS_DIGEST_LEN)) {
		v->bad++;
		vs_digest_hex(got, hex);
		vs_warn(v->ctx,
			"store entry '%s' does not match its name (its content "
			"has sha256 %s)",
			shown, hex);
	} else if (name[VS_DIGEST_HEX] == '-' &&
		   vs_hclass_is_old(name + VS_DIGEST_HEX + 1)) {
		v->bad++;
		vs_warn(v->ctx,
			"store entry '%s' is named as an earlier vs did (mtime "
			"in whole seconds): run 'vs hashify --migrate' on its "
			"hash directory",
			shown);
	} else if (name[VS_DIGEST_HEX] == '-') {
		char class[128];
		bool imtime = strstr(name, "-t--") != NULL;
		if (vs_hclass(fd, &st, imtime, class, sizeof(class)) < 0 ||
		    strcmp(name + VS_DIGEST_HEX + 1, class)) {
			v->bad++;
			vs_warn(v->ctx,
				"store entry '%s' does not match its name (its "
				"metadata is %s)",
				shown, class);
		}
	} else if (v->verbose >= 2) {
		printf("ok '%s'\n", shown);
	}
	if (fd >= 0)
		close(fd);
}

int vs_hash_verify(struct vs_ctx *ctx, const char *hashdir, int verbose)
{
	struct verify v = {.ctx = ctx, .verbose = verbose};
	v.buf = vs_xmalloc(1 << 20);
	int r = vs_hstores_each(ctx, hashdir, verify_entry, &v);
	free(v.buf);
	if (r < 0)
		return -1;
	printf("verify: %llu store entries checked, %llu bad\n", v.checked,
	       v.bad);
	if (v.bad)
		return vs_set_error(ctx, "%llu store entries do not match their "
					 "names",
				    v.bad);
	return 0;
}
