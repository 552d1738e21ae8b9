/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "offline-state.h"
#include "os-files.h"
#include "os-journal.h"
#include "os-store.h"
#include "os-validate.h"

#define MAGIC "offline-state advises"
/* A rewrite costs the whole file: it waits until removed lines outnumber live ones by
 * this much, so that its cost spreads over at least as many appends. */
#define REWRITE_SLACK 64
/* Far more than the advises the limits allow (their callback paths are bounded per user);
 * a bigger file is damage. */
#define OS_JOURNAL_MAX_BYTES (64 * 1024 * 1024)

struct _OsJournal
{
  GObject parent_instance;

  char *directory;
  char *path;
  char *bus_id;
  OsJournalSnapshotFunc snapshot;
  gpointer snapshot_data;

  int fd; /* -1 until the first append, or after a failure */
  guint last_token;
  guint live;    /* "+" lines of advises still live */
  guint removed; /* lines that a rewrite would drop */
  gboolean failed;
};

G_DEFINE_FINAL_TYPE (OsJournal, os_journal, G_TYPE_OBJECT)

OsAdviseRecord *
os_advise_record_new (guint token,
                      guint client_token,
                      guint state_mask,
                      const char *owner,
                      const char *callback,
                      const char *profile)
{
  OsAdviseRecord *record = g_new0 (OsAdviseRecord, 1);

  record->token = token;
  record->client_token = client_token;
  record->state_mask = state_mask;
  record->owner = g_strdup (owner);
  record->callback = g_strdup (callback);
  record->profile = g_strdup (profile);
  return record;
}

void
os_advise_record_free (OsAdviseRecord *record)
{
  g_free (record->owner);
  g_free (record->callback);
  g_free (record->profile);
  g_free (record);
}

static void
append_record_line (GString *text, const OsAdviseRecord *record)
{
  g_string_append_printf (text, "+ %u %u %u %s %s %s\n", record->token, record->client_token,
                          record->state_mask, record->owner,
                          record->callback != NULL ? record->callback : "/", record->profile);
}

char *
os_journal_serialize (const char *bus_id, guint last_token, GPtrArray *records, gsize *length)
{
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, MAGIC " %d %s %u\n", OS_JOURNAL_VERSION, bus_id, last_token);
  for (guint i = 0; i < records->len; i++)
    append_record_line (text, g_ptr_array_index (records, i));
  if (length != NULL)
    *length = text->len;
  return g_string_free (text, FALSE);
}

/* Parsing */

static gboolean
bad_line (GError **error, guint line, const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "line %u: %s", line, what);
  return FALSE;
}

static gboolean
parse_number_up_to (const char *text, guint min, guint max, guint *out)
{
  guint64 number;

  if (!g_ascii_string_to_unsigned (text, 10, min, max, &number, NULL))
    return FALSE;
  *out = (guint) number;
  return TRUE;
}

static gboolean
parse_number (const char *text, guint min, guint *out)
{
  return parse_number_up_to (text, min, G_MAXUINT, out);
}

static gboolean
parse_header (const char *line, const char *bus_id, guint *last_token, GError **error)
{
  g_auto (GStrv) fields = g_strsplit (line, " ", -1);
  guint version;

  if (g_strv_length (fields) != 5 || !g_str_has_prefix (line, MAGIC " ") ||
      !parse_number (fields[2], 0, &version) || !parse_number (fields[4], 0, last_token))
    return bad_line (error, 1, "not an offline-state advise journal");
  if (version != OS_JOURNAL_VERSION)
    return bad_line (error, 1, "a journal of another format version");
  if (g_strcmp0 (fields[3], bus_id) != 0)
    return bad_line (error, 1, "the journal of another bus");
  /* No run hands out the last token (OS_ADVISE_TOKEN_MAX): a header past it is damage. */
  if (*last_token > OS_ADVISE_TOKEN_MAX)
    return bad_line (error, 1, "every advise token is spent");
  return TRUE;
}

/* "+ token client-token state-mask owner callback profile": the profile name runs to the
 * end of the line and may hold spaces, so the split stops before it. */
static OsAdviseRecord *
parse_add (const char *line, guint number, GError **error)
{
  g_auto (GStrv) fields = g_strsplit (line, " ", 7);
  g_autoptr (GError) invalid = NULL;
  guint token, client_token, state_mask;
  const char *owner, *callback, *profile;

  if (g_strv_length (fields) != 7 ||
      !parse_number_up_to (fields[1], 1, OS_ADVISE_TOKEN_MAX, &token) ||
      !parse_number (fields[2], 0, &client_token) || !parse_number (fields[3], 0, &state_mask))
    {
      bad_line (error, number, "not an advise");
      return NULL;
    }
  owner = fields[4];
  callback = fields[5];
  profile = fields[6];
  if (!g_dbus_is_unique_name (owner))
    {
      bad_line (error, number, "the owner is not a unique bus name");
      return NULL;
    }
  if (!os_validate_advise (MAPIOFFLINE_ADVISE_DEFAULT, MAPIOFFLINE_CALLBACK_TYPE_NOTIFY, callback,
                           MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, state_mask, &invalid) ||
      !os_validate_profile_name (profile, &invalid))
    {
      bad_line (error, number, invalid->message);
      return NULL;
    }
  return os_advise_record_new (token, client_token, state_mask, owner,
                               strcmp (callback, "/") == 0 ? NULL : callback, profile);
}

static gboolean
parse_line (const char *line, guint number, GHashTable *live, guint *last_token, GError **error)
{
  guint token;

  if (g_str_has_prefix (line, "+ "))
    {
      OsAdviseRecord *record = parse_add (line, number, error);

      if (record == NULL)
        return FALSE;
      if (g_hash_table_contains (live, GUINT_TO_POINTER (record->token)))
        {
          os_advise_record_free (record);
          return bad_line (error, number, "a token that is live already");
        }
      *last_token = MAX (*last_token, record->token);
      g_hash_table_insert (live, GUINT_TO_POINTER (record->token), record);
      return TRUE;
    }
  if (g_str_has_prefix (line, "- ") && parse_number (line + 2, 1, &token))
    {
      if (!g_hash_table_remove (live, GUINT_TO_POINTER (token)))
        return bad_line (error, number, "the removal of a token that is not live");
      return TRUE;
    }
  return bad_line (error, number, "neither an advise nor a removal");
}

static int
compare_tokens (gconstpointer a, gconstpointer b)
{
  const OsAdviseRecord *x = *(OsAdviseRecord *const *) a;
  const OsAdviseRecord *y = *(OsAdviseRecord *const *) b;

  return x->token < y->token ? -1 : x->token > y->token;
}

static GPtrArray *
live_records (GHashTable *live)
{
  GPtrArray *records =
      g_ptr_array_new_full (g_hash_table_size (live), (GDestroyNotify) os_advise_record_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, live);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (records, value);
      g_hash_table_iter_steal (&iter);
    }
  g_ptr_array_sort (records, compare_tokens);
  return records;
}

/* Splits off the next whole line: NULL at the end, or when the last line has no newline.
 * A NUL byte would hide the rest of its line from the parser: such a line is "". */
static char *
next_line (const char **cursor, const char *end, gboolean *torn)
{
  const char *newline = memchr (*cursor, '\n', end - *cursor);
  const char *start = *cursor;

  *torn = newline == NULL && *cursor < end;
  if (newline == NULL)
    return NULL;
  *cursor = newline + 1;
  if (memchr (start, '\0', newline - start) != NULL)
    return g_strdup ("");
  return g_strndup (start, newline - start);
}

GPtrArray *
os_journal_parse (
    const char *data, gsize length, const char *bus_id, guint *last_token, GError **error)
{
  g_autoptr (GHashTable) live =
      g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) os_advise_record_free);
  const char *cursor = data, *end = data + length;
  g_autofree char *header = NULL;
  gboolean torn = FALSE;
  char *line;

  *last_token = 0;
  header = next_line (&cursor, end, &torn);
  if (header == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "not a whole offline-state advise journal");
      return NULL;
    }
  if (!parse_header (header, bus_id, last_token, error))
    return NULL;
  for (guint number = 2; (line = next_line (&cursor, end, &torn)) != NULL; number++)
    {
      gboolean ok = parse_line (line, number, live, last_token, error);

      g_free (line);
      if (!ok)
        return live_records (live);
    }
  if (torn)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                         "the last line was cut short");
  return live_records (live);
}

/* The file */

static void
os_journal_finalize (GObject *object)
{
  OsJournal *self = OS_JOURNAL (object);

  if (self->fd >= 0)
    close (self->fd);
  g_free (self->directory);
  g_free (self->path);
  g_free (self->bus_id);
  G_OBJECT_CLASS (os_journal_parent_class)->finalize (object);
}

static void
os_journal_class_init (OsJournalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = os_journal_finalize;
}

static void
os_journal_init (OsJournal *self)
{
  self->fd = -1;
}

OsJournal *
os_journal_new (const char *directory,
                const char *bus_id,
                OsJournalSnapshotFunc snapshot,
                gpointer user_data)
{
  OsJournal *self = g_object_new (OS_TYPE_JOURNAL, NULL);
  g_autofree char *name = g_strconcat ("advises-", bus_id, NULL);

  g_return_val_if_fail (strchr (bus_id, '/') == NULL && bus_id[0] != '.', NULL);
  self->directory = g_strdup (directory);
  self->path = g_build_filename (directory, name, NULL);
  self->bus_id = g_strdup (bus_id);
  self->snapshot = snapshot;
  self->snapshot_data = user_data;
  return self;
}

void
os_journal_delete (OsJournal *self)
{
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  os_remove_write_leftovers (self->path);
  if (g_unlink (self->path) == 0)
    g_debug ("Removed %s", self->path);
  else if (errno != ENOENT)
    g_warning ("Could not remove %s: %s", self->path, g_strerror (errno));
}

const char *
os_journal_get_path (OsJournal *self)
{
  return self->path;
}

/* The whole file is not to be trusted: it is set aside, and the daemon starts afresh. */
static GPtrArray *
damaged (OsJournal *self, const char *why)
{
  g_autofree char *aside = os_set_aside (self->path);

  if (aside != NULL)
    g_warning ("No advises restored: %s is damaged (%s); kept it as %s", self->path, why, aside);
  else
    g_warning ("No advises restored: %s is damaged (%s) and could not be kept aside: %s",
               self->path, why, g_strerror (errno));
  return g_ptr_array_new_with_free_func ((GDestroyNotify) os_advise_record_free);
}

GPtrArray *
os_journal_load (OsJournal *self, guint *last_token)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;
  GPtrArray *records;

  *last_token = 0;
  os_remove_write_leftovers (self->path);
  if (!os_read_regular_file (self->path, OS_JOURNAL_MAX_BYTES, &data, &length, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_ptr_array_new_with_free_func ((GDestroyNotify) os_advise_record_free);
      return damaged (self, error->message);
    }
  records = os_journal_parse (data, length, self->bus_id, last_token, &error);
  if (records == NULL)
    {
      *last_token = 0;
      return damaged (self, error->message);
    }
  if (error != NULL)
    g_warning ("%s: the rest is ignored after %s", self->path, error->message);
  self->last_token = *last_token;
  return records;
}

static void
fail (OsJournal *self, const char *what, int saved_errno)
{
  g_warning ("Could not %s %s: %s; the advises will be written again with the next change", what,
             self->path, g_strerror (saved_errno));
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
}

static gboolean
write_all (int fd, const char *data, gsize length)
{
  while (length > 0)
    {
      gssize written = write (fd, data, length);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        return FALSE;
      data += written;
      length -= written;
    }
  return TRUE;
}

void
os_journal_rewrite (OsJournal *self)
{
  g_autoptr (GPtrArray) records = self->snapshot (self->snapshot_data);
  g_autofree char *text = NULL;
  g_autofree char *temporary = NULL;
  gsize length;

  g_ptr_array_sort (records, compare_tokens);
  if (records->len > 0)
    self->last_token =
        MAX (self->last_token,
             ((OsAdviseRecord *) g_ptr_array_index (records, records->len - 1))->token);
  text = os_journal_serialize (self->bus_id, self->last_token, records, &length);
  if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;
  self->live = records->len;
  self->removed = 0;
  if (g_mkdir_with_parents (self->directory, 0700) < 0)
    {
      fail (self, "create the folder of", errno);
      return;
    }
  /* Atomic (a rename), not durable: the runtime folder does not outlive the machine, so a
   * sync would buy nothing, and would stall the main loop for as long as the disk takes. The
   * file written stays open for the appends that follow. */
  temporary = g_strconcat (self->path, ".XXXXXX", NULL);
  self->fd = g_mkstemp_full (temporary, O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0)
    {
      fail (self, "create a new", errno);
      return;
    }
  if (!write_all (self->fd, text, length) || g_rename (temporary, self->path) < 0)
    {
      int saved_errno = errno;

      g_unlink (temporary);
      fail (self, "write", saved_errno);
    }
}

/* One whole line per write(2): a killed process leaves no line half-written. A line cut
 * short by a full disk would end every later replay, so the file is rewritten instead. */
static void
append (OsJournal *self, const char *line, gsize length)
{
  if (self->fd < 0)
    {
      os_journal_rewrite (self);
      return;
    }
  if (!write_all (self->fd, line, length))
    {
      fail (self, "append to", errno);
      return;
    }
  if (self->removed > self->live + REWRITE_SLACK)
    os_journal_rewrite (self);
}

void
os_journal_add (OsJournal *self, const OsAdviseRecord *record)
{
  g_autoptr (GString) line = g_string_new (NULL);

  append_record_line (line, record);
  self->last_token = MAX (self->last_token, record->token);
  self->live++;
  append (self, line->str, line->len);
}

void
os_journal_remove (OsJournal *self, guint token)
{
  char line[32];
  int length = g_snprintf (line, sizeof line, "- %u\n", token);

  if (self->live > 0)
    self->live--;
  self->removed += 2;
  append (self, line, length);
}
