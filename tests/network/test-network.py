#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''offline-stated --follow-network against NetworkManager, for real.

python3-dbusmock's NetworkManager template runs on a private system bus; the real daemon
runs on a private session bus with GIO_USE_NETWORK_MONITOR=networkmanager, so GLib's own
NetworkManager monitor (GNetworkMonitorNM) reads the mock. In GLib, that monitor's
network-available is NetworkManager's State above NM_STATE_CONNECTED_LOCAL (50); its
Connectivity and NetworkingEnabled do not count. The test moves State between
DISCONNECTED (20) and CONNECTED_GLOBAL (70) with the mock's SetGlobalConnectionState.

Run with the system's python3 (python3-gi, python3-dbusmock); $OFFLINE_STATED names the
daemon.
'''

import os
import subprocess
import sys
import time
import unittest

import dbusmock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from daemon_test import (  # noqa: E402
    BUS_NAME, MANAGER_IFACE, MANAGER_PATH, OFFLINE, OFFLINE_IFACE, ONLINE, OneDaemon)
from gi.repository import Gio, GLib  # noqa: E402
from private_tmp import PrivateTmp  # noqa: E402

NM_STATE_DISCONNECTED = 20
NM_STATE_CONNECTED_GLOBAL = 70

RECONNECT_DELAY_MS = 300
# What must not happen is given this long to happen anyway.
QUIET_MS = RECONNECT_DELAY_MS * 2


def profile_path(name):
    return f'{MANAGER_PATH}/profiles/{Gio.dbus_escape_object_path(name)}'


class Profile:
    '''One offline object, as seen through its PropertiesChanged.'''

    def __init__(self, bus, name):
        self.proxy = Gio.DBusProxy.new_sync(
            bus, Gio.DBusProxyFlags.DO_NOT_AUTO_START, None, BUS_NAME, profile_path(name),
            OFFLINE_IFACE, None)
        self.states = []  # (when, State), as each change arrives
        self.proxy.connect('g-properties-changed', self._on_changed)

    def _on_changed(self, proxy, changed, invalidated):
        state = changed.unpack().get('State')
        if state is not None:
            self.states.append((time.monotonic(), state))

    def get(self, name):
        return self.proxy.get_cached_property(name).unpack()

    def settled_in(self, state):
        return self.get('State') == state and not self.get('Transitioning')


# dbusmock leaves a folder behind in the temporary folder: this program gets one of its own.
private_tmp = PrivateTmp('test-network.')


def setUpModule():
    private_tmp.enter()


def tearDownModule():
    private_tmp.leave()


class NetworkTest(OneDaemon, dbusmock.DBusTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_system_bus()
        cls.start_session_bus()

    def setUp(self):
        self.nm, self.nm_obj = self.spawn_server_template(
            'networkmanager', {}, stdout=subprocess.DEVNULL)
        self.start_daemon('--follow-network', f'--reconnect-delay={RECONNECT_DELAY_MS}',
                          env=dict(os.environ, GIO_USE_NETWORK_MONITOR='networkmanager'))
        self.default = Profile(self.bus, 'default')

    def tearDown(self):
        self.stop_daemon()
        self.nm.terminate()
        self.nm.wait()

    # Helpers

    def run_for(self, ms):
        '''Runs the main loop for ms: for what must not happen.'''
        expired = []
        GLib.timeout_add(ms, lambda: expired.append(True))
        while not expired:
            GLib.MainContext.default().iteration(True)

    def network(self, available):
        state = NM_STATE_CONNECTED_GLOBAL if available else NM_STATE_DISCONNECTED
        self.nm_obj.SetGlobalConnectionState(state, dbus_interface=dbusmock.MOCK_IFACE)

    def call(self, path, interface, method, signature, args):
        return self.bus.call_sync(BUS_NAME, path, interface, method,
                                  GLib.Variant(signature, args), None,
                                  Gio.DBusCallFlags.NONE, -1, None)

    def set_state(self, name, profile, state):
        '''A client's SetCurrentState with BLOCK, then its PropertiesChanged.'''
        self.call(profile_path(name), OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                  (0x2000, 0x3, state))
        self.spin_until(lambda: profile.settled_in(state), f'{name} to show State {state}')

    def create(self, name, state):
        self.call(MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject', '(suu)', (name, 0x3, state))
        return Profile(self.bus, name)

    def assert_profile(self, profile, state, sequence):
        seen = (profile.get('State'), profile.get('Sequence'), profile.get('Transitioning'))
        self.assertEqual(seen, (state, sequence, False), self.daemon_log())

    # Tests

    def test_follows_network(self):
        '''Offline when NetworkManager disconnects; online once it is back for the delay.'''
        self.assert_profile(self.default, ONLINE, 0)
        self.assertIn('following GNetworkMonitorNM', self.daemon_log())

        self.network(False)
        self.spin_until(lambda: self.default.settled_in(OFFLINE), 'default to go offline')
        self.assert_profile(self.default, OFFLINE, 1)
        self.assertIn('network lost: taking 1 profile offline', self.daemon_log())

        back = time.monotonic()
        self.network(True)
        self.spin_until(lambda: self.default.settled_in(ONLINE), 'default to go online')
        self.assert_profile(self.default, ONLINE, 2)
        when, state = self.default.states[-1]
        self.assertEqual(state, ONLINE)
        self.assertGreaterEqual(when - back, RECONNECT_DELAY_MS / 1000)
        self.assertEqual([state for _, state in self.default.states], [OFFLINE, ONLINE])
        self.assertIn(f'network back for {RECONNECT_DELAY_MS} ms: taking 1 profile online',
                      self.daemon_log())

    def test_sticky(self):
        '''A profile that a client set offline stays offline when the network returns.'''
        work = self.create('work', ONLINE)
        self.set_state('default', self.default, OFFLINE)
        self.assert_profile(self.default, OFFLINE, 1)

        self.network(False)
        self.spin_until(lambda: work.settled_in(OFFLINE), 'work to go offline')
        self.network(True)
        self.spin_until(lambda: work.settled_in(ONLINE), 'work to go online')
        # Both were handled in the same pass, "default" first.
        self.assert_profile(self.default, OFFLINE, 1)
        self.assert_profile(work, ONLINE, 2)

    def test_flapping(self):
        '''Back and gone again within the delay: no transition.'''
        self.network(False)
        self.spin_until(lambda: self.default.settled_in(OFFLINE), 'default to go offline')
        self.network(True)
        self.network(False)
        self.run_for(QUIET_MS)
        self.assert_profile(self.default, OFFLINE, 1)
        self.assertIn('lost again within the reconnect delay', self.daemon_log())

        self.network(True)
        self.spin_until(lambda: self.default.settled_in(ONLINE), 'default to go online')
        self.assert_profile(self.default, ONLINE, 2)


class CommandLineTest(unittest.TestCase):
    def check_usage_error(self, *args):
        result = subprocess.run([os.environ['OFFLINE_STATED'], *args], capture_output=True,
                                text=True, check=False)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)
        self.assertIn('--reconnect-delay', result.stderr)

    def test_bad_reconnect_delay(self):
        self.check_usage_error('--follow-network', '--reconnect-delay=600001')
        self.check_usage_error('--follow-network', '--reconnect-delay=-1')
        self.check_usage_error('--reconnect-delay=soon')

    def test_help(self):
        result = subprocess.run([os.environ['OFFLINE_STATED'], '--help'], capture_output=True,
                                text=True, check=True)
        self.assertIn('--follow-network', result.stdout)
        self.assertIn('--reconnect-delay=MS', result.stdout)


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stderr, verbosity=2))
