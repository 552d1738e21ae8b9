/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The GIO module's latency (issue 15), in one client process as an application sees it:
 * GLib's default network monitor is the module's (the driver sets GIO_EXTRA_MODULES and
 * GIO_USE_NETWORK_MONITOR=offline-state). The process advises the profile with signal
 * delivery and takes it offline and online again, TRANSITIONS times with BLOCK.
 *
 * The daemon tells the commit of a transition twice at once: STATECHANGE to each advise, and
 * the State property's PropertiesChanged (which is what the module follows). The process's
 * STATECHANGE is the moment the first of the two reaches it: a filter on its connection
 * notes it on GDBus's thread as the message is read (the daemon sends PropertiesChanged
 * first, so a handler of STATECHANGE would run after the module has flipped). From there it
 * times the module's network-changed in the main thread and, as the floor, the main thread's
 * handler of a plain PropertiesChanged subscription on the same connection: what GLib alone
 * costs to bring the news to the application.
 *
 * Usage: bench-gio-module PROFILE-PATH TRANSITIONS
 * Prints one line per transition, "sample NETWORK-CHANGED-MS PROPERTIES-CHANGED-MS", then
 * "end"; or "error TEXT" and exits with status 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench-common.h"
#include "offline-state.h"

#define CALL_TIMEOUT_MS  10000
#define WAIT_TIMEOUT_MS  10000
#define CLIENT_TOKEN     0x15
#define WARM_TRANSITIONS 2

typedef struct
{
  GMutex lock;
  gint64 statechange_ns; /* 0 until this transition's commit reaches the process */
} Arrival;

typedef struct
{
  Arrival arrival; /* written by GDBus's thread */
  GDBusConnection *connection;
  GNetworkMonitor *monitor;
  const char *path;
  gint64 properties_ns; /* 0 until the State's PropertiesChanged */
  gint64 network_ns;    /* 0 until network-changed */
  gboolean available;
  gboolean replied;
  GError *error; /* of the transition's call */
} Probe;

static gboolean
is_commit (GDBusMessage *message, const char *path)
{
  GVariant *body = g_dbus_message_get_body (message);
  const char *member = g_dbus_message_get_member (message);
  g_autoptr (GVariant) changed = NULL;
  g_autoptr (GVariant) state = NULL;
  guint notify_type;

  if (g_dbus_message_get_message_type (message) != G_DBUS_MESSAGE_TYPE_SIGNAL ||
      g_strcmp0 (g_dbus_message_get_path (message), path) != 0 || body == NULL)
    return FALSE;
  if (g_strcmp0 (member, OFFLINE_STATE_STATE_CHANGED_SIGNAL) == 0 &&
      g_variant_is_of_type (body, G_VARIANT_TYPE ("(uuuuut)")))
    {
      g_variant_get_child (body, 0, "u", &notify_type);
      return notify_type == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE;
    }
  if (g_strcmp0 (member, "PropertiesChanged") != 0 ||
      !g_variant_is_of_type (body, G_VARIANT_TYPE ("(sa{sv}as)")))
    return FALSE;
  changed = g_variant_get_child_value (body, 1);
  state = g_variant_lookup_value (changed, "State", G_VARIANT_TYPE_UINT32);
  return state != NULL;
}

/* On GDBus's thread, as each message is read. */
static GDBusMessage *
note_arrival (GDBusConnection *connection,
              GDBusMessage *message,
              gboolean incoming,
              gpointer user_data)
{
  Probe *probe = user_data;

  if (incoming && is_commit (message, probe->path))
    {
      gint64 now = bench_now_ns ();

      g_mutex_lock (&probe->arrival.lock);
      if (probe->arrival.statechange_ns == 0)
        probe->arrival.statechange_ns = now;
      g_mutex_unlock (&probe->arrival.lock);
    }
  return message;
}

static gint64
take_arrival (Probe *probe)
{
  gint64 ns;

  g_mutex_lock (&probe->arrival.lock);
  ns = probe->arrival.statechange_ns;
  probe->arrival.statechange_ns = 0;
  g_mutex_unlock (&probe->arrival.lock);
  return ns;
}

static void
on_properties_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  Probe *probe = user_data;
  g_autoptr (GVariant) changed = g_variant_get_child_value (parameters, 1);
  g_autoptr (GVariant) state = g_variant_lookup_value (changed, "State", G_VARIANT_TYPE_UINT32);

  if (state != NULL && probe->properties_ns == 0)
    probe->properties_ns = bench_now_ns ();
}

static void
on_network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  Probe *probe = user_data;

  if (available != probe->available && probe->network_ns == 0)
    {
      probe->network_ns = bench_now_ns ();
      probe->available = available;
    }
}

static void
on_set_state_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Probe *probe = user_data;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &probe->error);

  probe->replied = TRUE;
}

static void
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* One transition to @state, with BLOCK: returns once the call has returned and all three
 * moments are seen, the commit's arrival in @statechange_ns. */
static gboolean
transition (Probe *probe, guint state, gint64 *statechange_ns, GError **error)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  take_arrival (probe);
  probe->properties_ns = probe->network_ns = 0;
  probe->replied = FALSE;
  g_dbus_connection_call (
      probe->connection, OFFLINE_STATE_BUS_NAME, probe->path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      "SetCurrentState",
      g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK, state), NULL,
      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, on_set_state_reply, probe);
  timeout_id = g_timeout_add_once (WAIT_TIMEOUT_MS, on_timeout, &timed_out);
  while (!timed_out && !(probe->replied && probe->properties_ns != 0 && probe->network_ns != 0))
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  if (probe->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&probe->error));
      return FALSE;
    }
  if (timed_out)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "after %u ms: reply %s, PropertiesChanged %s, network-changed %s",
                   WAIT_TIMEOUT_MS, probe->replied ? "seen" : "missing",
                   probe->properties_ns ? "seen" : "missing",
                   probe->network_ns ? "seen" : "missing");
      return FALSE;
    }
  /* The reply comes after DONE, so STATECHANGE has been read by now. */
  *statechange_ns = take_arrival (probe);
  if (*statechange_ns == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           "the transition was over, and no STATECHANGE was read");
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_monitor (GNetworkMonitor *monitor, GError **error)
{
  GIOExtensionPoint *point = g_io_extension_point_lookup (G_NETWORK_MONITOR_EXTENSION_POINT_NAME);
  GIOExtension *ours = g_io_extension_point_get_extension_by_name (point, "offline-state");

  if (ours == NULL || G_OBJECT_TYPE (monitor) != g_io_extension_get_type (ours))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "GLib's network monitor is %s, not the module's (GIO_EXTRA_MODULES=%s)",
                   G_OBJECT_TYPE_NAME (monitor), g_getenv ("GIO_EXTRA_MODULES"));
      return FALSE;
    }
  if (!g_network_monitor_get_network_available (monitor))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                           "no network under the module's monitor: it cannot flip");
      return FALSE;
    }
  return TRUE;
}

static gboolean
run (Probe *probe, guint transitions, GError **error)
{
  g_autoptr (GVariant) reply = NULL;
  gint64 statechange_ns;

  probe->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (probe->connection == NULL)
    return FALSE;
  g_dbus_connection_add_filter (probe->connection, note_arrival, probe, NULL);
  g_dbus_connection_signal_subscribe (probe->connection, OFFLINE_STATE_BUS_NAME,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                      probe->path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                                      G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed, probe, NULL);
  reply = g_dbus_connection_call_sync (
      probe->connection, OFFLINE_STATE_BUS_NAME, probe->path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      "Advise",
      g_variant_new ("(uuuouu)", 0, CLIENT_TOKEN, MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                     OFFLINE_STATE_SIGNAL_CALLBACK_PATH, MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                     MAPIOFFLINE_STATE_OFFLINE_MASK),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, error);
  if (reply == NULL)
    return FALSE;

  /* The module learns the profile's state as it starts, after GLib made the monitor: the
   * first transitions are not timed, and are how this process knows it follows. */
  probe->monitor = g_network_monitor_get_default ();
  g_signal_connect (probe->monitor, "network-changed", G_CALLBACK (on_network_changed), probe);
  probe->available = TRUE;
  for (guint i = 0; i < WARM_TRANSITIONS; i++)
    if (!transition (probe, i % 2 == 0 ? MAPIOFFLINE_STATE_OFFLINE : MAPIOFFLINE_STATE_ONLINE,
                     &statechange_ns, error))
      {
        g_prefix_error (error, "the module did not follow the profile: ");
        return FALSE;
      }
  if (!check_monitor (probe->monitor, error))
    return FALSE;

  for (guint i = 0; i < transitions; i++)
    {
      if (!transition (probe, i % 2 == 0 ? MAPIOFFLINE_STATE_OFFLINE : MAPIOFFLINE_STATE_ONLINE,
                       &statechange_ns, error))
        return FALSE;
      printf ("sample %.6f %.6f\n", (double) (probe->network_ns - statechange_ns) / 1e6,
              (double) (probe->properties_ns - statechange_ns) / 1e6);
      fflush (stdout);
    }
  printf ("end\n");
  return TRUE;
}

int
main (int argc, char **argv)
{
  Probe probe = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 transitions;

  g_mutex_init (&probe.arrival.lock);

  if (argc != 3 || !g_variant_is_object_path (argv[1]) ||
      !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT, &transitions, NULL))
    {
      fprintf (stderr, "usage: bench-gio-module PROFILE-PATH TRANSITIONS\n");
      return 2;
    }
  probe.path = argv[1];
  if (!run (&probe, transitions, &error))
    {
      printf ("error %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_object_unref (probe.connection);
  return EXIT_SUCCESS;
}
