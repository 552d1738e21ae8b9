/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Whole files read and written by the test itself: any failure fails the test.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The contents of @path. */
char *read_file (const char *path);
/* Replaces @path with @text. */
void write_file (const char *path, const char *text);

G_END_DECLS
