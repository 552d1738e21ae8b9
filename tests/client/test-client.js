// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// liboffline-state from GJS through GObject Introspection: the typelib and the library
// from the build folder (GI_TYPELIB_PATH, LD_LIBRARY_PATH), the daemon from OFFLINE_STATED,
// on a private bus (Gio.TestDBus). TAP output.

imports.gi.versions.Gio = '2.0';
imports.gi.versions.OfflineState = '1.0';
const {GLib, Gio, OfflineState} = imports.gi;
const System = imports.system;

const BUS_NAME = 'org.offlinestate.OfflineState1';
const WAIT_MS = 10000;

let count = 0;
let failed = 0;

function check(condition, what) {
    count++;
    if (!condition)
        failed++;
    print(`${condition ? 'ok' : 'not ok'} ${count} - ${what}`);
}

function bailOut(why) {
    print(`Bail out! ${why}`);
    System.exit(1);
}

// Iterates the main context until predicate() holds; fails after WAIT_MS.
function waitUntil(predicate, what) {
    const context = GLib.MainContext.default();
    let timedOut = false;
    const timeout = GLib.timeout_add(GLib.PRIORITY_DEFAULT, WAIT_MS, () => {
        timedOut = true;
        return GLib.SOURCE_REMOVE;
    });
    while (!predicate() && !timedOut)
        context.iteration(true);
    if (timedOut)
        bailOut(`waited ${WAIT_MS} ms for ${what}`);
    GLib.source_remove(timeout);
}

// Gio.TestDBus forks a watcher, a copy of this process that stops the bus daemon should
// this process die. When this process exits, the watcher calls exit() itself, and in a fork
// of gjs that hangs in SpiderMonkey's destructors (their threads exist only in the
// parent), keeping the test's output open for ever. Once the bus is down the watcher has
// nothing left to do: stop it here, without exit().
function stopTestDBusWatcher() {
    const pid = new Gio.Credentials().get_unix_pid();
    const self = GLib.file_read_link('/proc/self/exe');
    const tasks = Gio.File.new_for_path(`/proc/${pid}/task`);
    const children = [];
    const enumerator = tasks.enumerate_children('standard::name', Gio.FileQueryInfoFlags.NONE,
        null);
    for (let info = enumerator.next_file(null); info; info = enumerator.next_file(null)) {
        const [, bytes] = GLib.file_get_contents(`/proc/${pid}/task/${info.get_name()}/children`);
        children.push(...new TextDecoder().decode(bytes).split(' ').filter(c => c.trim()));
    }
    for (const child of children) {
        let exe = null;
        try {
            exe = GLib.file_read_link(`/proc/${child}/exe`);
        } catch (e) {
            continue;
        }
        if (exe !== self)
            continue;
        let reaped = false;
        GLib.child_watch_add(GLib.PRIORITY_DEFAULT, Number(child), () => {
            reaped = true;
        });
        Gio.Subprocess.new(['kill', '-KILL', child], Gio.SubprocessFlags.NONE).wait(null);
        waitUntil(() => reaped, 'the TestDBus watcher to stop');
    }
}

function startDaemon(connection) {
    let appeared = false;
    const watch = Gio.bus_watch_name_on_connection(connection, BUS_NAME,
        Gio.BusNameWatcherFlags.NONE, () => {
            appeared = true;
        }, null);
    const daemon = Gio.Subprocess.new([GLib.getenv('OFFLINE_STATED'), '--ephemeral'],
        Gio.SubprocessFlags.NONE);
    let exited = false;
    daemon.wait_async(null, () => {
        exited = true;
    });
    waitUntil(() => appeared || exited, 'the daemon on the bus');
    Gio.bus_unwatch_name(watch);
    if (!appeared)
        bailOut('the daemon exited before it owned its name');
    return daemon;
}

function openClient(connection, profile) {
    const box = {};
    OfflineState.Client.new(connection, profile, null, (source, result) => {
        try {
            box.client = OfflineState.Client.new_finish(result);
        } catch (e) {
            box.error = e;
        }
    });
    waitUntil(() => box.client || box.error, 'the client to open');
    return box;
}

function testTransition(connection) {
    const {client, error} = openClient(connection, 'default');
    check(client && !error, 'the default profile opens');
    check(client.state === OfflineState.State.ONLINE, 'state is ONLINE');
    check(client.online === true, 'online is true');
    check(client.capabilities ===
          (OfflineState.Capabilities.OFFLINE | OfflineState.Capabilities.ONLINE),
    'capabilities are OFFLINE | ONLINE');
    check(client.sequence === 0, 'sequence is 0');
    check(client.available === true, 'available is true');

    const notes = [];
    const states = [];
    client.connect('notification', (c, phase, mask, oldState, newState, sequence) => {
        notes.push({phase, mask, oldState, newState, sequence, stateThen: c.state});
    });
    client.connect('notify::state', c => states.push(c.state));

    let done = null;
    client.set_state_async(OfflineState.State.OFFLINE, true, null, (source, result) => {
        try {
            done = {ok: source.set_state_finish(result)};
        } catch (e) {
            done = {error: e};
        }
    });
    waitUntil(() => done !== null, 'set_state_async to finish');
    check(done.ok === true, `set_state_async(OFFLINE, block) succeeds ${done.error ?? ''}`);
    const {START, STATECHANGE, DONE} = OfflineState.Phase;
    check(JSON.stringify(notes.map(n => n.phase)) === JSON.stringify([START, STATECHANGE, DONE]),
        `notifications START, STATECHANGE, DONE: ${notes.map(n => n.phase)}`);
    check(notes.every(n => n.mask === 0x3 && n.oldState === OfflineState.State.ONLINE &&
        n.newState === OfflineState.State.OFFLINE && n.sequence === 1),
    'each carries mask 0x3, ONLINE -> OFFLINE, sequence 1');
    check(notes.length === 3 && notes[1].stateThen === OfflineState.State.OFFLINE,
        'at STATECHANGE the state property is already OFFLINE');
    check(JSON.stringify(states) === JSON.stringify([OfflineState.State.OFFLINE]),
        'notify::state once, to OFFLINE');
    check(client.online === false && client.sequence === 1 && client.transitioning === false,
        'online false, sequence 1, transitioning false');
    check(OfflineState.state_to_string(client.state) === 'offline', 'state_to_string');

    // During a transition: Error.Pending.
    const path = client.object_path;
    connection.call_sync(BUS_NAME, path, 'org.offlinestate.OfflineState1.Emulation',
        'SetTransitionDelay', new GLib.Variant('(u)', [2000]), null,
        Gio.DBusCallFlags.NONE, -1, null);
    check(client.set_state_sync(OfflineState.State.ONLINE, false, null),
        'set_state_sync(ONLINE, no block) succeeds');
    let remote = null;
    try {
        client.set_state_sync(OfflineState.State.OFFLINE, false, null);
    } catch (e) {
        remote = Gio.DBusError.get_remote_error(e);
    }
    check(remote === 'org.offlinestate.OfflineState1.Error.Pending',
        `meanwhile it fails with Error.Pending (${remote})`);
    waitUntil(() => notes.length === 6 && !client.transitioning, 'the second transition to end');
    check(notes[5].phase === DONE && notes[5].sequence === 2 && client.online === true,
        'the second transition ends online, number 2');
    return client;
}

function testProfiles(connection) {
    const {client, error} = openClient(connection, 'nobody');
    check(!client && error, 'an unknown profile fails to open');
    check(error && Gio.DBusError.get_remote_error(error) ===
          'org.offlinestate.OfflineState1.Error.NotFound',
    'with org.offlinestate.OfflineState1.Error.NotFound');
    check(JSON.stringify(OfflineState.list_profiles_sync(connection, null)) ===
          JSON.stringify(['default']), 'list_profiles_sync: default');
    check(OfflineState.create_profile_sync(connection, 'work',
        OfflineState.Capabilities.OFFLINE, OfflineState.State.OFFLINE, null),
    'create_profile_sync');
    check(JSON.stringify(OfflineState.list_profiles_sync(connection, null)) ===
          JSON.stringify(['default', 'work']), 'list_profiles_sync: default, work');
    check(OfflineState.remove_profile_sync(connection, 'work', null), 'remove_profile_sync');
}

print('1..23');
const bus = Gio.TestDBus.new(Gio.TestDBusFlags.NONE);
bus.up();
// A connection of its own, so that TestDBus.down() need not wait for the session singleton.
const connection = Gio.DBusConnection.new_for_address_sync(bus.get_bus_address(),
    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT |
    Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, null, null);
const daemon = startDaemon(connection);
try {
    testTransition(connection);
    testProfiles(connection);
} finally {
    daemon.send_signal(15);
    let exited = false;
    daemon.wait_async(null, () => {
        exited = true;
    });
    waitUntil(() => exited, 'the daemon to exit');
    check(daemon.get_if_exited() && daemon.get_exit_status() === 0, 'the daemon exits cleanly');
    connection.close_sync(null);
    bus.down();
    stopTestDBusWatcher();
}
System.exit(failed === 0 ? 0 : 1);
