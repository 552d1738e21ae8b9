/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the files of liboffline-state-mapi-1 share: the bus (os-mapi-bus.c: the library's
 * thread, its connection, the OfflineNotify objects of the advises) and the offline objects
 * (os-mapi-offline.c).
 */
#pragma once

#include <gio/gio.h>

#include "offline-state-mapi.h"

G_BEGIN_DECLS

/* One connection of the process to one bus, and the thread that owns it: Notify calls run
 * there, in the order they came. Shared by the offline objects opened on that bus. */
typedef struct _OsMapiBus OsMapiBus;

/* One advise of this process: the callback it holds, and its OfflineNotify object. */
typedef struct _OsMapiAdvise OsMapiAdvise;

/* The bus at @address: the one the process has, or a new one (its thread started, its
 * connection made). NULL, with @error, when the connection fails. */
OsMapiBus *os_mapi_bus_get (const char *address, GError **error);
/* The last reference closes the connection and ends the thread (from that thread itself
 * too: inside a Notify, it ends once the Notify has returned). */
void os_mapi_bus_unref (OsMapiBus *bus);
GDBusConnection *os_mapi_bus_get_connection (OsMapiBus *bus);
/* Whether the caller is the bus's thread, inside a Notify. */
gboolean os_mapi_bus_is_own_thread (OsMapiBus *bus);
/* Until no Notify of an advise on the offline object @object_path is running (at once on the
 * bus's own thread, where none can end meanwhile). */
void os_mapi_bus_wait_notifies (OsMapiBus *bus, const char *object_path);

/* An advise, ready for Notify before the service is asked: @callback (a reference that it
 * takes over) on the offline object @object_path. */
OsMapiAdvise *os_mapi_advise_new (OsMapiBus *bus,
                                  const char *object_path,
                                  IMAPIOfflineNotify *callback,
                                  ULONG client_token);
/* Its OfflineNotify object's path, for Advise. */
const char *os_mapi_advise_get_callback_path (OsMapiAdvise *advise);
ULONG os_mapi_advise_get_token (OsMapiAdvise *advise);
void os_mapi_advise_set_token (OsMapiAdvise *advise, ULONG token);
/* Takes it from the bus: no Notify reaches it from now on, and the callback is released once
 * the Notify calls under way have returned. Frees the caller's @advise. */
void os_mapi_advise_remove (OsMapiAdvise *advise);

G_END_DECLS
