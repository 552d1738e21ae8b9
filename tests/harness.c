/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <stdlib.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <linux/close_range.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

#define CALL_TIMEOUT_MS  30000
#define START_TIMEOUT_MS 10000

/* A daemon under valgrind starts, and checks its heap on the way out, many times slower:
 * $OFFLINE_STATE_TEST_TIMEOUT_MULTIPLIER stretches the waits for those two moments. */
guint
harness_timeout_multiplier (void)
{
  const char *multiplier = g_getenv ("OFFLINE_STATE_TEST_TIMEOUT_MULTIPLIER");
  guint64 factor = 1;

  if (multiplier != NULL)
    g_assert_true (g_ascii_string_to_unsigned (multiplier, 10, 1, 100, &factor, NULL));
  return (guint) factor;
}

static guint
start_timeout_ms (void)
{
  return START_TIMEOUT_MS * harness_timeout_multiplier ();
}

static const char *
daemon_path (void)
{
  const char *path = g_getenv ("OFFLINE_STATED");

  g_assert_nonnull (path);
  return path;
}

static void
on_daemon_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  /* Cancelled: the waiter has returned, and @user_data points into its finished frame. */
  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  *(gboolean *) user_data = TRUE;
}

static void
on_name_appeared (GDBusConnection *connection,
                  const char *name,
                  const char *owner,
                  gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* $OFFLINE_STATED_WRAPPER (a shell-quoted command line, such as valgrind and its options)
 * goes before the daemon's own argv: the daemon keeps its pid, signals and exit status. */
static GStrv
wrap_daemon_argv (const char *const *argv)
{
  const char *wrapper = g_getenv ("OFFLINE_STATED_WRAPPER");
  g_auto (GStrv) prefix = NULL;
  g_autoptr (GStrvBuilder) full = g_strv_builder_new ();
  g_autoptr (GError) error = NULL;

  if (wrapper != NULL && *wrapper != '\0')
    {
      g_shell_parse_argv (wrapper, NULL, &prefix, &error);
      g_assert_no_error (error);
      g_strv_builder_addv (full, (const char **) prefix);
    }
  g_strv_builder_addv (full, (const char **) argv);
  return g_strv_builder_end (full);
}

static GSubprocess *
spawn_daemon (Harness *h, const char *const *argv, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_auto (GStrv) full_argv = wrap_daemon_argv (argv);
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_NONE;

  if (h->flags & HARNESS_STDERR_PIPE)
    flags |= G_SUBPROCESS_FLAGS_STDERR_PIPE;
  launcher = g_subprocess_launcher_new (flags);
  /* Without --state-dir the daemon's defaults must not reach the user's own folders. */
  if (h->flags & HARNESS_NO_STATE_DIR)
    g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", h->state_dir, TRUE);
  /* Unique names repeat from one private bus to the next: each harness keeps its own
   * runtime folder, so no daemon restores the advises another test left behind. */
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", h->runtime_dir, TRUE);
  /* A bus of the harness's own: the daemon finds it as its session bus. */
  if (h->bus_address != NULL)
    g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", h->bus_address, TRUE);
  return g_subprocess_launcher_spawnv (launcher, (const char *const *) full_argv, error);
}

void
harness_start_daemon (Harness *h, const char *const *extra_args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  gboolean appeared = FALSE, exited = FALSE;
  guint watch;
  gint64 deadline = g_get_monotonic_time () + start_timeout_ms () * G_TIME_SPAN_MILLISECOND;

  g_ptr_array_add (argv, g_strdup (daemon_path ()));
  if (!(h->flags & HARNESS_NO_STATE_DIR))
    g_ptr_array_add (argv, g_strdup_printf ("--state-dir=%s", h->state_dir));
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra_args[i]));
  g_ptr_array_add (argv, NULL);

  g_assert_null (h->daemon);
  h->daemon = spawn_daemon (h, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  watch = g_bus_watch_name_on_connection (h->client, OFFLINE_STATE_BUS_NAME,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE, on_name_appeared, NULL,
                                          &appeared, NULL);
  g_subprocess_wait_async (h->daemon, cancellable, on_daemon_exited, &exited);
  while (!appeared && !exited && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  /* The wait outlives this frame (until the daemon exits): it must not write to it then. */
  g_cancellable_cancel (cancellable);
  g_bus_unwatch_name (watch);
  g_assert_false (exited);
  g_assert_true (appeared);
}

static void
on_timeout_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

int
harness_stop_daemon (Harness *h)
{
  g_autoptr (GSubprocess) daemon = g_steal_pointer (&h->daemon);
  gboolean exited = FALSE;
  gboolean timed_out = FALSE;
  guint timeout;

  g_assert_nonnull (daemon);
  g_subprocess_send_signal (daemon, SIGTERM);
  g_subprocess_wait_async (daemon, NULL, on_daemon_exited, &exited);
  timeout = g_timeout_add_once (start_timeout_ms (), on_timeout_flag, &timed_out);
  while (!exited && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
  g_assert_true (g_subprocess_get_if_exited (daemon));
  return g_subprocess_get_exit_status (daemon);
}

/* Buses of the harness's own (HARNESS_SYSTEM_LIMITS, HARNESS_DBUS_BROKER) */

/* In the child, before exec: a bus must not outlive a test program that aborts (GTestDBus has
 * a watcher process for that). Kept through exec, and by dbus-broker-launch's broker, which
 * its launcher's death stops in turn. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* What the bus wrote to its standard error, for an error message. */
static char *
bus_log (Harness *h)
{
  g_autofree char *path = g_build_filename (h->bus_dir, "bus.log", NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("(no log)");
  return g_strstrip (text);
}

static gboolean
start_dbus_daemon (Harness *h, GError **error)
{
  g_autofree char *config = g_test_build_filename (G_TEST_DIST, "bus", "system-limits.conf", NULL);
  g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config);
  g_autofree char *address_arg = g_strdup_printf ("--address=unix:dir=%s", h->bus_dir);
  g_autofree char *log = g_build_filename (h->bus_dir, "bus.log", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  h->bus_process =
      g_subprocess_launcher_spawn (launcher, error, "dbus-daemon", config_arg, address_arg,
                                   "--nofork", "--nosyslog", "--print-address=1", NULL);
  if (h->bus_process == NULL)
    return FALSE;
  /* It prints its address once it listens; end of file means it gave up. */
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (h->bus_process));
  line = g_data_input_stream_read_line (out, NULL, NULL, error);
  if (line == NULL || *line == '\0')
    {
      g_autofree char *text = bus_log (h);

      if (error != NULL && *error == NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "dbus-daemon did not start: %s", text);
      return FALSE;
    }
  h->bus_address = g_steal_pointer (&line);
  return TRUE;
}

/* dbus-broker-launch's log lines, as journald would take them: MESSAGE= of each datagram. */
static gboolean
on_bus_journal (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  Harness *h = user_data;
  char buffer[8192];
  gssize size;

  while ((size = g_socket_receive (socket, buffer, sizeof buffer - 1, NULL, NULL)) > 0)
    {
      const char *message;

      buffer[size] = '\0';
      message = strstr (buffer, "MESSAGE=");
      if (message == NULL)
        continue;
      message += strlen ("MESSAGE=");
      if (++h->bus_journal_lines <= 20)
        g_test_message ("dbus-broker: %.*s", (int) strcspn (message, "\n"), message);
    }
  return G_SOURCE_CONTINUE;
}

typedef struct
{
  gboolean done;
  GDBusConnection *connection;
  GError *error;
} Connecting;

static void
on_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Connecting *connecting = user_data;

  connecting->connection = g_dbus_connection_new_for_address_finish (result, &connecting->error);
  connecting->done = TRUE;
}

static gboolean
wake_up (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static GSocket *
bound_socket (const char *path, GSocketType type, GError **error)
{
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_UNIX, type, 0, error);
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);

  if (socket == NULL || !g_socket_bind (socket, address, FALSE, error))
    return NULL;
  if (type == G_SOCKET_TYPE_STREAM && !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static gboolean
start_dbus_broker (Harness *h, GError **error)
{
  g_autofree char *config = g_test_build_filename (G_TEST_DIST, "bus", "dbus-broker.conf", NULL);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "bus", "dbus-broker-run", NULL);
  g_autofree char *socket_path = g_build_filename (h->bus_dir, "bus", NULL);
  g_autofree char *journal_dir = g_build_filename (h->bus_dir, "journal", NULL);
  g_autofree char *journal_path = g_build_filename (journal_dir, "socket", NULL);
  g_autofree char *log = g_build_filename (h->bus_dir, "bus.log", NULL);
  g_autofree char *launch = g_find_program_in_path ("dbus-broker-launch");
  g_autofree char *address = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSocket) listener = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Connecting connecting = { 0 };
  gboolean exited = FALSE;
  guint tick;
  gint64 deadline = g_get_monotonic_time () + start_timeout_ms () * G_TIME_SPAN_MILLISECOND;

  if (launch == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "dbus-broker-launch is not installed (Debian package dbus-broker)");
      return FALSE;
    }
  address = g_strdup_printf ("unix:path=%s", socket_path);
  listener = bound_socket (socket_path, G_SOCKET_TYPE_STREAM, error);
  if (listener == NULL)
    return FALSE;
  g_mkdir (journal_dir, 0755);
  h->bus_journal = bound_socket (journal_path, G_SOCKET_TYPE_DATAGRAM, error);
  if (h->bus_journal == NULL)
    return FALSE;
  g_socket_set_blocking (h->bus_journal, FALSE);
  h->bus_journal_source = g_socket_create_source (h->bus_journal, G_IO_IN, NULL);
  g_source_set_callback (h->bus_journal_source, G_SOURCE_FUNC (on_bus_journal), h, NULL);
  g_source_attach (h->bus_journal_source, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_fd (launcher, dup (g_socket_get_fd (listener)), 3);
  /* The launcher's own connection to the bus it runs, and no service folders of the user's. */
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", h->bus_dir, TRUE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  h->bus_process =
      g_subprocess_launcher_spawn (launcher, error, "/bin/sh", script, config, journal_dir, NULL);
  /* Only the launcher listens from now on: if it dies, connecting fails at once. */
  g_socket_close (listener, NULL);
  g_clear_object (&launcher);
  if (h->bus_process == NULL)
    return FALSE;

  /* The launcher answers once its broker has taken the socket over. */
  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                         G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, cancellable, on_connected, &connecting);
  g_subprocess_wait_async (h->bus_process, cancellable, on_daemon_exited, &exited);
  tick = g_timeout_add (100, wake_up, NULL);
  while (!connecting.done && !exited && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  /* Both callbacks write into this frame: neither may run once it is gone. */
  g_cancellable_cancel (cancellable);
  while (!connecting.done)
    g_main_context_iteration (NULL, TRUE);
  if (connecting.connection == NULL)
    {
      g_autofree char *text = bus_log (h);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "dbus-broker-launch %s (%s): %s",
                   exited ? "exited" : "did not take the socket",
                   connecting.error != NULL ? connecting.error->message : "",
                   *text ? text : "it wrote nothing");
      g_clear_error (&connecting.error);
      return FALSE;
    }
  g_dbus_connection_close_sync (connecting.connection, NULL, NULL);
  g_object_unref (connecting.connection);
  h->bus_address = g_steal_pointer (&address);
  return TRUE;
}

static void
stop_private_bus (Harness *h)
{
  if (h->bus_process != NULL)
    {
      g_autoptr (GCancellable) cancellable = g_cancellable_new ();
      gboolean exited = FALSE, timed_out = FALSE;
      guint timeout;

      g_subprocess_send_signal (h->bus_process, SIGTERM);
      g_subprocess_wait_async (h->bus_process, cancellable, on_daemon_exited, &exited);
      timeout = g_timeout_add_once (start_timeout_ms (), on_timeout_flag, &timed_out);
      while (!exited && !timed_out)
        g_main_context_iteration (NULL, TRUE);
      if (timed_out)
        {
          g_subprocess_force_exit (h->bus_process);
          g_subprocess_wait (h->bus_process, NULL, NULL);
        }
      else
        g_source_remove (timeout);
      g_cancellable_cancel (cancellable);
      g_clear_object (&h->bus_process);
    }
  if (h->bus_journal_source != NULL)
    {
      g_source_destroy (h->bus_journal_source);
      g_clear_pointer (&h->bus_journal_source, g_source_unref);
    }
  if (h->bus_journal_lines > 20)
    g_test_message ("dbus-broker: %u more log lines", h->bus_journal_lines - 20);
  g_clear_object (&h->bus_journal);
  if (h->bus_dir != NULL)
    {
      g_autofree char *text = bus_log (h);
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      guint n = g_strv_length (lines);

      for (guint i = 0; i < n && i < 10 && *text; i++)
        g_test_message ("bus: %s", lines[i]);
      if (n > 10)
        g_test_message ("bus: %u more lines", n - 10);
      harness_remove_tree (h->bus_dir);
    }
  g_clear_pointer (&h->bus_dir, g_free);
  g_clear_pointer (&h->bus_address, g_free);
}

gboolean
harness_try_setup_full (Harness *h,
                        HarnessFlags flags,
                        const char *const *extra_args,
                        GError **error)
{
  gboolean started;

  if (!(flags & (HARNESS_SYSTEM_LIMITS | HARNESS_DBUS_BROKER)))
    {
      harness_setup_full (h, flags, extra_args);
      return TRUE;
    }
  memset (h, 0, sizeof *h);
  h->flags = flags;
  h->state_dir = g_dir_make_tmp ("offline-state-test-XXXXXX", NULL);
  h->runtime_dir = g_dir_make_tmp ("offline-state-run-XXXXXX", NULL);
  h->bus_dir = g_dir_make_tmp ("offline-state-bus-XXXXXX", NULL);
  g_assert_nonnull (h->state_dir);
  g_assert_nonnull (h->runtime_dir);
  g_assert_nonnull (h->bus_dir);
  /* Clients of other Unix users reach the socket in it. */
  g_assert_cmpint (g_chmod (h->bus_dir, 0755), ==, 0);
  if (flags & HARNESS_DBUS_BROKER)
    started = start_dbus_broker (h, error);
  else
    started = start_dbus_daemon (h, error);
  if (!started)
    {
      stop_private_bus (h);
      harness_remove_tree (h->state_dir);
      g_clear_pointer (&h->state_dir, g_free);
      harness_remove_tree (h->runtime_dir);
      g_clear_pointer (&h->runtime_dir, g_free);
      return FALSE;
    }
  h->client = harness_connect (h);
  harness_start_daemon (h, extra_args);
  return TRUE;
}

const char *
harness_bus_address (Harness *h)
{
  return h->bus_address != NULL ? h->bus_address : g_test_dbus_get_bus_address (h->bus);
}

void
harness_setup (Harness *h, const char *const *extra_args)
{
  harness_setup_full (h, HARNESS_FLAGS_NONE, extra_args);
}

/* Marks every descriptor from 3 up close-on-exec. GTestDBus (GLib 2.74) forks one watcher per
 * test program, which kills the buses when the program dies, and learns of that death when
 * its pipe reaches end of file; but the dbus-daemons of later cases inherit the pipe's write
 * end, so after a failed case the watcher waits, the bus and the daemon on it live on with
 * the program's output open, and meson waits for the test's time-out. */
static void
set_cloexec_from_3 (void)
{
  g_autoptr (GDir) fds = NULL;
  const char *name;

  if (syscall (SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
    return;
  fds = g_dir_open ("/proc/self/fd", 0, NULL);
  g_assert_nonnull (fds);
  while ((name = g_dir_read_name (fds)) != NULL)
    {
      int fd = atoi (name);

      if (fd >= 3)
        fcntl (fd, F_SETFD, fcntl (fd, F_GETFD) | FD_CLOEXEC);
    }
}

void
harness_setup_full (Harness *h, HarnessFlags flags, const char *const *extra_args)
{
  g_autoptr (GError) error = NULL;

  if (flags & (HARNESS_SYSTEM_LIMITS | HARNESS_DBUS_BROKER))
    {
      if (!harness_try_setup_full (h, flags, extra_args, &error))
        g_error ("the test bus did not start: %s", error->message);
      return;
    }
  memset (h, 0, sizeof *h);
  h->flags = flags;
  h->state_dir = g_dir_make_tmp ("offline-state-test-XXXXXX", &error);
  g_assert_no_error (error);
  h->runtime_dir = g_dir_make_tmp ("offline-state-run-XXXXXX", &error);
  g_assert_no_error (error);
  h->bus = harness_bus_up ();
  h->client = harness_connect (h);
  harness_start_daemon (h, extra_args);
}

GTestDBus *
harness_bus_up (void)
{
  GTestDBus *bus = g_test_dbus_new (G_TEST_DBUS_NONE);

  set_cloexec_from_3 ();
  g_test_dbus_up (bus);
  return bus;
}

void
harness_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        harness_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

void
harness_teardown (Harness *h)
{
  if (h->daemon != NULL)
    g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_dbus_connection_close_sync (h->client, NULL, NULL);
  g_clear_object (&h->client);
  if (h->bus != NULL)
    {
      g_test_dbus_down (h->bus);
      g_clear_object (&h->bus);
    }
  else
    stop_private_bus (h);
  harness_remove_tree (h->state_dir);
  g_clear_pointer (&h->state_dir, g_free);
  harness_remove_tree (h->runtime_dir);
  g_clear_pointer (&h->runtime_dir, g_free);
}

void
harness_fixture_setup (Harness *h, gconstpointer data)
{
  harness_setup (h, data);
}

void
harness_fixture_setup_without_state_dir (Harness *h, gconstpointer data)
{
  harness_setup_full (h, HARNESS_NO_STATE_DIR, data);
}

void
harness_fixture_teardown (Harness *h, gconstpointer data)
{
  harness_teardown (h);
}

void
harness_restart (Harness *h, const char *const *extra_args)
{
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  harness_start_daemon (h, extra_args);
}

int
harness_run_daemon_sync (const char *const *argv, char **err_out)
{
  return harness_run_daemon_sync_full (argv, NULL, err_out);
}

int
harness_run_daemon_sync_full (const char *const *argv, char **out_out, char **err_out)
{
  g_autoptr (GPtrArray) full = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDERR_PIPE;

  flags |= out_out != NULL ? G_SUBPROCESS_FLAGS_STDOUT_PIPE : G_SUBPROCESS_FLAGS_STDOUT_SILENCE;
  g_ptr_array_add (full, (gpointer) daemon_path ());
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);
  process = g_subprocess_newv ((const char *const *) full->pdata, flags, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out_out, err_out, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

GDBusConnection *
harness_connect (Harness *h)
{
  return harness_connect_to (harness_bus_address (h));
}

GDBusConnection *
harness_connect_to (const char *address)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection;

  connection =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

GVariant *
harness_call (GDBusConnection *connection,
              const char *path,
              const char *interface,
              const char *method,
              GVariant *parameters,
              GError **error)
{
  return g_dbus_connection_call_sync (
      connection, OFFLINE_STATE_BUS_NAME, path ? path : OFFLINE_STATE_MANAGER_PATH, interface,
      method, parameters, NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, error);
}

GError *
harness_call_error (GDBusConnection *connection,
                    const char *path,
                    const char *interface,
                    const char *method,
                    GVariant *parameters)
{
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = harness_call (connection, path, interface, method, parameters, &error);
  g_assert_true ((reply == NULL) != (error == NULL));
  return error;
}

GError *
harness_call_fails (GDBusConnection *connection,
                    const char *path,
                    const char *interface,
                    const char *method,
                    GVariant *parameters)
{
  GError *error = harness_call_error (connection, path, interface, method, parameters);

  g_assert_nonnull (error);
  return error;
}

static void
on_reaped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
on_name_vanished (GDBusConnection *connection, const char *name, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

void
harness_reap_killed_daemon (Harness *h)
{
  g_autoptr (GSubprocess) daemon = g_steal_pointer (&h->daemon);
  gboolean exited = FALSE, vanished = FALSE;
  guint watch;

  g_subprocess_wait_async (daemon, NULL, on_reaped, &exited);
  harness_wait_flag (&exited, START_TIMEOUT_MS);
  g_assert_true (g_subprocess_get_if_signaled (daemon));
  g_assert_cmpint (g_subprocess_get_term_sig (daemon), ==, SIGKILL);
  watch = g_bus_watch_name_on_connection (h->client, OFFLINE_STATE_BUS_NAME,
                                          G_BUS_NAME_WATCHER_FLAGS_NONE, NULL, on_name_vanished,
                                          &vanished, NULL);
  harness_wait_flag (&vanished, START_TIMEOUT_MS);
  g_bus_unwatch_name (watch);
}

GVariant *
harness_call_ok (GDBusConnection *connection,
                 const char *path,
                 const char *interface,
                 const char *method,
                 GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = harness_call (connection, path, interface, method, parameters, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

GVariant *
harness_get_property (GDBusConnection *connection,
                      const char *path,
                      const char *interface,
                      const char *property)
{
  g_autoptr (GVariant) reply = harness_call_ok (connection, path, "org.freedesktop.DBus.Properties",
                                                "Get", g_variant_new ("(ss)", interface, property));
  GVariant *value;

  g_variant_get (reply, "(v)", &value);
  return value;
}

guint
harness_get_uint (GDBusConnection *connection, const char *path, const char *property)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, property);

  return g_variant_get_uint32 (value);
}

guint64
harness_get_sequence (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Sequence");

  return g_variant_get_uint64 (value);
}

gboolean
harness_get_transitioning (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Transitioning");

  return g_variant_get_boolean (value);
}

void
harness_assert_dbus_error (const GError *error, const char *dbus_name, const char *message_prefix)
{
  g_autofree char *remote = NULL;
  g_autoptr (GError) copy = NULL;

  g_assert_nonnull (error);
  remote = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (remote, ==, dbus_name);
  if (message_prefix == NULL)
    return;
  copy = g_error_copy (error);
  g_dbus_error_strip_remote_error (copy);
  if (!g_str_has_prefix (copy->message, message_prefix))
    g_error ("error message '%s' does not start with '%s'", copy->message, message_prefix);
}

char *
harness_profile_path (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (OFFLINE_STATE_PROFILES_PATH "/", escaped, NULL);
}

void
harness_wait_flag (const gboolean *flag, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_once (timeout_ms, on_timeout_flag, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %u ms for something that did not happen", timeout_ms);
  g_source_remove (timeout);
}

void
harness_wait_count (const guint *count, guint at_least, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_once (timeout_ms, on_timeout_flag, &timed_out);

  while (*count < at_least && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %u ms for %u events, saw %u", timeout_ms, at_least, *count);
  g_source_remove (timeout);
}

guint
harness_advise (GDBusConnection *connection,
                const char *path,
                guint client_token,
                const char *callback)
{
  g_autoptr (GVariant) reply = NULL;
  guint token;

  reply = harness_call_ok (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
                           g_variant_new ("(uuuouu)", 0, client_token, 0, callback, 1, 3));
  g_variant_get (reply, "(u)", &token);
  g_assert_cmpuint (token, !=, 0);
  return token;
}

GError *
harness_set_state (GDBusConnection *connection, const char *path, guint flags, guint state)
{
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = harness_call (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                        g_variant_new ("(uuu)", flags, 3, state), &error);
  return error;
}

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  HarnessPending *pending = user_data;

  pending->reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &pending->error);
  pending->time_us = g_get_monotonic_time ();
  pending->done = TRUE;
}

void
harness_call_begin_full (GDBusConnection *connection,
                         const char *path,
                         const char *interface,
                         const char *method,
                         GVariant *parameters,
                         guint timeout_ms,
                         HarnessPending *pending)
{
  memset (pending, 0, sizeof *pending);
  g_dbus_connection_call (connection, OFFLINE_STATE_BUS_NAME,
                          path ? path : OFFLINE_STATE_MANAGER_PATH, interface, method, parameters,
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, timeout_ms, NULL, on_call_done,
                          pending);
}

void
harness_call_begin (GDBusConnection *connection,
                    const char *path,
                    const char *interface,
                    const char *method,
                    GVariant *parameters,
                    HarnessPending *pending)
{
  harness_call_begin_full (connection, path, interface, method, parameters, CALL_TIMEOUT_MS,
                           pending);
}

void
harness_pending_clear (HarnessPending *pending)
{
  g_clear_error (&pending->error);
  g_clear_pointer (&pending->reply, g_variant_unref);
  pending->done = FALSE;
}

void
harness_set_state_begin (GDBusConnection *connection,
                         const char *path,
                         guint flags,
                         guint state,
                         HarnessPending *pending)
{
  harness_call_begin (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                      g_variant_new ("(uuu)", flags, 3, state), pending);
}

/* The Manager and its profiles */

GVariant *
harness_manager_call_ok (Harness *h, const char *method, GVariant *parameters)
{
  return harness_call_ok (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, method, parameters);
}

char *
harness_create_profile (Harness *h, const char *name, guint capabilities, guint initial_state)
{
  g_autoptr (GVariant) reply = NULL;
  char *path;

  reply = harness_manager_call_ok (h, "CreateOfflineObject",
                                   g_variant_new ("(suu)", name, capabilities, initial_state));
  g_variant_get (reply, "(o)", &path);
  return path;
}

void
harness_remove_profile (Harness *h, const char *name)
{
  g_autoptr (GVariant) reply =
      harness_manager_call_ok (h, "RemoveOfflineObject", g_variant_new ("(s)", name));
}

void
harness_emulation_call_ok (Harness *h, const char *path, const char *method, GVariant *parameters)
{
  g_autoptr (GVariant) reply =
      harness_call_ok (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, method, parameters);
}

static guint
call_get_uint (GDBusConnection *connection, const char *path, const char *method)
{
  g_autoptr (GVariant) reply =
      harness_call_ok (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, method, NULL);
  guint value;

  g_variant_get (reply, "(u)", &value);
  return value;
}

static GStrv
dup_profiles (GDBusConnection *connection)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "Profiles");

  return g_variant_dup_strv (value, NULL);
}

void
harness_assert_profiles (Harness *h, const char *const *expected)
{
  g_auto (GStrv) profiles = dup_profiles (h->client);

  g_assert_cmpstrv (profiles, expected);
}

static char *
dup_profile_name (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "ProfileName");

  return g_variant_dup_string (value, NULL);
}

void
harness_assert_profile (
    Harness *h, const char *name, guint state, guint capabilities, guint64 sequence)
{
  g_autofree char *path = harness_profile_path (name);
  g_autofree char *profile_name = dup_profile_name (h->client, path);

  g_assert_cmpstr (profile_name, ==, name);
  g_assert_cmpuint (harness_get_uint (h->client, path, "State"), ==, state);
  g_assert_cmpuint (call_get_uint (h->client, path, "GetCurrentState"), ==, state);
  g_assert_cmpuint (harness_get_uint (h->client, path, "Capabilities"), ==, capabilities);
  g_assert_cmpuint (call_get_uint (h->client, path, "GetCapabilities"), ==, capabilities);
  g_assert_cmpuint (harness_get_sequence (h->client, path), ==, sequence);
  g_assert_false (harness_get_transitioning (h->client, path));
}
