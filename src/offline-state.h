/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The public names and values of offline-state: the MAPI Offline State API constants
 * (values unchanged from MAPI's own header) and every D-Bus name of the service.
 * C clients include this; no other file of the project spells a D-Bus name.
 */
#pragma once

/* MAPI constants (docs/concepts.md, MAPI on D-Bus) */
#define MAPIOFFLINE_STATE_OFFLINE_MASK 0x00000003u
#define MAPIOFFLINE_STATE_OFFLINE      0x00000001u
#define MAPIOFFLINE_STATE_ONLINE       0x00000002u
#define MAPIOFFLINE_STATE_ALL          0x003f037fu

#define MAPIOFFLINE_CAPABILITY_OFFLINE 0x1u
#define MAPIOFFLINE_CAPABILITY_ONLINE  0x2u

#define MAPIOFFLINE_FLAG_DEFAULT 0x00000000u
#define MAPIOFFLINE_FLAG_BLOCK   0x00002000u

#define MAPIOFFLINE_ADVISE_DEFAULT          0u
#define MAPIOFFLINE_UNADVISE_DEFAULT        0u
#define MAPIOFFLINE_ADVISE_TYPE_STATECHANGE 1u
#define MAPIOFFLINE_CALLBACK_TYPE_NOTIFY    0u

#define MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START 1u
#define MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE       2u
#define MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE  3u

/* GUID_GlobalState, in registry form */
#define OFFLINE_STATE_GUID_GLOBAL_STATE "{FBEFFD93-B11F-4094-842B-96DCD31E63D1}"

/* MAPI result codes that the service's error messages start with */
#define OFFLINE_STATE_E_INVALIDARG      0x80070057u
#define OFFLINE_STATE_E_PENDING         0x8000000Au
#define OFFLINE_STATE_MAPI_E_NOT_FOUND  0x8004010Fu
#define OFFLINE_STATE_E_NOINTERFACE     0x80004002u
#define OFFLINE_STATE_MAPI_E_DISK_ERROR 0x80040116u

/* and those that liboffline-state-mapi-1 returns besides (docs/mapi.md) */
#define OFFLINE_STATE_E_POINTER          0x80004003u
#define OFFLINE_STATE_E_OUTOFMEMORY      0x8007000Eu
#define OFFLINE_STATE_E_ACCESSDENIED     0x80070005u
#define OFFLINE_STATE_MAPI_E_CALL_FAILED 0x80004005u
#define OFFLINE_STATE_MAPI_E_NO_SUPPORT  0x80040102u

/* D-Bus names (the D-Bus reference, and docs/concepts.md) */
#define OFFLINE_STATE_BUS_NAME             "org.offlinestate.OfflineState1"
#define OFFLINE_STATE_MANAGER_PATH         "/org/offlinestate/OfflineState1"
#define OFFLINE_STATE_PROFILES_PATH        "/org/offlinestate/OfflineState1/profiles"
#define OFFLINE_STATE_SIGNAL_CALLBACK_PATH "/"
/* Where liboffline-state-mapi-1 exports its OfflineNotify objects, one per advise */
#define OFFLINE_STATE_MAPI_CALLBACK_PATH "/org/offlinestate/OfflineState1/mapi"

#define OFFLINE_STATE_MANAGER_INTERFACE        "org.offlinestate.OfflineState1.Manager"
#define OFFLINE_STATE_OFFLINE_MGR_INTERFACE    "org.offlinestate.OfflineState1.OfflineMgr"
#define OFFLINE_STATE_OFFLINE_NOTIFY_INTERFACE "org.offlinestate.OfflineState1.OfflineNotify"
#define OFFLINE_STATE_EMULATION_INTERFACE      "org.offlinestate.OfflineState1.Emulation"

#define OFFLINE_STATE_STATE_CHANGED_SIGNAL "StateChanged"
#define OFFLINE_STATE_NOTIFY_METHOD        "Notify"

#define OFFLINE_STATE_ERROR_PREFIX          "org.offlinestate.OfflineState1.Error."
#define OFFLINE_STATE_ERROR_PENDING         OFFLINE_STATE_ERROR_PREFIX "Pending"
#define OFFLINE_STATE_ERROR_NOT_FOUND       OFFLINE_STATE_ERROR_PREFIX "NotFound"
#define OFFLINE_STATE_ERROR_NO_INTERFACE    OFFLINE_STATE_ERROR_PREFIX "NoInterface"
#define OFFLINE_STATE_ERROR_EXISTS          OFFLINE_STATE_ERROR_PREFIX "Exists"
#define OFFLINE_STATE_ERROR_INVALID_ARGS    "org.freedesktop.DBus.Error.InvalidArgs"
#define OFFLINE_STATE_ERROR_LIMITS_EXCEEDED "org.freedesktop.DBus.Error.LimitsExceeded"
#define OFFLINE_STATE_ERROR_ACCESS_DENIED   "org.freedesktop.DBus.Error.AccessDenied"
#define OFFLINE_STATE_ERROR_IO_ERROR        "org.freedesktop.DBus.Error.IOError"

/* polkit, which authorizes the changes made on the system bus (docs/desktop.md, Authorization) */
#define OFFLINE_STATE_ACTION_SET_STATE       "org.offlinestate.OfflineState1.set-state"
#define OFFLINE_STATE_ACTION_MANAGE_PROFILES "org.offlinestate.OfflineState1.manage-profiles"
#define OFFLINE_STATE_ACTION_EMULATE         "org.offlinestate.OfflineState1.emulate"

#define OFFLINE_STATE_POLKIT_BUS_NAME     "org.freedesktop.PolicyKit1"
#define OFFLINE_STATE_POLKIT_PATH         "/org/freedesktop/PolicyKit1/Authority"
#define OFFLINE_STATE_POLKIT_INTERFACE    "org.freedesktop.PolicyKit1.Authority"
#define OFFLINE_STATE_POLKIT_CHECK_METHOD "CheckAuthorization"

/* The profile that exists from the first start on */
#define OFFLINE_STATE_DEFAULT_PROFILE "default"
