/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The advise journal in the runtime folder (docs/daemon.md): its format,
 * what a damaged one yields, appends and rewrites, and a manager that restores the advises of
 * clients still there.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "offline-state.h"
#include "os-core-private.h"
#include "os-journal.h"
#include "os-manager.h"
#include "spin.h"
#include "test-add.h"
#include "warnings.h"

#define BUS_ID  "0123456789abcdef0123456789abcdef"
#define HEADER  "offline-state advises 1 " BUS_ID
#define PROFILE "Work (Exchange)"

typedef struct
{
  char *dir;
  char *path;         /* dir/advises-BUS_ID */
  GPtrArray *records; /* what the snapshot function hands out */
} Fixture;

static GPtrArray *
records_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) os_advise_record_free);
}

static GPtrArray *
snapshot (gpointer user_data)
{
  Fixture *f = user_data;
  GPtrArray *copy = records_new ();

  for (guint i = 0; i < f->records->len; i++)
    {
      const OsAdviseRecord *r = g_ptr_array_index (f->records, i);

      g_ptr_array_add (copy, os_advise_record_new (r->token, r->client_token, r->state_mask,
                                                   r->owner, r->callback, r->profile));
    }
  return copy;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *top = g_dir_make_tmp ("test-journal-XXXXXX", &error);

  g_assert_no_error (error);
  /* The journal creates its folder: it starts missing. */
  f->dir = g_build_filename (top, "offline-state", NULL);
  f->path = g_build_filename (f->dir, "advises-" BUS_ID, NULL);
  f->records = records_new ();
  warnings_clear ();
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_autofree char *top = g_path_get_dirname (f->dir);
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_assert_cmpuint (warnings_count (), ==, 0);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (f->dir, name, NULL);

      g_assert_no_errno (g_remove (child));
    }
  g_remove (f->dir);
  g_assert_no_errno (g_rmdir (top));
  g_ptr_array_unref (f->records);
  g_free (f->path);
  g_free (f->dir);
}

static void
assert_record (const OsAdviseRecord *r,
               guint token,
               guint client_token,
               guint state_mask,
               const char *owner,
               const char *callback,
               const char *profile)
{
  g_assert_cmpuint (r->token, ==, token);
  g_assert_cmpuint (r->client_token, ==, client_token);
  g_assert_cmpuint (r->state_mask, ==, state_mask);
  g_assert_cmpstr (r->owner, ==, owner);
  g_assert_cmpstr (r->callback, ==, callback);
  g_assert_cmpstr (r->profile, ==, profile);
}

static GPtrArray *
parse (const char *text, guint *last_token, GError **error)
{
  return os_journal_parse (text, strlen (text), BUS_ID, last_token, error);
}

/* The format */

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  guint last_token;

  g_ptr_array_add (f->records, os_advise_record_new (3, 0, 0x3, ":1.7", NULL, "default"));
  g_ptr_array_add (f->records, os_advise_record_new (9, G_MAXUINT, 0x1, ":1.12", "/org/app/notify",
                                                     " " PROFILE " "));
  text = os_journal_serialize (BUS_ID, 11, f->records, NULL);
  g_assert_cmpstr (text, ==,
                   HEADER " 11\n"
                          "+ 3 0 3 :1.7 / default\n"
                          "+ 9 4294967295 1 :1.12 /org/app/notify  " PROFILE " \n");
  parsed = parse (text, &last_token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 2);
  assert_record (g_ptr_array_index (parsed, 0), 3, 0, 0x3, ":1.7", NULL, "default");
  assert_record (g_ptr_array_index (parsed, 1), 9, G_MAXUINT, 0x1, ":1.12", "/org/app/notify",
                 " " PROFILE " ");
  g_assert_cmpuint (last_token, ==, 11);
}

static void
test_replay (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  guint last_token;

  /* Live are those added and not removed, in token order; the highest token any line
   * named counts, a removed one included. */
  parsed = parse (HEADER " 2\n"
                         "+ 5 1 3 :1.1 / default\n"
                         "+ 4 2 3 :1.2 /cb default\n"
                         "+ 7 3 3 :1.3 / default\n"
                         "- 7\n"
                         "- 5\n"
                         "+ 6 4 2 :1.1 / default\n",
                  &last_token, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (parsed->len, ==, 2);
  assert_record (g_ptr_array_index (parsed, 0), 4, 2, 3, ":1.2", "/cb", "default");
  assert_record (g_ptr_array_index (parsed, 1), 6, 4, 2, ":1.1", NULL, "default");
  g_assert_cmpuint (last_token, ==, 7);
}

static void
test_not_a_journal (Fixture *f, gconstpointer data)
{
  static const char *const texts[] = {
    "",
    HEADER " 0", /* no newline: not even the header is whole */
    "offline-state advises 2 " BUS_ID " 0\n",
    "offline-state advises 1 fedcba9876543210fedcba9876543210 0\n",
    "offline-state advises 1 " BUS_ID "\n",
    "offline-state advises 1 " BUS_ID " -1\n",
    "offline-state advises 1 " BUS_ID " 4294967295\n", /* every token spent: no run does that */
    "[OfflineState]\nVersion=1\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *shown = g_strescape (texts[i], NULL);
      guint last_token = 99;

      g_test_message ("case %u: '%s'", i, shown);
      g_assert_null (parse (texts[i], &last_token, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
}

/* Every bad line ends the replay: what came before it stands. */
static void
test_bad_lines (Fixture *f, gconstpointer data)
{
  static const char *const lines[] = {
    "+ 0 1 3 :1.2 / default",            /* token 0 is never handed out */
    "+ 2 1 3 :1.2 / default",            /* live already */
    "- 9",                               /* not live */
    "- x",                               /* not a number */
    "+ 3 1 0 :1.2 / default",            /* empty state mask */
    "+ 3 1 4194304 :1.2 / default",      /* outside MAPIOFFLINE_STATE_ALL */
    "+ 3 1 3 org.example.App / default", /* not a unique name */
    "+ 3 1 3 :1.2 not/a/path default",   /* not an object path */
    "+ 3 1 3 :1.2 /",                    /* no profile */
    "+ 3 1 3 :1.2 / ",                   /* an empty profile name */
    "+ 3 1 3 :1.2 / \xff\xfe",           /* not UTF-8 */
    "+ 3 1 3 :1.2 / de\tfault",          /* a control character */
    "+ 3 1 3  :1.2 / default",           /* two spaces */
    "+ 99999999999 1 3 :1.2 / default",  /* more than 32 bits */
    "+ 4294967295 1 3 :1.2 / default",   /* the last token is never handed out */
    "* 3",
    "",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autofree char *text = g_strdup_printf (HEADER " 0\n+ 2 1 3 :1.1 / default\n%s\n"
                                                      "+ 8 1 3 :1.1 / default\n",
                                               lines[i]);
      g_autofree char *shown = g_strescape (lines[i], NULL);
      g_autoptr (GPtrArray) parsed = NULL;
      g_autoptr (GError) error = NULL;
      guint last_token;

      /* Escaped: TAP output is UTF-8, and some cases are not. */
      g_test_message ("case %u: '%s'", i, shown);
      parsed = parse (text, &last_token, &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "line 3"));
      g_assert_cmpuint (parsed->len, ==, 1);
      assert_record (g_ptr_array_index (parsed, 0), 2, 1, 3, ":1.1", NULL, "default");
      g_assert_cmpuint (last_token, ==, 2);
    }
}

static void
test_torn_line (Fixture *f, gconstpointer data)
{
  static const char text[] = HEADER " 0\n+ 2 1 3 :1.1 / default\n+ 3 1 3 :1.2 / defa";
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  guint last_token;

  parsed = parse (text, &last_token, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
  g_assert_cmpuint (parsed->len, ==, 1);
  g_assert_cmpuint (last_token, ==, 2);
}

static void
test_nul_byte (Fixture *f, gconstpointer data)
{
  static const char text[] = HEADER " 0\n+ 2 1 3 :1.1 / default\n+ 3 1 3 :1.2 / a\0b\n";
  g_autoptr (GPtrArray) parsed = NULL;
  g_autoptr (GError) error = NULL;
  guint last_token;

  parsed = os_journal_parse (text, sizeof text - 1, BUS_ID, &last_token, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpuint (parsed->len, ==, 1);
}

/* The file */

static OsJournal *
journal_new (Fixture *f)
{
  return os_journal_new (f->dir, BUS_ID, snapshot, f);
}

static GPtrArray *
load (Fixture *f, guint *last_token)
{
  g_autoptr (OsJournal) journal = journal_new (f);

  return os_journal_load (journal, last_token);
}

static void
test_missing (Fixture *f, gconstpointer data)
{
  g_autoptr (OsJournal) journal = journal_new (f);
  g_autoptr (GPtrArray) loaded = NULL;
  guint last_token = 99;

  g_assert_cmpstr (os_journal_get_path (journal), ==, f->path);
  loaded = os_journal_load (journal, &last_token);
  g_assert_cmpuint (loaded->len, ==, 0);
  g_assert_cmpuint (last_token, ==, 0);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
}

static void
test_append (Fixture *f, gconstpointer data)
{
  g_autoptr (OsJournal) journal = journal_new (f);
  g_autoptr (OsAdviseRecord) one = os_advise_record_new (1, 10, 3, ":1.4", NULL, PROFILE);
  g_autoptr (OsAdviseRecord) two = os_advise_record_new (2, 20, 1, ":1.5", "/cb", "default");
  g_autoptr (GPtrArray) loaded = NULL;
  g_autofree char *text = NULL;
  GStatBuf st;
  guint last_token;

  /* The first change writes the whole snapshot: here, the one advise it adds. */
  g_ptr_array_add (f->records, os_advise_record_new (1, 10, 3, ":1.4", NULL, PROFILE));
  os_journal_add (journal, one);
  os_journal_add (journal, two);
  os_journal_remove (journal, 1);
  text = read_file (f->path);
  g_assert_cmpstr (text, ==,
                   HEADER " 1\n+ 1 10 3 :1.4 / " PROFILE "\n+ 2 20 1 :1.5 /cb default\n- 1\n");
  g_assert_no_errno (g_stat (f->dir, &st));
  g_assert_cmpuint (st.st_mode & 0777, ==, 0700);
  g_assert_no_errno (g_stat (f->path, &st));
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);

  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 1);
  assert_record (g_ptr_array_index (loaded, 0), 2, 20, 1, ":1.5", "/cb", "default");
  g_assert_cmpuint (last_token, ==, 2);
}

/* Removed lines are dropped once they outnumber the live ones well: the file stays the
 * size of the live advises, however long the daemon runs. */
static void
test_rewrite (Fixture *f, gconstpointer data)
{
  g_autoptr (OsJournal) journal = journal_new (f);
  g_autoptr (GPtrArray) loaded = NULL;
  gsize longest = 0;
  guint last_token;

  g_ptr_array_add (f->records, os_advise_record_new (1, 1, 3, ":1.1", NULL, "default"));
  os_journal_add (journal, g_ptr_array_index (f->records, 0));
  for (guint token = 2; token < 2000; token++)
    {
      g_autoptr (OsAdviseRecord) r = os_advise_record_new (token, 0, 3, ":1.2", NULL, "default");
      g_autofree char *text = NULL;

      os_journal_add (journal, r);
      os_journal_remove (journal, token);
      text = read_file (f->path);
      longest = MAX (longest, strlen (text));
    }
  g_test_message ("longest file: %" G_GSIZE_FORMAT " bytes", longest);
  g_assert_cmpuint (longest, <, 200 * 32);

  /* The header remembers the tokens that were handed out and are gone. */
  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 1);
  assert_record (g_ptr_array_index (loaded, 0), 1, 1, 3, ":1.1", NULL, "default");
  g_assert_cmpuint (last_token, >=, 1999 - 200);
}

static void
test_rewrite_explicit (Fixture *f, gconstpointer data)
{
  g_autoptr (OsJournal) journal = journal_new (f);
  g_autofree char *text = NULL;

  g_ptr_array_add (f->records, os_advise_record_new (4, 0, 3, ":1.9", "/n", "default"));
  os_journal_rewrite (journal);
  text = read_file (f->path);
  g_assert_cmpstr (text, ==, HEADER " 4\n+ 4 0 3 :1.9 /n default\n");

  /* With nothing live, only the header stays: its token count still holds. */
  g_ptr_array_set_size (f->records, 0);
  os_journal_remove (journal, 4);
  g_free (text);
  text = read_file (f->path);
  g_assert_cmpstr (text, ==, HEADER " 4\n+ 4 0 3 :1.9 /n default\n- 4\n");
  os_journal_rewrite (journal);
  g_free (text);
  text = read_file (f->path);
  g_assert_cmpstr (text, ==, HEADER " 4\n");
}

/* The folder cannot be made: the change is logged, and the next one writes everything. */
static void
test_write_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (OsJournal) journal = journal_new (f);
  g_autoptr (GPtrArray) loaded = NULL;
  guint last_token;

  g_assert_true (g_file_set_contents (f->dir, "in the way", -1, NULL));
  g_ptr_array_add (f->records, os_advise_record_new (1, 1, 3, ":1.1", NULL, "default"));
  os_journal_add (journal, g_ptr_array_index (f->records, 0));
  warnings_assert_one ("Could not", "advises-" BUS_ID, NULL);
  g_ptr_array_add (f->records, os_advise_record_new (2, 2, 3, ":1.2", NULL, "default"));
  os_journal_add (journal, g_ptr_array_index (f->records, 1));
  warnings_assert_one ("Could not", "advises-" BUS_ID, NULL);

  g_assert_no_errno (g_remove (f->dir));
  g_ptr_array_add (f->records, os_advise_record_new (3, 3, 3, ":1.3", NULL, "default"));
  os_journal_add (journal, g_ptr_array_index (f->records, 2));
  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 3);
  g_assert_cmpuint (last_token, ==, 3);
}

static void
test_damaged_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) loaded = NULL;
  guint last_token;

  g_assert_no_errno (g_mkdir (f->dir, 0700));
  g_assert_true (
      g_file_set_contents (f->path, HEADER " 0\n+ 2 1 3 :1.1 / default\n+ 3 1", -1, NULL));
  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 1);
  warnings_assert_one (f->path, "cut short", NULL);

  /* Not a journal at all: set aside whole, not left to be replayed again. */
  g_assert_true (g_file_set_contents (f->path, "junk\n", -1, NULL));
  g_ptr_array_unref (loaded);
  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 0);
  warnings_assert_one (f->path, "No advises restored", "damaged", NULL);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));

  /* Not a regular file: never opened for reading (a FIFO would block), set aside too. */
  g_assert_no_errno (mkfifo (f->path, 0600));
  g_ptr_array_unref (loaded);
  loaded = load (f, &last_token);
  g_assert_cmpuint (loaded->len, ==, 0);
  warnings_assert_one (f->path, "not a regular file", NULL);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
}

/* A manager restores what an earlier run kept */

static const OsLimits limits = { 100, 2, 64, 16 };

static void
test_manager_restore (Fixture *f, gconstpointer data)
{
  static const char *const on_bus[] = { ":1.1", ":1.2", ":1.3", NULL };
  g_autoptr (OsManager) manager = os_manager_new (&limits, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *after = NULL;
  OsProfile *profile;
  guint token;

  os_manager_load (manager);
  profile = os_manager_lookup (manager, "default");
  g_assert_no_errno (g_mkdir (f->dir, 0700));
  g_assert_true (g_file_set_contents (f->path,
                                      HEADER " 40\n"
                                             "+ 5 50 3 :1.1 / default\n"
                                             "+ 6 60 1 :1.2 /cb default\n"
                                             "+ 7 70 3 :1.9 / default\n"   /* left */
                                             "+ 8 80 3 :1.1 / gone\n"      /* profile gone */
                                             "+ 9 90 3 :1.3 / default\n"   /* ... */
                                             "+ 10 91 3 :1.3 / default\n"  /* ... */
                                             "+ 11 92 3 :1.3 / default\n", /* over the limit */
                                      -1, NULL));
  g_assert_cmpuint (os_manager_restore_advises (manager, f->dir, BUS_ID, on_bus), ==, 4);
  warnings_assert_one ("11", ":1.3", "--max-advises-per-connection", NULL);
  g_assert_cmpuint (os_manager_get_n_advises (manager), ==, 4);
  g_assert_cmpuint (os_profile_get_advise_count (profile), ==, 4);

  /* Nothing is written before the manager is told to keep the advises. */
  text = read_file (f->path);
  g_assert_nonnull (strstr (text, "+ 11 92"));
  os_manager_keep_advises (manager);
  g_free (text);
  text = read_file (f->path);
  g_assert_cmpstr (text, ==,
                   HEADER " 40\n"
                          "+ 5 50 3 :1.1 / default\n"
                          "+ 6 60 1 :1.2 /cb default\n"
                          "+ 9 90 3 :1.3 / default\n"
                          "+ 10 91 3 :1.3 / default\n");

  /* New tokens follow the highest ever handed out; the restored ones are the clients'. */
  token = os_profile_advise (profile, ":1.2", OS_UID_UNKNOWN, 0, 0, 0, NULL, 1, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (token, ==, 41);
  g_assert_true (os_profile_unadvise (profile, ":1.1", 0, 5, &error));
  os_manager_client_vanished (manager, ":1.3");
  g_assert_cmpuint (os_manager_get_n_advises (manager), ==, 2);
  g_free (text);
  text = read_file (f->path);
  g_assert_true (g_str_has_suffix (text, "+ 41 0 3 :1.2 / default\n- 5\n- 9\n- 10\n") ||
                 g_str_has_suffix (text, "+ 41 0 3 :1.2 / default\n- 5\n- 10\n- 9\n"));

  /* A clean end of the manager keeps the advises for the next run. */
  g_clear_object (&manager);
  after = read_file (f->path);
  g_assert_cmpstr (after, ==, text);
}

int
main (int argc, char *argv[])
{
  warnings_capture ();
  g_test_init (&argc, &argv, NULL);

  FIXTURE_ADD ("/journal/format/round-trip", NULL, test_round_trip);
  FIXTURE_ADD ("/journal/format/replay", NULL, test_replay);
  FIXTURE_ADD ("/journal/format/not-a-journal", NULL, test_not_a_journal);
  FIXTURE_ADD ("/journal/format/bad-lines", NULL, test_bad_lines);
  FIXTURE_ADD ("/journal/format/torn-line", NULL, test_torn_line);
  FIXTURE_ADD ("/journal/format/nul-byte", NULL, test_nul_byte);
  FIXTURE_ADD ("/journal/file/missing", NULL, test_missing);
  FIXTURE_ADD ("/journal/file/append", NULL, test_append);
  FIXTURE_ADD ("/journal/file/rewrite", NULL, test_rewrite);
  FIXTURE_ADD ("/journal/file/rewrite-explicit", NULL, test_rewrite_explicit);
  FIXTURE_ADD ("/journal/file/write-fails", NULL, test_write_fails);
  FIXTURE_ADD ("/journal/file/damaged", NULL, test_damaged_file);
  FIXTURE_ADD ("/journal/manager/restore", NULL, test_manager_restore);

  return g_test_run ();
}
