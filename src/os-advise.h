/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OsProfile OsProfile;
typedef struct _OsClient OsClient;

/* One advise: a subscription of one client to one profile's state changes. Its client
 * owns it (os-client.h); the manager's token index and the profile's list only find it;
 * a transition holds more references while it notifies, which is why an advise knows
 * whether it has been removed. */
typedef struct _OsAdvise
{
  grefcount ref;
  guint token;
  guint client_token;
  guint state_mask;
  guint removed : 1;
  guint awaiting : 1; /* a reply to the current phase's Notify */
  char *callback;     /* NULL: signal delivery */
  OsClient *client;   /* NULL once removed */
  OsProfile *profile; /* NULL once removed */
  GList profile_link;
  GList client_link;
} OsAdvise;

OsAdvise *os_advise_ref (OsAdvise *advise);
void os_advise_unref (OsAdvise *advise);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OsAdvise, os_advise_unref)

const char *os_advise_get_owner (const OsAdvise *advise);

static inline gboolean
os_advise_is_callback (const OsAdvise *advise)
{
  return advise->callback != NULL;
}

G_END_DECLS
