/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * status, profiles, create, remove.
 */
#include "config.h"

#include "offline-state.h"
#include "ctl.h"

/* Our own client advised to read the profile: the others are the ones worth showing. */
static guint
other_advises (OfflineStateClient *client)
{
  guint count = offline_state_client_get_advise_count (client);

  return count > 0 ? count - 1 : 0;
}

static void
print_text (OfflineStateClient *client)
{
  OfflineStateCapabilities capabilities = offline_state_client_get_capabilities (client);
  g_autofree char *words = ctl_capabilities_words (capabilities);

  g_print ("%s:\n", offline_state_client_get_profile (client));
  g_print ("    State:         %s\n",
           offline_state_state_to_string (offline_state_client_get_state (client)));
  g_print ("    Capabilities:  %s\n", words);
  g_print ("    Transitioning: %s\n",
           offline_state_client_get_transitioning (client) ? "yes" : "no");
  g_print ("    Sequence:      %" G_GUINT64_FORMAT "\n",
           offline_state_client_get_sequence (client));
  g_print ("    Advises:       %u\n", other_advises (client));
}

static void
append_json (GString *json, OfflineStateClient *client)
{
  OfflineStateCapabilities capabilities = offline_state_client_get_capabilities (client);
  gboolean first = TRUE;

  g_string_append (json, "{\"name\":");
  ctl_json_append_string (json, offline_state_client_get_profile (client));
  g_string_append (json, ",\"state\":");
  ctl_json_append_string (json,
                          offline_state_state_to_string (offline_state_client_get_state (client)));
  g_string_append (json, ",\"capabilities\":[");
  if (capabilities & OFFLINE_STATE_CAPABILITIES_OFFLINE)
    {
      g_string_append (json, "\"offline\"");
      first = FALSE;
    }
  if (capabilities & OFFLINE_STATE_CAPABILITIES_ONLINE)
    g_string_append (json, first ? "\"online\"" : ",\"online\"");
  g_string_append_printf (
      json, "],\"transitioning\":%s,\"sequence\":%" G_GUINT64_FORMAT ",\"advise_count\":%u}",
      offline_state_client_get_transitioning (client) ? "true" : "false",
      offline_state_client_get_sequence (client), other_advises (client));
}

static void
print_json (GPtrArray *clients)
{
  g_autoptr (GString) json = g_string_new ("{\"profiles\":[");

  for (guint i = 0; i < clients->len; i++)
    {
      if (i > 0)
        g_string_append_c (json, ',');
      append_json (json, clients->pdata[i]);
    }
  g_string_append (json, "]}");
  ctl_json_print_line (json);
}

int
ctl_status (Ctl *ctl, int argc, char **argv)
{
  g_autofree char *profile = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "Show this profile only", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "status",
      "Show each profile: its state, capabilities, whether it is changing state, the\n"
      "sequence number of its last transition, and how many other clients advise it.",
      entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) clients = NULL;

  if (!ctl_parse (ctl, context, &argc, &argv) || !ctl_check_arguments (ctl, argc, 0, 0, NULL))
    return CTL_EXIT_USAGE;
  clients = ctl_open_profiles (ctl, profile, &error);
  if (clients == NULL)
    return ctl_report_error (error);

  if (json)
    print_json (clients);
  else if (clients->len == 0)
    g_print ("No profiles.\n");
  for (guint i = 0; !json && i < clients->len; i++)
    {
      if (i > 0)
        g_print ("\n");
      print_text (clients->pdata[i]);
    }
  return CTL_EXIT_OK;
}

int
ctl_profiles (Ctl *ctl, int argc, char **argv)
{
  g_autoptr (GOptionContext) context =
      ctl_command_context_new (ctl, "profiles", "List the profiles, one name a line.", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;

  if (!ctl_parse (ctl, context, &argc, &argv) || !ctl_check_arguments (ctl, argc, 0, 0, NULL))
    return CTL_EXIT_USAGE;
  if (ctl_connect (ctl, &error))
    names = offline_state_list_profiles_sync (ctl->connection, NULL, &error);
  if (names == NULL)
    return ctl_report_error (error);
  for (guint i = 0; names[i] != NULL; i++)
    g_print ("%s\n", names[i]);
  return CTL_EXIT_OK;
}

int
ctl_create (Ctl *ctl, int argc, char **argv)
{
  g_autofree char *capabilities_text = NULL;
  g_autofree char *state_text = NULL;
  const GOptionEntry entries[] = {
    { "capabilities", 'c', 0, G_OPTION_ARG_STRING, &capabilities_text,
      "Which transitions it notifies: offline,online (default), offline, online, none, or "
      "0 to 3",
      "CAPABILITIES" },
    { "state", 's', 0, G_OPTION_ARG_STRING, &state_text,
      "Its state to start with: online (default) or offline", "STATE" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "create NAME", "Create the profile NAME (MAPI's HrCreateOfflineObj).", entries);
  OfflineStateCapabilities capabilities =
      OFFLINE_STATE_CAPABILITIES_OFFLINE | OFFLINE_STATE_CAPABILITIES_ONLINE;
  OfflineStateState state = OFFLINE_STATE_STATE_ONLINE;
  g_autoptr (GError) error = NULL;

  if (!ctl_parse (ctl, context, &argc, &argv) ||
      !ctl_check_arguments (ctl, argc, 1, 1, "the profile NAME"))
    return CTL_EXIT_USAGE;
  if (capabilities_text != NULL && !ctl_parse_capabilities (capabilities_text, &capabilities))
    return ctl_usage_error (
        ctl, "--capabilities: '%s' is not offline,online, offline, online, none, or 0 to 3",
        capabilities_text);
  if (state_text != NULL && !ctl_parse_state (state_text, &state))
    return ctl_usage_error (ctl, "--state: '%s' is not online or offline", state_text);

  if (!ctl_connect (ctl, &error) ||
      !offline_state_create_profile_sync (ctl->connection, argv[1], capabilities, state, NULL,
                                          &error))
    return ctl_report_error (error);
  return CTL_EXIT_OK;
}

int
ctl_remove (Ctl *ctl, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "remove NAME", "Remove the profile NAME, its saved state and its advises.", NULL);
  g_autoptr (GError) error = NULL;

  if (!ctl_parse (ctl, context, &argc, &argv) ||
      !ctl_check_arguments (ctl, argc, 1, 1, "the profile NAME"))
    return CTL_EXIT_USAGE;
  if (!ctl_connect (ctl, &error) ||
      !offline_state_remove_profile_sync (ctl->connection, argv[1], NULL, &error))
    return ctl_report_error (error);
  return CTL_EXIT_OK;
}
