/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * How a test program adds its cases, each a g_test_add() fixture, with its whole path:
 *
 * - on the real daemon (harness.h): HARNESS_ADD (path, data, set_up, test). @set_up starts a
 *   fresh bus and daemon (harness_fixture_setup(), with @data as the daemon's extra arguments,
 *   or a function of the program's that calls harness_setup()); harness_fixture_teardown()
 *   stops them.
 * - on a fixture of the program's own: FIXTURE_ADD (path, data, test). The program names the
 *   fixture's type Fixture and its functions fixture_set_up() and fixture_tear_down().
 */
#pragma once

#include <glib.h>

#define HARNESS_ADD(path, data, set_up, test)                                                      \
  g_test_add (path, Harness, data, set_up, test, harness_fixture_teardown)

#define FIXTURE_ADD(path, data, test)                                                              \
  g_test_add (path, Fixture, data, fixture_set_up, test, fixture_tear_down)
