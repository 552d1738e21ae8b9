/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Advise and Unadvise (the D-Bus reference, OfflineMgr.Advise and Unadvise): whose advise goes,
 * unicast delivery, the argument checks of Advise and SetCurrentState with their wire names, the
 * state mask, the limits (docs/daemon.md), tokens, capabilities, and the
 * Emulation interface (the Emulation reference), against the real daemon on a private bus: a fresh
 * bus and daemon for every case. Transitions themselves are in test-transitions.c.
 */
#include <string.h>

#include "transition-clients.h"
#include "mapi-prefixes.h"

#define INJECTED_MESSAGE "injected by Emulation.FailNext"

/* Each case gets its own bus and daemon (harness_fixture_setup), or one of these. */

static void
setup_per_connection_limit (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--max-advises-per-connection=2", NULL };

  harness_setup (h, args);
}

static void
setup_total_limit (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--max-advises=3", NULL };

  harness_setup (h, args);
}

/* Calls */

static GError *
advise_full (GDBusConnection *connection,
             const char *path,
             guint flags,
             guint client_token,
             guint callback_type,
             const char *callback,
             guint advise_types,
             guint state_mask,
             guint *token_out)
{
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = harness_call (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
                        g_variant_new ("(uuuouu)", flags, client_token, callback_type, callback,
                                       advise_types, state_mask),
                        &error);
  if (reply != NULL && token_out != NULL)
    g_variant_get (reply, "(u)", token_out);
  return error;
}

static guint
advise_with_mask (GDBusConnection *connection,
                  const char *path,
                  guint client_token,
                  const char *callback,
                  guint state_mask)
{
  g_autoptr (GError) error = NULL;
  guint token = 0;

  error = advise_full (connection, path, 0, client_token, 0, callback, 1, state_mask, &token);
  g_assert_no_error (error);
  g_assert_cmpuint (token, !=, 0);
  return token;
}

/* Notifications */

/* The notes of @recorder that carry @client_token, as a new recorder-less array. */
static GArray *
notes_of_token (HarnessRecorder *recorder, guint client_token)
{
  GArray *notes = g_array_new (FALSE, TRUE, sizeof (HarnessNote));

  for (guint i = 0; i < recorder->n_notes; i++)
    {
      const HarnessNote *note = harness_recorder_note (recorder, i);

      if (note->client_token == client_token)
        g_array_append_vals (notes, note, 1);
    }
  return notes;
}

/* 1. Nobody removes another's advise. */

static void
test_unadvise_rules (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *other_path = NULL;
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (GVariant) created = NULL;
  guint token, other_object_token;

  created = harness_call_ok (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE,
                             "CreateOfflineObject", g_variant_new ("(suu)", "second", 3, ONLINE));
  g_variant_get (created, "(o)", &other_path);

  token = harness_advise (h->client, path, 21, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  other_object_token =
      harness_advise (h->client, other_path, 22, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  unadvise_ok (other, path, token);                  /* another connection's */
  unadvise_ok (h->client, path, 999999);             /* unknown */
  unadvise_ok (h->client, path, 0);                  /* never handed out */
  unadvise_ok (h->client, path, other_object_token); /* another object's */
  assert_advise_count (h->client, path, 1);
  assert_advise_count (h->client, other_path, 1);
  {
    g_autoptr (GError) error = unadvise (h->client, path, 1, token);

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
    assert_advise_count (h->client, path, 1);
  }

  set_state_ok (other, path, BLOCK, OFFLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 21, ONLINE, OFFLINE, 1);

  unadvise_ok (h->client, path, token);
  assert_advise_count (h->client, path, 0);
  assert_advise_count (h->client, other_path, 1);
  unadvise_ok (h->client, path, token); /* again: unknown now */
  set_state_ok (other, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_object (h->client, path, ONLINE, 2, FALSE);
}

/* 2. StateChanged is unicast, once per advise. */

static void
test_unicast (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) bystander = harness_connect (h);
  g_autoptr (HarnessRecorder) advised = harness_recorder_new_signal (h->client, path);
  g_autoptr (HarnessRecorder) listening = harness_recorder_new_signal (bystander, path);

  harness_advise (h->client, path, 8, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (bystander, path, BLOCK, OFFLINE);
  settle (h->client, path);
  settle (bystander, path);
  g_assert_cmpuint (advised->n_notes, ==, 3);
  assert_transition (advised, 0, 8, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (listening->n_notes, ==, 0);
}

static void
test_two_advises_one_connection (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  guint first, second;

  first = harness_advise (h->client, path, 11, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  second = harness_advise (h->client, path, 22, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpuint (first, !=, second);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  for (guint token = 11; token <= 22; token += 11)
    {
      g_autoptr (GArray) notes = notes_of_token (recorder, token);

      g_assert_cmpuint (notes->len, ==, 3);
      for (guint i = 0; i < 3; i++)
        {
          const HarnessNote *note = &g_array_index (notes, HarnessNote, i);

          g_assert_cmpuint (note->notify_type, ==, START + i);
          g_assert_cmpuint (note->mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
          g_assert_cmpuint (note->old_state, ==, ONLINE);
          g_assert_cmpuint (note->new_state, ==, OFFLINE);
          g_assert_cmpuint (note->sequence, ==, 1);
        }
    }
}

/* 3. Argument checks, with their exact wire names */

static void
assert_advise_refused (Harness *h,
                       const char *path,
                       guint flags,
                       guint callback_type,
                       guint advise_types,
                       guint state_mask,
                       const char *dbus_name,
                       const char *prefix)
{
  g_autoptr (GError) error = NULL;
  guint token = 0;

  error = advise_full (h->client, path, flags, 1, callback_type, OFFLINE_STATE_SIGNAL_CALLBACK_PATH,
                       advise_types, state_mask, &token);
  harness_assert_dbus_error (error, dbus_name, prefix);
  g_assert_cmpuint (token, ==, 0);
  assert_advise_count (h->client, path, 0);
}

static void
test_advise_invalid_args (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  const char *invalid = OFFLINE_STATE_ERROR_INVALID_ARGS;
  const char *no_interface = OFFLINE_STATE_ERROR_NO_INTERFACE;

  assert_advise_refused (h, path, 1, 0, 1, 3, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 1, 1, 3, no_interface, PREFIX_NOINTERFACE);
  assert_advise_refused (h, path, 0, 0, 2, 3, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 0, 0, 3, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 0, 1, 0, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 0, 1, 0x00400000, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 0, 1, MAPIOFFLINE_STATE_ALL | 0x80, invalid,
                         PREFIX_INVALIDARG);
  /* The checks come in the documented order: flags, callback type, types, mask. */
  assert_advise_refused (h, path, 1, 1, 2, 0, invalid, PREFIX_INVALIDARG);
  assert_advise_refused (h, path, 0, 1, 2, 0, no_interface, PREFIX_NOINTERFACE);
  assert_advise_refused (h, path, 0, 0, 2, 0, invalid, PREFIX_INVALIDARG);

  /* The edges that are allowed. */
  advise_with_mask (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, MAPIOFFLINE_STATE_ALL);
  advise_with_mask (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x1);
  assert_advise_count (h->client, path, 2);
}

static void
test_set_state_invalid_args (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  const guint cases[][3] = {
    /* flags, mask, state */
    { 1, 3, OFFLINE },
    { BLOCK | 1, 3, OFFLINE },
    { 0x4000, 3, OFFLINE },
    { 0, 1, OFFLINE },
    { 0, 2, OFFLINE },
    { 0, 0x7, OFFLINE },
    { 0, 3, 0 },
    { 0, 3, 3 },
    { BLOCK, 3, 0 },
    { BLOCK, 3, 4 },
  };

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = harness_call_error (
          h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
          g_variant_new ("(uuu)", cases[i][0], cases[i][1], cases[i][2]));

      harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
      assert_object (h->client, path, ONLINE, 0, FALSE);
    }
  {
    /* The wrong D-Bus signature: GDBus's own InvalidArgs. */
    g_autoptr (GError) error =
        harness_call_error (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                            g_variant_new ("(ss)", "offline", "now"));

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, NULL);
  }
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 0);
  assert_object (h->client, path, ONLINE, 0, FALSE);
}

/* A transition notifies the advises whose state_mask meets 0x3, whatever the direction. */
static void
test_state_mask (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  /* The client token is the state mask. */
  const struct
  {
    guint client_token;
    guint n_notes;
  } expected[] = { { 0x1, 6 }, { 0x2, 6 }, { 0x4, 0 }, { 0x100, 0 } };

  advise_with_mask (h->client, path, 0x1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x1);
  advise_with_mask (h->client, path, 0x2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x2);
  advise_with_mask (h->client, path, 0x4, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x4);
  advise_with_mask (h->client, path, 0x100, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x100);
  assert_advise_count (h->client, path, 4);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 12);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_autoptr (GArray) notes = notes_of_token (recorder, expected[i].client_token);

      g_assert_cmpuint (notes->len, ==, expected[i].n_notes);
    }
}

/* 4. Limits */

static void
assert_limit_error (const GError *error, const char *limit, const char *not_this_one)
{
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, NULL);
  if (strstr (error->message, limit) == NULL)
    g_error ("'%s' does not name the limit %s", error->message, limit);
  if (not_this_one != NULL && strstr (error->message, not_this_one) != NULL)
    g_error ("'%s' names %s, which was not reached", error->message, not_this_one);
}

static void
test_limit_per_connection (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (GError) error = NULL;
  guint token = 0, first;

  first = harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (h->client, path, 2, "/test/callback");
  error = advise_full (h->client, path, 0, 3, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3, &token);
  assert_limit_error (error, "max-advises-per-connection", NULL);
  g_assert_cmpuint (token, ==, 0);
  assert_advise_count (h->client, path, 2);

  harness_advise (other, path, 4, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (other, path, 5, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 4);

  /* Room again once one is gone. */
  unadvise_ok (h->client, path, first);
  harness_advise (h->client, path, 6, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 4);
}

static void
test_limit_total (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) second = harness_connect (h);
  g_autoptr (GDBusConnection) third = harness_connect (h);
  g_autoptr (GError) error = NULL;
  guint token = 0, last;

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  last = harness_advise (second, path, 3, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  error = advise_full (third, path, 0, 4, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3, &token);
  assert_limit_error (error, "max-advises", "max-advises-per-connection");
  g_assert_cmpuint (token, ==, 0);
  assert_advise_count (h->client, path, 3);

  unadvise_ok (second, path, last);
  harness_advise (third, path, 5, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 3);
}

/* 5. Tokens */

static void
test_tokens (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint token;

  for (guint i = 0; i < 6; i++)
    {
      token = harness_advise (i % 2 ? other : h->client, path, 7, /* same client token */
                              i % 3 ? OFFLINE_STATE_SIGNAL_CALLBACK_PATH : "/test/cb");
      g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (token)));
      g_hash_table_add (seen, GUINT_TO_POINTER (token));
    }
  /* Advise, Unadvise, Advise: never the same token again. */
  token = harness_advise (h->client, path, 7, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (token)));
  g_hash_table_add (seen, GUINT_TO_POINTER (token));
  for (guint i = 0; i < 3; i++)
    {
      unadvise_ok (h->client, path, token);
      assert_advise_count (h->client, path, 6);
      token = harness_advise (h->client, path, 7, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
      g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (token)));
      g_hash_table_add (seen, GUINT_TO_POINTER (token));
    }
  g_assert_false (g_hash_table_contains (seen, GUINT_TO_POINTER (0)));
}

/* 6. Capabilities choose the directions that notify. */

static void
test_capabilities (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (GVariant) reply = NULL;
  guint capabilities;

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpuint (harness_get_uint (h->client, path, "Capabilities"), ==, 3);

  emulation_call_ok (h->client, path, "SetCapabilities",
                     g_variant_new ("(u)", MAPIOFFLINE_CAPABILITY_OFFLINE));
  reply = harness_call_ok (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCapabilities",
                           NULL);
  g_variant_get (reply, "(u)", &capabilities);
  g_assert_cmpuint (capabilities, ==, MAPIOFFLINE_CAPABILITY_OFFLINE);
  g_assert_cmpuint (harness_get_uint (h->client, path, "Capabilities"), ==, 1);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 1, ONLINE, OFFLINE, 1);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_object (h->client, path, ONLINE, 2, FALSE);

  emulation_call_ok (h->client, path, "SetCapabilities",
                     g_variant_new ("(u)", MAPIOFFLINE_CAPABILITY_ONLINE));
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  assert_transition (recorder, 3, 1, OFFLINE, ONLINE, 4);
  assert_object (h->client, path, ONLINE, 4, FALSE);

  {
    g_autoptr (GError) error =
        emulation_call (h->client, path, "SetCapabilities", g_variant_new ("(u)", 4));

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
    g_assert_cmpuint (harness_get_uint (h->client, path, "Capabilities"), ==, 2);
  }
}

/* 7. Emulation */

static guint
get_transition_delay (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_EMULATION_INTERFACE, "TransitionDelay");

  return g_variant_get_uint32 (value);
}

static void
test_emulation_transition_delay (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (get_transition_delay (h->client, path), ==, 0);
  error = emulation_call (h->client, path, "SetTransitionDelay", g_variant_new ("(u)", 600001));
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
  g_assert_cmpuint (get_transition_delay (h->client, path), ==, 0);
  set_transition_delay (h->client, path, 600000);
  g_assert_cmpuint (get_transition_delay (h->client, path), ==, 600000);
  set_transition_delay (h->client, path, 250);
  g_assert_cmpuint (get_transition_delay (h->client, path), ==, 250);
  set_transition_delay (h->client, path, 0);
  g_assert_cmpuint (get_transition_delay (h->client, path), ==, 0);
}

static void
test_emulation_inject (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) by_signal = harness_recorder_new_signal (h->client, path);
  /* Silent: the call below cannot wait for it, since this process is blocked in it. */
  g_autoptr (HarnessRecorder) by_callback =
      harness_recorder_new_callback (h->client, "/test/inject", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) off_mask = harness_recorder_new_signal (other, path);
  gint64 begin;

  harness_advise (h->client, path, 31, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  advise_with_mask (other, path, 33, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 0x4);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  harness_advise (h->client, path, 32, "/test/inject");
  /* Whatever the capabilities, too. */
  emulation_call_ok (h->client, path, "SetCapabilities", g_variant_new ("(u)", 0));

  begin = g_get_monotonic_time ();
  emulation_call_ok (h->client, path, "InjectNotification", g_variant_new ("(uuuu)", 7, 5, 9, 9));
  g_assert_cmpint (g_get_monotonic_time () - begin, <, 4000 * G_TIME_SPAN_MILLISECOND);

  harness_wait_count (&by_signal->n_notes, 4, WAIT_MS);
  harness_wait_count (&by_callback->n_notes, 1, WAIT_MS);
  harness_wait_count (&off_mask->n_notes, 1, WAIT_MS);
  settle (h->client, path);
  settle (other, path);
  g_assert_cmpuint (by_signal->n_notes, ==, 4);
  assert_transition (by_signal, 0, 31, ONLINE, OFFLINE, 1);
  assert_note (by_signal, 3, 7, 31, 5, 9, 9, 1);
  g_assert_cmpuint (by_callback->n_notes, ==, 1);
  assert_note (by_callback, 0, 7, 32, 5, 9, 9, 1);
  g_assert_cmpuint (off_mask->n_notes, ==, 1);
  assert_note (off_mask, 0, 7, 33, 5, 9, 9, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  assert_advise_count (h->client, path, 3);
}

/* An injected notification that a callback refuses removes that advise, as in a transition. */
static void
test_emulation_inject_failing_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  g_autoptr (HarnessRecorder) failing =
      harness_recorder_new_callback (h->client, "/test/fail", HARNESS_FAIL, 0);

  harness_advise (h->client, path, 1, "/test/fail");
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  /* AdviseCount may pass 1 on its way up: wait for 2, then for 1 again. */
  watch->want_advise_count = 2;
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
  watch->advise_count_reached = FALSE;
  watch->want_advise_count = 1;
  emulation_call_ok (h->client, path, "InjectNotification",
                     g_variant_new ("(uuuu)", START, 3, ONLINE, OFFLINE));
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
  assert_advise_count (h->client, path, 1);
  g_assert_cmpuint (failing->n_notes, ==, 1);
  assert_note (failing, 0, START, 1, 3, ONLINE, OFFLINE, 0);
  assert_object (h->client, path, ONLINE, 0, FALSE);
}

static void
assert_get_current_state_fails (Harness *h, const char *path, const char *error_name)
{
  g_autoptr (GError) error = harness_call_error (
      h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL);

  harness_assert_dbus_error (error, error_name, INJECTED_MESSAGE);
}

static void
assert_fail_next_refused (
    Harness *h, const char *path, const char *method, const char *name, guint count)
{
  g_autoptr (GError) error =
      emulation_call (h->client, path, "FailNext", g_variant_new ("(ssu)", method, name, count));

  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
}

static void
test_emulation_fail_next (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GVariant) reply = NULL;
  guint state;

  emulation_call_ok (h->client, path, "FailNext",
                     g_variant_new ("(ssu)", "GetCurrentState", "com.example.Injected", 2));
  assert_get_current_state_fails (h, path, "com.example.Injected");
  assert_get_current_state_fails (h, path, "com.example.Injected");
  reply = harness_call_ok (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                           NULL);
  g_variant_get (reply, "(u)", &state);
  g_assert_cmpuint (state, ==, ONLINE);

  assert_fail_next_refused (h, path, "Bogus", "x.y", 1);
  assert_fail_next_refused (h, path, "getcurrentstate", "x.y", 1);
  assert_fail_next_refused (h, path, "Advise", "not a name", 1);
  assert_fail_next_refused (h, path, "Advise", "", 1);

  /* Count 0 clears a pending failure, and then the name may be empty. */
  emulation_call_ok (h->client, path, "FailNext",
                     g_variant_new ("(ssu)", "Advise", "com.example.Nope", 1));
  emulation_call_ok (h->client, path, "FailNext", g_variant_new ("(ssu)", "Advise", "", 0));
  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 1);

  /* An injected failure comes before the argument checks, and has no other effect. */
  emulation_call_ok (h->client, path, "FailNext",
                     g_variant_new ("(ssu)", "SetCurrentState", OFFLINE_STATE_ERROR_PENDING, 1));
  {
    g_autoptr (GError) error = harness_set_state (h->client, path, BLOCK | 1, OFFLINE);

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_PENDING, INJECTED_MESSAGE);
  }
  assert_object (h->client, path, ONLINE, 0, FALSE);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
}

/* A client that advises in a loop: each read of AdviseCount right after an Advise counts it,
 * PropertiesChanged ends with the last count, and the changes are told together, not one
 * signal per call (the daemon holds them back for 100 ms after telling one). */
static void
test_advise_count_changes (Harness *h, gconstpointer data)
{
  enum
  {
    ADVISES = 60,
  };
  g_autofree char *path = default_path ();
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (h->client, path, NULL);
  guint tokens[ADVISES];
  guint count_signals = 0;

  for (guint i = 0; i < ADVISES; i++)
    {
      tokens[i] = harness_advise (h->client, path, i, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
      assert_advise_count (h->client, path, i + 1);
    }
  watch->want_advise_count = ADVISES;
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
  for (guint i = 0; i < watch->events->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (watch->events, i), "AdviseCount="))
      count_signals++;
  g_test_message ("%u Advise calls, %u PropertiesChanged of AdviseCount", ADVISES, count_signals);
  g_assert_cmpuint (count_signals, >=, 1);
  g_assert_cmpuint (count_signals, <, ADVISES / 2);

  /* Going down the same way, to 0. */
  watch->advise_count_reached = FALSE;
  watch->want_advise_count = 0;
  for (guint i = 0; i < ADVISES; i++)
    {
      unadvise_ok (h->client, path, tokens[i]);
      assert_advise_count (h->client, path, ADVISES - i - 1);
    }
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/transitions/unadvise-rules", NULL, harness_fixture_setup, test_unadvise_rules);
  HARNESS_ADD ("/transitions/unicast", NULL, harness_fixture_setup, test_unicast);
  HARNESS_ADD ("/transitions/two-advises-one-connection", NULL, harness_fixture_setup,
               test_two_advises_one_connection);
  HARNESS_ADD ("/transitions/advise-invalid-args", NULL, harness_fixture_setup,
               test_advise_invalid_args);
  HARNESS_ADD ("/transitions/set-state-invalid-args", NULL, harness_fixture_setup,
               test_set_state_invalid_args);
  HARNESS_ADD ("/transitions/state-mask", NULL, harness_fixture_setup, test_state_mask);
  HARNESS_ADD ("/transitions/limit-per-connection", NULL, setup_per_connection_limit,
               test_limit_per_connection);
  HARNESS_ADD ("/transitions/limit-total", NULL, setup_total_limit, test_limit_total);
  HARNESS_ADD ("/transitions/tokens", NULL, harness_fixture_setup, test_tokens);
  HARNESS_ADD ("/transitions/advise-count-changes", NULL, harness_fixture_setup,
               test_advise_count_changes);
  HARNESS_ADD ("/transitions/capabilities", NULL, harness_fixture_setup, test_capabilities);
  HARNESS_ADD ("/transitions/emulation-transition-delay", NULL, harness_fixture_setup,
               test_emulation_transition_delay);
  HARNESS_ADD ("/transitions/emulation-inject", NULL, harness_fixture_setup, test_emulation_inject);
  HARNESS_ADD ("/transitions/emulation-inject-failing-callback", NULL, harness_fixture_setup,
               test_emulation_inject_failing_callback);
  HARNESS_ADD ("/transitions/emulation-fail-next", NULL, harness_fixture_setup,
               test_emulation_fail_next);

  return g_test_run ();
}
