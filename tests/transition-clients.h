/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the transition and advise tests (test-transitions.c, test-advise.c) share: reading an
 * offline object, calls to it, and the notifications a client saw.
 */
#pragma once

#include "harness.h"
#include "mapi-prefixes.h"

G_BEGIN_DECLS

/* Only for "it did not hang": never a correctness bound. */
#define WAIT_MS 5000

#define BLOCK   MAPIOFFLINE_FLAG_BLOCK
#define OFFLINE MAPIOFFLINE_STATE_OFFLINE
#define ONLINE  MAPIOFFLINE_STATE_ONLINE
#define START   MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START

/* Reading the offline object */

/* The object path of the "default" profile. */
char *default_path (void);
/* State (and GetCurrentState, which must agree), Sequence and Transitioning. */
void assert_object (GDBusConnection *connection,
                    const char *path,
                    guint state,
                    guint64 sequence,
                    gboolean transitioning);
void assert_advise_count (GDBusConnection *connection, const char *path, guint count);
/* A round trip to the daemon's main loop on @connection, then every event queued for this
 * process: whatever the daemon sent to @connection before that reply has been recorded.
 * This is how a case proves that something did not arrive, without sleeping. */
void settle (GDBusConnection *connection, const char *path);

/* Calls */

/* A method of the Emulation interface of @path. */
GError *emulation_call (GDBusConnection *connection,
                        const char *path,
                        const char *method,
                        GVariant *parameters);
void emulation_call_ok (GDBusConnection *connection,
                        const char *path,
                        const char *method,
                        GVariant *parameters);
void set_transition_delay (GDBusConnection *connection, const char *path, guint milliseconds);
GError *unadvise (GDBusConnection *connection, const char *path, guint flags, guint token);
void unadvise_ok (GDBusConnection *connection, const char *path, guint token);
void set_state_ok (GDBusConnection *connection, const char *path, guint flags, guint state);

/* Notifications */

void assert_note (HarnessRecorder *recorder,
                  guint index,
                  guint notify_type,
                  guint client_token,
                  guint mask,
                  guint old_state,
                  guint new_state,
                  guint64 sequence);
/* START, STATECHANGE and DONE of one transition, in this order, from note @first on. */
void assert_transition (HarnessRecorder *recorder,
                        guint first,
                        guint client_token,
                        guint old_state,
                        guint new_state,
                        guint64 sequence);

G_END_DECLS
