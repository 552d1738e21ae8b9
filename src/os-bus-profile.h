/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include "os-authority.h"
#include "os-dbus-generated.h"
#include "os-client.h"
#include "os-profile.h"

G_BEGIN_DECLS

/* The offline object of one profile on the bus: OfflineMgr relaying an OsProfile, its calls
 * through os-bus-dispatch.h. Of its own it holds only what the bus needs: the throttle of
 * AdviseCount's PropertiesChanged signals. The emulation layer (os-emulation.h) may add its
 * interface to the object, and a hook to its calls. */
#define OS_TYPE_BUS_PROFILE (os_bus_profile_get_type ())
G_DECLARE_FINAL_TYPE (OsBusProfile, os_bus_profile, OS, BUS_PROFILE, OsDBusOfflineMgrSkeleton)

/* Every call goes through @authority before it acts. */
OsBusProfile *
os_bus_profile_new (OsProfile *profile, GDBusConnection *connection, OsAuthority *authority);

/* The object to export: it carries OfflineMgr (and Emulation, where the layer added it). */
GDBusObjectSkeleton *os_bus_profile_get_object (OsBusProfile *self);
const char *os_bus_profile_get_path (OsBusProfile *self);

/* The transport of notifications (os-client.h) for this object's advises: the
 * StateChanged signal to the advise's owner, or a Notify call, answered through
 * os_note_answered(). */
void os_bus_profile_send_signal (OsBusProfile *self, OsAdvise *advise, const OsNotification *n);
void os_bus_profile_send_call (OsBusProfile *self,
                               OsAdvise *advise,
                               const OsNotification *n,
                               OsNote *note);

/* What a reply (or its absence, @reply NULL) to a call the daemon made means for the
 * client that got it. */
OsAnswer os_bus_answer_of (GDBusMessage *reply, const GError *error);

/* The object path of a profile: its name escaped with g_dbus_escape_object_path(). */
char *os_bus_profile_path_for_name (const char *name);

G_END_DECLS
