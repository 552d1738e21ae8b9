/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * HrOpenOfflineObj and the offline object: IMAPIOfflineMgr (and IMAPIOffline, whose vtable
 * is its first part) over the service's OfflineMgr, each method a call on the bus's
 * connection, whose answer or error becomes MAPI's HRESULT (docs/mapi.md).
 */
#include "os-mapi-private.h"

#define BUS_ENV "OFFLINE_STATE_MAPI_BUS"

/* MAPI's values */
const GUID GUID_GlobalState = {
  0xfbeffd93, 0xb11f, 0x4094, { 0x84, 0x2b, 0x96, 0xdc, 0xd3, 0x1e, 0x63, 0xd1 }
};
const IID IID_IUnknown = { 0x00000000, 0x0000, 0x0000, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };
const IID IID_IMAPIOffline = { 0x000672b5, 0x0000, 0x0000, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };
const IID IID_IMAPIOfflineMgr = {
  0x42175607, 0xff3e, 0x4790, { 0xbc, 0x18, 0x66, 0xc8, 0x64, 0x3e, 0x64, 0x24 }
};
const IID IID_IMAPIOfflineNotify = {
  0x0317bde5, 0xfc29, 0x44cd, { 0x8d, 0xcd, 0x36, 0x12, 0x5a, 0x3b, 0xe9, 0xec }
};

typedef struct
{
  IMAPIOfflineMgr iface; /* first: what the program holds is a pointer to it */
  int refs;              /* atomic */
  OsMapiBus *bus;
  char *path;
  GMutex lock;
  GPtrArray *advises; /* OsMapiAdvise, under lock */
} OsMapiOffline;

#define OFFLINE(This) ((OsMapiOffline *) (This))

/* The service's errors as MAPI's codes; anything else (the service or the bus unreachable, a
 * failure of its own) is MAPI_E_CALL_FAILED. */
static HRESULT
hresult_from_error (const GError *error)
{
  static const struct
  {
    const char *name;
    HRESULT hr;
  } codes[] = {
    { OFFLINE_STATE_ERROR_INVALID_ARGS, E_INVALIDARG },
    { OFFLINE_STATE_ERROR_PENDING, E_PENDING },
    { OFFLINE_STATE_ERROR_NOT_FOUND, MAPI_E_NOT_FOUND },
    { OFFLINE_STATE_ERROR_NO_INTERFACE, E_NOINTERFACE },
    { OFFLINE_STATE_ERROR_LIMITS_EXCEEDED, E_OUTOFMEMORY },
    { OFFLINE_STATE_ERROR_ACCESS_DENIED, E_ACCESSDENIED },
    { OFFLINE_STATE_ERROR_IO_ERROR, MAPI_E_DISK_ERROR },
  };
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    if (g_strcmp0 (name, codes[i].name) == 0)
      return codes[i].hr;
  g_debug ("%s", error->message);
  return MAPI_E_CALL_FAILED;
}

/* A method of the offline object; @reply (may be NULL) gets the answer. */
static HRESULT
call (OsMapiOffline *self,
      const char *method,
      GVariant *parameters,
      const GVariantType *reply_type,
      int timeout_ms,
      GVariant **reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) result = g_dbus_connection_call_sync (
      os_mapi_bus_get_connection (self->bus), OFFLINE_STATE_BUS_NAME, self->path,
      OFFLINE_STATE_OFFLINE_MGR_INTERFACE, method, parameters, reply_type, G_DBUS_CALL_FLAGS_NONE,
      timeout_ms, NULL, &error);

  if (result == NULL)
    return hresult_from_error (error);
  if (reply != NULL)
    *reply = g_steal_pointer (&result);
  return S_OK;
}

static HRESULT
call_for_uint (OsMapiOffline *self, const char *method, ULONG *out)
{
  g_autoptr (GVariant) reply = NULL;
  HRESULT hr;

  if (out == NULL)
    return E_INVALIDARG;
  hr = call (self, method, NULL, G_VARIANT_TYPE ("(u)"), -1, &reply);
  if (SUCCEEDED (hr))
    g_variant_get (reply, "(u)", out);
  return hr;
}

/* IUnknown */

static HRESULT
offline_query_interface (IMAPIOfflineMgr *This, REFIID riid, void **ppvObject)
{
  if (ppvObject == NULL)
    return E_POINTER;
  *ppvObject = NULL;
  if (riid == NULL)
    return E_INVALIDARG;
  if (!IsEqualIID (riid, &IID_IUnknown) && !IsEqualIID (riid, &IID_IMAPIOffline) &&
      !IsEqualIID (riid, &IID_IMAPIOfflineMgr))
    return E_NOINTERFACE;
  IMAPIOfflineMgr_AddRef (This);
  *ppvObject = This;
  return S_OK;
}

static ULONG
offline_add_ref (IMAPIOfflineMgr *This)
{
  return g_atomic_int_add (&OFFLINE (This)->refs, 1) + 1;
}

/* The service first, so that it calls Notify no more; then the callback goes, once the
 * Notify calls under way have returned. The service's answer does not matter: MAPI's
 * Unadvise cannot fail, and an advise that the service would still know of (it was away)
 * is removed by the first Notify, which finds no object. */
static void
unadvise (OsMapiOffline *self, OsMapiAdvise *advise)
{
  call (self, "Unadvise",
        g_variant_new ("(uu)", MAPIOFFLINE_UNADVISE_DEFAULT, os_mapi_advise_get_token (advise)),
        NULL, -1, NULL);
  os_mapi_advise_remove (advise);
}

static void
offline_free (OsMapiOffline *self)
{
  for (guint i = 0; i < self->advises->len; i++)
    unadvise (self, g_ptr_array_index (self->advises, i));
  g_ptr_array_unref (self->advises);
  g_mutex_clear (&self->lock);
  g_free (self->path);
  os_mapi_bus_unref (self->bus);
  g_free (self);
}

static ULONG
offline_release (IMAPIOfflineMgr *This)
{
  int before = g_atomic_int_add (&OFFLINE (This)->refs, -1);

  if (before == 1)
    offline_free (OFFLINE (This));
  return before - 1;
}

/* IMAPIOffline */

/* With BLOCK, the service answers once the transition's last phase is over, and each of its
 * Notify calls answered; the wait that follows covers a Notify that outlasted the service's
 * time-out. */
static HRESULT
offline_set_current_state (
    IMAPIOfflineMgr *This, ULONG ulFlags, ULONG ulMask, ULONG ulState, void *pReserved)
{
  OsMapiOffline *self = OFFLINE (This);
  gboolean block = ulFlags == MAPIOFFLINE_FLAG_BLOCK;
  HRESULT hr;

  if (pReserved != NULL)
    return E_INVALIDARG;
  hr = call (self, "SetCurrentState", g_variant_new ("(uuu)", ulFlags, ulMask, ulState), NULL,
             block ? G_MAXINT : -1, NULL);
  if (SUCCEEDED (hr) && block)
    os_mapi_bus_wait_notifies (self->bus, self->path);
  return hr;
}

static HRESULT
offline_get_capabilities (IMAPIOfflineMgr *This, ULONG *pulCapabilities)
{
  return call_for_uint (OFFLINE (This), "GetCapabilities", pulCapabilities);
}

static HRESULT
offline_get_current_state (IMAPIOfflineMgr *This, ULONG *pulState)
{
  return call_for_uint (OFFLINE (This), "GetCurrentState", pulState);
}

static HRESULT
offline_placeholder (IMAPIOfflineMgr *This)
{
  return MAPI_E_NO_SUPPORT;
}

/* IMAPIOfflineMgr */

static HRESULT
check_advise_info (ULONG ulFlags, const MAPIOFFLINE_ADVISEINFO *info)
{
  if (ulFlags != MAPIOFFLINE_ADVISE_DEFAULT || info->ulSize != sizeof *info)
    return E_INVALIDARG;
  if (info->CallbackType != MAPIOFFLINE_CALLBACK_TYPE_NOTIFY)
    return E_NOINTERFACE;
  if (info->ulAdviseTypes != MAPIOFFLINE_ADVISE_TYPE_STATECHANGE || info->ulStateMask == 0 ||
      (info->ulStateMask & ~MAPIOFFLINE_STATE_ALL) != 0 || info->pCallback == NULL)
    return E_INVALIDARG;
  return S_OK;
}

/* The advise is ready for Notify before the service knows of it: a transition that starts
 * before Advise has returned may notify it already. */
static HRESULT
offline_advise (IMAPIOfflineMgr *This,
                ULONG ulFlags,
                MAPIOFFLINE_ADVISEINFO *pAdviseInfo,
                ULONG *pulAdviseToken)
{
  OsMapiOffline *self = OFFLINE (This);
  g_autoptr (GVariant) reply = NULL;
  IMAPIOfflineNotify *callback = NULL;
  OsMapiAdvise *advise;
  ULONG token;
  HRESULT hr;

  if (pAdviseInfo == NULL || pulAdviseToken == NULL)
    return E_INVALIDARG;
  *pulAdviseToken = 0;
  hr = check_advise_info (ulFlags, pAdviseInfo);
  if (FAILED (hr))
    return hr;
  hr = IUnknown_QueryInterface (pAdviseInfo->pCallback, &IID_IMAPIOfflineNotify,
                                (void **) &callback);
  if (FAILED (hr) || callback == NULL)
    return E_NOINTERFACE;
  advise = os_mapi_advise_new (self->bus, self->path, callback, pAdviseInfo->ulClientToken);
  hr = call (self, "Advise",
             g_variant_new ("(uuuouu)", ulFlags, pAdviseInfo->ulClientToken,
                            pAdviseInfo->CallbackType, os_mapi_advise_get_callback_path (advise),
                            pAdviseInfo->ulAdviseTypes, pAdviseInfo->ulStateMask),
             G_VARIANT_TYPE ("(u)"), -1, &reply);
  if (FAILED (hr))
    {
      os_mapi_advise_remove (advise);
      return hr;
    }
  g_variant_get (reply, "(u)", &token);
  g_mutex_lock (&self->lock);
  os_mapi_advise_set_token (advise, token);
  g_ptr_array_add (self->advises, advise);
  g_mutex_unlock (&self->lock);
  *pulAdviseToken = token;
  return S_OK;
}

static OsMapiAdvise *
take_advise (OsMapiOffline *self, ULONG token)
{
  OsMapiAdvise *advise = NULL;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->advises->len && advise == NULL; i++)
    if (os_mapi_advise_get_token (g_ptr_array_index (self->advises, i)) == token)
      advise = g_ptr_array_steal_index (self->advises, i);
  g_mutex_unlock (&self->lock);
  return advise;
}

/* S_OK whatever happens, as MAPI requires: other flags, or a token that is not one of this
 * object's, change nothing. */
static HRESULT
offline_unadvise (IMAPIOfflineMgr *This, ULONG ulFlags, ULONG ulAdviseToken)
{
  OsMapiAdvise *advise;

  if (ulFlags != MAPIOFFLINE_UNADVISE_DEFAULT)
    return S_OK;
  advise = take_advise (OFFLINE (This), ulAdviseToken);
  if (advise != NULL)
    unadvise (OFFLINE (This), advise);
  return S_OK;
}

static const IMAPIOfflineMgrVtbl offline_vtbl = {
  .QueryInterface = offline_query_interface,
  .AddRef = offline_add_ref,
  .Release = offline_release,
  .SetCurrentState = offline_set_current_state,
  .GetCapabilities = offline_get_capabilities,
  .GetCurrentState = offline_get_current_state,
  .Placeholder1 = offline_placeholder,
  .Advise = offline_advise,
  .Unadvise = offline_unadvise,
  .Placeholder2 = offline_placeholder,
  .Placeholder3 = offline_placeholder,
  .Placeholder4 = offline_placeholder,
  .Placeholder5 = offline_placeholder,
  .Placeholder6 = offline_placeholder,
  .Placeholder7 = offline_placeholder,
  .Placeholder8 = offline_placeholder,
};

/* HrOpenOfflineObj */

/* wchar_t is UTF-32 here; NULL for what is not Unicode (g_ucs4_to_utf8() would encode a
 * surrogate). */
static char *
profile_name (LPCWSTR name)
{
  G_STATIC_ASSERT (sizeof (wchar_t) == sizeof (gunichar));

  for (LPCWSTR c = name; *c != 0; c++)
    if (!g_unichar_validate ((gunichar) *c))
      return NULL;
  return g_ucs4_to_utf8 ((const gunichar *) name, -1, NULL, NULL, NULL);
}

/* In registry form, as OpenOfflineObject takes it: the service says whether it is
 * GUID_GlobalState. */
static char *
guid_string (const GUID *guid)
{
  return g_strdup_printf ("{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}", guid->Data1,
                          guid->Data2, guid->Data3, guid->Data4[0], guid->Data4[1], guid->Data4[2],
                          guid->Data4[3], guid->Data4[4], guid->Data4[5], guid->Data4[6],
                          guid->Data4[7]);
}

/* $OFFLINE_STATE_MAPI_BUS: unset, empty or "session" for the session bus, "system" for the
 * system bus, anything else a D-Bus address. */
static char *
bus_address (GError **error)
{
  const char *bus = g_getenv (BUS_ENV);

  if (bus == NULL || *bus == '\0' || g_str_equal (bus, "session"))
    return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, error);
  if (g_str_equal (bus, "system"))
    return g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  return g_strdup (bus);
}

static HRESULT
open_object (OsMapiBus *bus, const char *profile, const GUID *guid, char **path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *guid_text = guid_string (guid);
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      os_mapi_bus_get_connection (bus), OFFLINE_STATE_BUS_NAME, OFFLINE_STATE_MANAGER_PATH,
      OFFLINE_STATE_MANAGER_INTERFACE, "OpenOfflineObject",
      g_variant_new ("(ss)", profile, guid_text), G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
      -1, NULL, &error);

  if (reply == NULL)
    return hresult_from_error (error);
  g_variant_get (reply, "(o)", path);
  return S_OK;
}

static IMAPIOfflineMgr *
offline_new (OsMapiBus *bus, char *path)
{
  OsMapiOffline *self = g_new0 (OsMapiOffline, 1);

  self->iface.lpVtbl = &offline_vtbl;
  self->refs = 1;
  self->bus = bus;
  self->path = path;
  g_mutex_init (&self->lock);
  self->advises = g_ptr_array_new ();
  return &self->iface;
}

static OsMapiBus *
bus_for_process (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = bus_address (&error);
  OsMapiBus *bus = address != NULL ? os_mapi_bus_get (address, &error) : NULL;

  if (bus == NULL)
    g_debug ("no bus: %s", error->message);
  return bus;
}

HRESULT
HrOpenOfflineObj (ULONG ulReserved,
                  LPCWSTR pwszProfileNameIn,
                  const GUID *pGUID,
                  const GUID *pReserved,
                  IMAPIOfflineMgr **ppOfflineObj)
{
  g_autofree char *profile = NULL;
  OsMapiBus *bus;
  char *path = NULL;
  HRESULT hr;

  if (ppOfflineObj == NULL)
    return E_INVALIDARG;
  *ppOfflineObj = NULL;
  if (ulReserved != 0 || pwszProfileNameIn == NULL || pGUID == NULL || pReserved != NULL)
    return E_INVALIDARG;
  profile = profile_name (pwszProfileNameIn);
  if (profile == NULL)
    return E_INVALIDARG;
  bus = bus_for_process ();
  if (bus == NULL)
    return MAPI_E_CALL_FAILED;
  hr = open_object (bus, profile, pGUID, &path);
  if (FAILED (hr))
    {
      os_mapi_bus_unref (bus);
      return hr;
    }
  *ppOfflineObj = offline_new (bus, path);
  return S_OK;
}
