/* Inside the OCI runtime (oci_*.c): what its files share. */
#ifndef VS_OCI_INT_H
#define VS_OCI_INT_H

#include "runtime/runtime.h"

/* oci_state.c */
/* <root>/<id> (malloc'd), or NULL with the error set (a bad id). */
char *oci_dir(struct vs_ctx *ctx, const char *root, const char *id);
/* Writes st into its directory (atomically).  0/-1 with the error set. */
int oci_state_write(struct vs_ctx *ctx, const char *dir,
		    const struct vs_oci_state *st);
/* The cgroups of st (none when it has none recorded). */
void oci_state_cgroups(struct vs_ctx *ctx, const struct vs_oci_state *st,
		       struct vs_cgroup *cg);
/* Now, RFC 3339 with nanoseconds, UTC. */
void oci_now(char *out, size_t size);

/* oci_spec.c */
/* Reads <dir>/config.json (dir open at dirfd) with the ocispec helper;
 * NULL with the error set. */
struct vs_oci_spec *oci_spec_load(struct vs_ctx *ctx, int dirfd,
				  const char *shown);
void oci_spec_free(struct vs_ctx *ctx, struct vs_oci_spec *s);
/* The compiled filter of s (NULL: none), or -1 with the error set. */
int oci_seccomp(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		void **filter);
/* Creates the cgroup of the container (cgroupsPath, or /vs-oci/<id>)
 * and applies linux.resources.  0, or -1 (error set, nothing left). */
int oci_cgroup_create(struct vs_ctx *ctx, const char *id,
		      const struct vs_oci_spec *s, bool systemd,
		      struct vs_cgroup *cg);
/* Runs the hooks of kind k with the state JSON on their stdin (in the
 * caller's namespaces); fatal: the first failure stops with -1 (error
 * set), else failures are warnings. */
int oci_hooks_run(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		  enum vs_oci_hook_kind k, const char *state_json, bool fatal);

/* oci_devices.c */
/* Applies s's linux.resources.devices to cg: the v1 devices controller
 * where there is one, else an eBPF device program on cg's cgroup2 group.
 * 0, or -1 with the error set. */
int oci_devices_apply(struct vs_ctx *ctx, const struct vs_cgroup *cg,
		      const struct vs_oci_spec *s);
/* The device program of rules (last match wins, no match allows) into
 * *out (malloc'd, *len instructions).  0. */
struct bpf_insn;
int oci_devices_program(const struct vs_oci_devrule *rules, size_t n,
			struct bpf_insn **out, size_t *len);
/* Loads that program and attaches it to the cgroup2 directory dir.  0,
 * or -1 with the error set. */
int oci_devices_attach(struct vs_ctx *ctx, const char *dir,
		       const struct vs_oci_devrule *rules, size_t n);

/* oci_create.c */
/* Sends the terminal's master to the --console-socket path.  0/-1. */
int oci_give_console(struct vs_ctx *ctx, const char *path, int master);

/* oci_rootfs.c (in the container's process, its mount namespace) */
/* The mounts and devices of s below the rootfs (a real path; a bind's
 * relative source is the bundle's; trees, when not NULL, holds per mount
 * an idmapped tree to attach, or -1).  -1 with the error set. */
int oci_rootfs_setup(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		     const char *rootfs, const char *bundle, const int *trees);

/* oci_idmap.c (in the runtime, before the clone) */
/* For each bind mount of s with id maps, a detached clone of its source
 * idmapped through a user namespace of those maps: *trees (malloc'd,
 * one per mount, -1 for the others).  0, or -1 with the error set. */
int oci_idmap_trees(struct vs_ctx *ctx, const struct vs_oci_spec *s,
		    const char *bundle, int **trees);
/* Writes the maps m to /proc/<pid>/<file> (uid_map, gid_map); false
 * with errno. */
bool oci_write_idmap(pid_t pid, const char *file,
		     const struct vs_oci_idmap *m, size_t n);
/* Makes the rootfs our root: pivot_root, or with no_pivot MS_MOVE and
 * chroot.  -1 with the error set. */
int oci_rootfs_pivot(struct vs_ctx *ctx, const char *rootfs, bool no_pivot);
/* Inside the new root: masked and read-only paths, the read-only root,
 * rootfsPropagation.  -1 with the error set. */
int oci_rootfs_finish(struct vs_ctx *ctx, const struct vs_oci_spec *s);

/* oci_process.c (in the container's process, inside its root) */
/* A pty of the container's devpts: the master to hand over, the slave
 * made our stdio and controlling terminal, and with console (the
 * container's init, as runc) bound on /dev/console too.  Master fd or -1
 * (error set). */
int oci_pty(struct vs_ctx *ctx, bool console);
/* Whether args[0] is found (in PATH of env when it has no '/'). */
bool oci_find_program(const struct vs_oci_process *p);
/* Joins the container's session keyring "_ses.<id>" (made by the first
 * to join, the others find it by name), so that no process of the
 * container shares the session keyring of the runtime's caller, as
 * runc.  made: the container's init, which makes it searchable by its
 * owner (userns: by others, the owner's ids being the container's).
 * A kernel without keys is no error.  0, or -1 with the error set. */
int oci_session_keyring(struct vs_ctx *ctx, const char *id, bool made,
			bool userns);
/* The process's own settings, then exec: user, groups, capabilities,
 * no_new_privs, the filter, umask, cwd.  Returns only on failure (error
 * set). */
void oci_process_exec(struct vs_ctx *ctx, const struct vs_oci_process *p,
		      void *filter);
/* The process's rlimits and OOM score on pid, from outside.  0/-1. */
int oci_process_limits(struct vs_ctx *ctx, const struct vs_oci_process *p,
		       pid_t pid);

#endif
