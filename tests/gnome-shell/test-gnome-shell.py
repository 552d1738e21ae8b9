#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''The GNOME Shell extension in a real, headless GNOME Shell, against the real daemon.

Debian's gnome-shell runs headless (Wayland, a virtual monitor, software rendering) on a
private session bus and a private system bus (python3-dbusmock's), with a home of the
test's own. The extension is what `meson install --tags shell-extension` installs, copied
into that home; the library and its typelib are the build's (GI_TYPELIB_PATH and
LD_LIBRARY_PATH, set by meson). The session bus activates the build's daemon
(OFFLINE_STATE_TEST_SERVICES_DIR) when something calls it while it is away, and the Shell's
service behind `gnome-extensions`; otherwise the test starts `offline-stated --ephemeral`
itself, a fresh one for every test.

org.gnome.Shell.Eval answers only in unsafe mode, which GNOME 43 turns on from JavaScript
alone: the test-only extension tests/gnome-shell/test-helper@offlinestate.org does it, and
offers `offlineStateTest` (what the toggle, its menu and the top bar icon show, and real
pointer clicks through a virtual input device). Nothing outside tells when the Shell has
redrawn a toggle: the test asks through Eval until the answer is what it waits for, within
a bound, between waits on its own main loop; D-Bus names and properties it waits on as
signals.

Run with the system's python3 (python3-gi, python3-dbusmock); meson sets the environment.
'''

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import dbusmock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from daemon_test import (  # noqa: E402
    BUS_NAME, GUARD_S, MANAGER_PATH, OFFLINE, OFFLINE_IFACE, ONLINE, bus_call, connect,
    connection_pid, stop_session_bus, wait_exit, write_session_bus_config)
from gi.repository import Gio, GLib  # noqa: E402
from private_tmp import PrivateTmp  # noqa: E402

UUID = os.environ['SHELL_EXTENSION_UUID']
HELPER = 'test-helper@offlinestate.org'
HELPER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), HELPER)
SHELL_NAME = 'org.gnome.Shell'
EXTENSIONS_SERVICE = '/usr/share/dbus-1/services/org.gnome.Shell.Extensions.service'
SHELL_PATH = '/org/gnome/Shell'
EXTENSIONS_IFACE = 'org.gnome.Shell.Extensions'
EMULATION_IFACE = BUS_NAME + '.Emulation'
# ExtensionUtils.ExtensionState
ENABLED, DISABLED, ERROR = 1, 2, 3
# The Shell's start, software rendering on a shared machine: a bound, not a measure.
SHELL_START_S = 90
ASK_EVERY_MS = 50
# How long a held transition lasts: long enough for the test to look and click meanwhile.
HOLD_MS = 6000
SCREENSHOTS = ('gnome-shell-quick-settings.png', 'gnome-shell-profiles.png')
TOGGLE = 'offline-state-toggle'

private_tmp = PrivateTmp('test-gnome-shell.')

def asan_environment():
    '''What the Shell needs to load the build's client library when the sanitize stage
    built it with AddressSanitizer: the Shell is not, so the ASan runtime must come first
    (LD_PRELOAD; without it the Shell aborts as the extension loads the library), and leak
    detection is off, as asan-test-wrapper does for the interpreters: the Shell's own
    allocations are not ours to judge. Empty for a plain build.'''
    library = os.path.join(os.environ['LD_LIBRARY_PATH'].split(':')[0], 'liboffline-state-1.so')
    linked = subprocess.run(['ldd', library], capture_output=True, text=True, check=True).stdout
    if 'libasan' not in linked:
        return {}
    runtime = subprocess.run([os.environ.get('CC', 'gcc'), '-print-file-name=libasan.so'],
                             capture_output=True, text=True, check=True).stdout.strip()
    options = [os.environ.get('ASAN_OPTIONS'), 'detect_leaks=0']
    return {'LD_PRELOAD': runtime, 'ASAN_OPTIONS': ':'.join(o for o in options if o)}


def setUpModule():
    private_tmp.enter()


def tearDownModule():
    private_tmp.leave()


class Waits:
    '''Waits on the test's main loop, each within a bound; a class's, for setUpClass too.'''

    @classmethod
    def spin_until(cls, condition, what, guard_s=GUARD_S):
        expired = []
        guard = GLib.timeout_add(guard_s * 1000, lambda: expired.append(True))
        context = GLib.MainContext.default()
        try:
            while not condition():
                if expired:
                    raise AssertionError(f'timed out after {guard_s} s waiting for {what}\n'
                                         + cls.logs())
                for process, name in cls.watched():
                    if process.poll() is not None:
                        raise AssertionError(f'{name} exited ({process.returncode}) waiting '
                                             f'for {what}\n' + cls.logs())
                context.iteration(True)
        finally:
            if not expired:
                GLib.source_remove(guard)

    @classmethod
    def ask_until(cls, question, what, guard_s=GUARD_S):
        '''For what nothing signals (the Shell's actors, its extensions' states): asks
        question() again, with the main loop running in between, until it answers something
        true; returns that answer.'''
        deadline = GLib.get_monotonic_time() + guard_s * 1000000
        while True:
            answer = question()
            if answer:
                return answer
            if GLib.get_monotonic_time() > deadline:
                raise AssertionError(f'timed out after {guard_s} s waiting for {what}\n'
                                     + cls.logs())
            cls.pause(ASK_EVERY_MS)

    @classmethod
    def pause(cls, milliseconds):
        '''Runs the main loop for @milliseconds: between two questions to the Shell.'''
        over = []
        GLib.timeout_add(milliseconds, lambda: over.append(True))
        cls.spin_until(lambda: over, 'a pause of the main loop')

    @classmethod
    def owner(cls, name):
        '''The unique name that owns @name now, or None.'''
        try:
            return bus_call(cls.bus, 'GetNameOwner', GLib.Variant('(s)', (name,)))[0]
        except GLib.Error as e:
            if Gio.DBusError.get_remote_error(e) != 'org.freedesktop.DBus.Error.NameHasNoOwner':
                raise
            return None

    @classmethod
    def wait_for_owner(cls, name, owned, guard_s=GUARD_S):
        '''Waits on NameOwnerChanged until @name is owned, or has no owner. The match
        rule goes before the question, on the same connection: no change falls between.'''
        owners = []
        subscription = cls.bus.signal_subscribe(
            'org.freedesktop.DBus', 'org.freedesktop.DBus', 'NameOwnerChanged',
            '/org/freedesktop/DBus', name, Gio.DBusSignalFlags.NONE,
            lambda *args: owners.append(args[5].unpack()[2] or None))
        owners.insert(0, cls.owner(name))
        try:
            cls.spin_until(lambda: (owners[-1] is not None) == owned,
                           f'{name} to be {"owned" if owned else "gone"}', guard_s)
        finally:
            cls.bus.signal_unsubscribe(subscription)
        return owners[-1]


class GnomeShellTest(Waits, dbusmock.DBusTestCase):
    daemon = None
    daemon_log = None
    shell = None

    # --- The class: folders, buses, the Shell, the extensions --------------------------

    @classmethod
    def setUpClass(cls):
        # Class cleanups, not tearDownClass: they run when setUpClass fails too.
        cls.folder = private_tmp.folder.name
        cls.make_home()
        cls.install_extensions()
        # The Shell wants a system bus where /run/systemd/seats exists: always a private
        # one, so that it never talks to the machine's.
        cls.start_system_bus()
        cls.addClassCleanup(dbusmock.DBusTestCase.tearDownClass)
        cls.start_activating_session_bus()
        cls.addClassCleanup(stop_session_bus, cls.stop_dbus, cls.session_bus_pid)
        cls.bus = connect('DBUS_SESSION_BUS_ADDRESS')
        cls.addClassCleanup(cls.bus.close_sync, None)
        cls.addClassCleanup(cls.stop_daemon)
        cls.start_daemon()
        cls.start_shell()
        cls.addClassCleanup(cls.stop_shell)
        cls.enable(HELPER)
        if cls.shell_eval('1') != 1:
            raise AssertionError('Eval does not answer in unsafe mode')
        cls.enable(UUID)

    @classmethod
    def tearDownClass(cls):
        pass  # the class cleanups stop everything

    @classmethod
    def make_home(cls):
        cls.env = {}
        for variable, name in (('HOME', 'home'), ('XDG_CONFIG_HOME', 'config'),
                               ('XDG_DATA_HOME', 'data'), ('XDG_CACHE_HOME', 'cache'),
                               ('XDG_STATE_HOME', 'state'), ('XDG_RUNTIME_DIR', 'runtime')):
            path = os.path.join(cls.folder, name)
            os.mkdir(path, 0o700)
            cls.env[variable] = path
        os.environ.update(cls.env)

    @classmethod
    def install_extensions(cls):
        '''The extension as `meson install` installs it, and the test's helper, in the home's
        extension folder, where the Shell finds them at start.'''
        staged = os.path.join(cls.folder, 'staged')
        installed = subprocess.run(
            [os.environ['MESON'], 'install', '-C', os.environ['OFFLINE_STATE_BUILD_ROOT'],
             '--no-rebuild', '--tags', 'shell-extension', '--destdir', staged],
            capture_output=True, text=True)
        if installed.returncode != 0:
            raise AssertionError('meson install --tags shell-extension failed:\n'
                                 + installed.stdout + installed.stderr)
        extensions = os.path.join(cls.env['XDG_DATA_HOME'], 'gnome-shell', 'extensions')
        source = staged + os.environ['SHELL_EXTENSION_DIR']
        shutil.copytree(source, os.path.join(extensions, UUID))
        shutil.copytree(HELPER_DIR, os.path.join(extensions, HELPER))
        print(f'# installed: {sorted(os.listdir(os.path.join(extensions, UUID)))}')

    @classmethod
    def start_activating_session_bus(cls):
        '''A session bus that activates the build's daemon and the Shell's own service for
        gnome-extensions (org.gnome.Shell.Extensions), and nothing else.'''
        services = os.path.join(cls.folder, 'services')
        os.mkdir(services)
        shutil.copy(EXTENSIONS_SERVICE, services)
        config = write_session_bus_config(
            cls.folder, os.environ['OFFLINE_STATE_TEST_SERVICES_DIR'], services)
        cls.session_bus_pid, address = cls.start_dbus(config)
        os.environ['DBUS_SESSION_BUS_ADDRESS'] = address

    @classmethod
    def start_shell(cls):
        env = {k: v for k, v in os.environ.items()
               if k not in ('G_DEBUG', 'MALLOC_CHECK_', 'DISPLAY', 'WAYLAND_DISPLAY')}
        # Nothing of the machine's settings, accessibility bus or input methods.
        env.update(GSETTINGS_BACKEND='memory', NO_AT_BRIDGE='1', GTK_A11Y='none',
                   XDG_SESSION_TYPE='wayland', LANG='C.UTF-8')
        env.update(asan_environment())
        cls.shell_log = open(os.path.join(cls.folder, 'gnome-shell.log'), 'w+')
        cls.shell = subprocess.Popen(
            ['gnome-shell', '--headless', '--wayland', '--no-x11',
             '--virtual-monitor', '1280x800'],
            env=env, stdout=cls.shell_log, stderr=subprocess.STDOUT, start_new_session=True)
        cls.wait_for_owner(SHELL_NAME, True, SHELL_START_S)
        # The name comes before the Shell's JavaScript exports its objects.
        cls.ask_until(lambda: cls.extension_info(HELPER).get('state') is not None,
                      'the Shell to find the extensions', SHELL_START_S)

    @classmethod
    def stop_shell(cls):
        '''SIGTERM, then whatever is left of its process group. GNOME 43 may end with
        SIGSEGV (status 139) on SIGTERM: its status is shown, not judged.'''
        cls.shell.terminate()
        try:
            status = cls.shell.wait(timeout=GUARD_S)
        except subprocess.TimeoutExpired:
            cls.shell.kill()
            status = cls.shell.wait()
        try:
            os.killpg(cls.shell.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        cls.shell_log.close()
        print(f'# gnome-shell exited with status {status}')

    @classmethod
    def watched(cls):
        processes = [(cls.shell, 'gnome-shell')] if cls.shell else []
        if cls.daemon:
            processes.append((cls.daemon, 'offline-stated'))
        return processes

    @classmethod
    def logs(cls):
        text = ''
        for name, log in (('offline-stated', cls.daemon_log), ('gnome-shell', cls.shell_log)):
            if log and not log.closed:
                log.seek(0)
                text += f'{name} logged:\n' + log.read()[-8000:] + '\n'
        return text

    # --- The daemon ----------------------------------------------------------------------

    @classmethod
    def start_daemon(cls):
        cls.daemon_log = tempfile.TemporaryFile(mode='w+')
        cls.daemon = subprocess.Popen([os.environ['OFFLINE_STATED'], '--ephemeral', '--verbose'],
                                      stdout=cls.daemon_log, stderr=subprocess.STDOUT)
        cls.wait_for_owner(BUS_NAME, True)

    @classmethod
    def stop_daemon(cls):
        '''Stops the daemon that owns the name: the test's own (which must exit with status
        0), or the one the bus activated.'''
        owner = cls.owner(BUS_NAME)
        if owner is not None and (cls.daemon is None or cls.daemon.poll() is not None):
            pid = connection_pid(cls.bus, owner)
            os.kill(pid, signal.SIGTERM)
            if not wait_exit(pid):
                raise AssertionError(f'the activated daemon {pid} outlived SIGTERM: killed')
        if cls.daemon is not None:
            daemon, cls.daemon = cls.daemon, None
            daemon.terminate()
            status = daemon.wait(timeout=GUARD_S)
            cls.daemon_log.seek(0)
            log = cls.daemon_log.read()
            cls.daemon_log.close()
            if status != 0:
                raise AssertionError(f'the daemon exited with {status}:\n{log}')
        cls.wait_for_owner(BUS_NAME, False)

    # --- The Shell -----------------------------------------------------------------------

    @classmethod
    def call_shell(cls, interface, method, args=None, signature=None):
        return cls.bus.call_sync(SHELL_NAME, SHELL_PATH, interface, method, args,
                                 GLib.VariantType(signature) if signature else None,
                                 Gio.DBusCallFlags.NONE, GUARD_S * 1000, None).unpack()

    @classmethod
    def shell_eval(cls, code):
        ok, result = cls.call_shell(SHELL_NAME, 'Eval', GLib.Variant('(s)', (code,)), '(bs)')
        if not ok:
            raise AssertionError(f'Eval of {code!r} failed: {result!r}')
        return json.loads(result) if result else None

    @classmethod
    def extension_info(cls, uuid):
        try:
            return cls.call_shell(EXTENSIONS_IFACE, 'GetExtensionInfo',
                                  GLib.Variant('(s)', (uuid,)), '(a{sv})')[0]
        except GLib.Error:
            return {}  # not exported yet

    @classmethod
    def enable(cls, uuid):
        '''EnableExtension, then the wait for its state: ENABLED, or ERROR.'''
        cls.call_shell(EXTENSIONS_IFACE, 'EnableExtension', GLib.Variant('(s)', (uuid,)), '(b)')
        cls.ask_until(lambda: cls.extension_info(uuid).get('state') in (ENABLED, ERROR),
                      f'{uuid} to be enabled')
        info = cls.extension_info(uuid)
        if info['state'] != ENABLED:
            raise AssertionError(f'{uuid}: {info.get("error")}\n' + cls.logs())

    @classmethod
    def disable(cls, uuid):
        cls.call_shell(EXTENSIONS_IFACE, 'DisableExtension', GLib.Variant('(s)', (uuid,)),
                       '(b)')
        cls.ask_until(lambda: cls.extension_info(uuid).get('state') == DISABLED,
                      f'{uuid} to be disabled')

    def shell_until(self, predicate, what, guard_s=GUARD_S):
        '''Asks the Shell what the extension shows until predicate(snapshot) holds.'''
        last = [None]

        def question():
            last[0] = self.shell_eval('offlineStateTest.snapshot()')
            return last[0] if last[0]['toggle'] and predicate(last[0]) else None
        try:
            return self.ask_until(question, what, guard_s)
        except AssertionError as e:
            raise AssertionError(f'{e}\nthe Shell showed {last[0]}') from None

    def click(self, name, where='middle'):
        '''A click on the actor named @name; returns once the Shell has taken it.'''
        before = self.shell_eval(f'offlineStateTest.clicks({json.dumps(name)})')
        clicked = self.shell_eval(f'offlineStateTest.click({json.dumps(name)}, '
                                  f'{json.dumps(where)})')
        self.assertTrue(clicked, f'{name} is not shown')
        self.ask_until(
            lambda: self.shell_eval(f'offlineStateTest.clicks({json.dumps(name)})') > before,
            f'the Shell to take the click on {name} ({clicked}); right after, it showed '
            + repr(self.shell_eval('offlineStateTest.snapshot()')))

    def settled(self, ready, what):
        '''Waits until ready(snapshot) holds and the toggle and the menu are laid out at the
        same place in two snapshots in a row: a click or a screenshot aims there.'''
        places = [None]

        def holds(snapshot):
            places.append((snapshot['toggle']['box'], snapshot['menuBox']))
            return ready(snapshot) and None not in places[-1] and places[-1] == places[-2]
        return self.shell_until(holds, what)

    def open_quick_settings(self):
        '''Opens Quick Settings with a click on the top bar.'''
        self.shell_eval('offlineStateTest.openQuickSettings()')
        return self.settled(lambda s: s['quickSettingsOpen'] and s['toggle']['mapped'],
                            'Quick Settings to open')

    def notifications(self):
        return self.shell_eval('offlineStateTest.notifications()')

    # --- The daemon's side ---------------------------------------------------------------

    def profile(self, name='default'):
        '''The path of a profile's offline object.'''
        return f'{MANAGER_PATH}/profiles/{name}'

    def properties(self, path):
        '''The properties of the offline object at @path, as the daemon says them now.'''
        return self.bus.call_sync(BUS_NAME, path, 'org.freedesktop.DBus.Properties', 'GetAll',
                                  GLib.Variant('(s)', (OFFLINE_IFACE,)), None,
                                  Gio.DBusCallFlags.NONE, -1, None).unpack()[0]

    def until_daemon(self, path, what, guard_s=GUARD_S, **expected):
        '''Asks the daemon until the properties of @path have the @expected values. Asked,
        not followed: the daemon holds back AdviseCount's changes, and a value read between
        two changes may be followed by no signal.'''
        now = [None]

        def question():
            now[0] = {key: self.properties(path)[key] for key in expected}
            return now[0] == expected
        try:
            self.ask_until(question, f'the daemon\'s {what}: {expected}', guard_s)
        except AssertionError as e:
            raise AssertionError(f'{e}\n(the daemon says {now[0]})') from None

    def offlinectl(self, *args):
        done = subprocess.run([os.environ['OFFLINECTL'], *args], capture_output=True, text=True)
        self.assertEqual(done.returncode, 0, f'offlinectl {" ".join(args)}: {done.stderr}')
        return done.stdout

    # --- Every test -----------------------------------------------------------------------

    def setUp(self):
        if self.owner(BUS_NAME) is None:
            type(self).start_daemon()
        self.default = self.profile()
        # The extension follows the new daemon: one advise, the toggle live.
        self.until_daemon(self.default, 'advise of the extension', AdviseCount=1)
        self.shell_until(lambda s: s['toggle']['reactive'] and not s['toggle']['checked']
                         and s['toggle']['text'] == 'Work Offline'
                         and [p['name'] for p in s['profiles']] == ['default'],
                         'the toggle to follow the daemon')
        self.shell_log.seek(0, os.SEEK_END)
        self.log_start = self.shell_log.tell()

    def tearDown(self):
        self.shell_eval('offlineStateTest.closeQuickSettings()')
        self.shell_eval('offlineStateTest.dismissNotifications()')
        self.shell_log.seek(self.log_start)
        logged = self.shell_log.read()
        type(self).stop_daemon()
        # An exception of the extension's, with its stack: the extension's files in it.
        self.assertNotIn(f'{UUID}/', logged, 'the Shell logged an error of the extension')

    # --- The tests ------------------------------------------------------------------------

    def test_enabled(self):
        '''EnableExtension enabled it without error; the toggle is in Quick Settings.'''
        info = self.extension_info(UUID)
        self.assertEqual(info['state'], ENABLED)
        self.assertEqual(info['error'], '')
        self.assertEqual(self.call_shell(EXTENSIONS_IFACE, 'GetExtensionErrors',
                                         GLib.Variant('(s)', (UUID,)), '(as)')[0], [])
        snapshot = self.shell_eval('offlineStateTest.snapshot()')
        self.assertFalse(snapshot['indicator'])
        self.assertFalse(snapshot['toggle']['menuEnabled'], 'a menu with one profile')

    def test_offlinectl(self):
        '''offlinectl offline checks the toggle and shows the icon; online clears both.'''
        self.offlinectl('offline')
        self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'],
                         'the toggle checked and the icon shown')
        self.offlinectl('online')
        self.shell_until(lambda s: not s['toggle']['checked'] and not s['indicator'],
                         'the toggle unchecked and the icon gone')

    def test_toggle_click(self):
        '''A click on the toggle takes the profile offline, a second one online.'''
        self.open_quick_settings()
        self.click(TOGGLE)
        self.until_daemon(self.default, 'offline, transition 1', State=OFFLINE, Sequence=1,
                          Transitioning=False)
        self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'],
                         'the toggle checked and the icon shown')
        self.click(TOGGLE)
        self.until_daemon(self.default, 'online, transition 2', State=ONLINE, Sequence=2,
                          Transitioning=False)
        self.shell_until(lambda s: not s['toggle']['checked'] and not s['indicator'],
                         'the toggle unchecked and the icon gone')
        self.assertEqual(self.notifications(), [])

    def test_transition_held(self):
        '''A held transition shows as running; a click meanwhile changes nothing.'''
        self.bus.call_sync(BUS_NAME, self.default, EMULATION_IFACE,
                           'SetTransitionDelay', GLib.Variant('(u)', (HOLD_MS,)), None,
                           Gio.DBusCallFlags.NONE, -1, None)
        self.open_quick_settings()
        self.click(TOGGLE)
        self.until_daemon(self.default, 'transition', Transitioning=True)
        self.shell_until(lambda s: s['toggle']['text'] == 'Going offline…'
                         and not s['toggle']['checked'], 'the toggle to show the transition')
        self.click(TOGGLE)
        snapshot = self.shell_eval('offlineStateTest.snapshot()')
        self.assertTrue(self.properties(self.default)['Transitioning'],
                        'the transition ended before the second click: nothing was checked')
        self.assertEqual(snapshot['toggle']['text'], 'Going offline…')
        self.until_daemon(self.default, 'offline, transition 1', HOLD_MS // 1000 + GUARD_S,
                          State=OFFLINE, Transitioning=False)
        self.shell_until(lambda s: s['toggle']['checked'] and s['toggle']['text'] == 'Work Offline',
                         'the toggle to show the end of the transition')
        self.assertEqual(self.properties(self.default)['Sequence'], 1,
                         'the click during the transition started another')
        self.assertEqual(self.notifications(), [], 'the click during the transition was sent')

    def test_errors(self):
        '''A refused change: a notification that names what happened, the toggle on the
        real state.'''
        cases = (
            ('org.offlinestate.OfflineState1.Error.Pending', 'is changing state already',
             'E_PENDING'),
            ('org.freedesktop.DBus.Error.AccessDenied', 'Not allowed to take “default” offline',
             'AccessDenied: injected by Emulation.FailNext'),
            ('org.freedesktop.DBus.Error.Failed', 'Could not take “default” offline',
             'org.freedesktop.DBus.Error.Failed: injected by Emulation.FailNext'),
        )
        self.open_quick_settings()
        for count, (error_name, title, body) in enumerate(cases, start=1):
            self.bus.call_sync(BUS_NAME, self.default, EMULATION_IFACE,
                               'FailNext',
                               GLib.Variant('(ssu)', ('SetCurrentState', error_name, 1)),
                               None, Gio.DBusCallFlags.NONE, -1, None)
            self.click(TOGGLE)
            self.ask_until(lambda: len(self.notifications()) >= count,
                           f'a notification of {error_name}')
            notified_title, notified_body = self.notifications()[-1]
            print(f'# {error_name}: {notified_title}: {notified_body}')
            self.assertIn(title, notified_title)
            self.assertIn(body, notified_body)
            self.shell_until(lambda s: s['toggle']['reactive'] and not s['toggle']['checked']
                             and s['toggle']['text'] == 'Work Offline',
                             'the toggle back on the real state')
        self.assertEqual(self.properties(self.default)['Sequence'], 0)
        self.assertEqual(self.properties(self.default)['State'], ONLINE)

    def test_service_restart(self):
        '''The service stopped: insensitive, no icon; started again: followed again.'''
        self.offlinectl('offline')
        self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'], 'the toggle on')
        type(self).stop_daemon()
        self.shell_until(lambda s: not s['toggle']['reactive'] and not s['indicator']
                         and s['toggle']['text'] == 'Service not running',
                         'the toggle insensitive')
        self.assertIsNone(self.owner(BUS_NAME), 'the extension started the service again')
        type(self).start_daemon()
        self.shell_until(lambda s: s['toggle']['reactive'] and not s['toggle']['checked'],
                         'the toggle live again')
        self.offlinectl('offline')
        self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'],
                         'the toggle following the new instance')

    def test_activation(self):
        '''Enabled while the service is away, the extension's first call starts it.'''
        type(self).stop_daemon()
        self.disable(UUID)
        self.assertIsNone(self.owner(BUS_NAME))
        self.enable(UUID)
        owner = self.wait_for_owner(BUS_NAME, True)
        self.shell_until(lambda s: s['toggle']['reactive'], 'the toggle live')
        self.assertIsNone(type(self).daemon, 'the test started the daemon itself')
        print(f'# the bus activated the daemon as {owner}')

    def test_gnome_extensions(self):
        '''The README's commands: gnome-extensions disables, enables and shows it.'''
        for command, state in (('disable', DISABLED), ('enable', ENABLED)):
            subprocess.run(['gnome-extensions', command, UUID], check=True)
            self.ask_until(lambda: self.extension_info(UUID).get('state') == state,
                           f'gnome-extensions {command}')
        info = subprocess.run(['gnome-extensions', 'info', UUID], check=True,
                              capture_output=True, text=True).stdout
        self.assertIn('State: ENABLED', info)
        self.until_daemon(self.default, 'advise of the extension again', AdviseCount=1)

    def test_disable_leaves_nothing(self):
        '''disable(): no advise left on any profile, no actor, no notification source;
        enabled again, it follows again.'''
        self.offlinectl('create', 'work')
        work = self.profile('work')
        self.until_daemon(work, 'advise of the extension', AdviseCount=1)
        # A notification, so that there is a source to take away.
        self.bus.call_sync(BUS_NAME, self.default, EMULATION_IFACE,
                           'FailNext', GLib.Variant('(ssu)', ('SetCurrentState',
                                                            'org.freedesktop.DBus.Error.Failed',
                                                            1)),
                           None, Gio.DBusCallFlags.NONE, -1, None)
        self.open_quick_settings()
        self.click(TOGGLE)
        self.ask_until(self.notifications, 'a notification')

        self.disable(UUID)
        self.until_daemon(self.default, 'advises after disable()', AdviseCount=0)
        self.until_daemon(work, 'advises after disable()', AdviseCount=0)
        self.assertEqual(self.shell_eval('offlineStateTest.leftovers()'),
                         {'actors': [], 'sources': 0})

        self.enable(UUID)
        self.until_daemon(self.default, 'advise of the extension again', AdviseCount=1)
        self.until_daemon(work, 'advise of the extension again', AdviseCount=1)
        self.shell_until(lambda s: s['toggle']['reactive'], 'the toggle live')

    def test_profiles_menu(self):
        '''More than one profile: the menu lists them, with a switch each; created and
        removed profiles come and go.'''
        self.offlinectl('create', 'work', '--state=offline')
        self.shell_until(lambda s: s['toggle']['menuEnabled'] and s['profiles'] == [
            {'name': 'default', 'state': 'online', 'on': False, 'status': None,
             'reactive': True},
            {'name': 'work', 'state': 'offline', 'on': True, 'status': None, 'reactive': True},
        ], 'the menu to list both profiles, each with its state and its switch')
        self.open_quick_settings()
        self.click(TOGGLE, 'end')
        self.shell_until(lambda s: s['toggle']['menuOpen'], 'the toggle\'s menu to open')
        self.click('offline-state-profile-work')
        self.until_daemon(self.profile('work'), 'work online', State=ONLINE, Sequence=1)
        self.shell_until(lambda s: s['profiles'][1]['state'] == 'online'
                         and not s['profiles'][1]['on'], 'the switch of work off')
        self.assertEqual(self.properties(self.default)['State'], ONLINE)

        self.offlinectl('create', 'home')
        self.shell_until(lambda s: [p['name'] for p in s['profiles']]
                         == ['default', 'home', 'work'], 'a created profile to appear')
        self.offlinectl('remove', 'work')
        self.offlinectl('remove', 'home')
        self.shell_until(lambda s: [p['name'] for p in s['profiles']] == ['default']
                         and not s['toggle']['menuEnabled'], 'removed profiles to go')

    def test_profile_setting(self):
        '''The `profile` setting: the toggle follows another profile, or says it is not
        there.'''
        self.offlinectl('create', 'work', '--state=offline')
        try:
            self.set_setting('profile', 'work')
            self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'],
                             'the toggle to follow work')
            self.set_setting('profile', 'nobody')
            self.shell_until(lambda s: not s['toggle']['reactive']
                             and s['toggle']['text'] == 'No profile “nobody”',
                             'the toggle to say that there is no such profile')
        finally:
            # Made again, the extension opens every profile again: until it has, a call of
            # its own after tearDown has stopped the daemon would start it by activation.
            self.set_setting('profile', 'default')
            self.until_daemon(self.default, 'advise of the extension again', AdviseCount=1)
            self.until_daemon(self.profile('work'), 'advise of the extension again',
                              AdviseCount=1)

    def set_setting(self, key, value):
        self.shell_eval(f'offlineStateTest.setSetting({json.dumps(UUID)}, {json.dumps(key)}, '
                        f'{json.dumps(value)})')

    def test_screenshots(self):
        '''Quick Settings open, with the toggle on and the icon in the top bar; then the
        toggle's menu of profiles: PNG files in the build's meson-logs.'''
        self.offlinectl('offline')
        self.shell_until(lambda s: s['toggle']['checked'] and s['indicator'],
                         'the toggle on and the icon shown')
        self.assertFalse(self.open_quick_settings()['toggle']['menuShown'],
                         'the toggle\'s menu shows, closed')
        self.screenshot(SCREENSHOTS[0])
        self.offlinectl('create', 'Laptop', '--state=offline')
        self.offlinectl('create', 'work')
        self.shell_until(lambda s: len(s['profiles']) == 3
                         and all(p['status'] is None for p in s['profiles']),
                         'the menu to list three profiles')
        self.click(TOGGLE, 'end')
        self.settled(lambda s: s['toggle']['menuOpen'], 'the toggle\'s menu to open')
        self.screenshot(SCREENSHOTS[1])

    def screenshot(self, name):
        self.ask_until(lambda: not self.shell_eval('offlineStateTest.tidy()'),
                       'the banners to go')
        self.settled(lambda s: True, 'the Shell to settle')
        path = os.path.join(os.environ['OFFLINE_STATE_ARTIFACTS_DIR'], name)
        area = self.shell_eval(f'offlineStateTest.screenshot({json.dumps(path)})')
        self.ask_until(lambda: self.shell_eval(f'offlineStateTest.shot({json.dumps(path)})')
                       != 'pending', f'the screenshot {name}')
        self.assertEqual(self.shell_eval(f'offlineStateTest.shot({json.dumps(path)})'), 'done')
        with open(path, 'rb') as png:
            self.assertEqual(png.read(8), b'\x89PNG\r\n\x1a\n')
        print(f'# screenshot ({area[2]}x{area[3]}): {path}')


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
