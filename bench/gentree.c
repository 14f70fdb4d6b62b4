/* Generates the scale benchmark's corpus, reproducibly: GUESTS trees of
 * FILES small files each below ROOT (g<k>/d<n>/f<m>, 1000 files per
 * directory).  Six files in ten have a content drawn from a pool shared
 * by every tree (so most of them are duplicates across the trees), the
 * others one of their own; sizes 64 to 8 KiB; every file mode 0644,
 * owned by root, mtime 1600000000.  PLACE "path" puts the shared contents
 * where guests built from one distribution have them: six paths in ten
 * hold the same content in every tree, the others one of their own.
 *   gentree ROOT GUESTS FILES [random|path] */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

int main(int argc, char **argv)
{
	if ((argc != 4 && argc != 5) ||
	    (argc == 5 && strcmp(argv[4], "random") && strcmp(argv[4], "path"))) {
		fprintf(stderr, "usage: gentree ROOT GUESTS FILES [random|path]\n");
		return 2;
	}
	bool by_path = argc == 5 && !strcmp(argv[4], "path");
	const char *root = argv[1];
	long guests = atol(argv[2]), files = atol(argv[3]);
	long pool = files / 2 > 0 ? files / 2 : 1;
	mkdir(root, 0755);
	static char buf[8192];
	char path[4096];
	struct timespec ts[2] = {{1600000000, 0}, {1600000000, 0}};
	for (long g = 0; g < guests; g++) {
		for (long i = 0; i < files; i++) {
			if (i % 1000 == 0) {
				snprintf(path, sizeof(path), "%s/g%ld/d%ld", root, g,
					 i / 1000);
				char *p = path + strlen(root) + 1;
				for (; (p = strchr(p, '/')); p++) {
					*p = '\0';
					mkdir(path, 0755);
					*p = '/';
				}
				if (mkdir(path, 0755) < 0 && errno != EEXIST) {
					perror(path);
					return 1;
				}
			}
			uint64_t r = mix((uint64_t)g << 40 ^ (uint64_t)i);
			uint64_t id = r % 10 < 6 ? mix(r) % (uint64_t)pool
						 : (1ULL << 63) | r;
			uint64_t p = mix((uint64_t)i ^ 0x9a7);
			if (by_path)
				id = p % 10 < 6 ? p >> 1 : (1ULL << 63) | r;
			size_t size = 64 + mix(id ^ 0x5eed) % (8192 - 64);
			uint64_t s = id;
			for (size_t k = 0; k < size; k += 8) {
				s = mix(s + k);
				memcpy(buf + k, &s, size - k < 8 ? size - k : 8);
			}
			snprintf(path, sizeof(path), "%s/g%ld/d%ld/f%ld", root, g,
				 i / 1000, i % 1000);
			int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
				      0644);
			if (fd < 0 || write(fd, buf, size) != (ssize_t)size ||
			    futimens(fd, ts) < 0) {
				perror(path);
				return 1;
			}
			close(fd);
		}
		char d[4096];
		for (long n = 0; n <= (files - 1) / 1000; n++) {
			snprintf(d, sizeof(d), "%s/g%ld/d%ld", root, g, n);
			utimensat(AT_FDCWD, d, ts, 0);
		}
	}
	return 0;
}
