#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''Authorization on the system bus (docs/desktop.md, Authorization), for real.

A private dbus-daemon is the system bus; python3-dbusmock's polkitd template answers
CheckAuthorization on it (everything refused until SetAllowed), records every call, and
can hold calls back (SimulateHang, SimulateHangActions) until ReleaseHangingCalls. The real
daemon runs there with --system --ephemeral; the clients are plain Gio connections, so
each has its own unique name.

Run with the system's python3 (python3-gi, python3-dbusmock); $OFFLINE_STATED names the
daemon.
'''

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import unittest

import dbus
import dbusmock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from daemon_test import (  # noqa: E402
    BUS_NAME, GUARD_S, MANAGER_IFACE, MANAGER_PATH, OFFLINE, OFFLINE_IFACE, ONLINE,
    MainLoopWaits, connect)
from gi.repository import Gio, GLib  # noqa: E402
from private_tmp import PrivateTmp  # noqa: E402

DEFAULT_PATH = MANAGER_PATH + '/profiles/default'
EMULATION_IFACE = BUS_NAME + '.Emulation'
PROPERTIES_IFACE = 'org.freedesktop.DBus.Properties'

SET_STATE = BUS_NAME + '.set-state'
MANAGE_PROFILES = BUS_NAME + '.manage-profiles'
EMULATE = BUS_NAME + '.emulate'

POLKIT_NAME = 'org.freedesktop.PolicyKit1'
POLKIT_IFACE = 'org.freedesktop.PolicyKit1.Authority'

ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied'
PENDING = BUS_NAME + '.Error.Pending'
NOT_FOUND = BUS_NAME + '.Error.NotFound'

BLOCK = 0x2000
CALL_TIMEOUT_MS = GUARD_S * 1000


class Reply:
    '''One asynchronous call's outcome, once it has come.'''

    def __init__(self):
        self.done = False
        self.value = None
        self.error = None

    def __call__(self, connection, result):
        try:
            self.value = connection.call_finish(result)
        except GLib.Error as error:
            self.error = error
        self.done = True

    def error_name(self):
        return Gio.DBusError.get_remote_error(self.error) if self.error else None


class Client:
    '''One client of the daemon on the system bus.'''

    def __init__(self):
        self.bus = connect('DBUS_SYSTEM_BUS_ADDRESS')
        self.name = self.bus.get_unique_name()
        self.signals = []
        self.bus.signal_subscribe(BUS_NAME, OFFLINE_IFACE, 'StateChanged', None, None,
                                  Gio.DBusSignalFlags.NONE, self._on_signal)

    def _on_signal(self, connection, sender, path, interface, signal, parameters):
        self.signals.append(parameters.unpack())

    def call(self, path, interface, method, signature=None, args=None,
             flags=Gio.DBusCallFlags.NONE):
        parameters = GLib.Variant(signature, args) if signature else None
        return self.bus.call_sync(BUS_NAME, path, interface, method, parameters, None, flags,
                                  CALL_TIMEOUT_MS, None).unpack()

    def call_async(self, path, interface, method, signature=None, args=None,
                   flags=Gio.DBusCallFlags.NONE):
        reply = Reply()
        parameters = GLib.Variant(signature, args) if signature else None
        self.bus.call(BUS_NAME, path, interface, method, parameters, None, flags,
                      CALL_TIMEOUT_MS, None, reply)
        return reply

    def get(self, path, interface, name):
        return self.call(path, PROPERTIES_IFACE, 'Get', '(ss)', (interface, name))[0]

    def close(self):
        self.bus.close_sync(None)


# One pair of buses for the whole run: each test brings its own daemon and polkit, and
# stopping a bus costs dbusmock seconds. dbusmock leaves a folder behind in the temporary
# folder: this program gets one of its own, removed once the buses are stopped.
private_tmp = PrivateTmp('test-polkit.')


def setUpModule():
    private_tmp.enter()
    dbusmock.DBusTestCase.start_system_bus()
    dbusmock.DBusTestCase.start_session_bus()


def tearDownModule():
    dbusmock.DBusTestCase.tearDownClass()
    private_tmp.leave()


class DaemonTestCase(MainLoopWaits, dbusmock.DBusTestCase):
    '''The polkit mock and the daemon, with the helpers every test uses.'''

    # The daemon's options besides --system --ephemeral --verbose.
    daemon_args = ()

    @classmethod
    def setUpClass(cls):
        pass

    @classmethod
    def tearDownClass(cls):
        pass

    def setUp(self):
        self.daemons = []
        self.clients = []
        # The witness of polkit's calls: the mock's MethodCalled signal.
        self.watcher = connect('DBUS_SYSTEM_BUS_ADDRESS')
        self.polkit_calls = 0
        self.watcher.signal_subscribe(POLKIT_NAME, dbusmock.MOCK_IFACE, 'MethodCalled', None,
                                      None, Gio.DBusSignalFlags.NONE, self._on_polkit_called)
        self.polkit = None
        self.start_polkit()
        self.daemon = self.start_daemon('--system', *self.daemon_args)
        self.client = self.new_client()

    def tearDown(self):
        for client in self.clients:
            client.close()
        self.stop_polkit()
        while self.daemons:
            daemon, log = self.daemons.pop()
            daemon.terminate()
            self.assertEqual(daemon.wait(timeout=GUARD_S), 0, self.read_log(log))
            log.close()
        self.watcher.close_sync(None)

    def _on_polkit_called(self, connection, sender, path, interface, signal, parameters):
        if parameters[0] == 'CheckAuthorization':
            self.polkit_calls += 1

    # The processes

    def start_polkit(self):
        self.polkit, self.polkit_obj = self.spawn_server_template(
            'polkitd', {}, stdout=subprocess.DEVNULL)
        self.polkit_mock = dbus.Interface(self.polkit_obj, dbusmock.MOCK_IFACE)

    def stop_polkit(self):
        if self.polkit is None:
            return
        self.polkit.terminate()
        self.polkit.wait(timeout=GUARD_S)
        self.polkit = None
        self.wait_for_name(self.watcher, POLKIT_NAME, owned=False)

    def start_daemon(self, bus_option, *extra):
        log = tempfile.TemporaryFile(mode='w+')
        daemon = subprocess.Popen(
            [os.environ['OFFLINE_STATED'], bus_option, '--ephemeral', '--verbose', *extra],
            stdout=log, stderr=subprocess.STDOUT)
        self.daemons.append((daemon, log))
        if bus_option == '--system':
            self.wait_for_name(self.watcher, BUS_NAME, owned=True)
        else:
            bus = connect('DBUS_SESSION_BUS_ADDRESS')
            self.wait_for_name(bus, BUS_NAME, owned=True)
            bus.close_sync(None)
        return daemon

    def new_client(self):
        client = Client()
        self.clients.append(client)
        return client

    # Waiting, always with a guard

    def read_log(self, log):
        log.seek(0)
        return log.read()

    def daemon_log(self):
        return 'the daemon logged:\n' + self.read_log(self.daemons[0][1])

    def running_daemons(self):
        return [daemon for daemon, _ in self.daemons]

    def wait_reply(self, reply, what):
        self.spin_until(lambda: reply.done, what)
        return reply

    def wait_for_polkit_call(self, count):
        '''Until polkit has been asked count times since the test began.'''
        self.spin_until(lambda: self.polkit_calls >= count, f'{count} CheckAuthorization calls')

    # polkit's side

    def allow(self, *actions):
        self.polkit_mock.SetAllowed(dbus.Array(actions, signature='s'))

    def polkit_checks(self):
        '''(subject, action, flags) of every CheckAuthorization so far.'''
        return [(args[0], str(args[1]), int(args[3]))
                for _, args in self.polkit_mock.GetMethodCalls('CheckAuthorization')]

    def override_check(self, code):
        '''Replaces the template's CheckAuthorization with code (see dbusmock's AddMethod).'''
        self.polkit_mock.AddMethod(POLKIT_IFACE, 'CheckAuthorization', '(sa{sv})sa{ss}us',
                                   '(bba{ss})', code)

    # The daemon's side

    def snapshot(self, client=None):
        '''Everything a refused call could have changed.'''
        client = client or self.client
        profiles = client.get(MANAGER_PATH, MANAGER_IFACE, 'Profiles')
        state = {name: client.get(DEFAULT_PATH, OFFLINE_IFACE, name)
                 for name in ('State', 'Capabilities', 'Sequence', 'Transitioning',
                              'AdviseCount')}
        state['TransitionDelay'] = client.get(DEFAULT_PATH, EMULATION_IFACE, 'TransitionDelay')
        return profiles, state

    def assert_denied(self, reply, action):
        self.assertEqual(reply.error_name(), ACCESS_DENIED,
                         f'{reply.error or reply.value}\n' + self.daemon_log())
        self.assertIn(action, reply.error.message)

    def call_denied(self, action, path, interface, method, signature=None, args=None):
        '''Makes a call that polkit refuses; checks it changed nothing and was logged.'''
        before = self.snapshot()
        reply = self.client.call_async(path, interface, method, signature, args)
        self.wait_reply(reply, f'{method} to be refused')
        self.assert_denied(reply, action)
        self.assertEqual(self.snapshot(), before)
        line = f'Refused {method} to {self.client.name}: {action} (not authorized)'
        self.assertRegex(self.daemon_log(), re.escape(line))
        return reply

    def set_state(self, client, state, flags=BLOCK):
        return client.call(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                           (flags, 0x3, state))

    def advise_by_signal(self, client):
        return client.call(DEFAULT_PATH, OFFLINE_IFACE, 'Advise', '(uuuouu)',
                           (0, 42, 0, '/', 1, 3))[0]


class SetStateTest(DaemonTestCase):
    def test_allowed(self):
        self.allow(SET_STATE)
        self.set_state(self.client, OFFLINE)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'State'), OFFLINE)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'Sequence'), 1)
        (subject, action, flags), = self.polkit_checks()
        self.assertEqual(subject, ('system-bus-name', {'name': self.client.name}))
        self.assertEqual((action, flags), (SET_STATE, 0))

    def test_denied(self):
        self.allow(MANAGE_PROFILES, EMULATE)
        self.call_denied(SET_STATE, DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                         (BLOCK, 0x3, OFFLINE))
        self.call_denied(SET_STATE, DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                         (0, 0x3, OFFLINE))

    def test_argument_checks_come_first(self):
        '''A call that could never succeed is told why, without asking polkit.'''
        reply = self.client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                       (0, 0x1, OFFLINE))
        self.wait_reply(reply, 'SetCurrentState to fail')
        self.assertEqual(reply.error_name(), 'org.freedesktop.DBus.Error.InvalidArgs')
        self.assertEqual(self.polkit_checks(), [])

    def test_interactive_flag(self):
        '''AllowUserInteraction only when the caller's message allows it.'''
        self.allow(SET_STATE)
        self.set_state(self.client, OFFLINE)
        self.client.call(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                         (BLOCK, 0x3, ONLINE),
                         flags=Gio.DBusCallFlags.ALLOW_INTERACTIVE_AUTHORIZATION)
        self.set_state(self.client, OFFLINE)
        flags = [flags for _, _, flags in self.polkit_checks()]
        self.assertEqual(flags, [0, 1, 0])


class ManageProfilesTest(DaemonTestCase):
    def test_allowed(self):
        self.allow(MANAGE_PROFILES)
        path, = self.client.call(MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject', '(suu)',
                                 ('Work', 0x3, ONLINE))
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, 'Profiles'),
                         ['Work', 'default'])
        self.assertEqual(self.client.get(path, OFFLINE_IFACE, 'ProfileName'), 'Work')
        self.client.call(MANAGER_PATH, MANAGER_IFACE, 'RemoveOfflineObject', '(s)', ('Work',))
        self.assertEqual(self.client.get(MANAGER_PATH, MANAGER_IFACE, 'Profiles'), ['default'])
        self.assertEqual([action for _, action, _ in self.polkit_checks()],
                         [MANAGE_PROFILES, MANAGE_PROFILES])

    def test_denied(self):
        self.allow(SET_STATE, EMULATE)
        self.call_denied(MANAGE_PROFILES, MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject',
                         '(suu)', ('Work', 0x3, ONLINE))
        reply = self.client.call_async(MANAGER_PATH, MANAGER_IFACE, 'OpenOfflineObject', '(ss)',
                                       ('Work', ''))
        self.assertEqual(self.wait_reply(reply, 'OpenOfflineObject').error_name(), NOT_FOUND)
        self.call_denied(MANAGE_PROFILES, MANAGER_PATH, MANAGER_IFACE, 'RemoveOfflineObject',
                         '(s)', ('default',))
        # Refused whether the profile exists or not: the state is not even looked at.
        self.call_denied(MANAGE_PROFILES, MANAGER_PATH, MANAGER_IFACE, 'RemoveOfflineObject',
                         '(s)', ('nobody',))


class EmulateTest(DaemonTestCase):
    def test_allowed(self):
        self.allow(EMULATE)
        self.advise_by_signal(self.client)
        for method, signature, args in (('SetTransitionDelay', '(u)', (250,)),
                                        ('SetCapabilities', '(u)', (0x1,)),
                                        ('InjectNotification', '(uuuu)', (7, 0x10, 1, 2)),
                                        ('FailNext', '(ssu)', ('GetCurrentState', PENDING, 1))):
            self.client.call(DEFAULT_PATH, EMULATION_IFACE, method, signature, args)
        self.assertEqual(self.client.get(DEFAULT_PATH, EMULATION_IFACE, 'TransitionDelay'), 250)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'Capabilities'), 0x1)
        self.spin_until(lambda: self.client.signals, 'the injected notification')
        self.assertEqual(self.client.signals, [(7, 42, 0x10, 1, 2, 0)])
        reply = self.client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'GetCurrentState')
        self.assertEqual(self.wait_reply(reply, 'GetCurrentState').error_name(), PENDING)
        self.assertEqual(set(action for _, action, _ in self.polkit_checks()), {EMULATE})
        self.assertEqual(len(self.polkit_checks()), 4)

    def test_denied(self):
        self.allow(SET_STATE, MANAGE_PROFILES)
        self.advise_by_signal(self.client)
        for method, signature, args in (('SetTransitionDelay', '(u)', (250,)),
                                        ('SetCapabilities', '(u)', (0x1,)),
                                        ('InjectNotification', '(uuuu)', (7, 0x10, 1, 2)),
                                        ('FailNext', '(ssu)', ('GetCurrentState', PENDING, 1))):
            self.call_denied(EMULATE, DEFAULT_PATH, EMULATION_IFACE, method, signature, args)
        # No failure was queued, and the first notification is a real transition's START.
        self.assertEqual(self.client.call(DEFAULT_PATH, OFFLINE_IFACE, 'GetCurrentState'),
                         (ONLINE,))
        self.set_state(self.client, OFFLINE)
        self.spin_until(lambda: len(self.client.signals) == 3, 'three notifications')
        self.assertEqual([signal[0] for signal in self.client.signals], [1, 2, 3])


class OpenCallsTest(DaemonTestCase):
    def test_open_with_everything_refused(self):
        '''Reads, Advise and Unadvise need no authorization, and polkit is never asked.'''
        c = self.client
        self.assertEqual(c.call(MANAGER_PATH, MANAGER_IFACE, 'OpenOfflineObject', '(ss)',
                                ('default', '')), (DEFAULT_PATH,))
        self.assertEqual(c.call(DEFAULT_PATH, OFFLINE_IFACE, 'GetCurrentState'), (ONLINE,))
        self.assertEqual(c.call(DEFAULT_PATH, OFFLINE_IFACE, 'GetCapabilities'), (0x3,))
        token = self.advise_by_signal(c)
        self.assertEqual(c.get(DEFAULT_PATH, OFFLINE_IFACE, 'AdviseCount'), 1)
        c.call(DEFAULT_PATH, OFFLINE_IFACE, 'Unadvise', '(uu)', (0, token))
        self.assertEqual(c.get(DEFAULT_PATH, OFFLINE_IFACE, 'AdviseCount'), 0)
        c.call(MANAGER_PATH, 'org.freedesktop.DBus.ObjectManager', 'GetManagedObjects')
        self.assertEqual(self.polkit_checks(), [])

    def test_polkit_absent(self):
        '''No polkit on the bus: every change is refused, reads still work.'''
        self.stop_polkit()
        before = self.snapshot()
        for path, interface, method, signature, args, action in (
                (DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)', (BLOCK, 3, 1),
                 SET_STATE),
                (MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject', '(suu)', ('Work', 3, 2),
                 MANAGE_PROFILES),
                (DEFAULT_PATH, EMULATION_IFACE, 'SetTransitionDelay', '(u)', (10,), EMULATE)):
            reply = self.client.call_async(path, interface, method, signature, args)
            self.assert_denied(self.wait_reply(reply, f'{method} to be refused'), action)
        self.assertEqual(self.snapshot(), before)
        self.assertIn(f'Could not ask polkit about {SET_STATE} for {self.client.name}',
                      self.daemon_log())
        self.assertEqual(self.client.call(DEFAULT_PATH, OFFLINE_IFACE, 'GetCurrentState'),
                         (ONLINE,))

    def test_polkit_fails(self):
        self.override_check('raise dbus.exceptions.DBusException("backend broke", '
                            'name="org.freedesktop.PolicyKit1.Error.Failed")')
        before = self.snapshot()
        reply = self.client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                       (BLOCK, 3, 1))
        self.assert_denied(self.wait_reply(reply, 'SetCurrentState to be refused'), SET_STATE)
        self.assertEqual(self.snapshot(), before)
        self.assertIn('backend broke', self.daemon_log())

    def test_challenge_without_interaction(self):
        '''polkit would ask for a password, but the caller did not allow a dialog.'''
        self.override_check('ret = (False, True, {})')
        before = self.snapshot()
        reply = self.client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                       (BLOCK, 3, 1))
        self.assert_denied(self.wait_reply(reply, 'SetCurrentState to be refused'), SET_STATE)
        self.assertIn('interactive', reply.error.message)
        self.assertEqual(self.snapshot(), before)


class StoppedClientTest(DaemonTestCase):
    '''Issue 11, point 1: a client stopped at a breakpoint with 130 callback advises. The
    Notify calls it never answers count against the bus's limit of calls awaiting replies
    on the daemon's connection (128), which polkit's checks once shared: every state change
    was refused. Now the client is cut off, and polkit is asked on a connection of its own.'''

    daemon_args = ('--notify-timeout=200',)
    TRANSITIONS = 40

    def start_stopped_client(self, callbacks):
        path = os.path.join(os.environ['G_TEST_BUILDDIR'], 'isolation-client')
        client = subprocess.Popen([path, os.environ['DBUS_SYSTEM_BUS_ADDRESS'],
                                   f'--callback={callbacks}'],
                                  stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.kill_client, client)
        ready, _, _ = select.select([client.stdout], [], [], GUARD_S)
        self.assertTrue(ready, 'the client did not advise in time')
        self.assertEqual(client.stdout.readline().strip(), 'ready')
        os.kill(client.pid, signal.SIGSTOP)
        return client

    def kill_client(self, client):
        client.send_signal(signal.SIGCONT)
        client.kill()
        client.wait(timeout=GUARD_S)
        client.stdout.close()

    def test_state_changes_go_on(self):
        self.allow(SET_STATE)
        self.advise_by_signal(self.client)
        self.start_stopped_client(130)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'AdviseCount'), 131)
        for i in range(self.TRANSITIONS):
            self.set_state(self.client, OFFLINE if i % 2 == 0 else ONLINE)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'Sequence'),
                         self.TRANSITIONS)
        self.wait_for_polkit_call(self.TRANSITIONS)
        self.spin_until(lambda: len(self.client.signals) == 3 * self.TRANSITIONS,
                        'every notification to the well-behaved client')
        for i, note in enumerate(self.client.signals):
            self.assertEqual((note[0], note[1], note[5]), (i % 3 + 1, 42, i // 3 + 1))
        self.assertIn('Cut off', self.daemon_log())


class CallsPerUserTest(DaemonTestCase):
    '''Issue 11: calls in flight per Unix user. polkit holds every check of set-state, so
    each SetCurrentState stays in flight; past --max-calls-per-user of one user's calls the
    next are refused at once, naming the option, whichever of its connections sends them.'''

    daemon_args = ('--max-calls-per-connection=32', '--max-calls-per-user=24')

    def set_state_async(self, client):
        return client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                 (BLOCK, 0x3, OFFLINE))

    def test_refused_past_the_user_budget(self):
        self.allow(SET_STATE)
        self.polkit_mock.SimulateHangActions(dbus.Array([SET_STATE], signature='s'))
        first = self.new_client()
        second = self.new_client()
        # An Advise is answered once the daemon knows whose its caller is.
        self.advise_by_signal(first)
        self.advise_by_signal(second)
        waiting = [self.set_state_async(first) for _ in range(20)]
        self.wait_for_polkit_call(20)
        more = [self.set_state_async(second) for _ in range(10)]
        self.wait_for_polkit_call(24)
        refused = [self.wait_reply(reply, 'a refusal') for reply in more[4:]]
        for reply in refused:
            self.assertEqual(reply.error_name(), 'org.freedesktop.DBus.Error.LimitsExceeded')
            self.assertIn('--max-calls-per-user', reply.error.message)
        self.assertTrue(all(not reply.done for reply in waiting + more[:4]))
        # Answered, they make room again.
        self.polkit_mock.SimulateHangActions(dbus.Array([], signature='s'))
        self.polkit_mock.ReleaseHangingCalls()
        for reply in waiting + more[:4]:
            self.wait_reply(reply, 'the calls polkit held')
        self.set_state(second, ONLINE)


class ConcurrencyTest(DaemonTestCase):
    '''What happens while polkit decides.'''

    def start_slow_transition(self, client):
        '''A BLOCK transition of default that holds between START and STATECHANGE.'''
        self.allow(SET_STATE, EMULATE)
        client.call(DEFAULT_PATH, EMULATION_IFACE, 'SetTransitionDelay', '(u)', (3000,))
        self.advise_by_signal(client)
        reply = client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                  (BLOCK, 0x3, OFFLINE))
        self.spin_until(lambda: client.signals, 'START')
        return reply

    def test_denial_during_transition(self):
        '''Another client's refusal leaves a running transition alone.'''
        first = self.start_slow_transition(self.client)
        checks = len(self.polkit_checks())
        other = self.new_client()
        self.allow(EMULATE)
        self.polkit_mock.SimulateHang(True)
        refused = other.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                   (BLOCK, 0x3, ONLINE))
        self.wait_for_polkit_call(checks + 1)
        self.polkit_mock.ReleaseHangingCalls()
        self.wait_reply(refused, 'the refusal')
        # Refused, not Pending: polkit's answer comes before the state is looked at.
        self.assert_denied(refused, SET_STATE)
        self.assertTrue(other.get(DEFAULT_PATH, OFFLINE_IFACE, 'Transitioning'))

        self.wait_reply(first, 'the first transition to end')
        self.assertIsNone(first.error, self.daemon_log())
        self.assertEqual([(s[0], s[3], s[4], s[5]) for s in self.client.signals],
                         [(1, ONLINE, OFFLINE, 1), (2, ONLINE, OFFLINE, 1),
                          (3, ONLINE, OFFLINE, 1)])
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'State'), OFFLINE)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'Sequence'), 1)

    def test_state_read_after_authorization(self):
        '''A call allowed while a transition started meanwhile is Pending.'''
        self.polkit_mock.SimulateHangActions(dbus.Array([SET_STATE], signature='s'))
        self.allow(SET_STATE, EMULATE)
        other = self.new_client()
        waiting = other.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                   (BLOCK, 0x3, OFFLINE))
        self.wait_for_polkit_call(1)
        self.polkit_mock.SimulateHangActions(dbus.Array([], signature='s'))
        first = self.start_slow_transition(self.client)
        self.polkit_mock.ReleaseHangingCalls()
        self.wait_reply(waiting, 'the call that waited')
        self.assertEqual(waiting.error_name(), PENDING, self.daemon_log())
        self.wait_reply(first, 'the transition to end')
        self.assertIsNone(first.error)
        self.assertEqual(self.client.get(DEFAULT_PATH, OFFLINE_IFACE, 'Sequence'), 1)

    def test_stopping_while_polkit_decides(self):
        '''SIGTERM while polkit has not answered: the call is refused at once, by name.'''
        self.allow(SET_STATE)
        self.polkit_mock.SimulateHangActions(dbus.Array([SET_STATE], signature='s'))
        waiting = self.client.call_async(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                         (BLOCK, 0x3, OFFLINE))
        self.wait_for_polkit_call(1)
        daemon, log = self.daemons.pop()
        daemon.terminate()
        self.assertEqual(daemon.wait(timeout=GUARD_S), 0, self.read_log(log))
        self.wait_reply(waiting, 'the call that waited')
        logged = self.read_log(log)
        log.close()
        # Without an answer of its own, the bus would have told the caller NoReply.
        self.assertEqual(waiting.error_name(), ACCESS_DENIED, logged)
        self.assertIn('the service stopped before polkit answered', waiting.error.message)
        self.assertIn('Refused SetCurrentState to ' + self.client.name, logged)

    def test_profile_removed_while_waiting(self):
        self.allow(SET_STATE, MANAGE_PROFILES)
        path, = self.client.call(MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject', '(suu)',
                                 ('Work', 0x3, ONLINE))
        self.polkit_mock.SimulateHangActions(dbus.Array([SET_STATE], signature='s'))
        waiting = self.client.call_async(path, OFFLINE_IFACE, 'SetCurrentState', '(uuu)',
                                         (BLOCK, 0x3, OFFLINE))
        self.wait_for_polkit_call(2)
        self.client.call(MANAGER_PATH, MANAGER_IFACE, 'RemoveOfflineObject', '(s)', ('Work',))
        self.polkit_mock.ReleaseHangingCalls()
        self.wait_reply(waiting, 'the call that waited')
        self.assertEqual(waiting.error_name(), NOT_FOUND, self.daemon_log())
        self.assertIn("'Work' was removed", waiting.error.message)


class SessionBusTest(DaemonTestCase):
    def test_no_polkit_on_the_session_bus(self):
        '''On the session bus every change goes through, and polkit is never asked.'''
        self.start_daemon('--session')
        session = connect('DBUS_SESSION_BUS_ADDRESS')
        self.addCleanup(session.close_sync, None)

        def call(path, interface, method, signature, args):
            return session.call_sync(BUS_NAME, path, interface, method,
                                     GLib.Variant(signature, args), None,
                                     Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, None)

        call(DEFAULT_PATH, OFFLINE_IFACE, 'SetCurrentState', '(uuu)', (BLOCK, 0x3, OFFLINE))
        call(DEFAULT_PATH, EMULATION_IFACE, 'SetTransitionDelay', '(u)', (10,))
        call(MANAGER_PATH, MANAGER_IFACE, 'CreateOfflineObject', '(suu)', ('Work', 0x3, ONLINE))
        state = call(DEFAULT_PATH, PROPERTIES_IFACE, 'Get', '(ss)', (OFFLINE_IFACE, 'State'))
        self.assertEqual(state.unpack(), (OFFLINE,))
        self.assertEqual(self.polkit_checks(), [])


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stderr, verbosity=2))
