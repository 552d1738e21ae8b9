/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Every live advise of every profile: the token index, the clients that own the advises
 * (OsClient) and their Unix users (OsUser), what carries notifications to them, and the
 * journal that keeps the advises across a restart of the daemon (docs/daemon.md).
 *
 * It knows a profile only as the holder of advises: what it tells one (an advise removed)
 * goes through the profile's functions that it was given (OsAdviseHooks), never a call of
 * its own to os-profile.c.
 */
#pragma once

#include <glib-object.h>

#include "os-client.h"
#include "os-journal.h"
#include "os-limits.h"

G_BEGIN_DECLS

#define OS_TYPE_REGISTRY (os_registry_get_type ())
G_DECLARE_FINAL_TYPE (OsRegistry, os_registry, OS, REGISTRY, GObject)

/* @limits and @hooks must outlive it. */
OsRegistry *os_registry_new (const OsLimits *limits, const OsAdviseHooks *hooks);

/* Registers a new advise of @profile for @owner (of Unix user @uid, or OS_UID_UNKNOWN): checks
 * the limits, gives it @token, or the next token when @token is 0. */
OsAdvise *os_registry_add (OsRegistry *self,
                           OsProfile *profile,
                           const char *owner,
                           guint uid,
                           guint token,
                           guint client_token,
                           const char *callback,
                           guint state_mask,
                           GError **error);
OsAdvise *os_registry_lookup (OsRegistry *self, guint token);
guint os_registry_get_n_advises (OsRegistry *self);
/* Removes @advise from its client and the index, then tells its profile (hooks->forget). */
void os_registry_remove (OsRegistry *self, OsAdvise *advise);
/* Removes every advise of @profile. */
void os_registry_remove_all (OsRegistry *self, OsProfile *profile);
/* Its owner is going: every advise goes from memory, but not from the journal, since the
 * advises outlive this run (docs/daemon.md). */
void os_registry_close (OsRegistry *self);

/* The client left: every advise it held goes, with no call from it. */
void os_registry_client_vanished (OsRegistry *self, const char *name);
/* The Unix user of the connection @name, once known: its advises count for that user from
 * now on, restored ones included. */
void os_registry_client_identified (OsRegistry *self, const char *name, guint uid);
/* Names of the clients that hold advises but whose user is not known (restored ones). */
GStrv os_registry_dup_unidentified_clients (OsRegistry *self);

/* What carries notifications to clients; NULL: none (unit tests). */
void os_registry_set_transport (OsRegistry *self, const OsTransport *transport, gpointer data);
/* Sends a notification due to @advise to its client; FALSE where there is no transport, and
 * then the caller tells it some other way. */
gboolean
os_registry_deliver (OsRegistry *self, OsAdvise *advise, const OsNotification *n, guint ticket);
/* Calls @func once what was sent so far has been written out (at the next idle where there
 * is no transport). */
void os_registry_when_sent (OsRegistry *self, GSourceOnceFunc func, gpointer user_data);

/* Makes the advise of @record live again, if it may: TRUE when it did. */
typedef gboolean (*OsRegistryRestoreFunc) (const OsAdviseRecord *record, gpointer user_data);

/* Reads what an earlier run kept in @runtime_dir for bus @bus_id, and hands each advise to
 * @restore; writes nothing. Returns how many @restore made live. */
guint os_registry_restore (OsRegistry *self,
                           const char *runtime_dir,
                           const char *bus_id,
                           OsRegistryRestoreFunc restore,
                           gpointer user_data);
/* Rewrites the journal from the live advises, and then records every change. */
void os_registry_keep (OsRegistry *self);
/* The journal goes, and no change is written any more. Nothing if none is kept. */
void os_registry_forget_journal (OsRegistry *self);

G_END_DECLS
