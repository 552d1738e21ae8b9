/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Changes of persisted state, on disk first: each change is written with the next snapshot of
 * the state file (OsStore), and made in memory by whoever asked only once its write is over.
 * What had to be made in memory although its write failed is listed as unsaved, and saved
 * with the next write that succeeds, tried again meanwhile.
 *
 * Signal: "change-done", after the one who asked for a change has heard how its write went
 * (its OsStoreDone has run).
 */
#pragma once

#include <gio/gio.h>

#include "os-store.h"

G_BEGIN_DECLS

#define OS_TYPE_CHANGES (os_changes_get_type ())
G_DECLARE_FINAL_TYPE (OsChanges, os_changes, OS, CHANGES, GObject)

/* @store NULL: nothing is kept on disk (--ephemeral). @source is the object whose state
 * @store's snapshots read: each write holds a reference to it until it is over. */
OsChanges *os_changes_new (OsStore *store, GObject *source);

/* @done hears whether @record's change (see os_store_change()) is on disk, and only then is it
 * made in memory, by whoever asked. At the next idle when nothing is kept on disk. */
void os_changes_record (OsChanges *self,
                        OsChangeKind kind,
                        const OsProfileRecord *record,
                        OsStoreDone done,
                        gpointer user_data);

/* @what (one line) is in memory only, since a write failed with @error: it is saved with the
 * next write that succeeds, tried again meanwhile. */
void os_changes_note_unsaved (OsChanges *self, const char *what, const GError *error);

/* What is in memory only, one line each, NULL-terminated; NULL when everything is on disk. */
const char *const *os_changes_get_unsaved (OsChanges *self);

/* Writes the current state; @done hears how it went (at once when nothing is kept on disk). */
void os_changes_save (OsChanges *self, OsStoreDone done, gpointer user_data);

/* TRUE while a write is running. */
gboolean os_changes_is_saving (OsChanges *self);

/* IOError for @what, which the disk did not take (@cause) and which was not made. */
void os_set_disk_error (GError **error, const char *what, const GError *cause);

G_END_DECLS
