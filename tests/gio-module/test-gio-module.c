/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The GIO module (src/gio-module/) as a GIO program loads it: GIO_EXTRA_MODULES names the
 * build's folder and GIO_USE_NETWORK_MONITOR=offline-state chooses it (meson sets both). The
 * real daemon runs on a private bus, a fresh one for every case; each case makes monitors of
 * its own from the extension point, as g_network_monitor_get_default() does once.
 */
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "transition-clients.h"

/* How a monitor announces itself: its network-changed signals and its notifications. */
typedef struct
{
  GNetworkMonitor *monitor;
  guint changes;
  gboolean last_available;
  guint available_notes;
  guint seen;  /* network-changed signals that the case has waited for */
  guint flips; /* changes of availability that it has waited for */
} Watch;

static void
on_network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  Watch *watch = user_data;

  watch->changes++;
  watch->last_available = available;
}

static void
on_available_notify (GObject *monitor, GParamSpec *pspec, gpointer user_data)
{
  Watch *watch = user_data;

  watch->available_notes++;
}

static GType
offline_state_type (void)
{
  GIOExtensionPoint *point = g_io_extension_point_lookup (G_NETWORK_MONITOR_EXTENSION_POINT_NAME);
  GIOExtension *ours = g_io_extension_point_get_extension_by_name (point, "offline-state");

  g_assert_nonnull (ours);
  g_assert_cmpint (g_io_extension_get_priority (ours), <, 0);
  return g_io_extension_get_type (ours);
}

/* What the module's monitor follows: the first other monitor of the extension point, by
 * priority, that starts. */
static GNetworkMonitor *
underlying_new (void)
{
  GIOExtensionPoint *point = g_io_extension_point_lookup (G_NETWORK_MONITOR_EXTENSION_POINT_NAME);

  for (GList *l = g_io_extension_point_get_extensions (point); l != NULL; l = l->next)
    {
      GType type = g_io_extension_get_type (l->data);
      GNetworkMonitor *monitor;

      if (type == offline_state_type ())
        continue;
      monitor = g_initable_new (type, NULL, NULL, NULL);
      if (monitor != NULL)
        return monitor;
    }
  g_assert_not_reached ();
}

static void
watch_start (Watch *watch)
{
  g_autoptr (GError) error = NULL;

  watch->monitor = g_initable_new (offline_state_type (), NULL, &error, NULL);
  g_assert_no_error (error);
  g_signal_connect (watch->monitor, "network-changed", G_CALLBACK (on_network_changed), watch);
  g_signal_connect (watch->monitor, "notify::network-available", G_CALLBACK (on_available_notify),
                    watch);
}

static void
watch_stop (Watch *watch)
{
  g_signal_handlers_disconnect_by_data (watch->monitor, watch);
  g_clear_object (&watch->monitor);
}

/* Waits for the network-changed of a change of availability to @available (the harness's
 * own waits may have let it in already), notified once. */
static void
watch_wait (Watch *watch, gboolean available)
{
  harness_wait_count (&watch->changes, watch->seen + 1, WAIT_MS);
  watch->seen = watch->changes;
  watch->flips++;
  g_assert_cmpint (watch->last_available, ==, available);
  g_assert_cmpint (g_network_monitor_get_network_available (watch->monitor), ==, available);
  g_assert_cmpuint (watch->available_notes, ==, watch->flips);
}

static void
on_reached (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;

  if (g_network_monitor_can_reach_finish (G_NETWORK_MONITOR (source), result, error))
    *error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "reached");
}

/* can_reach, as the error it fails with ("reached" when it does not fail). */
static GError *
reach_async (GNetworkMonitor *monitor, GSocketConnectable *where)
{
  GError *error = NULL;

  g_network_monitor_can_reach_async (monitor, where, NULL, on_reached, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  return error;
}

static GError *
reach (GNetworkMonitor *monitor, GSocketConnectable *where)
{
  GError *error = NULL;

  if (g_network_monitor_can_reach (monitor, where, NULL, &error))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "reached");
  return error;
}

typedef struct
{
  GNetworkMonitor *monitor;
  GSocketConnectable *where;
} Reach;

static gpointer
reach_thread (gpointer user_data)
{
  Reach *r = user_data;

  return reach (r->monitor, r->where);
}

/* can_reach from a thread of its own, as evolution-data-server's backends call it. */
static GError *
reach_in_thread (GNetworkMonitor *monitor, GSocketConnectable *where)
{
  Reach r = { monitor, where };

  return g_thread_join (g_thread_new ("can-reach", reach_thread, &r));
}

/* Offline: no network, LOCAL, can_reach fails at once. Online: what the underlying monitor
 * says, can_reach included. */
static void
assert_follows (Watch *watch, gboolean online)
{
  g_autoptr (GNetworkMonitor) underlying = underlying_new ();
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string ("127.0.0.1", 80);
  GSocketConnectable *where = G_SOCKET_CONNECTABLE (address);
  g_autoptr (GError) sync_error = reach (watch->monitor, where);
  g_autoptr (GError) async_error = reach_async (watch->monitor, where);
  g_autoptr (GError) thread_error = reach_in_thread (watch->monitor, where);
  g_autoptr (GError) theirs = reach (underlying, where);

  if (!online)
    {
      g_assert_false (g_network_monitor_get_network_available (watch->monitor));
      g_assert_cmpint (g_network_monitor_get_connectivity (watch->monitor), ==,
                       G_NETWORK_CONNECTIVITY_LOCAL);
      g_assert_error (sync_error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
      g_assert_error (async_error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
      g_assert_error (thread_error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
      return;
    }
  g_assert_cmpint (g_network_monitor_get_network_available (watch->monitor), ==,
                   g_network_monitor_get_network_available (underlying));
  g_assert_cmpint (g_network_monitor_get_connectivity (watch->monitor), ==,
                   g_network_monitor_get_connectivity (underlying));
  g_assert_error (sync_error, theirs->domain, theirs->code);
  g_assert_error (async_error, theirs->domain, theirs->code);
  g_assert_error (thread_error, theirs->domain, theirs->code);
}

/* Availability changes with the profile only where the network underneath is there. */
static gboolean
network_underneath (void)
{
  g_autoptr (GNetworkMonitor) underlying = underlying_new ();

  if (g_network_monitor_get_network_available (underlying))
    return TRUE;
  g_test_skip ("the network monitor underneath says there is no network here");
  return FALSE;
}

/* BLOCK: the reply comes when the transition is over, so that the next one may start. */
static void
set_state (Harness *h, const char *profile, guint state)
{
  g_autofree char *path = harness_profile_path (profile);
  g_autoptr (GError) error = harness_set_state (h->client, path, BLOCK, state);

  g_assert_no_error (error);
}

/* g_network_monitor_get_default() is the module's, in a process of its own: its monitor lives
 * as long as the process. It watches a system bus that is not there: the service absent, it
 * is the monitor underneath. */
static void
test_default (void)
{
  GNetworkMonitor *monitor;
  g_autoptr (GNetworkMonitor) underlying = NULL;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
      g_test_trap_assert_passed ();
      return;
    }
  g_setenv ("OFFLINE_STATE_BUS", "system", TRUE);
  g_setenv ("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/offline-state-test", TRUE);
  monitor = g_network_monitor_get_default ();
  underlying = underlying_new ();
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (monitor), ==, g_type_name (offline_state_type ()));
  g_assert_cmpint (g_network_monitor_get_network_available (monitor), ==,
                   g_network_monitor_get_network_available (underlying));
}

/* The monitor announces the change of availability, and says the same everywhere. */
static void
follow (Watch *watch, gboolean online)
{
  watch_wait (watch, online);
  assert_follows (watch, online);
}

/* A monitor made while the default profile is offline, once it has followed the service. */
static gboolean
watch_offline (Harness *h, Watch *watch)
{
  if (!network_underneath ())
    return FALSE;
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, OFFLINE);
  watch_start (watch);
  follow (watch, FALSE);
  return TRUE;
}

/* Offline, online, offline again: each commit is one network-changed. */
static void
test_transitions (Harness *h, gconstpointer data)
{
  Watch watch = { 0 };

  if (!watch_offline (h, &watch))
    return;
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, ONLINE);
  follow (&watch, TRUE);
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, OFFLINE);
  follow (&watch, FALSE);
  watch_stop (&watch);
}

/* The service gone: the network underneath; back (its state kept on disk): offline again. */
static void
test_service_restarted (Harness *h, gconstpointer data)
{
  Watch watch = { 0 };

  if (!watch_offline (h, &watch))
    return;
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  follow (&watch, TRUE);
  harness_start_daemon (h, NULL);
  follow (&watch, FALSE);
  watch_stop (&watch);
}

/* Made while the service is absent: it starts at once, and follows once the name appears. */
static void
test_service_later (Harness *h, gconstpointer data)
{
  Watch watch = { 0 };

  if (!network_underneath ())
    return;
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, OFFLINE);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  watch_start (&watch);
  assert_follows (&watch, TRUE);
  harness_start_daemon (h, NULL);
  follow (&watch, FALSE);
  watch_stop (&watch);
}

/* The modules are loaded (the build's among them) with GLib's base monitor as the default:
 * no thread and no bus of its own, that a case's private bus would wait for. */
static void
load_modules (void)
{
  g_autofree char *chosen = g_strdup (g_getenv ("GIO_USE_NETWORK_MONITOR"));

  g_setenv ("GIO_USE_NETWORK_MONITOR", "base", TRUE);
  g_assert_nonnull (g_network_monitor_get_default ());
  g_setenv ("GIO_USE_NETWORK_MONITOR", chosen, TRUE);
}

/* The daemon that owns the bus name, as the bus sees it. */
static int
owner_pidfd (GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new ("(s)", OFFLINE_STATE_BUS_NAME),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  guint pid;
  int fd;

  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &pid);
  fd = (int) syscall (SYS_pidfd_open, (pid_t) pid, 0);
  g_assert_cmpint (fd, >=, 0);
  return fd;
}

static gboolean
name_has_owner (GDBusConnection *connection)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "NameHasOwner", g_variant_new ("(s)", OFFLINE_STATE_BUS_NAME), G_VARIANT_TYPE ("(b)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  gboolean owned;

  g_assert_no_error (error);
  g_variant_get (reply, "(b)", &owned);
  return owned;
}

/* Not running but activatable (a bus whose services folder is the build's test-services
 * folder): the monitor never starts the service, and follows it once another program's
 * call has started it. In a process of its own, so that the module's connection is to
 * this case's bus. */
static void
test_activated (void)
{
  g_autoptr (GTestDBus) bus = NULL;
  g_autoptr (GDBusConnection) client = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
  Watch watch = { 0 };
  struct pollfd daemon = { .events = POLLIN };

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  load_modules ();
  if (!network_underneath ())
    return;
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_add_service_dir (bus, g_getenv ("OFFLINE_STATE_TEST_SERVICES_DIR"));
  g_test_dbus_up (bus);
  client =
      g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (bus),
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  g_assert_no_error (error);

  watch_start (&watch);
  assert_follows (&watch, TRUE);
  g_assert_false (name_has_owner (client));

  /* The first call starts the daemon; with BLOCK it returns once the profile is offline. */
  reply = g_dbus_connection_call_sync (
      client, OFFLINE_STATE_BUS_NAME, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
      g_variant_new ("(uuu)", BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK, OFFLINE), G_VARIANT_TYPE_UNIT,
      G_DBUS_CALL_FLAGS_NONE, WAIT_MS, NULL, &error);
  g_assert_no_error (error);
  follow (&watch, FALSE);
  watch_stop (&watch);

  /* The activated daemon leaves with its bus: wait for it, so that nothing outlives the case. */
  daemon.fd = owner_pidfd (client);
  g_dbus_connection_close_sync (client, NULL, NULL);
  g_test_dbus_down (bus);
  g_assert_cmpint (poll (&daemon, 1, WAIT_MS), ==, 1);
  close (daemon.fd);
}

static char *
create_work (Harness *h)
{
  return harness_create_profile (
      h, "work", MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE, OFFLINE);
}

/* $OFFLINE_STATE_PROFILE chooses the profile; the others do not matter. */
static void
test_other_profile (Harness *h, gconstpointer data)
{
  Watch watch = { 0 };
  g_autofree char *path = NULL;

  if (!network_underneath ())
    return;
  path = create_work (h);
  g_setenv ("OFFLINE_STATE_PROFILE", "work", TRUE);
  watch_start (&watch);
  g_unsetenv ("OFFLINE_STATE_PROFILE");
  watch_wait (&watch, FALSE);
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, OFFLINE);
  set_state (h, OFFLINE_STATE_DEFAULT_PROFILE, ONLINE);
  set_state (h, "work", ONLINE);
  watch_wait (&watch, TRUE);
  watch_stop (&watch);
}

/* The profile removed: it counts as online; made again: it is followed again. Missing when
 * the monitor is made: followed once it is made. */
static void
test_profile_removed (Harness *h, gconstpointer data)
{
  Watch watch = { 0 };
  g_autofree char *first = NULL;
  g_autofree char *again = NULL;

  if (!network_underneath ())
    return;
  g_setenv ("OFFLINE_STATE_PROFILE", "work", TRUE);
  watch_start (&watch);
  g_unsetenv ("OFFLINE_STATE_PROFILE");
  first = create_work (h);
  follow (&watch, FALSE);
  harness_remove_profile (h, "work");
  follow (&watch, TRUE);
  again = create_work (h);
  follow (&watch, FALSE);
  harness_remove_profile (h, "work");
  follow (&watch, TRUE);
  watch_stop (&watch);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  if (!g_test_subprocess ())
    load_modules ();

  g_test_add_func ("/gio-module/default", test_default);
  g_test_add_func ("/gio-module/activated", test_activated);
  HARNESS_ADD ("/gio-module/transitions", NULL, harness_fixture_setup, test_transitions);
  HARNESS_ADD ("/gio-module/service-restarted", NULL, harness_fixture_setup,
               test_service_restarted);
  HARNESS_ADD ("/gio-module/service-later", NULL, harness_fixture_setup, test_service_later);
  HARNESS_ADD ("/gio-module/other-profile", NULL, harness_fixture_setup, test_other_profile);
  HARNESS_ADD ("/gio-module/profile-removed", NULL, harness_fixture_setup, test_profile_removed);
  return g_test_run ();
}
