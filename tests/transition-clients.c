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
