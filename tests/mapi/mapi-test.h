/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the C and C++ programs of liboffline-state-mapi-1's tests share: a log of the
 * notifications that their Notify saw (on the library's thread), reference counts that a
 * test can wait on, and a gate that holds a Notify until the test opens it. Every wait is
 * bounded, and none is a sleep: each ends on the event it waits for.
 */
#pragma once

#include <glib.h>

#include "offline-state-mapi.h"

G_BEGIN_DECLS

/* How long a wait may last before the test fails: only for "it did not hang". */
guint mapi_test_wait_ms (void);

/* A number that grows with each call, from any thread: what happened before what. */
guint64 mapi_test_stamp (void);

/* One Notify, as the program saw it. */
typedef struct
{
  guint callback; /* which of the test's callbacks */
  MAPIOFFLINE_NOTIFY notify;
  gboolean on_main_thread;
  guint64 returned; /* mapi_test_stamp() as Notify returned; 0 until then */
} MapiTestNote;

typedef struct _MapiTestLog MapiTestLog;

MapiTestLog *mapi_test_log_new (void);
void mapi_test_log_free (MapiTestLog *log);
/* A Notify begins: returns the note's index, for mapi_test_log_returned(). */
guint mapi_test_log_add (MapiTestLog *log, guint callback, const MAPIOFFLINE_NOTIFY *notify);
/* ... and ends. */
void mapi_test_log_returned (MapiTestLog *log, guint index);
guint mapi_test_log_count (MapiTestLog *log);
MapiTestNote mapi_test_log_get (MapiTestLog *log, guint index);
/* Until @count notes have returned. */
void mapi_test_log_wait (MapiTestLog *log, guint count);
/* The notes of @callback, in order, from its @first on: START, STATECHANGE and DONE of one
 * transition, each with MAPI's size, @token, mask 0x3, @old_state and @new_state, each from
 * the library's thread, each returned before @before (a stamp; 0: no bound). */
void mapi_test_assert_transition (MapiTestLog *log,
                                  guint callback,
                                  guint first,
                                  ULONG token,
                                  ULONG old_state,
                                  ULONG new_state,
                                  guint64 before);
/* How many notes @callback has. */
guint mapi_test_log_count_for (MapiTestLog *log, guint callback);

/* The program's versions of the sample's helpers, which open the object again. */
typedef ULONG (*MapiTestGetState) (LPCWSTR szProfile);
typedef HRESULT (*MapiTestSetState) (LPCWSTR szProfile, ULONG ulFlags, ULONG ulState);

/* With "default" online, and @callback its only advise (with @token): offline with BLOCK,
 * which returns once each Notify has returned, then online without, which returns at once,
 * its notifications following. */
void mapi_test_two_transitions (MapiTestLog *log,
                                guint callback,
                                ULONG token,
                                MapiTestGetState get_state,
                                MapiTestSetState set_state);

/* A reference count that a test waits on. */
typedef struct
{
  GMutex lock;
  GCond cond;
  ULONG refs;
} MapiTestRefs;

void mapi_test_refs_init (MapiTestRefs *refs, ULONG initial);
void mapi_test_refs_clear (MapiTestRefs *refs);
ULONG mapi_test_refs_add (MapiTestRefs *refs, int delta);
ULONG mapi_test_refs_get (MapiTestRefs *refs);
/* Until the count is @refs. */
void mapi_test_refs_wait (MapiTestRefs *refs, ULONG value);

/* A Notify held until the test says. */
typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean entered;
  gboolean open;
} MapiTestGate;

void mapi_test_gate_init (MapiTestGate *gate);
void mapi_test_gate_clear (MapiTestGate *gate);
/* From the Notify: says it is in, and waits until the gate opens. */
void mapi_test_gate_pass (MapiTestGate *gate);
void mapi_test_gate_wait_entered (MapiTestGate *gate);
void mapi_test_gate_open (MapiTestGate *gate);

G_END_DECLS
