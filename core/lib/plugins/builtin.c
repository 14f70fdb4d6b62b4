/* Plugins compiled into the core.  They pass vs_plugin_check() exactly as
 * loaded modules do.  None are built in by default: every plugin of vs is
 * a module in the module directory. */
#include "plugins/plugins.h"

const struct vs_plugin *const vs_builtin_plugins[] = {NULL};
