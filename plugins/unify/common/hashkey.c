/* Content keys (hardlink): after the walk, the small files whose size and
 * metadata other files have are read once, in the walk's order, and
 * keyed by their bytes, so that the link pass takes the files of one
 * content together and the contents in the order of the trees (the
 * guests' directories and inodes are then changed in the order they lie
 * on disk, not in the random order of sizes).  A key is never trusted:
 * files are linked only after their bytes are compared. */
#define _GNU_SOURCE
#include "hashrun.h"

#include <stdint.h>

static inline uint64_t rotl(uint64_t x, int r)
{
	return x << r | x >> (64 - r);
}

/* A 64-bit key of n bytes at p (not a digest: anybody can make two
 * contents with one key; that costs only a comparison). */
static uint64_t key_of(const unsigned char *p, size_t n)
{
	const uint64_t m1 = 0x9e3779b97f4a7c15ULL, m2 = 0xc2b2ae3d27d4eb4fULL;
	uint64_t a = n * m1, b = ~(uint64_t)n;
	size_t i = 0;
	/* two lanes, so that the multiplications overlap */
	for (; i + 16 <= n; i += 16) {
		uint64_t x, y;
		memcpy(&x, p + i, 8);
		memcpy(&y, p + i + 8, 8);
		a = rotl(a ^ x * m2, 31) * m1;
		b = rotl(b ^ y * m2, 29) * m1;
	}
	uint64_t t[2] = {0, 0};
	memcpy(t, p + i, n - i);
	a = rotl(a ^ t[0] * m2, 31) * m1;
	b = rotl(b ^ t[1] * m2, 29) * m1;
	uint64_t h = a ^ rotl(b, 17);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 33;
}

HF_INTERNAL uint64_t hf_content_key(int dirfd, const char *name, ino_t ino,
				    off_t size, char *buf)
{
	if (size > HBUF)
		return 0;
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
	int fd = openat(dirfd, name, flags | O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, flags); /* not the owner's */
	if (fd < 0)
		return 0;
	/* the file walked, and nothing else: a byte more than its size is
	 * asked, so that a longer one shows */
	struct stat now;
	ssize_t r = -1;
	if (fstat(fd, &now) == 0 && S_ISREG(now.st_mode) && now.st_ino == ino &&
	    now.st_size == size)
		r = pread(fd, buf, (size_t)size + 1, 0);
	close(fd);
	return r == size ? key_of((const unsigned char *)buf, (size_t)r) : 0;
}

HF_INTERNAL void *hf_key_worker(void *arg)
{
	struct hwork *w = arg;
	struct hrun *h = w->h;
	size_t i, end;
	while (hf_next_chunk(h, &i, &end)) {
		for (; i < end; i++) {
			struct hcand *c = &h->c[i];
			if (!c->key)
				continue;
			int dirfd = hf_parent_fd(w, c);
			c->key = dirfd < 0
				     ? 0
				     : hf_content_key(dirfd, c->name, c->ino,
						      c->size, w->buf1);
		}
	}
	if (w->curfd >= 0)
		close(w->curfd);
	return NULL;
}
