/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The daemon's way out, once its main loop has ended: off the bus, the last writes waited
 * for, what is still in memory only tried again, the advise journal kept for a next instance
 * or dropped, and last the folders let go.
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "os-daemon-private.h"

/* Deciding whether a bus whose connection closed is gone (bus_is_gone()). */
#define PROBE_ATTEMPTS    5
#define PROBE_INTERVAL_MS 100
#define PROBE_TIMEOUT_MS  1000

/* Saving what is in memory only, at exit (save_what_is_unsaved()). */
#define SAVE_ATTEMPTS_AT_EXIT    3
#define SAVE_INTERVAL_AT_EXIT_MS 500

/* The address the daemon reached its bus at, as GDBus found it, but never by starting a
 * bus (GDBus's last resort for the session bus, dbus-launch), which the daemon must not do
 * on its way out. NULL if it cannot tell. */
static char *
bus_address (OsDaemon *daemon)
{
  const char *runtime_dir = g_get_user_runtime_dir ();
  const char *session = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *socket = NULL;
  g_autofree char *escaped = NULL;

  if (daemon->options.system)
    return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  if (session != NULL)
    return g_strdup (session);
  /* Where GDBus looks next; a socket no longer there proves nothing, since the daemon may
   * have been started on a bus of dbus-launch's. */
  socket = g_build_filename (runtime_dir, "bus", NULL);
  if (!g_file_test (socket, G_FILE_TEST_EXISTS))
    return NULL;
  escaped = g_dbus_address_escape_value (socket);
  return g_strconcat ("unix:path=", escaped, NULL);
}

static void
on_probe_over (gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
on_probed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* One look at the bus: TRUE if it answered as a bus, FALSE with @error if not. A bus that
 * takes the connection but does not answer within PROBE_TIMEOUT_MS is not answering. */
static gboolean
probe_bus (const char *address, GError **error)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  guint timeout = g_timeout_add_once (PROBE_TIMEOUT_MS, on_probe_over, cancellable);

  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                         G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, cancellable, on_probed, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout);
  connection = g_dbus_connection_new_for_address_finish (result, error);
  if (connection == NULL)
    return FALSE;
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return TRUE;
}

/* Whether the bus is gone, not only this daemon's connection to it: nothing listens at its
 * address any more. A bus that is dying may still take a connection and then drop it, so
 * one look does not decide: the bus is gone when a connection is refused (or its socket is
 * not there), it lives when it answers as a bus, and anything else is looked at again, a few
 * times. Undecided, the advises' journal is kept, in case the bus lives on. */
static gboolean
bus_is_gone (OsDaemon *daemon)
{
  g_autofree char *address = bus_address (daemon);

  if (address == NULL)
    return FALSE;
  for (guint attempt = 0; attempt < PROBE_ATTEMPTS; attempt++)
    {
      g_autoptr (GError) error = NULL;

      if (attempt > 0)
        g_usleep (PROBE_INTERVAL_MS * G_TIME_SPAN_MILLISECOND);
      if (probe_bus (address, &error))
        {
          g_debug ("The bus at %s lives on", address);
          return FALSE;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_debug ("The bus at %s is gone: %s", address, error->message);
          return TRUE;
        }
      g_debug ("The bus at %s cannot be reached: %s", address, error->message);
    }
  return FALSE;
}

/* A clean exit leaves nothing half-done on disk: wait for the last write. */
static void
finish_writes (OsDaemon *daemon)
{
  while (daemon->manager != NULL && os_manager_is_saving (daemon->manager))
    g_main_context_iteration (NULL, TRUE);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  os_manager_save_finish (OS_MANAGER (source), result, NULL);
  *done = TRUE;
}

static void
on_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
iterate_until (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

/* What is in memory only (a transition without BLOCK whose commit was not written) is tried
 * a few more times; what still is not on disk is named, and the exit status says it. */
static void
save_what_is_unsaved (OsDaemon *daemon)
{
  const char *const *unsaved;
  g_autofree char *lost = NULL;

  for (guint attempt = 0; attempt < SAVE_ATTEMPTS_AT_EXIT; attempt++)
    {
      gboolean done = FALSE;

      if (daemon->manager == NULL || os_manager_get_unsaved (daemon->manager) == NULL)
        return;
      if (attempt > 0)
        {
          g_timeout_add_once (SAVE_INTERVAL_AT_EXIT_MS, on_flag, &done);
          iterate_until (&done);
          done = FALSE;
        }
      os_manager_save_async (daemon->manager, on_saved, &done);
      iterate_until (&done);
    }
  unsaved = os_manager_get_unsaved (daemon->manager);
  if (unsaved == NULL)
    return;
  lost = g_strjoinv ("; ", (char **) unsaved);
  g_printerr ("offline-stated: could not save the state in %s; lost: %s\n", daemon->state_dir,
              lost);
  daemon->status = EXIT_FAILURE;
}

/* The journal is for the next instance to restore the advises from. One that holds none
 * (every client unadvised or left) would only stay in the runtime folder until the machine
 * stops; the next instance then starts its tokens afresh, which is safe: a token is unique
 * within one run (the D-Bus reference, OfflineMgr.Advise), and no live advise holds an old one.
 * Advises live as long as their bus, too: the journal of a bus that has gone goes with it. A
 * crash keeps the journal, whatever it holds. */
static gboolean
journal_is_of_no_use (OsDaemon *daemon)
{
  if (os_manager_get_n_advises (daemon->manager) == 0)
    {
      g_debug ("No advise to keep for a next instance");
      return TRUE;
    }
  if (daemon->bus_closed && bus_is_gone (daemon))
    {
      g_debug ("The advises' bus is gone");
      return TRUE;
    }
  return FALSE;
}

void
os_daemon_shut_down (OsDaemon *daemon)
{
  if (daemon->owner_id != 0)
    g_bus_unown_name (daemon->owner_id);
  if (daemon->bus_manager != NULL)
    os_bus_manager_unexport (daemon->bus_manager);
  g_clear_object (&daemon->network_follower);
  g_clear_pointer (&daemon->hold, os_bus_hold_free);
  finish_writes (daemon);
  save_what_is_unsaved (daemon);
  if (daemon->manager != NULL && journal_is_of_no_use (daemon))
    os_manager_forget_advises (daemon->manager);
  g_clear_object (&daemon->bus_manager);
  if (daemon->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (daemon->connection, daemon);
      g_dbus_connection_flush_sync (daemon->connection, NULL, NULL);
    }
  g_clear_object (&daemon->connection);
  g_clear_object (&daemon->manager);
  /* The last write is done: the folders are free for the next instance. */
  if (daemon->state_lock >= 0)
    close (daemon->state_lock);
  if (daemon->runtime_lock >= 0)
    close (daemon->runtime_lock);
  g_clear_pointer (&daemon->loop, g_main_loop_unref);
  g_free (daemon->state_dir);
  g_free (daemon->runtime_dir);
  g_free (daemon->bus_id);
}
