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

/**
 * offline_state_list_profiles_sync:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * The names of the service's profiles (its `Profiles` property), sorted.
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
  g_autoptr (GVariant) value = NULL;

  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), NULL);
  reply = manager_call_sync (connection, PROPERTIES_INTERFACE, "Get",
                             g_variant_new ("(ss)", OFFLINE_STATE_MANAGER_INTERFACE, "Profiles"),
                             G_VARIANT_TYPE ("(v)"), cancellable, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_SIGNATURE,
                   "Profiles has the type '%s', not 'as'", g_variant_get_type_string (value));
      return NULL;
    }
  return g_variant_dup_strv (value, NULL);
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
