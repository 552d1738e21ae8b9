/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _OsProfile OsProfile;
typedef struct _OsClient OsClient;

/* One advise: a subscription of one client to one profile's state changes. Its client
 * owns it (os-client.h); the token index (os-registry.h) and the profile's list only find it;
 * a notification on its way holds one more reference, which is why an advise knows
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

/* What becomes of an advise, told to its profile by the units below it (OsClient,
 * OsRegistry, which call no function of the profile's): OsManager hands them the profile's
 * functions. */
typedef struct
{
  const char *(*get_name) (OsProfile *profile);
  /* @advise was removed (Unadvise, its client left or was cut off, its profile went). */
  void (*forget) (OsProfile *profile, OsAdvise *advise);
  /* Its client answered the notification of @ticket, or never will: wait no more. */
  void (*replied) (OsProfile *profile, OsAdvise *advise, guint ticket);
  /* Whether the transition still waits for the reply to the notification of @ticket. */
  gboolean (*awaits_reply) (OsProfile *profile, OsAdvise *advise, guint ticket);
  /* Its callback failed: it goes, and @reason goes to the log. */
  void (*drop) (OsProfile *profile, OsAdvise *advise, const char *reason);
} OsAdviseHooks;

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
