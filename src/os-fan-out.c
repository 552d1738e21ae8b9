/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-fan-out.h"
#include "os-timeout.h"

/* Subscribers notified in one go (one main-loop iteration) of a phase. */
#define PHASE_SLICE 256
/* Slices sent and not yet written that a phase lets be: two, so that GDBus's thread writes
 * one while the main loop makes the next. */
#define SLICES_UNWRITTEN 2

struct _OsFanOut
{
  GObject parent_instance;

  OsRegistry *registry; /* not a reference */
  OsProfile *profile;   /* not a reference: it owns this */
  char *name;
  guint notify_timeout_ms;
  OsFanOutDeliver deliver;
  OsFanOutSettled settled;
  GArray *subscribers; /* advise tokens, NULL between transitions: an advise removed meanwhile
                          is looked up in vain */
  guint old_state;
  guint new_state;
  guint64 sequence;
  guint phase;      /* the notify type being delivered */
  guint ticket;     /* of the phase: replies to an earlier phase do not count */
  guint n_awaiting; /* callback replies the phase still waits for */
  gboolean sending;
  guint next;     /* the subscriber the phase goes on with (see send_slice()) */
  guint slice_id; /* the next slice, from an idle */
  guint timeout_id;
  guint last_ticket;
  guint unwritten; /* slices the transport has not said are written */
};

G_DEFINE_FINAL_TYPE (OsFanOut, os_fan_out, G_TYPE_OBJECT)

static void
os_fan_out_dispose (GObject *object)
{
  os_fan_out_end (OS_FAN_OUT (object));
  G_OBJECT_CLASS (os_fan_out_parent_class)->dispose (object);
}

static void
os_fan_out_finalize (GObject *object)
{
  g_free (OS_FAN_OUT (object)->name);
  G_OBJECT_CLASS (os_fan_out_parent_class)->finalize (object);
}

static void
os_fan_out_class_init (OsFanOutClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = os_fan_out_dispose;
  object_class->finalize = os_fan_out_finalize;
}

static void
os_fan_out_init (OsFanOut *self)
{
}

OsFanOut *
os_fan_out_new (OsRegistry *registry,
                OsProfile *profile,
                const char *name,
                guint notify_timeout_ms,
                OsFanOutDeliver deliver,
                OsFanOutSettled settled)
{
  OsFanOut *self = g_object_new (OS_TYPE_FAN_OUT, NULL);

  self->registry = registry;
  self->profile = profile;
  self->name = g_strdup (name);
  self->notify_timeout_ms = notify_timeout_ms;
  self->deliver = deliver;
  self->settled = settled;
  return self;
}

static OsAdvise *
subscriber (OsFanOut *self, guint i)
{
  OsAdvise *advise =
      os_registry_lookup (self->registry, g_array_index (self->subscribers, guint, i));

  return advise != NULL && advise->profile == self->profile ? advise : NULL;
}

void
os_fan_out_begin (
    OsFanOut *self, GArray *subscribers, guint old_state, guint new_state, guint64 sequence)
{
  g_return_if_fail (self->subscribers == NULL);
  self->subscribers = subscribers;
  self->old_state = old_state;
  self->new_state = new_state;
  self->sequence = sequence;
  self->phase = 0;
  self->ticket = 0;
  self->n_awaiting = 0;
  self->sending = FALSE;
  self->next = 0;
}

void
os_fan_out_end (OsFanOut *self)
{
  g_clear_handle_id (&self->timeout_id, g_source_remove);
  g_clear_handle_id (&self->slice_id, g_source_remove);
  if (self->subscribers == NULL)
    return;
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      OsAdvise *advise =
          os_registry_lookup (self->registry, g_array_index (self->subscribers, guint, i));

      if (advise != NULL)
        advise->awaiting = FALSE;
    }
  g_clear_pointer (&self->subscribers, g_array_unref);
}

gboolean
os_fan_out_is_waiting (OsFanOut *self)
{
  return self->sending || self->n_awaiting > 0;
}

/* @advise's reply is awaited no more. Once none is, the time-out has nothing to end. */
static void
stop_awaiting (OsFanOut *self, OsAdvise *advise)
{
  advise->awaiting = FALSE;
  if (--self->n_awaiting == 0)
    g_clear_handle_id (&self->timeout_id, g_source_remove);
  self->settled (self->profile);
}

static void
on_notify_timeout (gpointer user_data)
{
  OsFanOut *self = user_data;

  /* Cutting a client off releases its other advises: nothing moves on before the end. */
  self->sending = TRUE;
  for (guint i = 0; i < self->subscribers->len; i++)
    {
      OsAdvise *advise = subscriber (self, i);

      if (advise == NULL || !advise->awaiting)
        continue;
      advise->awaiting = FALSE;
      g_debug ("Profile '%s': advise %u of %s did not answer notification %u in %u ms", self->name,
               advise->token, os_advise_get_owner (advise), self->phase, self->notify_timeout_ms);
      os_client_phase_timed_out (advise->client);
    }
  self->sending = FALSE;
  self->n_awaiting = 0;
  self->settled (self->profile);
}

static void
notify (OsFanOut *self, OsAdvise *advise)
{
  OsNotification n = {
    self->phase,     advise->client_token, MAPIOFFLINE_STATE_OFFLINE_MASK,
    self->old_state, self->new_state,      self->sequence,
  };

  self->deliver (self->profile, advise, &n, self->ticket);
}

static void send_slice (OsFanOut *self);

static void
on_next_slice (gpointer user_data)
{
  OsFanOut *self = user_data;

  self->slice_id = 0;
  send_slice (self);
}

/* Goes on with the phase, unless it is done or a slice is on its way already. */
static void
go_on (OsFanOut *self)
{
  if (self->subscribers != NULL && self->sending && self->slice_id == 0 &&
      self->next < self->subscribers->len && self->unwritten < SLICES_UNWRITTEN)
    self->slice_id = g_idle_add_once (on_next_slice, self);
}

static void
on_slice_written (gpointer user_data)
{
  g_autoptr (OsFanOut) self = user_data;

  self->unwritten--;
  go_on (self);
}

/* Sends the phase to the next PHASE_SLICE subscribers. A big fan-out goes on, from an idle,
 * while at most SLICES_UNWRITTEN slices wait for the transport to write them: calls of
 * other clients are served between two slices, and their replies wait behind two slices at
 * most, not behind every notification of the phase. */
static void
send_slice (OsFanOut *self)
{
  guint end = MIN (self->next + PHASE_SLICE, self->subscribers->len);

  for (; self->next < end; self->next++)
    {
      OsAdvise *advise = subscriber (self, self->next);

      if (advise == NULL || !os_client_takes_notifications (advise->client))
        continue;
      if (os_advise_is_callback (advise))
        {
          advise->awaiting = TRUE;
          self->n_awaiting++;
        }
      notify (self, advise);
    }
  if (self->next < self->subscribers->len)
    {
      self->unwritten++;
      os_registry_when_sent (self->registry, on_slice_written, g_object_ref (self));
      go_on (self);
      return;
    }
  self->sending = FALSE;
  if (self->n_awaiting > 0)
    os_timeout_add_fair (&self->timeout_id, self->notify_timeout_ms, on_notify_timeout, self);
  self->settled (self->profile);
}

void
os_fan_out_send (OsFanOut *self, guint notify_type)
{
  self->phase = notify_type;
  if (++self->last_ticket == 0)
    self->last_ticket = 1;
  self->ticket = self->last_ticket;
  self->sending = TRUE;
  self->next = 0;
  send_slice (self);
}

void
os_fan_out_replied (OsFanOut *self, OsAdvise *advise, guint ticket)
{
  if (self->subscribers == NULL || ticket == 0 || ticket != self->ticket || !advise->awaiting)
    return;
  stop_awaiting (self, advise);
}

gboolean
os_fan_out_awaits_reply (OsFanOut *self, OsAdvise *advise, guint ticket)
{
  return self->subscribers != NULL && ticket != 0 && ticket == self->ticket && advise->awaiting;
}

void
os_fan_out_forget (OsFanOut *self, OsAdvise *advise)
{
  if (advise->awaiting)
    stop_awaiting (self, advise);
}
