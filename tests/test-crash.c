/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Crashes and failed writes (the OfflineMgr reference's transition, step 3; docs/daemon.md),
 * against the real daemon on a private bus:
 *
 * - the daemon is SIGKILLed at random moments of a burst of transitions, again and again on
 *   one state folder, and every restart finds a whole state file holding a committed
 *   transition, never behind what a client was told;
 * - a state write that fails (a full disk, a folder that went away): a BLOCK transition is
 *   not made and its caller hears IOError; a transition without BLOCK, whose caller was
 *   answered at its start, is made in memory, logged, and retried until it is saved, or
 *   named as lost at exit; every other change (a profile created or removed, capabilities)
 *   fails with IOError and changes nothing.
 *
 * The random moments come from one seed, printed; OFFLINE_STATE_CRASH_SEED repeats a run, and
 * OFFLINE_STATE_CRASH_ROUNDS changes the number of rounds. The test paths stay under
 * /daemon/crash/.
 */
#define _GNU_SOURCE /* prlimit () */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>

#include "harness.h"

#define DEFAULT_PATH OFFLINE_STATE_PROFILES_PATH "/default"
#define STATE_FILE   "state.ini"
#define DAMAGED      STATE_FILE ".damaged-"
#define BLOCK        MAPIOFFLINE_FLAG_BLOCK
#define OFFLINE      MAPIOFFLINE_STATE_OFFLINE
#define ONLINE       MAPIOFFLINE_STATE_ONLINE
#define IO_ERROR     "org.freedesktop.DBus.Error.IOError"

/* Only for "it did not hang": never a correctness bound. */
#define WAIT_MS 10000
/* The longest pause between two retries is 60 s; on a slow machine, a little more. */
#define RETRY_WAIT_MS 65000

#define DEFAULT_ROUNDS 40
/* A kill falls anywhere in this much of a round's burst. */
#define KILL_WINDOW_MS 250
/* A round never sends more; the kill comes long before. */
#define MAX_CALLS 100000

/* "default" starts online at sequence 0, and every transition toggles it. */
static guint
state_after (guint64 sequence)
{
  return sequence % 2 == 1 ? OFFLINE : ONLINE;
}

static const char *
note_name (guint notify_type)
{
  switch (notify_type)
    {
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START:
        return "START";
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE:
        return "STATECHANGE";
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE:
        return "DONE";
      default:
        return "nothing";
    }
}

static void
on_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static guint
get_current_state (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) reply = harness_call_ok (
      connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL);
  guint state;

  g_variant_get (reply, "(u)", &state);
  return state;
}

/* The state file, as a GKeyFile reads it */

typedef struct
{
  guint capabilities;
  guint state;
  guint64 sequence;
} Saved;

static guint64
read_number (GKeyFile *file, const char *group, const char *key, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_key_file_get_value (file, group, key, &error);
  guint64 value;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, &value, &error))
    g_error ("%s: [%s] %s: %s", path, group, key, error->message);
  return value;
}

/* Reads @profile from the state file in @dir; FALSE when there is no file. A file that is
 * there must be whole: every group and key, and @profile in it. */
static gboolean
read_saved (const char *dir, const char *profile, Saved *saved)
{
  g_autofree char *path = g_build_filename (dir, STATE_FILE, NULL);
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) groups = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return FALSE;
      g_error ("%s is not a key file: %s", path, error->message);
    }
  g_assert_cmpuint (read_number (file, "OfflineState", "Version", path), ==, 1);
  groups = g_key_file_get_groups (file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *name = NULL;

      if (!g_str_has_prefix (groups[i], "Profile "))
        continue;
      name = g_key_file_get_string (file, groups[i], "Name", &error);
      g_assert_no_error (error);
      saved->capabilities = read_number (file, groups[i], "Capabilities", path);
      saved->state = read_number (file, groups[i], "State", path);
      saved->sequence = read_number (file, groups[i], "Sequence", path);
      if (g_str_equal (name, profile))
        return TRUE;
    }
  g_error ("%s has no profile '%s'", path, profile);
}

static void
assert_saved (const char *dir, const char *profile, guint state, guint64 sequence)
{
  Saved saved;

  g_assert_true (read_saved (dir, profile, &saved));
  g_assert_cmpuint (saved.state, ==, state);
  g_assert_cmpuint (saved.sequence, ==, sequence);
}

/* What else a state folder holds: a damaged file kept aside fails the test; what is left
 * is what a write cut short left behind. */
static GStrv
list_leftovers (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = g_dir_open (dir, 0, &error);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      if (g_str_has_prefix (name, DAMAGED))
        g_error ("the daemon found a damaged state file, kept as %s/%s", dir, name);
      if (!g_str_equal (name, STATE_FILE) && !g_str_equal (name, "lock"))
        g_strv_builder_add (names, name);
    }
  return g_strv_builder_end (names);
}

static void
assert_no_leftovers (const char *dir)
{
  static const char *const none[] = { NULL };
  g_auto (GStrv) names = list_leftovers (dir);

  g_assert_cmpstrv (names, none);
}

/* 1. Killed at random moments */

typedef struct
{
  Harness *h;
  GDBusConnection *connection; /* the round's own client, with a signal advise */
  guint subscription;
  guint64 base;  /* Sequence when the round began */
  guint calls;   /* SetCurrentState calls sent */
  guint replies; /* and answered */
  gboolean answered;
  guint64 done;    /* the last DONE seen */
  guint64 changed; /* the highest STATECHANGE seen */
  guint transitions;
  HarnessNote last; /* the last notification seen before the kill */
  gboolean killed;
  GRand *flags; /* BLOCK or not, call after call */
} Burst;

static void send_next (Burst *b);

static void
on_set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Burst *b = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  b->replies++;
  /* After the kill, every call left fails, whatever it was. */
  if (b->killed)
    return;
  g_assert_no_error (error);
  b->answered = TRUE;
  send_next (b);
}

/* One transition at a time: the next call goes once the last one has replied and its
 * DONE has arrived (a non-BLOCK reply comes before, a BLOCK one after). */
static void
send_next (Burst *b)
{
  guint64 sequence = b->base + b->calls;
  guint flags;

  if (b->killed || b->calls == MAX_CALLS || b->replies < b->calls)
    return;
  if (b->calls > 0 && (!b->answered || b->done < sequence))
    return;
  flags = g_rand_boolean (b->flags) ? BLOCK : 0;
  b->answered = FALSE;
  b->calls++;
  g_dbus_connection_call (
      b->connection, OFFLINE_STATE_BUS_NAME, DEFAULT_PATH, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      "SetCurrentState",
      g_variant_new ("(uuu)", flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state_after (sequence + 1)),
      NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, WAIT_MS, NULL, on_set_state_done, b);
}

static void
on_state_changed (GVariant *parameters, gpointer user_data)
{
  Burst *b = user_data;
  HarnessNote note = harness_note_from (parameters);

  /* Only the transition of the last call can be under way. */
  g_assert_cmpuint (note.sequence, ==, b->base + b->calls);
  g_assert_cmpuint (note.mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
  g_assert_cmpuint (note.new_state, ==, state_after (note.sequence));
  g_assert_cmpuint (note.old_state, ==, state_after (note.sequence - 1));
  if (b->killed)
    return;
  b->last = note;
  if (note.notify_type == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE)
    {
      b->changed = note.sequence;
      b->transitions++;
    }
  if (note.notify_type == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE)
    b->done = note.sequence;
  send_next (b);
}

static void
on_kill (gpointer user_data)
{
  Burst *b = user_data;

  b->killed = TRUE;
  g_subprocess_send_signal (b->h->daemon, SIGKILL);
}

static void
burst_begin (Burst *b, Harness *h, guint64 base, guint round)
{
  b->h = h;
  b->base = base;
  /* A client of its own each round: a restored advise of the last one would double the
   * signals, and closing it ends that advise for good. */
  b->connection = harness_connect (h);
  b->subscription =
      harness_subscribe (b->connection, DEFAULT_PATH, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                         OFFLINE_STATE_STATE_CHANGED_SIGNAL, on_state_changed, b);
  harness_advise (b->connection, DEFAULT_PATH, round, "/");
}

static void
burst_end (Burst *b)
{
  /* The failed calls come back once the bus has seen the daemon go. */
  harness_wait_count (&b->replies, b->calls, WAIT_MS);
  g_dbus_connection_signal_unsubscribe (b->connection, b->subscription);
  g_dbus_connection_close_sync (b->connection, NULL, NULL);
  g_clear_object (&b->connection);
}

typedef struct
{
  GRand *kills; /* apart from the flags, so that a seed repeats every kill moment */
  GRand *flags;
  guint64 sequence; /* as the last daemon started with it */
  guint64 highest;
  guint transitions;
} Crashes;

/* What a restarted daemon must show: a committed transition, never one behind what a
 * client was told, never one that nobody asked for. */
static void
check_restart (Harness *h, Crashes *c, const Burst *b, gboolean found, const Saved *saved)
{
  guint64 sequence = harness_get_sequence (h->client, DEFAULT_PATH);

  g_assert_cmpuint (sequence, ==, found ? saved->sequence : 0);
  g_assert_cmpuint (sequence, >=, c->sequence);
  g_assert_cmpuint (sequence, >=, b->changed);
  g_assert_cmpuint (sequence, <=, b->base + b->calls);
  g_assert_cmpuint (harness_get_uint (h->client, DEFAULT_PATH, "State"), ==,
                    state_after (sequence));
  g_assert_cmpuint (get_current_state (h->client, DEFAULT_PATH), ==, state_after (sequence));
  g_assert_false (harness_get_transitioning (h->client, DEFAULT_PATH));
  c->sequence = sequence;
  c->highest = MAX (c->highest, sequence);
}

static void
run_round (Harness *h, Crashes *c, guint round)
{
  Burst b = { 0 };
  guint delay = g_rand_int_range (c->kills, 0, KILL_WINDOW_MS);
  gboolean found;
  Saved saved = { 0 };

  b.flags = c->flags;
  burst_begin (&b, h, c->sequence, round);
  g_timeout_add_once (delay, on_kill, &b);
  send_next (&b);
  harness_wait_flag (&b.killed, WAIT_MS + KILL_WINDOW_MS);
  harness_reap_killed_daemon (h);
  burst_end (&b);

  found = read_saved (h->state_dir, "default", &saved);
  if (found)
    {
      g_assert_cmpuint (saved.state, ==, state_after (saved.sequence));
      g_assert_cmpuint (saved.capabilities, ==, 0x3);
    }
  harness_start_daemon (h, NULL);
  /* A write cut short leaves a temporary file: the new daemon removes it as it loads. */
  assert_no_leftovers (h->state_dir);
  check_restart (h, c, &b, found, &saved);
  g_test_message ("round %u: killed after %u ms, %u calls, last seen %s %" G_GUINT64_FORMAT
                  "; restarted at sequence %" G_GUINT64_FORMAT,
                  round, delay, b.calls, note_name (b.last.notify_type), b.last.sequence,
                  c->sequence);
  c->transitions += b.transitions;
}

static guint32
crash_seed (void)
{
  const char *text = g_getenv ("OFFLINE_STATE_CRASH_SEED");

  return text != NULL ? (guint32) g_ascii_strtoull (text, NULL, 10) : (guint32) g_test_rand_int ();
}

static guint
crash_rounds (void)
{
  const char *text = g_getenv ("OFFLINE_STATE_CRASH_ROUNDS");

  return text != NULL ? (guint) g_ascii_strtoull (text, NULL, 10) : DEFAULT_ROUNDS;
}

static void
test_kill_anywhere (Harness *h, gconstpointer data)
{
  guint32 seed = crash_seed ();
  guint rounds = crash_rounds ();
  Crashes c = { 0 };

  g_test_message ("seed %" G_GUINT32_FORMAT " (OFFLINE_STATE_CRASH_SEED=%" G_GUINT32_FORMAT
                  " repeats it), %u rounds",
                  seed, seed, rounds);
  c.kills = g_rand_new_with_seed (seed);
  c.flags = g_rand_new_with_seed (seed ^ 0x5a5a5a5a);
  for (guint round = 1; round <= rounds; round++)
    run_round (h, &c, round);
  g_test_message ("%u rounds, %u transitions seen, highest sequence %" G_GUINT64_FORMAT, rounds,
                  c.transitions, c.highest);
  g_assert_cmpuint (c.transitions, >, 0);
  g_rand_free (c.kills);
  g_rand_free (c.flags);
}

/* 2. Writes that fail: the daemon's standard error, line by line */

typedef struct
{
  GDataInputStream *input;
  GCancellable *cancellable;
  GPtrArray *lines;
  gboolean reading;
  gboolean orphaned; /* freed by the read still under way */
  gboolean ended;    /* the daemon closed its standard error */
} DaemonLog;

static void
daemon_log_destroy (DaemonLog *log)
{
  g_object_unref (log->input);
  g_object_unref (log->cancellable);
  g_ptr_array_unref (log->lines);
  g_free (log);
}

static void read_next_line (DaemonLog *log);

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DaemonLog *log = user_data;
  char *line;

  line =
      g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  log->reading = FALSE;
  if (log->orphaned)
    {
      g_free (line);
      daemon_log_destroy (log);
      return;
    }
  if (line == NULL)
    {
      log->ended = TRUE;
      return;
    }
  g_test_message ("daemon: %s", line);
  g_ptr_array_add (log->lines, line);
  read_next_line (log);
}

static void
read_next_line (DaemonLog *log)
{
  log->reading = TRUE;
  g_data_input_stream_read_line_async (log->input, G_PRIORITY_DEFAULT, log->cancellable, on_line,
                                       log);
}

static DaemonLog *
daemon_log_new (GSubprocess *daemon)
{
  DaemonLog *log = g_new0 (DaemonLog, 1);

  log->input = g_data_input_stream_new (g_subprocess_get_stderr_pipe (daemon));
  log->cancellable = g_cancellable_new ();
  log->lines = g_ptr_array_new_with_free_func (g_free);
  read_next_line (log);
  return log;
}

static void
daemon_log_free (DaemonLog *log)
{
  if (!log->reading)
    {
      daemon_log_destroy (log);
      return;
    }
  log->orphaned = TRUE;
  g_cancellable_cancel (log->cancellable);
}

/* Every line the daemon wrote until it exited, as one text. */
static char *
daemon_log_wait_end (DaemonLog *log)
{
  while (!log->ended)
    g_main_context_iteration (NULL, TRUE);
  g_ptr_array_add (log->lines, NULL);
  g_ptr_array_set_size (log->lines, log->lines->len - 1);
  return g_strjoinv ("\n", (char **) log->lines->pdata);
}

/* @word in @line, not as part of a longer number or name. */
static gboolean
has_word (const char *line, const char *word)
{
  gsize length = strlen (word);

  for (const char *at = strstr (line, word); at != NULL; at = strstr (at + 1, word))
    if ((at == line || !g_ascii_isalnum (at[-1])) && !g_ascii_isalnum (at[length]))
      return TRUE;
  return FALSE;
}

static gboolean
line_matches (const char *line, const char *const *words)
{
  for (guint i = 0; words[i] != NULL; i++)
    if (!has_word (line, words[i]))
      return FALSE;
  return TRUE;
}

static void
wait_for_new_line (DaemonLog *log, guint index, guint timeout_ms, const char *waiting_for)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_once (timeout_ms, on_flag, &timed_out);

  while (index >= log->lines->len && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %u ms for the daemon to log %s", timeout_ms, waiting_for);
  g_source_remove (timeout);
}

/* Waits for a line, from line @from on, that has all of @words. */
static void
wait_for_line (DaemonLog *log, guint from, const char *const *words)
{
  g_autofree char *wanted = g_strjoinv ("', '", (GStrv) words);
  gint64 deadline = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  for (guint i = from;; i++)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      wait_for_new_line (log, i, MAX (left / G_TIME_SPAN_MILLISECOND, 1), wanted);
      if (line_matches (g_ptr_array_index (log->lines, i), words))
        return;
    }
}

/* The warning of a transition that could not be saved. */
static void
wait_for_warning (DaemonLog *log, guint from, const char *profile, guint64 sequence, int errsv)
{
  g_autofree char *number = g_strdup_printf ("%" G_GUINT64_FORMAT, sequence);
  const char *const words[] = { "WARNING", profile, number, g_strerror (errsv), NULL };

  wait_for_line (log, from, words);
}

static gboolean
holds (const char *dir, const char *profile, guint state, guint64 sequence)
{
  Saved saved;

  return read_saved (dir, profile, &saved) && saved.state == state && saved.sequence == sequence;
}

/* The daemon says that a write of the state file worked again, and the file holds
 * @profile's @state and @sequence. Lines that name the file come also before a retry and
 * when it fails: each is a moment to look, and only the file tells. */
static void
wait_for_recovery (
    DaemonLog *log, guint from, const char *dir, const char *profile, guint state, guint64 sequence)
{
  g_autofree char *path = g_build_filename (dir, STATE_FILE, NULL);
  gint64 deadline = g_get_monotonic_time () + RETRY_WAIT_MS * G_TIME_SPAN_MILLISECOND;

  for (guint i = from;; i++)
    {
      const char *line;
      gint64 left = deadline - g_get_monotonic_time ();

      wait_for_new_line (log, i, MAX (left / G_TIME_SPAN_MILLISECOND, 1), path);
      line = g_ptr_array_index (log->lines, i);
      if (strstr (line, path) != NULL && strstr (line, "WARNING") == NULL &&
          holds (dir, profile, state, sequence))
        return;
    }
}

/* 2. Writes that fail: the transitions */

typedef struct
{
  Harness h;
  DaemonLog *log;
  HarnessRecorder *recorder; /* a signal advise on "default", by h.client */
} Broken;

static void
broken_setup (Broken *b, gconstpointer data)
{
  /* The daemon inherits an ignored SIGXFSZ across exec: past its file size limit, write(2)
   * fails with EFBIG instead of killing it. */
  signal (SIGXFSZ, SIG_IGN);
  harness_setup_full (&b->h, HARNESS_STDERR_PIPE, NULL);
  b->log = daemon_log_new (b->h.daemon);
  b->recorder = harness_recorder_new_signal (b->h.client, DEFAULT_PATH);
  harness_advise (b->h.client, DEFAULT_PATH, 7, "/");
}

static void
broken_teardown (Broken *b, gconstpointer data)
{
  harness_recorder_free (b->recorder);
  harness_teardown (&b->h);
  daemon_log_free (b->log);
}

static void
set_state_ok (Broken *b, guint flags, guint state)
{
  g_autoptr (GError) error = harness_set_state (b->h.client, DEFAULT_PATH, flags, state);

  g_assert_no_error (error);
}

/* START, STATECHANGE and DONE of transition @sequence went out, with its new state. */
static void
assert_notified (Broken *b, guint64 sequence)
{
  guint first = b->recorder->n_notes;

  harness_wait_count (&b->recorder->n_notes, first + 3, WAIT_MS);
  for (guint i = 0; i < 3; i++)
    {
      const HarnessNote *note = harness_recorder_note (b->recorder, first + i);

      g_assert_cmpuint (note->notify_type, ==, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START + i);
      g_assert_cmpuint (note->client_token, ==, 7);
      g_assert_cmpuint (note->old_state, ==, state_after (sequence - 1));
      g_assert_cmpuint (note->new_state, ==, state_after (sequence));
      g_assert_cmpuint (note->sequence, ==, sequence);
    }
}

/* START and DONE of transition @sequence, and no STATECHANGE: it was not made. */
static void
assert_notified_not_made (Broken *b, guint64 sequence)
{
  guint first = b->recorder->n_notes;
  const guint types[] = { MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START,
                          MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE };

  harness_wait_count (&b->recorder->n_notes, first + 2, WAIT_MS);
  for (guint i = 0; i < 2; i++)
    {
      const HarnessNote *note = harness_recorder_note (b->recorder, first + i);

      g_assert_cmpuint (note->notify_type, ==, types[i]);
      g_assert_cmpuint (note->old_state, ==, state_after (sequence - 1));
      g_assert_cmpuint (note->new_state, ==, state_after (sequence));
      g_assert_cmpuint (note->sequence, ==, sequence);
    }
  /* Nothing more of it: the next thing this client hears comes after this reply. */
  harness_assert_profile (&b->h, "default", state_after (sequence - 1), 0x3, sequence - 1);
  g_assert_cmpuint (b->recorder->n_notes, ==, first + 2);
}

/* A BLOCK transition whose state cannot be saved: not made, and said so. */
static void
assert_refused_transition (Broken *b, guint64 sequence, int errsv)
{
  guint from = b->log->lines->len;
  g_autoptr (GError) error = NULL;

  error = harness_set_state (b->h.client, DEFAULT_PATH, BLOCK, state_after (sequence));
  harness_assert_dbus_error (error, IO_ERROR, NULL);
  if (strstr (error->message, "'default'") == NULL ||
      strstr (error->message, "could not be saved") == NULL)
    g_error ("'%s' does not say that the state of 'default' could not be saved", error->message);
  assert_notified_not_made (b, sequence);
  wait_for_warning (b->log, from, "default", sequence, errsv);
}

/* Creating, removing, and setting capabilities while nothing can be written: IOError, and
 * nothing changes. */
static void
assert_changes_refused (Broken *b, const char *existing)
{
  g_autofree char *path = harness_profile_path (existing);
  g_autoptr (GError) error = NULL;

  error = harness_call_fails (b->h.client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                              "CreateOfflineObject", g_variant_new ("(suu)", "refused", 3, ONLINE));
  harness_assert_dbus_error (error, IO_ERROR, "MAPI_E_DISK_ERROR (0x80040116): ");
  g_clear_error (&error);
  /* "default", not @existing: the file, without its long name, would fit in the limit. */
  error = harness_call_fails (b->h.client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                              "RemoveOfflineObject", g_variant_new ("(s)", "default"));
  harness_assert_dbus_error (error, IO_ERROR, "MAPI_E_DISK_ERROR (0x80040116): ");
  g_clear_error (&error);
  error = harness_call_fails (b->h.client, path, OFFLINE_STATE_EMULATION_INTERFACE,
                              "SetCapabilities", g_variant_new ("(u)", 1));
  harness_assert_dbus_error (error, IO_ERROR, "MAPI_E_DISK_ERROR (0x80040116): ");
  harness_assert_profiles (&b->h, (const char *const[]){ "default", existing, NULL });
  harness_assert_profile (&b->h, existing, ONLINE, 0x3, 0);
}

static pid_t
daemon_pid (Harness *h)
{
  return (pid_t) atoi (g_subprocess_get_identifier (h->daemon));
}

/* Without it, the daemon would die of SIGXFSZ: say so plainly rather than through a lost
 * reply. */
static void
assert_ignores_sigxfsz (Harness *h)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) daemon_pid (h));
  g_autofree char *status = NULL;
  g_autoptr (GError) error = NULL;
  const char *ignored;

  g_file_get_contents (path, &status, NULL, &error);
  g_assert_no_error (error);
  ignored = strstr (status, "\nSigIgn:");
  g_assert_nonnull (ignored);
  if ((g_ascii_strtoull (ignored + strlen ("\nSigIgn:"), NULL, 16) &
       (G_GUINT64_CONSTANT (1) << (SIGXFSZ - 1))) == 0)
    g_error ("the daemon does not ignore SIGXFSZ, which it should inherit from the test");
}

/* Sets the daemon's file size limit to @limit; returns the one it had. */
static struct rlimit
set_file_size_limit (Harness *h, const struct rlimit *limit)
{
  struct rlimit old;

  if (prlimit (daemon_pid (h), RLIMIT_FSIZE, limit, &old) != 0)
    g_error ("cannot set the daemon's file size limit: %s", g_strerror (errno));
  return old;
}

/* Lowers the daemon's file size limit to @bytes; returns the one it had. */
static struct rlimit
limit_file_size (Harness *h, rlim_t bytes)
{
  struct rlimit old = set_file_size_limit (h, NULL);
  struct rlimit limit = { .rlim_cur = bytes, .rlim_max = old.rlim_max };

  assert_ignores_sigxfsz (h);
  return set_file_size_limit (h, &limit);
}

static goffset
state_file_size (Harness *h)
{
  g_autofree char *path = g_build_filename (h->state_dir, STATE_FILE, NULL);
  GStatBuf buf;

  g_assert_cmpint (g_stat (path, &buf), ==, 0);
  return buf.st_size;
}

/* A full disk, as RLIMIT_FSIZE makes it on any file system and for root too. The limit
 * comes once the state file (made long by a long profile name) has been written, so the
 * start is untouched; from then on every write fails with EFBIG, until the limit goes and
 * a retry, with no new change, writes what was made in memory only. */
static void
test_full_disk (Broken *b, gconstpointer data)
{
  g_autofree char *name = g_strnfill (255, 'x');
  struct rlimit old;
  guint from;

  g_free (harness_create_profile (&b->h, name, 0x3, ONLINE));
  set_state_ok (b, BLOCK, OFFLINE);
  assert_notified (b, 1);
  assert_saved (b->h.state_dir, "default", OFFLINE, 1);
  old = limit_file_size (&b->h, state_file_size (&b->h) / 2);

  assert_refused_transition (b, 2, EFBIG);
  assert_changes_refused (b, name);
  /* The writes failed as a whole: the old file is still there, and nothing else. */
  assert_saved (b->h.state_dir, "default", OFFLINE, 1);
  assert_saved (b->h.state_dir, name, ONLINE, 0);
  assert_no_leftovers (b->h.state_dir);

  /* Without BLOCK the caller has its reply at the start, as ever: the transition is made in
   * memory, and saved once the disk allows. */
  from = b->log->lines->len;
  set_state_ok (b, 0, ONLINE);
  assert_notified (b, 2);
  harness_assert_profile (&b->h, "default", ONLINE, 0x3, 2);
  wait_for_warning (b->log, from, "default", 2, EFBIG);

  from = b->log->lines->len;
  set_file_size_limit (&b->h, &old);
  wait_for_recovery (b->log, from, b->h.state_dir, "default", ONLINE, 2);
  assert_saved (b->h.state_dir, name, ONLINE, 0);

  harness_restart (&b->h, NULL);
  harness_assert_profile (&b->h, "default", ONLINE, 0x3, 2);
  harness_assert_profiles (&b->h, (const char *const[]){ "default", name, NULL });
}

/* Stopped while a transition without BLOCK is in memory only: it tries again, then says what
 * was lost and exits with a non-zero status. */
static void
test_unsaved_at_exit (Broken *b, gconstpointer data)
{
  g_autofree char *name = g_strnfill (255, 'x');
  g_autofree char *lost = NULL;
  guint from;

  g_free (harness_create_profile (&b->h, name, 0x3, ONLINE));
  limit_file_size (&b->h, state_file_size (&b->h) / 2);
  from = b->log->lines->len;
  set_state_ok (b, 0, OFFLINE);
  assert_notified (b, 1);
  wait_for_warning (b->log, from, "default", 1, EFBIG);

  g_assert_cmpint (harness_stop_daemon (&b->h), ==, EXIT_FAILURE);
  lost = daemon_log_wait_end (b->log);
  if (strstr (lost, "lost: profile 'default' offline (sequence 1)") == NULL)
    g_error ("the daemon's last words do not name what was lost: %s", lost);
  assert_saved (b->h.state_dir, "default", ONLINE, 0);
  harness_start_daemon (&b->h, NULL);
  harness_assert_profile (&b->h, "default", ONLINE, 0x3, 0);
}

/* The state folder replaced by a file (ENOTDIR, whoever runs it); once it is back, the
 * next change is saved at once. */
static void
test_folder_gone (Broken *b, gconstpointer data)
{
  g_autofree char *away = g_strconcat (b->h.state_dir, ".away", NULL);
  g_autoptr (GError) error = NULL;

  set_state_ok (b, BLOCK, OFFLINE);
  assert_notified (b, 1);
  assert_saved (b->h.state_dir, "default", OFFLINE, 1);
  g_assert_cmpint (g_rename (b->h.state_dir, away), ==, 0);
  g_file_set_contents (b->h.state_dir, "not a folder\n", -1, &error);
  g_assert_no_error (error);

  assert_refused_transition (b, 2, ENOTDIR);

  g_assert_cmpint (g_unlink (b->h.state_dir), ==, 0);
  g_assert_cmpint (g_rename (away, b->h.state_dir), ==, 0);
  set_state_ok (b, BLOCK, ONLINE);
  assert_notified (b, 2);
  assert_saved (b->h.state_dir, "default", ONLINE, 2);
  assert_no_leftovers (b->h.state_dir);

  harness_restart (&b->h, NULL);
  harness_assert_profile (&b->h, "default", ONLINE, 0x3, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/daemon/crash/kill-anywhere", Harness, NULL, harness_fixture_setup,
              test_kill_anywhere, harness_fixture_teardown);
  g_test_add ("/daemon/crash/write-fails/unsaved-at-exit", Broken, NULL, broken_setup,
              test_unsaved_at_exit, broken_teardown);
  g_test_add ("/daemon/crash/write-fails/full-disk", Broken, NULL, broken_setup, test_full_disk,
              broken_teardown);
  g_test_add ("/daemon/crash/write-fails/folder-gone", Broken, NULL, broken_setup, test_folder_gone,
              broken_teardown);

  return g_test_run ();
}
