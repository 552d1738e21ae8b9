/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Setting the state of OfflineStateClient's profile (SetCurrentState), async and sync.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

static GVariant *
set_state_parameters (OfflineStateState state, gboolean block)
{
  return g_variant_new ("(uuu)", block ? MAPIOFFLINE_FLAG_BLOCK : MAPIOFFLINE_FLAG_DEFAULT,
                        MAPIOFFLINE_STATE_OFFLINE_MASK, (guint) state);
}

/* A BLOCK call lasts as long as the transition, which callbacks and the emulated delay
 * stretch past any fixed time-out: the cancellable is the way to stop waiting. */
static int
set_state_timeout (gboolean block)
{
  return block ? G_MAXINT : -1;
}

static void
on_set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_variant_unref (reply);
  g_task_return_boolean (task, TRUE);
}

/**
 * offline_state_client_set_state_async:
 * @self: a client
 * @state: the state to go to
 * @block: %TRUE to complete once the transition is over (MAPIOFFLINE_FLAG_BLOCK),
 *   %FALSE to complete once it has started
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the call completes
 * @user_data: (closure): data for @callback
 *
 * Sets the profile's state (`IMAPIOffline::SetCurrentState`). Asking for the current
 * state succeeds and changes nothing. During a transition it fails with
 * `org.offlinestate.OfflineState1.Error.Pending`.
 */
void
offline_state_client_set_state_async (OfflineStateClient *self,
                                      OfflineStateState state,
                                      gboolean block,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task;

  g_return_if_fail (OFFLINE_STATE_IS_CLIENT (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, offline_state_client_set_state_async);
  g_dbus_connection_call (self->connection, OFFLINE_STATE_BUS_NAME, self->object_path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                          set_state_parameters (state, block), G_VARIANT_TYPE_UNIT,
                          G_DBUS_CALL_FLAGS_NONE, set_state_timeout (block), cancellable,
                          on_set_state_done, task);
}

/**
 * offline_state_client_set_state_finish:
 * @self: a client
 * @result: the #GAsyncResult given to the callback
 * @error: return location for a #GError
 *
 * Finishes offline_state_client_set_state_async(). Errors of the service come as GDBus
 * gives them: g_dbus_error_get_remote_error() names them.
 *
 * Returns: %TRUE on success
 */
gboolean
offline_state_client_set_state_finish (OfflineStateClient *self,
                                       GAsyncResult *result,
                                       GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * offline_state_client_set_state_sync:
 * @self: a client
 * @state: the state to go to
 * @block: %TRUE to return once the transition is over, %FALSE once it has started
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Sets the profile's state, blocking the calling thread: see
 * offline_state_client_set_state_async(). The notifications of the transition are
 * delivered afterwards, by the main context.
 *
 * Returns: %TRUE on success
 */
gboolean
offline_state_client_set_state_sync (OfflineStateClient *self,
                                     OfflineStateState state,
                                     gboolean block,
                                     GCancellable *cancellable,
                                     GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), FALSE);
  reply = g_dbus_connection_call_sync (
      self->connection, OFFLINE_STATE_BUS_NAME, self->object_path,
      OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState", set_state_parameters (state, block),
      G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NONE, set_state_timeout (block), cancellable, error);
  return reply != NULL;
}
