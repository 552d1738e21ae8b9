/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-bus-profile.h"
#include "os-error.h"
#include "os-validate.h"
#include "os-bus-reply.h"

struct _OsBusProfile
{
  OsDBusOfflineMgrSkeleton parent_instance;

  OsProfile *profile;
  GDBusConnection *connection;
  OsDBusObjectSkeleton *object;
  OsDBusEmulation *emulation; /* NULL with --no-emulation */
  OsAuthority *authority;
  guint advise_count_window_id; /* AdviseCount changes are held back until it ends */
  gboolean advise_count_held;
};

static void os_bus_profile_iface_init (OsDBusOfflineMgrIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (OsBusProfile,
                               os_bus_profile,
                               OS_DBUS_TYPE_OFFLINE_MGR_SKELETON,
                               G_IMPLEMENT_INTERFACE (OS_DBUS_TYPE_OFFLINE_MGR,
                                                      os_bus_profile_iface_init))

/* Each change of AdviseCount is a PropertiesChanged signal, which the bus matches against
 * every connection's rules: a client that advises in a loop would make it one per call,
 * and double the cost of each. A change is told at once, then the next ones at most once
 * per window; whoever reads the property, and every notification, gets it current. */
#define ADVISE_COUNT_WINDOW_MS 100

static void
publish_advise_count (OsBusProfile *self)
{
  self->advise_count_held = FALSE;
  os_dbus_offline_mgr_set_advise_count (OS_DBUS_OFFLINE_MGR (self),
                                        os_profile_get_advise_count (self->profile));
}

static gboolean
on_advise_count_window_over (gpointer user_data)
{
  OsBusProfile *self = user_data;

  if (!self->advise_count_held)
    {
      self->advise_count_window_id = 0;
      return G_SOURCE_REMOVE;
    }
  publish_advise_count (self);
  return G_SOURCE_CONTINUE;
}

static void
on_advise_count_changed (OsProfile *profile, GParamSpec *pspec, OsBusProfile *self)
{
  if (self->advise_count_window_id != 0)
    {
      self->advise_count_held = TRUE;
      return;
    }
  publish_advise_count (self);
  self->advise_count_window_id =
      g_timeout_add (ADVISE_COUNT_WINDOW_MS, on_advise_count_window_over, self);
}

char *
os_bus_profile_path_for_name (const char *name)
{
  g_autofree char *escaped = g_dbus_escape_object_path (name);

  return g_strconcat (OFFLINE_STATE_PROFILES_PATH "/", escaped, NULL);
}

/* Emulation.FailNext: TRUE when this call has been answered with an injected error. */
static gboolean
return_injected_failure (OsBusProfile *self, GDBusMethodInvocation *invocation)
{
  const char *method = g_dbus_method_invocation_get_method_name (invocation);
  g_autofree char *error_name = os_profile_take_failure (self->profile, method);

  if (error_name == NULL)
    return FALSE;
  g_dbus_method_invocation_return_dbus_error (invocation, error_name,
                                              "injected by Emulation.FailNext");
  return TRUE;
}

static void
set_state_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data; /* kept: answering it releases it */
  g_autoptr (GError) error = NULL;

  if (os_profile_set_state_finish (OS_PROFILE (source), result, &error))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    os_bus_return_error (invocation, error);
}

/* A profile removed while polkit was deciding has no object left to act on: the call
 * finds it gone, as it would have had it come a moment later. */
static gboolean
return_if_removed (OsBusProfile *self, GDBusMethodInvocation *invocation)
{
  g_autoptr (GError) error = NULL;

  if (g_dbus_interface_skeleton_get_connection (G_DBUS_INTERFACE_SKELETON (self)) != NULL)
    return FALSE;
  os_set_error (&error, OS_ERROR_NOT_FOUND,
                "profile '%s' was removed while the call waited for authorization",
                os_profile_get_name (self->profile));
  os_bus_return_error (invocation, error);
  return TRUE;
}

/* Pending or not is read here, after polkit's answer, not when the call came in. */
static void
set_state_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  guint flags, mask, state;

  if (return_if_removed (self, invocation))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(uuu)", &flags, &mask,
                 &state);
  os_profile_set_state_async (self->profile, flags, mask, state, set_state_done, invocation);
}

static gboolean
handle_set_current_state (OsDBusOfflineMgr *iface,
                          GDBusMethodInvocation *invocation,
                          guint flags,
                          guint mask,
                          guint state)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);
  g_autoptr (GError) error = NULL;

  if (return_injected_failure (self, invocation))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (os_validate_set_state (flags, mask, state, &error))
    os_authority_check (self->authority, invocation, G_OBJECT (self), set_state_authorized);
  else
    os_bus_return_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
get_capabilities_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);

  os_dbus_offline_mgr_complete_get_capabilities (OS_DBUS_OFFLINE_MGR (self), invocation,
                                                 os_profile_get_capabilities (self->profile));
}

static gboolean
handle_get_capabilities (OsDBusOfflineMgr *iface, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  if (!return_injected_failure (self, invocation))
    os_authority_check (self->authority, invocation, G_OBJECT (self), get_capabilities_authorized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
get_current_state_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);

  os_dbus_offline_mgr_complete_get_current_state (OS_DBUS_OFFLINE_MGR (self), invocation,
                                                  os_profile_get_state (self->profile));
}

static gboolean
handle_get_current_state (OsDBusOfflineMgr *iface, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  if (!return_injected_failure (self, invocation))
    os_authority_check (self->authority, invocation, G_OBJECT (self), get_current_state_authorized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
advise_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  g_autoptr (GError) error = NULL;
  guint flags, client_token, callback_type, advise_types, state_mask, token;
  const char *callback;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(uuu&ouu)", &flags,
                 &client_token, &callback_type, &callback, &advise_types, &state_mask);
  token = os_profile_advise_as (self->profile, g_dbus_method_invocation_get_sender (invocation),
                                os_authority_get_caller_uid (self->authority, invocation), flags,
                                client_token, callback_type, callback, advise_types, state_mask,
                                &error);
  if (token == 0)
    os_bus_return_error (invocation, error);
  else
    os_dbus_offline_mgr_complete_advise (OS_DBUS_OFFLINE_MGR (self), invocation, token);
}

static gboolean
handle_advise (OsDBusOfflineMgr *iface,
               GDBusMethodInvocation *invocation,
               guint flags,
               guint client_token,
               guint callback_type,
               const char *callback,
               guint advise_types,
               guint state_mask)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  if (!return_injected_failure (self, invocation))
    os_authority_check (self->authority, invocation, G_OBJECT (self), advise_authorized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
unadvise_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  g_autoptr (GError) error = NULL;
  guint flags, advise_token;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(uu)", &flags,
                 &advise_token);
  if (os_profile_unadvise (self->profile, g_dbus_method_invocation_get_sender (invocation), flags,
                           advise_token, &error))
    os_dbus_offline_mgr_complete_unadvise (OS_DBUS_OFFLINE_MGR (self), invocation);
  else
    os_bus_return_error (invocation, error);
}

static gboolean
handle_unadvise (OsDBusOfflineMgr *iface,
                 GDBusMethodInvocation *invocation,
                 guint flags,
                 guint advise_token)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  if (!return_injected_failure (self, invocation))
    os_authority_check (self->authority, invocation, G_OBJECT (self), unadvise_authorized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
os_bus_profile_iface_init (OsDBusOfflineMgrIface *iface)
{
  iface->handle_set_current_state = handle_set_current_state;
  iface->handle_get_capabilities = handle_get_capabilities;
  iface->handle_get_current_state = handle_get_current_state;
  iface->handle_advise = handle_advise;
  iface->handle_unadvise = handle_unadvise;
}

static void
set_capabilities_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusMethodInvocation *invocation = user_data; /* kept: answering it releases it */
  g_autoptr (GError) error = NULL;

  if (os_profile_set_capabilities_finish (OS_PROFILE (source), result, &error))
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    os_bus_return_error (invocation, error);
}

static void
set_capabilities_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  guint capabilities;

  if (return_if_removed (self, invocation))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(u)", &capabilities);
  os_profile_set_capabilities_async (self->profile, capabilities, set_capabilities_done,
                                     invocation);
}

static gboolean
handle_set_capabilities (OsDBusEmulation *emulation,
                         GDBusMethodInvocation *invocation,
                         guint capabilities,
                         OsBusProfile *self)
{
  g_autoptr (GError) error = NULL;

  if (os_validate_capabilities (capabilities, &error))
    os_authority_check (self->authority, invocation, G_OBJECT (self), set_capabilities_authorized);
  else
    os_bus_return_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
set_transition_delay_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  g_autoptr (GError) error = NULL;
  guint milliseconds;

  if (return_if_removed (self, invocation))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(u)", &milliseconds);
  if (os_profile_set_transition_delay (self->profile, milliseconds, &error))
    os_dbus_emulation_complete_set_transition_delay (self->emulation, invocation);
  else
    os_bus_return_error (invocation, error);
}

static gboolean
handle_set_transition_delay (OsDBusEmulation *emulation,
                             GDBusMethodInvocation *invocation,
                             guint milliseconds,
                             OsBusProfile *self)
{
  g_autoptr (GError) error = NULL;

  if (os_validate_transition_delay (milliseconds, &error))
    os_authority_check (self->authority, invocation, G_OBJECT (self),
                        set_transition_delay_authorized);
  else
    os_bus_return_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
inject_notification_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  guint notify_type, mask, old_state, new_state;

  if (return_if_removed (self, invocation))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(uuuu)", &notify_type,
                 &mask, &old_state, &new_state);
  os_profile_inject_notification (self->profile, notify_type, mask, old_state, new_state);
  os_dbus_emulation_complete_inject_notification (self->emulation, invocation);
}

static gboolean
handle_inject_notification (OsDBusEmulation *emulation,
                            GDBusMethodInvocation *invocation,
                            guint notify_type,
                            guint mask,
                            guint old_state,
                            guint new_state,
                            OsBusProfile *self)
{
  os_authority_check (self->authority, invocation, G_OBJECT (self), inject_notification_authorized);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
fail_next_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  g_autoptr (GError) error = NULL;
  const char *method, *error_name;
  guint count;

  if (return_if_removed (self, invocation))
    return;
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&su)", &method,
                 &error_name, &count);
  if (os_profile_fail_next (self->profile, method, error_name, count, &error))
    os_dbus_emulation_complete_fail_next (self->emulation, invocation);
  else
    os_bus_return_error (invocation, error);
}

static gboolean
handle_fail_next (OsDBusEmulation *emulation,
                  GDBusMethodInvocation *invocation,
                  const char *method,
                  const char *error_name,
                  guint count,
                  OsBusProfile *self)
{
  g_autoptr (GError) error = NULL;

  if (os_validate_fail_next (method, error_name, count, &error))
    os_authority_check (self->authority, invocation, G_OBJECT (self), fail_next_authorized);
  else
    os_bus_return_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* The bus itself answered, not the client: a refusal to carry the call, or NoReply when
 * the client left without answering. */
static gboolean
from_the_bus (GDBusMessage *reply)
{
  return g_strcmp0 (g_dbus_message_get_sender (reply), "org.freedesktop.DBus") == 0;
}

OsAnswer
os_bus_answer_of (GDBusMessage *reply, const GError *error)
{
  if (reply == NULL)
    return OS_ANSWER_LOST; /* the connection closed, or the call was cancelled */
  if (g_dbus_message_get_message_type (reply) != G_DBUS_MESSAGE_TYPE_ERROR)
    return OS_ANSWER_TAKEN;
  if (from_the_bus (reply) &&
      g_strcmp0 (g_dbus_message_get_error_name (reply), OFFLINE_STATE_ERROR_LIMITS_EXCEEDED) == 0)
    return OS_ANSWER_REFUSED;
  /* A callback that is slow, or whose owner left without answering, costs time but keeps
   * its advise; any other error is the callback's own failure, LimitsExceeded from the
   * client itself included. */
  if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_NO_REPLY) ||
      g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_TIMED_OUT) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return OS_ANSWER_LOST;
  return OS_ANSWER_FAILED;
}

static void
notify_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  OsNote *note = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusMessage) reply =
      g_dbus_connection_send_message_with_reply_finish (G_DBUS_CONNECTION (source), result, &error);
  g_autofree char *remote = NULL;
  g_autofree char *reason = NULL;

  if (reply != NULL)
    g_dbus_message_to_gerror (reply, &error);
  if (error != NULL)
    {
      remote = g_dbus_error_get_remote_error (error);
      g_dbus_error_strip_remote_error (error);
      reason = g_strdup_printf ("%s%s%s", remote ? remote : "", remote ? ": " : "", error->message);
    }
  os_note_answered (note, os_bus_answer_of (reply, error), reason);
}

/* Property changes queued before a notification go out before it. */
static void
flush_properties (OsBusProfile *self)
{
  if (self->advise_count_held)
    publish_advise_count (self);
  g_dbus_interface_skeleton_flush (G_DBUS_INTERFACE_SKELETON (self));
}

static GVariant *
notification_parameters (const OsNotification *n)
{
  return g_variant_new ("(uuuuut)", n->notify_type, n->client_token, n->mask, n->old_state,
                        n->new_state, n->sequence);
}

void
os_bus_profile_send_signal (OsBusProfile *self, OsAdvise *advise, const OsNotification *n)
{
  g_autoptr (GError) error = NULL;

  flush_properties (self);
  if (!g_dbus_connection_emit_signal (
          self->connection, os_advise_get_owner (advise), os_bus_profile_get_path (self),
          OFFLINE_STATE_OFFLINE_MGR_INTERFACE, OFFLINE_STATE_STATE_CHANGED_SIGNAL,
          notification_parameters (n), &error))
    g_debug ("Could not send StateChanged to %s: %s", os_advise_get_owner (advise), error->message);
}

/* A message with a reply rather than g_dbus_connection_call(), which wraps it in a second
 * task and checks the reply's type. No time-out here: the bus counts the call against the
 * daemon until the client answers it (or leaves), and the client object counts it as long;
 * its own deadline, the notify time-out, decides when the client is cut off. */
void
os_bus_profile_send_call (OsBusProfile *self,
                          OsAdvise *advise,
                          const OsNotification *n,
                          OsNote *note)
{
  g_autoptr (GDBusMessage) message = g_dbus_message_new_method_call (
      os_advise_get_owner (advise), advise->callback, OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE,
      OFFLINE_STATE_NOTIFY_METHOD);

  flush_properties (self);
  g_dbus_message_set_body (message, notification_parameters (n));
  g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_AUTO_START);
  g_dbus_connection_send_message_with_reply (self->connection, message,
                                             G_DBUS_SEND_MESSAGE_FLAGS_NONE, G_MAXINT, NULL, NULL,
                                             notify_done, note);
}

/* A transition's start and end are told before anything that follows from them: its
 * first notification, or the reply to a BLOCK caller. */
static void
on_transitioning_changed (OsProfile *profile, GParamSpec *pspec, OsBusProfile *self)
{
  flush_properties (self);
}

static void
os_bus_profile_dispose (GObject *object)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);

  g_clear_handle_id (&self->advise_count_window_id, g_source_remove);
  if (self->profile != NULL)
    g_signal_handlers_disconnect_by_data (self->profile, self);
  if (self->emulation != NULL)
    g_signal_handlers_disconnect_by_data (self->emulation, self);
  g_clear_object (&self->emulation);
  g_clear_object (&self->authority);
  g_clear_object (&self->object);
  g_clear_object (&self->profile);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (os_bus_profile_parent_class)->dispose (object);
}

/* Reads of the properties (Properties.Get and GetAll, GetManagedObjects) give AdviseCount as
 * it is, even while a change of it is held back: read, it counts the advise just made. */
static GDBusInterfaceGetPropertyFunc parent_get_property;
static GVariant *(*parent_get_properties) (GDBusInterfaceSkeleton *skeleton);

static GVariant *
get_property_current (GDBusConnection *connection,
                      const char *sender,
                      const char *object_path,
                      const char *interface,
                      const char *property,
                      GError **error,
                      gpointer user_data)
{
  OsBusProfile *self = OS_BUS_PROFILE (user_data);

  if (g_str_equal (property, "AdviseCount"))
    return g_variant_new_uint32 (os_profile_get_advise_count (self->profile));
  return parent_get_property (connection, sender, object_path, interface, property, error,
                              user_data);
}

static GVariant *
get_properties_current (GDBusInterfaceSkeleton *skeleton)
{
  OsBusProfile *self = OS_BUS_PROFILE (skeleton);
  g_autoptr (GVariant) held = g_variant_ref_sink (parent_get_properties (skeleton));
  GVariantBuilder current;
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_variant_builder_init (&current, G_VARIANT_TYPE_VARDICT);
  g_variant_iter_init (&iter, held);
  while (g_variant_iter_loop (&iter, "{&sv}", &name, &value))
    {
      if (g_str_equal (name, "AdviseCount"))
        g_variant_builder_add (&current, "{sv}", name,
                               g_variant_new_uint32 (os_profile_get_advise_count (self->profile)));
      else
        g_variant_builder_add (&current, "{sv}", name, value);
    }
  return g_variant_builder_end (&current);
}

static GDBusInterfaceMethodCallFunc parent_method_call;

static void
properties_authorized (GObject *object, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (object);
  g_autoptr (GError) error = NULL;
  const char *interface, *property;
  g_autoptr (GVariant) value = NULL;

  if (g_str_equal (g_dbus_method_invocation_get_method_name (invocation), "GetAll"))
    {
      g_dbus_method_invocation_return_value (
          invocation,
          g_variant_new ("(@a{sv})", get_properties_current (G_DBUS_INTERFACE_SKELETON (self))));
      return;
    }
  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(&s&s)", &interface,
                 &property);
  value = get_property_current (g_dbus_method_invocation_get_connection (invocation),
                                g_dbus_method_invocation_get_sender (invocation),
                                g_dbus_method_invocation_get_object_path (invocation), interface,
                                property, &error, self);
  if (value == NULL)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  /* Floating or not, as the getter made it: "(v)" takes a reference of its own. */
  g_variant_take_ref (value);
  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(v)", value));
}

/* Reads of the properties come here (the vtable has no get_property), so that they keep
 * their place behind the caller's calls that wait (os_authority_check()). */
static void
method_call_in_order (GDBusConnection *connection,
                      const char *sender,
                      const char *object_path,
                      const char *interface,
                      const char *method,
                      GVariant *parameters,
                      GDBusMethodInvocation *invocation,
                      gpointer user_data)
{
  OsBusProfile *self = OS_BUS_PROFILE (user_data);

  if (g_str_equal (interface, "org.freedesktop.DBus.Properties"))
    os_authority_check (self->authority, invocation, G_OBJECT (self), properties_authorized);
  else
    parent_method_call (connection, sender, object_path, interface, method, parameters, invocation,
                        user_data);
}

/* A vtable of the class's own, whose functions can be wrapped: gdbus-codegen's get_vtable
 * returns one static table whatever the instance. Lives as long as the type. */
static GDBusInterfaceVTable *
vtable_copy (GDBusInterfaceSkeletonClass *klass)
{
  static GDBusInterfaceVTable *copy;

  if (copy == NULL)
    {
      copy = g_memdup2 (klass->get_vtable (NULL), sizeof (GDBusInterfaceVTable));
      parent_get_property = copy->get_property;
      parent_method_call = copy->method_call;
      copy->get_property = NULL;
      copy->method_call = method_call_in_order;
    }
  return copy;
}

static GDBusInterfaceVTable *
get_vtable_copy (GDBusInterfaceSkeleton *skeleton)
{
  return vtable_copy (G_DBUS_INTERFACE_SKELETON_GET_CLASS (skeleton));
}

static void
os_bus_profile_class_init (OsBusProfileClass *klass)
{
  GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = os_bus_profile_dispose;
  vtable_copy (skeleton_class);
  parent_get_properties = skeleton_class->get_properties;
  skeleton_class->get_properties = get_properties_current;
  skeleton_class->get_vtable = get_vtable_copy;
}

static void
os_bus_profile_init (OsBusProfile *self)
{
}

static void
bind_profile (OsBusProfile *self, const char *property)
{
  g_object_bind_property (self->profile, property, self, property, G_BINDING_SYNC_CREATE);
}

static void
setup_emulation (OsBusProfile *self)
{
  self->emulation = os_dbus_emulation_skeleton_new ();
  g_object_bind_property (self->profile, "transition-delay", self->emulation, "transition-delay",
                          G_BINDING_SYNC_CREATE);
  g_signal_connect (self->emulation, "handle-set-capabilities",
                    G_CALLBACK (handle_set_capabilities), self);
  g_signal_connect (self->emulation, "handle-set-transition-delay",
                    G_CALLBACK (handle_set_transition_delay), self);
  g_signal_connect (self->emulation, "handle-inject-notification",
                    G_CALLBACK (handle_inject_notification), self);
  g_signal_connect (self->emulation, "handle-fail-next", G_CALLBACK (handle_fail_next), self);
  os_dbus_object_skeleton_set_emulation (self->object, self->emulation);
}

OsBusProfile *
os_bus_profile_new (OsProfile *profile,
                    GDBusConnection *connection,
                    OsAuthority *authority,
                    gboolean emulation)
{
  OsBusProfile *self = g_object_new (OS_TYPE_BUS_PROFILE, NULL);
  g_autofree char *path = os_bus_profile_path_for_name (os_profile_get_name (profile));

  self->profile = g_object_ref (profile);
  self->connection = g_object_ref (connection);
  self->authority = g_object_ref (authority);
  self->object = os_dbus_object_skeleton_new (path);

  os_dbus_offline_mgr_set_profile_name (OS_DBUS_OFFLINE_MGR (self), os_profile_get_name (profile));
  bind_profile (self, "state");
  bind_profile (self, "capabilities");
  bind_profile (self, "transitioning");
  bind_profile (self, "sequence");
  publish_advise_count (self);
  g_signal_connect (profile, "notify::advise-count", G_CALLBACK (on_advise_count_changed), self);
  g_signal_connect (profile, "notify::transitioning", G_CALLBACK (on_transitioning_changed), self);
  os_dbus_object_skeleton_set_offline_mgr (self->object, OS_DBUS_OFFLINE_MGR (self));
  if (emulation)
    setup_emulation (self);
  return self;
}

GDBusObjectSkeleton *
os_bus_profile_get_object (OsBusProfile *self)
{
  return G_DBUS_OBJECT_SKELETON (self->object);
}

const char *
os_bus_profile_get_path (OsBusProfile *self)
{
  return g_dbus_object_get_object_path (G_DBUS_OBJECT (self->object));
}
