/* libvs as a whole, for the vs command and the tests: every layer. */
#ifndef VS_INTERNAL_H
#define VS_INTERNAL_H

#include "runtime/runtime.h"
#include "plugins/plugins.h"

#endif
