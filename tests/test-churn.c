/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Churn: about a thousand short-lived clients come in waves, advise (by signal or callback),
 * some stay for a transition, and leave, with or without Unadvise, while transitions run
 * back to back. A few long-lived clients must see every notification of every transition,
 * in order; afterwards the daemon holds no advise, no extra file, and about the memory it
 * started with, and it still answers.
 */
#include "hostile-clients.h"

#define N_WAVES   10
#define WAVE_SIZE 100 /* the private bus lets one user hold 256 connections */
/* Liveness only: a wave's clients have all left within this. */
#define GONE_MS 20000

static void
setup_churn (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=1000", NULL };

  harness_setup (h, args);
}

/* Transitions back to back, each a BLOCK call that starts the next one when it returns. */

typedef struct
{
  GDBusConnection *connection;
  char *path;
  guint completed;
  guint failed;
  gboolean stop;
  gboolean idle; /* no call in flight */
} Driver;

static void driver_next (Driver *driver);

static void
on_transition_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Driver *driver = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (driver->connection, result, &error);

  if (reply == NULL)
    {
      g_test_message ("transition %u failed: %s", driver->completed + 1, error->message);
      driver->failed++;
    }
  else
    {
      driver->completed++;
    }
  driver_next (driver);
}

static void
driver_next (Driver *driver)
{
  /* Transition n (from 1) goes offline when n is odd. */
  guint state = driver->completed % 2 ? ONLINE : OFFLINE;

  driver->idle = driver->stop || driver->failed > 0;
  if (driver->idle)
    return;
  g_dbus_connection_call (driver->connection, OFFLINE_STATE_BUS_NAME, driver->path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                          g_variant_new ("(uuu)", BLOCK, 3, state), NULL,
                          G_DBUS_CALL_FLAGS_NO_AUTO_START, 30000, NULL, on_transition_done, driver);
}

static void
wait_transitions (Driver *driver, guint at_least)
{
  harness_wait_count (&driver->completed, at_least, GONE_MS);
  g_assert_cmpuint (driver->failed, ==, 0);
}

/* A short-lived client */

typedef enum
{
  KIND_SIGNAL,
  KIND_CALLBACK,
  KIND_FAILING,
} Kind;

typedef struct
{
  GDBusConnection *connection;
  HarnessRecorder *recorder;
  Kind kind;
  guint client_token;
  guint advise_token;
} Client;

static Kind
kind_of (guint index)
{
  /* Fewer callbacks than the bus lets the daemon await at once (128), long-lived included. */
  if (index % 20 == 18)
    return KIND_FAILING;
  return index % 20 >= 12 ? KIND_CALLBACK : KIND_SIGNAL;
}

static void
client_start (Harness *h, Client *client, const char *path, guint index, guint client_token)
{
  const char *callback = "/churn/cb";

  client->connection = harness_connect (h);
  client->kind = kind_of (index);
  client->client_token = client_token;
  if (client->kind == KIND_SIGNAL)
    {
      client->recorder = harness_recorder_new_signal (client->connection, path);
      callback = OFFLINE_STATE_SIGNAL_CALLBACK_PATH;
    }
  else
    {
      client->recorder = harness_recorder_new_callback (
          client->connection, callback, client->kind == KIND_FAILING ? HARNESS_FAIL : HARNESS_REPLY,
          0);
    }
  client->advise_token = harness_advise (client->connection, path, client_token, callback);
}

/* What a client saw while it was there: whole transitions from its first START on, each
 * the next one, the last one possibly cut short by its leaving. A failing callback sees one
 * START and no more. Returns how many notes it saw. */
static guint
client_check (Client *client)
{
  HarnessRecorder *recorder = client->recorder;

  if (client->kind == KIND_FAILING)
    g_assert_cmpuint (recorder->n_notes, <=, 1);
  for (guint i = 0; i < recorder->n_notes; i++)
    {
      const HarnessNote *note = harness_recorder_note (recorder, i);
      const HarnessNote *first = harness_recorder_note (recorder, i - i % 3);

      g_assert_cmpuint (note->notify_type, ==, START + i % 3);
      g_assert_cmpuint (note->client_token, ==, client->client_token);
      g_assert_cmpuint (note->mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
      g_assert_cmpuint (note->sequence, ==, first->sequence);
      g_assert_cmpuint (note->old_state, ==, note->sequence % 2 ? ONLINE : OFFLINE);
      g_assert_cmpuint (note->new_state, ==, note->sequence % 2 ? OFFLINE : ONLINE);
      if (i >= 3)
        g_assert_cmpuint (note->sequence, ==,
                          harness_recorder_note (recorder, i - 3)->sequence + 1);
    }
  return recorder->n_notes;
}

static void
client_leave (Client *client, const char *path, gboolean unadvise_first)
{
  if (unadvise_first)
    unadvise_ok (client->connection, path, client->advise_token);
  g_dbus_connection_close (client->connection, NULL, NULL, NULL);
}

static void
client_clear (Client *client)
{
  g_clear_pointer (&client->recorder, harness_recorder_free);
  g_clear_object (&client->connection);
}

/* One wave */

typedef struct
{
  guint clients;
  guint stayed;
  guint unadvised;
  guint notes;
  guint callbacks;
  guint failing;
} Totals;

#define GROUP_SIZE 20

/* Clients join a group at a time, each group as a new transition starts; the ones that do
 * not stay (odd ones) leave as the next group joins, the others once two transitions have
 * passed after the last group, a group at a time again. Every third leaves with Unadvise,
 * the others just go. */
static void
leave_group (Client *clients, guint first, gboolean stayers, const char *path, Totals *totals)
{
  for (guint i = first; i < first + GROUP_SIZE && i < WAVE_SIZE; i++)
    {
      if ((i % 2 == 0) != stayers)
        continue;
      client_leave (&clients[i], path, i % 3 == 0);
      totals->unadvised += i % 3 == 0;
    }
}

static void
run_wave (Harness *h,
          guint wave,
          const char *path,
          Driver *driver,
          Departures *departures,
          Totals *totals)
{
  g_autofree Client *clients = g_new0 (Client, WAVE_SIZE);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < WAVE_SIZE; i++)
    {
      if (i % GROUP_SIZE == 0)
        {
          wait_transitions (driver, driver->completed + 1);
          if (i > 0)
            leave_group (clients, i - GROUP_SIZE, FALSE, path, totals);
        }
      client_start (h, &clients[i], path, i, 1000 * (wave + 1) + i);
      g_ptr_array_add (names, g_strdup (g_dbus_connection_get_unique_name (clients[i].connection)));
    }
  leave_group (clients, WAVE_SIZE - GROUP_SIZE, FALSE, path, totals);
  wait_transitions (driver, driver->completed + 2);
  for (guint first = 0; first < WAVE_SIZE; first += GROUP_SIZE)
    {
      wait_transitions (driver, driver->completed + 1);
      leave_group (clients, first, TRUE, path, totals);
    }
  departures_wait (departures, names, GONE_MS);

  for (guint i = 0; i < WAVE_SIZE; i++)
    {
      guint seen = client_check (&clients[i]);

      /* A stayer saw a whole transition, unless its callback failed at the first START. */
      if (i % 2 == 0)
        g_assert_cmpuint (seen, >=, clients[i].kind == KIND_FAILING ? 1 : 3);
      totals->notes += seen;
      totals->callbacks += clients[i].kind == KIND_CALLBACK;
      totals->failing += clients[i].kind == KIND_FAILING;
      client_clear (&clients[i]);
    }
  totals->clients += WAVE_SIZE;
  totals->stayed += WAVE_SIZE / 2;
}

typedef struct
{
  GDBusConnection *connections[3];
  HarnessRecorder *recorders[3]; /* by signal, by callback, by a slow callback */
} LongLived;

static void
long_lived_start (Harness *h, LongLived *l, const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (l->connections); i++)
    l->connections[i] = harness_connect (h);
  l->recorders[0] = harness_recorder_new_signal (l->connections[0], path);
  l->recorders[1] =
      harness_recorder_new_callback (l->connections[1], "/steady/cb", HARNESS_REPLY, 0);
  l->recorders[2] =
      harness_recorder_new_callback (l->connections[2], "/steady/cb", HARNESS_REPLY_LATER, 5);
  harness_advise (l->connections[0], path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (l->connections[1], path, 2, "/steady/cb");
  harness_advise (l->connections[2], path, 3, "/steady/cb");
}

static void
long_lived_finish (LongLived *l, guint n_transitions, Departures *departures)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (l->connections); i++)
    {
      assert_transitions_seen (l->recorders[i], i + 1, n_transitions);
      g_ptr_array_add (names, g_strdup (g_dbus_connection_get_unique_name (l->connections[i])));
      g_dbus_connection_close (l->connections[i], NULL, NULL, NULL);
    }
  departures_wait (departures, names, GONE_MS);
  for (guint i = 0; i < G_N_ELEMENTS (l->connections); i++)
    {
      harness_recorder_free (l->recorders[i]);
      g_object_unref (l->connections[i]);
    }
}

static void
stop_driver (Driver *driver)
{
  driver->stop = TRUE;
  harness_wait_flag (&driver->idle, GONE_MS);
  g_assert_cmpuint (driver->failed, ==, 0);
}

static void
test_churn (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) driver_connection = harness_connect (h);
  Driver driver = { driver_connection, path, 0, 0, FALSE, FALSE };
  gint64 start = g_get_monotonic_time ();
  ProbeFigures before, warm, after;

  Departures departures;
  Totals totals = { 0 };
  LongLived steady;

  departures_init (&departures, h->client);
  long_lived_start (h, &steady, path);
  /* The pause makes each transition last long enough for clients to come and go in it. */
  set_transition_delay (h->client, path, 100);
  driver_next (&driver);
  /* The first transitions set up what the daemon keeps for good (a thread for the store). */
  wait_transitions (&driver, 2);
  probe_read (h->daemon, &before);

  for (guint wave = 0; wave < N_WAVES; wave++)
    {
      run_wave (h, wave, path, &driver, &departures, &totals);
      assert_advise_count (h->client, path, G_N_ELEMENTS (steady.connections));
      if (wave == 0)
        probe_read (h->daemon, &warm);
      g_test_message ("wave %u: %u clients so far, %u transitions, %.1f s", wave + 1,
                      totals.clients, driver.completed, (g_get_monotonic_time () - start) / 1e6);
    }
  stop_driver (&driver);
  long_lived_finish (&steady, driver.completed, &departures);
  assert_advise_count (h->client, path, 0);
  assert_object (h->client, path, driver.completed % 2 ? OFFLINE : ONLINE, driver.completed, FALSE);
  probe_read (h->daemon, &after);

  g_test_message ("%u short-lived clients (%u callbacks, %u failing callbacks), %u stayed for "
                  "a transition, %u left with Unadvise, the others without; %u notes to them",
                  totals.clients, totals.callbacks, totals.failing, totals.stayed, totals.unadvised,
                  totals.notes);
  g_test_message ("%u transitions, each seen whole by the 3 long-lived clients, in %.1f s",
                  driver.completed, (g_get_monotonic_time () - start) / 1e6);
  probe_message ("daemon after two transitions", &before);
  probe_message ("after the first wave", &warm);
  probe_message ("after everyone left", &after);
  g_assert_cmpuint (after.n_fds, ==, before.n_fds);
  /* Generous: allocator caches may keep what a wave used, but not a share per client. Under
   * AddressSanitizer freed memory waits in its quarantine (up to 256 MiB), so RSS says nothing
   * there; LeakSanitizer checks the daemon's memory at its exit instead. */
#if defined(__SANITIZE_ADDRESS__)
  g_test_message ("RSS not bounded: built with AddressSanitizer");
#else
  g_assert_cmpuint (after.rss_kib, <, warm.rss_kib + 4096);
#endif

  /* Still serving: a newcomer gets a whole transition. */
  {
    g_autoptr (GDBusConnection) newcomer = harness_connect (h);
    g_autoptr (HarnessRecorder) notes = harness_recorder_new_signal (newcomer, path);
    guint state = driver.completed % 2 ? ONLINE : OFFLINE;

    harness_advise (newcomer, path, 9, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
    set_state_ok (newcomer, path, BLOCK, state);
    settle (newcomer, path);
    g_assert_cmpuint (notes->n_notes, ==, 3);
    assert_transition (notes, 0, 9, driver.completed % 2 ? OFFLINE : ONLINE, state,
                       driver.completed + 1);
  }
  departures_clear (&departures);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/churn/waves", Harness, NULL, setup_churn, test_churn, harness_fixture_teardown);
  return g_test_run ();
}
