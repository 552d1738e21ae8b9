#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# The quick start as a newcomer lives it: a plain `scripts/run` (its --help and --version,
# the private bus it starts, its folders, the `meson devenv` line it prints, the lock against a
# second one, SIGTERM and SIGINT), and every ```console example of the pages given as
# arguments (README.md, docs/*.md), run as written in the environment of that `meson devenv`
# line, against that daemon, twice in a row: two `scripts/run` one after the other on the same
# folders must both print exactly what the pages show. Prints TAP.
#
# In a console block, a line starting with "$ " is a command, run with bash -c; the lines
# after it, up to the next command or the end of the block, are its expected standard
# output and standard error, merged. A command may fail only if its expected output starts
# with "Call failed:" (busctl's error line), and then it must fail.
#
# The daemon is $OFFLINE_STATED (default: build/src/offline-stated); scripts/run runs it
# without building. Its build folder (the one above src/) is the one `meson devenv` opens.
set -euo pipefail

[ $# -gt 0 ] || {
  echo "usage: test-docs.sh PAGE.md…" >&2
  exit 2
}
pages=("$@")
repo=$(cd "$(dirname "$0")/.." && pwd)
daemon=${OFFLINE_STATED:-$repo/build/src/offline-stated}
builddir=$(cd "$(dirname "$daemon")/.." && pwd)
meson=${MESON:-meson}

bus_name=org.offlinestate.OfflineState1
manager_path=/org/offlinestate/OfflineState1
manager_iface=org.offlinestate.OfflineState1.Manager
offline_mgr=org.offlinestate.OfflineState1.OfflineMgr
check_profile=docs-check
check_path=$manager_path/profiles/docs_2dcheck
command_timeout=30
start_timeout=60

# Output that depends on nothing outside this test: no pager, no colours, one locale; no bus
# and no folder of the user's.
export LC_ALL=C.UTF-8 SYSTEMD_PAGER=cat SYSTEMD_COLORS=0
unset DBUS_SESSION_BUS_ADDRESS DBUS_SYSTEM_BUS_ADDRESS

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/test-docs.XXXXXX")
run_pid=
drain_pid=
monitor_pid=

# shellcheck disable=SC2317  # only called through the trap
cleanup() {
  if [ -n "$monitor_pid" ]; then kill "$monitor_pid" 2>/dev/null || true; fi
  if [ -n "$run_pid" ]; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
  if [ -n "$drain_pid" ]; then wait "$drain_pid" 2>/dev/null || true; fi
  rm -rf "$tmpdir"
}
trap cleanup EXIT

n=0
failed=0

ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok() {
  n=$((n + 1))
  failed=$((failed + 1))
  echo "not ok $n - $1"
}

# check DESCRIPTION COMMAND…: ok when the command succeeds.
check() {
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# Prints standard input as TAP comments.
comment() {
  sed 's/^/# /'
}

bail_out() {
  echo "Bail out! $1"
  for log in "$tmpdir"/run*.log; do
    [ -f "$log" ] || continue
    echo "# --- $log"
    comment <"$log"
  done
  exit 1
}

mkdir -m 700 "$tmpdir/xdg-runtime" "$tmpdir/xdg-state" "$tmpdir/tmp"
# No $XDG_RUNTIME_DIR/bus: scripts/run starts a private bus, as on a text console.
export XDG_RUNTIME_DIR=$tmpdir/xdg-runtime XDG_STATE_HOME=$tmpdir/xdg-state TMPDIR=$tmpdir/tmp
export OFFLINE_STATED=$daemon OFFLINE_STATE_RUN_DIR=$tmpdir/run

# --- the pages' examples -------------------------------------------------------------------

commands=()
expected=()
origins=()

# Appends the commands of the ```console blocks of page $1 to commands[] and expected[].
parse_page() {
  local page=$1 name line in_block=0 current=-1

  name=$(basename "$page")

  while IFS= read -r line || [ -n "$line" ]; do
    if [ $in_block -eq 0 ]; then
      [ "$line" = '```console' ] && in_block=1
      continue
    fi
    if [ "$line" = '```' ]; then
      in_block=0
      current=-1
    elif [ "${line:0:2}" = '$ ' ]; then
      commands+=("${line:2}")
      expected+=("")
      origins+=("$name")
      current=$((${#commands[@]} - 1))
    elif [ $current -ge 0 ]; then
      expected[current]+="$line"$'\n'
    else
      not_ok "$page: output without a command in a console block: $line"
    fi
  done <"$page"
  if [ $in_block -eq 1 ]; then not_ok "$page: a console block is not closed"; fi
}

run_example() {
  local what=$1 command=$2 want=${3%$'\n'} got status=0 must_fail=no

  got=$(timeout "$command_timeout" bash -c "$command" </dev/null 2>&1) || status=$?
  [ "${want:0:12}" = "Call failed:" ] && must_fail=yes
  if [ "$got" = "$want" ] && { { [ $status -eq 0 ] && [ $must_fail = no ]; } ||
    { [ $status -ne 0 ] && [ $must_fail = yes ]; }; }; then
    ok "$what: $command"
    return
  fi
  not_ok "$what: $command"
  echo "# exit status $status"
  diff -u --label expected --label actual <(printf '%s\n' "$want") <(printf '%s\n' "$got") |
    comment || true
}

# --- scripts/run ---------------------------------------------------------------------------

# Starts scripts/run in the background (round $1), reads its output up to the daemon's
# "Serving" line, and sets address, devenv_line and run_pid; the rest of the output goes on
# into run$1.log.
start_run() {
  local round=$1 fifo=$tmpdir/run$1.fifo log=$tmpdir/run$1.log line

  mkfifo "$fifo"
  # Job control: a process group of its own, where SIGINT is not ignored, as for a user's
  # `scripts/run &` in an interactive shell.
  set -m
  "$repo/scripts/run" >"$fifo" 2>&1 &
  run_pid=$!
  set +m
  exec 3<"$fifo"
  address=
  devenv_line=
  : >"$log"
  while IFS= read -r -t "$start_timeout" line <&3; do
    printf '%s\n' "$line" >>"$log"
    case "$line" in
      "  export DBUS_SESSION_BUS_ADDRESS="*) address=${line#*=} ;;
      *"meson devenv -C "*) devenv_line=${line#"  "} ;;
      *"Serving $bus_name on the session bus"*) break ;;
    esac
  done
  cat <&3 >>"$log" &
  drain_pid=$!
  exec 3<&-
  grep -q "Serving $bus_name" "$log" || bail_out "round $round: scripts/run did not serve"
  [ -n "$address" ] || bail_out "round $round: scripts/run printed no bus address"
  export DBUS_SESSION_BUS_ADDRESS=$address
}

# Stops scripts/run with signal $1; checks its exit status and that the daemon and the bus
# are gone.
stop_run() {
  local signal=$1 daemon_pid bus_pid status=0 watchdog

  daemon_pid=$(busctl --user call org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus GetConnectionUnixProcessID s "$bus_name" | cut -d' ' -f2)
  bus_pid=$(busctl --user call org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus GetConnectionUnixProcessID s org.freedesktop.DBus | cut -d' ' -f2)
  kill "-$signal" "$run_pid"
  # A watchdog: a scripts/run that ignores the signal fails the check, not the whole test.
  (
    sleep 30
    kill -KILL "$run_pid"
  ) >/dev/null 2>&1 &
  watchdog=$!
  wait "$run_pid" || status=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  run_pid=
  wait "$drain_pid" || true
  drain_pid=
  check "scripts/run exits with status 0 on SIG$signal (got $status)" test "$status" -eq 0
  check "SIG$signal to scripts/run stops the daemon" \
    test -n "$daemon_pid" -a ! -e "/proc/$daemon_pid"
  # The bus is not scripts/run's child: wait for it to be gone, at most 10 s.
  check "SIG$signal to scripts/run stops its private bus" \
    timeout 10 tail --pid="$bus_pid" -s 0.05 -f /dev/null
  check "scripts/run removes its private bus's socket" test ! -e "$OFFLINE_STATE_RUN_DIR/bus"
  # Every advise of the examples ended with its client: nothing to keep for a restart.
  check "no advise journal is left in scripts/run's runtime folder" \
    test -z "$(find "$OFFLINE_STATE_RUN_DIR/runtime" -name 'advises-*')"
  unset DBUS_SESSION_BUS_ADDRESS
}

# --help and --version print text, start no bus and no daemon.
check_help() {
  local out status=0

  out=$("$repo/scripts/run" --help 2>&1) || status=$?
  check "scripts/run --help exits with status 0 (got $status)" test $status -eq 0
  check "scripts/run --help says what the script does" grep -q '^Usage: scripts/run' <<<"$out"
  check "scripts/run --help lists the daemon's options" grep -q -- '--ephemeral' <<<"$out"
  check "scripts/run --help starts no bus" \
    test ! -e "$OFFLINE_STATE_RUN_DIR/bus" -a -z "$(grep 'private session bus' <<<"$out")"
  status=0
  out=$("$repo/scripts/run" --version 2>&1) || status=$?
  check "scripts/run --version prints the daemon's version" \
    test $status -eq 0 -a "$out" = "$("$daemon" --version)"
}

# What scripts/run says when it starts, and where the daemon keeps its state.
check_folders() {
  local log=$tmpdir/run$1.log

  check "scripts/run says the state is under its own folder" \
    grep -q "state and advises under $OFFLINE_STATE_RUN_DIR" "$log"
  check "scripts/run prints the meson devenv line with the bus address" \
    test "$devenv_line" = "DBUS_SESSION_BUS_ADDRESS=$address meson devenv -C $builddir"
  check "the state file is in scripts/run's folder" test -f "$OFFLINE_STATE_RUN_DIR/state/state.ini"
  check "nothing in the user's state folder" test -z "$(ls -A "$XDG_STATE_HOME")"
}

# A second scripts/run on the same folders refuses, and leaves the first one serving: without
# a session bus (it finds the first one's private bus), and on the first one's bus (the
# daemon finds the folders locked).
check_second_instance() {
  local out status how

  for how in "without a session bus" "on the same bus"; do
    status=0
    if [ "$how" = "on the same bus" ]; then
      out=$(timeout 60 "$repo/scripts/run" 2>&1) || status=$?
    else
      out=$(env -u DBUS_SESSION_BUS_ADDRESS timeout 60 "$repo/scripts/run" 2>&1) || status=$?
    fi
    check "a second scripts/run on the same folders, $how, exits with status 1 (got $status)" \
      test $status -eq 1
    if grep -Eq "is in use by another instance|another scripts/run serves" <<<"$out"; then
      ok "it says why"
    else
      not_ok "it says why"
      comment <<<"$out"
    fi
    check "the first one still serves" \
      busctl --user call "$bus_name" "$manager_path" org.freedesktop.DBus.Peer Ping
  done
}

# --- checks of its own -----------------------------------------------------------------

monitor_file=$tmpdir/monitor.txt

# Whether the monitor has printed a message that matches the extended regular expression $1.
monitor_saw() {
  # busctl separates messages with an empty line: one awk record each.
  awk -v re="$1" 'BEGIN { RS = ""; found = 0 } $0 ~ re { found = 1 } END { exit !found }' \
    <"$monitor_file" 2>/dev/null
}

ping_service() {
  busctl --user call "$bus_name" / org.freedesktop.DBus.Peer Ping >/dev/null 2>&1 || true
}

# Polls the monitor's output for a message that matches $1, pinging the service in between
# so that the monitor always has something new to print; gives up after 100 tries.
wait_for_monitor() {
  local _

  for _ in $(seq 100); do
    monitor_saw "$1" && return 0
    ping_service
  done
  return 1
}

# busctl monitor sees a transition, on a profile of this check's own (removed after).
check_monitor() {
  busctl --user call "$bus_name" "$manager_path" "$manager_iface" CreateOfflineObject suu \
    "$check_profile" 3 2 >/dev/null
  busctl --user monitor "$bus_name" >"$monitor_file" 2>&1 &
  monitor_pid=$!
  if wait_for_monitor 'Member=Ping'; then
    ok "busctl monitor sees the service's traffic"
  else
    not_ok "busctl monitor sees the service's traffic"
    comment <"$monitor_file"
  fi

  check "SetCurrentState with BLOCK" busctl --user call "$bus_name" "$check_path" "$offline_mgr" \
    SetCurrentState uuu 8192 3 1
  # [^;]* keeps the match inside the State entry of the changed properties.
  if wait_for_monitor "Path=$check_path +Interface=org[.]freedesktop[.]DBus[.]Properties +Member=PropertiesChanged.*STRING \"State\";[^;]*UINT32 1;"; then
    ok "busctl monitor sees PropertiesChanged with State 1"
  else
    not_ok "busctl monitor sees PropertiesChanged with State 1"
    comment <"$monitor_file"
  fi
  kill "$monitor_pid" 2>/dev/null || true
  wait "$monitor_pid" 2>/dev/null || true
  monitor_pid=
  busctl --user call "$bus_name" "$manager_path" "$manager_iface" RemoveOfflineObject s \
    "$check_profile"
}

# --- main ------------------------------------------------------------------------------

[ -x "$daemon" ] || bail_out "no daemon at $daemon (set OFFLINE_STATED)"
for tool in busctl dbus-daemon gdbus timeout "$meson"; do
  command -v "$tool" >/dev/null || bail_out "$tool is not installed"
done
for page in "${pages[@]}"; do
  [ -r "$page" ] || bail_out "cannot read $page"
  parse_page "$page"
done
if [ ${#commands[@]} -gt 0 ]; then
  ok "the pages have ${#commands[@]} examples"
else
  not_ok "the pages have examples in \`\`\`console blocks"
fi

check_help

for round in 1 2; do
  start_run "$round"
  # The environment of the line scripts/run printed: offlinectl and the rest on the paths.
  devenv=$(env DBUS_SESSION_BUS_ADDRESS="$address" "$meson" devenv -C "$builddir" --dump)
  set +u # the dump names variables that may be unset, such as $XDG_DATA_DIRS
  eval "$devenv"
  set -u
  # The devenv tries the bus of a scripts/run on the build folder's own run/ first (see
  # test-devenv.sh); this one's is elsewhere, and a developer's may be running there.
  export DBUS_SESSION_BUS_ADDRESS=$address
  for i in "${!commands[@]}"; do
    run_example "round $round, ${origins[i]}" "${commands[i]}" "${expected[i]}"
  done
  check_folders "$round"
  if [ "$round" = 1 ]; then
    check_second_instance
    check_monitor
    stop_run TERM
  else
    stop_run INT
  fi
done

if [ $failed -gt 0 ]; then
  for log in "$tmpdir"/run*.log; do
    echo "# --- $log"
    comment <"$log"
  done
fi
echo "1..$n"
[ $failed -eq 0 ]
