/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Malformed input at the D-Bus level, against the real daemon on a private bus: wrong
 * signatures, unknown members, interfaces and objects, out-of-range values, 1 MiB strings,
 * raw messages, a forged NameOwnerChanged, callback paths that lead nowhere. Each gets a
 * named error and changes nothing. Every case prints what it measured.
 */
#include <glib-unix.h>
#include <gio/gunixfdlist.h>
#include <string.h>
#include <unistd.h>

#include "hostile-clients.h"

#define PROFILE       OFFLINE_STATE_PROFILES_PATH "/default"
#define MANAGER_IFACE OFFLINE_STATE_MANAGER_INTERFACE
#define MGR_IFACE     OFFLINE_STATE_OFFLINE_MGR_INTERFACE
#define EMU_IFACE     OFFLINE_STATE_EMULATION_INTERFACE
#define PROPS_IFACE   "org.freedesktop.DBus.Properties"
#define INVALID       OFFLINE_STATE_ERROR_INVALID_ARGS
/* GDBus's own answers: GLib 2.74 has the generic names, newer GLib the specific ones. */
#define NO_METHOD    DBUS_ERROR_UNKNOWN_METHOD, NULL
#define NO_INTERFACE DBUS_ERROR_UNKNOWN_METHOD, DBUS_ERROR_UNKNOWN_INTERFACE
#define NO_OBJECT    DBUS_ERROR_UNKNOWN_METHOD, DBUS_ERROR_UNKNOWN_OBJECT
#define NO_PROPERTY  INVALID, DBUS_ERROR_UNKNOWN_PROPERTY
#define NO_PROPS_OF  INVALID, DBUS_ERROR_UNKNOWN_INTERFACE
#define READ_ONLY    INVALID, DBUS_ERROR_PROPERTY_READ_ONLY

static void
append_outcome (GString *text,
                GDBusConnection *connection,
                const char *path,
                const char *iface,
                const char *method,
                GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = harness_call (connection, path, iface, method, parameters, &error);
  g_autofree char *printed = reply != NULL ? g_variant_print (reply, TRUE) : probe_outcome (error);

  g_string_append_printf (text, "%s %s.%s: %s\n", path ? path : "manager", iface, method, printed);
}

/* Everything a client can read of the service, as one text: whatever a bad call might
 * have changed shows up as a difference. */
static char *
describe_service (GDBusConnection *connection)
{
  g_autoptr (GVariant) profiles =
      harness_get_property (connection, NULL, MANAGER_IFACE, "Profiles");
  GString *text = g_string_new (NULL);
  const char *name;
  GVariantIter iter;

  append_outcome (text, connection, NULL, PROPS_IFACE, "GetAll",
                  g_variant_new ("(s)", MANAGER_IFACE));
  g_variant_iter_init (&iter, profiles);
  while (g_variant_iter_next (&iter, "&s", &name))
    {
      g_autofree char *path = harness_profile_path (name);

      append_outcome (text, connection, path, PROPS_IFACE, "GetAll",
                      g_variant_new ("(s)", MGR_IFACE));
      append_outcome (text, connection, path, PROPS_IFACE, "GetAll",
                      g_variant_new ("(s)", EMU_IFACE));
      /* An armed Emulation.FailNext would show here. */
      append_outcome (text, connection, path, MGR_IFACE, "GetCurrentState", NULL);
      append_outcome (text, connection, path, MGR_IFACE, "GetCapabilities", NULL);
    }
  return g_string_free (text, FALSE);
}

/* Some state worth keeping: a second profile, advises on both, a transition done. */
static void
populate (Harness *h)
{
  g_autofree char *path = default_path ();
  g_autofree char *other =
      harness_create_profile (h, "other", MAPIOFFLINE_CAPABILITY_OFFLINE, OFFLINE);

  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  harness_advise (h->client, other, 2, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  set_state_ok (h->client, path, BLOCK, OFFLINE);
}

typedef struct
{
  const char *path; /* NULL: the manager */
  const char *iface;
  const char *method;
  const char *parameters; /* GVariant text; NULL: none */
  const char *error_name;
  const char *or_name; /* what newer GLib answers instead, where it names the missing part */
} BadCall;

static const BadCall bad_calls[] = {
  /* The wrong signature */
  { PROFILE, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 3)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", "('0', '3', '1')", INVALID, NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 3, uint32 1, uint32 1)", INVALID,
    NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", "(int32 0, int32 3, int32 1)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", NULL, INVALID, NULL },
  { PROFILE, MGR_IFACE, "Advise", "(uint32 0, uint32 1, uint32 0, '/', uint32 1, uint32 3)",
    INVALID, NULL },
  { PROFILE, MGR_IFACE, "Advise", "(uint32 0, uint32 1, uint32 0, objectpath '/', uint32 1)",
    INVALID, NULL },
  { PROFILE, MGR_IFACE, "Unadvise", "(uint64 0, uint64 1)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "GetCurrentState", "(uint32 1,)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "GetCapabilities", "(@au [1],)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('x', int32 3, int32 2)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "OpenOfflineObject", "(objectpath '/default', '')", INVALID, NULL },
  { NULL, MANAGER_IFACE, "RemoveOfflineObject", "(<'default'>,)", INVALID, NULL },
  { PROFILE, EMU_IFACE, "FailNext", "('SetCurrentState', 'org.example.Error')", INVALID, NULL },
  { PROFILE, EMU_IFACE, "SetTransitionDelay", "(uint64 10,)", INVALID, NULL },
  /* Unknown members, interfaces, objects */
  { PROFILE, MGR_IFACE, "Frobnicate", NULL, NO_METHOD },
  { PROFILE, MGR_IFACE, "Notify", "(uint32 1, uint32 1, uint32 3, uint32 2, uint32 1, uint64 1)",
    NO_METHOD },
  { PROFILE, OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE, "Notify",
    "(uint32 1, uint32 1, uint32 3, uint32 2, uint32 1, uint64 1)", NO_INTERFACE },
  { PROFILE, "org.example.Nothing", "GetCurrentState", NULL, NO_INTERFACE },
  { PROFILE, MANAGER_IFACE, "RemoveOfflineObject", "('default',)", NO_INTERFACE },
  { NULL, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 3, uint32 2)", NO_INTERFACE },
  { OFFLINE_STATE_PROFILES_PATH "/nobody", MGR_IFACE, "GetCurrentState", NULL, NO_OBJECT },
  { OFFLINE_STATE_PROFILES_PATH, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 3, uint32 2)",
    NO_OBJECT },
  { "/", MANAGER_IFACE, "RemoveOfflineObject", "('default',)", NO_OBJECT },
  /* Properties */
  { PROFILE, PROPS_IFACE, "Get", "('" MGR_IFACE "', 'Nope')", NO_PROPERTY },
  { PROFILE, PROPS_IFACE, "Get", "('org.example.Nothing', 'State')", NO_PROPS_OF },
  { PROFILE, PROPS_IFACE, "Get", "(uint32 1, uint32 2)", NO_METHOD },
  { PROFILE, PROPS_IFACE, "GetAll", "('org.example.Nothing',)", NO_PROPS_OF },
  { PROFILE, PROPS_IFACE, "Set", "('" MGR_IFACE "', 'State', <uint32 1>)", READ_ONLY },
  { PROFILE, PROPS_IFACE, "Set", "('" MGR_IFACE "', 'State', <'offline'>)", READ_ONLY },
  { PROFILE, PROPS_IFACE, "Set", "('" MGR_IFACE "', 'Sequence', <uint64 99>)", READ_ONLY },
  { PROFILE, PROPS_IFACE, "Set", "('" MGR_IFACE "', 'AdviseCount', <uint32 0>)", READ_ONLY },
  { PROFILE, PROPS_IFACE, "Set", "('" EMU_IFACE "', 'TransitionDelay', <uint32 5>)", READ_ONLY },
  { NULL, PROPS_IFACE, "Set", "('" MANAGER_IFACE "', 'NotifyTimeout', <uint32 1>)", READ_ONLY },
  { NULL, PROPS_IFACE, "Set", "('" MANAGER_IFACE "', 'Profiles', <@as []>)", READ_ONLY },
  /* Well typed, outside what the contract allows */
  { PROFILE, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 0xffffffff, uint32 1)", INVALID,
    NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", "(uint32 0xffffffff, uint32 3, uint32 2)", INVALID,
    NULL },
  { PROFILE, MGR_IFACE, "SetCurrentState", "(uint32 0, uint32 3, uint32 0xffffffff)", INVALID,
    NULL },
  { PROFILE, MGR_IFACE, "Advise",
    "(uint32 0, uint32 1, uint32 0xffffffff, objectpath '/', uint32 1, uint32 3)",
    OFFLINE_STATE_ERROR_NO_INTERFACE, NULL },
  { PROFILE, MGR_IFACE, "Advise",
    "(uint32 0, uint32 1, uint32 0, objectpath '/', uint32 1, uint32 0xffffffff)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "Advise",
    "(uint32 0xffffffff, uint32 1, uint32 0, objectpath '/', uint32 1, uint32 3)", INVALID, NULL },
  { PROFILE, MGR_IFACE, "Unadvise", "(uint32 0xffffffff, uint32 1)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('x', uint32 0xffffffff, uint32 2)", INVALID,
    NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('x', uint32 3, uint32 0)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('', uint32 3, uint32 2)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('a\\nb', uint32 3, uint32 2)", INVALID, NULL },
  { NULL, MANAGER_IFACE, "CreateOfflineObject", "('default', uint32 3, uint32 2)",
    OFFLINE_STATE_ERROR_EXISTS, NULL },
  { NULL, MANAGER_IFACE, "OpenOfflineObject",
    "('default', '{FBEFFD93-B11F-4094-842B-96DCD31E63D}')", INVALID, NULL },
  { NULL, MANAGER_IFACE, "OpenOfflineObject", "('default', '00000000-0000-0000-0000-000000000000')",
    OFFLINE_STATE_ERROR_NOT_FOUND, NULL },
  { NULL, MANAGER_IFACE, "OpenOfflineObject", "('nobody', '')", OFFLINE_STATE_ERROR_NOT_FOUND,
    NULL },
  { NULL, MANAGER_IFACE, "RemoveOfflineObject", "('nobody',)", OFFLINE_STATE_ERROR_NOT_FOUND,
    NULL },
  { PROFILE, EMU_IFACE, "SetTransitionDelay", "(uint32 600001,)", INVALID, NULL },
  { PROFILE, EMU_IFACE, "SetCapabilities", "(uint32 4,)", INVALID, NULL },
  { PROFILE, EMU_IFACE, "FailNext", "('Frobnicate', 'org.example.Error', uint32 1)", INVALID,
    NULL },
  { PROFILE, EMU_IFACE, "FailNext", "('Advise', 'not an error name', uint32 1)", INVALID, NULL },
  { PROFILE, EMU_IFACE, "FailNext", "('Advise', '', uint32 1)", INVALID, NULL },
};

static void
test_bad_calls (Harness *h, gconstpointer data)
{
  g_autoptr (GString) wrong = g_string_new (NULL);
  g_autofree char *before = NULL, *after = NULL;

  populate (h);
  before = describe_service (h->client);
  for (guint i = 0; i < G_N_ELEMENTS (bad_calls); i++)
    {
      const BadCall *bad = &bad_calls[i];
      GVariant *parameters = bad->parameters ? g_variant_new_parsed (bad->parameters) : NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply =
          harness_call (h->client, bad->path, bad->iface, bad->method, parameters, &error);
      g_autofree char *outcome = probe_outcome (error);

      g_test_message ("%s.%s%s: %s", bad->iface, bad->method,
                      bad->parameters ? bad->parameters : "()", outcome);
      if (g_strcmp0 (outcome, bad->error_name) != 0 && g_strcmp0 (outcome, bad->or_name) != 0)
        g_string_append_printf (wrong, "\n  %s %s.%s%s: %s, not %s", bad->path ? bad->path : "/",
                                bad->iface, bad->method, bad->parameters ? bad->parameters : "()",
                                outcome, bad->error_name);
    }
  after = describe_service (h->client);
  g_assert_cmpstr (after, ==, before);
  if (wrong->len > 0)
    g_error ("calls answered otherwise than expected:%s", wrong->str);
}

static void
assert_refused (GDBusConnection *connection,
                const char *path,
                const char *iface,
                const char *method,
                GVariant *parameters,
                const char *error_name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint64 start = g_get_monotonic_time ();

  reply = harness_call (connection, path, iface, method, parameters, &error);
  g_test_message ("%s with 1 MiB: %.100s... in %.1f ms", method, error ? error->message : "success",
                  (g_get_monotonic_time () - start) / 1000.0);
  harness_assert_dbus_error (error, error_name, NULL);
}

static void
test_huge_strings (Harness *h, gconstpointer data)
{
  g_autofree char *huge = g_strnfill (HUGE_LENGTH, 'a');
  g_autofree char *huge_path = g_strconcat ("/", huge, NULL);
  g_autofree char *before = NULL, *after = NULL;
  ProbeFigures start, end;

  populate (h);
  before = describe_service (h->client);
  probe_read (h->daemon, &start);
  assert_refused (h->client, NULL, MANAGER_IFACE, "CreateOfflineObject",
                  g_variant_new ("(suu)", huge, 3, ONLINE), INVALID);
  assert_refused (h->client, NULL, MANAGER_IFACE, "OpenOfflineObject",
                  g_variant_new ("(ss)", huge, ""), INVALID);
  assert_refused (h->client, NULL, MANAGER_IFACE, "OpenOfflineObject",
                  g_variant_new ("(ss)", OFFLINE_STATE_DEFAULT_PROFILE, huge), INVALID);
  assert_refused (h->client, NULL, MANAGER_IFACE, "RemoveOfflineObject",
                  g_variant_new ("(s)", huge), INVALID);
  assert_refused (h->client, PROFILE, EMU_IFACE, "FailNext",
                  g_variant_new ("(ssu)", huge, "org.example.Error", 1), INVALID);
  assert_refused (h->client, PROFILE, EMU_IFACE, "FailNext",
                  g_variant_new ("(ssu)", "Advise", huge, 1), INVALID);
  assert_refused (h->client, PROFILE, PROPS_IFACE, "Get", g_variant_new ("(ss)", MGR_IFACE, huge),
                  INVALID);
  assert_refused (h->client, huge_path, MGR_IFACE, "GetCurrentState", NULL,
                  DBUS_ERROR_UNKNOWN_METHOD);
  after = describe_service (h->client);
  g_assert_cmpstr (after, ==, before);
  probe_read (h->daemon, &end);
  probe_message ("before the 1 MiB arguments", &start);
  probe_message ("after", &end);
  g_assert_cmpuint (end.n_fds, ==, start.n_fds);
}

/* Messages that g_dbus_connection_call() would not build */

static GDBusMessage *
profile_call (const char *iface, const char *method, GVariant *body)
{
  GDBusMessage *message =
      g_dbus_message_new_method_call (OFFLINE_STATE_BUS_NAME, PROFILE, iface, method);

  if (body != NULL)
    g_dbus_message_set_body (message, body);
  return message;
}

/* Sends @message and returns the D-Bus name of the error it got, or "ok". */
static char *
send_raw (GDBusConnection *connection, GDBusMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusMessage) reply = g_dbus_connection_send_message_with_reply_sync (
      connection, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, 30000, NULL, NULL, &error);

  g_assert_no_error (error);
  g_dbus_message_to_gerror (reply, &error);
  return probe_outcome (error);
}

static void
assert_raw_refused (GDBusConnection *connection, GDBusMessage *message, const char *error_name)
{
  g_autoptr (GDBusMessage) owned = message;
  g_autofree char *outcome = send_raw (connection, owned);

  g_assert_cmpstr (outcome, ==, error_name);
}

/* A SetCurrentState that carries a file descriptor it has no use for. */
static GDBusMessage *
set_state_with_fd (void)
{
  g_autoptr (GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr (GError) error = NULL;
  GDBusMessage *message;
  int pipe_fds[2];

  g_unix_open_pipe (pipe_fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  g_unix_fd_list_append (fds, pipe_fds[0], &error);
  g_assert_no_error (error);
  close (pipe_fds[0]);
  close (pipe_fds[1]);
  message = profile_call (MGR_IFACE, "SetCurrentState", g_variant_new ("(uuuh)", 0, 3, ONLINE, 0));
  g_dbus_message_set_unix_fd_list (message, fds);
  return message;
}

static void
test_raw_messages (Harness *h, gconstpointer data)
{
  g_autofree char *before = NULL, *after = NULL;
  ProbeFigures start, end;

  populate (h);
  before = describe_service (h->client);
  probe_read (h->daemon, &start);

  /* Bodies of the wrong types. */
  assert_raw_refused (h->client,
                      profile_call (NULL, "SetCurrentState", g_variant_new ("(uuu)", 0, 3, ONLINE)),
                      DBUS_ERROR_UNKNOWN_METHOD);
  /* Descriptors the daemon has no use for must not stay open in it. */
  for (guint i = 0; i < 50; i++)
    assert_raw_refused (h->client, set_state_with_fd (), INVALID);
  /* Nobody waits for the answer to this one. */
  {
    g_autoptr (GDBusMessage) message =
        profile_call (MGR_IFACE, "SetCurrentState", g_variant_new ("(uu)", 0, 3));
    g_autoptr (GError) error = NULL;

    g_dbus_message_set_flags (message, G_DBUS_MESSAGE_FLAGS_NO_REPLY_EXPECTED);
    g_dbus_connection_send_message (h->client, message, G_DBUS_SEND_MESSAGE_FLAGS_NONE, NULL,
                                    &error);
    g_assert_no_error (error);
  }

  after = describe_service (h->client);
  g_assert_cmpstr (after, ==, before);
  probe_read (h->daemon, &end);
  probe_message ("before the raw messages", &start);
  probe_message ("after", &end);
  g_assert_cmpuint (end.n_fds, ==, start.n_fds);
}

static char *
daemon_unique_name (GDBusConnection *connection)
{
  g_autoptr (GVariant) reply = NULL;
  char *owner;

  reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", OFFLINE_STATE_BUS_NAME), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, 30000, NULL, NULL);
  g_assert_nonnull (reply);
  g_variant_get (reply, "(s)", &owner);
  return owner;
}

/* A client that says, in the bus's words, that another client has left: the daemon must
 * believe only the bus. */
static void
test_forged_departure (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *daemon = daemon_unique_name (h->client);
  g_autoptr (GDBusConnection) victim = harness_connect (h);
  g_autoptr (GDBusConnection) forger = harness_connect (h);
  g_autoptr (HarnessRecorder) notes = harness_recorder_new_signal (victim, path);
  const char *victim_name = g_dbus_connection_get_unique_name (victim);
  const char *destinations[] = { daemon, NULL };

  harness_advise (victim, path, 7, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  for (guint i = 0; i < G_N_ELEMENTS (destinations); i++)
    {
      g_autoptr (GError) error = NULL;

      g_dbus_connection_emit_signal (forger, destinations[i], "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameOwnerChanged",
                                     g_variant_new ("(sss)", victim_name, victim_name, ""), &error);
      g_assert_no_error (error);
    }
  /* Whatever the forger sent has reached the daemon before this answer. */
  settle (forger, path);
  assert_advise_count (h->client, path, 1);
  set_state_ok (forger, path, BLOCK, OFFLINE);
  settle (victim, path);
  g_assert_cmpuint (notes->n_notes, ==, 3);
  assert_transition (notes, 0, 7, ONLINE, OFFLINE, 1);
}

/* Callbacks that are well-formed object paths but lead nowhere useful: Advise takes them
 * (any path but "/" is a callback), the first Notify fails, and they are gone, without the
 * transition waiting for them. */
static void
test_nonsense_callbacks (Harness *h, gconstpointer data)
{
  g_autofree char *path = default_path ();
  g_autofree char *huge = g_strnfill (HUGE_LENGTH, 'a');
  g_autofree char *huge_path = g_strconcat ("/", huge, NULL);
  g_autoptr (GDBusConnection) exports_nothing = harness_connect (h);
  g_autoptr (GDBusConnection) exports_other = harness_connect (h);
  g_autoptr (HarnessRecorder) steady = harness_recorder_new_signal (h->client, path);
  const char *callbacks[] = { OFFLINE_STATE_MANAGER_PATH, PROFILE, "/a/b/c" };
  HarnessPending pending;
  ProbeFigures start, end;
  gint64 begin = g_get_monotonic_time ();

  probe_read_warm (h, &start);
  harness_advise (h->client, path, 1, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  for (guint i = 0; i < G_N_ELEMENTS (callbacks); i++)
    harness_advise (exports_nothing, path, 10 + i, callbacks[i]);
  /* A path as long as a message may be is more than a connection's paths may take. */
  assert_refused (exports_nothing, path, MGR_IFACE, "Advise",
                  g_variant_new ("(uuuouu)", 0, 13, 0, huge_path, 1, 3),
                  OFFLINE_STATE_ERROR_LIMITS_EXCEEDED);
  /* The right path, the wrong interface there. */
  export_other_interface (exports_other, "/cb");
  export_wrong_notify (exports_other, "/wrong");
  harness_advise (exports_other, path, 20, "/cb");
  harness_advise (exports_other, path, 21, "/wrong");
  assert_advise_count (h->client, path, 1 + G_N_ELEMENTS (callbacks) + 2);

  harness_set_state_begin (h->client, path, BLOCK, OFFLINE, &pending);
  harness_wait_flag (&pending.done, 5000);
  g_assert_no_error (pending.error);
  g_test_message ("BLOCK answered after %.0f ms with NotifyTimeout 20000 ms",
                  (pending.time_us - begin) / 1000.0);
  harness_pending_clear (&pending);
  assert_advise_count (h->client, path, 1);
  assert_transitions_seen (steady, 1, 1);
  close_and_wait_gone (h, exports_nothing);
  close_and_wait_gone (h, exports_other);
  probe_read (h->daemon, &end);
  probe_message ("before the nonsense callbacks", &start);
  probe_message ("after", &end);
  g_assert_cmpuint (end.n_fds, ==, start.n_fds);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/hostile/malformed/bad-calls", NULL, harness_fixture_setup, test_bad_calls);
  HARNESS_ADD ("/hostile/malformed/huge-strings", NULL, harness_fixture_setup, test_huge_strings);
  HARNESS_ADD ("/hostile/malformed/raw-messages", NULL, harness_fixture_setup, test_raw_messages);
  HARNESS_ADD ("/hostile/malformed/forged-departure", NULL, harness_fixture_setup,
               test_forged_departure);
  HARNESS_ADD ("/hostile/malformed/nonsense-callbacks", NULL, setup_long_timeout,
               test_nonsense_callbacks);

  return g_test_run ();
}
