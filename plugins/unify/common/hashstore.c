/* The hashify store, digests and the digest cache: see hashstore.h. */
#define _GNU_SOURCE
#include "hashstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
/* SHA-256 through libcrypto's one-algorithm interface, deprecated in
 * OpenSSL 3 but kept by it: the EVP interface loads the default provider,
 * which costs 2 MiB of memory in every run for the same SHA-NI code. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

/* ---- digests -------------------------------------------------------- */

int vs_digest_stream(int fd, off_t size, unsigned char out[VS_DIGEST_LEN],
		     char *buf, size_t bufsize, vs_chunk_fn *chunk, void *arg)
{
	SHA256_CTX md;
	if (out)
		SHA256_Init(&md);
	off_t off = 0;
	int r = 0;
	for (;;) {
		ssize_t n = pread(fd, buf, bufsize, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		if (n == 0)
			break;
		if (out)
			SHA256_Update(&md, buf, (size_t)n);
		if (chunk && off + n <= size)
			chunk(arg, off, buf, (size_t)n);
		off += n;
		/* a regular file reads short only at its end: no read of 0
		 * bytes needed to find it */
		if (off >= size && (off > size || (size_t)n < bufsize))
			break;
	}
	if (out)
		SHA256_Final(out, &md);
	if (r == 0 && off != size) {
		errno = ESTALE; /* truncated or grown while being read */
		r = -1;
	}
	return r;
}

int vs_digest_fd(int fd, off_t size, unsigned char out[VS_DIGEST_LEN],
		 char *buf, size_t bufsize)
{
	return vs_digest_stream(fd, size, out, buf, bufsize, NULL, NULL);
}

void vs_digest_mem(const void *buf, size_t len,
		   unsigned char out[VS_DIGEST_LEN])
{
	SHA256(buf, len, out);
}

void vs_digest_hex(const unsigned char d[VS_DIGEST_LEN],
		   char hex[VS_DIGEST_HEX + 1])
{
	static const char x[] = "0123456789abcdef";
	for (int i = 0; i < VS_DIGEST_LEN; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[VS_DIGEST_HEX] = '\0';
}

int vs_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool vs_digest_parse(const char *hex, unsigned char d[VS_DIGEST_LEN])
{
	for (int i = 0; i < VS_DIGEST_LEN; i++) {
		int a = vs_hex_digit(hex[2 * i]), b = a < 0 ? -1 : vs_hex_digit(hex[2 * i + 1]);
		if (a < 0 || b < 0)
			return false;
		d[i] = (unsigned char)(a << 4 | b);
	}
	return true;
}

/* ---- names ---------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vs_hclass(int fd, const struct stat *st, bool ignore_mtime, char *buf,
	      size_t size)
{
	char list[8192], *names[256];
	size_t n = 0;
	ssize_t len = flistxattr(fd, list, sizeof(list));
	if (len < 0 && errno != ENOTSUP)
		return -1;
	for (char *p = list; len > 0 && p < list + len; p += strlen(p) + 1)
		if (strncmp(p, VS_XATTR_PREFIX, strlen(VS_XATTR_PREFIX)) &&
		    n < 256)
			names[n++] = p;
	char xd[17] = "0";
	if (n) {
		qsort(names, n, sizeof(*names), cmp_str);
		SHA256_CTX md;
		unsigned char d[VS_DIGEST_LEN];
		SHA256_Init(&md);
		for (size_t i = 0; i < n; i++) {
			char v[65536];
			ssize_t vl = fgetxattr(fd, names[i], v, sizeof(v));
			if (vl < 0)
				return -1;
			unsigned char l[4] = {(unsigned char)(vl >> 24),
					      (unsigned char)(vl >> 16),
					      (unsigned char)(vl >> 8),
					      (unsigned char)vl};
			SHA256_Update(&md, names[i], strlen(names[i]) + 1);
			SHA256_Update(&md, l, 4);
			SHA256_Update(&md, v, (size_t)vl);
		}
		SHA256_Final(d, &md);
		char hex[VS_DIGEST_HEX + 1];
		vs_digest_hex(d, hex);
		memcpy(xd, hex, 16);
		xd[16] = '\0';
	}
	char t[48] = "-", f[16] = "";
	if (!ignore_mtime)
		snprintf(t, sizeof(t), "%lld.%09ld", (long long)st->st_mtim.tv_sec,
			 st->st_mtim.tv_nsec);
	unsigned flags = vs_share_flags(fd);
	if (flags)
		snprintf(f, sizeof(f), "-f%x", flags);
	snprintf(buf, size, "m%04o-u%u-g%u-t%s-x%s%s",
		 (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
		 (unsigned)st->st_gid, t, xd, f);
	return 0;
}

bool vs_hclass_no_xattrs(const char *cls)
{
	size_t l = strlen(cls);
	return (l > 3 && !strcmp(cls + l - 3, "-x0")) || strstr(cls, "-x0-f");
}

bool vs_hclass_is_old(const char *cls)
{
	const char *t = strstr(cls, "-t");
	if (!t || t[2] < '0' || t[2] > '9')
		return false;
	for (t += 2; *t >= '0' && *t <= '9'; t++)
		;
	return *t == '-';
}

void vs_hentry_name(const unsigned char d[VS_DIGEST_LEN], const char *class,
		    char *buf, size_t size)
{
	char hex[VS_DIGEST_HEX + 1];
	vs_digest_hex(d, hex);
	snprintf(buf, size, "%.2s/%s%s%s", hex, hex, class ? "-" : "",
		 class ? class : "");
}

/* ---- the digest cache ----------------------------------------------- */

bool vs_hcache_get(int fd, const struct stat *st,
		   unsigned char d[VS_DIGEST_LEN])
{
	char v[256], hex[VS_DIGEST_HEX + 1];
	ssize_t n = fgetxattr(fd, VS_HASH_XATTR, v, sizeof(v) - 1);
	if (n <= 0)
		return false;
	v[n] = '\0';
	long long size, ms, mn, cs, cn;
	unsigned long long ino;
	if (sscanf(v, "v1 %64s %lld %lld.%lld %lld.%lld %llu", hex, &size, &ms,
		   &mn, &cs, &cn, &ino) != 7 ||
	    strlen(hex) != VS_DIGEST_HEX || !vs_digest_parse(hex, d))
		return false;
	long long now = (long long)st->st_ctim.tv_sec * 1000000000LL +
			st->st_ctim.tv_nsec;
	long long then = cs * 1000000000LL + cn;
	return size == (long long)st->st_size && ms == st->st_mtim.tv_sec &&
	       mn == st->st_mtim.tv_nsec && ino == (unsigned long long)st->st_ino &&
	       now >= then && now - then <= 2000000000LL;
}

int vs_hcache_set(int fd, const struct stat *st,
		  const unsigned char d[VS_DIGEST_LEN])
{
	char v[256], hex[VS_DIGEST_HEX + 1];
	vs_digest_hex(d, hex);
	/* writing the attribute sets the ctime to the time of the write:
	 * that is what is recorded (the coarse clock now, which the kernel's
	 * stamp cannot precede), not the file's ctime before it */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	int n = snprintf(v, sizeof(v), "v1 %s %lld %lld.%09ld %lld.%09ld %llu",
			 hex, (long long)st->st_size,
			 (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
			 (long long)now.tv_sec, now.tv_nsec,
			 (unsigned long long)st->st_ino);
	return fsetxattr(fd, VS_HASH_XATTR, v, (size_t)n, 0);
}

/* ---- stores --------------------------------------------------------- */

int vs_hstore_init(struct vs_ctx *ctx, struct vs_hstore *s)
{
	int fd = openat(s->fd, "method",
			O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0 || write(fd, VS_DIGEST_NAME "\n", strlen(VS_DIGEST_NAME) + 1) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return vs_set_errno(ctx, e, "cannot write '%s/method'", s->path);
	}
	close(fd);
	return 0;
}

/* The store's method file: absent (a new store) or sha256. */
static int check_method(struct vs_ctx *ctx, struct vs_hstore *s)
{
	int fd = openat(s->fd, "method", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot read '%s/method'",
				    s->path);
	char *text = vs_read_fd(fd, 4096, NULL);
	close(fd);
	if (!text)
		return vs_set_errno(ctx, errno, "cannot read '%s/method'",
				    s->path);
	char norm[64];
	size_t k = 0;
	for (char *p = text; *p && k < sizeof(norm) - 1; p++)
		if (*p != '-' && *p != ' ' && *p != '\n' && *p != '\t')
			norm[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	norm[k] = '\0';
	vs_first_line(text);
	int r = strcmp(norm, VS_DIGEST_NAME) == 0
			? 0
			: vs_set_error(ctx,
				       "store '%s' was made with '%s'; vs uses "
				       "%s (start a new store)",
				       s->path, text, VS_DIGEST_NAME);
	free(text);
	return r;
}

int vs_hstores_open(struct vs_ctx *ctx, const char *hashdir,
		    struct vs_hstores *out)
{
	char real[PATH_MAX];
	memset(out, 0, sizeof(*out));
	out->dir = vs_strdup(vs_host_real(ctx, hashdir, real, sizeof(real)));
	char **names = vs_host_list(ctx, hashdir);
	if (!names)
		return vs_set_errno(ctx, errno,
				    "cannot read the hash directory '%s'",
				    out->dir);
	int r = 0;
	for (char **nm = names; *nm && r == 0; nm++) {
		char path[PATH_MAX], target[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", hashdir, *nm);
		const char *base;
		int pfd = vs_host_parent(ctx, path, &base);
		ssize_t tl = pfd >= 0 ? readlinkat(pfd, base, target,
						   sizeof(target) - 1)
				      : -1;
		if (pfd >= 0)
			close(pfd);
		if (tl > 0) {
			target[tl] = '\0';
			if (target[0] != '/') {
				r = vs_set_error(ctx,
						 "store '%s/%s' is a relative "
						 "symlink ('%s'): the hash "
						 "directory needs absolute paths",
						 out->dir, *nm, target);
				break;
			}
		}
		int fd = vs_host_open(ctx, path, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0 && (errno == ENOTDIR || errno == ENOENT))
			continue; /* util-vserver: only directories count */
		if (fd < 0) {
			r = vs_set_errno(ctx, errno, "cannot open store '%s/%s'",
					 out->dir, *nm);
			break;
		}
		struct stat st;
		fstat(fd, &st);
		for (size_t i = 0; i < out->n; i++)
			if (out->s[i].dev == st.st_dev) {
				r = vs_set_error(ctx,
						 "two stores on one filesystem: "
						 "'%s' and '%s/%s' (at most one "
						 "per filesystem)",
						 out->s[i].path, out->dir, *nm);
				break;
			}
		out->s = vs_xrealloc(out->s, (out->n + 1) * sizeof(*out->s));
		struct vs_hstore *s = &out->s[out->n++];
		memset(s, 0, sizeof(*s));
		s->fd = fd;
		s->dev = st.st_dev;
		s->name = vs_strdup(*nm);
		s->path = vs_asprintf("%s/%s", out->dir, *nm);
		if (r == 0)
			r = check_method(ctx, s);
	}
	vs_strv_free(names);
	if (r == 0 && out->n == 0)
		r = vs_set_error(ctx,
				 "no store in the hash directory '%s' (link "
				 "'%s/0' to a store directory)",
				 out->dir, out->dir);
	if (r < 0)
		vs_hstores_close(out);
	return r;
}

void vs_hstores_close(struct vs_hstores *h)
{
	for (size_t i = 0; i < h->n; i++) {
		for (size_t k = 0; k < h->s[i].ccap; k++)
			free(h->s[i].cls[k].name);
		free(h->s[i].cls);
		free(h->s[i].ents);
		close(h->s[i].fd);
		free(h->s[i].name);
		free(h->s[i].path);
		free(h->s[i].inos);
	}
	free(h->s);
	free(h->dir);
	memset(h, 0, sizeof(*h));
}

struct vs_hstore *vs_hstore_for(struct vs_hstores *h, dev_t dev)
{
	for (size_t i = 0; i < h->n; i++)
		if (h->s[i].dev == dev)
			return &h->s[i];
	return NULL;
}

/* The inode set: open addressing, 0 is the empty slot (no inode is 0). */
static size_t ino_slot(ino_t ino, size_t mask)
{
	unsigned long long h = (unsigned long long)ino * 0x9E3779B97F4A7C15ULL;
	return (size_t)(h >> 20) & mask;
}

void vs_hstore_add_ino(struct vs_hstore *s, ino_t ino)
{
	if (!ino)
		return;
	if (2 * (s->ninos + 1) > s->cap) {
		size_t ncap = s->cap ? 2 * s->cap : 4096;
		ino_t *n = calloc(ncap, sizeof(*n));
		if (!n)
			abort();
		for (size_t i = 0; i < s->cap; i++)
			if (s->inos[i]) {
				size_t j = ino_slot(s->inos[i], ncap - 1);
				while (n[j])
					j = (j + 1) & (ncap - 1);
				n[j] = s->inos[i];
			}
		free(s->inos);
		s->inos = n;
		s->cap = ncap;
	}
	size_t j = ino_slot(ino, s->cap - 1);
	while (s->inos[j] && s->inos[j] != ino)
		j = (j + 1) & (s->cap - 1);
	if (!s->inos[j]) {
		s->inos[j] = ino;
		s->ninos++;
	}
}

bool vs_hstore_has_ino(const struct vs_hstore *s, ino_t ino)
{
	if (!s->cap || !ino)
		return false;
	size_t j = ino_slot(ino, s->cap - 1);
	while (s->inos[j]) {
		if (s->inos[j] == ino)
			return true;
		j = (j + 1) & (s->cap - 1);
	}
	return false;
}

/* A temporary name left by a crashed run: its inode may be immutable
 * (a guest file being frozen), so the flag goes before the name. */
static void remove_tmp(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
				       O_CLOEXEC);
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    vs_is_immutable(fd) && st.st_nlink > 1)
		vs_set_immutable(fd, false);
	unlinkat(dfd, name, 0);
	if (fd >= 0)
		close(fd);
}

int vs_hstore_each(struct vs_ctx *ctx, struct vs_hstore *s,
		   vs_hstore_fn *fn, void *arg)
{
	for (int i = 0; i < 256; i++) {
		char xx[3], shown[PATH_MAX];
		snprintf(xx, sizeof(xx), "%02x", i);
		int xfd = openat(s->fd, xx,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (xfd < 0) {
			if (errno == ENOENT)
				continue;
			return vs_set_errno(ctx, errno, "cannot read '%s/%s'",
					    s->path, xx);
		}
		DIR *d = fdopendir(dup(xfd));
		if (!d) {
			int e = errno;
			close(xfd);
			return vs_set_errno(ctx, e, "cannot read '%s/%s'", s->path,
					    xx);
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(shown, sizeof(shown), "%s/%s/%s", s->path, xx,
				 e->d_name);
			fn(xfd, e->d_name, e->d_ino, shown, arg);
		}
		closedir(d);
		close(xfd);
	}
	return 0;
}

int vs_hstores_each(struct vs_ctx *ctx, const char *hashdir, vs_hstore_fn *fn,
		    void *arg)
{
	struct vs_hstores hs;
	if (vs_hstores_open(ctx, hashdir, &hs) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; i < hs.n && r == 0; i++)
		r = vs_hstore_each(ctx, &hs.s[i], fn, arg);
	vs_hstores_close(&hs);
	return r;
}

struct load {
	struct vs_hstore *s;
	bool dry_run;
};

static void load_entry(int xfd, const char *name, ino_t ino,
		       const char *shown, void *arg)
{
	struct load *l = arg;
	struct vs_hstore *s = l->s;
	if (name[0] == '.') {
		if (!l->dry_run &&
		    !strncmp(name, VS_STORE_TMP, strlen(VS_STORE_TMP)))
			remove_tmp(xfd, name);
		return;
	}
	vs_hstore_add_ino(s, ino);
	unsigned char dg[VS_DIGEST_LEN];
	size_t nl = strlen(name);
	struct stat est;
	if (nl > VS_DIGEST_HEX + 1 && name[VS_DIGEST_HEX] == '-' &&
	    vs_digest_parse(name, dg)) {
		if (vs_hclass_is_old(name + VS_DIGEST_HEX + 1))
			s->nold++;
		vs_hstore_index_add(s, dg, name + VS_DIGEST_HEX + 1, -1);
	} else if (nl == VS_DIGEST_HEX && vs_digest_parse(name, dg) &&
		   fstatat(xfd, name, &est, AT_SYMLINK_NOFOLLOW) == 0) {
		/* reflink entries: indexed by size */
		char key[32];
		vs_hsize_key(est.st_size, key, sizeof(key));
		vs_hstore_index_add(s, dg, key, est.st_size);
	}
}

int vs_hstore_load(struct vs_ctx *ctx, struct vs_hstore *s, bool dry_run)
{
	struct load l = {s, dry_run};
	free(s->inos);
	s->inos = NULL;
	s->ninos = s->cap = s->nold = 0;
	return vs_hstore_each(ctx, s, load_entry, &l);
}

/* ---- the class index -------------------------------------------------- */

void vs_hsize_key(off_t size, char *buf, size_t len)
{
	snprintf(buf, len, "=%lld", (long long)size);
}

static size_t str_hash(const char *p)
{
	size_t h = 1469598103934665603ULL;
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static struct vs_hclass_slot *class_slot(struct vs_hstore *s, const char *cls,
					 bool create)
{
	if (create && 2 * (s->ncls + 1) > s->ccap) {
		size_t ncap = s->ccap ? 2 * s->ccap : 1024;
		struct vs_hclass_slot *n = calloc(ncap, sizeof(*n));
		if (!n)
			abort();
		for (size_t i = 0; i < s->ccap; i++)
			if (s->cls[i].name) {
				size_t j = str_hash(s->cls[i].name) & (ncap - 1);
				while (n[j].name)
					j = (j + 1) & (ncap - 1);
				n[j] = s->cls[i];
			}
		free(s->cls);
		s->cls = n;
		s->ccap = ncap;
	}
	if (!s->ccap)
		return NULL;
	size_t j = str_hash(cls) & (s->ccap - 1);
	while (s->cls[j].name && strcmp(s->cls[j].name, cls))
		j = (j + 1) & (s->ccap - 1);
	if (s->cls[j].name)
		return &s->cls[j];
	if (!create)
		return NULL;
	s->cls[j].name = vs_strdup(cls);
	s->cls[j].first = (size_t)-1;
	s->ncls++;
	return &s->cls[j];
}

/* The index: entries of a known size are listed under "<class>|<size>",
 * those of a size not looked up yet (loaded from the store by name)
 * under their class alone, until the first lookup of the class sizes
 * them all; so a lookup walks the entries of its class and size only
 * (one class can hold most of a store: files of one owner, mode and
 * mtime). */
static void key_of(const char *class, off_t size, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%lld", class, (long long)size);
}

/* Puts entry i at the head of the list of slot key. */
static void list_under(struct vs_hstore *s, const char *key, size_t i)
{
	struct vs_hclass_slot *c = class_slot(s, key, true);
	s->ents[i].next = c->first;
	c->first = i;
}

void vs_hstore_index_add(struct vs_hstore *s, const unsigned char *d,
			 const char *class, off_t size)
{
	if (s->nents == s->ecap) {
		s->ecap = s->ecap ? 2 * s->ecap : 1024;
		s->ents = vs_xrealloc(s->ents, s->ecap * sizeof(*s->ents));
	}
	struct vs_hent *e = &s->ents[s->nents];
	memcpy(e->d, d, VS_DIGEST_LEN);
	e->size = size;
	char key[256];
	if (size >= 0)
		key_of(class, size, key, sizeof(key));
	list_under(s, size >= 0 ? key : class, s->nents++);
}

/* The first entry of the list of class and size (entries of that class
 * not sized yet are sized first), or (size_t)-1. */
static size_t first_of(struct vs_hstore *s, const char *class, off_t size)
{
	char key[256];
	/* the class's entries of unknown size: sized once, each moved to
	 * the list of its size (class_slot may move the slots: the class's
	 * own is taken apart first) */
	struct vs_hclass_slot *c = class_slot(s, class, false);
	size_t i = c ? c->first : (size_t)-1;
	if (c)
		c->first = (size_t)-1;
	while (i != (size_t)-1) {
		struct vs_hent *e = &s->ents[i];
		size_t next = e->next;
		char name[PATH_MAX];
		struct stat st;
		vs_hentry_name(e->d, class[0] == '=' ? NULL : class, name,
			       sizeof(name));
		e->size = fstatat(s->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
				  ? st.st_size
				  : -2;
		if (e->size >= 0) {
			key_of(class, e->size, key, sizeof(key));
			list_under(s, key, i);
		}
		i = next;
	}
	key_of(class, size, key, sizeof(key));
	c = class_slot(s, key, false);
	return c ? c->first : (size_t)-1;
}

int vs_hstore_candidates(struct vs_hstore *s, const char *class, off_t size,
			 unsigned char (*out)[VS_DIGEST_LEN], int max)
{
	int n = 0;
	for (size_t i = first_of(s, class, size); i != (size_t)-1 && n < max;
	     i = s->ents[i].next)
		memcpy(out[n++], s->ents[i].d, VS_DIGEST_LEN);
	return n;
}

bool vs_hstore_listed(struct vs_hstore *s, const char *class, off_t size,
		      const unsigned char d[VS_DIGEST_LEN])
{
	for (size_t i = first_of(s, class, size); i != (size_t)-1;
	     i = s->ents[i].next)
		if (!memcmp(s->ents[i].d, d, VS_DIGEST_LEN))
			return true;
	return false;
}
