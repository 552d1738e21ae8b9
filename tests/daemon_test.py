# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''What the Python tests of the real daemon on python3-dbusmock's buses share (network/,
polkit/): its names, connections of their own, and waiting on GLib's main loop with a guard
that fails the test when the wait lasts too long or a daemon has died.'''
import os
import select
import signal
import subprocess
import tempfile

import gi

gi.require_version('Gio', '2.0')
gi.require_version('GLib', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.offlinestate.OfflineState1'
MANAGER_PATH = '/org/offlinestate/OfflineState1'
MANAGER_IFACE = BUS_NAME + '.Manager'
OFFLINE_IFACE = BUS_NAME + '.OfflineMgr'

OFFLINE = 1
ONLINE = 2
GUARD_S = 10

SESSION_BUS_CONFIG = '''<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:dir={folder}</listen>
  {services}
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
'''


def write_session_bus_config(folder, *services):
    '''A session bus's configuration in @folder/session.conf (its socket in @folder too),
    that activates the services of the folders @services; returns its path.'''
    config = os.path.join(folder, 'session.conf')
    with open(config, 'w') as out:
        out.write(SESSION_BUS_CONFIG.format(
            folder=folder,
            services='\n  '.join(f'<servicedir>{s}</servicedir>' for s in services)))
    return config


def connect(variable):
    '''A connection of its own to the private bus that $variable names.'''
    return Gio.DBusConnection.new_for_address_sync(
        os.environ[variable],
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)


def bus_call(bus, method, parameters=None):
    '''A method of the bus itself; its reply, unpacked.'''
    return bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                         method, parameters, None, Gio.DBusCallFlags.NONE, -1, None).unpack()


def connection_pid(bus, name):
    return bus_call(bus, 'GetConnectionUnixProcessID', GLib.Variant('(s)', (name,)))[0]


def wait_exit(pid, guard_s=GUARD_S):
    '''Waits until the process @pid, which need not be a child, has exited; False (and it
    is killed) if it has not within @guard_s.'''
    try:
        exited = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    ready, _, _ = select.select([exited], [], [], guard_s)
    if not ready:
        signal.pidfd_send_signal(exited, signal.SIGKILL)
    os.close(exited)
    return bool(ready)


def stop_session_bus(stop_dbus, bus_pid):
    '''Stops the session bus of $DBUS_SESSION_BUS_ADDRESS (its dbus-daemon @bus_pid, with
    python3-dbusmock's @stop_dbus), and waits until what it started has exited with it (they
    exit when their connection closes), so that nothing still writes into the test's home.'''
    bus = connect('DBUS_SESSION_BUS_ADDRESS')
    pids = {connection_pid(bus, name) for name in bus_call(bus, 'ListNames')[0]
            if name.startswith(':') and name != bus.get_unique_name()}
    bus.close_sync(None)
    stop_dbus(bus_pid)
    del os.environ['DBUS_SESSION_BUS_ADDRESS']
    for pid in pids - {os.getpid()}:
        if not wait_exit(pid):
            raise AssertionError(f'process {pid} outlived the session bus: killed')


class MainLoopWaits:
    '''For a unittest.TestCase whose running_daemons() are the daemon processes it started,
    and whose daemon_log() says what they logged.'''

    def spin_until(self, condition, what, guard_s=GUARD_S):
        expired = []
        guard = GLib.timeout_add_seconds(guard_s, lambda: expired.append(True))
        context = GLib.MainContext.default()
        while not condition():
            if expired:
                self.fail(f'timed out after {guard_s} s waiting for {what}\n' + self.daemon_log())
            for daemon in self.running_daemons():
                if daemon.poll() is not None:
                    self.fail(f'the daemon exited ({daemon.returncode}) waiting for {what}\n'
                              + self.daemon_log())
            context.iteration(True)
        GLib.source_remove(guard)

    def wait_for_name(self, bus, name, owned):
        owners = []
        watch = Gio.bus_watch_name_on_connection(
            bus, name, Gio.BusNameWatcherFlags.NONE,
            lambda connection, name, owner: owners.append(owner),
            lambda connection, name: owners.append(None))
        self.spin_until(lambda: owners and (owners[-1] is not None) == owned,
                        f'{name} to be {"owned" if owned else "gone"}')
        Gio.bus_unwatch_name(watch)


class OneDaemon(MainLoopWaits):
    '''MainLoopWaits for a test case that started one daemon, self.daemon, logging to the
    open file self.log.'''

    def start_daemon(self, *extra, env=None):
        '''The built daemon ($OFFLINE_STATED) with --ephemeral, --verbose and @extra, on
        the session bus; returns once it owns its name, which self.bus then reaches.'''
        self.log = tempfile.TemporaryFile(mode='w+')
        self.daemon = subprocess.Popen(
            [os.environ['OFFLINE_STATED'], '--ephemeral', '--verbose', *extra],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.bus = connect('DBUS_SESSION_BUS_ADDRESS')
        self.wait_for_name(self.bus, BUS_NAME, owned=True)

    def stop_daemon(self):
        '''SIGTERM: the daemon must exit with status 0.'''
        self.daemon.terminate()
        self.assertEqual(self.daemon.wait(timeout=GUARD_S), 0, self.daemon_log())
        self.bus.close_sync(None)
        self.log.close()

    def daemon_log(self):
        self.log.seek(0)
        return 'the daemon logged:\n' + self.log.read()

    def running_daemons(self):
        return [self.daemon]
