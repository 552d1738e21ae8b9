/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * fuzz-method-args: what the contract says each call may do, a model of the advises it
 * says are live, and the notifications as clients see them.
 */
#include "config.h"

#include <string.h>

#include "fuzz-method-args.h"
#include "offline-state.h"
#include "os-validate.h"

void
advised_free (Advised *advised)
{
  g_free (advised->owner);
  g_free (advised->profile);
  g_free (advised);
}

void
fuzz_fail (Fuzz *fuzz, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;
  g_autoptr (GString) calls = g_string_new (NULL);

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  for (guint i = 0; i < fuzz->calls->len; i++)
    {
      g_variant_print_string (g_ptr_array_index (fuzz->calls, i), calls, FALSE);
      g_string_append_c (calls, '\n');
    }
  g_error ("%s\ncalls:\n%s", what, calls->str);
}

char *
describe (Fuzz *fuzz)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (fuzz->manager);
  GString *text = g_string_new (NULL);

  g_string_append_printf (text, "advises %u\n", os_manager_get_n_advises (fuzz->manager));
  for (guint i = 0; names[i] != NULL; i++)
    {
      OsProfile *p = os_manager_lookup (fuzz->manager, names[i]);

      g_string_append_printf (text,
                              "'%s' state %u caps %u seq %" G_GUINT64_FORMAT
                              " transitioning %d advises %u delay %u\n",
                              names[i], os_profile_get_state (p), os_profile_get_capabilities (p),
                              os_profile_get_sequence (p), os_profile_get_transitioning (p),
                              os_profile_get_advise_count (p), os_profile_get_transition_delay (p));
    }
  return g_string_free (text, FALSE);
}

static gboolean
outcome_allows_error (guint allowed, const GError *error)
{
  return error->domain == OS_ERROR && error->code >= 0 && error->code < 31 &&
         (allowed & OUTCOME_ERROR (error->code)) != 0;
}

/* The MAPI code that the contract (§7) puts first in the message, where there is one. */
static const char *
mapi_prefix (OsError code)
{
  switch (code)
    {
      case OS_ERROR_INVALID_ARGS:
        return "E_INVALIDARG (0x80070057): ";
      case OS_ERROR_PENDING:
        return "E_PENDING (0x8000000A): ";
      case OS_ERROR_NOT_FOUND:
        return "MAPI_E_NOT_FOUND (0x8004010F): ";
      case OS_ERROR_NO_INTERFACE:
        return "E_NOINTERFACE (0x80004002): ";
      default:
        return "";
    }
}

void
check_outcome (Fuzz *fuzz, guint allowed, const GError *error)
{
  if (error == NULL)
    {
      if ((allowed & OUTCOME_OK) == 0)
        fuzz_fail (fuzz, "the call succeeded; the contract allows only errors 0x%X", allowed);
      return;
    }
  if (!outcome_allows_error (allowed, error))
    fuzz_fail (fuzz, "error %s %d (%s) is not one the contract allows here (0x%X)",
               g_quark_to_string (error->domain), error->code, error->message, allowed);
  if (!g_str_has_prefix (error->message, mapi_prefix (error->code)))
    fuzz_fail (fuzz, "error message '%s' does not start with '%s'", error->message,
               mapi_prefix (error->code));
  if (!g_dbus_is_interface_name (os_error_dbus_name (error->code)))
    fuzz_fail (fuzz, "error %d has no D-Bus name", error->code);
}

/* @before and @after describe the state around the call itself, before the main loop
 * has turned: a transition that goes on meanwhile is no change made by the call. */
void
check_unchanged (Fuzz *fuzz, gboolean refused, const char *before, const char *after)
{
  if (refused && !g_str_equal (before, after))
    fuzz_fail (fuzz, "a call that may change nothing changed the state:\nbefore:\n%s\nafter:\n%s",
               before, after);
}

/* The profile name rule of the contract (§3). */
gboolean
name_is_valid (const char *name)
{
  gsize length = strlen (name);

  if (length == 0 || length > 255)
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_type (g_utf8_get_char (p)) == G_UNICODE_CONTROL)
      return FALSE;
  return TRUE;
}

guint
model_count (Fuzz *fuzz, const char *owner, const char *profile)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, fuzz->advises);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Advised *advised = value;

      if ((owner == NULL || g_str_equal (advised->owner, owner)) &&
          (profile == NULL || g_str_equal (advised->profile, profile)))
        n++;
    }
  return n;
}

void
model_forget (Fuzz *fuzz, const char *owner, const char *profile)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, fuzz->advises);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Advised *advised = value;

      if ((owner == NULL || g_str_equal (advised->owner, owner)) &&
          (profile == NULL || g_str_equal (advised->profile, profile)))
        g_hash_table_iter_remove (&iter);
    }
}

void
check_invariants (Fuzz *fuzz)
{
  g_auto (GStrv) names = os_manager_dup_profile_names (fuzz->manager);
  guint n = g_strv_length (names);

  if (n > MAX_PROFILES)
    fuzz_fail (fuzz, "%u profiles, over --max-profiles %u", n, MAX_PROFILES);
  if (os_manager_get_n_advises (fuzz->manager) != g_hash_table_size (fuzz->advises))
    fuzz_fail (fuzz, "%u advises live, the contract says %u",
               os_manager_get_n_advises (fuzz->manager), g_hash_table_size (fuzz->advises));
  for (guint i = 0; i < n; i++)
    {
      OsProfile *p = os_manager_lookup (fuzz->manager, names[i]);

      if (p == NULL || !name_is_valid (names[i]) || (i > 0 && strcmp (names[i - 1], names[i]) >= 0))
        fuzz_fail (fuzz, "profile names are not valid, sorted and unique at '%s'", names[i]);
      if (!os_validate_state (os_profile_get_state (p), NULL) ||
          !os_validate_capabilities (os_profile_get_capabilities (p), NULL))
        fuzz_fail (fuzz, "profile '%s' holds state %u, capabilities %u", names[i],
                   os_profile_get_state (p), os_profile_get_capabilities (p));
      if (os_profile_get_advise_count (p) != model_count (fuzz, NULL, names[i]))
        fuzz_fail (fuzz, "profile '%s' counts %u advises, the contract says %u", names[i],
                   os_profile_get_advise_count (p), model_count (fuzz, NULL, names[i]));
    }
}

typedef struct
{
  Fuzz *fuzz;
  OsProfile *profile;
  OsAdvise *advise;
  guint ticket;
} Answer;

static gboolean
callback_fails (const OsAdvise *advise)
{
  /* A client whose callback object does not exist: its Notify fails with an error. */
  return strstr (advise->callback, "fail") != NULL;
}

/* The client's answer to a Notify, a turn of the main loop later, as from the bus. */
static void
answer_notify (gpointer user_data)
{
  Answer *answer = user_data;

  if (callback_fails (answer->advise))
    {
      if (!answer->advise->removed)
        g_hash_table_remove (answer->fuzz->advises, GUINT_TO_POINTER (answer->advise->token));
      os_profile_drop_advise (answer->profile, answer->advise, "no such object");
    }
  else
    {
      os_profile_callback_replied (answer->profile, answer->advise, answer->ticket);
    }
  g_object_unref (answer->profile);
  os_advise_unref (answer->advise);
  g_free (answer);
}

static void
check_transition_notification (Fuzz *fuzz,
                               OsProfile *profile,
                               guint notify_type,
                               guint mask,
                               guint old_state,
                               guint new_state,
                               guint64 sequence)
{
  gboolean committed = notify_type != MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START;
  guint64 expected = os_profile_get_sequence (profile) + (committed ? 0 : 1);

  if (notify_type < MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_START ||
      notify_type > MAPIOFFLINE_NOTIFY_TYPE_STATECHANGE_DONE ||
      mask != MAPIOFFLINE_STATE_OFFLINE_MASK || old_state == new_state ||
      !os_validate_state (old_state, NULL) || !os_validate_state (new_state, NULL) ||
      sequence != expected || (committed && os_profile_get_state (profile) != new_state))
    fuzz_fail (fuzz,
               "notification %u mask %u %u→%u sequence %" G_GUINT64_FORMAT
               " of a transition of a profile at %u, sequence %" G_GUINT64_FORMAT,
               notify_type, mask, old_state, new_state, sequence, os_profile_get_state (profile),
               os_profile_get_sequence (profile));
}

static void
check_injected_notification (Fuzz *fuzz,
                             OsProfile *profile,
                             guint notify_type,
                             guint mask,
                             guint old_state,
                             guint new_state,
                             guint64 sequence)
{
  if (!fuzz->injecting || notify_type != fuzz->inject_args[0] || mask != fuzz->inject_args[1] ||
      old_state != fuzz->inject_args[2] || new_state != fuzz->inject_args[3] ||
      sequence != os_profile_get_sequence (profile))
    fuzz_fail (fuzz, "a notification without a ticket that nobody injected");
  fuzz->injected++;
}

static void
on_notification (OsProfile *profile,
                 OsAdvise *advise,
                 guint notify_type,
                 guint mask,
                 guint old_state,
                 guint new_state,
                 guint64 sequence,
                 guint ticket,
                 Fuzz *fuzz)
{
  if (advise->removed || advise->profile != profile)
    fuzz_fail (fuzz, "a notification to advise %u, which is not one of this profile's",
               advise->token);
  if (ticket != 0)
    check_transition_notification (fuzz, profile, notify_type, mask, old_state, new_state,
                                   sequence);
  else
    check_injected_notification (fuzz, profile, notify_type, mask, old_state, new_state, sequence);
  if (os_advise_is_callback (advise))
    {
      Answer *answer = g_new0 (Answer, 1);

      answer->fuzz = fuzz;
      answer->profile = g_object_ref (profile);
      answer->advise = os_advise_ref (advise);
      answer->ticket = ticket;
      g_idle_add_once (answer_notify, answer);
    }
}

void
on_profile_added (OsManager *manager, OsProfile *profile, Fuzz *fuzz)
{
  g_signal_connect (profile, "notification", G_CALLBACK (on_notification), fuzz);
}

/* The contract's GUID rule (§3): 1 the global
 * state GUID, 0 another well-formed one, -1 a malformed one. */
int
classify_guid (const char *guid)
{
  static const char global[] = "FBEFFD93-B11F-4094-842B-96DCD31E63D1";
  gsize length = strlen (guid);

  if (length == 0)
    return 1;
  if (guid[0] == '{' && length >= 2 && guid[length - 1] == '}')
    {
      guid++;
      length -= 2;
    }
  if (length != 36)
    return -1;
  for (gsize i = 0; i < length; i++)
    {
      gboolean dash = i == 8 || i == 13 || i == 18 || i == 23;

      if (dash ? guid[i] != '-' : !g_ascii_isxdigit (guid[i]))
        return -1;
    }
  return g_ascii_strncasecmp (guid, global, length) == 0 ? 1 : 0;
}
