/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The fixture shared by test-core-transitions.c and test-core-model.c: the main loop, the
 * test's side as a client, the fixture itself and the helpers both use.
 */
#include "core-fixture.h"

const OsLimits quick_limits = {
  QUICK_TIMEOUT_MS,
  LIMIT_PER_CONNECTION,
  LIMIT_ADVISES,
  LIMIT_PROFILES,
};
const OsLimits patient_limits = {
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

void
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
void
drain (void)
{
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

gboolean
call_done (Fixture *f, gconstpointer data)
{
  const Call *call = data;

  return call->done;
}

gboolean
not_transitioning (Fixture *f, gconstpointer data)
{
  return !os_profile_get_transitioning ((OsProfile *) data);
}

gboolean
has_events (Fixture *f, gconstpointer data)
{
  return f->events->len >= GPOINTER_TO_UINT (data);
}

/* The client's side */

void
reply_free (Reply *reply)
{
  g_object_unref (reply->profile);
  os_advise_unref (reply->advise);
  g_free (reply);
}

Reply *
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

void
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

/* The clients that hold advises, as the bus layer asks for them: the fixture's advises have no
 * Unix user. A client comes with its first advise and goes with its last, and each changes
 * one profile's advise count: "+c:name" and "-c:name" in the manager's log. */
static void
on_advise_count (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Fixture *f = user_data;
  g_auto (GStrv) clients = os_manager_dup_unidentified_clients (f->manager);

  for (guint i = 0; f->clients[i] != NULL; i++)
    if (!g_strv_contains ((const char *const *) clients, f->clients[i]))
      g_string_append_printf (f->manager_log, "-c:%s ", f->clients[i]);
  for (guint i = 0; clients[i] != NULL; i++)
    if (!g_strv_contains ((const char *const *) f->clients, clients[i]))
      g_string_append_printf (f->manager_log, "+c:%s ", clients[i]);
  g_strfreev (f->clients);
  f->clients = g_steal_pointer (&clients);
}

static void
watch_profile (Fixture *f, OsProfile *profile)
{
  g_signal_connect (profile, "notification", G_CALLBACK (on_notification), f);
  g_signal_connect (profile, "notify::transitioning", G_CALLBACK (on_profile_notify), f);
  g_signal_connect (profile, "notify::state", G_CALLBACK (on_profile_notify), f);
  g_signal_connect (profile, "notify::advise-count", G_CALLBACK (on_advise_count), f);
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

/* Fixture */

void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const OsLimits *limits = data != NULL ? data : &quick_limits;

  f->events = g_array_new (FALSE, TRUE, sizeof (Event));
  f->log = g_string_new (NULL);
  f->manager_log = g_string_new (NULL);
  f->clients = g_new0 (char *, 1);
  f->policies = g_hash_table_new (NULL, NULL);
  f->held = g_ptr_array_new_with_free_func ((GDestroyNotify) reply_free);
  f->manager = os_manager_new (limits, NULL);
  g_signal_connect (f->manager, "profile-added", G_CALLBACK (on_profile_added), f);
  g_signal_connect (f->manager, "profile-removed", G_CALLBACK (on_profile_removed), f);
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

void
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
  g_strfreev (f->clients);
  g_string_free (f->manager_log, TRUE);
  g_string_free (f->log, TRUE);
  g_array_unref (f->events);
}

/* Helpers */

guint
advise_signal (Fixture *f, OsProfile *profile, const char *owner, guint client_token, guint mask)
{
  g_autoptr (GError) error = NULL;
  guint token =
      os_profile_advise (profile, owner, OS_UID_UNKNOWN, 0, client_token, 0, NULL, 1, mask, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (token, !=, 0);
  return token;
}

guint
advise_callback (Fixture *f,
                 OsProfile *profile,
                 const char *owner,
                 guint client_token,
                 guint mask,
                 Policy policy)
{
  g_autoptr (GError) error = NULL;
  guint token = os_profile_advise (profile, owner, OS_UID_UNKNOWN, 0, client_token, 0,
                                   CALLBACK_PATH, 1, mask, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (token, !=, 0);
  g_hash_table_insert (f->policies, GUINT_TO_POINTER (token), GUINT_TO_POINTER (policy));
  return token;
}

void
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

Call *
call_new (Fixture *f)
{
  Call *call = g_new0 (Call, 1);

  call->f = f;
  return call;
}

void
call_free (Call *call)
{
  g_clear_error (&call->error);
  g_free (call);
}

Call *
set_state (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  Call *call = call_new (f);

  os_profile_set_state_async (profile, flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state, set_state_done,
                              call);
  return call;
}

/* Starts a transition that will wait for the test (SetCurrentState without BLOCK). */
void
begin_transition (Fixture *f, OsProfile *profile, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, 0, state);

  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  g_assert_true (os_profile_get_transitioning (profile));
}

/* Runs a whole transition (or none) and checks that the call succeeded. */
void
change_state (Fixture *f, OsProfile *profile, guint flags, guint state)
{
  g_autoptr (Call) call = set_state (f, profile, flags, state);

  spin_until (f, call_done, call);
  g_assert_no_error (call->error);
  g_assert_true (call->ok);
  spin_until (f, not_transitioning, profile);
  drain ();
}

void
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

void
assert_types (Fixture *f, guint token, const char *expected)
{
  g_autofree char *types = types_for (f, token);

  g_assert_cmpstr (types, ==, expected);
}

void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

gboolean
result_ready (Fixture *f, gconstpointer data)
{
  GAsyncResult *const *result = data;

  return *result != NULL;
}

void
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
