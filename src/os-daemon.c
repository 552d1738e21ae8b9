/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "offline-state.h"
#include "os-bus-hold.h"
#include "os-bus-manager.h"
#include "os-daemon.h"
#include "os-files.h"
#include "os-manager.h"
#include "os-network.h"
#include "os-validate.h"

#define EXIT_USAGE 2

typedef struct
{
  gboolean session;
  gboolean system;
  gboolean replace;
  gboolean verbose;
  gboolean version;
  char *state_dir;
  char *runtime_dir;
  gboolean ephemeral;
  gboolean no_emulation;
  gboolean follow_network;
  guint reconnect_delay_ms;
  OsLimits limits;
  guint limits_set; /* bit i: limit_options[i] was given */
} Options;

/* What parsing the command line allocated. */
static void
options_clear (Options *options)
{
  g_clear_pointer (&options->state_dir, g_free);
  g_clear_pointer (&options->runtime_dir, g_free);
}

typedef struct
{
  Options options;
  OsManager *manager;
  GDBusConnection *connection;
  OsBusManager *bus_manager;
  OsNetworkFollower *network_follower;
  GMainLoop *loop;
  guint owner_id;
  gboolean name_acquired;
  gboolean restored;
  char *bus_id;
  gboolean bus_closed; /* the bus connection closed under the daemon */
  int status;
  char *state_dir;   /* NULL: --ephemeral */
  char *runtime_dir; /* NULL: --ephemeral */
  int state_lock;    /* the locks held on those folders, or -1 */
  int runtime_lock;
  guint lock_wait_id; /* the bound of the wait for the folders, with --replace */
  gboolean serving;   /* the state is loaded and the objects are on the bus */
  gboolean stopping;  /* the main loop was told to quit */
  gboolean draining;  /* taking no new call, waiting for the transitions in progress */
  int drain_status;
  guint drain_id;
  OsBusHold *hold; /* with --replace, the calls that come before the state is loaded */
} Daemon;

/* How long the daemon waits for the transitions in progress when it is told to stop or has
 * lost its name, beyond their own bounds, for the last write. */
#define DRAIN_SLACK_MS 5000

/* Deciding whether a bus whose connection closed is gone (bus_is_gone()). */
#define PROBE_ATTEMPTS    5
#define PROBE_INTERVAL_MS 100
#define PROBE_TIMEOUT_MS  1000

/* Saving what is in memory only, at exit (save_what_is_unsaved()). */
#define SAVE_ATTEMPTS_AT_EXIT    3
#define SAVE_INTERVAL_AT_EXIT_MS 500

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
  Options *options = data;

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
apply_bus_defaults (Options *options)
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
  Options *options = data;

  return parse_uint (option, value, 0, OS_RECONNECT_DELAY_MAX, &options->reconnect_delay_ms, error);
}

static gboolean
parse_options (Options *options, int *argc, char ***argv, GError **error)
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
folder (const Options *options, const char *given, const char *system_path, UserDirFunc user_dir)
{
  if (given != NULL)
    return g_strdup (given);
  if (options->system)
    return g_strdup (system_path);
  return g_build_filename (user_dir (), "offline-state", NULL);
}

/* Where the state and the advises are kept; nowhere with --ephemeral. */
static void
choose_folders (Daemon *daemon)
{
  const Options *options = &daemon->options;

  if (options->ephemeral)
    return;
  daemon->state_dir =
      folder (options, options->state_dir, "/var/lib/offline-state", g_get_user_state_dir);
  daemon->runtime_dir =
      folder (options, options->runtime_dir, "/run/offline-state", g_get_user_runtime_dir);
}

static void
stop (Daemon *daemon, int status)
{
  daemon->status = status;
  daemon->stopping = TRUE;
  g_clear_handle_id (&daemon->drain_id, g_source_remove);
  g_clear_handle_id (&daemon->lock_wait_id, g_source_remove);
  if (daemon->manager != NULL)
    os_manager_when_idle (daemon->manager, NULL, NULL);
  g_main_loop_quit (daemon->loop);
}

/* Says @error and stops with EXIT_FAILURE. */
static void
fail (Daemon *daemon, const GError *error)
{
  g_printerr ("offline-stated: %s\n", error->message);
  stop (daemon, EXIT_FAILURE);
}

static void
drained (gpointer user_data)
{
  Daemon *daemon = user_data;

  stop (daemon, daemon->drain_status);
}

static void
on_drain_timeout (gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->drain_id = 0;
  g_warning ("Stopping without waiting any longer for the transition in progress");
  stop (daemon, daemon->drain_status);
}

/* The longest the transitions in progress can take: three phases of --notify-timeout each, the
 * emulated delay, and their write. */
static guint
drain_bound_ms (Daemon *daemon)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (daemon->manager);
  guint delay = 0;

  for (guint i = 0; names[i] != NULL; i++)
    {
      OsProfile *profile = os_manager_lookup (daemon->manager, names[i]);

      if (os_profile_get_transitioning (profile))
        delay = MAX (delay, os_profile_get_transition_delay (profile));
    }
  return 3 * daemon->options.limits.notify_timeout_ms + delay + DRAIN_SLACK_MS;
}

/* Stops taking calls, lets the transitions in progress end (their BLOCK callers answered,
 * their subscribers told DONE) and the last write complete, then stops with @status. Asked
 * again, it stops at once. */
static void
drain (Daemon *daemon, int status)
{
  guint bound;

  if (daemon->draining)
    {
      g_message ("Stopping at once");
      stop (daemon, daemon->drain_status);
      return;
    }
  daemon->draining = TRUE;
  daemon->drain_status = status;
  if (daemon->bus_manager != NULL)
    os_bus_manager_stop_serving (daemon->bus_manager);
  if (daemon->manager == NULL || os_manager_is_idle (daemon->manager))
    {
      stop (daemon, status);
      return;
    }
  bound = drain_bound_ms (daemon);
  g_message ("Waiting for the transition in progress to end, at most %u ms", bound);
  daemon->drain_id = g_timeout_add_once (bound, on_drain_timeout, daemon);
  os_manager_when_idle (daemon->manager, drained, daemon);
}

static gboolean
on_quit_signal (gpointer user_data)
{
  Daemon *daemon = user_data;

  g_message ("Stopping");
  drain (daemon, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

/* The daemon reads its options once, and its state only at start: a hang-up changes nothing. */
static gboolean
on_hangup (gpointer user_data)
{
  g_message ("SIGHUP: nothing to reload; going on");
  return G_SOURCE_CONTINUE;
}

static void take_folders (Daemon *daemon);

/* The daemon serves the bus, with its name: only the instance that serves the bus writes the
 * advise journal, from now on; and one line, without --verbose too, says that clients can
 * call. */
static void
announce (Daemon *daemon)
{
  if (daemon->restored)
    os_manager_keep_advises (daemon->manager);
  g_message ("Serving %s on the %s bus; state in %s, advises in %s", OFFLINE_STATE_BUS_NAME,
             daemon->options.system ? "system" : "session",
             daemon->state_dir ? daemon->state_dir : "memory (--ephemeral)",
             daemon->runtime_dir ? daemon->runtime_dir : "memory (--ephemeral)");
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->name_acquired = TRUE;
  g_debug ("Owns %s", name);
  /* With --replace, the name comes first, then the folders, once the old instance lets go. */
  if (!daemon->serving)
    {
      take_folders (daemon);
      return;
    }
  announce (daemon);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  Daemon *daemon = user_data;

  /* A closed connection (NULL here) loses the name too; on_connection_closed said why. */
  if (connection == NULL)
    {
      stop (daemon, EXIT_FAILURE);
      return;
    }
  if (!daemon->name_acquired)
    {
      g_printerr ("offline-stated: could not own %s: another instance runs (use --replace to "
                  "take over)\n",
                  name);
      stop (daemon, EXIT_FAILURE);
      return;
    }
  /* Replaced: what was under way ends and is written, and the folders are let go for the new
   * instance, which waits for them. */
  g_printerr ("offline-stated: lost the name %s to another instance\n", name);
  drain (daemon, EXIT_FAILURE);
}

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean remote_peer_vanished,
                      GError *error,
                      gpointer user_data)
{
  Daemon *daemon = user_data;

  g_printerr ("offline-stated: the bus connection closed%s%s\n", error ? ": " : "",
              error ? error->message : "");
  daemon->bus_closed = TRUE;
  stop (daemon, EXIT_FAILURE);
}

static void
own_name (Daemon *daemon)
{
  GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;

  if (daemon->options.replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  daemon->owner_id =
      g_bus_own_name_on_connection (daemon->connection, OFFLINE_STATE_BUS_NAME, flags,
                                    on_name_acquired, on_name_lost, daemon, NULL);
}

static void serve (Daemon *daemon);

/* The state is loaded and the advises restored: the objects go on the bus, then the name is
 * owned, unless it was first (--replace). */
static void
serve (Daemon *daemon)
{
  g_autoptr (GError) error = NULL;

  /* Objects first, then the name: a client that enumerates at once sees them all. */
  if (!os_bus_manager_export (daemon->bus_manager, &error))
    {
      fail (daemon, error);
      return;
    }
  daemon->serving = TRUE;
  if (daemon->hold != NULL)
    os_bus_hold_release (g_steal_pointer (&daemon->hold), daemon->bus_manager);
  if (!daemon->name_acquired)
    {
      own_name (daemon);
      return;
    }
  announce (daemon);
}

/* Calls @method of the bus itself, for restoring the advises. */
static void
ask_bus (Daemon *daemon, const char *method, const char *reply_type, GAsyncReadyCallback callback)
{
  g_dbus_connection_call (daemon->connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", method, NULL, G_VARIANT_TYPE (reply_type),
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, callback, daemon);
}

/* The bus's reply to ask_bus(), or NULL: the daemon is stopping, or the bus did not answer
 * and the daemon serves without the advises (the warning says what it could not do, @step). */
static GVariant *
ask_bus_finish (Daemon *daemon, GObject *source, GAsyncResult *result, const char *step)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (daemon->stopping)
    return NULL;
  if (reply == NULL)
    {
      g_warning ("No advises restored: cannot %s: %s", step, error->message);
      serve (daemon);
    }
  return g_steal_pointer (&reply);
}

/* The clients on the bus now; the NameOwnerChanged subscription already in place tells of
 * those that leave after this answer, so none is restored after it has gone. */
static void
on_names_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GVariant) reply = ask_bus_finish (daemon, source, result, "list the names on the bus");
  g_autofree const char **names = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(^a&s)", &names);
  os_manager_restore_advises (daemon->manager, daemon->runtime_dir, daemon->bus_id, names);
  os_bus_manager_identify_clients (daemon->bus_manager);
  daemon->restored = TRUE;
  serve (daemon);
}

static void
on_bus_id (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GVariant) reply = ask_bus_finish (daemon, source, result, "read the bus's ID");

  if (reply == NULL)
    return;
  g_variant_get (reply, "(s)", &daemon->bus_id);
  ask_bus (daemon, "ListNames", "(as)", on_names_listed);
}

/* Loads the state (the folders are this instance's now), puts the objects on the bus,
 * restores the advises. */
static void
load (Daemon *daemon)
{
  Options *options = &daemon->options;

  daemon->manager = os_manager_new (&options->limits, daemon->state_dir);
  os_manager_load (daemon->manager);
  daemon->bus_manager = os_bus_manager_new (daemon->manager, daemon->connection,
                                            !options->no_emulation, options->system);
  if (options->follow_network)
    daemon->network_follower = os_network_follower_new (
        daemon->manager, g_network_monitor_get_default (), options->reconnect_delay_ms);
  if (options->ephemeral)
    serve (daemon);
  else
    ask_bus (daemon, "GetId", "(s)", on_bus_id);
}

/* Folders */

/* How long a new instance waits for the old one: as long as the old one may take to end a
 * transition (drain_bound_ms()), with a long emulated delay. */
static guint
lock_wait_bound_ms (Daemon *daemon)
{
  return 3 * daemon->options.limits.notify_timeout_ms + OS_TRANSITION_DELAY_MAX / 10 +
         DRAIN_SLACK_MS;
}

static void
on_lock_wait_over (gpointer user_data)
{
  Daemon *daemon = user_data;

  daemon->lock_wait_id = 0;
  g_printerr ("offline-stated: the instance that served the bus did not let %s and %s go in "
              "time\n",
              daemon->state_dir, daemon->runtime_dir);
  stop (daemon, EXIT_FAILURE);
}

static void take_next_folder (Daemon *daemon);

/* @fd holds the next folder's lock, or is -1 and @error says why not. */
static void
took_folder (Daemon *daemon, int fd, const GError *error)
{
  if (fd < 0)
    {
      fail (daemon, error);
      return;
    }
  if (daemon->state_lock < 0)
    daemon->state_lock = fd;
  else
    daemon->runtime_lock = fd;
  take_next_folder (daemon);
}

static void
on_folder_locked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Daemon *daemon = user_data;
  g_autoptr (GError) error = NULL;
  int fd = os_lock_folder_finish (result, &error);

  if (daemon->stopping)
    {
      if (fd >= 0)
        close (fd);
      return;
    }
  took_folder (daemon, fd, error);
}

/* With --replace: each folder in turn, waiting for the old instance where it holds one: it
 * lets go once its transitions have ended and its last write is done. */
static void
take_next_folder (Daemon *daemon)
{
  const char *directory = daemon->state_lock < 0 ? daemon->state_dir : daemon->runtime_dir;
  g_autoptr (GError) error = NULL;
  int fd;

  if (daemon->runtime_lock >= 0)
    {
      if (daemon->lock_wait_id != 0)
        g_message ("The instance that served the bus has let its folders go");
      g_clear_handle_id (&daemon->lock_wait_id, g_source_remove);
      load (daemon);
      return;
    }
  fd = os_lock_folder (directory, &error);
  if (fd >= 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    {
      took_folder (daemon, fd, error);
      return;
    }
  if (daemon->lock_wait_id == 0)
    {
      guint bound = lock_wait_bound_ms (daemon);

      g_message ("Waiting for the instance that served the bus to let its folders go (%s), at "
                 "most %u ms",
                 error->message, bound);
      daemon->lock_wait_id = g_timeout_add_once (bound, on_lock_wait_over, daemon);
    }
  os_lock_folder_async (directory, on_folder_locked, daemon);
}

static void
take_folders (Daemon *daemon)
{
  if (daemon->options.ephemeral)
    load (daemon);
  else
    take_next_folder (daemon);
}

/* Without --replace: both folders at once, or nothing is touched: the state folder's lock, when the
 * runtime folder is in use, goes again if it was made for this attempt. */
static gboolean
take_folders_now (Daemon *daemon, GError **error)
{
  g_autofree char *lock = g_build_filename (daemon->state_dir, OS_LOCK_FILE, NULL);
  gboolean folder_existed = g_file_test (daemon->state_dir, G_FILE_TEST_EXISTS);
  gboolean lock_existed = g_file_test (lock, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);

  daemon->state_lock = os_lock_folder (daemon->state_dir, error);
  if (daemon->state_lock < 0)
    return FALSE;
  daemon->runtime_lock = os_lock_folder (daemon->runtime_dir, error);
  if (daemon->runtime_lock >= 0)
    return TRUE;
  if (!lock_existed)
    g_unlink (lock);
  if (!folder_existed)
    g_rmdir (daemon->state_dir);
  close (daemon->state_lock);
  daemon->state_lock = -1;
  return FALSE;
}

static gboolean
start (Daemon *daemon, GError **error)
{
  Options *options = &daemon->options;

  /* One instance a folder: the second refuses before it reads or removes anything. */
  if (!options->ephemeral && !options->replace && !take_folders_now (daemon, error))
    return FALSE;

  daemon->connection =
      g_bus_get_sync (options->system ? G_BUS_TYPE_SYSTEM : G_BUS_TYPE_SESSION, NULL, error);
  if (daemon->connection == NULL)
    return FALSE;
  g_dbus_connection_set_exit_on_close (daemon->connection, FALSE);
  g_signal_connect (daemon->connection, "closed", G_CALLBACK (on_connection_closed), daemon);

  if (!options->replace)
    {
      load (daemon);
      return TRUE;
    }
  /* The name first: calls that come before the state is loaded wait for it. */
  daemon->hold = os_bus_hold_new (daemon->connection, options->limits.max_calls_per_user, error);
  if (daemon->hold == NULL)
    return FALSE;
  own_name (daemon);
  return TRUE;
}

/* The address the daemon reached its bus at, as GDBus found it, but never by starting a
 * bus (GDBus's last resort for the session bus, dbus-launch), which the daemon must not do
 * on its way out. NULL if it cannot tell. */
static char *
bus_address (Daemon *daemon)
{
  const char *runtime_dir = g_get_user_runtime_dir ();
  const char *session = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  g_autofree char *socket = NULL;
  g_autofree char *escaped = NULL;

  if (daemon->options.system)
    return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  if (session != NULL)
    return g_strdup (session);
  /* Where GDBus looks next; a socket no longer there proves nothing, since the daemon may
   * have been started on a bus of dbus-launch's. */
  socket = g_build_filename (runtime_dir, "bus", NULL);
  if (!g_file_test (socket, G_FILE_TEST_EXISTS))
    return NULL;
  escaped = g_dbus_address_escape_value (socket);
  return g_strconcat ("unix:path=", escaped, NULL);
}

static void
on_probe_over (gpointer user_data)
{
  g_cancellable_cancel (user_data);
}

static void
on_probed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* One look at the bus: TRUE if it answered as a bus, FALSE with @error if not. A bus that
 * takes the connection but does not answer within PROBE_TIMEOUT_MS is not answering. */
static gboolean
probe_bus (const char *address, GError **error)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GDBusConnection) connection = NULL;
  guint timeout = g_timeout_add_once (PROBE_TIMEOUT_MS, on_probe_over, cancellable);

  g_dbus_connection_new_for_address (address,
                                     G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                         G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                     NULL, cancellable, on_probed, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!g_cancellable_is_cancelled (cancellable))
    g_source_remove (timeout);
  connection = g_dbus_connection_new_for_address_finish (result, error);
  if (connection == NULL)
    return FALSE;
  g_dbus_connection_close_sync (connection, NULL, NULL);
  return TRUE;
}

/* Whether the bus is gone, not only this daemon's connection to it: nothing listens at its
 * address any more. A bus that is dying may still take a connection and then drop it, so
 * one look does not decide: the bus is gone when a connection is refused (or its socket is
 * not there), it lives when it answers as a bus, and anything else is looked at again, a few
 * times. Undecided, the advises' journal is kept, in case the bus lives on. */
static gboolean
bus_is_gone (Daemon *daemon)
{
  g_autofree char *address = bus_address (daemon);

  if (address == NULL)
    return FALSE;
  for (guint attempt = 0; attempt < PROBE_ATTEMPTS; attempt++)
    {
      g_autoptr (GError) error = NULL;

      if (attempt > 0)
        g_usleep (PROBE_INTERVAL_MS * G_TIME_SPAN_MILLISECOND);
      if (probe_bus (address, &error))
        {
          g_debug ("The bus at %s lives on", address);
          return FALSE;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_debug ("The bus at %s is gone: %s", address, error->message);
          return TRUE;
        }
      g_debug ("The bus at %s cannot be reached: %s", address, error->message);
    }
  return FALSE;
}

/* A clean exit leaves nothing half-done on disk: wait for the last write. */
static void
finish_writes (Daemon *daemon)
{
  while (daemon->manager != NULL && os_manager_is_saving (daemon->manager))
    g_main_context_iteration (NULL, TRUE);
}

static void
on_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  os_manager_save_finish (OS_MANAGER (source), result, NULL);
  *done = TRUE;
}

static void
on_flag (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static void
iterate_until (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

/* What is in memory only (a transition without BLOCK whose commit was not written) is tried
 * a few more times; what still is not on disk is named, and the exit status says it. */
static void
save_what_is_unsaved (Daemon *daemon)
{
  const char *const *unsaved;
  g_autofree char *lost = NULL;

  for (guint attempt = 0; attempt < SAVE_ATTEMPTS_AT_EXIT; attempt++)
    {
      gboolean done = FALSE;

      if (daemon->manager == NULL || os_manager_get_unsaved (daemon->manager) == NULL)
        return;
      if (attempt > 0)
        {
          g_timeout_add_once (SAVE_INTERVAL_AT_EXIT_MS, on_flag, &done);
          iterate_until (&done);
          done = FALSE;
        }
      os_manager_save_async (daemon->manager, on_saved, &done);
      iterate_until (&done);
    }
  unsaved = os_manager_get_unsaved (daemon->manager);
  if (unsaved == NULL)
    return;
  lost = g_strjoinv ("; ", (char **) unsaved);
  g_printerr ("offline-stated: could not save the state in %s; lost: %s\n", daemon->state_dir,
              lost);
  daemon->status = EXIT_FAILURE;
}

/* The journal is for the next instance to restore the advises from. One that holds none
 * (every client unadvised or left) would only stay in the runtime folder until the machine
 * stops; the next instance then starts its tokens afresh, which is safe: a token is unique
 * within one run (the D-Bus reference, OfflineMgr.Advise), and no live advise holds an old one.
 * Advises live as long as their bus, too: the journal of a bus that has gone goes with it. A
 * crash keeps the journal, whatever it holds. */
static gboolean
journal_is_of_no_use (Daemon *daemon)
{
  if (os_manager_get_n_advises (daemon->manager) == 0)
    {
      g_debug ("No advise to keep for a next instance");
      return TRUE;
    }
  if (daemon->bus_closed && bus_is_gone (daemon))
    {
      g_debug ("The advises' bus is gone");
      return TRUE;
    }
  return FALSE;
}

static void
shut_down (Daemon *daemon)
{
  if (daemon->owner_id != 0)
    g_bus_unown_name (daemon->owner_id);
  if (daemon->bus_manager != NULL)
    os_bus_manager_unexport (daemon->bus_manager);
  g_clear_object (&daemon->network_follower);
  g_clear_pointer (&daemon->hold, os_bus_hold_free);
  finish_writes (daemon);
  save_what_is_unsaved (daemon);
  if (daemon->manager != NULL && journal_is_of_no_use (daemon))
    os_manager_forget_advises (daemon->manager);
  g_clear_object (&daemon->bus_manager);
  if (daemon->connection != NULL)
    {
      g_signal_handlers_disconnect_by_data (daemon->connection, daemon);
      g_dbus_connection_flush_sync (daemon->connection, NULL, NULL);
    }
  g_clear_object (&daemon->connection);
  g_clear_object (&daemon->manager);
  /* The last write is done: the folders are free for the next instance. */
  if (daemon->state_lock >= 0)
    close (daemon->state_lock);
  if (daemon->runtime_lock >= 0)
    close (daemon->runtime_lock);
  g_clear_pointer (&daemon->loop, g_main_loop_unref);
  g_free (daemon->state_dir);
  g_free (daemon->runtime_dir);
  g_free (daemon->bus_id);
}

static int
run (Daemon *daemon, int argc, char **argv)
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
  if (start (daemon, &error))
    g_main_loop_run (daemon->loop);
  else
    {
      g_printerr ("offline-stated: %s\n", error->message);
      daemon->status = EXIT_FAILURE;
    }
  shut_down (daemon);
  return daemon->status;
}

int
os_daemon_main (int argc, char **argv)
{
  Daemon daemon = {
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
