/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <stdio.h>

#include <glib.h>

/* One measured figure: a sample per repetition, reported as median, min and max. */
typedef struct
{
  char *key;
  char *label;
  char *unit;
  GArray *samples; /* double */
} BenchFigure;

typedef struct _BenchReport BenchReport;

BenchReport *bench_report_new (void);
void bench_report_free (BenchReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BenchReport, bench_report_free)

void bench_report_set_info (BenchReport *report, const char *key, const char *value);
BenchFigure *
bench_report_figure (BenchReport *report, const char *key, const char *label, const char *unit);
BenchFigure *bench_report_lookup (BenchReport *report, const char *key);
void bench_figure_add (BenchFigure *figure, double sample);
double bench_figure_median (const BenchFigure *figure);

/* A target of the issue, judged on a figure's median: PASS when it is at most (or, with
 * below, under) the limit. */
void bench_report_target (
    BenchReport *report, const char *label, const char *figure_key, double limit, gboolean below);

void bench_report_print (BenchReport *report, FILE *out);
gboolean bench_report_write_json (BenchReport *report, const char *path, GError **error);
