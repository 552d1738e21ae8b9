/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * A client that sends calls without waiting for their replies has them handled in the order
 * it sent them, although some calls wait (an Advise waits for the caller's Unix user,
 * asked of the bus once; a call may wait for polkit) and others could be answered at once.
 * Each case sends a call that may wait, then at once one that need not, and checks that the
 * second saw the effect of the first; many rounds, so that the main loop is sometimes still
 * busy with the first when the second arrives, and sometimes not.
 */
#include "transition-clients.h"
#include "mapi-prefixes.h"

#define ROUNDS           200
#define INJECTED_ERROR   "com.example.Order.Injected"
#define INJECTED_MESSAGE "injected by Emulation.FailNext"
#define TRANSITION_DELAY 20

static void
wait_all (HarnessPending *pending, guint n)
{
  for (guint i = 0; i < n; i++)
    harness_wait_flag (&pending[i].done, WAIT_MS);
}

static guint
reply_uint (HarnessPending *pending)
{
  guint value;

  g_assert_no_error (pending->error);
  g_assert_nonnull (pending->reply);
  g_variant_get (pending->reply, "(u)", &value);
  return value;
}

static void
pending_clear_all (HarnessPending *pending, guint n)
{
  for (guint i = 0; i < n; i++)
    harness_pending_clear (&pending[i]);
}

/* Emulation.FailNext goes to the main loop; the GetCurrentState right behind it must fail,
 * and the one after that must not. */
static void
test_fail_next_then_read (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();

  for (guint round = 0; round < ROUNDS; round++)
    {
      HarnessPending pending[3];

      harness_call_begin (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "FailNext",
                          g_variant_new ("(ssu)", "GetCurrentState", INJECTED_ERROR, 1),
                          &pending[0]);
      harness_call_begin (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                          NULL, &pending[1]);
      harness_call_begin (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                          NULL, &pending[2]);
      wait_all (pending, G_N_ELEMENTS (pending));
      g_assert_no_error (pending[0].error);
      harness_assert_dbus_error (pending[1].error, INJECTED_ERROR, INJECTED_MESSAGE);
      g_assert_cmpuint (reply_uint (&pending[2]), ==, ONLINE);
      pending_clear_all (pending, G_N_ELEMENTS (pending));
    }
}

/* A SetCurrentState that starts a transition goes to the main loop; a no-op SetCurrentState
 * right behind it finds the transition running (Pending), not the state it left. The first
 * is a BLOCK call: its reply comes when the transition has ended. */
static void
test_transition_then_no_op (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  guint state = ONLINE;

  set_transition_delay (h->client, path, TRANSITION_DELAY);
  for (guint round = 0; round < ROUNDS / 4; round++)
    {
      guint next = state == ONLINE ? OFFLINE : ONLINE;
      HarnessPending pending[3];

      harness_set_state_begin (h->client, path, BLOCK, next, &pending[0]);
      harness_set_state_begin (h->client, path, 0, state, &pending[1]);
      harness_call_begin (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                          NULL, &pending[2]);
      wait_all (pending, G_N_ELEMENTS (pending));
      g_assert_no_error (pending[0].error);
      harness_assert_dbus_error (pending[1].error, OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
      /* The state changes when the transition commits, after the delay. */
      g_assert_cmpuint (reply_uint (&pending[2]), ==, state);
      pending_clear_all (pending, G_N_ELEMENTS (pending));
      assert_object (h->client, path, next, round + 1, FALSE);
      state = next;
    }
}

/* A property read goes to the main loop; the Advise right behind it must not be counted
 * in it, and the read after the Advise must count it. */
static void
test_read_count_then_advise (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();

  for (guint round = 0; round < ROUNDS; round++)
    {
      HarnessPending pending[3];
      g_autoptr (GVariant) before = NULL, after = NULL;

      harness_call_begin (
          h->client, path, "org.freedesktop.DBus.Properties", "Get",
          g_variant_new ("(ss)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "AdviseCount"), &pending[0]);
      harness_call_begin (
          h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
          g_variant_new ("(uuuouu)", 0, round, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3),
          &pending[1]);
      harness_call_begin (
          h->client, path, "org.freedesktop.DBus.Properties", "Get",
          g_variant_new ("(ss)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "AdviseCount"), &pending[2]);
      wait_all (pending, G_N_ELEMENTS (pending));
      g_assert_no_error (pending[0].error);
      g_assert_cmpuint (reply_uint (&pending[1]), ==, round + 1);
      g_assert_no_error (pending[2].error);
      g_variant_get (pending[0].reply, "(v)", &before);
      g_variant_get (pending[2].reply, "(v)", &after);
      g_assert_cmpuint (g_variant_get_uint32 (before), ==, round);
      g_assert_cmpuint (g_variant_get_uint32 (after), ==, round + 1);
      pending_clear_all (pending, G_N_ELEMENTS (pending));
    }
}

/* Calls answered at once and calls that wait for the main loop, from many connections at
 * the same time: each connection sees its own calls in order, and the count adds up. */
static void
test_many_connections (Harness *h, gconstpointer data)
{
  enum
  {
    CLIENTS = 8,
    PER_CLIENT = 3,
  };
  g_autofree char *path = default_path ();
  GDBusConnection *clients[CLIENTS];
  HarnessPending pending[CLIENTS][PER_CLIENT];
  guint failed;

  for (guint i = 0; i < CLIENTS; i++)
    clients[i] = harness_connect (h);
  for (guint round = 0; round < ROUNDS / 4; round++)
    {
      for (guint i = 0; i < CLIENTS; i++)
        {
          harness_call_begin (clients[i], path, OFFLINE_STATE_EMULATION_INTERFACE, "FailNext",
                              g_variant_new ("(ssu)", "GetCapabilities", INJECTED_ERROR, 1),
                              &pending[i][0]);
          harness_call_begin (clients[i], path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                              "GetCapabilities", NULL, &pending[i][1]);
          harness_call_begin (
              clients[i], path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
              g_variant_new ("(uuuouu)", 0, i, 0, OFFLINE_STATE_SIGNAL_CALLBACK_PATH, 1, 3),
              &pending[i][2]);
        }
      failed = 0;
      for (guint i = 0; i < CLIENTS; i++)
        {
          wait_all (pending[i], PER_CLIENT);
          g_assert_no_error (pending[i][0].error);
          if (pending[i][1].error != NULL)
            {
              harness_assert_dbus_error (pending[i][1].error, INJECTED_ERROR, INJECTED_MESSAGE);
              failed++;
            }
          g_assert_cmpuint (reply_uint (&pending[i][2]), >, 0);
          pending_clear_all (pending[i], PER_CLIENT);
        }
      /* Each FailNext replaces the one before. Every client's own GetCapabilities came after
       * its FailNext, so the last FailNext was followed by a GetCapabilities that failed,
       * and none is left for the next call. */
      g_assert_cmpuint (failed, >=, 1);
      g_variant_unref (harness_call_ok (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                                        "GetCapabilities", NULL));
      assert_advise_count (h->client, path, (round + 1) * CLIENTS);
    }
  for (guint i = 0; i < CLIENTS; i++)
    {
      g_dbus_connection_close_sync (clients[i], NULL, NULL);
      g_object_unref (clients[i]);
    }
}

/* Calls whose caller wants no reply keep their order too, and get none, whether the daemon
 * handles them or GDBus refuses them (an unknown method, a wrong signature). */

typedef struct
{
  GMutex lock;
  GArray *replied_to; /* guint32: reply serials of the replies that reached the client */
} Replies;

static GDBusMessage *
record_replies (GDBusConnection *connection,
                GDBusMessage *message,
                gboolean incoming,
                gpointer user_data)
{
  Replies *replies = user_data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);

  if (incoming && (type == G_DBUS_MESSAGE_TYPE_METHOD_RETURN || type == G_DBUS_MESSAGE_TYPE_ERROR))
    {
      guint32 serial = g_dbus_message_get_reply_serial (message);

      g_mutex_lock (&replies->lock);
      g_array_append_val (replies->replied_to, serial);
      g_mutex_unlock (&replies->lock);
    }
  return message;
}

/* Sends a call that wants no reply; returns its serial. */
static guint32
send_no_reply (GDBusConnection *connection,
               const char *path,
               const char *interface,
               const char *method,
               GVariant *parameters)
{
  g_autoptr (GDBusMessage) call =
      g_dbus_message_new_method_call (OFFLINE_STATE_BUS_NAME, path, interface, method);
  g_autoptr (GError) error = NULL;
  guint32 serial;

  g_dbus_message_set_body (call, parameters);
  g_dbus_message_set_flags (call, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
  g_dbus_connection_send_message (connection, call, G_DBUS_SEND_MESSAGE_FLAGS_NONE, &serial,
                                  &error);
  g_assert_no_error (error);
  return serial;
}

static void
test_no_reply_calls (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  Replies replies = { .replied_to = g_array_new (FALSE, FALSE, sizeof (guint32)) };
  g_autoptr (GArray) unanswered = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint filter_id = g_dbus_connection_add_filter (h->client, record_replies, &replies, NULL);

  g_mutex_init (&replies.lock);
  for (guint round = 0; round < ROUNDS; round++)
    {
      HarnessPending pending[2];
      guint32 serials[] = {
        send_no_reply (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "NoSuchMethod", NULL),
        send_no_reply (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                       g_variant_new ("(u)", 1)),
        send_no_reply (h->client, "/no/such/object", OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                       "GetCurrentState", NULL),
        send_no_reply (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "FailNext",
                       g_variant_new ("(ssu)", "GetCurrentState", INJECTED_ERROR, 1)),
      };

      g_array_append_vals (unanswered, serials, G_N_ELEMENTS (serials));
      harness_call_begin (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                          NULL, &pending[0]);
      harness_call_begin (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState",
                          NULL, &pending[1]);
      wait_all (pending, G_N_ELEMENTS (pending));
      harness_assert_dbus_error (pending[0].error, INJECTED_ERROR, INJECTED_MESSAGE);
      g_assert_cmpuint (reply_uint (&pending[1]), ==, ONLINE);
      pending_clear_all (pending, G_N_ELEMENTS (pending));
    }
  /* Every reply sent so far has arrived before this one. */
  assert_object (h->client, path, ONLINE, 0, FALSE);
  g_dbus_connection_remove_filter (h->client, filter_id);
  g_mutex_lock (&replies.lock);
  for (guint i = 0; i < unanswered->len; i++)
    for (guint k = 0; k < replies.replied_to->len; k++)
      g_assert_cmpuint (g_array_index (replies.replied_to, guint32, k), !=,
                        g_array_index (unanswered, guint32, i));
  g_mutex_unlock (&replies.lock);
  g_test_message ("%u calls wanting no reply, none answered; %u replies to the others",
                  unanswered->len, replies.replied_to->len);
  g_array_unref (replies.replied_to);
  g_mutex_clear (&replies.lock);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/order/fail-next-then-read", Harness, NULL, harness_fixture_setup,
              test_fail_next_then_read, harness_fixture_teardown);
  g_test_add ("/order/transition-then-no-op", Harness, NULL, harness_fixture_setup,
              test_transition_then_no_op, harness_fixture_teardown);
  g_test_add ("/order/read-count-then-advise", Harness, NULL, harness_fixture_setup,
              test_read_count_then_advise, harness_fixture_teardown);
  g_test_add ("/order/many-connections", Harness, NULL, harness_fixture_setup,
              test_many_connections, harness_fixture_teardown);
  g_test_add ("/order/no-reply-calls", Harness, NULL, harness_fixture_setup, test_no_reply_calls,
              harness_fixture_teardown);
  return g_test_run ();
}
