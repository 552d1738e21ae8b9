/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Opening OfflineStateClient's profile, as GInitable and as GAsyncInitable: the offline
 * object (OpenOfflineObject), the signals, the advise, then the properties.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

static GVariant *
open_parameters (OfflineStateClient *self)
{
  return g_variant_new ("(ss)", self->profile, "");
}

static gboolean
take_object_path (OfflineStateClient *self, GVariant *reply)
{
  if (reply == NULL)
    return FALSE;
  g_clear_pointer (&self->object_path, g_free);
  g_variant_get (reply, "(o)", &self->object_path);
  g_variant_unref (reply);
  return TRUE;
}

/* GInitable */

static gboolean
initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (initable);
  g_autoptr (GDBusMessage) message = NULL;
  GDBusMessage *reply;
  char *owner = NULL;
  guint token;

  if (self->connection == NULL &&
      (self->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, error)) == NULL)
    return FALSE;
  if (!take_object_path (
          self, g_dbus_connection_call_sync (
                    self->connection, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
                    OFFLINE_STATE_MANAGER_INTERFACE, "OpenOfflineObject", open_parameters (self),
                    G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error)))
    return FALSE;
  client_subscribe (self);
  message = client_advise_message (self);
  /* Not cancellable once sent: see init_on_open(). */
  reply = g_dbus_connection_send_message_with_reply_sync (
      self->connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL, NULL, error);
  if ((token = client_take_advise_reply (reply, &owner, error)) == 0)
    return FALSE;
  client_take_advise (self, token, owner);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (!client_take_all_properties (self, client_get_all_sync (self, cancellable, error)))
    return FALSE;
  self->available = TRUE;
  client_watch_name (self);
  return TRUE;
}

void
client_initable_iface_init (GInitableIface *iface)
{
  iface->init = initable_init;
}

/* GAsyncInitable: the same steps, each in a callback. The task holds @self. */

static void
init_on_get_all (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  OfflineStateClient *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!client_take_all_properties (
          self, g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  self->available = TRUE;
  client_watch_name (self);
  g_task_return_boolean (task, TRUE);
}

static void
init_on_advise (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  OfflineStateClient *self = g_task_get_source_object (task);
  GError *error = NULL;
  GDBusMessage *reply =
      g_dbus_connection_send_message_with_reply_finish (G_DBUS_CONNECTION (source), result, &error);
  char *owner = NULL;
  guint token;

  if ((token = client_take_advise_reply (reply, &owner, &error)) == 0)
    {
      g_task_return_error (task, error);
      return;
    }
  client_take_advise (self, token, owner);
  if (g_task_return_error_if_cancelled (task))
    return;
  client_get_all (self, G_DBUS_CALL_FLAGS_NONE, g_task_get_cancellable (task), init_on_get_all,
                  g_object_ref (task));
}

static void
init_on_open (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  OfflineStateClient *self = g_task_get_source_object (task);
  g_autoptr (GDBusMessage) message = NULL;
  GError *error = NULL;

  if (!take_object_path (
          self, g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  client_subscribe (self);
  message = client_advise_message (self);
  /* Once sent, an Advise makes an advise in the service whatever becomes of its reply: it
   * is not cancelled, so that its token is known and the advise is taken back when the
   * failed client goes (a cancelled open leaves nothing advised). */
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL, NULL,
                                             init_on_advise, g_object_ref (task));
}

static void
init_open (GTask *task)
{
  OfflineStateClient *self = g_task_get_source_object (task);

  g_dbus_connection_call (self->connection, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
                          OFFLINE_STATE_MANAGER_INTERFACE, "OpenOfflineObject",
                          open_parameters (self), G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                          -1, g_task_get_cancellable (task), init_on_open, task);
}

static void
init_on_bus (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  OfflineStateClient *self = g_task_get_source_object (task);
  GError *error = NULL;

  self->connection = g_bus_get_finish (result, &error);
  if (self->connection == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  init_open (task);
}

static void
async_initable_init_async (GAsyncInitable *initable,
                           int io_priority,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (initable);
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, async_initable_init_async);
  g_task_set_priority (task, io_priority);
  if (self->connection == NULL)
    g_bus_get (G_BUS_TYPE_SESSION, cancellable, init_on_bus, task);
  else
    init_open (task);
}

static gboolean
async_initable_init_finish (GAsyncInitable *initable, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, initable), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
client_async_initable_iface_init (GAsyncInitableIface *iface)
{
  iface->init_async = async_initable_init_async;
  iface->init_finish = async_initable_init_finish;
}
