/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include "os-bus-profile.h"

G_BEGIN_DECLS

/* The emulation layer of one offline object: the Emulation interface (capabilities,
 * transition delay, injected notifications) and FailNext's failures, which a hook at the
 * object's dispatch (os-bus-dispatch.h) serves before anything else sees the call. With
 * --no-emulation there is no such object: no interface, no hook, no failure table. */
#define OS_TYPE_EMULATION (os_emulation_get_type ())
G_DECLARE_FINAL_TYPE (OsEmulation, os_emulation, OS, EMULATION, OsDBusEmulationSkeleton)

/* Adds the layer to @bus_profile's object, over @profile; its calls are decided by
 * @authority. It lives as long as the object. */
void os_emulation_add (OsBusProfile *bus_profile, OsProfile *profile, OsAuthority *authority);

G_END_DECLS
