/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Calls answered in GDBus's own thread, as soon as they arrive.
 *
 * GDBus reads every message in one thread of its own and hands method calls to the main
 * loop; that hand-over and the reply's way back cost more than the whole of a call such as
 * GetCurrentState (Peer.Ping, which GDBus answers in its thread, takes 0.6 of the time). So
 * the daemon's state has one lock: the main thread holds it at all times except while it
 * waits for events, and a filter on the connection answers a call itself when it can take
 * the lock at once and when the call needs nothing but the state (no polkit, no injected
 * failure, no transition to move on). Otherwise, or while an earlier call to our objects
 * still waits for the main loop, the call goes to the main loop as before: no client ever
 * sees its calls handled out of the order it sent them. */

/* Main thread, before anything else touches the state: takes the lock, and gives it up
 * while the main context @context waits. */
void os_state_lock_hold (GMainContext *context);
/* Undoes os_state_lock_hold(). */
void os_state_lock_release (GMainContext *context);

/* Answers a call at once, or returns NULL: it then goes to the main loop. Called in
 * GDBus's thread with the state lock held; @call is a method call on @object_path. */
typedef GDBusMessage *(*OsFastAnswerFunc) (gpointer owner,
                                           const char *object_path,
                                           GDBusMessage *call);

typedef struct _OsFastPath OsFastPath;

/* Answers calls to the interfaces @interfaces (NULL-terminated) through @answer, once the
 * main thread holds the state lock; @owner must live until os_fast_path_stop(). */
OsFastPath *os_fast_path_start (GDBusConnection *connection,
                                const char *const *interfaces,
                                OsFastAnswerFunc answer,
                                gpointer owner);
/* Main thread, state lock held: no call is answered in GDBus's thread after this. */
void os_fast_path_stop (OsFastPath *self);

/* Main thread: the main loop has begun to handle @invocation. */
void os_fast_path_dispatched (GDBusMethodInvocation *invocation);

/* In the class_init of a subclass of a gdbus-codegen skeleton: each method call to its
 * instances calls os_fast_path_dispatched() before its handler. A call to an interface
 * given to os_fast_path_start() whose skeleton does not do this holds the fast path back
 * until the next one that does. Returns the class's vtable (its get_property may be
 * wrapped too). */
GDBusInterfaceVTable *os_fast_path_note_dispatches (GDBusInterfaceSkeletonClass *klass);

G_END_DECLS
