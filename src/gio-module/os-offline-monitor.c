/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The monitor follows the State property of one profile's offline object: the committed
 * state, which changes at a transition's STATECHANGE. While the service is absent, or the
 * profile is missing, the profile counts as online and the monitor is the underlying one;
 * the object manager's signals say when the profile is removed or made again.
 */
#include "config.h"

#include "offline-state.h"
#include "os-offline-monitor.h"

#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"

enum
{
  PROP_0,
  PROP_NETWORK_AVAILABLE,
  PROP_NETWORK_METERED,
  PROP_CONNECTIVITY,
};

struct _OsOfflineMonitor
{
  GObject parent_instance;

  /* Set in init, then only read: can_reach() comes from any thread. */
  GNetworkMonitor *underlying;
  gulong underlying_changed_id;
  gulong underlying_notify_id;
  char *profile;
  char *path; /* its offline object's */
  GBusType bus_type;

  /* The rest belongs to the main context that the monitor was made in, where the bus
   * watch, the calls and the signals report. */
  guint watch_id;
  GDBusConnection *connection; /* while the service is there */
  char *owner;
  guint objects_id;
  gboolean opened; /* OpenOfflineObject was called, and has not failed */
  guint properties_id;
  GCancellable *cancellable; /* the calls made since the service last appeared */

  gint profile_online; /* atomic */
  gboolean available;  /* as last announced */
  gboolean metered;
  GNetworkConnectivity connectivity;
};

static void os_offline_monitor_network_monitor_init (GNetworkMonitorInterface *iface);
static void os_offline_monitor_initable_init (GInitableIface *iface);

/* GInitable first: GNetworkMonitor requires it. */
G_DEFINE_DYNAMIC_TYPE_EXTENDED (
    OsOfflineMonitor,
    os_offline_monitor,
    G_TYPE_OBJECT,
    G_TYPE_FLAG_FINAL,
    G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_INITABLE, os_offline_monitor_initable_init)
        G_IMPLEMENT_INTERFACE_DYNAMIC (G_TYPE_NETWORK_MONITOR,
                                       os_offline_monitor_network_monitor_init))

void
os_offline_monitor_register (GTypeModule *module)
{
  os_offline_monitor_register_type (module);
}

static gboolean
profile_online (OsOfflineMonitor *self)
{
  return g_atomic_int_get (&self->profile_online);
}

static gboolean
network_available (OsOfflineMonitor *self)
{
  return profile_online (self) && g_network_monitor_get_network_available (self->underlying);
}

/* Offline is LOCAL: GLib's rule for a network that is not available. */
static GNetworkConnectivity
connectivity (OsOfflineMonitor *self)
{
  return profile_online (self) ? g_network_monitor_get_connectivity (self->underlying)
                               : G_NETWORK_CONNECTIVITY_LOCAL;
}

/* Notifies what changed since it was last announced; network-changed when the availability
 * did, or when @forward (the underlying monitor's own network-changed, while it counts). */
static void
announce (OsOfflineMonitor *self, gboolean forward)
{
  gboolean available = network_available (self);
  gboolean metered = g_network_monitor_get_network_metered (self->underlying);
  GNetworkConnectivity now = connectivity (self);
  gboolean available_changed = available != self->available;

  g_object_freeze_notify (G_OBJECT (self));
  if (available_changed)
    g_object_notify (G_OBJECT (self), "network-available");
  if (metered != self->metered)
    g_object_notify (G_OBJECT (self), "network-metered");
  if (now != self->connectivity)
    g_object_notify (G_OBJECT (self), "connectivity");
  self->available = available;
  self->metered = metered;
  self->connectivity = now;
  g_object_thaw_notify (G_OBJECT (self));
  if (available_changed || (forward && profile_online (self)))
    g_signal_emit_by_name (self, "network-changed", available);
}

static void
set_profile_online (OsOfflineMonitor *self, gboolean online)
{
  g_atomic_int_set (&self->profile_online, online);
  announce (self, FALSE);
}

static void
apply_properties (OsOfflineMonitor *self, GVariant *properties)
{
  guint state;

  if (g_variant_lookup (properties, "State", "u", &state))
    set_profile_online (self, state != MAPIOFFLINE_STATE_OFFLINE);
}

/* The calls of one appearance of the service hold the monitor, so that none ends after it;
 * a call of an appearance that is over ends cancelled and changes nothing. */
static gboolean
call_finished (GError *error)
{
  if (error == NULL)
    return TRUE;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_debug ("offline-state network monitor: %s", error->message);
  return FALSE;
}

static void
on_got_all (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (OsOfflineMonitor) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autoptr (GVariant) properties = NULL;

  if (!call_finished (error))
    return;
  properties = g_variant_get_child_value (reply, 0);
  apply_properties (self, properties);
}

static void
on_properties_changed (OsOfflineMonitor *self, GVariant *parameters)
{
  g_autoptr (GVariant) changed = NULL;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  changed = g_variant_get_child_value (parameters, 1);
  apply_properties (self, changed);
}

static void on_objects_changed (OsOfflineMonitor *self, const char *member, GVariant *parameters);

/* The service's signals: the profile's PropertiesChanged, the object manager's. */
static void
on_signal (GDBusConnection *connection,
           const char *sender,
           const char *path,
           const char *interface,
           const char *member,
           GVariant *parameters,
           gpointer user_data)
{
  if (g_str_equal (interface, PROPERTIES_INTERFACE))
    on_properties_changed (user_data, parameters);
  else
    on_objects_changed (user_data, member, parameters);
}

/* PropertiesChanged first, then GetAll: on one connection, a change that comes before the
 * reply is older than what the reply says. */
static void
on_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (OsOfflineMonitor) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    self->opened = FALSE;
  if (!call_finished (error))
    return;
  self->properties_id = g_dbus_connection_signal_subscribe (
      self->connection, self->owner, PROPERTIES_INTERFACE, "PropertiesChanged", self->path,
      OFFLINE_STATE_OFFLINE_MGR_INTERFACE, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, self, NULL);
  g_dbus_connection_call (self->connection, self->owner, self->path, PROPERTIES_INTERFACE, "GetAll",
                          g_variant_new ("(s)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE),
                          G_VARIANT_TYPE ("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1,
                          self->cancellable, on_got_all, g_object_ref (self));
}

static void
open_profile (OsOfflineMonitor *self)
{
  self->opened = TRUE;
  g_dbus_connection_call (
      self->connection, self->owner, OFFLINE_STATE_MANAGER_PATH, OFFLINE_STATE_MANAGER_INTERFACE,
      "OpenOfflineObject", g_variant_new ("(ss)", self->profile, ""), G_VARIANT_TYPE ("(o)"),
      G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, self->cancellable, on_opened, g_object_ref (self));
}

static void
forget_profile (OsOfflineMonitor *self)
{
  if (self->properties_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->properties_id);
  self->properties_id = 0;
  self->opened = FALSE;
}

/* InterfacesAdded and InterfacesRemoved of the profile's object: made again, it is followed
 * again; removed, it counts as online. */
static void
on_objects_changed (OsOfflineMonitor *self, const char *member, GVariant *parameters)
{
  const char *object = NULL;

  if (g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(oa{sa{sv}})")) ||
      g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(oas)")))
    g_variant_get_child (parameters, 0, "&o", &object);
  if (g_strcmp0 (object, self->path) != 0)
    return;
  if (g_str_equal (member, "InterfacesAdded") && !self->opened)
    open_profile (self);
  else if (g_str_equal (member, "InterfacesRemoved"))
    {
      forget_profile (self);
      set_profile_online (self, TRUE);
    }
}

static void
forget_service (OsOfflineMonitor *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  forget_profile (self);
  if (self->objects_id != 0)
    g_dbus_connection_signal_unsubscribe (self->connection, self->objects_id);
  self->objects_id = 0;
  g_clear_object (&self->connection);
  g_clear_pointer (&self->owner, g_free);
}

static void
on_name_appeared (GDBusConnection *connection,
                  const char *name,
                  const char *owner,
                  gpointer user_data)
{
  OsOfflineMonitor *self = user_data;

  forget_service (self);
  self->connection = g_object_ref (connection);
  self->owner = g_strdup (owner);
  self->cancellable = g_cancellable_new ();
  self->objects_id = g_dbus_connection_signal_subscribe (
      connection, owner, OBJECT_MANAGER_INTERFACE, NULL, OFFLINE_STATE_MANAGER_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_signal, self, NULL);
  open_profile (self);
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  OsOfflineMonitor *self = user_data;

  forget_service (self);
  set_profile_online (self, TRUE);
}

static void
on_underlying_changed (GNetworkMonitor *underlying, gboolean available, gpointer user_data)
{
  announce (user_data, TRUE);
}

static void
on_underlying_notify (GObject *underlying, GParamSpec *pspec, gpointer user_data)
{
  announce (user_data, FALSE);
}

static GNetworkMonitor *
try_monitor (GType type, GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  GNetworkMonitor *monitor;

  if (!g_type_is_a (type, G_TYPE_INITABLE))
    return g_object_new (type, NULL);
  monitor = g_initable_new (type, cancellable, &error, NULL);
  if (monitor == NULL)
    g_debug ("offline-state network monitor: %s: %s", g_type_name (type), error->message);
  return monitor;
}

/* The monitor that GLib would choose if this one were not there; GLib's base monitor, which
 * is always there and says the network is available, as the last resort. */
static GNetworkMonitor *
make_underlying (GCancellable *cancellable)
{
  GIOExtensionPoint *point = g_io_extension_point_lookup (G_NETWORK_MONITOR_EXTENSION_POINT_NAME);

  for (GList *l = g_io_extension_point_get_extensions (point); l != NULL; l = l->next)
    {
      GType type = g_io_extension_get_type (l->data);
      GNetworkMonitor *monitor;

      if (type == OS_TYPE_OFFLINE_MONITOR)
        continue;
      monitor = try_monitor (type, cancellable);
      if (monitor != NULL)
        return monitor;
    }
  return g_object_new (
      g_io_extension_get_type (g_io_extension_point_get_extension_by_name (point, "base")), NULL);
}

/* Never fails and never waits for the service: it is followed once its name appears. */
static gboolean
os_offline_monitor_init_sync (GInitable *initable, GCancellable *cancellable, GError **error)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (initable);

  self->underlying = make_underlying (cancellable);
  self->underlying_changed_id = g_signal_connect (self->underlying, "network-changed",
                                                  G_CALLBACK (on_underlying_changed), self);
  self->underlying_notify_id =
      g_signal_connect (self->underlying, "notify", G_CALLBACK (on_underlying_notify), self);
  self->available = network_available (self);
  self->metered = g_network_monitor_get_network_metered (self->underlying);
  self->connectivity = connectivity (self);
  self->watch_id =
      g_bus_watch_name (self->bus_type, OFFLINE_STATE_BUS_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                        on_name_appeared, on_name_vanished, self, NULL);
  return TRUE;
}

static gboolean
unreachable (OsOfflineMonitor *self, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
               "The offline-state profile “%s” is offline", self->profile);
  return FALSE;
}

static gboolean
os_offline_monitor_can_reach (GNetworkMonitor *monitor,
                              GSocketConnectable *connectable,
                              GCancellable *cancellable,
                              GError **error)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (monitor);

  if (!profile_online (self))
    return unreachable (self, error);
  return g_network_monitor_can_reach (self->underlying, connectable, cancellable, error);
}

static void
on_underlying_reached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (g_network_monitor_can_reach_finish (G_NETWORK_MONITOR (source), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
os_offline_monitor_can_reach_async (GNetworkMonitor *monitor,
                                    GSocketConnectable *connectable,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (monitor);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, os_offline_monitor_can_reach_async);
  if (!profile_online (self))
    {
      unreachable (self, &error);
      g_task_return_error (task, error);
      return;
    }
  g_network_monitor_can_reach_async (self->underlying, connectable, cancellable,
                                     on_underlying_reached, g_steal_pointer (&task));
}

static gboolean
os_offline_monitor_can_reach_finish (GNetworkMonitor *monitor, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, monitor), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
os_offline_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (object);

  switch (prop_id)
    {
      case PROP_NETWORK_AVAILABLE:
        g_value_set_boolean (value, network_available (self));
        break;
      case PROP_NETWORK_METERED:
        g_value_set_boolean (value, g_network_monitor_get_network_metered (self->underlying));
        break;
      case PROP_CONNECTIVITY:
        g_value_set_enum (value, connectivity (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
os_offline_monitor_dispose (GObject *object)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (object);

  if (self->watch_id != 0)
    g_bus_unwatch_name (self->watch_id);
  self->watch_id = 0;
  forget_service (self);
  if (self->underlying != NULL)
    {
      g_clear_signal_handler (&self->underlying_changed_id, self->underlying);
      g_clear_signal_handler (&self->underlying_notify_id, self->underlying);
    }
  g_clear_object (&self->underlying);
  G_OBJECT_CLASS (os_offline_monitor_parent_class)->dispose (object);
}

static void
os_offline_monitor_finalize (GObject *object)
{
  OsOfflineMonitor *self = OS_OFFLINE_MONITOR (object);

  g_free (self->profile);
  g_free (self->path);
  G_OBJECT_CLASS (os_offline_monitor_parent_class)->finalize (object);
}

/* $OFFLINE_STATE_PROFILE names the profile, $OFFLINE_STATE_BUS=system chooses the bus. */
static void
os_offline_monitor_init (OsOfflineMonitor *self)
{
  const char *profile = g_getenv ("OFFLINE_STATE_PROFILE");
  g_autofree char *escaped = NULL;

  self->profile =
      g_strdup (profile != NULL && *profile != '\0' ? profile : OFFLINE_STATE_DEFAULT_PROFILE);
  escaped = g_dbus_escape_object_path (self->profile);
  self->path = g_strconcat (OFFLINE_STATE_PROFILES_PATH "/", escaped, NULL);
  self->bus_type = g_strcmp0 (g_getenv ("OFFLINE_STATE_BUS"), "system") == 0 ? G_BUS_TYPE_SYSTEM
                                                                             : G_BUS_TYPE_SESSION;
  self->profile_online = TRUE;
}

static void
os_offline_monitor_class_init (OsOfflineMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = os_offline_monitor_get_property;
  object_class->dispose = os_offline_monitor_dispose;
  object_class->finalize = os_offline_monitor_finalize;
  g_object_class_override_property (object_class, PROP_NETWORK_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_NETWORK_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
}

static void
os_offline_monitor_class_finalize (OsOfflineMonitorClass *klass)
{
}

static void
os_offline_monitor_network_monitor_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = os_offline_monitor_can_reach;
  iface->can_reach_async = os_offline_monitor_can_reach_async;
  iface->can_reach_finish = os_offline_monitor_can_reach_finish;
}

static void
os_offline_monitor_initable_init (GInitableIface *iface)
{
  iface->init = os_offline_monitor_init_sync;
}
