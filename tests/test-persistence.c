/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Persistence (docs/daemon.md): a restart keeps the state, --ephemeral and
 * the default state folder, a damaged state file, and the state file itself, against the real
 * daemon on a private bus: a fresh bus, state folder and daemon for each case. The test paths stay
 * under /manager/persistence/.
 */
#include <string.h>

#include "harness.h"

#define DEFAULT_PATH OFFLINE_STATE_PROFILES_PATH "/default"
#define STATE_FILE   "state.ini"

static const char *const only_default[] = { "default", NULL };

/* Calls. */

static void
set_state_block (Harness *h, const char *path, guint state)
{
  g_autoptr (GError) error = harness_set_state (h->client, path, MAPIOFFLINE_FLAG_BLOCK, state);

  g_assert_no_error (error);
}

/* Properties. */

static guint
get_transition_delay (Harness *h, const char *path)
{
  g_autoptr (GVariant) value =
      harness_get_property (h->client, path, OFFLINE_STATE_EMULATION_INTERFACE, "TransitionDelay");

  return g_variant_get_uint32 (value);
}

/* Files. */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in a folder, sorted, NULL-terminated. */
static GStrv
list_dir (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  GPtrArray *names = g_ptr_array_new ();
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

static void
write_state_file (Harness *h, const char *contents, gssize length)
{
  g_autofree char *path = g_build_filename (h->state_dir, STATE_FILE, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);
}

/* 1. A restart keeps the state, not the emulation settings. */

static void
test_restart_keeps_state (Harness *h, gconstpointer data)
{
  static const char *const both[] = { "default", "kept", NULL };
  g_autofree char *kept = harness_create_profile (h, "kept", 0x3, MAPIOFFLINE_STATE_ONLINE);

  set_state_block (h, DEFAULT_PATH, MAPIOFFLINE_STATE_OFFLINE);
  set_state_block (h, kept, MAPIOFFLINE_STATE_OFFLINE);
  set_state_block (h, kept, MAPIOFFLINE_STATE_ONLINE);
  harness_emulation_call_ok (h, kept, "SetCapabilities", g_variant_new ("(u)", 0x1));
  harness_emulation_call_ok (h, DEFAULT_PATH, "SetTransitionDelay", g_variant_new ("(u)", 250));
  harness_emulation_call_ok (h, kept, "SetTransitionDelay", g_variant_new ("(u)", 600000));
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_OFFLINE, 0x3, 1);
  harness_assert_profile (h, "kept", MAPIOFFLINE_STATE_ONLINE, 0x1, 2);
  g_assert_cmpuint (get_transition_delay (h, DEFAULT_PATH), ==, 250);

  harness_restart (h, data);
  harness_assert_profiles (h, both);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_OFFLINE, 0x3, 1);
  harness_assert_profile (h, "kept", MAPIOFFLINE_STATE_ONLINE, 0x1, 2);
  g_assert_cmpuint (get_transition_delay (h, DEFAULT_PATH), ==, 0);
  g_assert_cmpuint (get_transition_delay (h, kept), ==, 0);

  /* The sequence goes on from where it was. */
  set_state_block (h, DEFAULT_PATH, MAPIOFFLINE_STATE_ONLINE);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 2);
  harness_restart (h, data);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 2);
  harness_assert_profile (h, "kept", MAPIOFFLINE_STATE_ONLINE, 0x1, 2);
}

/* 2. --ephemeral, and the default state folder. */

static const char *const args_ephemeral[] = { "--ephemeral", NULL };

static void
assert_dir_empty (const char *path)
{
  static const char *const none[] = { NULL };
  g_auto (GStrv) names = list_dir (path);

  g_assert_cmpstrv (names, none);
}

static void
test_ephemeral (Harness *h, gconstpointer data)
{
  static const char *const both[] = { "default", "fleeting", NULL };
  g_autofree char *path = harness_create_profile (h, "fleeting", 0x3, MAPIOFFLINE_STATE_ONLINE);

  set_state_block (h, DEFAULT_PATH, MAPIOFFLINE_STATE_OFFLINE);
  set_state_block (h, path, MAPIOFFLINE_STATE_OFFLINE);
  harness_emulation_call_ok (h, path, "SetCapabilities", g_variant_new ("(u)", 0x2));
  harness_assert_profiles (h, both);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_OFFLINE, 0x3, 1);
  assert_dir_empty (h->state_dir);

  /* Nothing was kept: a restart starts afresh, with `default` only. */
  harness_restart (h, data);
  assert_dir_empty (h->state_dir);
  harness_assert_profiles (h, only_default);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);

  harness_remove_profile (h, "default");
  harness_restart (h, data);
  assert_dir_empty (h->state_dir);
  harness_assert_profiles (h, only_default);
}

static void
test_ephemeral_with_state_dir (void)
{
  const char *const argv[] = { "--ephemeral", "--state-dir=/tmp/x", NULL };
  g_autofree char *err = NULL;

  g_assert_cmpint (harness_run_daemon_sync (argv, &err), ==, 2);
  g_assert_true (g_str_has_prefix (err, "offline-stated: "));
}

static void
test_default_state_dir (Harness *h, gconstpointer data)
{
  static const char *const both[] = { "default", "here", NULL };
  static const char *const folder[] = { "offline-state", NULL };
  /* The state file, and the lock that makes the folder one instance's. */
  static const char *const file[] = { "lock", STATE_FILE, NULL };
  g_autofree char *dir = g_build_filename (h->state_dir, "offline-state", NULL);
  g_auto (GStrv) top = NULL;
  g_auto (GStrv) inside = NULL;

  g_free (harness_create_profile (h, "here", 0x2, MAPIOFFLINE_STATE_OFFLINE));
  /* $XDG_STATE_HOME/offline-state */
  top = list_dir (h->state_dir);
  g_assert_cmpstrv (top, folder);
  inside = list_dir (dir);
  g_assert_cmpstrv (inside, file);

  harness_restart (h, data);
  harness_assert_profiles (h, both);
  harness_assert_profile (h, "here", MAPIOFFLINE_STATE_OFFLINE, 0x2, 0);
}

/* 3. A damaged state file is kept aside, and the daemon starts with the defaults. */

static void
check_damaged_start (Harness *h, const char *contents, gsize length)
{
  g_auto (GStrv) names = NULL;
  g_autofree char *kept = NULL;
  g_autofree char *kept_contents = NULL;
  gsize kept_length;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  write_state_file (h, contents, length);
  harness_start_daemon (h, NULL);

  harness_assert_profiles (h, only_default);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
  /* The folder's lock, and the damaged file kept aside. */
  names = list_dir (h->state_dir);
  g_assert_cmpuint (g_strv_length (names), ==, 2);
  g_assert_cmpstr (names[0], ==, "lock");
  g_assert_true (g_str_has_prefix (names[1], STATE_FILE ".damaged-"));
  kept = g_build_filename (h->state_dir, names[1], NULL);
  g_file_get_contents (kept, &kept_contents, &kept_length, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (kept_contents, kept_length, contents, length);

  /* The next write makes a good file again, and the damaged one stays. */
  g_free (harness_create_profile (h, "after", 0x3, MAPIOFFLINE_STATE_ONLINE));
  g_strfreev (names);
  names = list_dir (h->state_dir);
  g_assert_cmpuint (g_strv_length (names), ==, 3);
  g_assert_cmpstr (names[0], ==, "lock");
  g_assert_cmpstr (names[1], ==, STATE_FILE);
  g_assert_true (g_str_has_prefix (names[2], STATE_FILE ".damaged-"));
  harness_restart (h, NULL);
  harness_assert_profile (h, "after", MAPIOFFLINE_STATE_ONLINE, 0x3, 0);
}

static void
test_damaged_garbage (Harness *h, gconstpointer data)
{
  static const char garbage[] = "\x7f"
                                "ELF\x00\xff\xfe garbage [[[ not = a key file\n\x01\x02";

  check_damaged_start (h, garbage, sizeof garbage - 1);
}

static void
test_damaged_empty (Harness *h, gconstpointer data)
{
  /* What a crash on a file system that is not durable can leave. */
  check_damaged_start (h, "", 0);
}

/* 4. The state file after changes: written in place, no temporary file left behind. */

static void
test_state_file (Harness *h, gconstpointer data)
{
  static const char *const file[] = { "lock", STATE_FILE, NULL };
  static const char *const lock_only[] = { "lock", NULL };
  g_autofree char *state_path = g_build_filename (h->state_dir, STATE_FILE, NULL);
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;
  g_auto (GStrv) names = NULL;
  g_autoptr (GError) error = NULL;

  /* A first start with nothing to keep writes nothing but the folder's lock. */
  names = list_dir (h->state_dir);
  g_assert_cmpstrv (names, lock_only);
  g_clear_pointer (&names, g_strfreev);

  path = harness_create_profile (h, "Work mail", 0x3, MAPIOFFLINE_STATE_ONLINE);
  names = list_dir (h->state_dir);
  g_assert_cmpstrv (names, file);
  g_file_get_contents (state_path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (contents, "Work mail"));

  set_state_block (h, path, MAPIOFFLINE_STATE_OFFLINE);
  set_state_block (h, DEFAULT_PATH, MAPIOFFLINE_STATE_OFFLINE);
  harness_emulation_call_ok (h, path, "SetCapabilities", g_variant_new ("(u)", 0x2));
  g_free (harness_create_profile (h, "second", 0x3, MAPIOFFLINE_STATE_ONLINE));
  harness_remove_profile (h, "second");
  g_strfreev (names);
  names = list_dir (h->state_dir);
  g_assert_cmpstrv (names, file);

  /* The clean exit waits for the last write; still one file. */
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_strfreev (names);
  names = list_dir (h->state_dir);
  g_assert_cmpstrv (names, file);
  harness_start_daemon (h, NULL);
  harness_assert_profile (h, "Work mail", MAPIOFFLINE_STATE_OFFLINE, 0x2, 1);
  harness_assert_profile (h, "default", MAPIOFFLINE_STATE_OFFLINE, 0x3, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  HARNESS_ADD ("/manager/persistence/restart-keeps-state", NULL, harness_fixture_setup,
               test_restart_keeps_state);
  HARNESS_ADD ("/manager/persistence/ephemeral", args_ephemeral,
               harness_fixture_setup_without_state_dir, test_ephemeral);
  g_test_add_func ("/manager/persistence/ephemeral-with-state-dir", test_ephemeral_with_state_dir);
  HARNESS_ADD ("/manager/persistence/default-state-dir", NULL,
               harness_fixture_setup_without_state_dir, test_default_state_dir);
  HARNESS_ADD ("/manager/persistence/damaged/garbage", NULL, harness_fixture_setup,
               test_damaged_garbage);
  HARNESS_ADD ("/manager/persistence/damaged/empty", NULL, harness_fixture_setup,
               test_damaged_empty);
  HARNESS_ADD ("/manager/persistence/state-file", NULL, harness_fixture_setup, test_state_file);

  return g_test_run ();
}
