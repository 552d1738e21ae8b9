/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "offline-state.h"
#include "ctl.h"

void
ctl_clear (Ctl *ctl)
{
  /* The clients are gone, and their Unadvise calls queued: put them on the wire, so that
   * the next command does not find our advises still counted. */
  if (ctl->connection != NULL && !g_dbus_connection_is_closed (ctl->connection))
    g_dbus_connection_flush_sync (ctl->connection, NULL, NULL);
  g_clear_pointer (&ctl->address, g_free);
  g_clear_object (&ctl->connection);
  g_clear_pointer (&ctl->loop, g_main_loop_unref);
}

void
ctl_add_bus_entries (Ctl *ctl, GOptionContext *context)
{
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_NONE, &ctl->user,
      "Talk to the service on the session bus (default)", NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &ctl->system, "Talk to the service on the system bus",
      NULL },
    { "address", 0, 0, G_OPTION_ARG_STRING, &ctl->address,
      "Talk to the service on the bus at ADDRESS", "ADDRESS" },
    G_OPTION_ENTRY_NULL,
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

GOptionContext *
ctl_command_context_new (Ctl *ctl,
                         const char *parameters,
                         const char *summary,
                         const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameters);

  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, NULL);
  ctl_add_bus_entries (ctl, context);
  return context;
}

static int
usage_errorv (Ctl *ctl, const char *format, va_list args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  if (ctl->command != NULL)
    g_printerr ("offlinectl: %s (see 'offlinectl %s --help')\n", message, ctl->command);
  else
    g_printerr ("offlinectl: %s (see 'offlinectl --help')\n", message);
  return CTL_EXIT_USAGE;
}

int
ctl_usage_error (Ctl *ctl, const char *format, ...)
{
  va_list args;
  int status;

  va_start (args, format);
  status = usage_errorv (ctl, format, args);
  va_end (args);
  return status;
}

gboolean
ctl_parse (Ctl *ctl, GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  /* The bus options may come before the command and after it. GOption does not free a
   * string that was set before its parse began, when the parse sets it again. */
  g_autofree char *address_before = g_steal_pointer (&ctl->address);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      ctl_usage_error (ctl, "%s", error->message);
      return FALSE;
    }
  if (ctl->address == NULL)
    ctl->address = g_steal_pointer (&address_before);
  if ((ctl->user ? 1 : 0) + (ctl->system ? 1 : 0) + (ctl->address != NULL ? 1 : 0) > 1)
    {
      ctl_usage_error (ctl, "--user, --system and --address exclude each other");
      return FALSE;
    }
  return TRUE;
}

gboolean
ctl_check_arguments (Ctl *ctl, int argc, int min, int max, const char *what)
{
  /* argv[0] is the program; the command's arguments follow. */
  int given = argc - 1;

  if (given < min)
    {
      ctl_usage_error (ctl, "missing %s", what);
      return FALSE;
    }
  if (given > max)
    {
      ctl_usage_error (ctl, "too many arguments");
      return FALSE;
    }
  return TRUE;
}

gboolean
ctl_connect (Ctl *ctl, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;

  if (ctl->connection != NULL)
    return TRUE;
  if (ctl->address != NULL)
    connection =
        g_dbus_connection_new_for_address_sync (ctl->address,
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, error);
  else
    connection = g_bus_get_sync (ctl->system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION, NULL, error);
  if (connection == NULL)
    {
      g_prefix_error (error, "cannot connect to the %s: ",
                      ctl->address != NULL ? "bus"
                      : ctl->system        ? "system bus"
                                           : "session bus");
      return FALSE;
    }
  /* A lost bus is reported and gives a status; it must not kill the process. */
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  ctl->connection = g_steal_pointer (&connection);
  return TRUE;
}

/* The D-Bus name of @error: from the wire, or the name GIO registered for its domain. */
static char *
error_name (const GError *error)
{
  char *name = g_dbus_error_get_remote_error (error);

  if (name == NULL && error->domain != G_IO_ERROR)
    {
      name = g_dbus_error_encode_gerror (error);
      if (g_str_has_prefix (name, "org.gtk.GDBus.UnmappedGError"))
        g_clear_pointer (&name, g_free);
    }
  return name;
}

int
ctl_report_error (const GError *error)
{
  g_autofree char *name = error_name (error);
  g_autoptr (GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  if (name != NULL)
    g_printerr ("offlinectl: %s: %s\n", name, copy->message);
  else
    g_printerr ("offlinectl: %s\n", copy->message);
  return CTL_EXIT_FAILURE;
}

static void
on_closed (GDBusConnection *connection,
           gboolean remote_peer_vanished,
           GError *error,
           gpointer user_data)
{
  Ctl *ctl = user_data;

  ctl->closed = TRUE;
  ctl_quit (ctl);
}

gboolean
ctl_run (Ctl *ctl)
{
  gulong handler;

  g_assert (ctl->connection != NULL);
  if (ctl->loop == NULL)
    ctl->loop = g_main_loop_new (NULL, FALSE);
  handler = g_signal_connect (ctl->connection, "closed", G_CALLBACK (on_closed), ctl);
  if (!g_dbus_connection_is_closed (ctl->connection))
    g_main_loop_run (ctl->loop);
  else
    ctl->closed = TRUE;
  g_signal_handler_disconnect (ctl->connection, handler);
  if (ctl->closed)
    g_printerr ("offlinectl: the connection to the bus was closed\n");
  return !ctl->closed;
}

void
ctl_quit (Ctl *ctl)
{
  if (ctl->loop != NULL)
    g_main_loop_quit (ctl->loop);
}

OfflineStateClient *
ctl_open_profile (Ctl *ctl, const char *profile, GError **error)
{
  if (!ctl_connect (ctl, error))
    return NULL;
  return offline_state_client_new_sync (ctl->connection, profile, NULL, error);
}

static gboolean
is_not_found (const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  return g_strcmp0 (name, OFFLINE_STATE_ERROR_NOT_FOUND) == 0;
}

static GPtrArray *
open_profiles (Ctl *ctl, const char *const *names, gboolean only_one, GError **error)
{
  g_autoptr (GPtrArray) clients = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr (GError) local_error = NULL;
      OfflineStateClient *client = ctl_open_profile (ctl, names[i], &local_error);

      if (client != NULL)
        g_ptr_array_add (clients, client);
      else if (only_one || !is_not_found (local_error))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  return g_steal_pointer (&clients);
}

GPtrArray *
ctl_open_profiles (Ctl *ctl, const char *profile, GError **error)
{
  g_auto (GStrv) names = NULL;

  if (profile != NULL)
    names = g_strdupv ((char *[]){ (char *) profile, NULL });
  else if (ctl_connect (ctl, error))
    names = offline_state_list_profiles_sync (ctl->connection, NULL, error);
  if (names == NULL)
    return NULL;
  return open_profiles (ctl, (const char *const *) names, profile != NULL, error);
}

char *
ctl_capabilities_words (OfflineStateCapabilities capabilities)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new ();

  if (capabilities & OFFLINE_STATE_CAPABILITIES_OFFLINE)
    g_ptr_array_add (words, "offline");
  if (capabilities & OFFLINE_STATE_CAPABILITIES_ONLINE)
    g_ptr_array_add (words, "online");
  if (words->len == 0)
    g_ptr_array_add (words, "none");
  g_ptr_array_add (words, NULL);
  return g_strjoinv (", ", (char **) words->pdata);
}

gboolean
ctl_parse_state (const char *text, OfflineStateState *state)
{
  if (g_strcmp0 (text, "online") == 0)
    *state = OFFLINE_STATE_STATE_ONLINE;
  else if (g_strcmp0 (text, "offline") == 0)
    *state = OFFLINE_STATE_STATE_OFFLINE;
  else
    return FALSE;
  return TRUE;
}

/* "offline,online" (any order, spaces allowed, as status prints them), "none", or 0 to 3. */
gboolean
ctl_parse_capabilities (const char *text, OfflineStateCapabilities *capabilities)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (text));
  g_auto (GStrv) words = NULL;
  guint value = 0;

  if (strlen (trimmed) == 1 && trimmed[0] >= '0' && trimmed[0] <= '3')
    {
      *capabilities = (OfflineStateCapabilities) (trimmed[0] - '0');
      return TRUE;
    }
  if (g_strcmp0 (trimmed, "none") == 0)
    {
      *capabilities = OFFLINE_STATE_CAPABILITIES_NONE;
      return TRUE;
    }
  words = g_strsplit (text, ",", -1);
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = g_strstrip (words[i]);

      if (g_strcmp0 (word, "offline") == 0)
        value |= OFFLINE_STATE_CAPABILITIES_OFFLINE;
      else if (g_strcmp0 (word, "online") == 0)
        value |= OFFLINE_STATE_CAPABILITIES_ONLINE;
      else
        return FALSE;
    }
  if (value == 0)
    return FALSE;
  *capabilities = (OfflineStateCapabilities) value;
  return TRUE;
}

static void
json_append_char (GString *json, gunichar c)
{
  switch (c)
    {
      case '"':
        g_string_append (json, "\\\"");
        break;
      case '\\':
        g_string_append (json, "\\\\");
        break;
      case '\n':
        g_string_append (json, "\\n");
        break;
      case '\r':
        g_string_append (json, "\\r");
        break;
      case '\t':
        g_string_append (json, "\\t");
        break;
      default:
        if (c >= 0x20 && c < 0x7f)
          g_string_append_c (json, (char) c);
        else if (c < 0x10000)
          g_string_append_printf (json, "\\u%04x", c);
        else /* a UTF-16 surrogate pair */
          g_string_append_printf (json, "\\u%04x\\u%04x", 0xd800 + ((c - 0x10000) >> 10),
                                  0xdc00 + ((c - 0x10000) & 0x3ff));
    }
}

void
ctl_json_append_string (GString *json, const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  g_string_append_c (json, '"');
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    json_append_char (json, g_utf8_get_char (p));
  g_string_append_c (json, '"');
}

void
ctl_json_print_line (GString *json)
{
  fwrite (json->str, 1, json->len, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}
