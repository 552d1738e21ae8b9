/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * From start to serving: the bus connection, the state loaded, the advises of an earlier run
 * restored before the objects are exported, the name owned; and what ends it from the bus's
 * side (the name or the connection lost).
 */
#include "config.h"

#include <stdlib.h>

#include "offline-state.h"
#include "os-daemon-private.h"

static void load (OsDaemon *daemon);

/* The daemon serves the bus, with its name: only the instance that serves the bus writes the
 * advise journal, from now on; and one line, without --verbose too, says that clients can
 * call. */
static void
announce (OsDaemon *daemon)
{
  if (daemon->restored)
    os_manager_keep_advises (daemon->manager);
  g_message ("Serving %s on the %s bus; state in %s, advises in %s", OFFLINE_STATE_BUS_NAME,
             daemon->options.system ? "system" : "session",
             daemon->state_dir ? daemon->state_dir : "memory (--ephemeral)",
             daemon->runtime_dir ? daemon->runtime_dir : "memory (--ephemeral)");
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  OsDaemon *daemon = user_data;

  daemon->name_acquired = TRUE;
  g_debug ("Owns %s", name);
  /* With --replace, the name comes first, then the folders, once the old instance lets go. */
  if (!daemon->serving)
    {
      os_daemon_take_folders (daemon, load);
      return;
    }
  announce (daemon);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  OsDaemon *daemon = user_data;

  /* A closed connection (NULL here) loses the name too; on_connection_closed said why. */
  if (connection == NULL)
    {
      os_daemon_stop (daemon, EXIT_FAILURE);
      return;
    }
  if (!daemon->name_acquired)
    {
      g_printerr ("offline-stated: could not own %s: another instance runs (use --replace to "
                  "take over)\n",
                  name);
      os_daemon_stop (daemon, EXIT_FAILURE);
      return;
    }
  /* Replaced: what was under way ends and is written, and the folders are let go for the new
   * instance, which waits for them. */
  g_printerr ("offline-stated: lost the name %s to another instance\n", name);
  os_daemon_drain (daemon, EXIT_FAILURE);
}

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean remote_peer_vanished,
                      GError *error,
                      gpointer user_data)
{
  OsDaemon *daemon = user_data;

  g_printerr ("offline-stated: the bus connection closed%s%s\n", error ? ": " : "",
              error ? error->message : "");
  daemon->bus_closed = TRUE;
  os_daemon_stop (daemon, EXIT_FAILURE);
}

static void
own_name (OsDaemon *daemon)
{
  GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;

  if (daemon->options.replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  daemon->owner_id =
      g_bus_own_name_on_connection (daemon->connection, OFFLINE_STATE_BUS_NAME, flags,
                                    on_name_acquired, on_name_lost, daemon, NULL);
}

/* The state is loaded and the advises restored: the objects go on the bus, then the name is
 * owned, unless it was first (--replace). */
static void
serve (OsDaemon *daemon)
{
  g_autoptr (GError) error = NULL;

  /* Objects first, then the name: a client that enumerates at once sees them all. */
  if (!os_bus_manager_export (daemon->bus_manager, &error))
    {
      os_daemon_fail (daemon, error);
      return;
    }
  daemon->serving = TRUE;
  if (daemon->hold != NULL)
    os_bus_hold_release (g_steal_pointer (&daemon->hold), daemon->bus_manager);
  if (!daemon->name_acquired)
    {
      own_name (daemon);
      return;
    }
  announce (daemon);
}

/* Calls @method of the bus itself, for restoring the advises. */
static void
ask_bus (OsDaemon *daemon, const char *method, const char *reply_type, GAsyncReadyCallback callback)
{
  g_dbus_connection_call (daemon->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", method, NULL, G_VARIANT_TYPE (reply_type),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, callback, daemon);
}

/* The bus's reply to ask_bus(), or NULL: the daemon is stopping, or the bus did not answer
 * and the daemon serves without the advises (the warning says what it could not do, @step). */
static GVariant *
ask_bus_finish (OsDaemon *daemon, GObject *source, GAsyncResult *result, const char *step)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (daemon->stopping)
    return NULL;
  if (reply == NULL)
    {
      g_warning ("No advises restored: cannot %s: %s", step, error->message);
      serve (daemon);
    }
  return g_steal_pointer (&reply);
}

/* The clients on the bus now; the NameOwnerChanged subscription already in place tells of
 * those that leave after this answer, so none is restored after it has gone. */
static void
on_names_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsDaemon *daemon = user_data;
  g_autoptr (GVariant) reply = ask_bus_finish (daemon, source, result, "list the names on the bus");
  g_autofree const char **names = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(^a&s)", &names);
  os_manager_restore_advises (daemon->manager, daemon->runtime_dir, daemon->bus_id, names);
  os_bus_manager_identify_clients (daemon->bus_manager);
  daemon->restored = TRUE;
  serve (daemon);
}

static void
on_bus_id (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsDaemon *daemon = user_data;
  g_autoptr (GVariant) reply = ask_bus_finish (daemon, source, result, "read the bus's ID");

  if (reply == NULL)
    return;
  g_variant_get (reply, "(s)", &daemon->bus_id);
  ask_bus (daemon, "ListNames", "(as)", on_names_listed);
}

/* Loads the state (the folders are this instance's now), puts the objects on the bus,
 * restores the advises. */
static void
load (OsDaemon *daemon)
{
  OsDaemonOptions *options = &daemon->options;

  daemon->manager = os_manager_new (&options->limits, daemon->state_dir);
  os_manager_load (daemon->manager);
  daemon->bus_manager = os_bus_manager_new (daemon->manager, daemon->connection,
                                            !options->no_emulation, options->system);
  if (options->follow_network)
    daemon->network_follower = os_network_follower_new (
        daemon->manager, g_network_monitor_get_default (), options->reconnect_delay_ms);
  if (options->ephemeral)
    serve (daemon);
  else
    ask_bus (daemon, "GetId", "(s)", on_bus_id);
}

gboolean
os_daemon_start (OsDaemon *daemon, GError **error)
{
  OsDaemonOptions *options = &daemon->options;

  /* One instance a folder: the second refuses before it reads or removes anything. */
  if (!options->ephemeral && !options->replace && !os_daemon_take_folders_now (daemon, error))
    return FALSE;

  daemon->connection =
      g_bus_get_sync (options->system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION, NULL, error);
  if (daemon->connection == NULL)
    return FALSE;
  g_dbus_connection_set_exit_on_close (daemon->connection, FALSE);
  g_signal_connect (daemon->connection, "closed", G_CALLBACK (on_connection_closed), daemon);

  if (!options->replace)
    {
      load (daemon);
      return TRUE;
    }
  /* The name first: calls that come before the state is loaded wait for it. */
  daemon->hold = os_bus_hold_new (daemon->connection, options->limits.max_calls_per_user, error);
  if (daemon->hold == NULL)
    return FALSE;
  own_name (daemon);
  return TRUE;
}
