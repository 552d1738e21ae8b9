/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os-files.h"

gboolean
os_read_regular_file (
    const char *path, gsize max_bytes, char **contents, gsize *length, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
  g_autoptr (GString) text = NULL;
  struct stat st;
  char buffer[65536];
  gssize n;

  if (fd < 0)
    {
      int saved = errno;

      /* O_NOFOLLOW on a symbolic link */
      if (saved == ELOOP)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is a symbolic link", path);
      else
        g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot open %s: %s",
                     path, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot read %s: %s", path,
                   g_strerror (saved));
      close (fd);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode) || (guint64) st.st_size > max_bytes)
    {
      if (S_ISREG (st.st_mode))
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                     "%s is larger than %" G_GSIZE_FORMAT " bytes", path, max_bytes);
      else
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s is not a regular file", path);
      close (fd);
      return FALSE;
    }
  text = g_string_sized_new (st.st_size + 1);
  while ((n = read (fd, buffer, sizeof buffer)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 || text->len + n > max_bytes)
        {
          int saved = n < 0 ? errno : EFBIG;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "cannot read %s: %s",
                       path, g_strerror (saved));
          close (fd);
          return FALSE;
        }
      g_string_append_len (text, buffer, n);
    }
  close (fd);
  *length = text->len;
  *contents = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}

char *
os_set_aside (const char *path)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *aside = g_strdup_printf ("%s.damaged-%s", path, stamp);

  /* Never replace a copy kept earlier: each damaged file may be the one worth reading. */
  for (guint n = 1; g_file_test (aside, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK); n++)
    {
      g_free (aside);
      aside = g_strdup_printf ("%s.damaged-%s.%u", path, stamp, n);
    }
  if (g_rename (path, aside) < 0)
    return NULL;
  return g_steal_pointer (&aside);
}

/* The process named in a lock file, for the message of a refusal. */
static char *
holder_of (int fd)
{
  char text[32];
  gssize n = pread (fd, text, sizeof text - 1, 0);
  guint64 pid;

  if (n <= 0)
    return g_strdup ("another instance");
  text[n] = '\0';
  g_strchomp (text);
  if (!g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT, &pid, NULL))
    return g_strdup ("another instance");
  return g_strdup_printf ("another instance (process %" G_GUINT64_FORMAT ")", pid);
}

static int
open_lock_file (const char *directory, char **path, GError **error)
{
  int fd;

  *path = g_build_filename (directory, OS_LOCK_FILE, NULL);
  if (g_mkdir_with_parents (directory, 0700) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot create %s: %s",
                   directory, g_strerror (saved));
      return -1;
    }
  fd = g_open (*path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
  /* A read-only folder (a read-only mount, or a folder this user may not write): the lock
   * file as it is, or else the folder itself. Nothing can be written there either way. */
  if (fd < 0 && (errno == EROFS || errno == EACCES))
    fd = g_open (*path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0 && errno == ENOENT)
    fd = g_open (directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot open %s: %s", *path,
                   g_strerror (saved));
    }
  return fd;
}

/* The lock is ours: the file names this process. */
static int
mark_held (int fd)
{
  char text[32];
  int length = g_snprintf (text, sizeof text, "%d\n", (int) getpid ());

  /* Read-only, the lock file keeps the name of the last process that wrote it. */
  if (ftruncate (fd, 0) < 0 || pwrite (fd, text, length, 0) != length)
    g_debug ("Could not write the process ID into a lock file: %s", g_strerror (errno));
  return fd;
}

int
os_lock_folder (const char *directory, GError **error)
{
  g_autofree char *path = NULL;
  int fd = open_lock_file (directory, &path, error);

  if (fd < 0)
    return -1;
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    return mark_held (fd);
  if (errno == EWOULDBLOCK)
    {
      g_autofree char *holder = holder_of (fd);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY, "%s is in use by %s", directory, holder);
    }
  else
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot lock %s: %s", path,
                   g_strerror (saved));
    }
  close (fd);
  return -1;
}

static void
lock_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  const char *directory = task_data;
  g_autofree char *path = NULL;
  GError *error = NULL;
  int fd = open_lock_file (directory, &path, &error);

  if (fd < 0)
    {
      g_task_return_error (task, error);
      return;
    }
  while (flock (fd, LOCK_EX) < 0)
    {
      int saved = errno;

      if (saved == EINTR)
        continue;
      close (fd);
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               "cannot lock %s: %s", path, g_strerror (saved));
      return;
    }
  g_task_return_int (task, mark_held (fd));
}

void
os_lock_folder_async (const char *directory, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, callback, user_data);

  g_task_set_source_tag (task, os_lock_folder_async);
  g_task_set_task_data (task, g_strdup (directory), g_free);
  g_task_run_in_thread (task, lock_in_thread);
}

int
os_lock_folder_finish (GAsyncResult *result, GError **error)
{
  gssize fd = g_task_propagate_int (G_TASK (result), error);

  return fd < 0 ? -1 : (int) fd;
}
