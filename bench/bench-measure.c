/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The measurements of issue 5, one function per section of the table.
 */
#include <signal.h>
#include <stdio.h>

#include "bench-driver.h"
#include "offline-state.h"

#define BLOCK_CALLS        50 /* calls of one method in a row, between the other methods */
#define BLOCKS             40
#define CALLBACK_LARGEST   1000
#define IDLE_TRANSITIONS   500
#define LOADED_TRANSITIONS 100
#define LOADED_SUBSCRIBERS 100
#define ROUND_TRIP_METHODS 6
#define CPU_FIGURES_FROM   1000 /* below, the CPU times are too short to read well */

static BenchFigure *
figure (Bench *bench, const char *key, const char *label, const char *unit)
{
  return bench_report_figure (bench->report, key, label, unit);
}

static double
ms_since (gint64 start_ns, gint64 end_ns)
{
  return (double) (end_ns - start_ns) / 1e6;
}

/* Start-up */

/* The floor of any start-up of the daemon: exec, dynamic linking, option parsing. */
static gboolean
time_version (Bench *bench, GError **error)
{
  const char *argv[] = { bench->options.daemon_path, "--version", NULL };
  gint64 start = bench_now_ns ();
  g_autoptr (GSubprocess) process =
      g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE, error);

  if (process == NULL || !g_subprocess_wait_check (process, NULL, error))
    return FALSE;
  bench_figure_add (
      figure (bench, "startup.version", "start-up: exec to exit of offline-stated --version", "ms"),
      ms_since (start, bench_now_ns ()));
  return TRUE;
}

/* Each figure of a start-up, taken for the daemon and for the floor alike. */
typedef enum
{
  START_OWNED,
  START_ANSWERED,
  START_RSS,
  START_ANONYMOUS,
  START_PSS,
  START_USS,
  N_START_FIGURES
} StartFigure;

typedef struct
{
  const char *key;
  const char *label;
  const char *short_label; /* for the floor's line and the comparisons */
  const char *unit;
} StartFigureInfo;

/* RSS counts every page of GLib and libc that the daemon touched, shared with every other
 * GLib program; the anonymous memory, PSS and USS say more of what is the daemon's own. */
static const StartFigureInfo start_figures[N_START_FIGURES] = {
  { "startup.owned", "start-up: exec to bus name owned", "name owned", "ms" },
  { "startup.answered", "start-up: exec to first answered call", "first answer", "ms" },
  { "memory.rest", "memory: RSS at rest", "RSS at rest", "KiB" },
  { "memory.rest.anonymous", "memory: at rest, anonymous (heap, stacks)", "anonymous", "KiB" },
  { "memory.rest.pss", "memory: at rest, PSS", "PSS", "KiB" },
  { "memory.rest.uss", "memory: at rest, USS (private clean + dirty)", "USS", "KiB" },
};

static void
read_rest_memory (GSubprocess *process, double *sample)
{
  sample[START_RSS] = (double) bench_process_rss_kib (process);
  sample[START_ANONYMOUS] = (double) bench_process_smaps_kib (process, "Anonymous:");
  sample[START_PSS] = (double) bench_process_smaps_kib (process, "Pss:");
  sample[START_USS] = (double) (bench_process_smaps_kib (process, "Private_Clean:") +
                                bench_process_smaps_kib (process, "Private_Dirty:"));
}

/* One start of the daemon or of the floor, its memory read once it has answered; in the
 * last repetition, each mapping's too. */
static gboolean
start_once (Bench *bench, gboolean floor, gboolean last, double *sample, GError **error)
{
  GSubprocess *process;

  if (!(floor ? bench_start_floor : bench_start_daemon) (bench, &sample[START_OWNED],
                                                         &sample[START_ANSWERED], error))
    return FALSE;
  process = floor ? bench->floor : bench->daemon;
  read_rest_memory (process, sample);
  if (last)
    {
      BenchSmaps **smaps = floor ? &bench->floor_smaps : &bench->daemon_smaps;

      g_clear_pointer (smaps, bench_smaps_free);
      *smaps = bench_smaps_read (process, error);
      if (*smaps == NULL)
        return FALSE;
    }
  if (floor)
    bench_stop_floor (bench);
  else
    bench_stop_daemon (bench);
  return TRUE;
}

/* Each figure of the daemon, then the floor's and how far the daemon is above it, from
 * the same repetition. */
static void
add_start_figures (Bench *bench, const double *daemon, const double *floor)
{
  for (guint i = 0; i < N_START_FIGURES; i++)
    {
      const StartFigureInfo *info = &start_figures[i];
      g_autofree char *floor_key = g_strconcat (info->key, ".floor", NULL);
      g_autofree char *floor_label = g_strconcat ("  floor: ", info->short_label, NULL);
      g_autofree char *ratio_key = g_strconcat (info->key, ".vs_floor", NULL);
      g_autofree char *ratio_label =
          g_strconcat ("  ", info->short_label, ": daemon / floor", NULL);
      g_autofree char *above_key = g_strconcat (info->key, ".above_floor", NULL);
      g_autofree char *above_label =
          g_strconcat ("  ", info->short_label, ": daemon - floor", NULL);

      bench_figure_add (figure (bench, info->key, info->label, info->unit), daemon[i]);
      bench_figure_add (figure (bench, floor_key, floor_label, info->unit), floor[i]);
      bench_figure_add (figure (bench, ratio_key, ratio_label, "×"), daemon[i] / floor[i]);
      bench_figure_add (figure (bench, above_key, above_label, info->unit), daemon[i] - floor[i]);
    }
}

/* The daemon and the floor take turns, so that a change of load on this shared machine
 * weighs on both alike. */
gboolean
bench_measure_startup (Bench *bench, GError **error)
{
  guint repetitions = bench->options.startup_repetitions;

  for (guint i = 0; i < repetitions; i++)
    {
      double daemon[N_START_FIGURES], floor[N_START_FIGURES];
      gboolean last = i + 1 == repetitions;

      if (!start_once (bench, FALSE, last, daemon, error) ||
          !start_once (bench, TRUE, last, floor, error))
        return FALSE;
      add_start_figures (bench, daemon, floor);
      if (!time_version (bench, error))
        return FALSE;
    }
  return TRUE;
}

/* Round trips */

typedef struct
{
  const char *key;
  const char *label;
} Method;

static const Method methods[ROUND_TRIP_METHODS] = {
  { "ping", "Peer.Ping" },
  { "get_current_state", "GetCurrentState" },
  { "advise", "Advise" },
  { "unadvise", "Unadvise" },
  { "set_current_state_noop", "SetCurrentState (no-op)" },
  /* Not the daemon's: the floor of a method that a GDBus main loop answers. */
  { "baseline_nop", "baseline Nop (GDBus main loop)" },
};

static GVariant *
offline_mgr_call (Bench *bench,
                  BenchProfile profile,
                  const char *method,
                  GVariant *parameters,
                  const GVariantType *reply_type,
                  GError **error)
{
  return bench_call (bench, OFFLINE_STATE_BUS_NAME, bench->profile_path[profile],
                     OFFLINE_STATE_OFFLINE_MGR_INTERFACE, method, parameters, reply_type, error);
}

static gboolean
call_once (Bench *bench, guint method, guint *token, GError **error)
{
  g_autoptr (GVariant) reply = NULL;

  if (method == 0)
    reply = bench_call (bench, OFFLINE_STATE_BUS_NAME, bench->profile_path[BENCH_PROFILE_SIGNAL],
                        "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, error);
  else if (method == 1)
    reply = offline_mgr_call (bench, BENCH_PROFILE_SIGNAL, "GetCurrentState", NULL,
                              G_VARIANT_TYPE ("(u)"), error);
  else if (method == 2)
    reply = offline_mgr_call (
        bench, BENCH_PROFILE_SIGNAL, "Advise",
        g_variant_new ("(uuuouu)", MAPIOFFLINE_ADVISE_DEFAULT, 0, MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                       OFFLINE_STATE_SIGNAL_CALLBACK_PATH, MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                       MAPIOFFLINE_STATE_OFFLINE_MASK),
        G_VARIANT_TYPE ("(u)"), error);
  else if (method == 3)
    reply = offline_mgr_call (bench, BENCH_PROFILE_SIGNAL, "Unadvise",
                              g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, *token), NULL,
                              error);
  else if (method == 5)
    reply = bench_call (bench, bench->baseline_name, BENCH_BASELINE_PATH, BENCH_BASELINE_INTERFACE,
                        "Nop", NULL, NULL, error);
  else
    reply = offline_mgr_call (bench, BENCH_PROFILE_SIGNAL, "SetCurrentState",
                              g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_DEFAULT,
                                             MAPIOFFLINE_STATE_OFFLINE_MASK,
                                             bench->state[BENCH_PROFILE_SIGNAL]),
                              NULL, error);
  if (reply != NULL && method == 2)
    g_variant_get (reply, "(u)", token);
  return reply != NULL;
}

/* One block: BLOCK_CALLS calls of one method, back to back. Unadvise takes the tokens that
 * the Advise block before it handed out. */
static gboolean
time_block (Bench *bench, guint method, guint *tokens, gint64 *elapsed_ns, GError **error)
{
  gint64 start = bench_now_ns ();

  for (guint i = 0; i < BLOCK_CALLS; i++)
    if (!call_once (bench, method, &tokens[i], error))
      return FALSE;
  *elapsed_ns += bench_now_ns () - start;
  return TRUE;
}

static void
add_ratio (Bench *bench, guint m, const char *to_key, const char *to_label, double ratio)
{
  g_autofree char *key = g_strdup_printf ("round_trip.%s.%s", methods[m].key, to_key);
  g_autofree char *label = g_strdup_printf ("round trip: %s / %s", methods[m].label, to_label);

  bench_figure_add (figure (bench, key, label, "×"), ratio);
}

static void
add_round_trips (Bench *bench, const gint64 *elapsed_ns)
{
  double calls = BLOCK_CALLS * BLOCKS;
  double ping_us = (double) elapsed_ns[0] / calls / 1000;
  double nop_us = (double) elapsed_ns[ROUND_TRIP_METHODS - 1] / calls / 1000;

  for (guint m = 0; m < ROUND_TRIP_METHODS; m++)
    {
      double us = (double) elapsed_ns[m] / calls / 1000;
      g_autofree char *key = g_strdup_printf ("round_trip.%s", methods[m].key);
      g_autofree char *label = g_strdup_printf ("round trip: %s", methods[m].label);

      bench_figure_add (figure (bench, key, label, "µs"), us);
      if (m > 0)
        add_ratio (bench, m, "ratio", "Ping", us / ping_us);
      if (m > 0 && m < ROUND_TRIP_METHODS - 1)
        add_ratio (bench, m, "vs_nop", "Nop", us / nop_us);
    }
}

/* The methods take turns in blocks, so that a change of load on this shared machine
 * weighs on each of them alike, and each ratio to Ping is of one repetition's figures. */
gboolean
bench_measure_round_trips (Bench *bench, GError **error)
{
  for (guint rep = 0; rep < bench->options.repetitions; rep++)
    {
      gint64 elapsed_ns[ROUND_TRIP_METHODS] = { 0 };
      guint tokens[BLOCK_CALLS];

      for (guint block = 0; block < BLOCKS; block++)
        for (guint m = 0; m < ROUND_TRIP_METHODS; m++)
          if (!time_block (bench, m, tokens, &elapsed_ns[m], error))
            return FALSE;
      add_round_trips (bench, elapsed_ns);
    }
  return TRUE;
}

/* Fan-out */

static gboolean
transition (Bench *bench, BenchProfile profile, GError **error)
{
  guint next = bench->state[profile] == MAPIOFFLINE_STATE_ONLINE ? MAPIOFFLINE_STATE_OFFLINE
                                                                 : MAPIOFFLINE_STATE_ONLINE;
  g_autoptr (GVariant) reply = offline_mgr_call (
      bench, profile, "SetCurrentState",
      g_variant_new ("(uuu)", MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK, next), NULL,
      error);

  if (reply == NULL)
    return FALSE;
  bench->state[profile] = next;
  return TRUE;
}

static gboolean
baseline_fan_out (Bench *bench, GError **error)
{
  guint next = bench->state[BENCH_PROFILE_SIGNAL] == MAPIOFFLINE_STATE_ONLINE
                   ? MAPIOFFLINE_STATE_OFFLINE
                   : MAPIOFFLINE_STATE_ONLINE;
  g_autoptr (GVariant) reply = bench_call (
      bench, bench->baseline_name, BENCH_BASELINE_PATH, BENCH_BASELINE_INTERFACE, "Fanout",
      g_variant_new ("(uut)", 3 - next, next, ++bench->baseline_sequence), NULL, error);

  return reply != NULL;
}

/* What one fan-out took: its time, the CPU time of the bus, the sender and the subscribers,
 * and how long the CPUs had nothing to do meanwhile. */
typedef struct
{
  double ms;
  double bus_cpu_us;
  double sender_cpu_us;
  double subscribers_cpu_us;
  double idle_ms; /* of all CPUs together */
} FanOut;

static guint64
subscribers_cpu_ns (Bench *bench)
{
  guint64 total = 0;

  for (guint i = 0; i < bench->workers->len; i++)
    total += bench_process_cpu_ticks_ns (
        ((BenchChild *) g_ptr_array_index (bench->workers, i))->process);
  return total;
}

/* From the call that starts the fan-out to the last DONE that a subscriber received. */
static gboolean
time_fan_out (Bench *bench, guint kind, gboolean baseline, guint n, FanOut *out, GError **error)
{
  GSubprocess *sender = baseline ? bench->baseline->process : bench->daemon;
  guint64 bus_cpu, sender_cpu, subscribers_cpu, idle;
  gint64 start, last;
  gboolean sent;

  if (!bench_arm (bench, kind, 1, error))
    return FALSE;
  bus_cpu = bench_process_cpu_ns (bench->bus->process);
  sender_cpu = bench_process_cpu_ns (sender);
  subscribers_cpu = subscribers_cpu_ns (bench);
  idle = bench_machine_idle_ns ();
  start = bench_now_ns ();
  if (baseline)
    sent = baseline_fan_out (bench, error);
  else
    sent = transition (
        bench, kind == BENCH_KIND_SIGNAL ? BENCH_PROFILE_SIGNAL : BENCH_PROFILE_CALLBACK, error);
  if (!sent || !bench_wait_done (bench, kind, 1, n, &last, error))
    return FALSE;
  out->ms = ms_since (start, last);
  out->bus_cpu_us = (double) (bench_process_cpu_ns (bench->bus->process) - bus_cpu) / 1e3;
  out->sender_cpu_us = (double) (bench_process_cpu_ns (sender) - sender_cpu) / 1e3;
  out->subscribers_cpu_us = (double) (subscribers_cpu_ns (bench) - subscribers_cpu) / 1e3;
  out->idle_ms = (double) (bench_machine_idle_ns () - idle) / 1e6;
  return TRUE;
}

/* Where the time goes, per notification: the CPU of the bus, the sender and the
 * subscribers; and the time the CPUs were idle. */
static void
add_cpu (Bench *bench, guint n, const char *who, const FanOut *fan_out)
{
  g_autofree char *bus_key = g_strdup_printf ("fan_out.%s.%u.bus_cpu", who, n);
  g_autofree char *bus_label = g_strdup_printf ("  N = %u, %s: bus CPU per notification", n, who);
  g_autofree char *sender_key = g_strdup_printf ("fan_out.%s.%u.sender_cpu", who, n);
  g_autofree char *sender_label =
      g_strdup_printf ("  N = %u, %s: sender CPU per notification", n, who);

  g_autofree char *subscribers_key = g_strdup_printf ("fan_out.%s.%u.subscribers_cpu", who, n);
  g_autofree char *subscribers_label =
      g_strdup_printf ("  N = %u, %s: subscribers' CPU per notification", n, who);
  g_autofree char *idle_key = g_strdup_printf ("fan_out.%s.%u.idle", who, n);
  g_autofree char *idle_label = g_strdup_printf ("  N = %u, %s: CPUs idle", n, who);

  bench_figure_add (figure (bench, bus_key, bus_label, "µs"), fan_out->bus_cpu_us / (3.0 * n));
  bench_figure_add (figure (bench, sender_key, sender_label, "µs"),
                    fan_out->sender_cpu_us / (3.0 * n));
  bench_figure_add (figure (bench, subscribers_key, subscribers_label, "µs"),
                    fan_out->subscribers_cpu_us / (3.0 * n));
  bench_figure_add (figure (bench, idle_key, idle_label, "ms"), fan_out->idle_ms);
}

static void
add_fan_out (
    Bench *bench, guint n, const FanOut *daemon, const FanOut *baseline, const FanOut *callback)
{
  g_autofree char *key = g_strdup_printf ("fan_out.signal.%u", n);
  g_autofree char *label = g_strdup_printf ("signal fan-out, N = %u: daemon", n);
  g_autofree char *baseline_key = g_strdup_printf ("fan_out.baseline.%u", n);
  g_autofree char *baseline_label = g_strdup_printf ("signal fan-out, N = %u: baseline", n);
  g_autofree char *ratio_key = g_strdup_printf ("fan_out.signal.%u.ratio", n);
  g_autofree char *ratio_label = g_strdup_printf ("signal fan-out, N = %u: daemon / baseline", n);

  bench_figure_add (figure (bench, key, label, "ms"), daemon->ms);
  bench_figure_add (figure (bench, baseline_key, baseline_label, "ms"), baseline->ms);
  bench_figure_add (figure (bench, ratio_key, ratio_label, "×"), daemon->ms / baseline->ms);
  if (n >= CPU_FIGURES_FROM)
    {
      add_cpu (bench, n, "signal", daemon);
      add_cpu (bench, n, "baseline", baseline);
    }
  if (n <= CALLBACK_LARGEST)
    {
      g_autofree char *cb_key = g_strdup_printf ("fan_out.callback.%u", n);
      g_autofree char *cb_label = g_strdup_printf ("callback fan-out, N = %u: daemon", n);
      g_autofree char *cb_ratio_key = g_strdup_printf ("fan_out.callback.%u.ratio", n);
      g_autofree char *cb_ratio_label =
          g_strdup_printf ("callback fan-out, N = %u: callback / signal", n);

      bench_figure_add (figure (bench, cb_key, cb_label, "ms"), callback->ms);
      bench_figure_add (figure (bench, cb_ratio_key, cb_ratio_label, "×"),
                        callback->ms / daemon->ms);
      if (n >= CPU_FIGURES_FROM)
        add_cpu (bench, n, "callback", callback);
    }
}

/* One repetition at @n: the daemon and the baseline take turns at going first. */
static gboolean
fan_out_once (Bench *bench, guint n, guint rep, GError **error)
{
  FanOut daemon, baseline, callback = { 0 };
  gboolean daemon_first = rep % 2 == 0;

  if ((daemon_first && !time_fan_out (bench, BENCH_KIND_SIGNAL, FALSE, n, &daemon, error)) ||
      !time_fan_out (bench, BENCH_KIND_SIGNAL, TRUE, n, &baseline, error) ||
      (!daemon_first && !time_fan_out (bench, BENCH_KIND_SIGNAL, FALSE, n, &daemon, error)))
    return FALSE;
  if (n <= CALLBACK_LARGEST &&
      !time_fan_out (bench, BENCH_KIND_CALLBACK, FALSE, n, &callback, error))
    return FALSE;
  add_fan_out (bench, n, &daemon, &baseline, &callback);
  return TRUE;
}

/* Transitions per second: BLOCK calls back to back, to the last DONE received. */
static gboolean
measure_throughput (Bench *bench, GError **error)
{
  gint64 start = bench_now_ns (), last;

  for (guint i = 0; i < IDLE_TRANSITIONS; i++)
    if (!transition (bench, BENCH_PROFILE_IDLE, error))
      return FALSE;
  bench_figure_add (figure (bench, "throughput.0", "throughput, 0 subscribers", "transitions/s"),
                    IDLE_TRANSITIONS / (ms_since (start, bench_now_ns ()) / 1000));
  if (!bench_arm (bench, BENCH_KIND_SIGNAL, LOADED_TRANSITIONS, error))
    return FALSE;
  start = bench_now_ns ();
  for (guint i = 0; i < LOADED_TRANSITIONS; i++)
    if (!transition (bench, BENCH_PROFILE_SIGNAL, error))
      return FALSE;
  if (!bench_wait_done (bench, BENCH_KIND_SIGNAL, LOADED_TRANSITIONS, LOADED_SUBSCRIBERS, &last,
                        error))
    return FALSE;
  bench_figure_add (
      figure (bench, "throughput.100", "throughput, 100 signal subscribers", "transitions/s"),
      LOADED_TRANSITIONS / (ms_since (start, last) / 1000));
  return TRUE;
}

static gboolean
set_baseline_targets (Bench *bench, GError **error)
{
  GVariant *targets = bench_collect_targets (bench, error);
  g_autoptr (GVariant) reply = NULL;

  if (targets == NULL)
    return FALSE;
  reply = bench_call (bench, bench->baseline_name, BENCH_BASELINE_PATH, BENCH_BASELINE_INTERFACE,
                      "SetTargets", targets, NULL, error);
  return reply != NULL;
}

static void
add_linearity (Bench *bench)
{
  BenchFigure *small = bench_report_lookup (bench->report, "fan_out.signal.1000");
  BenchFigure *large = bench_report_lookup (bench->report, "fan_out.signal.10000");

  if (small == NULL || large == NULL)
    return;
  for (guint i = 0; i < MIN (small->samples->len, large->samples->len); i++)
    bench_figure_add (
        figure (bench, "fan_out.signal.linearity", "signal fan-out: N = 10000 / N = 1000", "×"),
        g_array_index (large->samples, double, i) / g_array_index (small->samples, double, i));
}

gboolean
bench_measure_fan_out (Bench *bench, GError **error)
{
  for (guint n = 1; n <= bench->options.largest; n *= 10)
    {
      g_printerr ("bench: fan-out with %u advises\n", n);
      if (!bench_grow (bench, MIN (n, bench->options.connections), n, MIN (n, CALLBACK_LARGEST),
                       error) ||
          !set_baseline_targets (bench, error))
        return FALSE;
      for (guint rep = 0; rep < bench->options.repetitions; rep++)
        if (!fan_out_once (bench, n, rep, error) ||
            (n == LOADED_SUBSCRIBERS && !measure_throughput (bench, error)))
          return FALSE;
    }
  add_linearity (bench);
  return TRUE;
}

/* Memory: growth per advise, each repetition on a fresh daemon. */

static void
add_growth (Bench *bench, guint n, guint64 rest_kib, guint64 kib)
{
  g_autofree char *key = g_strdup_printf ("memory.per_advise.%u", n);
  g_autofree char *label = g_strdup_printf ("memory: RSS growth per advise at %u advises", n);
  g_autofree char *rss_key = g_strdup_printf ("memory.rss.%u", n);
  g_autofree char *rss_label = g_strdup_printf ("memory: RSS with %u advises", n);

  bench_figure_add (figure (bench, rss_key, rss_label, "KiB"), (double) kib);
  bench_figure_add (figure (bench, key, label, "B"), ((double) kib - (double) rest_kib) * 1024 / n);
}

gboolean
bench_measure_memory (Bench *bench, GError **error)
{
  static const guint sizes[] = { 10000, 50000 };

  for (guint rep = 0; rep < bench->options.memory_repetitions; rep++)
    {
      double owned_ms, answer_ms;
      guint64 rest_kib;

      if (!bench_forget (bench, error) || !bench_start_daemon (bench, &owned_ms, &answer_ms, error))
        return FALSE;
      rest_kib = bench_process_rss_kib (bench->daemon);
      for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
        {
          if (!bench_grow (bench, bench->options.connections, sizes[i], 0, error))
            return FALSE;
          add_growth (bench, sizes[i], rest_kib, bench_process_rss_kib (bench->daemon));
        }
      bench_stop_daemon (bench);
    }
  return bench_forget (bench, error);
}

/* The GIO module */

#define GIO_MODULE_TRANSITIONS 100
#define GIO_MODULE_TIMEOUT_MS  60000

/* A fresh daemon, and bench-gio-module as a GIO program that chose the build's module: each
 * of its transitions is a sample, so that a figure's median and max are the median and the
 * worst of GIO_MODULE_TRANSITIONS transitions. */
gboolean
bench_measure_gio_module (Bench *bench, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autofree char *transitions = g_strdup_printf ("%u", GIO_MODULE_TRANSITIONS);
  const char *argv[] = { bench->options.gio_module_probe_path,
                         bench->profile_path[BENCH_PROFILE_SIGNAL], transitions, NULL };
  g_autoptr (BenchChild) probe = NULL;
  BenchFigure *network, *properties;
  double owned_ms, answer_ms;
  gboolean ok = TRUE;

  g_subprocess_launcher_setenv (
      launcher, "DBUS_SESSION_BUS_ADDRESS",
      g_subprocess_launcher_getenv (bench->launcher, "DBUS_SESSION_BUS_ADDRESS"), TRUE);
  g_subprocess_launcher_setenv (launcher, "GIO_EXTRA_MODULES", bench->options.gio_module_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "GIO_USE_NETWORK_MONITOR", "offline-state", TRUE);
  network = figure (bench, "gio_module.network_changed",
                    "GIO module: STATECHANGE to network-changed", "ms");
  properties = figure (bench, "gio_module.network_changed.floor",
                       "  floor: STATECHANGE to the State's PropertiesChanged", "ms");
  if (!bench_start_daemon (bench, &owned_ms, &answer_ms, error))
    return FALSE;
  probe = bench_child_spawn (launcher, "bench-gio-module", argv, error);
  while (ok && probe != NULL)
    {
      g_autofree char *line = bench_child_read (probe, GIO_MODULE_TIMEOUT_MS, error);
      double network_ms, properties_ms;

      if (line == NULL)
        ok = FALSE;
      else if (g_str_equal (line, "end"))
        break;
      else if (sscanf (line, "sample %lf %lf", &network_ms, &properties_ms) == 2)
        {
          bench_figure_add (network, network_ms);
          bench_figure_add (properties, properties_ms);
        }
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "bench-gio-module: %s", line);
          ok = FALSE;
        }
    }
  bench_stop_daemon (bench);
  return ok && probe != NULL;
}

/* A target whose figure this run did not measure (--only) is left out, not missed. */
static void
target (Bench *bench, const char *label, const char *figure_key, double limit, gboolean below)
{
  if (bench_report_lookup (bench->report, figure_key) != NULL)
    bench_report_target (bench->report, label, figure_key, limit, below);
}

/* The targets of issue 5; the floor's lines say whether the platform allows them. */
void
bench_add_targets (Bench *bench)
{
  /* Every call is handled on the main loop: the floor is a do-nothing GDBus service's
   * main-loop method (Nop), measured side by side. */
  for (guint m = 1; m < ROUND_TRIP_METHODS - 1; m++)
    {
      g_autofree char *key = g_strdup_printf ("round_trip.%s.vs_nop", methods[m].key);
      g_autofree char *label =
          g_strdup_printf ("%s round trip / main-loop floor (Nop)", methods[m].label);

      target (bench, label, key, m == 4 ? 1.3 : 1.05, FALSE);
    }
  target (bench, "  floor: Nop round trip / Ping", "round_trip.baseline_nop.ratio", 1.3, FALSE);
  for (guint n = 1; n <= bench->options.largest; n *= 10)
    {
      g_autofree char *key = g_strdup_printf ("fan_out.signal.%u.ratio", n);
      g_autofree char *label = g_strdup_printf ("signal fan-out N = %u / baseline", n);

      target (bench, label, key, 1.25, FALSE);
    }
  target (bench, "signal fan-out linear: N = 10000 / N = 1000", "fan_out.signal.linearity", 10,
          FALSE);
  target (bench, "callback fan-out N = 1000 / signal N = 1000", "fan_out.callback.1000.ratio", 2,
          FALSE);
  target (bench, "RSS growth per advise at 10000 (B)", "memory.per_advise.10000", 512, FALSE);
  target (bench, "RSS growth per advise at 50000 (B)", "memory.per_advise.50000", 512, FALSE);
  target (bench, "RSS at rest (KiB)", "memory.rest", 4096, TRUE);
  target (bench, "  floor: RSS at rest (KiB)", "memory.rest.floor", 4096, TRUE);
  /* Issue 15: applications hear of a commit within a millisecond of its news reaching them;
   * the floor is GLib's own delivery of that news to the main loop. */
  target (bench, "GIO module: STATECHANGE to network-changed (ms)", "gio_module.network_changed", 1,
          TRUE);
  target (bench, "  floor: STATECHANGE to PropertiesChanged (ms)",
          "gio_module.network_changed.floor", 1, TRUE);
  target (bench, "start-up to name owned (ms)", "startup.owned", 20, TRUE);
  target (bench, "  floor: start-up to name owned (ms)", "startup.owned.floor", 20, TRUE);
}
