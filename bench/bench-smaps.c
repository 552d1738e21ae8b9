/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <stdlib.h>
#include <string.h>

#include "bench-smaps.h"

/* glibc reserves each thread's malloc arena as a region of 64 MiB aligned on its size
 * (HEAP_MAX_SIZE on 64-bit systems): how an arena is told from other anonymous memory. */
#define ARENA_ALIGNMENT (G_GUINT64_CONSTANT (64) << 20)

typedef struct
{
  guint64 rss;
  guint64 uss; /* Private_Clean + Private_Dirty: what the process alone holds */
} Usage;

struct _BenchSmaps
{
  GHashTable *groups; /* group name → Usage */
};

typedef struct
{
  guint64 stack_pointer;
  char *name;
} Thread;

static void
thread_clear (gpointer data)
{
  g_free (((Thread *) data)->name);
}

/* A thread at rest waits in a system call, and then its syscall file ends with its stack
 * pointer and program counter: the anonymous mapping that holds the pointer is its stack. */
static GArray *
read_threads (const char *pid)
{
  g_autofree char *tasks = g_strdup_printf ("/proc/%s/task", pid);
  g_autoptr (GDir) dir = g_dir_open (tasks, 0, NULL);
  GArray *threads = g_array_new (FALSE, FALSE, sizeof (Thread));
  const char *tid;

  g_array_set_clear_func (threads, thread_clear);
  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *syscall_path = g_build_filename (tasks, tid, "syscall", NULL);
      g_autofree char *comm_path = g_build_filename (tasks, tid, "comm", NULL);
      g_autofree char *syscall = NULL;
      g_auto (GStrv) fields = NULL;
      Thread thread = { 0 };
      guint n;

      if (!g_file_get_contents (syscall_path, &syscall, NULL, NULL) ||
          !g_file_get_contents (comm_path, &thread.name, NULL, NULL))
        continue;
      fields = g_strsplit (g_strstrip (syscall), " ", -1);
      n = g_strv_length (fields);
      if (n < 3)
        {
          g_free (thread.name);
          continue;
        }
      thread.stack_pointer = g_ascii_strtoull (fields[n - 2], NULL, 16);
      g_strstrip (thread.name);
      g_array_append_val (threads, thread);
    }
  return threads;
}

static char *
anonymous_group (GArray *threads, guint64 start, guint64 end)
{
  for (guint i = 0; i < threads->len; i++)
    {
      Thread *thread = &g_array_index (threads, Thread, i);

      if (thread->stack_pointer >= start && thread->stack_pointer < end)
        return g_strdup_printf ("[stack of thread %s]", thread->name);
    }
  if (start % ARENA_ALIGNMENT == 0)
    return g_strdup ("[malloc arenas of threads]");
  return g_strdup ("[anonymous, other]");
}

/* Files by their base name (a library's pages are the same whatever its folder); the
 * kernel's own kinds ([heap], [stack], [vdso]…) as they are; the rest by kind. */
static char *
group_name (GArray *threads, guint64 start, guint64 end, const char *path)
{
  if (path[0] == '/')
    return g_path_get_basename (path);
  if (path[0] != '\0')
    return g_strdup (path);
  return anonymous_group (threads, start, end);
}

static void
add_field (Usage *usage, const char *line)
{
  static const struct
  {
    const char *name;
    gsize offset;
  } fields[] = {
    { "Rss:", G_STRUCT_OFFSET (Usage, rss) },
    { "Private_Clean:", G_STRUCT_OFFSET (Usage, uss) },
    { "Private_Dirty:", G_STRUCT_OFFSET (Usage, uss) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    if (g_str_has_prefix (line, fields[i].name))
      {
        guint64 *value = G_STRUCT_MEMBER_P (usage, fields[i].offset);

        *value += g_ascii_strtoull (line + strlen (fields[i].name), NULL, 10);
      }
}

static Usage *
lookup_group (BenchSmaps *smaps, char *name)
{
  Usage *usage = g_hash_table_lookup (smaps->groups, name);

  if (usage != NULL)
    {
      g_free (name);
      return usage;
    }
  usage = g_new0 (Usage, 1);
  g_hash_table_insert (smaps->groups, name, usage);
  return usage;
}

/* Each mapping is a header line (start-end perms offset device inode path) followed by its
 * fields; a field's name never parses as the two addresses of a header. */
static void
parse (BenchSmaps *smaps, GArray *threads, char *text)
{
  Usage *usage = NULL;
  char *saved = NULL;

  for (char *line = strtok_r (text, "\n", &saved); line != NULL;
       line = strtok_r (NULL, "\n", &saved))
    {
      guint64 start, end;
      char perms[5];
      int path_at = -1;

      if (sscanf (line, "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %4s %*s %*s %*s%n", &start,
                  &end, perms, &path_at) == 3 &&
          path_at >= 0)
        usage = lookup_group (smaps, group_name (threads, start, end, g_strstrip (line + path_at)));
      else if (usage != NULL)
        add_field (usage, line);
    }
}

BenchSmaps *
bench_smaps_read (GSubprocess *process, GError **error)
{
  const char *pid = g_subprocess_get_identifier (process);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GArray) threads = NULL;
  BenchSmaps *smaps;

  if (pid == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "the process has exited");
      return NULL;
    }
  path = g_strdup_printf ("/proc/%s/smaps", pid);
  threads = read_threads (pid);
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  smaps = g_new0 (BenchSmaps, 1);
  smaps->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  parse (smaps, threads, text);
  return smaps;
}

void
bench_smaps_free (BenchSmaps *smaps)
{
  g_hash_table_unref (smaps->groups);
  g_free (smaps);
}

/* Printing */

static const Usage no_usage = { 0 };

static const Usage *
usage_of (BenchSmaps *smaps, const char *name)
{
  const Usage *usage = g_hash_table_lookup (smaps->groups, name);

  return usage != NULL ? usage : &no_usage;
}

static gint64
difference (BenchSmaps *daemon, BenchSmaps *floor, const char *name)
{
  const Usage *d = usage_of (daemon, name), *f = usage_of (floor, name);
  gint64 rss = (gint64) d->rss - (gint64) f->rss, uss = (gint64) d->uss - (gint64) f->uss;

  return MAX (ABS (rss), ABS (uss));
}

typedef struct
{
  BenchSmaps *daemon;
  BenchSmaps *floor;
} Pair;

static int
compare_groups (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const Pair *pair = user_data;
  const char *x = *(const char *const *) a, *y = *(const char *const *) b;
  gint64 dx = difference (pair->daemon, pair->floor, x);
  gint64 dy = difference (pair->daemon, pair->floor, y);

  if (dx != dy)
    return dx < dy ? 1 : -1;
  return strcmp (x, y);
}

static GPtrArray *
sorted_names (Pair *pair)
{
  GPtrArray *names = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer name;

  g_hash_table_iter_init (&iter, pair->daemon->groups);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_ptr_array_add (names, name);
  g_hash_table_iter_init (&iter, pair->floor->groups);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!g_hash_table_contains (pair->daemon->groups, name))
      g_ptr_array_add (names, name);
  g_ptr_array_sort_with_data (names, compare_groups, pair);
  return names;
}

static void
print_row (FILE *out, const char *name, const Usage *d, const Usage *f)
{
  fprintf (out,
           "%-36s %7" G_GUINT64_FORMAT " %7" G_GUINT64_FORMAT " %+7" G_GINT64_FORMAT
           "   %7" G_GUINT64_FORMAT " %7" G_GUINT64_FORMAT " %+7" G_GINT64_FORMAT "\n",
           name, d->rss, f->rss, (gint64) d->rss - (gint64) f->rss, d->uss, f->uss,
           (gint64) d->uss - (gint64) f->uss);
}

static void
add_usage (Usage *sum, const Usage *usage)
{
  sum->rss += usage->rss;
  sum->uss += usage->uss;
}

void
bench_smaps_print_difference (BenchSmaps *daemon, BenchSmaps *floor, guint lines, FILE *out)
{
  Pair pair = { daemon, floor };
  g_autoptr (GPtrArray) names = sorted_names (&pair);
  Usage rest_d = { 0 }, rest_f = { 0 }, total_d = { 0 }, total_f = { 0 };

  fprintf (out, "\nmemory at rest by mapping (KiB), daemon and floor, largest differences first\n");
  fprintf (out, "%-36s %7s %7s %7s   %7s %7s %7s\n", "mapping", "RSS", "floor", "diff", "USS",
           "floor", "diff");
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);
      const Usage *d = usage_of (daemon, name), *f = usage_of (floor, name);

      if (lines == 0 || i < lines)
        print_row (out, name, d, f);
      else
        {
          add_usage (&rest_d, d);
          add_usage (&rest_f, f);
        }
      add_usage (&total_d, d);
      add_usage (&total_f, f);
    }
  if (lines != 0 && names->len > lines)
    {
      g_autofree char *rest = g_strdup_printf ("(%u others)", names->len - lines);

      print_row (out, rest, &rest_d, &rest_f);
    }
  print_row (out, "total", &total_d, &total_f);
}
