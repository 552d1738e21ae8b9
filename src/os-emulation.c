/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-bus-dispatch.h"
#include "os-bus-reply.h"
#include "os-emulation.h"
#include "os-error.h"

typedef struct
{
  char *error_name;
  guint count; /* > 0 */
} Failure;

struct _OsEmulation
{
  OsDBusEmulationSkeleton parent_instance;

  OsProfile *profile;
  GHashTable *failures; /* OfflineMgr method name → Failure */
};

static void os_emulation_iface_init (OsDBusEmulationIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OsEmulation,
                               os_emulation,
                               OS_DBUS_TYPE_EMULATION_SKELETON,
                               G_IMPLEMENT_INTERFACE (OS_DBUS_TYPE_EMULATION,
                                                      os_emulation_iface_init))

static void
failure_free (Failure *failure)
{
  g_free (failure->error_name);
  g_free (failure);
}

/* The hook at the offline object's dispatch: a call of a method that FailNext armed is
 * answered with the injected error, whatever its arguments, and has no other effect. */
static gboolean
return_injected_failure (GDBusMethodInvocation *invocation, gpointer user_data)
{
  OsEmulation *self = user_data;
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  Failure *failure = g_hash_table_lookup (self->failures, method);

  if (failure == NULL)
    return FALSE;
  g_dbus_method_invocation_return_dbus_error (invocation, failure->error_name,
                                              "injected by Emulation.FailNext");
  if (--failure->count == 0)
    g_hash_table_remove (self->failures, method);
  return TRUE;
}

/* Its arguments are checked by the dispatch: an OfflineMgr method that FailNext can fail, and
 * an error name or "". */
static gboolean
handle_fail_next (OsDBusEmulation *iface,
                  GDBusMethodInvocation *invocation,
                  const char *method,
                  const char *error_name,
                  guint count)
{
  OsEmulation *self = OS_EMULATION (iface);
  Failure *failure;

  if (count == 0)
    {
      g_hash_table_remove (self->failures, method);
      os_dbus_emulation_complete_fail_next (iface, invocation);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (error_name[0] == '\0')
    {
      g_autoptr (GError) error = NULL;

      os_set_error (&error, OS_ERROR_INVALID_ARGS, "'' is not a valid D-Bus error name");
      os_bus_return_error (invocation, error);
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  failure = g_new0 (Failure, 1);
  failure->error_name = g_strdup (error_name);
  failure->count = count;
  g_hash_table_replace (self->failures, g_strdup (method), failure);
  os_dbus_emulation_complete_fail_next (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
set_capabilities_done (GObject *source, GAsyncResult *result, gpointer invocation)
{
  g_autoptr (GError) error = NULL;
  gboolean done = os_profile_set_capabilities_finish (OS_PROFILE (source), result, &error);

  os_bus_return_done (invocation, done, error);
}

static gboolean
handle_set_capabilities (OsDBusEmulation *iface,
                         GDBusMethodInvocation *invocation,
                         guint capabilities)
{
  OsEmulation *self = OS_EMULATION (iface);

  os_profile_set_capabilities_async (self->profile, capabilities, set_capabilities_done,
                                     invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_set_transition_delay (OsDBusEmulation *iface,
                             GDBusMethodInvocation *invocation,
                             guint milliseconds)
{
  OsEmulation *self = OS_EMULATION (iface);
  g_autoptr (GError) error = NULL;

  if (os_profile_set_transition_delay (self->profile, milliseconds, &error))
    os_dbus_emulation_complete_set_transition_delay (iface, invocation);
  else
    os_bus_return_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_inject_notification (OsDBusEmulation *iface,
                            GDBusMethodInvocation *invocation,
                            guint notify_type,
                            guint mask,
                            guint old_state,
                            guint new_state)
{
  OsEmulation *self = OS_EMULATION (iface);

  os_profile_inject_notification (self->profile, notify_type, mask, old_state, new_state);
  os_dbus_emulation_complete_inject_notification (iface, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
os_emulation_iface_init (OsDBusEmulationIface *iface)
{
  iface->handle_set_capabilities = handle_set_capabilities;
  iface->handle_set_transition_delay = handle_set_transition_delay;
  iface->handle_inject_notification = handle_inject_notification;
  iface->handle_fail_next = handle_fail_next;
}

static void
os_emulation_finalize (GObject *object)
{
  OsEmulation *self = OS_EMULATION (object);

  g_hash_table_unref (self->failures);
  g_clear_object (&self->profile);
  G_OBJECT_CLASS (os_emulation_parent_class)->finalize (object);
}

static void
os_emulation_class_init (OsEmulationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = os_emulation_finalize;
  os_bus_dispatch_install (G_DBUS_INTERFACE_SKELETON_CLASS (klass));
}

static void
os_emulation_init (OsEmulation *self)
{
  self->failures =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) failure_free);
}

void
os_emulation_add (OsBusProfile *bus_profile, OsProfile *profile, OsAuthority *authority)
{
  g_autoptr (OsEmulation) self = g_object_new (OS_TYPE_EMULATION, NULL);
  g_autofree char *what = g_strdup_printf ("profile '%s'", os_profile_get_name (profile));

  self->profile = g_object_ref (profile);
  g_object_bind_property (profile, "transition-delay", self, "transition-delay",
                          G_BINDING_SYNC_CREATE);
  os_bus_dispatch_attach (G_DBUS_INTERFACE_SKELETON (self), authority, what);
  os_bus_dispatch_set_hook (G_DBUS_INTERFACE_SKELETON (bus_profile), return_injected_failure,
                            G_OBJECT (self));
  os_dbus_object_skeleton_set_emulation (
      OS_DBUS_OBJECT_SKELETON (os_bus_profile_get_object (bus_profile)), OS_DBUS_EMULATION (self));
}
