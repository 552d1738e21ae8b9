/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The service's profiles, through its manager object: list, create, remove.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

static GDBusConnection *
manager_connection (GDBusConnection *connection, GCancellable *cancellable, GError **error)
{
  if (connection != NULL)
    return g_object_ref (connection);
  return g_bus_get_sync (G_BUS_TYPE_SESSION, cancellable, error);
}

static GVariant *
manager_call_sync (GDBusConnection *connection,
                   const char *interface,
                   const char *method,
                   GVariant *parameters,
                   const GVariantType *reply_type,
                   GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (GDBusConnection) bus = manager_connection (connection, cancellable, error);

  if (bus == NULL)
    {
      g_variant_unref (g_variant_ref_sink (parameters));
      return NULL;
    }
  return g_dbus_connection_call_sync (bus, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
                                      interface, method, parameters, reply_type,
                                      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
}

/* The value of the Profiles property in @reply, a reply to Properties.Get. */
static char **
profiles_from_reply (GVariant *reply, GError **error)
{
  g_autoptr (GVariant) value = NULL;

  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_SIGNATURE,
                   "Profiles has the type '%s', not 'as'", g_variant_get_type_string (value));
      return NULL;
    }
  return g_variant_dup_strv (value, NULL);
}

static GVariant *
profiles_get_parameters (void)
{
  return g_variant_new ("(ss)", OFFLINE_STATE_MANAGER_INTERFACE, "Profiles");
}

/**
 * offline_state_list_profiles_sync:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The names of the service's profiles (its `Profiles` property), sorted, blocking the
 * calling thread: see offline_state_list_profiles() for a main loop that must not wait.
 *
 * Returns: (transfer full) (array zero-terminated=1): the profile names, or %NULL with
 *   @error set
 */
char **
offline_state_list_profiles_sync (GDBusConnection *connection,
                                  GCancellable *cancellable,
                                  GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), NULL);
  reply = manager_call_sync (connection, PROPERTIES_INTERFACE, "Get", profiles_get_parameters (),
                             G_VARIANT_TYPE ("(v)"), cancellable, error);
  if (reply == NULL)
    return NULL;
  return profiles_from_reply (reply, error);
}

static void
on_list_profiles_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;
  char **profiles;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL || (profiles = profiles_from_reply (reply, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, profiles, (GDestroyNotify) g_strfreev);
}

static void
list_profiles_on (GDBusConnection *bus, GTask *task)
{
  g_dbus_connection_call (bus, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
                          PROPERTIES_INTERFACE, "Get", profiles_get_parameters (),
                          G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          g_task_get_cancellable (task), on_list_profiles_reply, task);
}

static void
on_list_profiles_bus (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  g_autoptr (GDBusConnection) bus = NULL;
  GError *error = NULL;

  bus = g_bus_get_finish (result, &error);
  if (bus == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  list_profiles_on (bus, task);
}

/**
 * offline_state_list_profiles:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the names are there, or the call failed
 * @user_data: (closure): data for @callback
 *
 * Asks for the names of the service's profiles (its `Profiles` property) without blocking:
 * @callback gets them from offline_state_list_profiles_finish(). The manager object emits
 * `PropertiesChanged` when a profile is created or removed.
 */
void
offline_state_list_profiles (GDBusConnection *connection,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  GTask *task;

  g_return_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection));
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, offline_state_list_profiles);
  if (connection == NULL)
    g_bus_get (G_BUS_TYPE_SESSION, cancellable, on_list_profiles_bus, task);
  else
    list_profiles_on (connection, task);
}

/**
 * offline_state_list_profiles_finish:
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes offline_state_list_profiles().
 *
 * Returns: (transfer full) (array zero-terminated=1): the profile names, sorted, or %NULL
 *   with @error set
 */
char **
offline_state_list_profiles_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, offline_state_list_profiles), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * offline_state_create_profile_sync:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @profile: the new profile's name: 1 to 255 bytes of UTF-8 without control characters
 * @capabilities: which of its transitions are notified
 * @initial_state: the state it starts in
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Creates a profile (MAPI's `HrCreateOfflineObj`). A profile of that name exists:
 * `org.offlinestate.OfflineState1.Error.Exists`.
 *
 * Returns: %TRUE on success
 */
gboolean
offline_state_create_profile_sync (GDBusConnection *connection,
                                   const char *profile,
                                   OfflineStateCapabilities capabilities,
                                   OfflineStateState initial_state,
                                   GCancellable *cancellable,
                                   GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (profile != NULL, FALSE);
  reply = manager_call_sync (
      connection, OFFLINE_STATE_MANAGER_INTERFACE, "CreateOfflineObject",
      g_variant_new ("(suu)", profile, (guint) capabilities, (guint) initial_state),
      G_VARIANT_TYPE ("(o)"), cancellable, error);
  return reply != NULL;
}

/**
 * offline_state_remove_profile_sync:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @profile: the profile's name
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Removes a profile, its persisted state and all its advises. Unknown:
 * `org.offlinestate.OfflineState1.Error.NotFound`; during a transition of it:
 * `org.offlinestate.OfflineState1.Error.Pending`.
 *
 * Returns: %TRUE on success
 */
gboolean
offline_state_remove_profile_sync (GDBusConnection *connection,
                                   const char *profile,
                                   GCancellable *cancellable,
                                   GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (profile != NULL, FALSE);
  reply =
      manager_call_sync (connection, OFFLINE_STATE_MANAGER_INTERFACE, "RemoveOfflineObject",
                         g_variant_new ("(s)", profile), G_VARIANT_TYPE_UNIT, cancellable, error);
  return reply != NULL;
}
