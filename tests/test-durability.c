/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Nothing acknowledged is lost (docs/daemon.md): one owner of a state
 * folder, honest replies, clean hand-overs, against the real daemon on private buses:
 *
 * - a second instance on the same folders, on the same bus or another, refuses to start and
 *   touches nothing;
 * - --replace during BLOCK transitions, fifteen times: no client is ever told a sequence that
 *   the next instance contradicts, and every acknowledged advise survives;
 * - a FIFO or a symbolic link where a state or journal file should be;
 * - a full disk (a 64 KiB tmpfs) and a read-only one, where the tests run as root;
 * - a journal whose header has spent every token; a state file with more profiles than
 *   --max-profiles;
 * - SIGHUP, and SIGTERM during a BLOCK transition;
 * - the journal of a bus killed with SIGKILL;
 * - the journal at a clean stop: removed when it holds no advise, kept when it does.
 *
 * The test paths stay under /durability/.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>

#include "files.h"
#include "mapi-prefixes.h"
#include "transition-clients.h"

#define STATE_FILE    "state.ini"
#define REPLACE_ROUND 15
#define IO_ERROR      "org.freedesktop.DBus.Error.IOError"

/* Helpers */

static char *
state_path (Harness *h)
{
  return g_build_filename (h->state_dir, STATE_FILE, NULL);
}

/* The daemon's runtime folder: $XDG_RUNTIME_DIR/offline-state, as the harness sets it. */
static char *
runtime_folder (Harness *h)
{
  return g_build_filename (h->runtime_dir, "offline-state", NULL);
}

static char *
bus_id (Harness *h)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  char *id;

  reply = g_dbus_connection_call_sync (
      h->client, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
      NULL, G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(s)", &id);
  return id;
}

static char *
journal_path (Harness *h)
{
  g_autofree char *folder = runtime_folder (h);
  g_autofree char *id = bus_id (h);
  g_autofree char *name = g_strconcat ("advises-", id, NULL);

  return g_build_filename (folder, name, NULL);
}

/* The names in @folder that start with @prefix. */
static guint
count_prefixed (const char *folder, const char *prefix)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_prefix (name, prefix);
  return n;
}

static pid_t
daemon_pid (Harness *h)
{
  return (pid_t) atoi (g_subprocess_get_identifier (h->daemon));
}

/* Runs the daemon with @args to its end on the bus at @address; its status, and its
 * standard error in @err. */
static int
run_daemon_on (const char *address, const char *runtime_dir, const char *const *args, char **err)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (
      G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("OFFLINE_STATED"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_RUNTIME_DIR", runtime_dir, TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

/* A refusal to start: one line naming the folder in use, a non-zero status. */
static void
assert_refused_start (int status, const char *err, const char *folder)
{
  g_autofree char *line = g_strdup (err);

  g_test_message ("second instance: status %d, %s", status, err);
  g_assert_cmpint (status, !=, 0);
  g_strchomp (line);
  g_assert_null (strchr (line, '\n'));
  g_assert_true (g_str_has_prefix (line, "offline-stated: "));
  g_assert_nonnull (strstr (line, folder));
  g_assert_nonnull (strstr (line, "in use by another instance"));
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* What a folder holds, name and contents, to show it untouched. */
static char *
folder_snapshot (const char *folder)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *text = g_string_new (NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, g_ptr_array_index (names, i), NULL);
      g_autofree char *contents = NULL;
      GStatBuf st;

      g_assert_no_errno (g_stat (path, &st));
      if (S_ISREG (st.st_mode))
        g_file_get_contents (path, &contents, NULL, NULL);
      g_string_append_printf (text, "%s %o %s\n", (char *) g_ptr_array_index (names, i), st.st_mode,
                              contents ? contents : "");
    }
  return g_string_free (text, FALSE);
}

/* 1. A second instance on the same folders */

/* On the same bus: refused before it reads or removes anything, even what looks like the
 * leftover of a write cut short (it may be the running instance's write under way). */
static void
test_second_instance_same_bus (Harness *h, gconstpointer data)
{
  g_autofree char *runtime = runtime_folder (h);
  g_autofree char *leftover = g_build_filename (h->state_dir, STATE_FILE ".Ab12Cd", NULL);
  g_autofree char *state_dir_arg = g_strdup_printf ("--state-dir=%s", h->state_dir);
  g_autofree char *other_state = g_dir_make_tmp ("offline-state-other-XXXXXX", NULL);
  g_autofree char *other_state_arg = g_strdup_printf ("--state-dir=%s", other_state);
  g_autofree char *before_state = NULL, *before_runtime = NULL;
  g_autofree char *after_state = NULL, *after_runtime = NULL;
  g_autofree char *err = NULL;
  g_autofree char *path = NULL;
  int status;

  path = harness_create_profile (h, "kept", 0x3, ONLINE);
  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  write_file (leftover, "a write under way");
  before_state = folder_snapshot (h->state_dir);
  before_runtime = folder_snapshot (runtime);

  status = run_daemon_on (harness_bus_address (h), h->runtime_dir,
                          (const char *const[]){ state_dir_arg, NULL }, &err);
  assert_refused_start (status, err, h->state_dir);
  g_clear_pointer (&err, g_free);
  /* Another state folder, the same runtime folder: refused too. */
  status = run_daemon_on (harness_bus_address (h), h->runtime_dir,
                          (const char *const[]){ other_state_arg, NULL }, &err);
  assert_refused_start (status, err, runtime);
  g_assert_cmpuint (count_prefixed (other_state, ""), ==, 0);

  after_state = folder_snapshot (h->state_dir);
  after_runtime = folder_snapshot (runtime);
  g_assert_cmpstr (after_state, ==, before_state);
  g_assert_cmpstr (after_runtime, ==, before_runtime);
  /* The running instance was never disturbed. */
  assert_advise_count (h->client, path, 1);
  harness_restart (h, NULL);
  harness_assert_profiles (h, (const char *const[]){ "default", "kept", NULL });
  g_unlink (leftover);
  harness_remove_tree (other_state);
}

/* On another bus (a second session of the same user): refused as well, so that neither
 * instance's writes are lost to the other's. */
static void
test_second_instance_other_bus (Harness *h, gconstpointer data)
{
  Harness other = { 0 };
  g_autofree char *state_dir_arg = g_strdup_printf ("--state-dir=%s", h->state_dir);
  g_autofree char *before = NULL, *after = NULL;
  g_autofree char *err = NULL;
  int status;

  g_free (harness_create_profile (h, "first", 0x3, ONLINE));
  harness_setup_full (&other, HARNESS_SYSTEM_LIMITS, NULL);
  before = folder_snapshot (h->state_dir);
  status = run_daemon_on (harness_bus_address (&other), h->runtime_dir,
                          (const char *const[]){ state_dir_arg, NULL }, &err);
  assert_refused_start (status, err, h->state_dir);
  after = folder_snapshot (h->state_dir);
  g_assert_cmpstr (after, ==, before);
  harness_teardown (&other);

  g_free (harness_create_profile (h, "second", 0x3, ONLINE));
  harness_restart (h, NULL);
  harness_assert_profiles (h, (const char *const[]){ "default", "first", "second", NULL });
}

/* 2. --replace during BLOCK transitions */

typedef struct
{
  char *owner; /* the name's owner, as NameOwnerChanged last told */
} OwnerWatch;

static void
on_owner_changed (GVariant *parameters, gpointer user_data)
{
  OwnerWatch *watch = user_data;
  const char *name, *old_owner, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, &old_owner, &new_owner);
  if (g_str_equal (name, OFFLINE_STATE_BUS_NAME))
    {
      g_free (watch->owner);
      watch->owner = g_strdup (new_owner);
    }
}

static char *
name_owner (GDBusConnection *connection)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;
  char *owner;

  reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", OFFLINE_STATE_BUS_NAME), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

static void
wait_for_new_owner (OwnerWatch *watch, const char *old_owner)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (watch->owner == NULL || watch->owner[0] == '\0' || g_str_equal (watch->owner, old_owner))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static int
wait_for_exit (GSubprocess *process)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  return g_subprocess_get_exit_status (process);
}

/* What one client heard: sequences never go back, and a STATECHANGE of sequence s always
 * carries the state that s stands for. Returns the highest sequence it was told was
 * committed. */
static guint64
check_told (HarnessRecorder *recorder, guint64 first_sequence)
{
  guint64 last = 0, committed = 0;

  for (guint i = 0; i < recorder->n_notes; i++)
    {
      const HarnessNote *note = harness_recorder_note (recorder, i);
      guint expected = (note->sequence - first_sequence) % 2 == 0 ? OFFLINE : ONLINE;

      g_assert_cmpuint (note->sequence, >=, last);
      last = note->sequence;
      g_assert_cmpuint (note->new_state, ==, expected);
      if (note->notify_type == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE)
        committed = MAX (committed, note->sequence);
    }
  return committed;
}

static void
test_replace_storm (Harness *h, gconstpointer data)
{
  static const char *const replace_args[] = { "--replace", NULL };
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) caller = harness_connect (h);
  g_autoptr (GDBusConnection) watcher = harness_connect (h);
  g_autoptr (GDBusConnection) latecomer = harness_connect (h);
  g_autoptr (HarnessRecorder) callback =
      harness_recorder_new_callback (h->client, "/test/callback", HARNESS_REPLY, 0);
  g_autoptr (HarnessRecorder) signals = harness_recorder_new_signal (watcher, path);
  OwnerWatch watch = { NULL };
  guint subscription =
      harness_subscribe_name_owner (caller, OFFLINE_STATE_BUS_NAME, on_owner_changed, &watch);
  guint advises = 2;

  harness_advise (h->client, path, 1, "/test/callback");
  harness_advise (watcher, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  for (guint round = 1; round <= REPLACE_ROUND; round++)
    {
      guint state = round % 2 == 1 ? OFFLINE : ONLINE;
      guint heard = callback->n_notes;
      g_autoptr (GSubprocess) old = NULL;
      g_autofree char *old_owner = name_owner (caller);
      HarnessPending pending, late;

      /* A BLOCK transition that the old instance is in the middle of when replaced. */
      set_transition_delay (caller, path, 300);
      harness_set_state_begin (caller, path, BLOCK, state, &pending);
      harness_wait_count (&callback->n_notes, heard + 1, WAIT_MS);
      old = g_steal_pointer (&h->daemon);
      harness_start_daemon (h, replace_args);
      wait_for_new_owner (&watch, old_owner);
      /* An advise while the new instance waits for the old one: acknowledged, so kept. Not
       * waited for here: this process answers the old instance's Notify meanwhile. */
      harness_call_begin (
          latecomer, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
          g_variant_new ("(uuuouu)", 0, 100 + round, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3),
          &late);
      advises++;

      harness_wait_flag (&pending.done, WAIT_MS);
      g_assert_no_error (pending.error);
      harness_wait_flag (&late.done, WAIT_MS);
      g_assert_no_error (late.error);
      g_assert_cmpint (wait_for_exit (old), !=, 0);
      /* The new instance serves what the old one told, and every advise. */
      assert_object (caller, path, state, round, FALSE);
      assert_advise_count (caller, path, advises);
      settle (h->client, path);
      g_assert_cmpuint (callback->n_notes, ==, heard + 3);
      assert_transition (callback, heard, 1, 3 - state, state, round);
      g_assert_cmpuint (check_told (callback, 1), ==, round);
      settle (watcher, path);
      g_assert_cmpuint (check_told (signals, 1), <=, round);
      harness_pending_clear (&pending);
      harness_pending_clear (&late);
    }

  /* The advises made before the storm still hear transitions, by callback and by signal. */
  {
    guint heard = callback->n_notes, seen = signals->n_notes;
    guint last = REPLACE_ROUND % 2 == 1 ? OFFLINE : ONLINE;
    HarnessPending pending;

    harness_set_state_begin (caller, path, BLOCK, 3 - last, &pending);
    harness_wait_flag (&pending.done, WAIT_MS);
    g_assert_no_error (pending.error);
    settle (watcher, path);
    settle (h->client, path);
    assert_transition (callback, heard, 1, last, 3 - last, REPLACE_ROUND + 1);
    assert_transition (signals, seen, 2, last, 3 - last, REPLACE_ROUND + 1);
    harness_pending_clear (&pending);
  }
  g_dbus_connection_signal_unsubscribe (caller, subscription);
  g_free (watch.owner);
}

/* 3. Files that are not what they should be */

/* A FIFO where the state file was: opened without blocking, set aside, and the daemon starts
 * with defaults and stops on SIGTERM. */
static void
test_fifo_state_file (Harness *h, gconstpointer data)
{
  g_autofree char *path = state_path (h);

  g_free (harness_create_profile (h, "gone", 0x3, ONLINE));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_no_errno (g_unlink (path));
  g_assert_no_errno (mkfifo (path, 0600));
  harness_start_daemon (h, NULL);
  harness_assert_profiles (h, (const char *const[]){ "default", NULL });
  g_assert_cmpuint (count_prefixed (h->state_dir, STATE_FILE ".damaged-"), ==, 1);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
}

/* A FIFO where the advise journal was: the same, and advising works. */
static void
test_fifo_journal (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *journal = journal_path (h);
  g_autofree char *folder = runtime_folder (h);
  g_autofree char *damaged = g_strconcat (strrchr (journal, '/') + 1, ".damaged-", NULL);

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_unlink (journal);
  g_assert_no_errno (mkfifo (journal, 0600));
  harness_start_daemon (h, NULL);
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 1);
  g_assert_cmpuint (count_prefixed (folder, damaged), ==, 1);
  g_assert_true (g_file_test (journal, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
}

/* What the daemon wrote to its standard error, once it has exited. */
static char *
stop_and_read_log (Harness *h, int *status)
{
  g_autoptr (GInputStream) log = g_object_ref (g_subprocess_get_stderr_pipe (h->daemon));
  g_autoptr (GOutputStream) text = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  *status = harness_stop_daemon (h);
  g_output_stream_splice (text, log, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error);
  g_assert_no_error (error);
  return g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (text)),
                    g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (text)));
}

/* A symbolic link where the state file was: not followed, so what it points at is neither
 * read nor quoted in the log, and stays as it was. */
static void
test_symlink_state_file (Harness *h, gconstpointer data)
{
  g_autofree char *path = state_path (h);
  g_autofree char *elsewhere = g_dir_make_tmp ("offline-state-secret-XXXXXX", NULL);
  g_autofree char *secret = g_build_filename (elsewhere, "secret", NULL);
  g_autofree char *log = NULL;
  g_autofree char *after = NULL;
  int status;

  write_file (secret, "root:top-secret-first-line:0\nmore\n");
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_unlink (path);
  g_assert_no_errno (symlink (secret, path));
  h->flags |= HARNESS_STDERR_PIPE;
  harness_start_daemon (h, NULL);
  harness_assert_profiles (h, (const char *const[]){ "default", NULL });
  log = stop_and_read_log (h, &status);
  g_test_message ("daemon's log: %s", log);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (log, "top-secret"));
  g_assert_nonnull (strstr (log, "symbolic link"));
  g_assert_cmpuint (count_prefixed (h->state_dir, STATE_FILE ".damaged-"), ==, 1);
  after = read_file (secret);
  g_assert_cmpstr (after, ==, "root:top-secret-first-line:0\nmore\n");
  h->flags &= ~HARNESS_STDERR_PIPE;
  harness_start_daemon (h, NULL);
  harness_remove_tree (elsewhere);
}

/* 4. Damage is damage */

/* A journal whose header says every token was handed out: damaged, set aside, and Advise
 * works, restart after restart. */
static void
test_journal_tokens_spent (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *journal = journal_path (h);
  g_autofree char *folder = runtime_folder (h);
  g_autofree char *id = bus_id (h);
  g_autofree char *header = g_strdup_printf ("offline-state advises 1 %s 4294967295\n", id);
  g_autofree char *damaged = g_strconcat (strrchr (journal, '/') + 1, ".damaged-", NULL);

  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_mkdir_with_parents (folder, 0700);
  write_file (journal, header);
  harness_start_daemon (h, NULL);
  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpuint (count_prefixed (folder, damaged), ==, 1);
  harness_restart (h, NULL);
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 2);
}

/* 10,000 profiles on disk, --max-profiles=256: the first 256 are loaded, the whole file is
 * kept beside, and the limit counts right. */
static void
test_over_max_profiles (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--max-profiles=256", NULL };
  g_autofree char *path = state_path (h);
  g_autoptr (GString) text = g_string_new ("[OfflineState]\nVersion=1\n");
  g_autoptr (GVariant) profiles = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *copy_name = NULL;
  g_autofree char *copy = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *name;

  for (guint i = 0; i < 10000; i++)
    g_string_append_printf (
        text, "\n[Profile %u]\nName=p%05u\nCapabilities=3\nState=2\nSequence=7\n", i, i);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  write_file (path, text->str);
  harness_start_daemon (h, args);
  profiles = harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "Profiles");
  g_assert_cmpuint (g_variant_n_children (profiles), ==, 256);
  harness_assert_profile (h, "p00000", ONLINE, 0x3, 7);
  error = harness_call_fails (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                              "CreateOfflineObject", g_variant_new ("(suu)", "more", 3, ONLINE));
  harness_assert_dbus_error (error, "org.freedesktop.DBus.Error.LimitsExceeded", NULL);
  g_assert_nonnull (strstr (error->message, "there are 256 profiles"));
  dir = g_dir_open (h->state_dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, STATE_FILE ".over-limit-"))
      copy_name = g_strdup (name);
  g_assert_nonnull (copy_name);
  copy = g_build_filename (h->state_dir, copy_name, NULL);
  g_free (copy_name);
  copy_name = read_file (copy);
  g_assert_cmpstr (copy_name, ==, text->str);
}

/* 5. Signals */

/* SIGHUP reloads nothing and stops nothing. */
static void
test_sighup (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();

  g_assert_no_errno (kill (daemon_pid (h), SIGHUP));
  /* Answered after the signal was delivered: it was not fatal. */
  assert_object (h->client, path, ONLINE, 0, FALSE);
  g_assert_no_errno (kill (daemon_pid (h), SIGHUP));
  set_state_ok (h->client, path, 0, OFFLINE);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  harness_start_daemon (h, NULL);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
}

/* SIGTERM in the middle of a BLOCK transition: it ends first (the caller answered, the
 * subscribers told DONE), it is written, and the daemon exits 0. */
static void
test_sigterm_during_block (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) caller = harness_connect (h);
  g_autoptr (GDBusConnection) watcher = harness_connect (h);
  g_autoptr (HarnessRecorder) callback =
      harness_recorder_new_callback (h->client, "/test/callback", HARNESS_REPLY, 0);
  g_autoptr (HarnessRecorder) signals = harness_recorder_new_signal (watcher, path);
  g_autoptr (GSubprocess) daemon = NULL;
  HarnessPending pending;

  harness_advise (h->client, path, 1, "/test/callback");
  harness_advise (watcher, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (caller, path, 500);
  harness_set_state_begin (caller, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&callback->n_notes, 1, WAIT_MS);
  g_assert_no_errno (kill (daemon_pid (h), SIGTERM));
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  daemon = g_steal_pointer (&h->daemon);
  g_assert_cmpint (wait_for_exit (daemon), ==, 0);
  harness_wait_count (&signals->n_notes, 3, WAIT_MS);
  assert_transition (callback, 0, 1, ONLINE, OFFLINE, 1);
  assert_transition (signals, 0, 2, ONLINE, OFFLINE, 1);
  harness_start_daemon (h, NULL);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 6. A dead bus's journal */

/* The bus killed (SIGKILL), five times: each time the daemon, its connection closed, finds
 * the bus gone and removes the journal of its advises. */
static void
test_dead_bus_journal (void)
{
  for (guint round = 0; round < 5; round++)
    {
      Harness b = { 0 };
      g_autofree char *path = default_path ();
      g_autofree char *journal = NULL;
      g_autoptr (GSubprocess) daemon = NULL;

      harness_setup_full (&b, HARNESS_SYSTEM_LIMITS, NULL);
      harness_advise (b.client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
      journal = journal_path (&b);
      g_assert_true (g_file_test (journal, G_FILE_TEST_IS_REGULAR));
      g_assert_true (g_subprocess_get_identifier (b.bus_process) != NULL);
      g_subprocess_send_signal (b.bus_process, SIGKILL);
      daemon = g_steal_pointer (&b.daemon);
      g_assert_cmpint (wait_for_exit (daemon), !=, 0);
      if (g_file_test (journal, G_FILE_TEST_EXISTS))
        g_error ("round %u: the journal of a dead bus was left behind: %s", round, journal);
      harness_teardown (&b);
    }
}

static void
on_dead (gpointer user_data)
{
  GSocketService *service = user_data;

  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
}

/* Each connection is dropped at once; the socket goes 300 ms after the first. */
static gboolean
on_incoming (GSocketService *service,
             GSocketConnection *connection,
             GObject *source,
             gpointer user_data)
{
  guint *taken = user_data;

  if ((*taken)++ == 0)
    g_timeout_add_once (300, on_dead, service);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  return TRUE;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* A bus that dies slowly: its socket still takes connections, and drops them, for 300 ms
 * after the daemon first looks, as a bus in the middle of dying does. One look that
 * connects must not decide that the bus lives: the journal goes all the same. */
static void
test_dying_bus_journal (void)
{
  Harness b = { 0 };
  g_autofree char *path = default_path ();
  g_autofree char *journal = NULL;
  g_autofree char *socket_path = NULL;
  g_autoptr (GSubprocess) daemon = NULL;
  g_autoptr (GSocketService) service = g_socket_service_new ();
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  gboolean exited = FALSE;
  guint taken = 0;
  pid_t pid;

  harness_setup_full (&b, HARNESS_SYSTEM_LIMITS, NULL);
  harness_advise (b.client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  journal = journal_path (&b);
  g_assert_true (g_str_has_prefix (b.bus_address, "unix:path="));
  socket_path = g_strndup (b.bus_address + strlen ("unix:path="),
                           strcspn (b.bus_address + strlen ("unix:path="), ","));
  daemon = g_steal_pointer (&b.daemon);
  pid = (pid_t) atoi (g_subprocess_get_identifier (daemon));

  /* The daemon looks only once the dying bus's socket is back. */
  g_assert_no_errno (kill (pid, SIGSTOP));
  g_subprocess_send_signal (b.bus_process, SIGKILL);
  g_subprocess_wait (b.bus_process, NULL, NULL);
  g_unlink (socket_path);
  address = g_unix_socket_address_new (socket_path);
  g_socket_listener_add_address (G_SOCKET_LISTENER (service), address, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_DEFAULT, NULL, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), &taken);
  g_socket_service_start (service);
  g_assert_no_errno (kill (pid, SIGCONT));

  g_subprocess_wait_async (daemon, NULL, on_exited, &exited);
  harness_wait_flag (&exited, WAIT_MS);
  g_assert_cmpint (g_subprocess_get_exit_status (daemon), !=, 0);
  g_test_message ("the dying bus took %u connections", taken);
  g_assert_cmpuint (taken, >, 0);
  if (g_file_test (journal, G_FILE_TEST_EXISTS))
    g_error ("the journal of a dead bus was left behind: %s", journal);
  g_unlink (socket_path);
  harness_teardown (&b);
}

/* 7. A full disk, a read-only one */

static gboolean
run (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL);
}

/* The state folder as a tmpfs of @options, for the daemon started next. FALSE (the case is
 * skipped) where this process may not mount. */
static gboolean
mount_state_tmpfs (Harness *h, const char *options)
{
  if (getuid () != 0)
    {
      g_test_skip ("mounting a tmpfs takes root");
      return FALSE;
    }
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_true (run (
      (const char *const[]){ "mount", "-t", "tmpfs", "-o", options, "tmpfs", h->state_dir, NULL }));
  harness_start_daemon (h, NULL);
  return TRUE;
}

static void
unmount_state (Harness *h)
{
  if (h->daemon != NULL)
    g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_true (run ((const char *const[]){ "umount", h->state_dir, NULL }));
  harness_start_daemon (h, NULL);
}

/* A 64 KiB disk: profiles are created until it is full. Each creation answered is on disk,
 * each refused left nothing: after a crash, the profiles are exactly those answered. */
static void
test_disk_full (Harness *h, gconstpointer data)
{
  g_autoptr (GStrvBuilder) created = g_strv_builder_new ();
  g_auto (GStrv) expected = NULL;
  g_autofree char *padding = g_strnfill (180, 'x');
  g_autoptr (GSubprocess) crashed = NULL;
  guint ok = 0, refused = 0;

  if (!mount_state_tmpfs (h, "size=64k,mode=0700"))
    return;
  for (guint i = 0; i < 255; i++)
    {
      g_autofree char *name = g_strdup_printf ("%03u-%s", i, padding);
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GError) error = NULL;

      reply = harness_call (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "CreateOfflineObject",
                            g_variant_new ("(suu)", name, 3, ONLINE), &error);
      if (reply != NULL)
        {
          g_strv_builder_add (created, name);
          ok++;
          continue;
        }
      harness_assert_dbus_error (error, IO_ERROR, PREFIX_DISK_ERROR);
      refused++;
    }
  g_test_message ("64 KiB disk: %u profiles created, %u refused", ok, refused);
  g_assert_cmpuint (ok, >, 0);
  g_assert_cmpuint (refused, >, 0);
  /* A crash, and what was answered is what is there. The next instance starts once this
   * one is gone (until then, its folders are still its own). */
  g_assert_no_errno (kill (daemon_pid (h), SIGKILL));
  crashed = g_steal_pointer (&h->daemon);
  g_assert_true (g_subprocess_wait (crashed, NULL, NULL));
  g_assert_true (g_subprocess_get_if_signaled (crashed));
  harness_start_daemon (h, NULL);
  /* In order: the names made here sort before "default". */
  g_strv_builder_add (created, "default");
  expected = g_strv_builder_end (created);
  harness_assert_profiles (h, (const char *const *) expected);
  unmount_state (h);
}

/* A read-only disk: every change is refused, and nothing is left unsaved at exit. */
static void
test_read_only (Harness *h, gconstpointer data)
{
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (!mount_state_tmpfs (h, "size=1m,mode=0700"))
    return;
  path = harness_create_profile (h, "kept", 0x3, ONLINE);
  /* Read-only from the start: the daemon takes its lock read-only, and serves what it holds. */
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_true (run ((const char *const[]){ "mount", "-o", "remount,ro", h->state_dir, NULL }));
  harness_start_daemon (h, NULL);
  harness_assert_profiles (h, (const char *const[]){ "default", "kept", NULL });
  error = harness_set_state (h->client, path, BLOCK, OFFLINE);
  harness_assert_dbus_error (error, IO_ERROR, PREFIX_DISK_ERROR);
  g_clear_error (&error);
  assert_object (h->client, path, ONLINE, 0, FALSE);
  error = harness_call_fails (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                              "CreateOfflineObject", g_variant_new ("(suu)", "new", 3, ONLINE));
  harness_assert_dbus_error (error, IO_ERROR, PREFIX_DISK_ERROR);
  g_clear_error (&error);
  error = harness_call_fails (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                              "RemoveOfflineObject", g_variant_new ("(s)", "kept"));
  harness_assert_dbus_error (error, IO_ERROR, PREFIX_DISK_ERROR);
  /* Nothing is in memory only: a clean exit. */
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  unmount_state (h);
}

/* 8. A clean stop's journal */

/* Stopped (SIGTERM) holding no advise, the daemon removes its journal: there is nothing for
 * the next one to restore. Whether no client ever advised, or the last one unadvised. */
static void
test_clean_stop_no_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *journal = journal_path (h);
  g_autofree char *folder = runtime_folder (h);
  guint token;

  /* The daemon writes the journal once it owns its name, which this client may hear of first:
   * a call answered says it has. */
  assert_advise_count (h->client, path, 0);
  g_assert_true (g_file_test (journal, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_prefixed (folder, "advises-"), ==, 0);

  harness_start_daemon (h, NULL);
  token = harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_true (g_file_test (journal, G_FILE_TEST_IS_REGULAR));
  unadvise_ok (h->client, path, token);
  assert_advise_count (h->client, path, 0);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_prefixed (folder, "advises-"), ==, 0);
}

/* Stopped holding the advise of a client still on the bus, the daemon keeps the journal;
 * the next one restores the advise, with its token, and it is notified. Once unadvised,
 * that one's stop removes the journal. */
static void
test_clean_stop_advise_held (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *journal = journal_path (h);
  g_autoptr (HarnessRecorder) signals = harness_recorder_new_signal (h->client, path);
  guint token;

  token = harness_advise (h->client, path, 7, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_true (g_file_test (journal, G_FILE_TEST_IS_REGULAR));

  harness_start_daemon (h, NULL);
  assert_advise_count (h->client, path, 1);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  harness_wait_count (&signals->n_notes, 3, WAIT_MS);
  assert_transition (signals, 0, 7, ONLINE, OFFLINE, 1);
  unadvise_ok (h->client, path, token);
  assert_advise_count (h->client, path, 0);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/durability/second-instance/same-bus", NULL, harness_fixture_setup,
               test_second_instance_same_bus);
  HARNESS_ADD ("/durability/second-instance/other-bus", NULL, harness_fixture_setup,
               test_second_instance_other_bus);
  HARNESS_ADD ("/durability/replace-storm", NULL, harness_fixture_setup, test_replace_storm);
  HARNESS_ADD ("/durability/files/fifo-state-file", NULL, harness_fixture_setup,
               test_fifo_state_file);
  HARNESS_ADD ("/durability/files/fifo-journal", NULL, harness_fixture_setup, test_fifo_journal);
  HARNESS_ADD ("/durability/files/symlink-state-file", NULL, harness_fixture_setup,
               test_symlink_state_file);
  HARNESS_ADD ("/durability/damage/journal-tokens-spent", NULL, harness_fixture_setup,
               test_journal_tokens_spent);
  HARNESS_ADD ("/durability/damage/over-max-profiles", NULL, harness_fixture_setup,
               test_over_max_profiles);
  HARNESS_ADD ("/durability/signals/sighup", NULL, harness_fixture_setup, test_sighup);
  HARNESS_ADD ("/durability/signals/sigterm-during-block", NULL, harness_fixture_setup,
               test_sigterm_during_block);
  HARNESS_ADD ("/durability/disk/full", NULL, harness_fixture_setup, test_disk_full);
  HARNESS_ADD ("/durability/disk/read-only", NULL, harness_fixture_setup, test_read_only);
  HARNESS_ADD ("/durability/clean-stop/no-advise", NULL, harness_fixture_setup,
               test_clean_stop_no_advise);
  HARNESS_ADD ("/durability/clean-stop/advise-held", NULL, harness_fixture_setup,
               test_clean_stop_advise_held);
  g_test_add_func ("/durability/dead-bus-journal", test_dead_bus_journal);
  g_test_add_func ("/durability/dying-bus-journal", test_dying_bus_journal);
  return g_test_run ();
}
