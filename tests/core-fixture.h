/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The fixture of the core's unit tests (test-core-*.c), with no bus. The test plays every
 * client: it receives the "notification" signal and answers (or not) for callback advises.
 */
#pragma once

#include "mapi-prefixes.h"
#include "offline-state.h"
#include "os-core-private.h"
#include "os-error.h"
#include "os-manager.h"
#include "test-add.h"

#define GUARD_MS             5000
#define QUICK_TIMEOUT_MS     100
#define PATIENT_TIMEOUT_MS   60000
#define LIMIT_PER_CONNECTION 4
#define LIMIT_ADVISES        8
#define LIMIT_PROFILES       4

#define OWNER         ":1.5"
#define OTHER_OWNER   ":1.6"
#define CALLBACK_PATH "/org/example/Notify"

/* How the test, as a client, answers a callback advise's notification. */
typedef enum
{
  POLICY_REPLY_NOW,  /* from inside the handler */
  POLICY_REPLY_IDLE, /* from an idle source */
  POLICY_HOLD,       /* when the test calls release_held() */
  POLICY_SILENT,     /* never */
  POLICY_FAIL,       /* the call failed: the advise is dropped */
} Policy;

typedef struct
{
  OsProfile *profile;
  OsAdvise *advise; /* compared only, never dereferenced after the test moved on */
  guint token;
  guint client_token;
  guint notify_type;
  guint mask;
  guint old_state;
  guint new_state;
  guint64 sequence;
  guint ticket;
  gint64 time;
} Event;

typedef struct _Fixture Fixture;
typedef void (*Hook) (Fixture *f, const Event *event);

struct _Fixture
{
  OsManager *manager;
  OsProfile *profile; /* "default" */
  GArray *events;     /* Event */
  GString *log;       /* the order of everything that happened */
  GString *manager_log;
  GStrv clients;        /* that hold advises, as the log last told */
  GHashTable *policies; /* advise token → Policy */
  GPtrArray *held;      /* Reply */
  Hook hook;
  gpointer hook_data;
};

typedef struct
{
  OsProfile *profile;
  OsAdvise *advise;
  guint ticket;
} Reply;

/* One SetCurrentState call. */
typedef struct
{
  Fixture *f;
  gboolean done;
  gboolean ok;
  GError *error;
  gboolean transitioning_at_done;
  gint64 time;
} Call;

typedef gboolean (*Condition) (Fixture *f, gconstpointer data);

extern const OsLimits quick_limits;
extern const OsLimits patient_limits;

/* The main loop */

void spin_until (Fixture *f, Condition condition, gconstpointer data);
void drain (void);
gboolean call_done (Fixture *f, gconstpointer data);
gboolean not_transitioning (Fixture *f, gconstpointer data);
gboolean has_events (Fixture *f, gconstpointer data);

/* The client's side */

Reply *reply_new (OsProfile *profile, OsAdvise *advise, guint ticket);
void reply_free (Reply *reply);
void release_held (Fixture *f);

/* Fixture */

void fixture_set_up (Fixture *f, gconstpointer data);
void fixture_tear_down (Fixture *f, gconstpointer data);

/* Helpers */

guint
advise_signal (Fixture *f, OsProfile *profile, const char *owner, guint client_token, guint mask);
guint advise_callback (Fixture *f,
                       OsProfile *profile,
                       const char *owner,
                       guint client_token,
                       guint mask,
                       Policy policy);
void set_state_done (GObject *source, GAsyncResult *result, gpointer user_data);
Call *call_new (Fixture *f);
void call_free (Call *call);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

Call *set_state (Fixture *f, OsProfile *profile, guint flags, guint state);
void begin_transition (Fixture *f, OsProfile *profile, guint state);
void change_state (Fixture *f, OsProfile *profile, guint flags, guint state);
void assert_prefix (const GError *error, const char *prefix);
void assert_types (Fixture *f, guint token, const char *expected);
void store_result (GObject *source, GAsyncResult *result, gpointer user_data);
gboolean result_ready (Fixture *f, gconstpointer data);
void set_capabilities (Fixture *f, OsProfile *profile, guint capabilities);
