/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-fan-out.h"
#include "os-profile.h"
#include "os-validate.h"

/* One transition (the D-Bus reference, OfflineMgr: the interface's description and
 * SetCurrentState). Its phases reach the subscribers through the fan-out. */
typedef struct
{
  guint old_state;
  guint new_state;
  guint64 sequence;
  guint phase; /* the notify type being delivered; 0 while committing */
  guint delay_id;
  GPtrArray *waiters; /* GTasks of BLOCK callers */
  GError *save_error; /* the commit is in memory, but not on disk */
} Transition;

struct _OsProfile
{
  GObject parent_instance;

  OsRegistry *registry; /* not a reference: the manager owns it, and its profiles */
  OsChanges *changes;   /* not a reference, either */
  OsFanOut *fan_out;
  char *name;
  guint state;
  guint capabilities;
  guint64 sequence;
  guint transition_delay;
  GQueue advises;
  Transition *transition;
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

/* The transition is over: from here on, nothing is sent or awaited. */
static Transition *
take_transition (OsProfile *self)
{
  os_fan_out_end (self->fan_out);
  return g_steal_pointer (&self->transition);
}

static void
transition_free (Transition *t)
{
  g_clear_handle_id (&t->delay_id, g_source_remove);
  g_ptr_array_unref (t->waiters);
  g_clear_error (&t->save_error);
  g_free (t);
}

static void
os_profile_dispose (GObject *object)
{
  OsProfile *self = OS_PROFILE (object);
  Transition *t = take_transition (self);

  if (t != NULL)
    {
      for (guint i = 0; i < t->waiters->len; i++)
        g_task_return_new_error (g_ptr_array_index (t->waiters, i), G_IO_ERROR, G_IO_ERROR_CLOSED,
                                 "the service is shutting down");
      transition_free (t);
    }
  G_OBJECT_CLASS (os_profile_parent_class)->dispose (object);
}

static void
os_profile_finalize (GObject *object)
{
  OsProfile *self = OS_PROFILE (object);

  g_clear_object (&self->fan_out);
  g_assert (g_queue_is_empty (&self->advises));
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
}

static void deliver (OsProfile *self, OsAdvise *advise, const OsNotification *n, guint ticket);

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
  self->fan_out =
      os_fan_out_new (registry, self, name, limits->notify_timeout_ms, deliver, advance);
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

/* What the fan-out and the emulation have to tell a subscriber. */
static void
deliver (OsProfile *self, OsAdvise *advise, const OsNotification *n, guint ticket)
{
  /* Whoever hears it may remove the advise meanwhile. */
  g_autoptr (OsAdvise) held = os_advise_ref (advise);

  if (!os_registry_deliver (self->registry, advise, n, ticket))
    g_signal_emit (self, signals[SIGNAL_NOTIFICATION], 0, advise, n->notify_type, n->mask,
                   n->old_state, n->new_state, n->sequence, ticket);
}

static void
send_phase (OsProfile *self, guint notify_type)
{
  self->transition->phase = notify_type;
  os_fan_out_send (self->fan_out, notify_type);
}

static void
finish (OsProfile *self)
{
  Transition *t = take_transition (self);

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
  transition_free (t);
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

  if (t == NULL || t->phase == 0 || t->delay_id != 0 || os_fan_out_is_waiting (self->fan_out))
    return;
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

/* The tokens of the advises that hear a transition to @new_state. */
static GArray *
dup_subscribers (OsProfile *self, guint new_state)
{
  GArray *subscribers = g_array_sized_new (FALSE, FALSE, sizeof (guint), self->advises.length);

  for (GList *l = self->advises.head; l != NULL; l = l->next)
    if (is_subscriber (self, l->data, new_state))
      g_array_append_val (subscribers, ((OsAdvise *) l->data)->token);
  return subscribers;
}

static void
start_transition (OsProfile *self, guint new_state, GTask *waiter)
{
  Transition *t = g_new0 (Transition, 1);
  GArray *subscribers = dup_subscribers (self, new_state);

  t->old_state = self->state;
  t->new_state = new_state;
  t->sequence = self->sequence + 1;
  t->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  g_debug ("Profile '%s': transition %" G_GUINT64_FORMAT " from %s to %s, %u subscribers",
           self->name, t->sequence, os_state_to_string (t->old_state),
           os_state_to_string (new_state), subscribers->len);
  os_fan_out_begin (self->fan_out, subscribers, t->old_state, t->new_state, t->sequence);
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
                   guint uid,
                   guint flags,
                   guint client_token,
                   guint callback_type,
                   const char *callback,
                   guint advise_types,
                   guint state_mask,
                   GError **error)
{
  OsAdvise *advise;

  if (!os_validate_advise (flags, callback_type, callback, advise_types, state_mask, error))
    return 0;
  advise = os_registry_add (self->registry, self, owner, uid, 0, client_token, callback, state_mask,
                            error);
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
  g_queue_unlink (&self->advises, &advise->profile_link);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_ADVISE_COUNT]);
  os_fan_out_forget (self->fan_out, advise);
}

void
os_profile_callback_replied (OsProfile *self, OsAdvise *advise, guint ticket)
{
  os_fan_out_replied (self->fan_out, advise, ticket);
}

gboolean
os_profile_awaits_reply (OsProfile *self, OsAdvise *advise, guint ticket)
{
  return os_fan_out_awaits_reply (self->fan_out, advise, ticket);
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
      OsNotification n = {
        notify_type, advise->client_token, mask, old_state, new_state, self->sequence,
      };

      if (!advise->removed)
        deliver (self, advise, &n, 0);
    }
}
