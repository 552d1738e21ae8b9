/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The advises kept in the runtime folder (docs/daemon.md: advises survive a restart), so that a
 * daemon started after a crash serves the clients still on the bus without their advising again.
 *
 * One file per bus, "advises-<bus id>": unique names are never reused on one bus, but a new
 * bus (a second session bus, a private test bus) hands out the same names again. The file is
 * a journal of whole lines, each written with one write(2) to a file opened O_APPEND:
 *
 *   offline-state advises 1 <bus id> <highest token handed out before this file>
 *   + <token> <client token> <state mask> <owner> <callback path, / by signal> <profile name>
 *   - <token>
 *
 * A profile name holds no control character, so it runs to the end of its line.
 * A process that is killed leaves every line it wrote whole (the data is in the kernel
 * before write(2) returns), so the file tells the advises live at the crash. A line cut
 * short, by a machine crash or a full disk, ends the replay there. When removed lines
 * outnumber live ones, the file is replaced, atomically, by the live advises alone.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define OS_JOURNAL_VERSION 1

/* The highest advise token ever handed out: G_MAXUINT in a journal is damage. */
#define OS_ADVISE_TOKEN_MAX (G_MAXUINT - 1)

/* What is kept of one advise. */
typedef struct
{
  guint token;
  guint client_token;
  guint state_mask;
  char *owner;    /* the unique bus name of the advising connection */
  char *callback; /* the client's OfflineNotify object path; NULL: delivered by signal */
  char *profile;  /* the profile's name */
} OsAdviseRecord;

OsAdviseRecord *os_advise_record_new (guint token,
                                      guint client_token,
                                      guint state_mask,
                                      const char *owner,
                                      const char *callback,
                                      const char *profile);
void os_advise_record_free (OsAdviseRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OsAdviseRecord, os_advise_record_free)

/* The text of a journal that holds exactly @records (OsAdviseRecord), for bus @bus_id,
 * whose tokens so far went up to @last_token. */
char *
os_journal_serialize (const char *bus_id, guint last_token, GPtrArray *records, gsize *length);

/* Replays a journal's text. Returns the advises it leaves live (OsAdviseRecord, in token
 * order) and sets *@last_token to the highest token the header or any line named, so that a token
 * is never handed out twice to one bus's clients. Every value is checked as Advise checks it. A
 * header for another bus or version, or nothing readable at all, is an error (NULL). A bad or
 * unfinished line later on ends the replay there: the advises before it are returned, and *@error
 * (if not NULL) says what was wrong. */
GPtrArray *os_journal_parse (
    const char *data, gsize length, const char *bus_id, guint *last_token, GError **error);

/* The live advises when the journal is rewritten (OsAdviseRecord). */
typedef GPtrArray *(*OsJournalSnapshotFunc) (gpointer user_data);

#define OS_TYPE_JOURNAL (os_journal_get_type ())
G_DECLARE_FINAL_TYPE (OsJournal, os_journal, OS, JOURNAL, GObject)

/* The journal of bus @bus_id in @directory (created, mode 0700, when missing). */
OsJournal *os_journal_new (const char *directory,
                           const char *bus_id,
                           OsJournalSnapshotFunc snapshot,
                           gpointer user_data);
const char *os_journal_get_path (OsJournal *self);
/* Removes the file, for good: its bus is gone, and no client of it can come back, or it holds
 * no advise at the daemon's exit. A later change would write it again; the caller stops
 * making them. */
void os_journal_delete (OsJournal *self);

/* What the file holds now (see os_journal_parse()); an empty array when there is no file.
 * A damaged tail is logged. */
GPtrArray *os_journal_load (OsJournal *self, guint *last_token);

/* Replaces the file, atomically, by a snapshot of the live advises (the header alone when
 * there are none). Later appends go to the new file. */
void os_journal_rewrite (OsJournal *self);

/* Each is on record when it returns (a failure is logged, and the next rewrite retries). */
void os_journal_add (OsJournal *self, const OsAdviseRecord *record);
void os_journal_remove (OsJournal *self, guint token);

G_END_DECLS
