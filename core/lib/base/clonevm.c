/* clone3 with a function on a stack of its own, which glibc does not
 * offer (its clone() cannot be born into a cgroup): for CLONE_VM children
 * that share the caller's memory, as vfork does, but run real code. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/base.h"

pid_t vs_clone3_fn(struct clone_args *ca, int (*fn)(void *), void *arg)
{
#if defined(__x86_64__) && !defined(__ILP32__)
	/* the child starts on ca->stack + ca->stack_size with the caller's
	 * registers: r12 and r13 bring fn and arg; it never returns here */
	register long r12 __asm__("r12") = (long)fn;
	register long r13 __asm__("r13") = (long)arg;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[exit], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "0"((long)SYS_clone3), "D"(ca), "S"(sizeof(*ca)),
			   "r"(r12), "r"(r13), [exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return (pid_t)ret;
#else
	(void)ca;
	(void)fn;
	(void)arg;
	errno = ENOSYS;
	return -1;
#endif
}

pid_t vs_clone_fallback(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	unsigned long flags = (unsigned long)(ca->flags & ~(uint64_t)CLONE_INTO_CGROUP) |
			      (unsigned long)ca->exit_signal;
	int *pidfd = (int *)(uintptr_t)ca->pidfd;
	if (fn)
		return clone(fn, (char *)(uintptr_t)(ca->stack + ca->stack_size),
			     (int)flags, arg, pidfd);
	/* x86_64's order: flags, stack, parent_tid (the pidfd), child_tid,
	 * tls */
	return (pid_t)syscall(SYS_clone, flags, 0UL, pidfd, 0UL, 0UL);
}

pid_t vs_clone_into(struct clone_args *ca, int v2fd, int (*fn)(void *),
		    void *arg, bool *born_in_v2)
{
	*born_in_v2 = v2fd >= 0;
	if (*born_in_v2) {
		ca->flags |= CLONE_INTO_CGROUP;
		ca->cgroup = (uint64_t)v2fd;
	}
	pid_t pid = fn ? vs_clone3_fn(ca, fn, arg)
		       : (pid_t)syscall(SYS_clone3, ca, sizeof(*ca));
	if (pid < 0 && *born_in_v2 && errno != ENOSYS) {
		/* an older kernel, or a group that takes no process yet */
		ca->flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		ca->cgroup = 0;
		*born_in_v2 = false;
		pid = fn ? vs_clone3_fn(ca, fn, arg)
			 : (pid_t)syscall(SYS_clone3, ca, sizeof(*ca));
	}
	if (pid < 0 && errno == ENOSYS) { /* clone3 filtered (vs in a guest) */
		*born_in_v2 = false;
		pid = vs_clone_fallback(ca, fn, arg);
	}
	return pid;
}
