/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OfflineStateClient's advise: Advise with signal delivery (callback "/"), Unadvise, and the
 * signals of the profile's offline object, StateChanged emitted as notifications.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client-private.h"

/* Unique within the process: two clients on one connection share its StateChanged signals. */
static guint
next_client_token (void)
{
  static gint counter = 0;

  return (guint) g_atomic_int_add (&counter, 1) + 1;
}

/* The signals of the offline object */

static void
take_state_changed (OfflineStateClient *self, GVariant *parameters)
{
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
  client_emit_notification (self, (OfflineStatePhase) notify_type, mask,
                            (OfflineStateState) old_state, (OfflineStateState) new_state, sequence);
}

/* Both subscriptions' callback: each is to one interface, so @interface tells them apart. */
static void
on_signal (GDBusConnection *connection,
           const char *sender,
           const char *path,
           const char *interface,
           const char *signal,
           GVariant *parameters,
           gpointer user_data)
{
  OfflineStateClient *self = user_data;

  if (g_str_equal (interface, PROPERTIES_INTERFACE))
    client_take_properties_changed (self, parameters);
  else
    take_state_changed (self, parameters);
}

void
client_subscribe (OfflineStateClient *self)
{
  self->state_changed_id = g_dbus_connection_signal_subscribe (
      self->connection, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      OFFLINE_STATE_STATE_CHANGED_SIGNAL, self->object_path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_signal, self, NULL);
  self->properties_changed_id = g_dbus_connection_signal_subscribe (
      self->connection, OFFLINE_STATE_BUS_NAME, PROPERTIES_INTERFACE, "PropertiesChanged",
      self->object_path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, G_DBUS_SIGNAL_FLAGS_NONE, on_signal,
      self, NULL);
}

/* Advise and Unadvise */

/* Advise goes as a message of our own, for the reply's sender: the unique name of the
 * service instance that holds the advise, which the name watch compares owners with. */
GDBusMessage *
client_advise_message (OfflineStateClient *self)
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
guint
client_take_advise_reply (GDBusMessage *reply, char **owner, GError **error)
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

/* Takes @owner, the unique name of the service instance that holds the advise. */
void
client_take_advise (OfflineStateClient *self, guint advise_token, char *owner)
{
  guint previous = self->advise_token;

  self->advise_token = advise_token;
  g_free (self->owner);
  self->owner = owner;
  /* An advise of ours that a restarted service kept (docs/daemon.md) would
   * notify a token we no longer listen to: let it go. */
  if (previous != 0 && previous != advise_token)
    client_unadvise_quietly (self, previous);
}
