/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * A client of offline-stated in a process of its own, for test-isolation.c, which stops it
 * (SIGSTOP), runs it as another Unix user, or both:
 *
 *   isolation-client ADDRESS [--signal=N] [--callback=N] [--profile=NAME]
 *
 * connects to the bus at ADDRESS, makes N signal advises (callback "/") and N callback
 * advises (callback /isolation/cb, whose Notify it answers at once) on the profile (default:
 * "default"), state mask 0x3, client tokens from 1 up; then prints one line "ready" on its
 * standard output and serves its main loop until the bus goes away. When an Advise fails it
 * prints "refused ERROR-NAME MESSAGE" instead and exits with status 2.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "harness.h"

#define CALLBACK_PATH   "/isolation/cb"
#define CALL_TIMEOUT_MS 30000

static void
on_notify (GDBusMethodInvocation *invocation, GVariant *parameters, gpointer user_data)
{
  g_dbus_method_invocation_return_value (invocation, NULL);
}

/* One Advise; on failure, says so and exits. */
static void
advise (GDBusConnection *connection, const char *path, guint token, const char *callback)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_sync (
      connection, OFFLINE_STATE_BUS_NAME, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
      g_variant_new ("(uuuouu)", 0, token, 0, callback, 1, MAPIOFFLINE_STATE_OFFLINE_MASK),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, &error);
  if (reply == NULL)
    {
      g_autofree char *name = g_dbus_error_get_remote_error (error);

      g_dbus_error_strip_remote_error (error);
      printf ("refused %s %s\n", name ? name : "(local)", error->message);
      fflush (stdout);
      exit (2);
    }
}

static void
on_closed (GDBusConnection *connection,
           gboolean remote_peer_vanished,
           GError *error,
           gpointer user_data)
{
  g_main_loop_quit (user_data);
}

int
main (int argc, char **argv)
{
  int signals = 0, callbacks = 0;
  g_autofree char *profile = NULL;
  const GOptionEntry entries[] = {
    { "signal", 0, 0, G_OPTION_ARG_INT, &signals, "Signal advises", "N" },
    { "callback", 0, 0, G_OPTION_ARG_INT, &callbacks, "Callback advises", "N" },
    { "profile", 0, 0, G_OPTION_ARG_STRING, &profile, "Profile name", "NAME" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ADDRESS");
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *path = NULL;
  guint token = 1;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 || signals < 0 ||
      callbacks < 0)
    {
      fprintf (stderr, "isolation-client: %s\n",
               error ? error->message : "usage: isolation-client ADDRESS [OPTION…]");
      return 1;
    }
  path = harness_profile_path (profile ? profile : OFFLINE_STATE_DEFAULT_PROFILE);

  connection =
      g_dbus_connection_new_for_address_sync (argv[1],
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, &error);
  if (connection == NULL)
    {
      fprintf (stderr, "isolation-client: %s\n", error->message);
      return 1;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), loop);
  if (callbacks > 0)
    harness_export_notify (connection, CALLBACK_PATH, on_notify, NULL);

  for (int i = 0; i < signals; i++)
    advise (connection, path, token++, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  for (int i = 0; i < callbacks; i++)
    advise (connection, path, token++, CALLBACK_PATH);
  printf ("ready\n");
  fflush (stdout);

  g_main_loop_run (loop);
  return 0;
}
