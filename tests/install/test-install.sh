#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# Installs the build into a temporary folder (meson install --destdir) and checks what a
# desktop gets from it: the installed tree, the activation files against the units they
# name, every installed XML file, the D-Bus interface files against what the installed
# daemon introspects, the man pages, the bash completion, and D-Bus activation itself. On
# a private session bus whose services folder holds the installed activation file, the
# first method call starts the installed daemon, and docs/mapi.md's program, built against
# the installed liboffline-state-mapi-1, talks to it; on a private bus with the system bus's
# policy and the installed policy file, an unprivileged user activates the system service
# and talks to it both ways. Output: TAP.
#
# Usage: test-install.sh BUILD_DIR. tests/install/meson.build sets the rest in the
# environment: MESON, VERSION, SOURCE_DIR, MAPI_DOC (docs/mapi.md, whose program is built
# against the install and run) and the install folders (BINDIR, LIBEXECDIR...).
#
# Why the copied activation files: with --destdir, the files are staged under $tmp/dest
# but still name the final paths (Exec=/usr/local/libexec/offline-stated). The test hands
# the bus a copy of each activation file whose Exec= has $tmp/dest put in front, nothing
# else changed (the system one also gets --ephemeral, so that a daemon running as root
# writes nothing to /var/lib). Every bus and daemon gets HOME and the XDG folders inside
# $tmp: nothing is written outside it.
# shellcheck disable=SC2317 # functions run through show and trap look unreachable
set -uo pipefail

build_dir=${1:?usage: test-install.sh BUILD_DIR}
bus_name=org.offlinestate.OfflineState1
manager_path=/org/offlinestate/OfflineState1
default_path=/org/offlinestate/OfflineState1/profiles/default

# --- TAP --------------------------------------------------------------------------------

count=0
failures=0
pass() { count=$((count + 1)); echo "ok $count - $1"; }
fail() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $1"; }
skip() { count=$((count + 1)); echo "ok $count - $1 # SKIP $2"; }
note() { sed 's/^/# /'; }
# check WHAT COMMAND...: one test, passed when COMMAND succeeds; returns its verdict.
check() {
  local what=$1
  shift
  if "$@"; then
    pass "$what"
  else
    fail "$what"
    return 1
  fi
}
finish() {
  echo "1..$count"
  [ "$failures" -eq 0 ]
  exit
}
bail_out() {
  echo "Bail out! $1"
  exit 1
}

# --- Temporary folder, and what runs in it ----------------------------------------------

tmp=$(mktemp -d -t offline-state-install.XXXXXX) || bail_out "no temporary folder"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
dest=$tmp/dest
mkdir -p "$tmp/home" "$tmp/state" "$tmp/config" "$tmp/data" "$tmp/cache"
mkdir -m 0700 "$tmp/runtime"

# A clean environment for buses (and so for the daemons they start) and clients.
clean_env=(env -i "PATH=$PATH" "LANG=C.UTF-8" "HOME=$tmp/home" "XDG_STATE_HOME=$tmp/state"
  "XDG_CONFIG_HOME=$tmp/config" "XDG_DATA_HOME=$tmp/data" "XDG_CACHE_HOME=$tmp/cache"
  "XDG_RUNTIME_DIR=$tmp/runtime")

# key FILE KEY: the value of the first KEY= line of an INI-style FILE.
key() { sed -n "s/^$2=//p" "$1" | head -n 1; }

# session_bus_config NAME [SERVICEDIR]: writes $tmp/NAME.conf, a session bus that listens on
# $tmp/NAME-bus, lets everyone do everything, and activates from SERVICEDIR if given.
session_bus_config() {
  cat >"$tmp/$1.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$tmp/$1-bus</listen>
  <auth>EXTERNAL</auth>
  ${2:+<servicedir>$2</servicedir>}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
}

# start_bus NAME CONFIG [VAR=VALUE...]: starts dbus-daemon; its address goes to $address.
# (Not in a $(...) subshell: cleanup must know the pid.)
address=
start_bus() {
  local name=$1 config=$2
  shift 2
  "${clean_env[@]}" "$@" dbus-daemon --config-file="$config" --nofork --nopidfile \
    --print-address=1 >"$tmp/$name.address" 2>"$tmp/$name.log" &
  pids+=("$!")
  for _ in $(seq 100); do
    if [ -s "$tmp/$name.address" ]; then
      address=$(head -n 1 "$tmp/$name.address")
      return 0
    fi
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  note <"$tmp/$name.log"
  return 1
}

# stop_on_exit BUSCTL...: cleanup stops the daemon that owns the name on that bus too.
stop_on_exit() {
  local pid
  pid=$("$@" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s "$bus_name" 2>/dev/null | sed -n 's/^u //p')
  [ -n "$pid" ] && pids=("$pid" "${pids[@]}")
}

# show COMMAND...: runs it, and puts the command and its output in the TAP log. A command
# that is one of the wrappers below is shown as what it runs.
declare -A shown_as=()
show() {
  local output status display
  output=$("$@" 2>&1)
  status=$?
  display="${shown_as[$1]-$1}$(printf ' %q' "${@:2}")"
  {
    printf '$ %s\n' "${display# }"
    printf '%s\n' "$output" | head -n 12
    [ "$(printf '%s\n' "$output" | wc -l)" -le 12 ] || echo "[...]"
  } | sed -e "s|$tmp|\$tmp|g" -e 's/\\\?,guid=[0-9a-f]*//g' | note
  printf '%s\n' "$output" >"$tmp/last-output"
  return $status
}
last_output() { cat "$tmp/last-output"; }

# --- Install ----------------------------------------------------------------------------

# meson test rebuilds only what the tests depend on: an install of stale files would test
# the wrong thing.
if ! "${NINJA:-ninja}" -C "$build_dir" -n 2>&1 | grep -q '^ninja: no work to do'; then
  bail_out "$build_dir is not up to date: run 'meson compile -C $build_dir' first"
fi
if ! "$MESON" install -C "$build_dir" --destdir "$dest" --no-rebuild --quiet \
  >"$tmp/install.log" 2>&1; then
  note <"$tmp/install.log"
  bail_out "meson install --destdir failed"
fi
pass "meson install --destdir \$tmp/dest"
echo "# The installed tree, under \$tmp/dest:"
(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) | note

# --- The installed tree -----------------------------------------------------------------

# What this project installs: "required" files always, the others once their part is
# built (offlinectl, the client library).
expect() {
  local kind=$1 path=$2
  if [ -e "$dest$path" ]; then
    pass "installed: $path"
  elif [ "$kind" = required ]; then
    fail "installed: $path"
  else
    skip "installed: $path" "not built yet"
  fi
}
session_service=$DATADIR/dbus-1/services/$bus_name.service
system_service=$DATADIR/dbus-1/system-services/$bus_name.service
bus_policy=$DATADIR/dbus-1/system.d/$bus_name.conf
completion=$BASHCOMPLETIONDIR/offlinectl

expect required "$LIBEXECDIR/offline-stated"
expect optional "$BINDIR/offlinectl"
expect required "$INCLUDEDIR/offline-state-1/offline-state.h"
expect optional "$INCLUDEDIR/offline-state-1/offline-state-client.h"
expect optional "$LIBDIR/pkgconfig/offline-state-1.pc"
expect required "$INCLUDEDIR/offline-state-1/offline-state-mapi.h"
expect required "$LIBDIR/liboffline-state-mapi-1.so.0"
expect required "$LIBDIR/pkgconfig/offline-state-mapi-1.pc"
expect required "$session_service"
expect required "$system_service"
expect required "$bus_policy"
expect required "$DATADIR/polkit-1/actions/$bus_name.policy"
interfaces_dir=$DATADIR/dbus-1/interfaces
interfaces=(Manager OfflineMgr Emulation OfflineNotify)
for interface in "${interfaces[@]}"; do
  expect required "$interfaces_dir/$bus_name.$interface.xml"
  expect required "$DATADIR/doc/offline-state/offline-state-$bus_name.$interface.rst"
done
[ "$SYSTEMDUSERUNITDIR" != no ] && expect required "$SYSTEMDUSERUNITDIR/offline-stated.service"
[ "$SYSTEMDSYSTEMUNITDIR" != no ] && expect required "$SYSTEMDSYSTEMUNITDIR/offline-stated.service"
[ "$BASHCOMPLETIONDIR" != no ] && expect required "$completion"
if [ "$GIOMODULEDIR" != no ]; then
  expect required "$GIOMODULEDIR/libgiooffline-state.so"
  # A staged install leaves the folder's cache to the package's trigger.
  check "no giomodule.cache under --destdir" test ! -e "$dest$GIOMODULEDIR/giomodule.cache"
fi
if [ "$SHELL_EXTENSION_DIR" != no ]; then
  for file in metadata.json extension.js indicator.js toggle.js service.js notifier.js \
    paths.js stylesheet.css schemas/gschemas.compiled \
    schemas/org.gnome.shell.extensions.offline-state.gschema.xml; do
    expect required "$SHELL_EXTENSION_DIR/$file"
  done
  check "the Shell extension's paths.js names the installed typelib's folder" \
    grep -qF "'$LIBDIR/girepository-1.0'" "$dest$SHELL_EXTENSION_DIR/paths.js"
fi
if [ "$MAN_PAGES" = true ]; then
  expect required "$MANDIR/man1/offlinectl.1"
  expect required "$MANDIR/man8/offline-stated.8"
fi
check "the daemon is executable" test -x "$dest$LIBEXECDIR/offline-stated"

# --- Activation files and the units they name -------------------------------------------

# check_activation FILE UNIT_DIR WANTED_OPTION: FILE starts the installed daemon, and its
# SystemdService= is a unit in UNIT_DIR that serves the same name from the same binary.
check_activation() {
  local file=$dest$1 unit_dir=$2 option=$3 exec unit
  exec=$(key "$file" Exec)
  check "$1: Name=$bus_name" test "$(key "$file" Name)" = "$bus_name"
  check "$1: Exec= starts $LIBEXECDIR/offline-stated" test "${exec%% *}" = "$LIBEXECDIR/offline-stated"
  if [ "$unit_dir" = no ]; then
    check "$1: no SystemdService=, as no unit is installed" test -z "$(key "$file" SystemdService)"
    return
  fi
  unit=$unit_dir/$(key "$file" SystemdService)
  if ! check "$1: SystemdService= names $unit" test -f "$dest$unit" -a "$unit" != "$unit_dir/"; then
    return
  fi
  check "$unit: Type=dbus" test "$(key "$dest$unit" Type)" = dbus
  check "$unit: BusName=$bus_name" test "$(key "$dest$unit" BusName)" = "$bus_name"
  check "$unit: ExecStart= runs the same binary with $option" \
    test "$(key "$dest$unit" ExecStart)" = "$LIBEXECDIR/offline-stated $option"
}
check_activation "$session_service" "$SYSTEMDUSERUNITDIR" --follow-network
check_activation "$system_service" "$SYSTEMDSYSTEMUNITDIR" --system
check "$system_service: Exec= serves the system bus" test "$(key "$dest$system_service" Exec)" = "$LIBEXECDIR/offline-stated --system"
check "$system_service: User=root" test "$(key "$dest$system_service" User)" = root
if [ "$SYSTEMDSYSTEMUNITDIR" != no ]; then
  system_unit=$dest$SYSTEMDSYSTEMUNITDIR/offline-stated.service
  check "system unit: StateDirectory=offline-state (the daemon's /var/lib/offline-state)" \
    test "$(key "$system_unit" StateDirectory)" = offline-state
  check "system unit: RuntimeDirectory=offline-state" test "$(key "$system_unit" RuntimeDirectory)" = offline-state
  check "system unit: sandboxed" grep -qx 'ProtectSystem=strict' "$system_unit"
fi

# systemd-analyze verify wants the binary at its final path and a dbus.socket, and some
# containers cannot run it at all: it verifies a copy pointing into $tmp/dest, next to a
# stub dbus.socket, and only where it verifies a trivial unit in the same way.
verify_unit() {
  local mode=$1 unit=$2 dir=$tmp/verify-$1
  mkdir -p "$dir"
  printf '[Socket]\nListenStream=%s/verify.socket\n' "$dir" >"$dir/dbus.socket"
  sed "s|^ExecStart=/|ExecStart=$dest/|" "$unit" >"$dir/offline-stated.service"
  printf '[Service]\nType=dbus\nBusName=org.example.Control\nExecStart=/bin/true\n' >"$dir/control.service"
  if ! SYSTEMD_UNIT_PATH="$dir:" XDG_RUNTIME_DIR=$tmp/runtime systemd-analyze verify \
    "$mode" --man=no "$dir/control.service" >/dev/null 2>&1; then
    skip "systemd-analyze verify $mode offline-stated.service" "systemd-analyze cannot verify units here"
    return
  fi
  if SYSTEMD_UNIT_PATH="$dir:" XDG_RUNTIME_DIR=$tmp/runtime systemd-analyze verify \
    "$mode" --man=no "$dir/offline-stated.service" >"$dir/log" 2>&1 && ! [ -s "$dir/log" ]; then
    pass "systemd-analyze verify $mode offline-stated.service"
  else
    note <"$dir/log"
    fail "systemd-analyze verify $mode offline-stated.service"
  fi
}
if ! command -v systemd-analyze >/dev/null; then
  skip "systemd-analyze verify" "no systemd-analyze"
else
  [ "$SYSTEMDUSERUNITDIR" != no ] && verify_unit --user "$dest$SYSTEMDUSERUNITDIR/offline-stated.service"
  [ "$SYSTEMDSYSTEMUNITDIR" != no ] && verify_unit --system "$dest$SYSTEMDSYSTEMUNITDIR/offline-stated.service"
fi

# --- Every installed XML file -----------------------------------------------------------

xml_files=()
while IFS= read -r -d '' file; do
  head -c 100 "$file" | grep -q '^[[:space:]]*<' && xml_files+=("$file")
done < <(find "$dest" -type f \( -name '*.xml' -o -name '*.conf' -o -name '*.policy' \
  -o -name '*.gir' -o -name '*.its' -o -name '*.loc' \) -print0 | sort -z)
for file in "${xml_files[@]}"; do
  if xmllint --noout --nonet "$file" 2>"$tmp/xmllint.log"; then
    pass "xmllint --noout ${file#"$dest"}"
  else
    note <"$tmp/xmllint.log"
    fail "xmllint --noout ${file#"$dest"}"
  fi
done
# dbus's busconfig.dtd (1.14 still) declares only the first attributes of <allow> and
# <deny> (send, receive, send_to...), none of those that dbus-daemon(1) documents and reads
# (send_destination, send_interface...): no working policy is valid against it as it is.
# The policy is validated against a copy that declares those too; dbus-daemon itself
# parses the file further down.
busconfig_dtd=/usr/share/xml/dbus-1/busconfig.dtd
if [ -f "$busconfig_dtd" ]; then
  {
    cat "$busconfig_dtd"
    for element in allow deny; do
      printf '<!ATTLIST %s' "$element"
      for attribute in send_destination send_destination_prefix send_interface send_member \
        send_error send_path send_type send_broadcast send_requested_reply receive_sender \
        receive_interface receive_member receive_error receive_path receive_type \
        receive_requested_reply eavesdrop own_prefix group max_fds min_fds; do
        printf '\n  %s CDATA #IMPLIED' "$attribute"
      done
      printf '>\n'
    done
  } >"$tmp/busconfig.dtd"
  check "$bus_policy is valid against $busconfig_dtd, with the attributes of dbus-daemon(1)" \
    xmllint --noout --nonet --dtdvalid "$tmp/busconfig.dtd" "$dest$bus_policy"
else
  skip "$bus_policy is valid against the busconfig DTD" \
    "no $busconfig_dtd here (dbus-daemon parses the file below)"
fi

# --- The D-Bus interface files ----------------------------------------------------------

# The introspection XML of each interface, for other bindings to generate their proxies
# from (and clients to implement OfflineNotify): valid, named in offline-state-1.pc, and
# the same interfaces as the daemon serves. Validation reads the DTD from this machine only.
introspect_dtd=/usr/share/xml/dbus-1/introspect.dtd
for interface in "${interfaces[@]}"; do
  file=$interfaces_dir/$bus_name.$interface.xml
  if [ ! -f "$introspect_dtd" ]; then
    skip "$file is valid against the introspection DTD" "no $introspect_dtd here (libdbus-1-dev)"
  elif xmllint --noout --nonet --dtdvalid "$introspect_dtd" "$dest$file" >"$tmp/xmllint.log" 2>&1 &&
    ! [ -s "$tmp/xmllint.log" ]; then
    pass "$file is valid against $introspect_dtd"
  else
    note <"$tmp/xmllint.log"
    fail "$file is valid against $introspect_dtd"
  fi
done

# pkg-config names the folders that clients look in, as they are once installed.
# check_pc_folder VARIABLE FOLDER FILE: offline-state-1.pc's VARIABLE is FOLDER, and the
# install put FILE in it.
check_pc_folder() {
  local value
  value=$(env -u PKG_CONFIG_SYSROOT_DIR \
    PKG_CONFIG_PATH="$dest$LIBDIR/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}" \
    pkg-config --variable="$1" offline-state-1 2>&1)
  [ "$value" = "$2" ] || echo "# pkg-config --variable=$1 offline-state-1: $value"
  check "offline-state-1.pc: $1 is $2, which holds $3" test "$value" = "$2" -a -f "$dest$value/$3"
}
if [ ! -f "$dest$LIBDIR/pkgconfig/offline-state-1.pc" ]; then
  skip "offline-state-1.pc names the folders" "the client library is not built yet"
elif ! command -v pkg-config >/dev/null; then
  skip "offline-state-1.pc names the folders" "no pkg-config"
else
  check_pc_folder interfaces_dir "$interfaces_dir" "$bus_name.OfflineNotify.xml"
  check_pc_folder test_services_dir "$DATADIR/offline-state/test-services" "$bus_name.service"
fi

# What the daemon introspects: the installed daemon, --ephemeral, on a private bus of its
# own, with folders of its own. Each installed file's interface must be the same there
# (tests/install/check-interfaces.py says what is compared); OfflineNotify, which clients
# implement, is checked against the wire contract.
check_interfaces() { python3 "$SOURCE_DIR/check-interfaces.py" "$@" >"$tmp/interfaces.log" 2>&1; }
session_bus_config introspect
mkdir -p "$tmp/introspect-state" "$tmp/introspect-runtime"
chmod 0700 "$tmp/introspect-runtime"
if ! start_bus introspect "$tmp/introspect.conf"; then
  fail "a private bus for the installed daemon --ephemeral"
else
  introspect_bus=$address
  "${clean_env[@]}" "DBUS_SESSION_BUS_ADDRESS=$introspect_bus" \
    "XDG_STATE_HOME=$tmp/introspect-state" "XDG_RUNTIME_DIR=$tmp/introspect-runtime" \
    "$dest$LIBEXECDIR/offline-stated" --ephemeral >"$tmp/introspect-daemon.log" 2>&1 &
  pids=("$!" "${pids[@]}")
  replies=()
  if "${clean_env[@]}" gdbus wait --address "$introspect_bus" --timeout 20 "$bus_name"; then
    for path in "$manager_path" "$default_path"; do
      replies+=("$tmp/introspect-${#replies[@]}.json")
      "${clean_env[@]}" busctl --address="$introspect_bus" --timeout=20 --json=short call \
        "$bus_name" "$path" org.freedesktop.DBus.Introspectable Introspect \
        >"${replies[-1]}" 2>&1 || { note <"${replies[-1]}"; replies=(); break; }
    done
  fi
  if ! check "the installed daemon --ephemeral introspects $manager_path and $default_path" \
    test "${#replies[@]}" -eq 2; then
    note <"$tmp/introspect-daemon.log"
  else
    for interface in Manager OfflineMgr Emulation; do
      file=$interfaces_dir/$bus_name.$interface.xml
      check_interfaces "$dest$file" "${replies[@]}" || note <"$tmp/interfaces.log"
      check "$file: the same interface as the daemon introspects" test ! -s "$tmp/interfaces.log"
    done
    # The comparison can fail: a copy with one argument renamed is not the same.
    mkdir -p "$tmp/renamed"
    sed '0,/<arg name="flags"/s//<arg name="renamed_flags"/' \
      "$dest$interfaces_dir/$bus_name.OfflineMgr.xml" >"$tmp/renamed/$bus_name.OfflineMgr.xml"
    check_interfaces "$tmp/renamed/$bus_name.OfflineMgr.xml" "${replies[@]}"
    note <"$tmp/interfaces.log"
    check "the comparison sees an argument renamed in a copy" \
      grep -q "^method $bus_name.OfflineMgr.SetCurrentState: args" "$tmp/interfaces.log"
  fi
fi
file=$interfaces_dir/$bus_name.OfflineNotify.xml
check_interfaces --notify "$dest$file" || note <"$tmp/interfaces.log"
check "$file: Notify as the wire contract has it" test ! -s "$tmp/interfaces.log"

# --- Man pages --------------------------------------------------------------------------

if [ "$MAN_PAGES" != true ]; then
  skip "man pages render without warnings" "built without man pages"
elif ! command -v man >/dev/null; then
  skip "man pages render without warnings" "no man"
else
  # A long path that overflows the line is the prefix's doing, not a fault of the page.
  for page in "$MANDIR/man1/offlinectl.1" "$MANDIR/man8/offline-stated.8"; do
    LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$dest$page" 2>&1 \
      >/dev/null | grep -v "can't break line" >"$tmp/man.log"
    if [ -s "$tmp/man.log" ]; then
      note <"$tmp/man.log"
      fail "$page renders without warnings"
    else
      pass "$page renders without warnings"
    fi
  done
fi

# --- Every option and command, in the man pages and the completion ---------------------

# help_options PROGRAM [COMMAND]: the long options that --help lists, "--name=" for those
# that take a value, as the completion offers them.
help_options() {
  "${ctl_env[@]}" "$@" --help 2>/dev/null |
    sed -n 's/^ *\(-[a-zA-Z], \)\{0,1\}\(--[a-z-]*=\{0,1\}\).*/\2/p' | sort -u
}
# man_text PAGE: the page as text, one paragraph a line.
man_text() { LC_ALL=C.UTF-8 MANWIDTH=1000 man -P cat -l "$dest$1" 2>/dev/null; }
ctl_env=("${clean_env[@]}" "LD_LIBRARY_PATH=$dest$LIBDIR" "PATH=$dest$BINDIR:$PATH")
offlinectl=$dest$BINDIR/offlinectl
daemon=$dest$LIBEXECDIR/offline-stated
commands=()
[ -x "$offlinectl" ] && mapfile -t commands < <("${ctl_env[@]}" offlinectl --help |
  sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')

if [ "$MAN_PAGES" != true ] || ! command -v man >/dev/null; then
  skip "the man pages describe every option and command" "no man pages, or no man"
else
  man_text "$MANDIR/man8/offline-stated.8" >"$tmp/daemon.txt"
  missing=$(help_options "$daemon" | while read -r option; do
    grep -qE "^ +(-[a-zA-Z], )?${option%=}(=| |,|$)" "$tmp/daemon.txt" || echo "$option"
  done | paste -sd ' ')
  check "offline-stated(8) describes every option of offline-stated --help${missing:+ (missing: $missing)}" test -z "$missing"
  if [ ! -x "$offlinectl" ]; then
    skip "offlinectl(1) describes every command and option" "offlinectl is not built yet"
  else
    man_text "$MANDIR/man1/offlinectl.1" >"$tmp/ctl.txt"
    missing=$(help_options offlinectl | while read -r option; do
      grep -qE "^ +(-[a-zA-Z], )?${option%=}(=| |,|$)" "$tmp/ctl.txt" || echo "$option"
    done | paste -sd ' ')
    check "offlinectl(1) describes every option of offlinectl --help${missing:+ (missing: $missing)}" test -z "$missing"
    for command in "${commands[@]}"; do
      synopsis=$(sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' "$tmp/ctl.txt" |
        grep -E "^ +offlinectl .*\b$command\b" | head -n 1)
      missing=$(help_options offlinectl "$command" | while read -r option; do
        grep -qE "^ +(-[a-zA-Z], )?${option%=}(=| |,|$)" "$tmp/ctl.txt" &&
          { [ "$command" = help ] || grep -qE "^(--user|--system|--address=|--help)$" <<<"$option" ||
            grep -qF -- "${option%=}" <<<"$synopsis"; } || echo "$option"
      done | paste -sd ' ')
      check "offlinectl(1): '$command' in the synopsis, with its options${missing:+ (missing: $missing)}" \
        test -n "$synopsis" -a -z "$missing"
    done
  fi
fi

# --- Session bus: the first call activates the installed daemon -------------------------

services=$tmp/session-services
mkdir -p "$services"
sed "s|^Exec=/|Exec=$dest/|" "$dest$session_service" >"$services/$bus_name.service"
session_bus_config session "$services"

echo "# Session bus: \$tmp/session-services holds a copy of the installed activation file:"
sed "s|$tmp|\$tmp|g" "$services/$bus_name.service" | note
start_bus session "$tmp/session.conf" "DBUS_SESSION_BUS_ADDRESS=unix:path=$tmp/session-bus" ||
  bail_out "dbus-daemon did not start a private session bus"
session=$address
session_busctl() { "${clean_env[@]}" busctl --address="$session" --timeout=20 "$@"; }
session_bus_call() { session_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus "$@"; }
shown_as[session_busctl]="busctl --address=$session"
shown_as[session_bus_call]="busctl --address=$session call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus"

show session_bus_call ListActivatableNames
check "the bus lists $bus_name as activatable" grep -q "\"$bus_name\"" "$tmp/last-output"
show session_bus_call NameHasOwner s "$bus_name"
check "before the first call, nobody owns $bus_name" test "$(last_output)" = "b false"
show session_busctl call "$bus_name" "$manager_path" "$bus_name.Manager" OpenOfflineObject ss default ""
check "the first call (OpenOfflineObject) activates the daemon and returns the default profile" \
  test "$(last_output)" = "o \"$default_path\""
show session_bus_call NameHasOwner s "$bus_name"
check "after it, $bus_name has an owner" test "$(last_output)" = "b true"
show session_bus_call GetConnectionUnixProcessID s "$bus_name"
daemon_pid=$(last_output | sed -n 's/^u //p')
[ -n "$daemon_pid" ] && pids=("$daemon_pid" "${pids[@]}")
check "the owner is the installed daemon, started by the bus" \
  test "$(readlink "/proc/$daemon_pid/exe" 2>/dev/null)" = "$dest$LIBEXECDIR/offline-stated"
show session_busctl get-property "$bus_name" "$manager_path" "$bus_name.Manager" Version
check "it is version $VERSION" test "$(last_output)" = "s \"$VERSION\""
show session_busctl call "$bus_name" "$default_path" "$bus_name.OfflineMgr" SetCurrentState uuu 8192 3 1
show session_busctl get-property "$bus_name" "$default_path" "$bus_name.OfflineMgr" State Sequence
check "a blocking SetCurrentState takes it offline" test "$(last_output | tr '\n' ' ')" = "u 1 t 1 "
check "it keeps its state in \$XDG_STATE_HOME from the bus's environment, inside \$tmp" \
  test -s "$tmp/state/offline-state/state.ini"

# MAPI's Offline State API as docs/mapi.md shows it: the page's program, built with the page's
# own cc line against the staged install (pkg-config reads the staged .pc file, its folders
# under PKG_CONFIG_SYSROOT_DIR), run against the activated daemon with default online, prints
# what the page says it prints.
mapi_build() {
  (cd "$tmp/mapi" && PKG_CONFIG_PATH="$dest$LIBDIR/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$dest" \
    bash -c "$1")
}
# The library of a sanitized build needs the ASan runtime loaded first, which the page's
# program, built without it, gets as the interpreters do (tests/sanitizers/asan-test-wrapper).
mapi_preload=()
if readelf -d "$dest$LIBDIR/liboffline-state-mapi-1.so.0" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
  mapi_preload=("LD_PRELOAD=$(cc -print-file-name=libasan.so)" "ASAN_OPTIONS=detect_leaks=0")
fi
mapi_run() {
  "${clean_env[@]}" "${mapi_preload[@]}" "DBUS_SESSION_BUS_ADDRESS=$session" \
    "LD_LIBRARY_PATH=$dest$LIBDIR" "$@"
}
shown_as[mapi_build]="PKG_CONFIG_PATH=\$dest$LIBDIR/pkgconfig PKG_CONFIG_SYSROOT_DIR=\$dest bash -c"
shown_as[mapi_run]=""
mkdir -p "$tmp/mapi"
# shellcheck disable=SC2016 # sed's addresses, which hold backquotes and no shell expression
sed -n '/^```c$/,/^```$/{/^```/d;p}' "$MAPI_DOC" >"$tmp/mapi/offline-monitor.c"
# shellcheck disable=SC2016
sed -n '/^```text$/,/^```$/{/^```/d;p}' "$MAPI_DOC" >"$tmp/mapi/expected"
mapi_cc_line=$(grep -m 1 '^cc offline-monitor\.c ' "$MAPI_DOC")
if ! command -v cc >/dev/null || ! command -v pkg-config >/dev/null; then
  skip "docs/mapi.md's program builds against the installed library" "no cc or no pkg-config"
elif check "docs/mapi.md's program builds against the installed library, with the page's line" \
  show mapi_build "$mapi_cc_line"; then
  show session_busctl call "$bus_name" "$default_path" "$bus_name.OfflineMgr" SetCurrentState uuu 8192 3 2
  show mapi_run "$tmp/mapi/offline-monitor"
  check "it prints what the page says, default going offline" \
    test "$(last_output)" = "$(cat "$tmp/mapi/expected")"
fi

# The installed offlinectl and completion, against the activated daemon. The installed
# offlinectl finds the installed library through LD_LIBRARY_PATH: its final libdir is not
# there yet, and it must not pick up another copy.
installed_offlinectl() { "${ctl_env[@]}" offlinectl "$@"; }
shown_as[installed_offlinectl]=offlinectl
if [ ! -x "$offlinectl" ]; then
  skip "the installed offlinectl talks to the activated daemon" "offlinectl is not built yet"
else
  show installed_offlinectl --address="$session" online
  show installed_offlinectl --address="$session" status
  check "the installed offlinectl talks to the activated daemon" \
    grep -qx '    State:         online' "$tmp/last-output"
fi

# complete_words WORD...: what the installed completion offers for the last WORD, one a line,
# sorted. bash splits COMP_WORDS at "=" and ":" too; _init_completion -s -n : joins them
# back, so whole words are what the completion sees either way.
bash_completion=/usr/share/bash-completion/bash_completion
complete_words() {
  # shellcheck disable=SC2016 # the script is for the inner bash
  "${ctl_env[@]}" bash -c '
    source "$1" && source "$2" || exit 1
    compopt() { :; }   # readline-only; nothing to do outside an interactive shell
    shift 2
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _offlinectl offlinectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}" | sort' complete "$bash_completion" "$dest$completion" "$@"
}
# check_completion EXPECTED WORD...: EXPECTED is the offers, separated by "|".
check_completion() {
  local expected=$1 got
  shift
  local what="completion of '$*': ${expected:-nothing}"
  got=$(complete_words "$@" | paste -sd '|')
  what=$(printf '%s' "$what" | sed -e "s|$tmp|\$tmp|g" -e 's/,guid=[0-9a-f]*//g')
  if [ "$got" = "$expected" ]; then
    pass "$what"
  else
    echo "# offered: $got"
    fail "$what"
  fi
}
if [ "$BASHCOMPLETIONDIR" = no ]; then
  skip "bash completion" "not installed"
elif [ ! -f "$bash_completion" ]; then
  skip "bash completion" "no $bash_completion (bash-completion)"
else
  show session_busctl call "$bus_name" "$manager_path" "$bus_name.Manager" CreateOfflineObject suu "Work (Exchange)" 3 2
  check_completion "create|help|monitor|offline|online|profiles|remove|status|wait" offlinectl ""
  check_completion "offline|online" offlinectl --user o
  check_completion "offline|online" offlinectl wait ""
  check_completion "offline|online" offlinectl create x --state=
  if [ ! -x "$offlinectl" ]; then
    skip "completion of options and profile names" "offlinectl is not built yet"
  else
    # Each command's options, as its --help lists them.
    for command in "${commands[@]}"; do
      [ "$command" = help ] && continue
      check_completion "$(help_options offlinectl "$command" | paste -sd '|')" offlinectl "$command" --
    done
    check_completion "Work (Exchange)|default" offlinectl --address="$session" remove ""
    check_completion "Work (Exchange)" offlinectl online --address "$session" --profile=W
    check_completion "Work (Exchange)" offlinectl online --address="$session" -p 'Work\ ('
    check_completion "" offlinectl --address="$tmp/no-such-bus" remove ""
  fi
fi

# --- A bus with the system bus's policy -------------------------------------------------

# dbus's own system.conf default policy (no method calls, no names, except what a policy
# file allows), then the installed policy file, which dbus-daemon must accept as it is.
system_dir=$tmp/system
mkdir -p "$system_dir/system-services"
chmod 0711 "$tmp"
chmod 0755 "$system_dir"
sed -e "s|^Exec=/|Exec=$dest/|" -e '/^Exec=/s/$/ --ephemeral/' "$dest$system_service" \
  >"$system_dir/system-services/$bus_name.service"
cat >"$system_dir/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$system_dir/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$system_dir/system-services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <!-- As polkit's own policy file: root runs it, everyone may ask it. -->
  <policy user="root">
    <allow own="org.freedesktop.PolicyKit1"/>
  </policy>
  <policy context="default">
    <allow send_destination="org.freedesktop.PolicyKit1"/>
  </policy>
  <include>$dest$bus_policy</include>
</busconfig>
EOF
echo "# System bus: the system bus's default policy, and <include> of the installed"
echo "# $bus_policy."
if ! start_bus system "$system_dir/system.conf" "DBUS_SYSTEM_BUS_ADDRESS=unix:path=$system_dir/bus"; then
  fail "dbus-daemon accepts the installed $bus_policy"
  finish
fi
system=$address
pass "dbus-daemon accepts the installed $bus_policy"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
  skip "the system policy, seen by an unprivileged user" "needs root and setpriv to be one"
  finish
fi
as_nobody() {
  setpriv --reuid=65534 --regid=65534 --clear-groups env -i "PATH=$PATH" LANG=C.UTF-8 \
    HOME=/nonexistent "$@"
}
nobody_busctl() { as_nobody busctl --address="$system" --timeout=20 "$@"; }
nobody_gdbus_call() { as_nobody gdbus call --address "$system" --timeout 20 "$@"; }
shown_as[nobody_busctl]="busctl --address=$system"
shown_as[nobody_gdbus_call]="gdbus call --address $system"
shown_as[as_nobody]=""  # the commands below run as nobody

echo "# Calls as the user nobody (uid 65534):"
show nobody_busctl call "$bus_name" "$manager_path" "$bus_name.Manager" OpenOfflineObject ss default ""
check "an unprivileged user's first call activates the system service" \
  test "$(last_output)" = "o \"$default_path\""
stop_on_exit "${clean_env[@]}" busctl --address="$system"
show nobody_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetConnectionUnixUser s "$bus_name"
check "it runs as root" test "$(last_output)" = "u 0"
show nobody_busctl get-property "$bus_name" "$default_path" "$bus_name.OfflineMgr" State
check "Properties may be called" test "$(last_output)" = "u 2"
show nobody_busctl introspect "$bus_name" "$default_path" "$bus_name.Emulation"
check "Introspectable may be called" grep -q '^\.SetTransitionDelay ' "$tmp/last-output"
show nobody_busctl call "$bus_name" "$manager_path" org.freedesktop.DBus.ObjectManager GetManagedObjects
check "ObjectManager may be called" grep -q "^a{oa{sa{sv}}} 1 \"$default_path\"" "$tmp/last-output"
show nobody_busctl call "$bus_name" "$manager_path" org.freedesktop.DBus.Peer Ping
check "Peer may be called" test -z "$(last_output)"
show nobody_gdbus_call --dest "$bus_name" --object-path "$manager_path" --method org.example.NotAllowed.Anything
check "any other interface is refused by the bus" grep -q 'org.freedesktop.DBus.Error.AccessDenied' "$tmp/last-output"
show nobody_gdbus_call --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.RequestName "'$bus_name'" "uint32 0"
check "an unprivileged user may not own $bus_name" grep -q 'org.freedesktop.DBus.Error.AccessDenied' "$tmp/last-output"

# On the system bus the daemon asks polkit before a change: python3-dbusmock's polkitd
# stands in for it, and grants nobody the one action that SetCurrentState needs.
"${clean_env[@]}" "DBUS_SYSTEM_BUS_ADDRESS=$system" /usr/bin/python3 -m dbusmock --system \
  --template polkitd >"$tmp/polkitd.log" 2>&1 &
pids+=("$!")
if "${clean_env[@]}" gdbus wait --address "$system" --timeout 20 org.freedesktop.PolicyKit1 &&
  "${clean_env[@]}" busctl --address="$system" --timeout=20 call org.freedesktop.PolicyKit1 \
    /org/freedesktop/PolicyKit1/Authority org.freedesktop.DBus.Mock SetAllowed as 1 \
    "$bus_name.set-state"; then
  pass "a stand-in polkit allows $bus_name.set-state"
else
  note <"$tmp/polkitd.log"
  fail "a stand-in polkit allows $bus_name.set-state"
fi

cp "$SOURCE_DIR/system-client.py" "$system_dir/system-client.py"
chmod 0644 "$system_dir/system-client.py"
show as_nobody /usr/bin/python3 "$system_dir/system-client.py" "$system"
check "a client advising by callback and by signal gets Notify calls and StateChanged signals" \
  test "$(last_output | tr '\n' '|')" = "SetCurrentState returned|Notify START STATECHANGE DONE|StateChanged START STATECHANGE DONE|"

finish
