/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the hostile tests share (see hostile-clients.h).
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
on_name_owner_changed (GVariant *parameters, gpointer user_data)
{
  Departures *departures = user_data;
  const char *name, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, NULL, &new_owner);
  if (name[0] == ':' && new_owner[0] == '\0')
    g_hash_table_add (departures->gone, g_strdup (name));
}

void
departures_init (Departures *departures, GDBusConnection *connection)
{
  departures->connection = connection;
  departures->gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  departures->subscription_id =
      harness_subscribe_name_owner (connection, NULL, on_name_owner_changed, departures);
}

void
departures_clear (Departures *departures)
{
  g_dbus_connection_signal_unsubscribe (departures->connection, departures->subscription_id);
  g_clear_pointer (&departures->gone, g_hash_table_unref);
}

static gboolean
all_gone (Departures *departures, GPtrArray *names)
{
  for (guint i = 0; i < names->len; i++)
    if (!g_hash_table_contains (departures->gone, g_ptr_array_index (names, i)))
      return FALSE;
  return TRUE;
}

static void
on_timed_out (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

void
departures_wait (Departures *departures, GPtrArray *names, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_once (timeout_ms, on_timed_out, &timed_out);

  while (!all_gone (departures, names))
    {
      if (timed_out)
        g_error ("%u clients did not leave within %u ms", names->len, timeout_ms);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (timeout);
}

void
close_and_wait_gone (Harness *h, GDBusConnection *connection)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *path = default_path ();
  Departures departures;

  g_ptr_array_add (names, g_strdup (g_dbus_connection_get_unique_name (connection)));
  departures_init (&departures, h->client);
  settle (h->client, path);
  g_dbus_connection_close_sync (connection, NULL, NULL);
  departures_wait (&departures, names, WAIT_MS);
  departures_clear (&departures);
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
never_called (GDBusMethodInvocation *invocation, GVariant *parameters, gpointer user_data)
{
  g_assert_not_reached ();
}

/* Exports, at @path on @connection, the one interface that @xml describes; every call to it
 * fails the test, as GDBus must refuse the daemon's Notify before any handler runs. */
static void
export_refusing (GDBusConnection *connection, const char *path, const char *xml)
{
  harness_export (connection, path, xml, never_called, NULL);
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
