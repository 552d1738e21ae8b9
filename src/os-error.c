/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <string.h>

#include "offline-state.h"
#include "os-error.h"

typedef struct
{
  const char *dbus_name;
  const char *mapi_name; /* NULL where MAPI has no code for it */
  guint32 mapi_code;
} OsErrorInfo;

static const OsErrorInfo error_table[] = {
  [OS_ERROR_INVALID_ARGS] = { OFFLINE_STATE_ERROR_INVALID_ARGS, "E_INVALIDARG",
                              OFFLINE_STATE_E_INVALIDARG },
  [OS_ERROR_PENDING] = { OFFLINE_STATE_ERROR_PENDING, "E_PENDING", OFFLINE_STATE_E_PENDING },
  [OS_ERROR_NOT_FOUND] = { OFFLINE_STATE_ERROR_NOT_FOUND, "MAPI_E_NOT_FOUND",
                           OFFLINE_STATE_MAPI_E_NOT_FOUND },
  [OS_ERROR_NO_INTERFACE] = { OFFLINE_STATE_ERROR_NO_INTERFACE, "E_NOINTERFACE",
                              OFFLINE_STATE_E_NOINTERFACE },
  [OS_ERROR_EXISTS] = { OFFLINE_STATE_ERROR_EXISTS, NULL, 0 },
  [OS_ERROR_LIMITS_EXCEEDED] = { OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, NULL, 0 },
  [OS_ERROR_ACCESS_DENIED] = { OFFLINE_STATE_ERROR_ACCESS_DENIED, NULL, 0 },
  [OS_ERROR_IO_ERROR] = { OFFLINE_STATE_ERROR_IO_ERROR, "MAPI_E_DISK_ERROR",
                          OFFLINE_STATE_MAPI_E_DISK_ERROR },
};

/* The error domain, registered from the table: only the service's own names, since the
 * org.freedesktop.DBus.Error names belong to GDBus's G_DBUS_ERROR domain already. */
GQuark
os_error_quark (void)
{
  static GDBusErrorEntry entries[G_N_ELEMENTS (error_table)];
  static gsize quark = 0;
  static gsize n_entries = 0;

  if (g_once_init_enter (&n_entries))
    {
      gsize n = 0;

      for (gsize code = 0; code < G_N_ELEMENTS (error_table); code++)
        if (g_str_has_prefix (error_table[code].dbus_name, OFFLINE_STATE_ERROR_PREFIX))
          entries[n++] = (GDBusErrorEntry){ (gint) code, error_table[code].dbus_name };
      g_once_init_leave (&n_entries, n);
    }
  g_dbus_error_register_error_domain ("offline-state-error-quark", &quark, entries, n_entries);
  return (GQuark) quark;
}

const char *
os_error_dbus_name (OsError code)
{
  g_return_val_if_fail (code < G_N_ELEMENTS (error_table), NULL);
  return error_table[code].dbus_name;
}

void
os_set_error (GError **error, OsError code, const char *format, ...)
{
  g_autofree char *what = NULL;
  const OsErrorInfo *info;
  va_list args;

  g_return_if_fail (code < G_N_ELEMENTS (error_table));
  info = &error_table[code];

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  if (info->mapi_name != NULL)
    g_set_error (error, OS_ERROR, code, "%s (0x%08X): %s", info->mapi_name, info->mapi_code, what);
  else
    g_set_error_literal (error, OS_ERROR, code, what);
}

#define LOG_EXCERPT_MAX 200

/* One line in the log whatever the client wrote: control characters (a newline that would
 * start a forged line, an escape sequence for a terminal) become \n, \t or \xNN. */
static void
append_escaped (GString *line, const char *text, gsize length)
{
  for (gsize i = 0; i < length; i++)
    {
      guchar c = text[i];

      if (c == '\n')
        g_string_append (line, "\\n");
      else if (c == '\t')
        g_string_append (line, "\\t");
      else if (c == '\\')
        g_string_append (line, "\\\\");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (line, "\\x%02x", c);
      else
        g_string_append_c (line, c);
    }
}

char *
os_log_excerpt (const char *text)
{
  gsize length = strlen (text);
  const char *end = text + LOG_EXCERPT_MAX;
  GString *line = g_string_sized_new (MIN (length, LOG_EXCERPT_MAX) + 16);

  if (length <= LOG_EXCERPT_MAX)
    {
      append_escaped (line, text, length);
      return g_string_free (line, FALSE);
    }
  /* Back to the start of a character. */
  while (end > text && (*end & 0xC0) == 0x80)
    end--;
  append_escaped (line, text, end - text);
  g_string_append_printf (line, "… (%" G_GSIZE_FORMAT " bytes)", length);
  return g_string_free (line, FALSE);
}
