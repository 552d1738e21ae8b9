/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-profile.h"
#include "os-timeout.h"
#include "os-validate.h"

/* Subscribers notified in one go (one main-loop iteration) of a phase. */
#define PHASE_SLICE 256
/* Slices sent and not yet written that a phase lets be: two, so that GDBus's thread writes
 * one while the main loop makes the next. */
#define SLICES_UNWRITTEN 2

/* One transition (the D-Bus reference, OfflineMgr: the interface's description and
 * SetCurrentState). */
typedef struct
{
  guint old_state;
  guint new_state;
  guint64 sequence;
  GArray *subscribers; /* advise tokens: an advise removed meanwhile is looked up in vain */
  guint phase;         /* the notify type being delivered; 0 while committing */
  guint ticket;        /* of the phase: replies to an earlier phase do not count */
  guint n_awaiting;    /* callback replies the phase still waits for */
  gboolean sending;
  guint next;     /* the subscriber the phase goes on with (see send_slice()) */
  guint slice_id; /* the next slice, from an idle */
  guint timeout_id;
  guint delay_id;
  GPtrArray *waiters; /* GTasks of BLOCK callers */
  GError *save_error; /* the commit is in memory, but not on disk */
} Transition;

typedef struct
{
  char *error_name;
  guint count;
} Failure;

struct _OsProfile
{
  GObject parent_instance;

  OsRegistry *registry;   /* not a reference: the manager owns it, and its profiles */
  OsChanges *changes;     /* not a reference, either */
  const OsLimits *limits; /* the manager's */
  char *name;
  guint state;
  guint capabilities;
  guint64 sequence;
  guint transition_delay;
  GQueue advises;
  GHashTable *failures; /* method name → Failure */
  Transition *transition;
  guint last_ticket;
  guint unwritten;   /* slices the transport has not said are written */
  gboolean removing; /* its removal is being written */
};

G_DEFINE_FINAL_TYPE (OsProfile, os_profile, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_STATE,
  PROP_CAPABILITIES,
  PROP_TRANSITIONING,
  PROP_SEQUENCE,
  PROP_ADVISE_COUNT,
  PROP_TRANSITION_DELAY,
  N_PROPS
};

enum
{
  SIGNAL_NOTIFICATION,
  N_SIGNALS
};

static GParamSpec *props[N_PROPS];
static guint signals[N_SIGNALS];

static void advance (OsProfile *self);

static void
failure_free (Failure *failure)
{
  g_free (failure->error_name);
  g_free (failure);
}

static OsAdvise *
subscriber (OsProfile *self, guint i)
{
  Transition *t = self->transition;
  OsAdvise *advise = os_registry_lookup (self->registry, g_array_index (t->subscribers, guint, i));

  return advise != NULL && advise->profile == self ? advise : NULL;
}

static void
transition_free (OsProfile *self, Transition *t)
{
  g_clear_handle_id (&t->timeout_id, g_source_remove);
  g_clear_handle_id (&t->delay_id, g_source_remove);
  g_clear_handle_id (&t->slice_id, g_source_remove);
  for (guint i = 0; i < t->subscribers->len; i++)
    {
      OsAdvise *advise =
          os_registry_lookup (self->registry, g_array_index (t->subscribers, guint, i));

      if (advise != NULL)
        advise->awaiting = FALSE;
    }
  g_array_unref (t->subscribers);
  g_ptr_array_unref (t->waiters);
  g_clear_error (&t->save_error);
  g_free (t);
}

static void
os_profile_dispose (GObject *object)
{
  OsProfile *self = OS_PROFILE (object);
  Transition *t = g_steal_pointer (&self->transition);

  if (t != NULL)
    {
      for (guint i = 0; i < t->waiters->len; i++)
        g_task_return_new_error (g_ptr_array_index (t->waiters, i), G_IO_ERROR, G_IO_ERROR_CLOSED,
                                 "the service is shutting down");
      transition_free (self, t);
    }
  G_OBJECT_CLASS (os_profile_parent_class)->dispose (object);
}

static void
os_profile_finalize (GObject *object)
{
  OsProfile *self = OS_PROFILE (object);

  g_assert (g_queue_is_empty (&self->advises));
  g_hash_table_unref (self->failures);
  g_free (self->name);
  G_OBJECT_CLASS (os_profile_parent_class)->finalize (object);
}

static void
os_profile_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  OsProfile *self = OS_PROFILE (object);

  switch (prop_id)
    {
      case PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case PROP_STATE:
        g_value_set_uint (value, self->state);
        break;
      case PROP_CAPABILITIES:
        g_value_set_uint (value, self->capabilities);
        break;
      case PROP_TRANSITIONING:
        g_value_set_boolean (value, self->transition != NULL);
        break;
      case PROP_SEQUENCE:
        g_value_set_uint64 (value, self->sequence);
        break;
      case PROP_ADVISE_COUNT:
        g_value_set_uint (value, self->advises.length);
        break;
      case PROP_TRANSITION_DELAY:
        g_value_set_uint (value, self->transition_delay);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
os_profile_class_init (OsProfileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = os_profile_dispose;
  object_class->finalize = os_profile_finalize;
  object_class->get_property = os_profile_get_property;

  props[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  props[PROP_STATE] = g_param_spec_uint ("state", NULL, NULL, 0, G_MAXUINT, 0, flags);
  props[PROP_CAPABILITIES] = g_param_spec_uint ("capabilities", NULL, NULL, 0, G_MAXUINT, 0, flags);
  props[PROP_TRANSITIONING] = g_param_spec_boolean ("transitioning", NULL, NULL, FALSE, flags);
  props[PROP_SEQUENCE] = g_param_spec_uint64 ("sequence", NULL, NULL, 0, G_MAXUINT64, 0, flags);
  props[PROP_ADVISE_COUNT] = g_param_spec_uint ("advise-count", NULL, NULL, 0, G_MAXUINT, 0, flags);
  props[PROP_TRANSITION_DELAY] =
      g_param_spec_uint ("transition-delay", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_NOTIFICATION] =
      g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 7, G_TYPE_POINTER, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT,
                    G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_UINT);
}

static void
os_profile_init (OsProfile *self)
{
  g_queue_init (&self->advises);
  self->failures =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) failure_free);
}

OsProfile *
os_profile_new (OsRegistry *registry,
                OsChanges *changes,
                const OsLimits *limits,
                const char *name,
                guint capabilities,
                guint state,
                guint64 sequence)
{
  OsProfile *self = g_object_new (OS_TYPE_PROFILE, NULL);

  self->registry = registry;
  self->changes = changes;
  self->limits = limits;
  self->name = g_strdup (name);
  self->capabilities = capabilities;
  self->state = state;
  self->sequence = sequence;
  return self;
}

const char *
os_profile_get_name (OsProfile *self)
{
  return self->name;
}

guint
os_profile_get_state (OsProfile *self)
{
  return self->state;
}

guint
os_profile_get_capabilities (OsProfile *self)
{
  return self->capabilities;
}

guint64
os_profile_get_sequence (OsProfile *self)
{
  return self->sequence;
}

gboolean
os_profile_get_transitioning (OsProfile *self)
{
  return self->transition != NULL;
}

guint
os_profile_get_advise_count (OsProfile *self)
{
  return self->advises.length;
}

guint
os_profile_get_transition_delay (OsProfile *self)
{
  return self->transition_delay;
}

static guint
next_ticket (OsProfile *self)
{
  if (++self->last_ticket == 0)
    self->last_ticket = 1;
  return self->last_ticket;
}

static void
emit_notification (OsProfile *self,
                   OsAdvise *advise,
                   guint notify_type,
                   guint mask,
                   guint old_state,
                   guint new_state,
                   guint64 sequence,
                   guint ticket)
{
  OsNotification n = { notify_type, advise->client_token, mask, old_state, new_state, sequence };
  /* Whoever hears it may remove the advise meanwhile. */
  g_autoptr (OsAdvise) held = os_advise_ref (advise);

  if (!os_registry_deliver (self->registry, advise, &n, ticket))
    g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0, advise, n.notify_type, n.mask,
                   n.old_state, n.new_state, n.sequence, ticket);
}

static void
on_notify_timeout (gpointer user_data)
{
  OsProfile *self = user_data;
  Transition *t = self->transition;

  /* Cutting a client off releases its other advises: nothing moves on before the end. */
  t->sending = TRUE;
  for (guint i = 0; i < t->subscribers->len; i++)
    {
      OsAdvise *advise = subscriber (self, i);

      if (advise == NULL || !advise->awaiting)
        continue;
      advise->awaiting = FALSE;
      g_debug ("Profile '%s': advise %u of %s did not answer notification %u in %u ms", self->name,
               advise->token, os_advise_get_owner (advise), t->phase,
               self->limits->notify_timeout_ms);
      os_client_phase_timed_out (advise->client);
    }
  t->sending = FALSE;
  t->n_awaiting = 0;
  advance (self);
}

static void send_slice (OsProfile *self);

static void
on_next_slice (gpointer user_data)
{
  OsProfile *self = user_data;

  self->transition->slice_id = 0;
  send_slice (self);
}

/* Goes on with the phase, unless it is done or a slice is on its way already. */
static void
go_on (OsProfile *self)
{
  Transition *t = self->transition;

  if (t != NULL && t->sending && t->slice_id == 0 && t->next < t->subscribers->len &&
      self->unwritten < SLICES_UNWRITTEN)
    t->slice_id = g_idle_add_once (on_next_slice, self);
}

static void
on_slice_written (gpointer user_data)
{
  g_autoptr (OsProfile) self = user_data;

  self->unwritten--;
  go_on (self);
}

/* Sends the phase to the next PHASE_SLICE subscribers. A big fan-out goes on, from an idle,
 * while at most SLICES_UNWRITTEN slices wait for the transport to write them: calls of
 * other clients are served between two slices, and their replies wait behind two slices at
 * most, not behind every notification of the phase. */
static void
send_slice (OsProfile *self)
{
  Transition *t = self->transition;
  guint end = MIN (t->next + PHASE_SLICE, t->subscribers->len);

  for (; t->next < end; t->next++)
    {
      OsAdvise *advise = subscriber (self, t->next);

      if (advise == NULL || !os_client_takes_notifications (advise->client))
        continue;
      if (os_advise_is_callback (advise))
        {
          advise->awaiting = TRUE;
          t->n_awaiting++;
        }
      emit_notification (self, advise, t->phase, MAPIOFFLINE_STATE_OFFLINE_MASK, t->old_state,
                         t->new_state, t->sequence, t->ticket);
    }
  if (t->next < t->subscribers->len)
    {
      self->unwritten++;
      os_registry_when_sent (self->registry, on_slice_written, g_object_ref (self));
      go_on (self);
      return;
    }
  t->sending = FALSE;
  if (t->n_awaiting > 0)
    os_timeout_add_fair (&t->timeout_id, self->limits->notify_timeout_ms, on_notify_timeout, self);
  advance (self);
}

static void
send_phase (OsProfile *self, guint notify_type)
{
  Transition *t = self->transition;

  t->phase = notify_type;
  t->ticket = next_ticket (self);
  t->sending = TRUE;
  t->next = 0;
  send_slice (self);
}

static void
finish (OsProfile *self)
{
  Transition *t = g_steal_pointer (&self->transition);

  g_debug ("Profile '%s': transition %" G_GUINT64_FORMAT " done", self->name, t->sequence);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSITIONING]);
  for (guint i = 0; i < t->waiters->len; i++)
    {
      GTask *waiter = g_ptr_array_index (t->waiters, i);

      if (t->save_error != NULL)
        g_task_return_error (waiter, g_error_copy (t->save_error));
      else
        g_task_return_boolean (waiter, TRUE);
    }
  transition_free (self, t);
}

static void
apply_state (OsProfile *self, guint state, guint64 sequence)
{
  self->state = state;
  self->sequence = sequence;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SEQUENCE]);
  g_object_thaw_notify (G_OBJECT (self));
}

/* The commit is on disk, or could not be. A BLOCK caller waits for the answer: the change is
 * not made, the caller hears IOError, and the subscribers, who heard START, hear DONE without
 * STATECHANGE. Without BLOCK, the caller was answered when the transition started: the world
 * has changed state, so the change is made in memory, and saved with the next write that
 * succeeds (the manager tries again). */
static void
commit_written (gpointer user_data, const GError *error)
{
  g_autoptr (OsProfile) self = user_data;
  Transition *t = self->transition;

  /* Disposed meanwhile, at shutdown. */
  if (t == NULL)
    return;
  if (error == NULL)
    {
      apply_state (self, t->new_state, t->sequence);
      send_phase (self, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE);
      return;
    }
  if (t->waiters->len > 0)
    {
      g_autofree char *what =
          g_strdup_printf ("the change of profile '%s' to %s (transition %" G_GUINT64_FORMAT ")",
                           self->name, os_state_to_string (t->new_state), t->sequence);

      g_warning ("Profile '%s': transition %" G_GUINT64_FORMAT " to %s could not be saved and "
                 "was not made: %s",
                 self->name, t->sequence, os_state_to_string (t->new_state), error->message);
      os_set_disk_error (&t->save_error, what, error);
      send_phase (self, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE);
      return;
    }
  {
    g_autofree char *what =
        g_strdup_printf ("profile '%s' %s (sequence %" G_GUINT64_FORMAT ")", self->name,
                         os_state_to_string (t->new_state), t->sequence);

    g_warning ("Profile '%s': transition %" G_GUINT64_FORMAT " to %s could not be saved: %s; "
               "made in memory, to be saved when the disk allows",
               self->name, t->sequence, os_state_to_string (t->new_state), error->message);
    os_changes_note_unsaved (self->changes, what, error);
  }
  apply_state (self, t->new_state, t->sequence);
  send_phase (self, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE);
}

static void
commit (OsProfile *self)
{
  Transition *t = self->transition;
  g_autoptr (OsProfileRecord) record =
      os_profile_record_new (self->name, self->capabilities, t->new_state, t->sequence);

  /* The new state is written first and becomes this object's state only once it is on
   * disk: nobody sees it before. */
  t->phase = 0;
  g_debug ("Profile '%s': committing %s, sequence %" G_GUINT64_FORMAT, self->name,
           os_state_to_string (t->new_state), t->sequence);
  os_changes_record (self->changes, OS_CHANGE_STATE, record, commit_written, g_object_ref (self));
}

/* Moves the transition on once its phase has nothing left to wait for. */
static void
advance (OsProfile *self)
{
  Transition *t = self->transition;

  if (t == NULL || t->sending || t->phase == 0 || t->n_awaiting > 0 || t->delay_id != 0)
    return;
  g_clear_handle_id (&t->timeout_id, g_source_remove);
  switch (t->phase)
    {
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START:
        commit (self);
        break;
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE:
        send_phase (self, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE);
        break;
      default:
        finish (self);
        break;
    }
}

static void
on_delay_over (gpointer user_data)
{
  OsProfile *self = user_data;

  self->transition->delay_id = 0;
  advance (self);
}

static gboolean
is_subscriber (OsProfile *self, OsAdvise *advise, guint new_state)
{
  guint needed = new_state == MAPIOFFLINE_STATE_OFFLINE ? MAPIOFFLINE_CAPABILITY_OFFLINE
                                                        : MAPIOFFLINE_CAPABILITY_ONLINE;

  return (advise->state_mask & MAPIOFFLINE_STATE_OFFLINE_MASK) != 0 &&
         (self->capabilities & needed) != 0;
}

static Transition *
transition_new (OsProfile *self, guint new_state)
{
  Transition *t = g_new0 (Transition, 1);

  t->old_state = self->state;
  t->new_state = new_state;
  t->sequence = self->sequence + 1;
  t->subscribers = g_array_sized_new (FALSE, FALSE, sizeof (guint), self->advises.length);
  t->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (GList *l = self->advises.head; l != NULL; l = l->next)
    if (is_subscriber (self, l->data, new_state))
      g_array_append_val (t->subscribers, ((OsAdvise *) l->data)->token);
  return t;
}

static void
start_transition (OsProfile *self, guint new_state, GTask *waiter)
{
  Transition *t = transition_new (self, new_state);

  g_debug ("Profile '%s': transition %" G_GUINT64_FORMAT " from %s to %s, %u subscribers",
           self->name, t->sequence, os_state_to_string (t->old_state),
           os_state_to_string (new_state), t->subscribers->len);
  self->transition = t;
  if (waiter != NULL)
    g_ptr_array_add (t->waiters, g_object_ref (waiter));
  if (self->transition_delay > 0)
    t->delay_id = g_timeout_add_once (self->transition_delay, on_delay_over, self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSITIONING]);
  send_phase (self, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START);
}

OsProfileRecord *
os_profile_dup_record (OsProfile *self)
{
  return os_profile_record_new (self->name, self->capabilities, self->state, self->sequence);
}

gboolean
os_profile_check_not_transitioning (OsProfile *self, GError **error)
{
  if (self->transition != NULL)
    {
      os_set_error (error, OS_ERROR_PENDING,
                    "profile '%s' is changing state; try again when Transitioning is false",
                    self->name);
      return FALSE;
    }
  if (self->removing)
    {
      os_set_error (error, OS_ERROR_PENDING, "profile '%s' is being removed", self->name);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_profile_get_removing (OsProfile *self)
{
  return self->removing;
}

void
os_profile_set_removing (OsProfile *self, gboolean removing)
{
  self->removing = removing;
}

void
os_profile_set_state_async (OsProfile *self,
                            guint flags,
                            guint mask,
                            guint state,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, os_profile_set_state_async);
  if (!os_validate_set_state (flags, mask, state, &error) ||
      !os_profile_check_not_transitioning (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (state == self->state)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (flags & MAPIOFFLINE_FLAG_BLOCK)
    {
      start_transition (self, state, task);
      return;
    }
  g_task_return_boolean (task, TRUE);
  start_transition (self, state, NULL);
}

gboolean
os_profile_set_state_finish (OsProfile *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
link_advise (OsProfile *self, OsAdvise *advise)
{
  g_queue_push_tail_link (&self->advises, &advise->profile_link);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ADVISE_COUNT]);
  if (!g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      g_autofree char *callback = os_log_excerpt (advise->callback ? advise->callback : "signal");

      g_debug ("Profile '%s': advise %u for %s by %s", self->name, advise->token,
               os_advise_get_owner (advise), callback);
    }
}

guint
os_profile_advise (OsProfile *self,
                   const char *owner,
                   guint flags,
                   guint client_token,
                   guint callback_type,
                   const char *callback,
                   guint advise_types,
                   guint state_mask,
                   GError **error)
{
  return os_profile_advise_as (self, owner, OS_UID_UNKNOWN, flags, client_token, callback_type,
                               callback, advise_types, state_mask, error);
}

guint
os_profile_advise_as (OsProfile *self,
                      const char *owner,
                      guint uid,
                      guint flags,
                      guint client_token,
                      guint callback_type,
                      const char *callback,
                      guint advise_types,
                      guint state_mask,
                      GError **error)
{
  gboolean by_signal = g_str_equal (callback, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  OsAdvise *advise;

  if (!os_validate_advise (flags, callback_type, callback, advise_types, state_mask, error))
    return 0;
  advise = os_registry_add (self->registry, self, owner, uid, 0, client_token,
                            by_signal ? NULL : callback, state_mask, error);
  if (advise == NULL)
    return 0;
  link_advise (self, advise);
  return advise->token;
}

gboolean
os_profile_restore_advise (OsProfile *self, const OsAdviseRecord *record, GError **error)
{
  OsAdvise *advise =
      os_registry_add (self->registry, self, record->owner, OS_UID_UNKNOWN, record->token,
                       record->client_token, record->callback, record->state_mask, error);

  if (advise == NULL)
    return FALSE;
  link_advise (self, advise);
  return TRUE;
}

gboolean
os_profile_unadvise (
    OsProfile *self, const char *owner, guint flags, guint advise_token, GError **error)
{
  OsAdvise *advise;

  if (flags != MAPIOFFLINE_UNADVISE_DEFAULT)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "Unadvise flags must be 0, not 0x%X", flags);
      return FALSE;
    }
  /* MAPI's Unadvise succeeds for a token it does not know; ours also for one that is
   * another client's or another object's, so that nobody can remove another's advise. */
  advise = os_registry_lookup (self->registry, advise_token);
  if (advise != NULL && advise->profile == self &&
      g_strcmp0 (os_advise_get_owner (advise), owner) == 0)
    os_registry_remove (self->registry, advise);
  return TRUE;
}

void
os_profile_forget_advise (OsProfile *self, OsAdvise *advise)
{
  Transition *t = self->transition;

  g_queue_unlink (&self->advises, &advise->profile_link);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ADVISE_COUNT]);
  if (advise->awaiting)
    {
      advise->awaiting = FALSE;
      t->n_awaiting--;
      advance (self);
    }
}

void
os_profile_callback_replied (OsProfile *self, OsAdvise *advise, guint ticket)
{
  Transition *t = self->transition;

  if (t == NULL || ticket == 0 || ticket != t->ticket || !advise->awaiting)
    return;
  advise->awaiting = FALSE;
  t->n_awaiting--;
  advance (self);
}

gboolean
os_profile_awaits_reply (OsProfile *self, OsAdvise *advise, guint ticket)
{
  Transition *t = self->transition;

  return t != NULL && ticket != 0 && ticket == t->ticket && advise->awaiting;
}

void
os_profile_drop_advise (OsProfile *self, OsAdvise *advise, const char *reason)
{
  g_autofree char *callback = NULL;
  g_autofree char *why = NULL;

  if (advise->removed)
    return;
  callback = os_log_excerpt (advise->callback);
  why = os_log_excerpt (reason);
  g_message ("Profile '%s': removing advise %u of %s: its callback %s failed: %s", self->name,
             advise->token, os_advise_get_owner (advise), callback, why);
  os_registry_remove (self->registry, advise);
}

static void
capabilities_written (gpointer user_data, const GError *error)
{
  g_autoptr (GTask) task = user_data;
  OsProfile *self = g_task_get_source_object (task);
  guint capabilities = GPOINTER_TO_UINT (g_task_get_task_data (task));

  if (error != NULL)
    {
      g_autofree char *what =
          g_strdup_printf ("the capabilities 0x%x of profile '%s'", capabilities, self->name);
      GError *failure = NULL;

      os_set_disk_error (&failure, what, error);
      g_task_return_error (task, failure);
      return;
    }
  if (capabilities != self->capabilities)
    {
      self->capabilities = capabilities;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_CAPABILITIES]);
    }
  g_task_return_boolean (task, TRUE);
}

void
os_profile_set_capabilities_async (OsProfile *self,
                                   guint capabilities,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);
  g_autoptr (OsProfileRecord) record = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, os_profile_set_capabilities_async);
  if (!os_validate_capabilities (capabilities, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (self->removing)
    {
      os_set_error (&error, OS_ERROR_PENDING, "profile '%s' is being removed", self->name);
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, GUINT_TO_POINTER (capabilities), NULL);
  record = os_profile_record_new (self->name, capabilities, self->state, self->sequence);
  os_changes_record (self->changes, OS_CHANGE_CAPABILITIES, record, capabilities_written,
                     g_steal_pointer (&task));
}

gboolean
os_profile_set_capabilities_finish (OsProfile *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
os_profile_set_transition_delay (OsProfile *self, guint milliseconds, GError **error)
{
  if (!os_validate_transition_delay (milliseconds, error))
    return FALSE;
  if (milliseconds != self->transition_delay)
    {
      self->transition_delay = milliseconds;
      g_object_notify_by_pspec (G_OBJECT (self), props[PROP_TRANSITION_DELAY]);
    }
  return TRUE;
}

void
os_profile_inject_notification (
    OsProfile *self, guint notify_type, guint mask, guint old_state, guint new_state)
{
  g_autoptr (GPtrArray) targets =
      g_ptr_array_new_full (self->advises.length, (GDestroyNotify) os_advise_unref);

  /* Handlers may remove advises: deliver to the ones present at the start. */
  for (GList *l = self->advises.head; l != NULL; l = l->next)
    g_ptr_array_add (targets, os_advise_ref (l->data));
  for (guint i = 0; i < targets->len; i++)
    {
      OsAdvise *advise = g_ptr_array_index (targets, i);

      if (!advise->removed)
        emit_notification (self, advise, notify_type, mask, old_state, new_state, self->sequence,
                           0);
    }
}

gboolean
os_profile_fail_next (
    OsProfile *self, const char *method, const char *error_name, guint count, GError **error)
{
  Failure *failure;

  if (!os_validate_fail_next (method, error_name, count, error))
    return FALSE;
  if (count == 0)
    {
      g_hash_table_remove (self->failures, method);
      return TRUE;
    }
  failure = g_new0 (Failure, 1);
  failure->error_name = g_strdup (error_name);
  failure->count = count;
  g_hash_table_replace (self->failures, g_strdup (method), failure);
  return TRUE;
}

char *
os_profile_take_failure (OsProfile *self, const char *method)
{
  Failure *failure = g_hash_table_lookup (self->failures, method);
  char *error_name;

  if (failure == NULL)
    return NULL;
  error_name = g_strdup (failure->error_name);
  if (--failure->count == 0)
    g_hash_table_remove (self->failures, method);
  return error_name;
}

gboolean
os_profile_has_failure (OsProfile *self, const char *method)
{
  return g_hash_table_contains (self->failures, method);
}
