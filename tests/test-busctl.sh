#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# Runs every ```console example of the README given as $1, as written, against one
# offline-stated --ephemeral on a private session bus, then a few checks of its own.
# Prints TAP. The daemon is $OFFLINE_STATED (default: build/src/offline-stated).
#
# In a console block, a line starting with "$ " is a command, run with bash -c; the lines
# after it, up to the next command or the end of the block, are its expected standard
# output and standard error, merged. A command may fail only if its expected output starts
# with "Call failed:" (busctl's error line), and then it must fail.
set -euo pipefail

readme=${1:?usage: test-busctl.sh README.md}
repo=$(cd "$(dirname "$0")/.." && pwd)
daemon=${OFFLINE_STATED:-$repo/build/src/offline-stated}

bus_name=org.offlinestate.OfflineState1
default_path=/org/offlinestate/OfflineState1/profiles/default
offline_mgr=org.offlinestate.OfflineState1.OfflineMgr
command_timeout=30

# Output that depends on nothing outside this test: no pager, no colours, one locale.
export LC_ALL=C.UTF-8 SYSTEMD_PAGER=cat SYSTEMD_COLORS=0
unset DBUS_SYSTEM_BUS_ADDRESS

tmpdir=$(mktemp -d "${TMPDIR:-/tmp}/test-busctl.XXXXXX")
bus_pid=
daemon_pid=
monitor_pid=

# shellcheck disable=SC2317  # only called through the trap
cleanup() {
  if [ -n "$monitor_pid" ]; then kill "$monitor_pid" 2>/dev/null || true; fi
  if [ -n "$daemon_pid" ]; then kill -KILL "$daemon_pid" 2>/dev/null || true; fi
  if [ -n "$bus_pid" ]; then kill "$bus_pid" 2>/dev/null || true; fi
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

# Prints standard input as TAP comments.
comment() {
  sed 's/^/# /'
}

bail_out() {
  echo "Bail out! $1"
  if [ -f "$tmpdir/daemon.log" ]; then comment <"$tmpdir/daemon.log"; fi
  exit 1
}

# --- the README's examples -----------------------------------------------------------

commands=()
expected=()

# Fills commands[] and expected[] from the ```console blocks of $1.
parse_readme() {
  local line in_block=0 current=-1

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
      current=$((${#commands[@]} - 1))
    elif [ $current -ge 0 ]; then
      expected[current]+="$line"$'\n'
    else
      not_ok "README: output without a command in a console block: $line"
    fi
  done <"$1"
  if [ $in_block -eq 1 ]; then not_ok "README: a console block is not closed"; fi
}

run_example() {
  local command=$1 want=${2%$'\n'} got status=0

  got=$(timeout "$command_timeout" bash -c "$command" </dev/null 2>&1) || status=$?
  if [ "$got" = "$want" ] &&
    { [ $status -eq 0 ] || [ "${want:0:12}" = "Call failed:" ]; } &&
    { [ $status -ne 0 ] || [ "${want:0:12}" != "Call failed:" ]; }; then
    ok "$command"
    return
  fi
  not_ok "$command"
  if [ "${want:0:12}" = "Call failed:" ]; then
    echo "# exit status $status, expected non-zero"
  else
    echo "# exit status $status, expected 0"
  fi
  diff -u --label expected --label actual <(printf '%s\n' "$want") <(printf '%s\n' "$got") |
    comment || true
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

check_monitor() {
  local state new_state

  busctl --user monitor "$bus_name" >"$monitor_file" 2>&1 &
  monitor_pid=$!
  if wait_for_monitor 'Member=Ping'; then
    ok "busctl monitor sees the service's traffic"
  else
    not_ok "busctl monitor sees the service's traffic"
    comment <"$monitor_file"
  fi

  state=$(busctl --user call "$bus_name" "$default_path" "$offline_mgr" GetCurrentState)
  new_state=$([ "$state" = "u 2" ] && echo 1 || echo 2)
  if busctl --user call "$bus_name" "$default_path" "$offline_mgr" SetCurrentState uuu 8192 3 \
    "$new_state" >"$tmpdir/set.txt" 2>&1; then
    ok "SetCurrentState with BLOCK to $new_state"
  else
    not_ok "SetCurrentState with BLOCK to $new_state"
    comment <"$tmpdir/set.txt"
  fi

  # [^;]* keeps the match inside the State entry of the changed properties.
  if wait_for_monitor "Path=$default_path +Interface=org[.]freedesktop[.]DBus[.]Properties +Member=PropertiesChanged.*STRING \"State\";[^;]*UINT32 $new_state;"; then
    ok "busctl monitor sees PropertiesChanged with State $new_state"
  else
    not_ok "busctl monitor sees PropertiesChanged with State $new_state"
    comment <"$monitor_file"
  fi

  state=$(busctl --user get-property "$bus_name" "$default_path" "$offline_mgr" State)
  if [ "$state" = "u $new_state" ]; then
    ok "State is $new_state after the transition"
  else
    not_ok "State is $new_state after the transition (got: $state)"
  fi

  kill "$monitor_pid" 2>/dev/null || true
  wait "$monitor_pid" 2>/dev/null || true
  monitor_pid=
}

# Stops the daemon with SIGTERM; a watchdog kills it if it has not gone in 10 seconds.
stop_daemon() {
  local status=0 watchdog

  if kill -0 "$daemon_pid" 2>/dev/null; then
    ok "the daemon is still running"
  else
    not_ok "the daemon is still running"
  fi
  kill -TERM "$daemon_pid" 2>/dev/null || true
  (
    sleep 10
    kill -KILL "$daemon_pid"
  ) >/dev/null 2>&1 &
  watchdog=$!
  wait "$daemon_pid" || status=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  daemon_pid=
  if [ $status -eq 0 ]; then
    ok "SIGTERM stops the daemon with exit status 0"
  else
    not_ok "SIGTERM stops the daemon with exit status 0 (got $status)"
  fi
}

# --- main ------------------------------------------------------------------------------

[ -r "$readme" ] || bail_out "cannot read $readme"
[ -x "$daemon" ] || bail_out "no daemon at $daemon (set OFFLINE_STATED)"
for tool in busctl dbus-daemon gdbus timeout; do
  command -v "$tool" >/dev/null || bail_out "$tool is not installed"
done

# A private bus and private folders: nothing of the user's session is touched.
mkdir -m 700 "$tmpdir/runtime" "$tmpdir/state"
export XDG_RUNTIME_DIR=$tmpdir/runtime XDG_STATE_HOME=$tmpdir/state
address=
{
  read -r address
  read -r bus_pid
} < <(dbus-daemon --session --fork --nosyslog --address="unix:path=$tmpdir/bus" \
  --print-address=1 --print-pid=1) || true
[ -n "$bus_pid" ] || bail_out "could not start dbus-daemon"
export DBUS_SESSION_BUS_ADDRESS=${address%%,guid=*}

"$daemon" --ephemeral >"$tmpdir/daemon.log" 2>&1 &
daemon_pid=$!
gdbus wait --session --timeout 10 "$bus_name" || bail_out "the daemon did not take $bus_name"

parse_readme "$readme"
if [ ${#commands[@]} -gt 0 ]; then
  ok "README has ${#commands[@]} examples"
else
  not_ok "README has examples in \`\`\`console blocks"
fi
for i in "${!commands[@]}"; do
  run_example "${commands[i]}" "${expected[i]}"
done

check_monitor
stop_daemon

if [ $failed -gt 0 ]; then
  echo "# daemon log:"
  comment <"$tmpdir/daemon.log"
fi
echo "1..$n"
[ $failed -eq 0 ]
