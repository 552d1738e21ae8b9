/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The benchmark's baseline: the least a GDBus program can do to tell N subscribers of one
 * transition, that is send each of them START, STATECHANGE and DONE as unicast StateChanged
 * signals, of the daemon's signature, from the daemon's object path. The fan-out of
 * offline-stated is measured against it, through the same bus, to the same connections.
 *
 * It prints its unique name, then serves BENCH_BASELINE_INTERFACE until its standard input
 * closes.
 *
 * With --floor, it is instead the least a GDBus service can be, the floor under the daemon's
 * start-up and memory at rest: it connects to the session bus as the daemon does, owns
 * BENCH_FLOOR_NAME, and answers Nop until a signal ends it, as one ends the daemon.
 */
#include <gio/gunixinputstream.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench-common.h"
#include "offline-state.h"

static const char introspection_xml[] =
    "<node>"
    "  <interface name='" BENCH_BASELINE_INTERFACE "'>"
    "    <method name='Nop'/>"
    "    <method name='SetTargets'><arg direction='in' type='a(su)'/></method>"
    "    <method name='Fanout'>"
    "      <arg direction='in' type='u'/><arg direction='in' type='u'/>"
    "      <arg direction='in' type='t'/>"
    "    </method>"
    "  </interface>"
    "</node>";

typedef struct
{
  char *destination;
  guint client_token;
} Target;

typedef struct
{
  GDBusConnection *connection;
  GArray *targets;
  GMainLoop *loop;
} Baseline;

static void
target_clear (gpointer data)
{
  g_free (((Target *) data)->destination);
}

static void
set_targets (Baseline *self, GVariant *parameters)
{
  g_autoptr (GVariantIter) iter = NULL;
  Target target;

  g_array_set_size (self->targets, 0);
  g_variant_get (parameters, "(a(su))", &iter);
  while (g_variant_iter_next (iter, "(su)", &target.destination, &target.client_token))
    g_array_append_val (self->targets, target);
}

/* As the daemon does it: each phase goes to every subscriber before the next one starts. */
static void
fan_out (Baseline *self, GVariant *parameters)
{
  guint old_state, new_state;
  guint64 sequence;

  g_variant_get (parameters, "(uut)", &old_state, &new_state, &sequence);
  for (guint phase = MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START;
       phase <= MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE; phase++)
    for (guint i = 0; i < self->targets->len; i++)
      {
        Target *target = &g_array_index (self->targets, Target, i);

        g_dbus_connection_emit_signal (
            self->connection, target->destination, OFFLINE_STATE_PROFILES_PATH "/default",
            OFFLINE_STATE_OFFLINE_MGR_INTERFACE, OFFLINE_STATE_STATE_CHANGED_SIGNAL,
            g_variant_new ("(uuuuut)", phase, target->client_token, MAPIOFFLINE_STATE_OFFLINE_MASK,
                           old_state, new_state, sequence),
            NULL);
      }
}

static void
on_method_call (GDBusConnection *connection,
                const char *sender,
                const char *path,
                const char *interface,
                const char *method,
                GVariant *parameters,
                GDBusMethodInvocation *invocation,
                gpointer user_data)
{
  Baseline *self = user_data;

  if (g_str_equal (method, "SetTargets"))
    set_targets (self, parameters);
  else if (g_str_equal (method, "Fanout"))
    fan_out (self, parameters);
  g_dbus_method_invocation_return_value (invocation, NULL);
}

static void
on_stdin_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Baseline *self = user_data;

  g_input_stream_skip_finish (G_INPUT_STREAM (source), result, NULL);
  g_main_loop_quit (self->loop);
}

static const GDBusInterfaceVTable vtable = { on_method_call, NULL, NULL, { 0 } };

/* Empty, and yet not NULL: it marks the moment the name is owned, where the daemon's own
 * callback does, for `valgrind --tool=callgrind --dump-before=on_name_acquired`. */
static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
}

/* Nothing here but what any service needs: a connection, one object, the name, the loop.
 * No handler for SIGTERM: with no state to save, dying of it is a clean exit. */
static int
run_floor (GDBusInterfaceInfo *interface)
{
  Baseline self = { 0 };
  g_autoptr (GError) error = NULL;

  self.connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self.connection == NULL)
    {
      g_printerr ("bench-baseline: %s\n", error->message);
      return EXIT_FAILURE;
    }
  g_dbus_connection_register_object (self.connection, BENCH_BASELINE_PATH, interface, &vtable,
                                     &self, NULL, &error);
  g_assert_no_error (error);
  g_bus_own_name_on_connection (self.connection, BENCH_FLOOR_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                on_name_acquired, NULL, NULL, NULL);
  self.loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (self.loop);
  g_main_loop_unref (self.loop);
  g_object_unref (self.connection);
  return EXIT_SUCCESS;
}

int
main (int argc, char **argv)
{
  Baseline self = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (introspection_xml, &error);
  g_autoptr (GInputStream) input = NULL;

  g_assert_no_error (error);
  if (argc == 2 && g_str_equal (argv[1], "--floor"))
    return run_floor (node->interfaces[0]);
  self.connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  if (self.connection == NULL)
    {
      g_printerr ("bench-baseline: %s\n", error->message);
      return EXIT_FAILURE;
    }
  input = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  self.targets = g_array_new (FALSE, FALSE, sizeof (Target));
  g_array_set_clear_func (self.targets, target_clear);
  self.loop = g_main_loop_new (NULL, FALSE);
  g_dbus_connection_register_object (self.connection, BENCH_BASELINE_PATH, node->interfaces[0],
                                     &vtable, &self, NULL, &error);
  g_assert_no_error (error);
  bench_write_line (STDOUT_FILENO, "%s", g_dbus_connection_get_unique_name (self.connection));
  /* Nothing comes on standard input: its end is the driver's. */
  g_input_stream_skip_async (input, G_MAXSSIZE, G_PRIORITY_DEFAULT, NULL, on_stdin_closed, &self);
  g_main_loop_run (self.loop);
  g_array_unref (self.targets);
  g_main_loop_unref (self.loop);
  g_object_unref (self.connection);
  return EXIT_SUCCESS;
}
