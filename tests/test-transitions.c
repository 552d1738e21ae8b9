/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Transitions, advises and their notifications (§4 to §7 of the contract), against the
 * real daemon on a private bus: a fresh bus and daemon for every case.
 */
#include <string.h>

#include "harness.h"

/* Only for "it did not hang": never a correctness bound. */
#define WAIT_MS 5000

#define PREFIX_INVALIDARG  "E_INVALIDARG (0x80070057): "
#define PREFIX_PENDING     "E_PENDING (0x8000000A): "
#define PREFIX_NOINTERFACE "E_NOINTERFACE (0x80004002): "
#define INJECTED_MESSAGE   "injected by Emulation.FailNext"

#define BLOCK   MAPIOFFLINE_FLAG_BLOCK
#define OFFLINE MAPIOFFLINE_STATE_OFFLINE
#define ONLINE  MAPIOFFLINE_STATE_ONLINE
#define START   MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START

/* Setups: each case gets its own bus and daemon. */

static void
setup (Harness *h, gconstpointer data)
{
  harness_setup (h, NULL);
}

static void
setup_short_timeout (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=300", NULL };

  harness_setup (h, args);
}

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

static void
teardown (Harness *h, gconstpointer data)
{
  harness_teardown (h);
}

/* Reading the offline object */

static char *
default_path (void)
{
  return harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
}

static guint64
get_sequence (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Sequence");

  return g_variant_get_uint64 (value);
}

static gboolean
get_transitioning (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Transitioning");

  return g_variant_get_boolean (value);
}

/* State (and GetCurrentState, which must agree), Sequence and Transitioning. */
static void
assert_object (GDBusConnection *connection,
               const char *path,
               guint state,
               guint64 sequence,
               gboolean transitioning)
{
  g_autoptr (GVariant) reply = harness_call_ok (
      connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL);
  guint current;

  g_variant_get (reply, "(u)", &current);
  g_assert_cmpuint (current, ==, state);
  g_assert_cmpuint (harness_get_uint (connection, path, "State"), ==, state);
  g_assert_cmpuint (get_sequence (connection, path), ==, sequence);
  g_assert_cmpint (get_transitioning (connection, path), ==, transitioning);
}

static void
assert_advise_count (GDBusConnection *connection, const char *path, guint count)
{
  g_assert_cmpuint (harness_get_uint (connection, path, "AdviseCount"), ==, count);
}

/* A round trip to the daemon's main loop on @connection, then every event queued for this
 * process: whatever the daemon sent to @connection before that reply has been recorded.
 * This is how a case proves that something did not arrive, without sleeping. */
static void
settle (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "State");

  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Calls */

static GError *
call_error (GDBusConnection *connection,
            const char *path,
            const char *interface,
            const char *method,
            GVariant *parameters)
{
  g_autoptr (GVariant) reply = NULL;
  GError *error = NULL;

  reply = harness_call (connection, path, interface, method, parameters, &error);
  g_assert_true ((reply == NULL) != (error == NULL));
  return error;
}

static GError *
emulation_call (GDBusConnection *connection,
                const char *path,
                const char *method,
                GVariant *parameters)
{
  return call_error (connection, path, OFFLINE_STATE_EMULATION_INTERFACE, method, parameters);
}

static void
emulation_call_ok (GDBusConnection *connection,
                   const char *path,
                   const char *method,
                   GVariant *parameters)
{
  g_autoptr (GError) error = emulation_call (connection, path, method, parameters);

  g_assert_no_error (error);
}

static void
set_transition_delay (GDBusConnection *connection, const char *path, guint milliseconds)
{
  emulation_call_ok (connection, path, "SetTransitionDelay", g_variant_new ("(u)", milliseconds));
}

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

static GError *
unadvise (GDBusConnection *connection, const char *path, guint flags, guint token)
{
  return call_error (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
                     g_variant_new ("(uu)", flags, token));
}

static void
unadvise_ok (GDBusConnection *connection, const char *path, guint token)
{
  g_autoptr (GError) error = unadvise (connection, path, 0, token);

  g_assert_no_error (error);
}

static void
set_state_ok (GDBusConnection *connection, const char *path, guint flags, guint state)
{
  g_autoptr (GError) error = harness_set_state (connection, path, flags, state);

  g_assert_no_error (error);
}

/* Notifications */

static void
assert_note (HarnessRecorder *recorder,
             guint index,
             guint notify_type,
             guint client_token,
             guint mask,
             guint old_state,
             guint new_state,
             guint64 sequence)
{
  const HarnessNote *note = harness_recorder_note (recorder, index);

  g_assert_cmpuint (note->notify_type, ==, notify_type);
  g_assert_cmpuint (note->client_token, ==, client_token);
  g_assert_cmpuint (note->mask, ==, mask);
  g_assert_cmpuint (note->old_state, ==, old_state);
  g_assert_cmpuint (note->new_state, ==, new_state);
  g_assert_cmpuint (note->sequence, ==, sequence);
}

/* START, STATECHANGE and DONE of one transition, in this order, from note @first on. */
static void
assert_transition (HarnessRecorder *recorder,
                   guint first,
                   guint client_token,
                   guint old_state,
                   guint new_state,
                   guint64 sequence)
{
  for (guint i = 0; i < 3; i++)
    assert_note (recorder, first + i, START + i, client_token, MAPIOFFLINE_STATE_OFFLINE_MASK,
                 old_state, new_state, sequence);
}

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

/* Answers every Notify that a HARNESS_SILENT recorder holds: a gate that keeps the
 * transition in its current phase until the test opens it. */
static void
release_kept (HarnessRecorder *gate)
{
  while (gate->kept->len > 0)
    g_dbus_method_invocation_return_value (g_ptr_array_steal_index (gate->kept, 0), NULL);
}

/* PropertiesChanged of the OfflineMgr interface, as one client sees them */

typedef struct
{
  GDBusConnection *connection;
  guint subscription_id;
  GPtrArray *events;  /* "Name=value", in arrival order */
  GArray *notes_seen; /* guint per event: peer->n_notes when it arrived */
  GArray *signal_of;  /* guint per event: which PropertiesChanged carried it, from 0 */
  guint n_signals;
  HarnessRecorder *peer; /* a StateChanged recorder on the same connection, or NULL */
  guint want_advise_count;
  gboolean advise_count_reached;
  gboolean transitioning_ended;
} PropsWatch;

static void
on_properties_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  PropsWatch *watch = user_data;
  g_autoptr (GVariant) changed = NULL;
  const char *changed_interface, *name;
  GVariantIter iter;
  GVariant *value;

  g_variant_get (parameters, "(&s@a{sv}@as)", &changed_interface, &changed, NULL);
  if (!g_str_equal (changed_interface, OFFLINE_STATE_OFFLINE_MGR_INTERFACE))
    return;
  g_variant_iter_init (&iter, changed);
  watch->n_signals++;
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      g_autofree char *text = g_variant_print (value, FALSE);
      guint seen = watch->peer != NULL ? watch->peer->n_notes : 0;
      guint signal_index = watch->n_signals - 1;

      g_ptr_array_add (watch->events, g_strdup_printf ("%s=%s", name, text));
      g_array_append_val (watch->notes_seen, seen);
      g_array_append_val (watch->signal_of, signal_index);
      if (g_str_equal (name, "AdviseCount") &&
          g_variant_get_uint32 (value) == watch->want_advise_count)
        watch->advise_count_reached = TRUE;
      if (g_str_equal (name, "Transitioning") && !g_variant_get_boolean (value))
        watch->transitioning_ended = TRUE;
    }
}

static PropsWatch *
props_watch_new (GDBusConnection *connection, const char *path, HarnessRecorder *peer)
{
  PropsWatch *watch = g_new0 (PropsWatch, 1);

  watch->connection = g_object_ref (connection);
  watch->events = g_ptr_array_new_with_free_func (g_free);
  watch->notes_seen = g_array_new (FALSE, TRUE, sizeof (guint));
  watch->signal_of = g_array_new (FALSE, TRUE, sizeof (guint));
  watch->peer = peer;
  watch->want_advise_count = G_MAXUINT;
  watch->subscription_id = g_dbus_connection_signal_subscribe (
      connection, NULL, "org.freedesktop.DBus.Properties", "PropertiesChanged", path,
      OFFLINE_STATE_OFFLINE_MGR_INTERFACE, G_DBUS_SIGNAL_FLAGS_NONE, on_properties_changed, watch,
      NULL);
  return watch;
}

static void
props_watch_free (PropsWatch *watch)
{
  g_dbus_connection_signal_unsubscribe (watch->connection, watch->subscription_id);
  g_ptr_array_unref (watch->events);
  g_array_unref (watch->notes_seen);
  g_array_unref (watch->signal_of);
  g_object_unref (watch->connection);
  g_free (watch);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PropsWatch, props_watch_free)

/* A SetCurrentState in flight that also notes how many notifications @watch had, and
 * whether @props had seen Transitioning end, when the reply came: the client sees the
 * daemon's messages on one connection in order. */
typedef struct
{
  HarnessPending pending;
  HarnessRecorder *watch;
  PropsWatch *props; /* may be NULL */
  guint notes_at_reply;
  gboolean ended_at_reply;
} WatchedCall;

static void
on_watched_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WatchedCall *call = user_data;

  call->pending.reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &call->pending.error);
  call->pending.time_us = g_get_monotonic_time ();
  call->notes_at_reply = call->watch->n_notes;
  call->ended_at_reply = call->props != NULL && call->props->transitioning_ended;
  call->pending.done = TRUE;
}

static void
watched_set_state_begin (GDBusConnection *connection,
                         const char *path,
                         guint flags,
                         guint state,
                         HarnessRecorder *watch,
                         WatchedCall *call)
{
  memset (call, 0, sizeof *call);
  call->watch = watch;
  g_dbus_connection_call (
      connection, OFFLINE_STATE_BUS_NAME, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
      "SetCurrentState", g_variant_new ("(uuu)", flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state),
      G_VARIANT_TYPE_UNIT, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_watched_call_done, call);
}

/* A callback client that calls SetCurrentState from inside its START handler, and answers
 * that Notify only once its own call has been answered. */

typedef struct
{
  GDBusConnection *connection;
  char *profile_path;
  guint registration_id;
  guint n_notes;
  guint nested_state;
  GDBusMethodInvocation *held;
  GError *nested_error;
  gboolean nested_done;
} NestedClient;

static GDBusInterfaceInfo *
notify_interface_info (void)
{
  static GDBusNodeInfo *node;

  if (node == NULL)
    node = g_dbus_node_info_new_for_xml (
        "<node><interface name='" OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE "'>"
        "<method name='" OFFLINE_STATE_NOTIFY_METHOD "'><arg type='u'/><arg type='u'/>"
        "<arg type='u'/><arg type='u'/><arg type='u'/><arg type='t'/></method>"
        "</interface></node>",
        NULL);
  return node->interfaces[0];
}

static void
on_nested_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  NestedClient *client = user_data;
  g_autoptr (GVariant) reply = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &client->nested_error);
  client->nested_done = TRUE;
  g_dbus_method_invocation_return_value (g_steal_pointer (&client->held), NULL);
}

static void
on_nested_notify (GDBusConnection *connection,
                  const char *sender,
                  const char *path,
                  const char *interface,
                  const char *method,
                  GVariant *parameters,
                  GDBusMethodInvocation *invocation,
                  gpointer user_data)
{
  NestedClient *client = user_data;
  guint notify_type;

  g_variant_get (parameters, "(uuuuut)", &notify_type, NULL, NULL, NULL, NULL, NULL);
  client->n_notes++;
  if (notify_type != START || client->held != NULL || client->nested_done)
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
      return;
    }
  client->held = invocation;
  g_dbus_connection_call (connection, OFFLINE_STATE_BUS_NAME, client->profile_path,
                          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                          g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_DEFAULT,
                                         MAPIOFFLINE_STATE_OFFLINE_MASK, client->nested_state),
                          NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, on_nested_call_done,
                          client);
}

static NestedClient *
nested_client_new (GDBusConnection *connection,
                   const char *profile_path,
                   const char *callback_path,
                   guint nested_state)
{
  static const GDBusInterfaceVTable vtable = { on_nested_notify, NULL, NULL, { 0 } };
  NestedClient *client = g_new0 (NestedClient, 1);
  g_autoptr (GError) error = NULL;

  client->connection = g_object_ref (connection);
  client->profile_path = g_strdup (profile_path);
  client->nested_state = nested_state;
  client->registration_id = g_dbus_connection_register_object (
      connection, callback_path, notify_interface_info (), &vtable, client, NULL, &error);
  g_assert_no_error (error);
  return client;
}

static void
nested_client_free (NestedClient *client)
{
  g_dbus_connection_unregister_object (client->connection, client->registration_id);
  g_clear_error (&client->nested_error);
  g_free (client->profile_path);
  g_object_unref (client->connection);
  g_free (client);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NestedClient, nested_client_free)

/* 1. Signal delivery, BLOCK */

static void
test_signal_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  WatchedCall call;

  harness_advise (h->client, path, 4242, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_object (h->client, path, ONLINE, 0, FALSE);

  watched_set_state_begin (h->client, path, BLOCK, OFFLINE, recorder, &call);
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  /* BLOCK answers after the last phase: all three notifications came first. */
  g_assert_cmpuint (call.notes_at_reply, ==, 3);
  g_assert_cmpint (harness_recorder_note (recorder, 2)->time_us, <=, call.pending.time_us);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 4242, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);

  watched_set_state_begin (h->client, path, BLOCK, ONLINE, recorder, &call);
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  g_assert_cmpuint (call.notes_at_reply, ==, 6);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  assert_transition (recorder, 3, 4242, OFFLINE, ONLINE, 2);
  assert_object (h->client, path, ONLINE, 2, FALSE);
  harness_pending_clear (&call.pending);
}

/* SetCurrentState to the current state: success, nothing notified, nothing counted. */
static void
test_same_state (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 0);
  assert_object (h->client, path, ONLINE, 0, FALSE);
}

/* 2. Callback delivery, BLOCK */

static void
test_callback_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder =
      harness_recorder_new_callback (h->client, "/test/notify", HARNESS_REPLY, 0);
  WatchedCall call;

  harness_advise (h->client, path, 77, "/test/notify");

  watched_set_state_begin (h->client, path, BLOCK, OFFLINE, recorder, &call);
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  g_assert_cmpuint (call.notes_at_reply, ==, 3);
  assert_transition (recorder, 0, 77, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);

  watched_set_state_begin (h->client, path, BLOCK, ONLINE, recorder, &call);
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  g_assert_cmpuint (call.notes_at_reply, ==, 6);
  assert_transition (recorder, 3, 77, OFFLINE, ONLINE, 2);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 6);
  assert_object (h->client, path, ONLINE, 2, FALSE);
  assert_advise_count (h->client, path, 1);
  harness_pending_clear (&call.pending);
}

/* 3. Without BLOCK the reply comes once the transition has started. */

static void
test_default_returns_at_start (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, NULL);
  WatchedCall call;
  const HarnessNote *start, *change;

  harness_advise (h->client, path, 5, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 500);

  watched_set_state_begin (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE, recorder, &call);
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  g_assert_cmpuint (call.notes_at_reply, <, 2); /* no STATECHANGE before the reply */
  /* The delay holds the transition between START and STATECHANGE. */
  g_assert_true (get_transitioning (h->client, path));
  g_assert_cmpuint (harness_get_uint (h->client, path, "State"), ==, ONLINE);

  harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
  assert_transition (recorder, 0, 5, ONLINE, OFFLINE, 1);
  start = harness_recorder_note (recorder, 0);
  change = harness_recorder_note (recorder, 1);
  g_assert_cmpint (change->time_us, >, call.pending.time_us);
  g_assert_cmpint (change->time_us - start->time_us, >=, 500 * G_TIME_SPAN_MILLISECOND);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&call.pending);
}

/* BLOCK returns no earlier than the transition delay. */
static void
test_block_waits_for_delay (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  HarnessPending pending;
  gint64 begin;

  set_transition_delay (h->client, path, 300);
  begin = g_get_monotonic_time ();
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  g_assert_cmpint (pending.time_us - begin, >=, 300 * G_TIME_SPAN_MILLISECOND);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 4. E_PENDING during a transition */

static void
test_pending (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, NULL);
  const guint flags[] = { MAPIOFFLINE_FLAG_DEFAULT, BLOCK };

  harness_advise (h->client, path, 9, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 1000);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE);
  g_assert_true (get_transitioning (h->client, path));

  /* Any valid call: to the target, to the current state, from any connection. */
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    for (guint state = OFFLINE; state <= ONLINE; state++)
      {
        g_autoptr (GError) mine = harness_set_state (h->client, path, flags[i], state);
        g_autoptr (GError) theirs = harness_set_state (other, path, flags[i], state);

        harness_assert_dbus_error (mine, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
        harness_assert_dbus_error (theirs, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
      }
  {
    /* Arguments are checked first. */
    g_autoptr (GError) error = harness_set_state (other, path, 1, OFFLINE);

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
  }
  {
    g_autoptr (GError) error =
        call_error (other, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "RemoveOfflineObject",
                    g_variant_new ("(s)", OFFLINE_STATE_DEFAULT_PROFILE));

    harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  }
  g_assert_true (get_transitioning (h->client, path));

  /* The refused calls changed nothing: one transition, then a free object again. */
  harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 9, ONLINE, OFFLINE, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  set_transition_delay (h->client, path, 0);
  set_state_ok (other, path, BLOCK, OFFLINE);
  set_state_ok (other, path, BLOCK, ONLINE);
  assert_object (h->client, path, ONLINE, 2, FALSE);
}

static void
test_pending_from_handler (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  /* During the transition to OFFLINE, ask for ONLINE: the state still current. */
  g_autoptr (NestedClient) client = nested_client_new (h->client, path, "/test/nested", ONLINE);
  HarnessPending pending;

  harness_advise (h->client, path, 3, "/test/nested");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);

  g_assert_true (client->nested_done);
  harness_assert_dbus_error (client->nested_error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  g_assert_cmpuint (client->n_notes, ==, 3);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 5. A slow callback holds the commit back. */

static void
test_slow_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) slow =
      harness_recorder_new_callback (h->client, "/test/slow", HARNESS_REPLY_LATER, 400);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  const HarnessNote *slow_start, *change;
  HarnessPending pending;

  harness_advise (h->client, path, 1, "/test/slow");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&slow->n_notes, 1, WAIT_MS);
  /* This process cannot answer while it waits for these replies: no commit yet. */
  g_assert_true (get_transitioning (other, path));
  g_assert_cmpuint (harness_get_uint (other, path, "State"), ==, ONLINE);
  g_assert_cmpuint (get_sequence (other, path), ==, 0);

  harness_wait_flag (&pending.done, WAIT_MS * 2);
  g_assert_no_error (pending.error);
  harness_wait_count (&watcher->n_notes, 3, WAIT_MS);
  assert_transition (slow, 0, 1, ONLINE, OFFLINE, 1);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);
  /* STATECHANGE left the daemon after the slow reply, which came 400 ms after START
   * reached the slow client. */
  slow_start = harness_recorder_note (slow, 0);
  change = harness_recorder_note (watcher, 1);
  g_assert_cmpint (change->time_us - slow_start->time_us, >=, 400 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (pending.time_us - slow_start->time_us, >=, 3 * 400 * G_TIME_SPAN_MILLISECOND);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  assert_advise_count (h->client, path, 2);
  harness_pending_clear (&pending);
}

/* 6. A silent callback costs NotifyTimeout per phase and keeps its advise. */

static void
test_silent_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (h->client, "/test/silent", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  g_autoptr (GVariant) timeout = NULL;
  HarnessPending pending;
  gint64 begin;

  timeout =
      harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "NotifyTimeout");
  g_assert_cmpuint (g_variant_get_uint32 (timeout), ==, 300);
  harness_advise (h->client, path, 1, "/test/silent");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  for (guint round = 0; round < 2; round++)
    {
      guint state = round == 0 ? OFFLINE : ONLINE;

      begin = g_get_monotonic_time ();
      harness_set_state_begin (h->client, path, BLOCK, state, &pending);
      harness_wait_flag (&pending.done, 10000);
      g_assert_no_error (pending.error);
      g_assert_cmpint (pending.time_us - begin, >=, 3 * 300 * G_TIME_SPAN_MILLISECOND);
      settle (h->client, path);
      settle (other, path);
      g_assert_cmpuint (silent->n_notes, ==, 3 * (round + 1));
      g_assert_cmpuint (watcher->n_notes, ==, 3 * (round + 1));
      assert_transition (silent, 3 * round, 1, 3 - state, state, round + 1);
      assert_transition (watcher, 3 * round, 2, 3 - state, state, round + 1);
      /* A time-out only moves the transition on. */
      assert_advise_count (h->client, path, 2);
      assert_object (h->client, path, state, round + 1, FALSE);
      harness_pending_clear (&pending);
    }
}

/* 7. A callback that fails is unadvised. */

static void
test_failing_callback (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (HarnessRecorder) failing =
      harness_recorder_new_callback (h->client, "/test/fail", HARNESS_FAIL, 0);
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (other, path);
  HarnessPending pending;

  harness_advise (h->client, path, 1, "/test/fail");
  harness_advise (other, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 2);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  assert_advise_count (h->client, path, 1);
  settle (other, path);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);

  harness_set_state_begin (h->client, path, BLOCK, ONLINE, &pending);
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  settle (h->client, path);
  settle (other, path);
  g_assert_cmpuint (failing->n_notes, ==, 1);
  assert_note (failing, 0, START, 1, MAPIOFFLINE_STATE_OFFLINE_MASK, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (watcher->n_notes, ==, 6);
  assert_transition (watcher, 3, 2, OFFLINE, ONLINE, 2);
  assert_advise_count (h->client, path, 1);
  assert_object (h->client, path, ONLINE, 2, FALSE);
}

static void
test_missing_callback_object (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) empty = harness_connect (h); /* exports nothing */
  g_autoptr (HarnessRecorder) watcher = harness_recorder_new_signal (h->client, path);

  harness_advise (empty, path, 1, "/nothing/here");
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  assert_advise_count (h->client, path, 2);

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  assert_advise_count (h->client, path, 1);
  set_state_ok (h->client, path, BLOCK, ONLINE);
  settle (h->client, path);
  g_assert_cmpuint (watcher->n_notes, ==, 6);
  assert_transition (watcher, 0, 2, ONLINE, OFFLINE, 1);
  assert_transition (watcher, 3, 2, OFFLINE, ONLINE, 2);
  assert_advise_count (h->client, path, 1);
}

/* 8. A connection that leaves the bus loses its advises. */

static void
test_closed_connection (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, NULL);
  g_autoptr (GDBusConnection) leaving = harness_connect (h);
  g_autoptr (HarnessRecorder) leaving_signal = harness_recorder_new_signal (leaving, path);
  g_autoptr (HarnessRecorder) leaving_callback =
      harness_recorder_new_callback (leaving, "/test/leaving", HARNESS_REPLY, 0);
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (GError) error = NULL;

  harness_advise (leaving, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (leaving, path, 2, "/test/leaving");
  assert_advise_count (h->client, path, 2);

  watch->want_advise_count = 0;
  g_dbus_connection_close_sync (leaving, NULL, &error);
  g_assert_no_error (error);
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
  assert_advise_count (h->client, path, 0);

  harness_advise (h->client, path, 3, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
  settle (h->client, path);
  g_assert_cmpuint (recorder->n_notes, ==, 3);
  assert_transition (recorder, 0, 3, ONLINE, OFFLINE, 1);
  g_assert_cmpuint (leaving_signal->n_notes, ==, 0);
  g_assert_cmpuint (leaving_callback->n_notes, ==, 0);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
}

/* The transition stops waiting for a callback whose owner left. */
static void
test_closed_connection_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) leaving = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (leaving, "/test/silent", HARNESS_SILENT, 0);
  g_autoptr (GError) error = NULL;
  HarnessPending pending;
  gint64 closed;

  harness_advise (leaving, path, 1, "/test/silent");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&silent->n_notes, 1, WAIT_MS);
  g_assert_true (get_transitioning (h->client, path));

  closed = g_get_monotonic_time ();
  g_dbus_connection_close_sync (leaving, NULL, &error);
  g_assert_no_error (error);
  harness_wait_flag (&pending.done, 10000);
  g_assert_no_error (pending.error);
  /* Well before the 5000 ms NotifyTimeout. */
  g_assert_cmpint (pending.time_us - closed, <, 4000 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (silent->n_notes, ==, 1);
  assert_advise_count (h->client, path, 0);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  harness_pending_clear (&pending);
}

/* 9. Nobody removes another's advise. */

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

/* 10. StateChanged is unicast, once per advise. */

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

/* 11. Argument checks, with their exact wire names */

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
      g_autoptr (GError) error =
          call_error (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
                      g_variant_new ("(uuu)", cases[i][0], cases[i][1], cases[i][2]));

      harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
      assert_object (h->client, path, ONLINE, 0, FALSE);
    }
  {
    /* The wrong D-Bus signature: GDBus's own InvalidArgs. */
    g_autoptr (GError) error =
        call_error (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState",
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

/* 12. Limits */

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

/* 13. Tokens */

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

/* 14. Capabilities choose the directions that notify. */

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

/* 15. Emulation */

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
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, NULL);
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
  g_autoptr (GError) error =
      call_error (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL);

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

/* 16. Advises added or removed during a transition */

static void
test_advise_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) late = harness_connect (h);
  g_autoptr (GDBusConnection) quitter = harness_connect (h);
  /* A gate: the transition stays in each phase until the test answers. */
  g_autoptr (HarnessRecorder) gate =
      harness_recorder_new_callback (h->client, "/test/gate", HARNESS_SILENT, 0);
  g_autoptr (HarnessRecorder) late_recorder = harness_recorder_new_signal (late, path);
  g_autoptr (HarnessRecorder) quitter_recorder = harness_recorder_new_signal (quitter, path);
  HarnessPending pending;
  guint gate_token, quitter_token;

  gate_token = harness_advise (h->client, path, 1, "/test/gate");
  quitter_token = harness_advise (quitter, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&gate->n_notes, 1, WAIT_MS);
  harness_wait_count (&quitter_recorder->n_notes, 1, WAIT_MS);
  g_assert_true (get_transitioning (late, path));

  harness_advise (late, path, 3, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  unadvise_ok (quitter, path, quitter_token);
  assert_advise_count (late, path, 2);

  for (guint phase = 1; phase <= 3; phase++)
    {
      harness_wait_count (&gate->n_notes, phase, WAIT_MS);
      release_kept (gate);
    }
  harness_wait_flag (&pending.done, WAIT_MS);
  g_assert_no_error (pending.error);
  harness_pending_clear (&pending);
  assert_transition (gate, 0, 1, ONLINE, OFFLINE, 1);
  settle (late, path);
  settle (quitter, path);
  g_assert_cmpuint (late_recorder->n_notes, ==, 0);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
  assert_note (quitter_recorder, 0, START, 2, 3, ONLINE, OFFLINE, 1);

  /* The late advise counts from the next transition on. */
  unadvise_ok (h->client, path, gate_token);
  set_state_ok (late, path, BLOCK, ONLINE);
  settle (late, path);
  settle (quitter, path);
  g_assert_cmpuint (late_recorder->n_notes, ==, 3);
  assert_transition (late_recorder, 0, 3, OFFLINE, ONLINE, 2);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
}

/* An advise removed after START, while the delay holds the transition, gets nothing more. */
static void
test_unadvise_during_delay (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) quitter = harness_connect (h);
  g_autoptr (HarnessRecorder) quitter_recorder = harness_recorder_new_signal (quitter, path);
  g_autoptr (HarnessRecorder) stayer = harness_recorder_new_signal (h->client, path);
  guint quitter_token;

  quitter_token = harness_advise (quitter, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (h->client, path, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_transition_delay (h->client, path, 500);
  set_state_ok (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, OFFLINE);
  harness_wait_count (&quitter_recorder->n_notes, 1, WAIT_MS);
  unadvise_ok (quitter, path, quitter_token);
  /* Not committed yet after the Unadvise: it came before STATECHANGE. */
  g_assert_cmpuint (harness_get_uint (quitter, path, "State"), ==, ONLINE);

  harness_wait_count (&stayer->n_notes, 3, WAIT_MS);
  settle (quitter, path);
  g_assert_cmpuint (quitter_recorder->n_notes, ==, 1);
  assert_note (quitter_recorder, 0, START, 1, 3, ONLINE, OFFLINE, 1);
  assert_transition (stayer, 0, 2, ONLINE, OFFLINE, 1);
}

/* The transition stops waiting for a callback as soon as its advise is removed. */
static void
test_unadvise_silent_during_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) owner = harness_connect (h);
  g_autoptr (HarnessRecorder) silent =
      harness_recorder_new_callback (owner, "/test/silent", HARNESS_SILENT, 0);
  HarnessPending pending;
  guint token;
  gint64 removed;

  token = harness_advise (owner, path, 1, "/test/silent");
  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_count (&silent->n_notes, 1, WAIT_MS);
  removed = g_get_monotonic_time ();
  unadvise_ok (owner, path, token);
  harness_wait_flag (&pending.done, 10000);
  g_assert_no_error (pending.error);
  /* Well before the 5000 ms NotifyTimeout. */
  g_assert_cmpint (pending.time_us - removed, <, 4000 * G_TIME_SPAN_MILLISECOND);
  settle (owner, path);
  g_assert_cmpuint (silent->n_notes, ==, 1);
  assert_object (h->client, path, OFFLINE, 1, FALSE);
  assert_advise_count (h->client, path, 0);
  harness_pending_clear (&pending);
}

/* 17. "Advise, then read State" is race-free. */

static void
test_advise_then_transition (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) recorders =
      g_ptr_array_new_with_free_func ((GDestroyNotify) harness_recorder_free);

  for (guint i = 0; i < 6; i++)
    {
      GDBusConnection *connection = harness_connect (h);
      HarnessRecorder *recorder = harness_recorder_new_signal (connection, path);
      guint state = i % 2 == 0 ? OFFLINE : ONLINE;

      g_ptr_array_add (connections, connection);
      g_ptr_array_add (recorders, recorder);
      harness_advise (connection, path, 100 + i, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
      set_state_ok (h->client, path, BLOCK, state);
      harness_wait_count (&recorder->n_notes, 3, WAIT_MS);
      assert_transition (recorder, 0, 100 + i, 3 - state, state, i + 1);
    }
  for (guint i = 0; i < recorders->len; i++)
    {
      HarnessRecorder *recorder = g_ptr_array_index (recorders, i);

      settle (recorder->connection, path);
      g_assert_cmpuint (recorder->n_notes, ==, 3 * (recorders->len - i));
    }
}

/* GetCurrentState tells the committed state no earlier than the STATECHANGE that follows
 * the commit: the reply comes on the same connection, so it must come after that Notify. */

typedef struct
{
  HarnessRecorder *gate;
  guint new_state;
  guint answered;
  guint early;
} StateProbe;

static void
on_state_probe_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StateProbe *probe = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  guint state;

  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &state);
  g_assert_true (state == OFFLINE || state == ONLINE);
  if (state == probe->new_state && probe->gate->n_notes < 2)
    probe->early++;
  probe->answered++;
}

static void
test_get_current_state_after_commit (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) gate =
      harness_recorder_new_callback (h->client, "/test/gate", HARNESS_SILENT, 0);
  const guint n_calls = 50;

  harness_advise (h->client, path, 1, "/test/gate");
  for (guint round = 0; round < 4; round++)
    {
      StateProbe probe = { gate, round % 2 == 0 ? OFFLINE : ONLINE, 0, 0 };
      HarnessPending pending;

      harness_set_state_begin (h->client, path, BLOCK, probe.new_state, &pending);
      harness_wait_count (&gate->n_notes, 3 * round + 1, WAIT_MS);
      /* Let the commit happen, and ask at once, while it is being persisted. */
      release_kept (gate);
      for (guint i = 0; i < n_calls; i++)
        g_dbus_connection_call (h->client, OFFLINE_STATE_BUS_NAME, path,
                                OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL,
                                G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL,
                                on_state_probe_done, &probe);
      for (guint phase = 2; phase <= 3; phase++)
        {
          harness_wait_count (&gate->n_notes, 3 * round + phase, WAIT_MS);
          release_kept (gate);
        }
      harness_wait_flag (&pending.done, WAIT_MS);
      g_assert_no_error (pending.error);
      harness_pending_clear (&pending);
      harness_wait_count (&probe.answered, n_calls, WAIT_MS);
      g_assert_cmpuint (probe.early, ==, 0);
    }
}

/* 18. PropertiesChanged, in order, and ahead of the notifications that follow them. */

/* When a PropertiesChanged watch saw one change. */
typedef struct
{
  guint signal; /* which PropertiesChanged carried it */
  guint seen;   /* how many notifications the peer had by then */
} Moment;

static Moment
find_change (PropsWatch *watch, const char *change)
{
  Moment moment = { G_MAXUINT, 0 };

  for (guint i = 0; i < watch->events->len; i++)
    {
      if (!g_str_equal (g_ptr_array_index (watch->events, i), change))
        continue;
      if (moment.signal != G_MAXUINT)
        g_error ("'%s' was signalled twice", change);
      moment.signal = g_array_index (watch->signal_of, guint, i);
      moment.seen = g_array_index (watch->notes_seen, guint, i);
    }
  if (moment.signal == G_MAXUINT)
    g_error ("'%s' was never signalled", change);
  return moment;
}

/* The changes of one transition to OFFLINE, sequence 1, AdviseCount aside: Transitioning
 * true, then State and Sequence, then Transitioning false (changes that one signal carries
 * together have no order among them). Fills @moments in that order. */
static void
assert_transition_properties (PropsWatch *watch, Moment moments[4])
{
  static const char *const changes[] = {
    "Transitioning=true",
    "State=1",
    "Sequence=1",
    "Transitioning=false",
  };
  guint n_changes = 0;

  for (guint i = 0; i < watch->events->len; i++)
    if (!g_str_has_prefix (g_ptr_array_index (watch->events, i), "AdviseCount="))
      n_changes++;
  g_assert_cmpuint (n_changes, ==, G_N_ELEMENTS (changes));
  for (guint i = 0; i < G_N_ELEMENTS (changes); i++)
    moments[i] = find_change (watch, changes[i]);
  g_assert_cmpuint (moments[0].signal, <, moments[1].signal);
  g_assert_cmpuint (moments[0].signal, <, moments[2].signal);
  g_assert_cmpuint (moments[1].signal, <=, moments[3].signal);
  g_assert_cmpuint (moments[2].signal, <=, moments[3].signal);
}

static void
test_properties_changed_order (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (HarnessRecorder) recorder = harness_recorder_new_signal (h->client, path);
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, recorder);
  Moment moments[4];
  WatchedCall call;

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  watched_set_state_begin (h->client, path, BLOCK, OFFLINE, recorder, &call);
  call.props = watch;
  harness_wait_flag (&call.pending.done, WAIT_MS);
  g_assert_no_error (call.pending.error);
  /* Step 4: Transitioning becomes false, then the BLOCK caller gets its reply. */
  g_assert_true (call.ended_at_reply);
  harness_pending_clear (&call.pending);

  assert_transition_properties (watch, moments);
  /* Transitioning before START; the commit after START and before STATECHANGE; the end
   * after DONE, so in a signal of its own. */
  g_assert_cmpuint (moments[0].seen, ==, 0);
  g_assert_cmpuint (moments[1].seen, ==, 1);
  g_assert_cmpuint (moments[2].seen, ==, 1);
  g_assert_cmpuint (moments[3].seen, ==, 3);
  g_assert_cmpuint (moments[1].signal, <, moments[3].signal);
}

/* With nobody advised, an observer still sees Transitioning go true and back. */
static void
test_properties_changed_without_advises (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autoptr (PropsWatch) watch = props_watch_new (h->client, path, NULL);
  Moment moments[4];

  set_state_ok (h->client, path, BLOCK, OFFLINE);
  harness_wait_flag (&watch->transitioning_ended, WAIT_MS);
  settle (h->client, path);
  assert_transition_properties (watch, moments);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, setup_func, test_func)                                                           \
  g_test_add ("/transitions/" name, Harness, NULL, setup_func, test_func, teardown)

  ADD ("signal-advise", setup, test_signal_advise);
  ADD ("same-state", setup, test_same_state);
  ADD ("callback-advise", setup, test_callback_advise);
  ADD ("default-returns-at-start", setup, test_default_returns_at_start);
  ADD ("block-waits-for-delay", setup, test_block_waits_for_delay);
  ADD ("pending", setup, test_pending);
  ADD ("pending-from-handler", setup, test_pending_from_handler);
  ADD ("slow-callback", setup, test_slow_callback);
  ADD ("silent-callback", setup_short_timeout, test_silent_callback);
  ADD ("failing-callback", setup, test_failing_callback);
  ADD ("missing-callback-object", setup, test_missing_callback_object);
  ADD ("closed-connection", setup, test_closed_connection);
  ADD ("closed-connection-during-transition", setup, test_closed_connection_during_transition);
  ADD ("unadvise-rules", setup, test_unadvise_rules);
  ADD ("unicast", setup, test_unicast);
  ADD ("two-advises-one-connection", setup, test_two_advises_one_connection);
  ADD ("advise-invalid-args", setup, test_advise_invalid_args);
  ADD ("set-state-invalid-args", setup, test_set_state_invalid_args);
  ADD ("state-mask", setup, test_state_mask);
  ADD ("limit-per-connection", setup_per_connection_limit, test_limit_per_connection);
  ADD ("limit-total", setup_total_limit, test_limit_total);
  ADD ("tokens", setup, test_tokens);
  ADD ("capabilities", setup, test_capabilities);
  ADD ("emulation-transition-delay", setup, test_emulation_transition_delay);
  ADD ("emulation-inject", setup, test_emulation_inject);
  ADD ("emulation-inject-failing-callback", setup, test_emulation_inject_failing_callback);
  ADD ("emulation-fail-next", setup, test_emulation_fail_next);
  ADD ("advise-during-transition", setup, test_advise_during_transition);
  ADD ("unadvise-during-delay", setup, test_unadvise_during_delay);
  ADD ("unadvise-silent-during-transition", setup, test_unadvise_silent_during_transition);
  ADD ("advise-then-transition", setup, test_advise_then_transition);
  ADD ("get-current-state-after-commit", setup, test_get_current_state_after_commit);
  ADD ("properties-changed-order", setup, test_properties_changed_order);
  ADD ("properties-changed-without-advises", setup, test_properties_changed_without_advises);

#undef ADD
  return g_test_run ();
}
