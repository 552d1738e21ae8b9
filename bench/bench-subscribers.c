/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * One subscriber process of the benchmark: many bus connections, each holding advises of
 * offline-stated, counting what arrives. The driver runs several of these, since one
 * process serves all its connections from a single GDBus thread.
 *
 * Commands on standard input, one a line; answers on standard output:
 *   grow CONNECTIONS SIGNALS CALLBACKS  → ok | error TEXT
 *   arm KIND REPEATS                    → armed, then done TIME START STATECHANGE DONE
 *   names                               → target UNIQUE-NAME CLIENT-TOKEN TOKEN …, end
 *   unadvise KIND                       → ok | error TEXT
 *   forget                              → ok (the daemon is gone: drop its tokens)
 * KIND is 0 (signal) or 1 (callback); TIME is bench_now_ns() at the last DONE.
 */
#include <gio/gunixinputstream.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-common.h"
#include "offline-state.h"

#define CALL_TIMEOUT_MS 120000

typedef struct
{
  guint connection;
  guint client_token;
  guint token;
} Advised;

typedef struct
{
  char *profile_path[BENCH_N_KINDS];
  GPtrArray *connections;
  GArray *advised[BENCH_N_KINDS];
  guint want_connections;
  guint want[BENCH_N_KINDS];
  guint in_flight;
  char *failure;
  GDataInputStream *commands;
  GMainLoop *loop;

  /* Touched by the GDBus thread: atomics only. */
  gint counts[BENCH_N_KINDS][4];
  gint target[BENCH_N_KINDS];
} Worker;

static void read_command (Worker *self);

static void
report_if_done (Worker *self, BenchKind kind, guint phase)
{
  gint *counts = self->counts[kind];

  if (phase < MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START ||
      phase > MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE)
    return;
  if (phase != MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE)
    {
      g_atomic_int_inc (&counts[phase]);
      return;
    }
  /* Exactly one message makes the DONE count reach the target: that one reports. */
  if (g_atomic_int_add (&counts[phase], 1) + 1 == g_atomic_int_get (&self->target[kind]))
    bench_write_line (STDOUT_FILENO, "done %" G_GINT64_FORMAT " %d %d %d", bench_now_ns (),
                      g_atomic_int_get (&counts[1]), g_atomic_int_get (&counts[2]),
                      g_atomic_int_get (&counts[3]));
}

static guint
notify_type_of (GDBusMessage *message)
{
  GVariant *body = g_dbus_message_get_body (message);
  guint notify_type = 0;

  if (body != NULL && g_variant_is_of_type (body, G_VARIANT_TYPE ("(uuuuut)")))
    g_variant_get_child (body, 0, "u", &notify_type);
  return notify_type;
}

/* Runs in the GDBus thread, before any main loop: the subscriber side costs as little as
 * a client can, and is the same code for the daemon's signals and the baseline's. */
static GDBusMessage *
on_message (GDBusConnection *connection, GDBusMessage *message, gboolean incoming, gpointer data)
{
  Worker *self = data;
  GDBusMessageType type = g_dbus_message_get_message_type (message);
  const char *member = g_dbus_message_get_member (message);

  if (!incoming || member == NULL)
    return message;
  if (type == G_DBUS_MESSAGE_TYPE_SIGNAL &&
      g_str_equal (member, OFFLINE_STATE_STATE_CHANGED_SIGNAL))
    report_if_done (self, BENCH_KIND_SIGNAL, notify_type_of (message));
  else if (type == G_DBUS_MESSAGE_TYPE_METHOD_CALL &&
           g_str_equal (member, OFFLINE_STATE_NOTIFY_METHOD))
    {
      g_autoptr (GDBusMessage) reply = g_dbus_message_new_method_reply (message);

      g_dbus_connection_send_message (connection, reply, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                      NULL);
      report_if_done (self, BENCH_KIND_CALLBACK, notify_type_of (message));
    }
  else
    return message;
  g_object_unref (message);
  return NULL;
}

static void
finish_step (Worker *self)
{
  if (self->failure != NULL)
    bench_write_line (STDOUT_FILENO, "error %s", self->failure);
  else
    bench_write_line (STDOUT_FILENO, "ok");
  g_clear_pointer (&self->failure, g_free);
  read_command (self);
}

static void
note_failure (Worker *self, const GError *error)
{
  if (self->failure == NULL)
    self->failure = g_strdup (error->message);
}

typedef struct
{
  Worker *self;
  BenchKind kind;
  Advised advised;
} AdviseCall;

static void send_advise (Worker *self, BenchKind kind, guint index);
static void grow_advises (Worker *self, BenchKind kind);

static void
advise_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AdviseCall *call = user_data;
  Worker *self = call->self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  guint next = call->advised.client_token + self->connections->len;

  if (reply == NULL)
    note_failure (self, error);
  else
    {
      g_variant_get (reply, "(u)", &call->advised.token);
      g_array_append_val (self->advised[call->kind], call->advised);
    }
  self->in_flight--;
  /* Each connection advises again once answered, as a client does, rather than queue
   * thousands of calls in the daemon: RSS would then measure that queue's peak. */
  if (self->failure == NULL && next < self->want[call->kind])
    send_advise (self, call->kind, next);
  else if (self->in_flight == 0 && call->kind == BENCH_KIND_SIGNAL)
    grow_advises (self, BENCH_KIND_CALLBACK);
  else if (self->in_flight == 0)
    finish_step (self);
  g_free (call);
}

static void
send_advise (Worker *self, BenchKind kind, guint index)
{
  AdviseCall *call = g_new0 (AdviseCall, 1);
  GDBusConnection *connection;

  call->self = self;
  call->kind = kind;
  call->advised.connection = index % self->connections->len;
  call->advised.client_token = index;
  connection = g_ptr_array_index (self->connections, call->advised.connection);
  self->in_flight++;
  g_dbus_connection_call (
      connection, OFFLINE_STATE_BUS_NAME, self->profile_path[kind],
      OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
      g_variant_new (
          "(uuuouu)", MAPIOFFLINE_ADVISE_DEFAULT, index, MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
          kind == BENCH_KIND_SIGNAL ? OFFLINE_STATE_SIGNAL_CALLBACK_PATH : BENCH_NOTIFY_PATH,
          MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, MAPIOFFLINE_STATE_OFFLINE_MASK),
      G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, advise_done,
      call);
}

/* Advise i lives on connection i mod n; each connection has one call in flight at most,
 * and the signal advises come first. */
static void
grow_advises (Worker *self, BenchKind kind)
{
  guint base = self->advised[kind]->len;

  if (self->failure == NULL && self->connections->len > 0)
    for (guint i = base; i < MIN (self->want[kind], base + self->connections->len); i++)
      send_advise (self, kind, i);
  if (self->in_flight > 0)
    return;
  if (kind == BENCH_KIND_SIGNAL)
    grow_advises (self, BENCH_KIND_CALLBACK);
  else
    finish_step (self);
}

static void
connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Worker *self = user_data;
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_dbus_connection_new_for_address_finish (result, &error);

  if (connection == NULL)
    note_failure (self, error);
  else
    {
      g_dbus_connection_add_filter (connection, on_message, self, NULL);
      g_ptr_array_add (self->connections, connection);
    }
  if (--self->in_flight == 0)
    grow_advises (self, BENCH_KIND_SIGNAL);
}

static void
grow (Worker *self)
{
  const char *address = g_getenv ("DBUS_SESSION_BUS_ADDRESS");

  for (guint i = self->connections->len; i < self->want_connections; i++)
    {
      self->in_flight++;
      g_dbus_connection_new_for_address (address,
                                         G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                             G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                         NULL, NULL, connected, self);
    }
  if (self->in_flight == 0)
    grow_advises (self, BENCH_KIND_SIGNAL);
}

static void
unadvise_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Worker *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (reply == NULL)
    note_failure (self, error);
  if (--self->in_flight == 0)
    finish_step (self);
}

static void
unadvise (Worker *self, BenchKind kind)
{
  GArray *advised = self->advised[kind];

  for (guint i = 0; i < advised->len; i++)
    {
      Advised *one = &g_array_index (advised, Advised, i);

      self->in_flight++;
      g_dbus_connection_call (
          g_ptr_array_index (self->connections, one->connection), OFFLINE_STATE_BUS_NAME,
          self->profile_path[kind], OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise",
          g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, one->token), NULL,
          G_DBUS_CALL_FLAGS_NO_AUTO_START, CALL_TIMEOUT_MS, NULL, unadvise_done, self);
    }
  g_array_set_size (advised, 0);
  self->want[kind] = 0;
  if (self->in_flight == 0)
    finish_step (self);
}

static void
arm (Worker *self, BenchKind kind, guint repeats)
{
  gint target = (gint) (repeats * self->advised[kind]->len);

  for (guint phase = 0; phase < 4; phase++)
    g_atomic_int_set (&self->counts[kind][phase], 0);
  g_atomic_int_set (&self->target[kind], target);
  bench_write_line (STDOUT_FILENO, "armed");
  if (target == 0)
    bench_write_line (STDOUT_FILENO, "done 0 0 0 0");
}

static void
print_names (Worker *self)
{
  GArray *advised = self->advised[BENCH_KIND_SIGNAL];

  for (guint i = 0; i < advised->len; i++)
    {
      Advised *one = &g_array_index (advised, Advised, i);
      GDBusConnection *connection = g_ptr_array_index (self->connections, one->connection);

      bench_write_line (STDOUT_FILENO, "target %s %u %u",
                        g_dbus_connection_get_unique_name (connection), one->client_token,
                        one->token);
    }
  bench_write_line (STDOUT_FILENO, "end");
}

static gboolean
run_command (Worker *self, const char *line)
{
  guint a = 0, b = 0, c = 0;

  if (sscanf (line, "grow %u %u %u", &a, &b, &c) == 3)
    {
      self->want_connections = MAX (a, self->connections->len);
      self->want[BENCH_KIND_SIGNAL] = b;
      self->want[BENCH_KIND_CALLBACK] = c;
      grow (self);
      return FALSE;
    }
  if (sscanf (line, "arm %u %u", &a, &b) == 2 && a < BENCH_N_KINDS)
    arm (self, a, b);
  else if (g_str_equal (line, "names"))
    print_names (self);
  else if (sscanf (line, "unadvise %u", &a) == 1 && a < BENCH_N_KINDS)
    {
      unadvise (self, a);
      return FALSE;
    }
  else if (g_str_equal (line, "forget"))
    {
      for (guint kind = 0; kind < BENCH_N_KINDS; kind++)
        g_array_set_size (self->advised[kind], 0);
      bench_write_line (STDOUT_FILENO, "ok");
    }
  else
    bench_write_line (STDOUT_FILENO, "error unknown command '%s'", line);
  return TRUE;
}

static void
command_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Worker *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, &error);

  /* The driver closed our standard input: it is done with us. */
  if (line == NULL)
    {
      g_main_loop_quit (self->loop);
      return;
    }
  if (run_command (self, line))
    read_command (self);
}

static void
read_command (Worker *self)
{
  g_data_input_stream_read_line_async (self->commands, G_PRIORITY_DEFAULT, NULL, command_read,
                                       self);
}

int
main (int argc, char **argv)
{
  Worker self = { 0 };
  g_autoptr (GInputStream) input = NULL;

  if (argc != 3)
    {
      g_printerr ("usage: %s SIGNAL-PROFILE-PATH CALLBACK-PROFILE-PATH\n", argv[0]);
      return 2;
    }
  self.profile_path[BENCH_KIND_SIGNAL] = argv[1];
  self.profile_path[BENCH_KIND_CALLBACK] = argv[2];
  self.connections = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint kind = 0; kind < BENCH_N_KINDS; kind++)
    self.advised[kind] = g_array_new (FALSE, FALSE, sizeof (Advised));
  input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  self.commands = g_data_input_stream_new (input);
  self.loop = g_main_loop_new (NULL, FALSE);
  read_command (&self);
  g_main_loop_run (self.loop);
  g_ptr_array_unref (self.connections);
  for (guint kind = 0; kind < BENCH_N_KINDS; kind++)
    g_array_unref (self.advised[kind]);
  g_object_unref (self.commands);
  g_main_loop_unref (self.loop);
  return EXIT_SUCCESS;
}
