/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * online, offline, wait.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "offline-state.h"
#include "ctl.h"

/* --timeout's upper bound: what an int of milliseconds holds (24 days). */
#define MAX_TIMEOUT_S (G_MAXINT / 1000)

static int
set_state (Ctl *ctl, int argc, char **argv, OfflineStateState state, const char *summary)
{
  g_autofree char *profile = NULL;
  gboolean no_block = FALSE;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "The profile (default: default)", "NAME" },
    { "no-block", 0, 0, G_OPTION_ARG_NONE, &no_block,
      "Return once the transition has started, not when it is over", NULL },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context =
      ctl_command_context_new (ctl, ctl->command, summary, entries);
  g_autoptr (OfflineStateClient) client = NULL;
  g_autoptr (GError) error = NULL;

  if (!ctl_parse (ctl, context, &argc, &argv) || !ctl_check_arguments (ctl, argc, 0, 0, NULL))
    return CTL_EXIT_USAGE;
  client =
      ctl_open_profile (ctl, profile != NULL ? profile : OFFLINE_STATE_DEFAULT_PROFILE, &error);
  if (client == NULL ||
      !offline_state_client_set_state_sync (client, state, !no_block, NULL, &error))
    return ctl_report_error (error);
  return CTL_EXIT_OK;
}

int
ctl_online (Ctl *ctl, int argc, char **argv)
{
  return set_state (ctl, argc, argv, OFFLINE_STATE_STATE_ONLINE,
                    "Set the profile online (MAPI's SetCurrentState), and wait until the\n"
                    "transition is over: its clients have been told START, STATECHANGE and "
                    "DONE.");
}

int
ctl_offline (Ctl *ctl, int argc, char **argv)
{
  return set_state (ctl, argc, argv, OFFLINE_STATE_STATE_OFFLINE,
                    "Set the profile offline (MAPI's SetCurrentState), and wait until the\n"
                    "transition is over: its clients have been told START, STATECHANGE and "
                    "DONE.");
}

typedef struct
{
  Ctl *ctl;
  OfflineStateState want;
  gboolean reached;
} Waiter;

static void
on_state (OfflineStateClient *client, GParamSpec *pspec, gpointer user_data)
{
  Waiter *waiter = user_data;

  if (offline_state_client_get_state (client) == waiter->want)
    {
      waiter->reached = TRUE;
      ctl_quit (waiter->ctl);
    }
}

static void
on_timeout (gpointer user_data)
{
  ctl_quit (user_data);
}

/* "1.5" seconds and the like: no sign, no exponent, no hexadecimal, no locale. */
static gboolean
parse_timeout (const char *text, guint *ms)
{
  char *end = NULL;
  double seconds;

  if ((!g_ascii_isdigit (text[0]) && text[0] != '.') || strpbrk (text, "eExX") != NULL)
    return FALSE;
  seconds = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (seconds) || seconds > MAX_TIMEOUT_S)
    return FALSE;
  *ms = (guint) ceil (seconds * 1000);
  return TRUE;
}

/* Waits on a client that advised before it read the state, so that no transition can slip
 * between the read and the wait. FALSE on time-out, or if the bus went away (said so). */
static gboolean
wait_for (Ctl *ctl, OfflineStateClient *client, OfflineStateState want, int timeout_ms)
{
  Waiter waiter = { ctl, want, FALSE };
  gulong handler;
  guint timeout = 0;

  if (offline_state_client_get_state (client) == want)
    return TRUE;
  if (timeout_ms == 0)
    return FALSE;
  handler = g_signal_connect (client, "notify::state", G_CALLBACK (on_state), &waiter);
  if (timeout_ms > 0)
    timeout = g_timeout_add_once ((guint) timeout_ms, on_timeout, ctl);
  ctl_run (ctl);
  g_signal_handler_disconnect (client, handler);
  if (timeout != 0 && (waiter.reached || ctl->closed))
    g_source_remove (timeout);
  return waiter.reached;
}

int
ctl_wait (Ctl *ctl, int argc, char **argv)
{
  g_autofree char *profile = NULL;
  g_autofree char *timeout_text = NULL;
  const GOptionEntry entries[] = {
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "The profile (default: default)", "NAME" },
    { "timeout", 't', 0, G_OPTION_ARG_STRING, &timeout_text,
      "Give up after SECONDS (default: wait as long as it takes; 0: only look once)", "SECONDS" },
    G_OPTION_ENTRY_NULL,
  };
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "wait online|offline",
      "Wait until the profile is online (or offline); return at once if it already is.\n"
      "Exit status 0 when it is, 1 on time-out.",
      entries);
  g_autoptr (OfflineStateClient) client = NULL;
  g_autoptr (GError) error = NULL;
  OfflineStateState want;
  guint ms = 0;

  if (!ctl_parse (ctl, context, &argc, &argv) ||
      !ctl_check_arguments (ctl, argc, 1, 1, "the state to wait for (online or offline)"))
    return CTL_EXIT_USAGE;
  if (!ctl_parse_state (argv[1], &want))
    return ctl_usage_error (ctl, "'%s' is not online or offline", argv[1]);
  if (timeout_text != NULL && !parse_timeout (timeout_text, &ms))
    return ctl_usage_error (ctl, "--timeout: '%s' is not a number of seconds", timeout_text);

  if (profile == NULL)
    profile = g_strdup (OFFLINE_STATE_DEFAULT_PROFILE);
  client = ctl_open_profile (ctl, profile, &error);
  if (client == NULL)
    return ctl_report_error (error);
  if (wait_for (ctl, client, want, timeout_text != NULL ? (int) ms : -1))
    return CTL_EXIT_OK;
  if (ctl->closed)
    return CTL_EXIT_FAILURE;
  g_printerr ("offlinectl: timed out after %s s: profile '%s' is not %s\n", timeout_text, profile,
              offline_state_state_to_string (want));
  return CTL_EXIT_FAILURE;
}
