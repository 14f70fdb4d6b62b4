/* sysvinit's control channel, /run/initctl, for guests whose PID 1 is the
 * stub init of style sysv (rc scripts without an init of their own):
 * `reboot`, `halt`, `shutdown` and `telinit N` inside the guest write a
 * runlevel request there, and the stub runs `rc N`, whose last script
 * calls reboot(2) (rc 6) or halt (rc 0), as under sysvinit.
 *
 * The runlevel is recorded in the guest's utmp as sysvinit does (what
 * `runlevel` and `reboot` read).
 *
 * The FIFO is the guest's: it is made by the guest's PID 1 inside its
 * root, root's only, and a request reaches nothing but the guest's own
 * rc scripts. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "runtime/runtime.h"

#define INITCTL "/run/initctl"
#define INIT_MAGIC 0x03091969
#define INIT_CMD_RUNLVL 1

/* sysvinit's struct init_request (initreq.h): 384 bytes. */
struct init_request {
	int magic;
	int cmd;
	int runlevel;
	int sleeptime;
	char data[368];
};

int vs_initctl_open(void)
{
	struct stat st;
	if (stat("/run", &st) < 0 || !S_ISDIR(st.st_mode))
		return -1; /* no /run: no channel (a minimal guest) */
	unlink(INITCTL);
	if (mkfifo(INITCTL, 0600) < 0)
		return -1;
	/* read and write: the FIFO never reports EOF between writers */
	return open(INITCTL, O_RDWR | O_NONBLOCK | O_CLOEXEC);
}

int vs_initctl_read(int fd)
{
	struct init_request req;
	ssize_t n = read(fd, &req, sizeof(req));
	if (n != (ssize_t)sizeof(req) || req.magic != INIT_MAGIC ||
	    req.cmd != INIT_CMD_RUNLVL)
		return 0;
	int l = req.runlevel;
	if ((l >= '0' && l <= '6') || l == 'S' || l == 's')
		return l == 's' ? 'S' : l;
	return 0;
}

void vs_initctl_record(char prev, char cur)
{
	struct utmpx u;
	memset(&u, 0, sizeof(u));
	u.ut_type = RUN_LVL;
	u.ut_pid = (unsigned char)cur + 256 * (unsigned char)prev;
	memcpy(u.ut_id, "~~", 2);
	memcpy(u.ut_line, "~", 1);
	memcpy(u.ut_user, "runlevel", 8);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	u.ut_tv.tv_sec = (int32_t)tv.tv_sec;
	u.ut_tv.tv_usec = (int32_t)tv.tv_usec;
	/* made when missing (the guest's boot scripts did not run yet) */
	int fd = open(_PATH_UTMPX, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
		      0664);
	if (fd >= 0)
		close(fd);
	setutxent();
	pututxline(&u);
	endutxent();
}
