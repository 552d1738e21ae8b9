/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the tests of liboffline-state-mapi-1 share (mapi-test.h).
 */
#include "mapi-test.h"

#include "harness.h"

#define WAIT_MS 20000
#define PROFILE L"default"

struct _MapiTestLog
{
  GMutex lock;
  GCond cond;
  GArray *notes; /* MapiTestNote */
  guint returned;
  GThread *main_thread;
};

guint
mapi_test_wait_ms (void)
{
  return WAIT_MS * harness_timeout_multiplier ();
}

static gint64
deadline (void)
{
  return g_get_monotonic_time () + mapi_test_wait_ms () * G_TIME_SPAN_MILLISECOND;
}

guint64
mapi_test_stamp (void)
{
  static guint64 last;
  static GMutex lock;
  guint64 stamp;

  g_mutex_lock (&lock);
  stamp = ++last;
  g_mutex_unlock (&lock);
  return stamp;
}

/* The log */

MapiTestLog *
mapi_test_log_new (void)
{
  MapiTestLog *log = g_new0 (MapiTestLog, 1);

  g_mutex_init (&log->lock);
  g_cond_init (&log->cond);
  log->notes = g_array_new (FALSE, TRUE, sizeof (MapiTestNote));
  log->main_thread = g_thread_self ();
  return log;
}

void
mapi_test_log_free (MapiTestLog *log)
{
  g_array_unref (log->notes);
  g_mutex_clear (&log->lock);
  g_cond_clear (&log->cond);
  g_free (log);
}

guint
mapi_test_log_add (MapiTestLog *log, guint callback, const MAPIOFFLINE_NOTIFY *notify)
{
  MapiTestNote note = { callback, *notify, g_thread_self () == log->main_thread, 0 };
  guint index;

  g_mutex_lock (&log->lock);
  index = log->notes->len;
  g_array_append_val (log->notes, note);
  g_mutex_unlock (&log->lock);
  return index;
}

void
mapi_test_log_returned (MapiTestLog *log, guint index)
{
  g_mutex_lock (&log->lock);
  g_array_index (log->notes, MapiTestNote, index).returned = mapi_test_stamp ();
  log->returned++;
  g_cond_broadcast (&log->cond);
  g_mutex_unlock (&log->lock);
}

guint
mapi_test_log_count (MapiTestLog *log)
{
  guint count;

  g_mutex_lock (&log->lock);
  count = log->notes->len;
  g_mutex_unlock (&log->lock);
  return count;
}

guint
mapi_test_log_count_for (MapiTestLog *log, guint callback)
{
  guint count = 0;

  g_mutex_lock (&log->lock);
  for (guint i = 0; i < log->notes->len; i++)
    count += g_array_index (log->notes, MapiTestNote, i).callback == callback;
  g_mutex_unlock (&log->lock);
  return count;
}

MapiTestNote
mapi_test_log_get (MapiTestLog *log, guint index)
{
  MapiTestNote note;

  g_mutex_lock (&log->lock);
  g_assert_cmpuint (index, <, log->notes->len);
  note = g_array_index (log->notes, MapiTestNote, index);
  g_mutex_unlock (&log->lock);
  return note;
}

void
mapi_test_log_wait (MapiTestLog *log, guint count)
{
  gint64 end = deadline ();

  g_mutex_lock (&log->lock);
  while (log->returned < count)
    if (!g_cond_wait_until (&log->cond, &log->lock, end))
      g_error ("waited for %u notifications, %u came", count, log->returned);
  g_mutex_unlock (&log->lock);
}

/* The @n-th note of @callback. */
static MapiTestNote
note_of (MapiTestLog *log, guint callback, guint n)
{
  MapiTestNote note = { 0 };
  gboolean found = FALSE;

  g_mutex_lock (&log->lock);
  for (guint i = 0; i < log->notes->len && !found; i++)
    {
      note = g_array_index (log->notes, MapiTestNote, i);
      found = note.callback == callback && n-- == 0;
    }
  g_mutex_unlock (&log->lock);
  g_assert_true (found);
  return note;
}

void
mapi_test_assert_transition (MapiTestLog *log,
                             guint callback,
                             guint first,
                             ULONG token,
                             ULONG old_state,
                             ULONG new_state,
                             guint64 before)
{
  static const MAPIOFFLINE_NOTIFY_TYPE phases[] = {
    MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START,
    MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE,
    MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE,
  };
  guint64 previous = 0;

  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      MapiTestNote note = note_of (log, callback, first + i);

      g_assert_cmpuint (note.notify.ulSize, ==, sizeof (MAPIOFFLINE_NOTIFY));
      g_assert_cmpint (note.notify.NotifyType, ==, phases[i]);
      g_assert_cmpuint (note.notify.ulClientToken, ==, token);
      g_assert_cmpuint (note.notify.Info.StateChange.ulMask, ==, MAPIOFFLINE_STATE_OFFLINE_MASK);
      g_assert_cmpuint (note.notify.Info.StateChange.ulStateOld, ==, old_state);
      g_assert_cmpuint (note.notify.Info.StateChange.ulStateNew, ==, new_state);
      g_assert_false (note.on_main_thread);
      g_assert_cmpuint (note.returned, >, previous);
      if (before != 0)
        g_assert_cmpuint (note.returned, <, before);
      previous = note.returned;
    }
}

void
mapi_test_two_transitions (MapiTestLog *log,
                           guint callback,
                           ULONG token,
                           MapiTestGetState get_state,
                           MapiTestSetState set_state)
{
  const ULONG online = MAPIOFFLINE_STATE_ONLINE, offline = MAPIOFFLINE_STATE_OFFLINE;
  guint first = mapi_test_log_count (log);

  g_assert_cmpuint (get_state (PROFILE), ==, online);
  g_assert_cmpint (set_state (PROFILE, MAPIOFFLINE_FLAG_BLOCK, offline), ==, S_OK);
  mapi_test_assert_transition (log, callback, first, token, online, offline, mapi_test_stamp ());
  g_assert_cmpuint (mapi_test_log_count (log), ==, first + 3);
  g_assert_cmpuint (get_state (PROFILE), ==, offline);

  g_assert_cmpint (set_state (PROFILE, MAPIOFFLINE_FLAG_DEFAULT, online), ==, S_OK);
  mapi_test_log_wait (log, first + 6);
  mapi_test_assert_transition (log, callback, first + 3, token, offline, online, 0);
}

/* Reference counts */

void
mapi_test_refs_init (MapiTestRefs *refs, ULONG initial)
{
  g_mutex_init (&refs->lock);
  g_cond_init (&refs->cond);
  refs->refs = initial;
}

void
mapi_test_refs_clear (MapiTestRefs *refs)
{
  g_mutex_clear (&refs->lock);
  g_cond_clear (&refs->cond);
}

ULONG
mapi_test_refs_add (MapiTestRefs *refs, int delta)
{
  ULONG now;

  g_mutex_lock (&refs->lock);
  g_assert_true (delta > 0 || refs->refs > 0);
  now = refs->refs += delta;
  g_cond_broadcast (&refs->cond);
  g_mutex_unlock (&refs->lock);
  return now;
}

ULONG
mapi_test_refs_get (MapiTestRefs *refs) { return mapi_test_refs_add (refs, 0); }

void
mapi_test_refs_wait (MapiTestRefs *refs, ULONG value)
{
  gint64 end = deadline ();

  g_mutex_lock (&refs->lock);
  while (refs->refs != value)
    if (!g_cond_wait_until (&refs->cond, &refs->lock, end))
      g_error ("waited for %u references, there are %u", value, refs->refs);
  g_mutex_unlock (&refs->lock);
}

/* The gate */

void
mapi_test_gate_init (MapiTestGate *gate)
{
  g_mutex_init (&gate->lock);
  g_cond_init (&gate->cond);
  gate->entered = FALSE;
  gate->open = FALSE;
}

void
mapi_test_gate_clear (MapiTestGate *gate)
{
  g_mutex_clear (&gate->lock);
  g_cond_clear (&gate->cond);
}

static void
gate_wait (MapiTestGate *gate, const gboolean *flag, const char *what)
{
  gint64 end = deadline ();

  g_mutex_lock (&gate->lock);
  while (!*flag)
    if (!g_cond_wait_until (&gate->cond, &gate->lock, end))
      g_error ("waited for the gate to be %s", what);
  g_mutex_unlock (&gate->lock);
}

static void
gate_set (MapiTestGate *gate, gboolean *flag)
{
  g_mutex_lock (&gate->lock);
  *flag = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->lock);
}

void
mapi_test_gate_pass (MapiTestGate *gate)
{
  gate_set (gate, &gate->entered);
  gate_wait (gate, &gate->open, "opened");
}

void
mapi_test_gate_wait_entered (MapiTestGate *gate)
{
  gate_wait (gate, &gate->entered, "entered");
}

void
mapi_test_gate_open (MapiTestGate *gate)
{
  gate_set (gate, &gate->open);
}
