// SPDX-License-Identifier: LGPL-2.1-or-later
// Copyright 2026 The offline-state authors
//
// Test only: tests/gnome-shell/test-gnome-shell.py installs it in the Shell's temporary
// home, never meson. Enabled, it turns the Shell's unsafe mode on (org.gnome.Shell.Eval
// answers only then, and GNOME 43 has no other switch for it), turns animations off, and
// offers the test `offlineStateTest`: what the extension shows, as JSON, and real pointer
// clicks through a virtual input device, as a user's would come.
/* exported init */

const {Clutter, Gio, GLib, GObject, Shell, St} = imports.gi;
const Main = imports.ui.main;

const SOURCE_TITLE = 'Offline State';
const PROFILE_PREFIX = 'offline-state-profile-';
const SCREENSHOT_MARGIN = 24;

function* descendants(actor) {
    yield actor;
    for (const child of actor.get_children())
        yield* descendants(child);
}

function find(name, root = global.stage) {
    for (const actor of descendants(root)) {
        if (actor.name === name)
            return actor;
    }
    return null;
}

// The text of a quick toggle: 44's title and subtitle, or 43's label.
// Where @actor is on the stage, once laid out; null before.
function placeOf(actor) {
    if (!actor.has_allocation())
        return null;
    return [...actor.get_transformed_position(), ...actor.get_transformed_size()];
}

function toggleText(toggle) {
    if (GObject.Object.find_property.call(toggle.constructor, 'subtitle') !== null)
        return [toggle.title, toggle.subtitle].filter(Boolean).join(' / ');
    return toggle.label;
}

function describeItem(item) {
    return {
        name: item.label.text,
        state: item._state.text,
        on: item.state,
        status: item._statusBin.child === item._statusLabel ? item._statusLabel.text : null,
        reactive: item.reactive,
    };
}

class Helper {
    enable() {
        global.context.unsafe_mode = true;
        St.Settings.get().inhibit_animations();
        const seat = Clutter.get_default_backend().get_default_seat();
        this._pointer = seat.create_virtual_device(Clutter.InputDeviceType.POINTER_DEVICE);
        this._clicks = new Map();
        this._shots = new Map();
        globalThis.offlineStateTest = this;
    }

    disable() {
        delete globalThis.offlineStateTest;
        for (const {actor, id} of this._clicks.values())
            actor?.disconnect(id);
        this._clicks.clear();
        this._pointer.run_dispose();
        this._pointer = null;
        St.Settings.get().uninhibit_animations();
        global.context.unsafe_mode = false;
        Main.panel.statusArea.quickSettings._unsafeMode._syncIndicatorsVisible();
    }

    // What the extension shows now.
    snapshot() {
        const toggle = find('offline-state-toggle');
        const icon = find('offline-state-indicator', Main.panel);
        const quickSettings = Main.panel.statusArea.quickSettings;
        const items = toggle
            ? [...descendants(toggle.menu.actor)].filter(a => a.name?.startsWith(PROFILE_PREFIX))
            : [];
        return {
            toggle: toggle && {
                checked: toggle.checked,
                reactive: toggle.reactive,
                text: toggleText(toggle),
                menuEnabled: toggle.menuEnabled,
                mapped: toggle.mapped,
                pressed: toggle.pressed,
                pointer: global.get_pointer(),
                // Where it is: a click aims there.
                box: placeOf(toggle),
                menuOpen: toggle.menu.isOpen,
                menuShown: toggle.menu.actor.visible,
            },
            indicator: Boolean(icon?.visible && icon.get_parent().visible),
            profiles: items.map(describeItem),
            quickSettingsOpen: quickSettings.menu.isOpen,
            // Where the open menu is: a screenshot frames it.
            menuBox: placeOf(quickSettings.menu._boxPointer),
        };
    }

    // What the extension left in the Shell (after disable(): nothing).
    leftovers() {
        const actors = [...descendants(global.stage)]
            .filter(a => a.name?.startsWith('offline-state-')).map(a => a.name);
        const sources = Main.messageTray.getSources().filter(s => s.title === SOURCE_TITLE);
        return {actors, sources: sources.length};
    }

    notifications() {
        return Main.messageTray.getSources()
            .filter(s => s.title === SOURCE_TITLE)
            .flatMap(s => s.notifications.map(n => [n.title, n.bannerBodyText]));
    }

    dismissNotifications() {
        Main.messageTray.getSources()
            .filter(s => s.title === SOURCE_TITLE)
            .forEach(s => s.destroy());
    }

    // A click (press and release of the primary button) at the middle of the actor named
    // @name, or of its right end (a quick toggle's menu arrow); false if it is not shown.
    click(name, where = 'middle') {
        const actor = find(name);
        if (!actor?.mapped)
            return false;
        const [x, y] = actor.get_transformed_position();
        const [width, height] = actor.get_transformed_size();
        const at = [where === 'end' ? x + width - height / 2 : x + width / 2, y + height / 2];
        // What takes the click there: the actor, or a button of its own (the menu arrow).
        const target = global.stage.get_actor_at_pos(Clutter.PickMode.REACTIVE, ...at);
        if (!actor.contains(target))
            return false;
        this._countClicks(name, target);
        this._clickAt(...at);
        return {at, target: `${target.constructor.name} ${target.name}`};
    }

    // How many times what took the clicks on the actor named @name emitted clicked (a
    // button) or activate (a menu item), since click() first aimed there.
    clicks(name) {
        return this._clicks.get(name)?.count ?? 0;
    }

    openQuickSettings() {
        const button = Main.panel.statusArea.quickSettings;
        const [x, y] = button.get_transformed_position();
        const [width, height] = button.get_transformed_size();
        this._clickAt(x + width / 2, y + height / 2);
    }

    closeQuickSettings() {
        Main.panel.closeQuickSettings();
    }

    // For a screenshot as a user's session would look: no banner of other notifications
    // (the Shell's own, about unsafe mode among them), no icon of unsafe mode in the top
    // bar. Returns whether a banner is still shown.
    tidy() {
        Main.messageTray.getSources()
            .filter(s => s.title !== SOURCE_TITLE)
            .forEach(s => s.destroy());
        Main.panel.statusArea.quickSettings._unsafeMode.hide();
        return Main.messageTray._banner !== null;
    }

    // Starts a screenshot of the open Quick Settings menu (with the top bar above it) into
    // @path; shot(@path) says when it is written.
    screenshot(path) {
        const boxPointer = Main.panel.statusArea.quickSettings.menu._boxPointer;
        const [x, y] = boxPointer.get_transformed_position();
        const [width, height] = boxPointer.get_transformed_size();
        const left = Math.max(0, Math.floor(x - SCREENSHOT_MARGIN));
        const right = Math.min(global.stage.width, Math.ceil(x + width + SCREENSHOT_MARGIN));
        const bottom = Math.min(global.stage.height, Math.ceil(y + height + SCREENSHOT_MARGIN));
        const stream = Gio.File.new_for_path(path).replace(null, false,
            Gio.FileCreateFlags.NONE, null);
        this._shots.set(path, 'pending');
        new Shell.Screenshot().screenshot_area(left, 0, right - left, bottom, stream,
            (shooter, result) => {
                try {
                    shooter.screenshot_area_finish(result);
                    stream.close(null);
                    this._shots.set(path, 'done');
                } catch (e) {
                    this._shots.set(path, `failed: ${e.message}`);
                }
            });
        return [left, 0, right - left, bottom];
    }

    shot(path) {
        return this._shots.get(path) ?? null;
    }

    // Sets a string key of the settings of the extension @uuid; with the Shell's memory
    // backend, the extension's own settings object hears it.
    setSetting(uuid, key, value) {
        const extension = Main.extensionManager.lookup(uuid);
        const source = Gio.SettingsSchemaSource.new_from_directory(
            extension.dir.get_child('schemas').get_path(),
            Gio.SettingsSchemaSource.get_default(), false);
        const schema = source.lookup(extension.metadata['settings-schema'], false);
        new Gio.Settings({settings_schema: schema}).set_string(key, value);
    }

    _countClicks(name, actor) {
        const known = this._clicks.get(name);
        if (known?.actor === actor)
            return;
        known?.actor?.disconnect(known.id);
        // Counted on from the actor's predecessor: the test compares with what it read.
        const counter = {actor, count: known?.count ?? 0};
        const signal = actor instanceof St.Button ? 'clicked' : 'activate';
        counter.id = actor.connect(signal, () => counter.count++);
        actor.connect('destroy', () => (counter.actor = null));
        this._clicks.set(name, counter);
    }

    _clickAt(x, y) {
        const now = GLib.get_monotonic_time();
        this._pointer.notify_absolute_motion(now, x, y);
        this._pointer.notify_button(now + 1, Clutter.BUTTON_PRIMARY,
            Clutter.ButtonState.PRESSED);
        this._pointer.notify_button(now + 2, Clutter.BUTTON_PRIMARY,
            Clutter.ButtonState.RELEASED);
    }
}

function init() {
    return new Helper();
}
