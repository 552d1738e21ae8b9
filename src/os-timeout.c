/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-timeout.h"

typedef struct
{
  guint *id;
  GSourceOnceFunc func;
  gpointer user_data;
  gint64 due;      /* monotonic µs */
  gboolean waited; /* it was late once and has waited */
} FairTimeout;

static gboolean on_timeout (gpointer user_data);

static void
arm (FairTimeout *timeout, guint milliseconds)
{
  timeout->due = g_get_monotonic_time () + (gint64) milliseconds * G_TIME_SPAN_MILLISECOND;
  *timeout->id = g_timeout_add_full (G_PRIORITY_DEFAULT, milliseconds, on_timeout, timeout, g_free);
}

static gboolean
on_timeout (gpointer user_data)
{
  FairTimeout *timeout = user_data;
  gint64 late_ms = (g_get_monotonic_time () - timeout->due) / G_TIME_SPAN_MILLISECOND;

  if (!timeout->waited && late_ms > OS_TIMEOUT_LATE_MS)
    {
      FairTimeout *again = g_memdup2 (timeout, sizeof *timeout);

      again->waited = TRUE;
      arm (again, MIN (late_ms, OS_TIMEOUT_MAX_EXTRA_MS));
      return G_SOURCE_REMOVE;
    }
  *timeout->id = 0;
  timeout->func (timeout->user_data);
  return G_SOURCE_REMOVE;
}

void
os_timeout_add_fair (guint *id, guint milliseconds, GSourceOnceFunc func, gpointer user_data)
{
  FairTimeout *timeout = g_new0 (FairTimeout, 1);

  timeout->id = id;
  timeout->func = func;
  timeout->user_data = user_data;
  arm (timeout, milliseconds);
}
