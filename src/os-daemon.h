/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The whole daemon: options, bus, name, main loop. Returns the exit status: 0 after
 * SIGTERM/SIGINT, 1 when the bus or the name is lost, 2 for a bad command line. */
int os_daemon_main (int argc, char **argv);

G_END_DECLS
