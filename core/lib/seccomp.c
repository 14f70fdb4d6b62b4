/* The guest's system call filter (libseccomp), loaded by every guest
 * process (init, exec, enter) as its last step before execve.
 *
 * A deny list in the spirit of LXC's common.seccomp and Docker's default
 * profile: what reaches past the guest's namespaces on a vanilla kernel
 * (file handles, keyrings, user namespaces, kernel modules, kexec, bpf,
 * perf, userfaultfd, the new mount API, io_uring, swap, the kernel log,
 * TIOCSTI) answers EPERM; clone3 answers ENOSYS so that libc falls back to
 * clone, whose flags the filter can see.  The compat ABIs of the host
 * (i386 and x32 on x86_64) get the same rules; any other ABI is killed.
 *
 * Per guest (first existing file, per-guest then .defaults):
 *   apps/seccomp/allow   names taken out of the default deny list
 *   apps/seccomp/deny    names added to it
 *   apps/seccomp/none    (flag) no filter at all
 * One system call name per line; '#' starts a comment. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* Denied whatever their arguments. */
static const char *const deny_always[] = {
	"open_by_handle_at", "name_to_handle_at",
	"keyctl", "add_key", "request_key",
	"kexec_load", "kexec_file_load",
	"init_module", "finit_module", "delete_module", "create_module",
	"get_kernel_syms", "query_module",
	"bpf", "perf_event_open", "userfaultfd",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "pivot_root",
	"swapon", "swapoff", "acct", "syslog", "lookup_dcookie",
	"nfsservctl", "uselib", "ustat", "sysfs", "_sysctl",
	"vm86", "vm86old", "iopl", "ioperm",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	NULL,
};

/* Names the filter treats by their arguments (or, for clone3, whose
 * arguments it cannot see). */
static const char *const deny_special[] = {"unshare", "clone", "clone3",
					   "ioctl", NULL};

static bool in_list(char *const *list, const char *name)
{
	for (char *const *l = list; l && *l; l++)
		if (!strcmp(*l, name))
			return true;
	return false;
}

/* The names of a list file, comments and blanks dropped; each checked
 * against libseccomp's table.  NULL (no error) when the file is missing. */
static char **read_names(struct vs_guest *g, const char *rel, int *err)
{
	char path[PATH_MAX], real[PATH_MAX];
	*err = 0;
	if (vs_guest_cfg_find(g, rel, NULL, path, sizeof(path)) != 1)
		return NULL;
	char *s = vs_host_read(g->ctx, path, 1 << 16, NULL);
	vs_host_real(g->ctx, path, real, sizeof(real));
	if (!s) {
		*err = vs_set_errno(g->ctx, errno, "cannot read '%s'", real);
		return NULL;
	}
	size_t n = 0;
	char **v = vs_xmalloc((strlen(s) / 2 + 2) * sizeof(*v));
	char *save = NULL;
	int lineno = 0;
	for (char *l = strtok_r(s, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		lineno++;
		l[strcspn(l, "#")] = '\0';
		l += strspn(l, " \t");
		l[strcspn(l, " \t")] = '\0';
		if (!*l)
			continue;
		if (seccomp_syscall_resolve_name(l) == __NR_SCMP_ERROR) {
			*err = vs_set_error(g->ctx,
					    "%s:%d: unknown system call '%s'",
					    real, lineno, l);
			break;
		}
		v[n++] = vs_strdup(l);
	}
	v[n] = NULL;
	free(s);
	if (*err) {
		vs_strv_free(v);
		return NULL;
	}
	return v;
}

static int add_arches(scmp_filter_ctx f)
{
	uint32_t native = seccomp_arch_native();
	uint32_t extra[2] = {0, 0};
	if (native == SCMP_ARCH_X86_64) {
		extra[0] = SCMP_ARCH_X86;
		extra[1] = SCMP_ARCH_X32;
	} else if (native == SCMP_ARCH_AARCH64) {
		extra[0] = SCMP_ARCH_ARM;
	}
	for (int i = 0; i < 2; i++) {
		int r = extra[i] ? seccomp_arch_add(f, extra[i]) : 0;
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/* A rule on a name the running kernel's ABI may lack: -EDOM/-EINVAL from
 * libseccomp for a pseudo system call are not errors. */
static int deny(scmp_filter_ctx f, const char *name, int err,
		unsigned n, const struct scmp_arg_cmp *cmp)
{
	int nr = seccomp_syscall_resolve_name(name);
	if (nr == __NR_SCMP_ERROR)
		return 0;
	int r = seccomp_rule_add_array(f, SCMP_ACT_ERRNO((uint16_t)err), nr,
				       n, cmp);
	return r == -EDOM || r == -EINVAL ? 0 : r;
}

static int build(scmp_filter_ctx f, char *const *allow, char *const *add)
{
	int r = add_arches(f);
	if (r == 0)
		r = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	for (const char *const *n = deny_always; r == 0 && *n; n++)
		if (!in_list(allow, *n))
			r = deny(f, *n, EPERM, 0, NULL);
	const struct scmp_arg_cmp newuser = SCMP_A0(
		SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER);
	const struct scmp_arg_cmp sti = SCMP_A1(SCMP_CMP_MASKED_EQ,
						0xffffffffu, TIOCSTI);
	if (r == 0 && !in_list(allow, "unshare"))
		r = deny(f, "unshare", EPERM, 1, &newuser);
	if (r == 0 && !in_list(allow, "clone"))
		r = deny(f, "clone", EPERM, 1, &newuser);
	if (r == 0 && !in_list(allow, "clone3"))
		r = deny(f, "clone3", ENOSYS, 0, NULL);
	if (r == 0 && !in_list(allow, "ioctl"))
		r = deny(f, "ioctl", EPERM, 1, &sti);
	for (char *const *n = add; r == 0 && n && *n; n++)
		if (!in_list((char *const *)deny_always, *n) &&
		    !in_list((char *const *)deny_special, *n))
			r = deny(f, *n, EPERM, 0, NULL);
	return r;
}

int vs_seccomp_prepare(struct vs_guest *g, uint64_t bcaps, bool warn,
		       void **out)
{
	*out = NULL;
	bool handles = warn && (bcaps & (1ULL << 2 /* CAP_DAC_READ_SEARCH */));
	if (vs_guest_flag_or(g, "apps/seccomp/none", NULL)) {
		if (warn)
				vs_warn(g->ctx,
				"guest '%s' runs without a system call filter "
				"(apps/seccomp/none)%s",
				g->name,
				handles ? ": with CAP_DAC_READ_SEARCH its root "
					  "can open any host file by handle"
					: "");
		return 0;
	}
	int err;
	char **allow = read_names(g, "apps/seccomp/allow", &err);
	if (err)
		return -1;
	char **add = read_names(g, "apps/seccomp/deny", &err);
	if (err) {
		vs_strv_free(allow);
		return -1;
	}
	if (handles && in_list(allow, "open_by_handle_at"))
		vs_warn(g->ctx, "guest '%s' has CAP_DAC_READ_SEARCH and may "
				"call open_by_handle_at: its root can open any "
				"host file by handle",
			g->name);
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int r = f ? build(f, allow, add) : -ENOMEM;
	vs_strv_free(allow);
	vs_strv_free(add);
	if (r < 0) {
		if (f)
			seccomp_release(f);
		return vs_set_errno(g->ctx, -r,
				    "cannot build the system call filter of "
				    "guest '%s'",
				    g->name);
	}
	*out = f;
	return 0;
}

int vs_seccomp_load(void *filter)
{
	if (!filter)
		return 0;
	int r = seccomp_load(filter);
	if (r < 0) {
		errno = -r;
		return -1;
	}
	return 0;
}

void vs_seccomp_free(void *filter)
{
	if (filter)
		seccomp_release(filter);
}
