// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// A state change that failed, told in a Shell notification. The notifications come from a
// message tray source of the extension's own, which goes with it.
/* exported Notifier, SOURCE_TITLE */

const {Gio, OfflineState} = imports.gi;
const Main = imports.ui.main;
const MessageTray = imports.ui.messageTray;

var SOURCE_TITLE = 'Offline State';
const ICON_NAME = 'network-offline-symbolic';
const PENDING = 'org.offlinestate.OfflineState1.Error.Pending';
const ACCESS_DENIED = 'org.freedesktop.DBus.Error.AccessDenied';

// [title, body] of the notification for @error, which setting @profile to @state gave.
function describe(profile, state, error) {
    const offline = state === OfflineState.State.OFFLINE;
    const change = offline ? `take “${profile}” offline` : `bring “${profile}” online`;
    let remote = null;
    if (Gio.DBusError.is_remote_error(error)) {
        remote = Gio.DBusError.get_remote_error(error);
        Gio.DBusError.strip_remote_error(error);
    }
    if (remote === PENDING) {
        return [`“${profile}” is changing state already`,
            `E_PENDING: a transition of “${profile}” is under way, so it was not ` +
            `${offline ? 'taken offline' : 'brought online'}. Try again once it is over.`];
    }
    if (remote === ACCESS_DENIED)
        return [`Not allowed to ${change}`, `AccessDenied: ${error.message}`];
    return [`Could not ${change}`, `${remote ?? 'Error'}: ${error.message}`];
}

var Notifier = class {
    constructor() {
        this._source = null;
    }

    failed(profile, state, error) {
        const [title, body] = describe(profile, state, error);
        console.warn(`offline-state: ${title}: ${body}`);
        if (!this._source) {
            this._source = new MessageTray.Source(SOURCE_TITLE, ICON_NAME);
            this._source.connect('destroy', () => (this._source = null));
            Main.messageTray.add(this._source);
        }
        this._source.showNotification(new MessageTray.Notification(this._source, title, body));
    }

    destroy() {
        this._source?.destroy();
    }
};
