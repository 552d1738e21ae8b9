/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient across restarts of the service: the watch on its name, and the advise
 * made again, and the properties read again, when a new instance owns it.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

/* Re-advising when a new instance of the service owns the name. Reading the properties
 * again is cancelled when the service goes again, and on dispose: its callback starts by
 * checking for cancellation, and then only touches @self. The Advise is never cancelled:
 * once sent it makes an advise in the service whatever becomes of its reply, so its reply
 * is always taken, and an advise that nobody wants any more (the client was disposed, the
 * service went, another re-advise followed) is taken back from the instance that made it. */

typedef struct
{
  GWeakRef client;
  guint generation;
  char *object_path;
} Readvise;

static void
readvise_free (Readvise *readvise)
{
  g_weak_ref_clear (&readvise->client);
  g_free (readvise->object_path);
  g_free (readvise);
}

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
  Readvise *readvise = user_data;
  g_autoptr (OfflineStateClient) self = g_weak_ref_get (&readvise->client);
  g_autoptr (GError) error = NULL;
  GDBusMessage *reply =
      g_dbus_connection_send_message_with_reply_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autofree char *owner = NULL;
  guint token = client_take_advise_reply (reply, &owner, &error);

  /* Disposed, the client has no connection any more. */
  if (self == NULL || self->connection == NULL || readvise->generation != self->readvise_generation)
    client_unadvise_on (G_DBUS_CONNECTION (source), owner, readvise->object_path, token);
  else if (token == 0)
    g_debug ("%s: advising again failed: %s", self->profile, error->message);
  else
    {
      client_take_advise (self, token, g_steal_pointer (&owner));
      client_get_all (self, G_DBUS_CALL_FLAGS_NONE, self->readvise_cancellable, on_readvise_get_all,
                      self);
    }
  readvise_free (readvise);
}

static void
readvise (OfflineStateClient *self)
{
  g_autoptr (GDBusMessage) message = client_advise_message (self);
  Readvise *readvise = g_new0 (Readvise, 1);

  g_cancellable_cancel (self->readvise_cancellable);
  g_clear_object (&self->readvise_cancellable);
  self->readvise_cancellable = g_cancellable_new ();
  g_weak_ref_init (&readvise->client, self);
  readvise->generation = ++self->readvise_generation;
  readvise->object_path = g_strdup (self->object_path);
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL, NULL,
                                             on_readvise_advise, readvise);
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
  self->readvise_generation++;
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
