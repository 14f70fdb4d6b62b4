/* The node and domain name: set by a guest's init or a container's
 * process in its own UTS namespace, and a running guest's (vuname) read
 * and changed from a child that joins only that namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/runtime.h"

int vs_uts_set(struct vs_ctx *ctx, const char *nodename,
	       const char *domainname)
{
	if (nodename && sethostname(nodename, strlen(nodename)) < 0)
		return vs_set_errno(ctx, errno, "cannot set the host name '%s'",
				    nodename);
	if (domainname && setdomainname(domainname, strlen(domainname)) < 0)
		return vs_set_errno(ctx, errno, "cannot set the domain name "
						"'%s'",
				    domainname);
	return 0;
}

int vs_guest_uts(struct vs_guest *g, const struct vs_runstate *rs,
		 const char *nodename, const char *domainname,
		 struct utsname *out)
{
	struct vs_ctx *ctx = g->ctx;
	int fd = vs_pidfd_open(rs->init, rs->init_start);
	if (fd < 0)
		return vs_set_error(ctx, "guest '%s' is not running", g->name);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(fd);
		return vs_set_errno(ctx, errno, "cannot create a pipe");
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		struct utsname u;
		int e = 0;
		if (setns(fd, CLONE_NEWUTS) < 0 ||
		    (nodename && sethostname(nodename, strlen(nodename)) < 0) ||
		    (domainname &&
		     setdomainname(domainname, strlen(domainname)) < 0) ||
		    uname(&u) < 0)
			e = errno;
		if (write(p[1], &e, sizeof(e)) != sizeof(e) ||
		    (!e && write(p[1], &u, sizeof(u)) != sizeof(u)))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	close(fd);
	int e = pid < 0 ? errno : EIO, r = -1;
	if (pid > 0 && read(p[0], &e, sizeof(e)) == sizeof(e) && !e &&
	    read(p[0], out, sizeof(*out)) == sizeof(*out))
		r = 0;
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	if (r < 0)
		return vs_set_errno(ctx, e, "cannot %s the uname of guest '%s'",
				    nodename || domainname ? "set" : "read",
				    g->name);
	return 0;
}
