/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * One instance hands the bus to the next. The old one, told to stop or replaced, drains: it
 * takes no new call, lets the transitions in progress end and their last write complete, then
 * stops, and lets its folders go on its way out (os-daemon-exit.c). The new one holds the
 * folders' locks before it reads or removes anything there, and with --replace waits for them,
 * within a bound, while its calls wait in OsBusHold.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "os-daemon-private.h"
#include "os-files.h"
#include "os-validate.h"

/* How long the daemon waits for the transitions in progress when it is told to stop or has
 * lost its name, beyond their own bounds, for the last write. */
#define DRAIN_SLACK_MS 5000

void
os_daemon_stop (OsDaemon *daemon, int status)
{
  daemon->status = status;
  daemon->stopping = TRUE;
  g_clear_handle_id (&daemon->drain_id, g_source_remove);
  g_clear_handle_id (&daemon->lock_wait_id, g_source_remove);
  if (daemon->manager != NULL)
    os_manager_when_idle (daemon->manager, NULL, NULL);
  g_main_loop_quit (daemon->loop);
}

void
os_daemon_fail (OsDaemon *daemon, const GError *error)
{
  g_printerr ("offline-stated: %s\n", error->message);
  os_daemon_stop (daemon, EXIT_FAILURE);
}

static void
drained (gpointer user_data)
{
  OsDaemon *daemon = user_data;

  os_daemon_stop (daemon, daemon->drain_status);
}

static void
on_drain_timeout (gpointer user_data)
{
  OsDaemon *daemon = user_data;

  daemon->drain_id = 0;
  g_warning ("Stopping without waiting any longer for the transition in progress");
  os_daemon_stop (daemon, daemon->drain_status);
}

/* The longest the transitions in progress can take: three phases of --notify-timeout each, the
 * emulated delay, and their write. */
static guint
drain_bound_ms (OsDaemon *daemon)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (daemon->manager);
  guint delay = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      OsProfile *profile = os_manager_lookup (daemon->manager, names[i]);

      if (os_profile_get_transitioning (profile))
        delay = MAX (delay, os_profile_get_transition_delay (profile));
    }
  return 3 * daemon->options.limits.notify_timeout_ms + delay + DRAIN_SLACK_MS;
}

void
os_daemon_drain (OsDaemon *daemon, int status)
{
  guint bound;

  if (daemon->draining)
    {
      g_message ("Stopping at once");
      os_daemon_stop (daemon, daemon->drain_status);
      return;
    }
  daemon->draining = TRUE;
  daemon->drain_status = status;
  if (daemon->bus_manager != NULL)
    os_bus_manager_stop_serving (daemon->bus_manager);
  if (daemon->manager == NULL || os_manager_is_idle (daemon->manager))
    {
      os_daemon_stop (daemon, status);
      return;
    }
  bound = drain_bound_ms (daemon);
  g_message ("Waiting for the transition in progress to end, at most %u ms", bound);
  daemon->drain_id = g_timeout_add_once (bound, on_drain_timeout, daemon);
  os_manager_when_idle (daemon->manager, drained, daemon);
}

/* How long a new instance waits for the old one: as long as the old one may take to end a
 * transition (drain_bound_ms()), with a long emulated delay. */
static guint
lock_wait_bound_ms (OsDaemon *daemon)
{
  return 3 * daemon->options.limits.notify_timeout_ms + OS_TRANSITION_DELAY_MAX / 10 +
         DRAIN_SLACK_MS;
}

static void
on_lock_wait_over (gpointer user_data)
{
  OsDaemon *daemon = user_data;

  daemon->lock_wait_id = 0;
  g_printerr ("offline-stated: the instance that served the bus did not let %s and %s go in "
              "time\n",
              daemon->state_dir, daemon->runtime_dir);
  os_daemon_stop (daemon, EXIT_FAILURE);
}

static void take_next_folder (OsDaemon *daemon);

/* @fd holds the next folder's lock, or is -1 and @error says why not. */
static void
took_folder (OsDaemon *daemon, int fd, const GError *error)
{
  if (fd < 0)
    {
      os_daemon_fail (daemon, error);
      return;
    }
  if (daemon->state_lock < 0)
    daemon->state_lock = fd;
  else
    daemon->runtime_lock = fd;
  take_next_folder (daemon);
}

static void
on_folder_locked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsDaemon *daemon = user_data;
  g_autoptr (GError) error = NULL;
  int fd = os_lock_folder_finish (result, &error);

  if (daemon->stopping)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  took_folder (daemon, fd, error);
}

/* With --replace: each folder in turn, waiting for the old instance where it holds one: it
 * lets go once its transitions have ended and its last write is done. */
static void
take_next_folder (OsDaemon *daemon)
{
  const char *directory = daemon->state_lock < 0 ? daemon->state_dir : daemon->runtime_dir;
  g_autoptr (GError) error = NULL;
  int fd;

  if (daemon->runtime_lock >= 0)
    {
      if (daemon->lock_wait_id != 0)
        g_message ("The instance that served the bus has let its folders go");
      g_clear_handle_id (&daemon->lock_wait_id, g_source_remove);
      daemon->folders_taken (daemon);
      return;
    }
  fd = os_lock_folder (directory, &error);
  if (fd >= 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    {
      took_folder (daemon, fd, error);
      return;
    }
  if (daemon->lock_wait_id == 0)
    {
      guint bound = lock_wait_bound_ms (daemon);

      g_message ("Waiting for the instance that served the bus to let its folders go (%s), at "
                 "most %u ms",
                 error->message, bound);
      daemon->lock_wait_id = g_timeout_add_once (bound, on_lock_wait_over, daemon);
    }
  os_lock_folder_async (directory, on_folder_locked, daemon);
}

void
os_daemon_take_folders (OsDaemon *daemon, void (*taken) (OsDaemon *daemon))
{
  daemon->folders_taken = taken;
  if (daemon->options.ephemeral)
    taken (daemon);
  else
    take_next_folder (daemon);
}

/* The state folder's lock, when the runtime folder is in use, goes again if it was made for
 * this attempt. */
gboolean
os_daemon_take_folders_now (OsDaemon *daemon, GError **error)
{
  g_autofree char *lock = g_build_filename (daemon->state_dir, OS_LOCK_FILE, NULL);
  gboolean folder_existed = g_file_test (daemon->state_dir, G_FILE_TEST_EXISTS);
  gboolean lock_existed = g_file_test (lock, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);

  daemon->state_lock = os_lock_folder (daemon->state_dir, error);
  if (daemon->state_lock < 0)
    return FALSE;
  daemon->runtime_lock = os_lock_folder (daemon->runtime_dir, error);
  if (daemon->runtime_lock >= 0)
    return TRUE;
  if (!lock_existed)
    g_unlink (lock);
  if (!folder_existed)
    g_rmdir (daemon->state_dir);
  close (daemon->state_lock);
  daemon->state_lock = -1;
  return FALSE;
}
