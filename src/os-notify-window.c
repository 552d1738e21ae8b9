/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-notify-window.h"

void
os_notify_window_init (OsNotifyWindow *window, guint start)
{
  g_return_if_fail (start > 0);
  window->size = start;
  window->start = start;
  window->threshold = start;
  window->answered = 0;
}

/* @in_flight: the calls still awaiting an answer, the refused one not among them. */
void
os_notify_window_refused (OsNotifyWindow *window, guint in_flight)
{
  if (in_flight > 0)
    window->threshold = in_flight;
  window->size = MAX (in_flight, 1);
  window->answered = 0;
}

void
os_notify_window_answered (OsNotifyWindow *window)
{
  if (window->size >= window->start || ++window->answered < window->size)
    return;
  window->answered = 0;
  if (window->size < window->threshold)
    window->size = MIN (window->size * 2, window->threshold);
  else
    window->size++;
  window->size = MIN (window->size, window->start);
}
