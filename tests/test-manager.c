/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The Manager interface (the Manager reference) and the ObjectManager: a fresh start,
 * OpenOfflineObject, CreateOfflineObject, RemoveOfflineObject and --no-emulation, against the real
 * daemon on a private bus: a fresh bus, state folder and daemon for each case. Persistence
 * (docs/daemon.md) is in test-persistence.c.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "harness.h"
#include "mapi-prefixes.h"

#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"
#define INTROSPECTABLE_INTERFACE "org.freedesktop.DBus.Introspectable"
#define UNKNOWN_METHOD_ERROR     "org.freedesktop.DBus.Error.UnknownMethod"
#define DEFAULT_PATH             OFFLINE_STATE_PROFILES_PATH "/default"

#define WAIT_MS 10000

static const char *const only_default[] = { "default", NULL };

/* Calls. */

/* Asserts that @error (taken) is the D-Bus error @dbus_name, its message starting with
 * @prefix (may be NULL). */
static void
expect_error (GError *error, const char *dbus_name, const char *prefix)
{
  harness_assert_dbus_error (error, dbus_name, prefix);
  g_error_free (error);
}

static void
expect_invalid (GError *error)
{
  expect_error (error, OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
}

static void
expect_not_found (GError *error)
{
  expect_error (error, OFFLINE_STATE_ERROR_NOT_FOUND, PREFIX_NOT_FOUND);
}

static GError *
manager_harness_call_fails (Harness *h, const char *method, GVariant *parameters)
{
  return harness_call_fails (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, method, parameters);
}

static GError *
create_error (Harness *h, const char *name, guint capabilities, guint initial_state)
{
  return manager_harness_call_fails (h, "CreateOfflineObject",
                                     g_variant_new ("(suu)", name, capabilities, initial_state));
}

static char *
open_profile (Harness *h, const char *name, const char *guid)
{
  g_autoptr (GVariant) reply = NULL;
  char *path;

  reply = harness_manager_call_ok (h, "OpenOfflineObject", g_variant_new ("(ss)", name, guid));
  g_variant_get (reply, "(o)", &path);
  return path;
}

static GError *
open_error (Harness *h, const char *name, const char *guid)
{
  return manager_harness_call_fails (h, "OpenOfflineObject", g_variant_new ("(ss)", name, guid));
}

static GError *
remove_error (Harness *h, const char *name)
{
  return manager_harness_call_fails (h, "RemoveOfflineObject", g_variant_new ("(s)", name));
}

/* Properties. */

static GVariant *
get_managed_objects (Harness *h)
{
  g_autoptr (GVariant) reply =
      harness_call_ok (h->client, NULL, OBJECT_MANAGER_INTERFACE, "GetManagedObjects", NULL);

  return g_variant_get_child_value (reply, 0);
}

/* Signals: every emission of one member at one path that reaches a connection. */

typedef struct
{
  GDBusConnection *connection;
  guint subscription_id;
  GPtrArray *parameters; /* GVariant */
  guint count;
} SignalLog;

static void
on_signal (GVariant *parameters, gpointer user_data)
{
  SignalLog *log = user_data;

  g_ptr_array_add (log->parameters, g_variant_ref (parameters));
  log->count = log->parameters->len;
}

/* A method call to the bus: it answers after it has handled the connection's AddMatch,
 * so no signal emitted after this returns can be missed. */
static void
sync_with_bus (GDBusConnection *connection)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) error = NULL;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetId", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
}

static SignalLog *
signal_log_new (GDBusConnection *connection,
                const char *path,
                const char *interface,
                const char *member)
{
  SignalLog *log = g_new0 (SignalLog, 1);

  log->connection = g_object_ref (connection);
  log->parameters = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  log->subscription_id = harness_subscribe (connection, path, interface, member, on_signal, log);
  sync_with_bus (connection);
  return log;
}

static void
signal_log_free (SignalLog *log)
{
  g_dbus_connection_signal_unsubscribe (log->connection, log->subscription_id);
  g_ptr_array_unref (log->parameters);
  g_object_unref (log->connection);
  g_free (log);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignalLog, signal_log_free)

/* Waits for the emission number @index (from 0) and returns its parameters. */
static GVariant *
signal_log_wait (SignalLog *log, guint index)
{
  harness_wait_count (&log->count, index + 1, WAIT_MS);
  return g_ptr_array_index (log->parameters, index);
}

/* Waits until the profile at @path has Transitioning false. */
static void
wait_transition_end (Harness *h, const char *path)
{
  g_autoptr (SignalLog) log =
      signal_log_new (h->client, path, PROPERTIES_INTERFACE, "PropertiesChanged");
  guint seen = 0;

  while (harness_get_transitioning (h->client, path))
    {
      harness_wait_count (&log->count, seen + 1, WAIT_MS);
      seen = log->count;
    }
}

/* 1. A fresh start. */

static void
test_fresh_start (Harness *h, gconstpointer data)
{
  g_autoptr (GVariant) version = NULL;
  g_autoptr (GVariant) timeout = NULL;

  harness_assert_profiles (h, only_default);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
  g_assert_cmpuint (harness_get_uint (h->client, DEFAULT_PATH, "AdviseCount"), ==, 0);

  version = harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "Version");
  g_assert_cmpstr (g_variant_get_type_string (version), ==, "s");
  g_assert_cmpstr (g_variant_get_string (version, NULL), !=, "");
  timeout =
      harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "NotifyTimeout");
  g_assert_cmpuint (g_variant_get_uint32 (timeout), ==, 5000);
}

static const char *const args_notify_timeout[] = { "--notify-timeout=1234", NULL };

static void
test_notify_timeout_option (Harness *h, gconstpointer data)
{
  g_autoptr (GVariant) timeout =
      harness_get_property (h->client, NULL, OFFLINE_STATE_MANAGER_INTERFACE, "NotifyTimeout");

  g_assert_cmpuint (g_variant_get_uint32 (timeout), ==, 1234);
}

/* 2. OpenOfflineObject. */

static void
test_open_global_state (Harness *h, gconstpointer data)
{
  static const char *const guids[] = {
    "",
    OFFLINE_STATE_GUID_GLOBAL_STATE,
    "FBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "{fbeffd93-b11f-4094-842b-96dcd31e63d1}",
    "fbeffd93-b11f-4094-842b-96dcd31e63d1",
    "{FbEfFd93-B11f-4094-842b-96Dcd31E63d1}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (guids); i++)
    {
      g_autofree char *path = open_profile (h, "default", guids[i]);

      g_assert_cmpstr (path, ==, DEFAULT_PATH);
    }
}

static void
test_open_errors (Harness *h, gconstpointer data)
{
  static const char *const malformed[] = {
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "FBEFFD93-B11F-4094-842B-96DCD31E63D1}",
    "xyz",
    "FBEFFD93B11F4094842B96DCD31E63D1",
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D}",
    "{GBEFFD93-B11F-4094-842B-96DCD31E63D1}",
    "{}",
  };

  expect_not_found (open_error (h, "default", "{00000000-0000-0000-0000-000000000000}"));
  expect_not_found (open_error (h, "default", "FBEFFD93-B11F-4094-842B-96DCD31E63D2"));

  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    expect_invalid (open_error (h, "default", malformed[i]));

  expect_not_found (open_error (h, "nobody", ""));
  expect_not_found (open_error (h, "nobody", OFFLINE_STATE_GUID_GLOBAL_STATE));
  /* Profile names compare exactly. */
  expect_not_found (open_error (h, "Default", ""));
  expect_invalid (open_error (h, "", ""));
  /* The GUID is checked first (the XML's order). */
  expect_invalid (open_error (h, "nobody", "xyz"));
}

/* 3. CreateOfflineObject. */

static const char *const escaped_names[] = { "Work mail", "ünïcödé ✓", "a/b.c-d", "_x" };

static void
test_create_escaped_names (Harness *h, gconstpointer data)
{
  static const char *const sorted[] = {
    "Work mail", "_x", "a/b.c-d", "default", "ünïcödé ✓", NULL,
  };

  for (guint i = 0; i < G_N_ELEMENTS (escaped_names); i++)
    {
      const char *name = escaped_names[i];
      guint capabilities = i % 4,
            state = i % 2 ? MAPIOFFLINE_STATE_OFFLINE : MAPIOFFLINE_STATE_ONLINE;
      g_autofree char *expected = harness_profile_path (name);
      g_autofree char *path = harness_create_profile (h, name, capabilities, state);
      g_autofree char *opened = NULL;

      g_assert_cmpstr (path, ==, expected);
      harness_assert_profile (h, name, state, capabilities, 0);
      g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 0);
      opened = open_profile (h, name, "");
      g_assert_cmpstr (opened, ==, path);
    }
  harness_assert_profiles (h, sorted);
}

/* The ObjectManager's entry for @path: both interfaces with their properties. */
static void
assert_managed_object (
    GVariant *objects, const char *name, guint state, guint capabilities, gboolean emulation)
{
  g_autofree char *path = harness_profile_path (name);
  g_autoptr (GVariant) interfaces = g_variant_lookup_value (objects, path, NULL);
  g_autoptr (GVariant) mgr = NULL;
  g_autoptr (GVariant) emu = NULL;
  const char *profile_name;
  guint32 value;
  guint64 sequence;
  gboolean transitioning;

  g_assert_nonnull (interfaces);
  g_assert_cmpuint (g_variant_n_children (interfaces), ==, emulation ? 2 : 1);
  mgr = g_variant_lookup_value (interfaces, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, NULL);
  g_assert_nonnull (mgr);
  g_assert_true (g_variant_lookup (mgr, "ProfileName", "&s", &profile_name));
  g_assert_cmpstr (profile_name, ==, name);
  g_assert_true (g_variant_lookup (mgr, "State", "u", &value));
  g_assert_cmpuint (value, ==, state);
  g_assert_true (g_variant_lookup (mgr, "Capabilities", "u", &value));
  g_assert_cmpuint (value, ==, capabilities);
  g_assert_true (g_variant_lookup (mgr, "AdviseCount", "u", &value));
  g_assert_cmpuint (value, ==, 0);
  g_assert_true (g_variant_lookup (mgr, "Sequence", "t", &sequence));
  g_assert_cmpuint (sequence, ==, 0);
  g_assert_true (g_variant_lookup (mgr, "Transitioning", "b", &transitioning));
  g_assert_false (transitioning);

  emu = g_variant_lookup_value (interfaces, OFFLINE_STATE_EMULATION_INTERFACE, NULL);
  if (!emulation)
    {
      g_assert_null (emu);
      return;
    }
  g_assert_nonnull (emu);
  g_assert_true (g_variant_lookup (emu, "TransitionDelay", "u", &value));
  g_assert_cmpuint (value, ==, 0);
}

static void
test_create_object_manager (Harness *h, gconstpointer data)
{
  g_autoptr (GVariant) before = get_managed_objects (h);
  g_autoptr (GVariant) after = NULL;

  g_assert_cmpuint (g_variant_n_children (before), ==, 1);
  assert_managed_object (before, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (escaped_names); i++)
    g_free (harness_create_profile (h, escaped_names[i], i % 4, i % 2 + 1));
  after = get_managed_objects (h);
  g_assert_cmpuint (g_variant_n_children (after), ==, 1 + G_N_ELEMENTS (escaped_names));
  assert_managed_object (after, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (escaped_names); i++)
    assert_managed_object (after, escaped_names[i], i % 2 + 1, i % 4, TRUE);
}

static void
assert_profiles_changed (GVariant *parameters, const char *const *expected)
{
  const char *interface;
  g_autoptr (GVariant) changed = NULL;
  g_autoptr (GVariant) profiles = NULL;
  g_autofree const char **names = NULL;
  g_autofree const char **invalidated = NULL;

  g_variant_get (parameters, "(&s@a{sv}^a&s)", &interface, &changed, &invalidated);
  g_assert_cmpstr (interface, ==, OFFLINE_STATE_MANAGER_INTERFACE);
  g_assert_cmpuint (g_variant_n_children (changed), ==, 1);
  profiles = g_variant_lookup_value (changed, "Profiles", G_VARIANT_TYPE_STRING_ARRAY);
  g_assert_nonnull (profiles);
  names = g_variant_get_strv (profiles, NULL);
  g_assert_cmpstrv (names, expected);
  g_assert_cmpstrv (invalidated, (const char *const[]){ NULL });
}

static void
test_create_remove_signals (Harness *h, gconstpointer data)
{
  static const char *const with_new[] = { "Work mail", "default", NULL };
  g_autoptr (GDBusConnection) watcher = harness_connect (h);
  g_autoptr (SignalLog) added = signal_log_new (watcher, OFFLINE_STATE_MANAGER_PATH,
                                                OBJECT_MANAGER_INTERFACE, "InterfacesAdded");
  g_autoptr (SignalLog) removed = signal_log_new (watcher, OFFLINE_STATE_MANAGER_PATH,
                                                  OBJECT_MANAGER_INTERFACE, "InterfacesRemoved");
  g_autoptr (SignalLog) changed = signal_log_new (watcher, OFFLINE_STATE_MANAGER_PATH,
                                                  PROPERTIES_INTERFACE, "PropertiesChanged");
  g_autofree char *path = harness_create_profile (h, "Work mail", 0x2, MAPIOFFLINE_STATE_OFFLINE);
  g_autoptr (GVariant) interfaces = NULL;
  g_autofree const char **gone = NULL;
  const char *object;
  GVariant *parameters;

  parameters = signal_log_wait (added, 0);
  g_variant_get (parameters, "(&o@a{sa{sv}})", &object, &interfaces);
  g_assert_cmpstr (object, ==, path);
  g_assert_cmpuint (g_variant_n_children (interfaces), ==, 2);
  {
    g_autoptr (GVariant) objects =
        g_variant_ref_sink (g_variant_new_parsed ("{%o: %@a{sa{sv}}}", path, interfaces));

    assert_managed_object (objects, "Work mail", MAPIOFFLINE_STATE_OFFLINE, 0x2, TRUE);
  }
  assert_profiles_changed (signal_log_wait (changed, 0), with_new);

  harness_remove_profile (h, "Work mail");
  parameters = signal_log_wait (removed, 0);
  g_variant_get (parameters, "(&o^a&s)", &object, &gone);
  g_assert_cmpstr (object, ==, path);
  g_assert_cmpuint (g_strv_length ((char **) gone), ==, 2);
  g_assert_true (g_strv_contains (gone, OFFLINE_STATE_OFFLINE_MGR_INTERFACE));
  g_assert_true (g_strv_contains (gone, OFFLINE_STATE_EMULATION_INTERFACE));
  assert_profiles_changed (signal_log_wait (changed, 1), only_default);

  /* Nothing more: one emission each. */
  sync_with_bus (watcher);
  harness_assert_profiles (h, only_default);
  g_assert_cmpuint (added->count, ==, 1);
  g_assert_cmpuint (removed->count, ==, 1);
}

/* After a refused call: the profiles and objects are as before. */
static void
assert_nothing_changed (Harness *h, const char *const *profiles)
{
  g_autoptr (GVariant) objects = get_managed_objects (h);

  harness_assert_profiles (h, profiles);
  g_assert_cmpuint (g_variant_n_children (objects), ==, g_strv_length ((char **) profiles));
}

/* Exists and LimitsExceeded have no MAPI code: their messages are plain words. */
static void
assert_plain_words (const GError *error, const char *mentions)
{
  g_autoptr (GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  g_assert_null (strstr (copy->message, "(0x"));
  g_assert_false (g_str_has_prefix (copy->message, "E_"));
  g_assert_false (g_str_has_prefix (copy->message, "MAPI_E_"));
  if (strstr (copy->message, mentions) == NULL)
    g_error ("error message '%s' does not mention '%s'", copy->message, mentions);
}

static void
test_create_errors (Harness *h, gconstpointer data)
{
  static const struct
  {
    const char *name;
    guint capabilities;
    guint initial_state;
  } invalid[] = {
    { "new", 4, MAPIOFFLINE_STATE_ONLINE },
    { "new", 0x7, MAPIOFFLINE_STATE_ONLINE },
    { "new", 0xffffffff, MAPIOFFLINE_STATE_ONLINE },
    { "new", 0x3, 0 },
    { "new", 0x3, 3 },
    { "new", 0x3, MAPIOFFLINE_STATE_ALL },
    { "", 0x3, MAPIOFFLINE_STATE_ONLINE },
    { "a\tb", 0x3, MAPIOFFLINE_STATE_ONLINE },
    { "\xc2\x85", 0x3, MAPIOFFLINE_STATE_ONLINE }, /* U+0085, a C1 control */
    { "new\n", 0x3, MAPIOFFLINE_STATE_ONLINE },    /* a C0 control at the end */
    { "del\x7f", 0x3, MAPIOFFLINE_STATE_ONLINE },  /* U+007F */
    /* an invalid value wins over an existing name: nothing about "default" changes */
    { "default", 4, MAPIOFFLINE_STATE_ONLINE },
  };
  GError *error;

  error = create_error (h, "default", 0x1, MAPIOFFLINE_STATE_OFFLINE);
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_EXISTS, NULL);
  assert_plain_words (error, "default");
  g_clear_error (&error);
  assert_nothing_changed (h, only_default);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      expect_invalid (
          create_error (h, invalid[i].name, invalid[i].capabilities, invalid[i].initial_state));
      assert_nothing_changed (h, only_default);
    }
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
}

static char *
repeat (const char *unit, guint times)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < times; i++)
    g_string_append (s, unit);
  return g_string_free (s, FALSE);
}

static void
test_create_name_length (Harness *h, gconstpointer data)
{
  g_autofree char *ascii_255 = repeat ("n", 255);
  g_autofree char *ascii_256 = repeat ("n", 256);
  g_autofree char *two_byte_254 = repeat ("é", 127);
  g_autofree char *utf8_255 = g_strconcat (two_byte_254, "x", NULL);
  g_autofree char *utf8_256 = repeat ("é", 128); /* 128 characters, 256 bytes */
  const char *const expected[] = { "default", ascii_255, utf8_255, NULL };
  g_autofree char *path = NULL;

  g_assert_cmpuint (strlen (utf8_255), ==, 255);
  expect_invalid (create_error (h, ascii_256, 0x3, MAPIOFFLINE_STATE_ONLINE));
  expect_invalid (create_error (h, utf8_256, 0x3, MAPIOFFLINE_STATE_ONLINE));
  assert_nothing_changed (h, only_default);

  path = harness_create_profile (h, ascii_255, 0x3, MAPIOFFLINE_STATE_ONLINE);
  harness_assert_profile (h, ascii_255, MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
  g_clear_pointer (&path, g_free);
  path = harness_create_profile (h, utf8_255, 0x1, MAPIOFFLINE_STATE_OFFLINE);
  harness_assert_profile (h, utf8_255, MAPIOFFLINE_STATE_OFFLINE, 0x1, 0);
  harness_assert_profiles (h, expected);

  /* Also as arguments of the other methods. */
  expect_invalid (open_error (h, ascii_256, ""));
  expect_invalid (remove_error (h, ascii_256));
  harness_assert_profiles (h, expected);
}

static const char *const args_max_profiles[] = { "--max-profiles=2", NULL };

static void
test_create_max_profiles (Harness *h, gconstpointer data)
{
  static const char *const two[] = { "default", "one", NULL };
  static const char *const other_two[] = { "default", "two", NULL };
  g_autofree char *one = harness_create_profile (h, "one", 0x3, MAPIOFFLINE_STATE_ONLINE);
  g_autofree char *two_path = NULL;
  GError *error;

  harness_assert_profiles (h, two);
  error = create_error (h, "two", 0x3, MAPIOFFLINE_STATE_ONLINE);
  harness_assert_dbus_error (error, OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, NULL);
  assert_plain_words (error, "max-profiles");
  g_clear_error (&error);
  assert_nothing_changed (h, two);

  /* Exists is told before the limit. */
  expect_error (create_error (h, "one", 0x3, MAPIOFFLINE_STATE_ONLINE), OFFLINE_STATE_ERROR_EXISTS,
                NULL);

  /* A removal makes room. */
  harness_remove_profile (h, "one");
  two_path = harness_create_profile (h, "two", 0x3, MAPIOFFLINE_STATE_ONLINE);
  assert_nothing_changed (h, other_two);
}

/* 4. RemoveOfflineObject. */

static const char *const args_one_advise[] = { "--max-advises-per-connection=1", NULL };

static void
test_remove (Harness *h, gconstpointer data)
{
  static const char *const with_gone[] = { "default", "gone", NULL };
  g_autoptr (GDBusConnection) other = harness_connect (h);
  g_autofree char *path = harness_create_profile (h, "gone", 0x3, MAPIOFFLINE_STATE_ONLINE);
  g_autofree char *again = NULL;
  GError *error;

  harness_assert_profiles (h, with_gone);
  harness_advise (other, path, 7, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  g_assert_cmpuint (harness_get_uint (h->client, path, "AdviseCount"), ==, 1);

  harness_remove_profile (h, "gone");
  assert_nothing_changed (h, only_default);
  /* GDBus answers a call on a path with no object with UnknownMethod. */
  error = harness_call_fails (h->client, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE,
                              "GetCurrentState", NULL);
  harness_assert_dbus_error (error, UNKNOWN_METHOD_ERROR, NULL);
  g_clear_error (&error);
  expect_error (
      harness_call_fails (other, path, PROPERTIES_INTERFACE, "Get",
                          g_variant_new ("(ss)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "State")),
      UNKNOWN_METHOD_ERROR, NULL);
  expect_not_found (open_error (h, "gone", ""));

  /* Its advise went with it: the other connection, allowed one advise, may advise again,
   * and a profile of the same name starts with none. */
  harness_advise (other, DEFAULT_PATH, 8, OFFLINE_STATE_SIGNAL_CALLBACK_PATH);
  again = harness_create_profile (h, "gone", 0x1, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpstr (again, ==, path);
  harness_assert_profile (h, "gone", MAPIOFFLINE_STATE_OFFLINE, 0x1, 0);
  g_assert_cmpuint (harness_get_uint (h->client, again, "AdviseCount"), ==, 0);
}

static void
test_remove_errors (Harness *h, gconstpointer data)
{

  expect_not_found (remove_error (h, "nobody"));
  expect_not_found (remove_error (h, "Default"));
  expect_invalid (remove_error (h, ""));
  expect_invalid (remove_error (h, "a\tb"));
  assert_nothing_changed (h, only_default);
}

static void
test_remove_pending (Harness *h, gconstpointer data)
{
  static const char *const with_busy[] = { "busy", "default", NULL };
  g_autofree char *path = harness_create_profile (h, "busy", 0x3, MAPIOFFLINE_STATE_ONLINE);
  g_autoptr (GError) set_error = NULL;

  harness_emulation_call_ok (h, path, "SetTransitionDelay", g_variant_new ("(u)", 500));
  set_error =
      harness_set_state (h->client, path, MAPIOFFLINE_FLAG_DEFAULT, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_no_error (set_error);
  /* The call returned once the transition started: it is still running. */
  g_assert_true (harness_get_transitioning (h->client, path));

  expect_error (remove_error (h, "busy"), OFFLINE_STATE_ERROR_PENDING, PREFIX_PENDING);
  assert_nothing_changed (h, with_busy);

  wait_transition_end (h, path);
  harness_assert_profile (h, "busy", MAPIOFFLINE_STATE_OFFLINE, 0x3, 1);
  harness_remove_profile (h, "busy");
  assert_nothing_changed (h, only_default);
}

static void
test_remove_default (Harness *h, gconstpointer data)
{
  static const char *const none[] = { NULL };
  g_autoptr (GVariant) objects = NULL;

  harness_remove_profile (h, "default");
  harness_assert_profiles (h, none);
  expect_not_found (open_error (h, "default", ""));

  /* Persisted state exists now, so the restart does not create it again. */
  harness_restart (h, data);
  objects = get_managed_objects (h);
  g_assert_cmpuint (g_variant_n_children (objects), ==, 0);
  harness_assert_profiles (h, none);
  expect_not_found (open_error (h, "default", ""));

  /* It can be created again, as any other profile. */
  g_free (harness_create_profile (h, "default", 0x1, MAPIOFFLINE_STATE_OFFLINE));
  harness_restart (h, data);
  harness_assert_profiles (h, only_default);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_OFFLINE, 0x1, 0);
}

/* 5. --no-emulation */

static const char *const args_no_emulation[] = { "--no-emulation", NULL };

static void
test_no_emulation (Harness *h, gconstpointer data)
{
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GDBusNodeInfo) node = NULL;
  g_autoptr (GVariant) objects = NULL;
  g_autoptr (GError) parse_error = NULL;
  g_autofree char *path = NULL;
  const char *xml;

  reply = harness_call_ok (h->client, DEFAULT_PATH, INTROSPECTABLE_INTERFACE, "Introspect", NULL);
  g_variant_get (reply, "(&s)", &xml);
  node = g_dbus_node_info_new_for_xml (xml, &parse_error);
  g_assert_no_error (parse_error);
  g_assert_nonnull (g_dbus_node_info_lookup_interface (node, OFFLINE_STATE_OFFLINE_MGR_INTERFACE));
  g_assert_null (g_dbus_node_info_lookup_interface (node, OFFLINE_STATE_EMULATION_INTERFACE));

  /* GDBus answers a call of an interface that the object lacks with UnknownMethod. */
  expect_error (harness_call_fails (h->client, DEFAULT_PATH, OFFLINE_STATE_EMULATION_INTERFACE,
                                    "SetTransitionDelay", g_variant_new ("(u)", 100)),
                UNKNOWN_METHOD_ERROR, NULL);
  /* ... and a property of it with InvalidArgs (GDBus's own message, no MAPI code). */
  expect_error (harness_call_fails (
                    h->client, DEFAULT_PATH, PROPERTIES_INTERFACE, "Get",
                    g_variant_new ("(ss)", OFFLINE_STATE_EMULATION_INTERFACE, "TransitionDelay")),
                OFFLINE_STATE_ERROR_INVALID_ARGS, NULL);

  /* Nor do new profiles have it. */
  path = harness_create_profile (h, "plain", 0x3, MAPIOFFLINE_STATE_ONLINE);
  expect_error (harness_call_fails (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE,
                                    "SetCapabilities", g_variant_new ("(u)", 0x1)),
                UNKNOWN_METHOD_ERROR, NULL);
  objects = get_managed_objects (h);
  assert_managed_object (objects, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, FALSE);
  assert_managed_object (objects, "plain", MAPIOFFLINE_STATE_ONLINE, 0x3, FALSE);
  harness_assert_profile (h, "plain", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/manager/fresh-start", NULL, harness_fixture_setup, test_fresh_start);
  HARNESS_ADD ("/manager/fresh-start/notify-timeout-option", args_notify_timeout,
               harness_fixture_setup, test_notify_timeout_option);
  HARNESS_ADD ("/manager/open/global-state", NULL, harness_fixture_setup, test_open_global_state);
  HARNESS_ADD ("/manager/open/errors", NULL, harness_fixture_setup, test_open_errors);
  HARNESS_ADD ("/manager/create/escaped-names", NULL, harness_fixture_setup,
               test_create_escaped_names);
  HARNESS_ADD ("/manager/create/object-manager", NULL, harness_fixture_setup,
               test_create_object_manager);
  HARNESS_ADD ("/manager/create/signals", NULL, harness_fixture_setup, test_create_remove_signals);
  HARNESS_ADD ("/manager/create/errors", NULL, harness_fixture_setup, test_create_errors);
  HARNESS_ADD ("/manager/create/name-length", NULL, harness_fixture_setup, test_create_name_length);
  HARNESS_ADD ("/manager/create/max-profiles", args_max_profiles, harness_fixture_setup,
               test_create_max_profiles);
  HARNESS_ADD ("/manager/remove/advises-and-object", args_one_advise, harness_fixture_setup,
               test_remove);
  HARNESS_ADD ("/manager/remove/errors", NULL, harness_fixture_setup, test_remove_errors);
  HARNESS_ADD ("/manager/remove/pending", NULL, harness_fixture_setup, test_remove_pending);
  HARNESS_ADD ("/manager/remove/default-stays-removed", NULL, harness_fixture_setup,
               test_remove_default);
  HARNESS_ADD ("/manager/no-emulation", args_no_emulation, harness_fixture_setup,
               test_no_emulation);

  return g_test_run ();
}
