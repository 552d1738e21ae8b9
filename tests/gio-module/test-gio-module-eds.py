#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''Evolution's own data server follows a profile through the GIO module.

Debian's evolution-data-server runs on a private session bus, with a home of the test's own:
its source registry and calendar factory are started by D-Bus activation, with the
environment of the bus daemon, which names the build's module ($GIO_EXTRA_MODULES, set by
meson). The module is chosen as a user chooses it, with `gsettings set
org.gnome.evolution-data-server network-monitor-gio-name offline-state`, stored by a private
dconf (the dconf service, activated on the same bus, writes into the test's home). The real
daemon follows its own ephemeral profile `default`.

1. EDataServer.NetworkMonitor in this process lists the module and follows the profile.
2. A CalDAV calendar whose [Authentication] names a host (127.0.0.1, on a port where
   nothing listens): its client's `online` goes false when the profile goes offline, and
   true again after it goes online (the backend waits 5 s, then asks can_reach).

Run with the system's python3 (python3-gi, python3-dbusmock, the EDS typelibs);
$OFFLINE_STATED names the daemon.
'''

import os
import socket
import subprocess
import sys
import unittest

import dbusmock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from daemon_test import (  # noqa: E402
    BUS_NAME, GUARD_S, MANAGER_PATH, OFFLINE, OFFLINE_IFACE, ONLINE, OneDaemon,
    stop_session_bus, write_session_bus_config)
import gi  # noqa: E402

gi.require_version('EDataServer', '1.2')
gi.require_version('ECal', '2.0')
from gi.repository import ECal, EDataServer, Gio, GLib  # noqa: E402
from private_tmp import PrivateTmp  # noqa: E402

BLOCK = 0x2000
SOURCE_UID = 'offline-state-test-caldav'
# The backend waits 5 s after network-changed before it asks can_reach.
ONLINE_AGAIN_S = 5 + GUARD_S

private_tmp = PrivateTmp('test-gio-module-eds.')
# A port of 127.0.0.1 bound, never listened on: the calendar's server refuses at once.
refusing = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

SOURCE = '''[Data Source]
DisplayName=offline-state test calendar
Enabled=true
Parent=

[Authentication]
Host=127.0.0.1
Method=none
Port={port}
User=

[Calendar]
BackendName=caldav
Selected=true

[Offline]
StaySynchronized=false

[Security]
Method=none

[WebDAV Backend]
ResourcePath=/calendars/test/
'''


def module_uses_asan():
    '''Whether the build's module was built with AddressSanitizer (the sanitize stage).'''
    module = os.path.join(os.environ['GIO_EXTRA_MODULES'], 'libgiooffline-state.so')
    linked = subprocess.run(['ldd', module], capture_output=True, text=True, check=True).stdout
    return 'libasan' in linked


def setUpModule():
    private_tmp.enter()
    for variable, name in (('HOME', 'home'), ('XDG_CONFIG_HOME', 'config'),
                           ('XDG_DATA_HOME', 'data'), ('XDG_CACHE_HOME', 'cache'),
                           ('XDG_RUNTIME_DIR', 'runtime')):
        folder = os.path.join(private_tmp.folder.name, name)
        os.mkdir(folder, 0o700)
        os.environ[variable] = folder
    # The choice is evolution-data-server's setting, stored by the private dconf.
    os.environ.pop('GIO_USE_NETWORK_MONITOR', None)
    os.environ['GSETTINGS_BACKEND'] = 'dconf'
    refusing.bind(('127.0.0.1', 0))
    sources = os.path.join(os.environ['XDG_CONFIG_HOME'], 'evolution', 'sources')
    os.makedirs(sources)
    with open(os.path.join(sources, SOURCE_UID + '.source'), 'w') as source:
        source.write(SOURCE.format(port=refusing.getsockname()[1]))


def tearDownModule():
    refusing.close()
    private_tmp.leave()


class GioModuleEdsTest(OneDaemon, dbusmock.DBusTestCase):
    @classmethod
    def setUpClass(cls):
        # Class cleanups, not tearDownClass: they run when setUpClass fails too.
        # Nothing of the machine's system bus: the module's underlying monitor is netlink's.
        cls.start_system_bus()
        cls.addClassCleanup(dbusmock.DBusTestCase.tearDownClass)
        cls.start_eds_session_bus()
        cls.addClassCleanup(stop_session_bus, cls.stop_dbus, cls.eds_bus_pid)
        # As a user chooses the module for evolution-data-server.
        subprocess.run(['gsettings', 'set', 'org.gnome.evolution-data-server',
                        'network-monitor-gio-name', 'offline-state'], check=True)

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop the buses

    @classmethod
    def start_eds_session_bus(cls):
        '''A session bus that activates what Debian installs (dconf, evolution-data-server);
        what it starts inherits its environment.'''
        config = write_session_bus_config(private_tmp.folder.name, '/usr/share/dbus-1/services')
        cls.eds_bus_pid, address = cls.start_dbus(config)
        os.environ['DBUS_SESSION_BUS_ADDRESS'] = address

    def setUp(self):
        self.start_daemon()

    def tearDown(self):
        self.stop_daemon()

    def set_state(self, state):
        '''SetCurrentState of the default profile with BLOCK: the transition is over.'''
        self.bus.call_sync(BUS_NAME, f'{MANAGER_PATH}/profiles/default', OFFLINE_IFACE,
                           'SetCurrentState', GLib.Variant('(uuu)', (BLOCK, 0x3, state)), None,
                           Gio.DBusCallFlags.NONE, -1, None)

    def test_network_monitor(self):
        '''EDataServer.NetworkMonitor lists the module, and chosen follows the profile.'''
        monitor = EDataServer.NetworkMonitor.get_default()
        self.assertIn('offline-state', monitor.list_gio_names())
        self.spin_until(lambda: monitor.dup_gio_name() == 'offline-state',
                        'the setting to reach the monitor')
        changes = []
        monitor.connect('network-changed', lambda _, available: changes.append(available))
        self.set_state(OFFLINE)
        self.spin_until(lambda: changes and not changes[-1], 'network-changed to say offline')
        self.assertFalse(monitor.get_network_available())
        with self.assertRaises(GLib.Error) as caught:
            monitor.can_reach(Gio.NetworkAddress.new('127.0.0.1', 80), None)
        self.assertTrue(caught.exception.matches(Gio.io_error_quark(),
                                                 Gio.IOErrorEnum.NETWORK_UNREACHABLE))
        self.set_state(ONLINE)
        self.spin_until(lambda: changes[-1], 'network-changed to say online')
        self.assertTrue(monitor.get_network_available())

    def test_calendar_factory(self):
        '''The calendar's backend goes offline with the profile, and online after it.'''
        registry = EDataServer.SourceRegistry.new_sync(None)
        source = registry.ref_source(SOURCE_UID)
        self.assertIsNotNone(source, 'the registry did not load the test calendar')
        client = ECal.Client.connect_sync(source, ECal.ClientSourceType.EVENTS, 1, None)
        self.spin_until(lambda: client.props.online, 'the calendar to be online', ONLINE_AGAIN_S)

        self.set_state(OFFLINE)
        self.spin_until(lambda: not client.props.online, 'the calendar to go offline')
        self.set_state(ONLINE)
        self.spin_until(lambda: client.props.online, 'the calendar to be online again',
                        ONLINE_AGAIN_S)


if __name__ == '__main__':
    if module_uses_asan():
        # The sanitize stage's module needs the ASan runtime preloaded into Debian's
        # evolution-data-server, whose source registry then hangs at start (in glibc's
        # bindtextdomain). The module's code is checked under ASan by test-gio-module.
        print('skipped: the module is built with AddressSanitizer')
        sys.exit(77)
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
