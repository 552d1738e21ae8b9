/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * offline-state-mapi.h as Microsoft's reference pages give MAPI's Offline State API: each
 * method in its vtable slot, in the C lpVtbl structures and in the C++ classes alike (the
 * pages' vtable order, placeholders included), the structures laid out alike in both
 * languages, objects of either language called from the other, MAPI's identifiers and
 * values, the header after another Windows-style header, and the library's exports. No bus.
 */
#include <dlfcn.h>

#include "mapi-layout.h"

#define LIBRARY "liboffline-state-mapi-1.so.0"

/* The slot of each method, counted from the first, as the pages' "Vtable order" lists them
 * after IUnknown's three. */
static const MapiLayoutSlot expected_slots[] = {
  { "IUnknown::QueryInterface", 0 },
  { "IUnknown::AddRef", 1 },
  { "IUnknown::Release", 2 },
  { "IMAPIOffline::QueryInterface", 0 },
  { "IMAPIOffline::AddRef", 1 },
  { "IMAPIOffline::Release", 2 },
  { "IMAPIOffline::SetCurrentState", 3 },
  { "IMAPIOffline::GetCapabilities", 4 },
  { "IMAPIOffline::GetCurrentState", 5 },
  { "IMAPIOffline::Placeholder1", 6 },
  { "IMAPIOfflineMgr::QueryInterface", 0 },
  { "IMAPIOfflineMgr::AddRef", 1 },
  { "IMAPIOfflineMgr::Release", 2 },
  { "IMAPIOfflineMgr::SetCurrentState", 3 },
  { "IMAPIOfflineMgr::GetCapabilities", 4 },
  { "IMAPIOfflineMgr::GetCurrentState", 5 },
  { "IMAPIOfflineMgr::Placeholder1", 6 },
  { "IMAPIOfflineMgr::Advise", 7 },
  { "IMAPIOfflineMgr::Unadvise", 8 },
  { "IMAPIOfflineMgr::Placeholder2", 9 },
  { "IMAPIOfflineMgr::Placeholder3", 10 },
  { "IMAPIOfflineMgr::Placeholder4", 11 },
  { "IMAPIOfflineMgr::Placeholder5", 12 },
  { "IMAPIOfflineMgr::Placeholder6", 13 },
  { "IMAPIOfflineMgr::Placeholder7", 14 },
  { "IMAPIOfflineMgr::Placeholder8", 15 },
  { "IMAPIOfflineNotify::QueryInterface", 0 },
  { "IMAPIOfflineNotify::AddRef", 1 },
  { "IMAPIOfflineNotify::Release", 2 },
  { "IMAPIOfflineNotify::Notify", 3 },
};

#define SLOT(interface, method)                                                                    \
  { G_STRINGIFY (interface) "::" G_STRINGIFY (method),                                             \
    (long) (offsetof (interface##Vtbl, method) / sizeof (void *)) },

static const MapiLayoutSlot c_slots[] = { MAPI_LAYOUT_METHODS (SLOT) };

static void
assert_slots (const MapiLayoutSlot *slots, gsize n_slots)
{
  g_assert_cmpuint (n_slots, ==, G_N_ELEMENTS (expected_slots));
  for (gsize i = 0; i < n_slots; i++)
    {
      g_assert_cmpstr (slots[i].method, ==, expected_slots[i].method);
      g_assert_cmpint (slots[i].slot, ==, expected_slots[i].slot);
    }
}

static void
test_c_vtables (void)
{
  assert_slots (c_slots, G_N_ELEMENTS (c_slots));
  /* No member beyond the last: the vtables are the pages' length. */
  g_assert_cmpuint (sizeof (IUnknownVtbl), ==, 3 * sizeof (void *));
  g_assert_cmpuint (sizeof (IMAPIOfflineVtbl), ==, 7 * sizeof (void *));
  g_assert_cmpuint (sizeof (IMAPIOfflineMgrVtbl), ==, 16 * sizeof (void *));
  g_assert_cmpuint (sizeof (IMAPIOfflineNotifyVtbl), ==, 4 * sizeof (void *));
  g_assert_cmpuint (offsetof (IMAPIOfflineMgr, lpVtbl), ==, 0);
  g_assert_cmpuint (sizeof (IMAPIOfflineNotify), ==, sizeof (void *));
}

static void
test_cpp_vtables (void)
{
  gsize n_slots;
  const MapiLayoutSlot *slots = mapi_layout_cpp_slots (&n_slots);

  assert_slots (slots, n_slots);
}

static void
test_structures (void)
{
  MapiLayoutFields c, cpp;

  mapi_layout_fields (&c);
  mapi_layout_cpp_fields (&cpp);
  for (guint i = 0; i < G_N_ELEMENTS (c.values); i++)
    g_assert_cmpuint (c.values[i], ==, cpp.values[i]);
  g_assert_cmpuint (sizeof (ULONG), ==, 4);
  g_assert_cmpuint (sizeof (HRESULT), ==, 4);
  g_assert_cmpuint (sizeof (GUID), ==, 16);
  g_assert_cmpuint (sizeof (MAPIOFFLINE_CALLBACK_TYPE), ==, 4);
  g_assert_cmpuint (offsetof (MAPIOFFLINE_NOTIFY, Info.StateChange.ulStateNew), ==, 20);
}

/* A C callback, as the library's tests write them: counts its calls */

typedef struct
{
  IMAPIOfflineNotify iface;
  ULONG refs;
  unsigned calls;
} CountingNotify;

static HRESULT
counting_query_interface (IMAPIOfflineNotify *This, REFIID riid, void **ppvObject)
{
  ((CountingNotify *) This)->calls++;
  *ppvObject = IsEqualIID (riid, &IID_IMAPIOfflineNotify) ? This : NULL;
  return *ppvObject != NULL ? S_OK : E_NOINTERFACE;
}

static ULONG
counting_add_ref (IMAPIOfflineNotify *This)
{
  ((CountingNotify *) This)->calls++;
  return ++((CountingNotify *) This)->refs;
}

static ULONG
counting_release (IMAPIOfflineNotify *This)
{
  ((CountingNotify *) This)->calls++;
  return --((CountingNotify *) This)->refs;
}

static void
counting_notify (IMAPIOfflineNotify *This, const MAPIOFFLINE_NOTIFY *pNotifyInfo)
{
  ((CountingNotify *) This)->calls += pNotifyInfo->ulClientToken;
}

static const IMAPIOfflineNotifyVtbl counting_vtbl = {
  counting_query_interface,
  counting_add_ref,
  counting_release,
  counting_notify,
};

/* C calls a C++ object through lpVtbl, C++ calls a C object through its virtual methods. */
static void
test_across_languages (void)
{
  CountingNotify c_object = { { &counting_vtbl }, 1, 0 };
  IMAPIOfflineNotify *cpp_object = mapi_layout_cpp_notify_new ();
  MAPIOFFLINE_NOTIFY info = { sizeof info, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE, 1000 };
  void *same = NULL;

  g_assert_cmpint (IMAPIOfflineNotify_QueryInterface (cpp_object, &IID_IMAPIOfflineNotify, &same),
                   ==, S_OK);
  g_assert_true (same == cpp_object);
  g_assert_cmpint (IMAPIOfflineNotify_QueryInterface (cpp_object, &IID_IMAPIOfflineMgr, &same), ==,
                   E_NOINTERFACE);
  g_assert_null (same);
  g_assert_cmpuint (IMAPIOfflineNotify_AddRef (cpp_object), ==, 2);
  IMAPIOfflineNotify_Notify (cpp_object, &info);
  g_assert_cmpuint (IMAPIOfflineNotify_Release (cpp_object), ==, 1);
  g_assert_cmpuint (mapi_layout_cpp_notify_free (cpp_object), ==, 1004);

  g_assert_cmpuint (mapi_layout_cpp_call_notify (&c_object), ==, 1);
  g_assert_cmpuint (c_object.calls, ==, 103);
}

static char *
guid_text (const GUID *guid)
{
  return g_strdup_printf ("{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", guid->Data1,
                          guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
                          guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6],
                          guid->Data4[7]);
}

static void
assert_guid (const GUID *guid, const char *expected)
{
  g_autofree char *text = guid_text (guid);

  g_assert_cmpstr (text, ==, expected);
}

/* The values of MAPI's pages (the MAPI constants page, Offline State API), spelled out here as
 * a program reads them there, independently of offline-state.h. */
static void
test_values (void)
{
  assert_guid (&GUID_GlobalState, OFFLINE_STATE_GUID_GLOBAL_STATE);
  assert_guid (&GUID_GlobalState, "{FBEFFD93-B11F-4094-842B-96DCD31E63D1}");
  assert_guid (&IID_IUnknown, "{00000000-0000-0000-C000-000000000046}");
  assert_guid (&IID_IMAPIOffline, "{000672B5-0000-0000-C000-000000000046}");
  assert_guid (&IID_IMAPIOfflineMgr, "{42175607-FF3E-4790-BC18-66C8643E6424}");
  assert_guid (&IID_IMAPIOfflineNotify, "{0317BDE5-FC29-44CD-8DCD-36125A3BE9EC}");
  g_assert_true (IsEqualIID (&IID_IMAPIOffline, &IID_IMAPIOffline));
  g_assert_false (IsEqualGUID (&IID_IMAPIOffline, &IID_IMAPIOfflineMgr));

  g_assert_cmpuint (MAPIOFFLINE_ADVISE_DEFAULT, ==, 0);
  g_assert_cmpuint (MAPIOFFLINE_UNADVISE_DEFAULT, ==, 0);
  g_assert_cmpuint (MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, ==, 1);
  g_assert_cmpuint (MAPIOFFLINE_CAPABILITY_OFFLINE, ==, 0x1);
  g_assert_cmpuint (MAPIOFFLINE_CAPABILITY_ONLINE, ==, 0x2);
  g_assert_cmpuint (MAPIOFFLINE_FLAG_BLOCK, ==, 0x00002000);
  g_assert_cmpuint (MAPIOFFLINE_FLAG_DEFAULT, ==, 0);
  g_assert_cmpuint (MAPIOFFLINE_STATE_ALL, ==, 0x003f037f);
  g_assert_cmpuint (MAPIOFFLINE_STATE_OFFLINE_MASK, ==, 0x3);
  g_assert_cmpuint (MAPIOFFLINE_STATE_OFFLINE, ==, 0x1);
  g_assert_cmpuint (MAPIOFFLINE_STATE_ONLINE, ==, 0x2);
  g_assert_cmpint (MAPIOFFLINE_CALLBACK_TYPE_NOTIFY, ==, 0);
  g_assert_cmpint (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START, ==, 1);
  g_assert_cmpint (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE, ==, 2);
  g_assert_cmpint (MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE, ==, 3);

  g_assert_cmpint (S_OK, ==, 0);
  g_assert_cmpuint ((guint32) E_INVALIDARG, ==, 0x80070057);
  g_assert_cmpuint ((guint32) E_PENDING, ==, 0x8000000A);
  g_assert_cmpuint ((guint32) E_NOINTERFACE, ==, 0x80004002);
  g_assert_cmpuint ((guint32) E_POINTER, ==, 0x80004003);
  g_assert_cmpuint ((guint32) E_OUTOFMEMORY, ==, 0x8007000E);
  g_assert_cmpuint ((guint32) MAPI_E_NOT_FOUND, ==, 0x8004010F);
  g_assert_cmpuint ((guint32) MAPI_E_CALL_FAILED, ==, 0x80004005);
  g_assert_true (FAILED (E_PENDING) && !SUCCEEDED (MAPI_E_NOT_FOUND) && SUCCEEDED (S_OK));
}

static void
test_other_windows_header (void)
{
  g_assert_cmpint (mapi_layout_windows_check (), ==, 0);
}

/* HrOpenOfflineObj is found by its name, as the sample finds it with GetProcAddress; nothing
 * but MAPI's names leaves the library. */
static void
test_exports (void)
{
  void *library = dlopen (LIBRARY, RTLD_NOW);
  HROPENOFFLINEOBJ *open_offline_obj;

  g_assert_nonnull (library);
  open_offline_obj = (HROPENOFFLINEOBJ *) dlsym (library, "HrOpenOfflineObj");
  g_assert_true (open_offline_obj == HrOpenOfflineObj);
  /* Data: the program may hold a copy of its own (a copy relocation), of the same value. */
  g_assert_true (IsEqualIID (dlsym (library, "IID_IMAPIOfflineNotify"), &IID_IMAPIOfflineNotify));
  g_assert_null (dlsym (library, "os_mapi_bus_get"));
  g_assert_null (dlsym (library, "os_dbus_offline_notify_interface_info"));
  dlclose (library);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mapi/layout/c-vtables", test_c_vtables);
  g_test_add_func ("/mapi/layout/cpp-vtables", test_cpp_vtables);
  g_test_add_func ("/mapi/layout/structures", test_structures);
  g_test_add_func ("/mapi/layout/across-languages", test_across_languages);
  g_test_add_func ("/mapi/layout/values", test_values);
  g_test_add_func ("/mapi/layout/other-windows-header", test_other_windows_header);
  g_test_add_func ("/mapi/layout/exports", test_exports);
  return g_test_run ();
}
