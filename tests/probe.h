/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What the hostile-client tests (test-hostile.c, test-churn.c) measure: the daemon's
 * resident memory and open files, call latencies, and the outcome of many calls by error
 * name. Each prints its figures with g_test_message() so that a run can be quoted.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The daemon as /proc shows it. */
typedef struct
{
  guint64 rss_kib;
  guint n_fds;
} ProbeFigures;

void probe_read (GSubprocess *daemon, ProbeFigures *figures);
void probe_message (const char *label, const ProbeFigures *figures);

/* Call latencies, in microseconds. Safe to fill from one thread while another waits. */
typedef struct _ProbeLatencies ProbeLatencies;

ProbeLatencies *probe_latencies_new (void);
void probe_latencies_free (ProbeLatencies *latencies);
void probe_latencies_add (ProbeLatencies *latencies, gint64 microseconds);
guint probe_latencies_count (ProbeLatencies *latencies);
/* The largest, in microseconds (0 when empty). */
gint64 probe_latencies_max (ProbeLatencies *latencies);
/* "label: n=…, min/median/p99/max …/…/…/… ms" */
void probe_latencies_message (const char *label, ProbeLatencies *latencies);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeLatencies, probe_latencies_free)

/* Outcomes of calls by D-Bus error name; "ok" for a success, "local:<domain>:<code>" for an
 * error that did not come over the bus. Safe to fill from several threads. */
typedef struct _ProbeTally ProbeTally;

ProbeTally *probe_tally_new (void);
void probe_tally_free (ProbeTally *tally);
void probe_tally_add (ProbeTally *tally, const GError *error);
guint probe_tally_get (ProbeTally *tally, const char *outcome);
/* Every outcome counted, of any name. */
guint probe_tally_total (ProbeTally *tally);
void probe_tally_message (const char *label, ProbeTally *tally);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeTally, probe_tally_free)

/* The name of the outcome @error stands for, as probe_tally_add() counts it. */
char *probe_outcome (const GError *error);

G_END_DECLS
