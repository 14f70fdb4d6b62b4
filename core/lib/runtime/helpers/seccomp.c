/* The seccomp helper (seccomp.so, the only user of libseccomp): the
 * guest filter's rules compiled to BPF.  See runtime/seccomp.c for what
 * they deny and why; it keeps the compiled program and loads it. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
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

/* The program of f (released here): malloc'd, *len instructions; NULL
 * with errno. */
static struct sock_filter *export(scmp_filter_ctx f, int r,
				  unsigned short *len)
{
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

static struct sock_filter *compile(char *const *allow, char *const *add,
				   unsigned short *len)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	return export(f, build(f, allow, add), len);
}

/* ---- OCI profiles ------------------------------------------------------ */

/* An OCI action name with its errno: the libseccomp action, or 0 with
 * *ok false. */
static uint32_t oci_action(const char *name, bool has_errno, unsigned err,
			   bool *ok)
{
	*ok = true;
	if (!strcmp(name, "SCMP_ACT_ALLOW"))
		return SCMP_ACT_ALLOW;
	if (!strcmp(name, "SCMP_ACT_KILL") ||
	    !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		return SCMP_ACT_KILL_THREAD;
	if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		return SCMP_ACT_KILL_PROCESS;
	if (!strcmp(name, "SCMP_ACT_TRAP"))
		return SCMP_ACT_TRAP;
	if (!strcmp(name, "SCMP_ACT_LOG"))
		return SCMP_ACT_LOG;
	if (!strcmp(name, "SCMP_ACT_ERRNO"))
		return SCMP_ACT_ERRNO(has_errno ? err : EPERM);
	if (!strcmp(name, "SCMP_ACT_TRACE"))
		return SCMP_ACT_TRACE(has_errno ? err : EPERM);
	*ok = false;
	return 0;
}

static const struct {
	const char *name;
	uint32_t arch;
} oci_arches[] = {
	{"SCMP_ARCH_X86", SCMP_ARCH_X86},
	{"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
	{"SCMP_ARCH_X32", SCMP_ARCH_X32},
	{"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
	{"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
	{"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
	{"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
	{"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
	{"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
	{"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
	{"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
	{"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
	{"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
	{"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
	{"SCMP_ARCH_S390", SCMP_ARCH_S390},
	{"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
	{"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} oci_ops[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE},	  {"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE},	  {"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE},	  {"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static int oci_rule(scmp_filter_ctx f, const struct vs_oci_sc_rule *ru,
		    uint32_t act, char *msg, size_t msglen)
{
	struct scmp_arg_cmp cmp[6];
	for (size_t k = 0; k < ru->nargs; k++) {
		size_t o = 0;
		while (o < sizeof(oci_ops) / sizeof(*oci_ops) &&
		       strcmp(oci_ops[o].name, ru->args[k].op))
			o++;
		if (o == sizeof(oci_ops) / sizeof(*oci_ops)) {
			snprintf(msg, msglen, "unknown seccomp operator '%s'",
				 ru->args[k].op);
			return -EINVAL;
		}
		cmp[k] = (struct scmp_arg_cmp){ru->args[k].index, oci_ops[o].op,
					       ru->args[k].value,
					       ru->args[k].value2};
	}
	/* several comparisons of one argument cannot be one rule: each
	 * becomes its own (runc does the same) */
	bool same_arg = false;
	for (size_t a = 0; a < ru->nargs; a++)
		for (size_t b = a + 1; b < ru->nargs; b++)
			same_arg |= cmp[a].arg == cmp[b].arg;
	for (char **n = ru->names; *n; n++) {
		int nr = seccomp_syscall_resolve_name(*n);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this machine: as runc, skipped */
		int r = 0;
		if (same_arg)
			for (size_t a = 0; r == 0 && a < ru->nargs; a++)
				r = seccomp_rule_add_array(f, act, nr, 1,
							   &cmp[a]);
		else
			r = seccomp_rule_add_array(f, act, nr,
						   (unsigned)ru->nargs, cmp);
		if (r == -EACCES || r == -EEXIST || r == -EDOM)
			r = 0; /* the default action already, or a pseudo */
		if (r < 0) {
			snprintf(msg, msglen, "cannot add the seccomp rule for "
					      "'%s': %s",
				 *n, strerror(-r));
			return r;
		}
	}
	return 0;
}

static struct sock_filter *compile_oci(const struct vs_oci_seccomp *s,
				       unsigned short *len, char *msg,
				       size_t msglen)
{
	bool ok;
	uint32_t def = oci_action(s->default_action, s->has_default_errno,
				  s->default_errno, &ok);
	if (!ok) {
		snprintf(msg, msglen, "unknown seccomp action '%s'",
			 s->default_action);
		errno = EINVAL;
		return NULL;
	}
	scmp_filter_ctx f = seccomp_init(def);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	int r = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	for (char **a = s->arches; r == 0 && a && *a; a++) {
		size_t k = 0;
		while (k < sizeof(oci_arches) / sizeof(*oci_arches) &&
		       strcmp(oci_arches[k].name, *a))
			k++;
		if (k == sizeof(oci_arches) / sizeof(*oci_arches)) {
			snprintf(msg, msglen, "unknown seccomp architecture "
					      "'%s'",
				 *a);
			r = -EINVAL;
		} else if ((r = seccomp_arch_add(f, oci_arches[k].arch)) ==
			   -EEXIST) {
			r = 0;
		}
	}
	for (size_t i = 0; r == 0 && i < s->nrules; i++) {
		const struct vs_oci_sc_rule *ru = &s->rules[i];
		uint32_t act = oci_action(ru->action, ru->has_errno,
					  ru->errno_ret, &ok);
		if (!ok) {
			snprintf(msg, msglen, "unknown seccomp action '%s'",
				 ru->action);
			r = -EINVAL;
		} else {
			r = oci_rule(f, ru, act, msg, msglen);
		}
	}
	if (r < 0 && !msg[0])
		snprintf(msg, msglen, "cannot build the seccomp filter: %s",
			 strerror(-r));
	return export(f, r, len);
}

static bool known(const char *name)
{
	return seccomp_syscall_resolve_name(name) != __NR_SCMP_ERROR;
}

const struct vs_seccomp_ops vs_helper_seccomp = {
	.known = known,
	.compile = compile,
	.compile_oci = compile_oci,
};
