#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''The GIO module's monitor over NetworkManager's: the network underneath counts too.

python3-dbusmock's NetworkManager template runs on a private system bus, so that GLib's own
NetworkManager monitor (GNetworkMonitorNM) is the one under the module's; the real daemon
runs on a private session bus. The module is the build's ($GIO_EXTRA_MODULES, set by meson).
GNetworkMonitorNM's network-available is NetworkManager's State above CONNECTED_LOCAL; the
mock's SetGlobalConnectionState moves it.

Run with the system's python3 (python3-gi, python3-dbusmock); $OFFLINE_STATED names the
daemon.
'''

import os
import subprocess
import sys
import unittest

import dbusmock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from daemon_test import (  # noqa: E402
    BUS_NAME, MANAGER_PATH, OFFLINE, OFFLINE_IFACE, ONLINE, OneDaemon)
from gi.repository import Gio, GLib, GObject  # noqa: E402
from private_tmp import PrivateTmp  # noqa: E402

NM_STATE_DISCONNECTED = 20
NM_STATE_CONNECTED_GLOBAL = 70
BLOCK = 0x2000

private_tmp = PrivateTmp('test-gio-module-network.')


def setUpModule():
    private_tmp.enter()
    # GIO loads its modules, the build's among them, with GLib's base monitor as the default:
    # each test makes a monitor of the module's own, once the buses are there.
    chosen = os.environ.get('GIO_USE_NETWORK_MONITOR')
    os.environ['GIO_USE_NETWORK_MONITOR'] = 'base'
    Gio.NetworkMonitor.get_default()
    os.environ['GIO_USE_NETWORK_MONITOR'] = chosen


def tearDownModule():
    private_tmp.leave()


def new_monitor(name):
    '''A new monitor of the extension @name.'''
    point = Gio.IOExtensionPoint.lookup(Gio.NETWORK_MONITOR_EXTENSION_POINT_NAME)
    monitor = GObject.new(point.get_extension_by_name(name).get_type())
    monitor.init(None)
    return monitor


class GioModuleNetworkTest(OneDaemon, dbusmock.DBusTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_system_bus()
        cls.start_session_bus()

    def setUp(self):
        self.nm, self.nm_obj = self.spawn_server_template(
            'networkmanager', {}, stdout=subprocess.DEVNULL)
        self.start_daemon()
        self.changes = []  # what each network-changed said
        self.nm_monitor = new_monitor('networkmanager')

    def tearDown(self):
        del self.nm_monitor
        self.stop_daemon()
        self.nm.terminate()
        self.nm.wait()

    def network(self, available):
        '''NetworkManager connects or disconnects; returns once GLib's monitor of it has seen
        it. The module's monitor reads it on the same connection (the system bus's shared
        one), so it has seen it too.'''
        state = NM_STATE_CONNECTED_GLOBAL if available else NM_STATE_DISCONNECTED
        self.nm_obj.SetGlobalConnectionState(state, dbus_interface=dbusmock.MOCK_IFACE)
        self.spin_until(lambda: self.nm_monitor.props.network_available == available,
                        f'NetworkManager\'s monitor to say {available}')

    def set_state(self, state):
        '''SetCurrentState of the default profile with BLOCK: the transition is over.'''
        self.bus.call_sync(BUS_NAME, f'{MANAGER_PATH}/profiles/default', OFFLINE_IFACE,
                           'SetCurrentState', GLib.Variant('(uuu)', (BLOCK, 0x3, state)), None,
                           Gio.DBusCallFlags.NONE, -1, None)

    def wait_changes(self, expected):
        self.spin_until(lambda: len(self.changes) >= len(expected),
                        f'network-changed to say {expected}')
        self.assertEqual(self.changes, expected)

    def test_network_underneath(self):
        '''Available only with both the profile online and NetworkManager connected.'''
        self.set_state(OFFLINE)
        monitor = new_monitor('offline-state')
        monitor.connect('network-changed', lambda _, available: self.changes.append(available))
        self.wait_changes([False])
        self.assertEqual(monitor.props.connectivity, Gio.NetworkConnectivity.LOCAL)
        with self.assertRaises(GLib.Error) as caught:
            monitor.can_reach(Gio.NetworkAddress.new('example.org', 80), None)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.NETWORK_UNREACHABLE))

        # Online, but no network underneath: still none. Then NetworkManager connects.
        self.network(False)
        self.set_state(ONLINE)
        self.network(True)
        self.wait_changes([False, True])
        self.assertTrue(monitor.props.network_available)
        self.assertNotEqual(monitor.props.connectivity, Gio.NetworkConnectivity.LOCAL)

        # The network goes away underneath while the profile is online.
        self.network(False)
        self.wait_changes([False, True, False])
        self.assertFalse(monitor.props.network_available)


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
