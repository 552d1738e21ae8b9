/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "offline-state.h"
#include "os-authority.h"
#include "os-error.h"

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

  GDBusConnection *system_bus; /* NULL: nothing is checked */
  GQueue pending;              /* Check: asked polkit, no answer yet */
  GCancellable *cancellable;   /* cancelled by os_authority_close() */
};

G_DEFINE_FINAL_TYPE (OsAuthority, os_authority, G_TYPE_OBJECT)

typedef struct
{
  const char *interface;
  const char *method;
  const char *action; /* NULL: open to every caller */
} Rule;

/* The one table: what each method may do decides who may call it. */
static const Rule rules[] = {
  { OFFLINE_STATE_MANAGER_INTERFACE, "OpenOfflineObject", NULL },
  { OFFLINE_STATE_MANAGER_INTERFACE, "CreateOfflineObject", OFFLINE_STATE_ACTION_MANAGE_PROFILES },
  { OFFLINE_STATE_MANAGER_INTERFACE, "RemoveOfflineObject", OFFLINE_STATE_ACTION_MANAGE_PROFILES },
  { OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "SetCurrentState", OFFLINE_STATE_ACTION_SET_STATE },
  { OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCapabilities", NULL },
  { OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL },
  { OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise", NULL },
  { OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Unadvise", NULL },
  { OFFLINE_STATE_EMULATION_INTERFACE, "SetCapabilities", OFFLINE_STATE_ACTION_EMULATE },
  { OFFLINE_STATE_EMULATION_INTERFACE, "SetTransitionDelay", OFFLINE_STATE_ACTION_EMULATE },
  { OFFLINE_STATE_EMULATION_INTERFACE, "InjectNotification", OFFLINE_STATE_ACTION_EMULATE },
  { OFFLINE_STATE_EMULATION_INTERFACE, "FailNext", OFFLINE_STATE_ACTION_EMULATE },
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

static const Rule *
find_rule_for (const char *interface, const char *method)
{
  for (gsize i = 0; i < G_N_ELEMENTS (rules); i++)
    if (g_str_equal (rules[i].interface, interface) && g_str_equal (rules[i].method, method))
      return &rules[i];
  return NULL;
}

static const Rule *
find_rule (GDBusMethodInvocation *invocation)
{
  return find_rule_for (g_dbus_method_invocation_get_interface_name (invocation),
                        g_dbus_method_invocation_get_method_name (invocation));
}

gboolean
os_authority_checks_callers (OsAuthority *self)
{
  return self->system_bus != NULL;
}

gboolean
os_authority_is_open (OsAuthority *self, const char *interface, const char *method)
{
  const Rule *rule;

  if (self->system_bus == NULL)
    return TRUE;
  rule = find_rule_for (interface, method);
  return rule != NULL && rule->action == NULL;
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
    os_set_error (&error, OS_ERROR_ACCESS_DENIED, "%s is not open to callers on the system bus",
                  method);
  os_error_return (invocation, error);
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

void
os_authority_check (OsAuthority *self,
                    GDBusMethodInvocation *invocation,
                    GObject *object,
                    OsAuthorizedFunc authorized)
{
  const Rule *rule;
  Check *check;

  if (self->system_bus == NULL)
    {
      authorized (object, invocation);
      return;
    }
  rule = find_rule (invocation);
  if (rule == NULL)
    {
      deny (invocation, NULL, "no rule lets anyone call it");
      return;
    }
  if (rule->action == NULL)
    {
      authorized (object, invocation);
      return;
    }
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      deny (invocation, rule->action, "the service is stopping");
      return;
    }
  /* polkit knows callers by their bus name: without one there is no one to ask about. */
  if (g_dbus_method_invocation_get_sender (invocation) == NULL)
    {
      deny (invocation, rule->action, "the caller has no bus name");
      return;
    }
  check = g_new0 (Check, 1);
  check->authority = g_object_ref (self);
  check->invocation = invocation;
  check->object = g_object_ref (object);
  check->authorized = authorized;
  check->action = rule->action;
  ask_polkit (self, check);
}

/* A call whose check polkit has not answered yet is refused: the service is going, and
 * must not act on an answer that comes after it stopped serving. Each is answered now, and
 * its question to polkit cancelled. */
void
os_authority_close (OsAuthority *self)
{
  GList *link;

  g_cancellable_cancel (self->cancellable);
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
  g_clear_object (&self->system_bus);
  G_OBJECT_CLASS (os_authority_parent_class)->dispose (object);
}

static void
os_authority_class_init (OsAuthorityClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = os_authority_dispose;
}

static void
os_authority_init (OsAuthority *self)
{
  self->cancellable = g_cancellable_new ();
}

OsAuthority *
os_authority_new (GDBusConnection *system_bus)
{
  OsAuthority *self = g_object_new (OS_TYPE_AUTHORITY, NULL);

  if (system_bus != NULL)
    self->system_bus = g_object_ref (system_bus);
  return self;
}
