/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * MAPI's Offline State API, as Microsoft's reference pages declare it: HrOpenOfflineObj,
 * IMAPIOffline, IMAPIOfflineMgr and IMAPIOfflineNotify, their structures, constants and
 * identifiers, for C and for C++, served by offline-stated (liboffline-state-mapi-1,
 * docs/mapi.md). The C++ classes and the C lpVtbl structures have the same layout, so an
 * object written in either language can be called from the other.
 *
 * The Windows types and codes below are defined only where the program has not defined them
 * already, under the guards that Windows-style headers use. The declarations of this header
 * use none of the program's calling-convention macros: the library is built without any.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include "offline-state.h"

/* The Windows types */

#ifndef _HRESULT_DEFINED
#define _HRESULT_DEFINED
typedef int32_t HRESULT;
#endif

#if !defined(_ULONG_DEFINED) && !defined(BASETYPES)
#define _ULONG_DEFINED
typedef uint32_t ULONG;
#endif

#ifndef _LPVOID_DEFINED
#define _LPVOID_DEFINED
typedef void *LPVOID;
#endif

#ifndef VOID
#define VOID void
#endif

/* wchar_t, so that L"..." is a profile name: UTF-32 on Linux, not Windows' UTF-16. */
#ifndef _LPCWSTR_DEFINED
#define _LPCWSTR_DEFINED
typedef const wchar_t *LPCWSTR;
#endif

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID
{
  uint32_t Data1;
  uint16_t Data2;
  uint16_t Data3;
  uint8_t Data4[8];
} GUID;
#endif

#ifndef __IID_DEFINED__
#define __IID_DEFINED__
typedef GUID IID;
#endif

/* A reference in C++, a pointer in C, as in Windows' guiddef.h */
#ifndef REFGUID
#ifdef __cplusplus
#define REFGUID const GUID &
#else
#define REFGUID const GUID *
#endif
#endif

#ifndef REFIID
#ifdef __cplusplus
#define REFIID const IID &
#else
#define REFIID const IID *
#endif
#endif

#ifndef IsEqualGUID
#ifdef __cplusplus
#define IsEqualGUID(rguid1, rguid2) (!memcmp (&(rguid1), &(rguid2), sizeof (GUID)))
#else
#define IsEqualGUID(rguid1, rguid2) (!memcmp ((rguid1), (rguid2), sizeof (GUID)))
#endif
#endif

#ifndef IsEqualIID
#define IsEqualIID(riid1, riid2) IsEqualGUID (riid1, riid2)
#endif

/* For the program's own implementations of the interfaces: on Linux, no calling convention
 * of their own (Windows' __stdcall is a 32-bit x86 thing). */
#ifndef STDMETHODCALLTYPE
#define STDMETHODCALLTYPE
#endif

#ifndef STDMETHODIMP
#define STDMETHODIMP HRESULT STDMETHODCALLTYPE
#endif

#ifndef STDMETHODIMP_
#define STDMETHODIMP_(type) type STDMETHODCALLTYPE
#endif

#ifndef STDMETHOD
#ifdef __cplusplus
#define STDMETHOD(method) virtual HRESULT STDMETHODCALLTYPE method
#else
#define STDMETHOD(method) HRESULT (STDMETHODCALLTYPE *method)
#endif
#endif

#ifndef STDMETHOD_
#ifdef __cplusplus
#define STDMETHOD_(type, method) virtual type STDMETHODCALLTYPE method
#else
#define STDMETHOD_(type, method) type (STDMETHODCALLTYPE *method)
#endif
#endif

#ifndef PURE
#ifdef __cplusplus
#define PURE = 0
#else
#define PURE
#endif
#endif

#ifndef SUCCEEDED
#define SUCCEEDED(hr) (((HRESULT) (hr)) >= 0)
#endif

#ifndef FAILED
#define FAILED(hr) (((HRESULT) (hr)) < 0)
#endif

/* The result codes (values in offline-state.h) */

#ifndef S_OK
#define S_OK ((HRESULT) 0)
#endif
#ifndef E_INVALIDARG
#define E_INVALIDARG ((HRESULT) OFFLINE_STATE_E_INVALIDARG)
#endif
#ifndef E_PENDING
#define E_PENDING ((HRESULT) OFFLINE_STATE_E_PENDING)
#endif
#ifndef E_NOINTERFACE
#define E_NOINTERFACE ((HRESULT) OFFLINE_STATE_E_NOINTERFACE)
#endif
#ifndef E_POINTER
#define E_POINTER ((HRESULT) OFFLINE_STATE_E_POINTER)
#endif
#ifndef E_OUTOFMEMORY
#define E_OUTOFMEMORY ((HRESULT) OFFLINE_STATE_E_OUTOFMEMORY)
#endif
#ifndef E_ACCESSDENIED
#define E_ACCESSDENIED ((HRESULT) OFFLINE_STATE_E_ACCESSDENIED)
#endif
#ifndef MAPI_E_NOT_FOUND
#define MAPI_E_NOT_FOUND ((HRESULT) OFFLINE_STATE_MAPI_E_NOT_FOUND)
#endif
#ifndef MAPI_E_CALL_FAILED
#define MAPI_E_CALL_FAILED ((HRESULT) OFFLINE_STATE_MAPI_E_CALL_FAILED)
#endif
#ifndef MAPI_E_NO_SUPPORT
#define MAPI_E_NO_SUPPORT ((HRESULT) OFFLINE_STATE_MAPI_E_NO_SUPPORT)
#endif
#ifndef MAPI_E_DISK_ERROR
#define MAPI_E_DISK_ERROR ((HRESULT) OFFLINE_STATE_MAPI_E_DISK_ERROR)
#endif

/* The Offline State API's constants: MAPIOFFLINE_STATE_*, _CAPABILITY_*, _FLAG_*,
 * _ADVISE_* and _UNADVISE_* are offline-state.h's. MAPI makes the callback and notify types
 * enumerators, which C++ needs (an integer does not convert to an enumeration): the macros
 * of offline-state.h with those names give way to them, with their values. */

enum
{
  OFFLINE_STATE_MAPI_CALLBACK_TYPE_NOTIFY_ = MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
  OFFLINE_STATE_MAPI_NOTIFY_TYPE_START_ = MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START,
  OFFLINE_STATE_MAPI_NOTIFY_TYPE_STATECHANGE_ = MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE,
  OFFLINE_STATE_MAPI_NOTIFY_TYPE_DONE_ = MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE,
};
#undef MAPIOFFLINE_CALLBACK_TYPE_NOTIFY
#undef MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START
#undef MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE
#undef MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE

typedef enum
{
  MAPIOFFLINE_CALLBACK_TYPE_NOTIFY = OFFLINE_STATE_MAPI_CALLBACK_TYPE_NOTIFY_,
} MAPIOFFLINE_CALLBACK_TYPE;

typedef enum
{
  MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START = OFFLINE_STATE_MAPI_NOTIFY_TYPE_START_,
  MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE = OFFLINE_STATE_MAPI_NOTIFY_TYPE_STATECHANGE_,
  MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE = OFFLINE_STATE_MAPI_NOTIFY_TYPE_DONE_,
} MAPIOFFLINE_NOTIFY_TYPE;

/* The interfaces, first named */

#ifdef __cplusplus
struct IUnknown;
struct IMAPIOffline;
struct IMAPIOfflineMgr;
struct IMAPIOfflineNotify;
#else
typedef struct IUnknown IUnknown;
typedef struct IMAPIOffline IMAPIOffline;
typedef struct IMAPIOfflineMgr IMAPIOfflineMgr;
typedef struct IMAPIOfflineNotify IMAPIOfflineNotify;
#endif

/* The structures */

typedef struct
{
  ULONG ulSize;
  ULONG ulClientToken;
  MAPIOFFLINE_CALLBACK_TYPE CallbackType;
  IUnknown *pCallback;
  ULONG ulAdviseTypes;
  ULONG ulStateMask;
} MAPIOFFLINE_ADVISEINFO;

typedef struct
{
  ULONG ulSize;
  MAPIOFFLINE_NOTIFY_TYPE NotifyType;
  ULONG ulClientToken;
  union
  {
    struct
    {
      ULONG ulMask;
      ULONG ulStateOld;
      ULONG ulStateNew;
    } StateChange;
  } Info;
} MAPIOFFLINE_NOTIFY;

/* The interfaces in MAPI's vtable order, placeholders included (they return
 * MAPI_E_NO_SUPPORT). C++: classes of pure virtual methods, whose vtable pointer points at the
 * first method, as the C structures' lpVtbl does. */

#ifdef __cplusplus

#ifndef __IUnknown_INTERFACE_DEFINED__
#define __IUnknown_INTERFACE_DEFINED__
struct IUnknown
{
  virtual HRESULT QueryInterface (REFIID riid, void **ppvObject) = 0;
  virtual ULONG AddRef () = 0;
  virtual ULONG Release () = 0;
};
#endif

struct IMAPIOffline : public IUnknown
{
  virtual HRESULT SetCurrentState (ULONG ulFlags, ULONG ulMask, ULONG ulState, void *pReserved) = 0;
  virtual HRESULT GetCapabilities (ULONG *pulCapabilities) = 0;
  virtual HRESULT GetCurrentState (ULONG *pulState) = 0;
  virtual HRESULT Placeholder1 () = 0;
};

struct IMAPIOfflineMgr : public IMAPIOffline
{
  virtual HRESULT
  Advise (ULONG ulFlags, MAPIOFFLINE_ADVISEINFO *pAdviseInfo, ULONG *pulAdviseToken) = 0;
  virtual HRESULT Unadvise (ULONG ulFlags, ULONG ulAdviseToken) = 0;
  virtual HRESULT Placeholder2 () = 0;
  virtual HRESULT Placeholder3 () = 0;
  virtual HRESULT Placeholder4 () = 0;
  virtual HRESULT Placeholder5 () = 0;
  virtual HRESULT Placeholder6 () = 0;
  virtual HRESULT Placeholder7 () = 0;
  virtual HRESULT Placeholder8 () = 0;
};

struct IMAPIOfflineNotify : public IUnknown
{
  virtual void Notify (const MAPIOFFLINE_NOTIFY *pNotifyInfo) = 0;
};

#else /* C */

#ifndef __IUnknown_INTERFACE_DEFINED__
#define __IUnknown_INTERFACE_DEFINED__
typedef struct IUnknownVtbl
{
  HRESULT (*QueryInterface) (IUnknown *This, REFIID riid, void **ppvObject);
  ULONG (*AddRef) (IUnknown *This);
  ULONG (*Release) (IUnknown *This);
} IUnknownVtbl;

struct IUnknown
{
  const IUnknownVtbl *lpVtbl;
};

#define IUnknown_QueryInterface(This, riid, ppvObject)                                             \
  ((This)->lpVtbl->QueryInterface (This, riid, ppvObject))
#define IUnknown_AddRef(This)  ((This)->lpVtbl->AddRef (This))
#define IUnknown_Release(This) ((This)->lpVtbl->Release (This))
#endif

typedef struct IMAPIOfflineVtbl
{
  HRESULT (*QueryInterface) (IMAPIOffline *This, REFIID riid, void **ppvObject);
  ULONG (*AddRef) (IMAPIOffline *This);
  ULONG (*Release) (IMAPIOffline *This);
  HRESULT (*SetCurrentState)
  (IMAPIOffline *This, ULONG ulFlags, ULONG ulMask, ULONG ulState, void *pReserved);
  HRESULT (*GetCapabilities) (IMAPIOffline *This, ULONG *pulCapabilities);
  HRESULT (*GetCurrentState) (IMAPIOffline *This, ULONG *pulState);
  HRESULT (*Placeholder1) (IMAPIOffline *This);
} IMAPIOfflineVtbl;

struct IMAPIOffline
{
  const IMAPIOfflineVtbl *lpVtbl;
};

typedef struct IMAPIOfflineMgrVtbl
{
  HRESULT (*QueryInterface) (IMAPIOfflineMgr *This, REFIID riid, void **ppvObject);
  ULONG (*AddRef) (IMAPIOfflineMgr *This);
  ULONG (*Release) (IMAPIOfflineMgr *This);
  HRESULT (*SetCurrentState)
  (IMAPIOfflineMgr *This, ULONG ulFlags, ULONG ulMask, ULONG ulState, void *pReserved);
  HRESULT (*GetCapabilities) (IMAPIOfflineMgr *This, ULONG *pulCapabilities);
  HRESULT (*GetCurrentState) (IMAPIOfflineMgr *This, ULONG *pulState);
  HRESULT (*Placeholder1) (IMAPIOfflineMgr *This);
  HRESULT (*Advise)
  (IMAPIOfflineMgr *This,
   ULONG ulFlags,
   MAPIOFFLINE_ADVISEINFO *pAdviseInfo,
   ULONG *pulAdviseToken);
  HRESULT (*Unadvise) (IMAPIOfflineMgr *This, ULONG ulFlags, ULONG ulAdviseToken);
  HRESULT (*Placeholder2) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder3) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder4) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder5) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder6) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder7) (IMAPIOfflineMgr *This);
  HRESULT (*Placeholder8) (IMAPIOfflineMgr *This);
} IMAPIOfflineMgrVtbl;

struct IMAPIOfflineMgr
{
  const IMAPIOfflineMgrVtbl *lpVtbl;
};

typedef struct IMAPIOfflineNotifyVtbl
{
  HRESULT (*QueryInterface) (IMAPIOfflineNotify *This, REFIID riid, void **ppvObject);
  ULONG (*AddRef) (IMAPIOfflineNotify *This);
  ULONG (*Release) (IMAPIOfflineNotify *This);
  void (*Notify) (IMAPIOfflineNotify *This, const MAPIOFFLINE_NOTIFY *pNotifyInfo);
} IMAPIOfflineNotifyVtbl;

struct IMAPIOfflineNotify
{
  const IMAPIOfflineNotifyVtbl *lpVtbl;
};

/* The call macros, each interface's inherited methods included */

#define IMAPIOffline_QueryInterface(This, riid, ppvObject)                                         \
  ((This)->lpVtbl->QueryInterface (This, riid, ppvObject))
#define IMAPIOffline_AddRef(This)  ((This)->lpVtbl->AddRef (This))
#define IMAPIOffline_Release(This) ((This)->lpVtbl->Release (This))
#define IMAPIOffline_SetCurrentState(This, ulFlags, ulMask, ulState, pReserved)                    \
  ((This)->lpVtbl->SetCurrentState (This, ulFlags, ulMask, ulState, pReserved))
#define IMAPIOffline_GetCapabilities(This, pulCapabilities)                                        \
  ((This)->lpVtbl->GetCapabilities (This, pulCapabilities))
#define IMAPIOffline_GetCurrentState(This, pulState)                                               \
  ((This)->lpVtbl->GetCurrentState (This, pulState))
#define IMAPIOffline_Placeholder1(This) ((This)->lpVtbl->Placeholder1 (This))

#define IMAPIOfflineMgr_QueryInterface(This, riid, ppvObject)                                      \
  ((This)->lpVtbl->QueryInterface (This, riid, ppvObject))
#define IMAPIOfflineMgr_AddRef(This)  ((This)->lpVtbl->AddRef (This))
#define IMAPIOfflineMgr_Release(This) ((This)->lpVtbl->Release (This))
#define IMAPIOfflineMgr_SetCurrentState(This, ulFlags, ulMask, ulState, pReserved)                 \
  ((This)->lpVtbl->SetCurrentState (This, ulFlags, ulMask, ulState, pReserved))
#define IMAPIOfflineMgr_GetCapabilities(This, pulCapabilities)                                     \
  ((This)->lpVtbl->GetCapabilities (This, pulCapabilities))
#define IMAPIOfflineMgr_GetCurrentState(This, pulState)                                            \
  ((This)->lpVtbl->GetCurrentState (This, pulState))
#define IMAPIOfflineMgr_Placeholder1(This) ((This)->lpVtbl->Placeholder1 (This))
#define IMAPIOfflineMgr_Advise(This, ulFlags, pAdviseInfo, pulAdviseToken)                         \
  ((This)->lpVtbl->Advise (This, ulFlags, pAdviseInfo, pulAdviseToken))
#define IMAPIOfflineMgr_Unadvise(This, ulFlags, ulAdviseToken)                                     \
  ((This)->lpVtbl->Unadvise (This, ulFlags, ulAdviseToken))
#define IMAPIOfflineMgr_Placeholder2(This) ((This)->lpVtbl->Placeholder2 (This))
#define IMAPIOfflineMgr_Placeholder3(This) ((This)->lpVtbl->Placeholder3 (This))
#define IMAPIOfflineMgr_Placeholder4(This) ((This)->lpVtbl->Placeholder4 (This))
#define IMAPIOfflineMgr_Placeholder5(This) ((This)->lpVtbl->Placeholder5 (This))
#define IMAPIOfflineMgr_Placeholder6(This) ((This)->lpVtbl->Placeholder6 (This))
#define IMAPIOfflineMgr_Placeholder7(This) ((This)->lpVtbl->Placeholder7 (This))
#define IMAPIOfflineMgr_Placeholder8(This) ((This)->lpVtbl->Placeholder8 (This))

#define IMAPIOfflineNotify_QueryInterface(This, riid, ppvObject)                                   \
  ((This)->lpVtbl->QueryInterface (This, riid, ppvObject))
#define IMAPIOfflineNotify_AddRef(This)              ((This)->lpVtbl->AddRef (This))
#define IMAPIOfflineNotify_Release(This)             ((This)->lpVtbl->Release (This))
#define IMAPIOfflineNotify_Notify(This, pNotifyInfo) ((This)->lpVtbl->Notify (This, pNotifyInfo))

#endif /* C */

/* HrOpenOfflineObj's type, as Microsoft's page declares it: a function type, so that a pointer
 * to the function (from dlsym, as the sample's from GetProcAddress) is HROPENOFFLINEOBJ *. */
typedef HRESULT (HROPENOFFLINEOBJ) (ULONG ulReserved,
                                    LPCWSTR pwszProfileNameIn,
                                    const GUID *pGUID,
                                    const GUID *pReserved,
                                    IMAPIOfflineMgr **ppOfflineObj);

/* C linkage in C++ too: dlsym finds HrOpenOfflineObj by that name. */
#ifdef __cplusplus
#define OFFLINE_STATE_MAPI_EXTERN extern "C"
#else
#define OFFLINE_STATE_MAPI_EXTERN extern
#endif

/* MAPI's values */
OFFLINE_STATE_MAPI_EXTERN const GUID GUID_GlobalState;
OFFLINE_STATE_MAPI_EXTERN const IID IID_IUnknown;
OFFLINE_STATE_MAPI_EXTERN const IID IID_IMAPIOffline;
OFFLINE_STATE_MAPI_EXTERN const IID IID_IMAPIOfflineMgr;
OFFLINE_STATE_MAPI_EXTERN const IID IID_IMAPIOfflineNotify;

/* Opens the offline object of the profile @pwszProfileNameIn: ulReserved 0, pGUID
 * &GUID_GlobalState, pReserved NULL. The object comes with one reference. The bus is the
 * session bus unless $OFFLINE_STATE_MAPI_BUS says "system" or gives an address. */
OFFLINE_STATE_MAPI_EXTERN HRESULT HrOpenOfflineObj (ULONG ulReserved,
                                                    LPCWSTR pwszProfileNameIn,
                                                    const GUID *pGUID,
                                                    const GUID *pReserved,
                                                    IMAPIOfflineMgr **ppOfflineObj);
