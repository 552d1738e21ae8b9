/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the files of OfflineStateClient share: the instance, and the functions that one part
 * calls in another. Not installed, not in the GIR; the version script keeps the `client_`
 * functions inside the library.
 */
#pragma once

#include "offline-state-client.h"

G_BEGIN_DECLS

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

struct _OfflineStateClient
{
  GObject parent_instance;

  GDBusConnection *connection;
  char *profile;
  char *object_path;

  /* The service instance that holds our advise (its unique name), and the advise. The
   * client token changes with every advise, so that notifications of an older advise of
   * ours (still alive in a restarted service: docs/daemon.md) are told apart and ignored. */
  char *owner;
  guint client_token;
  guint advise_token;

  OfflineStateState state;
  OfflineStateCapabilities capabilities;
  gboolean transitioning;
  guint64 sequence;
  guint advise_count;
  gboolean available;

  guint state_changed_id;
  guint properties_changed_id;
  guint watch_id;
  /* Re-advising after the service came back: reading the properties again is cancelled
   * when it goes again, and on dispose; the generation tells the Advise in flight whether
   * its advise is still wanted (offline-state-restart.c). */
  GCancellable *readvise_cancellable;
  guint readvise_generation;
  /* Everything else in flight; cancelled on dispose. */
  GCancellable *cancellable;
};

enum
{
  PROP_0,
  PROP_CONNECTION,
  PROP_PROFILE,
  PROP_OBJECT_PATH,
  PROP_STATE,
  PROP_ONLINE,
  PROP_CAPABILITIES,
  PROP_TRANSITIONING,
  PROP_SEQUENCE,
  PROP_ADVISE_COUNT,
  PROP_AVAILABLE,
  N_PROPS
};

/* offline-state-client.c: the class, its properties and its signal. */
void client_notify (OfflineStateClient *self, guint prop_id);
void client_emit_notification (OfflineStateClient *self,
                               OfflineStatePhase phase,
                               guint mask,
                               OfflineStateState old_state,
                               OfflineStateState new_state,
                               guint64 sequence);

/* offline-state-open.c: opening the profile, GInitable and GAsyncInitable. */
void client_initable_iface_init (GInitableIface *iface);
void client_async_initable_iface_init (GAsyncInitableIface *iface);

/* offline-state-mirror.c: the properties, as the service has them. */
void client_set_available (OfflineStateClient *self, gboolean available);
void client_get_all (OfflineStateClient *self,
                     GDBusCallFlags flags,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data);
GVariant *client_get_all_sync (OfflineStateClient *self, GCancellable *cancellable, GError **error);
gboolean client_take_all_properties (OfflineStateClient *self, GVariant *reply);
void client_take_properties_changed (OfflineStateClient *self, GVariant *parameters);

/* offline-state-advise.c: the advise, and the signals of the offline object. */
void client_subscribe (OfflineStateClient *self);
GDBusMessage *client_advise_message (OfflineStateClient *self);
guint client_take_advise_reply (GDBusMessage *reply, char **owner, GError **error);
void client_take_advise (OfflineStateClient *self, guint advise_token, char *owner);

/* offline-state-client.c: an Unadvise that wants no reply (the client goes, or advises
 * again); the second one on @connection, to @owner (a unique name; NULL: the service's
 * name) for the object at @object_path, when the client may be gone. */
void client_unadvise_quietly (OfflineStateClient *self, guint advise_token);
void client_unadvise_on (GDBusConnection *connection,
                         const char *owner,
                         const char *object_path,
                         guint advise_token);

/* offline-state-restart.c: the service gone, and back. */
void client_watch_name (OfflineStateClient *self);

G_END_DECLS
