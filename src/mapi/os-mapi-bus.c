/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The library's thread and its connection. MAPI calls IMAPIOfflineNotify::Notify in a
 * program that may have no GLib main loop (an Outlook add-in has none), so the connection
 * belongs to a thread of the library's, which runs the main context where the connection's
 * calls arrive. Every advise has an OfflineNotify object under OFFLINE_STATE_MAPI_CALLBACK_PATH
 * (one subtree, registered once from that thread, so that an Advise made from any thread,
 * or from inside a Notify, needs nothing from it). A Notify call is answered once the
 * program's Notify has returned: the service waits for that answer before the next phase and
 * before it answers a BLOCK SetCurrentState.
 */
#include "os-dbus-generated.h"
#include "os-mapi-private.h"

/* How the thread ends: joined by whoever dropped the last reference, or on its own when that
 * was the thread itself, inside a Notify. */
enum
{
  RUNNING,
  STOP_JOINED,
  STOP_DETACHED,
};

struct _OsMapiBus
{
  int refs; /* under buses_lock */
  char *address;
  GThread *thread;
  GMainContext *context; /* the thread's */
  int stopping;          /* atomic */

  GMutex lock;
  GCond cond; /* the connection made or failed; a Notify ended */
  gboolean started;
  GError *error;
  GDBusConnection *connection;
  guint subtree_id;
  GHashTable *advises; /* node name → OsMapiAdvise (a reference), those advised */
  GHashTable *running; /* offline object path → Notify calls under way to its advises */
  guint last_node;
};

/* The bus outlives its advises: its offline objects hold it until they have removed theirs,
 * and a Notify that holds one ends before the thread does. */
struct _OsMapiAdvise
{
  int refs; /* atomic */
  OsMapiBus *bus;
  char *object_path;
  char *node;
  char *callback_path;
  ULONG token; /* the offline object's to read and write, under its lock */

  /* Under the bus's lock */
  IMAPIOfflineNotify *callback; /* NULL once released */
  guint running;
  gboolean removed;
};

/* The bus that new offline objects share, while its connection is open. */
static GMutex buses_lock;
static OsMapiBus *current_bus;

/* Advises */

static OsMapiAdvise *
advise_ref (OsMapiAdvise *advise)
{
  g_atomic_int_inc (&advise->refs);
  return advise;
}

static void
advise_unref (OsMapiAdvise *advise)
{
  if (!g_atomic_int_dec_and_test (&advise->refs))
    return;
  g_free (advise->object_path);
  g_free (advise->node);
  g_free (advise->callback_path);
  g_free (advise);
}

OsMapiAdvise *
os_mapi_advise_new (OsMapiBus *bus,
                    const char *object_path,
                    IMAPIOfflineNotify *callback,
                    ULONG client_token)
{
  OsMapiAdvise *advise = g_new0 (OsMapiAdvise, 1);

  advise->refs = 1;
  advise->bus = bus;
  advise->object_path = g_strdup (object_path);
  advise->callback = callback;
  g_mutex_lock (&bus->lock);
  advise->node = g_strdup_printf ("%u", ++bus->last_node);
  g_hash_table_insert (bus->advises, advise->node, advise_ref (advise));
  g_mutex_unlock (&bus->lock);
  advise->callback_path = g_strdup_printf ("%s/%s", OFFLINE_STATE_MAPI_CALLBACK_PATH, advise->node);
  return advise;
}

const char *
os_mapi_advise_get_callback_path (OsMapiAdvise *advise)
{
  return advise->callback_path;
}

ULONG
os_mapi_advise_get_token (OsMapiAdvise *advise) { return advise->token; }

void
os_mapi_advise_set_token (OsMapiAdvise *advise, ULONG token)
{
  advise->token = token;
}

void
os_mapi_advise_remove (OsMapiAdvise *advise)
{
  OsMapiBus *bus = advise->bus;
  IMAPIOfflineNotify *callback = NULL;
  gboolean was_advised;

  g_mutex_lock (&bus->lock);
  was_advised = g_hash_table_steal (bus->advises, advise->node);
  advise->removed = TRUE;
  if (advise->running == 0)
    callback = g_steal_pointer (&advise->callback);
  g_mutex_unlock (&bus->lock);
  if (callback != NULL)
    IMAPIOfflineNotify_Release (callback);
  if (was_advised)
    advise_unref (advise);
  advise_unref (advise);
}

/* Notify */

static void
count_running (OsMapiBus *bus, const char *object_path, int delta)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (bus->running, object_path)) + delta;

  if (n == 0)
    g_hash_table_remove (bus->running, object_path);
  else
    g_hash_table_replace (bus->running, g_strdup (object_path), GUINT_TO_POINTER (n));
}

/* The advise of @node, held for one Notify; NULL when there is none (any more). */
static OsMapiAdvise *
notify_begin (OsMapiBus *bus, const char *node)
{
  OsMapiAdvise *advise;

  g_mutex_lock (&bus->lock);
  advise = g_hash_table_lookup (bus->advises, node);
  if (advise != NULL)
    {
      advise->running++;
      count_running (bus, advise->object_path, 1);
      advise_ref (advise);
    }
  g_mutex_unlock (&bus->lock);
  return advise;
}

static void
notify_end (OsMapiAdvise *advise)
{
  OsMapiBus *bus = advise->bus;
  IMAPIOfflineNotify *callback = NULL;

  g_mutex_lock (&bus->lock);
  advise->running--;
  count_running (bus, advise->object_path, -1);
  if (advise->removed && advise->running == 0)
    callback = g_steal_pointer (&advise->callback);
  g_cond_broadcast (&bus->cond);
  g_mutex_unlock (&bus->lock);
  if (callback != NULL)
    IMAPIOfflineNotify_Release (callback);
  advise_unref (advise);
}

/* What the service sent, as MAPI passes it: a notification of another type or mask too (the
 * Emulation interface sends some), which MAPI's pages tell the program to ignore. */
static void
on_notify (GDBusConnection *connection,
           const char *sender,
           const char *object_path,
           const char *interface_name,
           const char *method_name,
           GVariant *parameters,
           GDBusMethodInvocation *invocation,
           gpointer user_data)
{
  OsMapiAdvise *advise = notify_begin (user_data, strrchr (object_path, '/') + 1);
  MAPIOFFLINE_NOTIFY notify = { sizeof notify };
  guint32 notify_type;
  guint64 sequence;

  if (advise == NULL)
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT,
                                             "no advise at %s", object_path);
      return;
    }
  g_variant_get (parameters, "(uuuuut)", &notify_type, &notify.ulClientToken,
                 &notify.Info.StateChange.ulMask, &notify.Info.StateChange.ulStateOld,
                 &notify.Info.StateChange.ulStateNew, &sequence);
  notify.NotifyType = (MAPIOFFLINE_NOTIFY_TYPE) notify_type;
  IMAPIOfflineNotify_Notify (advise->callback, &notify);
  g_dbus_method_invocation_return_value (invocation, NULL);
  notify_end (advise);
}

static const GDBusInterfaceVTable notify_vtable = { .method_call = on_notify };

static char **
subtree_enumerate (GDBusConnection *connection,
                   const char *sender,
                   const char *object_path,
                   gpointer user_data)
{
  OsMapiBus *bus = user_data;
  g_autoptr (GStrvBuilder) nodes = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer node;

  g_mutex_lock (&bus->lock);
  g_hash_table_iter_init (&iter, bus->advises);
  while (g_hash_table_iter_next (&iter, &node, NULL))
    g_strv_builder_add (nodes, node);
  g_mutex_unlock (&bus->lock);
  return g_strv_builder_end (nodes);
}

static GDBusInterfaceInfo **
subtree_introspect (GDBusConnection *connection,
                    const char *sender,
                    const char *object_path,
                    const char *node,
                    gpointer user_data)
{
  GDBusInterfaceInfo **interfaces;

  if (node == NULL)
    return NULL;
  interfaces = g_new0 (GDBusInterfaceInfo *, 2);
  interfaces[0] = g_dbus_interface_info_ref (os_dbus_offline_notify_interface_info ());
  return interfaces;
}

static const GDBusInterfaceVTable *
subtree_dispatch (GDBusConnection *connection,
                  const char *sender,
                  const char *object_path,
                  const char *interface_name,
                  const char *node,
                  gpointer *out_user_data,
                  gpointer user_data)
{
  *out_user_data = user_data;
  if (node == NULL || g_strcmp0 (interface_name, OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE) != 0)
    return NULL;
  return &notify_vtable;
}

static const GDBusSubtreeVTable subtree_vtable = {
  .enumerate = subtree_enumerate,
  .introspect = subtree_introspect,
  .dispatch = subtree_dispatch,
};

/* The thread */

static void
bus_connect (OsMapiBus *bus)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection =
      g_dbus_connection_new_for_address_sync (bus->address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);

  if (connection != NULL)
    bus->subtree_id = g_dbus_connection_register_subtree (
        connection, OFFLINE_STATE_MAPI_CALLBACK_PATH, &subtree_vtable,
        G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES, bus, NULL, &error);
  g_mutex_lock (&bus->lock);
  if (bus->subtree_id != 0)
    bus->connection = g_steal_pointer (&connection);
  else
    bus->error = g_steal_pointer (&error);
  bus->started = TRUE;
  g_cond_broadcast (&bus->cond);
  g_mutex_unlock (&bus->lock);
}

static void
bus_free (OsMapiBus *bus)
{
  g_clear_pointer (&bus->context, g_main_context_unref);
  g_clear_error (&bus->error);
  g_hash_table_unref (bus->advises);
  g_hash_table_unref (bus->running);
  g_mutex_clear (&bus->lock);
  g_cond_clear (&bus->cond);
  g_free (bus->address);
  g_free (bus);
}

/* The calls that came meanwhile go unanswered: their caller is gone, or is the service,
 * which then moves on. */
static void
bus_disconnect (OsMapiBus *bus)
{
  if (bus->connection != NULL)
    {
      g_dbus_connection_unregister_subtree (bus->connection, bus->subtree_id);
      g_dbus_connection_close_sync (bus->connection, NULL, NULL);
      g_clear_object (&bus->connection);
    }
  while (g_main_context_iteration (bus->context, FALSE))
    ;
}

static gpointer
bus_thread (gpointer data)
{
  OsMapiBus *bus = data;

  g_main_context_push_thread_default (bus->context);
  bus_connect (bus);
  while (g_atomic_int_get (&bus->stopping) == RUNNING)
    g_main_context_iteration (bus->context, TRUE);
  bus_disconnect (bus);
  g_main_context_pop_thread_default (bus->context);
  if (g_atomic_int_get (&bus->stopping) == STOP_DETACHED)
    bus_free (bus);
  return NULL;
}

static void
bus_stop_and_free (OsMapiBus *bus)
{
  g_atomic_int_set (&bus->stopping, STOP_JOINED);
  g_main_context_wakeup (bus->context);
  g_thread_join (bus->thread);
  bus_free (bus);
}

static OsMapiBus *
bus_start (const char *address, GError **error)
{
  OsMapiBus *bus = g_new0 (OsMapiBus, 1);

  bus->refs = 1;
  bus->address = g_strdup (address);
  bus->context = g_main_context_new ();
  g_mutex_init (&bus->lock);
  g_cond_init (&bus->cond);
  bus->advises = g_hash_table_new (g_str_hash, g_str_equal);
  bus->running = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  bus->thread = g_thread_new ("offline-state-mapi", bus_thread, bus);
  g_mutex_lock (&bus->lock);
  while (!bus->started)
    g_cond_wait (&bus->cond, &bus->lock);
  g_mutex_unlock (&bus->lock);
  if (bus->connection == NULL)
    {
      g_propagate_error (error, g_steal_pointer (&bus->error));
      bus_stop_and_free (bus);
      return NULL;
    }
  return bus;
}

OsMapiBus *
os_mapi_bus_get (const char *address, GError **error)
{
  OsMapiBus *bus;

  g_mutex_lock (&buses_lock);
  if (current_bus != NULL && g_str_equal (current_bus->address, address) &&
      !g_dbus_connection_is_closed (current_bus->connection))
    {
      bus = current_bus;
      bus->refs++;
    }
  else
    {
      bus = bus_start (address, error);
      if (bus != NULL)
        current_bus = bus;
    }
  g_mutex_unlock (&buses_lock);
  return bus;
}

void
os_mapi_bus_unref (OsMapiBus *bus)
{
  gboolean last;

  g_mutex_lock (&buses_lock);
  last = --bus->refs == 0;
  if (last && current_bus == bus)
    current_bus = NULL;
  g_mutex_unlock (&buses_lock);
  if (!last)
    return;
  if (!os_mapi_bus_is_own_thread (bus))
    {
      bus_stop_and_free (bus);
      return;
    }
  /* Inside a Notify: the thread ends once it has returned, and frees the bus then. */
  g_thread_unref (bus->thread);
  g_atomic_int_set (&bus->stopping, STOP_DETACHED);
}

GDBusConnection *
os_mapi_bus_get_connection (OsMapiBus *bus)
{
  return bus->connection;
}

gboolean
os_mapi_bus_is_own_thread (OsMapiBus *bus)
{
  return g_thread_self () == bus->thread;
}

void
os_mapi_bus_wait_notifies (OsMapiBus *bus, const char *object_path)
{
  if (os_mapi_bus_is_own_thread (bus))
    return;
  g_mutex_lock (&bus->lock);
  while (g_hash_table_contains (bus->running, object_path))
    g_cond_wait (&bus->cond, &bus->lock);
  g_mutex_unlock (&bus->lock);
}
