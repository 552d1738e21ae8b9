/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include "os-authority.h"
#include "os-dbus-generated.h"
#include "os-manager.h"

G_BEGIN_DECLS

/* The Manager interface and the ObjectManager of the profiles on one connection, relaying
 * an OsManager; it watches the clients that hold advises and reaps them when they leave. */
#define OS_TYPE_BUS_MANAGER (os_bus_manager_get_type ())
G_DECLARE_FINAL_TYPE (OsBusManager, os_bus_manager, OS, BUS_MANAGER, OsDBusManagerSkeleton)

/* @system_bus: the calls that change something are authorized through polkit (docs/desktop.md,
 * Authorization); on the session bus nothing is checked. It carries the manager's
 * notifications to clients, and bounds each connection's calls in flight
 * (os-call-budget.h). Nothing is on the bus before os_bus_manager_export(). */
OsBusManager *os_bus_manager_new (OsManager *manager,
                                  GDBusConnection *connection,
                                  gboolean emulation,
                                  gboolean system_bus);

/* Asks the bus for the Unix user of each client whose advises were restored. */
void os_bus_manager_identify_clients (OsBusManager *self);

/* Puts the manager and the profiles on the bus. */
gboolean os_bus_manager_export (OsBusManager *self, GError **error);

/* What serves calls at @path for @interface (the manager, or a profile's interface); NULL if
 * nothing. */
GDBusInterfaceSkeleton *
os_bus_manager_lookup_interface (OsBusManager *self, const char *path, const char *interface);
GDBusObjectManager *os_bus_manager_get_object_manager (OsBusManager *self);

/* Takes no new call: the objects leave the bus. What is under way goes on (notifications,
 * their answers, replies). */
void os_bus_manager_stop_serving (OsBusManager *self);
/* Takes every object off the bus, and stops everything else. */
void os_bus_manager_unexport (OsBusManager *self);

G_END_DECLS
