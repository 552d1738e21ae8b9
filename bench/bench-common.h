/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the benchmark's three programs share: the clock, the line protocol on their pipes,
 * and the names of the benchmark's own D-Bus objects.
 */
#pragma once

#include <gio/gio.h>

/* The baseline sender's object: SetTargets(a(su) destinations and client tokens), then
 * Fanout(u old_state, u new_state, t sequence) sends START, STATECHANGE and DONE to each;
 * Nop() answers at once, from the main loop. */
#define BENCH_BASELINE_PATH      "/org/offlinestate/Bench/Baseline"
#define BENCH_BASELINE_INTERFACE "org.offlinestate.Bench.Baseline"

/* The name that bench-baseline --floor owns; it answers BENCH_BASELINE_INTERFACE's Nop at
 * BENCH_BASELINE_PATH. */
#define BENCH_FLOOR_NAME "org.offlinestate.Bench.Floor"

/* Where the subscribers take callback Notify calls. */
#define BENCH_NOTIFY_PATH "/org/offlinestate/Bench/Notify"

/* Kinds of advise a subscriber process holds. */
typedef enum
{
  BENCH_KIND_SIGNAL,
  BENCH_KIND_CALLBACK,
  BENCH_N_KINDS
} BenchKind;

/* CLOCK_MONOTONIC in nanoseconds: one clock for every process of the machine, so that a
 * time taken by a subscriber compares with one taken by the driver. */
gint64 bench_now_ns (void);

/* Writes one whole line in one write(): lines from two threads never interleave. */
void bench_write_line (int fd, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Reads the lines of a pipe, each wait bounded. */
typedef struct
{
  int fd;
  GString *buffer;
} BenchLineReader;

void bench_line_reader_init (BenchLineReader *reader, int fd);
void bench_line_reader_clear (BenchLineReader *reader);
char *bench_line_reader_read (BenchLineReader *reader, guint timeout_ms, GError **error);
