/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the transition and advise tests share (see transition-clients.h).
 */
#include "transition-clients.h"

/* Reading the offline object */

char *
default_path (void)
{
  return harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
}

void
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
  g_assert_cmpuint (harness_get_sequence (connection, path), ==, sequence);
  g_assert_cmpint (harness_get_transitioning (connection, path), ==, transitioning);
}

void
assert_advise_count (GDBusConnection *connection, const char *path, guint count)
{
  g_assert_cmpuint (harness_get_uint (connection, path, "AdviseCount"), ==, count);
}

void
settle (GDBusConnection *connection, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "State");

  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Calls */

GError *
emulation_call (GDBusConnection *connection,
                const char *path,
                const char *method,
                GVariant *parameters)
{
  return harness_call_error (connection, path, OFFLINE_STATE_EMULATION_INTERFACE, method,
                             parameters);
}

void
emulation_call_ok (GDBusConnection *connection,
                   const char *path,
                   const char *method,
                   GVariant *parameters)
{
  g_autoptr (GError) error = emulation_call (connection, path, method, parameters);

  g_assert_no_error (error);
}

void
set_transition_delay (GDBusConnection *connection, const char *path, guint milliseconds)
{
  emulation_call_ok (connection, path, "SetTransitionDelay", g_variant_new ("(u)", milliseconds));
}

GError *
unadvise (GDBusConnection *connection, const char *path, guint flags, guint token)
{
  return harness_call_error (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
                             g_variant_new ("(uu)", flags, token));
}

void
unadvise_ok (GDBusConnection *connection, const char *path, guint token)
{
  g_autoptr (GError) error = unadvise (connection, path, 0, token);

  g_assert_no_error (error);
}

void
set_state_ok (GDBusConnection *connection, const char *path, guint flags, guint state)
{
  g_autoptr (GError) error = harness_set_state (connection, path, flags, state);

  g_assert_no_error (error);
}

/* Notifications */

void
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

void
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

/* PropertiesChanged */

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

PropsWatch *
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

void
props_watch_free (PropsWatch *watch)
{
  g_dbus_connection_signal_unsubscribe (watch->connection, watch->subscription_id);
  g_ptr_array_unref (watch->events);
  g_array_unref (watch->notes_seen);
  g_array_unref (watch->signal_of);
  g_object_unref (watch->connection);
  g_free (watch);
}
