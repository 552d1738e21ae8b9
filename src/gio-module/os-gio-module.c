/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The entry points by which GIO loads the module and learns what it implements.
 */
#include "os-offline-monitor.h"

/* Below every monitor of GLib's (the base one is 0): chosen by name only, never the default
 * of every program on a machine where the module is installed. */
#define OFFLINE_MONITOR_PRIORITY (-10)

G_MODULE_EXPORT void
g_io_module_load (GIOModule *module)
{
  os_offline_monitor_register (G_TYPE_MODULE (module));
  g_io_extension_point_implement (G_NETWORK_MONITOR_EXTENSION_POINT_NAME, OS_TYPE_OFFLINE_MONITOR,
                                  "offline-state", OFFLINE_MONITOR_PRIORITY);
}

G_MODULE_EXPORT void
g_io_module_unload (GIOModule *module)
{
}

G_MODULE_EXPORT char **
g_io_module_query (void)
{
  const char *const points[] = { G_NETWORK_MONITOR_EXTENSION_POINT_NAME, NULL };

  return g_strdupv ((char **) points);
}
