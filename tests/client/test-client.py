#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# liboffline-state from Python through GObject Introspection: the typelib and the library
# from the build folder (GI_TYPELIB_PATH, LD_LIBRARY_PATH), the daemon from OFFLINE_STATED,
# on a private bus (Gio.TestDBus). TAP output.

import gc
import os
import subprocess
import sys

import gi

gi.require_version("Gio", "2.0")
gi.require_version("OfflineState", "1.0")
from gi.repository import Gio, GLib, OfflineState  # noqa: E402

BUS_NAME = "org.offlinestate.OfflineState1"
WAIT_MS = 10000

results = []


def check(condition, what):
    results.append((bool(condition), what))
    print(("ok" if condition else "not ok") + " %d - %s" % (len(results), what), flush=True)


def wait_until(predicate, what):
    """Iterates the main context until predicate() holds; fails after WAIT_MS."""
    context = GLib.MainContext.default()
    timed_out = []

    def on_timeout():
        timed_out.append(True)
        return GLib.SOURCE_REMOVE

    timeout = GLib.timeout_add(WAIT_MS, on_timeout)
    while not predicate() and not timed_out:
        context.iteration(True)
    if timed_out:
        print("Bail out! waited %d ms for %s" % (WAIT_MS, what), flush=True)
        sys.exit(1)
    GLib.source_remove(timeout)


def start_daemon(connection):
    appeared = []
    watch = Gio.bus_watch_name_on_connection(
        connection, BUS_NAME, Gio.BusNameWatcherFlags.NONE,
        lambda *args: appeared.append(True), None)
    daemon = subprocess.Popen([os.environ["OFFLINE_STATED"], "--ephemeral"])
    wait_until(lambda: appeared or daemon.poll() is not None, "the daemon on the bus")
    Gio.bus_unwatch_name(watch)
    if not appeared:
        print("Bail out! the daemon exited with status %s" % daemon.returncode, flush=True)
        sys.exit(1)
    return daemon


def open_client(connection, profile):
    """The async constructor, as an application with a main loop would use it."""
    box = {}

    def on_opened(source, result):
        try:
            box["client"] = OfflineState.Client.new_finish(result)
        except GLib.Error as error:
            box["error"] = error

    OfflineState.Client.new(connection, profile, None, on_opened)
    wait_until(lambda: box, "the client to open")
    return box.get("client"), box.get("error")


def test_transition(connection):
    client, error = open_client(connection, "default")
    check(error is None and client is not None, "the default profile opens")
    check(client.props.state == OfflineState.State.ONLINE, "state is ONLINE")
    check(client.props.online is True, "online is True")
    check(client.props.capabilities == (OfflineState.Capabilities.OFFLINE
                                        | OfflineState.Capabilities.ONLINE),
          "capabilities are OFFLINE | ONLINE")
    check(client.props.sequence == 0, "sequence is 0")
    check(client.props.available is True, "available is True")
    check(client.props.advise_count == 1, "its own advise is counted")

    notes = []
    states_seen = []
    client.connect("notification",
                   lambda c, phase, mask, old, new, seq: notes.append((phase, mask, old, new, seq)))
    client.connect("notify::state", lambda c, pspec: states_seen.append(c.props.state))

    done = {}

    def on_set(source, result):
        done["ok"] = source.set_state_finish(result)

    client.set_state_async(OfflineState.State.OFFLINE, True, None, on_set)
    wait_until(lambda: done, "set_state_async to finish")
    check(done.get("ok") is True, "set_state_async(OFFLINE, block=True) succeeds")
    Phase = OfflineState.Phase
    check([n[0] for n in notes] == [Phase.START, Phase.STATECHANGE, Phase.DONE],
          "notifications START, STATECHANGE, DONE: %r" % ([n[0] for n in notes],))
    check(all(n[1:] == (0x3, OfflineState.State.ONLINE, OfflineState.State.OFFLINE, 1)
              for n in notes),
          "each carries mask 0x3, ONLINE -> OFFLINE, sequence 1")
    check(states_seen == [OfflineState.State.OFFLINE], "notify::state once, to OFFLINE")
    check(client.props.state == OfflineState.State.OFFLINE and client.props.online is False,
          "state follows: OFFLINE")
    check(client.props.sequence == 1, "sequence follows: 1")
    check(client.props.transitioning is False, "transitioning is False after a BLOCK call")
    check(OfflineState.phase_to_string(notes[0][0]) == "START", "phase_to_string")

    # A BLOCK call from the sync API, and an error during a transition.
    check(client.set_state_sync(OfflineState.State.ONLINE, True, None), "set_state_sync")
    wait_until(lambda: len(notes) == 6, "the second transition's notifications")
    check(notes[5] == (Phase.DONE, 0x3, OfflineState.State.OFFLINE, OfflineState.State.ONLINE,
                       2), "the second transition is number 2")
    return client


def test_errors_and_profiles(connection):
    client, error = open_client(connection, "nobody")
    check(client is None and error is not None, "an unknown profile fails to open")
    check(error is not None and Gio.DBusError.get_remote_error(error)
          == "org.offlinestate.OfflineState1.Error.NotFound",
          "with org.offlinestate.OfflineState1.Error.NotFound")

    check(list(OfflineState.list_profiles_sync(connection, None)) == ["default"],
          "list_profiles_sync: default")
    check(OfflineState.create_profile_sync(connection, "work", OfflineState.Capabilities.OFFLINE,
                                           OfflineState.State.OFFLINE, None),
          "create_profile_sync")
    check(list(OfflineState.list_profiles_sync(None, None)) == ["default", "work"],
          "list_profiles_sync on the session bus (None): default, work")
    try:
        OfflineState.create_profile_sync(connection, "work", OfflineState.Capabilities.NONE,
                                         OfflineState.State.ONLINE, None)
        check(False, "creating it again fails")
    except GLib.Error as e:
        check(Gio.DBusError.get_remote_error(e) == "org.offlinestate.OfflineState1.Error.Exists",
              "creating it again fails with Error.Exists")
    listed = {}

    def on_listed(source, result):
        listed["profiles"] = OfflineState.list_profiles_finish(result)

    OfflineState.list_profiles(None, None, on_listed)
    wait_until(lambda: listed, "list_profiles to finish")
    check(list(listed["profiles"]) == ["default", "work"],
          "list_profiles on the session bus (None), without blocking: default, work")
    check(OfflineState.remove_profile_sync(connection, "work", None), "remove_profile_sync")


def main():
    print("1..26", flush=True)
    bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
    bus.up()
    # TestDBus sets DBUS_SESSION_BUS_ADDRESS: the session bus is now the private one.
    connection = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    daemon = start_daemon(connection)
    client = None
    try:
        client = test_transition(connection)
        test_errors_and_profiles(connection)
    finally:
        daemon.terminate()
        status = daemon.wait()
        # TestDBus.down() waits until nothing holds the session bus connection any more.
        del client, connection
        gc.collect()
        bus.down()
    check(status == 0, "the daemon exits cleanly")
    sys.exit(0 if all(ok for ok, _ in results) else 1)


main()
