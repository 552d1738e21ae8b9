/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Every error the service raises. os-error.c holds the one table that gives each its
 * D-Bus name and, where MAPI has one, its MAPI code. */
typedef enum
{
  OS_ERROR_INVALID_ARGS,
  OS_ERROR_PENDING,
  OS_ERROR_NOT_FOUND,
  OS_ERROR_NO_INTERFACE,
  OS_ERROR_EXISTS,
  OS_ERROR_LIMITS_EXCEEDED,
  OS_ERROR_ACCESS_DENIED,
  OS_ERROR_IO_ERROR, /* a change that was made but could not be saved */
} OsError;

#define OS_ERROR (os_error_quark ())
GQuark os_error_quark (void);

const char *os_error_dbus_name (OsError code);

/* Sets @error with the message "<MAPI name> (<code>): <format>" where MAPI has a code. */
void os_set_error (GError **error, OsError code, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* @text, which a client chose (a callback path, an error message: up to the bus's message
 * size), cut to a line's worth for the log. @text is valid UTF-8. */
char *os_log_excerpt (const char *text);

G_END_DECLS
