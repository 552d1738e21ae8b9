/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#include "config.h"

#include <stdlib.h>
#include <unistd.h>

#include "os-daemon.h"

/* GLib 2.74's slice allocator keeps what it frees for its own reuse, for good: after a big
 * fan-out the daemon kept the advises' memory once they had gone (docs/reliability.md, case
 * 8). With the system allocator, malloc_trim() gives it back. The slice allocator reads
 * G_SLICE before main() runs (GObject's constructor allocates through it), so a daemon
 * started without it set starts itself again, once, with it set; if that fails it goes on
 * as it is. */
static void
use_the_system_allocator (char **argv)
{
  if (getenv ("G_SLICE") != NULL || setenv ("G_SLICE", "always-malloc", 1) != 0)
    return;
  execv ("/proc/self/exe", argv);
}

int
main (int argc, char **argv)
{
  use_the_system_allocator (argv);
  return os_daemon_main (argc, argv);
}
