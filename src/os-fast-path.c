/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-fast-path.h"

struct _OsFastPath
{
  GDBusConnection *connection;
  GStrv interfaces;
  OsFastAnswerFunc answer;
  gpointer owner;
  guint filter_id;
  gboolean answering; /* under the state lock */
};

/* The daemon's state: held by the main thread except while it polls. */
static GMutex state_lock;
/* The main thread is back from polling and waits for the lock: GDBus's thread leaves it
 * alone, or a flood of calls answered at once would keep the main loop from ever running. */
static gint main_waiting;

/* The calls to our interfaces that went to the main loop, oldest first: while there is one,
 * every call goes the same way, behind them. A call leaves when the main loop begins to
 * handle it (with every older one: the main loop takes them in order), or when its reply
 * goes out, whoever sent it (GDBus answers some itself: unknown methods, properties). Only
 * GDBus's thread adds to it. */
typedef struct
{
  GDBusMessage *message; /* not a reference: only compared */
  char *sender;
  guint32 serial;
  gboolean drop_reply; /* the caller wanted none: GDBus was made to send one, for us */
} Passed;

static GMutex passed_lock;
static GQueue passed = G_QUEUE_INIT;
/* Calls of @passed with drop_reply that the main loop has begun to handle: their replies
 * are still to be dropped. */
static GQueue awaiting_drop = G_QUEUE_INIT;
/* Calls in either queue: a reply going out looks there only when there is one. */
static gint n_tracked;

static void
passed_free (Passed *call)
{
  g_atomic_int_add (&n_tracked, -1);
  g_free (call->sender);
  g_free (call);
}

static gint
poll_unlocked (GPollFD *fds, guint n_fds, gint timeout_ms)
{
  gint ready;

  g_mutex_unlock (&state_lock);
  ready = g_poll (fds, n_fds, timeout_ms);
  g_atomic_int_set (&main_waiting, 1);
  g_mutex_lock (&state_lock);
  g_atomic_int_set (&main_waiting, 0);
  return ready;
}

void
os_state_lock_hold (GMainContext *context)
{
  g_mutex_lock (&state_lock);
  g_main_context_set_poll_func (context, poll_unlocked);
}

void
os_state_lock_release (GMainContext *context)
{
  g_main_context_set_poll_func (context, g_poll);
  g_mutex_unlock (&state_lock);
}

void
os_fast_path_dispatched (GDBusMethodInvocation *invocation)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (invocation);
  GList *link;

  g_mutex_lock (&passed_lock);
  for (link = passed.head; link != NULL; link = link->next)
    if (((Passed *) link->data)->message == message)
      break;
  while (link != NULL)
    {
      Passed *oldest = g_queue_pop_head (&passed);
      gboolean last = oldest->message == message;

      if (oldest->drop_reply)
        g_queue_push_tail (&awaiting_drop, oldest);
      else
        passed_free (oldest);
      if (last)
        break;
    }
  g_mutex_unlock (&passed_lock);
}

/* The skeleton's own vtable, and its method_call to call after noting the call. */
typedef struct
{
  GDBusInterfaceVTable vtable;
  GDBusInterfaceMethodCallFunc method_call;
} NotingVTable;

static GQuark
noting_vtable_quark (void)
{
  return g_quark_from_static_string ("offline-state-noting-vtable");
}

static void
noting_method_call (GDBusConnection *connection,
                    const char *sender,
                    const char *object_path,
                    const char *interface,
                    const char *method,
                    GVariant *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer user_data)
{
  NotingVTable *noting =
      g_type_get_qdata (G_TYPE_FROM_INSTANCE (user_data), noting_vtable_quark ());

  os_fast_path_dispatched (invocation);
  noting->method_call (connection, sender, object_path, interface, method, parameters, invocation,
                       user_data);
}

static GDBusInterfaceVTable *
noting_get_vtable (GDBusInterfaceSkeleton *skeleton)
{
  NotingVTable *noting = g_type_get_qdata (G_TYPE_FROM_INSTANCE (skeleton), noting_vtable_quark ());

  return &noting->vtable;
}

GDBusInterfaceVTable *
os_fast_path_note_dispatches (GDBusInterfaceSkeletonClass *klass)
{
  /* Lives as long as the type. gdbus-codegen's get_vtable returns one static table
   * whatever the instance, so no instance is needed to read it. */
  NotingVTable *noting = g_new0 (NotingVTable, 1);

  noting->vtable = *klass->get_vtable (NULL);
  noting->method_call = noting->vtable.method_call;
  noting->vtable.method_call = noting_method_call;
  g_type_set_qdata (G_TYPE_FROM_CLASS (klass), noting_vtable_quark (), noting);
  klass->get_vtable = noting_get_vtable;
  return &noting->vtable;
}

static gboolean
nothing_passed (void)
{
  gboolean empty;

  g_mutex_lock (&passed_lock);
  empty = g_queue_is_empty (&passed);
  g_mutex_unlock (&passed_lock);
  return empty;
}

/* With the state lock: the reply goes out before anything the main loop sends next. */
static gboolean
try_answer (OsFastPath *self, GDBusMessage *call)
{
  g_autoptr (GDBusMessage) reply = NULL;

  if (g_atomic_int_get (&main_waiting) || !g_mutex_trylock (&state_lock))
    return FALSE;
  if (self->answering)
    reply = self->answer (self->owner, g_dbus_message_get_path (call), call);
  if (reply != NULL && !(g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED))
    g_dbus_connection_send_message (self->connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                    NULL);
  g_mutex_unlock (&state_lock);
  return reply != NULL;
}

/* GDBus's thread: @reply is going out; TRUE when it answers a call whose caller wanted
 * no reply. */
static gboolean
reply_going_out (GDBusMessage *reply)
{
  const char *destination = g_dbus_message_get_destination (reply);
  guint32 serial = g_dbus_message_get_reply_serial (reply);
  GQueue *queues[] = { &passed, &awaiting_drop };
  gboolean drop = FALSE;

  if (g_atomic_int_get (&n_tracked) == 0)
    return FALSE;
  g_mutex_lock (&passed_lock);
  for (gsize q = 0; q < G_N_ELEMENTS (queues); q++)
    for (GList *link = queues[q]->head; link != NULL; link = link->next)
      {
        Passed *call = link->data;

        if (call->serial == serial && g_strcmp0 (call->sender, destination) == 0)
          {
            drop = call->drop_reply;
            g_queue_delete_link (queues[q], link);
            passed_free (call);
            goto out;
          }
      }
out:
  g_mutex_unlock (&passed_lock);
  return drop;
}

/* GDBus's thread: @call goes to the main loop, behind those before it. Returns what to
 * hand to GDBus: a call whose caller wants no reply is changed to want one, so that its
 * leaving is always seen, whatever answers it; that reply is dropped on its way out. */
static GDBusMessage *
pass (GDBusMessage *call)
{
  Passed *entry = g_new0 (Passed, 1);

  if (g_dbus_message_get_flags (call) & G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED)
    {
      g_autoptr (GDBusMessage) original = call;

      call = g_dbus_message_copy (original, NULL);
      g_dbus_message_set_flags (call, g_dbus_message_get_flags (original) &
                                          ~G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
      entry->drop_reply = TRUE;
    }
  entry->message = call;
  entry->sender = g_strdup (g_dbus_message_get_sender (call));
  entry->serial = g_dbus_message_get_serial (call);
  g_atomic_int_add (&n_tracked, 1);
  g_mutex_lock (&passed_lock);
  g_queue_push_tail (&passed, entry);
  g_mutex_unlock (&passed_lock);
  return call;
}

/* GDBus's thread, for every message in and out; owns @message. */
static GDBusMessage *
filter (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer user_data)
{
  OsFastPath *self = user_data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);
  const char *interface = g_dbus_message_get_interface (message);

  if (!incoming)
    {
      if ((type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR) &&
          reply_going_out (message))
        g_clear_object (&message);
      return message;
    }
  if (type != G_DBUS_MESSAGE_TYPE_METHOD_CALL || interface == NULL ||
      !g_strv_contains ((const char *const *) self->interfaces, interface))
    return message;
  if (nothing_passed () && try_answer (self, message))
    {
      g_object_unref (message);
      return NULL;
    }
  return pass (message);
}

static void
fast_path_free (gpointer data)
{
  OsFastPath *self = data;

  g_object_unref (self->connection);
  g_strfreev (self->interfaces);
  g_free (self);
}

OsFastPath *
os_fast_path_start (GDBusConnection *connection,
                    const char *const *interfaces,
                    OsFastAnswerFunc answer,
                    gpointer owner)
{
  OsFastPath *self = g_new0 (OsFastPath, 1);

  self->connection = g_object_ref (connection);
  self->interfaces = g_strdupv ((char **) interfaces);
  self->answer = answer;
  self->owner = owner;
  self->answering = TRUE;
  self->filter_id = g_dbus_connection_add_filter (connection, filter, self, fast_path_free);
  return self;
}

void
os_fast_path_stop (OsFastPath *self)
{
  /* The filter may still run once or twice after its removal, with @self: it is freed
   * when GDBus lets go of it, and it answers nothing from now on. */
  self->answering = FALSE;
  self->owner = NULL;
  g_dbus_connection_remove_filter (self->connection, self->filter_id);
  g_mutex_lock (&passed_lock);
  g_queue_clear_full (&passed, (GDestroyNotify) passed_free);
  g_queue_clear_full (&awaiting_drop, (GDestroyNotify) passed_free);
  g_mutex_unlock (&passed_lock);
}
