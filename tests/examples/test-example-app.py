#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
"""How a Python application tests its offline handling against offline-state.

Each test gets a private bus (Gio.TestDBus) whose services folder is the kit's
test-services folder: the first call on it starts a fresh `offline-stated --ephemeral`,
so every test begins with the profile `default` online. The Emulation interface then
makes the service misbehave on cue.

The application under test is ExampleApp below: the sync engine of a mail client. It
stops syncing as soon as the profile starts going offline and resumes only once it is
back online for good.
"""

import os
import unittest

import gi

gi.require_version("OfflineState", "1.0")
from gi.repository import Gio, GLib, OfflineState  # noqa: E402

BUS_NAME = "org.offlinestate.OfflineState1"
DEFAULT_PATH = "/org/offlinestate/OfflineState1/profiles/default"
OFFLINE_MGR = "org.offlinestate.OfflineState1.OfflineMgr"
EMULATION = "org.offlinestate.OfflineState1.Emulation"
PENDING = "org.offlinestate.OfflineState1.Error.Pending"
ACCESS_DENIED = "org.freedesktop.DBus.Error.AccessDenied"
OFFLINE, ONLINE = 1, 2
MASK = 0x3

# Long enough for the app to react while a transition is held up.
TRANSITION_DELAY_MS = 500
# Turns a hang into a failure.
GUARD_S = 10


class ExampleApp:
    """The application under test."""

    def __init__(self):
        # None: the session bus, as in production. Under Gio.TestDBus that is the private bus.
        self.client = OfflineState.Client.new_sync(None, "default", None)
        self.syncing_enabled = self.client.props.online
        self.pending = False  # between START and STATECHANGE
        self.seen = []  # one line per notification the app acted on
        self.requests_done = 0
        self.last_error = None  # the D-Bus error name of its last failed request
        self.client.connect("notification", self._on_notification)

    def close(self):
        self.client.disconnect_by_func(self._on_notification)
        self.client = None

    def _on_notification(self, client, phase, mask, old_state, new_state, sequence):
        # No check of MAPI's rule here (ignore an unknown notify type or a mask other
        # than 0x3): liboffline-state drops such notifications before they reach the app.
        if phase == OfflineState.Phase.START:
            self.pending = True
            if new_state == OfflineState.State.OFFLINE:
                self.syncing_enabled = False
        elif phase == OfflineState.Phase.STATECHANGE:
            self.pending = False
        elif new_state == OfflineState.State.ONLINE:
            self.syncing_enabled = True
        self.seen.append("%s %s->%s: %s" % (
            OfflineState.phase_to_string(phase),
            OfflineState.state_to_string(old_state),
            OfflineState.state_to_string(new_state),
            "syncing" if self.syncing_enabled else "not syncing",
        ))

    def set_state(self, state):
        """The "Work offline" button: starts a transition and returns."""
        self.client.set_state_async(state, False, None, self._on_set_state)

    def _on_set_state(self, client, result):
        self.last_error = None
        try:
            client.set_state_finish(result)
        except GLib.Error as error:
            self.last_error = Gio.DBusError.get_remote_error(error)
        self.requests_done += 1


class ExampleAppTest(unittest.TestCase):
    def setUp(self):
        self.bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE)
        # The whole setup: the service is started by the first call.
        self.bus.add_service_dir(os.environ["OFFLINE_STATE_TEST_SERVICES_DIR"])
        self.bus.up()
        self.connection = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        self.app = ExampleApp()

    def tearDown(self):
        # Gio.TestDBus.down() waits until the bus connection is unused: drop every reference.
        self.app.close()
        self.app = None
        self.connection = None
        # Stopping the bus ends the daemon with it: the next test gets a fresh one.
        self.bus.down()

    def call_default_profile(self, interface, method, signature, *args):
        self.connection.call_sync(
            BUS_NAME, DEFAULT_PATH, interface, method,
            GLib.Variant(signature, args), None, Gio.DBusCallFlags.NONE, GUARD_S * 1000, None,
        )

    def user_sets_state(self, state):
        """What someone else does, as `offlinectl offline` would."""
        self.call_default_profile(OFFLINE_MGR, "SetCurrentState", "(uuu)", 0, MASK, state)

    def emulate(self, method, signature, *args):
        self.call_default_profile(EMULATION, method, signature, *args)

    def wait_until(self, condition):
        """No sleeps: run the main loop until the app has got as far as the test needs."""
        expired = []
        guard = GLib.timeout_add_seconds(GUARD_S, lambda: expired.append(True))
        context = GLib.MainContext.default()
        while not condition() and not expired:
            context.iteration(True)
        self.assertFalse(expired, "timed out")
        GLib.source_remove(guard)

    def test_follows_transitions(self):
        """Stop syncing at the first sign of going offline; resume when online is done."""
        self.assertTrue(self.app.syncing_enabled)

        self.user_sets_state(OFFLINE)
        self.wait_until(lambda: len(self.app.seen) >= 3)
        self.assertFalse(self.app.syncing_enabled)
        self.assertEqual(self.app.client.props.state, OfflineState.State.OFFLINE)

        self.user_sets_state(ONLINE)
        self.wait_until(lambda: len(self.app.seen) >= 6)
        self.assertTrue(self.app.syncing_enabled)
        self.assertEqual(self.app.seen, [
            "START online->offline: not syncing",
            "STATECHANGE online->offline: not syncing",
            "DONE online->offline: not syncing",
            "START offline->online: not syncing",
            "STATECHANGE offline->online: not syncing",
            "DONE offline->online: syncing",
        ])

    def test_slow_transition(self):
        """Held between START and STATECHANGE, the app is pending; its request is refused."""
        self.emulate("SetTransitionDelay", "(u)", TRANSITION_DELAY_MS)
        self.user_sets_state(OFFLINE)

        self.wait_until(lambda: len(self.app.seen) >= 1)
        self.assertEqual(self.app.seen, ["START online->offline: not syncing"])
        self.assertTrue(self.app.pending)
        self.assertEqual(self.app.client.props.state, OfflineState.State.ONLINE)

        # The user changes their mind mid-way: the manager says "not now".
        self.app.set_state(OfflineState.State.ONLINE)
        self.wait_until(lambda: self.app.requests_done == 1)
        self.assertEqual(self.app.last_error, PENDING)
        self.assertTrue(self.app.pending)

        self.wait_until(lambda: len(self.app.seen) >= 2)
        self.assertEqual(self.app.seen[1], "STATECHANGE online->offline: not syncing")
        self.assertFalse(self.app.pending)
        self.wait_until(lambda: len(self.app.seen) >= 3)

    def test_request_fails(self):
        """FailNext: the app reports the error and changes nothing; the retry goes through."""
        self.emulate("FailNext", "(ssu)", "SetCurrentState", ACCESS_DENIED, 1)

        self.app.set_state(OfflineState.State.OFFLINE)
        self.wait_until(lambda: self.app.requests_done == 1)
        self.assertEqual(self.app.last_error, ACCESS_DENIED)
        self.assertTrue(self.app.syncing_enabled)
        self.assertEqual(self.app.seen, [])

        self.app.set_state(OfflineState.State.OFFLINE)
        self.wait_until(lambda: self.app.requests_done == 2)
        self.assertIsNone(self.app.last_error)
        self.wait_until(lambda: len(self.app.seen) >= 3)
        self.assertFalse(self.app.syncing_enabled)

    def test_ignores_bogus_notifications(self):
        """Notifications that MAPI says to ignore never reach the app's logic.

        An unknown type, and a START of going offline for another mask, which a careless
        app would take as "stop syncing".
        """
        self.emulate("InjectNotification", "(uuuu)", 7, 5, ONLINE, OFFLINE)
        self.emulate("InjectNotification", "(uuuu)", 1, 5, ONLINE, OFFLINE)

        # A real transition after them: the service sends in order, so once the app has
        # seen it, it has had the bogus ones too, and must have acted on nothing else.
        self.user_sets_state(OFFLINE)
        self.wait_until(lambda: len(self.app.seen) >= 3)
        self.assertEqual(self.app.seen, [
            "START online->offline: not syncing",
            "STATECHANGE online->offline: not syncing",
            "DONE online->offline: not syncing",
        ])


if __name__ == "__main__":
    unittest.main(verbosity=2)
