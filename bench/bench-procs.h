/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The processes the driver starts: the bus, the daemon, the subscribers, the baseline.
 */
#pragma once

#include <gio/gio.h>

#include "bench-common.h"

/* A child that talks lines on its standard input and output. */
typedef struct
{
  char *name;
  GSubprocess *process;
  int input_fd;
  BenchLineReader output;
} BenchChild;

BenchChild *bench_child_spawn (GSubprocessLauncher *launcher,
                               const char *name,
                               const char *const *argv,
                               GError **error);
void bench_child_send (BenchChild *child, const char *format, ...) G_GNUC_PRINTF (2, 3);
char *bench_child_read (BenchChild *child, guint timeout_ms, GError **error);
gboolean
bench_child_expect (BenchChild *child, const char *answer, guint timeout_ms, GError **error);
void bench_child_free (BenchChild *child);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchChild, bench_child_free)

/* Sends @signum, waits at most @timeout_ms for the exit, then kills. */
void bench_process_stop (GSubprocess *process, int signum, guint timeout_ms);

/* The resident set of a live process, in KiB; 0 if it cannot be read. */
guint64 bench_process_rss_kib (GSubprocess *process);

/* A field of /proc/PID/smaps_rollup ("Pss:", "Anonymous:"…), in KiB; 0 if unreadable. */
guint64 bench_process_smaps_kib (GSubprocess *process, const char *field);

/* CPU time that all threads of a live process have had so far, in nanoseconds. */
guint64 bench_process_cpu_ns (GSubprocess *process);

/* The same from the process's own count: coarse (10 ms), but it keeps the time of threads
 * that have ended. */
guint64 bench_process_cpu_ticks_ns (GSubprocess *process);

/* The time that all CPUs of the machine have spent idle since boot, in nanoseconds. */
guint64 bench_machine_idle_ns (void);

/* Raises the soft limit of open files to the hard one, for the bus and the subscribers
 * (which inherit it); returns the new limit. */
guint64 bench_raise_fd_limit (void);
