/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-bus-reply.h"
#include "os-error.h"

void
os_bus_return_error (GDBusMethodInvocation *invocation, const GError *error)
{
  if (error->domain == OS_ERROR)
    {
      g_dbus_method_invocation_return_dbus_error (invocation, os_error_dbus_name (error->code),
                                                  error->message);
    }
  else
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
    }
}

void
os_bus_return_done (GDBusMethodInvocation *invocation, gboolean done, const GError *error)
{
  if (done)
    g_dbus_method_invocation_return_value (invocation, NULL);
  else
    os_bus_return_error (invocation, error);
}

GDBusMessage *
os_bus_new_error_reply (GDBusMessage *call, const GError *error)
{
  g_autofree char *name = NULL;

  if (error->domain == OS_ERROR)
    return g_dbus_message_new_method_error_literal (call, os_error_dbus_name (error->code),
                                                    error->message);
  name = g_dbus_error_encode_gerror (error);
  return g_dbus_message_new_method_error_literal (call, name, error->message);
}
