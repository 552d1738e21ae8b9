/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * What every libFuzzer target of fuzz/ shares.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

/* libFuzzer's entry points: each target defines the second, fuzz-common.c the first. */
int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Runs the default main context until it has nothing left to dispatch now. */
void fuzz_drain_main_context (void);

G_END_DECLS
