/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-bus-manager.h"
#include "os-bus-dispatch.h"
#include "os-bus-profile.h"
#include "os-emulation.h"
#include "os-error.h"
#include "os-call-budget.h"
#include "os-bus-reply.h"

struct _OsBusManager
{
  OsDBusManagerSkeleton parent_instance;

  OsManager *manager;
  GDBusConnection *connection;
  OsAuthority *authority;
  GDBusObjectManagerServer *object_manager;
  GHashTable *profiles; /* profile name → OsBusProfile */
  GHashTable *paths;    /* object path → OsBusProfile, of those in @profiles */
  gboolean emulation;
  guint name_owner_changed_id;
  OsCallBudget *call_budget;
};

static void os_bus_manager_iface_init (OsDBusManagerIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OsBusManager,
                               os_bus_manager,
                               OS_DBUS_TYPE_MANAGER_SKELETON,
                               G_IMPLEMENT_INTERFACE (OS_DBUS_TYPE_MANAGER,
                                                      os_bus_manager_iface_init))

static gboolean
handle_open_offline_object (OsDBusManager *iface,
                            GDBusMethodInvocation *invocation,
                            const char *profile_name,
                            const char *guid)
{
  OsBusManager *self = OS_BUS_MANAGER (iface);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  if (os_manager_open (self->manager, profile_name, guid, &error) == NULL)
    {
      os_bus_return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  path = os_bus_profile_path_for_name (profile_name);
  os_dbus_manager_complete_open_offline_object (iface, invocation, path);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
create_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data; /* kept: answering it releases it */
  OsManager *manager = OS_MANAGER (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (OsProfile) profile = os_manager_create_finish (manager, result, &error);
  g_autofree char *path = NULL;

  if (profile == NULL)
    {
      os_bus_return_error (invocation, error);
      return;
    }
  /* Removed again before its write completed: there is no object to name. */
  if (os_manager_lookup (manager, os_profile_get_name (profile)) != profile)
    {
      os_set_error (&error, OS_ERROR_NOT_FOUND,
                    "the profile was removed while it was being created");
      os_bus_return_error (invocation, error);
      return;
    }
  path = os_bus_profile_path_for_name (os_profile_get_name (profile));
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(o)", path));
}

/* Whether the profile exists, and how many there are, is read here, after polkit's
 * answer: anything may have changed while it was deciding. */
static gboolean
handle_create_offline_object (OsDBusManager *iface,
                              GDBusMethodInvocation *invocation,
                              const char *profile_name,
                              guint capabilities,
                              guint initial_state)
{
  OsBusManager *self = OS_BUS_MANAGER (iface);

  os_manager_create_async (self->manager, profile_name, capabilities, initial_state, create_done,
                           invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
remove_done (GObject *source, GAsyncResult *result, gpointer invocation)
{
  g_autoptr (GError) error = NULL;
  gboolean done = os_manager_remove_finish (OS_MANAGER (source), result, &error);

  os_bus_return_done (invocation, done, error);
}

static gboolean
handle_remove_offline_object (OsDBusManager *iface,
                              GDBusMethodInvocation *invocation,
                              const char *profile_name)
{
  OsBusManager *self = OS_BUS_MANAGER (iface);

  os_manager_remove_async (self->manager, profile_name, remove_done, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
os_bus_manager_iface_init (OsDBusManagerIface *iface)
{
  iface->handle_open_offline_object = handle_open_offline_object;
  iface->handle_create_offline_object = handle_create_offline_object;
  iface->handle_remove_offline_object = handle_remove_offline_object;
}

static void
on_profile_added (OsManager *manager, OsProfile *profile, OsBusManager *self)
{
  OsBusProfile *bus_profile = os_bus_profile_new (profile, self->connection, self->authority);

  if (self->emulation)
    os_emulation_add (bus_profile, profile, self->authority);

  g_hash_table_insert (self->profiles, g_strdup (os_profile_get_name (profile)), bus_profile);
  g_hash_table_insert (self->paths, (gpointer) os_bus_profile_get_path (bus_profile), bus_profile);
  g_dbus_object_manager_server_export (self->object_manager,
                                       os_bus_profile_get_object (bus_profile));
}

static void
on_profile_removed (OsManager *manager, OsProfile *profile, OsBusManager *self)
{
  OsBusProfile *bus_profile = g_hash_table_lookup (self->profiles, os_profile_get_name (profile));

  g_dbus_object_manager_server_unexport (self->object_manager,
                                         os_bus_profile_get_path (bus_profile));
  g_hash_table_remove (self->paths, os_bus_profile_get_path (bus_profile));
  g_hash_table_remove (self->profiles, os_profile_get_name (profile));
}

/* One subscription to every NameOwnerChanged, rather than a name watch per client: it
 * costs the bus one match rule whatever the number of clients. The bus sends a client's
 * last messages before the signal that it left, so no Advise can outlive its owner. */
static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  OsBusManager *self = user_data;
  const char *name, *old_owner, *new_owner;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sss)")))
    return;
  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (name[0] == ':' && new_owner[0] == '\0')
    {
      os_manager_client_vanished (self->manager, name);
      os_authority_forget_caller (self->authority, name);
      if (self->call_budget != NULL)
        os_call_budget_forget (self->call_budget, name);
    }
}

static void
os_bus_manager_dispose (GObject *object)
{
  OsBusManager *self = OS_BUS_MANAGER (object);

  os_bus_manager_unexport (self);
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  g_clear_pointer (&self->paths, g_hash_table_unref);
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  g_clear_object (&self->object_manager);
  g_clear_object (&self->manager);
  if (self->authority != NULL)
    g_signal_handlers_disconnect_by_data (self->authority, self);
  g_clear_object (&self->authority);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (os_bus_manager_parent_class)->dispose (object);
}

static void
os_bus_manager_class_init (OsBusManagerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = os_bus_manager_dispose;
  os_bus_dispatch_install (G_DBUS_INTERFACE_SKELETON_CLASS (klass));
}

static void
os_bus_manager_init (OsBusManager *self)
{
  self->profiles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->paths = g_hash_table_new (g_str_hash, g_str_equal);
}

/* Notifications to clients (os-client.h) */

static OsBusProfile *
bus_profile_of (OsBusManager *self, OsAdvise *advise)
{
  return g_hash_table_lookup (self->profiles, os_profile_get_name (advise->profile));
}

static void
send_signal (gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n)
{
  OsBusProfile *bus_profile = bus_profile_of (data, advise);

  if (bus_profile != NULL)
    os_bus_profile_send_signal (bus_profile, advise, n);
}

static void
send_call (gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n, OsNote *note)
{
  OsBusProfile *bus_profile = bus_profile_of (data, advise);

  if (bus_profile != NULL)
    os_bus_profile_send_call (bus_profile, advise, n, note);
  else
    os_note_answered (note, OS_ANSWER_LOST, NULL);
}

static void
ping_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusMessage) reply =
      g_dbus_connection_send_message_with_reply_finish (G_DBUS_CONNECTION (source), result, &error);
  OsAnswer answer;

  if (reply != NULL)
    g_dbus_message_to_gerror (reply, &error);
  answer = os_bus_answer_of (reply, error);
  /* Any answer of the client's, an error too, shows that it has read what came before. */
  os_note_answered (user_data, answer == OS_ANSWER_FAILED ? OS_ANSWER_TAKEN : answer, NULL);
}

static void
send_ping (gpointer data, OsClient *client, OsNote *note)
{
  OsBusManager *self = data;
  g_autoptr (GDBusMessage) message =
      g_dbus_message_new_method_call (client->name, "/", "org.freedesktop.DBus.Peer", "Ping");

  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, G_MAXINT, NULL, NULL,
                                             ping_done, note);
}

typedef struct
{
  GSourceOnceFunc func;
  gpointer user_data;
} WhenSent;

static void
flushed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autofree WhenSent *when = user_data;
  g_autoptr (GError) error = NULL;

  /* A connection that is closing has nothing more to write: go on all the same. */
  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (source), result, &error);
  when->func (when->user_data);
}

static void
when_sent (gpointer data, GSourceOnceFunc func, gpointer user_data)
{
  OsBusManager *self = data;
  WhenSent *when = g_new (WhenSent, 1);

  when->func = func;
  when->user_data = user_data;
  g_dbus_connection_flush (self->connection, NULL, flushed, when);
}

static const OsTransport transport = { send_signal, send_call, send_ping, when_sent };

/* A busy caller's Unix user, for the budget of calls in flight per user. */
typedef struct
{
  OsBusManager *self;
  char *name;
} CallerLookup;

static void
caller_identified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CallerLookup *lookup = user_data;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  guint32 uid;

  if (reply != NULL && lookup->self->call_budget != NULL)
    {
      g_variant_get (reply, "(u)", &uid);
      os_call_budget_set_user (lookup->self->call_budget, lookup->name, uid);
    }
  g_object_unref (lookup->self);
  g_free (lookup->name);
  g_free (lookup);
}

static void
on_user_learnt (OsAuthority *authority, const char *name, guint uid, OsBusManager *self)
{
  if (self->call_budget != NULL)
    os_call_budget_set_user (self->call_budget, name, uid);
}

static void
identify_caller (gpointer data, const char *name)
{
  OsBusManager *self = data;
  CallerLookup *lookup = g_new0 (CallerLookup, 1);

  lookup->self = g_object_ref (self);
  lookup->name = g_strdup (name);
  os_authority_lookup_user (self->authority, name, caller_identified, lookup);
}

typedef struct
{
  OsManager *manager;
  char *name;
} Identify;

static void
identified (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Identify *identify = user_data;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, NULL);
  guint32 uid;

  if (reply != NULL)
    {
      g_variant_get (reply, "(u)", &uid);
      os_manager_client_identified (identify->manager, identify->name, uid);
    }
  g_object_unref (identify->manager);
  g_free (identify->name);
  g_free (identify);
}

void
os_bus_manager_identify_clients (OsBusManager *self)
{
  g_auto (GStrv) names = os_manager_dup_unidentified_clients (self->manager);

  for (guint i = 0; names[i] != NULL; i++)
    {
      Identify *identify = g_new0 (Identify, 1);

      identify->manager = g_object_ref (self->manager);
      identify->name = g_strdup (names[i]);
      os_authority_lookup_user (self->authority, names[i], identified, identify);
    }
}

static void
add_existing_profiles (OsBusManager *self)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (self->manager);

  for (guint i = 0; names[i] != NULL; i++)
    on_profile_added (self->manager, os_manager_lookup (self->manager, names[i]), self);
}

OsBusManager *
os_bus_manager_new (OsManager *manager,
                    GDBusConnection *connection,
                    gboolean emulation,
                    gboolean system_bus)
{
  OsBusManager *self = g_object_new (OS_TYPE_BUS_MANAGER, NULL);
  OsDBusManager *iface = OS_DBUS_MANAGER (self);

  self->manager = g_object_ref (manager);
  self->connection = g_object_ref (connection);
  self->authority = os_authority_new (connection, system_bus);
  os_bus_dispatch_attach (G_DBUS_INTERFACE_SKELETON (self), self->authority, "the manager");
  self->emulation = emulation;
  self->object_manager = g_dbus_object_manager_server_new (OFFLINE_STATE_MANAGER_PATH);

  os_dbus_manager_set_version (iface, PACKAGE_VERSION);
  os_dbus_manager_set_notify_timeout (iface, os_manager_get_limits (manager)->notify_timeout_ms);
  g_object_bind_property (manager, "profiles", self, "profiles", G_BINDING_SYNC_CREATE);

  self->name_owner_changed_id = g_dbus_connection_signal_subscribe (
      connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, self, NULL);

  add_existing_profiles (self);
  g_signal_connect (manager, "profile-added", G_CALLBACK (on_profile_added), self);
  g_signal_connect (manager, "profile-removed", G_CALLBACK (on_profile_removed), self);

  os_manager_set_transport (manager, &transport, self);
  g_signal_connect (self->authority, "user-learnt", G_CALLBACK (on_user_learnt), self);
  self->call_budget = os_call_budget_start (
      connection, os_manager_get_limits (manager)->max_calls_per_connection,
      os_manager_get_limits (manager)->max_calls_per_user, identify_caller, self);
  return self;
}

gboolean
os_bus_manager_export (OsBusManager *self, GError **error)
{
  g_dbus_object_manager_server_set_connection (self->object_manager, self->connection);
  return g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (self), self->connection,
                                           OFFLINE_STATE_MANAGER_PATH, error);
}

GDBusInterfaceSkeleton *
os_bus_manager_lookup_interface (OsBusManager *self, const char *path, const char *interface)
{
  g_autoptr (GDBusInterface) found = NULL;

  if (g_str_equal (path, OFFLINE_STATE_MANAGER_PATH) &&
      g_str_equal (interface, OFFLINE_STATE_MANAGER_INTERFACE))
    return G_DBUS_INTERFACE_SKELETON (self);
  found = g_dbus_object_manager_get_interface (G_DBUS_OBJECT_MANAGER (self->object_manager), path,
                                               interface);
  /* The object manager holds it as long as the object is exported. */
  return found != NULL ? G_DBUS_INTERFACE_SKELETON (found) : NULL;
}

GDBusObjectManager *
os_bus_manager_get_object_manager (OsBusManager *self)
{
  return G_DBUS_OBJECT_MANAGER (self->object_manager);
}

void
os_bus_manager_stop_serving (OsBusManager *self)
{
  if (self->object_manager != NULL)
    g_dbus_object_manager_server_set_connection (self->object_manager, NULL);
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
}

void
os_bus_manager_unexport (OsBusManager *self)
{
  g_clear_pointer (&self->call_budget, os_call_budget_stop);
  if (self->manager != NULL)
    os_manager_set_transport (self->manager, NULL, NULL);
  if (self->authority != NULL)
    os_authority_close (self->authority);
  if (self->name_owner_changed_id != 0)
    {
      g_dbus_connection_signal_unsubscribe (self->connection, self->name_owner_changed_id);
      self->name_owner_changed_id = 0;
    }
  if (self->object_manager != NULL)
    g_dbus_object_manager_server_set_connection (self->object_manager, NULL);
  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)) != NULL)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (self));
}
