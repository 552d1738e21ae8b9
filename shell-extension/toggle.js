// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// The "Work Offline" toggle of Quick Settings, for one profile, and its menu of every
// profile when there is more than one.
/* exported OfflineToggle, ICON_NAME */

const {Clutter, GObject, OfflineState, St} = imports.gi;
const PopupMenu = imports.ui.popupMenu;
const {PopupAnimation} = imports.ui.boxpointer;
const {QuickMenuToggle, QuickToggle} = imports.ui.quickSettings;

var ICON_NAME = 'network-offline-symbolic';
const TITLE = 'Work Offline';
const {OFFLINE, ONLINE} = OfflineState.State;
// GNOME 44 gives a quick toggle a title and a subtitle; 43 has a single label.
const HAS_SUBTITLE = GObject.Object.find_property.call(QuickToggle, 'subtitle') !== null;

// What a profile going to @target says (Service.target()); null when it is not changing.
function changing(target) {
    if (target === undefined)
        return null;
    if (target === null)
        return 'Changing state…';
    return target === OFFLINE ? 'Going offline…' : 'Going online…';
}

// A profile in the menu: its name, its state, and a switch that is on while it is offline.
const ProfileItem = GObject.registerClass(
class ProfileItem extends PopupMenu.PopupSwitchMenuItem {
    _init(name) {
        super._init(name, false);
        this.name = `offline-state-profile-${name}`;
        this._state = new St.Label({
            style_class: 'offline-state-profile-state',
            y_expand: true,
            y_align: Clutter.ActorAlign.CENTER,
        });
        this.insert_child_above(this._state, this.label);
    }

    // While the profile is changing, or away, a status stands where the switch was.
    sync(client, target) {
        if (!client?.available) {
            this._state.text = '';
            this.setToggleState(false);
            this.setStatus('unavailable');
            return;
        }
        this._state.text = OfflineState.state_to_string(client.state);
        this.setToggleState(client.state === OFFLINE);
        this.setStatus(changing(target));
    }
});

var OfflineToggle = GObject.registerClass(
class OfflineToggle extends QuickMenuToggle {
    _init(service, profile) {
        super._init({name: 'offline-state-toggle', iconName: ICON_NAME});
        this._service = service;
        this._profile = profile;
        this._items = new Map();

        this.menu.setHeader(ICON_NAME, 'Offline State',
            'A switch is on while its profile is offline');
        this._section = new PopupMenu.PopupMenuSection();
        this.menu.addMenuItem(this._section);

        this.connect('clicked', () => this._clicked());
        // GNOME 43 hides a closing menu at the end of its animation, which Quick Settings
        // closing meanwhile stops: the menu would show again, closed, on the next opening.
        this.connect('notify::mapped', () => {
            if (!this.mapped && !this.menu.isOpen)
                this.menu.actor.hide();
        });
        service.connectObject(
            'profiles-changed', () => this._sync(),
            'profile-changed', (s, name) => this._profileChanged(name),
            this);
        this._sync();
    }

    _clicked() {
        const client = this._service.client(this._profile);
        // Refused while the service is away or the profile is changing already.
        if (client)
            this._service.setState(this._profile, client.state === OFFLINE ? ONLINE : OFFLINE);
    }

    _profileChanged(name) {
        if (name === this._profile)
            this._syncToggle();
        this._items.get(name)?.sync(this._service.client(name), this._service.target(name));
    }

    _sync() {
        this._syncToggle();
        this._syncItems();
    }

    // Checked while the profile is offline; insensitive while it is unavailable.
    _syncToggle() {
        const client = this._service.client(this._profile);
        const live = client?.available ?? false;
        this.reactive = live;
        this.checked = live && client.state === OFFLINE;
        this._setText(live ? changing(this._service.target(this._profile)) : this._absence());
    }

    _absence() {
        if (!this._service.present)
            return 'Service not running';
        const profiles = this._service.profiles;
        if (profiles && !profiles.includes(this._profile))
            return `No profile “${this._profile}”`;
        return 'Connecting…';
    }

    // @status says what keeps the toggle from its usual self, or is null.
    _setText(status) {
        if (HAS_SUBTITLE) {
            this.title = TITLE;
            this.subtitle = status ?? (this._profile === 'default' ? null : this._profile);
        } else {
            this.label = status ?? TITLE;
        }
    }

    _syncItems() {
        const names = this._service.present ? this._service.profiles ?? [] : [];
        for (const [name, item] of this._items) {
            if (!names.includes(name)) {
                item.destroy();
                this._items.delete(name);
            }
        }
        names.forEach((name, position) => {
            let item = this._items.get(name);
            if (!item) {
                item = new ProfileItem(name);
                item.connect('toggled', (i, on) => this._switched(name, on));
                this._section.addMenuItem(item, position);
                this._items.set(name, item);
            }
            item.sync(this._service.client(name), this._service.target(name));
        });
        this.menuEnabled = names.length > 1;
        if (!this.menuEnabled)
            this.menu.close(PopupAnimation.NONE);
    }

    _switched(name, on) {
        // Refused: the switch goes back to what the profile is.
        if (!this._service.setState(name, on ? OFFLINE : ONLINE))
            this._profileChanged(name);
    }
});
