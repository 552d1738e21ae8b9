/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How many calls one connection may have the daemon hold: those it has sent and the daemon
 * has not answered yet, whatever object or interface they are for (Introspect and
 * GetManagedObjects included). GDBus reads every message in a thread of its own and queues
 * each call for the main loop with no bound; a client that sends without waiting would
 * grow that queue, and the daemon's memory, as fast as it can write. A filter in GDBus's
 * thread counts each sender's calls from arrival to reply and refuses the excess at once
 * with LimitsExceeded, before anything is queued. The count is the only state that thread
 * touches; it has a lock of its own and nothing else of the daemon is reached from there.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OsCallBudget OsCallBudget;

/* Starts counting the calls that reach @connection: at most @max_per_sender in flight from
 * each sender. */
OsCallBudget *os_call_budget_start (GDBusConnection *connection, guint max_per_sender);
/* Stops counting; calls are let through from now on. */
void os_call_budget_stop (OsCallBudget *self);

/* Calls refused so far, for the log and the tests. */
guint64 os_call_budget_get_refused (OsCallBudget *self);

G_END_DECLS
