/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

#include "os-advise.h"

G_BEGIN_DECLS

/* The offline object of one profile: MAPI's IMAPIOfflineMgr, with no bus in sight.
 *
 * Each notification to each subscriber is the "notification" signal:
 *   (OsAdvise *advise, guint notify_type, guint mask, guint old_state, guint new_state,
 *    guint64 sequence, guint ticket)
 * A handler delivers it; for a callback advise with a non-zero @ticket the transition
 * waits until os_profile_callback_replied() with that ticket, the advise's removal, or
 * the notify time-out. Injected notifications carry ticket 0 and are not waited for.
 *
 * Properties (all emit notify): "state", "capabilities", "transitioning", "sequence",
 * "advise-count", "transition-delay"; "name" is fixed. */
#define OS_TYPE_PROFILE (os_profile_get_type ())
G_DECLARE_FINAL_TYPE (OsProfile, os_profile, OS, PROFILE, GObject)

const char *os_profile_get_name (OsProfile *self);
guint os_profile_get_state (OsProfile *self);
guint os_profile_get_capabilities (OsProfile *self);
guint64 os_profile_get_sequence (OsProfile *self);
gboolean os_profile_get_transitioning (OsProfile *self);
guint os_profile_get_advise_count (OsProfile *self);
guint os_profile_get_transition_delay (OsProfile *self);
/* Its removal is being written: it starts no transition and takes no change. */
gboolean os_profile_get_removing (OsProfile *self);

/* IMAPIOffline::SetCurrentState. Completes once the transition has started, or with
 * MAPIOFFLINE_FLAG_BLOCK once it is done. */
void os_profile_set_state_async (OsProfile *self,
                                 guint flags,
                                 guint mask,
                                 guint state,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean os_profile_set_state_finish (OsProfile *self, GAsyncResult *result, GError **error);

/* IMAPIOfflineMgr::Advise, for @owner, the advising client, of Unix user @uid
 * (OS_UID_UNKNOWN where there is none to tell: the per-user limits apply otherwise).
 * @callback: the path of the client's callback object, or NULL to be told by signal.
 * Returns the advise token, or 0 with @error set. */
guint os_profile_advise (OsProfile *self,
                         const char *owner,
                         guint uid,
                         guint flags,
                         guint client_token,
                         guint callback_type,
                         const char *callback,
                         guint advise_types,
                         guint state_mask,
                         GError **error);

/* IMAPIOfflineMgr::Unadvise: removes the advise only when @owner owns it and it belongs
 * to this profile; succeeds, changing nothing, otherwise. */
gboolean os_profile_unadvise (
    OsProfile *self, const char *owner, guint flags, guint advise_token, GError **error);

void os_profile_callback_replied (OsProfile *self, OsAdvise *advise, guint ticket);

/* Whether the transition still waits for @advise's reply to the notification of @ticket:
 * FALSE once its phase has moved on, which makes a notification not sent yet owed no more. */
gboolean os_profile_awaits_reply (OsProfile *self, OsAdvise *advise, guint ticket);

/* Removes an advise whose callback failed; @reason goes to the log. */
void os_profile_drop_advise (OsProfile *self, OsAdvise *advise, const char *reason);

/* Emulation */
void os_profile_set_capabilities_async (OsProfile *self,
                                        guint capabilities,
                                        GAsyncReadyCallback callback,
                                        gpointer user_data);
gboolean os_profile_set_capabilities_finish (OsProfile *self, GAsyncResult *result, GError **error);
gboolean os_profile_set_transition_delay (OsProfile *self, guint milliseconds, GError **error);
void os_profile_inject_notification (
    OsProfile *self, guint notify_type, guint mask, guint old_state, guint new_state);

G_END_DECLS
