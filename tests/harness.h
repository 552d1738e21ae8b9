/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The real offline-stated on a private bus (GTestDBus), and clients of it.
 */
#pragma once

#include <gio/gio.h>

#include "offline-state.h"
#include "test-add.h"

G_BEGIN_DECLS

/* How harness_setup_full() starts the daemon. */
typedef enum
{
  HARNESS_FLAGS_NONE = 0,
  /* No --state-dir: the daemon gets XDG_STATE_HOME pointing at state_dir instead, so its
   * defaults land there (and --ephemeral can be tested). */
  HARNESS_NO_STATE_DIR = 1 << 0,
  /* The daemon's standard error is a pipe: g_subprocess_get_stderr_pipe (h->daemon). */
  HARNESS_STDERR_PIPE = 1 << 1,
  /* Instead of GTestDBus: a private dbus-daemon run with tests/bus/system-limits.conf, every
   * limit at dbus-daemon's built-in (stock system bus) value, listening in a folder of its
   * own. The daemon still takes the session-bus code path: $DBUS_SESSION_BUS_ADDRESS. */
  HARNESS_SYSTEM_LIMITS = 1 << 2,
  /* Instead of GTestDBus: dbus-broker, through dbus-broker-launch --scope user
   * (tests/bus/dbus-broker-run, tests/bus/dbus-broker.conf), with its stock per-user quotas.
   * It may be unable to start here: use harness_try_setup_full(). */
  HARNESS_DBUS_BROKER = 1 << 3,
} HarnessFlags;

typedef struct
{
  GTestDBus *bus;
  char *state_dir;   /* a fresh temporary folder, removed at teardown */
  char *runtime_dir; /* the daemon's $XDG_RUNTIME_DIR, likewise */
  GSubprocess *daemon;
  GDBusConnection *client; /* the first client; harness_connect() makes more */
  HarnessFlags flags;      /* how harness_start_daemon() starts it */
  /* With HARNESS_SYSTEM_LIMITS or HARNESS_DBUS_BROKER, bus is NULL and these hold the bus: */
  GSubprocess *bus_process; /* dbus-daemon, or dbus-broker-launch */
  char *bus_dir;            /* its socket and its logs, removed at teardown */
  char *bus_address;        /* what harness_connect() and the daemon connect to */
  GSocket *bus_journal;     /* where dbus-broker-launch logs, when there is no journald */
  GSource *bus_journal_source;
  guint bus_journal_lines;
} Harness;

/* Starts a private bus and the daemon with --state-dir=<state_dir> --notify-timeout=...
 * plus @extra_args (NULL-terminated, may be NULL), and waits until it owns its name. */
void harness_setup (Harness *h, const char *const *extra_args);
/* Same, with @flags (kept in h->flags for restarts). */
void harness_setup_full (Harness *h, HarnessFlags flags, const char *const *extra_args);
/* harness_setup_full() for a bus that may be unable to start here (HARNESS_DBUS_BROKER):
 * FALSE, with @error saying why and nothing left behind, when the bus did not start. The
 * daemon must start on it all the same. */
gboolean harness_try_setup_full (Harness *h,
                                 HarnessFlags flags,
                                 const char *const *extra_args,
                                 GError **error);
/* The address of the bus that the harness started, for clients in other processes. */
const char *harness_bus_address (Harness *h);
/* Stops the daemon (asserting a clean exit), the bus, and removes the state folder. */
void harness_teardown (Harness *h);

/* GTest fixture functions: @data is the daemon's extra arguments (NULL-terminated, may be
 * NULL), as for harness_setup(); the second one starts it with HARNESS_NO_STATE_DIR. */
void harness_fixture_setup (Harness *h, gconstpointer data);
void harness_fixture_setup_without_state_dir (Harness *h, gconstpointer data);
void harness_fixture_teardown (Harness *h, gconstpointer data);

/* For restarts: start again on the same bus and state folder; stop with SIGTERM and
 * return the exit status. */
void harness_start_daemon (Harness *h, const char *const *extra_args);
int harness_stop_daemon (Harness *h);
/* Stops the daemon (asserting a clean exit) and starts it again with @extra_args. */
void harness_restart (Harness *h, const char *const *extra_args);

/* Runs the daemon binary with @argv (NULL-terminated, without argv[0]) to completion;
 * returns its exit status and its standard error in @err_out. */
int harness_run_daemon_sync (const char *const *argv, char **err_out);
/* Same, and also its standard output in @out_out (may be NULL: then it is discarded). */
int harness_run_daemon_sync_full (const char *const *argv, char **out_out, char **err_out);

/* $OFFLINE_STATE_TEST_TIMEOUT_MULTIPLIER (1 when unset): how much slower than a plain build
 * the daemon and the test run (valgrind sets 3). */
guint harness_timeout_multiplier (void);

/* Removes @path and everything in it. */
void harness_remove_tree (const char *path);

/* A new connection to the private bus: a separate client with its own unique name. */
GDBusConnection *harness_connect (Harness *h);
/* The same, to the bus at @address. */
GDBusConnection *harness_connect_to (const char *address);

/* A private bus (GTestDBus, G_TEST_DBUS_NONE), started, that holds none of the program's
 * descriptors: GTestDBus's watcher then sees the program die (harness.c). For a service in
 * the test's own process; harness_setup() starts its bus with it. */
GTestDBus *harness_bus_up (void);

/* Calls a method of the service synchronously (the test waits, the daemon doesn't).
 * @path NULL means the manager object. */
GVariant *harness_call (GDBusConnection *connection,
                        const char *path,
                        const char *interface,
                        const char *method,
                        GVariant *parameters,
                        GError **error);
/* Same, for a call that may fail: returns its error, or NULL. */
GError *harness_call_error (GDBusConnection *connection,
                            const char *path,
                            const char *interface,
                            const char *method,
                            GVariant *parameters);
/* Same, but asserts failure and returns the error. */
GError *harness_call_fails (GDBusConnection *connection,
                            const char *path,
                            const char *interface,
                            const char *method,
                            GVariant *parameters);
/* Same, but asserts success. */
GVariant *harness_call_ok (GDBusConnection *connection,
                           const char *path,
                           const char *interface,
                           const char *method,
                           GVariant *parameters);

/* Until the daemon that was sent SIGKILL (or g_subprocess_force_exit()) is gone, from the
 * system and from the bus: a new one started before the bus has noticed could neither own the
 * name nor be told from the old one. Asserts that SIGKILL ended it; clears h->daemon. */
void harness_reap_killed_daemon (Harness *h);
GVariant *harness_get_property (GDBusConnection *connection,
                                const char *path,
                                const char *interface,
                                const char *property);
guint harness_get_uint (GDBusConnection *connection, const char *path, const char *property);
guint64 harness_get_sequence (GDBusConnection *connection, const char *path);
gboolean harness_get_transitioning (GDBusConnection *connection, const char *path);

/* Asserts that @error is the D-Bus error @dbus_name and that its message starts with
 * @message_prefix (may be NULL). */
void
harness_assert_dbus_error (const GError *error, const char *dbus_name, const char *message_prefix);

/* The object path of a profile. */
char *harness_profile_path (const char *name);

/* The Manager and its profiles, through h->client */

GVariant *harness_manager_call_ok (Harness *h, const char *method, GVariant *parameters);
/* CreateOfflineObject; returns the new object's path. */
char *
harness_create_profile (Harness *h, const char *name, guint capabilities, guint initial_state);
void harness_remove_profile (Harness *h, const char *name);
/* A method of the Emulation interface of @path, which must succeed. */
void
harness_emulation_call_ok (Harness *h, const char *path, const char *method, GVariant *parameters);
/* The Profiles property is @expected (NULL-terminated). */
void harness_assert_profiles (Harness *h, const char *const *expected);
/* A profile at rest, as its properties and methods tell it. */
void harness_assert_profile (
    Harness *h, const char *name, guint state, guint capabilities, guint64 sequence);

/* Iterates the main context until *@flag is TRUE or @timeout_ms pass (then the test fails). */
void harness_wait_flag (const gboolean *flag, guint timeout_ms);
/* Iterates until @count reaches @at_least. */
void harness_wait_count (const guint *count, guint at_least, guint timeout_ms);

/* One notification as a client saw it. */
typedef struct
{
  guint notify_type;
  guint client_token;
  guint mask;
  guint old_state;
  guint new_state;
  guint64 sequence;
  gint64 time_us; /* g_get_monotonic_time() when it arrived */
} HarnessNote;

/* Objects that clients export: a call to one goes to its HarnessCallFunc, which answers
 * @invocation at once, later, or never. */
typedef void (*HarnessCallFunc) (GDBusMethodInvocation *invocation,
                                 GVariant *parameters,
                                 gpointer user_data);

/* Exports at @path on @connection the one interface that @xml (a <node>) describes; every
 * call to it goes to @func. Returns the registration id. */
guint harness_export (GDBusConnection *connection,
                      const char *path,
                      const char *xml,
                      HarnessCallFunc func,
                      gpointer user_data);
/* The same for OfflineNotify, whose Notify the daemon calls for a callback advise. */
guint harness_export_notify (GDBusConnection *connection,
                             const char *path,
                             HarnessCallFunc func,
                             gpointer user_data);

/* Signals that a client hears: each goes to a HarnessSignalFunc with its arguments. */
typedef void (*HarnessSignalFunc) (GVariant *parameters, gpointer user_data);

/* Sends @func the signals @interface.@member from the object at @path (NULL: any) that reach
 * @connection. Returns the subscription id, for g_dbus_connection_signal_unsubscribe(). */
guint harness_subscribe (GDBusConnection *connection,
                         const char *path,
                         const char *interface,
                         const char *member,
                         HarnessSignalFunc func,
                         gpointer user_data);
/* The same for the bus's NameOwnerChanged about @name (NULL: any name). */
guint harness_subscribe_name_owner (GDBusConnection *connection,
                                    const char *name,
                                    HarnessSignalFunc func,
                                    gpointer user_data);

/* The arguments of StateChanged, or of a Notify call (they are the same), as a note that
 * arrived now. */
HarnessNote harness_note_from (GVariant *parameters);

/* How a callback client answers Notify. */
typedef enum
{
  HARNESS_REPLY,       /* at once */
  HARNESS_REPLY_LATER, /* after delay_ms, from a timeout: a slow client */
  HARNESS_SILENT,      /* never */
  HARNESS_FAIL,        /* with an error */
} HarnessMode;

/* A client's view of its notifications: either StateChanged signals to its connection,
 * or Notify calls to an object it exports at callback_path. */
typedef struct
{
  GDBusConnection *connection;
  GArray *notes; /* HarnessNote */
  guint n_notes;
  HarnessMode mode;
  guint delay_ms;
  GPtrArray *kept; /* invocations a silent client never answers */
  guint subscription_id;
  guint registration_id;
  char *callback_path;
  const char *fail_message; /* HARNESS_FAIL's error message, if not the usual one */
} HarnessRecorder;

/* Records StateChanged signals that reach @connection from the object at @path. */
HarnessRecorder *harness_recorder_new_signal (GDBusConnection *connection, const char *path);
/* Exports an OfflineNotify object at @callback_path on @connection. */
HarnessRecorder *harness_recorder_new_callback (GDBusConnection *connection,
                                                const char *callback_path,
                                                HarnessMode mode,
                                                guint delay_ms);
void harness_recorder_free (HarnessRecorder *recorder);
const HarnessNote *harness_recorder_note (HarnessRecorder *recorder, guint index);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarnessRecorder, harness_recorder_free)

/* PropertiesChanged of the OfflineMgr interface, as one client sees them */

typedef struct
{
  GDBusConnection *connection;
  guint subscription_id;
  GPtrArray *events;  /* "Name=value", in arrival order */
  GArray *notes_seen; /* guint per event: peer->n_notes when it arrived */
  GArray *signal_of;  /* guint per event: which PropertiesChanged carried it, from 0 */
  guint n_signals;
  HarnessRecorder *peer; /* a StateChanged recorder on the same connection, or NULL */
  guint advise_count;    /* the last AdviseCount a signal carried */
  guint want_advise_count;
  gboolean advise_count_reached; /* a signal carried want_advise_count */
  gboolean transitioning_ended;
} HarnessPropsWatch;

HarnessPropsWatch *
harness_props_watch_new (GDBusConnection *connection, const char *path, HarnessRecorder *peer);
void harness_props_watch_free (HarnessPropsWatch *watch);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HarnessPropsWatch, harness_props_watch_free)

/* Advise on @path for @connection with state mask 0x3 and the given @callback path
 * ("/" for signal delivery); returns the advise token. */
guint harness_advise (GDBusConnection *connection,
                      const char *path,
                      guint client_token,
                      const char *callback);

/* A call in flight, for calls that must not block the test's main loop (BLOCK while
 * this process also answers Notify). */
typedef struct
{
  gboolean done;
  GError *error;
  GVariant *reply;
  gint64 time_us; /* when the reply arrived */
} HarnessPending;

void harness_call_begin (GDBusConnection *connection,
                         const char *path,
                         const char *interface,
                         const char *method,
                         GVariant *parameters,
                         HarnessPending *pending);
/* The same, with a D-Bus time-out of @timeout_ms rather than the harness's 30 s. */
void harness_call_begin_full (GDBusConnection *connection,
                              const char *path,
                              const char *interface,
                              const char *method,
                              GVariant *parameters,
                              guint timeout_ms,
                              HarnessPending *pending);
void harness_pending_clear (HarnessPending *pending);
void harness_set_state_begin (GDBusConnection *connection,
                              const char *path,
                              guint flags,
                              guint state,
                              HarnessPending *pending);

/* SetCurrentState; returns the error (or NULL). */
GError *harness_set_state (GDBusConnection *connection, const char *path, guint flags, guint state);

G_END_DECLS
