/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * MAPI's Offline State API from C (liboffline-state-mapi-1, docs/mapi.md), against the real
 * daemon on a private bus. The program has the shape of Microsoft's sample Offline State
 * add-in: InitMonitor opens the profile, asks for IMAPIOffline, reads the capabilities and
 * advises; GetCurrentState and SetCurrentState open the object again; the callback's Notify
 * switches on the notification's type and state change; DeInitMonitor unadvises and
 * releases. The callbacks are C objects with an lpVtbl, counting their references; the
 * main thread runs no main loop while notifications come: they come on the library's thread.
 */
#include <stdio.h>

#include "harness.h"
#include "mapi-test.h"

#define PROFILE          L"default"
#define MONITOR_TOKEN    0x2a
#define FAILED_ERROR     "org.freedesktop.DBus.Error.Failed"
#define OTHER_PROFILE    "Büro (Exchange)"
#define OTHER_PROFILE_W  L"Büro (Exchange)"
#define NO_SUCH_BUS      "unix:path=/nonexistent/offline-state-test/bus"
#define BUS_ENV          "OFFLINE_STATE_MAPI_BUS"
#define ONLINE           MAPIOFFLINE_STATE_ONLINE
#define OFFLINE          MAPIOFFLINE_STATE_OFFLINE
#define OFFLINE_MASK     MAPIOFFLINE_STATE_OFFLINE_MASK
#define BLOCK            MAPIOFFLINE_FLAG_BLOCK
#define NOTIFY_START     MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START
#define NOTIFY_CHANGE    MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE
#define NOTIFY_DONE      MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE
#define SOME_OTHER_VALUE ((void *) &GUID_GlobalState)

/* The callbacks */

typedef struct _Monitor Monitor;

/* What a Notify does besides logging the notification. */
typedef void (*MonitorHook) (Monitor *monitor, const MAPIOFFLINE_NOTIFY *notify);

struct _Monitor
{
  IMAPIOfflineNotify iface;
  MapiTestRefs refs;
  MapiTestLog *log;
  guint id; /* its notes' callback number */
  MonitorHook hook;
  MapiTestGate gate; /* for hooks that hold the Notify */
  char *described;   /* what describe_notify() said last */
};

static HRESULT
monitor_query_interface (IMAPIOfflineNotify *This, REFIID riid, void **ppvObject)
{
  *ppvObject = NULL;
  if (!IsEqualIID (riid, &IID_IUnknown) && !IsEqualIID (riid, &IID_IMAPIOfflineNotify))
    return E_NOINTERFACE;
  IMAPIOfflineNotify_AddRef (This);
  *ppvObject = This;
  return S_OK;
}

static ULONG
monitor_add_ref (IMAPIOfflineNotify *This)
{
  return mapi_test_refs_add (&((Monitor *) This)->refs, 1);
}

static ULONG
monitor_release (IMAPIOfflineNotify *This)
{
  return mapi_test_refs_add (&((Monitor *) This)->refs, -1);
}

static const char *
state_name (ULONG state)
{
  switch (state)
    {
      case MAPIOFFLINE_STATE_ONLINE:
        return "MAPIOFFLINE_STATE_ONLINE";
      case MAPIOFFLINE_STATE_OFFLINE:
        return "MAPIOFFLINE_STATE_OFFLINE";
      default:
        return "another state";
    }
}

/* The sample's Notify: its type, then its state change. */
static char *
describe_notify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
{
  g_autofree char *type = NULL;
  g_autofree char *mask = NULL;

  switch (pNotifyInfo->NotifyType)
    {
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START:
        type = g_strdup ("MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START");
        break;
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE:
        type = g_strdup ("MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE");
        break;
      case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE:
        type = g_strdup ("MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE");
        break;
      default:
        type = g_strdup_printf ("NotifyType 0x%08X", (unsigned) pNotifyInfo->NotifyType);
    }
  switch (pNotifyInfo->Info.StateChange.ulMask)
    {
      case MAPIOFFLINE_STATE_OFFLINE_MASK:
        mask = g_strdup ("MAPIOFFLINE_STATE_OFFLINE_MASK");
        break;
      default:
        mask = g_strdup_printf ("ulMask 0x%X", pNotifyInfo->Info.StateChange.ulMask);
    }
  return g_strdup_printf ("%s, token 0x%X, %s, %s -> %s", type, pNotifyInfo->ulClientToken, mask,
                          state_name (pNotifyInfo->Info.StateChange.ulStateOld),
                          state_name (pNotifyInfo->Info.StateChange.ulStateNew));
}

static void
monitor_notify (IMAPIOfflineNotify *This, const MAPIOFFLINE_NOTIFY *pNotifyInfo)
{
  Monitor *monitor = (Monitor *) This;
  guint index = mapi_test_log_add (monitor->log, monitor->id, pNotifyInfo);
  char *described = describe_notify (pNotifyInfo);

  g_test_message ("Notify %u: %s", monitor->id, described);
  g_free (monitor->described);
  monitor->described = described;
  if (monitor->hook != NULL)
    monitor->hook (monitor, pNotifyInfo);
  mapi_test_log_returned (monitor->log, index);
}

static const IMAPIOfflineNotifyVtbl monitor_vtbl = {
  monitor_query_interface,
  monitor_add_ref,
  monitor_release,
  monitor_notify,
};

/* An object that is no IMAPIOfflineNotify: QueryInterface knows IUnknown only. */
static HRESULT
plain_query_interface (IMAPIOfflineNotify *This, REFIID riid, void **ppvObject)
{
  *ppvObject = NULL;
  if (!IsEqualIID (riid, &IID_IUnknown))
    return E_NOINTERFACE;
  IMAPIOfflineNotify_AddRef (This);
  *ppvObject = This;
  return S_OK;
}

static const IMAPIOfflineNotifyVtbl plain_vtbl = {
  plain_query_interface,
  monitor_add_ref,
  monitor_release,
  monitor_notify,
};

/* The test's own reference, which it releases at the end. */
static void
monitor_init (Monitor *monitor, MapiTestLog *log, guint id, MonitorHook hook)
{
  monitor->iface.lpVtbl = &monitor_vtbl;
  mapi_test_refs_init (&monitor->refs, 1);
  monitor->log = log;
  monitor->id = id;
  monitor->hook = hook;
  mapi_test_gate_init (&monitor->gate);
  monitor->described = NULL;
}

/* Every reference that the library took is back: the test's is the last one. */
static void
monitor_clear (Monitor *monitor)
{
  g_assert_cmpuint (IMAPIOfflineNotify_Release (&monitor->iface), ==, 0);
  mapi_test_refs_clear (&monitor->refs);
  mapi_test_gate_clear (&monitor->gate);
  g_free (monitor->described);
}

static ULONG
monitor_refs (Monitor *monitor)
{
  return mapi_test_refs_get (&monitor->refs);
}

/* The sample's routines, and its globals: the monitor's offline object and advise */

static ULONG g_ulAdviseToken;
static IMAPIOfflineMgr *g_lpOfflineMgr;

static HRESULT
InitMonitor (LPCWSTR szProfile, IMAPIOfflineNotify *lpImplNotify, ULONG ulClientToken)
{
  IMAPIOffline *lpOffline = NULL;
  HRESULT hRes;

  g_assert_null (g_lpOfflineMgr);
  hRes = HrOpenOfflineObj (0, szProfile, &GUID_GlobalState, NULL, &g_lpOfflineMgr);
  if (FAILED (hRes))
    return hRes;
  hRes = IMAPIOfflineMgr_QueryInterface (g_lpOfflineMgr, &IID_IMAPIOffline, (LPVOID *) &lpOffline);
  if (lpOffline != NULL)
    {
      ULONG ulCap = 0;

      hRes = IMAPIOffline_GetCapabilities (lpOffline, &ulCap);
      if (ulCap & (MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE))
        {
          MAPIOFFLINE_ADVISEINFO AdviseInfo = {
            .ulSize = sizeof (MAPIOFFLINE_ADVISEINFO),
            .ulClientToken = ulClientToken,
            .CallbackType = MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
            .pCallback = (IUnknown *) lpImplNotify,
            .ulAdviseTypes = MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
            .ulStateMask = MAPIOFFLINE_STATE_ALL,
          };

          hRes = IMAPIOfflineMgr_Advise (g_lpOfflineMgr, MAPIOFFLINE_ADVISE_DEFAULT, &AdviseInfo,
                                         &g_ulAdviseToken);
        }
      g_assert_cmpuint (IMAPIOffline_Release (lpOffline), ==, 1);
    }
  return hRes;
}

static void
DeInitMonitor (void)
{
  g_assert_cmpint (
      IMAPIOfflineMgr_Unadvise (g_lpOfflineMgr, MAPIOFFLINE_UNADVISE_DEFAULT, g_ulAdviseToken), ==,
      S_OK);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (g_lpOfflineMgr), ==, 0);
  g_lpOfflineMgr = NULL;
  g_ulAdviseToken = 0;
}

/* The sample's helper, which opens the object again; 0 when it could not. */
static ULONG
GetCurrentState (LPCWSTR szProfile)
{
  IMAPIOfflineMgr *lpOfflineMgr = NULL;
  IMAPIOffline *lpOffline = NULL;
  ULONG ulCurState = 0;

  if (FAILED (HrOpenOfflineObj (0, szProfile, &GUID_GlobalState, NULL, &lpOfflineMgr)))
    return 0;
  IMAPIOfflineMgr_QueryInterface (lpOfflineMgr, &IID_IMAPIOffline, (LPVOID *) &lpOffline);
  if (lpOffline != NULL)
    {
      g_assert_cmpint (IMAPIOffline_GetCurrentState (lpOffline, &ulCurState), ==, S_OK);
      g_assert_cmpuint (IMAPIOffline_Release (lpOffline), ==, 1);
    }
  g_assert_cmpuint (IMAPIOfflineMgr_Release (lpOfflineMgr), ==, 0);
  return ulCurState;
}

static HRESULT
SetCurrentState (LPCWSTR szProfile, ULONG ulFlags, ULONG ulState)
{
  IMAPIOfflineMgr *lpOfflineMgr = NULL;
  IMAPIOffline *lpOffline = NULL;
  HRESULT hRes = HrOpenOfflineObj (0, szProfile, &GUID_GlobalState, NULL, &lpOfflineMgr);

  if (FAILED (hRes))
    return hRes;
  IMAPIOfflineMgr_QueryInterface (lpOfflineMgr, &IID_IMAPIOffline, (LPVOID *) &lpOffline);
  if (lpOffline != NULL)
    {
      hRes = IMAPIOffline_SetCurrentState (lpOffline, ulFlags, MAPIOFFLINE_STATE_OFFLINE_MASK,
                                           ulState, NULL);
      g_assert_cmpuint (IMAPIOffline_Release (lpOffline), ==, 1);
    }
  g_assert_cmpuint (IMAPIOfflineMgr_Release (lpOfflineMgr), ==, 0);
  return hRes;
}

/* The daemon's side */

static guint
advise_count (Harness *h)
{
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);

  return harness_get_uint (h->client, path, "AdviseCount");
}

static void
fail_next (Harness *h, const char *method, const char *error_name)
{
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);

  harness_emulation_call_ok (h, path, "FailNext", g_variant_new ("(ssu)", method, error_name, 1));
}

static void
setup_long_notify_timeout (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--notify-timeout=600000", NULL };

  harness_setup (h, args);
}

static void
setup_one_advise_each (Harness *h, gconstpointer data)
{
  static const char *const args[] = { "--max-advises-per-connection=1", NULL };

  harness_setup (h, args);
}

/* Inside Notify, on the library's thread: the state reads, opening the object again too;
 * SetCurrentState is refused while the transition runs. */
static void
reenter (Monitor *monitor, const MAPIOFFLINE_NOTIFY *notify)
{
  ULONG expected = notify->NotifyType == NOTIFY_START ? notify->Info.StateChange.ulStateOld
                                                      : notify->Info.StateChange.ulStateNew;

  g_assert_cmpuint (GetCurrentState (PROFILE), ==, expected);
  g_assert_cmpint (SetCurrentState (PROFILE, 0, notify->Info.StateChange.ulStateOld), ==,
                   E_PENDING);
  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, notify->Info.StateChange.ulStateNew), ==,
                   E_PENDING);
}

/* The cases */

/* The sample, start to end: a BLOCK transition returns once each Notify of it has returned,
 * one without BLOCK returns at once, and its three notifications follow. */
static void
test_sample (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor;

  monitor_init (&monitor, log, 1, reenter);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpuint (g_ulAdviseToken, !=, 0);
  g_assert_cmpuint (monitor_refs (&monitor), ==, 2);
  g_assert_cmpuint (advise_count (h), ==, 1);
  mapi_test_two_transitions (log, 1, MONITOR_TOKEN, GetCurrentState, SetCurrentState);
  g_assert_cmpstr (monitor.described, ==,
                   "MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE, token 0x2A, "
                   "MAPIOFFLINE_STATE_OFFLINE_MASK, MAPIOFFLINE_STATE_OFFLINE -> "
                   "MAPIOFFLINE_STATE_ONLINE");

  DeInitMonitor ();
  g_assert_cmpuint (monitor_refs (&monitor), ==, 1);
  g_assert_cmpuint (advise_count (h), ==, 0);
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

static void
test_open_errors (Harness *h, gconstpointer data)
{
  static const wchar_t not_unicode[] = { 'a', 0xd800, 0 };
  IMAPIOfflineMgr *mgr = (IMAPIOfflineMgr *) SOME_OTHER_VALUE;
  g_autofree char *other = harness_create_profile (h, OTHER_PROFILE, 3, OFFLINE);

  g_assert_cmpint (HrOpenOfflineObj (1, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, E_INVALIDARG);
  g_assert_null (mgr);
  g_assert_cmpint (HrOpenOfflineObj (0, NULL, &GUID_GlobalState, NULL, &mgr), ==, E_INVALIDARG);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, NULL, NULL, &mgr), ==, E_INVALIDARG);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, &GUID_GlobalState, &mgr), ==,
                   E_INVALIDARG);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, NULL), ==, E_INVALIDARG);
  g_assert_cmpint (HrOpenOfflineObj (0, not_unicode, &GUID_GlobalState, NULL, &mgr), ==,
                   E_INVALIDARG);
  g_assert_null (mgr);

  g_assert_cmpint (HrOpenOfflineObj (0, L"no such profile", &GUID_GlobalState, NULL, &mgr), ==,
                   MAPI_E_NOT_FOUND);
  g_assert_null (mgr);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &IID_IMAPIOffline, NULL, &mgr), ==,
                   MAPI_E_NOT_FOUND);
  g_assert_null (mgr);

  /* A profile name beyond ASCII, as wide characters */
  g_assert_cmpuint (GetCurrentState (OTHER_PROFILE_W), ==, OFFLINE);

  g_setenv (BUS_ENV, NO_SUCH_BUS, TRUE);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==,
                   MAPI_E_CALL_FAILED);
  g_unsetenv (BUS_ENV);
  g_assert_null (mgr);
}

/* $OFFLINE_STATE_MAPI_BUS chooses the bus: an address here, the test's private bus. */
static void
test_bus_address (Harness *h, gconstpointer data)
{
  g_setenv (BUS_ENV, g_test_dbus_get_bus_address (h->bus), TRUE);
  g_assert_cmpuint (GetCurrentState (PROFILE), ==, ONLINE);
  g_setenv (BUS_ENV, "session", TRUE);
  g_assert_cmpuint (GetCurrentState (PROFILE), ==, ONLINE);
  g_unsetenv (BUS_ENV);
}

static void
assert_query_interface (IMAPIOfflineMgr *mgr, REFIID riid, ULONG refs_after)
{
  void *object = NULL;

  g_assert_cmpint (IMAPIOfflineMgr_QueryInterface (mgr, riid, &object), ==, S_OK);
  g_assert_true (object == mgr);
  g_assert_cmpuint (IMAPIOfflineMgr_AddRef (mgr), ==, refs_after + 1);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, refs_after);
}

static void
test_object_errors (Harness *h, gconstpointer data)
{
  IMAPIOfflineMgr *mgr = NULL;
  void *object = SOME_OTHER_VALUE;
  ULONG value = 0;

  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);
  assert_query_interface (mgr, &IID_IUnknown, 2);
  assert_query_interface (mgr, &IID_IMAPIOffline, 3);
  assert_query_interface (mgr, &IID_IMAPIOfflineMgr, 4);
  g_assert_cmpint (IMAPIOfflineMgr_QueryInterface (mgr, &IID_IMAPIOfflineNotify, &object), ==,
                   E_NOINTERFACE);
  g_assert_null (object);
  g_assert_cmpint (IMAPIOfflineMgr_QueryInterface (mgr, &IID_IMAPIOffline, NULL), ==, E_POINTER);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 3);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 2);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 1);

  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, NULL), ==, E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_GetCapabilities (mgr, NULL), ==, E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_GetCapabilities (mgr, &value), ==, S_OK);
  g_assert_cmpuint (value, ==, MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE);

  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, 1, OFFLINE_MASK, OFFLINE, NULL), ==,
                   E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK | 1, OFFLINE_MASK, OFFLINE, NULL),
                   ==, E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK, 1, OFFLINE, NULL), ==,
                   E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK, OFFLINE_MASK, 3, NULL), ==,
                   E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK, OFFLINE_MASK, 0, NULL), ==,
                   E_INVALIDARG);
  g_assert_cmpint (
      IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK, OFFLINE_MASK, OFFLINE, SOME_OTHER_VALUE), ==,
      E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, &value), ==, S_OK);
  g_assert_cmpuint (value, ==, ONLINE);

  g_assert_cmpint (IMAPIOfflineMgr_Placeholder1 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder2 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder3 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder4 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder5 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder6 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder7 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (IMAPIOfflineMgr_Placeholder8 (mgr), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
}

/* An Advise that is refused leaves no reference behind, and no advise. */
static void
assert_advise_fails (IMAPIOfflineMgr *mgr,
                     ULONG flags,
                     const MAPIOFFLINE_ADVISEINFO *info,
                     HRESULT expected)
{
  MAPIOFFLINE_ADVISEINFO copy = *info;
  ULONG token = 7;

  g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, flags, &copy, &token), ==, expected);
  g_assert_cmpuint (token, ==, 0);
  if (info->pCallback != NULL)
    g_assert_cmpuint (IUnknown_AddRef (info->pCallback), ==, 2);
  if (info->pCallback != NULL)
    g_assert_cmpuint (IUnknown_Release (info->pCallback), ==, 1);
}

static void
test_advise_errors (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor, plain;
  IMAPIOfflineMgr *mgr = NULL;
  MAPIOFFLINE_ADVISEINFO info = { sizeof info,
                                  MONITOR_TOKEN,
                                  MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                                  (IUnknown *) &monitor,
                                  MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                                  MAPIOFFLINE_STATE_ALL };
  MAPIOFFLINE_ADVISEINFO bad;
  ULONG token = 0;

  monitor_init (&monitor, log, 1, NULL);
  monitor_init (&plain, log, 2, NULL);
  plain.iface.lpVtbl = &plain_vtbl;
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);

  g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, 0, NULL, &token), ==, E_INVALIDARG);
  g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, 0, &info, NULL), ==, E_INVALIDARG);
  assert_advise_fails (mgr, 1, &info, E_INVALIDARG);
  bad = info;
  bad.ulSize = sizeof info - 1;
  assert_advise_fails (mgr, 0, &bad, E_INVALIDARG);
  bad = info;
  bad.CallbackType = (MAPIOFFLINE_CALLBACK_TYPE) 1;
  assert_advise_fails (mgr, 0, &bad, E_NOINTERFACE);
  bad = info;
  bad.ulAdviseTypes = 2;
  assert_advise_fails (mgr, 0, &bad, E_INVALIDARG);
  bad = info;
  bad.ulStateMask = 0;
  assert_advise_fails (mgr, 0, &bad, E_INVALIDARG);
  bad = info;
  bad.ulStateMask = 0x80000000u;
  assert_advise_fails (mgr, 0, &bad, E_INVALIDARG);
  bad = info;
  bad.pCallback = NULL;
  assert_advise_fails (mgr, 0, &bad, E_INVALIDARG);
  bad = info;
  bad.pCallback = (IUnknown *) &plain;
  assert_advise_fails (mgr, 0, &bad, E_NOINTERFACE);
  g_assert_cmpuint (advise_count (h), ==, 0);

  /* The service's refusal, and its answer that fails (its own failure) */
  fail_next (h, "Advise", OFFLINE_STATE_ERROR_NOT_FOUND);
  assert_advise_fails (mgr, 0, &info, MAPI_E_NOT_FOUND);
  fail_next (h, "Advise", FAILED_ERROR);
  assert_advise_fails (mgr, 0, &info, MAPI_E_CALL_FAILED);
  g_assert_cmpuint (advise_count (h), ==, 0);

  /* Unadvise: S_OK, always; other flags and unknown tokens change nothing */
  g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, 0, &info, &token), ==, S_OK);
  g_assert_cmpuint (monitor_refs (&monitor), ==, 2);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 1, token), ==, S_OK);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 0, token + 1), ==, S_OK);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 0, 0), ==, S_OK);
  g_assert_cmpuint (advise_count (h), ==, 1);
  g_assert_cmpuint (monitor_refs (&monitor), ==, 2);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 0, token), ==, S_OK);
  g_assert_cmpuint (monitor_refs (&monitor), ==, 1);
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 0, token), ==, S_OK);

  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
  g_assert_cmpuint (mapi_test_log_count (log), ==, 0);
  monitor_clear (&monitor);
  monitor_clear (&plain);
  mapi_test_log_free (log);
}

/* An Unadvise whose call fails still removes the advise here: the service removes its own
 * when its next Notify finds no object. */
static void
test_unadvise_call_fails (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor;

  monitor_init (&monitor, log, 1, NULL);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  fail_next (h, "Unadvise", FAILED_ERROR);
  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (g_lpOfflineMgr, 0, g_ulAdviseToken), ==, S_OK);
  g_assert_cmpuint (monitor_refs (&monitor), ==, 1);
  g_assert_cmpuint (advise_count (h), ==, 1);

  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, OFFLINE), ==, S_OK);
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (mapi_test_log_count (log), ==, 0);
  DeInitMonitor ();
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

/* The service's errors, as MAPI's codes */
static void
test_error_codes (Harness *h, gconstpointer data)
{
  IMAPIOfflineMgr *mgr = NULL;
  ULONG value = 0;

  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);
  fail_next (h, "GetCurrentState", FAILED_ERROR);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, &value), ==, MAPI_E_CALL_FAILED);
  fail_next (h, "GetCurrentState", OFFLINE_STATE_ERROR_ACCESS_DENIED);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, &value), ==, E_ACCESSDENIED);
  fail_next (h, "GetCapabilities", OFFLINE_STATE_ERROR_INVALID_ARGS);
  g_assert_cmpint (IMAPIOfflineMgr_GetCapabilities (mgr, &value), ==, E_INVALIDARG);
  fail_next (h, "SetCurrentState", OFFLINE_STATE_ERROR_IO_ERROR);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, BLOCK, OFFLINE_MASK, OFFLINE, NULL), ==,
                   MAPI_E_DISK_ERROR);
  fail_next (h, "SetCurrentState", OFFLINE_STATE_ERROR_PENDING);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, 0, OFFLINE_MASK, OFFLINE, NULL), ==,
                   E_PENDING);
  fail_next (h, "GetCurrentState", OFFLINE_STATE_ERROR_NO_INTERFACE);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, &value), ==, E_NOINTERFACE);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (mgr, &value), ==, S_OK);
  g_assert_cmpuint (value, ==, ONLINE);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
}

/* The service's limit on advises: not enough room, as MAPI says it. */
static void
test_limit (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor, second;
  MAPIOFFLINE_ADVISEINFO info = { sizeof info,
                                  2,
                                  MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                                  (IUnknown *) &second,
                                  MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                                  MAPIOFFLINE_STATE_ALL };

  monitor_init (&monitor, log, 1, NULL);
  monitor_init (&second, log, 2, NULL);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  assert_advise_fails (g_lpOfflineMgr, 0, &info, E_OUTOFMEMORY);
  DeInitMonitor ();
  monitor_clear (&monitor);
  monitor_clear (&second);
  mapi_test_log_free (log);
}

static void
hold_start (Monitor *monitor, const MAPIOFFLINE_NOTIFY *notify)
{
  if (notify->NotifyType == NOTIFY_START)
    mapi_test_gate_pass (&monitor->gate);
}

/* While a transition runs, every SetCurrentState is E_PENDING, from any thread. */
static void
test_pending (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor;
  ULONG state = 0;

  monitor_init (&monitor, log, 1, hold_start);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (g_lpOfflineMgr, 0, OFFLINE_MASK, OFFLINE, NULL),
                   ==, S_OK);
  mapi_test_gate_wait_entered (&monitor.gate);
  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, ONLINE), ==, E_PENDING);
  g_assert_cmpint (SetCurrentState (PROFILE, 0, OFFLINE), ==, E_PENDING);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (g_lpOfflineMgr, &state), ==, S_OK);
  g_assert_cmpuint (state, ==, ONLINE);
  mapi_test_gate_open (&monitor.gate);
  mapi_test_log_wait (log, 3);
  mapi_test_assert_transition (log, 1, 0, MONITOR_TOKEN, ONLINE, OFFLINE, 0);
  DeInitMonitor ();
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

/* Unadvise of its own advise from inside Notify: S_OK, the callback is still held while its
 * Notify runs, and nothing more comes. */
static void
unadvise_at_statechange (Monitor *monitor, const MAPIOFFLINE_NOTIFY *notify)
{
  reenter (monitor, notify);
  if (notify->NotifyType != NOTIFY_CHANGE)
    return;
  g_assert_cmpint (
      IMAPIOfflineMgr_Unadvise (g_lpOfflineMgr, MAPIOFFLINE_UNADVISE_DEFAULT, g_ulAdviseToken), ==,
      S_OK);
  g_assert_cmpuint (monitor_refs (monitor), ==, 2);
}

/* DeInitMonitor from inside Notify: Unadvise, and the last Release of the offline object,
 * after the test has let go of its other one. */
static void
deinit_at_done (Monitor *monitor, const MAPIOFFLINE_NOTIFY *notify)
{
  if (notify->NotifyType == NOTIFY_START)
    mapi_test_gate_pass (&monitor->gate);
  if (notify->NotifyType == NOTIFY_DONE)
    DeInitMonitor ();
}

static void
test_reentrant (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor, second;
  IMAPIOfflineMgr *mgr = NULL;

  monitor_init (&monitor, log, 1, unadvise_at_statechange);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, OFFLINE), ==, S_OK);
  mapi_test_refs_wait (&monitor.refs, 1);
  g_assert_cmpuint (mapi_test_log_count (log), ==, 2);
  g_assert_cmpint (mapi_test_log_get (log, 1).notify.NotifyType, ==, NOTIFY_CHANGE);
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (g_lpOfflineMgr), ==, 0);
  g_lpOfflineMgr = NULL;

  monitor_init (&second, log, 2, deinit_at_done);
  g_assert_cmpint (InitMonitor (PROFILE, &second.iface, 2), ==, S_OK);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);
  g_assert_cmpint (IMAPIOfflineMgr_SetCurrentState (mgr, 0, OFFLINE_MASK, ONLINE, NULL), ==, S_OK);
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
  mapi_test_gate_open (&second.gate);
  mapi_test_refs_wait (&second.refs, 1);
  mapi_test_log_wait (log, 5);
  mapi_test_assert_transition (log, 2, 0, 2, OFFLINE, ONLINE, 0);
  g_assert_null (g_lpOfflineMgr);
  g_assert_cmpuint (advise_count (h), ==, 0);
  /* A new object, on a new connection */
  g_assert_cmpuint (GetCurrentState (PROFILE), ==, ONLINE);

  monitor_clear (&monitor);
  monitor_clear (&second);
  mapi_test_log_free (log);
}

/* Three advises in one process, two of them on one object: each its own token, each told of
 * each transition, until it is unadvised. */
static void
test_two_advises (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  Monitor first, second, third;
  IMAPIOfflineMgr *mgr = NULL;
  MAPIOFFLINE_ADVISEINFO info = { sizeof info,
                                  2,
                                  MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                                  (IUnknown *) &second,
                                  MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                                  MAPIOFFLINE_STATE_OFFLINE_MASK };
  ULONG second_token = 0, third_token = 0;
  guint64 after;

  monitor_init (&first, log, 1, reenter);
  monitor_init (&second, log, 2, NULL);
  monitor_init (&third, log, 3, reenter);
  g_assert_cmpint (InitMonitor (PROFILE, &first.iface, 1), ==, S_OK);
  g_assert_cmpint (IMAPIOfflineMgr_Advise (g_lpOfflineMgr, 0, &info, &second_token), ==, S_OK);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);
  info.ulClientToken = 3;
  info.pCallback = (IUnknown *) &third;
  g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, 0, &info, &third_token), ==, S_OK);
  g_assert_cmpuint (second_token, !=, g_ulAdviseToken);
  g_assert_cmpuint (third_token, !=, g_ulAdviseToken);
  g_assert_cmpuint (third_token, !=, second_token);
  g_assert_cmpuint (advise_count (h), ==, 3);

  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, OFFLINE), ==, S_OK);
  after = mapi_test_stamp ();
  g_assert_cmpuint (mapi_test_log_count (log), ==, 9);
  mapi_test_assert_transition (log, 1, 0, 1, ONLINE, OFFLINE, after);
  mapi_test_assert_transition (log, 2, 0, 2, ONLINE, OFFLINE, after);
  mapi_test_assert_transition (log, 3, 0, 3, ONLINE, OFFLINE, after);

  g_assert_cmpint (IMAPIOfflineMgr_Unadvise (g_lpOfflineMgr, 0, second_token), ==, S_OK);
  g_assert_cmpuint (monitor_refs (&second), ==, 1);
  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, ONLINE), ==, S_OK);
  after = mapi_test_stamp ();
  g_assert_cmpuint (mapi_test_log_count (log), ==, 15);
  mapi_test_assert_transition (log, 1, 3, 1, OFFLINE, ONLINE, after);
  mapi_test_assert_transition (log, 3, 3, 3, OFFLINE, ONLINE, after);
  g_assert_cmpuint (mapi_test_log_count_for (log, 2), ==, 3);

  /* The last Release unadvises what is still advised */
  g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
  g_assert_cmpuint (monitor_refs (&third), ==, 1);
  DeInitMonitor ();
  g_assert_cmpuint (advise_count (h), ==, 0);
  monitor_clear (&first);
  monitor_clear (&second);
  monitor_clear (&third);
  mapi_test_log_free (log);
}

/* The service stops and comes back: calls fail meanwhile, and the advise is still there
 * after, with its token (the daemon keeps callback advises across a restart). */
static void
test_restart (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  IMAPIOfflineMgr *mgr = NULL;
  Monitor monitor;
  ULONG state = 0;

  monitor_init (&monitor, log, 1, reenter);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpint (harness_stop_daemon (h), ==, 0);
  g_assert_cmpint (IMAPIOfflineMgr_GetCurrentState (g_lpOfflineMgr, &state), ==,
                   MAPI_E_CALL_FAILED);
  g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==,
                   MAPI_E_CALL_FAILED);
  g_assert_null (mgr);

  harness_start_daemon (h, NULL);
  g_assert_cmpuint (advise_count (h), ==, 1);
  g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, OFFLINE), ==, S_OK);
  g_assert_cmpuint (mapi_test_log_count (log), ==, 3);
  mapi_test_assert_transition (log, 1, 0, MONITOR_TOKEN, ONLINE, OFFLINE, mapi_test_stamp ());
  DeInitMonitor ();
  g_assert_cmpuint (advise_count (h), ==, 0);
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

/* What the service sends is passed on: a notification of another type or mask too, which
 * MAPI's pages tell the callback to ignore (the sample's Notify says what it is). */
static void
test_other_notifications (Harness *h, gconstpointer data)
{
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);
  MapiTestLog *log = mapi_test_log_new ();
  Monitor monitor;
  MapiTestNote note;

  monitor_init (&monitor, log, 1, NULL);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  harness_emulation_call_ok (h, path, "InjectNotification", g_variant_new ("(uuuu)", 7, 4, 2, 1));
  mapi_test_log_wait (log, 1);
  note = mapi_test_log_get (log, 0);
  g_assert_cmpint (note.notify.NotifyType, ==, 7);
  g_assert_cmpuint (note.notify.Info.StateChange.ulMask, ==, 4);
  g_assert_cmpstr (monitor.described, ==,
                   "NotifyType 0x00000007, token 0x2A, ulMask 0x4, MAPIOFFLINE_STATE_ONLINE -> "
                   "MAPIOFFLINE_STATE_OFFLINE");
  DeInitMonitor ();
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

/* Every entry point from many threads at once, while the main thread runs transitions. */

#define N_THREADS 4
#define N_ROUNDS  8

typedef struct
{
  MapiTestLog *log;
  guint id;
} Worker;

static gpointer
worker_run (gpointer data)
{
  Worker *worker = data;
  Monitor monitor;

  monitor_init (&monitor, worker->log, worker->id, NULL);
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      IMAPIOfflineMgr *mgr = NULL;
      IMAPIOffline *offline = NULL;
      MAPIOFFLINE_ADVISEINFO info = { sizeof info,
                                      worker->id,
                                      MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                                      (IUnknown *) &monitor,
                                      MAPIOFFLINE_ADVISE_TYPE_STATECHANGE,
                                      MAPIOFFLINE_STATE_ALL };
      ULONG state = 0, token = 0;

      g_assert_cmpint (HrOpenOfflineObj (0, PROFILE, &GUID_GlobalState, NULL, &mgr), ==, S_OK);
      g_assert_cmpint (IMAPIOfflineMgr_Advise (mgr, 0, &info, &token), ==, S_OK);
      g_assert_cmpint (IMAPIOfflineMgr_QueryInterface (mgr, &IID_IMAPIOffline, (void **) &offline),
                       ==, S_OK);
      g_assert_cmpint (IMAPIOffline_GetCurrentState (offline, &state), ==, S_OK);
      g_assert_true (state == ONLINE || state == OFFLINE);
      g_assert_cmpuint (IMAPIOffline_Release (offline), ==, 1);
      if (round % 2 == 0)
        g_assert_cmpint (IMAPIOfflineMgr_Unadvise (mgr, 0, token), ==, S_OK);
      g_assert_cmpuint (IMAPIOfflineMgr_Release (mgr), ==, 0);
    }
  mapi_test_refs_wait (&monitor.refs, 1);
  monitor_clear (&monitor);
  return NULL;
}

static void
test_threads (Harness *h, gconstpointer data)
{
  MapiTestLog *log = mapi_test_log_new ();
  GThread *threads[N_THREADS];
  Worker workers[N_THREADS];
  Monitor monitor;

  monitor_init (&monitor, log, 0, NULL);
  g_assert_cmpint (InitMonitor (PROFILE, &monitor.iface, MONITOR_TOKEN), ==, S_OK);
  for (guint i = 0; i < N_THREADS; i++)
    {
      workers[i] = (Worker){ log, i + 1 };
      threads[i] = g_thread_new ("worker", worker_run, &workers[i]);
    }
  for (guint i = 0; i < 2; i++)
    g_assert_cmpint (SetCurrentState (PROFILE, BLOCK, i == 0 ? OFFLINE : ONLINE), ==, S_OK);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  mapi_test_assert_transition (log, 0, 0, MONITOR_TOKEN, ONLINE, OFFLINE, 0);
  mapi_test_assert_transition (log, 0, 3, MONITOR_TOKEN, OFFLINE, ONLINE, 0);
  DeInitMonitor ();
  g_assert_cmpuint (advise_count (h), ==, 0);
  monitor_clear (&monitor);
  mapi_test_log_free (log);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv (BUS_ENV);

  HARNESS_ADD ("/mapi/c/sample", NULL, harness_fixture_setup, test_sample);
  HARNESS_ADD ("/mapi/c/open-errors", NULL, harness_fixture_setup, test_open_errors);
  HARNESS_ADD ("/mapi/c/bus-address", NULL, harness_fixture_setup, test_bus_address);
  HARNESS_ADD ("/mapi/c/object-errors", NULL, harness_fixture_setup, test_object_errors);
  HARNESS_ADD ("/mapi/c/advise-errors", NULL, harness_fixture_setup, test_advise_errors);
  HARNESS_ADD ("/mapi/c/unadvise-call-fails", NULL, harness_fixture_setup,
               test_unadvise_call_fails);
  HARNESS_ADD ("/mapi/c/error-codes", NULL, harness_fixture_setup, test_error_codes);
  HARNESS_ADD ("/mapi/c/limit", NULL, setup_one_advise_each, test_limit);
  HARNESS_ADD ("/mapi/c/pending", NULL, setup_long_notify_timeout, test_pending);
  HARNESS_ADD ("/mapi/c/reentrant", NULL, setup_long_notify_timeout, test_reentrant);
  HARNESS_ADD ("/mapi/c/two-advises", NULL, harness_fixture_setup, test_two_advises);
  HARNESS_ADD ("/mapi/c/restart", NULL, harness_fixture_setup, test_restart);
  HARNESS_ADD ("/mapi/c/other-notifications", NULL, harness_fixture_setup,
               test_other_notifications);
  HARNESS_ADD ("/mapi/c/threads", NULL, harness_fixture_setup, test_threads);
  return g_test_run ();
}
