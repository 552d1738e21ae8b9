// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// The service as the Shell follows it: the names of its profiles, an OfflineState.Client
// for each (each advises), and the state changes asked from here. Nothing waits: every
// call is async, and the Shell's main loop only ever gets replies and signals.
/* exported Service, BUS_NAME */

const {Gio, GLib, GObject, OfflineState} = imports.gi;

var BUS_NAME = 'org.offlinestate.OfflineState1';
const MANAGER_PATH = '/org/offlinestate/OfflineState1';
const MANAGER_INTERFACE = `${BUS_NAME}.Manager`;
const PROPERTIES_INTERFACE = 'org.freedesktop.DBus.Properties';

function isCancelled(error) {
    return error instanceof GLib.Error &&
        error.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED);
}

var Service = GObject.registerClass({
    Signals: {
        // The names of the profiles changed, or the service came or went.
        'profiles-changed': {},
        // What a profile shows changed: its client opened or went, one of the client's
        // properties changed, or a call of ours on it began or ended.
        'profile-changed': {param_types: [GObject.TYPE_STRING]},
    },
}, class Service extends GObject.Object {
    // @onFailure(profile, state, error): a state change asked through setState() failed.
    _init(connection, onFailure) {
        super._init();
        this._connection = connection;
        this._onFailure = onFailure;
        this._cancellable = new Gio.Cancellable();
        this._listing = null;
        this._present = false;
        this._listed = false;
        this._names = [];
        this._clients = new Map();
        this._opening = new Map();
        // What a transition goes to: asked by us (until the reply), or told by the
        // service's notifications (until DONE).
        this._asked = new Map();
        this._told = new Map();

        this._watchId = Gio.bus_watch_name_on_connection(connection, BUS_NAME,
            Gio.BusNameWatcherFlags.NONE,
            () => this._appeared(),
            () => this._vanished());
        this._subscriptionId = connection.signal_subscribe(BUS_NAME, PROPERTIES_INTERFACE,
            'PropertiesChanged', MANAGER_PATH, MANAGER_INTERFACE, Gio.DBusSignalFlags.NONE,
            (c, sender, path, iface, signal, parameters) => this._managerChanged(parameters));
        // The first call may start the service (D-Bus activation); from then on it is
        // only followed: nothing here calls it while it is away.
        this._list();
    }

    // Whether the service owns its name.
    get present() {
        return this._present;
    }

    // The profiles' names as the service last listed them, sorted; null before it has.
    get profiles() {
        return this._listed ? [...this._names] : null;
    }

    // The open client of @name, or null.
    client(name) {
        return this._clients.get(name) ?? null;
    }

    // The state that @name is going to: undefined when it is not changing; null when it
    // is, but nobody told us which way.
    target(name) {
        if (this._asked.has(name))
            return this._asked.get(name);
        if (this._clients.get(name)?.transitioning)
            return this._told.get(name) ?? null;
        return undefined;
    }

    // Asks for @state with BLOCK; false (and nothing asked) while @name is unavailable or
    // changing already.
    setState(name, state) {
        const client = this._clients.get(name);
        if (!client?.available || this.target(name) !== undefined)
            return false;
        this._asked.set(name, state);
        client.set_state_async(state, true, this._cancellable, (source, result) => {
            try {
                source.set_state_finish(result);
            } catch (e) {
                if (isCancelled(e))
                    return;
                this._onFailure(name, state, e);
            }
            this._asked.delete(name);
            this.emit('profile-changed', name);
        });
        this.emit('profile-changed', name);
        return true;
    }

    destroy() {
        this._cancellable.cancel();
        this._listing?.cancel();
        Gio.bus_unwatch_name(this._watchId);
        this._connection.signal_unsubscribe(this._subscriptionId);
        for (const name of new Set([...this._clients.keys(), ...this._opening.keys()]))
            this._forget(name);
        this._asked.clear();
        this._connection = null;
    }

    _appeared() {
        this._present = true;
        this._list();
    }

    _vanished() {
        this._present = false;
        this.emit('profiles-changed');
    }

    _list() {
        this._listing?.cancel();
        const cancellable = new Gio.Cancellable();
        this._listing = cancellable;
        OfflineState.list_profiles(this._connection, cancellable, (source, result) => {
            let names;
            try {
                names = OfflineState.list_profiles_finish(result);
            } catch (e) {
                // Not there, and not activatable: followed once it appears.
                if (!isCancelled(e))
                    console.debug(`offline-state: listing the profiles failed: ${e.message}`);
                return;
            }
            this._setNames(names);
        });
    }

    _managerChanged(parameters) {
        const [, changed, invalidated] = parameters.deepUnpack();
        if ('Profiles' in changed)
            this._setNames(changed['Profiles'].deepUnpack());
        else if (invalidated.includes('Profiles'))
            this._list();
    }

    _setNames(names) {
        this._names = names;
        this._listed = true;
        for (const name of new Set([...this._clients.keys(), ...this._opening.keys()])) {
            if (!names.includes(name))
                this._forget(name);
        }
        for (const name of names) {
            if (!this._clients.has(name) && !this._opening.has(name))
                this._open(name);
        }
        this.emit('profiles-changed');
    }

    _open(name) {
        const cancellable = new Gio.Cancellable();
        this._opening.set(name, cancellable);
        OfflineState.Client.new(this._connection, name, cancellable, (source, result) => {
            let client;
            try {
                client = OfflineState.Client.new_finish(result);
            } catch (e) {
                // What it advised before it failed goes now, not when it is collected.
                source?.run_dispose();
                if (isCancelled(e))
                    return;
                this._opening.delete(name);
                console.debug(`offline-state: opening '${name}' failed: ${e.message}`);
                return;
            }
            this._opening.delete(name);
            this._clients.set(name, client);
            client.connectObject(
                'notify', () => this._clientChanged(name),
                'notification', (c, phase, mask, oldState, newState) =>
                    this._notified(name, phase, newState),
                this);
            this.emit('profile-changed', name);
        });
    }

    _clientChanged(name) {
        if (!this._clients.get(name)?.transitioning)
            this._told.delete(name);
        this.emit('profile-changed', name);
    }

    _notified(name, phase, newState) {
        if (phase === OfflineState.Phase.DONE)
            this._told.delete(name);
        else
            this._told.set(name, newState);
        this.emit('profile-changed', name);
    }

    // Stops following @name: its opening is cancelled, its client unadvises.
    _forget(name) {
        this._opening.get(name)?.cancel();
        this._opening.delete(name);
        const client = this._clients.get(name);
        this._clients.delete(name);
        this._told.delete(name);
        if (client) {
            client.disconnectObject(this);
            client.run_dispose();
        }
    }
});
