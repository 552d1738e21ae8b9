/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * monitor: one line per notification, until SIGINT or SIGTERM.
 */
#include "config.h"

#include <glib-unix.h>
#include <signal.h>

#include "ctl.h"

typedef struct
{
  gboolean json;
  const char *arrow;
} Monitor;

/* ISO 8601, local time, milliseconds: 2026-11-24T03:36:15.123+01:00 */
static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S");
  g_autofree char *zone = g_date_time_format (now, "%:z");

  return g_strdup_printf ("%s.%03d%s", date, g_date_time_get_microsecond (now) / 1000, zone);
}

static void
print_json (OfflineStateClient *client,
            const char *time,
            OfflineStatePhase phase,
            OfflineStateState old_state,
            OfflineStateState new_state,
            guint64 sequence)
{
  g_autoptr (GString) json = g_string_new ("{\"time\":");

  ctl_json_append_string (json, time);
  g_string_append (json, ",\"profile\":");
  ctl_json_append_string (json, offline_state_client_get_profile (client));
  g_string_append (json, ",\"phase\":");
  ctl_json_append_string (json, offline_state_phase_to_string (phase));
  g_string_append (json, ",\"old_state\":");
  ctl_json_append_string (json, offline_state_state_to_string (old_state));
  g_string_append (json, ",\"new_state\":");
  ctl_json_append_string (json, offline_state_state_to_string (new_state));
  g_string_append_printf (json, ",\"sequence\":%" G_GUINT64_FORMAT "}", sequence);
  ctl_json_print_line (json);
}

static void
on_notification (OfflineStateClient *client,
                 OfflineStatePhase phase,
                 guint mask,
                 OfflineStateState old_state,
                 OfflineStateState new_state,
                 guint64 sequence,
                 gpointer user_data)
{
  Monitor *monitor = user_data;
  g_autofree char *time = now_iso8601 ();

  if (monitor->json)
    {
      print_json (client, time, phase, old_state, new_state, sequence);
      return;
    }
  /* g_print() flushes: each line reaches a pipe as it happens. */
  g_print ("%s %s %s %s %s %s, sequence %" G_GUINT64_FORMAT "\n", time,
           offline_state_client_get_profile (client), offline_state_phase_to_string (phase),
           offline_state_state_to_string (old_state), monitor->arrow,
           offline_state_state_to_string (new_state), sequence);
}

/* The library advises again when the service comes back; say so once, not per profile. */
static void
on_available (OfflineStateClient *client, GParamSpec *pspec, gpointer user_data)
{
  if (offline_state_client_get_available (client))
    g_printerr ("offlinectl: the service is back\n");
  else
    g_printerr ("offlinectl: the service left the bus; waiting for it to come back\n");
}

static gboolean
on_quit_signal (gpointer user_data)
{
  ctl_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* On standard error, so that standard output holds notifications only. */
static void
say_ready (GPtrArray *clients)
{
  g_autoptr (GString) list = g_string_new (NULL);

  for (guint i = 0; i < clients->len; i++)
    g_string_append_printf (list, "%s'%s'", i > 0 ? ", " : "",
                            offline_state_client_get_profile (clients->pdata[i]));
  g_printerr ("Monitoring %s; press Ctrl+C to stop.\n",
              clients->len > 0 ? list->str : "no profile");
}

int
ctl_monitor (Ctl *ctl, int argc, char **argv)
{
  g_autofree char *profile = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile,
      "Monitor this profile only (default: every profile)", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object a line", NULL },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "monitor",
      "Advise the profiles, and print a line for each notification as it arrives: the\n"
      "time, the profile, the phase (START, STATECHANGE, DONE), the old and new state and\n"
      "the sequence number of the transition. Ctrl+C (or SIGTERM) unadvises and exits.",
      entries);
  Monitor monitor = { FALSE, g_get_charset (NULL) ? "→" : "->" };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) clients = NULL;
  guint sigint, sigterm;
  gboolean ok;

  if (!ctl_parse (ctl, context, &argc, &argv) || !ctl_check_arguments (ctl, argc, 0, 0, NULL))
    return CTL_EXIT_USAGE;
  monitor.json = json;
  clients = ctl_open_profiles (ctl, profile, &error);
  if (clients == NULL)
    return ctl_report_error (error);
  for (guint i = 0; i < clients->len; i++)
    g_signal_connect (clients->pdata[i], "notification", G_CALLBACK (on_notification), &monitor);
  if (clients->len > 0)
    g_signal_connect (clients->pdata[0], "notify::available", G_CALLBACK (on_available), NULL);

  sigint = g_unix_signal_add (SIGINT, on_quit_signal, ctl);
  sigterm = g_unix_signal_add (SIGTERM, on_quit_signal, ctl);
  say_ready (clients);
  ok = ctl_run (ctl);
  g_source_remove (sigint);
  g_source_remove (sigterm);

  /* Disposing a client unadvises; ctl_clear() flushes those calls to the bus before exit. */
  g_clear_pointer (&clients, g_ptr_array_unref);
  return ok ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}
