/* The seccomp helper (seccomp.so, the only user of libseccomp): the
 * guest filter's rules compiled to BPF.  See runtime/seccomp.c for what
 * they deny and why; it keeps the compiled program and loads it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/helpers/helpers.h"

/* Denied whatever their arguments.  name_to_handle_at is not: a handle
 * is of no use without open_by_handle_at, and systemd asks for the IDs
 * of its cgroups through it (as LXC, the filter lets it through). */
static const char *const deny_always[] = {
	"open_by_handle_at",
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

/* The host's compat ABI gets the same rules (i386 programs run in amd64
 * guests); any other ABI (x32 among them, which Debian's kernels turn
 * off anyway) is answered ENOSYS for every call: a smaller program to
 * load into each guest process. */
static int add_arches(scmp_filter_ctx f)
{
	uint32_t native = seccomp_arch_native();
	uint32_t compat = native == SCMP_ARCH_X86_64	 ? SCMP_ARCH_X86
			  : native == SCMP_ARCH_AARCH64 ? SCMP_ARCH_ARM
							 : 0;
	int r = compat ? seccomp_arch_add(f, compat) : 0;
	if (r < 0 && r != -EEXIST)
		return r;
	return seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH,
				SCMP_ACT_ERRNO(ENOSYS));
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

static struct sock_filter *compile(char *const *allow, char *const *add,
				   unsigned short *len)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	int r = build(f, allow, add);
	int mfd = r == 0 ? memfd_create("vs-seccomp", MFD_CLOEXEC) : -1;
	if (r == 0 && mfd < 0)
		r = -errno;
	if (r == 0)
		r = seccomp_export_bpf(f, mfd);
	seccomp_release(f);
	struct sock_filter *b = NULL;
	if (r == 0) {
		off_t size = lseek(mfd, 0, SEEK_END);
		size_t n = size > 0 ? (size_t)size / sizeof(struct sock_filter)
				    : 0;
		if (n == 0 || n > VS_BPF_MAX) {
			r = -E2BIG;
		} else {
			size_t bytes = n * sizeof(struct sock_filter);
			b = malloc(bytes);
			*len = (unsigned short)n;
			if (!b) {
				r = -ENOMEM;
			} else if (pread(mfd, b, bytes, 0) != (ssize_t)bytes) {
				r = -EIO;
				free(b);
				b = NULL;
			}
		}
	}
	if (mfd >= 0)
		close(mfd);
	if (!b)
		errno = -r;
	return b;
}


static bool known(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

const struct vs_seccomp_ops vs_helper_seccomp = {
	.known = known,
	.compile = compile,
};
