/* vs.conf reading and the precedence rules of COMPAT §1.4. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cu.h"

static int load(struct vs_ctx *ctx, const char *text)
{
	tmp_put("vs.conf", text);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/vs.conf", tmp_root());
	vs_clear_error(ctx);
	return vs_ctx_configure(ctx, path);
}

static void test_conf_ok(void)
{
	struct vs_ctx *ctx = tmp_ctx();
	CU_ASSERT_EQUAL(load(ctx, "# comment\n"
				  "confdir = \"/srv/conf/\"\n"
				  "vrootdir = \"/srv/guests\"\n"
				  "link = \"hardlink\"\n"
				  "plugin \"debootstrap\" {\n"
				  "  backend = \"mmdebstrap\"\n"
				  "}\n"),
			0);
	CU_ASSERT_STRING_EQUAL(vs_path(ctx, VS_PATH_CONFDIR), "/srv/conf");
	CU_ASSERT_STRING_EQUAL(vs_path(ctx, VS_PATH_VROOTDIR), "/srv/guests");
	CU_ASSERT_STRING_EQUAL(vs_conf_str(ctx, "link"), "hardlink");
	const struct vs_section *sec = vs_plugin_section(ctx, "debootstrap");
	CU_ASSERT_PTR_NOT_NULL(sec);
	CU_ASSERT_STRING_EQUAL(vs_section_str(sec, "backend", "x"),
			       "mmdebstrap");
	CU_ASSERT_STRING_EQUAL(vs_section_str(sec, "missing", "dflt"), "dflt");
	CU_ASSERT_PTR_NULL(vs_plugin_section(ctx, "nosuch"));
	CU_ASSERT_STRING_EQUAL(vs_section_str(NULL, "k", "d"), "d");
	vs_ctx_free(ctx);
}

static void expect_conf_error(const char *text, const char *fragment)
{
	struct vs_ctx *ctx = tmp_ctx();
	CU_ASSERT_EQUAL(load(ctx, text), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), fragment));
	if (!strstr(vs_error(ctx), fragment))
		fprintf(stderr, "\n  got '%s'\n", vs_error(ctx));
	vs_ctx_free(ctx);
}

static void test_conf_errors(void)
{
	expect_conf_error("confdir = \"/a\"\nbogus = 1\n",
			  "/vs.conf:2: no such option 'bogus'");
	expect_conf_error("\n\nlink = \"copy\"\n",
			  "/vs.conf:3: invalid value 'copy' for option 'link'");
	expect_conf_error("vrootdir = \"relative\"\n",
			  "/vs.conf:1: option 'vrootdir' must be an absolute path");
	expect_conf_error("hash = \"md5\"\n", "invalid value 'md5'");
	expect_conf_error("confdir = \"/a\"\n= \"x\"\n", "/vs.conf:2:");
}

static void test_conf_missing(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	/* the default location, missing: built-in defaults */
	CU_ASSERT_EQUAL(vs_ctx_configure(ctx, NULL), 0);
	CU_ASSERT_FALSE(ctx->conf_loaded);
	/* given explicitly but missing, or a directory: cannot read */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nope.conf", tmp_root());
	CU_ASSERT_EQUAL(vs_ctx_configure(ctx, path), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "cannot read"));
	tmp_put("dir.conf", NULL);
	snprintf(path, sizeof(path), "%s/dir.conf", tmp_root());
	CU_ASSERT_EQUAL(vs_ctx_configure(ctx, path), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "Is a directory"));
	vs_ctx_free(ctx);
}

static struct vs_guest *guest(struct vs_ctx *ctx, const char *name)
{
	char rel[256];
	snprintf(rel, sizeof(rel), "etc/vservers/%s/vdir", name);
	tmp_link(rel, "/vservers/x");
	tmp_put("vservers/x", NULL);
	struct vs_guest *g = vs_guest_open(ctx, name);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
	return g;
}

static void test_first_wins(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	struct vs_guest *g = guest(ctx, "g");
	char buf[PATH_MAX];
	/* shipped default only */
	CU_ASSERT_EQUAL(vs_guest_cfg_find(g, "apps/init/environment",
					  "environment", buf, sizeof(buf)),
			2);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "conf.d/defaults/environment"));
	/* .defaults beats the shipped default */
	tmp_put("etc/vservers/.defaults/apps/init/environment", "A=1\n");
	CU_ASSERT_EQUAL(vs_guest_cfg_find(g, "apps/init/environment",
					  "environment", buf, sizeof(buf)),
			1);
	CU_ASSERT_STRING_EQUAL(buf,
			       "/etc/vservers/.defaults/apps/init/environment");
	/* per-guest beats .defaults, without merging */
	tmp_put("etc/vservers/g/apps/init/environment", "B=2\n");
	CU_ASSERT_EQUAL(vs_guest_cfg_find(g, "apps/init/environment",
					  "environment", buf, sizeof(buf)),
			1);
	CU_ASSERT_STRING_EQUAL(buf, "/etc/vservers/g/apps/init/environment");
	/* none anywhere */
	CU_ASSERT_EQUAL(vs_guest_cfg_find(g, "apps/vshelper/action", NULL, buf,
					  sizeof(buf)),
			0);
	/* first line reader */
	tmp_put("etc/vservers/g/apps/init/style", "plain\nignored\n");
	CU_ASSERT_EQUAL(vs_guest_cfg_line(g, "apps/init/style", buf,
					  sizeof(buf)),
			1);
	CU_ASSERT_STRING_EQUAL(buf, "plain");
	CU_ASSERT_EQUAL(vs_guest_cfg_line(g, "nope", buf, sizeof(buf)), 0);
	vs_guest_free(g);
	vs_ctx_free(ctx);
}

static void test_or_flags(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	struct vs_guest *g = guest(ctx, "g");
	CU_ASSERT_EQUAL(vs_guest_flag_or(g, "nonamespace", "namespace"), 0);
	tmp_put("etc/vservers/.defaults/nonamespace", "");
	CU_ASSERT_EQUAL(vs_guest_flag_or(g, "nonamespace", "namespace"), 1);
	tmp_put("etc/vservers/g/namespace", "");
	CU_ASSERT_EQUAL(vs_guest_flag_or(g, "nonamespace", "namespace"), 0);
	/* per-guest alone also disables (either side) */
	struct vs_guest *h = guest(ctx, "h");
	CU_ASSERT_EQUAL(vs_guest_flag_or(h, "apps/vshelper/disabled", NULL), 0);
	tmp_put("etc/vservers/h/apps/vshelper/disabled", "");
	CU_ASSERT_EQUAL(vs_guest_flag_or(h, "apps/vshelper/disabled", NULL), 1);
	vs_guest_free(g);
	vs_guest_free(h);
	vs_ctx_free(ctx);
}

static void test_rule_c(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	struct vs_guest *g = guest(ctx, "g");
	CU_ASSERT_EQUAL(vs_guest_pkgmgmt(g), 1); /* built-in default: on */
	tmp_put("etc/vservers/.defaults/apps/vunify/pkgmgmt-force", "");
	CU_ASSERT_EQUAL(vs_guest_pkgmgmt(g), 1);
	tmp_put("etc/vservers/.defaults/apps/vunify/pkgmgmt-ignore", "");
	CU_ASSERT_EQUAL(vs_guest_pkgmgmt(g), 0); /* .defaults ignore > force */
	tmp_put("etc/vservers/g/apps/vunify/pkgmgmt-force", "");
	CU_ASSERT_EQUAL(vs_guest_pkgmgmt(g), 1); /* per-guest force wins */
	tmp_put("etc/vservers/g/apps/vunify/pkgmgmt-ignore", "");
	CU_ASSERT_EQUAL(vs_guest_pkgmgmt(g), 0); /* per-guest ignore first */
	vs_guest_free(g);
	vs_ctx_free(ctx);
}

static void test_guest_lookup(void)
{
	tmp_cleanup();
	struct vs_ctx *ctx = tmp_ctx();
	struct vs_guest *g = guest(ctx, "web");
	CU_ASSERT_STRING_EQUAL(vs_guest_name(g), "web");
	CU_ASSERT_STRING_EQUAL(vs_guest_cfgdir(g), "/etc/vservers/web");
	CU_ASSERT_STRING_EQUAL(vs_guest_root(g), "/vservers/x");
	CU_ASSERT_EQUAL(vs_guest_context(g), 0);
	vs_guest_free(g);
	/* trailing slash, and by config-dir path */
	g = vs_guest_open(ctx, "web/");
	CU_ASSERT_PTR_NOT_NULL(g);
	vs_guest_free(g);
	g = vs_guest_open(ctx, "/etc/vservers/web");
	CU_ASSERT_PTR_NOT_NULL(g);
	if (g)
		CU_ASSERT_STRING_EQUAL(vs_guest_name(g), "web");
	vs_guest_free(g);
	/* a config dir outside CONFDIR, by path */
	tmp_link("srv/cfg/other/vdir", "/vservers/x");
	g = vs_guest_open(ctx, "/srv/cfg/other");
	CU_ASSERT_PTR_NOT_NULL(g);
	vs_guest_free(g);
	/* missing */
	CU_ASSERT_PTR_NULL(vs_guest_open(ctx, "nosuch"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "no guest 'nosuch'"));
	/* no vdir: not a guest */
	tmp_put("etc/vservers/novdir/name", "x\n");
	CU_ASSERT_PTR_NULL(vs_guest_open(ctx, "novdir"));
	/* a bad context file */
	tmp_put("etc/vservers/web/context", "12ab\n");
	CU_ASSERT_PTR_NULL(vs_guest_open(ctx, "web"));
	CU_ASSERT_PTR_NOT_NULL(strstr(vs_error(ctx), "context"));
	tmp_put("etc/vservers/web/context", "42\n");
	g = vs_guest_open(ctx, "web");
	CU_ASSERT_EQUAL(g ? vs_guest_context(g) : 0, 42);
	vs_guest_free(g);
	/* a vdir symlink escaping the sysroot stays inside it */
	tmp_link("etc/vservers/esc/vdir", "../../../../../../../tmp");
	tmp_put("tmp", NULL);
	g = vs_guest_open(ctx, "esc");
	CU_ASSERT_PTR_NOT_NULL(g);
	if (g)
		CU_ASSERT_STRING_EQUAL(vs_guest_root(g), "/tmp");
	vs_guest_free(g);
	/* listing: sorted, dot entries and backups skipped */
	tmp_link("etc/vservers/old~/vdir", "/vservers/x");
	char **v = vs_guest_list(ctx);
	CU_ASSERT_STRING_EQUAL(v[0], "esc");
	CU_ASSERT_STRING_EQUAL(v[1], "web");
	CU_ASSERT_PTR_NULL(v[2]);
	vs_strv_free(v);
	vs_ctx_free(ctx);
}

int add_suites(void)
{
	CU_pSuite s = CU_add_suite("config", NULL, NULL);
	if (!s || !CU_add_test(s, "vs.conf", test_conf_ok) ||
	    !CU_add_test(s, "vs.conf errors", test_conf_errors) ||
	    !CU_add_test(s, "vs.conf missing", test_conf_missing) ||
	    !CU_add_test(s, "first existing file wins", test_first_wins) ||
	    !CU_add_test(s, "or-disable flags", test_or_flags) ||
	    !CU_add_test(s, "rule C pkgmgmt", test_rule_c) ||
	    !CU_add_test(s, "guest lookup", test_guest_lookup))
		return -1;
	return 0;
}
