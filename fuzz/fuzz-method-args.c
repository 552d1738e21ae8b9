/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Every method of the contract, with any arguments, on the core as the D-Bus handlers
 * drive it (os-bus-manager.c, os-bus-profile.c), with no bus: an ephemeral manager and
 * a few clients. The input is a series of calls, each
 *
 *   <op> <length> <length bytes: the method's arguments, serialized as a GVariant>
 *
 * The low four bits of <op> pick the method, the next two the caller, the top two the
 * profile of an offline-object method (the nth of the sorted names). The arguments go
 * through g_variant_get_normal_form(), as GDBus's checks would leave them.
 *
 * After each call: an error is one the contract allows for that call with those
 * arguments, with the MAPI code its message must start with; a refused call has changed
 * nothing; an accepted one left values the contract allows; and the advises, tokens and
 * counts agree with a model of what the contract says is live.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "fuzz-method-args.h"
#include "offline-state.h"
#include "os-validate.h"

#define MAX_CALLS 64
/* A reply or a transition that needs more turns of the main loop than this is stuck. */
#define MAX_ITERATIONS 10000

typedef enum
{
  OP_OPEN_OFFLINE_OBJECT,
  OP_CREATE_OFFLINE_OBJECT,
  OP_REMOVE_OFFLINE_OBJECT,
  OP_SET_CURRENT_STATE,
  OP_GET_CAPABILITIES,
  OP_GET_CURRENT_STATE,
  OP_ADVISE,
  OP_UNADVISE,
  OP_SET_CAPABILITIES,
  OP_SET_TRANSITION_DELAY,
  OP_INJECT_NOTIFICATION,
  OP_CLIENT_LEAVES, /* the caller leaves the bus */
  OP_SETTLE,        /* every transition runs to its end */
  N_OPS
} Op;

/* Each method's D-Bus name and argument signature, from the contract. */
static const struct
{
  const char *name;
  const char *signature;
} ops[N_OPS] = {
  [OP_OPEN_OFFLINE_OBJECT] = { "OpenOfflineObject", "(ss)" },
  [OP_CREATE_OFFLINE_OBJECT] = { "CreateOfflineObject", "(suu)" },
  [OP_REMOVE_OFFLINE_OBJECT] = { "RemoveOfflineObject", "(s)" },
  [OP_SET_CURRENT_STATE] = { "SetCurrentState", "(uuu)" },
  [OP_GET_CAPABILITIES] = { "GetCapabilities", "()" },
  [OP_GET_CURRENT_STATE] = { "GetCurrentState", "()" },
  [OP_ADVISE] = { "Advise", "(uuuouu)" },
  [OP_UNADVISE] = { "Unadvise", "(uu)" },
  [OP_SET_CAPABILITIES] = { "SetCapabilities", "(u)" },
  [OP_SET_TRANSITION_DELAY] = { "SetTransitionDelay", "(u)" },
  [OP_INJECT_NOTIFICATION] = { "InjectNotification", "(uuuu)" },
  [OP_CLIENT_LEAVES] = { "(client leaves)", "()" },
  [OP_SETTLE] = { "(settle)", "()" },
};

static const char *const callers[] = { ":1.1", ":1.2", ":1.3", ":1.4" };

/* An asynchronous call's answer. */
typedef struct
{
  gboolean done;
  GError *error;
} Reply;

/* Sorted, so that a byte of the input names the same profile as long as the names stay. */
static OsProfile *
nth_profile (Fuzz *fuzz, guint n)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (fuzz->manager);
  guint count = g_strv_length (names);

  if (count == 0)
    return NULL;
  return os_manager_lookup (fuzz->manager, names[n % count]);
}

static void
turn_main_loop (Fuzz *fuzz, const char *waiting_for, guint *iterations)
{
  if (++*iterations > MAX_ITERATIONS || !g_main_context_iteration (NULL, FALSE))
    fuzz_fail (fuzz, "stuck waiting for %s", waiting_for);
}

static void
wait_reply (Fuzz *fuzz, Reply *reply)
{
  guint iterations = 0;

  while (!reply->done)
    turn_main_loop (fuzz, "a reply", &iterations);
}

static gboolean
any_transitioning (Fuzz *fuzz)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (fuzz->manager);

  for (guint i = 0; names[i] != NULL; i++)
    if (os_profile_get_transitioning (os_manager_lookup (fuzz->manager, names[i])))
      return TRUE;
  return FALSE;
}

static void
settle (Fuzz *fuzz)
{
  guint iterations = 0;

  while (any_transitioning (fuzz))
    turn_main_loop (fuzz, "the end of a transition", &iterations);
  fuzz_drain_main_context ();
}

static void
async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Reply *reply = user_data;
  gboolean ok;

  if (OS_IS_MANAGER (source) &&
      g_async_result_is_tagged (result, (gpointer) os_manager_create_async))
    {
      g_autoptr (OsProfile) created =
          os_manager_create_finish (OS_MANAGER (source), result, &reply->error);
      ok = created != NULL;
    }
  else if (OS_IS_MANAGER (source))
    ok = os_manager_remove_finish (OS_MANAGER (source), result, &reply->error);
  else if (g_async_result_is_tagged (result, (gpointer) os_profile_set_state_async))
    ok = os_profile_set_state_finish (OS_PROFILE (source), result, &reply->error);
  else
    ok = os_profile_set_capabilities_finish (OS_PROFILE (source), result, &reply->error);
  g_assert (ok == (reply->error == NULL));
  reply->done = TRUE;
}

static void
call_open (Fuzz *fuzz)
{
  g_autoptr (GError) error = NULL;
  const char *name, *guid;
  OsProfile *profile;
  int kind;
  guint allowed = 0;

  g_variant_get (fuzz->args, "(&s&s)", &name, &guid);
  kind = classify_guid (guid);
  if (kind < 0 || !name_is_valid (name))
    allowed |= OUTCOME_ERROR (OS_ERROR_INVALID_ARGS);
  if (kind == 0 || os_manager_lookup (fuzz->manager, name) == NULL)
    allowed |= OUTCOME_ERROR (OS_ERROR_NOT_FOUND);
  if (allowed == 0)
    allowed = OUTCOME_OK;
  profile = os_manager_open (fuzz->manager, name, guid, &error);
  check_outcome (fuzz, allowed, error);
  if (profile != NULL && profile != os_manager_lookup (fuzz->manager, name))
    fuzz_fail (fuzz, "OpenOfflineObject('%s') opened another profile", name);
}

static guint
expect_create (Fuzz *fuzz, const char *name, guint capabilities, guint state)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (fuzz->manager);
  guint allowed = 0;

  if (!name_is_valid (name) || capabilities > 3 || (state != 1 && state != 2))
    return OUTCOME_ERROR (OS_ERROR_INVALID_ARGS);
  if (os_manager_lookup (fuzz->manager, name) != NULL)
    allowed |= OUTCOME_ERROR (OS_ERROR_EXISTS);
  if (g_strv_length (names) >= MAX_PROFILES)
    allowed |= OUTCOME_ERROR (OS_ERROR_LIMITS_EXCEEDED);
  return allowed != 0 ? allowed : OUTCOME_OK;
}

static void
call_create (Fuzz *fuzz)
{
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  Reply reply = { 0 };
  const char *name;
  guint capabilities, state, allowed;
  OsProfile *profile;

  g_variant_get (fuzz->args, "(&suu)", &name, &capabilities, &state);
  allowed = expect_create (fuzz, name, capabilities, state);
  os_manager_create_async (fuzz->manager, name, capabilities, state, async_done, &reply);
  after = describe (fuzz);
  wait_reply (fuzz, &reply);
  check_outcome (fuzz, allowed, reply.error);
  check_unchanged (fuzz, reply.error != NULL, before, after);
  profile = os_manager_lookup (fuzz->manager, name);
  if (reply.error == NULL &&
      (profile == NULL || os_profile_get_capabilities (profile) != capabilities ||
       os_profile_get_state (profile) != state || os_profile_get_sequence (profile) != 0 ||
       os_profile_get_advise_count (profile) != 0 || os_profile_get_transitioning (profile)))
    fuzz_fail (fuzz, "CreateOfflineObject('%s', %u, %u) made another profile", name, capabilities,
               state);
  g_clear_error (&reply.error);
}

static void
call_remove (Fuzz *fuzz)
{
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  Reply reply = { 0 };
  const char *name;
  OsProfile *profile;
  guint allowed = OUTCOME_OK;

  g_variant_get (fuzz->args, "(&s)", &name);
  profile = os_manager_lookup (fuzz->manager, name);
  if (!name_is_valid (name))
    allowed = OUTCOME_ERROR (OS_ERROR_INVALID_ARGS) | OUTCOME_ERROR (OS_ERROR_NOT_FOUND);
  else if (profile == NULL)
    allowed = OUTCOME_ERROR (OS_ERROR_NOT_FOUND);
  else if (os_profile_get_transitioning (profile))
    allowed = OUTCOME_ERROR (OS_ERROR_PENDING);
  os_manager_remove_async (fuzz->manager, name, async_done, &reply);
  after = describe (fuzz);
  if (allowed == OUTCOME_OK)
    {
      model_forget (fuzz, NULL, name);
    }
  wait_reply (fuzz, &reply);
  check_outcome (fuzz, allowed, reply.error);
  check_unchanged (fuzz, reply.error != NULL, before, after);
  if (reply.error == NULL && os_manager_lookup (fuzz->manager, name) != NULL)
    fuzz_fail (fuzz, "RemoveOfflineObject('%s') left the profile", name);
  g_clear_error (&reply.error);
}

static guint
expect_set_state (Fuzz *fuzz, guint flags, guint mask, guint state)
{
  if ((flags != 0 && flags != MAPIOFFLINE_FLAG_BLOCK) || mask != MAPIOFFLINE_STATE_OFFLINE_MASK ||
      (state != MAPIOFFLINE_STATE_OFFLINE && state != MAPIOFFLINE_STATE_ONLINE))
    return OUTCOME_ERROR (OS_ERROR_INVALID_ARGS);
  if (os_profile_get_transitioning (fuzz->target))
    return OUTCOME_ERROR (OS_ERROR_PENDING);
  return OUTCOME_OK;
}

/* A BLOCK caller hears once the transition is over; any caller, once it has started. */
static void
check_state_set (Fuzz *fuzz, guint flags, guint state, guint old_state, guint64 old_sequence)
{
  OsProfile *p = fuzz->target;
  gboolean changed = state != old_state;

  if ((flags & MAPIOFFLINE_FLAG_BLOCK) && changed &&
      (os_profile_get_transitioning (p) || os_profile_get_state (p) != state ||
       os_profile_get_sequence (p) != old_sequence + 1))
    fuzz_fail (fuzz,
               "a BLOCK SetCurrentState(%u) answered at state %u, sequence %" G_GUINT64_FORMAT,
               state, os_profile_get_state (p), os_profile_get_sequence (p));
  if (!changed &&
      (os_profile_get_state (p) != state || os_profile_get_sequence (p) != old_sequence))
    fuzz_fail (fuzz, "SetCurrentState to the current state %u changed it", state);
}

static void
call_set_state (Fuzz *fuzz)
{
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  guint old_state = os_profile_get_state (fuzz->target);
  guint64 old_sequence = os_profile_get_sequence (fuzz->target);
  Reply reply = { 0 };
  guint flags, mask, state, allowed;

  g_variant_get (fuzz->args, "(uuu)", &flags, &mask, &state);
  allowed = expect_set_state (fuzz, flags, mask, state);
  os_profile_set_state_async (fuzz->target, flags, mask, state, async_done, &reply);
  after = describe (fuzz);
  if (allowed == OUTCOME_OK && state != old_state && !os_profile_get_transitioning (fuzz->target))
    fuzz_fail (fuzz, "SetCurrentState(%u) from %u started no transition", state, old_state);
  wait_reply (fuzz, &reply);
  check_outcome (fuzz, allowed, reply.error);
  check_unchanged (fuzz, reply.error != NULL, before, after);
  if (reply.error == NULL)
    check_state_set (fuzz, flags, state, old_state, old_sequence);
  g_clear_error (&reply.error);
}

static void
call_get (Fuzz *fuzz, Op op)
{
  guint value;

  if (op == OP_GET_CAPABILITIES)
    {
      value = os_profile_get_capabilities (fuzz->target);
      if (value > 3)
        fuzz_fail (fuzz, "GetCapabilities returned %u", value);
    }
  else
    {
      value = os_profile_get_state (fuzz->target);
      if (value != MAPIOFFLINE_STATE_OFFLINE && value != MAPIOFFLINE_STATE_ONLINE)
        fuzz_fail (fuzz, "GetCurrentState returned %u", value);
    }
}

static guint
expect_advise (Fuzz *fuzz,
               guint flags,
               guint callback_type,
               const char *callback,
               guint advise_types,
               guint state_mask)
{
  guint allowed = 0;

  if (flags != 0 || advise_types != MAPIOFFLINE_ADVISE_TYPE_STATECHANGE || state_mask == 0 ||
      (state_mask & ~MAPIOFFLINE_STATE_ALL) != 0 || !g_variant_is_object_path (callback))
    allowed |= OUTCOME_ERROR (OS_ERROR_INVALID_ARGS);
  if (callback_type != MAPIOFFLINE_CALLBACK_TYPE_NOTIFY)
    allowed |= OUTCOME_ERROR (OS_ERROR_NO_INTERFACE);
  if (allowed != 0)
    return allowed;
  if (model_count (fuzz, fuzz->caller, NULL) >= MAX_ADVISES_CALLER ||
      g_hash_table_size (fuzz->advises) >= MAX_ADVISES)
    return OUTCOME_ERROR (OS_ERROR_LIMITS_EXCEEDED);
  return OUTCOME_OK;
}

static void
remember_advise (Fuzz *fuzz, guint token)
{
  Advised *advised = g_new0 (Advised, 1);

  if (token == 0 || !g_hash_table_add (fuzz->tokens, GUINT_TO_POINTER (token)))
    fuzz_fail (fuzz, "Advise handed out token %u, zero or handed out before", token);
  advised->owner = g_strdup (fuzz->caller);
  advised->profile = g_strdup (os_profile_get_name (fuzz->target));
  g_hash_table_insert (fuzz->advises, GUINT_TO_POINTER (token), advised);
}

static void
call_advise (Fuzz *fuzz)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  guint flags, client_token, callback_type, advise_types, state_mask, token;
  const char *callback;

  g_variant_get (fuzz->args, "(uuu&ouu)", &flags, &client_token, &callback_type, &callback,
                 &advise_types, &state_mask);
  /* As the bus layer does: "/" asks for signal delivery. */
  token = os_profile_advise (
      fuzz->target, fuzz->caller, OS_UID_UNKNOWN, flags, client_token, callback_type,
      g_str_equal (callback, OFFLINE_STATE_SIGNAL_CALLBACK_PATH) ? NULL : callback, advise_types,
      state_mask, &error);
  after = describe (fuzz);
  check_outcome (
      fuzz, expect_advise (fuzz, flags, callback_type, callback, advise_types, state_mask), error);
  check_unchanged (fuzz, error != NULL, before, after);
  if ((token == 0) != (error != NULL))
    fuzz_fail (fuzz, "Advise returned token %u and %s error", token, error ? "an" : "no");
  if (token != 0)
    remember_advise (fuzz, token);
}

static void
call_unadvise (Fuzz *fuzz)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  guint flags, token;
  Advised *advised;
  gboolean owned;

  g_variant_get (fuzz->args, "(uu)", &flags, &token);
  advised = g_hash_table_lookup (fuzz->advises, GUINT_TO_POINTER (token));
  owned = advised != NULL && g_str_equal (advised->owner, fuzz->caller) &&
          g_str_equal (advised->profile, os_profile_get_name (fuzz->target));
  os_profile_unadvise (fuzz->target, fuzz->caller, flags, token, &error);
  after = describe (fuzz);
  check_outcome (fuzz, flags != 0 ? OUTCOME_ERROR (OS_ERROR_INVALID_ARGS) : OUTCOME_OK, error);
  /* Nobody can remove another's advise: such a call succeeds and changes nothing. */
  check_unchanged (fuzz, error != NULL || !owned, before, after);
  if (error == NULL && owned)
    g_hash_table_remove (fuzz->advises, GUINT_TO_POINTER (token));
}

static void
call_set_capabilities (Fuzz *fuzz)
{
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  Reply reply = { 0 };
  guint capabilities;

  g_variant_get (fuzz->args, "(u)", &capabilities);
  os_profile_set_capabilities_async (fuzz->target, capabilities, async_done, &reply);
  after = describe (fuzz);
  wait_reply (fuzz, &reply);
  check_outcome (fuzz, capabilities > 3 ? OUTCOME_ERROR (OS_ERROR_INVALID_ARGS) : OUTCOME_OK,
                 reply.error);
  check_unchanged (fuzz, reply.error != NULL, before, after);
  if (reply.error == NULL && os_profile_get_capabilities (fuzz->target) != capabilities)
    fuzz_fail (fuzz, "SetCapabilities(%u) left %u", capabilities,
               os_profile_get_capabilities (fuzz->target));
  g_clear_error (&reply.error);
}

static void
call_set_transition_delay (Fuzz *fuzz)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  guint delay;

  g_variant_get (fuzz->args, "(u)", &delay);
  os_profile_set_transition_delay (fuzz->target, delay, &error);
  after = describe (fuzz);
  check_outcome (fuzz, delay > 600000 ? OUTCOME_ERROR (OS_ERROR_INVALID_ARGS) : OUTCOME_OK, error);
  check_unchanged (fuzz, error != NULL, before, after);
  if (error == NULL && os_profile_get_transition_delay (fuzz->target) != delay)
    fuzz_fail (fuzz, "SetTransitionDelay(%u) left %u", delay,
               os_profile_get_transition_delay (fuzz->target));
  /* The arguments are what is fuzzed here, not time: a delay would stall every later
   * transition of the input for up to ten minutes. */
  os_profile_set_transition_delay (fuzz->target, 0, NULL);
}

static void
call_inject_notification (Fuzz *fuzz)
{
  g_autofree char *before = describe (fuzz);
  g_autofree char *after = NULL;
  guint *a = fuzz->inject_args;
  guint expected = model_count (fuzz, NULL, os_profile_get_name (fuzz->target));

  g_variant_get (fuzz->args, "(uuuu)", &a[0], &a[1], &a[2], &a[3]);
  fuzz->injecting = TRUE;
  fuzz->injected = 0;
  os_profile_inject_notification (fuzz->target, a[0], a[1], a[2], a[3]);
  fuzz->injecting = FALSE;
  after = describe (fuzz);
  check_unchanged (fuzz, TRUE, before, after);
  if (fuzz->injected != expected)
    fuzz_fail (fuzz, "InjectNotification reached %u advises of %u", fuzz->injected, expected);
}

static void
call_client_leaves (Fuzz *fuzz)
{
  os_manager_client_vanished (fuzz->manager, fuzz->caller);
  model_forget (fuzz, fuzz->caller, NULL);
}

static void
call_on_target (Fuzz *fuzz, Op op)
{
  switch (op)
    {
      case OP_SET_CURRENT_STATE:
        call_set_state (fuzz);
        break;
      case OP_GET_CAPABILITIES:
      case OP_GET_CURRENT_STATE:
        call_get (fuzz, op);
        break;
      case OP_ADVISE:
        call_advise (fuzz);
        break;
      case OP_UNADVISE:
        call_unadvise (fuzz);
        break;
      case OP_SET_CAPABILITIES:
        call_set_capabilities (fuzz);
        break;
      case OP_SET_TRANSITION_DELAY:
        call_set_transition_delay (fuzz);
        break;
      default:
        call_inject_notification (fuzz);
        break;
    }
}

static void
call (Fuzz *fuzz, Op op)
{
  switch (op)
    {
      case OP_OPEN_OFFLINE_OBJECT:
        call_open (fuzz);
        break;
      case OP_CREATE_OFFLINE_OBJECT:
        call_create (fuzz);
        break;
      case OP_REMOVE_OFFLINE_OBJECT:
        call_remove (fuzz);
        break;
      case OP_CLIENT_LEAVES:
        call_client_leaves (fuzz);
        break;
      case OP_SETTLE:
        settle (fuzz);
        break;
      default:
        if (fuzz->target != NULL)
          call_on_target (fuzz, op);
        break;
    }
}

/* Takes one call off the input: its method, caller, profile and arguments. */
static Op
next_call (Fuzz *fuzz, const guint8 **data, gsize *size)
{
  guint8 op_byte = (*data)[0];
  gsize length = MIN ((*data)[1], *size - 2);
  Op op = (op_byte & 0x0f) % N_OPS;
  g_autoptr (GBytes) bytes = g_bytes_new (*data + 2, length);
  g_autoptr (GVariant) raw = g_variant_ref_sink (
      g_variant_new_from_bytes (G_VARIANT_TYPE (ops[op].signature), bytes, FALSE));
  OsProfile *target = nth_profile (fuzz, op_byte >> 6);

  *data += 2 + length;
  *size -= 2 + length;
  g_clear_pointer (&fuzz->args, g_variant_unref);
  fuzz->args = g_variant_ref_sink (g_variant_get_normal_form (raw));
  fuzz->caller = callers[(op_byte >> 4) & 0x3];
  fuzz->target = target;
  g_ptr_array_add (fuzz->calls, g_variant_ref_sink (g_variant_new (
                                    "(sssv)", ops[op].name, fuzz->caller,
                                    target ? os_profile_get_name (target) : "", fuzz->args)));
  return op;
}

static void
fuzz_init (Fuzz *fuzz)
{
  const OsLimits limits = { 5000, MAX_ADVISES_CALLER, MAX_ADVISES, MAX_PROFILES };

  memset (fuzz, 0, sizeof (Fuzz));
  fuzz->advises = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) advised_free);
  fuzz->tokens = g_hash_table_new (NULL, NULL);
  fuzz->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  fuzz->manager = os_manager_new (&limits, NULL);
  g_signal_connect (fuzz->manager, "profile-added", G_CALLBACK (on_profile_added), fuzz);
  os_manager_load (fuzz->manager);
}

static void
fuzz_clear (Fuzz *fuzz)
{
  settle (fuzz);
  check_invariants (fuzz);
  g_clear_object (&fuzz->manager);
  fuzz_drain_main_context ();
  g_clear_pointer (&fuzz->args, g_variant_unref);
  g_hash_table_unref (fuzz->advises);
  g_hash_table_unref (fuzz->tokens);
  g_ptr_array_unref (fuzz->calls);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Fuzz fuzz;

  fuzz_init (&fuzz);
  for (guint n = 0; n < MAX_CALLS && size >= 2; n++)
    {
      call (&fuzz, next_call (&fuzz, &data, &size));
      check_invariants (&fuzz);
    }
  fuzz_clear (&fuzz);
  return 0;
}
