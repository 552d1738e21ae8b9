/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-store.h"
#include "os-notify-window.h"
#include "os-validate.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define SAVE_RETRY_FIRST_S 1
#define SAVE_RETRY_MAX_S   60

struct _OsManager
{
  GObject parent_instance;

  OsLimits limits;
  OsStore *store;               /* NULL: ephemeral */
  GHashTable *profiles;         /* name → OsProfile */
  GHashTable *advises;          /* token → OsAdvise, which its client owns */
  GHashTable *clients;          /* unique name → OsClient, of the clients that hold advises */
  GHashTable *all_clients;      /* every OsClient alive, in @clients or still owed answers */
  GHashTable *users;            /* uid → OsUser */
  const OsTransport *transport; /* NULL: notifications are the profiles' signals */
  gpointer transport_data;
  OsNotifyWindow window; /* the room for calls in flight toward clients */
  guint calls_in_flight;
  GQueue waiting_for_room; /* OsClient, each with a reference */
  gboolean waking;
  guint trim_id;
  guint last_token;
  OsJournal *journal;        /* NULL: advises are kept in memory only */
  gboolean keeping;          /* the journal takes every change */
  guint retry_id;            /* the next try after a failed write */
  guint retry_seconds;       /* 0 while writes succeed */
  GHashTable *creating;      /* names of the profiles whose creation is being written */
  GSourceOnceFunc idle_func; /* see os_manager_when_idle() */
  gpointer idle_data;
  GPtrArray *unsaved; /* what is in memory only, one line each (see os_manager_commit()) */
};

G_DEFINE_FINAL_TYPE (OsManager, os_manager, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PROFILES,
  N_PROPS
};

enum
{
  SIGNAL_PROFILE_ADDED,
  SIGNAL_PROFILE_REMOVED,
  SIGNAL_CLIENT_ADDED,
  SIGNAL_CLIENT_REMOVED,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

OsAdvise *
os_advise_ref (OsAdvise *advise)
{
  g_ref_count_inc (&advise->ref);
  return advise;
}

void
os_advise_unref (OsAdvise *advise)
{
  if (g_ref_count_dec (&advise->ref))
    {
      g_free (advise->callback);
      g_free (advise);
    }
}

static void
detach_all (OsManager *self)
{
  GHashTableIter iter;
  gpointer client;

  g_hash_table_iter_init (&iter, self->all_clients);
  while (g_hash_table_iter_next (&iter, &client, NULL))
    {
      g_hash_table_iter_remove (&iter);
      os_client_detach (client);
    }
}

static void
remove_all (OsManager *self, GPtrArray *doomed)
{
  /* Collect first, then remove: each removal changes the lists the advises were in. */
  for (guint i = 0; i < doomed->len; i++)
    os_manager_remove_advise (self, g_ptr_array_index (doomed, i));
}

static GPtrArray *
collect_queue (GQueue *advises)
{
  GPtrArray *doomed = g_ptr_array_new_full (advises->length, (GDestroyNotify) os_advise_unref);

  for (GList *l = advises->head; l != NULL; l = l->next)
    g_ptr_array_add (doomed, os_advise_ref (l->data));
  return doomed;
}

static GPtrArray *
collect_where (OsManager *self, OsProfile *profile)
{
  GPtrArray *doomed = g_ptr_array_new_with_free_func ((GDestroyNotify) os_advise_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->advises);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (profile == NULL || ((OsAdvise *) value)->profile == profile)
      g_ptr_array_add (doomed, os_advise_ref (value));
  return doomed;
}

static void
os_manager_dispose (GObject *object)
{
  OsManager *self = OS_MANAGER (object);

  /* The advises outlive this run (docs/daemon.md): the journal must not hear them go. */
  g_clear_object (&self->journal);
  self->keeping = FALSE;
  g_clear_handle_id (&self->retry_id, g_source_remove);
  if (self->advises != NULL)
    {
      g_autoptr (GPtrArray) doomed = collect_where (self, NULL);

      remove_all (self, doomed);
    }
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  g_clear_pointer (&self->advises, g_hash_table_unref);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  g_queue_clear_full (&self->waiting_for_room, (GDestroyNotify) os_client_unref);
  if (self->all_clients != NULL)
    detach_all (self);
  g_clear_pointer (&self->all_clients, g_hash_table_unref);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_handle_id (&self->trim_id, g_source_remove);
  g_clear_handle_id (&self->retry_id, g_source_remove);
  g_clear_object (&self->store);
  g_clear_pointer (&self->creating, g_hash_table_unref);
  g_clear_pointer (&self->unsaved, g_ptr_array_unref);
  G_OBJECT_CLASS (os_manager_parent_class)->dispose (object);
}

static void
os_manager_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  OsManager *self = OS_MANAGER (object);

  switch (prop_id)
    {
      case PROP_PROFILES:
        g_value_take_boxed (value, os_manager_dup_profile_names (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
os_manager_class_init (OsManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = os_manager_dispose;
  object_class->get_property = os_manager_get_property;

  props[PROP_PROFILES] =
      g_param_spec_boxed ("profiles", NULL, NULL, G_TYPE_STRV,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_PROFILE_ADDED] =
      g_signal_new ("profile-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, OS_TYPE_PROFILE);
  signals[SIGNAL_PROFILE_REMOVED] =
      g_signal_new ("profile-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, OS_TYPE_PROFILE);
  signals[SIGNAL_CLIENT_ADDED] =
      g_signal_new ("client-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_CLIENT_REMOVED] =
      g_signal_new ("client-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
os_manager_init (OsManager *self)
{
  self->profiles = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->advises = g_hash_table_new (NULL, NULL);
  self->clients =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) os_client_unref);
  self->all_clients = g_hash_table_new (NULL, NULL);
  self->users = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) os_user_free);
  self->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->unsaved = g_ptr_array_new_with_free_func (g_free);
}

static int
compare_records (gconstpointer a, gconstpointer b)
{
  const OsProfileRecord *ra = *(OsProfileRecord **) a;
  const OsProfileRecord *rb = *(OsProfileRecord **) b;

  return strcmp (ra->name, rb->name);
}

static GPtrArray *
snapshot (gpointer user_data)
{
  OsManager *self = user_data;
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) os_profile_record_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->profiles);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (records, os_profile_dup_record (value));
  g_ptr_array_sort (records, compare_records);
  return records;
}

/* A limit left at 0 takes its default. */
static void
fill_default_limits (OsLimits *limits)
{
  const OsLimits defaults = OS_LIMITS_DEFAULT;
  guint *fields = (guint *) limits;
  const guint *default_fields = (const guint *) &defaults;

  G_STATIC_ASSERT (sizeof (OsLimits) % sizeof (guint) == 0);
  for (gsize i = 0; i < sizeof (OsLimits) / sizeof (guint); i++)
    if (fields[i] == 0)
      fields[i] = default_fields[i];
}

OsManager *
os_manager_new (const OsLimits *limits, const char *state_dir)
{
  OsManager *self = g_object_new (OS_TYPE_MANAGER, NULL);

  self->limits = *limits;
  fill_default_limits (&self->limits);
  os_notify_window_init (&self->window, self->limits.max_notify_calls);
  if (state_dir != NULL)
    self->store = os_store_new (state_dir, snapshot, self);
  return self;
}

static void check_idle (OsManager *self);

static void
on_transitioning (OsProfile *profile, GParamSpec *pspec, gpointer user_data)
{
  check_idle (user_data);
}

static OsProfile *
add_profile (OsManager *self, const char *name, guint capabilities, guint state, guint64 sequence)
{
  OsProfile *profile = os_profile_new (self, name, capabilities, state, sequence);

  g_signal_connect_object (profile, "notify::transitioning", G_CALLBACK (on_transitioning), self,
                           G_CONNECT_DEFAULT);
  g_hash_table_insert (self->profiles, (gpointer) os_profile_get_name (profile), profile);
  g_signal_emit (self, signals[SIGNAL_PROFILE_ADDED], 0, profile);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROFILES]);
  return profile;
}

void
os_manager_load (OsManager *self)
{
  g_autoptr (GPtrArray) records = NULL;
  gboolean found = FALSE;

  if (self->store != NULL)
    records = os_store_load (self->store, self->limits.max_profiles, &found);
  if (!found)
    {
      add_profile (self, OFFLINE_STATE_DEFAULT_PROFILE,
                   MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE,
                   MAPIOFFLINE_STATE_ONLINE, 0);
      return;
    }
  for (guint i = 0; i < records->len; i++)
    {
      OsProfileRecord *record = g_ptr_array_index (records, i);

      add_profile (self, record->name, record->capabilities, record->state, record->sequence);
    }
  g_debug ("Loaded %u profiles from %s", records->len, os_store_get_path (self->store));
}

const OsLimits *
os_manager_get_limits (OsManager *self)
{
  return &self->limits;
}

OsProfile *
os_manager_lookup (OsManager *self, const char *name)
{
  return g_hash_table_lookup (self->profiles, name);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **) a, *(const char **) b);
}

GStrv
os_manager_dup_profile_names (OsManager *self)
{
  guint n = 0;
  g_autofree const char **names =
      (const char **) g_hash_table_get_keys_as_array (self->profiles, &n);
  GStrv copy;

  qsort (names, n, sizeof (char *), compare_strings);
  copy = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    copy[i] = g_strdup (names[i]);
  return copy;
}

guint
os_manager_get_n_advises (OsManager *self)
{
  return g_hash_table_size (self->advises);
}

static OsProfile *
lookup_or_fail (OsManager *self, const char *name, GError **error)
{
  OsProfile *profile;

  if (!os_validate_profile_name (name, error))
    return NULL;
  profile = g_hash_table_lookup (self->profiles, name);
  if (profile == NULL)
    os_set_error (error, OS_ERROR_NOT_FOUND, "there is no profile named '%s'", name);
  return profile;
}

OsProfile *
os_manager_open (OsManager *self, const char *name, const char *guid, GError **error)
{
  if (!os_validate_guid (guid, error))
    return NULL;
  return lookup_or_fail (self, name, error);
}

static void note_save_result (OsManager *self, const GError *error);

static void
retry_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (OsManager) self = user_data;
  g_autoptr (GError) error = NULL;

  os_store_save_finish (OS_STORE (source), result, &error);
  note_save_result (self, error);
}

static gboolean
on_retry (gpointer user_data)
{
  OsManager *self = user_data;

  self->retry_id = 0;
  os_store_save_async (self->store, NULL, retry_done, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

/* Every write that succeeds saves what was in memory only: a snapshot holds it all. While
 * something is unsaved, a failed write is tried again at growing intervals, since a full
 * disk or a missing folder may be fixed at any time. */
static void
note_save_result (OsManager *self, const GError *error)
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

/* A change of persisted state, on its way to disk; see os_manager_record_change(). */
typedef struct
{
  OsManager *self; /* a reference */
  OsStoreDone done;
  gpointer user_data;
} Change;

static void
change_written (gpointer user_data, const GError *error)
{
  Change *change = user_data;
  g_autoptr (OsManager) self = change->self;

  note_save_result (self, error);
  change->done (change->user_data, error);
  g_free (change);
  check_idle (self);
}

static void
change_made (gpointer user_data)
{
  change_written (user_data, NULL);
}

void
os_manager_record_change (OsManager *self,
                          OsChangeKind kind,
                          const OsProfileRecord *record,
                          OsStoreDone done,
                          gpointer user_data)
{
  Change *change = g_new (Change, 1);

  change->self = g_object_ref (self);
  change->done = done;
  change->user_data = user_data;
  /* Nothing kept on disk: done at the next turn of the main loop, as after a write, so that
   * callers see the same order of events either way. */
  if (self->store == NULL)
    g_idle_add_once (change_made, change);
  else
    os_store_change (self->store, kind, record, change_written, change);
}

void
os_manager_note_unsaved (OsManager *self, const char *what, const GError *error)
{
  g_ptr_array_add (self->unsaved, g_strdup (what));
  note_save_result (self, error);
}

const char *const *
os_manager_get_unsaved (OsManager *self)
{
  if (self->unsaved->len == 0)
    return NULL;
  /* NULL-terminated for the caller; the array's own NULL is dropped again on the next add. */
  g_ptr_array_add (self->unsaved, NULL);
  g_ptr_array_set_size (self->unsaved, self->unsaved->len - 1);
  return (const char *const *) self->unsaved->pdata;
}

static void
saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  os_store_save_finish (OS_STORE (source), result, &error);
  note_save_result (g_task_get_source_object (task), error);
  if (error == NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
os_manager_save_async (OsManager *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, os_manager_save_async);
  if (self->store == NULL)
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  os_store_save_async (self->store, NULL, saved, task);
}

gboolean
os_manager_save_finish (OsManager *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
os_manager_is_saving (OsManager *self)
{
  return self->store != NULL && os_store_is_busy (self->store);
}

gboolean
os_manager_is_idle (OsManager *self)
{
  GHashTableIter iter;
  gpointer value;

  if (os_manager_is_saving (self) || g_hash_table_size (self->creating) > 0)
    return FALSE;
  g_hash_table_iter_init (&iter, self->profiles);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (os_profile_get_transitioning (value))
      return FALSE;
  return TRUE;
}

static void
check_idle (OsManager *self)
{
  GSourceOnceFunc func = self->idle_func;

  if (func == NULL || !os_manager_is_idle (self))
    return;
  self->idle_func = NULL;
  func (self->idle_data);
}

void
os_manager_when_idle (OsManager *self, GSourceOnceFunc func, gpointer user_data)
{
  self->idle_func = func;
  self->idle_data = user_data;
  check_idle (self);
}

/* The error of a change that the disk did not take. */
void
os_manager_set_disk_error (GError **error, const char *what, const GError *cause)
{
  os_set_error (error, OS_ERROR_IO_ERROR, "%s could not be saved, and was not made: %s", what,
                cause->message);
}

static gboolean
check_can_create (OsManager *self, const char *name, GError **error)
{
  if (g_hash_table_contains (self->profiles, name) || g_hash_table_contains (self->creating, name))
    {
      os_set_error (error, OS_ERROR_EXISTS, "profile '%s' exists already", name);
      return FALSE;
    }
  if (g_hash_table_size (self->profiles) + g_hash_table_size (self->creating) >=
      self->limits.max_profiles)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "there are %u profiles, the most that --max-profiles allows",
                    self->limits.max_profiles);
      return FALSE;
    }
  return TRUE;
}

/* On disk first, then in memory: nobody sees a profile that a crash would lose. */
static void
created (gpointer user_data, const GError *error)
{
  g_autoptr (GTask) task = user_data;
  OsManager *self = g_task_get_source_object (task);
  OsProfileRecord *record = g_task_get_task_data (task);
  OsProfile *profile;

  g_hash_table_remove (self->creating, record->name);
  if (error != NULL)
    {
      g_autofree char *what = g_strdup_printf ("profile '%s'", record->name);
      GError *failure = NULL;

      os_manager_set_disk_error (&failure, what, error);
      g_task_return_error (task, failure);
      return;
    }
  profile = add_profile (self, record->name, record->capabilities, record->state, 0);
  g_task_return_pointer (task, g_object_ref (profile), g_object_unref);
}

void
os_manager_create_async (OsManager *self,
                         const char *name,
                         guint capabilities,
                         guint initial_state,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  OsProfileRecord *record;
  GError *error = NULL;

  g_task_set_source_tag (task, os_manager_create_async);
  if (!os_validate_profile_name (name, &error) ||
      !os_validate_capabilities (capabilities, &error) ||
      !os_validate_state (initial_state, &error) || !check_can_create (self, name, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  record = os_profile_record_new (name, capabilities, initial_state, 0);
  g_task_set_task_data (task, record, (GDestroyNotify) os_profile_record_free);
  g_hash_table_add (self->creating, g_strdup (name));
  os_manager_record_change (self, OS_CHANGE_CREATE, record, created, g_steal_pointer (&task));
}

OsProfile *
os_manager_create_finish (OsManager *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
removed (gpointer user_data, const GError *error)
{
  g_autoptr (GTask) task = user_data;
  OsManager *self = g_task_get_source_object (task);
  OsProfile *profile = g_task_get_task_data (task);
  const char *name = os_profile_get_name (profile);
  g_autoptr (GPtrArray) doomed = NULL;

  os_profile_set_removing (profile, FALSE);
  if (error != NULL)
    {
      g_autofree char *what = g_strdup_printf ("the removal of profile '%s'", name);
      GError *failure = NULL;

      os_manager_set_disk_error (&failure, what, error);
      g_task_return_error (task, failure);
      return;
    }
  /* Removed already, by a removal written before this one. */
  if (g_hash_table_lookup (self->profiles, name) != profile)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  doomed = collect_where (self, profile);
  remove_all (self, doomed);
  /* Out of the table with the table's reference, which is dropped last. */
  g_hash_table_steal (self->profiles, name);
  g_signal_emit (self, signals[SIGNAL_PROFILE_REMOVED], 0, profile);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_PROFILES]);
  g_object_run_dispose (G_OBJECT (profile));
  g_object_unref (profile);
  g_task_return_boolean (task, TRUE);
}

void
os_manager_remove_async (OsManager *self,
                         const char *name,
                         GAsyncReadyCallback callback,
                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (OsProfileRecord) record = NULL;
  GError *error = NULL;
  OsProfile *profile;

  g_task_set_source_tag (task, os_manager_remove_async);
  profile = lookup_or_fail (self, name, &error);
  if (profile == NULL || !os_profile_check_not_transitioning (profile, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* Until it is written, the profile starts no transition and takes no other change. */
  os_profile_set_removing (profile, TRUE);
  g_task_set_task_data (task, g_object_ref (profile), g_object_unref);
  record = os_profile_dup_record (profile);
  os_manager_record_change (self, OS_CHANGE_REMOVE, record, removed, g_steal_pointer (&task));
}

gboolean
os_manager_remove_finish (OsManager *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Users are few (a machine's accounts), and no client can make more: a user's record
 * stays for the run, so that what the bus still holds for a client that has gone on is
 * still its user's. */
static OsUser *
user_for (OsManager *self, guint uid)
{
  OsUser *user = g_hash_table_lookup (self->users, GUINT_TO_POINTER (uid));

  if (user == NULL)
    {
      user = g_new0 (OsUser, 1);
      user->uid = uid;
      g_hash_table_insert (self->users, GUINT_TO_POINTER (uid), user);
    }
  return user;
}

static void
set_user (OsManager *self, OsClient *client, guint uid)
{
  OsUser *user;

  if (uid == OS_UID_UNKNOWN || client->user != NULL)
    return;
  user = user_for (self, uid);
  user->advises += client->advises.length;
  user->path_bytes += client->path_bytes;
  user->in_bus += client->in_bus;
  user->calls += client->calls;
  client->user = user;
}

static OsClient *
client_for (OsManager *self, const char *owner, guint uid)
{
  OsClient *client = g_hash_table_lookup (self->clients, owner);

  if (client == NULL)
    {
      client = os_client_new (self, owner);
      g_hash_table_add (self->all_clients, client);
      g_hash_table_insert (self->clients, client->name, client);
      g_signal_emit (self, signals[SIGNAL_CLIENT_ADDED], 0, client->name);
    }
  set_user (self, client, uid);
  return client;
}

void
os_manager_client_freed (OsManager *self, OsClient *client)
{
  g_hash_table_remove (self->all_clients, client);
}

static gboolean
check_can_add (OsManager *self, OsClient *client, guint token, gsize path_bytes, GError **error)
{
  if (client != NULL && !os_client_check_advise (client, path_bytes, error))
    return FALSE;
  if (g_hash_table_size (self->advises) >= self->limits.max_advises)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "there are %u advises, the most that --max-advises allows",
                    g_hash_table_size (self->advises));
      return FALSE;
    }
  if (token != 0 && g_hash_table_contains (self->advises, GUINT_TO_POINTER (token)))
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "advise token %u is live already", token);
      return FALSE;
    }
  /* A token is never handed out twice on one bus; 2^32 - 2 of them is the end (the last
   * value is never handed out, so that a journal naming it is damage: os-journal.c). */
  if (token == 0 && self->last_token >= OS_ADVISE_TOKEN_MAX)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "every advise token of this run has been handed out");
      return FALSE;
    }
  return TRUE;
}

/* A client not known yet is checked against the budgets of an empty one. */
static gboolean
check_new_client (OsManager *self, const char *owner, guint uid, gsize path_bytes, GError **error)
{
  g_autoptr (OsClient) probe = os_client_new (self, owner);
  gboolean ok;

  if (uid != OS_UID_UNKNOWN)
    probe->user = g_hash_table_lookup (self->users, GUINT_TO_POINTER (uid));
  ok = os_client_check_advise (probe, path_bytes, error);
  probe->user = NULL;
  return ok;
}

OsAdvise *
os_manager_add_advise (OsManager *self,
                       OsProfile *profile,
                       const char *owner,
                       guint uid,
                       guint token,
                       guint client_token,
                       const char *callback,
                       guint state_mask,
                       GError **error)
{
  OsClient *client = g_hash_table_lookup (self->clients, owner);
  gsize path_bytes = callback != NULL ? strlen (callback) : 0;
  OsAdvise *advise;

  if (client == NULL && !check_new_client (self, owner, uid, path_bytes, error))
    return NULL;
  if (client != NULL && client->user == NULL && uid != OS_UID_UNKNOWN)
    set_user (self, client, uid);
  if (!check_can_add (self, client, token, path_bytes, error))
    return NULL;
  client = client_for (self, owner, uid);
  advise = g_new0 (OsAdvise, 1);
  g_ref_count_init (&advise->ref);
  advise->token = token != 0 ? token : ++self->last_token;
  self->last_token = MAX (self->last_token, advise->token);
  advise->client_token = client_token;
  advise->state_mask = state_mask;
  advise->callback = g_strdup (callback);
  advise->client = client;
  advise->profile = profile;
  advise->profile_link.data = advise;
  advise->client_link.data = advise;
  g_queue_push_tail_link (&client->advises, &advise->client_link);
  client->path_bytes += path_bytes;
  if (client->user != NULL)
    {
      client->user->advises++;
      client->user->path_bytes += path_bytes;
    }
  g_hash_table_insert (self->advises, GUINT_TO_POINTER (advise->token), advise);
  if (self->keeping)
    {
      OsAdviseRecord record = {
        advise->token,  advise->client_token, advise->state_mask,
        (char *) owner, advise->callback,     (char *) os_profile_get_name (profile),
      };

      os_journal_add (self->journal, &record);
    }
  return advise;
}

OsAdvise *
os_manager_lookup_advise (OsManager *self, guint token)
{
  return g_hash_table_lookup (self->advises, GUINT_TO_POINTER (token));
}

/* Memory that a big crowd of advises or calls took goes back to the system once they are
 * gone: glibc keeps freed memory in its arenas otherwise. */
static gboolean
on_trim (gpointer user_data)
{
  OsManager *self = user_data;

  self->trim_id = 0;
  malloc_trim (0);
  return G_SOURCE_REMOVE;
}

static void
trim_soon (OsManager *self)
{
  if (self->trim_id == 0)
    self->trim_id = g_timeout_add_seconds (1, on_trim, self);
}

/* The client object lives on while the bus holds calls to it, which count for it and its
 * user until answered. */
static void
forget_client (OsManager *self, OsClient *client)
{
  g_signal_emit (self, signals[SIGNAL_CLIENT_REMOVED], 0, client->name);
  g_hash_table_steal (self->clients, client->name);
  os_client_forget (client);
  os_client_unref (client);
}

void
os_manager_remove_advise (OsManager *self, OsAdvise *advise)
{
  g_autoptr (OsAdvise) held = NULL;
  OsClient *client = advise->client;
  OsProfile *profile = advise->profile;
  gsize path_bytes = advise->callback != NULL ? strlen (advise->callback) : 0;

  if (advise->removed)
    return;
  advise->removed = TRUE;
  held = os_advise_ref (advise);
  g_queue_unlink (&client->advises, &advise->client_link);
  os_advise_unref (advise); /* the client's */
  client->path_bytes -= path_bytes;
  if (client->user != NULL)
    {
      client->user->advises--;
      client->user->path_bytes -= path_bytes;
    }
  advise->client = NULL;
  advise->profile = NULL;
  g_hash_table_remove (self->advises, GUINT_TO_POINTER (advise->token));
  if (self->keeping)
    os_journal_remove (self->journal, advise->token);
  if (g_queue_is_empty (&client->advises))
    forget_client (self, client);
  /* Last: forgetting may move a transition on, which may call back into the manager. */
  os_profile_forget_advise (profile, advise);
}

static void
remove_client_advises (OsManager *self, OsClient *client)
{
  g_autoptr (GPtrArray) doomed = collect_queue (&client->advises);

  remove_all (self, doomed);
  if (doomed->len >= 1024)
    trim_soon (self);
}

void
os_manager_remove_client_advises (OsManager *self, OsClient *client)
{
  g_autoptr (OsClient) held = os_client_ref (client);

  remove_client_advises (self, client);
}

void
os_manager_client_vanished (OsManager *self, const char *name)
{
  OsClient *client = g_hash_table_lookup (self->clients, name);
  g_autoptr (OsClient) held = NULL;

  if (client == NULL)
    return;
  held = os_client_ref (client);
  g_debug ("%s left the bus; removing its advises (%u)", name, client->advises.length);
  remove_client_advises (self, client);
}

void
os_manager_client_identified (OsManager *self, const char *name, guint uid)
{
  OsClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL && client->user == NULL)
    set_user (self, client, uid);
}

GStrv
os_manager_dup_unidentified_clients (OsManager *self)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer value;
  GStrv names;

  g_hash_table_iter_init (&iter, self->clients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((OsClient *) value)->user == NULL)
      g_strv_builder_add (builder, ((OsClient *) value)->name);
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

void
os_manager_set_transport (OsManager *self, const OsTransport *transport, gpointer data)
{
  self->transport = transport;
  self->transport_data = data;
}

const OsTransport *
os_manager_get_transport (OsManager *self, gpointer *data)
{
  *data = self->transport_data;
  return self->transport;
}

void
os_manager_when_sent (OsManager *self, GSourceOnceFunc func, gpointer user_data)
{
  if (self->transport != NULL)
    self->transport->when_sent (self->transport_data, func, user_data);
  else
    g_idle_add_once (func, user_data);
}

void
os_manager_deliver (
    OsManager *self, OsProfile *profile, OsAdvise *advise, const OsNotification *n, guint ticket)
{
  if (self->transport != NULL)
    os_client_post (advise->client, advise, n, ticket);
  else
    os_profile_emit_notification (profile, advise, n, ticket);
}

void
os_manager_wait_for_room (OsManager *self, OsClient *client)
{
  if (client->waits_for_room)
    return;
  client->waits_for_room = TRUE;
  g_queue_push_tail (&self->waiting_for_room, os_client_ref (client));
}

gboolean
os_manager_take_call_slot (OsManager *self, OsClient *client)
{
  if (self->calls_in_flight < self->window.size && g_queue_is_empty (&self->waiting_for_room))
    {
      self->calls_in_flight++;
      return TRUE;
    }
  os_manager_wait_for_room (self, client);
  return FALSE;
}

void
os_manager_stop_waiting (OsManager *self, OsClient *client)
{
  if (!client->waits_for_room)
    return;
  client->waits_for_room = FALSE;
  if (g_queue_remove (&self->waiting_for_room, client))
    os_client_unref (client);
}

/* Each client in line gets its turn, oldest first, while there is room; one that is still
 * held back (by its user's budget) goes to the end of the line. */
static void
wake_waiting (OsManager *self)
{
  guint turns = self->waiting_for_room.length;

  if (self->waking)
    return;
  self->waking = TRUE;
  while (turns-- > 0 && self->calls_in_flight < self->window.size &&
         !g_queue_is_empty (&self->waiting_for_room))
    {
      g_autoptr (OsClient) client = g_queue_pop_head (&self->waiting_for_room);

      client->waits_for_room = FALSE;
      if (client->manager == NULL)
        continue;
      self->calls_in_flight++;
      client->granted = TRUE;
      os_client_pump (client);
    }
  self->waking = FALSE;
}

void
os_manager_return_call_slot (OsManager *self, gboolean refused_by_bus, gboolean answered)
{
  self->calls_in_flight--;
  if (refused_by_bus)
    os_notify_window_refused (&self->window, self->calls_in_flight);
  else if (answered)
    os_notify_window_answered (&self->window);
  wake_waiting (self);
}

/* Advises kept in the runtime folder */

static GPtrArray *
dup_advise_records (gpointer user_data)
{
  OsManager *self = user_data;
  GPtrArray *records = g_ptr_array_new_full (g_hash_table_size (self->advises),
                                             (GDestroyNotify) os_advise_record_free);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->advises);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      OsAdvise *advise = value;

      g_ptr_array_add (
          records, os_advise_record_new (advise->token, advise->client_token, advise->state_mask,
                                         os_advise_get_owner (advise), advise->callback,
                                         os_profile_get_name (advise->profile)));
    }
  return records;
}

static gboolean
restore_one (OsManager *self, const OsAdviseRecord *record, GHashTable *on_bus)
{
  OsProfile *profile = g_hash_table_lookup (self->profiles, record->profile);
  g_autoptr (GError) error = NULL;

  if (!g_hash_table_contains (on_bus, record->owner) || profile == NULL)
    {
      g_debug ("Advise %u of %s not restored: %s", record->token, record->owner,
               profile == NULL ? "its profile is gone" : "its owner left the bus");
      return FALSE;
    }
  if (!os_profile_restore_advise (profile, record, &error))
    {
      g_warning ("Advise %u of %s not restored: %s", record->token, record->owner, error->message);
      return FALSE;
    }
  return TRUE;
}

guint
os_manager_restore_advises (OsManager *self,
                            const char *runtime_dir,
                            const char *bus_id,
                            const char *const *names_on_bus)
{
  g_autoptr (GHashTable) on_bus = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) records = NULL;
  guint last_token, restored = 0;

  g_return_val_if_fail (self->journal == NULL, 0);
  self->journal = os_journal_new (runtime_dir, bus_id, dup_advise_records, self);
  records = os_journal_load (self->journal, &last_token);
  for (guint i = 0; names_on_bus[i] != NULL; i++)
    g_hash_table_add (on_bus, (gpointer) names_on_bus[i]);
  for (guint i = 0; i < records->len; i++)
    restored += restore_one (self, g_ptr_array_index (records, i), on_bus);
  self->last_token = MAX (self->last_token, last_token);
  if (records->len > 0)
    g_message ("Restored %u of %u advises from %s", restored, records->len,
               os_journal_get_path (self->journal));
  return restored;
}

void
os_manager_forget_advises (OsManager *self)
{
  if (self->journal == NULL || !self->keeping)
    return;
  self->keeping = FALSE;
  os_journal_delete (self->journal);
  g_clear_object (&self->journal);
}

void
os_manager_keep_advises (OsManager *self)
{
  g_return_if_fail (self->journal != NULL);
  os_journal_rewrite (self->journal);
  self->keeping = TRUE;
}
