/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include "os-authority.h"
#include "os-dbus-generated.h"
#include "os-profile.h"

G_BEGIN_DECLS

/* The offline object of one profile on the bus: OfflineMgr (and Emulation) relaying an
 * OsProfile. It holds no state of its own. */
#define OS_TYPE_BUS_PROFILE (os_bus_profile_get_type ())
G_DECLARE_FINAL_TYPE (OsBusProfile, os_bus_profile, OS, BUS_PROFILE, OsDBusOfflineMgrSkeleton)

/* Every call goes through @authority before it acts. */
OsBusProfile *os_bus_profile_new (OsProfile *profile,
                                  GDBusConnection *connection,
                                  OsAuthority *authority,
                                  guint notify_timeout_ms,
                                  gboolean emulation);

/* The object to export: it carries OfflineMgr and, unless disabled, Emulation. */
GDBusObjectSkeleton *os_bus_profile_get_object (OsBusProfile *self);
const char *os_bus_profile_get_path (OsBusProfile *self);

/* The reply to @call, a method call to this object, when it needs nothing but the state
 * to answer; NULL otherwise. Called in GDBus's thread with the state lock held
 * (os-fast-path.h). */
GDBusMessage *os_bus_profile_answer_at_once (OsBusProfile *self, GDBusMessage *call);

/* The object path of a profile: its name escaped with g_dbus_escape_object_path(). */
char *os_bus_profile_path_for_name (const char *name);

G_END_DECLS
