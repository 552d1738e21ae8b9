/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Calls that come before there is anything to serve them. With --replace the daemon owns
 * the name first and loads its state only once the instance it replaces has let its folders
 * go: calls that come meanwhile wait here (kept invocations, at most @max_calls; more are
 * refused with LimitsExceeded), and are handed, in the order they came, to the objects once
 * they are on the bus. A client sees a slower answer, never "no such object".
 */
#pragma once

#include <gio/gio.h>

#include "os-bus-manager.h"

G_BEGIN_DECLS

typedef struct _OsBusHold OsBusHold;

/* Holds every call to the service's object paths on @connection, from now on, until objects
 * are exported there. */
OsBusHold *os_bus_hold_new (GDBusConnection *connection, guint max_calls, GError **error);
/* Stops holding calls; each call held is served by @bus_manager's objects, which must be on
 * the bus already, as if it had just come. Frees @hold. */
void os_bus_hold_release (OsBusHold *hold, OsBusManager *bus_manager);
/* Stops holding calls; each one held fails, as the service is stopping. Frees @hold. */
void os_bus_hold_free (OsBusHold *hold);

G_END_DECLS
