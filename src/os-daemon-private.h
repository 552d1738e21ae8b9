/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the daemon's files tell each other, and nobody else:
 * - os-daemon.c: the command line (options, their checks, the defaults that depend on the
 *   bus, the folders), signals, and the program's course from start to exit status.
 * - os-daemon-serve.c: from start to serving: the bus connection, the state loaded, the
 *   advises restored, the objects exported, the name owned (or lost).
 * - os-daemon-handover.c: one instance hands the bus to the next: the folders' locks, taken
 *   at once or, with --replace, waited for; the drain (SIGTERM, a lost name) and the stop.
 * - os-daemon-exit.c: what the daemon does on its way out: the last writes, what is still
 *   unsaved, the advise journal kept or dropped, the folders let go.
 *
 * Without --replace, the folders are taken first, then the state is loaded, the objects are
 * exported and the name is owned last. With --replace, the name is owned first, calls wait
 * (OsBusHold), and the folders are taken once the instance that served the bus lets go.
 */
#pragma once

#include <gio/gio.h>

#include "os-bus-hold.h"
#include "os-bus-manager.h"
#include "os-manager.h"
#include "os-network.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean session;
  gboolean system;
  gboolean replace;
  gboolean verbose;
  gboolean version;
  char *state_dir;
  char *runtime_dir;
  gboolean ephemeral;
  gboolean no_emulation;
  gboolean follow_network;
  guint reconnect_delay_ms;
  OsLimits limits;
  guint limits_set; /* bit i: limit_options[i] was given */
} OsDaemonOptions;

typedef struct _OsDaemon OsDaemon;

struct _OsDaemon
{
  OsDaemonOptions options;
  OsManager *manager;
  GDBusConnection *connection;
  OsBusManager *bus_manager;
  OsNetworkFollower *network_follower;
  GMainLoop *loop;
  guint owner_id;
  gboolean name_acquired;
  gboolean restored;
  char *bus_id;
  gboolean bus_closed; /* the bus connection closed under the daemon */
  int status;
  char *state_dir;   /* NULL: --ephemeral */
  char *runtime_dir; /* NULL: --ephemeral */
  int state_lock;    /* the locks held on those folders, or -1 */
  int runtime_lock;
  guint lock_wait_id; /* the bound of the wait for the folders, with --replace */
  void (*folders_taken) (OsDaemon *daemon); /* what follows the wait */
  gboolean serving;                         /* the state is loaded and the objects are on the bus */
  gboolean stopping;                        /* the main loop was told to quit */
  gboolean draining; /* taking no new call, waiting for the transitions in progress */
  int drain_status;
  guint drain_id;
  OsBusHold *hold; /* with --replace, the calls that come before the state is loaded */
};

/* os-daemon-serve.c */

/* Takes the folders (without --replace) and connects to the bus; then loads the state, or,
 * with --replace, owns the name first. FALSE with @error if the daemon cannot start. */
gboolean os_daemon_start (OsDaemon *daemon, GError **error);

/* os-daemon-handover.c */

/* Quits the main loop; the exit status is @status. */
void os_daemon_stop (OsDaemon *daemon, int status);
/* Says @error and stops with EXIT_FAILURE. */
void os_daemon_fail (OsDaemon *daemon, const GError *error);
/* Stops taking calls, lets the transitions in progress end (their BLOCK callers answered,
 * their subscribers told DONE) and the last write complete, then stops with @status. Asked
 * again, it stops at once. */
void os_daemon_drain (OsDaemon *daemon, int status);
/* Without --replace: both folders at once, or nothing is touched. */
gboolean os_daemon_take_folders_now (OsDaemon *daemon, GError **error);
/* With --replace, once the name is owned: the folders, waited for (none with --ephemeral),
 * then @taken runs (it loads the state). */
void os_daemon_take_folders (OsDaemon *daemon, void (*taken) (OsDaemon *daemon));

/* os-daemon-exit.c */

/* Ends what start and the main loop began; the exit status may become EXIT_FAILURE. */
void os_daemon_shut_down (OsDaemon *daemon);

G_END_DECLS
