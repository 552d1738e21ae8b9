/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

#include "os-manager.h"

G_BEGIN_DECLS

#define OS_RECONNECT_DELAY_DEFAULT 5000u
#define OS_RECONNECT_DELAY_MAX     600000u

/* --follow-network: moves the profiles with the network that @monitor reports.
 *
 * The network goes away: every profile goes OFFLINE through a normal transition. It comes
 * back and stays up for @reconnect_delay_ms: the profiles that the follower took offline go
 * ONLINE again, unless a client changed their state meanwhile (the user's choice is
 * sticky). A network that is away when the follower starts counts as lost. The follower
 * holds a reference to @manager and @monitor; dropping the last reference to it stops it. */
#define OS_TYPE_NETWORK_FOLLOWER (os_network_follower_get_type ())
G_DECLARE_FINAL_TYPE (OsNetworkFollower, os_network_follower, OS, NETWORK_FOLLOWER, GObject)

OsNetworkFollower *
os_network_follower_new (OsManager *manager, GNetworkMonitor *monitor, guint reconnect_delay_ms);

G_END_DECLS
