/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Every limit, each a daemon option (os-daemon.c has the defaults' words); all guint. A
 * limit left at 0 takes its default. */
typedef struct _OsLimits
{
  guint notify_timeout_ms;
  guint max_advises_per_connection;
  guint max_advises;
  guint max_profiles;
  guint max_advises_per_user;
  guint max_path_bytes_per_connection;
  guint max_path_bytes_per_user;
  guint max_calls_per_connection;
  guint max_calls_per_user;
  guint max_queued_per_connection;
  guint max_queued_per_user;
  guint max_notify_calls_per_connection;
  guint max_notify_calls_per_user;
  guint max_notify_calls; /* of all connections together: the bus's room for them */
  guint cut_off_grace_ms;
} OsLimits;

/* The calls in flight toward clients share the bus's limit of calls awaiting replies per
 * connection: 128 by default, which the system bus keeps; 50,000 on Debian's session bus. A
 * stopped client keeps the calls sent to it until it leaves, and the bus counts them that
 * long: on the system bus one user's may never take more than a quarter of 128. (A private
 * bus with dbus-daemon's own defaults, such as a test's, has the system bus's 128: give it
 * the system bus's budgets.) */
#define OS_NOTIFY_CALLS_PER_CONNECTION_SESSION 256
#define OS_NOTIFY_CALLS_PER_USER_SESSION       1024
#define OS_NOTIFY_CALLS_SESSION                1024
#define OS_NOTIFY_CALLS_PER_CONNECTION_SYSTEM  16
/* On the session bus every client is one user: its budgets are those of all together. */
#define OS_ADVISES_PER_USER_SYSTEM      4096
#define OS_PATH_BYTES_PER_USER_SYSTEM   262144
#define OS_QUEUED_PER_USER_SYSTEM       16384
#define OS_CALLS_PER_USER_SYSTEM        512
#define OS_NOTIFY_CALLS_PER_USER_SYSTEM 32
#define OS_NOTIFY_CALLS_SYSTEM          96

#define OS_LIMITS_DEFAULT                                                                          \
  {                                                                                                \
    .notify_timeout_ms = 5000, .max_advises_per_connection = 1024, .max_advises = 65536,           \
    .max_profiles = 256, .max_advises_per_user = 65536, .max_path_bytes_per_connection = 65536,    \
    .max_path_bytes_per_user = 4194304, .max_calls_per_connection = 64,                            \
    .max_calls_per_user = 4096, .max_queued_per_connection = 4096, .max_queued_per_user = 131072,  \
    .max_notify_calls_per_connection = OS_NOTIFY_CALLS_PER_CONNECTION_SESSION,                     \
    .max_notify_calls_per_user = OS_NOTIFY_CALLS_PER_USER_SESSION,                                 \
    .max_notify_calls = OS_NOTIFY_CALLS_SESSION, .cut_off_grace_ms = 10000,                        \
  }

G_END_DECLS
