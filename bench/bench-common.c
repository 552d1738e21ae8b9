/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-common.h"

gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

void
bench_write_line (int fd, const char *format, ...)
{
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;
  va_list args;
  gsize written = 0, length;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  line = g_strconcat (text, "\n", NULL);
  length = strlen (line);
  while (written < length)
    {
      ssize_t n = write (fd, line + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        g_error ("cannot write to fd %d: %s", fd, g_strerror (errno));
      written += (gsize) n;
    }
}

void
bench_line_reader_init (BenchLineReader *reader, int fd)
{
  reader->fd = fd;
  reader->buffer = g_string_new (NULL);
}

void
bench_line_reader_clear (BenchLineReader *reader)
{
  if (reader->buffer != NULL)
    g_string_free (reader->buffer, TRUE);
  reader->buffer = NULL;
}

static char *
take_line (BenchLineReader *reader)
{
  char *newline = memchr (reader->buffer->str, '\n', reader->buffer->len);
  gsize length;
  char *line;

  if (newline == NULL)
    return NULL;
  length = (gsize) (newline - reader->buffer->str);
  line = g_strndup (reader->buffer->str, length);
  g_string_erase (reader->buffer, 0, (gssize) length + 1);
  return line;
}

/* The waits of the whole run go through here: a child that hangs fails the run instead
 * of stalling it. */
char *
bench_line_reader_read (BenchLineReader *reader, guint timeout_ms, GError **error)
{
  gint64 deadline = bench_now_ns () + (gint64) timeout_ms * 1000000;
  char chunk[4096];

  for (;;)
    {
      char *line = take_line (reader);
      struct pollfd pfd = { reader->fd, POLLIN, 0 };
      gint64 left_ms = (deadline - bench_now_ns ()) / 1000000;
      ssize_t n;

      if (line != NULL)
        return line;
      if (left_ms <= 0 || poll (&pfd, 1, (int) left_ms) == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer in %u ms", timeout_ms);
          return NULL;
        }
      n = read (reader->fd, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "the pipe closed%s%s",
                       n < 0 ? ": " : "", n < 0 ? g_strerror (errno) : "");
          return NULL;
        }
      g_string_append_len (reader->buffer, chunk, n);
    }
}
