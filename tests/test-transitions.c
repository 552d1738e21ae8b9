/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Transitions and their notifications (the D-Bus reference, OfflineMgr: its description,
 * SetCurrentState and Advise): phases, BLOCK and DEFAULT, E_PENDING, slow, silent and failing
 * callbacks, clients that leave, advises that come and go during a transition, and
 * PropertiesChanged, against the real daemon on a private bus: a fresh bus and daemon for every
 * case. The rules of Advise and Unadvise are in test-advise.c.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "transition-clients.h"
#include "mapi-prefixes.h"

/* Each case gets its own bus and daemon (harness_fixture_setup), or this one. */

/* Answers every Notify that a HARNESS_SILENT recorder holds: a gate that keeps the
 * transition in its current phase until the test opens it. */
static void
release_kept (HarnessRecorder *gate)
{
  while (gate->kept->len > 0)
    g_dbus_method_invocation_return_value (g_ptr_array_steal_index (gate->kept, 0), NULL);
}

/* A SetCurrentState that also notes how many notifications @watch had, and whether @props
 * had seen Transitioning end, when the reply came: the client sees the daemon's messages on
 * one connection in order. */
typedef struct
{
  HarnessPending pending;
  HarnessRecorder *watch;
  HarnessPropsWatch *props; /* may be NULL */
  guint notes_at_reply;
  gboolean ended_at_reply;
} WatchedCall;

static void
on_watched_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WatchedCall *call = user_data;

  call->pending.reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->pending.error);
  call->pending.time_us = g_get_monotonic_time ();
  call->notes_at_reply = call->watch->n_notes;
  call->ended_at_reply = call->props != NULL && call->props->transitioning_ended;
  call->pending.done = TRUE;
}

/* Returns once the call has succeeded. */
static void
watched_set_state (GDBusConnection *connection,
                   const char *path,
                   guint flags,
                   guint state,
                   HarnessRecorder *watch,
                   HarnessPropsWatch *props,
                   WatchedCall *call)
{
  memset (call, 0, sizeof *call);
  call->watch = watch;
  call->props = props;
  g_dbus_connection_call (
      connection, OFFLINE_STATE_BUS_NAME, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      "SetCurrentState", g_variant_new ("(uuu)", flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state),
      G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_watched_call_done, call);
  harness_wait_flag (&call->pending.done, WAIT_MS);
  g_assert_no_error (call->pending.error);
}

/* A callback client that calls SetCurrentState from inside its START handler, and answers
 * that Notify only once its own call has been answered. */

typedef struct
{
  GDBusConnection *connection;
  char *profile_path;
  guint registration_id;
  guint n_notes;
  guint nested_state;
  GDBusMethodInvocation *held;
  GError *nested_error;
  gboolean nested_done;
} NestedClient;

static void
on_nested_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  NestedClient *client = user_data;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &client->nested_error);
  client->nested_done = TRUE;
  g_dbus_method_invocation_return_value (g_steal_pointer (&client->held), NULL);
}

static void
on_nested_notify (GDBusMethodInvocation *invocation, GVariant *parameters, gpointer user_data)
{
  NestedClient *client = user_data;
  guint notify_type;

  g_variant_get (parameters, "(uuuuut)", &notify_type, NULL, NULL, NULL, NULL, NULL);
  client->n_notes++;
  if (notify_type != START || client->held != NULL || client->nested_done)
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  client->held = invocation;
  g_dbus_connection_call (client->connection, OFFLINE_STATE_BUS_NAME, client->profile_path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                          g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_DEFAULT,
                                         MAPIOFFLINE_STATE_OFFLINE_MASK, client->nested_state),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_nested_call_done,
                          client);
}

static NestedClient *
nested_client_new (GDBusConnection *connection,
                   const char *profile_path,
                   const char *callback_path,
                   guint nested_state)
{
  NestedClient *client = g_new0 (NestedClient, 1);

  client->connection = g_object_ref (connection);
  client->profile_path = g_strdup (profile_path);
  client->nested_state = nested_state;
  client->registration_id =
      harness_export_notify (connection, callback_path, on_nested_notify, client);
  return client;
}

static void
nested_client_free (NestedClient *client)
{
  g_dbus_connection_unregister_object (client->connection, client->registration_id);
  g_clear_error (&client->nested_error);
  g_free (client->profile_path);
  g_object_unref (client->connection);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NestedClient, nested_client_free)

/* 1. Signal delivery, BLOCK */

static void
test_signal_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  WatchedCall call;

  harness_advise (h->client, path, 4242, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_object (h->client, path, ONLINE, 0, FALSE);

  watched_set_state (h->client, path, BLOCK, OFFLINE, recorder, NULL, &call);
  /* BLOCK answers after the last phase: all three notifications came first. */
  g_assert_cmpuint (call.notes_at_reply, ==, 3);
  g_assert_cmpint (harness_recorder_note (recorder, 2)->time_us, <=, call.pending.time_us);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 4242, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);

  watched_set_state (h->client, path, BLOCK, ONLINE, recorder, NULL, &call);
  g_assert_cmpuint (call.notes_at_reply, ==, 6);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  assert_transition (recorder, 3, 4242, OFFLINE, ONLINE, 2);
  assert_object (h->client, path, ONLINE, 2, FALSE);
  harness_pending_clear (&call.pending);
}

/* SetCurrentState to the current state: success, nothing notified, nothing counted. */
static void
test_same_state (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 0);
  assert_object (h->client, path, ONLINE, 0, FALSE);
}

/* 2. Callback delivery, BLOCK */

static void
test_callback_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder =
      harness_recorder_new_callback (h->client, "/test/notify", HARNESS_REPLY, 0);
  WatchedCall call;

  harness_advise (h->client, path, 77, "/test/notify");

  watched_set_state (h->client, path, BLOCK, OFFLINE, recorder, NULL, &call);
  g_assert_cmpuint (call.notes_at_reply, ==, 3);
  assert_transition (recorder, 0, 77, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);

  watched_set_state (h->client, path, BLOCK, ONLINE, recorder, NULL, &call);
  g_assert_cmpuint (call.notes_at_reply, ==, 6);
  assert_transition (recorder, 3, 77, OFFLINE, ONLINE, 2);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  assert_object (h->client, path, ONLINE, 2, FALSE);
  assert_advise_count (h->client, path, 1);
  harness_pending_clear (&call.pending);
}

/* 3. Without BLOCK the reply comes once the transition has started. */

static void
test_default_returns_at_start (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  WatchedCall call;
  const HarnessNote *start, *change;

  harness_advise (h->client, path, 5, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 500);

  watched_set_state (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE, recorder, NULL, &call);
  g_assert_cmpuint (call.notes_at_reply, <, 2); /* no STATECHANGE before the reply */
  /* The delay holds the transition between START and STATECHANGE. */
  g_assert_true (harness_get_transitioning (h->client, path));
  g_assert_cmpuint (harness_get_uint (h->client, path, "State"), ==, ONLINE);

  harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
  assert_transition (recorder, 0, 5, ONLINE, OFFLINE, 1);
  start = harness_recorder_note (recorder, 0);
  change = harness_recorder_note (recorder, 1);
  g_assert_cmpint (change->time_us, >, call.pending.time_us);
  g_assert_cmpint (change->time_us - start->time_us, >=, 500 * G_TIME_SPAN_MILLISECOND);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);
}

/* BLOCK returns no earlier than the transition delay. */
static void
test_block_waits_for_delay (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  HarnessPending pending;
  gint64 begin;

  set_transition_delay (h->client, path, 300);
  begin = g_get_monotonic_time ();
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  g_assert_cmpint (pending.time_us - begin, >=, 300 * G_TIME_SPAN_MILLISECOND);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 4. E_PENDING during a transition */

static void
test_pending (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  const guint flags[] = { MAPIOFFLINE_FLAG_DEFAULT, BLOCK };

  harness_advise (h->client, path, 9, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 1000);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE);
  g_assert_true (harness_get_transitioning (h->client, path));

  /* Any valid call: to the target, to the current state, from any connection. */
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    for (guint state = OFFLINE; state <= ONLINE; state++)
      {
        g_autoptr (GError) mine = harness_set_state (h->client, path, flags[i], state);
        g_autoptr (GError) theirs = harness_set_state (other, path, flags[i], state);

        harness_assert_dbus_error (mine, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
        harness_assert_dbus_error (theirs, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
      }
  {
    /* Arguments are checked first. */
    g_autoptr (GError) error = harness_set_state (other, path, 1, OFFLINE);

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
  }
  {
    g_autoptr (GError) error =
        harness_call_error (other, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "RemoveOfflineObject",
                            g_variant_new ("(s)", OFFLINE_STATE_DEFAULT_PROFILE));

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  }
  g_assert_true (harness_get_transitioning (h->client, path));

  /* The refused calls changed nothing: one transition, then a free object again. */
  harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 9, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  set_transition_delay (h->client, path, 0);
  set_state_ok (other, path, BLOCK, OFFLINE);
  set_state_ok (other, path, BLOCK, ONLINE);
  assert_object (h->client, path, ONLINE, 2, FALSE);
}

static void
test_pending_from_handler (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  /* During the transition to OFFLINE, ask for ONLINE: the state still current. */
  g_autoptr (NestedClient) client = nested_client_new (h->client, path, "/test/nested", ONLINE);
  HarnessPending pending;

  harness_advise (h->client, path, 3, "/test/nested");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);

  g_assert_true (client->nested_done);
  harness_assert_dbus_error (client->nested_error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  g_assert_cmpuint (client->n_notes, ==, 3);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 5. A slow callback holds the commit back. */

static void
test_slow_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) slow =
      harness_recorder_new_callback (h->client, "/test/slow", HARNESS_REPLY_LATER, 400);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  const HarnessNote *slow_start, *change;
  HarnessPending pending;

  harness_advise (h->client, path, 1, "/test/slow");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&slow->n_notes, 1, WAIT_MS);
  /* This process cannot answer while it waits for these replies: no commit yet. */
  g_assert_true (harness_get_transitioning (other, path));
  g_assert_cmpuint (harness_get_uint (other, path, "State"), ==, ONLINE);
  g_assert_cmpuint (harness_get_sequence (other, path), ==, 0);

  harness_wait_flag (&pending.done, WAIT_MS * 2);
  g_assert_no_error (pending.error);
  harness_wait_count (&watcher->n_notes, 3, WAIT_MS);
  assert_transition (slow, 0, 1, ONLINE, OFFLINE, 1);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);
  /* STATECHANGE left the daemon after the slow reply, which came 400 ms after START
   * reached the slow client. */
  slow_start = harness_recorder_note (slow, 0);
  change = harness_recorder_note (watcher, 1);
  g_assert_cmpint (change->time_us - slow_start->time_us, >=, 400 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (pending.time_us - slow_start->time_us, >=, 3 * 400 * G_TIME_SPAN_MILLISECOND);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  assert_advise_count (h->client, path, 2);
  harness_pending_clear (&pending);
}

/* 6. A silent callback costs one NotifyTimeout: its client is then cut off, gets nothing
 * more, holds up no transition, and loses its advise once the grace is over. */

static void
setup_short_timeout_and_grace (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=300", "--cut-off-grace=300", NULL };

  harness_setup (h, args);
}

static void
test_silent_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (h->client, "/test/silent", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  g_autoptr (GVariant) timeout = NULL;
  HarnessPending pending;
  g_autoptr (HarnessPropsWatch) props = harness_props_watch_new (other, path, NULL);
  gint64 begin;

  timeout =
      harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "NotifyTimeout");
  g_assert_cmpuint (g_variant_get_uint32 (timeout), ==, 300);
  harness_advise (h->client, path, 1, "/test/silent");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  for (guint round = 0; round < 2; round++)
    {
      guint state = round == 0 ? OFFLINE : ONLINE;

      begin = g_get_monotonic_time ();
      harness_set_state_begin (other, path, BLOCK, state, &pending);
      harness_wait_flag (&pending.done, 10000);
      g_assert_no_error (pending.error);
      if (round == 0)
        g_assert_cmpint (pending.time_us - begin, >=, 300 * G_TIME_SPAN_MILLISECOND);
      g_assert_cmpint (pending.time_us - begin, <, 2 * 300 * G_TIME_SPAN_MILLISECOND);
      settle (other, path);
      g_assert_cmpuint (watcher->n_notes, ==, 3 * (round + 1));
      assert_transition (watcher, 3 * round, 2, 3 - state, state, round + 1);
      assert_object (other, path, state, round + 1, FALSE);
      harness_pending_clear (&pending);
    }
  /* Only the first START reached it. */
  settle (h->client, path);
  g_assert_cmpuint (silent->n_notes, ==, 1);
  assert_advise_count (other, path, 2);
  props->want_advise_count = 1;
  props->advise_count_reached = FALSE;
  harness_wait_flag (&props->advise_count_reached, 10000);
  assert_advise_count (other, path, 1);
}

/* 6b. The daemon's own stall is not the client's fault: a callback that answers while the
 * daemon is stopped (a debugger, a slow disk under its main loop), for longer than the
 * time-out, is answered in time. The time-out, due when the daemon resumes, waits for the
 * answer already in its socket; the client keeps its advise and hears the whole transition. */

static void
test_daemon_stalled (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) callback =
      harness_recorder_new_callback (h->client, "/test/stalled", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  g_autoptr (GError) error = NULL;
  pid_t daemon = atoi (g_subprocess_get_identifier (h->daemon));
  g_autoptr (GInputStream) log = NULL;
  char text[16384];
  gsize length;
  HarnessPending pending;

  /* The rule gives a client the daemon's lateness, up to a second, to have its answer read;
   * under valgrind (a timeout multiplier) reading it may take longer than that. */
  if (harness_timeout_multiplier () > 1)
    {
      g_test_skip ("the daemon's own timing is the point, and valgrind stretches it");
      return;
    }

  harness_advise (h->client, path, 1, "/test/stalled");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_set_state_begin (other, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&callback->n_notes, 1, WAIT_MS);
  /* START has reached the callback; the daemon stops before the answer reaches it. */
  g_assert_cmpint (kill (daemon, SIGSTOP), ==, 0);
  callback->mode = HARNESS_REPLY;
  g_dbus_method_invocation_return_value (g_ptr_array_steal_index (callback->kept, 0), NULL);
  g_assert_true (g_dbus_connection_flush_sync (h->client, NULL, &error));
  g_assert_no_error (error);
  /* The stall itself, three times --notify-timeout: what this case is about, not a wait for
   * something to happen. */
  g_usleep (3 * 300 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (kill (daemon, SIGCONT), ==, 0);

  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  settle (h->client, path);
  settle (other, path);
  assert_transition (callback, 0, 1, ONLINE, OFFLINE, 1);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (callback->n_notes, ==, 3);
  /* Not cut off: still advised, and the next transition reaches it. */
  assert_advise_count (other, path, 2);
  harness_pending_clear (&pending);
  harness_set_state_begin (other, path, BLOCK, ONLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  settle (h->client, path);
  g_assert_cmpuint (callback->n_notes, ==, 6);
  assert_transition (callback, 3, 1, OFFLINE, ONLINE, 2);
  harness_pending_clear (&pending);
  /* Not even for a moment: cut off, it would have been taken back on its answer. */
  log = g_object_ref (g_subprocess_get_stderr_pipe (h->daemon));
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_true (g_input_stream_read_all (log, text, sizeof text - 1, &length, NULL, &error));
  g_assert_no_error (error);
  text[length] = '\0';
  g_assert_null (strstr (text, "Cut off"));
  g_assert_nonnull (strstr (text, "Stopping"));
}

static void
setup_short_timeout_with_log (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=300", "--cut-off-grace=300", NULL };

  harness_setup_full (h, HARNESS_STDERR_PIPE, args);
}

/* 7. A callback that fails is unadvised. */

static void
test_failing_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) failing =
      harness_recorder_new_callback (h->client, "/test/fail", HARNESS_FAIL, 0);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  HarnessPending pending;

  harness_advise (h->client, path, 1, "/test/fail");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 2);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  assert_advise_count (h->client, path, 1);
  settle (other, path);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);

  harness_set_state_begin (h->client, path, BLOCK, ONLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  settle (h->client, path);
  settle (other, path);
  g_assert_cmpuint (failing->n_notes, ==, 1);
  assert_note (failing, 0, START, 1, MAPIOFFLINE_STATE_OFFLINE_MASK, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (watcher->n_notes, ==, 6);
  assert_transition (watcher, 3, 2, OFFLINE, ONLINE, 2);
  assert_advise_count (h->client, path, 1);
  assert_object (h->client, path, ONLINE, 2, FALSE);
}

static void
test_missing_callback_object (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) empty = harness_connect (h); /* exports nothing */
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (h->client, path);

  harness_advise (empty, path, 1, "/nothing/here");
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 2);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  assert_advise_count (h->client, path, 1);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (watcher->n_notes, ==, 6);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);
  assert_transition (watcher, 3, 2, OFFLINE, ONLINE, 2);
  assert_advise_count (h->client, path, 1);
}

/* 8. A connection that leaves the bus loses its advises. */

static void
test_closed_connection (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  g_autoptr (GDBusConnection) leaving = harness_connect (h);
  g_autoptr (HarnessRecorder) leaving_signal = harness_recorder_new_signal (leaving, path);
  g_autoptr (HarnessRecorder) leaving_callback =
      harness_recorder_new_callback (leaving, "/test/leaving", HARNESS_REPLY, 0);
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (GError) error = NULL;

  harness_advise (leaving, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (leaving, path, 2, "/test/leaving");
  assert_advise_count (h->client, path, 2);

  watch->want_advise_count = 0;
  g_dbus_connection_close_sync (leaving, NULL, &error);
  g_assert_no_error (error);
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
  assert_advise_count (h->client, path, 0);

  harness_advise (h->client, path, 3, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 3, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (leaving_signal->n_notes, ==, 0);
  g_assert_cmpuint (leaving_callback->n_notes, ==, 0);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
}

/* The transition stops waiting for a callback whose owner left. */
static void
test_closed_connection_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) leaving = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (leaving, "/test/silent", HARNESS_SILENT, 0);
  g_autoptr (GError) error = NULL;
  HarnessPending pending;
  gint64 closed;

  harness_advise (leaving, path, 1, "/test/silent");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&silent->n_notes, 1, WAIT_MS);
  g_assert_true (harness_get_transitioning (h->client, path));

  closed = g_get_monotonic_time ();
  g_dbus_connection_close_sync (leaving, NULL, &error);
  g_assert_no_error (error);
  harness_wait_flag (&pending.done, 10000);
  g_assert_no_error (pending.error);
  /* Well before the 5000 ms NotifyTimeout. */
  g_assert_cmpint (pending.time_us - closed, <, 4000 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (silent->n_notes, ==, 1);
  assert_advise_count (h->client, path, 0);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 9. Advises added or removed during a transition */

static void
test_advise_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) late = harness_connect (h);
  g_autoptr (GDBusConnection) quitter = harness_connect (h);
  /* A gate: the transition stays in each phase until the test answers. */
  g_autoptr (HarnessRecorder) gate =
      harness_recorder_new_callback (h->client, "/test/gate", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) late_recorder = harness_recorder_new_signal (late, path);
  g_autoptr (HarnessRecorder) quitter_recorder = harness_recorder_new_signal (quitter, path);
  HarnessPending pending;
  guint gate_token, quitter_token;

  gate_token = harness_advise (h->client, path, 1, "/test/gate");
  quitter_token = harness_advise (quitter, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&gate->n_notes, 1, WAIT_MS);
  harness_wait_count (&quitter_recorder->n_notes, 1, WAIT_MS);
  g_assert_true (harness_get_transitioning (late, path));

  harness_advise (late, path, 3, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  unadvise_ok (quitter, path, quitter_token);
  assert_advise_count (late, path, 2);

  for (guint phase = 1; phase <= 3; phase++)
    {
      harness_wait_count (&gate->n_notes, phase, WAIT_MS);
      release_kept (gate);
    }
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  assert_transition (gate, 0, 1, ONLINE, OFFLINE, 1);
  settle (late, path);
  settle (quitter, path);
  g_assert_cmpuint (late_recorder->n_notes, ==, 0);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
  assert_note (quitter_recorder, 0, START, 2, 3, ONLINE, OFFLINE, 1);

  /* The late advise counts from the next transition on. */
  unadvise_ok (h->client, path, gate_token);
  set_state_ok (late, path, BLOCK, ONLINE);
  settle (late, path);
  settle (quitter, path);
  g_assert_cmpuint (late_recorder->n_notes, ==, 3);
  assert_transition (late_recorder, 0, 3, OFFLINE, ONLINE, 2);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
}

/* An advise removed after START, while the delay holds the transition, gets nothing more. */
static void
test_unadvise_during_delay (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) quitter = harness_connect (h);
  g_autoptr (HarnessRecorder) quitter_recorder = harness_recorder_new_signal (quitter, path);
  g_autoptr (HarnessRecorder) stayer = harness_recorder_new_signal (h->client, path);
  guint quitter_token;

  quitter_token = harness_advise (quitter, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 500);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE);
  harness_wait_count (&quitter_recorder->n_notes, 1, WAIT_MS);
  unadvise_ok (quitter, path, quitter_token);
  /* Not committed yet after the Unadvise: it came before STATECHANGE. */
  g_assert_cmpuint (harness_get_uint (quitter, path, "State"), ==, ONLINE);

  harness_wait_count (&stayer->n_notes, 3, WAIT_MS);
  settle (quitter, path);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
  assert_note (quitter_recorder, 0, START, 1, 3, ONLINE, OFFLINE, 1);
  assert_transition (stayer, 0, 2, ONLINE, OFFLINE, 1);
}

/* The transition stops waiting for a callback as soon as its advise is removed. */
static void
test_unadvise_silent_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) owner = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (owner, "/test/silent", HARNESS_SILENT, 0);
  HarnessPending pending;
  guint token;
  gint64 removed;

  token = harness_advise (owner, path, 1, "/test/silent");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&silent->n_notes, 1, WAIT_MS);
  removed = g_get_monotonic_time ();
  unadvise_ok (owner, path, token);
  harness_wait_flag (&pending.done, 10000);
  g_assert_no_error (pending.error);
  /* Well before the 5000 ms NotifyTimeout. */
  g_assert_cmpint (pending.time_us - removed, <, 4000 * G_TIME_SPAN_MILLISECOND);
  settle (owner, path);
  g_assert_cmpuint (silent->n_notes, ==, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  assert_advise_count (h->client, path, 0);
  harness_pending_clear (&pending);
}

/* 10. "Advise, then read State" is race-free. */

static void
test_advise_then_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) recorders =
      g_ptr_array_new_with_free_func ((GDestroyNotify) harness_recorder_free);

  for (guint i = 0; i < 6; i++)
    {
      GDBusConnection *connection = harness_connect (h);
      HarnessRecorder *recorder = harness_recorder_new_signal (connection, path);
      guint state = i % 2 == 0 ? OFFLINE : ONLINE;

      g_ptr_array_add (connections, connection);
      g_ptr_array_add (recorders, recorder);
      harness_advise (connection, path, 100 + i, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
      set_state_ok (h->client, path, BLOCK, state);
      harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
      assert_transition (recorder, 0, 100 + i, 3 - state, state, i + 1);
    }
  for (guint i = 0; i < recorders->len; i++)
    {
      HarnessRecorder *recorder = g_ptr_array_index (recorders, i);

      settle (recorder->connection, path);
      g_assert_cmpuint (recorder->n_notes, ==, 3 * (recorders->len - i));
    }
}

/* GetCurrentState tells the committed state no earlier than the STATECHANGE that follows
 * the commit: the reply comes on the same connection, so it must come after that Notify. */

typedef struct
{
  HarnessRecorder *gate;
  guint new_state;
  guint answered;
  guint early;
} StateProbe;

static void
on_state_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StateProbe *probe = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  guint state;

  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &state);
  g_assert_true (state == OFFLINE || state == ONLINE);
  if (state == probe->new_state && probe->gate->n_notes < 2)
    probe->early++;
  probe->answered++;
}

static void
test_get_current_state_after_commit (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) gate =
      harness_recorder_new_callback (h->client, "/test/gate", HARNESS_SILENT, 0);
  const guint n_calls = 50;

  harness_advise (h->client, path, 1, "/test/gate");
  for (guint round = 0; round < 4; round++)
    {
      StateProbe probe = { gate, round % 2 == 0 ? OFFLINE : ONLINE, 0, 0 };
      HarnessPending pending;

      harness_set_state_begin (h->client, path, BLOCK, probe.new_state, &pending);
      harness_wait_count (&gate->n_notes, 3 * round + 1, WAIT_MS);
      /* Let the commit happen, and ask at once, while it is being persisted. */
      release_kept (gate);
      for (guint i = 0; i < n_calls; i++)
        g_dbus_connection_call (h->client, OFFLINE_STATE_BUS_NAME, path,
                                OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL,
                                G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL,
                                on_state_probe_done, &probe);
      for (guint phase = 2; phase <= 3; phase++)
        {
          harness_wait_count (&gate->n_notes, 3 * round + phase, WAIT_MS);
          release_kept (gate);
        }
      harness_wait_flag (&pending.done, WAIT_MS);
      g_assert_no_error (pending.error);
      harness_pending_clear (&pending);
      harness_wait_count (&probe.answered, n_calls, WAIT_MS);
      g_assert_cmpuint (probe.early, ==, 0);
    }
}

/* 11. PropertiesChanged, in order, and ahead of the notifications that follow them. */

/* When a PropertiesChanged watch saw one change. */
typedef struct
{
  guint signal; /* which PropertiesChanged carried it */
  guint seen;   /* how many notifications the peer had by then */
} Moment;

static Moment
find_change (HarnessPropsWatch *watch, const char *change)
{
  Moment moment = { G_MAXUINT, 0 };

  for (guint i = 0; i < watch->events->len; i++)
    {
      if (!g_str_equal (g_ptr_array_index (watch->events, i), change))
        continue;
      if (moment.signal != G_MAXUINT)
        g_error ("'%s' was signalled twice", change);
      moment.signal = g_array_index (watch->signal_of, guint, i);
      moment.seen = g_array_index (watch->notes_seen, guint, i);
    }
  if (moment.signal == G_MAXUINT)
    g_error ("'%s' was never signalled", change);
  return moment;
}

/* The changes of one transition to OFFLINE, sequence 1, AdviseCount aside: Transitioning
 * true, then State and Sequence, then Transitioning false (changes that one signal carries
 * together have no order among them). Fills @moments in that order. */
static void
assert_transition_properties (HarnessPropsWatch *watch, Moment moments[4])
{
  static const char *const changes[] = {
    "Transitioning=true",
    "State=1",
    "Sequence=1",
    "Transitioning=false",
  };
  guint n_changes = 0;

  for (guint i = 0; i < watch->events->len; i++)
    if (!g_str_has_prefix (g_ptr_array_index (watch->events, i), "AdviseCount="))
      n_changes++;
  g_assert_cmpuint (n_changes, ==, G_N_ELEMENTS (changes));
  for (guint i = 0; i < G_N_ELEMENTS (changes); i++)
    moments[i] = find_change (watch, changes[i]);
  g_assert_cmpuint (moments[0].signal, <, moments[1].signal);
  g_assert_cmpuint (moments[0].signal, <, moments[2].signal);
  g_assert_cmpuint (moments[1].signal, <=, moments[3].signal);
  g_assert_cmpuint (moments[2].signal, <=, moments[3].signal);
}

static void
test_properties_changed_order (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, recorder);
  Moment moments[4];
  WatchedCall call;

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  watched_set_state (h->client, path, BLOCK, OFFLINE, recorder, watch, &call);
  /* Step 4: Transitioning becomes false, then the BLOCK caller gets its reply. */
  g_assert_true (call.ended_at_reply);
  harness_pending_clear (&call.pending);

  assert_transition_properties (watch, moments);
  /* Transitioning before START; the commit after START and before STATECHANGE; the end
   * after DONE, so in a signal of its own. */
  g_assert_cmpuint (moments[0].seen, ==, 0);
  g_assert_cmpuint (moments[1].seen, ==, 1);
  g_assert_cmpuint (moments[2].seen, ==, 1);
  g_assert_cmpuint (moments[3].seen, ==, 3);
  g_assert_cmpuint (moments[1].signal, <, moments[3].signal);
}

/* With nobody advised, an observer still sees Transitioning go true and back. */
static void
test_properties_changed_without_advises (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  Moment moments[4];

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  settle (h->client, path);
  assert_transition_properties (watch, moments);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/transitions/signal-advise", NULL, harness_fixture_setup, test_signal_advise);
  HARNESS_ADD ("/transitions/same-state", NULL, harness_fixture_setup, test_same_state);
  HARNESS_ADD ("/transitions/callback-advise", NULL, harness_fixture_setup, test_callback_advise);
  HARNESS_ADD ("/transitions/default-returns-at-start", NULL, harness_fixture_setup,
               test_default_returns_at_start);
  HARNESS_ADD ("/transitions/block-waits-for-delay", NULL, harness_fixture_setup,
               test_block_waits_for_delay);
  HARNESS_ADD ("/transitions/pending", NULL, harness_fixture_setup, test_pending);
  HARNESS_ADD ("/transitions/pending-from-handler", NULL, harness_fixture_setup,
               test_pending_from_handler);
  HARNESS_ADD ("/transitions/slow-callback", NULL, harness_fixture_setup, test_slow_callback);
  HARNESS_ADD ("/transitions/silent-callback", NULL, setup_short_timeout_and_grace,
               test_silent_callback);
  HARNESS_ADD ("/transitions/daemon-stalled", NULL, setup_short_timeout_with_log,
               test_daemon_stalled);
  HARNESS_ADD ("/transitions/failing-callback", NULL, harness_fixture_setup, test_failing_callback);
  HARNESS_ADD ("/transitions/missing-callback-object", NULL, harness_fixture_setup,
               test_missing_callback_object);
  HARNESS_ADD ("/transitions/closed-connection", NULL, harness_fixture_setup,
               test_closed_connection);
  HARNESS_ADD ("/transitions/closed-connection-during-transition", NULL, harness_fixture_setup,
               test_closed_connection_during_transition);
  HARNESS_ADD ("/transitions/advise-during-transition", NULL, harness_fixture_setup,
               test_advise_during_transition);
  HARNESS_ADD ("/transitions/unadvise-during-delay", NULL, harness_fixture_setup,
               test_unadvise_during_delay);
  HARNESS_ADD ("/transitions/unadvise-silent-during-transition", NULL, harness_fixture_setup,
               test_unadvise_silent_during_transition);
  HARNESS_ADD ("/transitions/advise-then-transition", NULL, harness_fixture_setup,
               test_advise_then_transition);
  HARNESS_ADD ("/transitions/get-current-state-after-commit", NULL, harness_fixture_setup,
               test_get_current_state_after_commit);
  HARNESS_ADD ("/transitions/properties-changed-order", NULL, harness_fixture_setup,
               test_properties_changed_order);
  HARNESS_ADD ("/transitions/properties-changed-without-advises", NULL, harness_fixture_setup,
               test_properties_changed_without_advises);

  return g_test_run ();
}
