/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * OsClient with no bus: a transport of the test's own records what would be sent, and the
 * test answers (or not) as a client would. Budgets, pings, the cut-off and its grace.
 */
#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-manager.h"
#include "test-add.h"

#include <string.h>

#define TIMEOUT_MS 60
#define GRACE_MS   60
#define WAIT_MS    5000

typedef struct
{
  OsManager *manager;
  OsProfile *profile;
  GPtrArray *calls;   /* OsNote sent as Notify, not answered yet */
  GPtrArray *pings;   /* OsNote sent as Peer.Ping, not answered yet */
  GArray *signals;    /* OsNotification */
  GArray *call_log;   /* OsNotification of every Notify sent */
  const char *silent; /* the client whose calls go to @held, not answered by run_answering() */
  GPtrArray *held;
  gboolean done;    /* the BLOCK transition ended */
  GQueue unwritten; /* Written: what waits for the test to say it was written */
} Fixture;

typedef struct
{
  GSourceOnceFunc func;
  gpointer data;
  guint signals; /* signals sent when it was asked */
} Written;

static void
record_signal (gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n)
{
  Fixture *f = data;

  g_array_append_val (f->signals, *n);
}

static void
record_call (
    gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n, OsNote *note)
{
  Fixture *f = data;

  g_ptr_array_add (g_strcmp0 (client->name, f->silent) == 0 ? f->held : f->calls, note);
  g_array_append_val (f->call_log, *n);
}

static void
record_ping (gpointer data, OsClient *client, OsNote *note)
{
  Fixture *f = data;

  g_ptr_array_add (f->pings, note);
}

static void
record_when_sent (gpointer data, GSourceOnceFunc func, gpointer user_data)
{
  Fixture *f = data;
  Written *written = g_new (Written, 1);

  written->func = func;
  written->data = user_data;
  written->signals = f->signals->len;
  g_queue_push_tail (&f->unwritten, written);
}

/* The transport has written the oldest slice it was asked about. */
static void
one_written (Fixture *f)
{
  g_autofree Written *written = g_queue_pop_head (&f->unwritten);

  g_assert_nonnull (written);
  written->func (written->data);
}

static const OsTransport transport = { record_signal, record_call, record_ping, record_when_sent };

static void
setup_with (Fixture *f, const OsLimits *limits)
{
  f->manager = os_manager_new (limits, NULL);
  os_manager_load (f->manager);
  f->profile = os_manager_lookup (f->manager, OFFLINE_STATE_DEFAULT_PROFILE);
  f->calls = g_ptr_array_new ();
  f->pings = g_ptr_array_new ();
  f->held = g_ptr_array_new ();
  f->signals = g_array_new (FALSE, FALSE, sizeof (OsNotification));
  f->call_log = g_array_new (FALSE, FALSE, sizeof (OsNotification));
  os_manager_set_transport (f->manager, &transport, f);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const OsLimits limits = {
    .notify_timeout_ms = TIMEOUT_MS,
    .cut_off_grace_ms = GRACE_MS,
    .max_notify_calls_per_connection = 2,
    .max_notify_calls_per_user = 3,
    .max_queued_per_connection = 16,
    .max_advises_per_user = 5,
    .max_path_bytes_per_connection = 64,
  };

  setup_with (f, &limits);
}

static void
answer_all (GPtrArray *notes, OsAnswer answer)
{
  while (notes->len > 0)
    os_note_answered (g_ptr_array_steal_index (notes, 0), answer, "com.example.Error: no");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  /* Whatever is still out is lost, as when the bus goes. */
  answer_all (f->calls, OS_ANSWER_LOST);
  answer_all (f->pings, OS_ANSWER_LOST);
  answer_all (f->held, OS_ANSWER_LOST);
  while (os_profile_get_transitioning (f->profile) || f->unwritten.length > 0)
    {
      if (f->unwritten.length > 0)
        one_written (f);
      else
        g_main_context_iteration (NULL, TRUE);
    }
  g_clear_object (&f->manager);
  g_ptr_array_unref (f->calls);
  g_ptr_array_unref (f->pings);
  g_ptr_array_unref (f->held);
  g_array_unref (f->signals);
  g_array_unref (f->call_log);
}

static guint
advise (Fixture *f, const char *owner, guint uid, const char *callback)
{
  g_autoptr (GError) error = NULL;
  guint token = os_profile_advise (f->profile, owner, uid, 0, 7, 0, callback, 1, 3, &error);

  g_assert_no_error (error);
  return token;
}

static void
set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (os_profile_set_state_finish (OS_PROFILE (source), result, NULL));
  f->done = TRUE;
}

static void
start_transition (Fixture *f)
{
  guint state = os_profile_get_state (f->profile) == MAPIOFFLINE_STATE_ONLINE
                    ? MAPIOFFLINE_STATE_OFFLINE
                    : MAPIOFFLINE_STATE_ONLINE;

  f->done = FALSE;
  os_profile_set_state_async (f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK,
                              state, set_state_done, f);
}

static void
iterate_until (const gboolean *flag)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (!*flag)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
iterate_until_advises (Fixture *f, guint count)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (os_profile_get_advise_count (f->profile) != count)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Answers each Notify as it comes, until the transition is over. */
static void
run_answering (Fixture *f)
{
  gint64 end = g_get_monotonic_time () + WAIT_MS * G_TIME_SPAN_MILLISECOND;

  while (!f->done)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      if (f->calls->len > 0)
        answer_all (f->calls, OS_ANSWER_TAKEN);
      else
        g_main_context_iteration (NULL, TRUE);
    }
}

/* Five callback advises on one connection: at most two Notify calls at once; each answer
 * lets the next go, and every notification arrives, in order. */
static void
test_calls_per_connection (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *path = g_strdup_printf ("/c%u", i);

      advise (f, ":1.1", 1000, path);
    }
  start_transition (f);
  g_assert_cmpuint (f->calls->len, ==, 2);
  os_note_answered (g_ptr_array_steal_index (f->calls, 0), OS_ANSWER_TAKEN, NULL);
  g_assert_cmpuint (f->calls->len, ==, 2);
  run_answering (f);
  g_assert_cmpuint (f->call_log->len, ==, 12);
  for (guint i = 0; i < f->call_log->len; i++)
    g_assert_cmpuint (g_array_index (f->call_log, OsNotification, i).notify_type, ==, 1 + i / 4);
}

/* Two connections of one user share its three calls; a third user's connection has its own. */
static void
test_calls_per_user (Fixture *f, gconstpointer data)
{
  advise (f, ":1.1", 1000, "/a");
  advise (f, ":1.1", 1000, "/b");
  advise (f, ":1.2", 1000, "/a");
  advise (f, ":1.2", 1000, "/b");
  advise (f, ":1.3", 2000, "/a");
  start_transition (f);
  /* :1.1 two, :1.2 one (the user's third), :1.3 its own. */
  g_assert_cmpuint (f->calls->len, ==, 4);
  run_answering (f);
  g_assert_cmpuint (f->call_log->len, ==, 15);
}

/* A client that never answers costs one time-out, is cut off, hears nothing more, holds
 * up no later transition, and loses its advises after the grace. */
static void
test_cut_off (Fixture *f, gconstpointer data)
{
  gint64 start;

  f->silent = ":1.1";
  advise (f, ":1.1", 1000, "/stopped");
  advise (f, ":1.2", 2000, "/prompt");
  start = g_get_monotonic_time ();
  start_transition (f);
  run_answering (f);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, TIMEOUT_MS * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (f->held->len, ==, 1);
  g_assert_cmpuint (f->call_log->len, ==, 4); /* START to both, then the prompt one's two */

  /* Nothing waits for it now, and it hears nothing. */
  start = g_get_monotonic_time ();
  start_transition (f);
  run_answering (f);
  g_assert_cmpint (g_get_monotonic_time () - start, <, TIMEOUT_MS * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (f->call_log->len, ==, 7);
  g_assert_cmpuint (f->held->len, ==, 1);
  iterate_until_advises (f, 1);
}

/* A client that answers late, within the grace, is taken back. */
static void
test_forgiven (Fixture *f, gconstpointer data)
{
  f->silent = ":1.1";
  advise (f, ":1.1", 1000, "/late");
  start_transition (f);
  run_answering (f);
  g_assert_cmpuint (f->held->len, ==, 1);
  answer_all (f->held, OS_ANSWER_TAKEN);
  f->silent = NULL;
  start_transition (f);
  run_answering (f);
  g_assert_cmpuint (f->call_log->len, ==, 4);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
}

/* Signals go at once; a ping follows once an eighth of the queue's budget is unconfirmed;
 * past the budget they wait for its answer, and a ping never answered cuts the client
 * off. */
static void
test_signals_and_pings (Fixture *f, gconstpointer data)
{
  advise (f, ":1.1", 1000, NULL);
  advise (f, ":1.1", 1000, NULL);
  start_transition (f);
  iterate_until (&f->done);
  g_assert_cmpuint (f->signals->len, ==, 6);
  /* 16 / 8 = 2 signals: a ping went after them, and no other until it is answered; its
   * answer confirms those 2, and a ping goes after the 4 sent since. */
  g_assert_cmpuint (f->pings->len, ==, 1);
  os_note_answered (g_ptr_array_steal_index (f->pings, 0), OS_ANSWER_TAKEN, NULL);
  g_assert_cmpuint (f->pings->len, ==, 1);
  /* Unanswered now: 4 + 12 more make the 16 the connection may have unconfirmed; the next
   * ones wait, then the ping's time-out cuts the client off. */
  for (guint i = 0; i < 3; i++)
    {
      start_transition (f);
      iterate_until (&f->done);
    }
  g_assert_cmpuint (f->signals->len, ==, 2 + 16);
  iterate_until_advises (f, 0);
}

/* Advises of one user, bytes of one connection's paths. */
static void
test_advise_budgets (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *long_path = g_strnfill (64, 'x');

  long_path[0] = '/';
  for (guint i = 0; i < 5; i++)
    advise (f, i < 3 ? ":1.1" : ":1.2", 1000, NULL);
  g_assert_cmpuint (os_profile_advise (f->profile, ":1.3", 1000, 0, 7, 0, NULL, 1, 3, &error), ==,
                    0);
  g_assert_error (error, OS_ERROR, OS_ERROR_LIMITS_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "--max-advises-per-user"));
  g_clear_error (&error);
  /* Another user has its own. */
  advise (f, ":1.4", 2000, "/a");
  g_assert_cmpuint (os_profile_advise (f->profile, ":1.4", 2000, 0, 7, 0, long_path, 1, 3, &error),
                    ==, 0);
  g_assert_error (error, OS_ERROR, OS_ERROR_LIMITS_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "--max-path-bytes-per-connection"));
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 6);
}

/* The bus refused a Notify: it goes once more; refused again, it is lost, and the advise
 * stays. The client refusing it itself is the callback's failure: the advise goes. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  advise (f, ":1.1", 1000, "/a");
  advise (f, ":1.2", 2000, "/b");
  start_transition (f);
  g_assert_cmpuint (f->calls->len, ==, 2);
  os_note_answered (g_ptr_array_steal_index (f->calls, 0), OS_ANSWER_REFUSED, NULL);
  os_note_answered (g_ptr_array_steal_index (f->calls, 0), OS_ANSWER_FAILED,
                    "org.freedesktop.DBus.Error.LimitsExceeded: from the client");
  g_assert_cmpuint (f->calls->len, ==, 1);
  os_note_answered (g_ptr_array_steal_index (f->calls, 0), OS_ANSWER_REFUSED, NULL);
  run_answering (f);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
  g_assert_cmpuint (f->call_log->len, ==, 5); /* START ×3 (one again), STATECHANGE, DONE */
}

/* A phase to many subscribers goes out a slice at a time, from idles, while at most two
 * slices wait to be written: other clients' calls are served between slices. */
static void
test_fan_out_in_slices (Fixture *f, gconstpointer data)
{
  const OsLimits limits = { .notify_timeout_ms = TIMEOUT_MS };
  guint waits = 0;

  fixture_tear_down (f, NULL);
  setup_with (f, &limits);
  for (guint i = 0; i < 600; i++)
    {
      g_autofree char *owner = g_strdup_printf (":1.%u", 1 + i % 3);

      advise (f, owner, 1000, NULL);
    }
  start_transition (f);
  /* The first slice goes at once; the second from an idle. */
  g_assert_cmpuint (f->signals->len, ==, 256);
  g_assert_cmpuint (f->unwritten.length, ==, 1);
  while (!f->done)
    {
      Written *oldest;

      /* Everything that can go out without the transport goes. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (f->done)
        break;
      if (f->unwritten.length == 0)
        {
          g_main_context_iteration (NULL, TRUE);
          continue;
        }
      /* Two slices unwritten at most: nothing more until the oldest is. */
      g_assert_cmpuint (f->unwritten.length, <=, 2);
      oldest = g_queue_peek_head (&f->unwritten);
      g_assert_cmpuint (f->signals->len - oldest->signals, <=, 256 + 88);
      waits++;
      one_written (f);
    }
  g_assert_cmpuint (f->signals->len, ==, 3 * 600);
  /* 600 = 256 + 256 + 88: two slices of each phase waited to be written. */
  g_assert_cmpuint (waits, >=, 3);
  for (guint i = 0; i < f->signals->len; i++)
    g_assert_cmpuint (g_array_index (f->signals, OsNotification, i).notify_type, ==, 1 + i / 600);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  FIXTURE_ADD ("/core/clients/calls-per-connection", NULL, test_calls_per_connection);
  FIXTURE_ADD ("/core/clients/calls-per-user", NULL, test_calls_per_user);
  FIXTURE_ADD ("/core/clients/cut-off", NULL, test_cut_off);
  FIXTURE_ADD ("/core/clients/forgiven", NULL, test_forgiven);
  FIXTURE_ADD ("/core/clients/signals-and-pings", NULL, test_signals_and_pings);
  FIXTURE_ADD ("/core/clients/fan-out-in-slices", NULL, test_fan_out_in_slices);
  FIXTURE_ADD ("/core/clients/advise-budgets", NULL, test_advise_budgets);
  FIXTURE_ADD ("/core/clients/refusals", NULL, test_refusals);
  return g_test_run ();
}
