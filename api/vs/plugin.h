/* vs plugin ABI: the one descriptor a plugin module exports.
 *
 * A plugin is a shared object exporting exactly one symbol, a const
 * struct vs_plugin named <stem>_LTX_vs_plugin (use VS_PLUGIN_DEFINE).  The
 * loader reads and checks the descriptor (magic, ABI major/minor, layout
 * signature, kind, name, required operations) before calling any of the
 * plugin's functions.
 *
 * Rules:
 *  - abi_major must equal the core's; abi_minor must be <= the core's.
 *  - Structures here only grow at the end.  A member added in minor N is
 *    read by the core only when the plugin's abi_minor >= N.
 *  - No libconfuse or other third-party types ever appear in this ABI.
 *
 * Changelog of minors:
 *   1.0 (2026-11-29)  first version: kinds build, unify, hook, verb.
 *   1.1 (2026-12-01)  core.h: the helpers the unify engines use (allocation,
 *                     vs_clear_error, vs_conf_str, vs_guest_list/open/free/
 *                     running/pkgmgmt, vs_host_isdir/parent/read,
 *                     vs_read_fd[_stream], vs_first_line).  The unify and
 *                     hashify engines left libvs for the reference and hash
 *                     plugins (plugins/unify/common): vs/unify.h is no
 *                     longer installed (it was new in 1.0's cycle and had
 *                     no user outside the tree).
 */
#ifndef VS_PLUGIN_H
#define VS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <vs/core.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VS_PLUGIN_MAGIC 0x76735031u /* "vsP1" */
#define VS_ABI_MAJOR 1
#define VS_ABI_MINOR 2

/* Layout signature: the sizes that change the layout of this ABI. */
#define VS_SIG_LEN 16
#define VS_PLUGIN_SIGNATURE_INIT                                          \
	{                                                                  \
		'v', 's', (unsigned char)sizeof(void *),                   \
		(unsigned char)sizeof(long), (unsigned char)sizeof(off_t), \
		(unsigned char)sizeof(time_t),                             \
		(unsigned char)sizeof(size_t), (unsigned char)sizeof(int), \
		(unsigned char)_Alignof(long long),                        \
		(unsigned char)(sizeof(struct vs_plugin) & 0xff), 0, 0, 0, \
		0, 0, 0                                                    \
	}

enum vs_plugin_kind {
	VS_KIND_BUILD = 1, /* a build method: vs <guest> build -m <name> */
	VS_KIND_UNIFY = 2, /* a unification method */
	VS_KIND_HOOK = 3,  /* reacts to guest lifecycle events */
	VS_KIND_VERB = 4,  /* adds verbs to the command line */
};

/* Flags of a verb. */
#define VS_VERB_GUEST 0x1u /* needs an existing guest (first argument) */
#define VS_VERB_ROOT 0x2u  /* needs root */
#define VS_VERB_OPTGUEST 0x4u /* with GUEST: `vs <verb> -opt` has none */

/* A verb added by a plugin.  argv[0] is the verb name; for VS_VERB_GUEST
 * verbs the guest is resolved by the core and argv holds only the options
 * after it.  Returns the exit status (0 success, 1 failure, 2 usage). */
struct vs_verb_def {
	const char *name;     /* [a-z][a-z0-9-]*, unique among all verbs */
	const char *synopsis; /* one line for `vs help` */
	unsigned flags;       /* VS_VERB_* */
	int (*run)(struct vs_ctx *ctx, struct vs_guest *guest, int argc,
		   char **argv);
};

/* Kind VS_KIND_BUILD.  The core's build helper parses the common options
 * and calls prepare() with the method's own arguments (those after "--")
 * before anything is written; then it creates the skeleton and calls
 * build() for the payload.  Both return 0, or -1 with vs_set_error(). */
struct vs_build_ops {
	const char *usage; /* method options, for `vs help build` */
	int (*prepare)(struct vs_build *b, int argc, char **argv); /* optional */
	int (*build)(struct vs_build *b);                         /* required */
	/* Since 1.2, the skeleton plugin's (the shared front end): the whole
	 * `vs <guest> build` with the verb's argv (argv[0] the verb):
	 * options, the method looked up and its prepare(), the skeleton,
	 * its build(), cleanup of a failure.  0, 1 (usage printed), or -1
	 * with the error set. */
	int (*run)(struct vs_ctx *ctx, const char *guest, int argc,
		   char **argv);
	const char *run_usage; /* since 1.2: the front end's options */
};

/* Since 1.2: the services of a build in progress behind the vs_build_*
 * functions of core.h, which libvs forwards to the table a build starts
 * with.  For the shared front end only: methods call vs_build_*(). */
struct vs_build_services {
	struct vs_ctx *(*ctx)(struct vs_build *b);
	const char *(*name)(const struct vs_build *b);
	const char *(*cfgdir)(const struct vs_build *b);
	const char *(*root)(const struct vs_build *b);
	int (*rootfd)(const struct vs_build *b);
	const char *(*dist)(const struct vs_build *b);
	void (*set_dist)(struct vs_build *b, const char *dist);
	void (*want_pkgmgmt)(struct vs_build *b);
	int (*reset_dev)(struct vs_build *b);
	int (*clear_dev)(struct vs_build *b);
	const char *(*pkgdir)(const struct vs_build *b);
	int (*setenv)(struct vs_build *b, const char *name, const char *value);
	int (*dist_find)(struct vs_build *b, const char *rel, char *buf,
			 size_t size);
	int (*dist_require)(struct vs_build *b, const char *method);
	void (*set_data)(struct vs_build *b, void *data);
	void *(*data)(const struct vs_build *b);
	int (*write_cfg)(struct vs_build *b, const char *rel, const char *value);
	int (*run)(struct vs_build *b, char *const argv[]);
	int (*run_private)(struct vs_build *b, char *const argv[]);
	int (*conf_line)(struct vs_build *b, const char *rel, bool shipped,
			 char *buf, size_t size);
};
/* How every struct vs_build begins. */
struct vs_build_head {
	const struct vs_build_services *svc;
};

/* Kind VS_KIND_UNIFY: run() does the whole job for one guest. */
struct vs_unify_ops {
	const char *usage;
	int (*run)(struct vs_ctx *ctx, struct vs_guest *guest, int argc,
		   char **argv); /* required */
};

/* Kind VS_KIND_HOOK: event() is called at each lifecycle event (the names
 * of util-vserver's script flavors, and vshelper events).  Returns 0, or -1
 * with vs_set_error() to abort a start. */
struct vs_hook_ops {
	int (*event)(struct vs_ctx *ctx, struct vs_guest *guest,
		     const char *event, int argc, char **argv); /* required */
};

/* Kind VS_KIND_VERB has no ops table: its verbs are the payload. */

struct vs_plugin {
	/* Checked first, and never moved. */
	uint32_t magic;
	uint16_t abi_major;
	uint16_t abi_minor;
	unsigned char signature[VS_SIG_LEN];
	/* Minor 0. */
	uint32_t kind;              /* enum vs_plugin_kind */
	const char *name;           /* equals the file stem */
	const char *version;        /* the plugin's own version */
	const char *summary;        /* one line */
	const void *ops;            /* struct vs_<kind>_ops, NULL for verb */
	const struct vs_verb_def *verbs; /* {NULL}-terminated, may be NULL */
};

#define VS_PLUGIN_SYMBOL "vs_plugin"

/* Since 1.2: the method name of kind (build, unify, hook: "apt-rpm" is
 * the plugin apt_rpm, plugin names being C identifiers) loaded from the
 * module directory and checked; NULL with the error set ("unknown build
 * method 'x'", or why its plugin was refused). */
const struct vs_plugin *vs_plugin_load(struct vs_ctx *ctx,
				       enum vs_plugin_kind kind,
				       const char *name);

/* Defines the descriptor of plugin <stem>.  Use once per module:
 *   VS_PLUGIN_DEFINE(skeleton, VS_KIND_BUILD, "1.0", "summary", &ops, NULL);
 */
#define VS_PLUGIN_DEFINE(stem, kind_, version_, summary_, ops_, verbs_)   \
	extern const struct vs_plugin stem##_LTX_vs_plugin;               \
	const struct vs_plugin stem##_LTX_vs_plugin = {                   \
		.magic = VS_PLUGIN_MAGIC,                                 \
		.abi_major = VS_ABI_MAJOR,                                \
		.abi_minor = VS_ABI_MINOR,                                \
		.signature = VS_PLUGIN_SIGNATURE_INIT,                    \
		.kind = (kind_),                                          \
		.name = #stem,                                            \
		.version = (version_),                                    \
		.summary = (summary_),                                    \
		.ops = (ops_),                                            \
		.verbs = (verbs_),                                        \
	}

#ifdef __cplusplus
}
#endif
#endif
