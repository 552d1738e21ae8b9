/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The advise journal loader, os_journal_parse(), on any bytes, as a daemon that starts
 * after a crash reads the runtime folder. Whatever it restores must be advises that
 * Advise itself would have accepted, in token order, with tokens the daemon will not hand
 * out again; and os_journal_serialize() of them must parse back to the same advises and
 * the same highest token, with nothing left over.
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "fuzz-common.h"
#include "offline-state.h"
#include "os-journal.h"
#include "os-validate.h"

/* What org.freedesktop.DBus.GetId answers: the daemon names its journal after it. */
#define BUS_ID "7d0e7aa4a1b9f4ea5d4b3a4c65f8e0a1"

static void
assert_restorable (GPtrArray *records, guint last_token)
{
  guint previous = 0;

  for (guint i = 0; i < records->len; i++)
    {
      const OsAdviseRecord *record = g_ptr_array_index (records, i);

      /* Increasing tokens: unique, and the order the header promises. */
      g_assert_cmpuint (record->token, >, previous);
      g_assert_cmpuint (record->token, <=, last_token);
      previous = record->token;
      g_assert_true (g_dbus_is_unique_name (record->owner));
      g_assert_true (os_validate_profile_name (record->profile, NULL));
      /* Signal delivery is kept as NULL, never as the path "/". */
      g_assert_true (record->callback == NULL ||
                     (g_variant_is_object_path (record->callback) &&
                      strcmp (record->callback, OFFLINE_STATE_SIGNAL_CALLBACK_PATH) != 0));
      g_assert_true (
          os_validate_advise (MAPIOFFLINE_ADVISE_DEFAULT, MAPIOFFLINE_CALLBACK_TYPE_NOTIFY,
                              record->callback ? record->callback : "/",
                              MAPIOFFLINE_ADVISE_TYPE_STATECHANGE, record->state_mask, NULL));
    }
}

static void
assert_same_records (GPtrArray *expected, GPtrArray *actual)
{
  g_assert_cmpuint (actual->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      const OsAdviseRecord *e = g_ptr_array_index (expected, i);
      const OsAdviseRecord *a = g_ptr_array_index (actual, i);

      g_assert_cmpuint (a->token, ==, e->token);
      g_assert_cmpuint (a->client_token, ==, e->client_token);
      g_assert_cmpuint (a->state_mask, ==, e->state_mask);
      g_assert_cmpstr (a->owner, ==, e->owner);
      g_assert_cmpstr (a->callback, ==, e->callback);
      g_assert_cmpstr (a->profile, ==, e->profile);
    }
}

/* A rewrite of the journal: the live advises alone, which must come back whole. */
static void
assert_round_trip (GPtrArray *records, guint last_token)
{
  g_autoptr (GError) error = NULL;
  gsize length;
  g_autofree char *text = os_journal_serialize (BUS_ID, last_token, records, &length);
  g_autoptr (GPtrArray) again = NULL;
  guint again_last_token = 0;

  again = os_journal_parse (text, length, BUS_ID, &again_last_token, &error);
  if (again == NULL || error != NULL)
    g_error ("a serialized journal does not parse whole (%s):\n%s",
             error ? error->message : "no error", text);
  g_assert_cmpuint (again_last_token, ==, last_token);
  assert_same_records (records, again);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  guint last_token = G_MAXUINT;

  records = os_journal_parse ((const char *) data, size, BUS_ID, &last_token, &error);
  if (records == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  /* An error here only says where the replay stopped: what came before it stands. */
  assert_restorable (records, last_token);
  assert_round_trip (records, last_token);
  return 0;
}
