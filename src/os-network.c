/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-network.h"
#include "os-validate.h"

typedef enum
{
  NETWORK_DOWN,
  NETWORK_SETTLING, /* back, but not yet for the whole reconnect delay */
  NETWORK_UP,
} NetworkPhase;

typedef enum
{
  MOVE_NONE,
  MOVE_STARTED,
  MOVE_WAITING, /* for the profile's own transition to end */
} Move;

typedef struct
{
  guint started;
  guint waiting;
} Tally;

/* What the follower knows of one profile. */
typedef struct
{
  OsProfile *profile;
  /* The follower took it offline, and no client has changed its state since: it is the
   * follower's to bring back. */
  gboolean taken;
  guint want;           /* the state to move to once its transition ends; 0: none */
  guint64 own_sequence; /* the number of the transition the follower runs; 0: none */
  guint retry_id;
} Tracked;

struct _OsNetworkFollower
{
  GObject parent_instance;

  OsManager *manager;
  GNetworkMonitor *monitor;
  guint reconnect_delay_ms;
  NetworkPhase phase;
  guint reconnect_id;
  GHashTable *tracked; /* OsProfile → Tracked */
};

G_DEFINE_FINAL_TYPE (OsNetworkFollower, os_network_follower, G_TYPE_OBJECT)

static void
tracked_free (Tracked *t)
{
  g_signal_handlers_disconnect_by_data (t->profile, t);
  g_clear_handle_id (&t->retry_id, g_source_remove);
  g_object_unref (t->profile);
  g_free (t);
}

static void
os_network_follower_dispose (GObject *object)
{
  OsNetworkFollower *self = OS_NETWORK_FOLLOWER (object);

  g_clear_handle_id (&self->reconnect_id, g_source_remove);
  if (self->manager != NULL)
    g_signal_handlers_disconnect_by_data (self->manager, self);
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_pointer (&self->tracked, g_hash_table_unref);
  g_clear_object (&self->manager);
  g_clear_object (&self->monitor);
  G_OBJECT_CLASS (os_network_follower_parent_class)->dispose (object);
}

static void
os_network_follower_class_init (OsNetworkFollowerClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = os_network_follower_dispose;
}

static void
os_network_follower_init (OsNetworkFollower *self)
{
  self->tracked = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) tracked_free);
}

static void
state_set (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsProfile *profile = OS_PROFILE (source);
  g_autoptr (GError) error = NULL;

  if (!os_profile_set_state_finish (profile, result, &error))
    g_warning ("Network: profile '%s' did not change state: %s", os_profile_get_name (profile),
               error->message);
}

static Move
move (Tracked *t, guint state)
{
  guint64 sequence = os_profile_get_sequence (t->profile);

  g_debug ("Network: taking profile '%s' %s", os_profile_get_name (t->profile),
           os_state_to_string (state));
  os_profile_set_state_async (t->profile, MAPIOFFLINE_FLAG_DEFAULT, MAPIOFFLINE_STATE_OFFLINE_MASK,
                              state, state_set, NULL);
  /* The transition starts inside the call, and its commit will carry this number: a commit
   * with any other number is a client's. */
  if (!os_profile_get_transitioning (t->profile))
    return MOVE_NONE;
  t->own_sequence = sequence + 1;
  t->taken = state == MAPIOFFLINE_STATE_OFFLINE;
  return MOVE_STARTED;
}

/* Moves the profile to the state the follower wants for it, if it still can. */
static Move
reconcile (Tracked *t)
{
  const char *name = os_profile_get_name (t->profile);
  guint want = t->want;

  if (want == 0)
    return MOVE_NONE;
  if (os_profile_get_removing (t->profile))
    {
      g_debug ("Network: profile '%s' is being removed; leaving it", name);
      t->want = 0;
      return MOVE_NONE;
    }
  if (os_profile_get_transitioning (t->profile))
    {
      g_debug ("Network: profile '%s' is changing state; taking it %s once that is done", name,
               os_state_to_string (want));
      return MOVE_WAITING;
    }
  t->want = 0;
  if (want == MAPIOFFLINE_STATE_ONLINE && !t->taken)
    {
      g_debug ("Network: a client changed profile '%s' since the network took it offline; "
               "leaving it %s",
               name, os_state_to_string (os_profile_get_state (t->profile)));
      return MOVE_NONE;
    }
  if (os_profile_get_state (t->profile) == want)
    {
      g_debug ("Network: profile '%s' is %s already", name, os_state_to_string (want));
      return MOVE_NONE;
    }
  return move (t, want);
}

static void
on_retry (gpointer user_data)
{
  Tracked *t = user_data;
  guint want = t->want;

  t->retry_id = 0;
  if (reconcile (t) == MOVE_STARTED)
    g_message ("Network: profile '%s' finished its transition; taking it %s",
               os_profile_get_name (t->profile), os_state_to_string (want));
}

static void
on_transitioning (OsProfile *profile, GParamSpec *pspec, gpointer user_data)
{
  Tracked *t = user_data;

  /* Not from inside this notification: its other handlers (the bus layer's Transitioning,
   * BLOCK callers) must see this transition end before the next one begins. */
  if (!os_profile_get_transitioning (profile) && t->want != 0 && t->retry_id == 0)
    t->retry_id = g_idle_add_once (on_retry, t);
}

static void
on_sequence (OsProfile *profile, GParamSpec *pspec, gpointer user_data)
{
  Tracked *t = user_data;
  guint64 sequence = os_profile_get_sequence (profile);

  if (sequence == t->own_sequence)
    {
      t->own_sequence = 0;
      return;
    }
  if (t->taken)
    g_debug ("Network: a client changed profile '%s' (transition %" G_GUINT64_FORMAT
             "): it is no longer the network's to bring back",
             os_profile_get_name (profile), sequence);
  t->taken = FALSE;
}

static void
track (OsNetworkFollower *self, OsProfile *profile)
{
  Tracked *t = g_new0 (Tracked, 1);

  t->profile = g_object_ref (profile);
  g_signal_connect (profile, "notify::transitioning", G_CALLBACK (on_transitioning), t);
  g_signal_connect (profile, "notify::sequence", G_CALLBACK (on_sequence), t);
  g_hash_table_insert (self->tracked, profile, t);
}

static void
on_profile_added (OsManager *manager, OsProfile *profile, gpointer user_data)
{
  OsNetworkFollower *self = user_data;

  g_debug ("Network: profile '%s' added; leaving it %s as created", os_profile_get_name (profile),
           os_state_to_string (os_profile_get_state (profile)));
  track (self, profile);
}

static void
on_profile_removed (OsManager *manager, OsProfile *profile, gpointer user_data)
{
  OsNetworkFollower *self = user_data;

  g_debug ("Network: profile '%s' removed; forgetting it", os_profile_get_name (profile));
  g_hash_table_remove (self->tracked, profile);
}

/* Every profile is to go to @state; going ONLINE, only those the follower took offline. */
static Tally
want_all (OsNetworkFollower *self, guint state)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (self->manager);
  Tally tally = { 0, 0 };

  /* By name, not over the table: starting a transition runs handlers. */
  for (guint i = 0; names[i] != NULL; i++)
    {
      OsProfile *profile = os_manager_lookup (self->manager, names[i]);
      Tracked *t = profile != NULL ? g_hash_table_lookup (self->tracked, profile) : NULL;

      if (t == NULL)
        continue;
      t->want = (state == MAPIOFFLINE_STATE_OFFLINE || t->taken) ? state : 0;
      switch (reconcile (t))
        {
          case MOVE_STARTED:
            tally.started++;
            break;
          case MOVE_WAITING:
            tally.waiting++;
            break;
          default:
            break;
        }
    }
  return tally;
}

static void
log_tally (const char *what, Tally tally, const char *direction)
{
  const char *noun = tally.started == 1 ? "profile" : "profiles";

  if (tally.waiting == 0)
    g_message ("%s: taking %u %s %s", what, tally.started, noun, direction);
  else
    g_message ("%s: taking %u %s %s, %u more once their transitions end", what, tally.started, noun,
               direction, tally.waiting);
}

static void
on_reconnect_delay_over (gpointer user_data)
{
  OsNetworkFollower *self = user_data;
  g_autofree char *what = g_strdup_printf ("network back for %u ms", self->reconnect_delay_ms);

  self->reconnect_id = 0;
  self->phase = NETWORK_UP;
  log_tally (what, want_all (self, MAPIOFFLINE_STATE_ONLINE), "online");
}

static void
network_lost (OsNetworkFollower *self)
{
  if (self->phase == NETWORK_SETTLING)
    {
      g_debug ("Network: lost again within the reconnect delay; nothing changes");
      g_clear_handle_id (&self->reconnect_id, g_source_remove);
      self->phase = NETWORK_DOWN;
      return;
    }
  self->phase = NETWORK_DOWN;
  log_tally ("network lost", want_all (self, MAPIOFFLINE_STATE_OFFLINE), "offline");
}

static void
network_back (OsNetworkFollower *self)
{
  g_debug ("Network: back; the profiles it took offline go online if it stays up for %u ms",
           self->reconnect_delay_ms);
  self->phase = NETWORK_SETTLING;
  self->reconnect_id = g_timeout_add_once (self->reconnect_delay_ms, on_reconnect_delay_over, self);
}

/* Acts on edges only: monitors also report changes that leave the availability as it was. */
static void
sync_network (OsNetworkFollower *self)
{
  gboolean available = g_network_monitor_get_network_available (self->monitor);

  if (available == (self->phase != NETWORK_DOWN))
    return;
  if (available)
    network_back (self);
  else
    network_lost (self);
}

static void
on_network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  sync_network (user_data);
}

static void
on_available_notify (GNetworkMonitor *monitor, GParamSpec *pspec, gpointer user_data)
{
  sync_network (user_data);
}

OsNetworkFollower *
os_network_follower_new (OsManager *manager, GNetworkMonitor *monitor, guint reconnect_delay_ms)
{
  OsNetworkFollower *self = g_object_new (OS_TYPE_NETWORK_FOLLOWER, NULL);
  g_auto (GStrv) names = os_manager_dup_profile_names (manager);

  self->manager = g_object_ref (manager);
  self->monitor = g_object_ref (monitor);
  self->reconnect_delay_ms = reconnect_delay_ms;
  for (guint i = 0; names[i] != NULL; i++)
    track (self, os_manager_lookup (manager, names[i]));
  g_signal_connect (manager, "profile-added", G_CALLBACK (on_profile_added), self);
  g_signal_connect (manager, "profile-removed", G_CALLBACK (on_profile_removed), self);
  /* GLib 2.74's NetworkManager monitor tells of NetworkManager's changes only through
   * notify::network-available; its "network-changed" comes from the kernel's routes. */
  g_signal_connect (monitor, "notify::network-available", G_CALLBACK (on_available_notify), self);
  g_signal_connect (monitor, "network-changed", G_CALLBACK (on_network_changed), self);
  g_debug ("Network: following %s, reconnect delay %u ms; the network is %s",
           G_OBJECT_TYPE_NAME (monitor), reconnect_delay_ms,
           g_network_monitor_get_network_available (monitor) ? "available" : "unavailable");
  self->phase = NETWORK_UP;
  sync_network (self);
  return self;
}
