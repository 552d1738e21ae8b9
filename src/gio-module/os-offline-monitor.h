/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * A GNetworkMonitor that says what another one says, and no network while one profile of
 * offline-state is offline.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OS_TYPE_OFFLINE_MONITOR (os_offline_monitor_get_type ())
G_DECLARE_FINAL_TYPE (OsOfflineMonitor, os_offline_monitor, OS, OFFLINE_MONITOR, GObject)

/* Registers the type with the module that defines it (g_io_module_load()). */
void os_offline_monitor_register (GTypeModule *module);

G_END_DECLS
