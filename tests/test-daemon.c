/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The daemon's command line (docs/daemon.md): usage errors, --version, --help,
 * signals, the bus name (a second instance, --replace), losing the bus, and --verbose.
 */
#include <signal.h>
#include <string.h>

#include "harness.h"

#define PREFIX     "offline-stated: "
#define WAIT_MS    10000
#define EXIT_USAGE 2

/* Asserts that @text is exactly one line, and starts with "offline-stated: ". */
static void
assert_one_line (const char *text)
{
  const char *newline = strchr (text, '\n');

  if (newline == NULL || newline[1] != '\0' || !g_str_has_prefix (text, PREFIX))
    g_error ("expected one line starting with '%s', got '%s'", PREFIX, text);
}

/* What a daemon that served wrote after the line that said so ("Serving ..."). */
static const char *
after_serving (const char *text)
{
  const char *serving = strstr (text, "Serving " OFFLINE_STATE_BUS_NAME);

  g_assert_nonnull (serving);
  serving = strchr (serving, '\n');
  g_assert_nonnull (serving);
  return serving + 1;
}

static void
assert_contains (const char *text, const char *part)
{
  if (strstr (text, part) == NULL)
    g_error ("'%s' does not contain '%s'", text, part);
}

/* 1. Usage errors: exit status 2, one line on standard error, nothing on standard output. */

static void
test_usage_error (gconstpointer data)
{
  const char *const *argv = data;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (harness_run_daemon_sync_full (argv, &out, &err), ==, EXIT_USAGE);
  assert_one_line (err);
  g_assert_cmpstr (out, ==, "");
}

static const char *const usage_bogus[] = { "--bogus", NULL };
static const char *const usage_timeout_zero[] = { "--notify-timeout=0", NULL };
static const char *const usage_timeout_high[] = { "--notify-timeout=600001", NULL };
static const char *const usage_timeout_abc[] = { "--notify-timeout=abc", NULL };
static const char *const usage_timeout_missing[] = { "--notify-timeout", NULL };
static const char *const usage_max_advises_zero[] = { "--max-advises=0", NULL };
static const char *const usage_max_profiles_negative[] = { "--max-profiles=-1", NULL };
static const char *const usage_per_connection_empty[] = { "--max-advises-per-connection=", NULL };
static const char *const usage_per_connection_huge[] = {
  "--max-advises-per-connection=99999999999999999999", NULL
};
static const char *const usage_positional[] = { "foo", NULL };
static const char *const usage_positional_after[] = { "--ephemeral", "foo", NULL };
static const char *const usage_session_system[] = { "--session", "--system", NULL };
static const char *const usage_ephemeral_state_dir[] = { "--ephemeral", "--state-dir=/tmp/x",
                                                         NULL };

/* 2. --version */

static void
test_version (void)
{
  const char *const argv[] = { "--version", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *version;

  g_assert_cmpint (harness_run_daemon_sync_full (argv, &out, &err), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_str_has_prefix (out, "offline-stated "));
  g_assert_true (g_str_has_suffix (out, "\n"));
  version = out + strlen ("offline-stated ");
  g_assert_cmpuint (strlen (version), >, 1);
  g_assert_null (strchr (version, ' '));
  g_assert_true (strchr (version, '\n') == out + strlen (out) - 1);
}

static void
setup (Harness *h, gconstpointer data)
{
  harness_setup (h, data);
}

/* For cases whose fixture data is not the daemon's arguments. */
static void
setup_no_args (Harness *h, gconstpointer data)
{
  harness_setup (h, NULL);
}

static void
setup_stderr_pipe (Harness *h, gconstpointer data)
{
  harness_setup_full (h, HARNESS_STDERR_PIPE, data);
}

static void
teardown (Harness *h, gconstpointer data)
{
  harness_teardown (h);
}

/* The version printed is the one the running daemon tells on the bus. */
static void
test_version_matches_property (Harness *h, gconstpointer data)
{
  const char *const argv[] = { "--version", NULL };
  g_autoptr (GVariant) version =
      harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "Version");
  g_autofree char *expected =
      g_strdup_printf ("offline-stated %s\n", g_variant_get_string (version, NULL));
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (harness_run_daemon_sync_full (argv, &out, &err), ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

/* 3. --help lists every option. */

static void
test_help (void)
{
  static const char *const options[] = {
    "--session",
    "--system",
    "-r, --replace",
    "-v, --verbose",
    "--version",
    "--state-dir=DIR",
    "--ephemeral",
    "--notify-timeout=MS",
    "--max-advises-per-connection=N",
    "--max-advises=N",
    "--max-profiles=N",
    "--no-emulation",
  };
  const char *const argv[] = { "--help", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (harness_run_daemon_sync_full (argv, &out, &err), ==, 0);
  g_assert_cmpstr (err, ==, "");
  for (guint i = 0; i < G_N_ELEMENTS (options); i++)
    assert_contains (out, options[i]);
}

/* Waiting for processes. */

typedef struct
{
  gboolean done;
} Exit;

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  g_assert_no_error (error);
  ((Exit *) user_data)->done = TRUE;
}

/* Waits for @process to exit and returns its exit status (it must not die of a signal). */
static int
wait_exit (GSubprocess *process)
{
  Exit exit = { FALSE };

  g_subprocess_wait_async (process, NULL, on_exited, &exit);
  harness_wait_flag (&exit.done, WAIT_MS);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

static char *
read_all (GInputStream *stream)
{
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  g_output_stream_splice (memory, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (memory, "", 1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_close (memory, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (memory));
}

static GInputStream *
ref_stderr (Harness *h)
{
  GInputStream *stream = g_subprocess_get_stderr_pipe (h->daemon);

  g_assert_nonnull (stream);
  return g_object_ref (stream);
}

static char *
get_name_owner (Harness *h)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  char *owner;

  reply = g_dbus_connection_call_sync (
      h->client, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", OFFLINE_STATE_BUS_NAME), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    {
      harness_assert_dbus_error (error, "org.freedesktop.DBus.Error.NameHasNoOwner", NULL);
      return NULL;
    }
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

/* 4. SIGTERM and SIGINT: a clean exit, status 0, the name released. */

static void
test_signal (Harness *h, gconstpointer data)
{
  int signum = GPOINTER_TO_INT (data);
  g_autoptr (GSubprocess) daemon = g_steal_pointer (&h->daemon);
  g_autofree char *owner = NULL;
  g_autoptr (GVariant) reply = NULL;

  /* Something to keep: the reply comes once it is on disk. */
  reply = harness_call_ok (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "CreateOfflineObject",
                           g_variant_new ("(suu)", "kept", 0x3, 2));
  g_subprocess_send_signal (daemon, signum);
  g_assert_cmpint (wait_exit (daemon), ==, 0);
  owner = get_name_owner (h);
  g_assert_null (owner);

  harness_start_daemon (h, NULL);
  g_clear_pointer (&reply, g_variant_unref);
  reply = harness_call_ok (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "OpenOfflineObject",
                           g_variant_new ("(ss)", "kept", ""));
}

/* 5. A second instance on the same bus. */

static void
test_second_instance (Harness *h, gconstpointer data)
{
  const char *const argv[] = { "--ephemeral", NULL };
  g_autofree char *owner = get_name_owner (h);
  g_autofree char *owner_after = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GVariant) reply = NULL;

  g_assert_nonnull (owner);
  g_assert_cmpint (harness_run_daemon_sync (argv, &err), !=, 0);
  assert_one_line (err);
  assert_contains (err, OFFLINE_STATE_BUS_NAME);

  /* The first instance goes on as before. */
  owner_after = get_name_owner (h);
  g_assert_cmpstr (owner_after, ==, owner);
  reply = harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "Profiles");
}

/* The unique name that answers a call to the well-known name, and the answer. */
static guint
get_notify_timeout_from (Harness *h, char **sender)
{
  g_autoptr (GDBusMessage) call = NULL;
  g_autoptr (GDBusMessage) reply = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;

  call = g_dbus_message_new_method_call (OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
                                         "org.freedesktop.DBus.Properties", "Get");
  g_dbus_message_set_body (
      call, g_variant_new ("(ss)", OFFLINE_STATE_MANAGER_INTERFACE, "NotifyTimeout"));
  reply = g_dbus_connection_send_message_with_reply_sync (
      h->client, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, -1, NULL, NULL, &error);
  g_assert_no_error (error);
  g_dbus_message_to_gerror (reply, &error);
  g_assert_no_error (error);
  *sender = g_strdup (g_dbus_message_get_sender (reply));
  g_variant_get (g_dbus_message_get_body (reply), "(v)", &value);
  return g_variant_get_uint32 (value);
}

static void
test_replace (Harness *h, gconstpointer data)
{
  const char *const argv[] = {
    g_getenv ("OFFLINE_STATED"), "--ephemeral", "--replace", "--notify-timeout=4321", NULL,
  };
  g_autoptr (GSubprocess) first = g_steal_pointer (&h->daemon);
  g_autoptr (GInputStream) first_stderr = g_object_ref (g_subprocess_get_stderr_pipe (first));
  g_autofree char *first_owner = get_name_owner (h);
  g_autofree char *owner = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  GSubprocess *second;

  g_assert_nonnull (argv[0]);
  g_assert_cmpuint (get_notify_timeout_from (h, &sender), ==, 5000);
  g_assert_cmpstr (sender, ==, first_owner);
  g_clear_pointer (&sender, g_free);

  second = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, &error);
  g_assert_no_error (error);
  h->daemon = second; /* the teardown stops it */

  /* The first loses the name: a one-line error, and a non-zero status. */
  g_assert_cmpint (wait_exit (first), !=, 0);
  err = read_all (first_stderr);
  assert_one_line (after_serving (err));
  assert_contains (after_serving (err), OFFLINE_STATE_BUS_NAME);

  /* The second owns it and answers. */
  owner = get_name_owner (h);
  g_assert_nonnull (owner);
  g_assert_cmpstr (owner, !=, first_owner);
  g_assert_cmpuint (get_notify_timeout_from (h, &sender), ==, 4321);
  g_assert_cmpstr (sender, ==, owner);
}

/* 6. The bus goes away under the daemon: it exits with a non-zero status. */

static void
teardown_bus_gone (Harness *h, gconstpointer data)
{
  g_assert_null (h->daemon);
  g_clear_object (&h->client);
  g_clear_object (&h->bus);
  harness_remove_tree (h->state_dir);
  g_clear_pointer (&h->state_dir, g_free);
  harness_remove_tree (h->runtime_dir);
  g_clear_pointer (&h->runtime_dir, g_free);
}

/* The advise journals in the daemon's runtime folder. */
static guint
count_journals (Harness *h)
{
  g_autofree char *folder = g_build_filename (h->runtime_dir, "offline-state", NULL);
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;
  guint count = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    count += g_str_has_prefix (name, "advises-");
  return count;
}

/* It also removes its advises' journal: no client of that bus can come back. */
static void
test_bus_goes_away (Harness *h, gconstpointer data)
{
  g_autoptr (GSubprocess) daemon = g_steal_pointer (&h->daemon);
  g_autoptr (GInputStream) daemon_stderr = g_object_ref (g_subprocess_get_stderr_pipe (daemon));
  g_autofree char *path = harness_profile_path ("default");
  g_autofree char *err = NULL;

  harness_advise (h->client, path, 7, "/");
  g_assert_cmpuint (count_journals (h), ==, 1);
  g_test_dbus_down (h->bus);
  g_assert_cmpint (wait_exit (daemon), !=, 0);
  err = read_all (daemon_stderr);
  assert_one_line (after_serving (err));
  g_assert_cmpuint (count_journals (h), ==, 0);
}

/* 7. --verbose logs the daemon's debug messages on standard error, not GLib's; without it,
 * none, only one line once it serves. */

static const char *const args_v[] = { "-v", NULL };
static const char *const args_verbose[] = { "--verbose", NULL };
/* Room for a callback path as long as a message may be. */
static const char *const args_verbose_long_paths[] = { "--verbose",
                                                       "--max-path-bytes-per-connection=2097152",
                                                       "--max-path-bytes-per-user=4194304", NULL };

/* Reads the daemon's standard error line by line until a line holds @wanted. */
typedef struct
{
  GDataInputStream *lines;
  const char *wanted;
  GString *text;
  gboolean done;
  gboolean found;
} LineReader;

static void read_next_line (LineReader *reader);

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LineReader *reader = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, &error);

  g_assert_no_error (error);
  if (line == NULL)
    {
      reader->done = TRUE;
      return;
    }
  g_string_append_printf (reader->text, "%s\n", line);
  if (strstr (line, reader->wanted) != NULL)
    {
      reader->found = reader->done = TRUE;
      return;
    }
  read_next_line (reader);
}

static void
read_next_line (LineReader *reader)
{
  g_data_input_stream_read_line_async (reader->lines, G_PRIORITY_DEFAULT, NULL, on_line, reader);
}

static void
test_verbose (Harness *h, gconstpointer data)
{
  g_autoptr (GInputStream) stream = ref_stderr (h);
  g_autoptr (GString) text = g_string_new (NULL);
  LineReader reader = { g_data_input_stream_new (stream), "Owns " OFFLINE_STATE_BUS_NAME, text };

  /* The daemon logs it once it has the name, which may be after a client saw it. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (reader.lines), FALSE);
  read_next_line (&reader);
  harness_wait_flag (&reader.done, WAIT_MS);
  if (!reader.found)
    g_error ("no line holds '%s' in '%s'", reader.wanted, text->str);
  assert_contains (text->str, "offline-state-DEBUG");
  /* The daemon's own, not GLib's (G_MESSAGES_DEBUG=all is for those). */
  g_assert_null (strstr (text->str, "GLib-GIO-DEBUG"));
  g_assert_null (strstr (text->str, "GLib-DEBUG"));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_object_unref (reader.lines);
}

static void
test_quiet (Harness *h, gconstpointer data)
{
  g_autoptr (GInputStream) stream = ref_stderr (h);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *err = NULL;

  reply = harness_call_ok (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "CreateOfflineObject",
                           g_variant_new ("(suu)", "quiet", 0x3, 2));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  err = read_all (stream);
  g_assert_null (strstr (err, "Owns "));
  g_assert_null (strstr (err, "-DEBUG"));
  /* One line says that it serves, and where its state is. */
  assert_contains (err, "Serving " OFFLINE_STATE_BUS_NAME " on the session bus; state in ");
}

/* 8. A client chooses its callback path and its callback's error message, each as long as
 * a message may be: the log keeps a line's worth of each, debug lines included. */

#define LOG_LINE_MAX 1024

static void
test_log_lines_bounded (Harness *h, gconstpointer data)
{
  g_autoptr (GInputStream) stream = ref_stderr (h);
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
  g_autofree char *huge = g_strnfill (1024 * 1024, 'a');
  g_autofree char *huge_path = g_strconcat ("/", huge, NULL);
  g_autoptr (GDBusConnection) client = harness_connect (h);
  g_autoptr (HarnessRecorder) failing =
      harness_recorder_new_callback (client, "/failing", HARNESS_FAIL, 0);
  HarnessPending pending;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;

  failing->fail_message = huge;
  harness_advise (client, path, 1, huge_path);
  harness_advise (client, path, 2, "/failing");
  /* BLOCK, answered once both callbacks have failed; this process answers one of them. */
  harness_set_state_begin (h->client, path, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE,
                           &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 0);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  err = read_all (stream);
  lines = g_strsplit (err, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strlen (lines[i]) > LOG_LINE_MAX)
      g_error ("a log line of %zu bytes: %.200s…", strlen (lines[i]), lines[i]);
  assert_contains (err, "removing advise 1 ");
  assert_contains (err, "removing advise 2 ");
  assert_contains (err, "… (1048577 bytes)");
  /* "com.example.Test.Error.Broken: " and the message */
  assert_contains (err, "… (1048607 bytes)");
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    const char *const *argv;
  } usage[] = {
    { "unknown-option", usage_bogus },
    { "notify-timeout-zero", usage_timeout_zero },
    { "notify-timeout-too-long", usage_timeout_high },
    { "notify-timeout-not-a-number", usage_timeout_abc },
    { "notify-timeout-missing-value", usage_timeout_missing },
    { "max-advises-zero", usage_max_advises_zero },
    { "max-profiles-negative", usage_max_profiles_negative },
    { "max-advises-per-connection-empty", usage_per_connection_empty },
    { "max-advises-per-connection-too-big", usage_per_connection_huge },
    { "positional-argument", usage_positional },
    { "positional-argument-after-option", usage_positional_after },
    { "session-and-system", usage_session_system },
    { "ephemeral-and-state-dir", usage_ephemeral_state_dir },
  };

  g_test_init (&argc, &argv, NULL);
  /* No test may reach the user's own bus. */
  g_test_dbus_unset ();

  for (guint i = 0; i < G_N_ELEMENTS (usage); i++)
    {
      g_autofree char *path = g_strconcat ("/daemon/usage/", usage[i].name, NULL);

      g_test_add_data_func (path, usage[i].argv, test_usage_error);
    }
  g_test_add_func ("/daemon/version", test_version);
  g_test_add ("/daemon/version/matches-property", Harness, NULL, setup,
              test_version_matches_property, teardown);
  g_test_add_func ("/daemon/help", test_help);
  g_test_add ("/daemon/signal/sigterm", Harness, GINT_TO_POINTER (SIGTERM), setup_no_args,
              test_signal, teardown);
  g_test_add ("/daemon/signal/sigint", Harness, GINT_TO_POINTER (SIGINT), setup_no_args,
              test_signal, teardown);
  g_test_add ("/daemon/name/second-instance", Harness, NULL, setup, test_second_instance, teardown);
  g_test_add ("/daemon/name/replace", Harness, NULL, setup_stderr_pipe, test_replace, teardown);
  g_test_add ("/daemon/bus-goes-away", Harness, NULL, setup_stderr_pipe, test_bus_goes_away,
              teardown_bus_gone);
  g_test_add ("/daemon/verbose/short", Harness, args_v, setup_stderr_pipe, test_verbose, teardown);
  g_test_add ("/daemon/verbose/long", Harness, args_verbose, setup_stderr_pipe, test_verbose,
              teardown);
  g_test_add ("/daemon/verbose/off-by-default", Harness, NULL, setup_stderr_pipe, test_quiet,
              teardown);
  g_test_add ("/daemon/log-lines-bounded", Harness, args_verbose_long_paths, setup_stderr_pipe,
              test_log_lines_bounded, teardown);

  return g_test_run ();
}
