/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The daemon's files, opened as what they should be and nothing else.
 *
 * A state or journal file is read only if it is a regular file of sane size: opened without
 * following a symbolic link and without blocking (a FIFO in its place would hang open(2)),
 * then checked with fstat(2). Anything else is damage, never quoted.
 *
 * A folder (the state folder, the runtime folder) has one owner at a time: the instance that
 * holds flock(2) on its "lock" file, which names that instance's process. The lock is taken
 * before anything in the folder is read or removed, and let go when the process ends, after
 * its last write.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define OS_LOCK_FILE "lock"

/* Reads @path whole if it is a regular file of at most @max_bytes. A missing file is
 * G_FILE_ERROR_NOENT; anything else that is not such a file, G_FILE_ERROR_INVAL. */
gboolean os_read_regular_file (
    const char *path, gsize max_bytes, char **contents, gsize *length, GError **error);

/* Renames the damaged file @path to "<path>.damaged-<UTC time>" (never over an earlier one),
 * whatever it is, without reading it. Returns the new name, or NULL (errno set). */
char *os_set_aside (const char *path);

/* Creates @directory (mode 0700) if needed and takes its lock at once: the file descriptor
 * that holds it, or -1 with @error set. When another process holds it, the error is
 * G_IO_ERROR_BUSY and says which process. */
int os_lock_folder (const char *directory, GError **error);

/* The same, waiting in a thread of its own for the holder to let go. The caller bounds the
 * wait: a process that gives up exits, and the thread with it. */
void os_lock_folder_async (const char *directory, GAsyncReadyCallback callback, gpointer user_data);
int os_lock_folder_finish (GAsyncResult *result, GError **error);

G_END_DECLS
