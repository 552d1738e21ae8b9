/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The argument checks of the D-Bus reference (each method's errors), with no bus: each refusal's
 * error domain, code and MAPI prefix.
 */
#include <string.h>

#include "offline-state.h"
#include "os-error.h"
#include "os-validate.h"
#include "mapi-prefixes.h"

/* Asserts that a check refused with @code and a message that starts with @prefix. */
static void
assert_refused (gboolean ok, GError *error, OsError code, const char *prefix)
{
  g_assert_false (ok);
  g_assert_error (error, OS_ERROR, (int) code);
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("message '%s' does not start with '%s'", error->message, prefix);
  g_assert_cmpuint (strlen (error->message), >, strlen (prefix));
}

static void
assert_invalid (gboolean ok, GError *error)
{
  assert_refused (ok, error, OS_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
}

static void
assert_name_ok (const char *name)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (os_validate_profile_name (name, &error));
  g_assert_no_error (error);
}

static void
assert_name_invalid (const char *name)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = os_validate_profile_name (name, &error);

  assert_invalid (ok, error);
}

static char *
repeat (char c, gsize n)
{
  char *s = g_malloc (n + 1);

  memset (s, c, n);
  s[n] = '\0';
  return s;
}

static void
test_profile_name_length (void)
{
  g_autofree char *max = repeat ('a', OS_PROFILE_NAME_MAX);
  g_autofree char *over = repeat ('a', OS_PROFILE_NAME_MAX + 1);

  g_assert_cmpuint (strlen (max), ==, 255);
  assert_name_invalid ("");
  assert_name_ok ("a");
  assert_name_ok (max);
  assert_name_invalid (over);
}

static void
test_profile_name_length_counts_bytes (void)
{
  /* 127 two-byte characters and one byte: 255 bytes; one more byte is too many. */
  g_autoptr (GString) name = g_string_new (NULL);

  for (int i = 0; i < 127; i++)
    g_string_append (name, "é");
  g_string_append_c (name, 'x');
  g_assert_cmpuint (name->len, ==, 255);
  assert_name_ok (name->str);
  g_string_append_c (name, 'y');
  assert_name_invalid (name->str);
}

static void
test_profile_name_characters (void)
{
  assert_name_ok ("default");
  assert_name_ok ("My Profile");
  assert_name_ok (" leading and trailing ");
  assert_name_ok ("Büro Ω 日本語 🙂");
  assert_name_ok ("[brackets]=#semicolon;");
  assert_name_ok ("/slashes/and.dots");

  assert_name_invalid ("a\001b");     /* U+0001 */
  assert_name_invalid ("a\177b");     /* U+007F DEL */
  assert_name_invalid ("a\302\205b"); /* U+0085 NEL, a C1 control */
  assert_name_invalid ("tab\there");
  assert_name_invalid ("new\nline");
  assert_name_invalid ("\033[31m");
  assert_name_invalid ("bad \377 utf8");
  assert_name_invalid ("truncated \303");
}

static void
test_profile_name_message (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (os_validate_profile_name ("a\302\205b", &error));
  g_assert_nonnull (strstr (error->message, "U+0085"));
}

static void
test_capabilities (void)
{
  const guint bad[] = { 4, 5, 0x80000000u, G_MAXUINT };

  for (guint caps = 0; caps <= 3; caps++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (os_validate_capabilities (caps, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_capabilities (bad[i], &error);

      assert_invalid (ok, error);
    }
}

static void
test_state (void)
{
  const guint bad[] = { 0, 3, 4, 0x80000001u, G_MAXUINT };

  g_assert_true (os_validate_state (MAPIOFFLINE_STATE_OFFLINE, NULL));
  g_assert_true (os_validate_state (MAPIOFFLINE_STATE_ONLINE, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_state (bad[i], &error);

      assert_invalid (ok, error);
    }
  g_assert_cmpstr (os_state_to_string (1), ==, "offline");
  g_assert_cmpstr (os_state_to_string (2), ==, "online");
  g_assert_cmpstr (os_state_to_string (3), ==, "invalid");
}

static void
test_guid_global_state (void)
{
  const char *good[] = {
    "",
    OFFLINE_STATE_GUID_GLOBAL_STATE,
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D1}",
    "FBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "{fbeffd93-b11f-4094-842b-96dcd31e63d1}",
    "fbeffd93-b11f-4094-842b-96dcd31e63d1",
    "{fBeFfD93-B11f-4094-842B-96dCd31E63d1}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!os_validate_guid (good[i], &error))
        g_error ("'%s' refused: %s", good[i], error->message);
    }
}

static void
test_guid_other (void)
{
  const char *other[] = {
    "{00000000-0000-0000-0000-000000000000}",
    "00000000-0000-0000-0000-000000000000",
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D2}",
    "fbeffd94-b11f-4094-842b-96dcd31e63d1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (other); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_guid (other[i], &error);

      assert_refused (ok, error, OS_ERROR_NOT_FOUND, PREFIX_NOT_FOUND);
    }
}

static void
test_guid_malformed (void)
{
  const char *bad[] = {
    "{",
    "}",
    "{}",
    "{FBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "FBEFFD93-B11F-4094-842B-96DCD31E63D1}",
    "{{FBEFFD93-B11F-4094-842B-96DCD31E63D1}}",
    "FBEFFD93B11F4094842B96DCD31E63D1",
    "FBEFFD93-B11F-4094-842B-96DCD31E63D",
    "FBEFFD93-B11F-4094-842B-96DCD31E63D1X",
    "GBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "FBEFFD93_B11F_4094_842B_96DCD31E63D1",
    "FBEFFD93-B11F4-094-842B-96DCD31E63D1",
    " FBEFFD93-B11F-4094-842B-96DCD31E63D1",
    "GUID_GlobalState",
    "garbage",
    "(FBEFFD93-B11F-4094-842B-96DCD31E63D1)",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_guid (bad[i], &error);

      if (ok)
        g_error ("'%s' accepted", bad[i]);
      assert_invalid (ok, error);
    }
}

static void
test_set_state (void)
{
  struct
  {
    guint flags, mask, state;
    gboolean ok;
  } cases[] = {
    { 0, 3, 1, TRUE },       { 0, 3, 2, TRUE },  { 0x2000, 3, 1, TRUE },
    { 0x2000, 3, 2, TRUE },  { 1, 3, 1, FALSE }, { 0x2001, 3, 1, FALSE },
    { 0x4000, 3, 2, FALSE }, { 0, 0, 1, FALSE }, { 0, 1, 1, FALSE },
    { 0, 2, 2, FALSE },      { 0, 7, 1, FALSE }, { 0, MAPIOFFLINE_STATE_ALL, 1, FALSE },
    { 0, 3, 0, FALSE },      { 0, 3, 3, FALSE }, { 0x2000, 3, 4, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_set_state (cases[i].flags, cases[i].mask, cases[i].state, &error);

      g_test_message ("case %u: flags 0x%X mask 0x%X state %u", i, cases[i].flags, cases[i].mask,
                      cases[i].state);
      if (cases[i].ok)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          assert_invalid (ok, error);
        }
    }
}

static void
test_advise_ok (void)
{
  const guint masks[] = { 1, 2, 3, 4, MAPIOFFLINE_STATE_ALL, 0x00200000u, 0x100u };

  for (guint i = 0; i < G_N_ELEMENTS (masks); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (os_validate_advise (0, 0, "/", 1, masks[i], &error));
      g_assert_no_error (error);
      g_assert_true (os_validate_advise (0, 0, "/org/example/Notify", 1, masks[i], &error));
      g_assert_no_error (error);
    }
}

static void
test_advise_refused (void)
{
  struct
  {
    guint flags, callback_type;
    const char *callback;
    guint advise_types, state_mask;
  } cases[] = {
    { 1, 0, "/", 1, 3 },
    { 0x2000, 0, "/", 1, 3 },
    { 0, 0, "/", 0, 3 },
    { 0, 0, "/", 2, 3 },
    { 0, 0, "/", 3, 3 },
    { 0, 0, "/", 1, 0 },
    { 0, 0, "/", 1, 0x00400000u },
    { 0, 0, "/", 1, 0x80u },
    { 0, 0, "/", 1, 0x400u },
    { 0, 0, "/", 1, G_MAXUINT },
    { 0, 0, "not a path", 1, 3 },
    { 0, 0, "/trailing/", 1, 3 },
    { 0, 0, "", 1, 3 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_advise (cases[i].flags, cases[i].callback_type, cases[i].callback,
                                        cases[i].advise_types, cases[i].state_mask, &error);

      g_test_message ("case %u", i);
      assert_invalid (ok, error);
    }
}

static void
test_advise_no_interface (void)
{
  const guint types[] = { 1, 2, G_MAXUINT };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GError) error = NULL;
      gboolean ok = os_validate_advise (0, types[i], "/", 1, 3, &error);

      assert_refused (ok, error, OS_ERROR_NO_INTERFACE, PREFIX_NOINTERFACE);
    }
}

static void
test_advise_order (void)
{
  /* Checked in the order of the arguments: the first wrong one decides the error. */
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;
  gboolean ok;

  ok = os_validate_advise (1, 1, "bad", 0, 0, &e1);
  assert_invalid (ok, e1);
  g_assert_nonnull (strstr (e1->message, "flags"));

  ok = os_validate_advise (0, 1, "bad", 0, 0, &e2);
  assert_refused (ok, e2, OS_ERROR_NO_INTERFACE, PREFIX_NOINTERFACE);

  ok = os_validate_advise (0, 0, "/", 0, 0, &e3);
  assert_invalid (ok, e3);
  g_assert_nonnull (strstr (e3->message, "advise types"));
}

static void
test_error_table (void)
{
  g_autoptr (GError) pending = NULL;
  g_autoptr (GError) exists = NULL;
  g_autoptr (GError) limits = NULL;

  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_INVALID_ARGS), ==,
                   "org.freedesktop.DBus.Error.InvalidArgs");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_PENDING), ==,
                   "org.offlinestate.OfflineState1.Error.Pending");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_NOT_FOUND), ==,
                   "org.offlinestate.OfflineState1.Error.NotFound");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_NO_INTERFACE), ==,
                   "org.offlinestate.OfflineState1.Error.NoInterface");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_EXISTS), ==,
                   "org.offlinestate.OfflineState1.Error.Exists");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_LIMITS_EXCEEDED), ==,
                   "org.freedesktop.DBus.Error.LimitsExceeded");
  g_assert_cmpstr (os_error_dbus_name (OS_ERROR_ACCESS_DENIED), ==,
                   "org.freedesktop.DBus.Error.AccessDenied");

  os_set_error (&pending, OS_ERROR_PENDING, "profile '%s' is busy", "default");
  g_assert_error (pending, OS_ERROR, OS_ERROR_PENDING);
  g_assert_cmpstr (pending->message, ==, "E_PENDING (0x8000000A): profile 'default' is busy");

  os_set_error (&exists, OS_ERROR_EXISTS, "profile '%s' exists", "x");
  g_assert_cmpstr (exists->message, ==, "profile 'x' exists");
  os_set_error (&limits, OS_ERROR_LIMITS_EXCEEDED, "%u", 7u);
  g_assert_cmpstr (limits->message, ==, "7");
}

static void
test_error_dbus_mapping (void)
{
  /* The service's own names cross the bus as OS_ERROR, and back, once the domain is
   * registered (by its first use). */
  GQuark domain = OS_ERROR;
  g_autoptr (GError) error =
      g_dbus_error_new_for_dbus_error (OFFLINE_STATE_ERROR_PENDING, "E_PENDING (0x8000000A): busy");
  g_autofree char *name = NULL;

  g_assert_cmpuint (domain, !=, 0);
  g_assert_error (error, OS_ERROR, OS_ERROR_PENDING);
  name = g_dbus_error_get_remote_error (error);
  g_assert_cmpstr (name, ==, OFFLINE_STATE_ERROR_PENDING);
  g_dbus_error_strip_remote_error (error);
  g_assert_cmpstr (error->message, ==, "E_PENDING (0x8000000A): busy");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/validate/profile-name/length", test_profile_name_length);
  g_test_add_func ("/validate/profile-name/length-counts-bytes",
                   test_profile_name_length_counts_bytes);
  g_test_add_func ("/validate/profile-name/characters", test_profile_name_characters);
  g_test_add_func ("/validate/profile-name/message", test_profile_name_message);
  g_test_add_func ("/validate/capabilities", test_capabilities);
  g_test_add_func ("/validate/state", test_state);
  g_test_add_func ("/validate/guid/global-state", test_guid_global_state);
  g_test_add_func ("/validate/guid/other", test_guid_other);
  g_test_add_func ("/validate/guid/malformed", test_guid_malformed);
  g_test_add_func ("/validate/set-state", test_set_state);
  g_test_add_func ("/validate/advise/ok", test_advise_ok);
  g_test_add_func ("/validate/advise/refused", test_advise_refused);
  g_test_add_func ("/validate/advise/no-interface", test_advise_no_interface);
  g_test_add_func ("/validate/advise/order", test_advise_order);
  g_test_add_func ("/validate/error/table", test_error_table);
  g_test_add_func ("/validate/error/dbus-mapping", test_error_dbus_mapping);

  return g_test_run ();
}
