/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The notifications of one profile's transitions to its subscribers: each phase goes to
 * every subscriber, a slice at a time (see send_slice()), and then waits for the replies of
 * the callback advises it notified, until the notify time-out.
 *
 * Its profile drives it, and hears from it through the two functions it gave: @deliver for
 * each notification, @settled whenever the phase may have nothing left to wait for.
 */
#pragma once

#include <glib-object.h>

#include "os-registry.h"

G_BEGIN_DECLS

#define OS_TYPE_FAN_OUT (os_fan_out_get_type ())
G_DECLARE_FINAL_TYPE (OsFanOut, os_fan_out, OS, FAN_OUT, GObject)

typedef void (*OsFanOutDeliver) (OsProfile *profile,
                                 OsAdvise *advise,
                                 const OsNotification *n,
                                 guint ticket);
typedef void (*OsFanOutSettled) (OsProfile *profile);

/* @registry must outlive it; @name is @profile's, for the log. */
OsFanOut *os_fan_out_new (OsRegistry *registry,
                          OsProfile *profile,
                          const char *name,
                          guint notify_timeout_ms,
                          OsFanOutDeliver deliver,
                          OsFanOutSettled settled);

/* A transition starts: @subscribers (advise tokens, taken) hear its phases. */
void os_fan_out_begin (
    OsFanOut *self, GArray *subscribers, guint old_state, guint new_state, guint64 sequence);
/* Sends the phase @notify_type to every subscriber, with a new ticket. */
void os_fan_out_send (OsFanOut *self, guint notify_type);
/* Whether the phase is still being sent, or waits for a reply. */
gboolean os_fan_out_is_waiting (OsFanOut *self);
/* The transition is over: nothing more is sent or awaited. */
void os_fan_out_end (OsFanOut *self);

/* The reply of @advise to the notification of @ticket came, or never will. */
void os_fan_out_replied (OsFanOut *self, OsAdvise *advise, guint ticket);
/* Whether the phase still waits for @advise's reply to the notification of @ticket. */
gboolean os_fan_out_awaits_reply (OsFanOut *self, OsAdvise *advise, guint ticket);
/* @advise was removed: the phase waits for it no more. */
void os_fan_out_forget (OsFanOut *self, OsAdvise *advise);

G_END_DECLS
