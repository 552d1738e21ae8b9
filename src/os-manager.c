/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-manager.h"
#include "os-validate.h"

#include <stdlib.h>
#include <string.h>

struct _OsManager
{
  GObject parent_instance;

  OsLimits limits;
  OsStore *store;            /* NULL: ephemeral */
  OsChanges *changes;        /* of the state on disk */
  OsRegistry *registry;      /* of the advises */
  GHashTable *profiles;      /* name → OsProfile */
  GHashTable *creating;      /* names of the profiles whose creation is being written */
  GSourceOnceFunc idle_func; /* see os_manager_when_idle() */
  gpointer idle_data;
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
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

/* How the registry and the clients tell a profile what became of its advises. */
static const OsAdviseHooks profile_hooks = {
  .get_name = os_profile_get_name,
  .forget = os_profile_forget_advise,
  .replied = os_profile_callback_replied,
  .awaits_reply = os_profile_awaits_reply,
  .drop = os_profile_drop_advise,
};

static void
os_manager_dispose (GObject *object)
{
  OsManager *self = OS_MANAGER (object);

  /* The advises go first, while their profiles are there to hear it. */
  if (self->registry != NULL)
    os_registry_close (self->registry);
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  g_clear_object (&self->registry);
  g_clear_object (&self->changes);
  g_clear_object (&self->store);
  g_clear_pointer (&self->creating, g_hash_table_unref);
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
}

static void
os_manager_init (OsManager *self)
{
  self->profiles = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  self->creating = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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

static void check_idle (OsManager *self);

static void
on_change_done (OsChanges *changes, gpointer user_data)
{
  check_idle (user_data);
}

OsManager *
os_manager_new (const OsLimits *limits, const char *state_dir)
{
  OsManager *self = g_object_new (OS_TYPE_MANAGER, NULL);

  self->limits = *limits;
  fill_default_limits (&self->limits);
  if (state_dir != NULL)
    self->store = os_store_new (state_dir, snapshot, self);
  self->changes = os_changes_new (self->store, G_OBJECT (self));
  g_signal_connect_object (self->changes, "change-done", G_CALLBACK (on_change_done), self,
                           G_CONNECT_DEFAULT);
  self->registry = os_registry_new (&self->limits, &profile_hooks);
  return self;
}

static void
on_transitioning (OsProfile *profile, GParamSpec *pspec, gpointer user_data)
{
  check_idle (user_data);
}

static OsProfile *
add_profile (OsManager *self, const char *name, guint capabilities, guint state, guint64 sequence)
{
  OsProfile *profile = os_profile_new (self->registry, self->changes, &self->limits, name,
                                       capabilities, state, sequence);

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
  return os_registry_get_n_advises (self->registry);
}

OsAdvise *
os_manager_lookup_advise (OsManager *self, guint token)
{
  return os_registry_lookup (self->registry, token);
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

static void
saved (gpointer user_data, const GError *error)
{
  g_autoptr (GTask) task = user_data;

  if (error == NULL)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_error_copy (error));
}

void
os_manager_save_async (OsManager *self, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, os_manager_save_async);
  os_changes_save (self->changes, saved, task);
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
  return os_changes_is_saving (self->changes);
}

const char *const *
os_manager_get_unsaved (OsManager *self)
{
  return os_changes_get_unsaved (self->changes);
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

      os_set_disk_error (&failure, what, error);
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
  os_changes_record (self->changes, OS_CHANGE_CREATE, record, created, g_steal_pointer (&task));
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

  os_profile_set_removing (profile, FALSE);
  if (error != NULL)
    {
      g_autofree char *what = g_strdup_printf ("the removal of profile '%s'", name);
      GError *failure = NULL;

      os_set_disk_error (&failure, what, error);
      g_task_return_error (task, failure);
      return;
    }
  /* Removed already, by a removal written before this one. */
  if (g_hash_table_lookup (self->profiles, name) != profile)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  os_registry_remove_all (self->registry, profile);
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
  os_changes_record (self->changes, OS_CHANGE_REMOVE, record, removed, g_steal_pointer (&task));
}

gboolean
os_manager_remove_finish (OsManager *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The clients and their advises: the registry's */

void
os_manager_client_vanished (OsManager *self, const char *name)
{
  os_registry_client_vanished (self->registry, name);
}

void
os_manager_client_identified (OsManager *self, const char *name, guint uid)
{
  os_registry_client_identified (self->registry, name, uid);
}

GStrv
os_manager_dup_unidentified_clients (OsManager *self)
{
  return os_registry_dup_unidentified_clients (self->registry);
}

void
os_manager_set_transport (OsManager *self, const OsTransport *transport, gpointer data)
{
  os_registry_set_transport (self->registry, transport, data);
}

/* Advises kept in the runtime folder */

typedef struct
{
  OsManager *self;
  GHashTable *on_bus; /* names */
} Restore;

static gboolean
restore_one (const OsAdviseRecord *record, gpointer user_data)
{
  Restore *restore = user_data;
  OsProfile *profile = g_hash_table_lookup (restore->self->profiles, record->profile);
  g_autoptr (GError) error = NULL;

  if (!g_hash_table_contains (restore->on_bus, record->owner) || profile == NULL)
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
  Restore restore = { self, on_bus };

  for (guint i = 0; names_on_bus[i] != NULL; i++)
    g_hash_table_add (on_bus, (gpointer) names_on_bus[i]);
  return os_registry_restore (self->registry, runtime_dir, bus_id, restore_one, &restore);
}

void
os_manager_forget_advises (OsManager *self)
{
  os_registry_forget_journal (self->registry);
}

void
os_manager_keep_advises (OsManager *self)
{
  os_registry_keep (self->registry);
}
