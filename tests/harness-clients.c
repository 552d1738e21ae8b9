/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Clients of the daemon in the test's own process (see harness.h): the objects they export,
 * the signals they hear, and what they recorded.
 */
#include "harness.h"

/* Exported objects */

typedef struct
{
  HarnessCallFunc func;
  gpointer user_data;
} Export;

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
  Export *export = user_data;

  export->func (invocation, parameters, export->user_data);
}

static guint
export_interface (GDBusConnection *connection,
                  const char *path,
                  GDBusInterfaceInfo *info,
                  HarnessCallFunc func,
                  gpointer user_data)
{
  static const GDBusInterfaceVTable vtable = { on_method_call, NULL, NULL, { 0 } };
  Export *export = g_new (Export, 1);
  g_autoptr (GError) error = NULL;
  guint id;

  export->func = func;
  export->user_data = user_data;
  id = g_dbus_connection_register_object (connection, path, info, &vtable, export, g_free, &error);
  g_assert_no_error (error);
  return id;
}

guint
harness_export (GDBusConnection *connection,
                const char *path,
                const char *xml,
                HarnessCallFunc func,
                gpointer user_data)
{
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GError) error = NULL;

  node = g_dbus_node_info_new_for_xml (xml, &error);
  g_assert_no_error (error);
  return export_interface (connection, path, node->interfaces[0], func, user_data);
}

static GDBusInterfaceInfo *
notify_interface_info (void)
{
  static GDBusNodeInfo *node;

  if (node == NULL)
    node = g_dbus_node_info_new_for_xml (
        "<node><interface name='" OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE "'>"
        "<method name='" OFFLINE_STATE_NOTIFY_METHOD "'><arg type='u'/><arg type='u'/>"
        "<arg type='u'/><arg type='u'/><arg type='u'/><arg type='t'/></method>"
        "</interface></node>",
        NULL);
  return node->interfaces[0];
}

guint
harness_export_notify (GDBusConnection *connection,
                       const char *path,
                       HarnessCallFunc func,
                       gpointer user_data)
{
  return export_interface (connection, path, notify_interface_info (), func, user_data);
}

/* Signals */

typedef struct
{
  HarnessSignalFunc func;
  gpointer user_data;
} Subscription;

static void
on_signal (GDBusConnection *connection,
           const char *sender,
           const char *path,
           const char *interface,
           const char *signal,
           GVariant *parameters,
           gpointer user_data)
{
  Subscription *subscription = user_data;

  subscription->func (parameters, subscription->user_data);
}

static guint
subscribe (GDBusConnection *connection,
           const char *sender,
           const char *interface,
           const char *member,
           const char *path,
           const char *arg0,
           HarnessSignalFunc func,
           gpointer user_data)
{
  Subscription *subscription = g_new (Subscription, 1);

  subscription->func = func;
  subscription->user_data = user_data;
  return g_dbus_connection_signal_subscribe (connection, sender, interface, member, path, arg0,
                                             G_DBUS_SIGNAL_FLAGS_NONE, on_signal, subscription,
                                             g_free);
}

guint
harness_subscribe (GDBusConnection *connection,
                   const char *path,
                   const char *interface,
                   const char *member,
                   HarnessSignalFunc func,
                   gpointer user_data)
{
  return subscribe (connection, NULL, interface, member, path, NULL, func, user_data);
}

guint
harness_subscribe_name_owner (GDBusConnection *connection,
                              const char *name,
                              HarnessSignalFunc func,
                              gpointer user_data)
{
  return subscribe (connection, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
                    "/org/freedesktop/DBus", name, func, user_data);
}

HarnessNote
harness_note_from (GVariant *parameters)
{
  HarnessNote note = { 0 };

  g_variant_get (parameters, "(uuuuut)", &note.notify_type, &note.client_token, &note.mask,
                 &note.old_state, &note.new_state, &note.sequence);
  note.time_us = g_get_monotonic_time ();
  return note;
}

/* Recorders */

static void
record (HarnessRecorder *recorder, GVariant *parameters)
{
  HarnessNote note = harness_note_from (parameters);

  g_array_append_val (recorder->notes, note);
  recorder->n_notes = recorder->notes->len;
}

static void
on_state_changed (GVariant *parameters, gpointer user_data)
{
  record (user_data, parameters);
}

static HarnessRecorder *
recorder_new (GDBusConnection *connection)
{
  HarnessRecorder *recorder = g_new0 (HarnessRecorder, 1);

  recorder->connection = g_object_ref (connection);
  recorder->notes = g_array_new (FALSE, TRUE, sizeof (HarnessNote));
  recorder->kept = g_ptr_array_new_with_free_func (g_object_unref);
  return recorder;
}

HarnessRecorder *
harness_recorder_new_signal (GDBusConnection *connection, const char *path)
{
  HarnessRecorder *recorder = recorder_new (connection);

  recorder->subscription_id =
      harness_subscribe (connection, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                         OFFLINE_STATE_STATE_CHANGED_SIGNAL, on_state_changed, recorder);
  return recorder;
}

static void
reply_later (gpointer user_data)
{
  g_dbus_method_invocation_return_value (user_data, NULL);
}

static void
on_notify (GDBusMethodInvocation *invocation, GVariant *parameters, gpointer user_data)
{
  HarnessRecorder *recorder = user_data;

  record (recorder, parameters);
  switch (recorder->mode)
    {
      case HARNESS_REPLY:
        g_dbus_method_invocation_return_value (invocation, NULL);
        break;
      case HARNESS_REPLY_LATER:
        g_timeout_add_once (recorder->delay_ms, reply_later, invocation);
        break;
      case HARNESS_SILENT:
        g_ptr_array_add (recorder->kept, invocation);
        break;
      case HARNESS_FAIL:
        g_dbus_method_invocation_return_dbus_error (
            invocation, "com.example.Test.Error.Broken",
            recorder->fail_message ? recorder->fail_message : "this callback fails on purpose");
        break;
    }
}

HarnessRecorder *
harness_recorder_new_callback (GDBusConnection *connection,
                               const char *callback_path,
                               HarnessMode mode,
                               guint delay_ms)
{
  HarnessRecorder *recorder = recorder_new (connection);

  recorder->mode = mode;
  recorder->delay_ms = delay_ms;
  recorder->callback_path = g_strdup (callback_path);
  recorder->registration_id =
      harness_export_notify (connection, callback_path, on_notify, recorder);
  return recorder;
}

void
harness_recorder_free (HarnessRecorder *recorder)
{
  if (recorder->subscription_id != 0)
    g_dbus_connection_signal_unsubscribe (recorder->connection, recorder->subscription_id);
  if (recorder->registration_id != 0)
    g_dbus_connection_unregister_object (recorder->connection, recorder->registration_id);
  g_array_unref (recorder->notes);
  g_ptr_array_unref (recorder->kept);
  g_free (recorder->callback_path);
  g_object_unref (recorder->connection);
  g_free (recorder);
}

const HarnessNote *
harness_recorder_note (HarnessRecorder *recorder, guint index)
{
  g_assert_cmpuint (index, <, recorder->notes->len);
  return &g_array_index (recorder->notes, HarnessNote, index);
}

/* PropertiesChanged */

static void
on_properties_changed (GVariant *parameters, gpointer user_data)
{
  HarnessPropsWatch *watch = user_data;
  g_autoptr (GVariant) changed = NULL;
  const char *changed_interface, *name;
  GVariantIter iter;
  GVariant *value;

  g_variant_get (parameters, "(&s@a{sv}@as)", &changed_interface, &changed, NULL);
  if (!g_str_equal (changed_interface, OFFLINE_STATE_OFFLINE_MGR_INTERFACE))
    return;
  g_variant_iter_init (&iter, changed);
  watch->n_signals++;
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      g_autofree char *text = g_variant_print (value, FALSE);
      guint seen = watch->peer != NULL ? watch->peer->n_notes : 0;
      guint signal_index = watch->n_signals - 1;

      g_ptr_array_add (watch->events, g_strdup_printf ("%s=%s", name, text));
      g_array_append_val (watch->notes_seen, seen);
      g_array_append_val (watch->signal_of, signal_index);
      if (g_str_equal (name, "AdviseCount"))
        {
          watch->advise_count = g_variant_get_uint32 (value);
          if (watch->advise_count == watch->want_advise_count)
            watch->advise_count_reached = TRUE;
        }
      if (g_str_equal (name, "Transitioning") && !g_variant_get_boolean (value))
        watch->transitioning_ended = TRUE;
    }
}

HarnessPropsWatch *
harness_props_watch_new (GDBusConnection *connection, const char *path, HarnessRecorder *peer)
{
  HarnessPropsWatch *watch = g_new0 (HarnessPropsWatch, 1);

  watch->connection = g_object_ref (connection);
  watch->events = g_ptr_array_new_with_free_func (g_free);
  watch->notes_seen = g_array_new (FALSE, TRUE, sizeof (guint));
  watch->signal_of = g_array_new (FALSE, TRUE, sizeof (guint));
  watch->peer = peer;
  watch->want_advise_count = G_MAXUINT;
  watch->subscription_id = harness_subscribe (connection, path, "org.freedesktop.DBus.Properties",
                                              "PropertiesChanged", on_properties_changed, watch);
  return watch;
}

void
harness_props_watch_free (HarnessPropsWatch *watch)
{
  g_dbus_connection_signal_unsubscribe (watch->connection, watch->subscription_id);
  g_ptr_array_unref (watch->events);
  g_array_unref (watch->notes_seen);
  g_array_unref (watch->signal_of);
  g_object_unref (watch->connection);
  g_free (watch);
}
