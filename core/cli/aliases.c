/* util-vserver's command names: each is the vs binary under another name
 * (a link), its command line rewritten into vs's.  vs <verb> stays the
 * primary interface; these keep an administrator's scripts working. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* An argv being built: vs's own argv[0] first. */
struct args {
	char **v;
	int n, cap;
};

static void add(struct args *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = vs_xrealloc(a->v, (size_t)a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

static void add_all(struct args *a, int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		add(a, argv[i]);
}

/* Usage errors print here: the alias has no vs_ctx yet. */
static int usage(const char *prog, const char *what)
{
	fprintf(stderr, "%s: %s (see '%s --help')\n", prog, what, prog);
	return 2;
}

/* name [prefix...] rest: the simple renames. */
static const struct {
	const char *name, *verb, *arg;
} renames[] = {
	{"start-vservers", "autostart", "--start"},
	{"stop-vservers", "autostart", "--stop"},
	{"showattr", "attr", "show"},
	{"setattr", "attr", "set"},
	{"vserver-stat", "stat", NULL},
	{"vps", "ps", NULL},
	{"vpstree", "ps", "axf"},
	{"vnamespace", "namespace", NULL},
	{"vserver-info", "info", NULL},
	{"vs-systemd-generator", "systemd-generator", NULL},
	{"vtop", "top", NULL},
	{"vs-oci", "oci", NULL},
};

/* vkill, vlimit, vsched, vuname, vmount: [--xid|-c <xid>] ... ->
 * vs <xid> <verb> ...; vwait: [options] <xid> -> vs <xid> wait [options]. */
static const struct {
	const char *name, *verb;
} per_xid[] = {
	{"vkill", "kill"},     {"vlimit", "limit"}, {"vsched", "sched"},
	{"vuname", "uname"},   {"vmount", "mount"}, {"vdlimit", "dlimit"},
	{"vdu", "du"},
};

static int xid_first(struct args *a, const char *prog, const char *verb,
		     int argc, char **argv)
{
	const char *xid = NULL;
	struct args rest = {0};
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			/* vmount [--xid <xid>] -- <mount arguments> */
			int from = strcmp(verb, "mount") ? i : i + 1;
			add_all(&rest, argc - from, argv + from);
			break;
		}
		if (!strcmp(argv[i], "--xid") || !strcmp(argv[i], "-c") ||
		    !strcmp(argv[i], "--ctx")) {
			if (i + 1 >= argc)
				return free(rest.v), usage(prog, "--xid needs a "
								 "context");
			xid = argv[++i];
		} else if (!strncmp(argv[i], "--xid=", 6)) {
			xid = argv[i] + 6;
		} else {
			add(&rest, argv[i]);
		}
	}
	if (!xid && !strcmp(verb, "wait") && rest.n) {
		/* vwait [options] <xid> */
		xid = rest.v[--rest.n];
		rest.v[rest.n] = NULL;
	}
	if (!xid)
		return free(rest.v), usage(prog, "no context given (--xid)");
	add(a, xid);
	add(a, verb);
	add_all(a, rest.n, rest.v);
	free(rest.v);
	return 0;
}

/* vunify [-Rnvx] <vserver> | vunify --manually ...; vhashify likewise:
 * the guest (the last argument) comes first for vs. */
static int guest_last(struct args *a, const char *prog, const char *verb,
		      int argc, char **argv)
{
	bool manual = false;
	for (int i = 1; i < argc; i++)
		manual |= !strcmp(argv[i], "--manually") ||
			  !strcmp(argv[i], "--gc") ||
			  !strcmp(argv[i], "--verify") ||
			  !strcmp(argv[i], "--migrate") ||
			  !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h");
	if (manual) {
		add(a, verb);
		add_all(a, argc - 1, argv + 1);
		return 0;
	}
	if (argc < 2 || argv[argc - 1][0] == '-')
		return usage(prog, "no guest given");
	add(a, argv[argc - 1]);
	add(a, verb); /* -R (revert) is the plugin's own option too */
	add_all(a, argc - 2, argv + 1);
	return 0;
}

/* vserver [--silent] [-s|--sync] [-v] [--debug] [--defaulttty] [--]
 *         <guest> <command> [args]
 * (util-vserver's scripts/vserver): the commands become vs's verbs. */
static int vserver(struct args *a, const char *prog, int argc, char **argv)
{
	bool silent = false, sync = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--")) {
			i++;
			break;
		}
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			printf("usage: %s [--silent] [--sync] [--verbose] "
			       "[--debug] [--defaulttty] <guest> <command> "
			       "[args]\n"
			       "commands: start stop restart condrestart "
			       "suexec exec enter chkconfig running status\n"
			       "          build delete unify hashify (vs's "
			       "verbs: 'vs help')\n",
			       prog);
			return -2;
		}
		if (!strcmp(o, "--version")) {
			add(a, "--version");
			return 0;
		}
		if (!strcmp(o, "--silent"))
			silent = true;
		else if (!strcmp(o, "-s") || !strcmp(o, "--sync"))
			sync = true;
		else if (!strcmp(o, "-v") || !strcmp(o, "--verbose") ||
			 !strcmp(o, "--debug"))
			add(a, "-v");
		else if (!strcmp(o, "--defaulttty") ||
			 !strcmp(o, "----nonamespace"))
			; /* the console is the guest's own pty anyway */
		else {
			char what[256];
			snprintf(what, sizeof(what), "unknown option '%s'", o);
			return usage(prog, what);
		}
	}
	if (argc - i < 2)
		return usage(prog, argc - i ? "no command given"
					    : "no guest given");
	const char *g = argv[i], *c = argv[i + 1];
	char **rest = argv + i + 2;
	int nrest = argc - i - 2;
	add(a, g);
	if (!strcmp(c, "exec")) {
		add(a, "exec");
		add(a, "--");
	} else if (!strcmp(c, "chkconfig")) {
		add(a, "exec");
		add(a, "--");
		add(a, "chkconfig");
	} else if (!strcmp(c, "apt-get") || !strcmp(c, "apt-config") ||
		   !strcmp(c, "apt-cache") || !strcmp(c, "rpm") ||
		   !strcmp(c, "yum") || !strcmp(c, "dnf")) {
		/* the guest's own tool, inside it: the host's run against a
		 * guest root would read the guest's configuration (hooks,
		 * scriptlets) as the host's root */
		add(a, "exec");
		add(a, "--");
		add(a, c);
	} else if (!strcmp(c, "pkg") || !strcmp(c, "pkgmgmt")) {
		fprintf(stderr,
			"%s: '%s' is not supported: run the guest's package "
			"manager inside it ('vs %s exec apt-get ...', 'vs %s "
			"exec rpm ...')\n",
			prog, c, g, g);
		return 2;
	} else {
		add(a, c);
		if (sync && (!strcmp(c, "start") || !strcmp(c, "stop") ||
			     !strcmp(c, "restart") || !strcmp(c, "condrestart")))
			add(a, "--sync");
		if (silent && !strcmp(c, "delete"))
			add(a, "--yes");
		if (silent && !strcmp(c, "status"))
			add(a, "--silent");
	}
	add_all(a, nrest, rest);
	return 0;
}

/* vshelper <xid> <event> [args]: what the VServer kernel asked of
 * util-vserver when a guest rebooted or halted; vs's monitor does this
 * itself, and this name stays for scripts that call it. */
static int vshelper(struct args *a, const char *prog, int argc, char **argv)
{
	if (argc < 3)
		return usage(prog, "usage: vshelper <context> <event>");
	const char *ev = argv[2], *verb = NULL;
	if (!strcmp(ev, "restart") || !strcmp(ev, "reboot"))
		verb = "restart";
	else if (!strcmp(ev, "halt") || !strcmp(ev, "poweroff"))
		verb = "stop";
	else if (!strcmp(ev, "startup") || !strcmp(ev, "shutdown"))
		return -2; /* notifications: nothing to do */
	else {
		char what[160];
		snprintf(what, sizeof(what), "unknown event '%s' (restart, "
					     "halt, poweroff, startup, "
					     "shutdown)",
			 ev);
		return usage(prog, what);
	}
	add(a, argv[1]);
	add(a, verb);
	return 0;
}

/* The verb a name stands for (for its -h), or NULL. */
static const char *verb_of(const char *base)
{
	for (size_t k = 0; k < sizeof(renames) / sizeof(*renames); k++)
		if (!strcmp(base, renames[k].name))
			return renames[k].verb;
	for (size_t k = 0; k < sizeof(per_xid) / sizeof(*per_xid); k++)
		if (!strcmp(base, per_xid[k].name))
			return per_xid[k].verb;
	static const struct {
		const char *name, *verb;
	} other[] = {{"vwait", "wait"},	    {"vunify", "unify"},
		     {"vhashify", "hashify"}, {"vshelper", "restart"}};
	for (size_t k = 0; k < sizeof(other) / sizeof(*other); k++)
		if (!strcmp(base, other[k].name))
			return other[k].verb;
	return NULL;
}

bool cmd_alias_argv(const char *base, int argc, char **argv, char ***out,
		    int *status)
{
	struct args a = {0};
	add(&a, argv[0]);
	int r = -1;
	/* every name answers -h, --help (its verb's usage) and --version;
	 * vs-oci answers them as runc does, with its own */
	const char *verb = verb_of(base);
	if (verb && argc == 2 && strcmp(base, "vs-oci") &&
	    (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	     !strcmp(argv[1], "--version"))) {
		if (!strcmp(argv[1], "--version")) {
			add(&a, "--version");
		} else {
			add(&a, "help");
			add(&a, verb);
		}
		*out = a.v;
		return true;
	}
	for (size_t k = 0; k < sizeof(renames) / sizeof(*renames) && r < 0;
	     k++) {
		if (strcmp(base, renames[k].name))
			continue;
		add(&a, renames[k].verb);
		if (renames[k].arg)
			add(&a, renames[k].arg);
		add_all(&a, argc - 1, argv + 1);
		r = 0;
	}
	for (size_t k = 0; k < sizeof(per_xid) / sizeof(*per_xid) && r < 0;
	     k++)
		if (!strcmp(base, per_xid[k].name))
			r = xid_first(&a, base, per_xid[k].verb, argc, argv);
	if (r < 0 && !strcmp(base, "vwait"))
		r = xid_first(&a, base, "wait", argc, argv);
	if (r < 0 && !strcmp(base, "vunify"))
		r = guest_last(&a, base, "unify", argc, argv);
	if (r < 0 && !strcmp(base, "vhashify"))
		r = guest_last(&a, base, "hashify", argc, argv);
	if (r < 0 && !strcmp(base, "vserver"))
		r = vserver(&a, base, argc, argv);
	if (r < 0 && !strcmp(base, "vshelper"))
		r = vshelper(&a, base, argc, argv);
	*out = NULL;
	if (r == -1) { /* not one of ours */
		free(a.v);
		return false;
	}
	if (r != 0) { /* finished: help (-2) or a usage error */
		free(a.v);
		*status = r == -2 ? 0 : r;
		return true;
	}
	*out = a.v;
	return true;
}
