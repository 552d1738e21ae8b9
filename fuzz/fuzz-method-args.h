/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * fuzz-method-args: the state of one input, and the checks against the contract that
 * fuzz-method-checks.c makes of it.
 */
#pragma once

#include "os-error.h"
#include "os-manager.h"

G_BEGIN_DECLS

/* Small limits, so that inputs of a few calls reach them. */
#define MAX_PROFILES       4
#define MAX_ADVISES        8
#define MAX_ADVISES_CALLER 4

/* An outcome is a set of what the contract allows: OK and/or some OsError codes. */
#define OUTCOME_OK          (1u << 31)
#define OUTCOME_ERROR(code) (1u << (code))

/* What the contract says about one live advise. */
typedef struct
{
  char *owner;
  char *profile;
} Advised;

typedef struct
{
  OsManager *manager;
  GHashTable *advises; /* token → Advised: the live advises */
  GHashTable *tokens;  /* every token handed out */
  const char *caller;
  OsProfile *target; /* of an offline-object method, or NULL */
  GVariant *args;
  GPtrArray *calls; /* GVariant (sssv): the calls so far, for a failed check to show */
  /* An InjectNotification being sent, and what it reached. */
  gboolean injecting;
  guint inject_args[4];
  guint injected;
} Fuzz;

void advised_free (Advised *advised);

/* Aborts, with the calls of the input so far: libFuzzer keeps the input. */
void fuzz_fail (Fuzz *fuzz, const char *format, ...) G_GNUC_PRINTF (2, 3) G_GNUC_NORETURN;

/* Everything a refused call must leave as it was, as text that a failed check can show. */
char *describe (Fuzz *fuzz);

/* @allowed: OUTCOME_OK and the OUTCOME_ERROR()s that the contract allows for the call. */
void check_outcome (Fuzz *fuzz, guint allowed, const GError *error);
void check_unchanged (Fuzz *fuzz, gboolean refused, const char *before, const char *after);

/* What must hold between any two calls. */
void check_invariants (Fuzz *fuzz);

/* The contract's rules, spelled out again rather than trusted to os-validate.c. */
gboolean name_is_valid (const char *name);
int classify_guid (const char *guid);

/* The model of the live advises: a NULL @owner or @profile matches any. */
guint model_count (Fuzz *fuzz, const char *owner, const char *profile);
void model_forget (Fuzz *fuzz, const char *owner, const char *profile);

/* Checks each notification of @profile, and answers its callbacks as clients would. */
void on_profile_added (OsManager *manager, OsProfile *profile, Fuzz *fuzz);

G_END_DECLS
