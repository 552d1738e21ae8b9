/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-bus-dispatch.h"
#include "os-bus-profile.h"
#include "os-error.h"
#include "os-bus-reply.h"

struct _OsBusProfile
{
  OsDBusOfflineMgrSkeleton parent_instance;

  OsProfile *profile;
  GDBusConnection *connection;
  OsDBusObjectSkeleton *object;
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

static void
set_state_done (GObject *source, GAsyncResult *result, gpointer invocation)
{
  g_autoptr (GError) error = NULL;
  gboolean done = os_profile_set_state_finish (OS_PROFILE (source), result, &error);

  os_bus_return_done (invocation, done, error);
}

/* Pending or not is read here, after polkit's answer, not when the call came in. */
static gboolean
handle_set_current_state (OsDBusOfflineMgr *iface,
                          GDBusMethodInvocation *invocation,
                          guint flags,
                          guint mask,
                          guint state)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  os_profile_set_state_async (self->profile, flags, mask, state, set_state_done, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_capabilities (OsDBusOfflineMgr *iface, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  os_dbus_offline_mgr_complete_get_capabilities (iface, invocation,
                                                 os_profile_get_capabilities (self->profile));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_get_current_state (OsDBusOfflineMgr *iface, GDBusMethodInvocation *invocation)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);

  os_dbus_offline_mgr_complete_get_current_state (iface, invocation,
                                                  os_profile_get_state (self->profile));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
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
  g_autoptr (GError) error = NULL;
  guint token;

  /* The object path "/" asks for StateChanged signals rather than Notify calls. */
  token = os_profile_advise (
      self->profile, g_dbus_method_invocation_get_sender (invocation),
      os_authority_get_caller_uid (self->authority, invocation), flags, client_token, callback_type,
      g_str_equal (callback, OFFLINE_STATE_SIGNAL_CALLBACK_PATH) ? NULL : callback, advise_types,
      state_mask, &error);
  if (token == 0)
    os_bus_return_error (invocation, error);
  else
    os_dbus_offline_mgr_complete_advise (iface, invocation, token);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
handle_unadvise (OsDBusOfflineMgr *iface,
                 GDBusMethodInvocation *invocation,
                 guint flags,
                 guint advise_token)
{
  OsBusProfile *self = OS_BUS_PROFILE (iface);
  g_autoptr (GError) error = NULL;

  if (os_profile_unadvise (self->profile, g_dbus_method_invocation_get_sender (invocation), flags,
                           advise_token, &error))
    os_dbus_offline_mgr_complete_unadvise (iface, invocation);
  else
    os_bus_return_error (invocation, error);
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
  g_clear_object (&self->authority);
  g_clear_object (&self->object);
  g_clear_object (&self->profile);
  g_clear_object (&self->connection);
  G_OBJECT_CLASS (os_bus_profile_parent_class)->dispose (object);
}

/* Reads of the properties (Properties.Get and GetAll, GetManagedObjects) give AdviseCount as
 * it is, even while a change of it is held back: read, it counts the advise just made. */
static GVariant *(*parent_get_properties) (GDBusInterfaceSkeleton *skeleton);

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

static void
os_bus_profile_class_init (OsBusProfileClass *klass)
{
  GDBusInterfaceSkeletonClass *skeleton_class = G_DBUS_INTERFACE_SKELETON_CLASS (klass);
  G_OBJECT_CLASS (klass)->dispose = os_bus_profile_dispose;
  os_bus_dispatch_install (skeleton_class);
  parent_get_properties = skeleton_class->get_properties;
  skeleton_class->get_properties = get_properties_current;
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

OsBusProfile *
os_bus_profile_new (OsProfile *profile, GDBusConnection *connection, OsAuthority *authority)
{
  OsBusProfile *self = g_object_new (OS_TYPE_BUS_PROFILE, NULL);
  g_autofree char *path = os_bus_profile_path_for_name (os_profile_get_name (profile));
  g_autofree char *what = g_strdup_printf ("profile '%s'", os_profile_get_name (profile));

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
  os_bus_dispatch_attach (G_DBUS_INTERFACE_SKELETON (self), authority, what);
  os_dbus_object_skeleton_set_offline_mgr (self->object, OS_DBUS_OFFLINE_MGR (self));
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
