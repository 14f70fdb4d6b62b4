/* A small non-cryptographic hash (64-bit FNV-1a) for names that must be
 * stable, not secret: the filter cache's file names, derived UUIDs. */
#include "base/base.h"

uint64_t vs_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}
