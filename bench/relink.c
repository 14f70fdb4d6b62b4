/* relink ROOT sorted|random: gives every regular file below ROOT a second
 * name (NAME.l) and takes it away again, the files taken in the tree's
 * order or in a shuffled one (fixed seed); prints the seconds each pass
 * took.  The shuffled pass is what a tool that shares files by content
 * makes the file system do: its inode and directory updates land all
 * over the tree (bench/scale.sh's yardstick). */
#define _GNU_SOURCE
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char **paths;
static size_t n, cap;

static int add(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type != FTW_F)
		return 0;
	if (n == cap) {
		size_t ncap = cap ? 2 * cap : 4096;
		char **np = realloc(paths, ncap * sizeof(*paths));
		if (!np)
			return -1;
		paths = np;
		cap = ncap;
	}
	if (!(paths[n] = strdup(p)))
		return -1;
	n++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[2], "sorted") && strcmp(argv[2], "random"))) {
		fprintf(stderr, "usage: relink ROOT sorted|random\n");
		return 2;
	}
	if (nftw(argv[1], add, 64, FTW_PHYS) != 0) {
		perror(argv[1]);
		return 1;
	}
	/* the tree's order: by path (the generator numbers its names) */
	qsort(paths, n, sizeof(*paths), by_name);
	if (!strcmp(argv[2], "random")) {
		srand48(1);
		for (size_t i = n; i > 1; i--) {
			size_t j = (size_t)(drand48() * (double)i);
			char *t = paths[i - 1];
			paths[i - 1] = paths[j];
			paths[j] = t;
		}
	}
	char name[4096];
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.l", paths[i]);
		if (link(paths[i], name) < 0) {
			perror(name);
			return 1;
		}
	}
	double t1 = now();
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s.l", paths[i]);
		if (unlink(name) < 0) {
			perror(name);
			return 1;
		}
	}
	printf("%zu %.3f %.3f\n", n, t1 - t0, now() - t1);
	return 0;
}
