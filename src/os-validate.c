/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "offline-state.h"
#include "os-error.h"
#include "os-validate.h"

gboolean
os_validate_profile_name (const char *name, GError **error)
{
  gsize length = strlen (name);
  const char *p;

  if (length == 0 || length > OS_PROFILE_NAME_MAX)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "a profile name is 1 to %d bytes long, not %" G_GSIZE_FORMAT,
                    OS_PROFILE_NAME_MAX, length);
      return FALSE;
    }
  if (!g_utf8_validate (name, length, NULL))
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "a profile name must be valid UTF-8");
      return FALSE;
    }
  for (p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) == G_UNICODE_CONTROL)
        {
          os_set_error (error, OS_ERROR_INVALID_ARGS,
                        "a profile name may not contain control characters (U+%04X at byte %d)", c,
                        (int) (p - name));
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
os_validate_capabilities (guint capabilities, GError **error)
{
  if ((capabilities & ~(MAPIOFFLINE_CAPABILITY_OFFLINE | MAPIOFFLINE_CAPABILITY_ONLINE)) != 0)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "capabilities 0x%X are not a subset of 0x3 (CAPABILITY_OFFLINE | "
                    "CAPABILITY_ONLINE)",
                    capabilities);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_transition_delay (guint milliseconds, GError **error)
{
  if (milliseconds > OS_TRANSITION_DELAY_MAX)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "a transition delay is at most %u ms, not %u",
                    OS_TRANSITION_DELAY_MAX, milliseconds);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_state (guint state, GError **error)
{
  if (state != MAPIOFFLINE_STATE_OFFLINE && state != MAPIOFFLINE_STATE_ONLINE)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "state %u is neither 1 (OFFLINE) nor 2 (ONLINE)",
                    state);
      return FALSE;
    }
  return TRUE;
}

static gboolean
guid_is_well_formed (const char *guid, gsize length)
{
  static const gsize dashes[] = { 8, 13, 18, 23 };
  gsize i, d = 0;

  if (length != 36)
    return FALSE;
  for (i = 0; i < length; i++)
    {
      if (d < G_N_ELEMENTS (dashes) && i == dashes[d])
        {
          if (guid[i] != '-')
            return FALSE;
          d++;
        }
      else if (!g_ascii_isxdigit (guid[i]))
        {
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
os_validate_guid (const char *guid, GError **error)
{
  /* The registry form without its braces: "FBEFFD93-…" */
  const char *global = &OFFLINE_STATE_GUID_GLOBAL_STATE[1];
  const char *given = guid;
  gsize length = strlen (guid);

  if (length == 0)
    return TRUE;
  if (guid[0] == '{' || guid[length - 1] == '}')
    {
      if (length < 2 || guid[0] != '{' || guid[length - 1] != '}')
        goto malformed;
      guid++;
      length -= 2;
    }
  if (!guid_is_well_formed (guid, length))
    goto malformed;
  if (g_ascii_strncasecmp (guid, global, length) != 0)
    {
      os_set_error (error, OS_ERROR_NOT_FOUND,
                    "no offline object for GUID {%.36s}; only GUID_GlobalState %s is known", guid,
                    OFFLINE_STATE_GUID_GLOBAL_STATE);
      return FALSE;
    }
  return TRUE;

malformed:
  os_set_error (error, OS_ERROR_INVALID_ARGS,
                "'%s' is not a GUID in registry form ({XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}, "
                "braces optional) nor \"\"",
                given);
  return FALSE;
}

gboolean
os_validate_set_state_flags (guint flags, GError **error)
{
  if (flags != MAPIOFFLINE_FLAG_DEFAULT && flags != MAPIOFFLINE_FLAG_BLOCK)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "flags 0x%X are neither 0 (FLAG_DEFAULT) nor 0x2000 (FLAG_BLOCK)", flags);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_offline_mask (guint mask, GError **error)
{
  if (mask != MAPIOFFLINE_STATE_OFFLINE_MASK)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "mask 0x%X is not 0x3 (MAPIOFFLINE_STATE_OFFLINE_MASK)", mask);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_set_state (guint flags, guint mask, guint state, GError **error)
{
  return os_validate_set_state_flags (flags, error) && os_validate_offline_mask (mask, error) &&
         os_validate_state (state, error);
}

gboolean
os_validate_advise_flags (guint flags, GError **error)
{
  if (flags != MAPIOFFLINE_ADVISE_DEFAULT)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "Advise flags must be 0, not 0x%X", flags);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_callback_type (guint callback_type, GError **error)
{
  if (callback_type != MAPIOFFLINE_CALLBACK_TYPE_NOTIFY)
    {
      os_set_error (error, OS_ERROR_NO_INTERFACE,
                    "callback type %u is not 0 (MAPIOFFLINE_CALLBACK_TYPE_NOTIFY)", callback_type);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_callback (const char *callback, GError **error)
{
  if (callback != NULL && !g_variant_is_object_path (callback))
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS, "callback '%s' is not an object path", callback);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_advise_types (guint advise_types, GError **error)
{
  if (advise_types != MAPIOFFLINE_ADVISE_TYPE_STATECHANGE)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "advise types 0x%X are not 1 (MAPIOFFLINE_ADVISE_TYPE_STATECHANGE)",
                    advise_types);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_state_mask (guint state_mask, GError **error)
{
  if (state_mask == 0 || (state_mask & ~MAPIOFFLINE_STATE_ALL) != 0)
    {
      os_set_error (error, OS_ERROR_INVALID_ARGS,
                    "state mask 0x%X is not a non-zero subset of 0x%X (MAPIOFFLINE_STATE_ALL)",
                    state_mask, MAPIOFFLINE_STATE_ALL);
      return FALSE;
    }
  return TRUE;
}

gboolean
os_validate_advise (guint flags,
                    guint callback_type,
                    const char *callback,
                    guint advise_types,
                    guint state_mask,
                    GError **error)
{
  return os_validate_advise_flags (flags, error) &&
         os_validate_callback_type (callback_type, error) &&
         os_validate_callback (callback, error) && os_validate_advise_types (advise_types, error) &&
         os_validate_state_mask (state_mask, error);
}

const char *
os_state_to_string (guint state)
{
  switch (state)
    {
      case MAPIOFFLINE_STATE_OFFLINE:
        return "offline";
      case MAPIOFFLINE_STATE_ONLINE:
        return "online";
      default:
        return "invalid";
    }
}
