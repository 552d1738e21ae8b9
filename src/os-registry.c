/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-registry.h"
#include "os-error.h"

#include <malloc.h>
#include <string.h>

struct _OsRegistry
{
  GObject parent_instance;

  OsClientHub hub;
  GHashTable *advises; /* token → OsAdvise, which its client owns */
  GHashTable *clients; /* unique name → OsClient, of the clients that hold advises */
  GHashTable *users;   /* uid → OsUser */
  guint last_token;
  OsJournal *journal; /* NULL: advises are kept in memory only */
  gboolean keeping;   /* the journal takes every change */
  guint trim_id;
};

G_DEFINE_FINAL_TYPE (OsRegistry, os_registry, G_TYPE_OBJECT)

static void
remove_all (OsRegistry *self, GPtrArray *doomed)
{
  /* Collect first, then remove: each removal changes the lists the advises were in. */
  for (guint i = 0; i < doomed->len; i++)
    os_registry_remove (self, g_ptr_array_index (doomed, i));
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
collect_where (OsRegistry *self, OsProfile *profile)
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

void
os_registry_close (OsRegistry *self)
{
  /* The advises outlive this run (docs/daemon.md): the journal must not hear them go. */
  g_clear_object (&self->journal);
  self->keeping = FALSE;
  if (self->advises != NULL)
    {
      g_autoptr (GPtrArray) doomed = collect_where (self, NULL);

      remove_all (self, doomed);
    }
}

static void
os_registry_dispose (GObject *object)
{
  OsRegistry *self = OS_REGISTRY (object);

  os_registry_close (self);
  g_clear_pointer (&self->advises, g_hash_table_unref);
  g_clear_pointer (&self->clients, g_hash_table_unref);
  if (self->users != NULL)
    os_client_hub_clear (&self->hub);
  g_clear_pointer (&self->users, g_hash_table_unref);
  g_clear_handle_id (&self->trim_id, g_source_remove);
  G_OBJECT_CLASS (os_registry_parent_class)->dispose (object);
}

static void
os_registry_class_init (OsRegistryClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = os_registry_dispose;
}

static void
os_registry_init (OsRegistry *self)
{
  self->advises = g_hash_table_new (NULL, NULL);
  self->clients =
      g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) os_client_unref);
  self->users = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) os_user_free);
}

static void remove_client_advises (OsRegistry *self, OsClient *client);

static void
on_expired (OsClient *client, gpointer user_data)
{
  g_autoptr (OsClient) held = os_client_ref (client);

  remove_client_advises (user_data, client);
}

OsRegistry *
os_registry_new (const OsLimits *limits, const OsAdviseHooks *hooks)
{
  OsRegistry *self = g_object_new (OS_TYPE_REGISTRY, NULL);

  os_client_hub_init (&self->hub, limits, hooks, on_expired, self);
  return self;
}

/* Users are few (a machine's accounts), and no client can make more: a user's record
 * stays for the run, so that what the bus still holds for a client that has gone on is
 * still its user's. */
static OsUser *
user_for (OsRegistry *self, guint uid)
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
set_user (OsRegistry *self, OsClient *client, guint uid)
{
  if (uid == OS_UID_UNKNOWN || client->user != NULL)
    return;
  os_client_set_user (client, user_for (self, uid));
}

static OsClient *
client_for (OsRegistry *self, const char *owner, guint uid)
{
  OsClient *client = g_hash_table_lookup (self->clients, owner);

  if (client == NULL)
    {
      client = os_client_new (&self->hub, owner);
      g_hash_table_insert (self->clients, client->name, client);
    }
  set_user (self, client, uid);
  return client;
}

static gboolean
check_can_add (OsRegistry *self, OsClient *client, guint token, gsize path_bytes, GError **error)
{
  if (client != NULL && !os_client_check_advise (client, path_bytes, error))
    return FALSE;
  if (g_hash_table_size (self->advises) >= self->hub.limits->max_advises)
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
check_new_client (OsRegistry *self, const char *owner, guint uid, gsize path_bytes, GError **error)
{
  g_autoptr (OsClient) probe = os_client_new (&self->hub, owner);
  gboolean ok;

  if (uid != OS_UID_UNKNOWN)
    probe->user = g_hash_table_lookup (self->users, GUINT_TO_POINTER (uid));
  ok = os_client_check_advise (probe, path_bytes, error);
  probe->user = NULL;
  return ok;
}

static void
journal_add (OsRegistry *self, OsAdvise *advise)
{
  OsAdviseRecord record = {
    advise->token,      advise->client_token,
    advise->state_mask, (char *) os_advise_get_owner (advise),
    advise->callback,   (char *) self->hub.hooks->get_name (advise->profile),
  };

  os_journal_add (self->journal, &record);
}

OsAdvise *
os_registry_add (OsRegistry *self,
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
  advise->profile = profile;
  advise->profile_link.data = advise;
  os_client_add_advise (client, advise);
  g_hash_table_insert (self->advises, GUINT_TO_POINTER (advise->token), advise);
  if (self->keeping)
    journal_add (self, advise);
  return advise;
}

OsAdvise *
os_registry_lookup (OsRegistry *self, guint token)
{
  return g_hash_table_lookup (self->advises, GUINT_TO_POINTER (token));
}

guint
os_registry_get_n_advises (OsRegistry *self)
{
  return g_hash_table_size (self->advises);
}

/* Memory that a big crowd of advises or calls took goes back to the system once they are
 * gone: glibc keeps freed memory in its arenas otherwise. */
static gboolean
on_trim (gpointer user_data)
{
  OsRegistry *self = user_data;

  self->trim_id = 0;
  malloc_trim (0);
  return G_SOURCE_REMOVE;
}

static void
trim_soon (OsRegistry *self)
{
  if (self->trim_id == 0)
    self->trim_id = g_timeout_add_seconds (1, on_trim, self);
}

/* The client object lives on while the bus holds calls to it, which count for it and its
 * user until answered. */
static void
forget_client (OsRegistry *self, OsClient *client)
{
  g_hash_table_steal (self->clients, client->name);
  os_client_forget (client);
  os_client_unref (client);
}

void
os_registry_remove (OsRegistry *self, OsAdvise *advise)
{
  g_autoptr (OsAdvise) held = NULL;
  OsClient *client = advise->client;
  OsProfile *profile = advise->profile;
  gboolean last;

  if (advise->removed)
    return;
  advise->removed = TRUE;
  held = os_advise_ref (advise);
  last = os_client_remove_advise (client, advise);
  advise->profile = NULL;
  g_hash_table_remove (self->advises, GUINT_TO_POINTER (advise->token));
  if (self->keeping)
    os_journal_remove (self->journal, advise->token);
  if (last)
    forget_client (self, client);
  /* Last: forgetting may move a transition on, which may come back here. */
  self->hub.hooks->forget (profile, advise);
}

void
os_registry_remove_all (OsRegistry *self, OsProfile *profile)
{
  g_autoptr (GPtrArray) doomed = collect_where (self, profile);

  remove_all (self, doomed);
}

static void
remove_client_advises (OsRegistry *self, OsClient *client)
{
  g_autoptr (GPtrArray) doomed = collect_queue (&client->advises);

  remove_all (self, doomed);
  if (doomed->len >= 1024)
    trim_soon (self);
}

void
os_registry_client_vanished (OsRegistry *self, const char *name)
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
os_registry_client_identified (OsRegistry *self, const char *name, guint uid)
{
  OsClient *client = g_hash_table_lookup (self->clients, name);

  if (client != NULL && client->user == NULL)
    set_user (self, client, uid);
}

GStrv
os_registry_dup_unidentified_clients (OsRegistry *self)
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
os_registry_set_transport (OsRegistry *self, const OsTransport *transport, gpointer data)
{
  self->hub.transport = transport;
  self->hub.transport_data = data;
}

gboolean
os_registry_deliver (OsRegistry *self, OsAdvise *advise, const OsNotification *n, guint ticket)
{
  if (self->hub.transport == NULL)
    return FALSE;
  os_client_post (advise->client, advise, n, ticket);
  return TRUE;
}

void
os_registry_when_sent (OsRegistry *self, GSourceOnceFunc func, gpointer user_data)
{
  if (self->hub.transport != NULL)
    self->hub.transport->when_sent (self->hub.transport_data, func, user_data);
  else
    g_idle_add_once (func, user_data);
}

/* Advises kept in the runtime folder */

static GPtrArray *
dup_advise_records (gpointer user_data)
{
  OsRegistry *self = user_data;
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
                                         self->hub.hooks->get_name (advise->profile)));
    }
  return records;
}

guint
os_registry_restore (OsRegistry *self,
                     const char *runtime_dir,
                     const char *bus_id,
                     OsRegistryRestoreFunc restore,
                     gpointer user_data)
{
  g_autoptr (GPtrArray) records = NULL;
  guint last_token, restored = 0;

  g_return_val_if_fail (self->journal == NULL, 0);
  self->journal = os_journal_new (runtime_dir, bus_id, dup_advise_records, self);
  records = os_journal_load (self->journal, &last_token);
  for (guint i = 0; i < records->len; i++)
    restored += restore (g_ptr_array_index (records, i), user_data);
  self->last_token = MAX (self->last_token, last_token);
  if (records->len > 0)
    g_message ("Restored %u of %u advises from %s", restored, records->len,
               os_journal_get_path (self->journal));
  return restored;
}

void
os_registry_forget_journal (OsRegistry *self)
{
  if (self->journal == NULL || !self->keeping)
    return;
  self->keeping = FALSE;
  os_journal_delete (self->journal);
  g_clear_object (&self->journal);
}

void
os_registry_keep (OsRegistry *self)
{
  g_return_if_fail (self->journal != NULL);
  os_journal_rewrite (self->journal);
  self->keeping = TRUE;
}
