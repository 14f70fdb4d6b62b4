/* vs info <guest|xid|pid|-> <TAG> (util-vserver's vserver-info, the tags
 * scripts use) and vs <guest> uname (vuname). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "cli.h"

/* Features util-vserver's scripts ask about (`vserver-info - FEATURE x`)
 * that vs provides on a vanilla kernel. */
static const char *const features[] = {"migrate", "namespace", "vwait",
				       "vshelper", "iattr", "vkill",
				       "sched", "mspace", "uts", NULL};

static const char *const uts_tags[] = {"CONTEXT", "SYSNAME",  "NODENAME",
				       "RELEASE", "VERSION",  "MACHINE",
				       "DOMAINNAME", NULL};

static int uts_index(const char *t)
{
	for (int i = 0; uts_tags[i]; i++)
		if (!strcasecmp(t, uts_tags[i]))
			return i;
	return -1;
}

static const char *uts_value(const struct utsname *u, const char *cfgdir,
			     int i)
{
	const char *v[] = {cfgdir,     u->sysname, u->nodename, u->release,
			   u->version, u->machine, u->domainname};
	return v[i];
}

/* The guest of a process (host pid): the running guest whose cgroup
 * holds it; NULL when none. */
static struct vs_guest *guest_of_pid(struct vs_ctx *ctx, pid_t pid,
				     struct vs_runstate *rs)
{
	char **names = vs_guest_list(ctx);
	struct vs_guest *hit = NULL;
	for (char **n = names; n && *n && !hit; n++) {
		struct vs_guest *g = vs_guest_open(ctx, *n);
		struct vs_cgroup cg;
		if (g && vs_guest_state(g, rs) == VS_RUNNING) {
			vs_cgroup_of(g, rs, &cg);
			if (vs_cgroup_holds(&cg, pid))
				hit = g;
			vs_cgroup_free(&cg);
		}
		if (g != hit)
			vs_guest_free(g);
	}
	vs_strv_free(names);
	vs_clear_error(ctx);
	return hit;
}

static int info_global(struct vs_ctx *ctx, const char *tag, int argc,
		       char **argv)
{
	if (!strcasecmp(tag, "FEATURE")) {
		if (argc < 1)
			return vs_set_error(ctx, "info: FEATURE needs a name"),
			       2;
		for (const char *const *f = features; *f; f++)
			if (!strcmp(*f, argv[0]))
				return 0;
		return 1;
	}
	if (!strcasecmp(tag, "SYSINFO")) {
		struct utsname u;
		uname(&u);
		printf("Versions:\n"
		       "                   Kernel: %s\n"
		       "                   vs: %s (plugin ABI %d.%d)\n"
		       "                   VS-API: none (a vanilla kernel: "
		       "namespaces, cgroups)\n",
		       u.release, PACKAGE_VERSION, VS_ABI_MAJOR, VS_ABI_MINOR);
		return 0;
	}
	if (!strcasecmp(tag, "CANONIFY")) {
		if (argc < 1)
			return vs_set_error(ctx, "info: CANONIFY needs a name"),
			       2;
		for (const char *c = argv[0]; *c; c++)
			putchar(isalnum((unsigned char)*c) || strchr("._-", *c)
					? *c
					: '_');
		putchar('\n');
		return 0;
	}
	return vs_set_error(ctx, "info: '%s' needs a guest, not '-'", tag), 2;
}

int cmd_info(struct vs_ctx *ctx, struct vs_guest *unused, const char *n,
	     int argc, char **argv)
{
	(void)unused;
	(void)n;
	int i = 1;
	bool quiet = false;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "-q")) {
			quiet = true;
		} else if (!strcmp(argv[i], "-l")) {
			puts("CONTEXT ID RUNNING VDIR NAME CFGDIR APPDIR INITPID "
			     "XID UTS SYSINFO FEATURE CANONIFY XIDTYPE");
			return 0;
		} else {
			return vs_set_error(ctx, "info: unknown option '%s'",
					    argv[i]),
			       2;
		}
	}
	if (argc - i < 2)
		return vs_set_error(ctx, "info: usage: vs info [-q] "
					 "<guest|xid|pid|-> <TAG> [args]"),
		       2;
	const char *who = argv[i], *tag = argv[i + 1];
	char **rest = argv + i + 2;
	int nrest = argc - i - 2;
	if (quiet && !freopen("/dev/null", "w", stdout))
		return vs_set_errno(ctx, errno, "cannot open /dev/null"), 1;
	if (!strcmp(who, "-"))
		return info_global(ctx, tag, nrest, rest);

	/* a guest: its name or config path, a running context, or (XID,
	 * ID) a process */
	struct vs_runstate rs;
	struct vs_guest *g = NULL;
	char *end;
	long num = strtol(who, &end, 10);
	bool numeric = !*end && who[0];
	if (numeric && !strcasecmp(tag, "XID")) {
		g = guest_of_pid(ctx, (pid_t)num, &rs);
		if (!g)
			return vs_set_error(ctx, "info: process %ld is in no "
						 "running guest",
					    num),
			       1;
		printf("%u\n", rs.xid);
		vs_guest_free(g);
		return 0;
	}
	g = cmd_guest_open(ctx, who);
	if (!g)
		return 1;
	bool run = vs_guest_state(g, &rs) == VS_RUNNING;
	char real[PATH_MAX];
	int r = 0;
	if (!strcasecmp(tag, "RUNNING")) {
		if (run)
			puts("1");
		r = run ? 0 : 1;
	} else if (!strcasecmp(tag, "CONTEXT")) {
		unsigned x = run ? rs.xid : g->context;
		if (x)
			printf("%u\n", x);
		r = x ? 0 : 1;
	} else if (!strcasecmp(tag, "ID") || !strcasecmp(tag, "CFGDIR")) {
		puts(vs_host_real(ctx, g->cfgdir, real, sizeof(real)));
	} else if (!strcasecmp(tag, "NAME")) {
		puts(g->name);
	} else if (!strcasecmp(tag, "VDIR")) {
		if (g->root)
			puts(vs_host_real(ctx, g->root, real, sizeof(real)));
		r = g->root ? 0 : 1;
	} else if (!strcasecmp(tag, "APPDIR")) {
		char rel[256];
		snprintf(rel, sizeof(rel), "apps/%s", nrest ? rest[0] : "");
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "%s/%s", g->cfgdir, rel);
		struct stat st;
		if (vs_host_stat(ctx, p, &st) == 0 && S_ISDIR(st.st_mode))
			puts(vs_host_real(ctx, p, real, sizeof(real)));
		else
			r = 1;
		vs_clear_error(ctx);
	} else if (!strcasecmp(tag, "INITPID")) {
		if (run)
			printf("%d\n", (int)rs.init);
		r = run ? 0 : 1;
	} else if (!strcasecmp(tag, "XIDTYPE")) {
		unsigned x = run ? rs.xid : g->context;
		puts(!x ? "none" : g->context ? "static" : "dynamic");
	} else if (!strcasecmp(tag, "UTS")) {
		int k = nrest ? uts_index(rest[0]) : -1;
		struct utsname u;
		if (k < 0) {
			vs_set_error(ctx, "info: UTS needs one of context, "
					  "sysname, nodename, release, version, "
					  "machine, domainname");
			r = 2;
		}
		else if (!run)
			r = 1;
		else if (vs_guest_uts(g, &rs, NULL, NULL, &u) < 0)
			r = 1;
		else
			puts(uts_value(&u, vs_host_real(ctx, g->cfgdir, real,
							sizeof(real)),
				       k));
	} else {
		vs_set_error(ctx, "info: unknown tag '%s' (see 'vs info -l')",
			     tag);
		r = 2;
	}
	vs_guest_free(g);
	return r;
}

int cmd_uname(struct vs_ctx *ctx, struct vs_guest *g, const char *n, int argc,
	      char **argv)
{
	(void)n;
	bool set = false;
	const char *node = NULL, *domain = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-g") || !strcmp(argv[i], "--get")) {
			set = false;
		} else if (!strcmp(argv[i], "-s") || !strcmp(argv[i], "--set")) {
			set = true;
		} else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
			char *v = argv[++i], *eq = strchr(v, '=');
			if (!eq)
				return vs_set_error(ctx, "uname: -t needs "
							 "<tag>=<value>, not '%s'",
						    v),
				       2;
			*eq = '\0';
			int k = uts_index(v);
			if (k == 2)
				node = eq + 1;
			else if (k == 6)
				domain = eq + 1;
			else if (k < 0)
				return vs_set_error(ctx, "uname: unknown tag "
							 "'%s'",
						    v),
				       2;
			else
				return vs_set_error(
					       ctx,
					       "uname: '%s' cannot be set: a "
					       "vanilla kernel has one value for "
					       "all namespaces (nodename and "
					       "domainname can)",
					       v),
				       2;
		} else {
			return cmd_bad_option(ctx, "uname", argv[i]);
		}
	}
	if (set && !node && !domain)
		return vs_set_error(ctx, "uname: --set needs -t <tag>=<value>"),
		       2;
	struct vs_runstate rs;
	struct utsname u;
	if (vs_guest_state(g, &rs) != VS_RUNNING)
		return vs_set_error(ctx, "guest '%s' is not running", g->name),
		       1;
	if (vs_guest_uts(g, &rs, set ? node : NULL, set ? domain : NULL, &u) <
	    0)
		return 1;
	if (set)
		return 0;
	char real[PATH_MAX];
	vs_host_real(ctx, g->cfgdir, real, sizeof(real));
	const char *delim = "";
	if (i == argc) {
		for (int k = 0; uts_tags[k]; k++, delim = " ")
			printf("%s%s", delim, uts_value(&u, real, k));
	} else {
		for (; i < argc; i++, delim = " ") {
			int k = uts_index(argv[i]);
			if (k < 0)
				return vs_set_error(ctx, "uname: unknown tag "
							 "'%s'",
						    argv[i]),
				       2;
			printf("%s%s", delim, uts_value(&u, real, k));
		}
	}
	putchar('\n');
	return 0;
}
