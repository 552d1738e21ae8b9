#!/usr/bin/env bash
# The commands in single quotes run in the devenv's shell, which expands them.
# shellcheck disable=SC2016
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# What `meson devenv -C BUILD` gives a newcomer: offlinectl on PATH, its man page and the
# daemon's, the client library's typelib and library, the bus address passed through, and a
# D-Bus services folder from which a session bus started in that shell activates the daemon
# just built. Prints TAP. $1 is the build folder; $MESON the meson to run.
set -euo pipefail

builddir=${1:?usage: test-devenv.sh BUILD-FOLDER}
meson=${MESON:-meson}
bus_name=org.offlinestate.OfflineState1
export LC_ALL=C.UTF-8

n=0
failed=0

# check DESCRIPTION EXPECTED ACTUAL
check() {
  n=$((n + 1))
  if [ "$2" = "$3" ]; then
    echo "ok $n - $1"
  else
    failed=$((failed + 1))
    echo "not ok $n - $1"
    echo "# expected: $2"
    echo "# got:      $3"
  fi
}

# Runs the shell command $1 in the devenv, with the environment of a fresh login: no
# MANPATH, GI_TYPELIB_PATH or XDG_DATA_DIRS of the caller's; a bus address that is passed on.
in_devenv() {
  env -u MANPATH -u GI_TYPELIB_PATH -u LD_LIBRARY_PATH -u XDG_DATA_DIRS \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/bus \
    "$meson" devenv -C "$builddir" bash -c "$1" 2>&1 || true
}

check "offlinectl is on PATH" "$builddir/src/offlinectl/offlinectl" \
  "$(in_devenv 'command -v offlinectl')"
check "offlinectl runs" "$("$builddir/src/offlinectl/offlinectl" --version)" \
  "$(in_devenv 'offlinectl --version')"
check "man finds offlinectl(1)" "$builddir/data/man1/offlinectl.1" \
  "$(in_devenv 'man -w offlinectl')"
check "man finds offline-stated(8)" "$builddir/data/man8/offline-stated.8" \
  "$(in_devenv 'man -w 8 offline-stated')"
check "man still finds the system's pages" "yes" \
  "$(in_devenv 'man -w 1 man >/dev/null && echo yes')"
# Debian's python3, which has python3-gi (not one of a virtual environment on PATH).
check "the typelib loads (Python)" "OfflineState 1.0 from $builddir/src/client" \
  "$(in_devenv '/usr/bin/python3 -c "
import gi
gi.require_version(\"OfflineState\", \"1.0\")
gi.require_version(\"GIRepository\", \"2.0\")
from gi.repository import GIRepository, OfflineState
print(\"OfflineState\", OfflineState._version, \"from\",
      GIRepository.Repository.get_default().get_typelib_path(\"OfflineState\").rsplit(\"/\", 1)[0])
"')"
# A module built with AddressSanitizer needs the ASan runtime loaded first in an interpreter
# built without it, as tests/sanitizers/asan-test-wrapper does for the Python tests.
preload=""
if ldd "$builddir/src/gio-module/libgiooffline-state.so" | grep -q libasan; then
  preload="LD_PRELOAD=$("${CC:-gcc}" -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0 "
fi
check "GIO programs see the built network monitor (GIO_USE_NETWORK_MONITOR=help)" \
  "offline-state - -10" \
  "$(in_devenv "${preload}GIO_USE_NETWORK_MONITOR=help /usr/bin/python3 -c '
from gi.repository import Gio
Gio.NetworkMonitor.get_default()
' | sed -n 's/^ *\(offline-state - .*\)/\1/p'")"
check "the client library is the one built" "$builddir/src/client/liboffline-state-1.so.0" \
  "$(in_devenv 'ldd "$(command -v offlinectl)" | sed -n "s/^\tliboffline-state-1.so.0 => \(.*\) (.*/\1/p"')"
check "the bus: scripts/run's private one first, then the caller's" \
  "unix:path=$builddir/run/bus;unix:path=/nonexistent/bus" \
  "$(in_devenv 'echo "$DBUS_SESSION_BUS_ADDRESS"')"

# Both ways, live, on buses of this test's: a bus at build/run/bus (as scripts/run starts one
# where there is no session bus) is the one the devenv reaches; without it, the caller's. Left
# out while a scripts/run of the developer's serves that folder.
bus_id() {
  env DBUS_SESSION_BUS_ADDRESS="$1" "$meson" devenv -C "$builddir" \
    busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId 2>&1 ||
    true
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-devenv.XXXXXX")
bus_pids=()
trap '[ ${#bus_pids[@]} -eq 0 ] || kill "${bus_pids[@]}"; rm -rf "$tmp"' EXIT
# start_bus SOCKET: a session bus listening there; its id goes to $id.
start_bus() {
  local pid
  { read -r _ && read -r pid; } < <(dbus-daemon --session --fork --nosyslog \
    --address="unix:path=$1" --print-address=1 --print-pid=1)
  bus_pids+=("$pid")
  id=$(busctl --address="unix:path=$1" call org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus GetId)
}
if busctl --address="unix:path=$builddir/run/bus" call org.freedesktop.DBus \
  /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null 2>&1; then
  n=$((n + 1))
  echo "ok $n # SKIP a scripts/run serves $builddir/run"
else
  rm -f "$builddir/run/bus" # left by a scripts/run that was killed, as scripts/run does
  start_bus "$tmp/bus"
  check "without scripts/run's bus, the devenv reaches the caller's" "$id" \
    "$(bus_id "unix:path=$tmp/bus")"
  mkdir -p "$builddir/run"
  start_bus "$builddir/run/bus"
  check "with scripts/run's bus, the devenv reaches it" "$id" "$(bus_id "unix:path=$tmp/bus")"
  kill "${bus_pids[@]}"
  bus_pids=()
  rm -f "$builddir/run/bus"
fi
check "the system's data folders stay in XDG_DATA_DIRS" "yes" \
  "$(in_devenv 'case ":$XDG_DATA_DIRS:" in *:/usr/share:*) echo yes ;; esac')"

# A session bus started in the devenv knows the service: activatable, by the daemon just built
# with scripts/run's folders. (Nothing is started: the name is listed, not called.)
check "a bus started in the devenv can activate the service" "yes" \
  "$(in_devenv "dbus-run-session 2>/dev/null -- gdbus call --session --dest org.freedesktop.DBus \
    --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.ListActivatableNames |
    grep -q \"'$bus_name'\" && echo yes")"
check "the activation file runs the daemon just built, on scripts/run's folders" \
  "Exec=$builddir/src/offline-stated --state-dir=$builddir/run/state --runtime-dir=$builddir/run/runtime" \
  "$(grep '^Exec=' "$builddir/data/dbus-1/services/$bus_name.service")"

echo "1..$n"
[ $failed -eq 0 ]
