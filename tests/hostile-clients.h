/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the hostile tests (test-hostile.c, test-malformed.c, test-churn.c, test-isolation.c)
 * share: hostile clients, departures, and their checks.
 */
#pragma once

#include "probe.h"
#include "transition-clients.h"

G_BEGIN_DECLS

#define DBUS_ERROR_UNKNOWN_METHOD     "org.freedesktop.DBus.Error.UnknownMethod"
#define DBUS_ERROR_UNKNOWN_OBJECT     "org.freedesktop.DBus.Error.UnknownObject"
#define DBUS_ERROR_UNKNOWN_INTERFACE  "org.freedesktop.DBus.Error.UnknownInterface"
#define DBUS_ERROR_UNKNOWN_PROPERTY   "org.freedesktop.DBus.Error.UnknownProperty"
#define DBUS_ERROR_PROPERTY_READ_ONLY "org.freedesktop.DBus.Error.PropertyReadOnly"

#define HUGE_LENGTH (1024 * 1024)

/* harness_setup() with the one extra argument @first_arg. */
void setup_with (Harness *h, const char *first_arg);
/* A fixture setup: --notify-timeout=20000. */
void setup_long_timeout (Harness *h, gconstpointer data);

/* Who has left the bus, as NameOwnerChanged tells a connection. */
typedef struct
{
  GDBusConnection *connection;
  guint subscription_id;
  GHashTable *gone; /* unique names */
} Departures;

void departures_init (Departures *departures, GDBusConnection *connection);
void departures_clear (Departures *departures);
/* Returns once every unique name in @names has left the bus; fails the test after
 * @timeout_ms. The bus tells the daemon that a client left before it tells us: once we know,
 * any call we make reaches a daemon that has removed the client's advises. */
void departures_wait (Departures *departures, GPtrArray *names, guint timeout_ms);

/* Closes @connection and returns once the bus has said so on h->client. The bus tells the
 * daemon before it tells us, so any call made after this reaches a daemon that knows. */
void close_and_wait_gone (Harness *h, GDBusConnection *connection);

/* The daemon's figures once it has opened what it keeps open for good: its advise journal,
 * opened at the first Advise. */
void probe_read_warm (Harness *h, ProbeFigures *figures);

/* An OfflineNotify whose Notify takes the wrong arguments, at @path on @connection. */
void export_wrong_notify (GDBusConnection *connection, const char *path);
/* Some other interface, with a Notify of the right arguments. */
void export_other_interface (GDBusConnection *connection, const char *path);

/* @recorder saw transitions 1 to @n_transitions whole and in order, from the default
 * profile, starting ONLINE → OFFLINE. */
void assert_transitions_seen (HarnessRecorder *recorder, guint client_token, guint n_transitions);

G_END_DECLS
