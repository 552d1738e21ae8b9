/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * offline-state-mapi.h after a Windows-style header of the program's own, which defined some
 * of Windows' types and codes already, under the guards that Windows' headers use: the
 * header defines the rest, and takes theirs.
 */
#include <stdint.h>

typedef int32_t HRESULT;
#define _HRESULT_DEFINED

typedef uint32_t ULONG;
#define _ULONG_DEFINED

typedef struct _GUID
{
  unsigned int Data1;
  unsigned short Data2, Data3;
  unsigned char Data4[8];
} GUID;
#define GUID_DEFINED

#define S_OK          ((HRESULT) 0L)
#define E_PENDING     ((HRESULT) 0x8000000AL)
#define SUCCEEDED(hr) (((HRESULT) (hr)) >= 0)

#include "mapi-layout.h"

int
mapi_layout_windows_check (void)
{
  MAPIOFFLINE_NOTIFY notify = { sizeof notify, MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE };
  MapiLayoutFields fields, here;
  HRESULT codes[] = { S_OK, E_PENDING, E_INVALIDARG, MAPI_E_NOT_FOUND };

  mapi_layout_fields (&here);
  mapi_layout_cpp_fields (&fields);
  return (memcmp (&here, &fields, sizeof here) != 0) + !SUCCEEDED (codes[0]) +
         (codes[1] != (HRESULT) OFFLINE_STATE_E_PENDING) + (codes[2] != (HRESULT) 0x80070057) +
         (codes[3] != (HRESULT) 0x8004010F) + (notify.NotifyType != 3);
}
