/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * --follow-network with no bus: the follower over an ephemeral model, fed by a fake
 * GNetworkMonitor whose network the test switches on and off.
 */
#include "offline-state.h"
#include "os-manager.h"
#include "os-network.h"
#include "spin.h"
#include "test-add.h"

#define DELAY_MS 50
/* Long enough for anything the follower would do after DELAY_MS to have happened. */
#define QUIET_MS (DELAY_MS * 4)
#define SLOW_MS  200

/* The fake monitor */

#define FAKE_TYPE_MONITOR (fake_monitor_get_type ())
G_DECLARE_FINAL_TYPE (FakeMonitor, fake_monitor, FAKE, MONITOR, GObject)

struct _FakeMonitor
{
  GObject parent_instance;
  gboolean available;
  /* Tell only through notify::network-available, as GLib 2.74's NetworkManager monitor. */
  gboolean notify_only;
};

enum
{
  FAKE_PROP_0,
  FAKE_PROP_AVAILABLE,
  FAKE_PROP_METERED,
  FAKE_PROP_CONNECTIVITY,
};

static void fake_initable_iface_init (GInitableIface *iface);
static void fake_monitor_iface_init (GNetworkMonitorInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FakeMonitor,
                               fake_monitor,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, fake_initable_iface_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR,
                                                          fake_monitor_iface_init))

static void
fake_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  FakeMonitor *self = FAKE_MONITOR (object);

  switch (prop_id)
    {
      case FAKE_PROP_AVAILABLE:
        g_value_set_boolean (value, self->available);
        break;
      case FAKE_PROP_METERED:
        g_value_set_boolean (value, FALSE);
        break;
      case FAKE_PROP_CONNECTIVITY:
        g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                                 : G_NETWORK_CONNECTIVITY_LOCAL);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fake_monitor_class_init (FakeMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = fake_monitor_get_property;
  g_object_class_override_property (object_class, FAKE_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, FAKE_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, FAKE_PROP_CONNECTIVITY, "connectivity");
}

static void
fake_monitor_init (FakeMonitor *self)
{
  self->available = TRUE;
}

/* GNetworkMonitor requires GInitable; there is nothing to set up. */
static gboolean
fake_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
fake_initable_iface_init (GInitableIface *iface)
{
  iface->init = fake_init;
}

static gboolean
fake_can_reach (GNetworkMonitor *monitor,
                GSocketConnectable *connectable,
                GCancellable *cancellable,
                GError **error)
{
  if (FAKE_MONITOR (monitor)->available)
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE, "the network is away");
  return FALSE;
}

static void
fake_can_reach_async (GNetworkMonitor *monitor,
                      GSocketConnectable *connectable,
                      GCancellable *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (monitor, cancellable, callback, user_data);
  GError *error = NULL;

  if (fake_can_reach (monitor, connectable, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static gboolean
fake_can_reach_finish (GNetworkMonitor *monitor, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
fake_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = fake_can_reach;
  iface->can_reach_async = fake_can_reach_async;
  iface->can_reach_finish = fake_can_reach_finish;
}

static void
fake_monitor_set_available (FakeMonitor *self, gboolean available)
{
  if (self->available == available)
    return;
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
  if (!self->notify_only)
    g_signal_emit_by_name (self, "network-changed", available);
}

/* The fixture */

typedef struct
{
  OsManager *manager;
  FakeMonitor *monitor;
  OsNetworkFollower *follower;
  OsProfile *profile; /* "default" */
} Fixture;

static gboolean
is_settled (gconstpointer data)
{
  return !os_profile_get_transitioning ((OsProfile *) data);
}

static gboolean
is_online (gconstpointer data)
{
  return is_settled (data) && os_profile_get_state ((OsProfile *) data) == MAPIOFFLINE_STATE_ONLINE;
}

static gboolean
is_offline (gconstpointer data)
{
  return is_settled (data) &&
         os_profile_get_state ((OsProfile *) data) == MAPIOFFLINE_STATE_OFFLINE;
}

static gboolean
is_set (gconstpointer data)
{
  return *(const gboolean *) data;
}

static void
start_follower (Fixture *f)
{
  f->follower = os_network_follower_new (f->manager, G_NETWORK_MONITOR (f->monitor), DELAY_MS);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const OsLimits limits = OS_LIMITS_DEFAULT;

  f->manager = os_manager_new (&limits, NULL);
  os_manager_load (f->manager);
  f->profile = os_manager_lookup (f->manager, OFFLINE_STATE_DEFAULT_PROFILE);
  f->monitor = g_object_new (FAKE_TYPE_MONITOR, NULL);
  if (data == NULL)
    start_follower (f);
}

static gboolean
all_settled (gconstpointer data)
{
  const Fixture *f = data;
  g_auto (GStrv) names = os_manager_dup_profile_names (f->manager);

  for (guint i = 0; names[i] != NULL; i++)
    if (os_profile_get_transitioning (os_manager_lookup (f->manager, names[i])))
      return FALSE;
  return TRUE;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  OsNetworkFollower *follower = f->follower;

  spin_until (all_settled, f);
  g_object_add_weak_pointer (G_OBJECT (follower), (gpointer *) &follower);
  g_clear_object (&f->follower);
  g_assert_null (follower);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->manager);
  g_clear_object (&f->monitor);
}

/* Helpers */

static void
network (Fixture *f, gboolean available)
{
  fake_monitor_set_available (f->monitor, available);
}

static void
set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (os_profile_set_state_finish (OS_PROFILE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* A client's SetCurrentState, without BLOCK; returns once the call has answered. */
static void
client_begin (OsProfile *profile, guint state)
{
  gboolean done = FALSE;

  os_profile_set_state_async (profile, MAPIOFFLINE_FLAG_DEFAULT, MAPIOFFLINE_STATE_OFFLINE_MASK,
                              state, set_state_done, &done);
  spin_until (is_set, &done);
}

/* A client's SetCurrentState, waited for to the end of the transition. */
static void
client_set (OsProfile *profile, guint state)
{
  client_begin (profile, state);
  spin_until (is_settled, profile);
  g_assert_cmpuint (os_profile_get_state (profile), ==, state);
}

static void
created (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (OsProfile) profile = os_manager_create_finish (OS_MANAGER (source), result, &error);

  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static OsProfile *
create (Fixture *f, const char *name, guint state)
{
  gboolean done = FALSE;

  os_manager_create_async (f->manager, name, 0x3, state, created, &done);
  spin_until (is_set, &done);
  return os_manager_lookup (f->manager, name);
}

static void
removed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (os_manager_remove_finish (OS_MANAGER (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static void
set_delay (OsProfile *profile, guint ms)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (os_profile_set_transition_delay (profile, ms, &error));
  g_assert_no_error (error);
}

static void
assert_profile (OsProfile *profile, guint state, guint64 sequence)
{
  g_assert_false (os_profile_get_transitioning (profile));
  g_assert_cmpuint (os_profile_get_state (profile), ==, state);
  g_assert_cmpuint (os_profile_get_sequence (profile), ==, sequence);
}

static void
on_notification (OsProfile *profile,
                 gpointer advise,
                 guint notify_type,
                 guint mask,
                 guint old_state,
                 guint new_state,
                 guint64 sequence,
                 guint ticket,
                 gpointer user_data)
{
  g_string_append_printf (user_data, "%u:%u>%u#%" G_GUINT64_FORMAT " ", notify_type, old_state,
                          new_state, sequence);
}

/* The messages the follower logged: g_test_expect_message() sees no structured logging. */
static GString *messages;

static GLogWriterOutput
record_messages (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  const char *domain = NULL, *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "GLIB_DOMAIN"))
      domain = fields[i].value;
    else if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;
  if ((level & G_LOG_LEVEL_MESSAGE) && g_strcmp0 (domain, "offline-state") == 0 && message != NULL)
    g_string_append_printf (messages, "%s\n", message);
  return g_log_writer_default (level, fields, n_fields, data);
}

/* Tests */

/* Down: a normal transition to OFFLINE, with its three notifications; back: ONLINE, only
 * once the network has been up for the whole delay. */
static void
test_lost_and_back (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) seen = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gint64 back;

  g_assert_cmpuint (os_profile_advise (f->profile, ":1.5", OS_UID_UNKNOWN, 0, 7, 0, NULL, 1,
                                       MAPIOFFLINE_STATE_OFFLINE_MASK, &error),
                    !=, 0);
  g_signal_connect (f->profile, "notification", G_CALLBACK (on_notification), seen);

  g_string_truncate (messages, 0);
  network (f, FALSE);
  g_assert_true (os_profile_get_transitioning (f->profile));
  g_assert_cmpstr (messages->str, ==, "network lost: taking 1 profile offline\n");
  spin_until (is_settled, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);
  g_assert_cmpstr (seen->str, ==, "1:2>1#1 2:2>1#1 3:2>1#1 ");

  back = g_get_monotonic_time ();
  network (f, TRUE);
  g_assert_false (os_profile_get_transitioning (f->profile));
  g_assert_cmpuint (os_profile_get_state (f->profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  spin_until (is_online, f->profile);
  g_assert_cmpint (g_get_monotonic_time () - back, >=, DELAY_MS * 1000);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
  g_assert_cmpstr (seen->str, ==, "1:2>1#1 2:2>1#1 3:2>1#1 1:1>2#2 2:1>2#2 3:1>2#2 ");
  g_assert_cmpstr (messages->str, ==,
                   "network lost: taking 1 profile offline\n"
                   "network back for " G_STRINGIFY (DELAY_MS) " ms: taking 1 profile online\n");
}

/* GLib 2.74's NetworkManager monitor never emits network-changed for NetworkManager's
 * changes: the property's notification alone must do. */
static void
test_notify_only (Fixture *f, gconstpointer data)
{
  f->monitor->notify_only = TRUE;
  network (f, FALSE);
  spin_until (is_offline, f->profile);
  network (f, TRUE);
  spin_until (is_online, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
}

/* No network when the follower starts: that is a loss too. */
static void
test_down_at_start (Fixture *f, gconstpointer data)
{
  network (f, FALSE);
  start_follower (f);
  spin_until (is_offline, f->profile);
  network (f, TRUE);
  spin_until (is_online, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
}

/* A profile that a client set offline stays offline; another comes back. */
static void
test_sticky (Fixture *f, gconstpointer data)
{
  OsProfile *work = create (f, "work", MAPIOFFLINE_STATE_ONLINE);

  client_set (f->profile, MAPIOFFLINE_STATE_OFFLINE);
  network (f, FALSE);
  spin_until (is_offline, work);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);

  network (f, TRUE);
  spin_until (is_online, work);
  spin_for (QUIET_MS);
  assert_profile (work, MAPIOFFLINE_STATE_ONLINE, 2);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);
}

/* A client that changed a profile during the outage made it its own: online, then offline
 * again by hand, it stays offline; set online, it stays online and is not moved again. */
static void
test_client_takes_over (Fixture *f, gconstpointer data)
{
  OsProfile *work = create (f, "work", MAPIOFFLINE_STATE_ONLINE);

  network (f, FALSE);
  spin_until (is_offline, f->profile);
  spin_until (is_offline, work);
  client_set (f->profile, MAPIOFFLINE_STATE_ONLINE);
  client_set (f->profile, MAPIOFFLINE_STATE_OFFLINE);
  client_set (work, MAPIOFFLINE_STATE_ONLINE);

  network (f, TRUE);
  spin_for (QUIET_MS);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 3);
  assert_profile (work, MAPIOFFLINE_STATE_ONLINE, 2);
}

/* Back and gone again within the delay: no transition at all; the follower still brings
 * the profile back after a real return. */
static void
test_flapping (Fixture *f, gconstpointer data)
{
  network (f, FALSE);
  spin_until (is_offline, f->profile);

  network (f, TRUE);
  network (f, FALSE);
  network (f, TRUE);
  spin_for (DELAY_MS / 5);
  network (f, FALSE);
  spin_for (QUIET_MS);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);

  network (f, TRUE);
  spin_until (is_online, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
}

/* A client's transition runs when the network goes: the follower takes the profile
 * offline once it is done. */
static void
test_transitioning_when_lost (Fixture *f, gconstpointer data)
{
  OsProfile *work = create (f, "work", MAPIOFFLINE_STATE_OFFLINE);

  set_delay (work, SLOW_MS);
  client_begin (work, MAPIOFFLINE_STATE_ONLINE);
  network (f, FALSE);
  g_assert_true (os_profile_get_transitioning (work));
  spin_until (is_settled, work);
  g_assert_cmpuint (os_profile_get_sequence (work), ==, 1);
  g_assert_cmpuint (os_profile_get_state (work), ==, MAPIOFFLINE_STATE_ONLINE);

  /* The next transition is the follower's, and the profile is its to bring back. */
  spin_until (is_offline, work);
  assert_profile (work, MAPIOFFLINE_STATE_OFFLINE, 2);
  network (f, TRUE);
  spin_until (is_online, work);
  assert_profile (work, MAPIOFFLINE_STATE_ONLINE, 3);
}

/* The delay is over while the follower's own OFFLINE transition still runs: ONLINE follows
 * once it is done. */
static void
test_transitioning_when_back (Fixture *f, gconstpointer data)
{
  set_delay (f->profile, SLOW_MS);
  network (f, FALSE);
  g_assert_true (os_profile_get_transitioning (f->profile));
  network (f, TRUE);
  spin_until (is_settled, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);
  spin_until (is_online, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
}

/* A client's transition to OFFLINE runs when the network goes: the profile is the client's
 * and stays offline. */
static void
test_transitioning_client_wins (Fixture *f, gconstpointer data)
{
  set_delay (f->profile, SLOW_MS);
  client_begin (f->profile, MAPIOFFLINE_STATE_OFFLINE);
  network (f, FALSE);
  spin_until (is_offline, f->profile);
  network (f, TRUE);
  spin_for (QUIET_MS);
  assert_profile (f->profile, MAPIOFFLINE_STATE_OFFLINE, 1);
}

/* Profiles created while the network is away are left as created, and stay so. */
static void
test_created_while_down (Fixture *f, gconstpointer data)
{
  OsProfile *on, *off;

  network (f, FALSE);
  spin_until (is_offline, f->profile);
  on = create (f, "on", MAPIOFFLINE_STATE_ONLINE);
  off = create (f, "off", MAPIOFFLINE_STATE_OFFLINE);
  spin_for (QUIET_MS);
  assert_profile (on, MAPIOFFLINE_STATE_ONLINE, 0);
  assert_profile (off, MAPIOFFLINE_STATE_OFFLINE, 0);

  network (f, TRUE);
  spin_until (is_online, f->profile);
  spin_for (QUIET_MS);
  assert_profile (on, MAPIOFFLINE_STATE_ONLINE, 0);
  assert_profile (off, MAPIOFFLINE_STATE_OFFLINE, 0);
}

static void
remove_profile (Fixture *f, const char *name)
{
  gboolean done = FALSE;

  /* Made once written (at the next turn of the main loop, with nothing on disk). */
  os_manager_remove_async (f->manager, name, removed, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (os_manager_lookup (f->manager, name));
}

static gboolean
remove_later (gpointer user_data)
{
  remove_profile (user_data, "later");
  return G_SOURCE_REMOVE;
}

static gboolean
later_gone (gconstpointer data)
{
  const Fixture *f = data;

  return os_manager_lookup (f->manager, "later") == NULL;
}

/* Runs after the follower's own handler, which has just queued its retry (at idle
 * priority): the removal comes first. */
static void
on_later_settled (OsProfile *profile, GParamSpec *pspec, gpointer user_data)
{
  if (!os_profile_get_transitioning (profile))
    g_idle_add_full (G_PRIORITY_DEFAULT, remove_later, user_data, NULL);
}

/* Removed profiles are forgotten: one the follower took offline, and one whose transition
 * the follower was waiting for. */
static void
test_removed (Fixture *f, gconstpointer data)
{
  OsProfile *later = create (f, "later", MAPIOFFLINE_STATE_OFFLINE);

  create (f, "gone", MAPIOFFLINE_STATE_ONLINE);
  set_delay (later, SLOW_MS);
  client_begin (later, MAPIOFFLINE_STATE_ONLINE);
  g_signal_connect (later, "notify::transitioning", G_CALLBACK (on_later_settled), f);
  network (f, FALSE);
  spin_until (is_offline, os_manager_lookup (f->manager, "gone"));
  remove_profile (f, "gone");
  spin_until (is_offline, f->profile);
  /* "later" is settling: it must not be touched once removed. */
  spin_until (later_gone, f);
  spin_for (QUIET_MS);

  network (f, TRUE);
  spin_until (is_online, f->profile);
  assert_profile (f->profile, MAPIOFFLINE_STATE_ONLINE, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  messages = g_string_new (NULL);
  g_log_set_writer_func (record_messages, NULL, NULL);
  FIXTURE_ADD ("/network/lost-and-back", NULL, test_lost_and_back);
  FIXTURE_ADD ("/network/notify-only", NULL, test_notify_only);
  FIXTURE_ADD ("/network/down-at-start", GINT_TO_POINTER (1), test_down_at_start);
  FIXTURE_ADD ("/network/sticky", NULL, test_sticky);
  FIXTURE_ADD ("/network/client-takes-over", NULL, test_client_takes_over);
  FIXTURE_ADD ("/network/flapping", NULL, test_flapping);
  FIXTURE_ADD ("/network/transitioning/when-lost", NULL, test_transitioning_when_lost);
  FIXTURE_ADD ("/network/transitioning/when-back", NULL, test_transitioning_when_back);
  FIXTURE_ADD ("/network/transitioning/client-wins", NULL, test_transitioning_client_wins);
  FIXTURE_ADD ("/network/created-while-down", NULL, test_created_while_down);
  FIXTURE_ADD ("/network/removed", NULL, test_removed);
  return g_test_run ();
}
