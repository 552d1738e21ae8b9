/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "spin.h"

#define GUARD_MS 10000

static void
on_guard (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

void
spin_until (Condition condition, gconstpointer data)
{
  gboolean expired = FALSE;
  guint guard = g_timeout_add_once (GUARD_MS, on_guard, &expired);

  while (!condition (data))
    {
      if (expired)
        g_error ("timed out after %u ms", GUARD_MS);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (guard);
}

void
spin_for (guint ms)
{
  gboolean expired = FALSE;

  g_timeout_add_once (ms, on_guard, &expired);
  while (!expired)
    g_main_context_iteration (NULL, TRUE);
}
