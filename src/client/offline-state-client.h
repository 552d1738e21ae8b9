/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * liboffline-state: a client of the offline-state service for C, Python and GJS.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * OfflineStateState:
 * @OFFLINE_STATE_STATE_OFFLINE: offline (MAPIOFFLINE_STATE_OFFLINE, 1)
 * @OFFLINE_STATE_STATE_ONLINE: online (MAPIOFFLINE_STATE_ONLINE, 2)
 *
 * The state of a profile.
 */
typedef enum
{
  OFFLINE_STATE_STATE_OFFLINE = 1,
  OFFLINE_STATE_STATE_ONLINE = 2,
} OfflineStateState;

/**
 * OfflineStatePhase:
 * @OFFLINE_STATE_PHASE_START: the transition starts (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START, 1)
 * @OFFLINE_STATE_PHASE_STATECHANGE: the new state is committed
 *   (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE, 2)
 * @OFFLINE_STATE_PHASE_DONE: the transition is over (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE, 3)
 *
 * The phase of a transition that a notification reports.
 */
typedef enum
{
  OFFLINE_STATE_PHASE_START = 1,
  OFFLINE_STATE_PHASE_STATECHANGE = 2,
  OFFLINE_STATE_PHASE_DONE = 3,
} OfflineStatePhase;

/**
 * OfflineStateCapabilities:
 * @OFFLINE_STATE_CAPABILITIES_NONE: no notifications
 * @OFFLINE_STATE_CAPABILITIES_OFFLINE: notifies going offline (MAPIOFFLINE_CAPABILITY_OFFLINE)
 * @OFFLINE_STATE_CAPABILITIES_ONLINE: notifies going online (MAPIOFFLINE_CAPABILITY_ONLINE)
 *
 * What a profile's transitions notify.
 */
typedef enum /*< flags >*/
{
  OFFLINE_STATE_CAPABILITIES_NONE = 0,
  OFFLINE_STATE_CAPABILITIES_OFFLINE = 1 << 0,
  OFFLINE_STATE_CAPABILITIES_ONLINE = 1 << 1,
} OfflineStateCapabilities;

GType offline_state_state_get_type (void) G_GNUC_CONST;
GType offline_state_phase_get_type (void) G_GNUC_CONST;
GType offline_state_capabilities_get_type (void) G_GNUC_CONST;
#define OFFLINE_STATE_TYPE_STATE        (offline_state_state_get_type ())
#define OFFLINE_STATE_TYPE_PHASE        (offline_state_phase_get_type ())
#define OFFLINE_STATE_TYPE_CAPABILITIES (offline_state_capabilities_get_type ())

#define OFFLINE_STATE_TYPE_CLIENT (offline_state_client_get_type ())
G_DECLARE_FINAL_TYPE (OfflineStateClient, offline_state_client, OFFLINE_STATE, CLIENT, GObject)

/* Opening a profile: advises (signal delivery) on construction, unadvises on dispose.
 * @connection NULL means the session bus. */
void offline_state_client_new (GDBusConnection *connection,
                               const char *profile,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
OfflineStateClient *offline_state_client_new_finish (GAsyncResult *result, GError **error);
OfflineStateClient *offline_state_client_new_sync (GDBusConnection *connection,
                                                   const char *profile,
                                                   GCancellable *cancellable,
                                                   GError **error);

GDBusConnection *offline_state_client_get_connection (OfflineStateClient *self);
const char *offline_state_client_get_profile (OfflineStateClient *self);
const char *offline_state_client_get_object_path (OfflineStateClient *self);
OfflineStateState offline_state_client_get_state (OfflineStateClient *self);
gboolean offline_state_client_get_online (OfflineStateClient *self);
OfflineStateCapabilities offline_state_client_get_capabilities (OfflineStateClient *self);
gboolean offline_state_client_get_transitioning (OfflineStateClient *self);
guint64 offline_state_client_get_sequence (OfflineStateClient *self);
guint offline_state_client_get_advise_count (OfflineStateClient *self);
/* FALSE while the service is not on the bus (it is followed when it comes back). */
gboolean offline_state_client_get_available (OfflineStateClient *self);

/* SetCurrentState; @block: complete once the transition is done, not when it starts. */
void offline_state_client_set_state_async (OfflineStateClient *self,
                                           OfflineStateState state,
                                           gboolean block,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
gboolean offline_state_client_set_state_finish (OfflineStateClient *self,
                                                GAsyncResult *result,
                                                GError **error);
gboolean offline_state_client_set_state_sync (OfflineStateClient *self,
                                              OfflineStateState state,
                                              gboolean block,
                                              GCancellable *cancellable,
                                              GError **error);

/* The manager: profiles. @connection NULL means the session bus. */
char **offline_state_list_profiles_sync (GDBusConnection *connection,
                                         GCancellable *cancellable,
                                         GError **error);
void offline_state_list_profiles (GDBusConnection *connection,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
char **offline_state_list_profiles_finish (GAsyncResult *result, GError **error);
gboolean offline_state_create_profile_sync (GDBusConnection *connection,
                                            const char *profile,
                                            OfflineStateCapabilities capabilities,
                                            OfflineStateState initial_state,
                                            GCancellable *cancellable,
                                            GError **error);
gboolean offline_state_remove_profile_sync (GDBusConnection *connection,
                                            const char *profile,
                                            GCancellable *cancellable,
                                            GError **error);

const char *offline_state_state_to_string (OfflineStateState state);
const char *offline_state_phase_to_string (OfflineStatePhase phase);

G_END_DECLS
