// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// Offline State for GNOME Shell 43 and 44 (legacy `imports` modules): a "Work Offline"
// toggle in Quick Settings and an icon in the top bar while the followed profile is
// offline, on the project's client library (OfflineState 1.0, through GObject
// Introspection). Everything that enable() makes, disable() destroys: the toggle, the icon,
// the clients (which unadvise), the bus watches and subscriptions, the notifications.
/* exported init */

const {Gio, GIRepository, GLib} = imports.gi;
const ExtensionUtils = imports.misc.extensionUtils;
const Main = imports.ui.main;

const Me = ExtensionUtils.getCurrentExtension();
const TYPELIB = 'OfflineState-1.0.typelib';

// A prefix such as /usr/local puts the typelib where the Shell's GObject Introspection
// does not look: meson wrote the install's folders into paths.js. They are used only when
// the typelib is nowhere else (GI_TYPELIB_PATH, the system's folders).
function findLibrary() {
    const searched = GIRepository.Repository.get_search_path();
    if (searched.some(dir => GLib.file_test(GLib.build_filenamev([dir, TYPELIB]),
        GLib.FileTest.EXISTS)))
        return;
    const {typelibDir, libraryDir} = Me.imports.paths;
    GIRepository.Repository.prepend_search_path(typelibDir);
    GIRepository.Repository.prepend_library_path(libraryDir);
}

// Quick Settings has no public way in for extensions before GNOME 45
// (addExternalIndicator): its indicator box and _addItems(), as in 43 and 44.
function addToQuickSettings(indicator) {
    const quickSettings = Main.panel.statusArea.quickSettings;
    if (typeof quickSettings.addExternalIndicator === 'function') {
        quickSettings.addExternalIndicator(indicator);
        return;
    }
    quickSettings._indicators.insert_child_at_index(indicator, 0);
    quickSettings._addItems(indicator.quickSettingsItems);
    // 44 puts the background apps last, across the whole width: stay above them.
    const last = quickSettings._backgroundApps?.quickSettingsItems?.[0];
    if (last) {
        for (const item of indicator.quickSettingsItems)
            quickSettings.menu._grid.set_child_below_sibling(item, last);
    }
}

class Extension {
    enable() {
        const {OfflineIndicator} = Me.imports.indicator;
        this._settings = ExtensionUtils.getSettings();
        // Another profile or bus: everything is made again.
        this._settings.connectObject('changed', () => this._follow(OfflineIndicator), this);
        this._follow(OfflineIndicator);
    }

    disable() {
        this._settings.disconnectObject(this);
        this._settings = null;
        this._indicator?.destroy();
        this._indicator = null;
    }

    _follow(OfflineIndicator) {
        this._indicator?.destroy();
        this._indicator = null;
        const connection = this._settings.get_string('bus') === 'system'
            ? Gio.DBus.system : Gio.DBus.session;
        this._indicator = new OfflineIndicator(connection, this._settings.get_string('profile'));
        addToQuickSettings(this._indicator);
    }
}

function init() {
    findLibrary();
    imports.gi.versions.OfflineState = '1.0';
    return new Extension();
}
