/* Hook plugin "vshelper": what happens when a guest reboots or halts
 * (COMPAT §5).  The monitor hands over the events "restart" (reboot(2)
 * with RB_AUTOBOOT) and "halt" (halt and power-off: a vanilla kernel ends
 * the namespace's init with SIGINT for both) with the arguments
 * "<event> <guest> <xid>", after the guest has been cleaned up.
 *
 * Disabled by apps/vshelper/disabled per guest or in .defaults.  The
 * handler is, first found: an executable apps/vshelper/<event>, the first
 * line of apps/vshelper/action, the same two in .defaults, else the
 * built-in method "restart".  Methods: "restart" (restart on a restart
 * event, stay stopped on halt), "stop" or "halt" (stay stopped), any other
 * name runs vshelper-methods/<name> (per guest, then .defaults) with the
 * arguments "<xid> <event>" and VSERVER set to the guest's name.
 * apps/vshelper/restart-limit ("<count> <seconds>", default "5 60") stops
 * a guest that reboots in a loop. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vs/plugin.h>

#define VSH_PATH 4096

static int vshelper_executable(struct vs_ctx *ctx, const char *path)
{
	struct stat st;
	return vs_host_stat(ctx, path, &st) == 0 && S_ISREG(st.st_mode) &&
	       (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
}

/* First line of a host file into buf; 1 when read. */
static int vshelper_line(struct vs_ctx *ctx, const char *path, char *buf,
			 size_t size)
{
	int fd = vs_host_open(ctx, path, O_RDONLY, 0);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] != '\0';
}

/* Runs an executable with "<xid> <event>" and VSERVER in the
 * environment; logs what happened. */
static int vshelper_run(struct vs_ctx *ctx, struct vs_guest *g,
			const char *path, const char *xid, const char *event)
{
	char real[VSH_PATH];
	vs_host_real(ctx, path, real, sizeof(real));
	char *argv[] = {real, (char *)xid, (char *)event, NULL};
	setenv("VSERVER", vs_guest_name(g), 1);
	int status = vs_host_run(ctx, path, argv, NULL);
	unsetenv("VSERVER");
	if (status < 0) {
		vs_log(ctx, "vshelper: %s", vs_error(ctx));
		return -1;
	}
	vs_log(ctx, "vshelper: '%s %s %s' exited with status %d", real, xid,
	       event, status);
	return 0;
}

/* Counts this restart; 0 when it is allowed, -1 when the guest restarted
 * too often (the restart-limit window). */
static int vshelper_rate(struct vs_ctx *ctx, struct vs_guest *g)
{
	char cfg[VSH_PATH], line[128], state[VSH_PATH];
	long limit = 5, window = 60;
	if (vs_guest_cfg_find(g, "apps/vshelper/restart-limit", NULL, cfg,
			      sizeof(cfg)) == 1 &&
	    vshelper_line(ctx, cfg, line, sizeof(line)))
		sscanf(line, "%ld %ld", &limit, &window);
	snprintf(state, sizeof(state), "%s/.vshelper-%s",
		 vs_path(ctx, VS_PATH_RUNDIR), vs_guest_name(g));
	int fd = vs_host_open(ctx, state, O_RDWR | O_CREAT | O_NOFOLLOW, 0600);
	if (fd < 0)
		return 0; /* no state: never refuse a restart for that */
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	time_t now = time(NULL);
	char out[4096];
	size_t len = 0;
	long count = 0;
	for (char *save = NULL, *t = strtok_r(buf, "\n", &save); t;
	     t = strtok_r(NULL, "\n", &save)) {
		long long when = atoll(t);
		if (now - when < window && len < sizeof(out) - 32) {
			len += (size_t)snprintf(out + len, sizeof(out) - len,
						"%lld\n", when);
			count++;
		}
	}
	int allowed = count < limit;
	if (allowed)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%lld\n",
					(long long)now);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, out, len, 0) < 0)
		allowed = 1;
	close(fd);
	if (!allowed)
		vs_log(ctx,
		       "vshelper: guest '%s' restarted %ld times in %ld s: "
		       "not restarting it again (apps/vshelper/restart-limit)",
		       vs_guest_name(g), count, window);
	return allowed ? 0 : -1;
}

static int vshelper_method(struct vs_ctx *ctx, struct vs_guest *g,
			   const char *method, const char *xid,
			   const char *event)
{
	if (!strcmp(method, "restart")) {
		if (strcmp(event, "restart") != 0) {
			vs_log(ctx, "vshelper: guest '%s' halted: it stays "
				    "stopped",
			       vs_guest_name(g));
			return 0;
		}
		if (vshelper_rate(ctx, g) < 0)
			return 0;
		vs_log(ctx, "vshelper: restarting guest '%s'", vs_guest_name(g));
		vs_guest_request_restart(g);
		return 0;
	}
	if (!strcmp(method, "stop") || !strcmp(method, "halt")) {
		vs_log(ctx, "vshelper: guest '%s' stays stopped (method '%s')",
		       vs_guest_name(g), method);
		return 0;
	}
	char path[VSH_PATH];
	snprintf(path, sizeof(path), "%s/apps/vshelper-methods/%s",
		 vs_guest_cfgdir(g), method);
	if (!strchr(method, '/') && vshelper_executable(ctx, path))
		return vshelper_run(ctx, g, path, xid, event);
	snprintf(path, sizeof(path), "%s/.defaults/apps/vshelper-methods/%s",
		 vs_path(ctx, VS_PATH_CONFDIR), method);
	if (!strchr(method, '/') && vshelper_executable(ctx, path))
		return vshelper_run(ctx, g, path, xid, event);
	vs_log(ctx,
	       "vshelper: method '%s' of guest '%s' not found (looked in "
	       "apps/vshelper-methods/ of the guest and of .defaults)",
	       method, vs_guest_name(g));
	return vs_set_error(ctx, "vshelper: method '%s' not found", method);
}

static int vshelper_event(struct vs_ctx *ctx, struct vs_guest *g,
			  const char *event, int argc, char **argv)
{
	if (strcmp(event, "restart") != 0 && strcmp(event, "halt") != 0 &&
	    strcmp(event, "poweroff") != 0)
		return 0;
	char xid[32], path[VSH_PATH], line[256];
	if (argc > 2)
		snprintf(xid, sizeof(xid), "%s", argv[2]);
	else
		snprintf(xid, sizeof(xid), "%u", vs_guest_context(g));
	vs_log(ctx, "vshelper %s %s (guest '%s')", xid, event,
	       vs_guest_name(g));
	if (vs_guest_cfg_find(g, "apps/vshelper/disabled", NULL, path,
			      sizeof(path))) {
		vs_log(ctx, "vshelper: disabled for guest '%s' ('%s'): it "
			    "stays stopped",
		       vs_guest_name(g), path);
		return 0;
	}
	const char *bases[] = {vs_guest_cfgdir(g), NULL};
	char defaults[VSH_PATH];
	snprintf(defaults, sizeof(defaults), "%s/.defaults",
		 vs_path(ctx, VS_PATH_CONFDIR));
	bases[1] = defaults;
	for (int i = 0; i < 2; i++) {
		/* halt and power-off look the same on a vanilla kernel */
		const char *names[] = {event, !strcmp(event, "halt") ? "poweroff"
								    : NULL};
		for (int k = 0; k < 2 && names[k]; k++) {
			snprintf(path, sizeof(path), "%s/apps/vshelper/%s",
				 bases[i], names[k]);
			if (vshelper_executable(ctx, path))
				return vshelper_run(ctx, g, path, xid, event);
		}
		snprintf(path, sizeof(path), "%s/apps/vshelper/action", bases[i]);
		if (vshelper_line(ctx, path, line, sizeof(line)))
			return vshelper_method(ctx, g, line, xid, event);
	}
	return vshelper_method(ctx, g, "restart", xid, event);
}

static const struct vs_hook_ops vshelper_ops = {
	.event = vshelper_event,
};

VS_PLUGIN_DEFINE(vshelper, VS_KIND_HOOK, "1.0",
		 "restarts or stops guests that reboot or halt (util-vserver's "
		 "vshelper)",
		 &vshelper_ops, NULL);
