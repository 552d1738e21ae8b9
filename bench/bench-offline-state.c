/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The benchmark of offline-stated (issue 5): starts a private bus with raised limits
 * (bench-bus.conf), the daemon with --ephemeral, subscriber processes and a baseline
 * sender, measures, prints a table and writes the same figures as JSON.
 */
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-driver.h"
#include "offline-state.h"

#define CALL_TIMEOUT_MS  120000
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  10000
#define SMAPS_LINES      8 /* mappings printed without --memory-detail */

GVariant *
bench_call (Bench *bench,
            const char *destination,
            const char *path,
            const char *interface,
            const char *method,
            GVariant *parameters,
            const GVariantType *reply_type,
            GError **error)
{
  GVariant *reply = g_dbus_connection_call_sync (
      bench->connection, destination, path, interface, method, parameters, reply_type,
      G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, error);

  if (reply == NULL)
    g_prefix_error (error, "%s.%s: ", interface, method);
  return reply;
}

static void
on_name_owner_changed (GDBusConnection *connection,
                       const char *sender,
                       const char *path,
                       const char *interface,
                       const char *signal,
                       GVariant *parameters,
                       gpointer user_data)
{
  Bench *bench = user_data;
  const char *name, *new_owner;

  g_variant_get (parameters, "(&s&s&s)", &name, NULL, &new_owner);
  if (bench->awaited_name != NULL && g_str_equal (name, bench->awaited_name) &&
      new_owner[0] != '\0')
    bench->owned_ns = bench_now_ns ();
}

static void
on_start_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static gboolean
wait_owned (Bench *bench, GSubprocess *process, GError **error)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_once (START_TIMEOUT_MS, on_start_timeout, &timed_out);

  while (bench->owned_ns == 0 && !timed_out && g_subprocess_get_identifier (process) != NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  if (bench->owned_ns != 0)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "%s did not own %s in %u ms (its log: %s/daemon.log)",
               g_subprocess_get_identifier (process) ? "the process" : "the process exited and",
               bench->awaited_name, START_TIMEOUT_MS, bench->scratch_dir);
  return FALSE;
}

/* What start-up waits for: the name owned, then the answer to a first call. */
typedef struct
{
  const char *name;
  const char *path;
  const char *interface;
  const char *method;
  const GVariantType *reply_type;
} Service;

/* Start-up is timed from just before the fork to the NameOwnerChanged that the bus sends
 * this connection, then to the reply of the first call made on that news. */
static GSubprocess *
start_service (Bench *bench,
               const char *const *argv,
               const Service *service,
               double *to_owned_ms,
               double *to_answer_ms,
               GError **error)
{
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 start;

  bench->owned_ns = 0;
  bench->awaited_name = service->name;
  start = bench_now_ns ();
  process = g_subprocess_launcher_spawnv (bench->daemon_launcher, argv, error);
  if (process == NULL)
    return NULL;
  if (wait_owned (bench, process, error))
    reply = bench_call (bench, service->name, service->path, service->interface, service->method,
                        NULL, service->reply_type, error);
  if (reply == NULL)
    {
      bench_process_stop (process, SIGTERM, STOP_TIMEOUT_MS);
      return NULL;
    }
  *to_owned_ms = (double) (bench->owned_ns - start) / 1e6;
  *to_answer_ms = (double) (bench_now_ns () - start) / 1e6;
  return g_steal_pointer (&process);
}

gboolean
bench_start_daemon (Bench *bench, double *to_owned_ms, double *to_answer_ms, GError **error)
{
  const char *argv[] = { bench->options.daemon_path, "--ephemeral",
                         "--max-advises=10000000",   "--max-advises-per-connection=10000000",
                         "--notify-timeout=60000",   NULL };
  const Service service = { OFFLINE_STATE_BUS_NAME, bench->profile_path[BENCH_PROFILE_SIGNAL],
                            OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                            G_VARIANT_TYPE ("(u)") };

  bench->daemon = start_service (bench, argv, &service, to_owned_ms, to_answer_ms, error);
  if (bench->daemon == NULL)
    return FALSE;
  for (guint i = 0; i < BENCH_N_PROFILES; i++)
    bench->state[i] = MAPIOFFLINE_STATE_ONLINE;
  return TRUE;
}

void
bench_stop_daemon (Bench *bench)
{
  if (bench->daemon == NULL)
    return;
  bench_process_stop (bench->daemon, SIGTERM, STOP_TIMEOUT_MS);
  g_clear_object (&bench->daemon);
}

gboolean
bench_start_floor (Bench *bench, double *to_owned_ms, double *to_answer_ms, GError **error)
{
  const char *argv[] = { bench->options.baseline_path, "--floor", NULL };
  const Service service = { BENCH_FLOOR_NAME, BENCH_BASELINE_PATH, BENCH_BASELINE_INTERFACE, "Nop",
                            NULL };

  bench->floor = start_service (bench, argv, &service, to_owned_ms, to_answer_ms, error);
  return bench->floor != NULL;
}

void
bench_stop_floor (Bench *bench)
{
  if (bench->floor == NULL)
    return;
  bench_process_stop (bench->floor, SIGTERM, STOP_TIMEOUT_MS);
  g_clear_object (&bench->floor);
}

static void
watch_name (Bench *bench, const char *name)
{
  g_dbus_connection_signal_subscribe (
      bench->connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
      "/org/freedesktop/DBus", name, G_DBUS_SIGNAL_FLAGS_NONE, on_name_owner_changed, bench, NULL);
}

static gboolean
start_bus (Bench *bench, GError **error)
{
  g_autofree char *config = g_strdup_printf ("--config-file=%s", bench->options.bus_config);
  const char *argv[] = { "dbus-daemon", config, "--nofork", "--print-address=1", NULL };
  g_autofree char *address = NULL;

  bench->bus = bench_child_spawn (bench->launcher, "dbus-daemon", argv, error);
  if (bench->bus == NULL)
    return FALSE;
  address = bench_child_read (bench->bus, START_TIMEOUT_MS, error);
  if (address == NULL)
    return FALSE;
  g_subprocess_launcher_setenv (bench->launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  g_subprocess_launcher_setenv (bench->daemon_launcher, "DBUS_SESSION_BUS_ADDRESS", address, TRUE);
  bench->connection =
      g_dbus_connection_new_for_address_sync (address,
                                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                  G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                              NULL, NULL, error);
  if (bench->connection == NULL)
    return FALSE;
  watch_name (bench, OFFLINE_STATE_BUS_NAME);
  watch_name (bench, BENCH_FLOOR_NAME);
  return TRUE;
}

static gboolean
start_helpers (Bench *bench, GError **error)
{
  const char *subscribers[] = { bench->options.subscribers_path,
                                bench->profile_path[BENCH_PROFILE_SIGNAL],
                                bench->profile_path[BENCH_PROFILE_CALLBACK], NULL };
  const char *baseline[] = { bench->options.baseline_path, NULL };

  bench->workers = g_ptr_array_new_with_free_func ((GDestroyNotify) bench_child_free);
  for (guint i = 0; i < bench->options.workers; i++)
    {
      g_autofree char *name = g_strdup_printf ("subscribers %u", i);
      BenchChild *child = bench_child_spawn (bench->launcher, name, subscribers, error);

      if (child == NULL)
        return FALSE;
      g_ptr_array_add (bench->workers, child);
    }
  bench->baseline = bench_child_spawn (bench->launcher, "baseline", baseline, error);
  if (bench->baseline == NULL)
    return FALSE;
  bench->baseline_name = bench_child_read (bench->baseline, START_TIMEOUT_MS, error);
  return bench->baseline_name != NULL;
}

static gboolean
create_profile (Bench *bench, BenchProfile profile, const char *name, GError **error)
{
  g_autoptr (GVariant) reply = bench_call (
      bench, OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH, OFFLINE_STATE_MANAGER_INTERFACE,
      "CreateOfflineObject",
      g_variant_new ("(suu)", name, MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE,
                     MAPIOFFLINE_STATE_ONLINE),
      G_VARIANT_TYPE ("(o)"), error);

  return reply != NULL;
}

static char *
profile_path (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (OFFLINE_STATE_PROFILES_PATH "/", escaped, NULL);
}

static const char *const profile_names[BENCH_N_PROFILES] = { OFFLINE_STATE_DEFAULT_PROFILE,
                                                             "bench-callbacks", "bench-idle" };

/* The main daemon of the run: round trips, then fan-out and throughput. */
static gboolean
measure_on_one_daemon (Bench *bench, GError **error)
{
  BenchSections sections = bench->options.sections;
  double owned_ms, answer_ms;

  if (!bench_start_daemon (bench, &owned_ms, &answer_ms, error))
    return FALSE;
  if (sections & BENCH_SECTION_ROUND_TRIPS)
    {
      g_printerr ("bench: round trips\n");
      if (!bench_measure_round_trips (bench, error))
        return FALSE;
    }
  if ((sections & BENCH_SECTION_FAN_OUT) &&
      (!create_profile (bench, BENCH_PROFILE_CALLBACK, profile_names[BENCH_PROFILE_CALLBACK],
                        error) ||
       !create_profile (bench, BENCH_PROFILE_IDLE, profile_names[BENCH_PROFILE_IDLE], error) ||
       !bench_measure_fan_out (bench, error)))
    return FALSE;
  bench_stop_daemon (bench);
  return TRUE;
}

static gboolean
run (Bench *bench, GError **error)
{
  BenchSections sections = bench->options.sections;

  for (guint i = 0; i < BENCH_N_PROFILES; i++)
    bench->profile_path[i] = profile_path (profile_names[i]);
  /* The helpers run whatever the sections: the GLib pages that they share with the daemon
   * weigh on its PSS in every run alike. */
  if (!start_bus (bench, error) || !start_helpers (bench, error))
    return FALSE;
  if (sections & BENCH_SECTION_STARTUP)
    {
      g_printerr ("bench: start-up, against the floor\n");
      if (!bench_measure_startup (bench, error))
        return FALSE;
    }
  if ((sections & (BENCH_SECTION_ROUND_TRIPS | BENCH_SECTION_FAN_OUT)) &&
      !measure_on_one_daemon (bench, error))
    return FALSE;
  if (sections & BENCH_SECTION_GIO_MODULE)
    {
      g_printerr ("bench: the GIO module\n");
      if (!bench_measure_gio_module (bench, error))
        return FALSE;
    }
  if (!(sections & BENCH_SECTION_MEMORY))
    return TRUE;
  g_printerr ("bench: memory\n");
  return bench_measure_memory (bench, error);
}

static char *
read_load (void)
{
  g_autofree char *load = NULL;

  if (!g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
    return g_strdup ("unknown");
  return g_strstrip (g_strndup (load, 64));
}

static void
describe_run (Bench *bench, guint64 fd_limit)
{
  g_autofree char *cpus = g_strdup_printf ("%u", g_get_num_processors ());
  g_autofree char *reps = g_strdup_printf ("%u", bench->options.repetitions);
  g_autofree char *workers = g_strdup_printf ("%u", bench->options.workers);
  g_autofree char *connections = g_strdup_printf ("%u", bench->options.connections);
  g_autofree char *fds = g_strdup_printf ("%" G_GUINT64_FORMAT, fd_limit);
  g_autofree char *load = read_load ();

  bench_report_set_info (bench->report, "cpus", cpus);
  bench_report_set_info (bench->report, "repetitions", reps);
  bench_report_set_info (bench->report, "subscriber_processes", workers);
  bench_report_set_info (bench->report, "max_connections", connections);
  bench_report_set_info (bench->report, "open_files_limit", fds);
  bench_report_set_info (bench->report, "loadavg_start", load);
  bench_report_set_info (bench->report, "baseline_order",
                         bench->options.baseline_order != NULL ? bench->options.baseline_order
                                                               : "advise");
  bench_report_set_info (bench->report, "sections",
                         bench->options.only != NULL ? bench->options.only : "all");
}

static void
tear_down (Bench *bench)
{
  bench_stop_daemon (bench);
  bench_stop_floor (bench);
  g_clear_pointer (&bench->baseline, bench_child_free);
  g_clear_pointer (&bench->workers, g_ptr_array_unref);
  g_clear_object (&bench->connection);
  if (bench->bus != NULL)
    {
      g_output_stream_close (g_subprocess_get_stdin_pipe (bench->bus->process), NULL, NULL);
      bench_process_stop (bench->bus->process, SIGTERM, STOP_TIMEOUT_MS);
    }
  g_clear_pointer (&bench->bus, bench_child_free);
}

static const char *const section_names[] = { "startup", "round-trips", "fan-out", "memory",
                                             "gio-module" };

static gboolean
parse_sections (BenchOptions *options, GError **error)
{
  g_auto (GStrv) names = NULL;

  if (options->only == NULL)
    {
      options->sections = BENCH_SECTIONS_ALL;
      return TRUE;
    }
  names = g_strsplit (options->only, ",", -1);
  options->sections = 0;
  for (guint i = 0; names[i] != NULL; i++)
    {
      guint s = 0;

      while (s < G_N_ELEMENTS (section_names) && !g_str_equal (names[i], section_names[s]))
        s++;
      if (s == G_N_ELEMENTS (section_names))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--only: no section '%s' (startup, round-trips, fan-out, memory, "
                       "gio-module)",
                       names[i]);
          return FALSE;
        }
      options->sections |= 1 << s;
    }
  return TRUE;
}

static gboolean
parse_options (BenchOptions *options, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &options->json_path,
      "Where to write the figures as JSON (default: " BENCH_DEFAULT_JSON ")", "FILE" },
    { "repetitions", 'r', 0, G_OPTION_ARG_INT, &options->repetitions,
      "Repetitions of each measurement (default: 7)", "N" },
    { "startup-repetitions", 0, 0, G_OPTION_ARG_INT, &options->startup_repetitions,
      "Daemon starts timed (default: 11)", "N" },
    { "memory-repetitions", 0, 0, G_OPTION_ARG_INT, &options->memory_repetitions,
      "Fresh daemons filled with 50000 advises (default: 3)", "N" },
    { "workers", 'w', 0, G_OPTION_ARG_INT, &options->workers, "Subscriber processes (default: 4)",
      "N" },
    { "connections", 'c', 0, G_OPTION_ARG_INT, &options->connections,
      "Subscriber connections at most; advises beyond share them (default: 1000)", "N" },
    { "largest", 0, 0, G_OPTION_ARG_INT, &options->largest,
      "Largest signal fan-out, a power of 10 (default: 10000)", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &options->only,
      "Run only these sections, comma-separated: startup (start-up and memory at rest, against "
      "the floor), round-trips, fan-out (and throughput), memory (growth per advise), "
      "gio-module (STATECHANGE to the GIO module's network-changed in a client, against the "
      "State's PropertiesChanged)",
      "LIST" },
    { "baseline-order", 0, 0, G_OPTION_ARG_STRING, &options->baseline_order,
      "The order in which the baseline sends its signals: advise (the daemon's own, the order "
      "of the advises; default) or subscriber (each subscriber process's in a run)",
      "ORDER" },
    { "daemon", 0, 0, G_OPTION_ARG_FILENAME, &options->daemon_arg,
      "The offline-stated to measure, for instance an older build, or a script that runs it "
      "under a profiler (default: " OFFLINE_STATED ")",
      "PATH" },
    { "memory-detail", 0, 0, G_OPTION_ARG_NONE, &options->memory_detail,
      "Print every mapping of the memory at rest, not only the largest differences", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);

  g_option_context_set_summary (context, "Measures offline-stated against the bus it runs on.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, error) || !parse_sections (options, error))
    return FALSE;
  if (options->daemon_arg != NULL)
    options->daemon_path = options->daemon_arg;
  if (options->baseline_order != NULL && !g_str_equal (options->baseline_order, "advise") &&
      !g_str_equal (options->baseline_order, "subscriber"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--baseline-order is advise or subscriber, not '%s'", options->baseline_order);
      return FALSE;
    }
  if (options->repetitions < 1 || options->startup_repetitions < 1 || options->workers < 1 ||
      options->connections < 1 || options->largest < 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "counts must be at least 1");
      return FALSE;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Bench bench = {
    .options = { .repetitions = 7,
                 .startup_repetitions = 11,
                 .memory_repetitions = 3,
                 .workers = 4,
                 .connections = 1000,
                 .largest = 10000,
                 .daemon_path = OFFLINE_STATED,
                 .bus_config = BENCH_BUS_CONFIG,
                 .subscribers_path = BENCH_SUBSCRIBERS,
                 .baseline_path = BENCH_BASELINE,
                 .gio_module_probe_path = BENCH_GIO_MODULE_PROBE,
                 .gio_module_dir = BENCH_GIO_MODULE_DIR },
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *load = NULL;
  gboolean ok;

  if (!parse_options (&bench.options, &argc, &argv, &error))
    {
      g_printerr ("bench-offline-state: %s\n", error->message);
      return 2;
    }
  bench.report = bench_report_new ();
  describe_run (&bench, bench_raise_fd_limit ());
  bench.scratch_dir = g_dir_make_tmp ("offline-state-bench-XXXXXX", &error);
  g_assert_no_error (error);
  log_path = g_build_filename (bench.scratch_dir, "daemon.log", NULL);
  bench.launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  bench.daemon_launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stderr_file_path (bench.daemon_launcher, log_path);
  ok = run (&bench, &error);
  tear_down (&bench);
  load = read_load ();
  bench_report_set_info (bench.report, "loadavg_end", load);
  if (ok)
    {
      bench_add_targets (&bench);
      bench_report_print (bench.report, stdout);
      if (bench.daemon_smaps != NULL && bench.floor_smaps != NULL)
        bench_smaps_print_difference (bench.daemon_smaps, bench.floor_smaps,
                                      bench.options.memory_detail ? 0 : SMAPS_LINES, stdout);
      ok = bench_report_write_json (
          bench.report, bench.options.json_path ? bench.options.json_path : BENCH_DEFAULT_JSON,
          &error);
    }
  if (!ok)
    g_printerr ("bench-offline-state: %s\n", error->message);
  else
    g_unlink (log_path);
  g_rmdir (bench.scratch_dir);
  g_object_unref (bench.launcher);
  g_object_unref (bench.daemon_launcher);
  bench_report_free (bench.report);
  g_clear_pointer (&bench.daemon_smaps, bench_smaps_free);
  g_clear_pointer (&bench.floor_smaps, bench_smaps_free);
  g_free (bench.options.only);
  g_free (bench.options.baseline_order);
  g_free (bench.options.daemon_arg);
  g_free (bench.scratch_dir);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
