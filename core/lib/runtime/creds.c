/* What the process of a guest or of a container becomes just before its
 * exec: no_new_privs, the system call filter, the bounding set, the user
 * and groups, the capability sets.  One order for vs start, vs exec and
 * vs oci. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config/config.h"
#include "runtime/runtime.h"

const char *vs_creds_what(enum vs_creds_step s)
{
	switch (s) {
	case VS_CREDS_NNP:
		return "set no_new_privs";
	case VS_CREDS_FILTER:
		return "load the system call filter";
	case VS_CREDS_BOUNDING:
		return "limit the capabilities";
	case VS_CREDS_USER:
		return "switch to the user";
	default:
		return "set the capabilities";
	}
}

/* Sets the effective, inheritable, permitted and ambient capabilities.
 * 0, or -1 with errno. */
static int set_sets(uint64_t effective, uint64_t inheritable,
		    uint64_t permitted, uint64_t ambient)
{
	cap_t caps = cap_init();
	if (!caps)
		return -1;
	const uint64_t sets[3] = {effective, inheritable, permitted};
	static const cap_flag_t flags[3] = {CAP_EFFECTIVE, CAP_INHERITABLE,
					    CAP_PERMITTED};
	for (int k = 0; k < 3; k++)
		for (unsigned n = 0; n <= vs_caps_last(); n++)
			if (sets[k] & (1ULL << n)) {
				cap_value_t v = (cap_value_t)n;
				cap_set_flag(caps, flags[k], 1, &v, CAP_SET);
			}
	int r = cap_set_proc(caps);
	int e = errno;
	cap_free(caps);
	errno = e;
	if (r < 0)
		return -1;
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (unsigned n = 0; n <= vs_caps_last(); n++)
		if ((ambient & (1ULL << n)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, n, 0, 0) < 0)
			return -1;
	return 0;
}

/* Groups, gid, uid (all three of each); a user namespace that denies
 * setgroups leaves an empty list alone. */
static int set_user(const struct vs_creds *c)
{
	if (setgroups(c->ngroups, c->groups) < 0 &&
	    !(errno == EPERM && c->ngroups == 0))
		return -1;
	if (setresgid(c->gid, c->gid, c->gid) < 0 ||
	    setresuid(c->uid, c->uid, c->uid) < 0)
		return -1;
	return 0;
}

int vs_creds_apply(const struct vs_creds *c, enum vs_creds_step *failed)
{
	enum vs_creds_step s = VS_CREDS_NNP;
	if (c->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	/* without no_new_privs loading the filter needs CAP_SYS_ADMIN:
	 * while still root; with it, last, so that it filters none of the
	 * steps here */
	s = VS_CREDS_FILTER;
	if (!c->no_new_privs && vs_seccomp_load(c->filter) < 0)
		goto fail;
	if (c->has_sets) {
		/* the bounding set while CAP_SETPCAP is still effective; the
		 * other sets kept through the user switch, then set */
		s = VS_CREDS_BOUNDING;
		if (vs_caps_bound(c->bounding) < 0)
			goto fail;
		s = VS_CREDS_USER;
		prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
		if (c->set_user && set_user(c) < 0)
			goto fail;
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		s = VS_CREDS_SETS;
		if (set_sets(c->effective, c->inheritable, c->permitted,
			     c->ambient) < 0)
			goto fail;
	} else {
		/* the bounding set is every set of root; another user gets
		 * none of them (the kernel clears them at the switch) */
		s = VS_CREDS_BOUNDING;
		if (vs_caps_bound(c->bounding) < 0 ||
		    set_sets(c->bounding, c->bounding, c->bounding, 0) < 0)
			goto fail;
		s = VS_CREDS_USER;
		if (c->set_user && set_user(c) < 0)
			goto fail;
	}
	s = VS_CREDS_FILTER;
	if (c->no_new_privs && vs_seccomp_load(c->filter) < 0)
		goto fail;
	return 0;
fail:
	if (failed)
		*failed = s;
	return -1;
}
