/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "os-error.h"
#include "os-store.h"
#include "os-validate.h"

#define STATE_FILE           "state.ini"
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
  GPtrArray *in_flight; /* GTasks answered by the running write */
  GPtrArray *queued;    /* GTasks answered by the next one */
};

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

  if (!g_key_file_load_from_data (file, data, length, G_KEY_FILE_NONE, error) ||
      !read_uint (file, FORMAT_GROUP, "Version", G_MAXUINT, &version, error))
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
  self->in_flight = g_ptr_array_new_with_free_func (g_object_unref);
  self->queued = g_ptr_array_new_with_free_func (g_object_unref);
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
  /* The parser quotes the file, which may be anything but text. */
  g_autofree char *why = g_utf8_make_valid (reason, -1);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *aside = g_strdup_printf ("%s.damaged-%s", self->path, stamp);

  /* Never replace a copy kept earlier: each damaged file may be the one worth reading. */
  for (guint n = 1; g_file_test (aside, G_FILE_TEST_EXISTS); n++)
    {
      g_free (aside);
      aside = g_strdup_printf ("%s.damaged-%s.%u", self->path, stamp, n);
    }
  if (g_rename (self->path, aside) == 0)
    g_warning ("State file %s is damaged (%s); kept it as %s and started with defaults", self->path,
               why, aside);
  else
    g_warning ("State file %s is damaged (%s) and could not be kept aside (%s); started "
               "with defaults",
               self->path, why, g_strerror (errno));
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
os_store_load (OsStore *self, gboolean *found)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;
  GPtrArray *records;

  *found = FALSE;
  os_remove_write_leftovers (self->path);
  if (!g_file_get_contents (self->path, &data, &length, &error))
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
  self->queued = g_ptr_array_new_with_free_func (g_object_unref);
  self->writing = FALSE;

  for (guint i = 0; i < answered->len; i++)
    {
      GTask *task = g_ptr_array_index (answered, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
  if (self->in_flight->len > 0)
    start_write (self);
}

static void
start_write (OsStore *self)
{
  g_autoptr (GTask) writer = g_task_new (self, NULL, write_done, NULL);
  g_autoptr (GPtrArray) records = self->snapshot (self->snapshot_data);
  gsize length;
  char *data = os_store_serialize (records, &length);

  self->writing = TRUE;
  g_task_set_source_tag (writer, start_write);
  g_task_set_task_data (writer, g_bytes_new_take (data, length), (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (writer, write_in_thread);
}

void
os_store_save_async (OsStore *self,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, os_store_save_async);
  /* A write that is running may hold an older snapshot: wait for the next one. */
  if (self->writing)
    {
      g_ptr_array_add (self->queued, task);
      return;
    }
  g_ptr_array_add (self->in_flight, task);
  start_write (self);
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
