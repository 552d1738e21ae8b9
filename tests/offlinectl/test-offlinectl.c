/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The real offlinectl ($OFFLINECTL) against the real daemon on a private bus, reached with
 * --address: what it prints, its exit statuses, and what the daemon sees. A fresh bus and
 * daemon for each case. Nothing sleeps: the test waits on output lines, process exits and
 * PropertiesChanged.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

#define WAIT_MS        20000
#define DEFAULT_PATH   OFFLINE_STATE_PROFILES_PATH "/default"
#define WORK           "Work (Exchange)"
#define WORK_PATH      OFFLINE_STATE_PROFILES_PATH "/Work_20_28Exchange_29"
#define SYSTEM_PYTHON  "/usr/bin/python3"
#define ERROR_EXISTS   "offlinectl: " OFFLINE_STATE_ERROR_EXISTS ": "
#define ERROR_NOTFOUND "offlinectl: " OFFLINE_STATE_ERROR_NOT_FOUND ": "
#define ERROR_PENDING  "offlinectl: " OFFLINE_STATE_ERROR_PENDING ": "
/* A time as monitor prints it: ISO 8601, local, milliseconds. */
#define TIME_RE                                                                                    \
  "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}(Z|[+-][0-9]{2}:[0-9]{2})"

/* Quotes, a backslash and characters beyond ASCII and beyond the BMP: JSON must escape them. */
static const char odd_name[] = "Caf\xc3\xa9 \"quoted\" back\\slash \xf0\x9f\x93\xa7";

typedef struct
{
  Harness h;
  char *address;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  harness_setup (&f->h, NULL);
  f->address = g_strdup_printf ("--address=%s", g_test_dbus_get_bus_address (f->h.bus));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->address, g_free);
  harness_teardown (&f->h);
}

/* Running offlinectl */

static GSubprocessLauncher *
launcher_new (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  /* "→" in monitor's lines, and no translation of anything. */
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  return launcher;
}

/* argv: offlinectl, @args (NULL-terminated), then --address unless @session_bus. */
static GPtrArray *
ctl_argv (Fixture *f, const char *const *args, gboolean session_bus)
{
  GPtrArray *argv = g_ptr_array_new ();
  const char *ctl = g_getenv ("OFFLINECTL");

  g_assert_nonnull (ctl);
  g_ptr_array_add (argv, (gpointer) ctl);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  if (!session_bus)
    g_ptr_array_add (argv, f->address);
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Runs offlinectl to its end; returns its exit status, its output in @out and @err. */
static int
run_full (Fixture *f, const char *const *args, gboolean session_bus, char **out, char **err)
{
  g_autoptr (GSubprocessLauncher) launcher =
      launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = ctl_argv (f, args, session_bus);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return g_subprocess_get_exit_status (process);
}

static int
run (Fixture *f, const char *const *args, char **out, char **err)
{
  return run_full (f, args, FALSE, out, err);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Runs offlinectl and asserts exit status 0, nothing on standard error; returns the output. */
static char *
run_ok (Fixture *f, const char *const *args)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = run (f, args, &out, &err);

  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  return out;
}

/* Asserts exit status 1, nothing on standard output, and one line on standard error that
 * starts with @prefix. */
static void
assert_refused (Fixture *f, const char *const *args, const char *prefix)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = run (f, args, &out, &err);

  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, prefix));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
}

/* A running offlinectl whose output is read line by line as it comes */

typedef struct
{
  GDataInputStream *stream;
  GPtrArray *lines;
  gboolean eof;
} LineReader;

typedef struct
{
  GSubprocess *process;
  LineReader out;
  LineReader err;
  gboolean exited;
  GCancellable *cancellable;
} Running;

static void read_next (LineReader *reader);

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  LineReader *reader = user_data;
  g_autoptr (GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                          NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_assert_no_error (error);
  if (line == NULL)
    {
      reader->eof = TRUE;
      return;
    }
  g_ptr_array_add (reader->lines, line);
  read_next (reader);
}

/* Reads until the end of the stream: the process's exit ends it. */
static void
read_next (LineReader *reader)
{
  g_data_input_stream_read_line_async (reader->stream, G_PRIORITY_DEFAULT, NULL, on_line, reader);
}

static void
reader_init (LineReader *reader, GInputStream *pipe)
{
  reader->stream = g_data_input_stream_new (pipe);
  reader->lines = g_ptr_array_new_with_free_func (g_free);
  read_next (reader);
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error) &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  *(gboolean *) user_data = TRUE;
}

static Running *
start (Fixture *f, const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher =
      launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) argv = ctl_argv (f, args, FALSE);
  g_autoptr (GError) error = NULL;
  Running *running = g_new0 (Running, 1);

  running->process =
      g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  running->cancellable = g_cancellable_new ();
  reader_init (&running->out, g_subprocess_get_stdout_pipe (running->process));
  reader_init (&running->err, g_subprocess_get_stderr_pipe (running->process));
  g_subprocess_wait_async (running->process, running->cancellable, on_exited, &running->exited);
  return running;
}

/* Waits for the process's end and for the end of both its outputs; returns its status. */
static int
finish (Running *running)
{
  harness_wait_flag (&running->exited, WAIT_MS);
  harness_wait_flag (&running->out.eof, WAIT_MS);
  harness_wait_flag (&running->err.eof, WAIT_MS);
  g_assert_true (g_subprocess_get_if_exited (running->process));
  return g_subprocess_get_exit_status (running->process);
}

static void
running_free (Running *running)
{
  /* Every read has ended (finish() waited for both ends): nothing points at @running. */
  g_assert_true (running->exited && running->out.eof && running->err.eof);
  g_cancellable_cancel (running->cancellable);
  g_clear_object (&running->cancellable);
  g_clear_object (&running->out.stream);
  g_clear_object (&running->err.stream);
  g_clear_pointer (&running->out.lines, g_ptr_array_unref);
  g_clear_pointer (&running->err.lines, g_ptr_array_unref);
  g_clear_object (&running->process);
  g_free (running);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Running, running_free)

static const char *
line (LineReader *reader, guint index)
{
  g_assert_cmpuint (index, <, reader->lines->len);
  return reader->lines->pdata[index];
}

/* The daemon's side */

/* Waits until AdviseCount of the offline object at @path is @want. It watches before it
 * reads, so that no change slips between. */
static void
wait_advise_count (Fixture *f, const char *path, guint want)
{
  g_autoptr (HarnessPropsWatch) watch = harness_props_watch_new (f->h.client, path, NULL);

  watch->want_advise_count = want;
  if (harness_get_uint (f->h.client, path, "AdviseCount") == want)
    watch->advise_count_reached = TRUE;
  harness_wait_flag (&watch->advise_count_reached, WAIT_MS);
}

static void
set_transition_delay (Fixture *f, const char *path, guint ms)
{
  g_autoptr (GVariant) reply =
      harness_call_ok (f->h.client, path, OFFLINE_STATE_EMULATION_INTERFACE, "SetTransitionDelay",
                       g_variant_new ("(u)", ms));
}

/* The advises of offlinectl processes that have exited are gone once the daemon has seen
 * them leave: wait for that before a status that counts advises. */
static void
wait_no_advises (Fixture *f, const char *const *profiles)
{
  for (guint i = 0; profiles[i] != NULL; i++)
    {
      g_autofree char *path = harness_profile_path (profiles[i]);

      wait_advise_count (f, path, 0);
    }
}

/* JSON, checked by Python's own parser: runs @script on @input, returns its output. */
static char *
python (const char *script, const char *input)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                 G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;

  g_subprocess_launcher_setenv (launcher, "PYTHONIOENCODING", "utf-8", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, SYSTEM_PYTHON, "-c", script, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_subprocess_get_successful (process));
  return out;
}

static void
assert_matches (const char *pattern, const char *text)
{
  if (!g_regex_match_simple (pattern, text, 0, 0))
    g_error ("'%s' does not match /%s/", text, pattern);
}

/* Cases */

static void
test_help (Fixture *f, gconstpointer data)
{
  g_autofree char *help = run_ok (f, ARGS ("--help"));
  g_autofree char *help_command = run_ok (f, ARGS ("help"));
  g_autofree char *create_help = run_ok (f, ARGS ("help", "create"));
  g_autofree char *wait_help = run_ok (f, ARGS ("wait", "--help"));
  g_autofree char *version = run_ok (f, ARGS ("--version"));
  const char *const commands[] = { "status",  "online",   "offline", "wait",
                                   "monitor", "profiles", "create",  "remove" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *pattern = g_strdup_printf ("\n  %s ", commands[i]);

      g_assert_nonnull (strstr (help, pattern));
    }
  g_assert_cmpstr (help, ==, help_command);
  g_assert_nonnull (strstr (create_help, "create NAME"));
  g_assert_nonnull (strstr (create_help, "--capabilities=CAPABILITIES"));
  g_assert_nonnull (strstr (wait_help, "--timeout=SECONDS"));
  g_assert_nonnull (strstr (wait_help, "--address=ADDRESS"));
  g_assert_cmpstr (version, ==, "offlinectl " PACKAGE_VERSION "\n");
}

static void
test_status (Fixture *f, gconstpointer data)
{
  g_autofree char *text = NULL;
  g_autofree char *json = NULL;
  g_autofree char *fields = NULL;
  g_autofree char *implicit = NULL;
  g_autofree char *one = NULL;

  g_free (run_ok (f, ARGS ("create", WORK, "--capabilities=offline", "--state=offline")));
  g_free (run_ok (f, ARGS ("create", odd_name, "--capabilities=none")));
  text = run_ok (f, ARGS ("status"));
  g_assert_cmpstr (text, ==,
                   "Caf\xc3\xa9 \"quoted\" back\\slash \xf0\x9f\x93\xa7:\n"
                   "    State:         online\n"
                   "    Capabilities:  none\n"
                   "    Transitioning: no\n"
                   "    Sequence:      0\n"
                   "    Advises:       0\n"
                   "\n"
                   "Work (Exchange):\n"
                   "    State:         offline\n"
                   "    Capabilities:  offline\n"
                   "    Transitioning: no\n"
                   "    Sequence:      0\n"
                   "    Advises:       0\n"
                   "\n"
                   "default:\n"
                   "    State:         online\n"
                   "    Capabilities:  offline, online\n"
                   "    Transitioning: no\n"
                   "    Sequence:      0\n"
                   "    Advises:       0\n");
  /* status is the default command; the bus options go before or after it. */
  wait_no_advises (f, ARGS (odd_name, WORK, "default"));
  implicit = run_ok (f, ARGS (f->address, "status"));
  g_assert_cmpstr (implicit, ==, text);

  wait_no_advises (f, ARGS (odd_name, WORK, "default"));
  json = run_ok (f, ARGS ("status", "--json"));
  g_assert_cmpstr (json, ==,
                   "{\"profiles\":["
                   "{\"name\":\"Caf\\u00e9 \\\"quoted\\\" back\\\\slash \\ud83d\\udce7\","
                   "\"state\":\"online\",\"capabilities\":[],\"transitioning\":false,"
                   "\"sequence\":0,\"advise_count\":0},"
                   "{\"name\":\"Work (Exchange)\",\"state\":\"offline\",\"capabilities\":"
                   "[\"offline\"],\"transitioning\":false,\"sequence\":0,\"advise_count\":0},"
                   "{\"name\":\"default\",\"state\":\"online\",\"capabilities\":"
                   "[\"offline\",\"online\"],\"transitioning\":false,\"sequence\":0,"
                   "\"advise_count\":0}]}\n");
  fields = python ("import json, sys\n"
                   "for p in json.load(sys.stdin)['profiles']:\n"
                   "    print(p['name'], p['state'], ','.join(p['capabilities']), sep='|')\n",
                   json);
  g_assert_cmpstr (fields, ==,
                   "Caf\xc3\xa9 \"quoted\" back\\slash \xf0\x9f\x93\xa7|online|\n"
                   "Work (Exchange)|offline|offline\n"
                   "default|online|offline,online\n");

  wait_no_advises (f, ARGS (WORK));
  one = run_ok (f, ARGS ("status", "--profile", WORK, "--json"));
  g_assert_cmpstr (one, ==,
                   "{\"profiles\":[{\"name\":\"Work (Exchange)\",\"state\":\"offline\","
                   "\"capabilities\":[\"offline\"],\"transitioning\":false,\"sequence\":0,"
                   "\"advise_count\":0}]}\n");
  assert_refused (f, ARGS ("status", "--profile=nobody"), ERROR_NOTFOUND);
}

static void
test_session_bus (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  /* GTestDBus put the private bus in DBUS_SESSION_BUS_ADDRESS: --user, the default, finds it. */
  g_assert_cmpint (run_full (f, ARGS ("profiles"), TRUE, &out, &err), ==, 0);
  g_assert_cmpstr (out, ==, "default\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_full (f, ARGS ("--user", "profiles"), TRUE, &out, &err), ==, 0);
  g_assert_cmpstr (out, ==, "default\n");
  g_assert_cmpstr (err, ==, "");
}

static void
test_set_state (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *text = NULL;
  gint64 before;

  /* Blocking: when offlinectl returns, the transition is over. */
  set_transition_delay (f, DEFAULT_PATH, 300);
  before = g_get_monotonic_time ();
  out = run_ok (f, ARGS ("offline"));
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpint (g_get_monotonic_time () - before, >=, 300 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "State"), ==, 1);
  g_assert_false (harness_get_transitioning (f->h.client, DEFAULT_PATH));
  g_assert_cmpuint (harness_get_sequence (f->h.client, DEFAULT_PATH), ==, 1);

  /* Asking for the current state changes nothing. */
  g_free (run_ok (f, ARGS ("offline", "--profile=default")));
  g_assert_cmpuint (harness_get_sequence (f->h.client, DEFAULT_PATH), ==, 1);

  /* --no-block: it returns while the transition still runs, and another one is refused. */
  set_transition_delay (f, DEFAULT_PATH, 3000);
  g_free (run_ok (f, ARGS ("online", "--no-block")));
  g_assert_true (harness_get_transitioning (f->h.client, DEFAULT_PATH));
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "State"), ==, 1);
  assert_refused (f, ARGS ("offline"), ERROR_PENDING "E_PENDING (0x8000000A): ");
  g_free (run_ok (f, ARGS ("wait", "online")));
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "State"), ==, 2);
  g_assert_cmpuint (harness_get_sequence (f->h.client, DEFAULT_PATH), ==, 2);

  /* Another profile, and the status of both afterwards. */
  set_transition_delay (f, DEFAULT_PATH, 0);
  g_free (run_ok (f, ARGS ("create", WORK)));
  g_free (run_ok (f, ARGS ("offline", "--profile", WORK, "--no-block")));
  g_free (run_ok (f, ARGS ("wait", "offline", "--profile", WORK, "--timeout=10")));
  wait_no_advises (f, ARGS (WORK, "default"));
  text = run_ok (f, ARGS ("status"));
  g_assert_cmpstr (text, ==,
                   "Work (Exchange):\n"
                   "    State:         offline\n"
                   "    Capabilities:  offline, online\n"
                   "    Transitioning: no\n"
                   "    Sequence:      1\n"
                   "    Advises:       0\n"
                   "\n"
                   "default:\n"
                   "    State:         online\n"
                   "    Capabilities:  offline, online\n"
                   "    Transitioning: no\n"
                   "    Sequence:      2\n"
                   "    Advises:       0\n");
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GVariant) reply = NULL;

  /* Any error of the service: its D-Bus name and its message, exit status 1. */
  reply = harness_call_ok (
      f->h.client, DEFAULT_PATH, OFFLINE_STATE_EMULATION_INTERFACE, "FailNext",
      g_variant_new ("(ssu)", "SetCurrentState", OFFLINE_STATE_ERROR_ACCESS_DENIED, 1));
  assert_refused (f, ARGS ("offline"),
                  "offlinectl: " OFFLINE_STATE_ERROR_ACCESS_DENIED
                  ": injected by Emulation.FailNext\n");
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "State"), ==, 2);
  assert_refused (f, ARGS ("online", "--profile=nobody"), ERROR_NOTFOUND);
  assert_refused (f, ARGS ("create", ""),
                  "offlinectl: " OFFLINE_STATE_ERROR_INVALID_ARGS ": E_INVALIDARG (0x80070057): ");
}

static void
test_no_bus (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("offlinectl-test-XXXXXX", NULL);
  g_autofree char *address = g_strdup_printf ("--address=unix:path=%s/none", dir);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run_full (f, ARGS ("status", address), TRUE, &out, &err), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "offlinectl: cannot connect to the bus: "));
  g_rmdir (dir);
}

static void
test_profiles (Fixture *f, gconstpointer data)
{
  g_autofree char *list = NULL;
  g_autofree char *after = NULL;
  g_autofree char *work = NULL;
  g_autofree char *odd = NULL;

  g_free (run_ok (f, ARGS ("create", WORK, "--capabilities", "online, offline")));
  g_free (run_ok (f, ARGS ("create", odd_name, "-c", "2", "-s", "offline")));
  assert_refused (f, ARGS ("create", WORK), ERROR_EXISTS);
  assert_refused (f, ARGS ("create", "default", "--state=offline"), ERROR_EXISTS);

  list = run_ok (f, ARGS ("profiles"));
  g_assert_cmpstr (
      list, ==, "Caf\xc3\xa9 \"quoted\" back\\slash \xf0\x9f\x93\xa7\nWork (Exchange)\ndefault\n");
  work = run_ok (f, ARGS ("status", "-p", WORK));
  g_assert_nonnull (strstr (work, "    Capabilities:  offline, online\n"));
  g_assert_nonnull (strstr (work, "    State:         online\n"));
  odd = run_ok (f, ARGS ("status", "-p", odd_name));
  g_assert_nonnull (strstr (odd, "    Capabilities:  online\n"));
  g_assert_nonnull (strstr (odd, "    State:         offline\n"));

  g_free (run_ok (f, ARGS ("remove", WORK)));
  g_free (run_ok (f, ARGS ("remove", odd_name)));
  assert_refused (f, ARGS ("remove", WORK), ERROR_NOTFOUND);
  after = run_ok (f, ARGS ("profiles"));
  g_assert_cmpstr (after, ==, "default\n");
}

static void
test_wait_already (Fixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;

  g_free (run_ok (f, ARGS ("wait", "online")));
  g_free (run_ok (f, ARGS ("wait", "online", "--timeout=0")));
  g_free (run_ok (f, ARGS ("wait", "online", "--timeout=0.5", "--profile=default")));
  g_assert_cmpint (run (f, ARGS ("wait", "offline", "--timeout=0"), NULL, &err), ==, 1);
  g_assert_cmpstr (err, ==, "offlinectl: timed out after 0 s: profile 'default' is not offline\n");
  assert_refused (f, ARGS ("wait", "online", "--profile=nobody"), ERROR_NOTFOUND);
}

static void
test_wait_timeout (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gint64 before = g_get_monotonic_time ();

  g_assert_cmpint (run (f, ARGS ("wait", "offline", "--timeout=1"), &out, &err), ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - before, >=, G_TIME_SPAN_SECOND);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpstr (err, ==, "offlinectl: timed out after 1 s: profile 'default' is not offline\n");
  wait_advise_count (f, DEFAULT_PATH, 0);
}

/* wait advises first: a transition that another process starts afterwards ends the wait. */
static void
test_wait_later (Fixture *f, gconstpointer data)
{
  g_autoptr (Running) waiting = NULL;
  g_autoptr (Running) waiting_none = NULL;

  g_free (run_ok (f, ARGS ("create", WORK, "--capabilities=none")));
  waiting = start (f, ARGS ("wait", "offline", "--timeout=60"));
  /* A profile whose transitions notify nobody: wait follows its State all the same. */
  waiting_none = start (f, ARGS ("wait", "offline", "--profile", WORK));
  wait_advise_count (f, DEFAULT_PATH, 1);
  wait_advise_count (f, WORK_PATH, 1);

  set_transition_delay (f, DEFAULT_PATH, 500);
  g_free (run_ok (f, ARGS ("offline", "--no-block")));
  g_free (run_ok (f, ARGS ("offline", "--no-block", "--profile", WORK)));
  g_assert_cmpint (finish (waiting), ==, 0);
  g_assert_cmpint (finish (waiting_none), ==, 0);
  /* It returned once the state was offline, not before. */
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "State"), ==, 1);
  g_assert_cmpuint (waiting->out.lines->len + waiting->err.lines->len, ==, 0);
  g_assert_cmpuint (waiting_none->out.lines->len + waiting_none->err.lines->len, ==, 0);
}

static void
assert_monitor_line (const char *text, const char *profile, const char *phase, guint sequence)
{
  g_autofree char *escaped = g_regex_escape_string (profile, -1);
  g_autofree char *pattern = g_strdup_printf ("^" TIME_RE " %s %s online → offline, sequence %u$",
                                              escaped, phase, sequence);

  assert_matches (pattern, text);
}

static void
assert_monitor_json (const char *text, const char *phase)
{
  g_autofree char *pattern = g_strdup_printf (
      "^\\{\"time\":\"" TIME_RE "\",\"profile\":\"Work \\(Exchange\\)\",\"phase\":\"%s\","
      "\"old_state\":\"online\",\"new_state\":\"offline\",\"sequence\":1\\}$",
      phase);

  assert_matches (pattern, text);
}

static void
test_monitor (Fixture *f, gconstpointer data)
{
  g_autoptr (Running) all = NULL;
  g_autoptr (Running) work = NULL;
  g_autoptr (GString) json_lines = g_string_new (NULL);
  g_autofree char *parsed = NULL;

  g_free (run_ok (f, ARGS ("create", WORK)));
  all = start (f, ARGS ("monitor"));
  work = start (f, ARGS ("monitor", "--json", "--profile", WORK));
  harness_wait_count (&all->err.lines->len, 1, WAIT_MS);
  harness_wait_count (&work->err.lines->len, 1, WAIT_MS);
  g_assert_cmpstr (line (&all->err, 0), ==,
                   "Monitoring 'Work (Exchange)', 'default'; press Ctrl+C to stop.");
  g_assert_cmpstr (line (&work->err, 0), ==, "Monitoring 'Work (Exchange)'; press Ctrl+C to stop.");
  /* Advised before the message: the daemon counts them. */
  g_assert_cmpuint (harness_get_uint (f->h.client, DEFAULT_PATH, "AdviseCount"), ==, 1);
  g_assert_cmpuint (harness_get_uint (f->h.client, WORK_PATH, "AdviseCount"), ==, 2);

  /* Transitions made by other offlinectl processes. */
  g_free (run_ok (f, ARGS ("offline")));
  g_free (run_ok (f, ARGS ("offline", "--profile", WORK)));
  harness_wait_count (&all->out.lines->len, 6, WAIT_MS);
  harness_wait_count (&work->out.lines->len, 3, WAIT_MS);
  assert_monitor_line (line (&all->out, 0), "default", "START", 1);
  assert_monitor_line (line (&all->out, 1), "default", "STATECHANGE", 1);
  assert_monitor_line (line (&all->out, 2), "default", "DONE", 1);
  assert_monitor_line (line (&all->out, 3), WORK, "START", 1);
  assert_monitor_line (line (&all->out, 4), WORK, "STATECHANGE", 1);
  assert_monitor_line (line (&all->out, 5), WORK, "DONE", 1);
  assert_monitor_json (line (&work->out, 0), "START");
  assert_monitor_json (line (&work->out, 1), "STATECHANGE");
  assert_monitor_json (line (&work->out, 2), "DONE");

  /* SIGINT and SIGTERM: a clean exit, and the advises are gone. */
  g_subprocess_send_signal (all->process, SIGINT);
  g_subprocess_send_signal (work->process, SIGTERM);
  g_assert_cmpint (finish (all), ==, 0);
  g_assert_cmpint (finish (work), ==, 0);
  g_assert_cmpuint (all->out.lines->len, ==, 6);
  g_assert_cmpuint (work->out.lines->len, ==, 3);
  g_assert_cmpuint (all->err.lines->len, ==, 1);
  wait_advise_count (f, DEFAULT_PATH, 0);
  wait_advise_count (f, WORK_PATH, 0);

  for (guint i = 0; i < work->out.lines->len; i++)
    g_string_append_printf (json_lines, "%s\n", line (&work->out, i));
  parsed = python ("import json, sys\n"
                   "for l in sys.stdin:\n"
                   "    n = json.loads(l)\n"
                   "    print(n['profile'], n['phase'], n['old_state'], n['new_state'],\n"
                   "          n['sequence'], sep='|')\n",
                   json_lines->str);
  g_assert_cmpstr (parsed, ==,
                   "Work (Exchange)|START|online|offline|1\n"
                   "Work (Exchange)|STATECHANGE|online|offline|1\n"
                   "Work (Exchange)|DONE|online|offline|1\n");
}

/* The monitor outlives the service: it says so, and follows the next instance. */
static void
test_monitor_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (Running) monitor = start (f, ARGS ("monitor"));

  harness_wait_count (&monitor->err.lines->len, 1, WAIT_MS);
  g_assert_cmpint (harness_stop_daemon (&f->h), ==, 0);
  harness_wait_count (&monitor->err.lines->len, 2, WAIT_MS);
  g_assert_cmpstr (line (&monitor->err, 1), ==,
                   "offlinectl: the service left the bus; waiting for it to come back");
  harness_start_daemon (&f->h, NULL);
  harness_wait_count (&monitor->err.lines->len, 3, WAIT_MS);
  g_assert_cmpstr (line (&monitor->err, 2), ==, "offlinectl: the service is back");

  g_free (run_ok (f, ARGS ("offline")));
  harness_wait_count (&monitor->out.lines->len, 3, WAIT_MS);
  assert_monitor_line (line (&monitor->out, 0), "default", "START", 1);
  assert_monitor_line (line (&monitor->out, 2), "default", "DONE", 1);
  g_subprocess_send_signal (monitor->process, SIGINT);
  g_assert_cmpint (finish (monitor), ==, 0);
  wait_advise_count (f, DEFAULT_PATH, 0);
}

/* A monitor counts in status as another client's advise. */
static void
test_status_advises (Fixture *f, gconstpointer data)
{
  g_autoptr (Running) monitor = start (f, ARGS ("monitor", "-p", "default"));
  g_autofree char *json = NULL;

  harness_wait_count (&monitor->err.lines->len, 1, WAIT_MS);
  json = run_ok (f, ARGS ("status", "--json"));
  g_assert_nonnull (strstr (json, "\"advise_count\":1}"));
  g_subprocess_send_signal (monitor->process, SIGINT);
  g_assert_cmpint (finish (monitor), ==, 0);
}

static void
assert_usage_error (Fixture *f, const char *const *args, const char *message)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run (f, args, &out, &err), ==, 2);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpstr (err, ==, message);
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *list = NULL;

  assert_usage_error (f, ARGS ("frobnicate"),
                      "offlinectl: unknown command 'frobnicate' (see 'offlinectl --help')\n");
  assert_usage_error (f, ARGS ("help", "frobnicate"),
                      "offlinectl: unknown command 'frobnicate' (see 'offlinectl --help')\n");
  assert_usage_error (f, ARGS ("status", "--bogus"),
                      "offlinectl: Unknown option --bogus (see 'offlinectl status --help')\n");
  assert_usage_error (f, ARGS ("profiles", "extra"),
                      "offlinectl: too many arguments (see 'offlinectl profiles --help')\n");
  assert_usage_error (f, ARGS ("create"),
                      "offlinectl: missing the profile NAME (see 'offlinectl create --help')\n");
  assert_usage_error (f, ARGS ("remove"),
                      "offlinectl: missing the profile NAME (see 'offlinectl remove --help')\n");
  assert_usage_error (f, ARGS ("create", "x", "--capabilities=sideways"),
                      "offlinectl: --capabilities: 'sideways' is not offline,online, offline, "
                      "online, none, or 0 to 3 (see 'offlinectl create --help')\n");
  assert_usage_error (f, ARGS ("create", "x", "--capabilities=4"),
                      "offlinectl: --capabilities: '4' is not offline,online, offline, online, "
                      "none, or 0 to 3 (see 'offlinectl create --help')\n");
  assert_usage_error (f, ARGS ("create", "x", "--capabilities=offline,"),
                      "offlinectl: --capabilities: 'offline,' is not offline,online, offline, "
                      "online, none, or 0 to 3 (see 'offlinectl create --help')\n");
  assert_usage_error (f, ARGS ("create", "x", "--state=maybe"),
                      "offlinectl: --state: 'maybe' is not online or offline (see 'offlinectl "
                      "create --help')\n");
  assert_usage_error (f, ARGS ("wait"),
                      "offlinectl: missing the state to wait for (online or offline) (see "
                      "'offlinectl wait --help')\n");
  assert_usage_error (f, ARGS ("wait", "sideways"),
                      "offlinectl: 'sideways' is not online or offline (see 'offlinectl wait "
                      "--help')\n");
  assert_usage_error (f, ARGS ("wait", "online", "--timeout=soon"),
                      "offlinectl: --timeout: 'soon' is not a number of seconds (see "
                      "'offlinectl wait --help')\n");
  assert_usage_error (f, ARGS ("wait", "online", "--timeout=-1"),
                      "offlinectl: --timeout: '-1' is not a number of seconds (see "
                      "'offlinectl wait --help')\n");
  assert_usage_error (f, ARGS ("wait", "online", "--timeout=1e3"),
                      "offlinectl: --timeout: '1e3' is not a number of seconds (see "
                      "'offlinectl wait --help')\n");
  assert_usage_error (f, ARGS ("online", "--system"),
                      "offlinectl: --user, --system and --address exclude each other (see "
                      "'offlinectl online --help')\n");
  /* Nothing reached the service. */
  list = run_ok (f, ARGS ("profiles"));
  g_assert_cmpstr (list, ==, "default\n");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/offlinectl/help", Fixture, NULL, setup, test_help, teardown);
  g_test_add ("/offlinectl/status", Fixture, NULL, setup, test_status, teardown);
  g_test_add ("/offlinectl/status/advises", Fixture, NULL, setup, test_status_advises, teardown);
  g_test_add ("/offlinectl/session-bus", Fixture, NULL, setup, test_session_bus, teardown);
  g_test_add ("/offlinectl/no-bus", Fixture, NULL, setup, test_no_bus, teardown);
  g_test_add ("/offlinectl/set-state", Fixture, NULL, setup, test_set_state, teardown);
  g_test_add ("/offlinectl/refused", Fixture, NULL, setup, test_refused, teardown);
  g_test_add ("/offlinectl/profiles", Fixture, NULL, setup, test_profiles, teardown);
  g_test_add ("/offlinectl/wait/already", Fixture, NULL, setup, test_wait_already, teardown);
  g_test_add ("/offlinectl/wait/later", Fixture, NULL, setup, test_wait_later, teardown);
  g_test_add ("/offlinectl/wait/timeout", Fixture, NULL, setup, test_wait_timeout, teardown);
  g_test_add ("/offlinectl/monitor", Fixture, NULL, setup, test_monitor, teardown);
  g_test_add ("/offlinectl/monitor/restart", Fixture, NULL, setup, test_monitor_restart, teardown);
  g_test_add ("/offlinectl/usage", Fixture, NULL, setup, test_usage, teardown);

  return g_test_run ();
}
