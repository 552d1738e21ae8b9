/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The offline-state model with no bus: the transition rules (the OfflineMgr reference), callback
 * delivery and the emulated transition delay. The test plays every client (core-fixture.h).
 */
#include <string.h>

#include "core-fixture.h"

/* Helpers */

static void
assert_pending (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, flags, state);

  spin_until (f, call_done, call);
  g_assert_false (call->ok);
  g_assert_error (call->error, OS_ERROR, OS_ERROR_PENDING);
  g_assert_true (g_str_has_prefix (call->error->message, PREFIX_PENDING));
}

static const Event *
find_event (Fixture *f, guint token, guint notify_type)
{
  for (guint i = 0; i < f->events->len; i++)
    {
      const Event *e = &g_array_index (f->events, Event, i);

      if (e->token == token && e->notify_type == notify_type)
        return e;
    }
  g_error ("advise %u received no notification %u", token, notify_type);
  return NULL;
}

/* Tests: transitions (the OfflineMgr reference's transition) */

static void
assert_event (
    const Event *e, guint client_token, guint type, guint old, guint new, guint64 sequence)
{
  g_assert_cmpuint (e->client_token, ==, client_token);
  g_assert_cmpuint (e->notify_type, ==, type);
  g_assert_cmpuint (e->mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
  g_assert_cmpuint (e->old_state, ==, old);
  g_assert_cmpuint (e->new_state, ==, new);
  g_assert_cmpuint (e->sequence, ==, sequence);
}

static void
test_phases (Fixture *f, gconstpointer data)
{
  guint token = advise_signal (f, f->profile, OWNER, 0xC0FFEE, MAPIOFFLINE_STATE_OFFLINE_MASK);
  OsAdvise *advise = os_manager_lookup_advise (f->manager, token);

  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (f->events->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      const Event *e = &g_array_index (f->events, Event, i);

      assert_event (e, 0xC0FFEE, i + 1, 2, 1, 1);
      g_assert_true (e->advise == advise);
      g_assert_true (e->profile == f->profile);
    }
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
  g_assert_false (os_profile_get_transitioning (f->profile));

  /* And back, numbered one more. */
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (f->events->len, ==, 6);
  for (guint i = 3; i < 6; i++)
    assert_event (&g_array_index (f->events, Event, i), 0xC0FFEE, i - 2, 1, 2, 2);
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 2);
  g_assert_cmpstr (f->log->str, ==,
                   "T1 S12648430 st C12648430 D12648430 T0 ret "
                   "T1 S12648430 st C12648430 D12648430 T0 ret ");
}

static void
test_phases_many_subscribers (Fixture *f, gconstpointer data)
{
  guint a = advise_signal (f, f->profile, OWNER, 1, 0x3);
  guint b = advise_callback (f, f->profile, OTHER_OWNER, 2, 0x1, POLICY_REPLY_IDLE);
  guint c = advise_signal (f, f->profile, OTHER_OWNER, 3, MAPIOFFLINE_STATE_ALL);

  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  assert_types (f, a, "123");
  assert_types (f, b, "123");
  assert_types (f, c, "123");
  /* Every subscriber has each phase before anyone has the next one. */
  g_assert_cmpstr (f->log->str, ==, "T1 S1 S2 S3 st C1 C2 C3 D1 D2 D3 T0 ret ");
  assert_event (find_event (f, b, 2), 2, 2, 2, 1, 1);
  assert_event (find_event (f, c, 3), 3, 3, 2, 1, 1);
  /* The tickets of a callback advise differ from phase to phase. */
  g_assert_cmpuint (find_event (f, b, 1)->ticket, !=, 0);
  g_assert_cmpuint (find_event (f, b, 1)->ticket, !=, find_event (f, b, 2)->ticket);
  g_assert_cmpuint (find_event (f, b, 2)->ticket, !=, find_event (f, b, 3)->ticket);
}

static void
test_same_state (Fixture *f, gconstpointer data)
{
  const guint flags[] = { 0, MAPIOFFLINE_FLAG_BLOCK };

  advise_signal (f, f->profile, OWNER, 1, 0x3);
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_autoptr (Call) call = set_state (f, f->profile, flags[i], MAPIOFFLINE_STATE_ONLINE);

      g_assert_false (os_profile_get_transitioning (f->profile));
      spin_until (f, call_done, call);
      g_assert_no_error (call->error);
      g_assert_true (call->ok);
      drain ();
    }
  g_assert_cmpuint (f->events->len, ==, 0);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpstr (f->log->str, ==, "ret ret ");
}

static void
test_invalid_args_first (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) bad_flags = NULL;
  g_autoptr (Call) bad_mask = call_new (f);
  g_autoptr (Call) bad_state = NULL;

  advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  begin_transition (f, f->profile, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_true (os_profile_get_transitioning (f->profile));

  /* During a transition, arguments are still checked first. */
  bad_flags = set_state (f, f->profile, 1, MAPIOFFLINE_STATE_ONLINE);
  os_profile_set_state_async (f->profile, 0, 0x7, MAPIOFFLINE_STATE_ONLINE, set_state_done,
                              bad_mask);
  bad_state = set_state (f, f->profile, 0, 3);
  spin_until (f, call_done, bad_flags);
  spin_until (f, call_done, bad_mask);
  spin_until (f, call_done, bad_state);
  g_assert_error (bad_flags->error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  g_assert_error (bad_mask->error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  g_assert_error (bad_state->error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (bad_flags->error, PREFIX_INVALIDARG);
  assert_prefix (bad_mask->error, PREFIX_INVALIDARG);
  assert_prefix (bad_state->error, PREFIX_INVALIDARG);
  release_held (f);
}

static void
test_pending (Fixture *f, gconstpointer data)
{
  advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  begin_transition (f, f->profile, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_true (os_profile_get_transitioning (f->profile));
  g_assert_cmpuint (f->held->len, ==, 1);

  /* Any valid request during the transition: the old state (still current), the new one,
   * with or without BLOCK. */
  assert_pending (f, f->profile, 0, MAPIOFFLINE_STATE_ONLINE);
  assert_pending (f, f->profile, 0, MAPIOFFLINE_STATE_OFFLINE);
  assert_pending (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  assert_pending (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);

  /* After the commit the current state is the new one: still Pending. */
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  assert_pending (f, f->profile, 0, MAPIOFFLINE_STATE_OFFLINE);
  assert_pending (f, f->profile, 0, MAPIOFFLINE_STATE_ONLINE);
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (3));
  assert_pending (f, f->profile, 0, MAPIOFFLINE_STATE_ONLINE);
  release_held (f);
  spin_until (f, not_transitioning, f->profile);

  /* Only one transition ran. */
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
  g_assert_cmpuint (f->events->len, ==, 3);
  g_hash_table_remove_all (f->policies);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 2);
}

typedef struct
{
  GPtrArray *calls;
} HandlerCalls;

static void
hook_set_state (Fixture *f, const Event *event)
{
  HandlerCalls *hc = f->hook_data;
  Call *same = call_new (f);
  Call *back = call_new (f);

  os_profile_set_state_async (event->profile, 0, 0x3, event->new_state, set_state_done, same);
  os_profile_set_state_async (event->profile, MAPIOFFLINE_FLAG_BLOCK, 0x3, event->old_state,
                              set_state_done, back);
  g_ptr_array_add (hc->calls, same);
  g_ptr_array_add (hc->calls, back);
}

static void
test_pending_from_handler (Fixture *f, gconstpointer data)
{
  HandlerCalls hc = { g_ptr_array_new_with_free_func ((GDestroyNotify) call_free) };

  advise_signal (f, f->profile, OWNER, 1, 0x3);
  f->hook = hook_set_state;
  f->hook_data = &hc;
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  f->hook = NULL;
  g_assert_cmpuint (hc.calls->len, ==, 6);
  for (guint i = 0; i < hc.calls->len; i++)
    {
      Call *call = g_ptr_array_index (hc.calls, i);

      spin_until (f, call_done, call);
      g_assert_false (call->ok);
      g_assert_error (call->error, OS_ERROR, OS_ERROR_PENDING);
      assert_prefix (call->error, PREFIX_PENDING);
    }
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
  g_assert_cmpuint (f->events->len, ==, 3);
  g_ptr_array_unref (hc.calls);
}

static void
test_nonblock_returns_early (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  const char *ret, *done;

  advise_signal (f, f->profile, OWNER, 7, 0x3);
  call = set_state (f, f->profile, 0, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_true (os_profile_get_transitioning (f->profile));
  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  spin_until (f, not_transitioning, f->profile);
  /* The reply says the transition has started: it comes after Transitioning became true
   * and before the last phase. */
  g_assert_true (g_str_has_prefix (f->log->str, "T1 "));
  ret = strstr (f->log->str, "ret ");
  done = strstr (f->log->str, "D7 ");
  g_assert_nonnull (ret);
  g_assert_nonnull (done);
  g_assert_true (ret < done);
  g_string_replace (f->log, "ret ", "", 1);
  g_assert_cmpstr (f->log->str, ==, "T1 S7 st C7 D7 T0 ");
}

static void
test_nonblock_returns_before_commit (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;

  advise_callback (f, f->profile, OWNER, 7, 0x3, POLICY_HOLD);
  call = set_state (f, f->profile, 0, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  g_assert_true (call->transitioning_at_done);
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpstr (f->log->str, ==, "T1 S7 ret ");
  for (guint phase = 2; phase <= 3; phase++)
    {
      release_held (f);
      spin_until (f, has_events, GUINT_TO_POINTER (phase));
    }
  release_held (f);
  spin_until (f, not_transitioning, f->profile);
  g_assert_cmpstr (f->log->str, ==, "T1 S7 ret st C7 D7 T0 ");
}

static void
test_block_returns_after_done (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;

  advise_callback (f, f->profile, OWNER, 7, 0x3, POLICY_HOLD);
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  for (guint phase = 1; phase <= 3; phase++)
    {
      spin_until (f, has_events, GUINT_TO_POINTER (phase));
      drain ();
      g_assert_false (call->done);
      g_assert_true (os_profile_get_transitioning (f->profile));
      g_assert_cmpuint (f->held->len, ==, 1);
      release_held (f);
    }
  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  g_assert_false (call->transitioning_at_done);
  g_assert_cmpstr (f->log->str, ==, "T1 S7 st C7 D7 T0 ret ");
}

static void
test_block_without_subscribers (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call =
      set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);

  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  g_assert_false (call->transitioning_at_done);
  drain ();
  g_assert_cmpstr (f->log->str, ==, "T1 st T0 ret ");
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
}

static void
test_block_signal_subscriber (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;

  advise_signal (f, f->profile, OWNER, 7, 0x3);
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  g_assert_false (call->transitioning_at_done);
  drain ();
  g_assert_cmpstr (f->log->str, ==, "T1 S7 st C7 D7 T0 ret ");
}

static void
test_capabilities_filter (Fixture *f, gconstpointer data)
{
  guint token = advise_signal (f, f->profile, OWNER, 1, 0x3);

  set_capabilities (f, f->profile, MAPIOFFLINE_CAPABILITY_OFFLINE);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  assert_types (f, token, "123");
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  assert_types (f, token, "123");
  /* Not told, but the state changed all the same. */
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 2);

  set_capabilities (f, f->profile, MAPIOFFLINE_CAPABILITY_ONLINE);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  assert_types (f, token, "123");
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 3);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  assert_types (f, token, "123123");
  assert_event (find_event (f, token, 3), 1, 3, 2, 1, 1);
  assert_event (&g_array_index (f->events, Event, 5), 1, 3, 1, 2, 4);

  set_capabilities (f, f->profile, 0);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  assert_types (f, token, "123123");
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 6);
}

static void
test_capabilities_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_profile_set_capabilities_async (f->profile, 4, store_result, &result);
  spin_until (f, result_ready, &result);
  g_assert_false (os_profile_set_capabilities_finish (f->profile, result, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (error, PREFIX_INVALIDARG);
  g_assert_cmpuint (os_profile_get_capabilities (f->profile), ==, 3);
}

static void
test_state_mask (Fixture *f, gconstpointer data)
{
  guint offline = advise_signal (f, f->profile, OWNER, 1, MAPIOFFLINE_STATE_OFFLINE);
  guint online = advise_signal (f, f->profile, OWNER, 2, MAPIOFFLINE_STATE_ONLINE);
  guint all = advise_signal (f, f->profile, OWNER, 3, MAPIOFFLINE_STATE_ALL);
  guint other = advise_signal (f, f->profile, OTHER_OWNER, 4, 0x4);
  guint high = advise_signal (f, f->profile, OTHER_OWNER, 5, 0x00200000u | 0x300u);

  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  /* Any bit of 0x3 subscribes to both directions. */
  assert_types (f, offline, "123123");
  assert_types (f, online, "123123");
  assert_types (f, all, "123123");
  assert_types (f, other, "");
  assert_types (f, high, "");
  g_assert_cmpuint (f->events->len, ==, 18);
}

static void
hook_advise (Fixture *f, const Event *event)
{
  guint *late = f->hook_data;

  if (*late == 0 && event->notify_type == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START)
    *late = advise_signal (f, event->profile, OTHER_OWNER, 99, 0x3);
}

static void
test_advise_during_transition (Fixture *f, gconstpointer data)
{
  guint late = 0;
  guint early = advise_signal (f, f->profile, OWNER, 1, 0x3);

  f->hook = hook_advise;
  f->hook_data = &late;
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  f->hook = NULL;
  g_assert_cmpuint (late, !=, 0);
  assert_types (f, early, "123");
  assert_types (f, late, "");
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 2);

  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  assert_types (f, early, "123123");
  assert_types (f, late, "123");
  assert_event (find_event (f, late, 2), 99, 2, 1, 2, 2);
}

static void
test_advise_during_commit (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint late;

  advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (1));
  late = advise_signal (f, f->profile, OTHER_OWNER, 2, 0x3);
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (3));
  release_held (f);
  spin_until (f, call_done, call);
  assert_types (f, late, "");
}

typedef struct
{
  guint victim;
  guint when; /* the notify type on which it goes */
} UnadviseHook;

static void
hook_unadvise (Fixture *f, const Event *event)
{
  UnadviseHook *u = f->hook_data;
  g_autoptr (GError) error = NULL;

  if (event->notify_type != u->when || u->victim == 0)
    return;
  g_assert_true (os_profile_unadvise (event->profile, OWNER, 0, u->victim, &error));
  g_assert_no_error (error);
  u->victim = 0;
}

static void
test_unadvise_during_transition (Fixture *f, gconstpointer data)
{
  guint a = advise_signal (f, f->profile, OWNER, 1, 0x3);
  guint b = advise_signal (f, f->profile, OWNER, 2, 0x3);
  guint c = advise_signal (f, f->profile, OWNER, 3, 0x3);
  UnadviseHook u = { a, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START };

  /* a removes itself on START; then, on STATECHANGE, b goes from inside the handler of
   * a subscriber notified before it. */
  f->hook = hook_unadvise;
  f->hook_data = &u;
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (u.victim, ==, 0);
  assert_types (f, a, "1");
  assert_types (f, b, "123");
  assert_types (f, c, "123");
  g_assert_null (os_manager_lookup_advise (f->manager, a));

  g_string_truncate (f->log, 0);
  u.victim = c;
  u.when = MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE;
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpstr (f->log->str, ==, "T1 S2 S3 st C2 D2 T0 ret ");
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
}

static void
test_unadvise_awaited_callback (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  g_autoptr (GError) error = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_SILENT);

  /* The time-out is a minute: only the removal can move the transition on. */
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (1));
  drain ();
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_true (os_profile_unadvise (f->profile, OWNER, 0, token, &error));
  g_assert_no_error (error);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, token, "1");
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
}

/* Tests: callback delivery */

static void
test_callback_waits_for_reply (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint slow = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  guint quick = advise_callback (f, f->profile, OWNER, 2, 0x3, POLICY_REPLY_NOW);

  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  drain ();
  /* One subscriber answered; the other has not: no commit yet. */
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_cmpuint (f->events->len, ==, 2);

  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (4));
  drain ();
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
  g_assert_cmpuint (f->events->len, ==, 4);
  g_assert_true (os_profile_get_transitioning (f->profile));

  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (6));
  drain ();
  g_assert_false (call->done);
  g_assert_true (os_profile_get_transitioning (f->profile));

  release_held (f);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, slow, "123");
  assert_types (f, quick, "123");
  g_assert_cmpstr (f->log->str, ==, "T1 S1 S2 st C1 C2 D1 D2 T0 ret ");
}

static void
test_callback_silent (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_SILENT);
  const gint64 timeout_us = QUICK_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
  const Event *start, *change, *done;

  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, token, "123");
  start = find_event (f, token, 1);
  change = find_event (f, token, 2);
  done = find_event (f, token, 3);
  /* Each phase waited for the whole time-out. */
  g_assert_cmpint (change->time - start->time, >=, timeout_us);
  g_assert_cmpint (done->time - change->time, >=, timeout_us);
  g_assert_cmpint (call->time - done->time, >=, timeout_us);
  /* A time-out only moves the transition on. */
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
  g_assert_nonnull (os_manager_lookup_advise (f->manager, token));
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
}

static void
reply_stale (Fixture *f, OsAdvise *advise, guint ticket)
{
  os_profile_callback_replied (f->profile, advise, ticket);
  drain ();
}

static void
test_callback_stale_ticket (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  OsAdvise *advise = os_manager_lookup_advise (f->manager, token);
  guint start_ticket, change_ticket;

  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (1));
  start_ticket = find_event (f, token, 1)->ticket;
  g_assert_cmpuint (start_ticket, !=, 0);
  reply_stale (f, advise, 0);
  reply_stale (f, advise, start_ticket + 1000);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_cmpuint (f->events->len, ==, 1);
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  change_ticket = find_event (f, token, 2)->ticket;
  g_assert_cmpuint (change_ticket, !=, start_ticket);

  /* The reply to START, again, does not answer STATECHANGE. */
  reply_stale (f, advise, start_ticket);
  g_assert_cmpuint (f->events->len, ==, 2);
  g_assert_true (os_profile_get_transitioning (f->profile));
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (3));
  reply_stale (f, advise, change_ticket);
  reply_stale (f, advise, start_ticket);
  g_assert_false (call->done);
  g_assert_true (os_profile_get_transitioning (f->profile));
  release_held (f);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
}

static void
test_callback_replied_twice (Fixture *f, gconstpointer data)
{
  guint held = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_HOLD);
  guint eager = advise_callback (f, f->profile, OWNER, 2, 0x3, POLICY_REPLY_NOW);
  OsAdvise *advise = os_manager_lookup_advise (f->manager, eager);
  g_autoptr (Call) call = NULL;

  /* A second reply from one subscriber must not stand in for another's. */
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (2));
  reply_stale (f, advise, find_event (f, eager, 1)->ticket);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_assert_cmpuint (f->events->len, ==, 2);
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (4));
  assert_types (f, held, "12");
  release_held (f);
  spin_until (f, has_events, GUINT_TO_POINTER (6));
  release_held (f);
  spin_until (f, call_done, call);
}

static void
test_callback_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint failing = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_FAIL);
  guint good = advise_signal (f, f->profile, OTHER_OWNER, 2, 0x3);

  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 2);
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  /* The time-out is a minute: the guard fails this if the transition waited. */
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, failing, "1");
  assert_types (f, good, "123");
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 1);
  g_assert_cmpuint (os_manager_get_n_advises (f->manager), ==, 1);
  g_assert_null (os_manager_lookup_advise (f->manager, failing));
  g_assert_cmpstr (f->manager_log->str, ==, "+c::1.5 +c::1.6 -c::1.5 ");
}

static void
drop_in_idle (gpointer user_data)
{
  Reply *reply = user_data;

  os_profile_drop_advise (reply->profile, reply->advise, "the client went away");
  g_assert_true (reply->advise->removed);
  /* Twice is harmless. */
  os_profile_drop_advise (reply->profile, reply->advise, "again");
  reply_free (reply);
}

static void
test_callback_fails_later (Fixture *f, gconstpointer data)
{
  g_autoptr (Call) call = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_SILENT);
  OsAdvise *advise = os_manager_lookup_advise (f->manager, token);

  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, has_events, GUINT_TO_POINTER (1));
  drain ();
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 0);
  g_idle_add_once (drop_in_idle, reply_new (f->profile, advise, 0));
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, token, "1");
  g_assert_cmpuint (os_profile_get_advise_count (f->profile), ==, 0);
  g_assert_cmpuint (os_profile_get_sequence (f->profile), ==, 1);
}

/* Tests: the emulated transition delay */

static void
test_transition_delay (Fixture *f, gconstpointer data)
{
  const guint delay_ms = 150;
  g_autoptr (Call) call = NULL;
  g_autoptr (GError) error = NULL;
  guint token = advise_callback (f, f->profile, OWNER, 1, 0x3, POLICY_REPLY_NOW);
  gint64 before;

  g_assert_true (os_profile_set_transition_delay (f->profile, delay_ms, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_profile_get_transition_delay (f->profile), ==, delay_ms);
  before = g_get_monotonic_time ();
  call = set_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (f, call_done, call);
  g_assert_true (call->ok);
  assert_types (f, token, "123");
  /* The subscriber answered at once; the delay still holds STATECHANGE back. */
  g_assert_cmpint (find_event (f, token, 2)->time - before, >=, delay_ms * G_TIME_SPAN_MILLISECOND);

  /* Every transition, not only the first. */
  before = g_get_monotonic_time ();
  change_state (f, f->profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpint (g_array_index (f->events, Event, 4).time - before, >=,
                   delay_ms * G_TIME_SPAN_MILLISECOND);
}

static void
test_transition_delay_limits (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (os_profile_set_transition_delay (f->profile, 600000, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_profile_get_transition_delay (f->profile), ==, 600000);
  g_assert_false (os_profile_set_transition_delay (f->profile, 600001, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (error, PREFIX_INVALIDARG);
  g_assert_cmpuint (os_profile_get_transition_delay (f->profile), ==, 600000);
  g_clear_error (&error);
  g_assert_false (os_profile_set_transition_delay (f->profile, G_MAXUINT, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  g_assert_true (os_profile_set_transition_delay (f->profile, 0, NULL));
  g_assert_cmpuint (os_profile_get_transition_delay (f->profile), ==, 0);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  FIXTURE_ADD ("/core/transition/phases", &quick_limits, test_phases);
  FIXTURE_ADD ("/core/transition/many-subscribers", &quick_limits, test_phases_many_subscribers);
  FIXTURE_ADD ("/core/transition/same-state", &quick_limits, test_same_state);
  FIXTURE_ADD ("/core/transition/invalid-args-first", &patient_limits, test_invalid_args_first);
  FIXTURE_ADD ("/core/transition/pending", &patient_limits, test_pending);
  FIXTURE_ADD ("/core/transition/pending-from-handler", &quick_limits, test_pending_from_handler);
  FIXTURE_ADD ("/core/transition/nonblock-returns-early", &quick_limits,
               test_nonblock_returns_early);
  FIXTURE_ADD ("/core/transition/nonblock-returns-before-commit", &patient_limits,
               test_nonblock_returns_before_commit);
  FIXTURE_ADD ("/core/transition/block-returns-after-done", &patient_limits,
               test_block_returns_after_done);
  FIXTURE_ADD ("/core/transition/block-without-subscribers", &quick_limits,
               test_block_without_subscribers);
  FIXTURE_ADD ("/core/transition/block-signal-subscriber", &quick_limits,
               test_block_signal_subscriber);
  FIXTURE_ADD ("/core/transition/capabilities", &quick_limits, test_capabilities_filter);
  FIXTURE_ADD ("/core/transition/capabilities-refused", &quick_limits, test_capabilities_refused);
  FIXTURE_ADD ("/core/transition/state-mask", &quick_limits, test_state_mask);
  FIXTURE_ADD ("/core/transition/advise-during", &quick_limits, test_advise_during_transition);
  FIXTURE_ADD ("/core/transition/advise-during-commit", &patient_limits, test_advise_during_commit);
  FIXTURE_ADD ("/core/transition/unadvise-during", &quick_limits, test_unadvise_during_transition);
  FIXTURE_ADD ("/core/transition/unadvise-awaited", &patient_limits,
               test_unadvise_awaited_callback);
  FIXTURE_ADD ("/core/transition/delay", &quick_limits, test_transition_delay);
  FIXTURE_ADD ("/core/transition/delay-limits", &quick_limits, test_transition_delay_limits);

  FIXTURE_ADD ("/core/callback/waits-for-reply", &patient_limits, test_callback_waits_for_reply);
  FIXTURE_ADD ("/core/callback/silent", &quick_limits, test_callback_silent);
  FIXTURE_ADD ("/core/callback/stale-ticket", &patient_limits, test_callback_stale_ticket);
  FIXTURE_ADD ("/core/callback/replied-twice", &patient_limits, test_callback_replied_twice);
  FIXTURE_ADD ("/core/callback/fails", &patient_limits, test_callback_fails);
  FIXTURE_ADD ("/core/callback/fails-later", &patient_limits, test_callback_fails_later);

  return g_test_run ();
}
