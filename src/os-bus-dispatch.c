/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-bus-dispatch.h"
#include "os-bus-reply.h"
#include "os-dbus-generated.h"
#include "os-error.h"
#include "os-validate.h"

#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

/* Emulation.FailNext's method: an OfflineMgr method marked OS_BUS_FAIL_NEXT_ANNOTATION. */
static gboolean
check_fail_next_method (const char *method, GError **error)
{
  GDBusInterfaceInfo *info = os_dbus_offline_mgr_interface_info ();
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autofree char *known = NULL;

  for (gsize i = 0; info->methods[i] != NULL; i++)
    if (g_strcmp0 (g_dbus_annotation_info_lookup (info->methods[i]->annotations,
                                                  OS_BUS_FAIL_NEXT_ANNOTATION),
                   "true") == 0)
      {
        if (g_str_equal (info->methods[i]->name, method))
          return TRUE;
        g_ptr_array_add (names, info->methods[i]->name);
      }
  g_ptr_array_add (names, NULL);
  known = g_strjoinv (", ", (char **) names->pdata);
  os_set_error (error, OS_ERROR_INVALID_ARGS, "FailNext cannot fail '%s'; it can fail %s", method,
                known);
  return FALSE;
}

/* A D-Bus error name, or "" (what it means is the method's to say). */
static gboolean
check_error_name (const char *name, GError **error)
{
  /* D-Bus error names follow the rules of interface names. */
  if (name[0] != '\0' && !g_dbus_is_interface_name (name))
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "'%s' is not a valid D-Bus error name", name);
      return FALSE;
    }
  return TRUE;
}

/* Checks of one argument, by the name its OS_BUS_CHECK_ANNOTATION gives. Most are the
 * core's own (os-validate.h), so that a call the core would refuse is refused before polkit is
 * asked about it. */
typedef gboolean (*UintCheck) (guint value, GError **error);
typedef gboolean (*StringCheck) (const char *value, GError **error);

typedef struct
{
  const char *name;
  const char *signature; /* of the argument */
  UintCheck uint_check;
  StringCheck string_check;
} ArgumentCheck;

static const ArgumentCheck argument_checks[] = {
  { "profile-name", "s", NULL, os_validate_profile_name },
  { "capabilities", "u", os_validate_capabilities },
  { "state", "u", os_validate_state },
  { "set-state-flags", "u", os_validate_set_state_flags },
  { "offline-mask", "u", os_validate_offline_mask },
  { "advise-flags", "u", os_validate_advise_flags },
  { "callback-type", "u", os_validate_callback_type },
  { "callback", "o", NULL, os_validate_callback },
  { "advise-types", "u", os_validate_advise_types },
  { "state-mask", "u", os_validate_state_mask },
  { "transition-delay", "u", os_validate_transition_delay },
  { "fail-next-method", "s", NULL, check_fail_next_method },
  { "error-name", "s", NULL, check_error_name },
};

/* What a skeleton's calls meet before its handler (os_bus_dispatch_attach()). */
typedef struct
{
  OsAuthority *authority;
  char *what;
  OsBusCallHook hook;
  GObject *hook_data;
} Dispatch;

static void
dispatch_free (Dispatch *dispatch)
{
  g_clear_object (&dispatch->authority);
  g_free (dispatch->what);
  g_clear_object (&dispatch->hook_data);
  g_free (dispatch);
}

static Dispatch *
dispatch_of (GDBusInterfaceSkeleton *skeleton)
{
  static GQuark quark;
  Dispatch *dispatch;

  if (quark == 0)
    quark = g_quark_from_static_string ("os-bus-dispatch");
  dispatch = g_object_get_qdata (G_OBJECT (skeleton), quark);
  if (dispatch == NULL)
    {
      dispatch = g_new0 (Dispatch, 1);
      g_object_set_qdata_full (G_OBJECT (skeleton), quark, dispatch,
                               (GDestroyNotify) dispatch_free);
    }
  return dispatch;
}

static const ArgumentCheck *
find_check (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (argument_checks); i++)
    if (g_str_equal (argument_checks[i].name, name))
      return &argument_checks[i];
  return NULL;
}

static gboolean
run_check (const ArgumentCheck *check, GVariant *value, GError **error)
{
  if (check->uint_check != NULL)
    return check->uint_check (g_variant_get_uint32 (value), error);
  return check->string_check (g_variant_get_string (value, NULL), error);
}

/* The checks that @method's XML names on its arguments, in the arguments' order. */
static gboolean
check_arguments (const GDBusMethodInfo *method, GVariant *parameters, GError **error)
{
  if (method == NULL || method->in_args == NULL)
    return TRUE;
  for (gsize i = 0; method->in_args[i] != NULL; i++)
    {
      const char *name =
          g_dbus_annotation_info_lookup (method->in_args[i]->annotations, OS_BUS_CHECK_ANNOTATION);
      g_autoptr (GVariant) value = NULL;

      if (name == NULL)
        continue;
      value = g_variant_get_child_value (parameters, i);
      if (!run_check (find_check (name), value, error))
        return FALSE;
    }
  return TRUE;
}

/* The handler's own vtable: gdbus-codegen's, of the first class above the ones that installed
 * the dispatch. */
static GDBusInterfaceVTable *get_dispatch_vtable (GDBusInterfaceSkeleton *skeleton);

static const GDBusInterfaceVTable *
handler_vtable (GDBusInterfaceSkeleton *skeleton)
{
  GDBusInterfaceSkeletonClass *klass = G_DBUS_INTERFACE_SKELETON_GET_CLASS (skeleton);

  while (klass->get_vtable == get_dispatch_vtable)
    klass = g_type_class_peek_parent (klass);
  return klass->get_vtable (skeleton);
}

/* Properties.Get and GetAll, from the skeleton's get_properties: one source for both, and
 * for GetManagedObjects. No property of ours can be set. */
static void
return_properties (GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autoptr (GVariant) properties = g_dbus_interface_skeleton_get_properties (skeleton);
  g_autoptr (GVariant) value = NULL;
  const char *name;

  if (g_str_equal (method, "GetAll"))
    {
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(@a{sv})", properties));
      return;
    }
  if (g_str_equal (method, "Get"))
    {
      g_variant_get_child (g_dbus_method_invocation_get_parameters (invocation), 1, "&s", &name);
      value = g_variant_lookup_value (properties, name, NULL);
    }
  if (value == NULL)
    {
      g_dbus_method_invocation_return_dbus_error (
          invocation, "org.freedesktop.DBus.Error.PropertyReadOnly", "no property can be set here");
      return;
    }
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
}

/* A call that waited for polkit while its object was removed finds it gone, as it would
 * have had it come a moment later. */
static gboolean
return_if_removed (GDBusInterfaceSkeleton *skeleton, GDBusMethodInvocation *invocation)
{
  g_autoptr (GError) error = NULL;

  if (g_dbus_interface_skeleton_get_connection (skeleton) != NULL)
    return FALSE;
  os_set_error (&error, OS_ERROR_NOT_FOUND,
                "%s was removed while the call waited for authorization",
                dispatch_of (skeleton)->what);
  os_bus_return_error (invocation, error);
  return TRUE;
}

static void
run_handler (GObject *object, GDBusMethodInvocation *invocation)
{
  GDBusInterfaceSkeleton *skeleton = G_DBUS_INTERFACE_SKELETON (object);
  const char *interface = g_dbus_method_invocation_get_interface_name (invocation);

  if (return_if_removed (skeleton, invocation))
    return;
  if (g_str_equal (interface, PROPERTIES_INTERFACE))
    {
      return_properties (skeleton, invocation);
      return;
    }
  handler_vtable (skeleton)->method_call (
      g_dbus_method_invocation_get_connection (invocation),
      g_dbus_method_invocation_get_sender (invocation),
      g_dbus_method_invocation_get_object_path (invocation), interface,
      g_dbus_method_invocation_get_method_name (invocation),
      g_dbus_method_invocation_get_parameters (invocation), invocation, skeleton);
}

static void
dispatch_method_call (GDBusConnection *connection,
                      const char *sender,
                      const char *object_path,
                      const char *interface,
                      const char *method,
                      GVariant *parameters,
                      GDBusMethodInvocation *invocation,
                      gpointer user_data)
{
  GDBusInterfaceSkeleton *skeleton = G_DBUS_INTERFACE_SKELETON (user_data);
  Dispatch *dispatch = dispatch_of (skeleton);
  g_autoptr (GError) error = NULL;
  const GDBusMethodInfo *info = NULL;

  if (dispatch->hook != NULL && dispatch->hook (invocation, dispatch->hook_data))
    return;
  if (!g_str_equal (interface, PROPERTIES_INTERFACE))
    info =
        g_dbus_interface_info_lookup_method (g_dbus_interface_skeleton_get_info (skeleton), method);
  if (!check_arguments (info, parameters, &error))
    {
      os_bus_return_error (invocation, error);
      return;
    }
  os_authority_check (dispatch->authority, invocation, G_OBJECT (skeleton), run_handler);
}

/* No get_property: GDBus then hands the reads of properties to method_call, behind the calls
 * before them. No set_property: every property is read-only. */
static GDBusInterfaceVTable dispatch_vtable = { dispatch_method_call, NULL, NULL, { NULL } };

static GDBusInterfaceVTable *
get_dispatch_vtable (GDBusInterfaceSkeleton *skeleton)
{
  /* GDBusInterfaceSkeleton takes a copy of it, and gives its own method_call to GDBus. */
  return &dispatch_vtable;
}

/* Every annotation names a check that exists, for the type of its argument. */
static void
verify_checks (GDBusInterfaceInfo *interface)
{
  for (gsize m = 0; interface->methods != NULL && interface->methods[m] != NULL; m++)
    {
      GDBusArgInfo **args = interface->methods[m]->in_args;

      for (gsize i = 0; args != NULL && args[i] != NULL; i++)
        {
          const char *name =
              g_dbus_annotation_info_lookup (args[i]->annotations, OS_BUS_CHECK_ANNOTATION);
          const ArgumentCheck *check = name ? find_check (name) : NULL;

          if (name != NULL &&
              (check == NULL || !g_str_equal (check->signature, args[i]->signature)))
            g_error ("%s.%s, argument %s: no check '%s' for type '%s'", interface->name,
                     interface->methods[m]->name, args[i]->name, name, args[i]->signature);
        }
    }
}

void
os_bus_dispatch_install (GDBusInterfaceSkeletonClass *klass)
{
  /* gdbus-codegen's get_info reads no instance: the interface is the class's. */
  verify_checks (klass->get_info (NULL));
  klass->get_vtable = get_dispatch_vtable;
}

void
os_bus_dispatch_attach (GDBusInterfaceSkeleton *skeleton, OsAuthority *authority, const char *what)
{
  Dispatch *dispatch = dispatch_of (skeleton);

  g_set_object (&dispatch->authority, authority);
  g_free (dispatch->what);
  dispatch->what = g_strdup (what);
}

void
os_bus_dispatch_set_hook (GDBusInterfaceSkeleton *skeleton, OsBusCallHook hook, GObject *user_data)
{
  Dispatch *dispatch = dispatch_of (skeleton);

  dispatch->hook = hook;
  g_set_object (&dispatch->hook_data, user_data);
}
