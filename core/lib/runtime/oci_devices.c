/* linux.resources.devices: which device nodes a container may open or
 * make.  On a v1 devices controller the rules are written in order to
 * devices.deny and devices.allow; where there is none (a pure cgroup v2
 * host) an eBPF device program made from the rules is attached to the
 * container's cgroup2 group, as the kernel's v2 interface wants. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/oci_int.h"

static int write_rule(struct vs_ctx *ctx, const char *dir,
		      const struct vs_oci_devrule *d)
{
	char num[2][24], rule[96];
	long long v[2] = {d->major, d->minor};
	for (int i = 0; i < 2; i++) {
		if (v[i] < 0)
			snprintf(num[i], sizeof(num[i]), "*");
		else
			snprintf(num[i], sizeof(num[i]), "%lld", v[i]);
	}
	int n = snprintf(rule, sizeof(rule), "%c %s:%s %s", d->type, num[0],
			 num[1], d->access);
	if (!d->access[0])
		return 0; /* no access named: the rule says nothing */
	char *path = vs_asprintf("%s/%s", dir,
				 d->allow ? "devices.allow" : "devices.deny");
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	int r = 0;
	if (fd < 0 || write(fd, rule, (size_t)n) != n)
		r = vs_set_errno(ctx, errno, "cannot write '%s' to '%s'", rule,
				 path);
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* ---- the eBPF program ---------------------------------------------- */

struct prog {
	struct bpf_insn *insn;
	size_t n, cap;
};

static void emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src,
		 int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 64;
		p->insn = realloc(p->insn, p->cap * sizeof(*p->insn));
		if (!p->insn)
			abort();
	}
	struct bpf_insn *i = &p->insn[p->n++];
	memset(i, 0, sizeof(*i));
	i->code = code;
	i->dst_reg = dst & 0xf;
	i->src_reg = src & 0xf;
	i->off = off;
	i->imm = imm;
}

static unsigned access_bits(const char *a)
{
	unsigned b = 0;
	for (; *a; a++)
		b |= *a == 'r'	 ? BPF_DEVCG_ACC_READ
		     : *a == 'w' ? BPF_DEVCG_ACC_WRITE
				 : BPF_DEVCG_ACC_MKNOD;
	return b;
}

/* One rule: falls through to the next when it does not decide.  r2 is
 * the device type, r3 the access asked for, r4 the major, r5 the minor. */
static void emit_rule(struct prog *p, const struct vs_oci_devrule *d)
{
	unsigned acc = access_bits(d->access);
	/* the block's length, to jump over the rest of it */
	int len = (d->type != 'a') + (d->major >= 0) + (d->minor >= 0) + 3 + 2;
	int done = 0;
	if (d->type != 'a')
		emit(p, BPF_JMP | BPF_JNE | BPF_K, 2, 0,
		     (int16_t)(len - ++done),
		     d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
	if (d->major >= 0)
		emit(p, BPF_JMP | BPF_JNE | BPF_K, 4, 0,
		     (int16_t)(len - ++done), (int32_t)d->major);
	if (d->minor >= 0)
		emit(p, BPF_JMP | BPF_JNE | BPF_K, 5, 0,
		     (int16_t)(len - ++done), (int32_t)d->minor);
	/* an allow decides when it covers every access asked for, a deny
	 * when it covers any */
	emit(p, BPF_ALU64 | BPF_MOV | BPF_X, 6, 3, 0, 0);
	emit(p, BPF_ALU64 | BPF_AND | BPF_K, 6, 0, 0,
	     (int32_t)(d->allow ? (~acc & 7u) : acc));
	done += 2;
	emit(p, BPF_JMP | (d->allow ? BPF_JNE : BPF_JEQ) | BPF_K, 6, 0,
	     (int16_t)(len - ++done), 0);
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, d->allow ? 1 : 0);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
}

int oci_devices_program(const struct vs_oci_devrule *rules, size_t n,
			struct bpf_insn **out, size_t *len)
{
	struct prog p = {0};
	emit(&p, BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0); /* access_type */
	emit(&p, BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
	emit(&p, BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
	emit(&p, BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
	emit(&p, BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0); /* major */
	emit(&p, BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0); /* minor */
	/* the last rule that matches decides: the rules backwards, the
	 * first match returns */
	for (size_t i = n; i-- > 0;)
		if (rules[i].access[0])
			emit_rule(&p, &rules[i]);
	/* no rule matched: what a new group allows, everything */
	emit(&p, BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*out = p.insn;
	*len = p.n;
	return 0;
}

/* Loads the program: without the verifier's log (a long program's log
 * does not fit a buffer and the kernel then fails the load with ENOSPC),
 * and only when that fails again with it, for the reason (the log's
 * last line before its statistics).  The program's fd, or -1 with the
 * error set. */
static int load(struct vs_ctx *ctx, const char *dir, struct bpf_insn *insn,
		size_t len)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insn;
	a.insn_cnt = (uint32_t)len;
	a.license = (uint64_t)(uintptr_t) "GPL";
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	if (prog >= 0)
		return prog;
	int e = errno;
	char *log = vs_xmalloc(1 << 16);
	log[0] = '\0';
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = 1 << 16;
	a.log_level = 1;
	if ((prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a))) >= 0) {
		free(log);
		return prog;
	}
	char *why = NULL;
	for (char *l = strtok(log, "\n"); l; l = strtok(NULL, "\n"))
		if (strncmp(l, "processed ", 10))
			why = l;
	vs_set_errno(ctx, e, "cannot load the device program for '%s'%s%s",
		     dir, why ? ": " : "", why ? why : "");
	free(log);
	return -1;
}

int oci_devices_attach(struct vs_ctx *ctx, const char *dir,
		       const struct vs_oci_devrule *rules, size_t n)
{
	struct bpf_insn *insn;
	size_t len;
	oci_devices_program(rules, n, &insn, &len);
	int prog = load(ctx, dir, insn, len);
	free(insn);
	if (prog < 0)
		return -1;
	union bpf_attr a;
	int cg = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	int r = 0;
	if (cg < 0 || syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) < 0)
		r = vs_set_errno(ctx, errno, "cannot attach the device program "
					     "to '%s'",
				 dir);
	if (cg >= 0)
		close(cg);
	close(prog); /* the group holds it now */
	return r;
}

/* What every container may use whatever its rules say (runc's list
 * less /dev/net/tun and mknod of everything): null, zero, full, random,
 * urandom, tty, console, ptmx, the ptys. */
static const struct vs_oci_devrule base_rules[] = {
	{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"},
	{true, 'c', 1, 5, "rwm"},    {true, 'c', 1, 7, "rwm"},
	{true, 'c', 1, 8, "rwm"},    {true, 'c', 1, 9, "rwm"},
	{true, 'c', 5, 0, "rwm"},    {true, 'c', 5, 1, "rwm"},
	{true, 'c', 5, 2, "rwm"},    {true, 'c', 136, -1, "rwm"},
};
#define NBASE (sizeof(base_rules) / sizeof(*base_rules))

int oci_devices_apply(struct vs_ctx *ctx, const struct vs_cgroup *cg,
		      const struct vs_oci_spec *s)
{
	/* nothing, then the spec's rules, then the base and the devices
	 * the spec makes (after the rules, whose first one usually denies
	 * everything: as runc) */
	size_t n = 0;
	struct vs_oci_devrule *all = vs_xmalloc(
	    (NBASE + s->ndevices + s->ndevrules) * sizeof(*all));
	all[n++] = base_rules[0];
	for (size_t i = 0; i < s->ndevrules; i++)
		all[n++] = s->devrules[i];
	for (size_t i = 1; i < NBASE; i++)
		all[n++] = base_rules[i];
	for (size_t i = 0; i < s->ndevices; i++)
		if (s->devices[i].type != 'p')
			all[n++] = (struct vs_oci_devrule){
			    true, s->devices[i].type == 'b' ? 'b' : 'c',
			    s->devices[i].major, s->devices[i].minor, "rwm"};
	int r = 1;
	for (size_t i = 0; r == 1 && i < cg->n; i++) {
		if (cg->dirs[i] == cg->v2 || !strstr(cg->ctls[i], "devices"))
			continue;
		r = 0;
		for (size_t k = 0; r == 0 && k < n; k++)
			r = write_rule(ctx, cg->dirs[i], &all[k]);
	}
	if (r == 1)
		r = cg->v2 ? oci_devices_attach(ctx, cg->v2, all, n)
			   : vs_set_error(ctx, "cannot limit the devices: no "
					       "devices controller and no "
					       "cgroup2 group");
	free(all);
	return r;
}
