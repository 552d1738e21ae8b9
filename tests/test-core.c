/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The offline-state model with no bus: the transition rules of §5 and the offline
 * object's and manager's rules of §3 and §4. The test plays every client: it receives
 * the "notification" signal and answers (or not) for callback advises.
 */
#include <string.h>

#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-manager.h"
#include "os-validate.h"

#define GUARD_MS             5000
#define QUICK_TIMEOUT_MS     100
#define PATIENT_TIMEOUT_MS   60000
#define LIMIT_PER_CONNECTION 4
#define LIMIT_ADVISES        8
#define LIMIT_PROFILES       4

#define OWNER         ":1.5"
#define OTHER_OWNER   ":1.6"
#define CALLBACK_PATH "/org/example/Notify"

#define PREFIX_INVALIDARG  "E_INVALIDARG (0x80070057): "
#define PREFIX_PENDING     "E_PENDING (0x8000000A): "
#define PREFIX_NOT_FOUND   "MAPI_E_NOT_FOUND (0x8004010F): "
#define PREFIX_NOINTERFACE "E_NOINTERFACE (0x80004002): "

/* How the test, as a client, answers a callback advise's notification. */
typedef enum
{
  POLICY_REPLY_NOW,  /* from inside the handler */
  POLICY_REPLY_IDLE, /* from an idle source */
  POLICY_HOLD,       /* when the test calls release_held() */
  POLICY_SILENT,     /* never */
  POLICY_FAIL,       /* the call failed: the advise is dropped */
} Policy;

typedef struct
{
  OsProfile *profile;
  OsAdvise *advise; /* compared only, never dereferenced after the test moved on */
  guint token;
  guint client_token;
  guint notify_type;
  guint mask;
  guint old_state;
  guint new_state;
  guint64 sequence;
  guint ticket;
  gint64 time;
} Event;

typedef struct _Fixture Fixture;
typedef void (*Hook) (Fixture *f, const Event *event);

struct _Fixture
{
  OsManager *manager;
  OsProfile *profile; /* "default" */
  GArray *events;     /* Event */
  GString *log;       /* the order of everything that happened */
  GString *manager_log;
  GHashTable *policies; /* advise token → Policy */
  GPtrArray *held;      /* Reply */
  Hook hook;
  gpointer hook_data;
};

typedef struct
{
  OsProfile *profile;
  OsAdvise *advise;
  guint ticket;
} Reply;

/* One SetCurrentState call. */
typedef struct
{
  Fixture *f;
  gboolean done;
  gboolean ok;
  GError *error;
  gboolean transitioning_at_done;
  gint64 time;
} Call;

typedef gboolean (*Condition) (Fixture *f, gconstpointer data);

static const OsLimits quick_limits = {
  QUICK_TIMEOUT_MS,
  LIMIT_PER_CONNECTION,
  LIMIT_ADVISES,
  LIMIT_PROFILES,
};
static const OsLimits patient_limits = {
  PATIENT_TIMEOUT_MS,
  LIMIT_PER_CONNECTION,
  LIMIT_ADVISES,
  LIMIT_PROFILES,
};

/* The main loop */

static void
on_guard (gpointer user_data)
{
  gboolean *expired = user_data;

  *expired = TRUE;
}

static void
spin_until (Fixture *f, Condition condition, gconstpointer data)
{
  gboolean expired = FALSE;
  guint guard = g_timeout_add_once (GUARD_MS, on_guard, &expired);

  while (!condition (f, data))
    {
      if (expired)
        g_error ("timed out after %u ms; log so far: %s", GUARD_MS, f->log->str);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (guard);
}

/* Dispatches whatever is ready now, without waiting for anything. */
static void
drain (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static gboolean
call_done (Fixture *f, gconstpointer data)
{
  const Call *call = data;

  return call->done;
}

static gboolean
not_transitioning (Fixture *f, gconstpointer data)
{
  return !os_profile_get_transitioning ((OsProfile *) data);
}

static gboolean
has_events (Fixture *f, gconstpointer data)
{
  return f->events->len >= GPOINTER_TO_UINT (data);
}

/* The client's side */

static void
reply_free (Reply *reply)
{
  g_object_unref (reply->profile);
  os_advise_unref (reply->advise);
  g_free (reply);
}

static Reply *
reply_new (OsProfile *profile, OsAdvise *advise, guint ticket)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->profile = g_object_ref (profile);
  reply->advise = os_advise_ref (advise);
  reply->ticket = ticket;
  return reply;
}

static void
reply_in_idle (gpointer user_data)
{
  Reply *reply = user_data;

  os_profile_callback_replied (reply->profile, reply->advise, reply->ticket);
  reply_free (reply);
}

static void
release_held (Fixture *f)
{
  g_autoptr (GPtrArray) held = g_steal_pointer (&f->held);

  f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) reply_free);
  for (guint i = 0; i < held->len; i++)
    {
      Reply *reply = g_ptr_array_index (held, i);

      os_profile_callback_replied (reply->profile, reply->advise, reply->ticket);
    }
}

static void
answer (Fixture *f, OsProfile *profile, OsAdvise *advise, guint ticket)
{
  Policy policy =
      GPOINTER_TO_UINT (g_hash_table_lookup (f->policies, GUINT_TO_POINTER (advise->token)));

  switch (policy)
    {
      case POLICY_REPLY_NOW:
        os_profile_callback_replied (profile, advise, ticket);
        break;
      case POLICY_REPLY_IDLE:
        g_idle_add_once (reply_in_idle, reply_new (profile, advise, ticket));
        break;
      case POLICY_HOLD:
        g_ptr_array_add (f->held, reply_new (profile, advise, ticket));
        break;
      case POLICY_SILENT:
        break;
      case POLICY_FAIL:
        os_profile_drop_advise (profile, advise, "org.freedesktop.DBus.Error.UnknownMethod");
        break;
    }
}

static void
on_notification (OsProfile *profile,
                 OsAdvise *advise,
                 guint notify_type,
                 guint mask,
                 guint old_state,
                 guint new_state,
                 guint64 sequence,
                 guint ticket,
                 gpointer user_data)
{
  Fixture *f = user_data;
  Event event = {
    profile,   advise,   advise->token, advise->client_token,    notify_type, mask, old_state,
    new_state, sequence, ticket,        g_get_monotonic_time (),
  };
  static const char types[] = "?SCD";

  g_assert_false (advise->removed);
  g_assert_true (advise->profile == profile);
  g_array_append_val (f->events, event);
  g_string_append_printf (f->log, "%c%u ", notify_type <= 3 ? types[notify_type] : '?',
                          advise->client_token);
  if (f->hook != NULL)
    f->hook (f, &event);
  if (os_advise_is_callback (advise) && ticket != 0 && !advise->removed)
    answer (f, profile, advise, ticket);
}

static void
on_profile_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Fixture *f = user_data;
  OsProfile *profile = OS_PROFILE (object);

  if (g_str_equal (pspec->name, "transitioning"))
    g_string_append_printf (f->log, "T%d ", os_profile_get_transitioning (profile));
  else if (g_str_equal (pspec->name, "state"))
    g_string_append (f->log, "st ");
}

static void
watch_profile (Fixture *f, OsProfile *profile)
{
  g_signal_connect (profile, "notification", G_CALLBACK (on_notification), f);
  g_signal_connect (profile, "notify::transitioning", G_CALLBACK (on_profile_notify), f);
  g_signal_connect (profile, "notify::state", G_CALLBACK (on_profile_notify), f);
}

static void
on_profile_added (OsManager *manager, OsProfile *profile, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->manager_log, "+p:%s ", os_profile_get_name (profile));
  watch_profile (f, profile);
}

static void
on_profile_removed (OsManager *manager, OsProfile *profile, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->manager_log, "-p:%s ", os_profile_get_name (profile));
}

static void
on_client_added (OsManager *manager, const char *name, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->manager_log, "+c:%s ", name);
}

static void
on_client_removed (OsManager *manager, const char *name, gpointer user_data)
{
  Fixture *f = user_data;

  g_string_append_printf (f->manager_log, "-c:%s ", name);
}

/* Fixture */

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const OsLimits *limits = data != NULL ? data : &quick_limits;

  f->events = g_array_new (FALSE, TRUE, sizeof (Event));
  f->log = g_string_new (NULL);
  f->manager_log = g_string_new (NULL);
  f->policies = g_hash_table_new (NULL, NULL);
  f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) reply_free);
  f->manager = os_manager_new (limits, NULL);
  g_signal_connect (f->manager, "profile-added", G_CALLBACK (on_profile_added), f);
  g_signal_connect (f->manager, "profile-removed", G_CALLBACK (on_profile_removed), f);
  g_signal_connect (f->manager, "client-added", G_CALLBACK (on_client_added), f);
  g_signal_connect (f->manager, "client-removed", G_CALLBACK (on_client_removed), f);
  os_manager_load (f->manager);
  f->profile = os_manager_lookup (f->manager, OFFLINE_STATE_DEFAULT_PROFILE);
  g_assert_nonnull (f->profile);
  g_string_truncate (f->manager_log, 0);
}

static gboolean
all_idle (Fixture *f, gconstpointer data)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (f->manager);

  for (guint i = 0; names[i] != NULL; i++)
    if (os_profile_get_transitioning (os_manager_lookup (f->manager, names[i])))
      return FALSE;
  return TRUE;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  OsManager *manager = f->manager;

  f->hook = NULL;
  g_hash_table_remove_all (f->policies);
  release_held (f);
  spin_until (f, all_idle, NULL);
  drain ();
  g_object_add_weak_pointer (G_OBJECT (manager), (gpointer *) &manager);
  g_object_unref (f->manager);
  /* Nothing may keep the model alive once its last user let go. */
  g_assert_null (manager);
  g_ptr_array_unref (f->held);
  g_hash_table_unref (f->policies);
  g_string_free (f->manager_log, TRUE);
  g_string_free (f->log, TRUE);
  g_array_unref (f->events);
}

/* Helpers */

static guint
advise_signal (Fixture *f, OsProfile *profile, const char *owner, guint client_token, guint mask)
{
  g_autoptr (GError) error = NULL;
  guint token = os_profile_advise (profile, owner, 0, client_token, 0, "/", 1, mask, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (token, !=, 0);
  return token;
}

static guint
advise_callback (Fixture *f,
                 OsProfile *profile,
                 const char *owner,
                 guint client_token,
                 guint mask,
                 Policy policy)
{
  g_autoptr (GError) error = NULL;
  guint token =
      os_profile_advise (profile, owner, 0, client_token, 0, CALLBACK_PATH, 1, mask, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (token, !=, 0);
  g_hash_table_insert (f->policies, GUINT_TO_POINTER (token), GUINT_TO_POINTER (policy));
  return token;
}

static void
set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;

  g_assert_false (call->done);
  call->ok = os_profile_set_state_finish (OS_PROFILE (source), result, &call->error);
  call->done = TRUE;
  call->time = g_get_monotonic_time ();
  call->transitioning_at_done = os_profile_get_transitioning (OS_PROFILE (source));
  g_string_append (call->f->log, "ret ");
}

static Call *
call_new (Fixture *f)
{
  Call *call = g_new0 (Call, 1);

  call->f = f;
  return call;
}

static void
call_free (Call *call)
{
  g_clear_error (&call->error);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static Call *
set_state (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  Call *call = call_new (f);

  os_profile_set_state_async (profile, flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state, set_state_done,
                              call);
  return call;
}

/* Starts a transition that will wait for the test (SetCurrentState without BLOCK). */
static void
begin_transition (Fixture *f, OsProfile *profile, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, 0, state);

  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  g_assert_true (os_profile_get_transitioning (profile));
}

/* Runs a whole transition (or none) and checks that the call succeeded. */
static void
change_state (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, flags, state);

  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  spin_until (f, not_transitioning, profile);
  drain ();
}

static void
assert_pending (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, flags, state);

  spin_until (f, call_done, call);
  g_assert_false (call->ok);
  g_assert_error (call->error, OS_ERROR, OS_ERROR_PENDING);
  g_assert_true (g_str_has_prefix (call->error->message, PREFIX_PENDING));
}

static void
assert_prefix (const GError *error, const char *prefix)
{
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("message '%s' does not start with '%s'", error->message, prefix);
}

/* The notify types one advise received, in order, as a string: "123". */
static char *
types_for (Fixture *f, guint token)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < f->events->len; i++)
    {
      const Event *e = &g_array_index (f->events, Event, i);

      if (e->token == token)
        g_string_append_printf (s, "%u", e->notify_type);
    }
  return g_string_free (s, FALSE);
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

static void
assert_types (Fixture *f, guint token, const char *expected)
{
  g_autofree char *types = types_for (f, token);

  g_assert_cmpstr (types, ==, expected);
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
result_ready (Fixture *f, gconstpointer data)
{
  GAsyncResult *const *result = data;

  return *result != NULL;
}

static void
set_capabilities (Fixture *f, OsProfile *profile, guint capabilities)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_profile_set_capabilities_async (profile, capabilities, store_result, &result);
  spin_until (f, result_ready, &result);
  g_assert_true (os_profile_set_capabilities_finish (profile, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_profile_get_capabilities (profile), ==, capabilities);
}

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

/* Tests: transitions (§5) */

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

/* Tests: Advise and Unadvise (§4) */

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
      guint token =
          os_profile_advise (f->profile, OWNER, cases[i].flags, 1, cases[i].callback_type,
                             cases[i].callback, cases[i].advise_types, cases[i].state_mask, &error);

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

/* Tests: limits (§8) */

static void
assert_limited (Fixture *f, OsProfile *profile, const char *owner, const char *option)
{
  g_autoptr (GError) error = NULL;
  guint before = os_manager_get_n_advises (f->manager);
  guint token = os_profile_advise (profile, owner, 0, 1, 0, "/", 1, 3, &error);

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

/* Tests: profiles (§3) */

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

/* Tests: emulation (§6) */

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

static void
test_fail_next (Fixture *f, gconstpointer data)
{
  OsProfile *other = create_ok (f, "other", 3, 2);
  g_autoptr (GError) error = NULL;
  char *taken;

  g_assert_null (os_profile_take_failure (f->profile, "Advise"));
  g_assert_true (os_profile_fail_next (f->profile, "Advise", "org.example.Error.Boom", 2, &error));
  g_assert_no_error (error);
  g_assert_null (os_profile_take_failure (f->profile, "Unadvise"));
  g_assert_null (os_profile_take_failure (other, "Advise"));
  for (guint i = 0; i < 2; i++)
    {
      taken = os_profile_take_failure (f->profile, "Advise");
      g_assert_cmpstr (taken, ==, "org.example.Error.Boom");
      g_free (taken);
    }
  g_assert_null (os_profile_take_failure (f->profile, "Advise"));

  /* A new FailNext replaces the old one; count 0 clears. */
  g_assert_true (os_profile_fail_next (f->profile, "GetCurrentState", "a.B", 5, NULL));
  g_assert_true (os_profile_fail_next (f->profile, "GetCurrentState", "c.D", 1, NULL));
  taken = os_profile_take_failure (f->profile, "GetCurrentState");
  g_assert_cmpstr (taken, ==, "c.D");
  g_free (taken);
  g_assert_null (os_profile_take_failure (f->profile, "GetCurrentState"));
  g_assert_true (os_profile_fail_next (f->profile, "SetCurrentState", "a.B", 5, NULL));
  g_assert_true (os_profile_fail_next (f->profile, "SetCurrentState", "", 0, NULL));
  g_assert_null (os_profile_take_failure (f->profile, "SetCurrentState"));

  /* Refused: nothing queued. */
  g_assert_false (os_profile_fail_next (f->profile, "Notify", "a.B", 1, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  assert_prefix (error, PREFIX_INVALIDARG);
  g_clear_error (&error);
  g_assert_false (os_profile_fail_next (f->profile, "Unadvise", "nodot", 1, &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_INVALID_ARGS);
  g_assert_null (os_profile_take_failure (f->profile, "Unadvise"));
  g_assert_null (os_profile_take_failure (f->profile, "Notify"));
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

#define ADD(path, func, limits)                                                                    \
  g_test_add (path, Fixture, limits, fixture_set_up, func, fixture_tear_down)

  ADD ("/core/load/default", test_load_default, &quick_limits);

  ADD ("/core/transition/phases", test_phases, &quick_limits);
  ADD ("/core/transition/many-subscribers", test_phases_many_subscribers, &quick_limits);
  ADD ("/core/transition/same-state", test_same_state, &quick_limits);
  ADD ("/core/transition/invalid-args-first", test_invalid_args_first, &patient_limits);
  ADD ("/core/transition/pending", test_pending, &patient_limits);
  ADD ("/core/transition/pending-from-handler", test_pending_from_handler, &quick_limits);
  ADD ("/core/transition/nonblock-returns-early", test_nonblock_returns_early, &quick_limits);
  ADD ("/core/transition/nonblock-returns-before-commit", test_nonblock_returns_before_commit,
       &patient_limits);
  ADD ("/core/transition/block-returns-after-done", test_block_returns_after_done, &patient_limits);
  ADD ("/core/transition/block-without-subscribers", test_block_without_subscribers, &quick_limits);
  ADD ("/core/transition/block-signal-subscriber", test_block_signal_subscriber, &quick_limits);
  ADD ("/core/transition/capabilities", test_capabilities_filter, &quick_limits);
  ADD ("/core/transition/capabilities-refused", test_capabilities_refused, &quick_limits);
  ADD ("/core/transition/state-mask", test_state_mask, &quick_limits);
  ADD ("/core/transition/advise-during", test_advise_during_transition, &quick_limits);
  ADD ("/core/transition/advise-during-commit", test_advise_during_commit, &patient_limits);
  ADD ("/core/transition/unadvise-during", test_unadvise_during_transition, &quick_limits);
  ADD ("/core/transition/unadvise-awaited", test_unadvise_awaited_callback, &patient_limits);
  ADD ("/core/transition/delay", test_transition_delay, &quick_limits);
  ADD ("/core/transition/delay-limits", test_transition_delay_limits, &quick_limits);

  ADD ("/core/callback/waits-for-reply", test_callback_waits_for_reply, &patient_limits);
  ADD ("/core/callback/silent", test_callback_silent, &quick_limits);
  ADD ("/core/callback/stale-ticket", test_callback_stale_ticket, &patient_limits);
  ADD ("/core/callback/replied-twice", test_callback_replied_twice, &patient_limits);
  ADD ("/core/callback/fails", test_callback_fails, &patient_limits);
  ADD ("/core/callback/fails-later", test_callback_fails_later, &patient_limits);

  ADD ("/core/advise/fields", test_advise_fields, &quick_limits);
  ADD ("/core/advise/refused", test_advise_refused, &quick_limits);
  ADD ("/core/advise/tokens", test_tokens, &quick_limits);
  ADD ("/core/unadvise/refused-quietly", test_unadvise_refused_quietly, &quick_limits);

  ADD ("/core/limits/per-connection", test_limit_per_connection, &quick_limits);
  ADD ("/core/limits/advises", test_limit_advises, &quick_limits);
  ADD ("/core/limits/profiles", test_limit_profiles, &quick_limits);

  ADD ("/core/clients/signals", test_clients, &quick_limits);
  ADD ("/core/clients/vanished", test_client_vanished, &quick_limits);
  ADD ("/core/clients/vanished-during-transition", test_client_vanished_during_transition,
       &patient_limits);

  ADD ("/core/profiles/create", test_create, &quick_limits);
  ADD ("/core/profiles/create-refused", test_create_refused, &quick_limits);
  ADD ("/core/profiles/remove", test_remove, &quick_limits);
  ADD ("/core/profiles/remove-refused", test_remove_refused, &patient_limits);
  ADD ("/core/profiles/open", test_open, &quick_limits);
  ADD ("/core/profiles/sorted", test_profiles_sorted, &quick_limits);

  ADD ("/core/emulation/inject", test_inject, &quick_limits);
  ADD ("/core/emulation/fail-next", test_fail_next, &quick_limits);
  ADD ("/core/properties/notify", test_property_notify, &quick_limits);

#undef ADD

  return g_test_run ();
}
