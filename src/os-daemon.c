/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The command line, the signals, and the daemon's course from start to exit status (see
 * os-daemon-private.h for the other files).
 */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <stdlib.h>

#include "os-daemon.h"
#include "os-daemon-private.h"
#include "os-validate.h"

#define EXIT_USAGE 2

/* What parsing the command line allocated. */
static void
options_clear (OsDaemonOptions *options)
{
  g_clear_pointer (&options->state_dir, g_free);
  g_clear_pointer (&options->runtime_dir, g_free);
}

static gboolean
parse_uint (const char *option, const char *value, guint min, guint max, guint *out, GError **error)
{
  guint64 number;

  if (!g_ascii_string_to_unsigned (value, 10, min, max, &number, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s takes a whole number from %u to %u, not '%s'", option, min, max, value);
      return FALSE;
    }
  *out = (guint) number;
  return TRUE;
}

/* Every limit option: its name, where its value goes, its range. */
typedef struct
{
  const char *name;
  gsize offset; /* in OsLimits */
  guint min;
  guint max;
  const char *help;
} LimitOption;

static const LimitOption limit_options[] = {
  { "--notify-timeout", G_STRUCT_OFFSET (OsLimits, notify_timeout_ms), 1, OS_NOTIFY_TIMEOUT_MAX,
    "How long one callback Notify may take, 1 to 600000 (default: 5000)" },
  { "--max-advises-per-connection", G_STRUCT_OFFSET (OsLimits, max_advises_per_connection), 1,
    G_MAXUINT, "Advises one connection may hold (default: 1024)" },
  { "--max-advises-per-user", G_STRUCT_OFFSET (OsLimits, max_advises_per_user), 1, G_MAXUINT,
    "Advises the connections of one Unix user may hold together (default: 65536, or 4096 with "
    "--system)" },
  { "--max-advises", G_STRUCT_OFFSET (OsLimits, max_advises), 1, G_MAXUINT,
    "Advises of all connections together (default: 65536)" },
  { "--max-profiles", G_STRUCT_OFFSET (OsLimits, max_profiles), 1, G_MAXUINT,
    "Profiles in all (default: 256)" },
  { "--max-path-bytes-per-connection", G_STRUCT_OFFSET (OsLimits, max_path_bytes_per_connection), 1,
    G_MAXUINT, "Bytes of callback paths of one connection's advises (default: 65536)" },
  { "--max-path-bytes-per-user", G_STRUCT_OFFSET (OsLimits, max_path_bytes_per_user), 1, G_MAXUINT,
    "Bytes of callback paths of one Unix user's advises (default: 4194304, or 262144 with "
    "--system)" },
  { "--max-calls-per-connection", G_STRUCT_OFFSET (OsLimits, max_calls_per_connection), 1,
    G_MAXUINT,
    "Calls of one connection the service holds unanswered; more are refused at once "
    "(default: 64)" },
  { "--max-calls-per-user", G_STRUCT_OFFSET (OsLimits, max_calls_per_user), 1, G_MAXUINT,
    "Calls of one Unix user's connections the service holds unanswered; more are refused at "
    "once (default: 4096, or 512 with --system)" },
  { "--max-queued-per-connection", G_STRUCT_OFFSET (OsLimits, max_queued_per_connection), 1,
    G_MAXUINT, "Notifications toward one connection not yet taken (default: 4096)" },
  { "--max-queued-per-user", G_STRUCT_OFFSET (OsLimits, max_queued_per_user), 1, G_MAXUINT,
    "Notifications toward one Unix user's connections not yet taken (default: 131072, or 16384 "
    "with --system)" },
  { "--max-notify-calls-per-connection",
    G_STRUCT_OFFSET (OsLimits, max_notify_calls_per_connection), 1, G_MAXUINT,
    "Notify calls in flight to one connection (default: 256, or 16 with --system)" },
  { "--max-notify-calls-per-user", G_STRUCT_OFFSET (OsLimits, max_notify_calls_per_user), 1,
    G_MAXUINT,
    "Notify calls in flight to one Unix user's connections (default: 1024, or 32 with "
    "--system)" },
  { "--max-notify-calls", G_STRUCT_OFFSET (OsLimits, max_notify_calls), 1, G_MAXUINT,
    "Notify calls in flight in all (default: 1024, or 96 with --system)" },
  { "--cut-off-grace", G_STRUCT_OFFSET (OsLimits, cut_off_grace_ms), 1, OS_NOTIFY_TIMEOUT_MAX,
    "How long a connection cut off for not taking its notifications keeps its advises, 1 to "
    "600000 (default: 10000)" },
};

static gboolean
parse_limit (const char *option, const char *value, gpointer data, GError **error)
{
  OsDaemonOptions *options = data;

  for (gsize i = 0; i < G_N_ELEMENTS (limit_options); i++)
    {
      const LimitOption *limit = &limit_options[i];

      if (!g_str_equal (option, limit->name))
        continue;
      options->limits_set |= 1u << i;
      return parse_uint (option, value, limit->min, limit->max,
                         G_STRUCT_MEMBER_P (&options->limits, limit->offset), error);
    }
  g_assert_not_reached ();
}

/* The defaults that depend on the bus: the system bus lets a connection have 128 calls
 * awaiting replies. */
static void
apply_bus_defaults (OsDaemonOptions *options)
{
  const guint system[][2] = {
    { G_STRUCT_OFFSET (OsLimits, max_notify_calls_per_connection),
      OS_NOTIFY_CALLS_PER_CONNECTION_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_notify_calls_per_user), OS_NOTIFY_CALLS_PER_USER_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_notify_calls), OS_NOTIFY_CALLS_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_advises_per_user), OS_ADVISES_PER_USER_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_path_bytes_per_user), OS_PATH_BYTES_PER_USER_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_queued_per_user), OS_QUEUED_PER_USER_SYSTEM },
    { G_STRUCT_OFFSET (OsLimits, max_calls_per_user), OS_CALLS_PER_USER_SYSTEM },
  };

  if (!options->system)
    return;
  for (gsize k = 0; k < G_N_ELEMENTS (system); k++)
    for (gsize i = 0; i < G_N_ELEMENTS (limit_options); i++)
      if (limit_options[i].offset == system[k][0] && !(options->limits_set & (1u << i)))
        G_STRUCT_MEMBER (guint, &options->limits, system[k][0]) = system[k][1];
}

static gboolean
parse_reconnect_delay (const char *option, const char *value, gpointer data, GError **error)
{
  OsDaemonOptions *options = data;

  return parse_uint (option, value, 0, OS_RECONNECT_DELAY_MAX, &options->reconnect_delay_ms, error);
}

static gboolean
parse_options (OsDaemonOptions *options, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "session", 0, 0, G_OPTION_ARG_NONE, &options->session, "Serve the session bus (the default)",
      NULL },
    { "system", 0, 0, G_OPTION_ARG_NONE, &options->system, "Serve the system bus", NULL },
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &options->replace,
      "Take the bus name over from a running instance", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &options->verbose,
      "Log the daemon's debug messages (GLib's own: G_MESSAGES_DEBUG=all)", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &options->version, "Print the version and exit", NULL },
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->state_dir,
      "Where the persisted state lives (default: $XDG_STATE_HOME/offline-state, or "
      "/var/lib/offline-state with --system)",
      "DIR" },
    { "runtime-dir", 0, 0, G_OPTION_ARG_FILENAME, &options->runtime_dir,
      "Where the advises are kept across restarts (default: $XDG_RUNTIME_DIR/offline-state, "
      "~/.cache/offline-state when XDG_RUNTIME_DIR is unset, or /run/offline-state with "
      "--system)",
      "DIR" },
    { "ephemeral", 0, 0, G_OPTION_ARG_NONE, &options->ephemeral, "Keep nothing on disk", NULL },
    { "no-emulation", 0, 0, G_OPTION_ARG_NONE, &options->no_emulation,
      "Do not export the Emulation interface", NULL },
    { "follow-network", 0, 0, G_OPTION_ARG_NONE, &options->follow_network,
      "Take the profiles offline while the network is away", NULL },
    { "reconnect-delay", 0, 0, G_OPTION_ARG_CALLBACK, parse_reconnect_delay,
      "How long the network must be back before --follow-network brings the profiles online, "
      "0 to 600000 (default: 5000)",
      "MS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  GOptionGroup *group = g_option_group_new ("offline-stated", NULL, NULL, options, NULL);
  GOptionEntry limits[G_N_ELEMENTS (limit_options) + 1] = { { NULL } };

  for (gsize i = 0; i < G_N_ELEMENTS (limit_options); i++)
    limits[i] = (GOptionEntry){ limit_options[i].name + 2,
                                0,
                                0,
                                G_OPTION_ARG_CALLBACK,
                                (gpointer) parse_limit,
                                limit_options[i].help,
                                g_str_has_suffix (limit_options[i].name, "timeout") ||
                                        g_str_has_suffix (limit_options[i].name, "grace")
                                    ? "MS"
                                    : "N" };

  g_option_context_set_summary (context, "The offline-state service: MAPI's offline-state manager "
                                         "on D-Bus.");
  g_option_group_add_entries (group, entries);
  g_option_group_add_entries (group, limits);
  g_option_context_set_main_group (context, group);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'",
                   (*argv)[1]);
      return FALSE;
    }
  if (options->session && options->system)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--session and --system exclude each other");
      return FALSE;
    }
  if (options->ephemeral && (options->state_dir != NULL || options->runtime_dir != NULL))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                           "--ephemeral keeps nothing on disk: it takes no --state-dir or "
                           "--runtime-dir");
      return FALSE;
    }
  apply_bus_defaults (options);
  return TRUE;
}

/* g_get_user_state_dir() or g_get_user_runtime_dir(), called only where it is needed. */
typedef const char *(*UserDirFunc) (void);

/* @given, or the default: @system_path with --system, or "offline-state" in @user_dir (). */
static char *
folder (const OsDaemonOptions *options,
        const char *given,
        const char *system_path,
        UserDirFunc user_dir)
{
  if (given != NULL)
    return g_strdup (given);
  if (options->system)
    return g_strdup (system_path);
  return g_build_filename (user_dir (), "offline-state", NULL);
}

/* Where the state and the advises are kept; nowhere with --ephemeral. */
static void
choose_folders (OsDaemon *daemon)
{
  const OsDaemonOptions *options = &daemon->options;

  if (options->ephemeral)
    return;
  daemon->state_dir =
      folder (options, options->state_dir, "/var/lib/offline-state", g_get_user_state_dir);
  daemon->runtime_dir =
      folder (options, options->runtime_dir, "/run/offline-state", g_get_user_runtime_dir);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  OsDaemon *daemon = user_data;

  g_message ("Stopping");
  os_daemon_drain (daemon, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

/* The daemon reads its options once, and its state only at start: a hang-up changes nothing. */
static gboolean
on_hangup (gpointer user_data)
{
  g_message ("SIGHUP: nothing to reload; going on");
  return G_SOURCE_CONTINUE;
}

static int
run (OsDaemon *daemon, int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  /* Standard output is for --version and --help; every log line goes to standard error. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (!parse_options (&daemon->options, &argc, &argv, &error))
    {
      g_printerr ("offline-stated: %s (see --help)\n", error->message);
      return EXIT_USAGE;
    }
  if (daemon->options.version)
    {
      g_print ("offline-stated %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  /* The daemon's own debug output, not GLib's: that is G_MESSAGES_DEBUG=all, as anywhere. */
  if (daemon->options.verbose && g_getenv ("G_MESSAGES_DEBUG") == NULL)
    g_setenv ("G_MESSAGES_DEBUG", G_LOG_DOMAIN, TRUE);

  daemon->loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_quit_signal, daemon);
  g_unix_signal_add (SIGINT, on_quit_signal, daemon);
  g_unix_signal_add (SIGHUP, on_hangup, daemon);
  choose_folders (daemon);
  if (os_daemon_start (daemon, &error))
    g_main_loop_run (daemon->loop);
  else
    {
      g_printerr ("offline-stated: %s\n", error->message);
      daemon->status = EXIT_FAILURE;
    }
  os_daemon_shut_down (daemon);
  return daemon->status;
}

int
os_daemon_main (int argc, char **argv)
{
  OsDaemon daemon = {
    .options.limits = OS_LIMITS_DEFAULT,
    .options.reconnect_delay_ms = OS_RECONNECT_DELAY_DEFAULT,
    .status = EXIT_SUCCESS,
    .state_lock = -1,
    .runtime_lock = -1,
  };
  int status = run (&daemon, argc, argv);

  options_clear (&daemon.options);
  return status;
}
