/* Exclude lists: util-vserver's matchlist cases, the shipped list, the
 * seed's "+/etc/termcap then /etc" example, parser quirks not copied. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cu.h"
#include "engine.h"

static struct vs_ctx *ctx;

static struct vs_excl list(const char *text)
{
	struct vs_excl x = {0};
	CU_ASSERT_EQUAL(vs_excl_parse(ctx, &x, text, "list"), 0);
	return x;
}

static void test_matchlist(void)
{
	/* lib_internal/testsuite/matchlist.c */
	struct vs_excl x = list("/bin\n+/bin/a\n");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/bin", true, false),
			VS_DESCEND_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/bin/a", false, true), VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/bin/b", false, true), VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/sbin", true, false), VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/usr/lib/a", false, false),
			VS_INCLUDED);
	vs_excl_free(&x);
	/* without an include below, an excluded directory is pruned */
	x = list("/bin\n+/usr/a\n");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/bin", true, false), VS_EXCLUDED);
	vs_excl_free(&x);
}

static void test_seed_example(void)
{
	struct vs_excl x = list("+/etc/termcap\n/etc\n");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc", true, false),
			VS_DESCEND_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/termcap", false, true),
			VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/passwd", false, true),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/X11", true, true), VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/usr/bin/ls", false, false),
			VS_INCLUDED);
	vs_excl_free(&x);
}

static void test_shipped(void)
{
	char path[4096];
	const char *src = getenv("srcdir");
	snprintf(path, sizeof(path), "%s/conf.d/defaults/vunify-exclude",
		 src ? src : ".");
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char buf[8192];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	struct vs_excl x = list(buf);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc", true, false), VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/passwd", false, false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/termcap", false, false),
			VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/hosts", false, false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/gconf/schemas", true, false),
			VS_INCLUDED);
	/* util-vserver's consequence: files inside schemas stay excluded */
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/gconf/schemas/a.xml", false,
				      false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/var", true, false), VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/root/.ssh", true, false),
			VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/root/.ssh/id_rsa", false, false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/usr/share/texmf/ls-R", false,
				      false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/usr/bin/ls", false, false),
			VS_INCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/tmp", true, false), VS_EXCLUDED);
	vs_excl_free(&x);
}

static void test_parser(void)
{
	/* one-character entries and a last line without newline are kept */
	struct vs_excl x = list("/\n# comment\n\n/usr/x   \n/last");
	CU_ASSERT_EQUAL(x.n, 3);
	CU_ASSERT_STRING_EQUAL(x.pat[0].text, "/");
	CU_ASSERT_STRING_EQUAL(x.pat[1].text, "/usr/x");
	CU_ASSERT_STRING_EQUAL(x.pat[2].text, "/last");
	vs_excl_free(&x);
	/* fnmatch without FNM_PATHNAME: '*' crosses '/' */
	x = list("/etc/*\n");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/a/b", false, false),
			VS_EXCLUDED);
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc", true, false), VS_INCLUDED);
	vs_excl_free(&x);
	/* whole-path match: /bin does not match /bin/x */
	x = list("/bin\n");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/bin/x", false, false), VS_INCLUDED);
	vs_excl_free(&x);
	/* conffiles first: a + pattern cannot rescue them */
	x = list("+/etc/x.conf\n");
	vs_excl_add_exact(&x, "/etc/x.conf");
	CU_ASSERT_EQUAL(vs_excl_match(&x, "/etc/x.conf", false, false),
			VS_EXCLUDED);
	vs_excl_free(&x);
	/* a relative pattern is an error naming the line */
	struct vs_excl y = {0};
	vs_clear_error(ctx);
	CU_ASSERT_EQUAL(vs_excl_parse(ctx, &y, "/a\netc/passwd\n", "f"), -1);
	CU_ASSERT_STRING_EQUAL(vs_error(ctx),
			       "f:2: pattern 'etc/passwd' does not start with "
			       "'/' (paths are absolute inside the guest)");
	vs_excl_free(&y);
}

static bool has_exact(const struct vs_excl *x, const char *p)
{
	for (char **e = x->exact; e && *e; e++)
		if (!strcmp(*e, p))
			return true;
	return false;
}

static void test_dpkg(void)
{
	tmp_cleanup();
	tmp_put("g/var/lib/dpkg/status",
		"Package: base-files\nStatus: install ok installed\n"
		"Conffiles:\n /etc/debian_version 5d8b\n /etc/host.conf 4eb6\n"
		" /etc/old.conf abcd obsolete\nDescription: x\n multi line\n\n"
		"Package: other\nConffiles:\n /etc/other.conf 1234\n");
	tmp_put("g/var/lib/dpkg/info/foo.conffiles",
		"/etc/foo.conf\n/etc/bar.conf remove-on-upgrade\n");
	tmp_put("g/var/lib/dpkg/info/foo.list", "/etc/not-a-conffile\n");
	/* a guest symlink out of its root stays inside it */
	tmp_put("secret/shadow.conffiles", "/etc/from-the-host\n");
	char root[4096];
	snprintf(root, sizeof(root), "%s/secret", tmp_root());
	/* (g/var/lib/dpkg/info is five levels below the temporary root:
	 * followed on the host, this link reaches the secret file) */
	tmp_link("g/var/lib/dpkg/info/evil.conffiles",
		 "../../../../../secret/shadow.conffiles");
	char link[4096];
	snprintf(link, sizeof(link),
		 "%s/g/var/lib/dpkg/info/evil.conffiles", tmp_root());
	CU_ASSERT_EQUAL(access(link, R_OK), 0); /* the attack is real */
	snprintf(root, sizeof(root), "%s/g", tmp_root());
	int fd = open(root, O_RDONLY | O_DIRECTORY);
	struct vs_excl x = {0};
	CU_ASSERT_EQUAL(vs_dpkg_conffiles(fd, &x), 0);
	close(fd);
	CU_ASSERT_TRUE(has_exact(&x, "/etc/debian_version"));
	CU_ASSERT_TRUE(has_exact(&x, "/etc/host.conf"));
	CU_ASSERT_TRUE(has_exact(&x, "/etc/other.conf"));
	CU_ASSERT_FALSE(has_exact(&x, "/etc/old.conf"));
	CU_ASSERT_TRUE(has_exact(&x, "/etc/foo.conf"));
	CU_ASSERT_TRUE(has_exact(&x, "/etc/bar.conf"));
	CU_ASSERT_FALSE(has_exact(&x, "/etc/not-a-conffile"));
	CU_ASSERT_FALSE(has_exact(&x, "/etc/from-the-host"));
	CU_ASSERT_FALSE(has_exact(&x, "multi"));
	vs_excl_free(&x);
	tmp_cleanup();
}

int add_suites(void)
{
	ctx = vs_ctx_new();
	CU_pSuite s = CU_add_suite("exclude", NULL, NULL);
	if (!s || !CU_add_test(s, "matchlist cases", test_matchlist) ||
	    !CU_add_test(s, "seed example", test_seed_example) ||
	    !CU_add_test(s, "shipped list", test_shipped) ||
	    !CU_add_test(s, "parser", test_parser) ||
	    !CU_add_test(s, "dpkg conffiles", test_dpkg))
		return -1;
	return 0;
}
