/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Hostile and unlucky clients of the real daemon on a private bus: one client floods Advise,
 * SetCurrentState, Unadvise or GetCurrentState while a calm client's calls, or transitions,
 * keep being answered; callbacks that answer late, never, with an error, or whose owner
 * leaves while the daemon waits for them; more callbacks at once than the bus lets one
 * connection await. Malformed input is in test-malformed.c. Every case prints what it
 * measured.
 */
#include <string.h>

#include "hostile-clients.h"

/* The private bus (GTestDBus runs dbus-daemon with its built-in limits) refuses a caller's
 * 129th pending call: a flood keeps fewer in flight, or the bus would answer for the daemon. */
#define FLOOD_WINDOW     60 /* under --max-calls-per-connection's default */
#define FLOOD_TIMEOUT_MS 60000
/* Liveness only: a calm client's call is answered within this, whatever the flood. */
#define LIVENESS_MS 2000

static void
setup_per_connection_limit (Harness *h, gconstpointer data)
{
  setup_with (h, "--max-advises-per-connection=50");
}

static void
setup_total_limit (Harness *h, gconstpointer data)
{
  setup_with (h, "--max-advises=100");
}

/* GTestDBus's bus has dbus-daemon's built-in limit of 128 calls awaiting replies, as the
 * system bus: the daemon gets the system bus's budgets for them. */
static void
setup_notify_100_system_budgets (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=100",
                                      "--max-notify-calls-per-connection=16",
                                      "--max-notify-calls-per-user=32", "--max-notify-calls=96",
                                      NULL };

  harness_setup (h, args);
}

static void
setup_short_timeout (Harness *h, gconstpointer data)
{
  setup_with (h, "--notify-timeout=300");
}

/* Leaving the bus */

/* A calm client: calls one after the other from its own thread, timing each. */

typedef struct
{
  GDBusConnection *connection;
  const char *path;
  guint n_calls;
  guint advise_every; /* every n-th call is an Advise; 0: only GetCurrentState */
  ProbeLatencies *latencies;
  ProbeTally *tally;
  GArray *states; /* guint: the answers of GetCurrentState */
  GArray *tokens; /* guint: the answers of Advise */
  GThread *thread;
  gint done;
} Calm;

static gboolean
calm_advises (Calm *calm, guint index)
{
  return calm->advise_every != 0 && index % calm->advise_every == calm->advise_every - 1;
}

static gpointer
calm_run (gpointer data)
{
  Calm *calm = data;

  for (guint i = 0; i < calm->n_calls; i++)
    {
      gboolean advise = calm_advises (calm, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply = NULL;
      gint64 start = g_get_monotonic_time ();
      guint value;

      reply = harness_call (calm->connection, calm->path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                            advise ? "Advise" : "GetCurrentState",
                            advise ? g_variant_new ("(uuuouu)", 0, 1000 + i, 0, "/", 1, 3) : NULL,
                            &error);
      probe_latencies_add (calm->latencies, g_get_monotonic_time () - start);
      probe_tally_add (calm->tally, error);
      if (reply == NULL)
        continue;
      g_variant_get (reply, "(u)", &value);
      g_array_append_val (advise ? calm->tokens : calm->states, value);
    }
  g_atomic_int_set (&calm->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

static void
calm_init (Calm *calm, GDBusConnection *connection, const char *path, guint n, guint every)
{
  memset (calm, 0, sizeof *calm);
  calm->connection = connection;
  calm->path = path;
  calm->n_calls = n;
  calm->advise_every = every;
  calm->latencies = probe_latencies_new ();
  calm->tally = probe_tally_new ();
  calm->states = g_array_new (FALSE, FALSE, sizeof (guint));
  calm->tokens = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
calm_clear (Calm *calm)
{
  g_clear_pointer (&calm->latencies, probe_latencies_free);
  g_clear_pointer (&calm->tally, probe_tally_free);
  g_clear_pointer (&calm->states, g_array_unref);
  g_clear_pointer (&calm->tokens, g_array_unref);
}

/* Every call answered, each within the liveness bound, and the figures printed. */
static void
calm_assert_served (Calm *calm, const char *label)
{
  probe_latencies_message (label, calm->latencies);
  probe_tally_message (label, calm->tally);
  g_assert_cmpuint (probe_tally_get (calm->tally, "ok"), ==, calm->n_calls);
  g_assert_cmpint (probe_latencies_max (calm->latencies), <, LIVENESS_MS * G_TIME_SPAN_MILLISECOND);
}

/* A flood: @min_calls calls or more from one connection, FLOOD_WINDOW in flight. */

typedef GVariant *(*FloodParameters) (guint index, gpointer user_data);

typedef struct
{
  GDBusConnection *connection;
  const char *path;
  const char *method;
  FloodParameters parameters;
  gpointer user_data;
  guint min_calls;
  guint sent;
  guint answered;
  ProbeTally *tally;
  ProbeLatencies *latencies;
  GArray *tokens; /* guint: the "(u)" answers */
  Calm *calm;     /* the flood goes on until it is done */
} Flood;

static void flood_refill (Flood *flood);

typedef struct
{
  Flood *flood;
  gint64 start;
} FloodCall;

static void
on_flood_reply (GObject *source, GAsyncResult *result, gpointer user_data)
{
  FloodCall *call = user_data;
  Flood *flood = call->flood;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (flood->connection, result, &error);

  probe_latencies_add (flood->latencies, g_get_monotonic_time () - call->start);
  probe_tally_add (flood->tally, error);
  if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(u)")))
    {
      guint token;

      g_variant_get (reply, "(u)", &token);
      g_array_append_val (flood->tokens, token);
    }
  flood->answered++;
  g_free (call);
  flood_refill (flood);
}

static gboolean
flood_wants_more (Flood *flood)
{
  return flood->sent < flood->min_calls ||
         (flood->calm != NULL && !g_atomic_int_get (&flood->calm->done));
}

static void
flood_refill (Flood *flood)
{
  while (flood->sent - flood->answered < FLOOD_WINDOW && flood_wants_more (flood))
    {
      FloodCall *call = g_new0 (FloodCall, 1);

      call->flood = flood;
      call->start = g_get_monotonic_time ();
      g_dbus_connection_call (flood->connection, OFFLINE_STATE_BUS_NAME, flood->path,
                              OFFLINE_STATE_OFFLINE_MGR_INTERFACE, flood->method,
                              flood->parameters (flood->sent, flood->user_data), NULL,
                              G_DBUS_CALL_FLAGS_NO_AUTO_START, FLOOD_TIMEOUT_MS, NULL,
                              on_flood_reply, call);
      flood->sent++;
    }
}

static void
flood_init (Flood *flood,
            GDBusConnection *connection,
            const char *path,
            const char *method,
            FloodParameters parameters,
            gpointer user_data,
            guint min_calls)
{
  memset (flood, 0, sizeof *flood);
  flood->connection = connection;
  flood->path = path;
  flood->method = method;
  flood->parameters = parameters;
  flood->user_data = user_data;
  flood->min_calls = min_calls;
  flood->tally = probe_tally_new ();
  flood->latencies = probe_latencies_new ();
  flood->tokens = g_array_new (FALSE, FALSE, sizeof (guint));
}

static void
flood_clear (Flood *flood)
{
  g_clear_pointer (&flood->tally, probe_tally_free);
  g_clear_pointer (&flood->latencies, probe_latencies_free);
  g_clear_pointer (&flood->tokens, g_array_unref);
}

static gboolean
floods_drained (Flood **floods, guint n_floods)
{
  for (guint i = 0; i < n_floods; i++)
    if (floods[i]->answered < floods[i]->sent || flood_wants_more (floods[i]))
      return FALSE;
  return TRUE;
}

/* Starts the floods, lets @calm run its calls meanwhile in its own thread, and returns
 * once every call of both has been answered. */
static void
run_floods (Harness *h, Flood **floods, guint n_floods, Calm *calm)
{
  gint64 deadline = g_get_monotonic_time () + FLOOD_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  gint64 start = g_get_monotonic_time ();
  ProbeFigures before, after;

  probe_read (h->daemon, &before);

  for (guint i = 0; i < n_floods; i++)
    {
      floods[i]->calm = calm;
      flood_refill (floods[i]);
    }
  calm->thread = g_thread_new ("calm-client", calm_run, calm);
  while (!floods_drained (floods, n_floods) || !g_atomic_int_get (&calm->done))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("the flood was not answered within %d ms", FLOOD_TIMEOUT_MS);
      g_main_context_iteration (NULL, TRUE);
    }
  g_thread_join (g_steal_pointer (&calm->thread));
  for (guint i = 0; i < n_floods; i++)
    {
      g_autofree char *label = g_strdup_printf ("flooder %u: %s", i + 1, floods[i]->method);

      probe_tally_message (label, floods[i]->tally);
      probe_latencies_message (label, floods[i]->latencies);
      g_assert_cmpuint (probe_tally_total (floods[i]->tally), ==, floods[i]->sent);
    }
  g_test_message ("flood over in %.0f ms", (g_get_monotonic_time () - start) / 1000.0);
  probe_read (h->daemon, &after);
  probe_message ("before the flood", &before);
  probe_message ("after it", &after);
}

static void
assert_distinct_tokens (GArray *a, GArray *b)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  GArray *arrays[] = { a, b };

  for (guint k = 0; k < G_N_ELEMENTS (arrays); k++)
    for (guint i = 0; arrays[k] != NULL && i < arrays[k]->len; i++)
      {
        guint token = g_array_index (arrays[k], guint, i);

        g_assert_cmpuint (token, !=, 0);
        g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (token)));
        g_hash_table_add (seen, GUINT_TO_POINTER (token));
      }
}

static void
assert_all_equal (GArray *values, guint expected)
{
  for (guint i = 0; i < values->len; i++)
    g_assert_cmpuint (g_array_index (values, guint, i), ==, expected);
}

static void
assert_limit_named (GDBusConnection *connection, const char *path, const char *limit)
{
  g_autoptr (GError) error =
      harness_call_error (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
                          g_variant_new ("(uuuouu)", 0, 1, 0, "/", 1, 3));

  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, NULL);
  if (strstr (error->message, limit) == NULL)
    g_error ("'%s' does not name %s", error->message, limit);
}

/* 1. Floods */

static GVariant *
signal_advise_parameters (guint index, gpointer user_data)
{
  return g_variant_new ("(uuuouu)", 0, index, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3);
}

static void
test_flood_advise_per_connection (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) flooder = harness_connect (h);
  g_autoptr (GDBusConnection) calm_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) flooder_notes = harness_recorder_new_signal (flooder, path);
  g_autoptr (HarnessRecorder) calm_notes = harness_recorder_new_signal (calm_connection, path);
  Flood flood;
  Flood *floods[] = { &flood };
  Calm calm;

  flood_init (&flood, flooder, path, "Advise", signal_advise_parameters, NULL, 1000);
  calm_init (&calm, calm_connection, path, 200, 5);
  run_floods (h, floods, 1, &calm);
  calm_assert_served (&calm, "calm client during an Advise flood");

  /* Exactly the limit, every other call refused by name, and the calm client untouched. */
  g_assert_cmpuint (probe_tally_get (flood.tally, "ok"), ==, 50);
  g_assert_cmpuint (probe_tally_get (flood.tally, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED), ==,
                    flood.sent - 50);
  assert_limit_named (flooder, path, "--max-advises-per-connection");
  g_assert_cmpuint (calm.tokens->len, ==, 40);
  assert_all_equal (calm.states, ONLINE);
  assert_distinct_tokens (flood.tokens, calm.tokens);
  assert_advise_count (h->client, path, 90);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (flooder, path);
  settle (calm_connection, path);
  g_assert_cmpuint (flooder_notes->n_notes, ==, 50 * 3);
  g_assert_cmpuint (calm_notes->n_notes, ==, 40 * 3);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  flood_clear (&flood);
  calm_clear (&calm);
}

static void
test_flood_advise_total (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) first = harness_connect (h);
  g_autoptr (GDBusConnection) second = harness_connect (h);
  g_autoptr (GDBusConnection) calm_connection = harness_connect (h);
  Flood flood_a, flood_b;
  Flood *floods[] = { &flood_a, &flood_b };
  guint granted_a, granted_b;
  Calm calm;

  for (guint i = 0; i < 10; i++)
    harness_advise (calm_connection, path, i, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  flood_init (&flood_a, first, path, "Advise", signal_advise_parameters, NULL, 300);
  flood_init (&flood_b, second, path, "Advise", signal_advise_parameters, NULL, 300);
  calm_init (&calm, calm_connection, path, 200, 0);
  run_floods (h, floods, 2, &calm);
  calm_assert_served (&calm, "calm client during two Advise floods");

  granted_a = probe_tally_get (flood_a.tally, "ok");
  granted_b = probe_tally_get (flood_b.tally, "ok");
  g_test_message ("granted: %u and %u of the 90 left", granted_a, granted_b);
  g_assert_cmpuint (granted_a + granted_b, ==, 90);
  g_assert_cmpuint (probe_tally_get (flood_a.tally, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED), ==,
                    flood_a.sent - granted_a);
  g_assert_cmpuint (probe_tally_get (flood_b.tally, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED), ==,
                    flood_b.sent - granted_b);
  assert_distinct_tokens (flood_a.tokens, flood_b.tokens);
  assert_advise_count (h->client, path, 100);
  assert_limit_named (calm_connection, path, "--max-advises allows");

  /* A flooder that leaves gives its share back. */
  close_and_wait_gone (h, first);
  assert_advise_count (h->client, path, 100 - granted_a);
  harness_advise (calm_connection, path, 99, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 101 - granted_a);
  flood_clear (&flood_a);
  flood_clear (&flood_b);
  calm_clear (&calm);
}

/* Valid and invalid SetCurrentState, while a transition is held at START. */
static GVariant *
set_state_parameters (guint index, gpointer user_data)
{
  if (index % 5 == 4)
    return g_variant_new ("(uuu)", 0, 0x7, OFFLINE);
  return g_variant_new ("(uuu)", index % 2 ? BLOCK : 0, 3, index % 4 < 2 ? OFFLINE : ONLINE);
}

static guint
count_invalid_set_states (guint sent)
{
  guint n = 0;

  for (guint i = 0; i < sent; i++)
    n += i % 5 == 4;
  return n;
}

/* Answers the Notify calls that a silent recorder kept, so that a held transition goes on. */
static void
release_kept (HarnessRecorder *gate)
{
  while (gate->kept->len > 0)
    g_dbus_method_invocation_return_value (g_ptr_array_steal_index (gate->kept, 0), NULL);
}

static void
release_transition (HarnessRecorder *gate)
{
  for (guint phase = 1; phase <= 3; phase++)
    {
      harness_wait_count (&gate->n_notes, phase, WAIT_MS);
      release_kept (gate);
    }
}

static void
test_flood_set_state (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) flooder = harness_connect (h);
  g_autoptr (GDBusConnection) calm_connection = harness_connect (h);
  g_autoptr (GDBusConnection) gate_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) gate =
      harness_recorder_new_callback (gate_connection, "/gate", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) calm_notes = harness_recorder_new_signal (calm_connection, path);
  guint gate_token, invalid;
  Flood flood;
  Flood *floods[] = { &flood };
  Calm calm;

  /* The gate holds the transition at START for as long as the flood lasts. */
  gate_token = harness_advise (gate_connection, path, 1, "/gate");
  harness_advise (calm_connection, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, 0, OFFLINE);
  harness_wait_count (&gate->n_notes, 1, WAIT_MS);

  flood_init (&flood, flooder, path, "SetCurrentState", set_state_parameters, NULL, 1000);
  calm_init (&calm, calm_connection, path, 200, 10);
  run_floods (h, floods, 1, &calm);
  calm_assert_served (&calm, "calm client during a SetCurrentState flood");

  invalid = count_invalid_set_states (flood.sent);
  g_assert_cmpuint (probe_tally_get (flood.tally, OFFLINE_STATE_ERROR_INVALID_ARGS), ==, invalid);
  g_assert_cmpuint (probe_tally_get (flood.tally, OFFLINE_STATE_ERROR_PENDING), ==,
                    flood.sent - invalid);
  /* Nothing was committed while the gate held: the calm client read the old state. */
  assert_all_equal (calm.states, ONLINE);
  assert_object (h->client, path, ONLINE, 0, TRUE);

  release_transition (gate);
  assert_object (gate_connection, path, OFFLINE, 1, FALSE);
  settle (calm_connection, path);
  /* The advises made during the transition are notified from the next one only. */
  g_assert_cmpuint (calm_notes->n_notes, ==, 3);
  assert_transition (calm_notes, 0, 2, ONLINE, OFFLINE, 1);
  assert_advise_count (h->client, path, 2 + 20);

  unadvise_ok (gate_connection, path, gate_token);
  set_state_ok (flooder, path, BLOCK, ONLINE);
  settle (calm_connection, path);
  g_assert_cmpuint (calm_notes->n_notes, ==, 3 + 21 * 3);
  assert_object (h->client, path, ONLINE, 2, FALSE);
  flood_clear (&flood);
  calm_clear (&calm);
}

/* Unadvise of the flooder's own tokens, the calm client's, another object's, unknown ones,
 * and with bad flags. */
typedef struct
{
  GArray *own;     /* the flooder's, on this object */
  GArray *foreign; /* the calm client's */
  GArray *other;   /* the flooder's, on the other object */
} UnadviseTargets;

static GVariant *
unadvise_parameters (guint index, gpointer user_data)
{
  UnadviseTargets *targets = user_data;
  guint round = index / 4;

  switch (index % 4)
    {
      case 0:
        return g_variant_new ("(uu)", 0, g_array_index (targets->own, guint, round % 40));
      case 1:
        return g_variant_new ("(uu)", 0, g_array_index (targets->foreign, guint, round % 20));
      case 2:
        return g_variant_new ("(uu)", 0,
                              round % 2 ? g_array_index (targets->other, guint, round % 10)
                                        : 0x40000000u + index);
      default:
        return g_variant_new ("(uu)", 1, g_array_index (targets->own, guint, round % 40));
    }
}

static GArray *
advise_many (GDBusConnection *connection, const char *path, guint n)
{
  GArray *tokens = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n; i++)
    {
      guint token = harness_advise (connection, path, i, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

      g_array_append_val (tokens, token);
    }
  return tokens;
}

static void
test_flood_unadvise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *other_path = harness_create_profile (h, "other", 3, ONLINE);
  g_autoptr (GDBusConnection) flooder = harness_connect (h);
  g_autoptr (GDBusConnection) calm_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) flooder_notes = harness_recorder_new_signal (flooder, path);
  g_autoptr (HarnessRecorder) calm_notes = harness_recorder_new_signal (calm_connection, path);
  UnadviseTargets targets;
  guint bad_flags;
  Flood flood;
  Flood *floods[] = { &flood };
  Calm calm;

  targets.own = advise_many (flooder, path, 40);
  targets.other = advise_many (flooder, other_path, 10);
  targets.foreign = advise_many (calm_connection, path, 20);
  flood_init (&flood, flooder, path, "Unadvise", unadvise_parameters, &targets, 1000);
  calm_init (&calm, calm_connection, path, 200, 10);
  run_floods (h, floods, 1, &calm);
  calm_assert_served (&calm, "calm client during an Unadvise flood");

  /* As MAPI wants, Unadvise of a token that is not the caller's here succeeds and does
   * nothing; only the flags are refused. */
  bad_flags = flood.sent / 4;
  g_assert_cmpuint (probe_tally_get (flood.tally, OFFLINE_STATE_ERROR_INVALID_ARGS), ==, bad_flags);
  g_assert_cmpuint (probe_tally_get (flood.tally, "ok"), ==, flood.sent - bad_flags);
  assert_advise_count (h->client, path, 20 + 20);
  assert_advise_count (h->client, other_path, 10);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (flooder, path);
  settle (calm_connection, path);
  g_assert_cmpuint (flooder_notes->n_notes, ==, 0);
  g_assert_cmpuint (calm_notes->n_notes, ==, 40 * 3);
  g_array_unref (targets.own);
  g_array_unref (targets.other);
  g_array_unref (targets.foreign);
  flood_clear (&flood);
  calm_clear (&calm);
}

/* 2. Callbacks that answer late, never, wrongly, or whose owner leaves */

typedef struct
{
  GDBusConnection *connections[8];
  HarnessRecorder *steady; /* signal delivery */
  HarnessRecorder *prompt;
  HarnessRecorder *slow;   /* answers within the time-out */
  HarnessRecorder *late;   /* answers after it */
  HarnessRecorder *silent; /* never answers */
  HarnessRecorder *failing;
  HarnessRecorder *leaving; /* its owner leaves once START has come */
} Unlucky;

static void
unlucky_setup (Harness *h, Unlucky *u, const char *path, guint slow_ms, guint late_ms)
{
  for (guint i = 0; i < G_N_ELEMENTS (u->connections); i++)
    u->connections[i] = harness_connect (h);
  u->steady = harness_recorder_new_signal (u->connections[0], path);
  u->prompt = harness_recorder_new_callback (u->connections[1], "/cb", HARNESS_REPLY, 0);
  u->slow = harness_recorder_new_callback (u->connections[2], "/cb", HARNESS_REPLY_LATER, slow_ms);
  u->late = harness_recorder_new_callback (u->connections[3], "/cb", HARNESS_REPLY_LATER, late_ms);
  u->silent = harness_recorder_new_callback (u->connections[4], "/cb", HARNESS_SILENT, 0);
  u->failing = harness_recorder_new_callback (u->connections[5], "/cb", HARNESS_FAIL, 0);
  u->leaving = harness_recorder_new_callback (u->connections[6], "/cb", HARNESS_SILENT, 0);
  export_wrong_notify (u->connections[7], "/cb");
  harness_advise (u->connections[0], path, 10, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  for (guint i = 1; i < G_N_ELEMENTS (u->connections); i++)
    harness_advise (u->connections[i], path, 10 + i, "/cb");
}

static void
unlucky_clear (Harness *h, Unlucky *u)
{
  HarnessRecorder *recorders[] = { u->steady, u->prompt,  u->slow,   u->late,
                                   u->silent, u->failing, u->leaving };

  for (guint i = 0; i < G_N_ELEMENTS (recorders); i++)
    harness_recorder_free (recorders[i]);
  for (guint i = 0; i < G_N_ELEMENTS (u->connections); i++)
    {
      if (!g_dbus_connection_is_closed (u->connections[i]))
        close_and_wait_gone (h, u->connections[i]);
      g_object_unref (u->connections[i]);
    }
}

/* Waits for @pending, a call made at @start, to succeed; returns how long it took, in ms. */
static double
timed_finish (HarnessPending *pending, gint64 start, guint bound_ms)
{
  double elapsed;

  harness_wait_flag (&pending->done, bound_ms);
  g_assert_no_error (pending->error);
  elapsed = (pending->time_us - start) / 1000.0;
  harness_pending_clear (pending);
  return elapsed;
}

/* One transition with every kind of callback at once; the leaving client goes as soon as
 * START reaches it, while the daemon waits for its answer. */
static double
unlucky_transition (Harness *h, Unlucky *u, const char *path, guint state, guint bound_ms)
{
  HarnessPending pending;
  gint64 start = g_get_monotonic_time ();

  harness_set_state_begin (h->client, path, BLOCK, state, &pending);
  if (!g_dbus_connection_is_closed (u->connections[6]))
    {
      harness_wait_count (&u->leaving->n_notes, 1, WAIT_MS);
      g_dbus_connection_close_sync (u->connections[6], NULL, NULL);
    }
  return timed_finish (&pending, start, bound_ms);
}

static void
test_unlucky_callbacks (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  const guint timeout_ms = 300;
  ProbeFigures before, after;
  Unlucky u = { 0 };
  double elapsed[2];

  probe_read_warm (h, &before);
  unlucky_setup (h, &u, path, 100, 2 * timeout_ms);
  assert_advise_count (h->client, path, 8);

  /* The silent and the late one hold START for the whole time-out, no more: they are cut
   * off then, and nothing waits for them any more. */
  for (guint i = 0; i < 2; i++)
    {
      elapsed[i] = unlucky_transition (h, &u, path, i ? ONLINE : OFFLINE, 3 * timeout_ms + 5000);
      g_test_message ("transition %u with unlucky callbacks: %.0f ms (NotifyTimeout %u ms)", i + 1,
                      elapsed[i], timeout_ms);
      if (i == 0)
        g_assert_cmpfloat (elapsed[i], >=, timeout_ms);
      g_assert_cmpfloat (elapsed[i], <, 2 * timeout_ms + 3000);
      /* Failing, vanished and unreachable callbacks are gone after the first START; the
       * cut-off ones keep their advises for the grace. */
      assert_advise_count (h->client, path, 5);
    }

  assert_transitions_seen (u.steady, 10, 2);
  assert_transitions_seen (u.prompt, 11, 2);
  assert_transitions_seen (u.slow, 12, 2);
  /* The late one answered after the time-out: it may be back for the second transition. */
  g_assert_cmpuint (u.late->n_notes, >=, 1);
  assert_note (u.late, 0, START, 13, 3, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (u.silent->n_notes, ==, 1);
  assert_note (u.silent, 0, START, 14, 3, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (u.failing->n_notes, ==, 1);
  g_assert_cmpuint (u.leaving->n_notes, ==, 1);
  assert_note (u.failing, 0, START, 15, 3, ONLINE, OFFLINE, 1);
  assert_note (u.leaving, 0, START, 16, 3, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, ONLINE, 2, FALSE);

  unlucky_clear (h, &u);
  assert_advise_count (h->client, path, 0);
  probe_read (h->daemon, &after);
  probe_message ("before the unlucky callbacks", &before);
  probe_message ("after they left", &after);
  g_assert_cmpuint (after.n_fds, ==, before.n_fds);
}

/* A BLOCK SetCurrentState to @state; returns how long it took, in ms. */
static double
timed_block_set_state (GDBusConnection *connection, const char *path, guint state, guint bound_ms)
{
  HarnessPending pending;
  gint64 start = g_get_monotonic_time ();

  harness_set_state_begin (connection, path, BLOCK, state, &pending);
  return timed_finish (&pending, start, bound_ms);
}

/* Silent callbacks whose Notify calls time out in the daemon still count on the bus, as
 * calls the daemon awaits, until their callee answers or leaves: past 128 of them the bus
 * would refuse every next Notify (LimitsExceeded), a prompt client's too. With the system
 * bus's budgets the silent connection gets 16 calls at most and is cut off after one
 * time-out; the prompt client, last in line, hears every transition whole. */
static void
test_refused_by_the_bus (Harness *h, gconstpointer data)
{
  enum
  {
    SILENT = 200,
  };
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) silent_connection = harness_connect (h);
  g_autoptr (GDBusConnection) prompt_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (silent_connection, "/silent", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) prompt =
      harness_recorder_new_callback (prompt_connection, "/prompt", HARNESS_REPLY, 0);
  double elapsed;

  for (guint i = 0; i < SILENT; i++)
    harness_advise (silent_connection, path, i, "/silent");
  harness_advise (prompt_connection, path, SILENT, "/prompt");
  elapsed = timed_block_set_state (h->client, path, OFFLINE, 30000);
  g_test_message ("%u silent callbacks and a prompt one, NotifyTimeout 100 ms: BLOCK answered "
                  "after %.0f ms; the silent ones were called %u times, the prompt one %u",
                  SILENT, elapsed, silent->n_notes, prompt->n_notes);
  g_assert_cmpuint (silent->n_notes, <=, 16);
  g_assert_cmpuint (prompt->n_notes, ==, 3);
  assert_transition (prompt, 0, SILENT, ONLINE, OFFLINE, 1);
  assert_advise_count (h->client, path, SILENT + 1);

  /* Once the silent ones are gone, the bus takes the daemon's calls again. */
  close_and_wait_gone (h, silent_connection);
  assert_advise_count (h->client, path, 1);
  settle (prompt_connection, path);
  prompt->n_notes = 0;
  g_array_set_size (prompt->notes, 0);
  /* Not a synchronous call: this process answers the prompt one's Notify calls. */
  timed_block_set_state (h->client, path, ONLINE, 5000);
  settle (prompt_connection, path);
  /* Only this transition's: nothing the first one could not send comes late. */
  g_assert_cmpuint (prompt->n_notes, ==, 3);
  assert_transition (prompt, 0, SILENT, OFFLINE, ONLINE, 2);
}

/* More callbacks at once than the bus lets one connection await (GTestDBus's dbus-daemon,
 * like the system bus, allows 128 pending calls): the daemon sends more than that, and
 * sends again what the bus refuses. Each callback is well-behaved, so each keeps its advise
 * and sees every transition whole: the first, which meets the refusals, and the next,
 * which goes by what the first taught. */
static void
test_many_callbacks_at_once (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  GDBusConnection *connections[10];
  HarnessRecorder *recorders[10];
  const guint per_connection = 15;
  double elapsed;

  for (guint i = 0; i < G_N_ELEMENTS (connections); i++)
    {
      connections[i] = harness_connect (h);
      recorders[i] =
          harness_recorder_new_callback (connections[i], "/cb", HARNESS_REPLY_LATER, 100);
      for (guint k = 0; k < per_connection; k++)
        harness_advise (connections[i], path, 100 * i + k, "/cb");
    }
  assert_advise_count (h->client, path, 150);

  for (guint round = 1; round <= 2; round++)
    {
      elapsed = timed_block_set_state (h->client, path, round == 1 ? OFFLINE : ONLINE, 5000);
      g_test_message ("%u callbacks of 100 ms each, transition %u: BLOCK answered after %.0f ms",
                      (guint) G_N_ELEMENTS (connections) * per_connection, round, elapsed);
      assert_advise_count (h->client, path, 150);
      for (guint i = 0; i < G_N_ELEMENTS (connections); i++)
        {
          settle (connections[i], path);
          g_assert_cmpuint (recorders[i]->n_notes, ==, round * 3 * per_connection);
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (connections); i++)
    {
      close_and_wait_gone (h, connections[i]);
      harness_recorder_free (recorders[i]);
      g_object_unref (connections[i]);
    }
}

/* With a long time-out, nothing that fails or leaves may make the transition wait for it. */
static void
test_leaving_releases_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) leaving_connection = harness_connect (h);
  g_autoptr (GDBusConnection) failing_connection = harness_connect (h);
  g_autoptr (GDBusConnection) empty_connection = harness_connect (h);
  g_autoptr (GDBusConnection) slow_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) steady = harness_recorder_new_signal (h->client, path);
  g_autoptr (HarnessRecorder) leaving =
      harness_recorder_new_callback (leaving_connection, "/cb", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) failing =
      harness_recorder_new_callback (failing_connection, "/cb", HARNESS_FAIL, 0);
  g_autoptr (HarnessRecorder) slow =
      harness_recorder_new_callback (slow_connection, "/cb", HARNESS_REPLY_LATER, 150);
  HarnessPending pending;
  ProbeFigures before, after;
  gint64 start;
  double elapsed;

  probe_read_warm (h, &before);
  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (leaving_connection, path, 2, "/cb");
  harness_advise (failing_connection, path, 3, "/cb");
  harness_advise (empty_connection, path, 4, "/exports/nothing");
  harness_advise (slow_connection, path, 5, "/cb");

  start = g_get_monotonic_time ();
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&leaving->n_notes, 1, WAIT_MS);
  g_dbus_connection_close_sync (leaving_connection, NULL, NULL);
  harness_wait_flag (&pending.done, 5000);
  g_assert_no_error (pending.error);
  elapsed = (pending.time_us - start) / 1000.0;
  harness_pending_clear (&pending);
  g_test_message ("BLOCK answered after %.0f ms with NotifyTimeout 20000 ms", elapsed);
  /* The slow callback is waited for in each phase; the others not at all. */
  g_assert_cmpfloat (elapsed, >=, 3 * 150);

  assert_transitions_seen (steady, 1, 1);
  assert_transitions_seen (slow, 5, 1);
  g_assert_cmpuint (failing->n_notes, ==, 1);
  assert_advise_count (h->client, path, 2);
  close_and_wait_gone (h, slow_connection);
  close_and_wait_gone (h, failing_connection);
  close_and_wait_gone (h, empty_connection);
  assert_advise_count (h->client, path, 1);
  probe_read (h->daemon, &after);
  probe_message ("before", &before);
  probe_message ("after", &after);
  g_assert_cmpuint (after.n_fds, ==, before.n_fds);
}

/* 1b. A flood of calls that the daemon answers in GDBus's thread, at once (GetCurrentState),
 * must not keep its main loop from running: meanwhile transitions, each with a callback to
 * call, go on as promptly as ever. */

static GVariant *
no_parameters (guint index, gpointer user_data)
{
  return NULL;
}

static void
test_flood_reads_during_transitions (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) flooder = harness_connect (h);
  g_autoptr (GDBusConnection) callback_connection = harness_connect (h);
  g_autoptr (HarnessRecorder) callback =
      harness_recorder_new_callback (callback_connection, "/cb", HARNESS_REPLY, 0);
  g_autoptr (ProbeLatencies) transitions = probe_latencies_new ();
  Flood flood;

  harness_advise (callback_connection, path, 1, "/cb");
  flood_init (&flood, flooder, path, "GetCurrentState", no_parameters, NULL, G_MAXUINT);
  flood_refill (&flood);
  for (guint i = 0; i < 20; i++)
    {
      guint answered = flood.answered;
      double elapsed = timed_block_set_state (h->client, path, i % 2 ? ONLINE : OFFLINE, 10000);

      probe_latencies_add (transitions, (gint64) (elapsed * 1000));
      /* The flood went on during the transition, and still does. */
      g_assert_cmpuint (flood.answered, >, answered);
      g_assert_cmpuint (flood.sent - flood.answered, >, 0);
    }
  flood.min_calls = flood.sent;
  while (flood.answered < flood.sent)
    g_main_context_iteration (NULL, TRUE);

  probe_latencies_message ("BLOCK transitions during a GetCurrentState flood", transitions);
  probe_tally_message ("flooder: GetCurrentState", flood.tally);
  g_assert_cmpuint (probe_tally_get (flood.tally, "ok"), ==, flood.sent);
  g_assert_cmpint (probe_latencies_max (transitions), <, LIVENESS_MS * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (callback->n_notes, ==, 3 * 20);
  assert_object (h->client, path, ONLINE, 20, FALSE);
  flood_clear (&flood);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* First: it fails until the daemon keeps the Notify calls it awaits within the bus's limit,
   * and a failure ends the program (meson runs it alone as test-hostile-fan-out). */
  HARNESS_ADD ("/hostile/fan-out/many-callbacks-at-once", NULL, setup_short_timeout,
               test_many_callbacks_at_once);

  HARNESS_ADD ("/hostile/flood/advise-per-connection", NULL, setup_per_connection_limit,
               test_flood_advise_per_connection);
  HARNESS_ADD ("/hostile/flood/advise-total", NULL, setup_total_limit, test_flood_advise_total);
  HARNESS_ADD ("/hostile/flood/set-state", NULL, setup_long_timeout, test_flood_set_state);
  HARNESS_ADD ("/hostile/flood/unadvise", NULL, harness_fixture_setup, test_flood_unadvise);
  HARNESS_ADD ("/hostile/flood/reads-during-transitions", NULL, harness_fixture_setup,
               test_flood_reads_during_transitions);
  HARNESS_ADD ("/hostile/callbacks/unlucky", NULL, setup_short_timeout, test_unlucky_callbacks);
  HARNESS_ADD ("/hostile/callbacks/refused-by-the-bus", NULL, setup_notify_100_system_budgets,
               test_refused_by_the_bus);
  HARNESS_ADD ("/hostile/callbacks/leaving-releases-transition", NULL, setup_long_timeout,
               test_leaving_releases_transition);

  return g_test_run ();
}
