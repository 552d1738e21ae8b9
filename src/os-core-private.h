/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the manager and its profiles tell each other, and nobody else.
 */
#pragma once

#include "os-client.h"
#include "os-journal.h"
#include "os-manager.h"
#include "os-profile.h"
#include "os-store.h"

G_BEGIN_DECLS

OsProfile *os_profile_new (
    OsManager *manager, const char *name, guint capabilities, guint state, guint64 sequence);

/* What the store writes of @self: a transition being committed counts as done. */
OsProfileRecord *os_profile_dup_record (OsProfile *self);

/* The "notification" signal, for a manager with no transport. */
void os_profile_emit_notification (OsProfile *self,
                                   OsAdvise *advise,
                                   const OsNotification *n,
                                   guint ticket);

/* Pending while a transition runs. */
gboolean os_profile_check_not_transitioning (OsProfile *self, GError **error);

/* The manager removed @advise (Unadvise, its client left, its profile went): the
 * profile forgets it and stops waiting for its reply. */
void os_profile_forget_advise (OsProfile *self, OsAdvise *advise);

/* Registers a new advise for @owner (of Unix user @uid, or OS_UID_UNKNOWN): checks the
 * limits, gives it @token, or the next token when @token is 0. */
OsAdvise *os_manager_add_advise (OsManager *self,
                                 OsProfile *profile,
                                 const char *owner,
                                 guint uid,
                                 guint token,
                                 guint client_token,
                                 const char *callback,
                                 guint state_mask,
                                 GError **error);

/* An advise kept in the runtime folder by an earlier run, live again with its token. */
gboolean os_profile_restore_advise (OsProfile *self, const OsAdviseRecord *record, GError **error);
OsAdvise *os_manager_lookup_advise (OsManager *self, guint token);
void os_manager_remove_advise (OsManager *self, OsAdvise *advise);
/* Removes every advise of @client (cut off, and not back in time). */
void os_manager_remove_client_advises (OsManager *self, OsClient *client);

/* A notification due to @advise: to its client, or as OsProfile's "notification" signal
 * where there is no transport. */
void os_manager_deliver (
    OsManager *self, OsProfile *profile, OsAdvise *advise, const OsNotification *n, guint ticket);

/* The room for calls in flight toward clients (Notify, Peer.Ping), which the bus counts
 * against the daemon's connection: take one, or wait in line (FALSE), to be pumped when
 * one is given back. */
gboolean os_manager_take_call_slot (OsManager *self, OsClient *client);
void os_manager_return_call_slot (OsManager *self, gboolean refused_by_bus, gboolean answered);
void os_manager_stop_waiting (OsManager *self, OsClient *client);
/* @client waits in line for room that others hold (its user's, or the manager's). */
void os_manager_wait_for_room (OsManager *self, OsClient *client);
/* @client's last reference is going. */
void os_manager_client_freed (OsManager *self, OsClient *client);
const OsTransport *os_manager_get_transport (OsManager *self, gpointer *data);

/* Persisted state changes on disk first: @done hears whether @record's change (see
 * os_store_change()) is on disk, and only then is it made in memory, by whoever asked. At once
 * when nothing is kept on disk. */
void os_manager_record_change (OsManager *self,
                               OsChangeKind kind,
                               const OsProfileRecord *record,
                               OsStoreDone done,
                               gpointer user_data);
/* @what (one line) is in memory only, since a write failed with @error: it is saved with the
 * next write that succeeds, tried again meanwhile. */
void os_manager_note_unsaved (OsManager *self, const char *what, const GError *error);
/* IOError for @what, which the disk did not take (@cause) and which was not made. */
void os_manager_set_disk_error (GError **error, const char *what, const GError *cause);
/* A profile whose removal is being written starts nothing and takes no other change. */
void os_profile_set_removing (OsProfile *self, gboolean removing);
/* Calls @func once what was sent so far has been written out (at the next idle where there is
 * no transport). */
void os_manager_when_sent (OsManager *self, GSourceOnceFunc func, gpointer user_data);

G_END_DECLS
