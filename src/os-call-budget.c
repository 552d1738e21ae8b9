/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-call-budget.h"

/* Marks in a sender's table of calls in flight. */
#define WANTS_REPLY GINT_TO_POINTER (1)
#define DROP_REPLY  GINT_TO_POINTER (2) /* the caller wanted none: GDBus was made to send one */

struct _OsCallBudget
{
  GDBusConnection *connection;
  guint max_per_sender;
  guint filter_id;
  GMutex lock;
  gboolean counting;
  GHashTable *senders; /* unique name → (serial → WANTS_REPLY or DROP_REPLY) */
  guint64 refused;
};

static void
refuse (OsCallBudget *self, GDBusMessage *call, guint in_flight)
{
  g_autoptr (GDBusMessage) reply = NULL;

  self->refused++;
  if (g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    return;
  reply = g_dbus_message_new_method_error (
      call, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED,
      "%s has %u calls in flight, the most that --max-calls-per-connection allows; wait for "
      "their replies",
      g_dbus_message_get_sender (call), in_flight);
  g_dbus_connection_send_message (self->connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                  NULL);
}

/* Returns what GDBus goes on with: @call, a copy that wants a reply, or NULL. A call whose
 * caller wants no reply is changed to want one, so that its end is always seen, whoever
 * answers it (the daemon, or GDBus itself for unknown methods and properties); that reply
 * is dropped on its way out. */
static GDBusMessage *
call_arrives (OsCallBudget *self, GDBusMessage *call)
{
  const char *sender = g_dbus_message_get_sender (call);
  gboolean no_reply = g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED;
  GHashTable *calls;

  if (sender == NULL)
    return call;
  calls = g_hash_table_lookup (self->senders, sender);
  if (calls != NULL && g_hash_table_size (calls) >= self->max_per_sender)
    {
      refuse (self, call, g_hash_table_size (calls));
      g_object_unref (call);
      return NULL;
    }
  if (calls == NULL)
    {
      calls = g_hash_table_new (NULL, NULL);
      g_hash_table_insert (self->senders, g_strdup (sender), calls);
    }
  g_hash_table_insert (calls, GUINT_TO_POINTER (g_dbus_message_get_serial (call)),
                       no_reply ? DROP_REPLY : WANTS_REPLY);
  if (no_reply)
    {
      g_autoptr (GDBusMessage) original = call;

      call = g_dbus_message_copy (original, NULL);
      g_dbus_message_set_flags (call, g_dbus_message_get_flags (original) &
                                          ~G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
    }
  return call;
}

/* TRUE when @reply answers a call whose caller wanted none. */
static gboolean
reply_leaves (OsCallBudget *self, GDBusMessage *reply)
{
  const char *destination = g_dbus_message_get_destination (reply);
  gpointer serial = GUINT_TO_POINTER (g_dbus_message_get_reply_serial (reply));
  GHashTable *calls;
  gpointer mark;

  if (destination == NULL || (calls = g_hash_table_lookup (self->senders, destination)) == NULL ||
      !g_hash_table_lookup_extended (calls, serial, NULL, &mark))
    return FALSE;
  g_hash_table_remove (calls, serial);
  if (g_hash_table_size (calls) == 0)
    g_hash_table_remove (self->senders, destination);
  return mark == DROP_REPLY;
}

/* GDBus's thread, for every message in and out; owns @message. */
static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  OsCallBudget *self = user_data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);

  g_mutex_lock (&self->lock);
  if (!self->counting)
    ;
  else if (incoming && type == G_DBUS_MESSAGE_TYPE_METHOD_CALL)
    message = call_arrives (self, message);
  else if (!incoming &&
           (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR) &&
           reply_leaves (self, message))
    g_clear_object (&message);
  g_mutex_unlock (&self->lock);
  return message;
}

static void
call_budget_free (gpointer data)
{
  OsCallBudget *self = data;

  g_hash_table_unref (self->senders);
  g_mutex_clear (&self->lock);
  g_object_unref (self->connection);
  g_free (self);
}

OsCallBudget *
os_call_budget_start (GDBusConnection *connection, guint max_per_sender)
{
  OsCallBudget *self = g_new0 (OsCallBudget, 1);

  self->connection = g_object_ref (connection);
  self->max_per_sender = max_per_sender;
  self->counting = TRUE;
  g_mutex_init (&self->lock);
  self->senders =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_hash_table_unref);
  self->filter_id = g_dbus_connection_add_filter (connection, filter, self, call_budget_free);
  return self;
}

guint64
os_call_budget_get_refused (OsCallBudget *self)
{
  guint64 refused;

  g_mutex_lock (&self->lock);
  refused = self->refused;
  g_mutex_unlock (&self->lock);
  return refused;
}

void
os_call_budget_stop (OsCallBudget *self)
{
  /* The filter may still run once or twice after its removal: it is freed when GDBus lets
   * go of it, and counts nothing from now on. */
  g_mutex_lock (&self->lock);
  self->counting = FALSE;
  g_hash_table_remove_all (self->senders);
  g_mutex_unlock (&self->lock);
  g_dbus_connection_remove_filter (self->connection, self->filter_id);
}
