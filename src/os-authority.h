/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Who may call what (the contract, §10). Every method handler of the bus layer hands its
 * call to os_authority_check() before it acts. One table gives, for each interface and
 * method, the polkit action that covers it, or none for a call open to everyone; a method
 * the table does not list is refused. Disabled (on the session bus), it lets every call
 * through at once and never talks to polkit. */
#define OS_TYPE_AUTHORITY (os_authority_get_type ())
G_DECLARE_FINAL_TYPE (OsAuthority, os_authority, OS, AUTHORITY, GObject)

/* @system_bus: where to ask polkit; NULL disables the authority. */
OsAuthority *os_authority_new (GDBusConnection *system_bus);

/* The part of a handler that runs once its call is authorized: it reads its arguments
 * from @invocation again, and answers it. */
typedef void (*OsAuthorizedFunc) (GObject *object, GDBusMethodInvocation *invocation);

/* Runs @authorized on @object: at once for an open call or a disabled authority, from the
 * main loop once polkit agrees otherwise. A refused call is answered here with
 * org.freedesktop.DBus.Error.AccessDenied naming the action, and logged; @authorized
 * never runs for it. @object is kept alive while polkit decides. */
void os_authority_check (OsAuthority *self,
                         GDBusMethodInvocation *invocation,
                         GObject *object,
                         OsAuthorizedFunc authorized);

/* Refuses every call still waiting for polkit's answer (AccessDenied), at once. */
void os_authority_close (OsAuthority *self);

/* Whether polkit checks callers at all: on the system bus. */
gboolean os_authority_checks_callers (OsAuthority *self);

/* Whether os_authority_check() lets @method of @interface through at once, for anyone. */
gboolean os_authority_is_open (OsAuthority *self, const char *interface, const char *method);

G_END_DECLS
