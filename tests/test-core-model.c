/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The offline-state model with no bus: the offline object's and manager's rules (the Manager and
 * OfflineMgr references), the limits (docs/daemon.md), clients, the emulation (the Emulation
 * reference) and property notifications. The test plays every client (core-fixture.h).
 */
#include <string.h>

#include "core-fixture.h"

/* Helpers */

static OsProfile *
create_profile (Fixture *f, const char *name, guint capabilities, guint state, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  os_manager_create_async (f->manager, name, capabilities, state, store_result, &result);
  spin_until (f, result_ready, &result);
  return os_manager_create_finish (f->manager, result, error);
}

static gboolean
remove_profile (Fixture *f, const char *name, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  os_manager_remove_async (f->manager, name, store_result, &result);
  spin_until (f, result_ready, &result);
  return os_manager_remove_finish (f->manager, result, error);
}

static OsProfile *
create_ok (Fixture *f, const char *name, guint capabilities, guint state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OsProfile) profile = create_profile (f, name, capabilities, state, &error);

  g_assert_no_error (error);
  g_assert_nonnull (profile);
  /* The manager keeps its own reference. */
  g_assert_true (os_manager_lookup (f->manager, name) == profile);
  return profile;
}

/* Tests: the model's starting point */

static void
test_load_default (Fixture *f, gconstpointer data)
{
  g_auto (GStrv) names = NULL;

  g_assert_cmpstr (os_profile_get_name (f->profile), ==, "default");
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_capabilities (f->profile), ==, 0x3);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_false (os_profile_get_transitioning (f->profile));
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 0);
  g_assert_cmpuint (os_profile_get_transition_delay (f->profile), ==, 0);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 0);
  g_assert_false (os_manager_is_saving (f->manager));
  g_assert_cmpuint (os_manager_get_limits (f->manager)->notify_timeout_ms, ==, QUICK_TIMEOUT_MS);
  g_object_get (f->manager, "profiles", &names, NULL);
  g_assert_cmpstrv (names, ((const char *[]){ "default", NULL }));
}

/* Tests: Advise and Unadvise (the OfflineMgr reference) */

static void
test_advise_fields (Fixture *f, gconstpointer data)
{
  guint by_signal = advise_signal (f, f->profile, OWNER, 0xFFFFFFFF, 0x4 | 0x1);
  guint by_call = advise_callback (f, f->profile, OTHER_OWNER, 0, 0x2, POLICY_REPLY_NOW);
  OsAdvise *s = os_manager_lookup_advise (f->manager, by_signal);
  OsAdvise *c = os_manager_lookup_advise (f->manager, by_call);

  g_assert_nonnull (s);
  g_assert_nonnull (c);
  g_assert_cmpuint (s->token, ==, by_signal);
  g_assert_cmpuint (s->client_token, ==, 0xFFFFFFFF);
  g_assert_cmpuint (s->state_mask, ==, 0x5);
  g_assert_false (os_advise_is_callback (s));
  g_assert_null (s->callback);
  g_assert_cmpstr (os_advise_get_owner (s), ==, OWNER);
  g_assert_true (s->profile == f->profile);
  g_assert_true (os_advise_is_callback (c));
  g_assert_cmpstr (c->callback, ==, CALLBACK_PATH);
  g_assert_cmpstr (os_advise_get_owner (c), ==, OTHER_OWNER);
  g_assert_cmpuint (c->client_token, ==, 0);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 2);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 2);
}

static void
test_advise_refused (Fixture *f, gconstpointer data)
{
  struct
  {
    guint flags, callback_type;
    const char *callback;
    guint advise_types, state_mask;
    OsError code;
    const char *prefix;
  } cases[] = {
    { 1, 0, "/", 1, 3, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { 0, 1, "/", 1, 3, OS_ERROR_NO_INTERFACE, PREFIX_NOINTERFACE },
    { 0, 0, "/", 2, 3, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { 0, 0, "/", 1, 0, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { 0, 0, "/", 1, 0x00400000u, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { 0, 0, "/x/", 1, 3, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      guint token = os_profile_advise (f->profile, OWNER, OS_UID_UNKNOWN, cases[i].flags, 1,
                                       cases[i].callback_type, cases[i].callback,
                                       cases[i].advise_types, cases[i].state_mask, &error);

      g_assert_cmpuint (token, ==, 0);
      g_assert_error (error, OS_ERROR, (int) cases[i].code);
      assert_prefix (error, cases[i].prefix);
    }
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 0);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 0);
  /* A refused advise adds no client either. */
  g_assert_cmpstr (f->manager_log->str, ==, "");
}

static void
test_tokens (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  guint tokens[6];
  guint again;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    tokens[i] = advise_signal (f, i % 2 ? other : f->profile, i % 3 ? OWNER : OTHER_OWNER, 5, 0x3);
  for (guint i = 0; i < G_N_ELEMENTS (tokens); i++)
    {
      g_assert_cmpuint (tokens[i], !=, 0);
      if (i > 0)
        g_assert_cmpuint (tokens[i], >, tokens[i - 1]);
    }
  /* The newest one goes; its token is not handed out again. */
  g_assert_true (os_profile_unadvise (other, OWNER, 0, tokens[5], &error));
  g_assert_null (os_manager_lookup_advise (f->manager, tokens[5]));
  again = advise_signal (f, other, OWNER, 5, 0x3);
  g_assert_cmpuint (again, >, tokens[5]);
  g_assert_nonnull (os_manager_lookup_advise (f->manager, again));
}

static void
test_unadvise_refused_quietly (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  guint mine = advise_signal (f, f->profile, OWNER, 1, 0x3);
  guint elsewhere = advise_signal (f, other, OWNER, 2, 0x3);
  g_autoptr (GError) error = NULL;

  /* Another connection's advise. */
  g_assert_true (os_profile_unadvise (f->profile, OTHER_OWNER, 0, mine, &error));
  g_assert_no_error (error);
  /* An advise of another object, by its owner. */
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, elsewhere, &error));
  g_assert_no_error (error);
  /* Unknown tokens. */
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, elsewhere + 100, &error));
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
  g_assert_cmpuint (os_profile_get_advise_count (other), ==, 1);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 2);

  /* Flags are checked, and nothing goes. */
  g_assert_false (os_profile_unadvise (f->profile, OWNER, 1, mine, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (error, PREFIX_INVALIDARG);
  g_clear_error (&error);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);

  /* The owner, on the right object. Twice is still a success. */
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, mine, &error));
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 0);
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, mine, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 1);
}

/* Tests: limits (docs/daemon.md) */

static void
assert_limited (Fixture *f, OsProfile *profile, const char *owner, const char *option)
{
  g_autoptr (GError) error = NULL;
  guint before = os_manager_get_n_advises (f->manager);
  guint token = os_profile_advise (profile, owner, OS_UID_UNKNOWN, 0, 1, 0, NULL, 1, 3, &error);

  g_assert_cmpuint (token, ==, 0);
  g_assert_error (error, OS_ERROR, OS_ERROR_LIMITS_EXCEEDED);
  if (strstr (error->message, option) == NULL)
    g_error ("'%s' does not name %s", error->message, option);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, before);
}

static void
test_limit_per_connection (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  guint first = 0;

  for (guint i = 0; i < LIMIT_PER_CONNECTION; i++)
    {
      guint token = advise_signal (f, i % 2 ? other : f->profile, OWNER, i, 0x3);

      if (i == 0)
        first = token;
    }
  assert_limited (f, f->profile, OWNER, "--max-advises-per-connection");
  assert_limited (f, other, OWNER, "--max-advises-per-connection");
  /* Another connection is not limited by this one's advises. */
  advise_signal (f, f->profile, OTHER_OWNER, 1, 0x3);
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, first, NULL));
  advise_signal (f, other, OWNER, 9, 0x3);
  assert_limited (f, other, OWNER, "--max-advises-per-connection");
}

static void
test_limit_advises (Fixture *f, gconstpointer data)
{
  const char *owners[] = { ":1.10", ":1.11", ":1.12", ":1.13", ":1.14",
                           ":1.15", ":1.16", ":1.17", ":1.18" };
  guint first = 0;

  G_STATIC_ASSERT (G_N_ELEMENTS (owners) > LIMIT_ADVISES);
  for (guint i = 0; i < LIMIT_ADVISES; i++)
    {
      guint token = advise_signal (f, f->profile, owners[i], i, 0x3);

      if (i == 0)
        first = token;
    }
  assert_limited (f, f->profile, owners[LIMIT_ADVISES], "--max-advises");
  assert_limited (f, f->profile, owners[0], "--max-advises");
  g_assert_true (os_profile_unadvise (f->profile, owners[0], 0, first, NULL));
  advise_signal (f, f->profile, owners[LIMIT_ADVISES], 1, 0x3);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, LIMIT_ADVISES);
}

static void
test_limit_profiles (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OsProfile) refused = NULL;

  for (guint i = 1; i < LIMIT_PROFILES; i++)
    {
      g_autofree char *name = g_strdup_printf ("p%u", i);

      create_ok (f, name, 3, 2);
    }
  refused = create_profile (f, "one too many", 3, 2, &error);
  g_assert_null (refused);
  g_assert_error (error, OS_ERROR, OS_ERROR_LIMITS_EXCEEDED);
  g_assert_nonnull (strstr (error->message, "--max-profiles"));
  g_assert_null (os_manager_lookup (f->manager, "one too many"));
  g_clear_error (&error);

  g_assert_true (remove_profile (f, "p1", &error));
  g_assert_no_error (error);
  create_ok (f, "one too many", 3, 2);
  g_assert_cmpstr (f->manager_log->str, ==, "+p:p1 +p:p2 +p:p3 -p:p1 +p:one too many ");
}

/* Tests: clients */

static void
test_clients (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  guint a, b;
  g_autoptr (GError) error = NULL;

  g_string_truncate (f->manager_log, 0);
  a = advise_signal (f, f->profile, OWNER, 1, 0x3);
  b = advise_callback (f, other, OWNER, 2, 0x3, POLICY_REPLY_NOW);
  advise_signal (f, other, OTHER_OWNER, 3, 0x3);
  g_assert_cmpstr (f->manager_log->str, ==, "+c::1.5 +c::1.6 ");

  /* Removed with its last advise. */
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, a, &error));
  g_assert_cmpstr (f->manager_log->str, ==, "+c::1.5 +c::1.6 ");
  g_assert_true (os_profile_unadvise (other, OWNER, 0, b, &error));
  g_assert_cmpstr (f->manager_log->str, ==, "+c::1.5 +c::1.6 -c::1.5 ");
  g_assert_no_error (error);
  advise_signal (f, f->profile, OWNER, 1, 0x3);
  g_assert_cmpstr (f->manager_log->str, ==, "+c::1.5 +c::1.6 -c::1.5 +c::1.5 ");
}

static void
test_client_vanished (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  guint stays;

  advise_signal (f, f->profile, OWNER, 1, 0x3);
  advise_callback (f, f->profile, OWNER, 2, 0x3, POLICY_REPLY_NOW);
  advise_signal (f, other, OWNER, 3, 0x3);
  stays = advise_signal (f, other, OTHER_OWNER, 4, 0x3);
  g_string_truncate (f->manager_log, 0);

  os_manager_client_vanished (f->manager, ":1.999");
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 4);
  os_manager_client_vanished (f->manager, OWNER);
  g_assert_cmpstr (f->manager_log->str, ==, "-c::1.5 ");
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 0);
  g_assert_cmpuint (os_profile_get_advise_count (other), ==, 1);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 1);
  g_assert_nonnull (os_manager_lookup_advise (f->manager, stays));
  /* Again: nothing left to do. */
  os_manager_client_vanished (f->manager, OWNER);
  g_assert_cmpstr (f->manager_log->str, ==, "-c::1.5 ");
}

static void
test_client_vanished_during_transition (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_SILENT);

  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (1));
  drain ();
  os_manager_client_vanished (f->manager, OWNER);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, token, "1");
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
}

/* Tests: profiles (the Manager reference) */

static void
test_create (Fixture *f, gconstpointer data)
{
  OsProfile *work =
      create_ok (f, "Work Büro", MAPIOFFLINE_CAPABILITY_OFFLINE, MAPIOFFLINE_STATE_OFFLINE);

  g_assert_cmpstr (os_profile_get_name (work), ==, "Work Büro");
  g_assert_cmpuint (os_profile_get_capabilities (work), ==, 1);
  g_assert_cmpuint (os_profile_get_state (work), ==, 1);
  g_assert_cmpuint (os_profile_get_sequence (work), ==, 0);
  g_assert_false (os_profile_get_transitioning (work));
  g_assert_cmpuint (os_profile_get_advise_count (work), ==, 0);
  g_assert_cmpstr (f->manager_log->str, ==, "+p:Work Büro ");
  /* Each profile changes on its own. */
  change_state (f, work, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (work), ==, 1);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
}

static void
test_create_refused (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *name;
    guint capabilities, state;
    OsError code;
  } cases[] = {
    { "default", 3, 2, OS_ERROR_EXISTS },           { "", 3, 2, OS_ERROR_INVALID_ARGS },
    { "bad\001name", 3, 2, OS_ERROR_INVALID_ARGS }, { "fine", 4, 2, OS_ERROR_INVALID_ARGS },
    { "fine", 3, 0, OS_ERROR_INVALID_ARGS },        { "fine", 3, 3, OS_ERROR_INVALID_ARGS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (OsProfile) profile =
          create_profile (f, cases[i].name, cases[i].capabilities, cases[i].state, &error);

      g_assert_null (profile);
      g_assert_error (error, OS_ERROR, (int) cases[i].code);
      if (cases[i].code == OS_ERROR_INVALID_ARGS)
        assert_prefix (error, PREFIX_INVALIDARG);
      else
        g_assert_nonnull (strstr (error->message, "'default'"));
    }
  g_assert_null (os_manager_lookup (f->manager, "fine"));
  g_assert_cmpstr (f->manager_log->str, ==, "");
}

static void
test_remove (Fixture *f, gconstpointer data)
{
  OsProfile *gone = create_ok (f, "gone", 3, 2);
  guint kept = advise_signal (f, f->profile, OWNER, 1, 0x3);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  OsProfile *weak = gone;

  advise_signal (f, gone, OWNER, 2, 0x3);
  advise_signal (f, gone, OTHER_OWNER, 3, 0x3);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 3);
  g_object_add_weak_pointer (G_OBJECT (gone), (gpointer *) &weak);
  g_string_truncate (f->manager_log, 0);

  g_assert_true (remove_profile (f, "gone", &error));
  g_assert_no_error (error);
  g_assert_null (os_manager_lookup (f->manager, "gone"));
  g_assert_null (weak);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 1);
  g_assert_nonnull (os_manager_lookup_advise (f->manager, kept));
  g_assert_cmpstr (f->manager_log->str, ==, "-c::1.6 -p:gone ");

  /* default may go too. */
  g_assert_true (remove_profile (f, "default", &error));
  f->profile = NULL;
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 0);
  g_assert_cmpstr (f->manager_log->str, ==, "-c::1.6 -p:gone -c::1.5 -p:default ");
  names = os_manager_dup_profile_names (f->manager);
  g_assert_cmpstrv (names, ((const char *[]){ NULL }));
}

static void
test_remove_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (remove_profile (f, "nope", &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_NOT_FOUND);
  assert_prefix (error, PREFIX_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (remove_profile (f, "", &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (error, PREFIX_INVALIDARG);
  g_clear_error (&error);

  /* During a transition. */
  advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  begin_transition (f, f->profile, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_false (remove_profile (f, "default", &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_PENDING);
  assert_prefix (error, PREFIX_PENDING);
  g_assert_true (os_manager_lookup (f->manager, "default") == f->profile);
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (3));
  release_held (f);
  spin_until (f, not_transitioning, f->profile);
  g_assert_true (remove_profile (f, "default", NULL));
  f->profile = NULL;
}

static void
test_open (Fixture *f, gconstpointer data)
{
  const char *guids[] = {
    "",
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D1}",
    "fbeffd93-b11f-4094-842b-96dcd31e63d1",
  };
  struct
  {
    const char *name, *guid;
    OsError code;
    const char *prefix;
  } refused[] = {
    { "nope", "", OS_ERROR_NOT_FOUND, PREFIX_NOT_FOUND },
    { "Default", "", OS_ERROR_NOT_FOUND, PREFIX_NOT_FOUND },
    { "default", "{00000000-0000-0000-0000-000000000000}", OS_ERROR_NOT_FOUND, PREFIX_NOT_FOUND },
    { "default", "{FBEFFD93-B11F-4094-842B-96DCD31E63D1", OS_ERROR_INVALID_ARGS,
      PREFIX_INVALIDARG },
    { "default", "garbage", OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { "", "", OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { "a\177", "", OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    /* The GUID is checked first. */
    { "nope", "garbage", OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
    { "", "{00000000-0000-0000-0000-000000000000}", OS_ERROR_NOT_FOUND, PREFIX_NOT_FOUND },
  };

  for (guint i = 0; i < G_N_ELEMENTS (guids); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (os_manager_open (f->manager, "default", guids[i], &error) == f->profile);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (GError) error = NULL;

      g_test_message ("case %u: '%s' '%s'", i, refused[i].name, refused[i].guid);
      g_assert_null (os_manager_open (f->manager, refused[i].name, refused[i].guid, &error));
      g_assert_error (error, OS_ERROR, (int) refused[i].code);
      assert_prefix (error, refused[i].prefix);
    }
}

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
test_profiles_sorted (Fixture *f, gconstpointer data)
{
  guint notified = 0;
  g_auto (GStrv) names = NULL;
  g_auto (GStrv) property = NULL;

  g_signal_connect (f->manager, "notify::profiles", G_CALLBACK (count_notify), &notified);
  create_ok (f, "b", 3, 2);
  create_ok (f, "a", 3, 2);
  create_ok (f, "C", 3, 2);
  g_assert_cmpuint (notified, ==, 3);
  names = os_manager_dup_profile_names (f->manager);
  g_assert_cmpstrv (names, ((const char *[]){ "C", "a", "b", "default", NULL }));
  g_assert_true (remove_profile (f, "a", NULL));
  g_assert_cmpuint (notified, ==, 4);
  g_object_get (f->manager, "profiles", &property, NULL);
  g_assert_cmpstrv (property, ((const char *[]){ "C", "b", "default", NULL }));
  g_signal_handlers_disconnect_by_data (f->manager, &notified);
}

/* Tests: emulation (the Emulation reference) */

static void
hook_unadvise_other (Fixture *f, const Event *event)
{
  guint *victim = f->hook_data;

  if (*victim != 0)
    g_assert_true (os_profile_unadvise (event->profile, OTHER_OWNER, 0, *victim, NULL));
  *victim = 0;
}

static void
test_inject (Fixture *f, gconstpointer data)
{
  guint tokens[4];
  guint notified = 0;
  guint victim;

  set_capabilities (f, f->profile, 0);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  tokens[0] = advise_signal (f, f->profile, OWNER, 10, 0x3);
  tokens[1] = advise_signal (f, f->profile, OWNER, 11, 0x4);
  tokens[2] = advise_callback (f, f->profile, OWNER, 12, 0x00200000u, POLICY_SILENT);
  tokens[3] = advise_signal (f, f->profile, OTHER_OWNER, 13, 0x1);
  g_array_set_size (f->events, 0);
  g_string_truncate (f->log, 0);
  g_signal_connect (f->profile, "notify", G_CALLBACK (count_notify), &notified);

  /* Whatever the masks, the capabilities, the values. */
  os_profile_inject_notification (f->profile, 7, 0x10, 5, 6);
  g_assert_cmpuint (f->events->len, ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      const Event *e = &g_array_index (f->events, Event, i);

      g_assert_cmpuint (e->token, ==, tokens[i]);
      g_assert_cmpuint (e->client_token, ==, 10 + i);
      g_assert_cmpuint (e->notify_type, ==, 7);
      g_assert_cmpuint (e->mask, ==, 0x10);
      g_assert_cmpuint (e->old_state, ==, 5);
      g_assert_cmpuint (e->new_state, ==, 6);
      g_assert_cmpuint (e->sequence, ==, 1);
      g_assert_cmpuint (e->ticket, ==, 0);
    }
  /* It changed nothing, and does not wait for the silent callback. */
  g_assert_cmpuint (notified, ==, 0);
  g_assert_false (os_profile_get_transitioning (f->profile));
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
  drain ();
  g_assert_cmpuint (f->events->len, ==, 4);

  /* An advise removed by an earlier handler is skipped. */
  victim = tokens[3];
  f->hook = hook_unadvise_other;
  f->hook_data = &victim;
  os_profile_inject_notification (f->profile, 1, 3, 1, 2);
  f->hook = NULL;
  g_assert_cmpuint (f->events->len, ==, 7);
  assert_types (f, tokens[3], "7");
  g_assert_cmpuint (notified, ==, 1); /* advise-count */
  g_signal_handlers_disconnect_by_data (f->profile, &notified);
}

typedef struct
{
  guint state, transitioning, sequence, advise_count, capabilities, transition_delay;
} Notified;

static void
count_by_name (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Notified *n = user_data;

  if (g_str_equal (pspec->name, "state"))
    n->state++;
  else if (g_str_equal (pspec->name, "transitioning"))
    n->transitioning++;
  else if (g_str_equal (pspec->name, "sequence"))
    n->sequence++;
  else if (g_str_equal (pspec->name, "advise-count"))
    n->advise_count++;
  else if (g_str_equal (pspec->name, "capabilities"))
    n->capabilities++;
  else if (g_str_equal (pspec->name, "transition-delay"))
    n->transition_delay++;
  else
    g_error ("unexpected notify::%s", pspec->name);
}

static void
test_property_notify (Fixture *f, gconstpointer data)
{
  Notified n = { 0 };
  guint token;
  guint64 sequence = 0;
  guint state = 0;

  g_signal_connect (f->profile, "notify", G_CALLBACK (count_by_name), &n);
  token = advise_signal (f, f->profile, OWNER, 1, 0x3);
  g_assert_cmpuint (n.advise_count, ==, 1);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (n.state, ==, 1);
  g_assert_cmpuint (n.transitioning, ==, 2);
  g_assert_cmpuint (n.sequence, ==, 1);
  /* Nothing for a request of the current state. */
  change_state (f, f->profile, 0, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (n.state, ==, 1);
  g_assert_cmpuint (n.transitioning, ==, 2);

  set_capabilities (f, f->profile, 1);
  g_assert_cmpuint (n.capabilities, ==, 1);
  set_capabilities (f, f->profile, 1);
  g_assert_cmpuint (n.capabilities, ==, 1);
  g_assert_true (os_profile_set_transition_delay (f->profile, 10, NULL));
  g_assert_true (os_profile_set_transition_delay (f->profile, 10, NULL));
  g_assert_cmpuint (n.transition_delay, ==, 1);
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, token, NULL));
  g_assert_cmpuint (n.advise_count, ==, 2);
  g_assert_cmpuint (n.sequence, ==, 1);
  g_assert_cmpuint (n.state, ==, 1);

  g_object_get (f->profile, "sequence", &sequence, "state", &state, NULL);
  g_assert_cmpuint (sequence, ==, 1);
  g_assert_cmpuint (state, ==, 1);
  g_signal_handlers_disconnect_by_data (f->profile, &n);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  FIXTURE_ADD ("/core/load/default", &quick_limits, test_load_default);

  FIXTURE_ADD ("/core/advise/fields", &quick_limits, test_advise_fields);
  FIXTURE_ADD ("/core/advise/refused", &quick_limits, test_advise_refused);
  FIXTURE_ADD ("/core/advise/tokens", &quick_limits, test_tokens);
  FIXTURE_ADD ("/core/unadvise/refused-quietly", &quick_limits, test_unadvise_refused_quietly);

  FIXTURE_ADD ("/core/limits/per-connection", &quick_limits, test_limit_per_connection);
  FIXTURE_ADD ("/core/limits/advises", &quick_limits, test_limit_advises);
  FIXTURE_ADD ("/core/limits/profiles", &quick_limits, test_limit_profiles);

  FIXTURE_ADD ("/core/clients/signals", &quick_limits, test_clients);
  FIXTURE_ADD ("/core/clients/vanished", &quick_limits, test_client_vanished);
  FIXTURE_ADD ("/core/clients/vanished-during-transition", &patient_limits,
               test_client_vanished_during_transition);

  FIXTURE_ADD ("/core/profiles/create", &quick_limits, test_create);
  FIXTURE_ADD ("/core/profiles/create-refused", &quick_limits, test_create_refused);
  FIXTURE_ADD ("/core/profiles/remove", &quick_limits, test_remove);
  FIXTURE_ADD ("/core/profiles/remove-refused", &patient_limits, test_remove_refused);
  FIXTURE_ADD ("/core/profiles/open", &quick_limits, test_open);
  FIXTURE_ADD ("/core/profiles/sorted", &quick_limits, test_profiles_sorted);

  FIXTURE_ADD ("/core/emulation/inject", &quick_limits, test_inject);
  FIXTURE_ADD ("/core/properties/notify", &quick_limits, test_property_notify);

  return g_test_run ();
}
