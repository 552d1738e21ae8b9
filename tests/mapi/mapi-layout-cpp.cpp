/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The C++ side of test-mapi-layout: where g++ puts each method of the interfaces, read from
 * pointers to the member functions (in the Itanium C++ ABI, which GCC and Clang follow on
 * Linux, a pointer to a virtual member function holds 1 + the method's byte offset in the
 * vtable), the structures as C++ lays them out, and calls across the two languages.
 */
#include <cstdint>
#include <cstring>

#include "mapi-layout.h"

/* The method's place in the vtable, in pointers; -1 for a function that is not virtual. */
template <typename Method>
static long
slot (Method method)
{
  struct
  {
    uintptr_t ptr;
    ptrdiff_t adj;
  } raw;

  static_assert (sizeof raw == sizeof method, "a pointer to a member function, Itanium ABI");
  memcpy (&raw, &method, sizeof raw);
  if ((raw.ptr & 1) == 0)
    return -1;
  return (long) ((raw.ptr - 1) / sizeof (void *));
}

#define SLOT(interface, method)                                                                    \
  { G_STRINGIFY (interface) "::" G_STRINGIFY (method), slot (&interface::method) },

const MapiLayoutSlot *
mapi_layout_cpp_slots (gsize *n_slots)
{
  static const MapiLayoutSlot slots[] = { MAPI_LAYOUT_METHODS (SLOT) };

  *n_slots = G_N_ELEMENTS (slots);
  return slots;
}

void
mapi_layout_cpp_fields (MapiLayoutFields *fields)
{
  mapi_layout_fields (fields);
}

/* A callback in C++, called from C */

namespace
{

class CountingNotify : public IMAPIOfflineNotify
{
public:
  STDMETHODIMP
  QueryInterface (REFIID riid, LPVOID *ppvObj)
  {
    m_calls++;
    *ppvObj = IsEqualIID (riid, IID_IMAPIOfflineNotify) ? this : nullptr;
    return *ppvObj != nullptr ? S_OK : E_NOINTERFACE;
  }

  STDMETHODIMP_ (ULONG)
  AddRef ()
  {
    m_calls++;
    return 2;
  }

  STDMETHODIMP_ (ULONG)
  Release ()
  {
    m_calls++;
    return 1;
  }

  void STDMETHODCALLTYPE Notify (const MAPIOFFLINE_NOTIFY *pNotifyInfo)
  {
    m_calls += pNotifyInfo->ulClientToken;
  }

  virtual ~CountingNotify () {}

  unsigned m_calls = 0;
};

} // namespace

void *
mapi_layout_cpp_notify_new (void)
{
  return static_cast<IMAPIOfflineNotify *> (new CountingNotify ());
}

unsigned
mapi_layout_cpp_notify_free (void *notify)
{
  CountingNotify *counting =
      static_cast<CountingNotify *> (static_cast<IMAPIOfflineNotify *> (notify));
  unsigned calls = counting->m_calls;

  delete counting;
  return calls;
}

unsigned long
mapi_layout_cpp_call_notify (void *object)
{
  IMAPIOfflineNotify *notify = static_cast<IMAPIOfflineNotify *> (object);
  MAPIOFFLINE_NOTIFY info = {};
  void *same = nullptr;

  info.ulSize = sizeof info;
  info.ulClientToken = 100;
  if (notify->QueryInterface (IID_IMAPIOfflineNotify, &same) != S_OK || same != object)
    return 0;
  notify->AddRef ();
  notify->Notify (&info);
  return notify->Release ();
}
