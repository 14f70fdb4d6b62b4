/* The hashify store's digests (util-vserver's hashcalc cases, checked
 * against sha256sum), sparse files, a file that changes size while being
 * hashed, entry names, the digest cache and the walk's content keys. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/fs.h>
#include <sys/ioctl.h>

#include "cu.h"
#include "engine.h"
#include "hashrun.h"
#include "hashstore.h"

static char buf[1 << 16];

/* sha256sum's digest of a file, in hex. */
static void sha256sum(const char *path, char hex[VS_DIGEST_HEX + 1])
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	FILE *p = popen(cmd, "r");
	hex[0] = '\0';
	if (p && fscanf(p, "%64s", hex) != 1)
		hex[0] = '\0';
	if (p)
		pclose(p);
}

static void check_file(const char *path)
{
	char want[VS_DIGEST_HEX + 1], got[VS_DIGEST_HEX + 1];
	unsigned char d[VS_DIGEST_LEN];
	int fd = open(path, O_RDONLY);
	struct stat st;
	CU_ASSERT_FATAL(fd >= 0 && fstat(fd, &st) == 0);
	CU_ASSERT_EQUAL(vs_digest_fd(fd, st.st_size, d, buf, sizeof(buf)), 0);
	vs_digest_hex(d, got);
	sha256sum(path, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	if (strcmp(got, want))
		fprintf(stderr, "\n  %s (%lld bytes): %s, sha256sum %s\n", path,
			(long long)st.st_size, got, want);
	close(fd);
}

/* vs_chunk_fn for test_stream: the chunks must tile the file in order. */
struct tile {
	off_t next;
	unsigned long long sum;
	int calls;
};

static void tile_chunk(void *arg, off_t off, const char *b, size_t len)
{
	struct tile *t = arg;
	CU_ASSERT_EQUAL(off, t->next);
	t->next = off + (off_t)len;
	for (size_t i = 0; i < len; i++)
		t->sum += (unsigned char)b[i];
	t->calls++;
}

/* One read gives the digest and every chunk, once, in order; without a
 * digest the chunks alone; a file longer than said is ESTALE. */
static void test_stream(void)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/stream", tmp_root());
	FILE *f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	unsigned long long sum = 0;
	for (long k = 0; k < 200000; k++) {
		fputc((int)(k * 13 & 0xff), f);
		sum += (unsigned long long)(k * 13 & 0xff);
	}
	fclose(f);
	int fd = open(path, O_RDONLY);
	CU_ASSERT_FATAL(fd >= 0);
	unsigned char d[VS_DIGEST_LEN], e[VS_DIGEST_LEN];
	struct tile t = {0, 0, 0};
	CU_ASSERT_EQUAL(vs_digest_stream(fd, 200000, d, buf, 4096, tile_chunk, &t), 0);
	CU_ASSERT_EQUAL(t.next, 200000);
	CU_ASSERT_EQUAL(t.sum, sum);
	CU_ASSERT_EQUAL(t.calls, (200000 + 4095) / 4096);
	CU_ASSERT_EQUAL(vs_digest_fd(fd, 200000, e, buf, sizeof(buf)), 0);
	CU_ASSERT_EQUAL(memcmp(d, e, sizeof(d)), 0);
	struct tile u = {0, 0, 0};
	CU_ASSERT_EQUAL(vs_digest_stream(fd, 200000, NULL, buf, 65536, tile_chunk, &u), 0);
	CU_ASSERT_EQUAL(u.sum, sum);
	struct tile v = {0, 0, 0};
	errno = 0;
	CU_ASSERT_EQUAL(vs_digest_stream(fd, 100000, d, buf, 65536, tile_chunk, &v), -1);
	CU_ASSERT_EQUAL(errno, ESTALE);
	CU_ASSERT(v.next <= 100000); /* nothing past the size it was told */
	close(fd);
}

static void test_sizes(void)
{
	long page = sysconf(_SC_PAGESIZE);
	long sizes[] = {0,	 1,	   2,	   4,	     8,	       15,
			16,	 23,	   42,	   64,	     page - 1, page,
			page + 1, 2 * page - 23, 23 * page + 42, 3 << 20};
	char path[4200];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		snprintf(path, sizeof(path), "%s/f%zu", tmp_root(), i);
		FILE *f = fopen(path, "w");
		CU_ASSERT_FATAL(f != NULL);
		for (long k = 0; k < sizes[i]; k++)
			fputc((int)((k * 7 + i) & 0xff), f);
		fclose(f);
		check_file(path);
	}
}

static void test_sparse(void)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/sparse", tmp_root());
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(pwrite(fd, "head", 4, 0), 4);
	CU_ASSERT_EQUAL(pwrite(fd, "middle", 6, 5 << 20), 6);
	CU_ASSERT_EQUAL(ftruncate(fd, 9 << 20), 0); /* a hole at the end */
	close(fd);
	check_file(path);
}

static void test_changed_size(void)
{
	char path[4200];
	unsigned char d[VS_DIGEST_LEN];
	snprintf(path, sizeof(path), "%s/shrunk", tmp_root());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "0123456789abcdefghij", 20), 20);
	/* hashed as 100 bytes (what the walk saw): truncated meanwhile */
	errno = 0;
	CU_ASSERT_EQUAL(vs_digest_fd(fd, 100, d, buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(errno, ESTALE);
	/* hashed as 10 bytes: it grew meanwhile */
	errno = 0;
	CU_ASSERT_EQUAL(vs_digest_fd(fd, 10, d, buf, 4), -1);
	CU_ASSERT_EQUAL(errno, ESTALE);
	close(fd);
}

static void test_names(void)
{
	unsigned char d[VS_DIGEST_LEN];
	char name[256], hex[VS_DIGEST_HEX + 1];
	for (int i = 0; i < VS_DIGEST_LEN; i++)
		d[i] = (unsigned char)(i * 9);
	vs_digest_hex(d, hex);
	CU_ASSERT_STRING_EQUAL(hex, "0009121b242d363f48515a636c757e87"
				    "9099a2abb4bdc6cfd8e1eaf3fc050e17");
	unsigned char back[VS_DIGEST_LEN];
	CU_ASSERT(vs_digest_parse(hex, back) && !memcmp(back, d, sizeof(d)));
	CU_ASSERT(!vs_digest_parse("0009121b242d363f48515a636c757e87"
				   "9099a2abb4bdc6cfd8e1eaf3fc050e1G",
				   back));
	vs_hentry_name(d, NULL, name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "00/0009121b242d363f48515a636c757e87"
				     "9099a2abb4bdc6cfd8e1eaf3fc050e17");
	char path[4200];
	snprintf(path, sizeof(path), "%s/classed", tmp_root());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	struct stat st;
	CU_ASSERT_FATAL(fd >= 0 && fchmod(fd, 04750) == 0 && fstat(fd, &st) == 0);
	char class[128], want[128];
	CU_ASSERT_EQUAL(vs_hclass(fd, &st, false, class, sizeof(class)), 0);
	snprintf(want, sizeof(want), "m4750-u%u-g%u-t%lld.%09ld-x0",
		 (unsigned)st.st_uid, (unsigned)st.st_gid,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	CU_ASSERT_STRING_EQUAL(class, want);
	CU_ASSERT_FALSE(vs_hclass_is_old(class));
	CU_ASSERT(vs_hclass_no_xattrs(class));
	/* the nanoseconds of the mtime make another class */
	struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 7}};
	struct stat st2;
	CU_ASSERT_FATAL(futimens(fd, ts) == 0 && fstat(fd, &st2) == 0);
	CU_ASSERT_EQUAL(vs_hclass(fd, &st2, false, class, sizeof(class)), 0);
	snprintf(want, sizeof(want), "m4750-u%u-g%u-t1600000000.000000007-x0",
		 (unsigned)st.st_uid, (unsigned)st.st_gid);
	CU_ASSERT_STRING_EQUAL(class, want);
	CU_ASSERT_EQUAL(vs_hclass(fd, &st2, true, class, sizeof(class)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(class, "-t--x0"));
	CU_ASSERT_FALSE(vs_hclass_is_old(class));
	/* file flags other than immutable are part of it */
	int flags = FS_NODUMP_FL;
	CU_ASSERT_FATAL(ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0);
	CU_ASSERT_EQUAL(vs_hclass(fd, &st2, false, class, sizeof(class)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(class, "-t1600000000.000000007-x0-f40"));
	CU_ASSERT(vs_hclass_no_xattrs(class));
	flags = 0;
	ioctl(fd, FS_IOC_SETFLAGS, &flags);
	/* the names of an earlier vs: whole seconds */
	CU_ASSERT(vs_hclass_is_old("m0644-u0-g0-t1600000000-x0"));
	CU_ASSERT(vs_hclass_is_old("abc-m0644-u0-g0-t1-x0123456789abcdef"));
	CU_ASSERT_FALSE(vs_hclass_is_old("m0644-u0-g0-t--x0"));
	CU_ASSERT_FALSE(vs_hclass_is_old("m0644-u0-g0-t1600000000.000000000-x0"));
	CU_ASSERT_FALSE(vs_hclass_no_xattrs("m0644-u0-g0-t--x0123456789abcdef"));
	CU_ASSERT_FALSE(vs_hclass_no_xattrs("m0644-u0-g0-t--x0123456789abcdef-f40"));
	snprintf(want, sizeof(want), "m4750-u%u-g%u-t%lld.%09ld-x0",
		 (unsigned)st.st_uid, (unsigned)st.st_gid,
		 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	/* the digest cache is vs's own: it never changes the class */
	CU_ASSERT_EQUAL(vs_hcache_set(fd, &st, d), 0);
	CU_ASSERT_EQUAL(vs_hclass(fd, &st, false, class, sizeof(class)), 0);
	CU_ASSERT_STRING_EQUAL(class, want);
	close(fd);
}

static void test_cache(void)
{
	char path[4200];
	unsigned char d[VS_DIGEST_LEN], got[VS_DIGEST_LEN];
	memset(d, 0xab, sizeof(d));
	snprintf(path, sizeof(path), "%s/cached", tmp_root());
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "some content here", 17), 17);
	struct stat st;
	fstat(fd, &st);
	CU_ASSERT(!vs_hcache_get(fd, &st, got));
	/* a file last changed a while ago (the cache must hold all the
	 * same: writing it moves the ctime to now) */
	sleep(3);
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	CU_ASSERT_EQUAL(vs_hcache_set(fd, &st, d), 0);
	fstat(fd, &st); /* the write of the xattr moved ctime */
	CU_ASSERT(vs_hcache_get(fd, &st, got) && !memcmp(got, d, sizeof(d)));
	/* content changed and mtime put back: ctime tells */
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	sleep(3);
	CU_ASSERT_EQUAL(pwrite(fd, "S", 1, 0), 1);
	futimens(fd, ts);
	fstat(fd, &st);
	CU_ASSERT(!vs_hcache_get(fd, &st, got));
	close(fd);
	/* a user.* attribute (a guest can write those) holding a valid cache
	 * record means nothing */
	char path2[4096], rec[256];
	snprintf(path2, sizeof(path2), "%s/cache-user", tmp_root());
	fd = open(path2, O_RDWR | O_CREAT | O_TRUNC, 0644);
	CU_ASSERT_EQUAL(pwrite(fd, "some content", 12, 0), 12);
	CU_ASSERT_EQUAL(fstat(fd, &st), 0);
	CU_ASSERT_EQUAL(vs_hcache_set(fd, &st, d), 0);
	fstat(fd, &st);
	CU_ASSERT(vs_hcache_get(fd, &st, got)); /* valid in trusted.* */
	ssize_t n = fgetxattr(fd, "trusted.vs.sha256", rec, sizeof(rec));
	CU_ASSERT(n > 0);
	CU_ASSERT_EQUAL(fremovexattr(fd, "trusted.vs.sha256"), 0);
	if (fsetxattr(fd, "user.vs.sha256", rec, n > 0 ? (size_t)n : 0, 0) ==
	    0) {
		fstat(fd, &st);
		CU_ASSERT(!vs_hcache_get(fd, &st, got));
	} else {
		CU_ASSERT_EQUAL(errno, ENOTSUP);
	}
	close(fd);
}

/* The index: entries by size key and size, looked up by digest. */
static void test_index(void)
{
	struct vs_hstore s;
	memset(&s, 0, sizeof(s));
	s.fd = -1;
	unsigned char a[VS_DIGEST_LEN], b[VS_DIGEST_LEN], c[VS_DIGEST_LEN];
	unsigned char out[4][VS_DIGEST_LEN];
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	memset(c, 0xcc, sizeof(c));
	char k100[32], k200[32];
	vs_hsize_key(100, k100, sizeof(k100));
	vs_hsize_key(200, k200, sizeof(k200));
	vs_hstore_index_add(&s, a, k100, 100);
	vs_hstore_index_add(&s, b, k100, 100);
	vs_hstore_index_add(&s, c, k200, 200);
	CU_ASSERT_EQUAL(vs_hstore_candidates(&s, k100, 100, out, 4), 2);
	CU_ASSERT_EQUAL(vs_hstore_candidates(&s, k100, 100, out, 1), 1);
	CU_ASSERT(vs_hstore_listed(&s, k100, 100, a));
	CU_ASSERT(vs_hstore_listed(&s, k100, 100, b));
	CU_ASSERT(!vs_hstore_listed(&s, k100, 100, c)); /* another size */
	CU_ASSERT(vs_hstore_listed(&s, k200, 200, c));
	CU_ASSERT(!vs_hstore_listed(&s, k200, 300, c));
	for (size_t i = 0; i < s.ccap; i++)
		free(s.cls[i].name);
	free(s.cls);
	free(s.ents);
}

/* The content key of tmp_root()/name as the walk saw it (st), or with
 * the stat of the file now when st is NULL. */
static uint64_t key_of(const char *name, const struct stat *st)
{
	static char kb[HBUF + 1];
	int dirfd = open(tmp_root(), O_RDONLY | O_DIRECTORY);
	struct stat now;
	CU_ASSERT_FATAL(dirfd >= 0);
	if (!st && fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0)
		st = &now;
	uint64_t k =
	    st ? hf_content_key(dirfd, name, st->st_ino, st->st_size, kb) : 0;
	close(dirfd);
	return k;
}

/* Keys of small files: one content one key, other bytes (a byte, a byte
 * more) another; none for a file larger than HBUF, one that changed
 * since the walk (another size), one that is gone, a FIFO. */
static void test_keys(void)
{
	static char big[HBUF + 2];
	memset(big, 'k', sizeof(big) - 1);
	tmp_put("k/one", "a file of some bytes\n");
	tmp_put("k/same", "a file of some bytes\n");
	tmp_put("k/other", "a file of some bytez\n");
	tmp_put("k/longer", "a file of some bytes\n\n");
	tmp_put("k/big", big);
	big[HBUF] = '\0';
	tmp_put("k/limit", big);
	uint64_t one = key_of("k/one", NULL);
	CU_ASSERT(one != 0);
	CU_ASSERT_EQUAL(key_of("k/same", NULL), one);
	CU_ASSERT(key_of("k/other", NULL) != one);
	CU_ASSERT(key_of("k/longer", NULL) != one);
	CU_ASSERT_EQUAL(key_of("k/big", NULL), 0);
	CU_ASSERT(key_of("k/limit", NULL) != 0);
	struct stat st;
	char path[4200];
	snprintf(path, sizeof(path), "%s/k/one", tmp_root());
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	st.st_size++; /* the walk saw it a byte longer */
	CU_ASSERT_EQUAL(key_of("k/one", &st), 0);
	st.st_size -= 2;
	CU_ASSERT_EQUAL(key_of("k/one", &st), 0);
	st.st_size++;
	CU_ASSERT_EQUAL(key_of("k/gone", &st), 0);
	snprintf(path, sizeof(path), "%s/k/fifo", tmp_root());
	CU_ASSERT_FATAL(mkfifo(path, 0644) == 0);
	CU_ASSERT_FATAL(stat(path, &st) == 0);
	st.st_size = 21; /* as if it had been a file */
	CU_ASSERT_EQUAL(key_of("k/fifo", &st), 0);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("hashstore", NULL, NULL);
	if (!s || !CU_add_test(s, "hashcalc sizes", test_sizes) ||
	    !CU_add_test(s, "sparse file", test_sparse) ||
	    !CU_add_test(s, "one read, digest and chunks", test_stream) ||
	    !CU_add_test(s, "size changed while hashed", test_changed_size) ||
	    !CU_add_test(s, "entry names and classes", test_names) ||
	    !CU_add_test(s, "digest cache", test_cache) ||
	    !CU_add_test(s, "index by size and digest", test_index) ||
	    !CU_add_test(s, "content keys of the walk", test_keys))
		return -1;
	return 0;
}
