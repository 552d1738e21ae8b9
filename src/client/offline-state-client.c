/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient: one profile of the offline-state service, seen through a signal
 * advise (callback "/") and the PropertiesChanged of its offline object. Plain GDBus.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

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
  /* Re-advising after the service came back; cancelled when it goes again, and on dispose. */
  GCancellable *readvise_cancellable;
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

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_NOTIFICATION,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void offline_state_client_initable_iface_init (GInitableIface *iface);
static void offline_state_client_async_initable_iface_init (GAsyncInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (
    OfflineStateClient,
    offline_state_client,
    G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, offline_state_client_initable_iface_init)
        G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                               offline_state_client_async_initable_iface_init))

/* Unique within the process: two clients on one connection share its StateChanged signals. */
static guint
next_client_token (void)
{
  static gint counter = 0;

  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

/* Following the service's properties */

static void
set_uint_field (OfflineStateClient *self, guint *field, guint value, GParamSpec *pspec)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), pspec);
}

static void
set_state_field (OfflineStateClient *self, guint state)
{
  gboolean was_online = self->state == OFFLINE_STATE_STATE_ONLINE;

  /* GetCurrentState and State are exactly 1 or 2 (the OfflineMgr reference); anything else is not
   * ours to show. */
  if (state != OFFLINE_STATE_STATE_OFFLINE && state != OFFLINE_STATE_STATE_ONLINE)
    return;
  set_uint_field (self, &self->state, state, properties[PROP_STATE]);
  if (was_online != (self->state == OFFLINE_STATE_STATE_ONLINE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ONLINE]);
}

static void
set_sequence_field (OfflineStateClient *self, guint64 sequence)
{
  if (self->sequence == sequence)
    return;
  self->sequence = sequence;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEQUENCE]);
}

static void
set_available (OfflineStateClient *self, gboolean available)
{
  set_uint_field (self, (guint *) &self->available, !!available, properties[PROP_AVAILABLE]);
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
                    properties[PROP_CAPABILITIES]);
  else if (g_str_equal (name, "Transitioning") &&
           g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    set_uint_field (self, (guint *) &self->transitioning, g_variant_get_boolean (value),
                    properties[PROP_TRANSITIONING]);
  else if (g_str_equal (name, "Sequence") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    set_sequence_field (self, g_variant_get_uint64 (value));
  else if (g_str_equal (name, "AdviseCount") && g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    set_uint_field (self, &self->advise_count, g_variant_get_uint32 (value),
                    properties[PROP_ADVISE_COUNT]);
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

static void get_all (OfflineStateClient *self,
                     GDBusCallFlags flags,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data);
static gboolean take_all_properties (OfflineStateClient *self, GVariant *reply);

static void
on_refresh_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  /* Cancelled: @user_data may be gone. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!take_all_properties (user_data, reply))
    g_debug ("Reading the properties again failed: %s", error->message);
}

/* For properties that the service invalidated instead of sending their values. */
static void
refresh_properties (OfflineStateClient *self)
{
  get_all (self, G_DBUS_CALL_FLAGS_NO_AUTO_START, self->cancellable, on_refresh_done, self);
}

static void
on_properties_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  OfflineStateClient *self = user_data;
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

/* Notifications of our advise */

static void
on_state_changed (GDBusConnection *connection,
                  const char *sender,
                  const char *path,
                  const char *interface,
                  const char *signal,
                  GVariant *parameters,
                  gpointer user_data)
{
  OfflineStateClient *self = user_data;
  guint notify_type, client_token, mask, old_state, new_state;
  guint64 sequence;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(uuuuut)")))
    return;
  g_variant_get (parameters, "(uuuuut)", &notify_type, &client_token, &mask, &old_state, &new_state,
                 &sequence);
  if (client_token != self->client_token || self->advise_token == 0)
    return;
  /* MAPI's rule (the OfflineMgr reference's transition): a client ignores a notify type outside 1-3
   * or a mask other than 0x3. */
  if (notify_type < MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START ||
      notify_type > MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE ||
      mask != MAPIOFFLINE_STATE_OFFLINE_MASK)
    return;
  /* The signal's arguments are typed: a state that is neither 1 nor 2 has no value there. */
  if ((old_state != OFFLINE_STATE_STATE_OFFLINE && old_state != OFFLINE_STATE_STATE_ONLINE) ||
      (new_state != OFFLINE_STATE_STATE_OFFLINE && new_state != OFFLINE_STATE_STATE_ONLINE))
    return;
  g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0, (OfflineStatePhase) notify_type, mask,
                 (OfflineStateState) old_state, (OfflineStateState) new_state, sequence);
}

static void
subscribe (OfflineStateClient *self)
{
  self->state_changed_id = g_dbus_connection_signal_subscribe (
      self->connection, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      OFFLINE_STATE_STATE_CHANGED_SIGNAL, self->object_path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_state_changed, self, NULL);
  self->properties_changed_id = g_dbus_connection_signal_subscribe (
      self->connection, OFFLINE_STATE_BUS_NAME, PROPERTIES_INTERFACE, "PropertiesChanged",
      self->object_path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, G_DBUS_SIGNAL_FLAGS_NONE,
      on_properties_changed, self, NULL);
}

/* The calls that make up opening a profile, each in a sync and an async form */

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

/* Advise goes as a message of our own, for the reply's sender: the unique name of the
 * service instance that holds the advise, which the name watch compares owners with. */
static GDBusMessage *
advise_message (OfflineStateClient *self)
{
  GDBusMessage *message = g_dbus_message_new_method_call (
      OFFLINE_STATE_BUS_NAME, self->object_path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise");

  self->client_token = next_client_token ();
  g_dbus_message_set_body (
      message, g_variant_new ("(uuuouu)", MAPIOFFLINE_ADVISE_DEFAULT, self->client_token,
                              MAPIOFFLINE_CALLBACK_TYPE_NOTIFY, OFFLINE_STATE_SIGNAL_CALLBACK_PATH,
                              MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, MAPIOFFLINE_STATE_OFFLINE_MASK));
  return message;
}

/* Takes @reply; returns the advise token, or 0 with @error set. */
static guint
take_advise_reply (GDBusMessage *reply, char **owner, GError **error)
{
  g_autoptr (GDBusMessage) message = reply;
  GVariant *body;
  guint token;

  if (message == NULL)
    return 0;
  if (g_dbus_message_to_gerror (message, error))
    return 0;
  body = g_dbus_message_get_body (message);
  if (body == NULL || !g_variant_is_of_type (body, G_VARIANT_TYPE ("(u)")))
    {
      g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_SIGNATURE,
                   "Advise replied with a value that is not (u)");
      return 0;
    }
  g_variant_get (body, "(u)", &token);
  *owner = g_strdup (g_dbus_message_get_sender (message));
  return token;
}

static void
unadvise_quietly (OfflineStateClient *self, guint advise_token)
{
  if (advise_token == 0 || self->object_path == NULL)
    return;
  /* No reply wanted, and never a reason to start the service. */
  g_dbus_connection_call (self->connection, OFFLINE_STATE_BUS_NAME, self->object_path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
                          g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, advise_token), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
}

static void
take_advise (OfflineStateClient *self, guint advise_token, char *owner)
{
  guint previous = self->advise_token;

  self->advise_token = advise_token;
  g_free (self->owner);
  self->owner = owner;
  /* An advise of ours that a restarted service kept (docs/daemon.md) would
   * notify a token we no longer listen to: let it go. */
  if (previous != 0 && previous != advise_token)
    unadvise_quietly (self, previous);
}

/* Properties.GetAll of the profile's OfflineMgr: the reply is (a{sv}). */
static void
get_all (OfflineStateClient *self,
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

static GVariant *
get_all_sync (OfflineStateClient *self, GCancellable *cancellable, GError **error)
{
  return g_dbus_connection_call_sync (
      self->connection, OFFLINE_STATE_BUS_NAME, self->object_path, PROPERTIES_INTERFACE, "GetAll",
      g_variant_new ("(s)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE), G_VARIANT_TYPE ("(a{sv})"),
      G_DBUS_CALL_FLAGS_NONE, -1, cancellable, error);
}

static gboolean
take_all_properties (OfflineStateClient *self, GVariant *reply)
{
  g_autoptr (GVariant) dict = NULL;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(@a{sv})", &dict);
  g_variant_unref (reply);
  apply_properties (self, dict);
  return TRUE;
}

/* Following the service's name */

static void readvise (OfflineStateClient *self);

static void
on_name_appeared (GDBusConnection *connection,
                  const char *name,
                  const char *owner,
                  gpointer user_data)
{
  OfflineStateClient *self = user_data;

  if (g_strcmp0 (owner, self->owner) == 0)
    {
      set_available (self, TRUE);
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
  set_available (self, FALSE);
}

static void
watch_name (OfflineStateClient *self)
{
  self->watch_id = g_bus_watch_name_on_connection (self->connection, OFFLINE_STATE_BUS_NAME,
                                                   G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared,
                                                   on_name_vanished, self, NULL);
}

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
  if (!take_all_properties (self, reply))
    {
      g_debug ("%s: reading the properties again failed: %s", self->profile, error->message);
      return;
    }
  set_available (self, TRUE);
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
  token = take_advise_reply (reply, &owner, &error);
  if (token == 0)
    {
      g_debug ("%s: advising again failed: %s", self->profile, error->message);
      return;
    }
  take_advise (self, token, owner);
  get_all (self, G_DBUS_CALL_FLAGS_NONE, self->readvise_cancellable, on_readvise_get_all, self);
}

static void
readvise (OfflineStateClient *self)
{
  g_autoptr (GDBusMessage) message = advise_message (self);

  g_cancellable_cancel (self->readvise_cancellable);
  g_clear_object (&self->readvise_cancellable);
  self->readvise_cancellable = g_cancellable_new ();
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL,
                                             self->readvise_cancellable, on_readvise_advise, self);
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
  subscribe (self);
  message = advise_message (self);
  reply = g_dbus_connection_send_message_with_reply_sync (
      self->connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL, cancellable, error);
  if ((token = take_advise_reply (reply, &owner, error)) == 0)
    return FALSE;
  take_advise (self, token, owner);
  if (!take_all_properties (self, get_all_sync (self, cancellable, error)))
    return FALSE;
  self->available = TRUE;
  watch_name (self);
  return TRUE;
}

static void
offline_state_client_initable_iface_init (GInitableIface *iface)
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

  if (!take_all_properties (
          self, g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error)))
    {
      g_task_return_error (task, error);
      return;
    }
  self->available = TRUE;
  watch_name (self);
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

  if ((token = take_advise_reply (reply, &owner, &error)) == 0)
    {
      g_task_return_error (task, error);
      return;
    }
  take_advise (self, token, owner);
  get_all (self, G_DBUS_CALL_FLAGS_NONE, g_task_get_cancellable (task), init_on_get_all,
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
  subscribe (self);
  message = advise_message (self);
  g_dbus_connection_send_message_with_reply (
      self->connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL,
      g_task_get_cancellable (task), init_on_advise, g_object_ref (task));
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

static void
offline_state_client_async_initable_iface_init (GAsyncInitableIface *iface)
{
  iface->init_async = async_initable_init_async;
  iface->init_finish = async_initable_init_finish;
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
        unadvise_quietly (self, self->advise_token);
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

/* Setting the state */

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
