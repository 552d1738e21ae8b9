/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Where a process's memory at rest lies, from /proc/PID/smaps: summed per file, and for
 * the anonymous mappings per kind (heap, main stack, each thread's stack, the malloc arenas
 * of threads, the rest), so that the daemon's can be set against the floor's.
 */
#pragma once

#include <stdio.h>

#include <gio/gio.h>

typedef struct _BenchSmaps BenchSmaps;

/* NULL, with @error set, when the process is gone or its smaps cannot be read. */
BenchSmaps *bench_smaps_read (GSubprocess *process, GError **error);
void bench_smaps_free (BenchSmaps *smaps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchSmaps, bench_smaps_free)

/* Prints the mappings of @daemon and @floor side by side, the largest differences first;
 * @lines of them, or all when @lines is 0, then what is left and the totals. */
void bench_smaps_print_difference (BenchSmaps *daemon, BenchSmaps *floor, guint lines, FILE *out);
