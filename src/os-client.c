/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <string.h>

#include "offline-state.h"
#include "os-client.h"
#include "os-error.h"
#include "os-timeout.h"

struct _OsNote
{
  OsClient *client; /* a reference */
  OsAdvise *advise; /* a reference; NULL for a ping */
  guint ticket;
  guint covers; /* a ping: the signals its answer confirms */
  OsNotification n;
  gint64 since_us; /* queued at, then sent at */
  gboolean is_call;
  gboolean refused; /* once by the bus already: a second refusal loses it */
  GList link;
};

/* How much earlier than its phase's timer a call may have been sent and still count as
 * sent with the phase. */
#define PHASE_SLACK_US (2 * G_TIME_SPAN_MILLISECOND)

static void arm_deadline (OsClient *client);
static void maybe_ping (OsClient *client);
static void pump (OsClient *client);
static void detach (OsClient *client);

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

const char *
os_advise_get_owner (const OsAdvise *advise)
{
  return advise->client != NULL ? advise->client->name : NULL;
}

void
os_client_hub_init (OsClientHub *hub,
                    const OsLimits *limits,
                    const OsAdviseHooks *hooks,
                    void (*expired) (OsClient *client, gpointer data),
                    gpointer data)
{
  hub->limits = limits;
  hub->hooks = hooks;
  os_notify_window_init (&hub->window, limits->max_notify_calls);
  g_queue_init (&hub->waiting);
  g_queue_init (&hub->clients);
  hub->expired = expired;
  hub->data = data;
}

void
os_client_hub_clear (OsClientHub *hub)
{
  GList *link;

  g_queue_clear_full (&hub->waiting, (GDestroyNotify) os_client_unref);
  while ((link = g_queue_pop_head_link (&hub->clients)) != NULL)
    detach (link->data);
}

OsClient *
os_client_new (OsClientHub *hub, const char *name)
{
  OsClient *client = g_new0 (OsClient, 1);

  g_ref_count_init (&client->ref);
  client->hub = hub;
  client->name = g_strdup (name);
  client->hub_link.data = client;
  g_queue_push_tail_link (&hub->clients, &client->hub_link);
  return client;
}

OsClient *
os_client_ref (OsClient *client)
{
  g_ref_count_inc (&client->ref);
  return client;
}

void
os_client_unref (OsClient *client)
{
  if (!g_ref_count_dec (&client->ref))
    return;
  if (client->hub != NULL)
    g_queue_unlink (&client->hub->clients, &client->hub_link);
  g_clear_handle_id (&client->deadline_id, g_source_remove);
  g_clear_handle_id (&client->grace_id, g_source_remove);
  g_assert (g_queue_is_empty (&client->advises));
  g_assert (g_queue_is_empty (&client->awaiting));
  g_assert (g_queue_is_empty (&client->outbox));
  g_free (client->name);
  g_free (client);
}

static const OsLimits *
limits_of (OsClient *client)
{
  return client->hub->limits;
}

static gsize
path_bytes_of (const OsAdvise *advise)
{
  return advise->callback != NULL ? strlen (advise->callback) : 0;
}

void
os_client_add_advise (OsClient *client, OsAdvise *advise)
{
  gsize path_bytes = path_bytes_of (advise);

  advise->client = client;
  advise->client_link.data = advise;
  g_queue_push_tail_link (&client->advises, &advise->client_link);
  client->path_bytes += path_bytes;
  if (client->user != NULL)
    {
      client->user->advises++;
      client->user->path_bytes += path_bytes;
    }
}

gboolean
os_client_remove_advise (OsClient *client, OsAdvise *advise)
{
  gsize path_bytes = path_bytes_of (advise);

  g_queue_unlink (&client->advises, &advise->client_link);
  os_advise_unref (advise); /* the client's */
  client->path_bytes -= path_bytes;
  if (client->user != NULL)
    {
      client->user->advises--;
      client->user->path_bytes -= path_bytes;
    }
  advise->client = NULL;
  return g_queue_is_empty (&client->advises);
}

void
os_client_set_user (OsClient *client, OsUser *user)
{
  user->advises += client->advises.length;
  user->path_bytes += client->path_bytes;
  user->in_bus += client->in_bus;
  user->calls += client->calls;
  client->user = user;
}

static OsNote *
note_new (OsClient *client, OsAdvise *advise, guint ticket, gboolean is_call)
{
  OsNote *note = g_new0 (OsNote, 1);

  note->client = os_client_ref (client);
  note->advise = advise != NULL ? os_advise_ref (advise) : NULL;
  note->ticket = ticket;
  note->is_call = is_call;
  note->since_us = g_get_monotonic_time ();
  note->link.data = note;
  return note;
}

static void
note_free (OsNote *note)
{
  g_clear_pointer (&note->advise, os_advise_unref);
  os_client_unref (note->client);
  g_free (note);
}

/* The advise @note is for, unless it has been removed meanwhile. */
static OsAdvise *
advise_of (OsNote *note)
{
  OsAdvise *advise = note->advise;

  if (note->client->hub == NULL || advise == NULL || advise->removed)
    return NULL;
  return advise;
}

/* The transition waits no more for @note's answer. */
static void
release (OsNote *note)
{
  OsAdvise *advise = advise_of (note);

  if (advise != NULL && note->ticket != 0)
    note->client->hub->hooks->replied (advise->profile, advise, note->ticket);
}

static void
charge (OsClient *client, guint in_bus, guint calls)
{
  client->in_bus += in_bus;
  client->calls += calls;
  if (client->user != NULL)
    {
      client->user->in_bus += in_bus;
      client->user->calls += calls;
    }
}

static void
refund (OsClient *client, guint in_bus, guint calls)
{
  client->in_bus -= in_bus;
  client->calls -= calls;
  if (client->user != NULL)
    {
      client->user->in_bus -= in_bus;
      client->user->calls -= calls;
    }
}

static void
drop_outbox (OsClient *client)
{
  GList *link;

  while ((link = g_queue_pop_head_link (&client->outbox)) != NULL)
    {
      OsNote *note = link->data;

      release (note);
      note_free (note);
    }
}

static void
on_grace_over (gpointer user_data)
{
  OsClient *client = user_data;

  if (client->hub == NULL || !client->cut_off)
    return;
  g_message ("Removing the %u advises of %s: it took no notifications for %u ms after it was "
             "cut off",
             client->advises.length, client->name, limits_of (client)->cut_off_grace_ms);
  client->hub->expired (client, client->hub->data);
}

/* See os-client.h: nothing more is sent, nothing waits for it. */
static void
cut_off (OsClient *client, const char *why)
{
  const OsLimits *limits = limits_of (client);

  if (client->cut_off)
    return;
  client->cut_off = TRUE;
  g_debug ("%s: %u queued, %u awaited, %u calls, %u in the bus%s", client->name,
           client->outbox.length, client->awaiting.length, client->calls, client->in_bus,
           client->waits_for_room ? ", waiting for room" : "");
  g_message ("Cut off %s (%u advises): %s; its advises go in %u ms unless it takes what it "
             "owes",
             client->name, client->advises.length, why, limits->cut_off_grace_ms);
  drop_outbox (client);
  /* Its calls still count until answered, but no transition waits for them. */
  for (GList *l = client->awaiting.head; l != NULL; l = l->next)
    release (l->data);
  os_timeout_add_fair (&client->grace_id, limits->cut_off_grace_ms, on_grace_over, client);
  /* Signals sent before: only an answered ping can show it has read them. */
  maybe_ping (client);
}

static void
maybe_forgive (OsClient *client)
{
  if (!client->cut_off || client->forgotten || client->in_bus > 0 || client->calls > 0)
    return;
  client->cut_off = FALSE;
  g_clear_handle_id (&client->grace_id, g_source_remove);
  g_message ("%s took what it owed: it gets notifications again", client->name);
}

static void
wait_for_user (OsClient *client)
{
  if (client->waits_for_user)
    return;
  client->waits_for_user = TRUE;
  g_queue_push_tail (&client->user->waiting, os_client_ref (client));
}

/* Room in the user's budgets: its connections held back get a turn each, oldest first,
 * while there is room. */
static void
wake_user (OsUser *user, const OsLimits *limits)
{
  guint turns;

  if (user == NULL || user->waking)
    return;
  user->waking = TRUE;
  turns = user->waiting.length;
  while (turns-- > 0 && !g_queue_is_empty (&user->waiting) &&
         user->calls < limits->max_notify_calls_per_user &&
         user->in_bus < limits->max_queued_per_user)
    {
      g_autoptr (OsClient) client = g_queue_pop_head (&user->waiting);

      client->waits_for_user = FALSE;
      if (client->hub != NULL && client->user == user)
        pump (client);
    }
  user->waking = FALSE;
}

void
os_user_free (OsUser *user)
{
  g_queue_clear_full (&user->waiting, (GDestroyNotify) os_client_unref);
  g_free (user);
}

/* The room for calls in flight toward clients (Notify, Peer.Ping), which the bus counts
 * against the daemon's connection: a client takes some or waits in line for it. */

static void
wait_for_room (OsClient *client)
{
  if (client->waits_for_room)
    return;
  client->waits_for_room = TRUE;
  g_queue_push_tail (&client->hub->waiting, os_client_ref (client));
}

static gboolean
take_slot (OsClient *client)
{
  OsClientHub *hub = client->hub;

  if (client->granted)
    {
      client->granted = FALSE;
      return TRUE;
    }
  if (hub->calls_in_flight < hub->window.size && g_queue_is_empty (&hub->waiting))
    {
      hub->calls_in_flight++;
      return TRUE;
    }
  wait_for_room (client);
  return FALSE;
}

/* Each client in line gets its turn, oldest first, while there is room; one that is still
 * held back (by its user's budget) goes to the end of the line. */
static void
wake_waiting (OsClientHub *hub)
{
  guint turns = hub->waiting.length;

  if (hub->waking)
    return;
  hub->waking = TRUE;
  while (turns-- > 0 && hub->calls_in_flight < hub->window.size &&
         !g_queue_is_empty (&hub->waiting))
    {
      g_autoptr (OsClient) client = g_queue_pop_head (&hub->waiting);

      client->waits_for_room = FALSE;
      if (client->hub == NULL)
        continue;
      hub->calls_in_flight++;
      client->granted = TRUE;
      pump (client);
    }
  hub->waking = FALSE;
}

static void
return_slot (OsClientHub *hub, gboolean refused_by_bus, gboolean answered)
{
  hub->calls_in_flight--;
  if (refused_by_bus)
    os_notify_window_refused (&hub->window, hub->calls_in_flight);
  else if (answered)
    os_notify_window_answered (&hub->window);
  wake_waiting (hub);
}

/* Whether the client's and its user's budgets, then the hub's room for calls in
 * flight, let @note go now. */
static gboolean
can_send (OsClient *client, OsNote *note)
{
  const OsLimits *limits = limits_of (client);
  OsUser *user = client->user;

  if (client->in_bus >= limits->max_queued_per_connection)
    return FALSE;
  if (user != NULL && user->in_bus >= limits->max_queued_per_user)
    {
      wait_for_user (client);
      return FALSE;
    }
  if (!note->is_call)
    return TRUE;
  if (client->calls >= limits->max_notify_calls_per_connection)
    return FALSE;
  if (user != NULL && user->calls >= limits->max_notify_calls_per_user)
    {
      wait_for_user (client);
      return FALSE;
    }
  return take_slot (client);
}

static void
send_note (OsClient *client, OsNote *note)
{
  OsClientHub *hub = client->hub;
  const OsTransport *transport = hub->transport;
  void *data = hub->transport_data;
  OsAdvise *advise = advise_of (note);

  /* Removed while it waited, or its phase moved on (its time-out ended): sent late, a
   * START could come after the STATECHANGE, or in the next transition. */
  if (advise == NULL || (note->is_call && note->ticket != 0 &&
                         !hub->hooks->awaits_reply (advise->profile, advise, note->ticket)))
    {
      if (note->is_call)
        return_slot (hub, FALSE, FALSE);
      note_free (note);
      return;
    }
  if (!note->is_call)
    {
      charge (client, 1, 0);
      client->unpinged++;
      transport->send_signal (data, client, advise, &note->n);
      note_free (note);
      return;
    }
  charge (client, 1, 1);
  note->since_us = g_get_monotonic_time ();
  g_queue_push_tail_link (&client->awaiting, &note->link);
  transport->send_call (data, client, advise, &note->n, note);
}

static void
send_ping (OsClient *client)
{
  const OsTransport *transport = client->hub->transport;
  OsNote *note = note_new (client, NULL, 0, TRUE);

  note->covers = client->unpinged;
  client->unpinged = 0;
  client->ping_out = TRUE;
  charge (client, 0, 1);
  g_queue_push_tail_link (&client->awaiting, &note->link);
  transport->send_ping (client->hub->transport_data, client, note);
}

/* A ping goes after signals once enough of them await one, or when the budget of
 * notifications in the bus holds the next ones back. */
static void
maybe_ping (OsClient *client)
{
  const OsLimits *limits = limits_of (client);
  guint every = MAX (1, limits->max_queued_per_connection / 8);
  gboolean held = !g_queue_is_empty (&client->outbox) || client->cut_off;

  if (client->forgotten || client->ping_out || client->unpinged == 0 ||
      (client->unpinged < every && !held))
    return;
  if (client->calls >= limits->max_notify_calls_per_connection || !take_slot (client))
    return;
  send_ping (client);
}

/* Sends what the budgets allow of @client's queue. */
static void
pump (OsClient *client)
{
  g_autoptr (OsClient) held = os_client_ref (client);
  OsNote *note;

  if (client->hub == NULL)
    return;
  while (!client->cut_off && (note = g_queue_peek_head (&client->outbox)) != NULL &&
         can_send (client, note))
    {
      g_queue_pop_head_link (&client->outbox);
      send_note (client, note);
      if (client->hub == NULL)
        return;
    }
  maybe_ping (client);
  arm_deadline (client);
  if (client->granted && client->hub != NULL)
    {
      client->granted = FALSE;
      return_slot (client->hub, FALSE, FALSE);
    }
}

void
os_client_post (OsClient *client, OsAdvise *advise, const OsNotification *n, guint ticket)
{
  OsNote *note;

  if (client->hub == NULL || client->cut_off)
    return;
  note = note_new (client, advise, ticket, os_advise_is_callback (advise));
  note->n = *n;
  if (client->outbox.length >= limits_of (client)->max_queued_per_connection)
    {
      g_queue_push_tail_link (&client->outbox, &note->link);
      cut_off (client, "its queue of notifications is full (--max-queued-per-connection)");
      return;
    }
  g_queue_push_tail_link (&client->outbox, &note->link);
  pump (client);
}

void
os_note_answered (OsNote *note, OsAnswer answer, const char *reason)
{
  OsClient *client = note->client;
  g_autoptr (OsClient) held = os_client_ref (client);
  gboolean ping = note->advise == NULL;

  if (answer != OS_ANSWER_TAKEN &&
      !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    {
      /* The client chose the message: a line's worth, escaped. */
      g_autofree char *why = os_log_excerpt (reason != NULL ? reason : "");

      g_debug ("%s: %s %s%s%s", client->name, ping ? "a ping" : "a Notify",
               answer == OS_ANSWER_REFUSED ? "refused by the bus"
               : answer == OS_ANSWER_LOST  ? "unanswered"
                                           : "failed",
               reason != NULL ? ": " : "", why);
    }
  g_queue_unlink (&client->awaiting, &note->link);
  refund (client, ping ? note->covers : 1, 1);
  if (ping)
    client->ping_out = FALSE;
  if (client->hub == NULL)
    {
      note_free (note);
      return;
    }
  return_slot (client->hub, answer == OS_ANSWER_REFUSED, answer == OS_ANSWER_TAKEN);
  if (ping && answer == OS_ANSWER_REFUSED)
    {
      /* Still unconfirmed: the next ping covers them. */
      client->unpinged += note->covers;
      charge (client, note->covers, 0);
    }
  if (!ping && answer == OS_ANSWER_REFUSED && !note->refused && !client->cut_off &&
      !client->forgotten)
    {
      /* Never delivered: it goes again when there is room, before anything queued. */
      note->refused = TRUE;
      g_queue_push_head_link (&client->outbox, &note->link);
    }
  else
    {
      OsAdvise *advise = advise_of (note);

      if (answer == OS_ANSWER_FAILED && advise != NULL)
        client->hub->hooks->drop (advise->profile, advise, reason);
      else
        release (note);
      note_free (note);
    }
  if (client->hub == NULL)
    return;
  maybe_forgive (client);
  pump (client);
  wake_user (client->user, limits_of (client));
}

static gboolean
own_budget_full (OsClient *client)
{
  const OsLimits *limits = limits_of (client);

  return client->in_bus >= limits->max_queued_per_connection ||
         client->calls >= limits->max_notify_calls_per_connection;
}

static gint64
oldest_owed (OsClient *client)
{
  OsNote *sent = g_queue_peek_head (&client->awaiting);
  OsNote *queued = g_queue_peek_head (&client->outbox);
  gint64 oldest = G_MAXINT64;

  if (sent != NULL)
    oldest = sent->since_us;
  /* A queue held back by the room of its user or of the hub, which other connections
   * fill, is no fault of this connection's. */
  if (queued != NULL && own_budget_full (client))
    oldest = MIN (oldest, queued->since_us);
  return oldest;
}

static void
on_deadline (gpointer user_data)
{
  arm_deadline (user_data);
}

static void
arm_deadline (OsClient *client)
{
  gint64 timeout_us = (gint64) limits_of (client)->notify_timeout_ms * 1000;
  gint64 oldest = oldest_owed (client);
  gint64 now = g_get_monotonic_time ();

  if (client->cut_off || client->forgotten || oldest == G_MAXINT64)
    {
      g_clear_handle_id (&client->deadline_id, g_source_remove);
      return;
    }
  if (oldest + timeout_us <= now)
    {
      g_autofree char *why =
          g_strdup_printf ("a notification waited more than %u ms (--notify-timeout)",
                           limits_of (client)->notify_timeout_ms);

      g_clear_handle_id (&client->deadline_id, g_source_remove);
      cut_off (client, why);
      return;
    }
  if (client->deadline_id == 0)
    os_timeout_add_fair (&client->deadline_id, (oldest + timeout_us - now) / 1000 + 1, on_deadline,
                         client);
}

void
os_client_forget (OsClient *client)
{
  client->forgotten = TRUE;
  /* Signals no ping covers will never be confirmed now: a client that unadvised after them
   * owes nothing. */
  refund (client, client->unpinged, 0);
  client->unpinged = 0;
  client->cut_off = FALSE;
  g_clear_handle_id (&client->deadline_id, g_source_remove);
  g_clear_handle_id (&client->grace_id, g_source_remove);
  drop_outbox (client);
}

/* The hub is going: @client lets go of it and of its user. */
static void
detach (OsClient *client)
{
  g_clear_handle_id (&client->deadline_id, g_source_remove);
  g_clear_handle_id (&client->grace_id, g_source_remove);
  drop_outbox (client);
  client->waits_for_room = FALSE;
  if (client->waits_for_user && g_queue_remove (&client->user->waiting, client))
    {
      client->waits_for_user = FALSE;
      os_client_unref (client);
    }
  /* What is still in the bus is no longer its user's: the user's record goes with the
   * hub's owner, and the answers may come after. */
  if (client->user != NULL)
    {
      client->user->in_bus -= client->in_bus;
      client->user->calls -= client->calls;
      client->user->advises -= client->advises.length;
      client->user->path_bytes -= client->path_bytes;
      client->user = NULL;
    }
  client->hub = NULL;
}

void
os_client_phase_timed_out (OsClient *client)
{
  g_autofree char *why = NULL;

  OsNote *oldest;
  gint64 waited_us;

  if (client->hub == NULL || client->forgotten || g_queue_is_empty (&client->awaiting))
    return;
  /* Only a call that had the whole time-out: one sent late in the phase, when room came,
   * has its own deadline. The phase's timer and the call's sending are a moment apart. */
  oldest = g_queue_peek_head (&client->awaiting);
  waited_us = g_get_monotonic_time () - oldest->since_us;
  if (waited_us + PHASE_SLACK_US < (gint64) limits_of (client)->notify_timeout_ms * 1000)
    return;
  why = g_strdup_printf ("it did not answer a notification in %u ms (--notify-timeout)",
                         limits_of (client)->notify_timeout_ms);
  cut_off (client, why);
}

gboolean
os_client_takes_notifications (OsClient *client)
{
  return client->hub != NULL && !client->cut_off;
}

gboolean
os_client_check_advise (OsClient *client, gsize path_bytes, GError **error)
{
  const OsLimits *limits = limits_of (client);
  OsUser *user = client->user;

  if (client->advises.length >= limits->max_advises_per_connection)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "%s holds %u advises, the most that --max-advises-per-connection allows",
                    client->name, client->advises.length);
      return FALSE;
    }
  if (user != NULL && user->advises >= limits->max_advises_per_user)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "user %u holds %u advises, the most that --max-advises-per-user allows",
                    user->uid, user->advises);
      return FALSE;
    }
  if (client->path_bytes + path_bytes > limits->max_path_bytes_per_connection)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "the callback paths of %s would take %" G_GSIZE_FORMAT
                    " bytes, more than --max-path-bytes-per-connection allows (%u)",
                    client->name, client->path_bytes + path_bytes,
                    limits->max_path_bytes_per_connection);
      return FALSE;
    }
  if (user != NULL && user->path_bytes + path_bytes > limits->max_path_bytes_per_user)
    {
      os_set_error (error, OS_ERROR_LIMITS_EXCEEDED,
                    "the callback paths of user %u would take %" G_GSIZE_FORMAT
                    " bytes, more than --max-path-bytes-per-user allows (%u)",
                    user->uid, user->path_bytes + path_bytes, limits->max_path_bytes_per_user);
      return FALSE;
    }
  return TRUE;
}
