/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How many Notify calls the daemon has the bus carry at once: the window. The bus refuses
 * a connection's calls past a number awaiting replies (LimitsExceeded), and the daemon
 * learns that number from its refusals, as TCP learns a path's capacity from its losses.
 *
 * It starts at @start. A refusal while calls are in flight shows what the bus takes: the
 * window and its threshold become the number in flight. A refusal with none in flight
 * shows only that the bus's room is held by calls the daemon gave up on (timed out, still
 * counted by the bus until their callees answer): the window drops to one, its threshold
 * stays. Each window's worth of answers without a refusal then doubles the window up to
 * the threshold, and widens it by one past it, never beyond @start.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint size;      /* calls in flight allowed now */
  guint start;     /* the most ever allowed */
  guint threshold; /* doubling up to here, one by one past it */
  guint answered;  /* answers since the size last changed */
} OsNotifyWindow;

void os_notify_window_init (OsNotifyWindow *window, guint start);
void os_notify_window_refused (OsNotifyWindow *window, guint in_flight);
void os_notify_window_answered (OsNotifyWindow *window);

G_END_DECLS
