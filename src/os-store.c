/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "os-error.h"
#include "os-files.h"
#include "os-store.h"
#include "os-validate.h"

#define STATE_FILE "state.ini"
/* Far more than --max-profiles of the longest names; a bigger file is damage. */
#define OS_STORE_MAX_BYTES   (16 * 1024 * 1024)
#define FORMAT_GROUP         "OfflineState"
#define FORMAT_VERSION       1
#define PROFILE_GROUP_PREFIX "Profile "

struct _OsStore
{
  GObject parent_instance;

  char *directory;
  char *path;
  OsStoreSnapshotFunc snapshot;
  gpointer snapshot_data;

  gboolean writing;
  GPtrArray *in_flight; /* Entry: in the running write */
  GPtrArray *queued;    /* Entry: in the next one */
};

/* A change waiting for its write, or a plain save (no change). */
typedef struct
{
  OsChangeKind kind;
  OsProfileRecord *record;
  OsStoreDone done;
  gpointer user_data;
} Entry;

static void
entry_free (Entry *entry)
{
  g_clear_pointer (&entry->record, os_profile_record_free);
  g_free (entry);
}

G_DEFINE_FINAL_TYPE (OsStore, os_store, G_TYPE_OBJECT)

OsProfileRecord *
os_profile_record_new (const char *name, guint capabilities, guint state, guint64 sequence)
{
  OsProfileRecord *record = g_new0 (OsProfileRecord, 1);

  record->name = g_strdup (name);
  record->capabilities = capabilities;
  record->state = state;
  record->sequence = sequence;
  return record;
}

void
os_profile_record_free (OsProfileRecord *record)
{
  g_free (record->name);
  g_free (record);
}

char *
os_store_serialize (GPtrArray *records, gsize *length)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();

  g_key_file_set_integer (file, FORMAT_GROUP, "Version", FORMAT_VERSION);
  for (guint i = 0; i < records->len; i++)
    {
      const OsProfileRecord *record = g_ptr_array_index (records, i);
      g_autofree char *group = g_strdup_printf (PROFILE_GROUP_PREFIX "%u", i);

      g_key_file_set_string (file, group, "Name", record->name);
      g_key_file_set_uint64 (file, group, "Capabilities", record->capabilities);
      g_key_file_set_uint64 (file, group, "State", record->state);
      g_key_file_set_uint64 (file, group, "Sequence", record->sequence);
    }
  return g_key_file_to_data (file, length, NULL);
}

static gboolean
read_uint (
    GKeyFile *file, const char *group, const char *key, guint64 max, guint64 *out, GError **error)
{
  g_autofree char *text = g_key_file_get_value (file, group, key, error);

  if (text == NULL)
    return FALSE;
  return g_ascii_string_to_unsigned (text, 10, 0, max, out, error);
}

static OsProfileRecord *
parse_profile (GKeyFile *file, const char *group, GError **error)
{
  g_autoptr (GError) failure = NULL;
  g_autofree char *name = NULL;
  guint64 capabilities, state, sequence;

  /* GKeyFile may hand back a name and an error at once (for a value that ends in a lone
   * backslash): the error is what counts. */
  name = g_key_file_get_string (file, group, "Name", &failure);
  if (failure != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&failure), "[%s]: ", group);
      return NULL;
    }
  if (!os_validate_profile_name (name, error) ||
      !read_uint (file, group, "Capabilities", G_MAXUINT, &capabilities, error) ||
      !os_validate_capabilities (capabilities, error) ||
      !read_uint (file, group, "State", G_MAXUINT, &state, error) ||
      !os_validate_state (state, error) ||
      !read_uint (file, group, "Sequence", G_MAXUINT64, &sequence, error))
    {
      g_prefix_error (error, "[%s]: ", group);
      return NULL;
    }
  return os_profile_record_new (name, capabilities, state, sequence);
}

GPtrArray *
os_store_parse (const char *data, gsize length, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GPtrArray) records =
      g_ptr_array_new_with_free_func ((GDestroyNotify) os_profile_record_free);
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  g_auto (GStrv) groups = NULL;
  guint64 version;

  /* GKeyFile quotes the line it could not read: whatever the file is, it is not quoted. */
  if (!g_key_file_load_from_data (file, data, length, G_KEY_FILE_NONE, NULL))
    {
      g_set_error_literal (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_PARSE,
                           "not a key file of UTF-8 lines");
      return NULL;
    }
  if (!read_uint (file, FORMAT_GROUP, "Version", G_MAXUINT, &version, error))
    return NULL;
  if (version != FORMAT_VERSION)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "format version %" G_GUINT64_FORMAT " is not %d", version, FORMAT_VERSION);
      return NULL;
    }

  groups = g_key_file_get_groups (file, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      OsProfileRecord *record;

      if (!g_str_has_prefix (groups[i], PROFILE_GROUP_PREFIX))
        continue;
      record = parse_profile (file, groups[i], error);
      if (record == NULL)
        return NULL;
      g_ptr_array_add (records, record);
      if (!g_hash_table_add (names, record->name))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "profile '%s' appears twice", record->name);
          return NULL;
        }
    }
  return g_steal_pointer (&records);
}

static void
os_store_finalize (GObject *object)
{
  OsStore *self = OS_STORE (object);

  g_assert (!self->writing);
  g_ptr_array_unref (self->in_flight);
  g_ptr_array_unref (self->queued);
  g_free (self->directory);
  g_free (self->path);
  G_OBJECT_CLASS (os_store_parent_class)->finalize (object);
}

static void
os_store_class_init (OsStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = os_store_finalize;
}

static void
os_store_init (OsStore *self)
{
  self->in_flight = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->queued = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
}

OsStore *
os_store_new (const char *directory, OsStoreSnapshotFunc snapshot, gpointer user_data)
{
  OsStore *self = g_object_new (OS_TYPE_STORE, NULL);

  self->directory = g_strdup (directory);
  self->path = g_build_filename (directory, STATE_FILE, NULL);
  self->snapshot = snapshot;
  self->snapshot_data = user_data;
  return self;
}

const char *
os_store_get_path (OsStore *self)
{
  return self->path;
}

static void
set_aside (OsStore *self, const char *reason)
{
  g_autofree char *why = g_utf8_make_valid (reason, -1);
  g_autofree char *aside = os_set_aside (self->path);

  if (aside != NULL)
    g_warning ("State file %s is damaged (%s); kept it as %s and started with defaults", self->path,
               why, aside);
  else
    g_warning ("State file %s is damaged (%s) and could not be kept aside (%s); started "
               "with defaults",
               self->path, why, g_strerror (errno));
}

/* More profiles than --max-profiles: the first ones are loaded, and a copy of the whole file
 * is kept beside it, since the next write will hold only those. */
static void
keep_excess (OsStore *self, const char *data, gsize length, guint found, guint max_profiles)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *copy = g_strdup_printf ("%s.over-limit-%s", self->path, stamp);
  g_autoptr (GError) error = NULL;

  if (g_file_set_contents_full (copy, data, length,
                                G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
                                &error))
    g_warning ("State file %s holds %u profiles, more than --max-profiles=%u allows: loaded the "
               "first %u; the whole file is kept as %s (a larger --max-profiles loads it all)",
               self->path, found, max_profiles, max_profiles, copy);
  else
    g_warning ("State file %s holds %u profiles, more than --max-profiles=%u allows: loaded the "
               "first %u; the file could not be copied (%s), so it is left as it is until a "
               "profile changes",
               self->path, found, max_profiles, max_profiles, error->message);
}

/* g_file_set_contents_full() writes "<name>.XXXXXX" and renames it over <name>: a process
 * killed in between leaves the temporary file behind, and nothing else would remove it. */
static gboolean
is_leftover (const char *name, const char *base)
{
  gsize length = strlen (base);

  if (strncmp (name, base, length) != 0 || name[length] != '.' || strlen (name) != length + 7)
    return FALSE;
  for (const char *p = name + length + 1; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

void
os_remove_write_leftovers (const char *path)
{
  g_autofree char *directory = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autoptr (GDir) dir = g_dir_open (directory, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *leftover = NULL;

      if (!is_leftover (name, base))
        continue;
      leftover = g_build_filename (directory, name, NULL);
      if (g_unlink (leftover) == 0)
        g_message ("Removed %s, left by a write that was cut short", leftover);
    }
}

GPtrArray *
os_store_load (OsStore *self, guint max_profiles, gboolean *found)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;
  GPtrArray *records;

  *found = FALSE;
  os_remove_write_leftovers (self->path);
  if (!os_read_regular_file (self->path, OS_STORE_MAX_BYTES, &data, &length, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        set_aside (self, error->message);
      return NULL;
    }
  records = os_store_parse (data, length, &error);
  if (records == NULL)
    {
      set_aside (self, error->message);
      return NULL;
    }
  if (records->len > max_profiles)
    {
      keep_excess (self, data, length, records->len, max_profiles);
      g_ptr_array_set_size (records, max_profiles);
    }
  *found = TRUE;
  return records;
}

static void
write_in_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  OsStore *self = source;
  GBytes *bytes = task_data;
  GError *error = NULL;

  if (g_mkdir_with_parents (self->directory, 0700) < 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved),
                               "cannot create %s: %s", self->directory, g_strerror (saved));
      return;
    }
  if (!g_file_set_contents_full (
          self->path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void start_write (OsStore *self);

static void
write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsStore *self = OS_STORE (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) answered = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_warning ("Could not write %s: %s", self->path, error->message);

  answered = g_steal_pointer (&self->in_flight);
  self->in_flight = g_steal_pointer (&self->queued);
  self->queued = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->writing = FALSE;

  /* Each hears of its write before the next write's snapshot is taken: a change that
   * failed is not in it, one that succeeded is in what the snapshot starts from. */
  for (guint i = 0; i < answered->len; i++)
    {
      Entry *entry = g_ptr_array_index (answered, i);

      entry->done (entry->user_data, error);
    }
  if (self->in_flight->len > 0)
    start_write (self);
}

static int
compare_records (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(OsProfileRecord **) a)->name, (*(OsProfileRecord **) b)->name);
}

/* @records (by name in @index) with @entry's change made. */
static void
apply_entry (GPtrArray *records, GHashTable *index, const Entry *entry)
{
  OsProfileRecord *record =
      entry->record != NULL ? g_hash_table_lookup (index, entry->record->name) : NULL;

  switch (entry->kind)
    {
      case OS_CHANGE_CREATE:
        if (record != NULL)
          return;
        record = os_profile_record_new (entry->record->name, entry->record->capabilities,
                                        entry->record->state, entry->record->sequence);
        g_ptr_array_add (records, record);
        g_hash_table_insert (index, record->name, record);
        break;
      case OS_CHANGE_REMOVE:
        if (record == NULL)
          return;
        g_hash_table_remove (index, record->name);
        g_ptr_array_remove_fast (records, record);
        break;
      case OS_CHANGE_CAPABILITIES:
        if (record != NULL)
          record->capabilities = entry->record->capabilities;
        break;
      case OS_CHANGE_STATE:
        if (record != NULL)
          {
            record->state = entry->record->state;
            record->sequence = entry->record->sequence;
          }
        break;
      case OS_CHANGE_NONE:
        break;
    }
}

static void
start_write (OsStore *self)
{
  g_autoptr (GTask) writer = g_task_new (self, NULL, write_done, NULL);
  g_autoptr (GPtrArray) records = self->snapshot (self->snapshot_data);
  g_autoptr (GHashTable) index = g_hash_table_new (g_str_hash, g_str_equal);
  gsize length;
  char *data;

  for (guint i = 0; i < records->len; i++)
    {
      OsProfileRecord *record = g_ptr_array_index (records, i);

      g_hash_table_insert (index, record->name, record);
    }
  for (guint i = 0; i < self->in_flight->len; i++)
    apply_entry (records, index, g_ptr_array_index (self->in_flight, i));
  g_ptr_array_sort (records, compare_records);
  data = os_store_serialize (records, &length);
  self->writing = TRUE;
  g_task_set_source_tag (writer, start_write);
  g_task_set_task_data (writer, g_bytes_new_take (data, length), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (writer, write_in_thread);
}

void
os_store_change (OsStore *self,
                 OsChangeKind kind,
                 const OsProfileRecord *record,
                 OsStoreDone done,
                 gpointer user_data)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->kind = kind;
  if (record != NULL)
    entry->record =
        os_profile_record_new (record->name, record->capabilities, record->state, record->sequence);
  entry->done = done;
  entry->user_data = user_data;
  /* A write that is running holds an older snapshot: the change waits for the next one. */
  if (self->writing)
    {
      g_ptr_array_add (self->queued, entry);
      return;
    }
  g_ptr_array_add (self->in_flight, entry);
  start_write (self);
}

static void
saved (gpointer user_data, const GError *error)
{
  g_autoptr (GTask) task = user_data;

  if (error != NULL)
    g_task_return_error (task, g_error_copy (error));
  else
    g_task_return_boolean (task, TRUE);
}

void
os_store_save_async (OsStore *self,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, os_store_save_async);
  os_store_change (self, OS_CHANGE_NONE, NULL, saved, task);
}

gboolean
os_store_save_finish (OsStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
os_store_is_busy (OsStore *self)
{
  return self->writing;
}
