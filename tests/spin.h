/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Waiting in unit tests without sleeping: the main loop runs until something holds.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gboolean (*Condition) (gconstpointer data);

/* Iterates the main context until @condition holds; fails the test after 10 s. */
void spin_until (Condition condition, gconstpointer data);

/* Iterates the main context for @ms: for what must not happen. */
void spin_for (guint ms);

G_END_DECLS
