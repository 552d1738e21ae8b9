/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench-procs.h"

#define EXIT_TIMEOUT_MS 10000

BenchChild *
bench_child_spawn (GSubprocessLauncher *launcher,
                   const char *name,
                   const char *const *argv,
                   GError **error)
{
  GSubprocess *process = g_subprocess_launcher_spawnv (launcher, argv, error);
  BenchChild *child;

  if (process == NULL)
    return NULL;
  child = g_new0 (BenchChild, 1);
  child->name = g_strdup (name);
  child->process = process;
  child->input_fd =
      g_unix_output_stream_get_fd (G_UNIX_OUTPUT_STREAM (g_subprocess_get_stdin_pipe (process)));
  bench_line_reader_init (&child->output, g_unix_input_stream_get_fd (G_UNIX_INPUT_STREAM (
                                              g_subprocess_get_stdout_pipe (process))));
  return child;
}

void
bench_child_send (BenchChild *child, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  bench_write_line (child->input_fd, "%s", text);
}

char *
bench_child_read (BenchChild *child, guint timeout_ms, GError **error)
{
  char *line = bench_line_reader_read (&child->output, timeout_ms, error);

  if (line == NULL)
    g_prefix_error (error, "%s: ", child->name);
  return line;
}

gboolean
bench_child_expect (BenchChild *child, const char *answer, guint timeout_ms, GError **error)
{
  g_autofree char *line = bench_child_read (child, timeout_ms, error);

  if (line == NULL)
    return FALSE;
  if (!g_str_equal (line, answer))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s answered '%s', not '%s'", child->name,
                   line, answer);
      return FALSE;
    }
  return TRUE;
}

/* Closing its standard input is how a subscriber or the baseline is told to exit. */
void
bench_child_free (BenchChild *child)
{
  g_output_stream_close (g_subprocess_get_stdin_pipe (child->process), NULL, NULL);
  bench_process_stop (child->process, 0, EXIT_TIMEOUT_MS);
  bench_line_reader_clear (&child->output);
  g_object_unref (child->process);
  g_free (child->name);
  g_free (child);
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
on_exit_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

static gboolean
wait_exit (GSubprocess *process, guint timeout_ms)
{
  gboolean exited = FALSE, timed_out = FALSE;
  guint timeout_id = g_timeout_add_once (timeout_ms, on_exit_timeout, &timed_out);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  g_subprocess_wait_async (process, cancellable, on_exited, &exited);
  while (!exited && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  /* The pending wait must not write into this frame once it has returned. */
  g_cancellable_cancel (cancellable);
  while (!exited)
    g_main_context_iteration (NULL, TRUE);
  return g_subprocess_get_identifier (process) == NULL;
}

void
bench_process_stop (GSubprocess *process, int signum, guint timeout_ms)
{
  if (g_subprocess_get_identifier (process) == NULL)
    return;
  if (signum != 0)
    g_subprocess_send_signal (process, signum);
  if (wait_exit (process, timeout_ms))
    return;
  g_printerr ("bench: pid %s did not exit in %u ms: killing it\n",
              g_subprocess_get_identifier (process), timeout_ms);
  g_subprocess_force_exit (process);
  wait_exit (process, timeout_ms);
}

static guint64
read_kib (GSubprocess *process, const char *file, const char *field)
{
  const char *pid = g_subprocess_get_identifier (process);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *key = g_strconcat ("\n", field, NULL);
  const char *line;

  if (pid == NULL)
    return 0;
  path = g_strdup_printf ("/proc/%s/%s", pid, file);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  line = strstr (text, key);
  return line != NULL ? g_ascii_strtoull (line + strlen (key), NULL, 10) : 0;
}

guint64
bench_process_rss_kib (GSubprocess *process)
{
  return read_kib (process, "status", "VmRSS:");
}

guint64
bench_process_smaps_kib (GSubprocess *process, const char *field)
{
  return read_kib (process, "smaps_rollup", field);
}

/* From each thread's schedstat, whose first field is its time on a CPU in ns: finer than
 * the clock ticks of /proc/PID/stat, and the GDBus thread counts as much as the main one. */
guint64
bench_process_cpu_ns (GSubprocess *process)
{
  const char *pid = g_subprocess_get_identifier (process);
  g_autofree char *tasks = NULL;
  g_autoptr (GDir) dir = NULL;
  const char *task;
  guint64 total = 0;

  if (pid == NULL)
    return 0;
  tasks = g_strdup_printf ("/proc/%s/task", pid);
  dir = g_dir_open (tasks, 0, NULL);
  while (dir != NULL && (task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (tasks, task, "schedstat", NULL);
      g_autofree char *stat = NULL;

      if (g_file_get_contents (path, &stat, NULL, NULL))
        total += g_ascii_strtoull (stat, NULL, 10);
    }
  return total;
}

/* From /proc/PID/stat, utime and stime: in clock ticks (10 ms), but with the time of
 * threads that have ended, such as GLib's pool threads, which the sum above loses. */
guint64
bench_process_cpu_ticks_ns (GSubprocess *process)
{
  const char *pid = g_subprocess_get_identifier (process);
  g_autofree char *path = NULL;
  g_autofree char *stat = NULL;
  const char *fields;
  guint64 utime, stime;

  if (pid == NULL)
    return 0;
  path = g_strdup_printf ("/proc/%s/stat", pid);
  /* The command name may hold spaces and parentheses: the fields start after the last ')'. */
  if (!g_file_get_contents (path, &stat, NULL, NULL) || (fields = strrchr (stat, ')')) == NULL ||
      sscanf (fields,
              ") %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT,
              &utime, &stime) != 2)
    return 0;
  return (utime + stime) * (G_GUINT64_CONSTANT (1000000000) / (guint64) sysconf (_SC_CLK_TCK));
}

/* From the first line of /proc/stat, all CPUs together: idle and iowait, in clock ticks
 * (10 ms), so it reads well only over long spans. */
guint64
bench_machine_idle_ns (void)
{
  g_autofree char *stat = NULL;
  guint64 user, nice, system, idle, iowait;

  if (!g_file_get_contents ("/proc/stat", &stat, NULL, NULL) ||
      sscanf (stat,
              "cpu %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT,
              &user, &nice, &system, &idle, &iowait) != 5)
    return 0;
  return (idle + iowait) * (G_GUINT64_CONSTANT (1000000000) / (guint64) sysconf (_SC_CLK_TCK));
}

guint64
bench_raise_fd_limit (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return 0;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit (RLIMIT_NOFILE, &limit) != 0)
    getrlimit (RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}
