/* vs.conf, read with libconfuse.  No libconfuse type leaves this file. */
#define _GNU_SOURCE
#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "vs-paths.h"

struct vs_conf {
	cfg_t *cfg;
};

/* libconfuse's callbacks carry no user pointer; vs is single-threaded
 * while it reads its configuration. */
static struct vs_ctx *parsing_ctx;
static const char *parsing_file;

static void conf_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (parsing_ctx && !parsing_ctx->err[0])
		vs_set_error(parsing_ctx, "%s:%d: %s", parsing_file,
			     cfg ? cfg->line : 0, msg);
}

static int validate_abs_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	if (!v || v[0] != '/') {
		cfg_error(cfg, "option '%s' must be an absolute path",
			  cfg_opt_name(opt));
		return -1;
	}
	return 0;
}

static int validate_choice(cfg_t *cfg, cfg_opt_t *opt, const char *const *ok)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	for (; v && *ok; ok++)
		if (strcmp(v, *ok) == 0)
			return 0;
	cfg_error(cfg, "invalid value '%s' for option '%s'", v ? v : "",
		  cfg_opt_name(opt));
	return -1;
}

static int validate_link(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const ok[] = {"auto", "reflink", "hardlink", NULL};
	return validate_choice(cfg, opt, ok);
}

static int validate_hash(cfg_t *cfg, cfg_opt_t *opt)
{
	/* measured on the build machine (SHA-NI): SHA-256 1.8 GB/s, BLAKE2b
	 * 0.95 GB/s per core, so the store uses SHA-256 only */
	static const char *const ok[] = {"sha256", NULL};
	return validate_choice(cfg, opt, ok);
}

static int validate_net(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const ok[] = {"host", "private", NULL};
	return validate_choice(cfg, opt, ok);
}

static int validate_net_type(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const ok[] = {"macvlan", "veth", NULL};
	return validate_choice(cfg, opt, ok);
}

static int validate_name(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, cfg_opt_size(opt) - 1);
	if (!v || !*v || strchr(v, '/') || v[0] == '.') {
		cfg_error(cfg, "option '%s' must be a plain name",
			  cfg_opt_name(opt));
		return -1;
	}
	return 0;
}

static int validate_seconds(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, cfg_opt_size(opt) - 1);
	if (v < 1 || v > 86400) {
		cfg_error(cfg, "option '%s' must be 1 to 86400 seconds, not %ld",
			  cfg_opt_name(opt), v);
		return -1;
	}
	return 0;
}

static const char *const path_keys[] = {
	"confdir", "vrootdir", "rundir",  "cachedir",
	"lockdir", "plugindir", "datadir", NULL,
};

int vs_conf_load(struct vs_ctx *ctx, const char *shown, int fd)
{
	static cfg_opt_t section_opts[] = {CFG_END()};
	static cfg_opt_t opts[] = {
		CFG_STR("confdir", NULL, CFGF_NONE),
		CFG_STR("vrootdir", NULL, CFGF_NONE),
		CFG_STR("rundir", NULL, CFGF_NONE),
		CFG_STR("cachedir", NULL, CFGF_NONE),
		CFG_STR("lockdir", NULL, CFGF_NONE),
		CFG_STR("plugindir", NULL, CFGF_NONE),
		CFG_STR("datadir", NULL, CFGF_NONE),
		CFG_STR("link", NULL, CFGF_NONE),
		CFG_STR("hash", NULL, CFGF_NONE),
		CFG_STR("cgroup_base", NULL, CFGF_NONE),
		CFG_STR("net", NULL, CFGF_NONE),
		CFG_STR("net_type", NULL, CFGF_NONE),
		CFG_INT("hook_timeout", 300, CFGF_NONE),
		CFG_SEC("plugin", section_opts,
			CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES |
				CFGF_KEYSTRVAL),
		CFG_SEC("hook", section_opts,
			CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES |
				CFGF_KEYSTRVAL),
		CFG_END(),
	};
	FILE *fp = fdopen(fd, "r");
	if (!fp) {
		int e = errno;
		close(fd);
		return vs_set_errno(ctx, e, "cannot read '%s'", shown);
	}
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		fclose(fp);
		return vs_set_error(ctx, "cannot parse '%s': out of memory",
				    shown);
	}
	cfg_set_error_function(cfg, conf_error);
	for (const char *const *k = path_keys; *k; k++)
		cfg_set_validate_func(cfg, *k, validate_abs_path);
	cfg_set_validate_func(cfg, "link", validate_link);
	cfg_set_validate_func(cfg, "hash", validate_hash);
	cfg_set_validate_func(cfg, "net", validate_net);
	cfg_set_validate_func(cfg, "net_type", validate_net_type);
	cfg_set_validate_func(cfg, "cgroup_base", validate_name);
	cfg_set_validate_func(cfg, "hook_timeout", validate_seconds);

	parsing_ctx = ctx;
	parsing_file = shown;
	vs_clear_error(ctx);
	int r = cfg_parse_fp(cfg, fp);
	parsing_ctx = NULL;
	fclose(fp);
	if (r != CFG_SUCCESS) {
		if (!ctx->err[0])
			vs_set_error(ctx, "%s: cannot parse", shown);
		cfg_free(cfg);
		return -1;
	}
	ctx->conf = vs_xmalloc(sizeof(*ctx->conf));
	ctx->conf->cfg = cfg;
	return 0;
}

void vs_conf_free(struct vs_conf *conf)
{
	if (!conf)
		return;
	cfg_free(conf->cfg);
	free(conf);
}

const char *vs_conf_str(const struct vs_ctx *ctx, const char *key)
{
	if (!ctx->conf)
		return NULL;
	return cfg_getstr(ctx->conf->cfg, key);
}

const struct vs_section *vs_plugin_section(const struct vs_ctx *ctx,
					   const char *plugin)
{
	if (!ctx->conf || cfg_size(ctx->conf->cfg, "plugin") == 0)
		return NULL;
	return (const struct vs_section *)cfg_gettsec(ctx->conf->cfg, "plugin",
						      plugin);
}

const char *vs_section_str(const struct vs_section *s, const char *key,
			   const char *def)
{
	cfg_t *sec = (cfg_t *)s;
	if (!sec)
		return def;
	for (unsigned i = 0; i < cfg_num(sec); i++) {
		cfg_opt_t *opt = cfg_getnopt(sec, i);
		if (opt && strcmp(cfg_opt_name(opt), key) == 0) {
			const char *v = cfg_opt_getstr(opt);
			return v ? v : def;
		}
	}
	return def;
}

const struct vs_section *vs_hook_section(const struct vs_ctx *ctx,
					 const char *plugin)
{
	if (!ctx->conf || cfg_size(ctx->conf->cfg, "hook") == 0)
		return NULL;
	return (const struct vs_section *)cfg_gettsec(ctx->conf->cfg, "hook",
						      plugin);
}

static int apply_path(struct vs_ctx *ctx, const char *key, char **slot)
{
	const char *v = vs_conf_str(ctx, key);
	if (!v)
		return 0;
	free(*slot);
	*slot = vs_strdup(v);
	/* strip trailing slashes, keep "/" */
	for (size_t n = strlen(*slot); n > 1 && (*slot)[n - 1] == '/'; n--)
		(*slot)[n - 1] = '\0';
	return 0;
}

int vs_ctx_configure(struct vs_ctx *ctx, const char *file)
{
	int fd;
	struct stat st;
	char real[PATH_MAX];

	if (ctx->rootfd < 0 && vs_ctx_set_sysroot(ctx, "/") < 0)
		return -1;
	if (file) {
		/* given on the command line: a real path */
		fd = open(file, O_RDONLY | O_CLOEXEC);
		snprintf(real, sizeof(real), "%s", file);
	} else {
		file = VS_SYSCONFDIR "/vs.conf";
		fd = vs_host_open(ctx, file, O_RDONLY, 0);
		vs_host_real(ctx, file, real, sizeof(real));
		if (fd < 0 && errno == ENOENT &&
		    vs_host_lstat(ctx, file, &st) < 0) {
			ctx->conffile = vs_strdup(file);
			return 0; /* no vs.conf: built-in defaults */
		}
	}
	if (fd < 0)
		return vs_set_errno(ctx, errno, "cannot read '%s'", real);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		close(fd);
		return vs_set_errno(ctx, e, "cannot read '%s'", real);
	}
	ctx->conffile = vs_strdup(file);
	ctx->conf_loaded = true;
	if (vs_conf_load(ctx, real, fd) < 0)
		return -1;
	ctx->conf_free = vs_conf_free;
	ctx->hook_timeout = (int)cfg_getint(ctx->conf->cfg, "hook_timeout");
	static const char *const keys[] = {
		[VS_PATH_CONFDIR] = "confdir", [VS_PATH_VROOTDIR] = "vrootdir",
		[VS_PATH_RUNDIR] = "rundir",   [VS_PATH_CACHEDIR] = "cachedir",
		[VS_PATH_LOCKDIR] = "lockdir",
	};
	for (size_t i = 0; i <= VS_PATH_LOCKDIR; i++)
		apply_path(ctx, keys[i], &ctx->paths[i]);
	if (vs_conf_str(ctx, "plugindir"))
		vs_ctx_set_plugindir(ctx, vs_conf_str(ctx, "plugindir"));
	if (vs_conf_str(ctx, "datadir"))
		vs_ctx_set_datadir(ctx, vs_conf_str(ctx, "datadir"));
	return 0;
}
