/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What test-mapi-layout.c asks of its C++ part (mapi-layout-cpp.cpp) and of its part that
 * includes another Windows-style header first (mapi-layout-windows.c): C linkage, plain types.
 */
#pragma once

#include <glib.h>

#include "offline-state-mapi.h"

G_BEGIN_DECLS

/* One method's place in its interface's vtable, counted in pointers from the first. */
typedef struct
{
  const char *method; /* "Interface::Method" */
  long slot;
} MapiLayoutSlot;

/* Each method of the four interfaces, IUnknown's in each, in the order of their vtables: @X is
 * called with the interface and the method. */
#define MAPI_LAYOUT_METHODS(X)                                                                     \
  X (IUnknown, QueryInterface)                                                                     \
  X (IUnknown, AddRef)                                                                             \
  X (IUnknown, Release)                                                                            \
  X (IMAPIOffline, QueryInterface)                                                                 \
  X (IMAPIOffline, AddRef)                                                                         \
  X (IMAPIOffline, Release)                                                                        \
  X (IMAPIOffline, SetCurrentState)                                                                \
  X (IMAPIOffline, GetCapabilities)                                                                \
  X (IMAPIOffline, GetCurrentState)                                                                \
  X (IMAPIOffline, Placeholder1)                                                                   \
  X (IMAPIOfflineMgr, QueryInterface)                                                              \
  X (IMAPIOfflineMgr, AddRef)                                                                      \
  X (IMAPIOfflineMgr, Release)                                                                     \
  X (IMAPIOfflineMgr, SetCurrentState)                                                             \
  X (IMAPIOfflineMgr, GetCapabilities)                                                             \
  X (IMAPIOfflineMgr, GetCurrentState)                                                             \
  X (IMAPIOfflineMgr, Placeholder1)                                                                \
  X (IMAPIOfflineMgr, Advise)                                                                      \
  X (IMAPIOfflineMgr, Unadvise)                                                                    \
  X (IMAPIOfflineMgr, Placeholder2)                                                                \
  X (IMAPIOfflineMgr, Placeholder3)                                                                \
  X (IMAPIOfflineMgr, Placeholder4)                                                                \
  X (IMAPIOfflineMgr, Placeholder5)                                                                \
  X (IMAPIOfflineMgr, Placeholder6)                                                                \
  X (IMAPIOfflineMgr, Placeholder7)                                                                \
  X (IMAPIOfflineMgr, Placeholder8)                                                                \
  X (IMAPIOfflineNotify, QueryInterface)                                                           \
  X (IMAPIOfflineNotify, AddRef)                                                                   \
  X (IMAPIOfflineNotify, Release)                                                                  \
  X (IMAPIOfflineNotify, Notify)

/* Where the C++ compiler puts each method of the four interfaces: @n_slots of them. */
const MapiLayoutSlot *mapi_layout_cpp_slots (gsize *n_slots);

/* The sizes of the two structures and the offsets of their fields. */
typedef struct
{
  size_t values[14];
} MapiLayoutFields;

/* As the language that compiles it lays them out. */
static inline void
mapi_layout_fields (MapiLayoutFields *fields)
{
  const size_t values[] = {
    sizeof (MAPIOFFLINE_NOTIFY),
    offsetof (MAPIOFFLINE_NOTIFY, ulSize),
    offsetof (MAPIOFFLINE_NOTIFY, NotifyType),
    offsetof (MAPIOFFLINE_NOTIFY, ulClientToken),
    offsetof (MAPIOFFLINE_NOTIFY, Info.StateChange.ulMask),
    offsetof (MAPIOFFLINE_NOTIFY, Info.StateChange.ulStateOld),
    offsetof (MAPIOFFLINE_NOTIFY, Info.StateChange.ulStateNew),
    sizeof (MAPIOFFLINE_ADVISEINFO),
    offsetof (MAPIOFFLINE_ADVISEINFO, ulSize),
    offsetof (MAPIOFFLINE_ADVISEINFO, ulClientToken),
    offsetof (MAPIOFFLINE_ADVISEINFO, CallbackType),
    offsetof (MAPIOFFLINE_ADVISEINFO, pCallback),
    offsetof (MAPIOFFLINE_ADVISEINFO, ulAdviseTypes),
    offsetof (MAPIOFFLINE_ADVISEINFO, ulStateMask),
  };

  G_STATIC_ASSERT (sizeof values == sizeof fields->values);
  memcpy (fields->values, values, sizeof values);
}

/* The same, from the C++ part. */
void mapi_layout_cpp_fields (MapiLayoutFields *fields);

/* A C++ IMAPIOfflineNotify, for C to call through its lpVtbl; counts the calls it gets. */
void *mapi_layout_cpp_notify_new (void);
/* Deletes it; returns how many calls it got (Notify counts its token). */
unsigned mapi_layout_cpp_notify_free (void *notify);
/* Calls @notify (an IMAPIOfflineNotify of C's) with C++ virtual calls: QueryInterface,
 * AddRef, Notify, Release; returns what Release returned. */
unsigned long mapi_layout_cpp_call_notify (void *notify);

/* The header after another one that defined Windows' types and codes: 0 when they agree. */
int mapi_layout_windows_check (void);

G_END_DECLS
