/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * One client connection, known by its unique name: the one owner of what that client made
 * (its advises), of its queue of notifications, and of its budgets. Profiles, transitions
 * and the token index (OsRegistry) only look its advises up. Every limit that a client could
 * spend for another is counted here, per connection and per Unix user (OsUser).
 *
 * It calls nothing above it: what it has to tell goes through its hub (OsClientHub, below),
 * the profile's functions that its owner gave (OsAdviseHooks) and the hub's @expired.
 *
 * Delivery. A notification for one of its advises goes through os_client_post(): a signal
 * is sent at once, a Notify call when the budgets allow (calls in flight per connection,
 * per user and in all, which the bus also counts against the daemon), else it waits in the
 * client's queue. Signals are confirmed by a Peer.Ping sent after them: the client has read
 * everything before its answer. The rule of the cut-off: a client that leaves a
 * notification untaken (queued, a call unanswered, signals unconfirmed) for longer than
 * the notify time-out, or lets its queue fill, is cut off: it gets nothing more, and no
 * transition waits for it. If it takes everything owed before the grace ends
 * (--cut-off-grace), it is taken back; otherwise its advises are removed as if it had
 * called Unadvise, with one line in the log.
 */
#pragma once

#include <gio/gio.h>

#include "os-advise.h"
#include "os-limits.h"
#include "os-notify-window.h"

G_BEGIN_DECLS

#define OS_UID_UNKNOWN G_MAXUINT

/* What one Unix user's connections hold together. */
typedef struct
{
  guint uid;
  guint advises;
  gsize path_bytes;
  guint in_bus;   /* notifications sent toward its connections, not yet taken */
  guint calls;    /* Notify calls and pings the bus holds for its connections */
  GQueue waiting; /* OsClient (a reference each) held back by this user's budgets */
  gboolean waking;
} OsUser;

/* One notification as the wire carries it. */
typedef struct
{
  guint notify_type;
  guint client_token;
  guint mask;
  guint old_state;
  guint new_state;
  guint64 sequence;
} OsNotification;

/* One notification (or ping) of a client, waiting or sent. */
typedef struct _OsNote OsNote;

typedef enum
{
  OS_ANSWER_TAKEN,   /* answered: a Notify's reply, or any answer to a ping */
  OS_ANSWER_FAILED,  /* the callback failed: its advise goes */
  OS_ANSWER_LOST,    /* no answer will come (the client left, the bus gave up) */
  OS_ANSWER_REFUSED, /* the bus refused to carry it (its limit of calls awaiting replies) */
} OsAnswer;

/* What carries notifications: the bus layer. Each call or ping sent is answered, once, by
 * os_note_answered(). */
typedef struct
{
  void (*send_signal) (gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n);
  void (*send_call) (
      gpointer data, OsClient *client, OsAdvise *advise, const OsNotification *n, OsNote *note);
  void (*send_ping) (gpointer data, OsClient *client, OsNote *note);
  /* Calls @func once everything sent so far has been written to the bus. */
  void (*when_sent) (gpointer data, GSourceOnceFunc func, gpointer user_data);
} OsTransport;

/* What the clients of one OsRegistry share, which owns it: the limits, the functions of their
 * advises' profiles, what carries their notifications, the room for calls in flight toward
 * them all (the bus counts those against the daemon's connection), and every client alive.
 * A client tells its owner through @expired alone. */
typedef struct
{
  const OsLimits *limits;
  const OsAdviseHooks *hooks;
  const OsTransport *transport; /* NULL: notifications are the profiles' signals */
  gpointer transport_data;
  OsNotifyWindow window; /* the room for calls in flight toward clients */
  guint calls_in_flight;
  GQueue waiting; /* OsClient (a reference each) in line for room */
  gboolean waking;
  GQueue clients; /* every OsClient alive: holding advises, or still owed answers */
  /* @client was cut off and did not come back in time: its advises go. */
  void (*expired) (OsClient *client, gpointer data);
  gpointer data;
} OsClientHub;

void os_client_hub_init (OsClientHub *hub,
                         const OsLimits *limits,
                         const OsAdviseHooks *hooks,
                         void (*expired) (OsClient *client, gpointer data),
                         gpointer data);
/* The owner is going: every client lets go of the hub and of its user. */
void os_client_hub_clear (OsClientHub *hub);

struct _OsClient
{
  grefcount ref;
  OsClientHub *hub; /* not a reference; NULL once the hub let go of it */
  char *name;
  OsUser *user; /* NULL while its Unix user is not known */
  GQueue advises;
  gsize path_bytes;
  GQueue outbox;   /* OsNote not sent yet, oldest first */
  GQueue awaiting; /* OsNote sent, answer awaited, oldest first */
  guint in_bus;    /* signals unconfirmed and calls awaiting */
  guint calls;     /* calls and pings awaiting */
  guint unpinged;  /* signals sent since the last ping */
  gboolean ping_out;
  gboolean cut_off;
  gboolean waits_for_room; /* in the hub's line for a call in flight */
  gboolean waits_for_user; /* in its user's line */
  gboolean granted;        /* the hub gave it room for one call */
  gboolean forgotten;      /* it holds no advises: only answers are awaited */
  guint deadline_id;
  guint grace_id;
  GList hub_link; /* in the hub's clients */
};

OsClient *os_client_new (OsClientHub *hub, const char *name);
OsClient *os_client_ref (OsClient *client);
void os_client_unref (OsClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OsClient, os_client_unref)

/* @advise, new, is @client's: its budgets count it from now on. */
void os_client_add_advise (OsClient *client, OsAdvise *advise);
/* @advise, removed, is @client's no more; TRUE when it was its last. */
gboolean os_client_remove_advise (OsClient *client, OsAdvise *advise);
/* @client's Unix user, once known: what it holds counts for @user from now on. */
void os_client_set_user (OsClient *client, OsUser *user);

/* @client holds no advise any more: nothing more is sent, its queue is dropped; it lives
 * on while answers are owed. */
void os_client_forget (OsClient *client);

/* A transition's phase waited for @client past the notify time-out: cut off if a call it
 * was sent is still unanswered (not if its notifications only waited for room). */
void os_client_phase_timed_out (OsClient *client);

/* Whether a transition should notify (and wait for) @client at all. */
gboolean os_client_takes_notifications (OsClient *client);

/* A notification for @advise, one of @client's: @ticket as for OsProfile's
 * "notification". */
void os_client_post (OsClient *client, OsAdvise *advise, const OsNotification *n, guint ticket);

/* The answer to a call or ping that the transport sent; @reason says why it failed. */
void os_note_answered (OsNote *note, OsAnswer answer, const char *reason);

/* Frees a user's record (its owner's, at its end). */
void os_user_free (OsUser *user);

/* Whether @client's budgets take one more advise with a callback path of @path_bytes. */
gboolean os_client_check_advise (OsClient *client, gsize path_bytes, GError **error);

G_END_DECLS
