/* Shared helpers for the CUnit suites: a main() that runs the registered
 * suites and returns the failure count, and a throw-away sysroot. */
#ifndef VS_TEST_CU_H
#define VS_TEST_CU_H

#include <CUnit/Basic.h>
#include <stdio.h>

#include "internal.h"

/* Each test file defines this: adds its suites, returns 0 or -1. */
int add_suites(void);

/* A temporary directory tree (removed by tmp_cleanup). */
const char *tmp_root(void);
void tmp_cleanup(void);
/* Creates dir/file (parents too) under the temporary root with content;
 * content NULL makes a directory. */
void tmp_put(const char *rel, const char *content);
void tmp_link(const char *rel, const char *target);
/* Reads a file under the temporary root (malloc'd) or NULL. */
char *tmp_get(const char *rel);
/* A ctx whose sysroot is the temporary root, with the repository's
 * conf.d as data dir. */
struct vs_ctx *tmp_ctx(void);

#endif
