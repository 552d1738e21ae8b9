/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include "os-authority.h"

G_BEGIN_DECLS

/* The one way into the daemon's interfaces. Every call to a skeleton whose class installed
 * it goes, in this order, through:
 *  1. the call hook, when one is set (the emulation layer's FailNext), which may answer it;
 *  2. the checks its introspection XML names: OS_BUS_CHECK_ANNOTATION on an argument, whose
 *     value names one of the checks of os-bus-dispatch.c, run in the arguments' order;
 *  3. the authority: os_authority_check(), after the Authorization annotation;
 *  4. a call that waited for polkit while its object left the bus is NotFound;
 *  5. its handler, gdbus-codegen's handle-METHOD signal, with the arguments unpacked; or, for
 *     Properties.Get and GetAll, the skeleton's properties (GDBusInterfaceSkeletonClass's
 *     get_properties), so that a read keeps its place behind the caller's calls that wait.
 * A handler thus only acts and answers: what its method may be called with, and by whom,
 * is said in the XML. */
#define OS_BUS_CHECK_ANNOTATION "org.offlinestate.OfflineState1.Check"
/* On an OfflineMgr method: "true" when Emulation.FailNext can make its calls fail. */
#define OS_BUS_FAIL_NEXT_ANNOTATION "org.offlinestate.OfflineState1.Emulation.FailNext"

/* In a class_init: the class's calls come through the dispatch. An annotation that names no
 * known check, or one for another type of argument, stops the daemon here: the XML is wrong. */
void os_bus_dispatch_install (GDBusInterfaceSkeletonClass *klass);

/* Before @skeleton is exported: the authority that decides its calls; @what names its object
 * in errors ("profile 'Work'"). */
void
os_bus_dispatch_attach (GDBusInterfaceSkeleton *skeleton, OsAuthority *authority, const char *what);

/* Sees each call to @skeleton's methods first; TRUE when it answered the call itself. */
typedef gboolean (*OsBusCallHook) (GDBusMethodInvocation *invocation, gpointer user_data);

/* Sets the one hook of @skeleton; @user_data is kept (a GObject) until the skeleton goes. */
void
os_bus_dispatch_set_hook (GDBusInterfaceSkeleton *skeleton, OsBusCallHook hook, GObject *user_data);

G_END_DECLS
