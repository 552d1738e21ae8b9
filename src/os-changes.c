/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-changes.h"
#include "os-error.h"

#define SAVE_RETRY_FIRST_S 1
#define SAVE_RETRY_MAX_S   60

struct _OsChanges
{
  GObject parent_instance;

  OsStore *store;      /* NULL: ephemeral */
  GObject *source;     /* not a reference: see os_changes_new() */
  guint retry_id;      /* the next try after a failed write */
  guint retry_seconds; /* 0 while writes succeed */
  GPtrArray *unsaved;  /* what is in memory only, one line each */
};

G_DEFINE_FINAL_TYPE (OsChanges, os_changes, G_TYPE_OBJECT)

enum
{
  SIGNAL_CHANGE_DONE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
os_changes_dispose (GObject *object)
{
  OsChanges *self = OS_CHANGES (object);

  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (os_changes_parent_class)->dispose (object);
}

static void
os_changes_finalize (GObject *object)
{
  OsChanges *self = OS_CHANGES (object);

  g_ptr_array_unref (self->unsaved);
  G_OBJECT_CLASS (os_changes_parent_class)->finalize (object);
}

static void
os_changes_class_init (OsChangesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = os_changes_dispose;
  object_class->finalize = os_changes_finalize;

  signals[SIGNAL_CHANGE_DONE] =
      g_signal_new ("change-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 0);
}

static void
os_changes_init (OsChanges *self)
{
  self->unsaved = g_ptr_array_new_with_free_func (g_free);
}

OsChanges *
os_changes_new (OsStore *store, GObject *source)
{
  OsChanges *self = g_object_new (OS_TYPE_CHANGES, NULL);

  self->store = store != NULL ? g_object_ref (store) : NULL;
  self->source = source;
  return self;
}

/* A write on its way, and whoever hears how it went. */
typedef struct
{
  OsChanges *self;  /* a reference */
  GObject *source;  /* a reference: the write reads it */
  OsStoreDone done; /* NULL: nobody */
  gpointer user_data;
} Write;

static Write *
write_new (OsChanges *self, OsStoreDone done, gpointer user_data)
{
  Write *write = g_new (Write, 1);

  write->self = g_object_ref (self);
  write->source = g_object_ref (self->source);
  write->done = done;
  write->user_data = user_data;
  return write;
}

static void
write_free (Write *write)
{
  g_object_unref (write->source);
  g_object_unref (write->self);
  g_free (write);
}

static void note_save_result (OsChanges *self, const GError *error);

static void
saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Write *write = user_data;
  g_autoptr (GError) error = NULL;

  os_store_save_finish (OS_STORE (source), result, &error);
  note_save_result (write->self, error);
  if (write->done != NULL)
    write->done (write->user_data, error);
  write_free (write);
}

static gboolean
on_retry (gpointer user_data)
{
  OsChanges *self = user_data;

  self->retry_id = 0;
  os_store_save_async (self->store, NULL, saved, write_new (self, NULL, NULL));
  return G_SOURCE_REMOVE;
}

/* Every write that succeeds saves what was in memory only: a snapshot holds it all. While
 * something is unsaved, a failed write is tried again at growing intervals, since a full
 * disk or a missing folder may be fixed at any time. */
static void
note_save_result (OsChanges *self, const GError *error)
{
  if (error == NULL)
    {
      if (self->unsaved->len > 0)
        g_message ("Saved %s again", os_store_get_path (self->store));
      g_ptr_array_set_size (self->unsaved, 0);
      self->retry_seconds = 0;
      g_clear_handle_id (&self->retry_id, g_source_remove);
      return;
    }
  if (self->unsaved->len == 0 || self->retry_id != 0)
    return;
  self->retry_seconds = CLAMP (self->retry_seconds * 2, SAVE_RETRY_FIRST_S, SAVE_RETRY_MAX_S);
  g_message ("Will try to save %s again in %u s", os_store_get_path (self->store),
             self->retry_seconds);
  self->retry_id = g_timeout_add_seconds (self->retry_seconds, on_retry, self);
}

static void
change_written (gpointer user_data, const GError *error)
{
  Write *write = user_data;

  note_save_result (write->self, error);
  write->done (write->user_data, error);
  g_signal_emit (write->self, signals[SIGNAL_CHANGE_DONE], 0);
  write_free (write);
}

static void
change_made (gpointer user_data)
{
  change_written (user_data, NULL);
}

void
os_changes_record (OsChanges *self,
                   OsChangeKind kind,
                   const OsProfileRecord *record,
                   OsStoreDone done,
                   gpointer user_data)
{
  Write *write = write_new (self, done, user_data);

  /* Nothing kept on disk: done at the next turn of the main loop, as after a write, so that
   * callers see the same order of events either way. */
  if (self->store == NULL)
    g_idle_add_once (change_made, write);
  else
    os_store_change (self->store, kind, record, change_written, write);
}

void
os_changes_note_unsaved (OsChanges *self, const char *what, const GError *error)
{
  g_ptr_array_add (self->unsaved, g_strdup (what));
  note_save_result (self, error);
}

const char *const *
os_changes_get_unsaved (OsChanges *self)
{
  if (self->unsaved->len == 0)
    return NULL;
  /* NULL-terminated for the caller; the array's own NULL is dropped again on the next add. */
  g_ptr_array_add (self->unsaved, NULL);
  g_ptr_array_set_size (self->unsaved, self->unsaved->len - 1);
  return (const char *const *) self->unsaved->pdata;
}

void
os_changes_save (OsChanges *self, OsStoreDone done, gpointer user_data)
{
  if (self->store == NULL)
    done (user_data, NULL);
  else
    os_store_save_async (self->store, NULL, saved, write_new (self, done, user_data));
}

gboolean
os_changes_is_saving (OsChanges *self)
{
  return self->store != NULL && os_store_is_busy (self->store);
}

/* The error of a change that the disk did not take. */
void
os_set_disk_error (GError **error, const char *what, const GError *cause)
{
  os_set_error (error, OS_ERROR_IO_ERROR, "%s could not be saved, and was not made: %s", what,
                cause->message);
}
