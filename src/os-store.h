/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* What is persisted of one profile. */
typedef struct
{
  char *name;
  guint capabilities;
  guint state;
  guint64 sequence;
} OsProfileRecord;

OsProfileRecord *
os_profile_record_new (const char *name, guint capabilities, guint state, guint64 sequence);
void os_profile_record_free (OsProfileRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OsProfileRecord, os_profile_record_free)

/* The state file's text, and back. Parsing checks every value as the D-Bus reference allows it. */
char *os_store_serialize (GPtrArray *records, gsize *length);
GPtrArray *os_store_parse (const char *data, gsize length, GError **error);

/* Builds the current records when a write starts, so that queued writes coalesce. */
typedef GPtrArray *(*OsStoreSnapshotFunc) (gpointer user_data);

#define OS_TYPE_STORE (os_store_get_type ())
G_DECLARE_FINAL_TYPE (OsStore, os_store, OS, STORE, GObject)

OsStore *os_store_new (const char *directory, OsStoreSnapshotFunc snapshot, gpointer user_data);
const char *os_store_get_path (OsStore *self);

/* Reads the state file, if it is a regular file (see os-files.h). Returns NULL with *found
 * FALSE when there is none, or when it was damaged or unreadable: then it has been logged and
 * renamed aside. Of more than @max_profiles, the first are returned, and a copy of the whole
 * file is kept as "state.ini.over-limit-<UTC time>". */
GPtrArray *os_store_load (OsStore *self, guint max_profiles, gboolean *found);

/* What a change does to the records of the snapshot it is written with. */
typedef enum
{
  OS_CHANGE_NONE,         /* nothing: a plain save */
  OS_CHANGE_CREATE,       /* adds the record, unless its name is there */
  OS_CHANGE_REMOVE,       /* removes the record of that name */
  OS_CHANGE_CAPABILITIES, /* sets the capabilities of the record of that name, if any */
  OS_CHANGE_STATE,        /* sets its state and sequence, if any */
} OsChangeKind;

/* Called once the write that holds a change is over, before the next write starts: @error
 * is NULL if the change is on disk. */
typedef void (*OsStoreDone) (gpointer user_data, const GError *error);

/* Writes the next snapshot with @record's change made (after those queued before it), in a
 * worker thread, atomically and durably; calls @done then. Changes that come while a write
 * runs share the next one. */
void os_store_change (OsStore *self,
                      OsChangeKind kind,
                      const OsProfileRecord *record,
                      OsStoreDone done,
                      gpointer user_data);

/* Writes a snapshot (no change); completes once it is on disk. */
void os_store_save_async (OsStore *self,
                          GCancellable *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer user_data);
gboolean os_store_save_finish (OsStore *self, GAsyncResult *result, GError **error);

gboolean os_store_is_busy (OsStore *self);

/* Removes the temporary files that atomic writes of @path left when the process was
 * killed between writing and renaming ("<path>.XXXXXX"). */
void os_remove_write_leftovers (const char *path);

G_END_DECLS
