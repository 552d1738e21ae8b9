/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The benchmark driver: what its parts share.
 */
#pragma once

#include <gio/gio.h>

#include "bench-procs.h"
#include "bench-report.h"
#include "bench-smaps.h"

/* The profiles the driver uses: the subscribers' signal advises live on the first, their
 * callback advises on the second, and the third has none. */
typedef enum
{
  BENCH_PROFILE_SIGNAL,
  BENCH_PROFILE_CALLBACK,
  BENCH_PROFILE_IDLE,
  BENCH_N_PROFILES
} BenchProfile;

/* The parts of a run, for --only. */
typedef enum
{
  BENCH_SECTION_STARTUP = 1 << 0, /* start-up and memory at rest, against the floor */
  BENCH_SECTION_ROUND_TRIPS = 1 << 1,
  BENCH_SECTION_FAN_OUT = 1 << 2,    /* and throughput */
  BENCH_SECTION_MEMORY = 1 << 3,     /* growth per advise */
  BENCH_SECTION_GIO_MODULE = 1 << 4, /* STATECHANGE to network-changed in a GIO program */
  BENCH_SECTIONS_ALL = (1 << 5) - 1
} BenchSections;

typedef struct
{
  char *only; /* --only, as given */
  BenchSections sections;
  gboolean memory_detail;
  guint repetitions;
  guint startup_repetitions;
  guint memory_repetitions;
  guint workers;
  guint connections;
  guint largest;
  char *baseline_order; /* advise (NULL too) or subscriber */
  char *json_path;
  char *daemon_arg;        /* --daemon, as given */
  const char *daemon_path; /* what runs: --daemon, or the build's */
  char *bus_config;
  char *subscribers_path;
  char *baseline_path;
  char *gio_module_probe_path; /* bench-gio-module */
  char *gio_module_dir;        /* the build's src/gio-module */
} BenchOptions;

typedef struct
{
  BenchOptions options;
  BenchReport *report;
  char *scratch_dir;
  GSubprocessLauncher *launcher;        /* children that talk on pipes */
  GSubprocessLauncher *daemon_launcher; /* the daemon: its log goes to the scratch folder */
  BenchChild *bus;
  GDBusConnection *connection;
  GSubprocess *daemon;
  GSubprocess *floor; /* bench-baseline --floor */
  GPtrArray *workers; /* BenchChild */
  BenchChild *baseline;
  char *baseline_name;
  char *profile_path[BENCH_N_PROFILES];
  guint state[BENCH_N_PROFILES];
  guint64 baseline_sequence;
  const char *awaited_name;
  gint64 owned_ns;
  BenchSmaps *daemon_smaps; /* at rest, in the last start-up repetition */
  BenchSmaps *floor_smaps;
} Bench;

/* bench-offline-state.c */
GVariant *bench_call (Bench *bench,
                      const char *destination,
                      const char *path,
                      const char *interface,
                      const char *method,
                      GVariant *parameters,
                      const GVariantType *reply_type,
                      GError **error);
gboolean
bench_start_daemon (Bench *bench, double *to_owned_ms, double *to_answer_ms, GError **error);
void bench_stop_daemon (Bench *bench);
gboolean
bench_start_floor (Bench *bench, double *to_owned_ms, double *to_answer_ms, GError **error);
void bench_stop_floor (Bench *bench);

/* bench-workers.c */
gboolean
bench_grow (Bench *bench, guint connections, guint signals, guint callbacks, GError **error);
gboolean bench_arm (Bench *bench, guint kind, guint repeats, GError **error);
gboolean bench_wait_done (
    Bench *bench, guint kind, guint repeats, guint advises, gint64 *last_ns, GError **error);
gboolean bench_forget (Bench *bench, GError **error);
GVariant *bench_collect_targets (Bench *bench, GError **error);

/* bench-measure.c */
gboolean bench_measure_startup (Bench *bench, GError **error);
gboolean bench_measure_round_trips (Bench *bench, GError **error);
gboolean bench_measure_fan_out (Bench *bench, GError **error);
gboolean bench_measure_memory (Bench *bench, GError **error);
gboolean bench_measure_gio_module (Bench *bench, GError **error);
void bench_add_targets (Bench *bench);
