/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-authority.h"
#include "os-client.h"
#include "os-dbus-generated.h"
#include "os-error.h"
#include "os-bus-reply.h"

/* polkit's CheckAuthorizationFlags */
#define POLKIT_ALLOW_USER_INTERACTION 1u

/* A check that may show a password dialog waits for a person; any other is polkit's own
 * work and should take well under this. Either way a dead polkit cannot keep a caller's
 * invocation forever. */
#define CHECK_TIMEOUT_MS             25000
#define INTERACTIVE_CHECK_TIMEOUT_MS (5 * 60 * 1000)

struct _OsAuthority
{
  GObject parent_instance;

  GDBusConnection *bus;        /* the callers' */
  GDBusConnection *system_bus; /* polkit's, a connection of its own; NULL: nothing is checked */
  GQueue pending;              /* Check: asked polkit, no answer yet */
  GCancellable *cancellable;   /* cancelled by os_authority_close() */
  GHashTable *uids;            /* unique name → Unix user, of callers that needed one */
  GHashTable *held;            /* unique name → GQueue of Check: waiting for its user */
};

G_DEFINE_FINAL_TYPE (OsAuthority, os_authority, G_TYPE_OBJECT)

enum
{
  SIGNAL_USER_LEARNT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  const char *interface;
  const char *method;
  const char *action;  /* NULL: open to every caller */
  gboolean needs_user; /* the per-user limits count the caller's Unix user */
} Rule;

/* Who may call a method of ours is said once, in its introspection XML: an annotation names
 * the polkit action that covers it, or "none" for a method open to every caller. A method
 * without it has no rule, and is refused on the system bus. */
#define AUTHORIZATION_ANNOTATION "org.offlinestate.OfflineState1.Authorization"
/* "true" on a method whose calls the per-user limits count: its caller's Unix user is asked
 * of the bus before it goes on. */
#define PER_USER_LIMITS_ANNOTATION "org.offlinestate.OfflineState1.PerUserLimits"

/* Reading properties is open to every caller (Set, not listed, is refused). */
static const Rule property_rules[] = {
  { "org.freedesktop.DBus.Properties", "Get", NULL },
  { "org.freedesktop.DBus.Properties", "GetAll", NULL },
};

/* One call waiting for polkit's answer. */
typedef struct
{
  GDBusMethodInvocation *invocation; /* kept: answering it releases it; NULL once answered */
  GObject *object;
  OsAuthorizedFunc authorized;
  const char *action;
  OsAuthority *authority;
  GList link; /* in OsAuthority.pending */
} Check;

/* The rule of @interface.@method, filled into @rule, or NULL: no one may call it. */
static const Rule *
find_rule_for (const char *interface, const char *method, Rule *rule)
{
  GDBusInterfaceInfo *interfaces[] = {
    os_dbus_manager_interface_info (),
    os_dbus_offline_mgr_interface_info (),
    os_dbus_emulation_interface_info (),
  };

  for (gsize i = 0; i < G_N_ELEMENTS (property_rules); i++)
    if (g_str_equal (property_rules[i].interface, interface) &&
        g_str_equal (property_rules[i].method, method))
      return &property_rules[i];
  for (gsize i = 0; i < G_N_ELEMENTS (interfaces); i++)
    {
      GDBusMethodInfo *info;
      const char *action;

      if (!g_str_equal (interfaces[i]->name, interface))
        continue;
      info = g_dbus_interface_info_lookup_method (interfaces[i], method);
      action =
          info ? g_dbus_annotation_info_lookup (info->annotations, AUTHORIZATION_ANNOTATION) : NULL;
      if (action == NULL)
        return NULL;
      *rule = (Rule){
        interfaces[i]->name,
        info->name,
        g_str_equal (action, "none") ? NULL : action,
        g_strcmp0 (g_dbus_annotation_info_lookup (info->annotations, PER_USER_LIMITS_ANNOTATION),
                   "true") == 0,
      };
      return rule;
    }
  return NULL;
}

static const Rule *
find_rule (GDBusMethodInvocation *invocation, Rule *rule)
{
  return find_rule_for (g_dbus_method_invocation_get_interface_name (invocation),
                        g_dbus_method_invocation_get_method_name (invocation), rule);
}

/* The log names the caller; the caller's message names the action, so that an
 * administrator and a user both know which rule to look at. */
static void
deny (GDBusMethodInvocation *invocation, const char *action, const char *reason)
{
  g_autoptr (GError) error = NULL;
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  const char *method = g_dbus_method_invocation_get_method_name (invocation);

  g_message ("Refused %s to %s: %s (%s)", method, sender ? sender : "(no sender)",
             action ? action : "no action covers it", reason);
  if (action != NULL)
    os_set_error (&error, OS_ERROR_ACCESS_DENIED, "%s needs the polkit action %s: %s", method,
                  action, reason);
  else
    os_set_error (&error, OS_ERROR_ACCESS_DENIED,
                  "%s is open to no caller: its introspection XML has no Authorization annotation",
                  method);
  os_bus_return_error (invocation, error);
}

static void
check_free (Check *check)
{
  g_object_unref (check->object);
  g_object_unref (check->authority);
  g_free (check);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Check, check_free)

/* Why polkit said no, in words; NULL when it said yes. */
static const char *
read_answer (GVariant *reply)
{
  gboolean authorized, challenge;

  g_variant_get (reply, "((bb@a{ss}))", &authorized, &challenge, NULL);
  if (authorized)
    return NULL;
  if (challenge)
    return "authentication is required, and the call did not allow interactive "
           "authorization";
  return "not authorized";
}

static void
check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Check) check = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *reason;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  /* Answered by os_authority_close(), and out of the queue already. */
  if (check->invocation == NULL)
    return;
  g_queue_unlink (&check->authority->pending, &check->link);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_warning ("Could not ask polkit about %s for %s: %s", check->action,
                 g_dbus_method_invocation_get_sender (check->invocation), error->message);
      deny (check->invocation, check->action, "polkit could not be asked");
      return;
    }
  reason = read_answer (reply);
  if (reason != NULL)
    deny (check->invocation, check->action, reason);
  else
    check->authorized (check->object, check->invocation);
}

static GVariant *
check_parameters (const char *sender, const char *action, guint32 flags)
{
  GVariantBuilder subject, details;

  g_variant_builder_init (&subject, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&subject, "{sv}", "name", g_variant_new_string (sender));
  g_variant_builder_init (&details, G_VARIANT_TYPE ("a{ss}"));
  return g_variant_new ("((sa{sv})sa{ss}us)", "system-bus-name", &subject, action, &details, flags,
                        "");
}

static void
ask_polkit (OsAuthority *self, Check *check)
{
  GDBusMessage *message = g_dbus_method_invocation_get_message (check->invocation);
  gboolean interactive = (g_dbus_message_get_flags (message) &
                          G_DBUS_MESSAGE_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION) != 0;
  const char *sender = g_dbus_method_invocation_get_sender (check->invocation);

  check->link.data = check;
  g_queue_push_tail_link (&self->pending, &check->link);
  g_dbus_connection_call (
      self->system_bus, OFFLINE_STATE_POLKIT_BUS_NAME, OFFLINE_STATE_POLKIT_PATH,
      OFFLINE_STATE_POLKIT_INTERFACE, OFFLINE_STATE_POLKIT_CHECK_METHOD,
      check_parameters (sender, check->action, interactive ? POLKIT_ALLOW_USER_INTERACTION : 0),
      G_VARIANT_TYPE ("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
      interactive ? INTERACTIVE_CHECK_TIMEOUT_MS : CHECK_TIMEOUT_MS, self->cancellable, check_done,
      check);
}

static void
decide (OsAuthority *self, Check *check)
{
  g_autoptr (Check) owned = check;
  Rule found;
  const Rule *rule = find_rule (check->invocation, &found);

  if (self->system_bus == NULL)
    {
      check->authorized (check->object, check->invocation);
      return;
    }
  if (rule == NULL)
    {
      deny (check->invocation, NULL, "no rule lets anyone call it");
      return;
    }
  if (rule->action == NULL)
    {
      check->authorized (check->object, check->invocation);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      deny (check->invocation, rule->action, "the service is stopping");
      return;
    }
  /* polkit knows callers by their bus name: without one there is no one to ask about. */
  if (g_dbus_method_invocation_get_sender (check->invocation) == NULL)
    {
      deny (check->invocation, rule->action, "the caller has no bus name");
      return;
    }
  check->action = rule->action;
  ask_polkit (self, g_steal_pointer (&owned));
}

static void
release_held (OsAuthority *self, const char *sender, const char *why_not)
{
  g_autofree char *key = NULL;
  GQueue *held = NULL;
  Check *check;

  if (!g_hash_table_steal_extended (self->held, sender, (gpointer *) &key, (gpointer *) &held))
    return;
  while ((check = g_queue_pop_head (held)) != NULL)
    {
      Rule found;
      const Rule *rule = find_rule (check->invocation, &found);

      if (why_not != NULL && rule != NULL && rule->needs_user)
        {
          g_autoptr (Check) refused = check;
          g_autoptr (GError) error = NULL;

          os_set_error (&error, OS_ERROR_ACCESS_DENIED, "%s: %s",
                        g_dbus_method_invocation_get_method_name (check->invocation), why_not);
          os_bus_return_error (check->invocation, error);
          continue;
        }
      decide (self, check);
    }
  g_queue_free (held);
}

typedef struct
{
  OsAuthority *authority;
  char *sender;
} Lookup;

static void
lookup_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Lookup *lookup = user_data;
  g_autoptr (OsAuthority) self = lookup->authority;
  g_autofree char *sender = lookup->sender;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  guint32 uid;

  g_free (lookup);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_debug ("Could not learn the Unix user of %s: %s", sender, error->message);
      release_held (self, sender, "the caller's Unix user could not be learnt from the bus");
      return;
    }
  g_variant_get (reply, "(u)", &uid);
  g_hash_table_insert (self->uids, g_strdup (sender), GUINT_TO_POINTER (uid));
  g_signal_emit (self, signals[SIGNAL_USER_LEARNT], 0, sender, uid);
  release_held (self, sender, NULL);
}

void
os_authority_lookup_user (OsAuthority *self,
                          const char *name,
                          GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_dbus_connection_call (self->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                          "org.freedesktop.DBus", "GetConnectionUnixUser",
                          g_variant_new ("(s)", name), G_VARIANT_TYPE ("(u)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, callback, user_data);
}

/* The caller's later calls wait behind it, so that each is handled in the order it came. */
static void
hold (OsAuthority *self, const char *sender, Check *check)
{
  GQueue *held = g_hash_table_lookup (self->held, sender);
  Lookup *lookup;

  if (held != NULL)
    {
      g_queue_push_tail (held, check);
      return;
    }
  held = g_queue_new ();
  g_queue_push_tail (held, check);
  g_hash_table_insert (self->held, g_strdup (sender), held);
  lookup = g_new0 (Lookup, 1);
  lookup->authority = g_object_ref (self);
  lookup->sender = g_strdup (sender);
  os_authority_lookup_user (self, sender, lookup_done, lookup);
}

static Check *
check_new (OsAuthority *self,
           GDBusMethodInvocation *invocation,
           GObject *object,
           OsAuthorizedFunc authorized)
{
  Check *check = g_new0 (Check, 1);

  check->authority = g_object_ref (self);
  check->invocation = invocation;
  check->object = g_object_ref (object);
  check->authorized = authorized;
  return check;
}

void
os_authority_check (OsAuthority *self,
                    GDBusMethodInvocation *invocation,
                    GObject *object,
                    OsAuthorizedFunc authorized)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  Rule found;
  const Rule *rule = find_rule (invocation, &found);

  /* Deny by default, on every bus: a method whose XML says nothing of who may call it. */
  if (rule == NULL)
    {
      deny (invocation, NULL, "no rule");
      return;
    }
  if (sender != NULL && !g_cancellable_is_cancelled (self->cancellable) &&
      (g_hash_table_contains (self->held, sender) ||
       (rule->needs_user && !g_hash_table_contains (self->uids, sender))))
    {
      hold (self, sender, check_new (self, invocation, object, authorized));
      return;
    }
  /* Most calls: nothing to ask, nothing to wait for. */
  if (self->system_bus == NULL || rule->action == NULL)
    {
      authorized (object, invocation);
      return;
    }
  decide (self, check_new (self, invocation, object, authorized));
}

guint
os_authority_get_caller_uid (OsAuthority *self, GDBusMethodInvocation *invocation)
{
  const char *sender = g_dbus_method_invocation_get_sender (invocation);
  gpointer uid;

  if (sender == NULL || !g_hash_table_lookup_extended (self->uids, sender, NULL, &uid))
    return OS_UID_UNKNOWN;
  return GPOINTER_TO_UINT (uid);
}

void
os_authority_forget_caller (OsAuthority *self, const char *name)
{
  g_hash_table_remove (self->uids, name);
}

/* A call whose check polkit has not answered yet is refused: the service is going, and
 * must not act on an answer that comes after it stopped serving. Each is answered now, and
 * its question to polkit cancelled. */
void
os_authority_close (OsAuthority *self)
{
  GList *link;

  g_cancellable_cancel (self->cancellable);
  if (self->held != NULL)
    {
      g_autofree const char **senders =
          (const char **) g_hash_table_get_keys_as_array (self->held, NULL);
      g_auto (GStrv) copies = g_strdupv ((char **) senders);

      for (guint i = 0; copies[i] != NULL; i++)
        release_held (self, copies[i], "the service is stopping");
    }
  while ((link = g_queue_pop_head_link (&self->pending)) != NULL)
    {
      Check *check = link->data;

      deny (g_steal_pointer (&check->invocation), check->action,
            "the service stopped before polkit answered");
    }
}

static void
os_authority_dispose (GObject *object)
{
  OsAuthority *self = OS_AUTHORITY (object);

  os_authority_close (self);
  g_clear_object (&self->cancellable);
  if (self->system_bus != NULL && self->system_bus != self->bus)
    g_dbus_connection_close (self->system_bus, NULL, NULL, NULL);
  g_clear_object (&self->system_bus);
  g_clear_object (&self->bus);
  g_clear_pointer (&self->uids, g_hash_table_unref);
  g_clear_pointer (&self->held, g_hash_table_unref);
  G_OBJECT_CLASS (os_authority_parent_class)->dispose (object);
}

static void
os_authority_class_init (OsAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = os_authority_dispose;
  signals[SIGNAL_USER_LEARNT] =
      g_signal_new ("user-learnt", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                    NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);
}

static void
os_authority_init (OsAuthority *self)
{
  self->cancellable = g_cancellable_new ();
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->held = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* Calls to the daemon's clients (Notify) that a stopped client never answers count against
 * the bus's limit of calls awaiting replies on the daemon's connection, the limit polkit's
 * checks would share: they go on a connection of their own, which no client can fill. */
static GDBusConnection *
connect_for_polkit (GDBusConnection *bus)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  GDBusConnection *connection = NULL;

  if (address != NULL)
    connection =
        g_dbus_connection_new_for_address_sync (address,
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, &error);
  if (connection == NULL)
    {
      g_warning ("polkit is asked on the service's own connection: cannot open another to the "
                 "system bus: %s",
                 error->message);
      return g_object_ref (bus);
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);
  return connection;
}

OsAuthority *
os_authority_new (GDBusConnection *bus, gboolean check_callers)
{
  OsAuthority *self = g_object_new (OS_TYPE_AUTHORITY, NULL);

  self->bus = g_object_ref (bus);
  if (check_callers)
    self->system_bus = connect_for_polkit (bus);
  return self;
}
