/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The units of the core and who tells whom what. Each calls only the units below it; what a
 * lower unit has to tell an upper one goes through a signal, or functions the upper one gave
 * it, never through a call of its own to the upper one.
 *
 *   OsManager (os-manager.c): the profiles, their creation and removal, idleness; it owns
 *     the units below and hands them the profiles' functions (OsAdviseHooks).
 *   OsProfile (os-profile.c): one profile's state, its advises, its transitions.
 *   OsFanOut (os-fan-out.c): a transition's phases to the profile's subscribers; tells its
 *     profile each notification to deliver, and that a phase may be over (its two functions).
 *   OsRegistry (os-registry.c): the token index of the advises, their clients and users,
 *     what carries notifications, the journal; tells a profile that an advise was removed
 *     (OsAdviseHooks.forget).
 *   OsClient (os-client.c): one client connection, and the hub that its siblings share;
 *     tells a profile that a reply came, or a callback failed (OsAdviseHooks), and the
 *     registry that a client's grace ended (OsClientHub.expired).
 *   OsChanges (os-changes.c): changes of persisted state, on disk first; tells the manager
 *     that a change is done ("change-done").
 */
#pragma once

#include "os-changes.h"
#include "os-limits.h"
#include "os-registry.h"

G_BEGIN_DECLS

/* What the manager, and it alone, asks of its profiles. A profile is made with the units below
 * it that it uses, which must outlive it. */

OsProfile *os_profile_new (OsRegistry *registry,
                           OsChanges *changes,
                           const OsLimits *limits,
                           const char *name,
                           guint capabilities,
                           guint state,
                           guint64 sequence);

/* What the store writes of @self: a transition being committed counts as done. */
OsProfileRecord *os_profile_dup_record (OsProfile *self);

/* Pending while a transition runs. */
gboolean os_profile_check_not_transitioning (OsProfile *self, GError **error);

/* A profile whose removal is being written starts nothing and takes no other change. */
void os_profile_set_removing (OsProfile *self, gboolean removing);

/* The registry removed @advise (Unadvise, its client left, its profile went): the profile
 * forgets it and stops waiting for its reply. The registry calls it through OsAdviseHooks. */
void os_profile_forget_advise (OsProfile *self, OsAdvise *advise);

/* An advise kept in the runtime folder by an earlier run, live again with its token. */
gboolean os_profile_restore_advise (OsProfile *self, const OsAdviseRecord *record, GError **error);

G_END_DECLS
