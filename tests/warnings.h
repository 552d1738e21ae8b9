/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The service's warnings, kept for the test to check instead of aborting it (GLib 2.74's
 * g_test_expect_message() does not see structured log messages).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call once, before g_test_init(). */
void warnings_capture (void);

guint warnings_count (void);
void warnings_clear (void);

/* Asserts that exactly one warning was logged since the last check, and that it contains
 * each of the words; then forgets it. */
void warnings_assert_one (const char *first_word, ...) G_GNUC_NULL_TERMINATED;
/* Whether a warning captured since the last clear holds @word. */
gboolean warnings_mention (const char *word);

G_END_DECLS
