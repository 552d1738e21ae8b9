/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What test-hostile.c and test-malformed.c share (see hostile-clients.h).
 */
#include "hostile-clients.h"

void
setup_with (Harness *h, const char *first_arg)
{
  const char *const args[] = { first_arg, NULL };

  harness_setup (h, args);
}

void
setup_long_timeout (Harness *h, gconstpointer data)
{
  setup_with (h, "--notify-timeout=20000");
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  const char *new_owner;

  g_variant_get (parameters, "(&s&s&s)", NULL, NULL, &new_owner);
  if (new_owner[0] == '\0')
    *(gboolean *) user_data = TRUE;
}

void
close_and_wait_gone (Harness *h, GDBusConnection *connection)
{
  g_autofree char *name = g_strdup (g_dbus_connection_get_unique_name (connection));
  g_autofree char *path = default_path ();
  gboolean gone = FALSE;
  guint id;

  id = g_dbus_connection_signal_subscribe (
      h->client, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", name, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, &gone, NULL);
  settle (h->client, path);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  harness_wait_flag (&gone, WAIT_MS);
  g_dbus_connection_signal_unsubscribe (h->client, id);
}

void
probe_read_warm (Harness *h, ProbeFigures *figures)
{
  g_autofree char *path = default_path ();
  guint token = harness_advise (h->client, path, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  unadvise_ok (h->client, path, token);
  probe_read (h->daemon, figures);
}

static void
never_called (GDBusConnection *connection,
              const char *sender,
              const char *path,
              const char *interface,
              const char *method,
              GVariant *parameters,
              GDBusMethodInvocation *invocation,
              gpointer user_data)
{
  g_assert_not_reached ();
}

/* Exports, at @path on @connection, the one interface that @xml describes; every call to it
 * fails the test, as GDBus must refuse the daemon's Notify before any handler runs. */
static void
export_refusing (GDBusConnection *connection, const char *path, const char *xml)
{
  static const GDBusInterfaceVTable vtable = { never_called, NULL, NULL, { 0 } };
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GError) error = NULL;

  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (connection, path, node->interfaces[0], &vtable, NULL, NULL,
                                     &error);
  g_assert_no_error (error);
}

void
export_wrong_notify (GDBusConnection *connection, const char *path)
{
  export_refusing (connection, path,
                   "<node><interface name='" OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE "'>"
                   "<method name='Notify'><arg type='s'/></method></interface></node>");
}

void
export_other_interface (GDBusConnection *connection, const char *path)
{
  export_refusing (connection, path,
                   "<node><interface name='org.example.Other'><method name='Notify'>"
                   "<arg type='u'/><arg type='u'/><arg type='u'/><arg type='u'/><arg type='u'/>"
                   "<arg type='t'/></method></interface></node>");
}

void
assert_transitions_seen (HarnessRecorder *recorder, guint client_token, guint n_transitions)
{
  g_autofree char *path = default_path ();

  settle (recorder->connection, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3 * n_transitions);
  for (guint i = 0; i < n_transitions; i++)
    assert_transition (recorder, 3 * i, client_token, i % 2 ? OFFLINE : ONLINE,
                       i % 2 ? ONLINE : OFFLINE, i + 1);
}
