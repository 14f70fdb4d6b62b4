/* The build front end's own parts (plugins/build/common): what a build
 * in progress holds, and what its files call of each other. */
#ifndef VS_BUILD_FRONT_BUILD_H
#define VS_BUILD_FRONT_BUILD_H

#include <stdbool.h>
#include <vs/core.h>
#include <vs/plugin.h>

#include "frontend.h"

#define MAX_IFACES 64
#define MAX_FLAGS 64
#define VS_BUILD_MAX_ENV 8

struct vs_build {
	struct vs_build_head head; /* first: the services */
	struct vs_ctx *ctx;
	const struct vs_plugin *plugin;
	const char *method;
	char *name;
	char *dist;
	/* host views */
	char *rootdir, *vdir, *cfgdir, *cachebase, *lockfile, *pkgbase;
	char *pkgdir; /* <pkgbase>/<name> when package management is wanted */
	int rootfd, cfgfd;
	char *env[VS_BUILD_MAX_ENV]; /* "NAME=value" for the method's tools */
	size_t nenv;
	void *data;
	bool force, iknow, keep, pkgmgmt, cpusetvirt, json;
	unsigned nodes_refused; /* device nodes mknod refused (warned once) */
	int debug;
	bool have_context;
	int userns; /* --userns 1, --no-userns 0, neither -1 */
	unsigned context, context_next;
	bool store_next;
	const char *hostname, *netdev, *netmask, *netprefix, *netbcast;
	const char *initstyle, *cpuset, *cpusetcpus, *cpusetmems;
	struct vs_iface_spec ifaces[MAX_IFACES];
	size_t nifaces;
	char *flags[MAX_FLAGS];
	size_t nflags;
	/* cleanup state */
	bool created_vdir, created_cfg, created_pkg;
	struct {
		char *path; /* a directory the build adds to or moves from */
		struct timespec times[2];
	} parents[4];
	size_t nparents;
	char *moved_vdir, *moved_cfg, *moved_pkg;
};

/* options.c */
char **default_options(struct vs_ctx *ctx, int *n);
int parse_options(struct vs_build *b, int argc, char **argv, int *margc,
		  char ***margv);
/* checks.c */
bool dir_empty(struct vs_ctx *ctx, const char *path, bool *exists);
int setup_paths(struct vs_build *b);
int check_context(struct vs_build *b);
int check_existing(struct vs_build *b);
int check_pkgdir(struct vs_build *b);
int move_aside(struct vs_build *b, const char *path, char **moved);
void move_back(struct vs_build *b, const char *path, char *moved);
/* newroot.c */
int open_source(struct vs_build *b, const char *path, bool host);
int populate_dev(struct vs_build *b);
int run_distrib_script(struct vs_build *b, const char *which);
int create_skeleton(struct vs_build *b);
/* settle.c */
int settle_guest(struct vs_build *b);
void cleanup(struct vs_build *b);
/* services.c */
int fail_path(struct vs_build *b, const char *what, const char *path);
/* Notes the times of path's parent directory (once) before the build
 * changes it; restore_parents puts them back after a failed build. */
void remember_parent(struct vs_build *b, const char *path);
void restore_parents(struct vs_build *b);
int write_opt(struct vs_build *b, const char *rel, const char *value);
int build_write_cfg(struct vs_build *b, const char *rel, const char *value);
int build_run(struct vs_build *b, char *const argv[]);
extern const struct vs_build_services services;

#endif
