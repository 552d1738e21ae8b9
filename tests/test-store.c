/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * Persistence (docs/daemon.md): the state file's format, what happens to a
 * damaged one, atomic writes, and a manager that comes back with what it had.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-manager.h"
#include "os-store.h"
#include "spin.h"
#include "test-add.h"
#include "warnings.h"

#define STATE_FILE "state.ini"

typedef struct
{
  char *dir;  /* a fresh temporary directory */
  char *path; /* dir/state.ini */
  GPtrArray *records;
  guint snapshots;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, STATE_FILE, NULL);
  f->records = g_ptr_array_new_with_free_func ((GDestroyNotify) os_profile_record_free);
  warnings_clear ();
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_assert_no_errno (g_remove (path));
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }
  g_dir_close (dir);
  g_assert_no_errno (g_rmdir (path));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  /* No warning may go unchecked. */
  g_assert_cmpuint (warnings_count (), ==, 0);
  remove_tree (f->dir);
  g_ptr_array_unref (f->records);
  g_free (f->path);
  g_free (f->dir);
}

/* The main loop */

static gboolean
result_ready (gconstpointer data)
{
  GAsyncResult *const *result = data;

  return *result != NULL;
}

static gboolean
manager_idle (gconstpointer data)
{
  return !os_manager_is_saving ((OsManager *) data);
}

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  g_assert_null (*out);
  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for_result (GAsyncResult **result)
{
  spin_until (result_ready, result);
  return *result;
}

/* Files */

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The names in a directory, sorted. */
static char **
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  GPtrArray *names = g_ptr_array_new ();
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

static GPtrArray *
read_state_file (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize length;
  GPtrArray *records;

  g_file_get_contents (f->path, &data, &length, &error);
  g_assert_no_error (error);
  records = os_store_parse (data, length, &error);
  g_assert_no_error (error);
  return records;
}

static const OsProfileRecord *
find_record (GPtrArray *records, const char *name)
{
  for (guint i = 0; i < records->len; i++)
    {
      const OsProfileRecord *record = g_ptr_array_index (records, i);

      if (g_str_equal (record->name, name))
        return record;
    }
  return NULL;
}

static void
assert_record (const OsProfileRecord *record,
               const char *name,
               guint capabilities,
               guint state,
               guint64 sequence)
{
  g_assert_nonnull (record);
  g_assert_cmpstr (record->name, ==, name);
  g_assert_cmpuint (record->capabilities, ==, capabilities);
  g_assert_cmpuint (record->state, ==, state);
  g_assert_cmpuint (record->sequence, ==, sequence);
}

/* Tests: the format */

static const char *const awkward_names[] = {
  "default",
  "with spaces",
  "  leading spaces",
  "trailing spaces  ",
  "[brackets]",
  "[Profile 0]",
  "key=value",
  "#not a comment",
  ";not a comment either",
  "back\\slash",
  "Büro Ω 日本語 🙂",
  "\\s escaped?",
  "OfflineState",
};

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  for (guint i = 0; i < G_N_ELEMENTS (awkward_names); i++)
    g_ptr_array_add (f->records, os_profile_record_new (awkward_names[i], i % 4, 1 + i % 2,
                                                        (guint64) i * 1000003));
  g_ptr_array_add (f->records, os_profile_record_new ("max", 3, 2, G_MAXUINT64));
  g_ptr_array_add (f->records, os_profile_record_new ("zero", 0, 1, 0));

  text = os_store_serialize (f->records, &length);
  g_assert_nonnull (text);
  g_assert_cmpuint (length, ==, strlen (text));
  parsed = os_store_parse (text, length, &error);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  g_assert_cmpuint (parsed->len, ==, f->records->len);
  for (guint i = 0; i < f->records->len; i++)
    {
      const OsProfileRecord *in = g_ptr_array_index (f->records, i);

      assert_record (find_record (parsed, in->name), in->name, in->capabilities, in->state,
                     in->sequence);
    }
  assert_record (find_record (parsed, "max"), "max", 3, 2, G_MAXUINT64);
}

static void
test_round_trip_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;

  /* No profile at all is a valid state, not a damaged file. */
  text = os_store_serialize (f->records, &length);
  parsed = os_store_parse (text, length, &error);
  g_assert_no_error (error);
  g_assert_nonnull (parsed);
  g_assert_cmpuint (parsed->len, ==, 0);
}

static void
test_parse_format (Fixture *f, gconstpointer data)
{
  /* The file format of version 1, as written by hand: it must stay readable. */
  const char *text = "# comment\n"
                     "[OfflineState]\n"
                     "Version=1\n"
                     "\n"
                     "[Profile 0]\n"
                     "Name=default\n"
                     "Capabilities=3\n"
                     "State=2\n"
                     "Sequence=7\n"
                     "\n"
                     "[Profile 1]\n"
                     "Name=\\s\\sspaced \\\\ out\n"
                     "Capabilities=1\n"
                     "State=1\n"
                     "Sequence=18446744073709551615\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) parsed = os_store_parse (text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 2);
  assert_record (find_record (parsed, "default"), "default", 3, 2, 7);
  assert_record (find_record (parsed, "  spaced \\ out"), "  spaced \\ out", 1, 1, G_MAXUINT64);
}

static void
test_parse_rejects (Fixture *f, gconstpointer data)
{
#define HEAD "[OfflineState]\nVersion=1\n"
#define PROFILE(name, caps, state, seq)                                                            \
  "[Profile " name "]\nName=" name "\nCapabilities=" caps "\nState=" state "\nSequence=" seq "\n"
  const char *bad[] = {
    "",
    "garbage",
    "\x01\x02\x03\xff",
    "[OfflineState\nVersion=1\n",
    "[OfflineState]\n",
    "[OfflineState]\nVersion=2\n",
    "[OfflineState]\nVersion=0\n",
    "[OfflineState]\nVersion=one\n",
    "[Other]\nVersion=1\n" PROFILE ("a", "3", "2", "0"),
    HEAD "[Profile 0]\nCapabilities=3\nState=2\nSequence=0\n",
    HEAD "[Profile 0]\nName=a\nState=2\nSequence=0\n",
    HEAD "[Profile 0]\nName=a\nCapabilities=3\nSequence=0\n",
    HEAD "[Profile 0]\nName=a\nCapabilities=3\nState=2\n",
    HEAD PROFILE ("a", "3", "3", "0"),
    HEAD PROFILE ("a", "3", "0", "0"),
    HEAD PROFILE ("a", "4", "2", "0"),
    HEAD PROFILE ("a", "-1", "2", "0"),
    HEAD PROFILE ("a", "3", "2", "-1"),
    HEAD PROFILE ("a", "3", "2", "18446744073709551616"),
    HEAD PROFILE ("a", "3", "2", "1x"),
    HEAD PROFILE ("a", "3", "2", ""),
    HEAD PROFILE ("a", "0x3", "2", "0"),
    HEAD "[Profile 0]\nName=\nCapabilities=3\nState=2\nSequence=0\n",
    HEAD "[Profile 0]\nName=tab\\there\nCapabilities=3\nState=2\nSequence=0\n",
    /* GKeyFile returns a name and an error for this one (found by fuzz-state-file) */
    HEAD "[Profile 0]\nName=trailing backslash\\\nCapabilities=3\nState=2\nSequence=0\n",
    HEAD PROFILE ("a", "3", "2", "0")
        PROFILE ("b", "3", "2", "0") "[Profile 2]\nName=a\nCapabilities=1\nState=1\nSequence=5\n",
  };
#undef PROFILE
#undef HEAD

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) parsed = os_store_parse (bad[i], strlen (bad[i]), &error);

      if (parsed != NULL)
        g_error ("case %u accepted:\n%s", i, bad[i]);
      g_assert_nonnull (error);
    }
}

/* Tests: loading */

static GPtrArray *
snapshot_records (gpointer user_data)
{
  Fixture *f = user_data;
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify) os_profile_record_free);

  f->snapshots++;
  for (guint i = 0; i < f->records->len; i++)
    {
      const OsProfileRecord *r = g_ptr_array_index (f->records, i);

      g_ptr_array_add (copy,
                       os_profile_record_new (r->name, r->capabilities, r->state, r->sequence));
    }
  return copy;
}

static void
test_load_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_auto (GStrv) names = NULL;
  gboolean found = TRUE;

  g_assert_cmpstr (os_store_get_path (store), ==, f->path);
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  names = list_dir (f->dir);
  g_assert_cmpstrv (names, ((const char *[]){ NULL }));
  g_assert_cmpuint (warnings_count (), ==, 0);
}

static void
test_load_good (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autoptr (GPtrArray) records = NULL;
  gboolean found = FALSE;

  write_file (f->path, "[OfflineState]\nVersion=1\n[Profile 0]\nName=x y\nCapabilities=2\n"
                       "State=1\nSequence=42\n");
  records = os_store_load (store, G_MAXUINT, &found);
  g_assert_true (found);
  g_assert_nonnull (records);
  g_assert_cmpuint (records->len, ==, 1);
  assert_record (g_ptr_array_index (records, 0), "x y", 2, 1, 42);
  g_assert_true (g_file_test (f->path, G_FILE_TEST_IS_REGULAR));
}

/* A write cut short by SIGKILL leaves g_file_set_contents()'s temporary file: the next
 * load removes it, and nothing else. */
static void
test_load_removes_leftovers (Fixture *f, gconstpointer data)
{
  static const char *const kept[] = {
    STATE_FILE,           STATE_FILE ".Ab1", STATE_FILE ".damaged-x",
    STATE_FILE ".a-b_cd", "other.Ab12Cd",    NULL
  };
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autoptr (GPtrArray) records = NULL;
  g_auto (GStrv) names = NULL;
  gboolean found = FALSE;

  write_file (f->path, "[OfflineState]\nVersion=1\n");
  for (guint i = 1; kept[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (f->dir, kept[i], NULL);

      write_file (path, "x");
    }
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *path =
          g_strdup_printf ("%s.%s", f->path, (const char *[]){ "Ab12Cd", "zzzzzz", "000000" }[i]);

      write_file (path, "[OfflineState]\nVersion=1\n[Profile 0]\nName=half-wri");
    }
  records = os_store_load (store, G_MAXUINT, &found);
  g_assert_true (found);
  names = list_dir (f->dir);
  g_assert_cmpuint (g_strv_length (names), ==, g_strv_length ((GStrv) kept));
  for (guint i = 0; kept[i] != NULL; i++)
    g_assert_true (g_strv_contains ((const char *const *) names, kept[i]));
}

/* The one file kept aside, named state.ini.damaged-<UTC timestamp>. */
static char *
assert_kept_aside (Fixture *f)
{
  g_auto (GStrv) names = list_dir (f->dir);
  const char *stamp;

  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_true (g_str_has_prefix (names[0], STATE_FILE ".damaged-"));
  stamp = names[0] + strlen (STATE_FILE ".damaged-");
  /* 20261124T025800Z */
  g_assert_cmpuint (strlen (stamp), ==, 16);
  g_assert_cmpint (stamp[8], ==, 'T');
  g_assert_cmpint (stamp[15], ==, 'Z');
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  return g_build_filename (f->dir, names[0], NULL);
}

static void
test_load_damaged (Fixture *f, gconstpointer data)
{
  const char *garbage = "[OfflineState]\nVersion=1\n[Profile 0]\nName=a\nState=9\n";
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autofree char *aside = NULL;
  g_autofree char *kept = NULL;
  gboolean found = TRUE;

  write_file (f->path, garbage);
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  warnings_assert_one ("damaged", f->path, NULL);
  aside = assert_kept_aside (f);
  /* Kept as it was, for someone to look at. */
  g_assert_true (g_file_get_contents (aside, &kept, NULL, NULL));
  g_assert_cmpstr (kept, ==, garbage);

  /* Loading again finds nothing and sets nothing else aside. */
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  g_assert_cmpuint (warnings_count (), ==, 0);
}

static void
test_load_unreadable (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autofree char *aside = NULL;
  gboolean found = TRUE;

  /* Tests may run as root, where permissions do not stop a read: a directory does. */
  g_assert_no_errno (g_mkdir (f->path, 0700));
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  warnings_assert_one ("damaged", f->path, NULL);
  aside = assert_kept_aside (f);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_DIR));
}

/* A FIFO (opening it would block) and a symbolic link (what it points at is not the daemon's
 * to read, nor to quote): set aside, unread. */
static void
test_load_not_regular (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autofree char *elsewhere = g_dir_make_tmp ("offline-state-elsewhere-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (elsewhere, "secret", NULL);
  g_autofree char *aside = NULL;
  gboolean found = TRUE;

  g_assert_no_errno (mkfifo (f->path, 0600));
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  warnings_assert_one ("damaged", "not a regular file", NULL);
  aside = assert_kept_aside (f);
  g_assert_no_errno (g_unlink (aside));

  write_file (target, "secret first line\n");
  g_assert_no_errno (symlink (target, f->path));
  g_assert_null (os_store_load (store, G_MAXUINT, &found));
  g_assert_false (found);
  g_assert_false (warnings_mention ("secret first line"));
  warnings_assert_one ("damaged", "symbolic link", NULL);
  g_free (aside);
  aside = assert_kept_aside (f);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_SYMLINK));
  g_assert_no_errno (g_unlink (aside));
  g_assert_no_errno (g_unlink (target));
  g_assert_no_errno (g_rmdir (elsewhere));
}

/* More profiles than allowed: the first ones, and a copy of the whole file beside it. */
static void
test_load_over_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GString) text = g_string_new ("[OfflineState]\nVersion=1\n");
  g_autoptr (GDir) dir = NULL;
  const char *name;
  gboolean found = FALSE;
  guint copies = 0;

  for (guint i = 0; i < 10; i++)
    g_string_append_printf (text, "[Profile %u]\nName=p%u\nCapabilities=3\nState=1\nSequence=%u\n",
                            i, i, i);
  write_file (f->path, text->str);
  records = os_store_load (store, 4, &found);
  g_assert_true (found);
  g_assert_cmpuint (records->len, ==, 4);
  assert_record (g_ptr_array_index (records, 0), "p0", 3, 1, 0);
  warnings_assert_one ("10 profiles", "--max-profiles=4", "over-limit", NULL);
  dir = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "state.ini.over-limit-"))
      {
        g_autofree char *path = g_build_filename (f->dir, name, NULL);
        g_autofree char *copy = NULL;

        g_assert_true (g_file_get_contents (path, &copy, NULL, NULL));
        g_assert_cmpstr (copy, ==, text->str);
        copies++;
      }
  g_assert_cmpuint (copies, ==, 1);
}

/* Tests: writing */

static void
save (OsStore *store)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_store_save_async (store, NULL, store_result, &result);
  g_assert_true (os_store_is_busy (store));
  g_assert_true (os_store_save_finish (store, wait_for_result (&result), &error));
  g_assert_no_error (error);
  g_assert_false (os_store_is_busy (store));
}

static void
test_save (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  g_autoptr (GPtrArray) written = NULL;
  g_auto (GStrv) names = NULL;
  GStatBuf st;

  g_ptr_array_add (f->records, os_profile_record_new ("default", 3, 2, 5));
  g_ptr_array_add (f->records, os_profile_record_new ("[x]=#y", 1, 1, 6));
  save (store);
  g_assert_cmpuint (f->snapshots, ==, 1);
  written = read_state_file (f);
  g_assert_cmpuint (written->len, ==, 2);
  assert_record (find_record (written, "default"), "default", 3, 2, 5);
  assert_record (find_record (written, "[x]=#y"), "[x]=#y", 1, 1, 6);
  /* The state file alone: no temporary file left behind. */
  names = list_dir (f->dir);
  g_assert_cmpstrv (names, ((const char *[]){ STATE_FILE, NULL }));
  g_assert_no_errno (g_stat (f->path, &st));
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);
}

static void
test_save_creates_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *nested = g_build_filename (f->dir, "a", "b", NULL);
  g_autofree char *path = g_build_filename (nested, STATE_FILE, NULL);
  g_autoptr (OsStore) store = os_store_new (nested, snapshot_records, f);
  GStatBuf st;

  g_ptr_array_add (f->records, os_profile_record_new ("default", 3, 2, 0));
  save (store);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  g_assert_no_errno (g_stat (nested, &st));
  g_assert_cmpuint (st.st_mode & 0777, ==, 0700);
}

static void
test_save_coalesces (Fixture *f, gconstpointer data)
{
  g_autoptr (OsStore) store = os_store_new (f->dir, snapshot_records, f);
  GAsyncResult *results[3] = { NULL, NULL, NULL };
  g_autoptr (GPtrArray) written = NULL;
  g_auto (GStrv) names = NULL;

  /* Three changes in a row: each save completes, and the last state is the one on disk. */
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_ptr_array_set_size (f->records, 0);
      g_ptr_array_add (f->records, os_profile_record_new ("default", 3, 1 + i % 2, i));
      os_store_save_async (store, NULL, store_result, &results[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (os_store_save_finish (store, wait_for_result (&results[i]), &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_object_unref (results[i]);
  g_assert_false (os_store_is_busy (store));
  /* The first write took its snapshot at once; the two queued ones shared the next. */
  g_assert_cmpuint (f->snapshots, ==, 2);
  written = read_state_file (f);
  g_assert_cmpuint (written->len, ==, 1);
  assert_record (g_ptr_array_index (written, 0), "default", 3, 1, 2);
  names = list_dir (f->dir);
  g_assert_cmpstrv (names, ((const char *[]){ STATE_FILE, NULL }));
}

static void
test_save_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *blocker = g_build_filename (f->dir, "not-a-dir", NULL);
  g_autofree char *inside = g_build_filename (blocker, "state", NULL);
  g_autoptr (OsStore) store = os_store_new (inside, snapshot_records, f);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  write_file (blocker, "a file where a directory should be");
  os_store_save_async (store, NULL, store_result, &result);
  g_assert_false (os_store_save_finish (store, wait_for_result (&result), &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR);
  warnings_assert_one ("Could not write", inside, NULL);
  g_assert_false (os_store_is_busy (store));
}

/* Tests: a manager and its state directory */

static const OsLimits limits = { 100, 16, 64, 16 };

static OsManager *
manager_new (const char *dir)
{
  OsManager *manager = os_manager_new (&limits, dir);

  os_manager_load (manager);
  return manager;
}

static void
manager_free (OsManager *manager)
{
  OsManager *weak = manager;

  spin_until (manager_idle, manager);
  g_object_add_weak_pointer (G_OBJECT (manager), (gpointer *) &weak);
  g_object_unref (manager);
  g_assert_null (weak);
}

static OsProfile *
create (OsManager *manager, const char *name, guint capabilities, guint state)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (OsProfile) profile = NULL;

  os_manager_create_async (manager, name, capabilities, state, store_result, &result);
  profile = os_manager_create_finish (manager, wait_for_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (profile);
  return profile; /* the manager holds it */
}

static void
remove_profile (OsManager *manager, const char *name)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_manager_remove_async (manager, name, store_result, &result);
  g_assert_true (os_manager_remove_finish (manager, wait_for_result (&result), &error));
  g_assert_no_error (error);
}

static void
set_state (OsProfile *profile, guint state)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_profile_set_state_async (profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK,
                              state, store_result, &result);
  g_assert_true (os_profile_set_state_finish (profile, wait_for_result (&result), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (os_profile_get_state (profile), ==, state);
}

static void
set_capabilities (OsProfile *profile, guint capabilities)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  os_profile_set_capabilities_async (profile, capabilities, store_result, &result);
  g_assert_true (os_profile_set_capabilities_finish (profile, wait_for_result (&result), &error));
  g_assert_no_error (error);
}

static void
assert_profile (
    OsManager *manager, const char *name, guint capabilities, guint state, guint64 sequence)
{
  OsProfile *profile = os_manager_lookup (manager, name);

  g_assert_nonnull (profile);
  g_assert_cmpuint (os_profile_get_capabilities (profile), ==, capabilities);
  g_assert_cmpuint (os_profile_get_state (profile), ==, state);
  g_assert_cmpuint (os_profile_get_sequence (profile), ==, sequence);
  g_assert_false (os_profile_get_transitioning (profile));
}

static void
assert_profiles (OsManager *manager, const char *const *expected)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (manager);

  g_assert_cmpstrv (names, expected);
}

static void
test_manager_round_trip (Fixture *f, gconstpointer data)
{
  OsManager *manager = manager_new (f->dir);
  OsProfile *work, *awkward;
  g_auto (GStrv) names = NULL;

  assert_profiles (manager, (const char *const[]){ "default", NULL });
  /* Nothing is written until something changes. */
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));

  work = create (manager, "Work", MAPIOFFLINE_CAPABILITY_OFFLINE, MAPIOFFLINE_STATE_OFFLINE);
  awkward = create (manager, " [Büro]=#1 ", 0, MAPIOFFLINE_STATE_ONLINE);
  set_state (os_manager_lookup (manager, "default"), MAPIOFFLINE_STATE_OFFLINE);
  set_capabilities (os_manager_lookup (manager, "default"), MAPIOFFLINE_CAPABILITY_ONLINE);
  set_state (work, MAPIOFFLINE_STATE_ONLINE);
  set_state (work, MAPIOFFLINE_STATE_OFFLINE);
  set_state (work, MAPIOFFLINE_STATE_ONLINE);
  set_state (awkward, MAPIOFFLINE_STATE_OFFLINE);
  manager_free (manager);
  names = list_dir (f->dir);
  g_assert_cmpstrv (names, ((const char *[]){ STATE_FILE, NULL }));

  manager = manager_new (f->dir);
  assert_profiles (manager, (const char *const[]){ " [Büro]=#1 ", "Work", "default", NULL });
  assert_profile (manager, "default", MAPIOFFLINE_CAPABILITY_ONLINE, MAPIOFFLINE_STATE_OFFLINE, 1);
  assert_profile (manager, "Work", MAPIOFFLINE_CAPABILITY_OFFLINE, MAPIOFFLINE_STATE_ONLINE, 3);
  assert_profile (manager, " [Büro]=#1 ", 0, MAPIOFFLINE_STATE_OFFLINE, 1);
  /* Numbering goes on where it stopped. */
  set_state (os_manager_lookup (manager, "default"), MAPIOFFLINE_STATE_ONLINE);
  assert_profile (manager, "default", MAPIOFFLINE_CAPABILITY_ONLINE, MAPIOFFLINE_STATE_ONLINE, 2);
  manager_free (manager);

  manager = manager_new (f->dir);
  assert_profile (manager, "default", MAPIOFFLINE_CAPABILITY_ONLINE, MAPIOFFLINE_STATE_ONLINE, 2);
  manager_free (manager);
  g_assert_cmpuint (warnings_count (), ==, 0);
}

typedef struct
{
  Fixture *f;
  guint checked;
} OnDisk;

static void
check_on_disk (OsProfile *profile,
               OsAdvise *advise,
               guint notify_type,
               guint mask,
               guint old_state,
               guint new_state,
               guint64 sequence,
               guint ticket,
               gpointer user_data)
{
  OnDisk *on_disk = user_data;
  g_autoptr (GPtrArray) records = NULL;
  const OsProfileRecord *record;

  if (notify_type != MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE)
    return;
  /* STATECHANGE: the new state is on disk already. */
  records = read_state_file (on_disk->f);
  record = find_record (records, os_profile_get_name (profile));
  assert_record (record, os_profile_get_name (profile), 3, new_state, sequence);
  on_disk->checked++;
}

static void
test_manager_commit_before_statechange (Fixture *f, gconstpointer data)
{
  OsManager *manager = manager_new (f->dir);
  OsProfile *profile = os_manager_lookup (manager, "default");
  OnDisk on_disk = { f, 0 };
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (
      os_profile_advise (profile, ":1.1", OS_UID_UNKNOWN, 0, 0, 0, NULL, 1, 3, &error), !=, 0);
  g_signal_connect (profile, "notification", G_CALLBACK (check_on_disk), &on_disk);
  set_state (profile, MAPIOFFLINE_STATE_OFFLINE);
  set_state (profile, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (on_disk.checked, ==, 2);
  g_signal_handlers_disconnect_by_data (profile, &on_disk);
  manager_free (manager);
}

static gboolean
state_file_has_sequence (gconstpointer data)
{
  const Fixture *f = data;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *text = NULL;

  if (!g_file_get_contents (f->path, &text, NULL, NULL))
    return FALSE;
  records = os_store_parse (text, strlen (text), NULL);
  return records != NULL && records->len == 1 &&
         ((OsProfileRecord *) g_ptr_array_index (records, 0))->sequence == 1;
}

static gboolean
not_transitioning (gconstpointer data)
{
  return !os_profile_get_transitioning ((OsProfile *) data);
}

static gboolean
nothing_unsaved (gconstpointer data)
{
  return os_manager_get_unsaved ((OsManager *) data) == NULL;
}

/* A write that fails during a BLOCK transition: the change is not made, the BLOCK caller
 * hears IOError, and nothing is left to save. */
static void
test_manager_save_fails (Fixture *f, gconstpointer data)
{
  g_autofree char *aside = g_strconcat (f->dir, ".aside", NULL);
  OsManager *manager = manager_new (f->dir);
  OsProfile *profile = os_manager_lookup (manager, "default");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_no_errno (g_rename (f->dir, aside));
  write_file (f->dir, "a file where the state folder was");
  os_profile_set_state_async (profile, MAPIOFFLINE_FLAG_BLOCK, MAPIOFFLINE_STATE_OFFLINE_MASK,
                              MAPIOFFLINE_STATE_OFFLINE, store_result, &result);
  g_assert_false (os_profile_set_state_finish (profile, wait_for_result (&result), &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_IO_ERROR);
  g_assert_true (g_str_has_prefix (error->message, "MAPI_E_DISK_ERROR (0x80040116): "));
  g_assert_cmpuint (os_profile_get_state (profile), ==, MAPIOFFLINE_STATE_ONLINE);
  g_assert_cmpuint (os_profile_get_sequence (profile), ==, 0);
  g_assert_false (os_profile_get_transitioning (profile));
  g_assert_null (os_manager_get_unsaved (manager));
  g_assert_cmpuint (warnings_count (), ==, 2); /* the store's, and the transition's */
  warnings_clear ();

  g_assert_no_errno (g_remove (f->dir));
  g_assert_no_errno (g_rename (aside, f->dir));
  manager_free (manager);
}

/* Without BLOCK the caller was answered at the start: the change is made in memory, listed as
 * unsaved, and saved once the folder is back. */
static void
test_manager_save_fails_nonblock (Fixture *f, gconstpointer data)
{
  g_autofree char *aside = g_strconcat (f->dir, ".aside", NULL);
  OsManager *manager = manager_new (f->dir);
  OsProfile *profile = os_manager_lookup (manager, "default");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  const char *const *unsaved;

  g_assert_no_errno (g_rename (f->dir, aside));
  write_file (f->dir, "a file where the state folder was");
  os_profile_set_state_async (profile, 0, MAPIOFFLINE_STATE_OFFLINE_MASK, MAPIOFFLINE_STATE_OFFLINE,
                              store_result, &result);
  g_assert_true (os_profile_set_state_finish (profile, wait_for_result (&result), &error));
  g_assert_no_error (error);
  spin_until (not_transitioning, profile);
  g_assert_cmpuint (os_profile_get_state (profile), ==, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_cmpuint (os_profile_get_sequence (profile), ==, 1);
  unsaved = os_manager_get_unsaved (manager);
  g_assert_nonnull (unsaved);
  g_assert_cmpstr (unsaved[0], ==, "profile 'default' offline (sequence 1)");
  g_assert_null (unsaved[1]);
  g_assert_cmpuint (warnings_count (), ==, 2); /* the store's, and the transition's */
  warnings_clear ();

  g_assert_no_errno (g_remove (f->dir));
  g_assert_no_errno (g_rename (aside, f->dir));
  spin_until (state_file_has_sequence, f);
  spin_until (nothing_unsaved, manager);
  manager_free (manager);
}

/* Every other change is written before it is made: when the disk refuses, the caller hears
 * IOError and nothing changes, in memory or on disk. */
static void
test_manager_changes_fail (Fixture *f, gconstpointer data)
{
  g_autofree char *aside = g_strconcat (f->dir, ".aside", NULL);
  OsManager *manager = manager_new (f->dir);
  OsProfile *profile = os_manager_lookup (manager, "default");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  create (manager, "kept", 1, 1);
  g_assert_true (g_file_get_contents (f->path, &before, NULL, NULL));
  /* A folder no write can reach, for root too: a file where it was. */
  g_assert_no_errno (g_rename (f->dir, aside));
  write_file (f->dir, "a file where the state folder was");
  os_manager_create_async (manager, "new", 3, 2, store_result, &result);
  g_assert_null (os_manager_create_finish (manager, wait_for_result (&result), &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_IO_ERROR);
  g_assert_null (os_manager_lookup (manager, "new"));
  g_clear_object (&result);
  g_clear_error (&error);

  os_profile_set_capabilities_async (profile, 1, store_result, &result);
  g_assert_false (os_profile_set_capabilities_finish (profile, wait_for_result (&result), &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_IO_ERROR);
  g_assert_cmpuint (os_profile_get_capabilities (profile), ==, 3);
  g_clear_object (&result);
  g_clear_error (&error);

  os_manager_remove_async (manager, "kept", store_result, &result);
  g_assert_false (os_manager_remove_finish (manager, wait_for_result (&result), &error));
  g_assert_error (error, OS_ERROR, OS_ERROR_IO_ERROR);
  g_assert_nonnull (os_manager_lookup (manager, "kept"));
  g_clear_object (&result);

  g_assert_null (os_manager_get_unsaved (manager));
  g_assert_cmpuint (warnings_count (), ==, 3);
  warnings_clear ();
  g_assert_no_errno (g_remove (f->dir));
  g_assert_no_errno (g_rename (aside, f->dir));
  g_assert_true (g_file_get_contents (f->path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, before);
  /* And with the folder back, the same changes are made. */
  remove_profile (manager, "kept");
  manager_free (manager);
}

static void
test_manager_create_remove_on_disk (Fixture *f, gconstpointer data)
{
  OsManager *manager = manager_new (f->dir);
  g_autoptr (GPtrArray) after_create = NULL;
  g_autoptr (GPtrArray) after_remove = NULL;

  /* Each completes once the change is on disk. */
  create (manager, "new", 2, 1);
  after_create = read_state_file (f);
  assert_record (find_record (after_create, "new"), "new", 2, 1, 0);
  assert_record (find_record (after_create, "default"), "default", 3, 2, 0);
  remove_profile (manager, "new");
  after_remove = read_state_file (f);
  g_assert_null (find_record (after_remove, "new"));
  g_assert_cmpuint (after_remove->len, ==, 1);
  manager_free (manager);
}

static void
test_manager_removed_default (Fixture *f, gconstpointer data)
{
  OsManager *manager = manager_new (f->dir);

  remove_profile (manager, "default");
  create (manager, "other", 3, 2);
  manager_free (manager);

  /* Persisted state exists: default is not created again. */
  manager = manager_new (f->dir);
  assert_profiles (manager, (const char *const[]){ "other", NULL });
  remove_profile (manager, "other");
  manager_free (manager);

  /* Not even when no profile at all is left. */
  manager = manager_new (f->dir);
  assert_profiles (manager, (const char *const[]){ NULL });
  manager_free (manager);
  g_assert_cmpuint (warnings_count (), ==, 0);
}

static void
test_manager_damaged (Fixture *f, gconstpointer data)
{
  OsManager *manager;
  g_autofree char *aside = NULL;
  g_autoptr (GPtrArray) written = NULL;

  write_file (f->path, "[OfflineState]\nVersion=1\n[Profile 0]\nName=kept\nCapabilities=7\n"
                       "State=1\nSequence=3\n");
  manager = manager_new (f->dir);
  warnings_assert_one ("damaged", NULL);
  aside = assert_kept_aside (f);
  assert_profiles (manager, (const char *const[]){ "default", NULL });
  assert_profile (manager, "default", 0x3, MAPIOFFLINE_STATE_ONLINE, 0);

  /* The next write makes a good file again. */
  set_state (os_manager_lookup (manager, "default"), MAPIOFFLINE_STATE_OFFLINE);
  manager_free (manager);
  written = read_state_file (f);
  g_assert_cmpuint (written->len, ==, 1);
  assert_record (g_ptr_array_index (written, 0), "default", 3, 1, 1);
  g_assert_true (g_file_test (aside, G_FILE_TEST_IS_REGULAR));
}

static void
test_manager_ephemeral (Fixture *f, gconstpointer data)
{
  g_autofree char *cwd = g_get_current_dir ();
  OsManager *manager;
  OsProfile *profile;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *text = NULL;

  /* Nothing on disk: not in the current directory either. */
  g_assert_no_errno (chdir (f->dir));
  write_file (STATE_FILE, "[OfflineState]\nVersion=1\n");
  manager = manager_new (NULL);
  /* An ephemeral manager reads nothing either: default exists. */
  assert_profiles (manager, (const char *const[]){ "default", NULL });
  profile = create (manager, "p", 3, 2);
  set_state (profile, MAPIOFFLINE_STATE_OFFLINE);
  g_assert_false (os_manager_is_saving (manager));
  set_capabilities (profile, 1);
  remove_profile (manager, "p");
  os_manager_save_async (manager, store_result, &result);
  g_assert_false (os_manager_is_saving (manager));
  g_assert_true (os_manager_save_finish (manager, wait_for_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result); /* it holds the manager */
  manager_free (manager);
  g_assert_no_errno (chdir (cwd));

  names = list_dir (f->dir);
  g_assert_cmpstrv (names, ((const char *[]){ STATE_FILE, NULL }));
  g_assert_true (g_file_get_contents (f->path, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "[OfflineState]\nVersion=1\n");
}

int
main (int argc, char *argv[])
{
  warnings_capture ();
  g_test_init (&argc, &argv, NULL);

  FIXTURE_ADD ("/store/format/round-trip", NULL, test_round_trip);
  FIXTURE_ADD ("/store/format/round-trip-empty", NULL, test_round_trip_empty);
  FIXTURE_ADD ("/store/format/version-1", NULL, test_parse_format);
  FIXTURE_ADD ("/store/format/rejects", NULL, test_parse_rejects);
  FIXTURE_ADD ("/store/load/missing", NULL, test_load_missing);
  FIXTURE_ADD ("/store/load/good", NULL, test_load_good);
  FIXTURE_ADD ("/store/load/removes-leftovers", NULL, test_load_removes_leftovers);
  FIXTURE_ADD ("/store/load/damaged", NULL, test_load_damaged);
  FIXTURE_ADD ("/store/load/unreadable", NULL, test_load_unreadable);
  FIXTURE_ADD ("/store/load/not-regular", NULL, test_load_not_regular);
  FIXTURE_ADD ("/store/load/over-limit", NULL, test_load_over_limit);
  FIXTURE_ADD ("/store/save/atomic", NULL, test_save);
  FIXTURE_ADD ("/store/save/creates-directory", NULL, test_save_creates_directory);
  FIXTURE_ADD ("/store/save/coalesces", NULL, test_save_coalesces);
  FIXTURE_ADD ("/store/save/fails", NULL, test_save_fails);
  FIXTURE_ADD ("/store/manager/round-trip", NULL, test_manager_round_trip);
  FIXTURE_ADD ("/store/manager/commit-before-statechange", NULL,
               test_manager_commit_before_statechange);
  FIXTURE_ADD ("/store/manager/save-fails", NULL, test_manager_save_fails);
  FIXTURE_ADD ("/store/manager/save-fails-nonblock", NULL, test_manager_save_fails_nonblock);
  FIXTURE_ADD ("/store/manager/changes-fail", NULL, test_manager_changes_fail);
  FIXTURE_ADD ("/store/manager/create-remove-on-disk", NULL, test_manager_create_remove_on_disk);
  FIXTURE_ADD ("/store/manager/removed-default", NULL, test_manager_removed_default);
  FIXTURE_ADD ("/store/manager/damaged", NULL, test_manager_damaged);
  FIXTURE_ADD ("/store/manager/ephemeral", NULL, test_manager_ephemeral);

  return g_test_run ();
}
