#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Refreshes the giomodule.cache of the folder that the module went to: QUERYMODULES DIR.
# A staged install (DESTDIR) is cached by the package's own trigger, and a machine without
# gio-querymodules has no cache to refresh.
[ -n "$DESTDIR" ] && exit 0
[ -n "$1" ] && [ -x "$1" ] || exit 0
exec "$1" "$2"
