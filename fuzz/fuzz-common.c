/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"

/* A critical is a g_return_if_fail() that caught a broken caller: a bug, so the run must
 * stop there with a reproducer. Anything milder is the code reporting on the input, which
 * would only slow the fuzzer down and bury its own output. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags log_level,
                 const GLogField *fields,
                 gsize n_fields,
                 gpointer user_data)
{
  if ((log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL)) == 0)
    return G_LOG_WRITER_HANDLED;
  g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
  return 0;
}

void
fuzz_drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}
