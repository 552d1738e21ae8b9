/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Advises survive a restart of the daemon, a crash included (persistence and limits,
 * docs/daemon.md): the real daemon is killed with SIGKILL and started again, as D-Bus activation or
 * systemd would, and the clients still on the bus hear the next transition without advising again.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "transition-clients.h"

#define LONG_WAIT_MS  10000
#define CALLBACK_PATH "/org/example/App/Notify"

/* SIGKILL: the daemon gets no chance to write anything more. */
static void
kill_daemon (Harness *h)
{
  g_subprocess_force_exit (h->daemon);
  harness_reap_killed_daemon (h);
}

static guint
advise_count (Harness *h)
{
  g_autofree char *path = default_path ();

  return harness_get_uint (h->client, path, "AdviseCount");
}

/* The daemon hears of a client leaving through the bus, not through our calls: ask until
 * the count is reached, within a bound. */
static void
wait_advise_count (Harness *h, guint expected)
{
  gint64 deadline = g_get_monotonic_time () + LONG_WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (advise_count (h) != expected)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
    }
}

/* A BLOCK transition, waited for on the main loop: the callback clients of this process
 * answer their Notify meanwhile, so no step waits out the notify time-out. */
static void
go (Harness *h, guint state)
{
  g_autofree char *path = default_path ();
  HarnessPending pending = { 0 };
  gint64 start = g_get_monotonic_time ();

  harness_set_state_begin (h->client, path, MAPIOFFLINE_FLAG_BLOCK, state, &pending);
  harness_wait_flag (&pending.done, LONG_WAIT_MS);
  g_assert_no_error (pending.error);
  /* Far below the 5 s notify time-out: every callback answered. */
  g_assert_cmpint (pending.time_us - start, <, 4 * G_USEC_PER_SEC);
  harness_pending_clear (&pending);
}

/* Once they have come: START, STATECHANGE and DONE of transition @sequence, in order, with
 * @client_token. */
static void
wait_transition (HarnessRecorder *recorder,
                 guint first,
                 guint client_token,
                 guint old_state,
                 guint new_state,
                 guint64 sequence)
{
  harness_wait_count (&recorder->n_notes, first + 3, LONG_WAIT_MS);
  assert_transition (recorder, first, client_token, old_state, new_state, sequence);
}

static char *
journal_folder (Harness *h)
{
  return g_build_filename (h->runtime_dir, "offline-state", NULL);
}

/* The one journal file the daemon keeps in its runtime folder. */
static char *
read_journal (Harness *h)
{
  g_autofree char *folder = journal_folder (h);
  g_autoptr (GDir) dir = g_dir_open (folder, 0, NULL);
  g_autofree char *path = NULL;
  const char *name;
  char *text = NULL;

  g_assert_nonnull (dir);
  /* One journal, beside the folder's lock. */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (g_str_equal (name, "lock"))
        continue;
      g_assert_true (g_str_has_prefix (name, "advises-"));
      g_assert_null (path);
      path = g_build_filename (folder, name, NULL);
    }
  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

/* The clients */

typedef struct
{
  GDBusConnection *connection;
  HarnessRecorder *recorder;
  guint client_token;
  guint token;
} Client;

static void
client_advise (Harness *h, Client *c, gboolean by_callback, guint client_token)
{
  g_autofree char *path = default_path ();

  c->connection = harness_connect (h);
  c->recorder = by_callback
                    ? harness_recorder_new_callback (c->connection, CALLBACK_PATH, HARNESS_REPLY, 0)
                    : harness_recorder_new_signal (c->connection, path);
  c->client_token = client_token;
  c->token = harness_advise (c->connection, path, client_token,
                             by_callback ? CALLBACK_PATH : OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
}

static void
client_leave (Client *c)
{
  g_clear_pointer (&c->recorder, harness_recorder_free);
  if (c->connection != NULL)
    g_dbus_connection_close_sync (c->connection, NULL, NULL);
  g_clear_object (&c->connection);
}

/* Tests */

static void
test_after_kill (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  Client stays_signal = { 0 }, stays_callback = { 0 }, gone_signal = { 0 }, gone_callback = { 0 };
  g_autoptr (GVariant) reply = NULL;
  guint fresh;

  client_advise (h, &stays_signal, FALSE, 11);
  client_advise (h, &stays_callback, TRUE, 22);
  client_advise (h, &gone_signal, FALSE, 33);
  client_advise (h, &gone_callback, TRUE, 44);
  g_assert_cmpuint (advise_count (h), ==, 4);

  kill_daemon (h);
  client_leave (&gone_signal);
  client_leave (&gone_callback);
  harness_start_daemon (h, NULL);

  /* Only the owners still on the bus are back, with no call from them. */
  g_assert_cmpuint (advise_count (h), ==, 2);
  go (h, MAPIOFFLINE_STATE_OFFLINE);
  wait_transition (stays_signal.recorder, 0, 11, MAPIOFFLINE_STATE_ONLINE,
                   MAPIOFFLINE_STATE_OFFLINE, 1);
  wait_transition (stays_callback.recorder, 0, 22, MAPIOFFLINE_STATE_ONLINE,
                   MAPIOFFLINE_STATE_OFFLINE, 1);

  /* Their tokens are theirs still; a new advise gets a token never seen before. */
  g_variant_unref (harness_call_ok (stays_signal.connection, path,
                                    OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
                                    g_variant_new ("(uu)", 0, stays_signal.token)));
  g_assert_cmpuint (advise_count (h), ==, 1);
  fresh = harness_advise (stays_signal.connection, path, 55, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpuint (fresh, >, gone_callback.token);
  go (h, MAPIOFFLINE_STATE_ONLINE);
  wait_transition (stays_signal.recorder, 3, 55, MAPIOFFLINE_STATE_OFFLINE,
                   MAPIOFFLINE_STATE_ONLINE, 2);
  wait_transition (stays_callback.recorder, 3, 22, MAPIOFFLINE_STATE_OFFLINE,
                   MAPIOFFLINE_STATE_ONLINE, 2);
  g_assert_cmpuint (stays_signal.recorder->n_notes, ==, 6);

  client_leave (&stays_signal);
  client_leave (&stays_callback);
  wait_advise_count (h, 0);
}

/* Again and again: every restart brings back exactly the advises of the clients there. */
static void
test_repeated_kills (Harness *h, gconstpointer data)
{
  Client clients[6] = { { 0 } };
  guint state = MAPIOFFLINE_STATE_ONLINE;
  guint heard = 0;

  for (guint i = 0; i < G_N_ELEMENTS (clients); i++)
    client_advise (h, &clients[i], i % 2, 100 + i);
  for (guint round = 0; round < G_N_ELEMENTS (clients); round++)
    {
      guint next =
          state == MAPIOFFLINE_STATE_ONLINE ? MAPIOFFLINE_STATE_OFFLINE : MAPIOFFLINE_STATE_ONLINE;

      kill_daemon (h);
      client_leave (&clients[round]);
      harness_start_daemon (h, NULL);
      g_assert_cmpuint (advise_count (h), ==, G_N_ELEMENTS (clients) - round - 1);
      go (h, next);
      for (guint i = round + 1; i < G_N_ELEMENTS (clients); i++)
        wait_transition (clients[i].recorder, 3 * round, 100 + i, state, next, round + 1);
      heard += G_N_ELEMENTS (clients) - round - 1;
      state = next;
    }
  g_test_message ("%u restarts after SIGKILL; %u subscribers heard every transition",
                  (guint) G_N_ELEMENTS (clients), heard);
}

/* A restored advise is reaped like any other when its owner leaves. */
static void
test_owner_leaves_after_restart (Harness *h, gconstpointer data)
{
  g_autofree char *text = NULL;
  g_autofree char *removal = NULL;
  Client c = { 0 };

  client_advise (h, &c, TRUE, 7);
  removal = g_strdup_printf ("\n- %u\n", c.token);
  kill_daemon (h);
  harness_start_daemon (h, NULL);
  g_assert_cmpuint (advise_count (h), ==, 1);
  client_leave (&c);
  wait_advise_count (h, 0);
  text = read_journal (h);
  g_assert_nonnull (strstr (text, removal));
}

/* A clean stop (SIGTERM, as systemctl restart) keeps them too. */
static void
test_clean_restart (Harness *h, gconstpointer data)
{
  Client c = { 0 };

  client_advise (h, &c, FALSE, 9);
  harness_restart (h, NULL);
  g_assert_cmpuint (advise_count (h), ==, 1);
  go (h, MAPIOFFLINE_STATE_OFFLINE);
  wait_transition (c.recorder, 0, 9, MAPIOFFLINE_STATE_ONLINE, MAPIOFFLINE_STATE_OFFLINE, 1);
  client_leave (&c);
}

/* A second instance that does not get the name leaves the first one's journal alone. */
static void
test_second_instance (Harness *h, gconstpointer data)
{
  g_autofree char *state_dir = g_strconcat ("--state-dir=", h->state_dir, NULL);
  const char *argv[] = { state_dir, NULL };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *err = NULL;
  Client one = { 0 }, two = { 0 };

  client_advise (h, &one, FALSE, 1);
  before = read_journal (h);
  g_setenv ("XDG_RUNTIME_DIR", h->runtime_dir, TRUE);
  g_assert_cmpint (harness_run_daemon_sync (argv, &err), !=, 0);
  g_assert_nonnull (strstr (err, "another instance"));
  after = read_journal (h);
  g_assert_cmpstr (after, ==, before);

  /* The first instance still keeps its journal: both advises come back. */
  client_advise (h, &two, FALSE, 2);
  kill_daemon (h);
  harness_start_daemon (h, NULL);
  g_assert_cmpuint (advise_count (h), ==, 2);
  client_leave (&one);
  client_leave (&two);
}

static void
test_runtime_dir_option (Harness *h, gconstpointer data)
{
  g_autofree char *mine = g_build_filename (h->state_dir, "run", NULL);
  g_autofree char *option = g_strconcat ("--runtime-dir=", mine, NULL);
  const char *args[] = { option, NULL };
  g_autofree char *folder = journal_folder (h);
  Client c = { 0 };

  kill_daemon (h);
  harness_remove_tree (folder);
  harness_start_daemon (h, args);
  client_advise (h, &c, FALSE, 3);
  g_assert_true (g_file_test (mine, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
  kill_daemon (h);
  harness_start_daemon (h, args);
  g_assert_cmpuint (advise_count (h), ==, 1);
  client_leave (&c);
}

static void
setup_ephemeral (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--ephemeral", NULL };

  harness_setup_full (h, HARNESS_NO_STATE_DIR, args);
}

static void
test_ephemeral (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--ephemeral", NULL };
  g_autofree char *folder = journal_folder (h);
  Client c = { 0 };

  client_advise (h, &c, FALSE, 3);
  kill_daemon (h);
  harness_start_daemon (h, args);
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
  client_leave (&c);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/restore/after-kill", NULL, harness_fixture_setup, test_after_kill);
  HARNESS_ADD ("/restore/repeated-kills", NULL, harness_fixture_setup, test_repeated_kills);
  HARNESS_ADD ("/restore/owner-leaves-after-restart", NULL, harness_fixture_setup,
               test_owner_leaves_after_restart);
  HARNESS_ADD ("/restore/clean-restart", NULL, harness_fixture_setup, test_clean_restart);
  HARNESS_ADD ("/restore/second-instance", NULL, harness_fixture_setup, test_second_instance);
  HARNESS_ADD ("/restore/runtime-dir-option", NULL, harness_fixture_setup, test_runtime_dir_option);
  HARNESS_ADD ("/restore/ephemeral", NULL, setup_ephemeral, test_ephemeral);

  return g_test_run ();
}
