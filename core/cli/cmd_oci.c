/* vs oci (also installed as vs-oci): runc's command line, so that Podman,
 * containerd's runc shim and hence Kubernetes can run containers with
 * vs.  Global options first (--root, --log, --log-format,
 * --systemd-cgroup), then the command. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "runtime/runtime.h"

struct glob {
	struct vs_oci_opts o;
	const char *log, *log_format;
};

/* "--name value" or "--name=value" at argv[*i] (long) or "-c value"
 * (short); NULL when argv[*i] is not that option. */
static const char *optval(int argc, char **argv, int *i, const char *lng,
			  const char *shrt, bool *missing)
{
	const char *a = argv[*i];
	size_t l = strlen(lng);
	if (!strncmp(a, lng, l) && a[l] == '=')
		return a + l + 1;
	if (strcmp(a, lng) && (!shrt || strcmp(a, shrt)))
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static bool flag(const char *a, const char *lng, const char *shrt)
{
	return !strcmp(a, lng) || (shrt && !strcmp(a, shrt));
}

static void log_error(const struct glob *g, const char *msg)
{
	if (!g->log)
		return;
	FILE *f = fopen(g->log, "ae");
	if (!f)
		return;
	if (g->log_format && !strcmp(g->log_format, "json")) {
		char t[64];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fputs("{\"level\":\"error\",\"msg\":", f);
		json_str(f, msg);
		fprintf(f, ",\"time\":\"%s\"}\n", t);
	} else {
		fprintf(f, "vs-oci: %s\n", msg);
	}
	fclose(f);
}

static int usage(struct vs_ctx *ctx, const char *what)
{
	vs_set_error(ctx, "oci: %s (see 'vs oci --help')", what);
	return 2;
}

static const char help[] =
    "usage: vs oci [--root DIR] [--log FILE] [--log-format text|json]\n"
    "              [--systemd-cgroup] COMMAND [options] ID ...\n"
    "  (also installed as vs-oci: the runc command line, for Podman's\n"
    "  --runtime, containerd's runc shim and a Kubernetes RuntimeClass)\n"
    "commands:\n"
    "  create [-b BUNDLE] [--pid-file F] [--console-socket S] [--no-pivot] "
    "ID\n"
    "  start ID            run the created container's process\n"
    "  run [-b BUNDLE] [-d] [--pid-file F] [--console-socket S] ID\n"
    "                      create and start (and wait, without -d)\n"
    "  state ID            the state as runtime-spec JSON\n"
    "  kill [-a] ID [SIGNAL]\n"
    "  delete [-f] ID\n"
    "  ps [-f table|json] ID\n"
    "  exec [-p PROCESS.json] [-t] [-d] [--pid-file F] [--console-socket "
    "S]\n"
    "       [--cwd D] [-e NAME=VALUE]... [-u UID[:GID]] ID [COMMAND...]\n"
    "  list [-f table|json] features  spec [-b BUNDLE]\n"
    "  --root defaults to /run/vs-oci\n";

static int do_state(struct vs_ctx *ctx, const struct glob *g, const char *id)
{
	struct vs_oci_state st;
	if (vs_oci_state(ctx, g->o.root, id, &st) < 0)
		return 1;
	char *js = vs_oci_state_json(&st);
	puts(js);
	free(js);
	return 0;
}

static int do_list(struct vs_ctx *ctx, const struct glob *g, bool json)
{
	char **ids = vs_oci_list(ctx, g->o.root);
	if (json)
		putchar('[');
	else
		printf("%-20s %-8s %-10s %-40s %s\n", "ID", "PID", "STATUS",
		       "BUNDLE", "CREATED");
	for (size_t i = 0; ids[i]; i++) {
		struct vs_oci_state st;
		if (vs_oci_state(ctx, g->o.root, ids[i], &st) < 0) {
			vs_clear_error(ctx);
			continue;
		}
		if (json) {
			char *js = vs_oci_state_json(&st);
			printf("%s%s", i ? "," : "", js);
			free(js);
		} else {
			printf("%-20s %-8d %-10s %-40s %s\n", st.id,
			       strcmp(st.status, "stopped") ? (int)st.pid : 0,
			       st.status, st.bundle, st.created);
		}
	}
	if (json)
		puts("]");
	vs_strv_free(ids);
	return 0;
}

static int do_ps(struct vs_ctx *ctx, const struct glob *g, const char *id,
		 bool json)
{
	pid_t *pids = NULL;
	size_t n = 0;
	if (vs_oci_pids(ctx, g->o.root, id, &pids, &n) < 0)
		return 1;
	if (json) {
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		puts("]");
	} else {
		puts("PID");
		for (size_t i = 0; i < n; i++)
			printf("%d\n", (int)pids[i]);
	}
	free(pids);
	return 0;
}

static int do_features(void)
{
	puts("{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\","
	     "\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\","
	     "\"startContainer\",\"poststart\",\"poststop\"],"
	     "\"mountOptions\":[\"async\",\"atime\",\"bind\",\"dev\","
	     "\"diratime\",\"dirsync\",\"exec\",\"mand\",\"noatime\","
	     "\"nodev\",\"nodiratime\",\"noexec\",\"nomand\",\"norelatime\","
	     "\"nostrictatime\",\"nosuid\",\"private\",\"rbind\",\"relatime\","
	     "\"remount\",\"ro\",\"rprivate\",\"rshared\",\"rslave\","
	     "\"runbindable\",\"rw\",\"shared\",\"slave\",\"strictatime\","
	     "\"suid\",\"sync\",\"tmpcopyup\",\"unbindable\"],"
	     "\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\","
	     "\"network\",\"pid\",\"time\",\"user\",\"uts\"],"
	     "\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,"
	     "\"systemdUser\":false},"
	     "\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\","
	     "\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\",\"SCMP_ACT_KILL_PROCESS\","
	     "\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\",\"SCMP_ACT_TRACE\","
	     "\"SCMP_ACT_TRAP\"],\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_GE\","
	     "\"SCMP_CMP_GT\",\"SCMP_CMP_LE\",\"SCMP_CMP_LT\","
	     "\"SCMP_CMP_MASKED_EQ\",\"SCMP_CMP_NE\"]},"
	     "\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false}},"
	     "\"annotations\":{\"org.vs.runtime\":\"vs-oci\"}}");
	return 0;
}

/* The spec `vs oci spec` writes: a shell in ./rootfs, the usual mounts,
 * few capabilities, the paths guests have masked and read-only too. */
static const char default_spec[] =
    "{\n"
    "  \"ociVersion\": \"1.1.0\",\n"
    "  \"process\": {\n"
    "    \"terminal\": true,\n"
    "    \"user\": {\"uid\": 0, \"gid\": 0},\n"
    "    \"args\": [\"sh\"],\n"
    "    \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:"
    "/usr/bin:/sbin:/bin\", \"TERM=xterm\"],\n"
    "    \"cwd\": \"/\",\n"
    "    \"capabilities\": {\n"
    "      \"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
    "\"CAP_NET_BIND_SERVICE\"],\n"
    "      \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
    "\"CAP_NET_BIND_SERVICE\"],\n"
    "      \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
    "\"CAP_NET_BIND_SERVICE\"]\n"
    "    },\n"
    "    \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, "
    "\"soft\": 1024}],\n"
    "    \"noNewPrivileges\": true\n"
    "  },\n"
    "  \"root\": {\"path\": \"rootfs\", \"readonly\": true},\n"
    "  \"hostname\": \"vs-oci\",\n"
    "  \"mounts\": [\n"
    "    {\"destination\": \"/proc\", \"type\": \"proc\", \"source\": "
    "\"proc\"},\n"
    "    {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": "
    "\"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", "
    "\"size=65536k\"]},\n"
    "    {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": "
    "\"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", "
    "\"ptmxmode=0666\", \"mode=0620\"]},\n"
    "    {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": "
    "\"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", "
    "\"mode=1777\", \"size=65536k\"]},\n"
    "    {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", "
    "\"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", "
    "\"nodev\"]},\n"
    "    {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": "
    "\"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
    "    {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", "
    "\"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", "
    "\"nodev\", \"relatime\", \"ro\"]}\n"
    "  ],\n"
    "  \"linux\": {\n"
    "    \"resources\": {\"devices\": [{\"allow\": false, "
    "\"access\": \"rwm\"}]},\n"
    "    \"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, "
    "{\"type\": \"ipc\"}, {\"type\": \"uts\"}, {\"type\": \"mount\"}, "
    "{\"type\": \"cgroup\"}],\n"
    "    \"maskedPaths\": %s,\n"
    "    \"readonlyPaths\": %s\n"
    "  }\n"
    "}\n";

/* A JSON array of the strings of list (NULL-terminated; plain paths:
 * nothing to escape).  The caller frees it. */
static char *json_list(const char *const *list)
{
	size_t n = 3;
	for (const char *const *p = list; *p; p++)
		n += strlen(*p) + 4;
	char *out = vs_xmalloc(n), *o = out;
	*o++ = '[';
	for (const char *const *p = list; *p; p++)
		o += sprintf(o, "%s\"%s\"", p == list ? "" : ", ", *p);
	strcpy(o, "]");
	return out;
}

static int do_spec(struct vs_ctx *ctx, const char *bundle)
{
	char *path = vs_asprintf("%s/config.json", bundle ? bundle : ".");
	char *masked = json_list(vs_masked_default),
	     *ro = json_list(vs_readonly_default),
	     *spec = vs_asprintf(default_spec, masked, ro);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int r = 0;
	if (fd < 0)
		r = vs_set_errno(ctx, errno, "cannot write '%s'", path);
	else if (!vs_write_all(fd, spec, strlen(spec)) || close(fd) < 0)
		r = vs_set_errno(ctx, errno, "cannot write '%s'", path);
	free(spec);
	free(masked);
	free(ro);
	free(path);
	return r < 0 ? 1 : 0;
}

/* --pid-file and --console-socket (create, run, exec): true when
 * argv[*i] was one of them. */
static bool io_opt(int argc, char **argv, int *i, struct glob *g, bool *miss)
{
	const char *v;
	if ((v = optval(argc, argv, i, "--pid-file", NULL, miss)))
		g->o.pid_file = v;
	else if ((v = optval(argc, argv, i, "--console-socket", NULL, miss)))
		g->o.console_socket = v;
	return v != NULL;
}

/* create and run share their options. */
static int create_opts(struct vs_ctx *ctx, struct glob *g, int argc,
		       char **argv, bool run, const char **id)
{
	*id = NULL;
	for (int i = 1; i < argc; i++) {
		bool miss = false;
		const char *v;
		if ((v = optval(argc, argv, &i, "--bundle", "-b", &miss)))
			g->o.bundle = v;
		else if (io_opt(argc, argv, &i, g, &miss))
			;
		else if ((v = optval(argc, argv, &i, "--preserve-fds", NULL,
				     &miss)) ||
			 flag(argv[i], "--no-subreaper", NULL) ||
			 flag(argv[i], "--keep", NULL))
			; /* fds beyond stdio are never passed */
		else if (flag(argv[i], "--no-new-keyring", NULL))
			g->o.no_new_keyring = true;
		else if (flag(argv[i], "--no-pivot", NULL))
			g->o.no_pivot = true;
		else if (run && flag(argv[i], "--detach", "-d"))
			g->o.detach = true;
		else if (miss)
			return usage(ctx, "an option needs a value");
		else if (argv[i][0] == '-')
			return usage(ctx, "unknown option");
		else if (!*id)
			*id = argv[i];
		else
			return usage(ctx, "one container id only");
	}
	if (!*id)
		return usage(ctx, "a container id is needed");
	return 0;
}

static int do_run(struct vs_ctx *ctx, struct glob *g, const char *id)
{
	/* in the foreground a terminal without a console socket is ours */
	int master = -1;
	if (!g->o.detach && !g->o.console_socket)
		g->o.master = &master;
	/* the container's process is a grandchild when it joins a user
	 * namespace (two stages): it comes to us to be waited for */
	if (!g->o.detach)
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	if (vs_oci_create(ctx, id, &g->o) < 0)
		return 1;
	if (vs_oci_start(ctx, id, &g->o) < 0) {
		vs_oci_delete(ctx, g->o.root, id, true);
		if (master >= 0)
			close(master);
		return 1;
	}
	if (g->o.detach)
		return 0;
	struct vs_oci_state st;
	if (vs_oci_state(ctx, g->o.root, id, &st) < 0)
		return 1;
	if (master >= 0) {
		/* our child, not yet waited for: its pid is still its own
		 * (even when it has ended, what it wrote is then read) */
		int pfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
		if (pfd >= 0) {
			vs_pty_relay(master, pfd);
			close(pfd);
		}
		close(master);
	}
	int ws = 0;
	while (waitpid(st.pid, &ws, 0) < 0 && errno == EINTR)
		;
	vs_oci_delete(ctx, g->o.root, id, true);
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int do_exec(struct vs_ctx *ctx, struct glob *g, int argc, char **argv)
{
	const char *id = NULL;
	/* the -e values, then the --cap values (one allocation) */
	char **env = vs_xmalloc(2 * (size_t)(argc + 1) * sizeof(*env));
	char **caps = env + argc + 1;
	size_t ne = 0, nc = 0;
	int i = 1, r;
	for (; i < argc && !id; i++) {
		bool miss = false;
		const char *v;
		if ((v = optval(argc, argv, &i, "--process", "-p", &miss)))
			g->o.process = v;
		else if (io_opt(argc, argv, &i, g, &miss))
			;
		else if ((v = optval(argc, argv, &i, "--cwd", NULL, &miss)))
			g->o.cwd = v;
		else if ((v = optval(argc, argv, &i, "--env", "-e", &miss)))
			env[ne++] = (char *)v;
		else if ((v = optval(argc, argv, &i, "--user", "-u", &miss)))
			g->o.user = v;
		else if ((v = optval(argc, argv, &i, "--cap", "-c", &miss)))
			caps[nc++] = (char *)v;
		else if ((v = optval(argc, argv, &i, "--preserve-fds", NULL,
				     &miss)) ||
			 (v = optval(argc, argv, &i, "--process-label", NULL,
				     &miss)) ||
			 (v = optval(argc, argv, &i, "--apparmor", NULL,
				     &miss)) ||
			 flag(argv[i], "--no-new-privs", NULL) ||
			 flag(argv[i], "--ignore-paused", NULL))
			;
		else if (flag(argv[i], "--tty", "-t"))
			g->o.tty = g->o.tty_set = true;
		else if (flag(argv[i], "--detach", "-d"))
			g->o.detach = true;
		else if (miss) {
			free(env);
			return usage(ctx, "an option needs a value");
		} else if (!strcmp(argv[i], "--")) {
			continue;
		} else if (argv[i][0] == '-') {
			free(env);
			return usage(ctx, "unknown option");
		} else {
			id = argv[i];
		}
	}
	env[ne] = NULL;
	caps[nc] = NULL;
	g->o.caps = caps;
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	g->o.args = argv + i;
	g->o.env = env;
	if (!id) {
		free(env);
		return usage(ctx, "a container id is needed");
	}
	if (!g->o.process && i >= argc) {
		free(env);
		return usage(ctx, "a command or --process is needed");
	}
	int status = 0;
	r = vs_oci_exec(ctx, id, &g->o, &status);
	free(env);
	return r < 0 ? (status ? status : 1) : status;
}

static int dispatch(struct vs_ctx *ctx, struct glob *g, int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *id = NULL;
	if (!strcmp(cmd, "create") || !strcmp(cmd, "run")) {
		bool run = !strcmp(cmd, "run");
		int u = create_opts(ctx, g, argc, argv, run, &id);
		if (u)
			return u;
		if (run)
			return do_run(ctx, g, id);
		return vs_oci_create(ctx, id, &g->o) < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "exec"))
		return do_exec(ctx, g, argc, argv);
	if (!strcmp(cmd, "features"))
		return argc == 1 ? do_features() : usage(ctx, "features takes "
							      "nothing");
	bool force = false, all = false, json = false;
	const char *sig = NULL, *bundle = NULL;
	for (int i = 1; i < argc; i++) {
		bool miss = false;
		const char *v;
		if (flag(argv[i], "--force", "-f") && !strcmp(cmd, "delete"))
			force = true;
		else if (flag(argv[i], "--all", "-a") && !strcmp(cmd, "kill"))
			all = true;
		else if ((v = optval(argc, argv, &i, "--format", "-f", &miss)))
			json = !strcmp(v, "json");
		else if ((v = optval(argc, argv, &i, "--bundle", "-b", &miss)))
			bundle = v;
		else if (flag(argv[i], "--rootless", NULL) ||
			 flag(argv[i], "--quiet", "-q"))
			;
		else if (miss)
			return usage(ctx, "an option needs a value");
		else if (argv[i][0] == '-' && strcmp(cmd, "kill"))
			return usage(ctx, "unknown option");
		else if (!id)
			id = argv[i];
		else if (!strcmp(cmd, "kill") && !sig)
			sig = argv[i];
		else
			return usage(ctx, "too many arguments");
	}
	if (!strcmp(cmd, "list"))
		return do_list(ctx, g, json);
	if (!strcmp(cmd, "spec"))
		return do_spec(ctx, bundle);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "state") ||
	    !strcmp(cmd, "kill") || !strcmp(cmd, "delete") ||
	    !strcmp(cmd, "ps")) {
		if (!id)
			return usage(ctx, "a container id is needed");
		if (!strcmp(cmd, "start"))
			return vs_oci_start(ctx, id, &g->o) < 0 ? 1 : 0;
		if (!strcmp(cmd, "state"))
			return do_state(ctx, g, id);
		if (!strcmp(cmd, "ps"))
			return do_ps(ctx, g, id, json);
		if (!strcmp(cmd, "delete"))
			return vs_oci_delete(ctx, g->o.root, id, force) < 0 ? 1
									  : 0;
		int s = sig ? vs_signal_parse(sig) : SIGTERM;
		if (s < 0)
			return usage(ctx, "unknown signal");
		return vs_oci_kill(ctx, g->o.root, id, s, all) < 0 ? 1 : 0;
	}
	vs_set_error(ctx, "oci: unknown command '%s' (see 'vs oci --help')",
		     cmd);
	return 2;
}

int cmd_oci(struct vs_ctx *ctx, struct vs_guest *guest, const char *name,
	    int argc, char **argv)
{
	(void)guest;
	(void)name;
	struct glob g;
	memset(&g, 0, sizeof(g));
	g.o.root = "/run/vs-oci";
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		bool miss = false;
		const char *v;
		if ((v = optval(argc, argv, &i, "--root", NULL, &miss)))
			g.o.root = v;
		else if ((v = optval(argc, argv, &i, "--log", NULL, &miss)))
			g.log = v;
		else if ((v = optval(argc, argv, &i, "--log-format", NULL,
				     &miss)))
			g.log_format = v;
		else if ((v = optval(argc, argv, &i, "--criu", NULL, &miss)) ||
			 (v = optval(argc, argv, &i, "--rootless", NULL,
				     &miss)) ||
			 flag(argv[i], "--debug", NULL))
			;
		else if (flag(argv[i], "--systemd-cgroup", NULL))
			g.o.systemd_cgroup = true;
		else if (flag(argv[i], "--help", "-h")) {
			fputs(help, stdout);
			return 0;
		} else if (flag(argv[i], "--version", "-v")) {
			printf("vs-oci version %s\nspec: 1.1.0\n",
			       PACKAGE_VERSION);
			return 0;
		} else if (miss)
			return usage(ctx, "an option needs a value");
		else
			return usage(ctx, "unknown global option");
	}
	if (i >= argc)
		return usage(ctx, "a command is needed");
	if (g.log_format && strcmp(g.log_format, "text") &&
	    strcmp(g.log_format, "json")) {
		vs_set_error(ctx, "oci: bad --log-format '%s': text or json",
			     g.log_format);
		return 2;
	}
	if (geteuid() != 0) {
		vs_set_error(ctx, "oci: must be run as root");
		log_error(&g, vs_error(ctx));
		return 1;
	}
	int r = dispatch(ctx, &g, argc - i, argv + i);
	if (r && vs_error(ctx)[0])
		log_error(&g, vs_error(ctx));
	return r;
}
