/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Who may call what, as the introspection data says it: every method that the daemon serves
 * carries the org.offlinestate.OfflineState1.Authorization annotation (os-authority.c builds its
 * rules from it, and refuses on the system bus a method without one), naming one of the polkit
 * actions of offline-state.h, or "none" for a method open to every caller; and only reading and
 * advising are open (docs/desktop.md, Authorization). Walks gdbus-codegen's data, no bus.
 */
#include "config.h"

#include "offline-state.h"
#include "os-dbus-generated.h"

#define AUTHORIZATION_ANNOTATION "org.offlinestate.OfflineState1.Authorization"

static const char *const actions[] = {
  OFFLINE_STATE_ACTION_SET_STATE,
  OFFLINE_STATE_ACTION_MANAGE_PROFILES,
  OFFLINE_STATE_ACTION_EMULATE,
};

/* The methods open to every caller: the ones that read, and Advise and Unadvise. */
static const char *const open_methods[] = {
  OFFLINE_STATE_MANAGER_INTERFACE ".OpenOfflineObject",
  OFFLINE_STATE_OFFLINE_MGR_INTERFACE ".GetCapabilities",
  OFFLINE_STATE_OFFLINE_MGR_INTERFACE ".GetCurrentState",
  OFFLINE_STATE_OFFLINE_MGR_INTERFACE ".Advise",
  OFFLINE_STATE_OFFLINE_MGR_INTERFACE ".Unadvise",
};

static void
check_interface (GDBusInterfaceInfo *info)
{
  g_assert_nonnull (info->methods);
  g_assert_nonnull (info->methods[0]);
  for (GDBusMethodInfo **method = info->methods; *method != NULL; method++)
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", info->name, (*method)->name);
      const char *value =
          g_dbus_annotation_info_lookup ((*method)->annotations, AUTHORIZATION_ANNOTATION);

      g_test_message ("%s: %s", name, value ? value : "(no annotation)");
      if (value == NULL)
        g_error ("%s has no %s annotation", name, AUTHORIZATION_ANNOTATION);
      if (g_strv_contains ((const char *const *) open_methods, name))
        g_assert_cmpstr (value, ==, "none");
      else
        {
          gboolean known = FALSE;

          for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
            known = known || g_str_equal (value, actions[i]);
          if (!known)
            g_error ("%s: '%s' is no polkit action of offline-state.h", name, value);
        }
    }
}

static void
test_manager (void)
{
  check_interface (os_dbus_manager_interface_info ());
}

static void
test_offline_mgr (void)
{
  check_interface (os_dbus_offline_mgr_interface_info ());
}

static void
test_emulation (void)
{
  GDBusInterfaceInfo *info = os_dbus_emulation_interface_info ();

  check_interface (info);
  /* Every way of making the service misbehave is one action's. */
  for (GDBusMethodInfo **method = info->methods; *method != NULL; method++)
    g_assert_cmpstr (
        g_dbus_annotation_info_lookup ((*method)->annotations, AUTHORIZATION_ANNOTATION), ==,
        OFFLINE_STATE_ACTION_EMULATE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/authorization/manager", test_manager);
  g_test_add_func ("/authorization/offline-mgr", test_offline_mgr);
  g_test_add_func ("/authorization/emulation", test_emulation);
  return g_test_run ();
}
