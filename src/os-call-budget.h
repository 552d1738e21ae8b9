/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How many calls one connection may have the daemon hold: those it has sent and the daemon
 * has not answered yet, whatever object or interface they are for (Introspect and
 * GetManagedObjects included). GDBus reads every message in a thread of its own and queues
 * each call for the main loop with no bound; a client that sends without waiting would
 * grow that queue, and the daemon's memory, as fast as it can write. A filter in GDBus's
 * thread counts each sender's calls from arrival to reply and refuses the excess at once
 * with LimitsExceeded, before anything is queued; so are a Unix user's calls past its own
 * budget, for the connections whose user is known. The count is the only state that thread
 * touches; it has a lock of its own and nothing else of the daemon is reached from there.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _OsCallBudget OsCallBudget;

/* Main thread: learn the Unix user of @name, and tell os_call_budget_set_user(). */
typedef void (*OsCallBudgetIdentifyFunc) (gpointer data, const char *name);

/* Starts counting the calls that reach @connection: at most @max_per_sender in flight from
 * each sender, and @max_per_user from the connections of one Unix user together, for those
 * whose user is known. A sender that has half its own budget in flight and whose user is
 * not known is handed to @identify, once, from the main loop. */
OsCallBudget *os_call_budget_start (GDBusConnection *connection,
                                    guint max_per_sender,
                                    guint max_per_user,
                                    OsCallBudgetIdentifyFunc identify,
                                    gpointer identify_data);
/* Stops counting; calls are let through from now on. */
void os_call_budget_stop (OsCallBudget *self);

/* Main thread: the Unix user of @name; its calls count for that user from now on. */
void os_call_budget_set_user (OsCallBudget *self, const char *name, guint uid);
/* Main thread: @name has left the bus. */
void os_call_budget_forget (OsCallBudget *self, const char *name);

/* Calls refused so far, for the log and the tests. */
guint64 os_call_budget_get_refused (OsCallBudget *self);

G_END_DECLS
