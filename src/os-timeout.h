/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Time-outs that hold clients to account (--notify-timeout, --cut-off-grace) but do not
 * charge them for the daemon's own stalls. A main loop held up (a slow disk, a debugger, a
 * SIGSTOP of the daemon) finds its timer due together with the answers that came meanwhile,
 * which GDBus's thread may not even have read yet; deciding at once would blame a client that
 * answered in time. So a time-out that fires late by more than OS_TIMEOUT_LATE_MS waits once
 * more, as long as it was late (at most OS_TIMEOUT_MAX_EXTRA_MS), and then decides.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OS_TIMEOUT_LATE_MS      50
#define OS_TIMEOUT_MAX_EXTRA_MS 1000

/* Calls @func(@user_data) after @milliseconds, or a little later as above. *@id holds the
 * source that is pending, for g_clear_handle_id (@id, g_source_remove); it is 0 when @func
 * runs. */
void os_timeout_add_fair (guint *id, guint milliseconds, GSourceOnceFunc func, gpointer user_data);

G_END_DECLS
