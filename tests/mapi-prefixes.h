/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How each error message of the service starts where MAPI has a code for the error: its MAPI
 * name and value, spelled out here as a client reads them on the wire, independently of the
 * daemon's table (src/os-error.c), so that a test notices when the two part.
 */
#pragma once

#define PREFIX_INVALIDARG  "E_INVALIDARG (0x80070057): "
#define PREFIX_NOINTERFACE "E_NOINTERFACE (0x80004002): "
#define PREFIX_PENDING     "E_PENDING (0x8000000A): "
#define PREFIX_NOT_FOUND   "MAPI_E_NOT_FOUND (0x8004010F): "
#define PREFIX_DISK_ERROR  "MAPI_E_DISK_ERROR (0x80040116): "
