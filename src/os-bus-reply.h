/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Errors of the core (os-error.h) as D-Bus replies: the bus layer's side of the error table.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Returns @error to the caller, with its D-Bus name from the error table. */
void os_bus_return_error (GDBusMethodInvocation *invocation, const GError *error);
/* Answers a method with no return values: @done, as a _finish function said it, or @error. */
void os_bus_return_done (GDBusMethodInvocation *invocation, gboolean done, const GError *error);
/* The same, as the error reply to the method call @call. */
GDBusMessage *os_bus_new_error_reply (GDBusMessage *call, const GError *error);

G_END_DECLS
