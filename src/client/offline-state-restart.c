/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient across restarts of the service: the watch on its name, and the advise
 * made again, and the properties read again, when a new instance owns it.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

/* Re-advising when a new instance of the service owns the name. Every callback starts by
 * checking for cancellation, and then only touches @self: a cancelled step may run after
 * @self is gone. */

static void
on_readvise_get_all (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  OfflineStateClient *self = user_data;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!client_take_all_properties (self, reply))
    {
      g_debug ("%s: reading the properties again failed: %s", self->profile, error->message);
      return;
    }
  client_set_available (self, TRUE);
}

static void
on_readvise_advise (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GDBusMessage *reply =
      g_dbus_connection_send_message_with_reply_finish (G_DBUS_CONNECTION (source), result, &error);
  OfflineStateClient *self = user_data;
  char *owner = NULL;
  guint token;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_object (&reply);
      return;
    }
  token = client_take_advise_reply (reply, &owner, &error);
  if (token == 0)
    {
      g_debug ("%s: advising again failed: %s", self->profile, error->message);
      return;
    }
  client_take_advise (self, token, owner);
  client_get_all (self, G_DBUS_CALL_FLAGS_NONE, self->readvise_cancellable, on_readvise_get_all,
                  self);
}

static void
readvise (OfflineStateClient *self)
{
  g_autoptr (GDBusMessage) message = client_advise_message (self);

  g_cancellable_cancel (self->readvise_cancellable);
  g_clear_object (&self->readvise_cancellable);
  self->readvise_cancellable = g_cancellable_new ();
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL,
                                             self->readvise_cancellable, on_readvise_advise, self);
}

/* Following the service's name */

static void
on_name_appeared (GDBusConnection *connection,
                  const char *name,
                  const char *owner,
                  gpointer user_data)
{
  OfflineStateClient *self = user_data;

  if (g_strcmp0 (owner, self->owner) == 0)
    {
      client_set_available (self, TRUE);
      return;
    }
  g_debug ("%s: the service is back as %s; advising again", self->profile, owner);
  readvise (self);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  OfflineStateClient *self = user_data;

  g_cancellable_cancel (self->readvise_cancellable);
  g_clear_object (&self->readvise_cancellable);
  g_clear_pointer (&self->owner, g_free);
  client_set_available (self, FALSE);
}

void
client_watch_name (OfflineStateClient *self)
{
  self->watch_id = g_bus_watch_name_on_connection (self->connection, OFFLINE_STATE_BUS_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
                                                   on_name_vanished, self, NULL);
}
