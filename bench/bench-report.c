/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <math.h>
#include <stdlib.h>

#include "bench-report.h"

typedef struct
{
  char *label;
  char *figure_key;
  double limit;
  gboolean below;
} Target;

struct _BenchReport
{
  GPtrArray *figures; /* BenchFigure, in the order they were first measured */
  GArray *targets;    /* Target */
  GPtrArray *info;    /* key, value, key, value … */
};

static void
figure_free (BenchFigure *figure)
{
  g_free (figure->key);
  g_free (figure->label);
  g_free (figure->unit);
  g_array_unref (figure->samples);
  g_free (figure);
}

static void
target_clear (gpointer data)
{
  Target *target = data;

  g_free (target->label);
  g_free (target->figure_key);
}

BenchReport *
bench_report_new (void)
{
  BenchReport *report = g_new0 (BenchReport, 1);

  report->figures = g_ptr_array_new_with_free_func ((GDestroyNotify) figure_free);
  report->targets = g_array_new (FALSE, FALSE, sizeof (Target));
  g_array_set_clear_func (report->targets, target_clear);
  report->info = g_ptr_array_new_with_free_func (g_free);
  return report;
}

void
bench_report_free (BenchReport *report)
{
  g_ptr_array_unref (report->figures);
  g_array_unref (report->targets);
  g_ptr_array_unref (report->info);
  g_free (report);
}

void
bench_report_set_info (BenchReport *report, const char *key, const char *value)
{
  g_ptr_array_add (report->info, g_strdup (key));
  g_ptr_array_add (report->info, g_strdup (value));
}

BenchFigure *
bench_report_lookup (BenchReport *report, const char *key)
{
  for (guint i = 0; i < report->figures->len; i++)
    {
      BenchFigure *figure = g_ptr_array_index (report->figures, i);

      if (g_str_equal (figure->key, key))
        return figure;
    }
  return NULL;
}

BenchFigure *
bench_report_figure (BenchReport *report, const char *key, const char *label, const char *unit)
{
  BenchFigure *figure = bench_report_lookup (report, key);

  if (figure != NULL)
    return figure;
  figure = g_new0 (BenchFigure, 1);
  figure->key = g_strdup (key);
  figure->label = g_strdup (label);
  figure->unit = g_strdup (unit);
  figure->samples = g_array_new (FALSE, FALSE, sizeof (double));
  g_ptr_array_add (report->figures, figure);
  return figure;
}

void
bench_figure_add (BenchFigure *figure, double sample)
{
  g_array_append_val (figure->samples, sample);
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Sorted samples: the caller frees them. */
static double *
sorted_samples (const BenchFigure *figure)
{
  double *sorted = g_memdup2 (figure->samples->data, figure->samples->len * sizeof (double));

  qsort (sorted, figure->samples->len, sizeof (double), compare_doubles);
  return sorted;
}

double
bench_figure_median (const BenchFigure *figure)
{
  guint n = figure->samples->len;
  g_autofree double *sorted = NULL;

  if (n == 0)
    return NAN;
  sorted = sorted_samples (figure);
  return n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static void
figure_stats (const BenchFigure *figure, double *median, double *min, double *max)
{
  g_autofree double *sorted = NULL;
  guint n = figure->samples->len;

  *median = *min = *max = NAN;
  if (n == 0)
    return;
  sorted = sorted_samples (figure);
  *median = bench_figure_median (figure);
  *min = sorted[0];
  *max = sorted[n - 1];
}

void
bench_report_target (
    BenchReport *report, const char *label, const char *figure_key, double limit, gboolean below)
{
  Target target = { g_strdup (label), g_strdup (figure_key), limit, below };

  g_array_append_val (report->targets, target);
}

static gboolean
target_passes (BenchReport *report, const Target *target, double *value)
{
  BenchFigure *figure = bench_report_lookup (report, target->figure_key);

  *value = figure != NULL ? bench_figure_median (figure) : NAN;
  if (isnan (*value))
    return FALSE;
  return target->below ? *value < target->limit : *value <= target->limit;
}

void
bench_report_print (BenchReport *report, FILE *out)
{
  fprintf (out, "\n%-52s %12s %12s %12s  %s\n", "figure", "median", "min", "max", "unit");
  for (guint i = 0; i < report->figures->len; i++)
    {
      BenchFigure *figure = g_ptr_array_index (report->figures, i);
      double median, min, max;

      figure_stats (figure, &median, &min, &max);
      fprintf (out, "%-52s %12.4g %12.4g %12.4g  %s\n", figure->label, median, min, max,
               figure->unit);
    }
  fprintf (out, "\n%-52s %12s %12s  %s\n", "target", "median", "limit", "verdict");
  for (guint i = 0; i < report->targets->len; i++)
    {
      Target *target = &g_array_index (report->targets, Target, i);
      double value;
      gboolean pass = target_passes (report, target, &value);

      fprintf (out, "%-52s %12.4g %s%11.4g  %s\n", target->label, value, target->below ? "<" : "≤",
               target->limit, pass ? "PASS" : "MISS");
    }
}

static void
append_json_string (GString *json, const char *text)
{
  g_string_append_c (json, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (json, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (json, "\\u%04x", *p);
      else
        g_string_append_c (json, *p);
    }
  g_string_append_c (json, '"');
}

/* JSON has no NaN: a figure that could not be measured is null. */
static void
append_json_number (GString *json, double value)
{
  if (isnan (value) || isinf (value))
    g_string_append (json, "null");
  else
    g_string_append_printf (json, "%.6g", value);
}

static void
append_json_figure (GString *json, const BenchFigure *figure)
{
  double median, min, max;

  figure_stats (figure, &median, &min, &max);
  g_string_append (json, "    {\"key\": ");
  append_json_string (json, figure->key);
  g_string_append (json, ", \"label\": ");
  append_json_string (json, figure->label);
  g_string_append (json, ", \"unit\": ");
  append_json_string (json, figure->unit);
  g_string_append (json, ", \"median\": ");
  append_json_number (json, median);
  g_string_append (json, ", \"min\": ");
  append_json_number (json, min);
  g_string_append (json, ", \"max\": ");
  append_json_number (json, max);
  g_string_append (json, ", \"samples\": [");
  for (guint i = 0; i < figure->samples->len; i++)
    {
      g_string_append (json, i ? ", " : "");
      append_json_number (json, g_array_index (figure->samples, double, i));
    }
  g_string_append (json, "]}");
}

static void
append_json_target (GString *json, BenchReport *report, const Target *target)
{
  double value;
  gboolean pass = target_passes (report, target, &value);

  g_string_append (json, "    {\"label\": ");
  append_json_string (json, target->label);
  g_string_append (json, ", \"figure\": ");
  append_json_string (json, target->figure_key);
  g_string_append (json, ", \"value\": ");
  append_json_number (json, value);
  g_string_append_printf (json,
                          ", \"comparison\": \"%s\", \"limit\": ", target->below ? "<" : "<=");
  append_json_number (json, target->limit);
  g_string_append_printf (json, ", \"pass\": %s}", pass ? "true" : "false");
}

gboolean
bench_report_write_json (BenchReport *report, const char *path, GError **error)
{
  g_autoptr (GString) json = g_string_new ("{\n  \"info\": {");

  for (guint i = 0; i + 1 < report->info->len; i += 2)
    {
      g_string_append (json, i ? ", " : "");
      append_json_string (json, g_ptr_array_index (report->info, i));
      g_string_append (json, ": ");
      append_json_string (json, g_ptr_array_index (report->info, i + 1));
    }
  g_string_append (json, "},\n  \"figures\": [\n");
  for (guint i = 0; i < report->figures->len; i++)
    {
      append_json_figure (json, g_ptr_array_index (report->figures, i));
      g_string_append (json, i + 1 < report->figures->len ? ",\n" : "\n");
    }
  g_string_append (json, "  ],\n  \"targets\": [\n");
  for (guint i = 0; i < report->targets->len; i++)
    {
      append_json_target (json, report, &g_array_index (report->targets, Target, i));
      g_string_append (json, i + 1 < report->targets->len ? ",\n" : "\n");
    }
  g_string_append (json, "  ]\n}\n");
  return g_file_set_contents (path, json->str, (gssize) json->len, error);
}
