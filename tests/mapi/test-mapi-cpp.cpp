/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * MAPI's Offline State API from C++ (liboffline-state-mapi-1, docs/mapi.md), against the
 * real daemon on a private bus, in the shape of Microsoft's sample Offline State add-in: the
 * library is loaded and HrOpenOfflineObj found by name (dlopen and dlsym, as the sample's
 * LoadLibrary and GetProcAddress); CMyOfflineNotify implements IMAPIOfflineNotify; InitMonitor,
 * GetCurrentState, SetCurrentState and DeInitMonitor are the sample's routines. Every object
 * of the test counts its references and says when it is deleted.
 */
#include <dlfcn.h>

#include "harness.h"
#include "mapi-test.h"

#define LIBRARY       "liboffline-state-mapi-1.so.0"
#define PROFILE       L"default"
#define MONITOR_TOKEN 0x2a

static const ULONG ONLINE = MAPIOFFLINE_STATE_ONLINE;
static const ULONG OFFLINE = MAPIOFFLINE_STATE_OFFLINE;

static HROPENOFFLINEOBJ *pfnHrOpenOfflineObj;

/* The callback */

class CMyOfflineNotify : public IMAPIOfflineNotify
{
public:
  CMyOfflineNotify (MapiTestLog *log, guint id, bool *deleted) : m_log (log), m_id (id)
  {
    mapi_test_refs_init (&m_refs, 1);
    m_deleted = deleted;
    *m_deleted = false;
  }

  STDMETHODIMP
  QueryInterface (REFIID riid, LPVOID *ppvObj)
  {
    *ppvObj = nullptr;
    if (!IsEqualIID (riid, IID_IUnknown) && !IsEqualIID (riid, IID_IMAPIOfflineNotify))
      return E_NOINTERFACE;
    AddRef ();
    *ppvObj = static_cast<IMAPIOfflineNotify *> (this);
    return S_OK;
  }

  STDMETHODIMP_ (ULONG)
  AddRef () { return mapi_test_refs_add (&m_refs, 1); }

  STDMETHODIMP_ (ULONG)
  Release ()
  {
    ULONG refs = mapi_test_refs_add (&m_refs, -1);

    if (refs == 0)
      delete this;
    return refs;
  }

  void STDMETHODCALLTYPE Notify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    guint index = mapi_test_log_add (m_log, m_id, pNotifyInfo);

    if (pNotifyInfo == nullptr)
      g_test_fail ();
    else
      Describe (pNotifyInfo);
    OnNotify (pNotifyInfo);
    mapi_test_log_returned (m_log, index);
  }

  ULONG
  Refs () { return mapi_test_refs_get (&m_refs); }

  void WaitRefs (ULONG refs) { mapi_test_refs_wait (&m_refs, refs); }

protected:
  /* After the interface's methods: the vtable of IMAPIOfflineNotify comes first. */
  virtual void OnNotify (const MAPIOFFLINE_NOTIFY *) {}

  virtual ~CMyOfflineNotify ()
  {
    mapi_test_refs_clear (&m_refs);
    *m_deleted = true;
  }

private:
  /* The sample's switches, on the notification's type and on its state change. */
  void Describe (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    const char *type = "another type";
    const char *change = "another change";

    switch (pNotifyInfo->NotifyType)
      {
        case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START:
          type = "MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START";
          break;
        case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE:
          type = "MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE";
          break;
        case MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE:
          type = "MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE";
          break;
      }
    if (pNotifyInfo->Info.StateChange.ulMask == MAPIOFFLINE_STATE_OFFLINE_MASK)
      switch (pNotifyInfo->Info.StateChange.ulStateNew)
        {
          case MAPIOFFLINE_STATE_ONLINE:
            change = "going online";
            break;
          case MAPIOFFLINE_STATE_OFFLINE:
            change = "going offline";
            break;
        }
    g_test_message ("CMyOfflineNotify %u: %s, token 0x%X, %s", m_id, type,
                    pNotifyInfo->ulClientToken, change);
  }

  MapiTestRefs m_refs;
  MapiTestLog *m_log;
  guint m_id;
  bool *m_deleted;
};

/* The sample's routines */

static IMAPIOfflineMgr *g_lpOfflineMgr;
static ULONG g_ulAdviseToken;

static HRESULT
InitMonitor (LPCWSTR szProfile, CMyOfflineNotify *lpImplNotify, ULONG ulClientToken)
{
  IMAPIOffline *lpOffline = nullptr;
  HRESULT hRes;

  g_assert_null (g_lpOfflineMgr);
  hRes = pfnHrOpenOfflineObj (0, szProfile, &GUID_GlobalState, nullptr, &g_lpOfflineMgr);
  if (FAILED (hRes))
    return hRes;
  hRes = g_lpOfflineMgr->QueryInterface (IID_IMAPIOffline, (LPVOID *) &lpOffline);
  if (lpOffline)
    {
      ULONG ulCap = 0;

      hRes = lpOffline->GetCapabilities (&ulCap);
      if (ulCap & (MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE))
        {
          MAPIOFFLINE_ADVISEINFO AdviseInfo = {};

          AdviseInfo.ulSize = sizeof (MAPIOFFLINE_ADVISEINFO);
          AdviseInfo.ulClientToken = ulClientToken;
          AdviseInfo.CallbackType = MAPIOFFLINE_CALLBACK_TYPE_NOTIFY;
          AdviseInfo.pCallback = lpImplNotify;
          AdviseInfo.ulAdviseTypes = MAPIOFFLINE_ADVISE_TYPE_STATECHANGE;
          AdviseInfo.ulStateMask = MAPIOFFLINE_STATE_ALL;
          hRes = g_lpOfflineMgr->Advise (MAPIOFFLINE_ADVISE_DEFAULT, &AdviseInfo, &g_ulAdviseToken);
        }
      g_assert_cmpuint (lpOffline->Release (), ==, 1);
    }
  return hRes;
}

static void
DeInitMonitor ()
{
  g_assert_cmpint (g_lpOfflineMgr->Unadvise (MAPIOFFLINE_UNADVISE_DEFAULT, g_ulAdviseToken), ==,
                   S_OK);
  g_assert_cmpuint (g_lpOfflineMgr->Release (), ==, 0);
  g_lpOfflineMgr = nullptr;
  g_ulAdviseToken = 0;
}

/* What the sample's helpers do first and last: open the object again, and release it. */
class COfflineObject
{
public:
  explicit COfflineObject (LPCWSTR szProfile)
  {
    m_hRes = pfnHrOpenOfflineObj (0, szProfile, &GUID_GlobalState, nullptr, &m_lpOfflineMgr);
    if (SUCCEEDED (m_hRes))
      m_hRes = m_lpOfflineMgr->QueryInterface (IID_IMAPIOffline, (LPVOID *) &m_lpOffline);
  }

  ~COfflineObject ()
  {
    if (m_lpOffline)
      g_assert_cmpuint (m_lpOffline->Release (), ==, 1);
    if (m_lpOfflineMgr)
      g_assert_cmpuint (m_lpOfflineMgr->Release (), ==, 0);
  }

  HRESULT m_hRes;
  IMAPIOfflineMgr *m_lpOfflineMgr = nullptr;
  IMAPIOffline *m_lpOffline = nullptr;
};

static ULONG
GetCurrentState (LPCWSTR szProfile)
{
  COfflineObject offline (szProfile);
  ULONG ulCurState = 0;

  if (SUCCEEDED (offline.m_hRes))
    g_assert_cmpint (offline.m_lpOffline->GetCurrentState (&ulCurState), ==, S_OK);
  return ulCurState;
}

static HRESULT
SetCurrentState (LPCWSTR szProfile, ULONG ulFlags, ULONG ulState)
{
  COfflineObject offline (szProfile);

  if (FAILED (offline.m_hRes))
    return offline.m_hRes;
  return offline.m_lpOffline->SetCurrentState (ulFlags, MAPIOFFLINE_STATE_OFFLINE_MASK, ulState,
                                               nullptr);
}

/* Callbacks that do more */

/* Reads the state, opening the object again, and tries to change it: refused while the
 * transition runs. */
class CReadingNotify : public CMyOfflineNotify
{
public:
  using CMyOfflineNotify::CMyOfflineNotify;

protected:
  void OnNotify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    const ULONG expected = pNotifyInfo->NotifyType == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START
                               ? pNotifyInfo->Info.StateChange.ulStateOld
                               : pNotifyInfo->Info.StateChange.ulStateNew;

    g_assert_cmpuint (GetCurrentState (PROFILE), ==, expected);
    g_assert_cmpint (SetCurrentState (PROFILE, MAPIOFFLINE_FLAG_BLOCK, ONLINE), ==, E_PENDING);
  }
};

/* DeInitMonitor at STATECHANGE: Unadvise of its own advise and the last Release of the
 * offline object, from inside its Notify. */
class CLeavingNotify : public CMyOfflineNotify
{
public:
  using CMyOfflineNotify::CMyOfflineNotify;

protected:
  void OnNotify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    if (pNotifyInfo->NotifyType == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE)
      {
        DeInitMonitor ();
        /* The library's reference goes once this Notify has returned. */
        g_assert_cmpuint (Refs (), ==, 2);
      }
  }
};

/* Held at START until the test opens the gate. */
class CHeldNotify : public CMyOfflineNotify
{
public:
  CHeldNotify (MapiTestLog *log, guint id, bool *deleted) : CMyOfflineNotify (log, id, deleted)
  {
    mapi_test_gate_init (&m_gate);
  }

  MapiTestGate m_gate;

protected:
  void OnNotify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    if (pNotifyInfo->NotifyType == MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START)
      mapi_test_gate_pass (&m_gate);
  }

  ~CHeldNotify () { mapi_test_gate_clear (&m_gate); }
};

/* An add-in object with an interface of its own first, and IMAPIOfflineNotify second: the
 * pointer that QueryInterface gives for IID_IMAPIOfflineNotify is not the one advised. */
struct IAddin : public IUnknown
{
  virtual ULONG Calls () = 0;
};

class CAddin : public IAddin, public CMyOfflineNotify
{
public:
  CAddin (MapiTestLog *log, guint id, bool *deleted) : CMyOfflineNotify (log, id, deleted) {}

  STDMETHODIMP
  QueryInterface (REFIID riid, LPVOID *ppvObj)
  {
    return CMyOfflineNotify::QueryInterface (riid, ppvObj);
  }

  STDMETHODIMP_ (ULONG)
  AddRef () { return CMyOfflineNotify::AddRef (); }

  STDMETHODIMP_ (ULONG)
  Release () { return CMyOfflineNotify::Release (); }

  ULONG
  Calls () { return m_calls; }

protected:
  void OnNotify (const MAPIOFFLINE_NOTIFY *) { m_calls++; }

private:
  ULONG m_calls = 0;
};

/* An object that is no IMAPIOfflineNotify */
class CPlain : public IUnknown
{
public:
  STDMETHODIMP
  QueryInterface (REFIID riid, LPVOID *ppvObj)
  {
    *ppvObj = nullptr;
    if (!IsEqualIID (riid, IID_IUnknown))
      return E_NOINTERFACE;
    AddRef ();
    *ppvObj = this;
    return S_OK;
  }

  STDMETHODIMP_ (ULONG)
  AddRef () { return ++m_refs; }

  STDMETHODIMP_ (ULONG)
  Release () { return --m_refs; }

private:
  ULONG m_refs = 1;
};

static guint
advise_count (Harness *h)
{
  g_autofree char *path = harness_profile_path (OFFLINE_STATE_DEFAULT_PROFILE);

  return harness_get_uint (h->client, path, "AdviseCount");
}

static void
setup_long_notify_timeout (Harness *h, gconstpointer)
{
  static const char *const args[] = { "--notify-timeout=600000", nullptr };

  harness_setup (h, args);
}

/* The cases */

static void
test_sample (Harness *h, gconstpointer)
{
  MapiTestLog *log = mapi_test_log_new ();
  bool deleted;
  CMyOfflineNotify *lpImplNotify = new CReadingNotify (log, 1, &deleted);

  g_assert_cmpint (InitMonitor (PROFILE, lpImplNotify, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpuint (g_ulAdviseToken, !=, 0);
  g_assert_cmpuint (lpImplNotify->Refs (), ==, 2);
  mapi_test_two_transitions (log, 1, MONITOR_TOKEN, GetCurrentState, SetCurrentState);

  DeInitMonitor ();
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (lpImplNotify->Release (), ==, 0);
  g_assert_true (deleted);
  mapi_test_log_free (log);
}

/* Two callbacks on one object, one of them reached through QueryInterface only: a BLOCK
 * transition returns once both have returned from each Notify. */
static void
test_block_two_callbacks (Harness *h, gconstpointer)
{
  MapiTestLog *log = mapi_test_log_new ();
  bool deleted, addin_deleted;
  CMyOfflineNotify *lpImplNotify = new CReadingNotify (log, 1, &deleted);
  CAddin *addin = new CAddin (log, 2, &addin_deleted);
  MAPIOFFLINE_ADVISEINFO info = {};
  ULONG token = 0;
  guint64 after;

  g_assert_cmpint (InitMonitor (PROFILE, lpImplNotify, 1), ==, S_OK);
  info.ulSize = sizeof info;
  info.ulClientToken = 2;
  info.CallbackType = MAPIOFFLINE_CALLBACK_TYPE_NOTIFY;
  info.pCallback = static_cast<IAddin *> (addin);
  info.ulAdviseTypes = MAPIOFFLINE_ADVISE_TYPE_STATECHANGE;
  info.ulStateMask = MAPIOFFLINE_STATE_OFFLINE_MASK;
  g_assert_true ((void *) info.pCallback != (void *) static_cast<IMAPIOfflineNotify *> (addin));
  g_assert_cmpint (g_lpOfflineMgr->Advise (MAPIOFFLINE_ADVISE_DEFAULT, &info, &token), ==, S_OK);
  g_assert_cmpuint (token, !=, g_ulAdviseToken);
  g_assert_cmpuint (addin->Refs (), ==, 2);

  g_assert_cmpint (SetCurrentState (PROFILE, MAPIOFFLINE_FLAG_BLOCK, OFFLINE), ==, S_OK);
  after = mapi_test_stamp ();
  g_assert_cmpuint (mapi_test_log_count (log), ==, 6);
  mapi_test_assert_transition (log, 1, 0, 1, ONLINE, OFFLINE, after);
  mapi_test_assert_transition (log, 2, 0, 2, ONLINE, OFFLINE, after);
  g_assert_cmpuint (addin->Calls (), ==, 3);

  /* The last Release unadvises both */
  g_assert_cmpuint (g_lpOfflineMgr->Release (), ==, 0);
  g_lpOfflineMgr = nullptr;
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (addin->Release (), ==, 0);
  g_assert_cmpuint (lpImplNotify->Release (), ==, 0);
  g_assert_true (deleted && addin_deleted);
  mapi_test_log_free (log);
}

static void
test_reentrant (Harness *h, gconstpointer)
{
  MapiTestLog *log = mapi_test_log_new ();
  bool deleted;
  CMyOfflineNotify *lpImplNotify = new CLeavingNotify (log, 1, &deleted);

  g_assert_cmpint (InitMonitor (PROFILE, lpImplNotify, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpint (SetCurrentState (PROFILE, MAPIOFFLINE_FLAG_BLOCK, OFFLINE), ==, S_OK);
  lpImplNotify->WaitRefs (1);
  g_assert_null (g_lpOfflineMgr);
  g_assert_cmpuint (mapi_test_log_count (log), ==, 2);
  g_assert_cmpint (mapi_test_log_get (log, 1).notify.NotifyType, ==,
                   MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE);
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (GetCurrentState (PROFILE), ==, OFFLINE);
  g_assert_cmpuint (lpImplNotify->Release (), ==, 0);
  g_assert_true (deleted);
  mapi_test_log_free (log);
}

static void
assert_advise_refused (IUnknown *callback, HRESULT expected)
{
  MAPIOFFLINE_ADVISEINFO info = {};
  ULONG token = 7;

  info.ulSize = sizeof info;
  info.CallbackType = MAPIOFFLINE_CALLBACK_TYPE_NOTIFY;
  info.pCallback = callback;
  info.ulAdviseTypes = MAPIOFFLINE_ADVISE_TYPE_STATECHANGE;
  info.ulStateMask = MAPIOFFLINE_STATE_ALL;
  g_assert_cmpint (g_lpOfflineMgr->Advise (MAPIOFFLINE_ADVISE_DEFAULT, &info, &token), ==,
                   expected);
  g_assert_cmpuint (token, ==, 0);
}

static void
test_errors (Harness *h, gconstpointer)
{
  MapiTestLog *log = mapi_test_log_new ();
  bool deleted;
  CHeldNotify *held = new CHeldNotify (log, 1, &deleted);
  IMAPIOfflineMgr *mgr = nullptr;
  IMAPIOffline *offline = nullptr;
  CPlain plain;
  LPVOID object = &plain;

  g_assert_cmpint (pfnHrOpenOfflineObj (0, L"no such profile", &GUID_GlobalState, nullptr, &mgr),
                   ==, MAPI_E_NOT_FOUND);
  g_assert_null (mgr);
  g_assert_cmpint (pfnHrOpenOfflineObj (0, PROFILE, &IID_IMAPIOfflineMgr, nullptr, &mgr), ==,
                   MAPI_E_NOT_FOUND);
  g_assert_cmpint (pfnHrOpenOfflineObj (0, PROFILE, nullptr, nullptr, &mgr), ==, E_INVALIDARG);

  g_assert_cmpint (InitMonitor (PROFILE, held, MONITOR_TOKEN), ==, S_OK);
  g_assert_cmpint (g_lpOfflineMgr->QueryInterface (IID_IMAPIOfflineNotify, &object), ==,
                   E_NOINTERFACE);
  g_assert_null (object);
  g_assert_cmpint (g_lpOfflineMgr->QueryInterface (IID_IMAPIOffline, nullptr), ==, E_POINTER);
  assert_advise_refused (&plain, E_NOINTERFACE);
  g_assert_cmpuint (plain.AddRef (), ==, 2);
  g_assert_cmpuint (plain.Release (), ==, 1);
  assert_advise_refused (nullptr, E_INVALIDARG);
  g_assert_cmpint (g_lpOfflineMgr->Placeholder1 (), ==, MAPI_E_NO_SUPPORT);
  g_assert_cmpint (g_lpOfflineMgr->Placeholder8 (), ==, MAPI_E_NO_SUPPORT);

  g_assert_cmpint (g_lpOfflineMgr->QueryInterface (IID_IMAPIOffline, (LPVOID *) &offline), ==,
                   S_OK);
  g_assert_cmpint (offline->SetCurrentState (0, 1, OFFLINE, nullptr), ==, E_INVALIDARG);
  g_assert_cmpint (offline->SetCurrentState (0, MAPIOFFLINE_STATE_OFFLINE_MASK, 5, nullptr), ==,
                   E_INVALIDARG);
  g_assert_cmpint (offline->SetCurrentState (0, MAPIOFFLINE_STATE_OFFLINE_MASK, OFFLINE, nullptr),
                   ==, S_OK);
  mapi_test_gate_wait_entered (&held->m_gate);
  g_assert_cmpint (offline->SetCurrentState (0, MAPIOFFLINE_STATE_OFFLINE_MASK, ONLINE, nullptr),
                   ==, E_PENDING);
  g_assert_cmpint (SetCurrentState (PROFILE, MAPIOFFLINE_FLAG_BLOCK, OFFLINE), ==, E_PENDING);
  mapi_test_gate_open (&held->m_gate);
  mapi_test_log_wait (log, 3);
  mapi_test_assert_transition (log, 1, 0, MONITOR_TOKEN, ONLINE, OFFLINE, 0);
  g_assert_cmpuint (offline->Release (), ==, 1);

  DeInitMonitor ();
  g_assert_cmpuint (held->Release (), ==, 0);
  g_assert_true (deleted);
  mapi_test_log_free (log);
}

/* The daemon keeps callback advises across a restart: the same advise, with its token, hears
 * the next transition. */
static void
test_restart (Harness *h, gconstpointer)
{
  MapiTestLog *log = mapi_test_log_new ();
  bool deleted;
  CMyOfflineNotify *lpImplNotify = new CReadingNotify (log, 1, &deleted);
  ULONG state = 0;

  g_assert_cmpint (InitMonitor (PROFILE, lpImplNotify, MONITOR_TOKEN), ==, S_OK);
  harness_restart (h, nullptr);
  g_assert_cmpint (g_lpOfflineMgr->GetCurrentState (&state), ==, S_OK);
  g_assert_cmpuint (state, ==, ONLINE);
  g_assert_cmpint (SetCurrentState (PROFILE, MAPIOFFLINE_FLAG_BLOCK, OFFLINE), ==, S_OK);
  mapi_test_assert_transition (log, 1, 0, MONITOR_TOKEN, ONLINE, OFFLINE, mapi_test_stamp ());
  DeInitMonitor ();
  g_assert_cmpuint (advise_count (h), ==, 0);
  g_assert_cmpuint (lpImplNotify->Release (), ==, 0);
  g_assert_true (deleted);
  mapi_test_log_free (log);
}

int
main (int argc, char **argv)
{
  void *library;

  g_test_init (&argc, &argv, nullptr);
  g_unsetenv ("OFFLINE_STATE_MAPI_BUS");
  library = dlopen (LIBRARY, RTLD_NOW);
  g_assert_nonnull (library);
  pfnHrOpenOfflineObj = reinterpret_cast<HROPENOFFLINEOBJ *> (dlsym (library, "HrOpenOfflineObj"));
  g_assert_true (pfnHrOpenOfflineObj == &HrOpenOfflineObj);

  HARNESS_ADD ("/mapi/cpp/sample", nullptr, harness_fixture_setup, test_sample);
  HARNESS_ADD ("/mapi/cpp/block-two-callbacks", nullptr, harness_fixture_setup,
               test_block_two_callbacks);
  HARNESS_ADD ("/mapi/cpp/reentrant", nullptr, harness_fixture_setup, test_reentrant);
  HARNESS_ADD ("/mapi/cpp/errors", nullptr, setup_long_notify_timeout, test_errors);
  HARNESS_ADD ("/mapi/cpp/restart", nullptr, harness_fixture_setup, test_restart);

  int status = g_test_run ();
  dlclose (library);
  return status;
}
