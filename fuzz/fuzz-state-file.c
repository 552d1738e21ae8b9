/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The state file loader, os_store_parse(), on any bytes. What it accepts must hold only
 * values the contract allows, and must come back unchanged through os_store_serialize():
 * the daemon writes what it loaded, and the next start has to read the same profiles.
 */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "os-store.h"
#include "os-validate.h"

static void
assert_within_contract (GPtrArray *records)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < records->len; i++)
    {
      const OsProfileRecord *record = g_ptr_array_index (records, i);

      g_assert_true (os_validate_profile_name (record->name, NULL));
      g_assert_true (os_validate_capabilities (record->capabilities, NULL));
      g_assert_true (os_validate_state (record->state, NULL));
      g_assert_true (g_hash_table_add (names, record->name));
    }
}

static void
assert_same_records (GPtrArray *expected, GPtrArray *actual)
{
  g_assert_cmpuint (actual->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      const OsProfileRecord *e = g_ptr_array_index (expected, i);
      const OsProfileRecord *a = g_ptr_array_index (actual, i);

      g_assert_cmpstr (a->name, ==, e->name);
      g_assert_cmpuint (a->capabilities, ==, e->capabilities);
      g_assert_cmpuint (a->state, ==, e->state);
      g_assert_cmpuint (a->sequence, ==, e->sequence);
    }
}

/* Serializes @records, parses the text again and returns what came back; the second
 * text must be the first one byte for byte, or two daemons could disagree on disk. */
static GPtrArray *
round_trip (GPtrArray *records)
{
  g_autoptr (GError) error = NULL;
  gsize length, again_length;
  g_autofree char *text = os_store_serialize (records, &length);
  g_autoptr (GPtrArray) parsed = os_store_parse (text, length, &error);
  g_autofree char *again = NULL;

  if (parsed == NULL)
    g_error ("a serialized state file does not parse (%s):\n%s", error->message, text);
  again = os_store_serialize (parsed, &again_length);
  g_assert_cmpmem (again, again_length, text, length);
  return g_steal_pointer (&parsed);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = os_store_parse ((const char *) data, size, &error);
  g_autoptr (GPtrArray) again = NULL;

  if (records == NULL)
    {
      /* The daemon quotes the message when it sets a damaged file aside. */
      g_assert_nonnull (error);
      g_assert_nonnull (error->message);
      return 0;
    }
  g_assert_null (error);
  assert_within_contract (records);
  again = round_trip (records);
  assert_same_records (records, again);
  return 0;
}
