// SPDX-License-Identifier: GPL-2.0
/* The one definition of the maps and config declared in common/maps.h; the
 * other objects reference them as externs resolved at link time. */
#define TR_DEFINE_SHARED
#include "common/maps.h"

char LICENSE[] SEC("license") = "GPL";
