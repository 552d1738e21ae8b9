/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How an application tests its offline handling against offline-state, written as an
 * application's own test suite would be. Each test gets a private bus (GTestDBus) whose
 * services folder is the kit's test-services folder: the first call on it starts a fresh
 * `offline-stated --ephemeral`, so every test begins with the profile `default` online.
 * The Emulation interface then makes the service misbehave on cue.
 *
 * The application under test is ExampleApp below: the sync engine of a mail client. It
 * stops syncing as soon as the profile starts going offline (there may be no network
 * by the time the transition is done) and resumes only once it is back online for good.
 */
#include <offline-state-client.h>
#include <offline-state.h>

/* Long enough for the app to react while a transition is held up; short enough for a test. */
#define TRANSITION_DELAY_MS 500
/* Turns a hang into a failure; nothing here should take more than a fraction of it. */
#define GUARD_MS 10000

/* ---- The application under test -------------------------------------------------- */

typedef struct
{
  OfflineStateClient *client;
  gboolean syncing_enabled; /* off from START of going offline until DONE of going online */
  gboolean pending;         /* between START and STATECHANGE: the state is about to change */
  GPtrArray *seen;          /* one line per notification the app acted on */
  guint requests_done;      /* its own set-state requests that have completed */
  char *last_error;         /* the D-Bus error name of its last failed request, or NULL */
} ExampleApp;

static void
example_app_on_notification (OfflineStateClient *client,
                             OfflineStatePhase phase,
                             guint mask,
                             OfflineStateState old_state,
                             OfflineStateState new_state,
                             guint64 sequence,
                             gpointer user_data)
{
  ExampleApp *app = user_data;

  /* No check of MAPI's rule here (ignore an unknown notify type or a mask other than 0x3):
   * liboffline-state drops such notifications before they reach the app. */
  switch (phase)
    {
      case OFFLINE_STATE_PHASE_START:
        app->pending = TRUE;
        if (new_state == OFFLINE_STATE_STATE_OFFLINE)
          app->syncing_enabled = FALSE;
        break;
      case OFFLINE_STATE_PHASE_STATECHANGE:
        app->pending = FALSE;
        break;
      case OFFLINE_STATE_PHASE_DONE:
        if (new_state == OFFLINE_STATE_STATE_ONLINE)
          app->syncing_enabled = TRUE;
        break;
    }
  g_ptr_array_add (app->seen,
                   g_strdup_printf ("%s %s->%s: %s", offline_state_phase_to_string (phase),
                                    offline_state_state_to_string (old_state),
                                    offline_state_state_to_string (new_state),
                                    app->syncing_enabled ? "syncing" : "not syncing"));
}

static ExampleApp *
example_app_new (void)
{
  g_autoptr (GError) error = NULL;
  ExampleApp *app = g_new0 (ExampleApp, 1);

  /* NULL: the session bus, as in production. Under GTestDBus that is the private bus. */
  app->client = offline_state_client_new_sync (NULL, OFFLINE_STATE_DEFAULT_PROFILE, NULL, &error);
  g_assert_no_error (error);
  app->syncing_enabled = offline_state_client_get_online (app->client);
  app->seen = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (app->client, "notification", G_CALLBACK (example_app_on_notification), app);
  return app;
}

static void
example_app_free (ExampleApp *app)
{
  g_signal_handlers_disconnect_by_data (app->client, app);
  g_clear_object (&app->client);
  g_ptr_array_unref (app->seen);
  g_free (app->last_error);
  g_free (app);
}

static void
example_app_on_set_state (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ExampleApp *app = user_data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&app->last_error, g_free);
  if (!offline_state_client_set_state_finish (OFFLINE_STATE_CLIENT (source), result, &error))
    app->last_error = g_dbus_error_get_remote_error (error);
  app->requests_done++;
}

/* The "Work offline" button: starts a transition and returns; notifications tell the rest. */
static void
example_app_set_state (ExampleApp *app, OfflineStateState state)
{
  offline_state_client_set_state_async (app->client, state, FALSE, NULL, example_app_on_set_state,
                                        app);
}

/* ---- The tests -------------------------------------------------------------------- */

typedef struct
{
  GTestDBus *bus;
  GDBusConnection *connection; /* the test's own, to act as the user or as a test harness */
  ExampleApp *app;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *services_dir = g_getenv ("OFFLINE_STATE_TEST_SERVICES_DIR");

  g_assert_nonnull (services_dir);
  f->bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  /* The whole setup: the service is started by the first call, nothing else is needed. */
  g_test_dbus_add_service_dir (f->bus, services_dir);
  g_test_dbus_up (f->bus);
  f->connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  f->app = example_app_new ();
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->app, example_app_free);
  g_clear_object (&f->connection);
  /* Stopping the bus ends the daemon with it: the next test gets a fresh one. */
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
}

static void
call_default_profile (Fixture *f, const char *interface, const char *method, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path =
      g_strconcat (OFFLINE_STATE_PROFILES_PATH "/", OFFLINE_STATE_DEFAULT_PROFILE, NULL);

  reply = g_dbus_connection_call_sync (f->connection, OFFLINE_STATE_BUS_NAME, path, interface,
                                       method, parameters, NULL, G_DBUS_CALL_FLAGS_NONE, GUARD_MS,
                                       NULL, &error);
  g_assert_no_error (error);
}

/* What someone else does, as `offlinectl offline` would: the app only hears about it. */
static void
user_sets_state (Fixture *f, guint state)
{
  call_default_profile (
      f, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
      g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_DEFAULT, MAPIOFFLINE_STATE_OFFLINE_MASK, state));
}

static void
emulate (Fixture *f, const char *method, GVariant *parameters)
{
  call_default_profile (f, OFFLINE_STATE_EMULATION_INTERFACE, method, parameters);
}

static void
on_guard (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* No sleeps: the main loop runs until the app has got as far as the test needs. */
static void
wait_for (const guint *count, guint at_least)
{
  gboolean expired = FALSE;
  guint guard = g_timeout_add_once (GUARD_MS, on_guard, &expired);

  while (*count < at_least && !expired)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (expired);
  g_source_remove (guard);
}

static void
assert_seen (ExampleApp *app, const char *const *expected)
{
  g_ptr_array_add (app->seen, NULL);
  g_assert_cmpstrv ((const char *const *) app->seen->pdata, expected);
  g_ptr_array_remove_index (app->seen, app->seen->len - 1);
}

/* The app follows a round trip: it stops syncing at the first sign of going offline, and
 * starts again only when going online is done, not when it starts. */
static void
test_follows_transitions (Fixture *f, gconstpointer data)
{
  const char *const expected[] = {
    "START online->offline: not syncing",
    "STATECHANGE online->offline: not syncing",
    "DONE online->offline: not syncing",
    "START offline->online: not syncing",
    "STATECHANGE offline->online: not syncing",
    "DONE offline->online: syncing",
    NULL,
  };

  g_assert_true (f->app->syncing_enabled);

  user_sets_state (f, MAPIOFFLINE_STATE_OFFLINE);
  wait_for (&f->app->seen->len, 3);
  g_assert_false (f->app->syncing_enabled);
  g_assert_cmpint (offline_state_client_get_state (f->app->client), ==,
                   OFFLINE_STATE_STATE_OFFLINE);

  user_sets_state (f, MAPIOFFLINE_STATE_ONLINE);
  wait_for (&f->app->seen->len, 6);
  g_assert_true (f->app->syncing_enabled);
  assert_seen (f->app, expected);
}

/* A slow transition (SetTransitionDelay) holds the app between START and STATECHANGE:
 * it must know it is pending, and its own request meanwhile is refused with E_PENDING. */
static void
test_slow_transition (Fixture *f, gconstpointer data)
{
  emulate (f, "SetTransitionDelay", g_variant_new ("(u)", TRANSITION_DELAY_MS));
  user_sets_state (f, MAPIOFFLINE_STATE_OFFLINE);

  wait_for (&f->app->seen->len, 1);
  g_assert_cmpstr (f->app->seen->pdata[0], ==, "START online->offline: not syncing");
  g_assert_true (f->app->pending);
  g_assert_cmpint (offline_state_client_get_state (f->app->client), ==, OFFLINE_STATE_STATE_ONLINE);

  /* The user changes their mind mid-way: the manager says "not now". */
  example_app_set_state (f->app, OFFLINE_STATE_STATE_ONLINE);
  wait_for (&f->app->requests_done, 1);
  g_assert_cmpstr (f->app->last_error, ==, OFFLINE_STATE_ERROR_PENDING);
  g_assert_true (f->app->pending);

  wait_for (&f->app->seen->len, 2);
  g_assert_cmpstr (f->app->seen->pdata[1], ==, "STATECHANGE online->offline: not syncing");
  g_assert_false (f->app->pending);
  wait_for (&f->app->seen->len, 3);
}

/* FailNext makes the app's own request fail with an error of the test's choosing: the app
 * must report it and change nothing; the next attempt goes through. */
static void
test_request_fails (Fixture *f, gconstpointer data)
{
  emulate (f, "FailNext",
           g_variant_new ("(ssu)", "SetCurrentState", OFFLINE_STATE_ERROR_ACCESS_DENIED, 1));

  example_app_set_state (f->app, OFFLINE_STATE_STATE_OFFLINE);
  wait_for (&f->app->requests_done, 1);
  g_assert_cmpstr (f->app->last_error, ==, OFFLINE_STATE_ERROR_ACCESS_DENIED);
  g_assert_true (f->app->syncing_enabled);
  g_assert_cmpuint (f->app->seen->len, ==, 0);

  example_app_set_state (f->app, OFFLINE_STATE_STATE_OFFLINE);
  wait_for (&f->app->requests_done, 2);
  g_assert_null (f->app->last_error);
  wait_for (&f->app->seen->len, 3);
  g_assert_false (f->app->syncing_enabled);
}

/* Notifications that MAPI says to ignore (InjectNotification): an unknown type, and a
 * START of going offline for another mask, which a careless app would take as "stop
 * syncing". Nothing of them may reach the app's logic. */
static void
test_ignores_bogus_notifications (Fixture *f, gconstpointer data)
{
  const char *const expected[] = {
    "START online->offline: not syncing",
    "STATECHANGE online->offline: not syncing",
    "DONE online->offline: not syncing",
    NULL,
  };

  emulate (f, "InjectNotification",
           g_variant_new ("(uuuu)", 7, 5, MAPIOFFLINE_STATE_ONLINE, MAPIOFFLINE_STATE_OFFLINE));
  emulate (f, "InjectNotification",
           g_variant_new ("(uuuu)", MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START, 5,
                          MAPIOFFLINE_STATE_ONLINE, MAPIOFFLINE_STATE_OFFLINE));

  /* A real transition after them: the service sends in order, so once the app has seen
   * it, it has had the bogus ones too, and must have acted on nothing else. */
  user_sets_state (f, MAPIOFFLINE_STATE_OFFLINE);
  wait_for (&f->app->seen->len, 3);
  assert_seen (f->app, expected);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/example-app/follows-transitions", Fixture, NULL, fixture_setup,
              test_follows_transitions, fixture_teardown);
  g_test_add ("/example-app/slow-transition", Fixture, NULL, fixture_setup, test_slow_transition,
              fixture_teardown);
  g_test_add ("/example-app/request-fails", Fixture, NULL, fixture_setup, test_request_fails,
              fixture_teardown);
  g_test_add ("/example-app/ignores-bogus-notifications", Fixture, NULL, fixture_setup,
              test_ignores_bogus_notifications, fixture_teardown);
  return g_test_run ();
}
