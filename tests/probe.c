/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static guint64
read_rss_kib (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "status", NULL);
  g_autofree char *status = NULL;
  g_autoptr (GError) error = NULL;
  const char *line;

  g_file_get_contents (path, &status, NULL, &error);
  g_assert_no_error (error);
  line = strstr (status, "\nVmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmRSS:"), NULL, 10);
}

static guint
count_fds (const char *pid)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "fd", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  guint n = 0;

  g_assert_no_error (error);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

void
probe_read (GSubprocess *daemon, ProbeFigures *figures)
{
  const char *pid = g_subprocess_get_identifier (daemon);

  g_assert_nonnull (pid);
  figures->rss_kib = read_rss_kib (pid);
  figures->n_fds = count_fds (pid);
}

void
probe_message (const char *label, const ProbeFigures *figures)
{
  g_test_message ("%s: daemon RSS %" G_GUINT64_FORMAT " KiB, %u open fds", label, figures->rss_kib,
                  figures->n_fds);
}

struct _ProbeLatencies
{
  GMutex lock;
  GArray *us; /* gint64 */
};

ProbeLatencies *
probe_latencies_new (void)
{
  ProbeLatencies *latencies = g_new0 (ProbeLatencies, 1);

  g_mutex_init (&latencies->lock);
  latencies->us = g_array_new (FALSE, FALSE, sizeof (gint64));
  return latencies;
}

void
probe_latencies_free (ProbeLatencies *latencies)
{
  g_array_unref (latencies->us);
  g_mutex_clear (&latencies->lock);
  g_free (latencies);
}

void
probe_latencies_add (ProbeLatencies *latencies, gint64 microseconds)
{
  g_mutex_lock (&latencies->lock);
  g_array_append_val (latencies->us, microseconds);
  g_mutex_unlock (&latencies->lock);
}

guint
probe_latencies_count (ProbeLatencies *latencies)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&latencies->lock);

  return latencies->us->len;
}

static int
compare_us (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

gint64
probe_latencies_max (ProbeLatencies *latencies)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&latencies->lock);
  gint64 max = 0;

  for (guint i = 0; i < latencies->us->len; i++)
    max = MAX (max, g_array_index (latencies->us, gint64, i));
  return max;
}

static double
ms_at (GArray *sorted, double fraction)
{
  guint index = (guint) (fraction * (sorted->len - 1) + 0.5);

  return g_array_index (sorted, gint64, index) / 1000.0;
}

void
probe_latencies_message (const char *label, ProbeLatencies *latencies)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&latencies->lock);
  g_autoptr (GArray) sorted = NULL;

  if (latencies->us->len == 0)
    {
      g_test_message ("%s: no calls", label);
      return;
    }
  sorted = g_array_copy (latencies->us);
  g_array_sort (sorted, compare_us);
  g_test_message ("%s: n=%u, latency min/median/p99/max %.2f/%.2f/%.2f/%.2f ms", label, sorted->len,
                  ms_at (sorted, 0), ms_at (sorted, 0.5), ms_at (sorted, 0.99), ms_at (sorted, 1));
}

struct _ProbeTally
{
  GMutex lock;
  GHashTable *counts; /* outcome → count */
};

ProbeTally *
probe_tally_new (void)
{
  ProbeTally *tally = g_new0 (ProbeTally, 1);

  g_mutex_init (&tally->lock);
  tally->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return tally;
}

void
probe_tally_free (ProbeTally *tally)
{
  g_hash_table_unref (tally->counts);
  g_mutex_clear (&tally->lock);
  g_free (tally);
}

char *
probe_outcome (const GError *error)
{
  char *remote;

  if (error == NULL)
    return g_strdup ("ok");
  remote = g_dbus_error_get_remote_error (error);
  if (remote != NULL)
    return remote;
  return g_strdup_printf ("local:%s:%d", g_quark_to_string (error->domain), error->code);
}

void
probe_tally_add (ProbeTally *tally, const GError *error)
{
  g_autofree char *outcome = probe_outcome (error);
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&tally->lock);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (tally->counts, outcome));

  g_hash_table_insert (tally->counts, g_steal_pointer (&outcome), GUINT_TO_POINTER (count + 1));
}

guint
probe_tally_get (ProbeTally *tally, const char *outcome)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&tally->lock);

  return GPOINTER_TO_UINT (g_hash_table_lookup (tally->counts, outcome));
}

guint
probe_tally_total (ProbeTally *tally)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&tally->lock);
  GHashTableIter iter;
  gpointer value;
  guint total = 0;

  g_hash_table_iter_init (&iter, tally->counts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total += GPOINTER_TO_UINT (value);
  return total;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

void
probe_tally_message (const char *label, ProbeTally *tally)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&tally->lock);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree const char **names = NULL;
  guint n = 0;

  names = (const char **) g_hash_table_get_keys_as_array (tally->counts, &n);
  qsort (names, n, sizeof (char *), compare_names);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s%s=%u", i ? ", " : "", names[i],
                            GPOINTER_TO_UINT (g_hash_table_lookup (tally->counts, names[i])));
  g_test_message ("%s: %s", label, n ? text->str : "no calls");
}
