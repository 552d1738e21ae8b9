/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-call-budget.h"

/* Marks in a sender's table of calls in flight. */
#define WANTS_REPLY GINT_TO_POINTER (1)
#define DROP_REPLY  GINT_TO_POINTER (2) /* the caller wanted none: GDBus was made to send one */

#define UID_UNKNOWN G_MAXUINT

/* The calls in flight of one sender. */
typedef struct
{
  GHashTable *calls; /* serial → WANTS_REPLY or DROP_REPLY */
  guint uid;         /* whose they count for too; UID_UNKNOWN while not known */
} Sender;

struct _OsCallBudget
{
  grefcount ref;
  GDBusConnection *connection;
  guint max_per_sender;
  guint max_per_user;
  OsCallBudgetIdentifyFunc identify;
  gpointer identify_data;
  guint filter_id;
  GMutex lock; /* over everything below */
  gboolean counting;
  GHashTable *senders; /* unique name → Sender */
  GHashTable *uids;    /* unique name → Unix user, as the main thread learnt it */
  GHashTable *asked;   /* unique names whose user the main thread was asked for */
  GHashTable *users;   /* Unix user → calls in flight of its connections */
  guint64 refused;
};

static void
sender_free (Sender *sender)
{
  g_hash_table_unref (sender->calls);
  g_free (sender);
}

static OsCallBudget *
call_budget_ref (OsCallBudget *self)
{
  g_ref_count_inc (&self->ref);
  return self;
}

static void
call_budget_unref (gpointer data)
{
  OsCallBudget *self = data;

  if (!g_ref_count_dec (&self->ref))
    return;
  g_hash_table_unref (self->senders);
  g_hash_table_unref (self->uids);
  g_hash_table_unref (self->asked);
  g_hash_table_unref (self->users);
  g_mutex_clear (&self->lock);
  g_object_unref (self->connection);
  g_free (self);
}

static guint
user_calls (OsCallBudget *self, guint uid)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->users, GUINT_TO_POINTER (uid)));
}

static void
count_for_user (OsCallBudget *self, guint uid, guint add, guint take)
{
  guint calls = user_calls (self, uid) + add - take;

  if (calls == 0)
    g_hash_table_remove (self->users, GUINT_TO_POINTER (uid));
  else
    g_hash_table_insert (self->users, GUINT_TO_POINTER (uid), GUINT_TO_POINTER (calls));
}

static void
refuse (OsCallBudget *self, GDBusMessage *call, const char *why)
{
  g_autoptr (GDBusMessage) reply = NULL;

  self->refused++;
  if (g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    return;
  reply = g_dbus_message_new_method_error_literal (call, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, why);
  g_dbus_connection_send_message (self->connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                  NULL);
}

typedef struct
{
  OsCallBudget *budget;
  char *name;
} Identify;

/* Main thread: whose a busy sender is, so that its calls count for its user too. */
static gboolean
identify_in_main (gpointer data)
{
  Identify *request = data;
  gboolean counting;

  g_mutex_lock (&request->budget->lock);
  counting = request->budget->counting;
  g_mutex_unlock (&request->budget->lock);
  if (counting)
    request->budget->identify (request->budget->identify_data, request->name);
  call_budget_unref (request->budget);
  g_free (request->name);
  g_free (request);
  return G_SOURCE_REMOVE;
}

/* A sender with half its own budget in flight, whose user is not known, is asked about
 * once. */
static void
maybe_identify (OsCallBudget *self, const char *name, Sender *sender)
{
  Identify *request;

  if (sender->uid != UID_UNKNOWN || self->identify == NULL ||
      g_hash_table_size (sender->calls) < MAX (1, self->max_per_sender / 2) ||
      g_hash_table_contains (self->asked, name))
    return;
  g_hash_table_add (self->asked, g_strdup (name));
  request = g_new0 (Identify, 1);
  request->budget = call_budget_ref (self);
  request->name = g_strdup (name);
  g_idle_add (identify_in_main, request);
}

static gboolean
over_budget (OsCallBudget *self, GDBusMessage *call, const char *name, Sender *sender)
{
  g_autofree char *why = NULL;

  if (sender == NULL)
    return FALSE;
  if (g_hash_table_size (sender->calls) >= self->max_per_sender)
    why = g_strdup_printf ("%s has %u calls in flight, the most that --max-calls-per-connection "
                           "allows; wait for their replies",
                           name, g_hash_table_size (sender->calls));
  else if (sender->uid != UID_UNKNOWN && user_calls (self, sender->uid) >= self->max_per_user)
    why = g_strdup_printf ("the connections of user %u have %u calls in flight, the most that "
                           "--max-calls-per-user allows; wait for their replies",
                           sender->uid, user_calls (self, sender->uid));
  if (why == NULL)
    return FALSE;
  refuse (self, call, why);
  return TRUE;
}

static Sender *
sender_new (OsCallBudget *self, const char *name)
{
  Sender *sender = g_new0 (Sender, 1);
  gpointer uid;

  sender->calls = g_hash_table_new (NULL, NULL);
  sender->uid = g_hash_table_lookup_extended (self->uids, name, NULL, &uid) ? GPOINTER_TO_UINT (uid)
                                                                            : UID_UNKNOWN;
  g_hash_table_insert (self->senders, g_strdup (name), sender);
  return sender;
}

/* Returns what GDBus goes on with: @call, a copy that wants a reply, or NULL. A call whose
 * caller wants no reply is changed to want one, so that its end is always seen, whoever
 * answers it (the daemon, or GDBus itself for unknown methods and properties); that reply
 * is dropped on its way out. */
static GDBusMessage *
call_arrives (OsCallBudget *self, GDBusMessage *call)
{
  const char *name = g_dbus_message_get_sender (call);
  gboolean no_reply = g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED;
  Sender *sender;

  if (name == NULL)
    return call;
  sender = g_hash_table_lookup (self->senders, name);
  if (over_budget (self, call, name, sender))
    {
      g_object_unref (call);
      return NULL;
    }
  if (sender == NULL)
    sender = sender_new (self, name);
  g_hash_table_insert (sender->calls, GUINT_TO_POINTER (g_dbus_message_get_serial (call)),
                       no_reply ? DROP_REPLY : WANTS_REPLY);
  if (sender->uid != UID_UNKNOWN)
    count_for_user (self, sender->uid, 1, 0);
  maybe_identify (self, name, sender);
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
  Sender *sender;
  gpointer mark;

  if (destination == NULL || (sender = g_hash_table_lookup (self->senders, destination)) == NULL ||
      !g_hash_table_lookup_extended (sender->calls, serial, NULL, &mark))
    return FALSE;
  g_hash_table_remove (sender->calls, serial);
  if (sender->uid != UID_UNKNOWN)
    count_for_user (self, sender->uid, 0, 1);
  if (g_hash_table_size (sender->calls) == 0)
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

OsCallBudget *
os_call_budget_start (GDBusConnection *connection,
                      guint max_per_sender,
                      guint max_per_user,
                      OsCallBudgetIdentifyFunc identify,
                      gpointer identify_data)
{
  OsCallBudget *self = g_new0 (OsCallBudget, 1);

  g_ref_count_init (&self->ref);
  self->connection = g_object_ref (connection);
  self->max_per_sender = max_per_sender;
  self->max_per_user = max_per_user;
  self->identify = identify;
  self->identify_data = identify_data;
  self->counting = TRUE;
  g_mutex_init (&self->lock);
  self->senders =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) sender_free);
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->asked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->users = g_hash_table_new (NULL, NULL);
  self->filter_id =
      g_dbus_connection_add_filter (connection, filter, call_budget_ref (self), call_budget_unref);
  return self;
}

void
os_call_budget_set_user (OsCallBudget *self, const char *name, guint uid)
{
  Sender *sender;

  g_mutex_lock (&self->lock);
  if (self->counting)
    {
      g_hash_table_insert (self->uids, g_strdup (name), GUINT_TO_POINTER (uid));
      sender = g_hash_table_lookup (self->senders, name);
      if (sender != NULL && sender->uid == UID_UNKNOWN)
        {
          sender->uid = uid;
          count_for_user (self, uid, g_hash_table_size (sender->calls), 0);
        }
    }
  g_mutex_unlock (&self->lock);
}

void
os_call_budget_forget (OsCallBudget *self, const char *name)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->uids, name);
  g_hash_table_remove (self->asked, name);
  g_mutex_unlock (&self->lock);
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
  /* The filter may still run once or twice after its removal: it counts nothing from now
   * on, and the last reference goes with the last of its users. */
  g_mutex_lock (&self->lock);
  self->counting = FALSE;
  g_hash_table_remove_all (self->senders);
  g_hash_table_remove_all (self->users);
  g_mutex_unlock (&self->lock);
  g_dbus_connection_remove_filter (self->connection, self->filter_id);
  call_budget_unref (self);
}
