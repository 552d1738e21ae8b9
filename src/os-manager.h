/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

#include "os-client.h"
#include "os-limits.h"
#include "os-profile.h"

G_BEGIN_DECLS

/* The profiles, and every advise of every client, with no bus in sight: the face of the
 * core (os-core-private.h lists the units it owns).
 *
 * Signals: "profile-added" (OsProfile *), "profile-removed" (OsProfile *). Property
 * "profiles" (GStrv, sorted) emits notify. */
#define OS_TYPE_MANAGER (os_manager_get_type ())
G_DECLARE_FINAL_TYPE (OsManager, os_manager, OS, MANAGER, GObject)

/* @state_dir NULL: keep nothing on disk (--ephemeral). */
OsManager *os_manager_new (const OsLimits *limits, const char *state_dir);

/* Reads the persisted profiles; creates "default" where nothing was persisted. */
void os_manager_load (OsManager *self);

const OsLimits *os_manager_get_limits (OsManager *self);
OsProfile *os_manager_lookup (OsManager *self, const char *name);
GStrv os_manager_dup_profile_names (OsManager *self);
guint os_manager_get_n_advises (OsManager *self);
/* The live advise of @token, in whichever profile, or NULL. */
OsAdvise *os_manager_lookup_advise (OsManager *self, guint token);

/* HrOpenOfflineObj */
OsProfile *os_manager_open (OsManager *self, const char *name, const char *guid, GError **error);

/* Both complete once the change is on disk. */
void os_manager_create_async (OsManager *self,
                              const char *name,
                              guint capabilities,
                              guint initial_state,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
OsProfile *os_manager_create_finish (OsManager *self, GAsyncResult *result, GError **error);
void os_manager_remove_async (OsManager *self,
                              const char *name,
                              GAsyncReadyCallback callback,
                              gpointer user_data);
gboolean os_manager_remove_finish (OsManager *self, GAsyncResult *result, GError **error);

/* The client left: every advise it held goes, with no call from it. */
void os_manager_client_vanished (OsManager *self, const char *name);

/* The Unix user of the connection @name, once known: its advises count for that user from
 * now on, restored ones included. */
void os_manager_client_identified (OsManager *self, const char *name, guint uid);
/* Names of the clients that hold advises but whose user is not known (restored ones). */
GStrv os_manager_dup_unidentified_clients (OsManager *self);

/* What carries notifications to clients: without one (unit tests), each is OsProfile's
 * "notification" signal. */
void os_manager_set_transport (OsManager *self, const OsTransport *transport, gpointer data);

/* docs/daemon.md: the advises of clients still on the bus survive a restart. The first
 * restores what an earlier run kept in @runtime_dir for bus @bus_id, for the owners in
 * @names_on_bus only, and writes nothing; the second rewrites the journal from the live
 * advises, and then records every change before it returns. Call it once this process
 * is the one that serves the bus (owns the name), so that a second instance that exits
 * at once never touches the file. */
guint os_manager_restore_advises (OsManager *self,
                                  const char *runtime_dir,
                                  const char *bus_id,
                                  const char *const *names_on_bus);
void os_manager_keep_advises (OsManager *self);
/* The bus the advises were made on is gone, or the daemon exits holding none: their journal
 * goes, and no change is written any more. Nothing if no journal is kept. */
void os_manager_forget_advises (OsManager *self);

/* Persists the current state; completes once it is on disk (at once when ephemeral). */
void os_manager_save_async (OsManager *self, GAsyncReadyCallback callback, gpointer user_data);
gboolean os_manager_save_finish (OsManager *self, GAsyncResult *result, GError **error);

/* TRUE while a write is running: a clean exit waits for it. */
gboolean os_manager_is_saving (OsManager *self);

/* No transition runs and nothing is being written. */
gboolean os_manager_is_idle (OsManager *self);
/* Calls @func once idle (at once if it is): a clean exit waits for the transitions in progress
 * and the writes. One at a time; NULL cancels. */
void os_manager_when_idle (OsManager *self, GSourceOnceFunc func, gpointer user_data);

/* What is in memory only (a transition without BLOCK whose commit could not be written),
 * one line each, NULL-terminated; NULL when everything is on disk. */
const char *const *os_manager_get_unsaved (OsManager *self);

G_END_DECLS
