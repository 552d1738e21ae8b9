/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * liboffline-state's OfflineStateClient against the real daemon on a private bus: a fresh
 * bus and daemon for every case (tests/harness.c). The test's own raw D-Bus calls go
 * through the harness, so that what the client shows is checked against the wire.
 */
#include <string.h>

#include "harness.h"
#include "offline-state-client.h"
#include "../mapi-prefixes.h"

/* Only for "it did not hang": never a correctness bound. */
#define WAIT_MS 10000

#define OFFLINE OFFLINE_STATE_STATE_OFFLINE
#define ONLINE  OFFLINE_STATE_STATE_ONLINE

static void
setup (Harness *h, gconstpointer data)
{
  harness_setup (h, NULL);
}

static void
teardown (Harness *h, gconstpointer data)
{
  harness_teardown (h);
}

static char *
default_path (void)
{
  return harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
}

/* Opening a client with the async constructor, so the main loop keeps running. */

typedef struct
{
  gboolean done;
  OfflineStateClient *client;
  GError *error;
} Opened;

static void
on_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Opened *opened = user_data;

  /* GAsyncInitable: the source is the object being initialized, even when that fails. */
  g_assert_true (OFFLINE_STATE_IS_CLIENT (source));
  opened->client = offline_state_client_new_finish (result, &opened->error);
  opened->done = TRUE;
}

static OfflineStateClient *
open_client_full (GDBusConnection *connection, const char *profile, GError **error)
{
  Opened opened = { 0 };

  offline_state_client_new (connection, profile, NULL, on_opened, &opened);
  harness_wait_flag (&opened.done, WAIT_MS);
  g_assert_true ((opened.client == NULL) == (opened.error != NULL));
  if (opened.error != NULL)
    g_propagate_error (error, opened.error);
  return opened.client;
}

static OfflineStateClient *
open_client (GDBusConnection *connection, const char *profile)
{
  g_autoptr (GError) error = NULL;
  OfflineStateClient *client = open_client_full (connection, profile, &error);

  g_assert_no_error (error);
  g_assert_true (OFFLINE_STATE_IS_CLIENT (client));
  return client;
}

/* Setting the state without blocking the main loop. */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
  /* The client's properties when the reply arrived. */
  OfflineStateState state;
  gboolean transitioning;
} SetState;

static void
on_set_state (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OfflineStateClient *client = OFFLINE_STATE_CLIENT (source);
  SetState *set = user_data;

  set->ok = offline_state_client_set_state_finish (client, result, &set->error);
  set->state = offline_state_client_get_state (client);
  set->transitioning = offline_state_client_get_transitioning (client);
  set->done = TRUE;
}

static void
set_state_begin (OfflineStateClient *client, OfflineStateState state, gboolean block, SetState *set)
{
  memset (set, 0, sizeof *set);
  offline_state_client_set_state_async (client, state, block, NULL, on_set_state, set);
}

static void
set_state_wait (OfflineStateClient *client, OfflineStateState state, gboolean block, SetState *set)
{
  set_state_begin (client, state, block, set);
  harness_wait_flag (&set->done, WAIT_MS);
}

/* The notifications a client emits, with the client's properties as each arrived. */

typedef struct
{
  OfflineStatePhase phase;
  guint mask;
  OfflineStateState old_state;
  OfflineStateState new_state;
  guint64 sequence;
  OfflineStateState state_then;
  gboolean transitioning_then;
  guint64 sequence_then;
} Note;

typedef struct
{
  OfflineStateClient *client;
  GArray *notes;
  guint n_notes;
  gulong handler;
} Notes;

static void
on_notification (OfflineStateClient *client,
                 OfflineStatePhase phase,
                 guint mask,
                 OfflineStateState old_state,
                 OfflineStateState new_state,
                 guint64 sequence,
                 Notes *notes)
{
  Note note = {
    .phase = phase,
    .mask = mask,
    .old_state = old_state,
    .new_state = new_state,
    .sequence = sequence,
    .state_then = offline_state_client_get_state (client),
    .transitioning_then = offline_state_client_get_transitioning (client),
    .sequence_then = offline_state_client_get_sequence (client),
  };

  g_assert_true (client == notes->client);
  g_array_append_val (notes->notes, note);
  notes->n_notes = notes->notes->len;
}

static void
notes_init (Notes *notes, OfflineStateClient *client)
{
  notes->client = client;
  notes->notes = g_array_new (FALSE, TRUE, sizeof (Note));
  notes->n_notes = 0;
  notes->handler = g_signal_connect (client, "notification", G_CALLBACK (on_notification), notes);
}

static void
notes_clear (Notes *notes)
{
  g_clear_signal_handler (&notes->handler, notes->client);
  g_clear_pointer (&notes->notes, g_array_unref);
}

static const Note *
notes_get (Notes *notes, guint index)
{
  g_assert_cmpuint (index, <, notes->notes->len);
  return &g_array_index (notes->notes, Note, index);
}

/* Asserts that notes @first.. are the three phases of one transition. */
static void
assert_transition (Notes *notes,
                   guint first,
                   OfflineStateState old_state,
                   OfflineStateState new_state,
                   guint64 sequence)
{
  static const OfflineStatePhase phases[] = { OFFLINE_STATE_PHASE_START,
                                              OFFLINE_STATE_PHASE_STATECHANGE,
                                              OFFLINE_STATE_PHASE_DONE };

  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      const Note *note = notes_get (notes, first + i);

      g_assert_cmpint (note->phase, ==, phases[i]);
      g_assert_cmpuint (note->mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
      g_assert_cmpint (note->old_state, ==, old_state);
      g_assert_cmpint (note->new_state, ==, new_state);
      g_assert_cmpuint (note->sequence, ==, sequence);
      /* The service tells property changes before the notification that follows them. */
      g_assert_true (note->transitioning_then);
      g_assert_cmpint (note->state_then, ==, i == 0 ? old_state : new_state);
      g_assert_cmpuint (note->sequence_then, ==, i == 0 ? sequence - 1 : sequence);
    }
}

/* Counting property notifications */

static void
on_notify_count (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

static gulong
count_notify (OfflineStateClient *client, const char *property, guint *count)
{
  g_autofree char *signal = g_strconcat ("notify::", property, NULL);

  *count = 0;
  return g_signal_connect (client, signal, G_CALLBACK (on_notify_count), count);
}

static guint
read_uint_property (OfflineStateClient *client, const char *property)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (client), property);
  g_auto (GValue) value = G_VALUE_INIT;

  g_assert_nonnull (pspec);
  g_value_init (&value, pspec->value_type);
  g_object_get_property (G_OBJECT (client), property, &value);
  if (G_VALUE_HOLDS_BOOLEAN (&value))
    return g_value_get_boolean (&value);
  if (G_VALUE_HOLDS_FLAGS (&value))
    return g_value_get_flags (&value);
  return g_value_get_uint (&value);
}

static void
on_timeout_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* Iterates the main context until @property (boolean, flags or uint) of @client reads @value. */
static void
wait_uint_property (OfflineStateClient *client, const char *property, guint value)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_once (WAIT_MS, on_timeout_flag, &timed_out);

  while (read_uint_property (client, property) != value && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("waited %u ms for %s to be %u; it is %u", WAIT_MS, property, value,
             read_uint_property (client, property));
  g_source_remove (timeout);
}

/* The tests */

static void
test_open_default (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  g_autoptr (GDBusConnection) connection = NULL;
  g_autofree char *profile = NULL;
  OfflineStateState state;
  gboolean online, available;
  guint64 sequence;

  g_assert_true (offline_state_client_get_connection (client) == h->client);
  g_assert_cmpstr (offline_state_client_get_profile (client), ==, OFFLINE_STATE_DEFAULT_PROFILE);
  g_assert_cmpstr (offline_state_client_get_object_path (client), ==, path);
  g_assert_cmpint (offline_state_client_get_state (client), ==,
                   harness_get_uint (h->client, path, "State"));
  g_assert_cmpint (offline_state_client_get_state (client), ==, ONLINE);
  g_assert_true (offline_state_client_get_online (client));
  g_assert_cmpint (offline_state_client_get_capabilities (client), ==,
                   OFFLINE_STATE_CAPABILITIES_OFFLINE | OFFLINE_STATE_CAPABILITIES_ONLINE);
  g_assert_false (offline_state_client_get_transitioning (client));
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 0);
  /* Its own advise, made before the properties were read. */
  g_assert_cmpuint (offline_state_client_get_advise_count (client), ==, 1);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 1);
  g_assert_true (offline_state_client_get_available (client));

  /* The same through GObject properties. */
  g_object_get (client, "connection", &connection, "profile", &profile, "state", &state, "online",
                &online, "sequence", &sequence, "available", &available, NULL);
  g_assert_true (connection == h->client);
  g_assert_cmpstr (profile, ==, OFFLINE_STATE_DEFAULT_PROFILE);
  g_assert_cmpint (state, ==, ONLINE);
  g_assert_true (online);
  g_assert_cmpuint (sequence, ==, 0);
  g_assert_true (available);
}

static void
test_open_sync (Harness *h, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OfflineStateClient) client =
      offline_state_client_new_sync (h->client, OFFLINE_STATE_DEFAULT_PROFILE, NULL, &error);
  g_autofree char *path = default_path ();

  g_assert_no_error (error);
  g_assert_true (OFFLINE_STATE_IS_CLIENT (client));
  g_assert_cmpint (offline_state_client_get_state (client), ==, ONLINE);
  g_assert_cmpuint (offline_state_client_get_advise_count (client), ==, 1);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 1);
}

static void
test_block_transition (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  guint state_changes, online_changes, sequence_changes, transitioning_changes;
  Notes notes;
  SetState set;

  notes_init (&notes, client);
  count_notify (client, "state", &state_changes);
  count_notify (client, "online", &online_changes);
  count_notify (client, "sequence", &sequence_changes);
  count_notify (client, "transitioning", &transitioning_changes);

  set_state_wait (client, OFFLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_true (set.ok);
  /* BLOCK: every notification and the transition's end came before the reply. */
  g_assert_cmpuint (notes.n_notes, ==, 3);
  assert_transition (&notes, 0, ONLINE, OFFLINE, 1);
  g_assert_cmpint (set.state, ==, OFFLINE);
  g_assert_false (set.transitioning);

  g_assert_cmpint (offline_state_client_get_state (client), ==, OFFLINE);
  g_assert_false (offline_state_client_get_online (client));
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 1);
  g_assert_cmpuint (harness_get_uint (h->client, path, "State"), ==, OFFLINE);
  g_assert_cmpuint (state_changes, ==, 1);
  g_assert_cmpuint (online_changes, ==, 1);
  g_assert_cmpuint (sequence_changes, ==, 1);
  g_assert_cmpuint (transitioning_changes, ==, 2);

  /* And back: the next transition has the next number. */
  set_state_wait (client, ONLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (notes.n_notes, ==, 6);
  assert_transition (&notes, 3, OFFLINE, ONLINE, 2);
  g_assert_true (offline_state_client_get_online (client));
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 2);

  /* The state already current: success, no notification, no change. */
  set_state_wait (client, ONLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 2);
  g_assert_cmpuint (state_changes, ==, 2);
  g_assert_cmpuint (notes.n_notes, ==, 6);
  notes_clear (&notes);
}

static void
test_sync_set_state (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autoptr (GError) error = NULL;
  Notes notes;

  notes_init (&notes, client);
  g_assert_true (offline_state_client_set_state_sync (client, OFFLINE, TRUE, NULL, &error));
  g_assert_no_error (error);
  /* The notifications are delivered by the main context, after the call. */
  harness_wait_count (&notes.n_notes, 3, WAIT_MS);
  assert_transition (&notes, 0, ONLINE, OFFLINE, 1);
  g_assert_cmpint (offline_state_client_get_state (client), ==, OFFLINE);
  notes_clear (&notes);
}

static void
test_two_clients_one_connection (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) first = open_client (h->client, NULL);
  g_autoptr (OfflineStateClient) second = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  Notes first_notes, second_notes;
  SetState set;

  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 2);
  wait_uint_property (first, "advise-count", 2);
  g_assert_cmpuint (offline_state_client_get_advise_count (second), ==, 2);

  notes_init (&first_notes, first);
  notes_init (&second_notes, second);
  set_state_wait (first, OFFLINE, TRUE, &set);
  g_assert_no_error (set.error);
  /* Both advises' signals reach the one connection before the BLOCK reply: each client
   * shows only those of its own advise. */
  g_assert_cmpuint (first_notes.n_notes, ==, 3);
  g_assert_cmpuint (second_notes.n_notes, ==, 3);
  assert_transition (&first_notes, 0, ONLINE, OFFLINE, 1);
  assert_transition (&second_notes, 0, ONLINE, OFFLINE, 1);
  g_assert_cmpint (offline_state_client_get_state (second), ==, OFFLINE);
  notes_clear (&first_notes);
  notes_clear (&second_notes);
}

static void
test_clients_on_two_connections (Harness *h, gconstpointer data)
{
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autoptr (OfflineStateClient) first = open_client (h->client, NULL);
  g_autoptr (OfflineStateClient) second = open_client (other, NULL);
  Notes first_notes, second_notes;
  SetState set;

  notes_init (&first_notes, first);
  notes_init (&second_notes, second);
  /* The second client sets the state; the first follows it. */
  set_state_wait (second, OFFLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (second_notes.n_notes, ==, 3);
  harness_wait_count (&first_notes.n_notes, 3, WAIT_MS);
  assert_transition (&first_notes, 0, ONLINE, OFFLINE, 1);
  wait_uint_property (first, "transitioning", FALSE);
  g_assert_cmpint (offline_state_client_get_state (first), ==, OFFLINE);
  g_assert_cmpuint (first_notes.n_notes, ==, 3);
  notes_clear (&first_notes);
  notes_clear (&second_notes);
  g_dbus_connection_close_sync (other, NULL, NULL);
}

static void
set_transition_delay (Harness *h, guint delay_ms)
{
  g_autofree char *path = default_path ();
  g_autoptr (GVariant) reply =
      harness_call_ok (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "SetTransitionDelay",
                       g_variant_new ("(u)", delay_ms));
}

static void
test_non_block (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  Notes notes;
  SetState set;

  /* A pause between START and STATECHANGE makes "returns once started" observable. */
  set_transition_delay (h, 300);
  notes_init (&notes, client);
  set_state_wait (client, OFFLINE, FALSE, &set);
  g_assert_no_error (set.error);
  g_assert_true (set.ok);
  g_assert_true (set.transitioning);
  g_assert_cmpint (set.state, ==, ONLINE);

  harness_wait_count (&notes.n_notes, 3, WAIT_MS);
  assert_transition (&notes, 0, ONLINE, OFFLINE, 1);
  wait_uint_property (client, "transitioning", FALSE);
  g_assert_cmpint (offline_state_client_get_state (client), ==, OFFLINE);
  g_assert_cmpuint (notes.n_notes, ==, 3);
  notes_clear (&notes);
}

static void
test_pending_error (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *remote = NULL;
  Notes notes;
  SetState set;

  set_transition_delay (h, 2000);
  notes_init (&notes, client);
  set_state_wait (client, OFFLINE, FALSE, &set);
  g_assert_no_error (set.error);

  /* During the transition: E_PENDING, as GDBus gives it, asynchronously and synchronously. */
  set_state_wait (client, ONLINE, TRUE, &set);
  g_assert_false (set.ok);
  g_assert_error (set.error, G_IO_ERROR, G_IO_ERROR_DBUS_ERROR);
  remote = g_dbus_error_get_remote_error (set.error);
  g_assert_cmpstr (remote, ==, OFFLINE_STATE_ERROR_PENDING);
  harness_assert_dbus_error (set.error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  g_clear_error (&set.error);

  g_assert_false (offline_state_client_set_state_sync (client, OFFLINE, FALSE, NULL, &error));
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);

  harness_wait_count (&notes.n_notes, 3, WAIT_MS);
  wait_uint_property (client, "transitioning", FALSE);
  g_assert_cmpuint (notes.n_notes, ==, 3);
  notes_clear (&notes);
}

static void
test_unknown_profile (Harness *h, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) sync_error = NULL;
  g_autoptr (OfflineStateClient) client = open_client_full (h->client, "nobody", &error);
  g_autoptr (OfflineStateClient) sync_client =
      offline_state_client_new_sync (h->client, "nobody", NULL, &sync_error);

  g_assert_null (client);
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_NOT_FOUND, PREFIX_NOT_FOUND);
  g_assert_null (sync_client);
  harness_assert_dbus_error (sync_error, OFFLINE_STATE_ERROR_NOT_FOUND, PREFIX_NOT_FOUND);
}

static void
test_dispose_unadvises (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) watcher = open_client (h->client, NULL);
  OfflineStateClient *client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();

  wait_uint_property (watcher, "advise-count", 2);
  g_object_unref (client);
  /* The watcher follows AdviseCount: the other client's advise is gone. */
  wait_uint_property (watcher, "advise-count", 1);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 1);
}

/* A GDBus filter: cancels @user_data as an Advise goes out, in GDBus's thread. The service
 * gets the Advise; its reply comes after the cancellation. */
static GDBusMessage *
cancel_on_advise (GDBusConnection *connection,
                  GDBusMessage *message,
                  gboolean incoming,
                  gpointer user_data)
{
  if (!incoming && g_strcmp0 (g_dbus_message_get_member (message), "Advise") == 0)
    g_cancellable_cancel (user_data);
  return message;
}

static void
test_cancelled_open_leaves_no_advise (Harness *h, gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *path = default_path ();
  Opened opened = { 0 };
  guint filter = g_dbus_connection_add_filter (h->client, cancel_on_advise,
                                               g_object_ref (cancellable), g_object_unref);

  offline_state_client_new (h->client, NULL, cancellable, on_opened, &opened);
  harness_wait_flag (&opened.done, WAIT_MS);
  g_dbus_connection_remove_filter (h->client, filter);
  g_assert_null (opened.client);
  g_assert_error (opened.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&opened.error);
  /* The failed client is gone, and its Unadvise went before this call, on the same
   * connection: the service answers in order. */
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 0);
}

static void
test_ignores_what_mapi_ignores (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  static const guint injected[][4] = {
    /* notify_type, mask, old, new */
    { 0, 0x3, ONLINE, OFFLINE }, { 4, 0x3, ONLINE, OFFLINE }, { 2, 0x1, ONLINE, OFFLINE },
    { 2, 0x7, ONLINE, OFFLINE }, { 2, 0x3, ONLINE, OFFLINE }, /* the only one to show */
  };
  Notes notes;

  notes_init (&notes, client);
  for (guint i = 0; i < G_N_ELEMENTS (injected); i++)
    {
      g_autoptr (GVariant) reply = harness_call_ok (
          h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "InjectNotification",
          g_variant_new ("(uuuu)", injected[i][0], injected[i][1], injected[i][2], injected[i][3]));
    }
  harness_wait_count (&notes.n_notes, 1, WAIT_MS);
  /* Sent in order, and the valid one last: anything before it would be here already. */
  g_assert_cmpuint (notes.n_notes, ==, 1);
  g_assert_cmpint (notes_get (&notes, 0)->phase, ==, OFFLINE_STATE_PHASE_STATECHANGE);
  g_assert_cmpint (notes_get (&notes, 0)->old_state, ==, ONLINE);
  g_assert_cmpint (notes_get (&notes, 0)->new_state, ==, OFFLINE);
  /* An injected notification changes no state. */
  g_assert_cmpint (offline_state_client_get_state (client), ==, ONLINE);
  notes_clear (&notes);
}

static void
test_capabilities_follow (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  g_autoptr (GVariant) reply = NULL;
  Notes notes;
  SetState set;

  reply = harness_call_ok (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "SetCapabilities",
                           g_variant_new ("(u)", MAPIOFFLINE_CAPABILITY_ONLINE));
  wait_uint_property (client, "capabilities", OFFLINE_STATE_CAPABILITIES_ONLINE);

  /* Going offline is not notified without CAPABILITY_OFFLINE; the state still follows. */
  notes_init (&notes, client);
  set_state_wait (client, OFFLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpint (offline_state_client_get_state (client), ==, OFFLINE);
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 1);
  g_assert_cmpuint (notes.n_notes, ==, 0);
  set_state_wait (client, ONLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (notes.n_notes, ==, 3);
  assert_transition (&notes, 0, OFFLINE, ONLINE, 2);
  notes_clear (&notes);
}

static void
test_service_restart (Harness *h, gconstpointer data)
{
  g_autoptr (OfflineStateClient) client = open_client (h->client, NULL);
  g_autofree char *path = default_path ();
  guint available_changes;
  Notes notes;
  SetState set;

  notes_init (&notes, client);
  set_state_wait (client, OFFLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (notes.n_notes, ==, 3);

  count_notify (client, "available", &available_changes);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  wait_uint_property (client, "available", FALSE);
  g_assert_false (offline_state_client_get_available (client));

  harness_start_daemon (h, NULL);
  wait_uint_property (client, "available", TRUE);
  g_assert_cmpuint (available_changes, ==, 2);
  /* Read again from the new instance: the persisted state, and the new advise. */
  g_assert_cmpint (offline_state_client_get_state (client), ==, OFFLINE);
  g_assert_cmpuint (offline_state_client_get_sequence (client), ==, 1);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 1);
  g_assert_cmpuint (offline_state_client_get_advise_count (client), ==, 1);

  /* The same client object is notified of the next transition, once. */
  set_state_wait (client, ONLINE, TRUE, &set);
  g_assert_no_error (set.error);
  g_assert_cmpuint (notes.n_notes, ==, 6);
  assert_transition (&notes, 3, OFFLINE, ONLINE, 2);
  g_assert_true (offline_state_client_get_online (client));
  notes_clear (&notes);
}

static void
test_profiles (Harness *h, gconstpointer data)
{
  static const char *const only_default[] = { "default", NULL };
  static const char *const both[] = { "Work (Exchange)", "default", NULL };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) profiles = offline_state_list_profiles_sync (h->client, NULL, &error);
  g_autoptr (OfflineStateClient) work = NULL;

  g_assert_no_error (error);
  g_assert_cmpstrv (profiles, only_default);
  g_clear_pointer (&profiles, g_strfreev);

  g_assert_true (offline_state_create_profile_sync (
      h->client, "Work (Exchange)", OFFLINE_STATE_CAPABILITIES_OFFLINE, OFFLINE, NULL, &error));
  g_assert_no_error (error);
  profiles = offline_state_list_profiles_sync (h->client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (profiles, both);

  work = open_client (h->client, "Work (Exchange)");
  g_assert_cmpstr (offline_state_client_get_object_path (work), ==,
                   OFFLINE_STATE_PROFILES_PATH "/Work_20_28Exchange_29");
  g_assert_cmpint (offline_state_client_get_state (work), ==, OFFLINE);
  g_assert_cmpint (offline_state_client_get_capabilities (work), ==,
                   OFFLINE_STATE_CAPABILITIES_OFFLINE);
  g_clear_object (&work);

  g_assert_false (offline_state_create_profile_sync (
      h->client, "Work (Exchange)", OFFLINE_STATE_CAPABILITIES_OFFLINE, ONLINE, NULL, &error));
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_EXISTS, NULL);
  g_clear_error (&error);

  g_assert_true (offline_state_remove_profile_sync (h->client, "Work (Exchange)", NULL, &error));
  g_assert_no_error (error);
  g_assert_false (offline_state_remove_profile_sync (h->client, "Work (Exchange)", NULL, &error));
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_NOT_FOUND, PREFIX_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&profiles, g_strfreev);
  profiles = offline_state_list_profiles_sync (h->client, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstrv (profiles, only_default);
}

typedef struct
{
  gboolean done;
  char **profiles;
  GError *error;
} Listed;

static void
on_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Listed *listed = user_data;

  g_assert_null (source);
  listed->profiles = offline_state_list_profiles_finish (result, &listed->error);
  listed->done = TRUE;
}

/* The profiles, listed without blocking the main loop. */
static char **
list_profiles (GDBusConnection *connection)
{
  Listed listed = { 0 };

  offline_state_list_profiles (connection, NULL, on_listed, &listed);
  harness_wait_flag (&listed.done, WAIT_MS);
  g_assert_no_error (listed.error);
  return listed.profiles;
}

static void
test_profiles_async (Harness *h, gconstpointer data)
{
  static const char *const only_default[] = { "default", NULL };
  static const char *const both[] = { "default", "work", NULL };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) profiles = list_profiles (h->client);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Listed cancelled = { 0 };

  g_assert_cmpstrv (profiles, only_default);
  g_clear_pointer (&profiles, g_strfreev);
  g_assert_true (offline_state_create_profile_sync (
      h->client, "work", OFFLINE_STATE_CAPABILITIES_OFFLINE, OFFLINE, NULL, &error));
  g_assert_no_error (error);
  profiles = list_profiles (h->client);
  g_assert_cmpstrv (profiles, both);

  g_cancellable_cancel (cancellable);
  offline_state_list_profiles (h->client, cancellable, on_listed, &cancelled);
  harness_wait_flag (&cancelled.done, WAIT_MS);
  g_assert_null (cancelled.profiles);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&cancelled.error);
}

static void
test_invalid_profile_name (Harness *h, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (offline_state_create_profile_sync (
      h->client, "bad\nname", OFFLINE_STATE_CAPABILITIES_NONE, OFFLINE, NULL, &error));
  g_assert_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS);
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, NULL);
}

static void
test_names (void)
{
  g_autoptr (GEnumClass) states = g_type_class_ref (OFFLINE_STATE_TYPE_STATE);
  g_autoptr (GEnumClass) phases = g_type_class_ref (OFFLINE_STATE_TYPE_PHASE);
  g_autoptr (GFlagsClass) capabilities = g_type_class_ref (OFFLINE_STATE_TYPE_CAPABILITIES);

  g_assert_cmpstr (offline_state_state_to_string (OFFLINE), ==, "offline");
  g_assert_cmpstr (offline_state_state_to_string (ONLINE), ==, "online");
  g_assert_cmpstr (offline_state_state_to_string (7), ==, "unknown");
  g_assert_cmpstr (offline_state_phase_to_string (OFFLINE_STATE_PHASE_START), ==, "START");
  g_assert_cmpstr (offline_state_phase_to_string (OFFLINE_STATE_PHASE_STATECHANGE), ==,
                   "STATECHANGE");
  g_assert_cmpstr (offline_state_phase_to_string (OFFLINE_STATE_PHASE_DONE), ==, "DONE");
  g_assert_cmpstr (offline_state_phase_to_string (0), ==, "unknown");

  /* The GTypes carry MAPI's values. */
  g_assert_cmpint (g_enum_get_value_by_nick (states, "offline")->value, ==,
                   MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpint (g_enum_get_value_by_nick (states, "online")->value, ==,
                   MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpint (g_enum_get_value_by_nick (phases, "done")->value, ==,
                   MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE);
  g_assert_cmpuint (g_flags_get_value_by_nick (capabilities, "online")->value, ==,
                    MAPIOFFLINE_CAPABILITY_ONLINE);
  g_assert_cmpuint (capabilities->mask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
}

static void
add (const char *name, void (*func) (Harness *, gconstpointer))
{
  g_test_add (name, Harness, NULL, setup, func, teardown);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/names", test_names);
  add ("/client/open/default", test_open_default);
  add ("/client/open/sync", test_open_sync);
  add ("/client/open/unknown-profile", test_unknown_profile);
  add ("/client/set-state/block", test_block_transition);
  add ("/client/set-state/sync", test_sync_set_state);
  add ("/client/set-state/non-block", test_non_block);
  add ("/client/set-state/pending", test_pending_error);
  add ("/client/notifications/two-clients-one-connection", test_two_clients_one_connection);
  add ("/client/notifications/two-connections", test_clients_on_two_connections);
  add ("/client/notifications/mapi-ignores", test_ignores_what_mapi_ignores);
  add ("/client/capabilities", test_capabilities_follow);
  add ("/client/dispose-unadvises", test_dispose_unadvises);
  add ("/client/open/cancelled-leaves-no-advise", test_cancelled_open_leaves_no_advise);
  add ("/client/service-restart", test_service_restart);
  add ("/client/profiles", test_profiles);
  add ("/client/profiles/async", test_profiles_async);
  add ("/client/profiles/invalid-name", test_invalid_profile_name);
  return g_test_run ();
}
