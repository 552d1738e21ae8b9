/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient's properties as the service has them: read whole with
 * Properties.GetAll, then followed through PropertiesChanged.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

static void
set_uint_field (OfflineStateClient *self, guint *field, guint value, guint prop_id)
{
  if (*field == value)
    return;
  *field = value;
  client_notify (self, prop_id);
}

static void
set_state_field (OfflineStateClient *self, guint state)
{
  gboolean was_online = self->state == OFFLINE_STATE_STATE_ONLINE;

  /* GetCurrentState and State are exactly 1 or 2 (the OfflineMgr reference); anything else is not
   * ours to show. */
  if (state != OFFLINE_STATE_STATE_OFFLINE && state != OFFLINE_STATE_STATE_ONLINE)
    return;
  set_uint_field (self, &self->state, state, PROP_STATE);
  if (was_online != (self->state == OFFLINE_STATE_STATE_ONLINE))
    client_notify (self, PROP_ONLINE);
}

static void
set_sequence_field (OfflineStateClient *self, guint64 sequence)
{
  if (self->sequence == sequence)
    return;
  self->sequence = sequence;
  client_notify (self, PROP_SEQUENCE);
}

void
client_set_available (OfflineStateClient *self, gboolean available)
{
  set_uint_field (self, (guint *) &self->available, !!available, PROP_AVAILABLE);
}

static void
apply_property (OfflineStateClient *self, const char *name, GVariant *value)
{
  if (g_str_equal (name, "State") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    set_state_field (self, g_variant_get_uint32 (value));
  else if (g_str_equal (name, "Capabilities") &&
           g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    set_uint_field (self, &self->capabilities,
                    g_variant_get_uint32 (value) & MAPIOFFLINE_STATE_OFFLINE_MASK,
                    PROP_CAPABILITIES);
  else if (g_str_equal (name, "Transitioning") &&
           g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    set_uint_field (self, (guint *) &self->transitioning, g_variant_get_boolean (value),
                    PROP_TRANSITIONING);
  else if (g_str_equal (name, "Sequence") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    set_sequence_field (self, g_variant_get_uint64 (value));
  else if (g_str_equal (name, "AdviseCount") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    set_uint_field (self, &self->advise_count, g_variant_get_uint32 (value), PROP_ADVISE_COUNT);
}

/* @dict is a{sv}. Notifications are held back until every value is in place, so that a
 * handler of one sees the others as the service had them together. */
static void
apply_properties (OfflineStateClient *self, GVariant *dict)
{
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_object_freeze_notify (G_OBJECT (self));
  g_variant_iter_init (&iter, dict);
  while (g_variant_iter_next (&iter, "{&sv}", &name, &value))
    {
      apply_property (self, name, value);
      g_variant_unref (value);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* Properties.GetAll of the profile's OfflineMgr: the reply is (a{sv}). */
void
client_get_all (OfflineStateClient *self,
                GDBusCallFlags flags,
                GCancellable *cancellable,
                GAsyncReadyCallback callback,
                gpointer user_data)
{
  g_dbus_connection_call (self->connection, OFFLINE_STATE_BUS_NAME, self->object_path,
                          PROPERTIES_INTERFACE, "GetAll",
                          g_variant_new ("(s)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE),
                          G_VARIANT_TYPE ("(a{sv})"), flags, -1, cancellable, callback, user_data);
}

GVariant *
client_get_all_sync (OfflineStateClient *self, GCancellable *cancellable, GError **error)
{
  return g_dbus_connection_call_sync (
      self->connection, OFFLINE_STATE_BUS_NAME, self->object_path, PROPERTIES_INTERFACE, "GetAll",
      g_variant_new ("(s)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE), G_VARIANT_TYPE ("(a{sv})"),
      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
}

/* Takes @reply, GetAll's; FALSE where it is NULL (the call failed). */
gboolean
client_take_all_properties (OfflineStateClient *self, GVariant *reply)
{
  g_autoptr (GVariant) dict = NULL;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(@a{sv})", &dict);
  g_variant_unref (reply);
  apply_properties (self, dict);
  return TRUE;
}

static void
on_refresh_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  /* Cancelled: @user_data may be gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!client_take_all_properties (user_data, reply))
    g_debug ("Reading the properties again failed: %s", error->message);
}

/* For properties that the service invalidated instead of sending their values. */
static void
refresh_properties (OfflineStateClient *self)
{
  client_get_all (self, G_DBUS_CALL_FLAGS_NO_AUTO_START, self->cancellable, on_refresh_done, self);
}

/* @parameters: those of a PropertiesChanged of the profile's offline object. */
void
client_take_properties_changed (OfflineStateClient *self, GVariant *parameters)
{
  g_autoptr (GVariant) changed = NULL;
  g_autofree const char **invalidated = NULL;
  const char *iface;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (parameters, "(&s@a{sv}^a&s)", &iface, &changed, &invalidated);
  if (!g_str_equal (iface, OFFLINE_STATE_OFFLINE_MGR_INTERFACE))
    return;
  apply_properties (self, changed);
  if (invalidated != NULL && invalidated[0] != NULL)
    refresh_properties (self);
}
