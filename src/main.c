/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include "os-daemon.h"

int
main (int argc, char **argv)
{
  return os_daemon_main (argc, argv);
}
