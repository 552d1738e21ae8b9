/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The bus layer in the test's own process (issue 14): an ephemeral OsManager served by
 * OsBusManager on one connection to a private bus (GTestDBus), a client on another, both in
 * the test's one main context. The client never waits in a *_sync call for this process's
 * service, which could then never answer: it calls, and iterates the main context until the
 * reply. The export, the emulation layer and its absence, the argument checks that the XML
 * names, FailNext, and AdviseCount's signals and reads. The integration suite tests the same
 * layer in the real daemon, a subprocess.
 */
#include "harness.h"
#include "mapi-prefixes.h"
#include "os-bus-dispatch.h"
#include "os-bus-manager.h"
#include "spin.h"

#define DEFAULT_PATH             OFFLINE_STATE_PROFILES_PATH "/" OFFLINE_STATE_DEFAULT_PROFILE
#define PROPERTIES_INTERFACE     "org.freedesktop.DBus.Properties"
#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define INJECTED_MESSAGE         "injected by Emulation.FailNext"
#define BOOM                     "org.example.Error.Boom"

#define OFFLINE MAPIOFFLINE_STATE_OFFLINE
#define ONLINE  MAPIOFFLINE_STATE_ONLINE
#define BLOCK   MAPIOFFLINE_FLAG_BLOCK

typedef struct
{
  char *path;
  char *member;
  GVariant *parameters;
} Signal;

typedef struct
{
  GTestDBus *bus;
  GDBusConnection *service_connection;
  GDBusConnection *client;
  OsManager *manager;
  OsBusManager *bus_manager;
  guint owner_id;
  gboolean name_acquired;
  guint subscription_id;
  GPtrArray *signals; /* Signal: what the client received from the service, in order */
} Fixture;

static void
signal_free (Signal *signal)
{
  g_free (signal->path);
  g_free (signal->member);
  g_variant_unref (signal->parameters);
  g_free (signal);
}

static void
on_signal (GDBusConnection *connection,
           const char *sender,
           const char *path,
           const char *interface,
           const char *member,
           GVariant *parameters,
           gpointer user_data)
{
  Fixture *f = user_data;
  Signal *signal = g_new0 (Signal, 1);

  signal->path = g_strdup (path);
  signal->member = g_strdup (member);
  signal->parameters = g_variant_ref (parameters);
  g_ptr_array_add (f->signals, signal);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  ((Fixture *) user_data)->name_acquired = TRUE;
}

static gboolean
flag_is_set (gconstpointer flag)
{
  return *(const gboolean *) flag;
}

/* As the daemon does it (os-daemon-serve.c): the objects on the bus, then the name. */
static void
fixture_setup (Fixture *f, gconstpointer emulation)
{
  OsLimits limits = OS_LIMITS_DEFAULT;
  g_autoptr (GError) error = NULL;
  const char *address;

  f->bus = harness_bus_up ();
  address = g_test_dbus_get_bus_address (f->bus);
  f->service_connection = harness_connect_to (address);
  f->client = harness_connect_to (address);
  f->signals = g_ptr_array_new_with_free_func ((GDestroyNotify) signal_free);
  f->subscription_id = g_dbus_connection_signal_subscribe (
      f->client, g_dbus_connection_get_unique_name (f->service_connection), NULL, NULL, NULL, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_signal, f, NULL);

  f->manager = os_manager_new (&limits, NULL);
  os_manager_load (f->manager);
  f->bus_manager =
      os_bus_manager_new (f->manager, f->service_connection, GPOINTER_TO_INT (emulation), FALSE);
  g_assert_true (os_bus_manager_export (f->bus_manager, &error));
  g_assert_no_error (error);
  f->owner_id =
      g_bus_own_name_on_connection (f->service_connection, OFFLINE_STATE_BUS_NAME,
                                    G_BUS_NAME_OWNER_FLAGS_NONE, on_name_acquired, NULL, f, NULL);
  spin_until (flag_is_set, &f->name_acquired);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_dbus_connection_signal_unsubscribe (f->client, f->subscription_id);
  g_bus_unown_name (f->owner_id);
  g_clear_object (&f->bus_manager);
  g_clear_object (&f->manager);
  g_dbus_connection_close_sync (f->client, NULL, NULL);
  g_dbus_connection_close_sync (f->service_connection, NULL, NULL);
  g_clear_object (&f->client);
  g_clear_object (&f->service_connection);
  g_clear_pointer (&f->signals, g_ptr_array_unref);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_test_dbus_down (f->bus);
  g_clear_object (&f->bus);
}

/* Calls, sent at once and waited for by iterating the main context */

static gboolean
pending_is_done (gconstpointer pending)
{
  return ((const HarnessPending *) pending)->done;
}

/* Waits for @pending's reply: the reply, or NULL and @error. */
static GVariant *
pending_finish (HarnessPending *pending, GError **error)
{
  spin_until (pending_is_done, pending);
  if (pending->error != NULL)
    g_propagate_error (error, g_steal_pointer (&pending->error));
  return g_steal_pointer (&pending->reply);
}

static GVariant *
call (Fixture *f,
      const char *path,
      const char *interface,
      const char *method,
      GVariant *parameters,
      GError **error)
{
  HarnessPending pending;

  harness_call_begin (f->client, path, interface, method, parameters, &pending);
  return pending_finish (&pending, error);
}

static GVariant *
call_ok (
    Fixture *f, const char *path, const char *interface, const char *method, GVariant *parameters)
{
  g_autoptr (GError) error = NULL;
  GVariant *reply = call (f, path, interface, method, parameters, &error);

  g_assert_no_error (error);
  return reply;
}

/* The call's error; NULL when it succeeded. */
static GError *
call_error (
    Fixture *f, const char *path, const char *interface, const char *method, GVariant *parameters)
{
  GError *error = NULL;
  g_autoptr (GVariant) reply = call (f, path, interface, method, parameters, &error);

  return error;
}

static GError *
offline_mgr_call (Fixture *f, const char *path, const char *method, GVariant *parameters)
{
  return call_error (f, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, method, parameters);
}

/* @error, a call's, is NULL: the call succeeded. */
static void
expect_ok (GError *error)
{
  g_assert_no_error (error);
}

/* @error (freed here) is the D-Bus error @dbus_name, with a message that starts with
 * @message_prefix (if not NULL). */
static void
expect_error (GError *error, const char *dbus_name, const char *message_prefix)
{
  harness_assert_dbus_error (error, dbus_name, message_prefix);
  g_error_free (error);
}

static void
expect_injected (GError *error, const char *dbus_name)
{
  expect_error (error, dbus_name, INJECTED_MESSAGE);
}

/* What GDBus answers, before any code of ours, for an object that is not there (not_there),
 * or an interface that the object lacks (not_on_object). */
static const char *const not_there[] = {
  "org.freedesktop.DBus.Error.UnknownObject",
  "org.freedesktop.DBus.Error.UnknownMethod",
  NULL,
};
static const char *const not_on_object[] = {
  "org.freedesktop.DBus.Error.UnknownInterface",
  "org.freedesktop.DBus.Error.UnknownMethod",
  NULL,
};

/* @error (freed here) is one of @names. */
static void
expect_not_served (GError *error, const char *const *names)
{
  g_autoptr (GError) owned = error;
  g_autofree char *name = NULL;

  g_assert_nonnull (error);
  name = g_dbus_error_get_remote_error (error);
  if (name == NULL || !g_strv_contains (names, name))
    g_error ("expected GDBus to refuse the call, got %s: %s", name, error->message);
}

static GVariant *
get_property (Fixture *f, const char *path, const char *interface, const char *name)
{
  g_autoptr (GVariant) reply =
      call_ok (f, path, PROPERTIES_INTERFACE, "Get", g_variant_new ("(ss)", interface, name));
  GVariant *value;

  g_variant_get (reply, "(v)", &value);
  return value;
}

static guint
get_uint (Fixture *f, const char *path, const char *name)
{
  g_autoptr (GVariant) value = get_property (f, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, name);

  return g_variant_get_uint32 (value);
}

static guint64
get_sequence (Fixture *f, const char *path)
{
  g_autoptr (GVariant) value =
      get_property (f, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Sequence");

  return g_variant_get_uint64 (value);
}

static GVariant *
advise_parameters (guint client_token)
{
  return g_variant_new ("(uuuouu)", MAPIOFFLINE_ADVISE_DEFAULT, client_token,
                        MAPIOFFLINE_CALLBACK_TYPE_NOTIFY, OFFLINE_STATE_SIGNAL_CALLBACK_PATH,
                        MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, MAPIOFFLINE_STATE_OFFLINE_MASK);
}

static guint
advise (Fixture *f, const char *path, guint client_token)
{
  g_autoptr (GVariant) reply = call_ok (f, path, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
                                        advise_parameters (client_token));
  guint token;

  g_variant_get (reply, "(u)", &token);
  g_assert_cmpuint (token, !=, 0);
  return token;
}

static GError *
set_state (Fixture *f, const char *path, guint flags, guint state)
{
  return offline_mgr_call (f, path, "SetCurrentState",
                           g_variant_new ("(uuu)", flags, MAPIOFFLINE_STATE_OFFLINE_MASK, state));
}

static GError *
unadvise (Fixture *f, const char *path, guint token)
{
  return offline_mgr_call (f, path, "Unadvise",
                           g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, token));
}

static GError *
fail_next (Fixture *f, const char *path, const char *method, const char *error_name, guint count)
{
  return call_error (f, path, OFFLINE_STATE_EMULATION_INTERFACE, "FailNext",
                     g_variant_new ("(ssu)", method, error_name, count));
}

static void
fail_next_ok (Fixture *f, const char *path, const char *method, const char *error_name, guint count)
{
  expect_ok (fail_next (f, path, method, error_name, count));
}

static char *
create_profile (Fixture *f, const char *name, guint capabilities, guint initial_state)
{
  g_autoptr (GVariant) reply =
      call_ok (f, OFFLINE_STATE_MANAGER_PATH, OFFLINE_STATE_MANAGER_INTERFACE,
               "CreateOfflineObject", g_variant_new ("(suu)", name, capabilities, initial_state));
  char *path;

  g_variant_get (reply, "(o)", &path);
  return path;
}

static GVariant *
get_managed_objects (Fixture *f)
{
  g_autoptr (GVariant) reply =
      call_ok (f, OFFLINE_STATE_MANAGER_PATH, OBJECT_MANAGER_INTERFACE, "GetManagedObjects", NULL);

  return g_variant_get_child_value (reply, 0);
}

/* The interfaces (a{sa{sv}}) of @path in GetManagedObjects' @objects, or NULL. */
static GVariant *
object_interfaces (GVariant *objects, const char *path)
{
  return g_variant_lookup_value (objects, path, G_VARIANT_TYPE ("a{sa{sv}}"));
}

static GVariant *
interface_properties (GVariant *interfaces, const char *interface)
{
  return g_variant_lookup_value (interfaces, interface, G_VARIANT_TYPE_VARDICT);
}

static void
assert_offline_mgr (GVariant *properties,
                    const char *profile_name,
                    guint state,
                    guint capabilities,
                    guint64 sequence,
                    guint advise_count)
{
  const char *name;
  guint u;
  guint64 t;
  gboolean b;

  g_assert_nonnull (properties);
  g_assert_true (g_variant_lookup (properties, "ProfileName", "&s", &name));
  g_assert_cmpstr (name, ==, profile_name);
  g_assert_true (g_variant_lookup (properties, "State", "u", &u));
  g_assert_cmpuint (u, ==, state);
  g_assert_true (g_variant_lookup (properties, "Capabilities", "u", &u));
  g_assert_cmpuint (u, ==, capabilities);
  g_assert_true (g_variant_lookup (properties, "Transitioning", "b", &b));
  g_assert_false (b);
  g_assert_true (g_variant_lookup (properties, "Sequence", "t", &t));
  g_assert_cmpuint (t, ==, sequence);
  g_assert_true (g_variant_lookup (properties, "AdviseCount", "u", &u));
  g_assert_cmpuint (u, ==, advise_count);
}

/* Signals */

typedef struct
{
  Fixture *f;
  const char *member;
  const char *object_path; /* the signal's first argument */
} Awaited;

static GVariant *
find_signal (const Awaited *awaited)
{
  for (guint i = 0; i < awaited->f->signals->len; i++)
    {
      Signal *signal = g_ptr_array_index (awaited->f->signals, i);
      const char *path;

      if (!g_str_equal (signal->member, awaited->member))
        continue;
      g_variant_get_child (signal->parameters, 0, "&o", &path);
      if (g_str_equal (path, awaited->object_path))
        return signal->parameters;
    }
  return NULL;
}

static gboolean
signal_came (gconstpointer awaited)
{
  return find_signal (awaited) != NULL;
}

/* InterfacesAdded or InterfacesRemoved of the object at @object_path; its parameters. */
static GVariant *
wait_for_signal (Fixture *f, const char *member, const char *object_path)
{
  Awaited awaited = { f, member, object_path };

  spin_until (signal_came, &awaited);
  return g_variant_ref (find_signal (&awaited));
}

/* The PropertiesChanged signals of @path that told AdviseCount: how many, and the last value
 * in @last (G_MAXUINT if none). */
static guint
advise_count_signals (Fixture *f, const char *path, guint *last)
{
  guint n = 0;

  *last = G_MAXUINT;
  for (guint i = 0; i < f->signals->len; i++)
    {
      Signal *signal = g_ptr_array_index (f->signals, i);
      const char *interface;
      g_autoptr (GVariant) changed = NULL;

      if (!g_str_equal (signal->member, "PropertiesChanged") || !g_str_equal (signal->path, path))
        continue;
      g_variant_get (signal->parameters, "(&s@a{sv}@as)", &interface, &changed, NULL);
      if (g_str_equal (interface, OFFLINE_STATE_OFFLINE_MGR_INTERFACE) &&
          g_variant_lookup (changed, "AdviseCount", "u", last))
        n++;
    }
  return n;
}

/* The export */

/* The interfaces of the object at @path that InterfacesAdded told, once it came. */
static GVariant *
wait_for_added (Fixture *f, const char *path)
{
  g_autoptr (GVariant) added = wait_for_signal (f, "InterfacesAdded", path);

  return g_variant_get_child_value (added, 1);
}

/* An object's interfaces: OfflineMgr with these properties, and Emulation when the layer is
 * on. */
static void
assert_interfaces (GVariant *interfaces,
                   const char *profile_name,
                   guint state,
                   guint capabilities,
                   gboolean emulation)
{
  g_autoptr (GVariant) offline_mgr =
      interface_properties (interfaces, OFFLINE_STATE_OFFLINE_MGR_INTERFACE);
  g_autoptr (GVariant) emulation_properties =
      interface_properties (interfaces, OFFLINE_STATE_EMULATION_INTERFACE);
  guint delay;

  assert_offline_mgr (offline_mgr, profile_name, state, capabilities, 0, 0);
  if (!emulation)
    {
      g_assert_null (emulation_properties);
      return;
    }
  g_assert_nonnull (emulation_properties);
  g_assert_true (g_variant_lookup (emulation_properties, "TransitionDelay", "u", &delay));
  g_assert_cmpuint (delay, ==, 0);
}

static void
assert_n_objects (Fixture *f, gsize n)
{
  g_autoptr (GVariant) objects = get_managed_objects (f);

  g_assert_cmpuint (g_variant_n_children (objects), ==, n);
}

/* The default profile is listed with both its interfaces; an object created is added, one
 * removed is gone, and so are its interfaces. */
static void
test_export (Fixture *f, gconstpointer data)
{
  g_autoptr (GVariant) objects = get_managed_objects (f);
  g_autoptr (GVariant) listed = object_interfaces (objects, DEFAULT_PATH);
  g_autoptr (GVariant) added = NULL;
  g_autoptr (GVariant) removed = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *path = NULL;
  g_autofree const char **gone = NULL;

  g_assert_cmpuint (g_variant_n_children (objects), ==, 1);
  g_assert_nonnull (listed);
  assert_interfaces (listed, OFFLINE_STATE_DEFAULT_PROFILE, ONLINE, 3, TRUE);

  /* Created: its name escaped in its path, both interfaces told in InterfacesAdded. */
  path = create_profile (f, "Work 1", MAPIOFFLINE_CAPABILITY_OFFLINE, OFFLINE);
  g_assert_cmpstr (path, ==, OFFLINE_STATE_PROFILES_PATH "/Work_201");
  added = wait_for_added (f, path);
  assert_interfaces (added, "Work 1", OFFLINE, MAPIOFFLINE_CAPABILITY_OFFLINE, TRUE);
  assert_n_objects (f, 2);
  g_assert_cmpuint (get_uint (f, path, "State"), ==, OFFLINE);

  /* Removed: both interfaces go, and nothing answers at its path any more. */
  reply = call_ok (f, OFFLINE_STATE_MANAGER_PATH, OFFLINE_STATE_MANAGER_INTERFACE,
                   "RemoveOfflineObject", g_variant_new ("(s)", "Work 1"));
  removed = wait_for_signal (f, "InterfacesRemoved", path);
  g_variant_get (removed, "(&o^a&s)", NULL, &gone);
  g_assert_true (g_strv_contains (gone, OFFLINE_STATE_OFFLINE_MGR_INTERFACE));
  g_assert_true (g_strv_contains (gone, OFFLINE_STATE_EMULATION_INTERFACE));
  expect_not_served (offline_mgr_call (f, path, "GetCurrentState", NULL), not_there);
  expect_not_served (fail_next (f, path, "Advise", BOOM, 1), not_there);
  assert_n_objects (f, 1);
}

/* Emulation off */

/* No object has the Emulation interface, so GDBus refuses its calls; OfflineMgr serves as
 * ever. */
static void
test_no_emulation (Fixture *f, gconstpointer data)
{
  g_autofree char *path = create_profile (f, "other", 3, OFFLINE);
  g_autoptr (GVariant) objects = get_managed_objects (f);
  g_autoptr (GVariant) listed = object_interfaces (objects, DEFAULT_PATH);
  g_autoptr (GVariant) added = wait_for_added (f, path);
  g_autoptr (GVariant) reply = NULL;
  guint64 sequence = get_sequence (f, DEFAULT_PATH);
  guint state;

  g_assert_cmpuint (g_variant_n_children (objects), ==, 2);
  assert_interfaces (listed, OFFLINE_STATE_DEFAULT_PROFILE, ONLINE, 3, FALSE);
  assert_interfaces (added, "other", OFFLINE, 3, FALSE);
  expect_not_served (fail_next (f, DEFAULT_PATH, "GetCurrentState", BOOM, 1), not_on_object);
  expect_not_served (fail_next (f, path, "GetCurrentState", BOOM, 1), not_on_object);

  reply = call_ok (f, DEFAULT_PATH, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "GetCurrentState", NULL);
  g_variant_get (reply, "(u)", &state);
  g_assert_cmpuint (state, ==, ONLINE);
  advise (f, DEFAULT_PATH, 1);
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "AdviseCount"), ==, 1);
  expect_ok (set_state (f, DEFAULT_PATH, BLOCK, OFFLINE));
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "State"), ==, OFFLINE);
  g_assert_cmpuint (get_sequence (f, DEFAULT_PATH), >, sequence);
}

/* The argument checks that the XML names */

/* For each check an OS_BUS_CHECK_ANNOTATION may name: a value it lets through, one it refuses,
 * and the refusal (GVariant text format). */
typedef struct
{
  const char *check;
  const char *good;
  const char *bad;
  const char *error_name;
  const char *message_prefix; /* NULL: GDBus refuses it, before the dispatch */
} CheckValues;

static const CheckValues check_values[] = {
  { "profile-name", "'checked'", "''", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "capabilities", "uint32 3", "uint32 4", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "state", "uint32 1", "uint32 3", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "set-state-flags", "uint32 0", "uint32 1", OFFLINE_STATE_ERROR_INVALID_ARGS,
    PREFIX_INVALIDARG },
  { "offline-mask", "uint32 3", "uint32 1", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "advise-flags", "uint32 0", "uint32 1", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "callback-type", "uint32 0", "uint32 1", OFFLINE_STATE_ERROR_NO_INTERFACE, PREFIX_NOINTERFACE },
  /* Every value of type 'o' is an object path, or the message could not be read: a client can
   * send a bad one only as a string, which GDBus refuses for its type. */
  { "callback", "objectpath '/'", "'not a path'", OFFLINE_STATE_ERROR_INVALID_ARGS, NULL },
  { "advise-types", "uint32 1", "uint32 2", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "state-mask", "uint32 3", "uint32 0", OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG },
  { "transition-delay", "uint32 0", "uint32 600001", OFFLINE_STATE_ERROR_INVALID_ARGS,
    PREFIX_INVALIDARG },
  { "fail-next-method", "'GetCapabilities'", "'Notify'", OFFLINE_STATE_ERROR_INVALID_ARGS,
    PREFIX_INVALIDARG },
  { "error-name", "'org.example.Error.Boom'", "'not a name'", OFFLINE_STATE_ERROR_INVALID_ARGS,
    PREFIX_INVALIDARG },
};

/* For an argument without a check, by its type. */
static const char *const unchecked_values[][2] = {
  { "u", "uint32 1" },
  { "s", "'unchecked'" },
  { "o", "objectpath '/'" },
};

static const CheckValues *
find_check_values (const char *check)
{
  for (gsize i = 0; i < G_N_ELEMENTS (check_values); i++)
    if (g_str_equal (check_values[i].check, check))
      return &check_values[i];
  return NULL;
}

static const char *
check_of (const GDBusArgInfo *arg)
{
  return g_dbus_annotation_info_lookup (arg->annotations, OS_BUS_CHECK_ANNOTATION);
}

/* The text of a good value for @arg, or NULL if the test knows none. */
static const char *
good_value (const GDBusArgInfo *arg)
{
  const CheckValues *values;

  if (check_of (arg) != NULL)
    {
      values = find_check_values (check_of (arg));
      return values != NULL ? values->good : NULL;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (unchecked_values); i++)
    if (g_str_equal (unchecked_values[i][0], arg->signature))
      return unchecked_values[i][1];
  return NULL;
}

/* @method's arguments, all good but the one at @bad, which is @bad_value; NULL (the test
 * failed) when the test knows no good value for one of them. */
static GVariant *
arguments_but_one (const GDBusMethodInfo *method, guint bad, const char *bad_value)
{
  g_autoptr (GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE_TUPLE);

  for (guint i = 0; method->in_args[i] != NULL; i++)
    {
      const char *text = i == bad ? bad_value : good_value (method->in_args[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = NULL;

      if (text == NULL)
        {
          g_test_fail_printf ("%s, argument %s: the test has no good value for it", method->name,
                              method->in_args[i]->name);
          return NULL;
        }
      value = g_variant_parse (NULL, text, NULL, NULL, &error);
      g_assert_no_error (error);
      g_variant_builder_add_value (builder, value);
    }
  return g_variant_builder_end (builder);
}

/* Every property of the manager and of the default profile's two interfaces. */
static char *
snapshot (Fixture *f)
{
  const char *const read[][2] = {
    { OFFLINE_STATE_MANAGER_PATH, OFFLINE_STATE_MANAGER_INTERFACE },
    { DEFAULT_PATH, OFFLINE_STATE_OFFLINE_MGR_INTERFACE },
    { DEFAULT_PATH, OFFLINE_STATE_EMULATION_INTERFACE },
  };
  GString *all = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (read); i++)
    {
      g_autoptr (GVariant) reply = call_ok (f, read[i][0], PROPERTIES_INTERFACE, "GetAll",
                                            g_variant_new ("(s)", read[i][1]));

      g_variant_print_string (reply, all, TRUE);
    }
  return g_string_free (all, FALSE);
}

/* Each checked argument of @interface's methods, called bad on @path; how many. */
static guint
call_each_checked_argument (Fixture *f,
                            const char *path,
                            const GDBusInterfaceInfo *interface,
                            const char *before)
{
  guint n = 0;

  for (guint m = 0; interface->methods[m] != NULL; m++)
    {
      const GDBusMethodInfo *method = interface->methods[m];

      for (guint i = 0; method->in_args != NULL && method->in_args[i] != NULL; i++)
        {
          const char *check = check_of (method->in_args[i]);
          const CheckValues *values = check ? find_check_values (check) : NULL;
          g_autofree char *after = NULL;
          GVariant *arguments;

          if (check == NULL)
            continue;
          if (values == NULL)
            {
              g_test_fail_printf ("%s.%s, argument %s: no bad value for the check '%s'",
                                  interface->name, method->name, method->in_args[i]->name, check);
              continue;
            }
          arguments = arguments_but_one (method, i, values->bad);
          if (arguments == NULL)
            continue;
          g_test_message ("%s.%s with %s %s", interface->name, method->name,
                          method->in_args[i]->name, values->bad);
          expect_error (call_error (f, path, interface->name, method->name, arguments),
                        values->error_name, values->message_prefix);
          after = snapshot (f);
          g_assert_cmpstr (after, ==, before);
          n++;
        }
    }
  return n;
}

/* For every argument that the XML gives a check, one call with a bad value there (and good
 * ones elsewhere) is refused with its error, and changes nothing. The XML is walked, so a
 * check added there is tested here, or the test fails for want of a bad value. */
static void
test_argument_checks (Fixture *f, gconstpointer data)
{
  g_autofree char *before = snapshot (f);

  g_assert_cmpuint (call_each_checked_argument (f, OFFLINE_STATE_MANAGER_PATH,
                                                os_dbus_manager_interface_info (), before),
                    >, 0);
  g_assert_cmpuint (
      call_each_checked_argument (f, DEFAULT_PATH, os_dbus_offline_mgr_interface_info (), before),
      >, 0);
  g_assert_cmpuint (
      call_each_checked_argument (f, DEFAULT_PATH, os_dbus_emulation_interface_info (), before), >,
      0);
}

/* Emulation.FailNext */

static const char *const fail_next_methods[] = {
  "SetCurrentState", "Advise", "Unadvise", "GetCurrentState", "GetCapabilities", NULL,
};

/* The methods that the XML lets FailNext fail. */
static GStrv
dup_fail_next_methods (void)
{
  GDBusInterfaceInfo *info = os_dbus_offline_mgr_interface_info ();
  g_autoptr (GStrvBuilder) marked = g_strv_builder_new ();

  for (guint i = 0; info->methods[i] != NULL; i++)
    if (g_strcmp0 (g_dbus_annotation_info_lookup (info->methods[i]->annotations,
                                                  OS_BUS_FAIL_NEXT_ANNOTATION),
                   "true") == 0)
      g_strv_builder_add (marked, info->methods[i]->name);
  return g_strv_builder_end (marked);
}

/* Every method FailNext can fail, each armed and cleared. */
static void
test_fail_next_accepted (Fixture *f, gconstpointer data)
{
  g_auto (GStrv) marked = dup_fail_next_methods ();

  g_assert_cmpuint (g_strv_length (marked), ==, g_strv_length ((GStrv) fail_next_methods));
  for (guint i = 0; fail_next_methods[i] != NULL; i++)
    {
      const char *method = fail_next_methods[i];

      g_assert_true (g_strv_contains ((const char *const *) marked, method));
      fail_next_ok (f, DEFAULT_PATH, method, "org.example.Error.Failed", 1);
      fail_next_ok (f, DEFAULT_PATH, method, OFFLINE_STATE_ERROR_PENDING, 5);
      fail_next_ok (f, DEFAULT_PATH, method, "", 0);
      fail_next_ok (f, DEFAULT_PATH, method, "org.example.Error.Failed", 0);
    }

  /* Each ended cleared. */
  expect_ok (offline_mgr_call (f, DEFAULT_PATH, "GetCapabilities", NULL));
  expect_ok (offline_mgr_call (f, DEFAULT_PATH, "GetCurrentState", NULL));
  expect_ok (unadvise (f, DEFAULT_PATH, advise (f, DEFAULT_PATH, 1)));
  expect_ok (set_state (f, DEFAULT_PATH, BLOCK, OFFLINE));
}

/* A method it cannot fail, or an error name that is none: InvalidArgs, nothing armed. */
static void
test_fail_next_refused (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *method, *error_name;
    guint count;
  } cases[] = {
    { "Notify", "org.example.Error.Failed", 1 },
    { "setcurrentstate", "org.example.Error.Failed", 1 },
    { "", "org.example.Error.Failed", 1 },
    { "OpenOfflineObject", "", 0 },
    { "Advise", "", 1 },
    { "Advise", "NoDots", 1 },
    { "Advise", "org.example.", 1 },
    { "Advise", "org..example", 1 },
    { "Advise", "org.example.9Failed", 1 },
    { "Advise", "org.example.Err-or", 1 },
    { "Advise", "not a name", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %u: '%s' '%s' %u", i, cases[i].method, cases[i].error_name,
                      cases[i].count);
      expect_error (
          fail_next (f, DEFAULT_PATH, cases[i].method, cases[i].error_name, cases[i].count),
          OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
    }
  advise (f, DEFAULT_PATH, 1);
}

/* Armed for two calls of one method of one object: those two fail, and nothing else. */
static void
test_fail_next_armed (Fixture *f, gconstpointer data)
{
  g_autofree char *other = create_profile (f, "other", 3, ONLINE);
  guint token = advise (f, DEFAULT_PATH, 1);

  fail_next_ok (f, DEFAULT_PATH, "Advise", BOOM, 2);
  expect_ok (unadvise (f, DEFAULT_PATH, token));
  advise (f, other, 2);
  for (guint i = 0; i < 2; i++)
    expect_injected (offline_mgr_call (f, DEFAULT_PATH, "Advise", advise_parameters (3)), BOOM);
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "AdviseCount"), ==, 0);
  token = advise (f, DEFAULT_PATH, 4);

  /* A new FailNext replaces the old one; count 0 clears. */
  fail_next_ok (f, DEFAULT_PATH, "GetCurrentState", "a.B", 5);
  fail_next_ok (f, DEFAULT_PATH, "GetCurrentState", "c.D", 1);
  expect_injected (offline_mgr_call (f, DEFAULT_PATH, "GetCurrentState", NULL), "c.D");
  expect_ok (offline_mgr_call (f, DEFAULT_PATH, "GetCurrentState", NULL));
  fail_next_ok (f, DEFAULT_PATH, "SetCurrentState", "a.B", 5);
  fail_next_ok (f, DEFAULT_PATH, "SetCurrentState", "", 0);
  expect_ok (set_state (f, DEFAULT_PATH, BLOCK, OFFLINE));

  /* Refused: nothing armed. */
  expect_error (fail_next (f, DEFAULT_PATH, "Notify", "a.B", 1), OFFLINE_STATE_ERROR_INVALID_ARGS,
                PREFIX_INVALIDARG);
  expect_error (fail_next (f, DEFAULT_PATH, "Unadvise", "nodot", 1),
                OFFLINE_STATE_ERROR_INVALID_ARGS, PREFIX_INVALIDARG);
  expect_ok (unadvise (f, DEFAULT_PATH, token));
}

/* The injected failure comes before anything else sees the call, and is all that happens. */
static void
test_fail_next_no_other_effect (Fixture *f, gconstpointer data)
{
  guint64 sequence = get_sequence (f, DEFAULT_PATH);

  fail_next_ok (f, DEFAULT_PATH, "SetCurrentState", BOOM, 1);
  expect_injected (set_state (f, DEFAULT_PATH, BLOCK, OFFLINE), BOOM);
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "State"), ==, ONLINE);
  g_assert_cmpuint (get_sequence (f, DEFAULT_PATH), ==, sequence);
  expect_ok (set_state (f, DEFAULT_PATH, BLOCK, OFFLINE));
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "State"), ==, OFFLINE);
  g_assert_cmpuint (get_sequence (f, DEFAULT_PATH), >, sequence);

  /* Before the argument checks too: an Advise that they would refuse fails as injected. */
  fail_next_ok (f, DEFAULT_PATH, "Advise", BOOM, 1);
  expect_injected (
      offline_mgr_call (f, DEFAULT_PATH, "Advise", g_variant_new ("(uuuouu)", 1, 1, 1, "/", 0, 0)),
      BOOM);
  g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "AdviseCount"), ==, 0);
}

/* AdviseCount */

#define ADVISES 12

typedef struct
{
  Fixture *f;
  guint expected;
} LastAdviseCount;

static gboolean
last_advise_count_is (gconstpointer data)
{
  const LastAdviseCount *awaited = data;
  guint last;

  advise_count_signals (awaited->f, DEFAULT_PATH, &last);
  return last == awaited->expected;
}

/* A read right after each Advise counts it, though its signal may be held back; the signals
 * are fewer than the changes, and the last tells the count. */
static void
test_advise_count_throttled (Fixture *f, gconstpointer data)
{
  LastAdviseCount awaited = { f, ADVISES };
  guint last, n;

  for (guint i = 1; i <= ADVISES; i++)
    {
      advise (f, DEFAULT_PATH, i);
      g_assert_cmpuint (get_uint (f, DEFAULT_PATH, "AdviseCount"), ==, i);
    }
  spin_until (last_advise_count_is, &awaited);
  n = advise_count_signals (f, DEFAULT_PATH, &last);
  g_test_message ("%u changes of AdviseCount told in %u signals", ADVISES, n);
  g_assert_cmpuint (n, <, ADVISES);
}

/* A read sent right behind an Advise, without waiting for its reply, counts it: reads keep
 * their place behind the caller's calls, the first Advise too, which waits for the caller's
 * Unix user. */
static void
test_read_behind_advise (Fixture *f, gconstpointer data)
{
  for (guint i = 1; i <= 4; i++)
    {
      HarnessPending advised, read;
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GVariant) count = NULL;
      g_autoptr (GError) error = NULL;

      harness_call_begin (f->client, DEFAULT_PATH, OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "Advise",
                          advise_parameters (i), &advised);
      harness_call_begin (
          f->client, DEFAULT_PATH, PROPERTIES_INTERFACE, "Get",
          g_variant_new ("(ss)", OFFLINE_STATE_OFFLINE_MGR_INTERFACE, "AdviseCount"), &read);
      reply = pending_finish (&read, &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(v)", &count);
      g_assert_cmpuint (g_variant_get_uint32 (count), ==, i);
      g_clear_pointer (&reply, g_variant_unref);
      reply = pending_finish (&advised, &error);
      g_assert_no_error (error);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, func, emulation)                                                                 \
  g_test_add (name, Fixture, GINT_TO_POINTER (emulation), fixture_setup, func, fixture_teardown)
  ADD ("/bus/export", test_export, TRUE);
  ADD ("/bus/no-emulation", test_no_emulation, FALSE);
  ADD ("/bus/argument-checks", test_argument_checks, TRUE);
  ADD ("/bus/fail-next/accepted", test_fail_next_accepted, TRUE);
  ADD ("/bus/fail-next/refused", test_fail_next_refused, TRUE);
  ADD ("/bus/fail-next/armed", test_fail_next_armed, TRUE);
  ADD ("/bus/fail-next/no-other-effect", test_fail_next_no_other_effect, TRUE);
  ADD ("/bus/advise-count/throttled", test_advise_count_throttled, TRUE);
  ADD ("/bus/advise-count/read-behind-advise", test_read_behind_advise, TRUE);
#undef ADD
  return g_test_run ();
}
