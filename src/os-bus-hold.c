/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <string.h>

#include "offline-state.h"
#include "os-bus-hold.h"
#include "os-dbus-generated.h"

#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
/* Where calls wait: the parents of the manager's path and of the profiles' paths. */
static const char *const hold_paths[] = { "/org/offlinestate", OFFLINE_STATE_PROFILES_PATH };

struct _OsBusHold
{
  GDBusConnection *connection;
  guint registration_ids[2];
  guint max_calls;
  GQueue calls; /* GDBusMethodInvocation, oldest first */
};

static GDBusInterfaceInfo *
object_manager_info (void)
{
  static GDBusNodeInfo *node;

  if (node == NULL)
    node =
        g_dbus_node_info_new_for_xml ("<node><interface name='" OBJECT_MANAGER_INTERFACE "'>"
                                      "<method name='GetManagedObjects'>"
                                      "<arg name='objects' type='a{oa{sa{sv}}}' direction='out'/>"
                                      "</method></interface></node>",
                                      NULL);
  return node->interfaces[0];
}

/* Every interface the service has, at whatever path: which object has which is known only
 * once the state is loaded, and a call to one that does not exist fails then. */
static GDBusInterfaceInfo **
introspect (GDBusConnection *connection,
            const char *sender,
            const char *object_path,
            const char *node,
            gpointer user_data)
{
  GDBusInterfaceInfo **infos = g_new0 (GDBusInterfaceInfo *, 5);

  infos[0] = g_dbus_interface_info_ref (os_dbus_manager_interface_info ());
  infos[1] = g_dbus_interface_info_ref (os_dbus_offline_mgr_interface_info ());
  infos[2] = g_dbus_interface_info_ref (os_dbus_emulation_interface_info ());
  infos[3] = g_dbus_interface_info_ref (object_manager_info ());
  return infos;
}

static char **
enumerate (GDBusConnection *connection, const char *sender, const char *object_path, gpointer data)
{
  return g_new0 (char *, 1);
}

static void
hold_call (GDBusConnection *connection,
           const char *sender,
           const char *object_path,
           const char *interface,
           const char *method,
           GVariant *parameters,
           GDBusMethodInvocation *invocation,
           gpointer user_data)
{
  OsBusHold *hold = user_data;

  if (hold->calls.length >= hold->max_calls)
    {
      g_dbus_method_invocation_return_dbus_error (
          invocation, "org.freedesktop.DBus.Error.LimitsExceeded",
          "the service is starting, and holds as many calls as it can until it is ready");
      return;
    }
  g_queue_push_tail (&hold->calls, invocation);
}

static const GDBusInterfaceVTable hold_vtable = { hold_call, NULL, NULL, { NULL } };

static const GDBusInterfaceVTable *
dispatch (GDBusConnection *connection,
          const char *sender,
          const char *object_path,
          const char *interface,
          const char *node,
          gpointer *out_user_data,
          gpointer user_data)
{
  *out_user_data = user_data;
  return &hold_vtable;
}

static const GDBusSubtreeVTable subtree_vtable = { enumerate, introspect, dispatch, { NULL } };

static void
stop_holding (OsBusHold *hold)
{
  for (guint i = 0; i < G_N_ELEMENTS (hold->registration_ids); i++)
    if (hold->registration_ids[i] != 0)
      g_dbus_connection_unregister_subtree (hold->connection, hold->registration_ids[i]);
  memset (hold->registration_ids, 0, sizeof hold->registration_ids);
}

OsBusHold *
os_bus_hold_new (GDBusConnection *connection, guint max_calls, GError **error)
{
  OsBusHold *hold = g_new0 (OsBusHold, 1);

  hold->connection = g_object_ref (connection);
  hold->max_calls = max_calls;
  /* Above the service's objects, not at them: GDBus gives a subtree the calls to its own path
   * and to the paths just below it that no object takes. So the objects, once exported, take
   * their calls from the hold at once, and the hold can then be let go with no moment in which
   * a call finds nothing. One subtree above the manager, one above the profiles. */
  for (guint i = 0; i < G_N_ELEMENTS (hold_paths); i++)
    {
      hold->registration_ids[i] = g_dbus_connection_register_subtree (
          connection, hold_paths[i], &subtree_vtable,
          G_DBUS_SUBTREE_FLAGS_DISPATCH_TO_UNENUMERATED_NODES, hold, NULL, error);
      if (hold->registration_ids[i] == 0)
        {
          stop_holding (hold);
          g_object_unref (hold->connection);
          g_free (hold);
          return NULL;
        }
    }
  return hold;
}

/* GetManagedObjects, as GDBusObjectManagerServer answers it. */
static void
return_managed_objects (GDBusMethodInvocation *invocation, GDBusObjectManager *manager)
{
  GVariantBuilder objects;
  GList *list = g_dbus_object_manager_get_objects (manager);

  g_variant_builder_init (&objects, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  for (GList *l = list; l != NULL; l = l->next)
    {
      GList *interfaces = g_dbus_object_get_interfaces (l->data);
      GVariantBuilder builder;

      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sa{sv}}"));
      for (GList *i = interfaces; i != NULL; i = i->next)
        {
          GDBusInterfaceSkeleton *skeleton = i->data;

          g_variant_builder_add (&builder, "{s@a{sv}}",
                                 g_dbus_interface_skeleton_get_info (skeleton)->name,
                                 g_dbus_interface_skeleton_get_properties (skeleton));
        }
      g_variant_builder_add (&objects, "{oa{sa{sv}}}", g_dbus_object_get_object_path (l->data),
                             &builder);
      g_list_free_full (interfaces, g_object_unref);
    }
  g_list_free_full (list, g_object_unref);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(a{oa{sa{sv}}})", &objects));
}

/* A Properties call to a skeleton whose vtable reads properties itself. */
static void
serve (GDBusMethodInvocation *invocation, OsBusManager *bus_manager)
{
  const char *path = g_dbus_method_invocation_get_object_path (invocation);
  const char *interface = g_dbus_method_invocation_get_interface_name (invocation);
  GVariant *parameters = g_dbus_method_invocation_get_parameters (invocation);
  const char *target = interface;
  GDBusInterfaceSkeleton *skeleton;
  const GDBusInterfaceVTable *vtable;

  if (g_str_equal (interface, OBJECT_MANAGER_INTERFACE))
    {
      GDBusObjectManager *manager = os_bus_manager_get_object_manager (bus_manager);

      if (g_str_equal (path, g_dbus_object_manager_get_object_path (manager)))
        return_managed_objects (invocation, manager);
      else
        g_dbus_method_invocation_return_dbus_error (
            invocation, "org.freedesktop.DBus.Error.UnknownObject", "no such object");
      return;
    }
  if (g_str_equal (interface, PROPERTIES_INTERFACE))
    g_variant_get_child (parameters, 0, "&s", &target);
  skeleton = os_bus_manager_lookup_interface (bus_manager, path, target);
  if (skeleton == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "org.freedesktop.DBus.Error.UnknownObject",
                                                  "no such object, or it has no such interface");
      return;
    }
  /* Reads of properties too: every skeleton of ours takes them as calls (os-bus-dispatch.h). */
  vtable = g_dbus_interface_skeleton_get_vtable (skeleton);
  vtable->method_call (g_dbus_method_invocation_get_connection (invocation),
                       g_dbus_method_invocation_get_sender (invocation), path, interface,
                       g_dbus_method_invocation_get_method_name (invocation), parameters,
                       invocation, skeleton);
}

void
os_bus_hold_release (OsBusHold *hold, OsBusManager *bus_manager)
{
  GDBusMethodInvocation *invocation;
  guint served = hold->calls.length;

  stop_holding (hold);
  while ((invocation = g_queue_pop_head (&hold->calls)) != NULL)
    serve (invocation, bus_manager);
  if (served > 0)
    g_debug ("Served %u calls that came before the state was loaded", served);
  g_object_unref (hold->connection);
  g_free (hold);
}

void
os_bus_hold_free (OsBusHold *hold)
{
  GDBusMethodInvocation *invocation;

  stop_holding (hold);
  while ((invocation = g_queue_pop_head (&hold->calls)) != NULL)
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.NoServer",
                                                "the service stopped before it was ready");
  g_object_unref (hold->connection);
  g_free (hold);
}
