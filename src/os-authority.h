/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Signal "user-learnt" (const char *name, guint uid): the Unix user of a caller, learnt
 * before any call of it that needed one goes on.
 *
 * Who may call what (the D-Bus reference: each interface's description names its polkit actions;
 * docs/desktop.md, Authorization). Every call to the bus layer's interfaces reaches
 * os_authority_check() from the dispatch (os-bus-dispatch.h), before its handler runs. Each
 * method's Authorization annotation in the XML names the polkit action that covers it, or none
 * for a call open to everyone; a method without one is refused. Disabled (on the session bus), it
 * lets every call through at once and never talks to polkit. */
#define OS_TYPE_AUTHORITY (os_authority_get_type ())
G_DECLARE_FINAL_TYPE (OsAuthority, os_authority, OS, AUTHORITY, GObject)

/* @bus: the callers' bus. @check_callers: ask polkit (on the system bus, over a
 * connection of the authority's own); otherwise every call is let through. */
OsAuthority *os_authority_new (GDBusConnection *bus, gboolean check_callers);

/* What runs once a call is authorized (the dispatch's way to the handler): it reads the
 * arguments from @invocation, and answers it. */
typedef void (*OsAuthorizedFunc) (GObject *object, GDBusMethodInvocation *invocation);

/* Runs @authorized on @object: at once for an open call or a disabled authority, from the
 * main loop once polkit agrees otherwise. A call that counts against the per-user limits
 * (PerUserLimits in the XML: Advise) first waits for the caller's Unix user, asked of the bus once
 * per caller; the caller's later calls wait behind it, in order. A refused call is answered here
 * with org.freedesktop.DBus.Error.AccessDenied naming the action, and logged; @authorized never
 * runs for it. @object is kept alive while polkit decides. */
void os_authority_check (OsAuthority *self,
                         GDBusMethodInvocation *invocation,
                         GObject *object,
                         OsAuthorizedFunc authorized);

/* The Unix user of the caller of @invocation, if a call of it has needed one;
 * OS_UID_UNKNOWN otherwise. */
guint os_authority_get_caller_uid (OsAuthority *self, GDBusMethodInvocation *invocation);
/* @name has left the bus. */
void os_authority_forget_caller (OsAuthority *self, const char *name);
/* GetConnectionUnixUser of @name, answered as g_dbus_connection_call() answers. */
void os_authority_lookup_user (OsAuthority *self,
                               const char *name,
                               GAsyncReadyCallback callback,
                               gpointer user_data);

/* Refuses every call still waiting for polkit's answer (AccessDenied), at once. */
void os_authority_close (OsAuthority *self);

G_END_DECLS
