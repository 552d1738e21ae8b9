/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <stdarg.h>
#include <string.h>

#include "warnings.h"

#define LOG_DOMAIN "offline-state"

static GPtrArray *warnings;

static GLogWriterOutput
capture_writer (GLogLevelFlags log_level,
                const GLogField *fields,
                gsize n_fields,
                gpointer user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
        domain = fields[i].value;
      else if (g_str_equal (fields[i].key, "MESSAGE"))
        message = fields[i].value;
    }
  if ((log_level & G_LOG_LEVEL_WARNING) && g_strcmp0 (domain, LOG_DOMAIN) == 0 && message != NULL)
    {
      g_ptr_array_add (warnings, g_strdup (message));
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

void
warnings_capture (void)
{
  warnings = g_ptr_array_new_with_free_func (g_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
}

guint
warnings_count (void)
{
  return warnings->len;
}

void
warnings_clear (void)
{
  g_ptr_array_set_size (warnings, 0);
}

gboolean
warnings_mention (const char *word)
{
  for (guint i = 0; i < warnings->len; i++)
    if (strstr (g_ptr_array_index (warnings, i), word) != NULL)
      return TRUE;
  return FALSE;
}

void
warnings_assert_one (const char *first_word, ...)
{
  const char *message;
  const char *word;
  va_list args;

  g_assert_cmpuint (warnings->len, ==, 1);
  message = g_ptr_array_index (warnings, 0);
  va_start (args, first_word);
  for (word = first_word; word != NULL; word = va_arg (args, const char *))
    if (strstr (message, word) == NULL)
      g_error ("warning '%s' does not mention '%s'", message, word);
  va_end (args);
  g_ptr_array_set_size (warnings, 0);
}
