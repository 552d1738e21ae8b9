/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient: one profile of the offline-state service, seen through a signal
 * advise (callback "/") and the PropertiesChanged of its offline object. Plain GDBus.
 * This file holds the class, its properties and signal, and the constructors and getters;
 * the parts that talk to the service are in the files that offline-state-client-private.h
 * names.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

/**
 * OfflineStateClient:
 *
 * One profile of the offline-state service, as an application sees it.
 *
 * Opening a client (offline_state_client_new() or offline_state_client_new_sync()) finds
 * the profile's offline object (MAPI's `HrOpenOfflineObj`), advises for its state changes
 * with signal delivery (`IMAPIOfflineMgr::Advise` with the callback path `/`), and only
 * then reads its properties: no transition can slip between the two.
 *
 * From then on the properties follow the service, and each transition of the profile
 * (that its capabilities cover) is told by three emissions of
 * [signal@OfflineState.Client::notification]: %OFFLINE_STATE_PHASE_START,
 * %OFFLINE_STATE_PHASE_STATECHANGE and %OFFLINE_STATE_PHASE_DONE. The service tells
 * property changes before the notification that follows them: during START,
 * [property@OfflineState.Client:transitioning] is already %TRUE; during STATECHANGE,
 * [property@OfflineState.Client:state] already has the new state.
 *
 * When the service leaves the bus, [property@OfflineState.Client:available] becomes
 * %FALSE; when it comes back, the client advises again, reads the properties again, and
 * [property@OfflineState.Client:available] becomes %TRUE. Disposing of the client
 * unadvises.
 *
 * Errors of the service come as GDBus gives them: g_dbus_error_get_remote_error() names
 * them, for example `org.offlinestate.OfflineState1.Error.Pending`.
 */

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_NOTIFICATION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE (OfflineStateClient,
                               offline_state_client,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, client_initable_iface_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                                                          client_async_initable_iface_init))

/* For the other files of the class: the property table and the signal stay here. */

void
client_notify (OfflineStateClient *self, guint prop_id)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

void
client_emit_notification (OfflineStateClient *self,
                          OfflineStatePhase phase,
                          guint mask,
                          OfflineStateState old_state,
                          OfflineStateState new_state,
                          guint64 sequence)
{
  g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0, phase, mask, old_state, new_state,
                 sequence);
}

void
client_unadvise_on (GDBusConnection *connection,
                    const char *owner,
                    const char *object_path,
                    guint advise_token)
{
  if (advise_token == 0 || object_path == NULL)
    return;
  /* No reply wanted, and never a reason to start the service. */
  g_dbus_connection_call (connection, owner != NULL ? owner : OFFLINE_STATE_BUS_NAME, object_path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
                          g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, advise_token), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

void
client_unadvise_quietly (OfflineStateClient *self, guint advise_token)
{
  client_unadvise_on (self->connection, NULL, self->object_path, advise_token);
}

/* GObject */

static void
offline_state_client_dispose (GObject *object)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (object);

  g_cancellable_cancel (self->readvise_cancellable);
  g_clear_object (&self->readvise_cancellable);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->watch_id != 0)
    g_bus_unwatch_name (self->watch_id);
  self->watch_id = 0;
  if (self->connection != NULL)
    {
      if (self->state_changed_id != 0)
        g_dbus_connection_signal_unsubscribe (self->connection, self->state_changed_id);
      if (self->properties_changed_id != 0)
        g_dbus_connection_signal_unsubscribe (self->connection, self->properties_changed_id);
      /* Only where the service still holds it: never start the service to unadvise. */
      if (self->owner != NULL)
        client_unadvise_quietly (self, self->advise_token);
    }
  self->state_changed_id = self->properties_changed_id = 0;
  self->advise_token = 0;
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (offline_state_client_parent_class)->dispose (object);
}

static void
offline_state_client_finalize (GObject *object)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (object);

  g_free (self->profile);
  g_free (self->object_path);
  g_free (self->owner);
  G_OBJECT_CLASS (offline_state_client_parent_class)->finalize (object);
}

static void
offline_state_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (object);

  switch (prop_id)
    {
      case PROP_CONNECTION:
        g_value_set_object (value, self->connection);
        break;
      case PROP_PROFILE:
        g_value_set_string (value, self->profile);
        break;
      case PROP_OBJECT_PATH:
        g_value_set_string (value, self->object_path);
        break;
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_ONLINE:
        g_value_set_boolean (value, self->state == OFFLINE_STATE_STATE_ONLINE);
        break;
      case PROP_CAPABILITIES:
        g_value_set_flags (value, self->capabilities);
        break;
      case PROP_TRANSITIONING:
        g_value_set_boolean (value, self->transitioning);
        break;
      case PROP_SEQUENCE:
        g_value_set_uint64 (value, self->sequence);
        break;
      case PROP_ADVISE_COUNT:
        g_value_set_uint (value, self->advise_count);
        break;
      case PROP_AVAILABLE:
        g_value_set_boolean (value, self->available);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
offline_state_client_set_property (GObject *object,
                                   guint prop_id,
                                   const GValue *value,
                                   GParamSpec *pspec)
{
  OfflineStateClient *self = OFFLINE_STATE_CLIENT (object);

  switch (prop_id)
    {
      case PROP_CONNECTION:
        self->connection = g_value_dup_object (value);
        break;
      case PROP_PROFILE:
        g_free (self->profile);
        self->profile = g_value_dup_string (value);
        if (self->profile == NULL)
          self->profile = g_strdup (OFFLINE_STATE_DEFAULT_PROFILE);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
install_properties (GObjectClass *object_class)
{
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  /**
   * OfflineStateClient:connection:
   *
   * The bus connection the service is reached on; %NULL at construction means the
   * session bus.
   */
  properties[PROP_CONNECTION] =
      g_param_spec_object ("connection", NULL, NULL, G_TYPE_DBUS_CONNECTION, construct);
  /**
   * OfflineStateClient:profile:
   *
   * The name of the profile; %NULL at construction means `default`.
   */
  properties[PROP_PROFILE] =
      g_param_spec_string ("profile", NULL, NULL, OFFLINE_STATE_DEFAULT_PROFILE, construct);
  /**
   * OfflineStateClient:object-path:
   *
   * The D-Bus object path of the profile's offline object.
   */
  properties[PROP_OBJECT_PATH] = g_param_spec_string ("object-path", NULL, NULL, NULL, ro);
  /**
   * OfflineStateClient:state:
   *
   * The profile's current state (the service's `State`). It changes when a transition
   * commits, just before the %OFFLINE_STATE_PHASE_STATECHANGE notification.
   */
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, OFFLINE_STATE_TYPE_STATE,
                                              OFFLINE_STATE_STATE_OFFLINE, ro);
  /**
   * OfflineStateClient:online:
   *
   * Whether #OfflineStateClient:state is %OFFLINE_STATE_STATE_ONLINE.
   */
  properties[PROP_ONLINE] = g_param_spec_boolean ("online", NULL, NULL, FALSE, ro);
  /**
   * OfflineStateClient:capabilities:
   *
   * Which transitions of the profile are notified (the service's `Capabilities`).
   */
  properties[PROP_CAPABILITIES] =
      g_param_spec_flags ("capabilities", NULL, NULL, OFFLINE_STATE_TYPE_CAPABILITIES,
                          OFFLINE_STATE_CAPABILITIES_NONE, ro);
  /**
   * OfflineStateClient:transitioning:
   *
   * %TRUE from the start of a transition to its end; meanwhile setting the state fails
   * with `org.offlinestate.OfflineState1.Error.Pending`.
   */
  properties[PROP_TRANSITIONING] = g_param_spec_boolean ("transitioning", NULL, NULL, FALSE, ro);
  /**
   * OfflineStateClient:sequence:
   *
   * The number of the profile's last committed transition (0 before the first).
   */
  properties[PROP_SEQUENCE] = g_param_spec_uint64 ("sequence", NULL, NULL, 0, G_MAXUINT64, 0, ro);
  /**
   * OfflineStateClient:advise-count:
   *
   * How many advises the profile has, of all clients; this client's own included.
   */
  properties[PROP_ADVISE_COUNT] =
      g_param_spec_uint ("advise-count", NULL, NULL, 0, G_MAXUINT, 0, ro);
  /**
   * OfflineStateClient:available:
   *
   * %FALSE while the service is not on the bus. When it comes back, the client advises
   * again and reads the properties again before this becomes %TRUE.
   */
  properties[PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
offline_state_client_class_init (OfflineStateClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = offline_state_client_dispose;
  object_class->finalize = offline_state_client_finalize;
  object_class->get_property = offline_state_client_get_property;
  object_class->set_property = offline_state_client_set_property;
  install_properties (object_class);

  /**
   * OfflineStateClient::notification:
   * @self: the client
   * @phase: the phase of the transition
   * @mask: the state mask, always `0x3` (MAPIOFFLINE_STATE_OFFLINE_MASK)
   * @old_state: the state before the transition
   * @new_state: the state after it
   * @sequence: the number of the transition (the #OfflineStateClient:sequence it commits)
   *
   * A notification of this client's own advise: each transition of the profile that the
   * profile's capabilities cover is told in three phases, in order. Notifications that
   * MAPI tells clients to ignore (a notify type outside 1–3, a mask other than 0x3), and
   * those with a state other than 1 or 2, are not emitted.
   */
  signals[SIGNAL_NOTIFICATION] =
      g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 5, OFFLINE_STATE_TYPE_PHASE, G_TYPE_UINT,
                    OFFLINE_STATE_TYPE_STATE, OFFLINE_STATE_TYPE_STATE, G_TYPE_UINT64);
}

static void
offline_state_client_init (OfflineStateClient *self)
{
  self->profile = g_strdup (OFFLINE_STATE_DEFAULT_PROFILE);
  self->state = OFFLINE_STATE_STATE_OFFLINE;
  self->cancellable = g_cancellable_new ();
}

/* Public API */

/**
 * offline_state_client_new:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @profile: (nullable): the profile's name, or %NULL for `default`
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the client is ready, or opening failed
 * @user_data: (closure): data for @callback
 *
 * Opens @profile asynchronously: resolves its offline object, advises for its state
 * changes, then reads its properties. Call offline_state_client_new_finish() from
 * @callback. The call starts the service by D-Bus activation where it is not running.
 */
void
offline_state_client_new (GDBusConnection *connection,
                          const char *profile,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection));
  g_async_initable_new_async (OFFLINE_STATE_TYPE_CLIENT, G_PRIORITY_DEFAULT, cancellable, callback,
                              user_data, "connection", connection, "profile", profile, NULL);
}

/**
 * offline_state_client_new_finish:
 * @result: the #GAsyncResult given to the callback of offline_state_client_new()
 * @error: return location for a #GError
 *
 * Finishes opening a profile. An unknown profile fails with the D-Bus error
 * `org.offlinestate.OfflineState1.Error.NotFound` (see g_dbus_error_get_remote_error()).
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
OfflineStateClient *
offline_state_client_new_finish (GAsyncResult *result, GError **error)
{
  g_autoptr (GObject) source = g_async_result_get_source_object (result);
  GObject *object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);

  return object != NULL ? OFFLINE_STATE_CLIENT (object) : NULL;
}

/**
 * offline_state_client_new_sync:
 * @connection: (nullable): a message bus connection, or %NULL for the session bus
 * @profile: (nullable): the profile's name, or %NULL for `default`
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for a #GError
 *
 * Opens @profile, blocking the calling thread: see offline_state_client_new(). The
 * client's signals are delivered in the thread-default main context of the caller.
 *
 * Returns: (transfer full): the client, or %NULL with @error set
 */
OfflineStateClient *
offline_state_client_new_sync (GDBusConnection *connection,
                               const char *profile,
                               GCancellable *cancellable,
                               GError **error)
{
  g_return_val_if_fail (connection == NULL || G_IS_DBUS_CONNECTION (connection), NULL);
  return g_initable_new (OFFLINE_STATE_TYPE_CLIENT, cancellable, error, "connection", connection,
                         "profile", profile, NULL);
}

/**
 * offline_state_client_get_connection:
 * @self: a client
 *
 * Returns: (transfer none): the connection the service is reached on
 */
GDBusConnection *
offline_state_client_get_connection (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), NULL);
  return self->connection;
}

/**
 * offline_state_client_get_profile:
 * @self: a client
 *
 * Returns: the profile's name
 */
const char *
offline_state_client_get_profile (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), NULL);
  return self->profile;
}

/**
 * offline_state_client_get_object_path:
 * @self: a client
 *
 * Returns: the D-Bus object path of the profile's offline object
 */
const char *
offline_state_client_get_object_path (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), NULL);
  return self->object_path;
}

/**
 * offline_state_client_get_state:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:state
 */
OfflineStateState
offline_state_client_get_state (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), OFFLINE_STATE_STATE_OFFLINE);
  return self->state;
}

/**
 * offline_state_client_get_online:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:online
 */
gboolean
offline_state_client_get_online (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), FALSE);
  return self->state == OFFLINE_STATE_STATE_ONLINE;
}

/**
 * offline_state_client_get_capabilities:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:capabilities
 */
OfflineStateCapabilities
offline_state_client_get_capabilities (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), OFFLINE_STATE_CAPABILITIES_NONE);
  return self->capabilities;
}

/**
 * offline_state_client_get_transitioning:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:transitioning
 */
gboolean
offline_state_client_get_transitioning (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), FALSE);
  return self->transitioning;
}

/**
 * offline_state_client_get_sequence:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:sequence
 */
guint64
offline_state_client_get_sequence (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), 0);
  return self->sequence;
}

/**
 * offline_state_client_get_advise_count:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:advise-count
 */
guint
offline_state_client_get_advise_count (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), 0);
  return self->advise_count;
}

/**
 * offline_state_client_get_available:
 * @self: a client
 *
 * Returns: the value of #OfflineStateClient:available
 */
gboolean
offline_state_client_get_available (OfflineStateClient *self)
{
  g_return_val_if_fail (OFFLINE_STATE_IS_CLIENT (self), FALSE);
  return self->available;
}
