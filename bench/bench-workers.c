/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The driver's side of the subscriber processes (bench-subscribers.c).
 */
#include <stdio.h>
#include <string.h>

#include "bench-driver.h"

/* Advising 50,000 times through one daemon takes seconds; nothing should take minutes. */
#define GROW_TIMEOUT_MS  180000
#define DONE_TIMEOUT_MS  60000
#define REPLY_TIMEOUT_MS 10000

/* Worker @index's part of @total: the parts differ by one at most. */
static guint
share (guint total, guint index, guint n)
{
  return total / n + (index < total % n ? 1 : 0);
}

static BenchChild *
worker (Bench *bench, guint index)
{
  return g_ptr_array_index (bench->workers, index);
}

/* A subscriber answers ok or error TEXT; the first error is the one that counts. */
static gboolean
expect_ok_from_all (Bench *bench, guint timeout_ms, GError **error)
{
  g_autoptr (GError) first = NULL;

  for (guint i = 0; i < bench->workers->len; i++)
    {
      g_autofree char *line = bench_child_read (worker (bench, i), timeout_ms, error);

      if (line == NULL)
        return FALSE;
      if (!g_str_equal (line, "ok") && first == NULL)
        g_set_error (&first, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", worker (bench, i)->name,
                     line);
    }
  if (first != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first));
      return FALSE;
    }
  return TRUE;
}

gboolean
bench_grow (Bench *bench, guint connections, guint signals, guint callbacks, GError **error)
{
  guint n = bench->workers->len;

  for (guint i = 0; i < n; i++)
    bench_child_send (worker (bench, i), "grow %u %u %u", MAX (share (connections, i, n), 1),
                      share (signals, i, n), share (callbacks, i, n));
  return expect_ok_from_all (bench, GROW_TIMEOUT_MS, error);
}

gboolean
bench_forget (Bench *bench, GError **error)
{
  for (guint i = 0; i < bench->workers->len; i++)
    bench_child_send (worker (bench, i), "forget");
  return expect_ok_from_all (bench, REPLY_TIMEOUT_MS, error);
}

gboolean
bench_arm (Bench *bench, guint kind, guint repeats, GError **error)
{
  for (guint i = 0; i < bench->workers->len; i++)
    bench_child_send (worker (bench, i), "arm %u %u", kind, repeats);
  for (guint i = 0; i < bench->workers->len; i++)
    if (!bench_child_expect (worker (bench, i), "armed", REPLY_TIMEOUT_MS, error))
      return FALSE;
  return TRUE;
}

/* Every subscriber must have had START, STATECHANGE and DONE once per repeat, no more, no
 * less: a figure over lost notifications would be no figure. */
static gboolean
check_done (BenchChild *child, const char *line, guint target, gint64 *time_ns, GError **error)
{
  guint start, change, done;

  if (sscanf (line, "done %" G_GINT64_FORMAT " %u %u %u", time_ns, &start, &change, &done) != 4)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s answered '%s'", child->name, line);
      return FALSE;
    }
  if (start != target || change != target || done != target)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%s had %u START, %u STATECHANGE and %u DONE at its last DONE, not %u each",
                   child->name, start, change, done, target);
      return FALSE;
    }
  return TRUE;
}

gboolean
bench_wait_done (
    Bench *bench, guint kind, guint repeats, guint advises, gint64 *last_ns, GError **error)
{
  guint n = bench->workers->len;

  *last_ns = 0;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *line = bench_child_read (worker (bench, i), DONE_TIMEOUT_MS, error);
      gint64 time_ns;

      if (line == NULL ||
          !check_done (worker (bench, i), line, repeats * share (advises, i, n), &time_ns, error))
        return FALSE;
      *last_ns = MAX (*last_ns, time_ns);
    }
  return TRUE;
}

typedef struct
{
  char *name;
  guint client_token;
  guint token; /* the daemon's, handed out in the order of the advises */
} Target;

static void
target_clear (gpointer data)
{
  g_free (((Target *) data)->name);
}

static gboolean
read_targets (BenchChild *child, GArray *targets, GError **error)
{
  for (;;)
    {
      g_autofree char *line = bench_child_read (child, REPLY_TIMEOUT_MS, error);
      char name[256];
      Target target = { NULL, 0, 0 };

      if (line == NULL)
        return FALSE;
      if (g_str_equal (line, "end"))
        return TRUE;
      if (sscanf (line, "target %255s %u %u", name, &target.client_token, &target.token) != 3)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s answered '%s'", child->name, line);
          return FALSE;
        }
      target.name = g_strdup (name);
      g_array_append_val (targets, target);
    }
}

static gint
by_token (gconstpointer a, gconstpointer b)
{
  guint x = ((const Target *) a)->token, y = ((const Target *) b)->token;

  return x < y ? -1 : x > y;
}

/* The unique names and client tokens of every signal advise: the baseline's recipients, in
 * the order in which the daemon tells them, which is the order of their advises. The order
 * weighs on the subscribers: see --baseline-order and docs/performance.md. */
GVariant *
bench_collect_targets (Bench *bench, GError **error)
{
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a(su)"));
  g_autoptr (GArray) targets = g_array_new (FALSE, FALSE, sizeof (Target));

  g_array_set_clear_func (targets, target_clear);
  for (guint i = 0; i < bench->workers->len; i++)
    {
      bench_child_send (worker (bench, i), "names");
      if (!read_targets (worker (bench, i), targets, error))
        return NULL;
    }
  if (g_strcmp0 (bench->options.baseline_order, "subscriber") != 0)
    g_array_sort (targets, by_token);
  for (guint i = 0; i < targets->len; i++)
    {
      Target *target = &g_array_index (targets, Target, i);

      g_variant_builder_add (&builder, "(su)", target->name, target->client_token);
    }
  return g_variant_new ("(a(su))", &builder);
}
