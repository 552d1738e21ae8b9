// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// What the extension adds to the Shell: an icon in the top bar's system area while the
// followed profile is offline, and the toggle in Quick Settings.
/* exported OfflineIndicator */

const {GObject, OfflineState} = imports.gi;
const {PopupAnimation} = imports.ui.boxpointer;
const {SystemIndicator} = imports.ui.quickSettings;
const ExtensionUtils = imports.misc.extensionUtils;

const Me = ExtensionUtils.getCurrentExtension();
const {Notifier} = Me.imports.notifier;
const {Service} = Me.imports.service;
const {ICON_NAME, OfflineToggle} = Me.imports.toggle;

var OfflineIndicator = GObject.registerClass(
class OfflineIndicator extends SystemIndicator {
    // Follows @profile of the service on @connection.
    _init(connection, profile) {
        super._init();
        this._profile = profile;
        this._icon = this._addIndicator();
        this._icon.icon_name = ICON_NAME;
        this._icon.name = 'offline-state-indicator';

        this._notifier = new Notifier();
        this._service = new Service(connection,
            (name, state, error) => this._notifier.failed(name, state, error));
        this.quickSettingsItems.push(new OfflineToggle(this._service, profile));

        this._service.connectObject(
            'profiles-changed', () => this._sync(),
            'profile-changed', (s, name) => {
                if (name === profile)
                    this._sync();
            },
            this);
        this.connect('destroy', () => this._destroyed());
        this._sync();
    }

    _sync() {
        const client = this._service.client(this._profile);
        this._icon.visible = Boolean(client?.available) &&
            client.state === OfflineState.State.OFFLINE;
    }

    // Quick Settings does not destroy a toggle's menu with the toggle (43, 44). The menu
    // goes after the toggle has left the grid, whose layout looks at the menus of its
    // toggles.
    _destroyed() {
        for (const item of this.quickSettingsItems) {
            const menu = item.menu;
            menu.close(PopupAnimation.NONE);
            item.destroy();
            menu.destroy();
        }
        this.quickSettingsItems = [];
        this._service.disconnectObject(this);
        this._service.destroy();
        this._notifier.destroy();
    }
});
