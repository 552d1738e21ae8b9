#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# A client of the system service, run as an unprivileged user on a bus with the system
# bus's policy: it advises the default profile twice (a callback object, and the signal),
# takes the profile offline with MAPIOFFLINE_FLAG_BLOCK, and prints what reached it, so
# that the policy is seen to let both ways through.
#
# Usage: system-client.py ADDRESS
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

NAME = "org.offlinestate.OfflineState1"
MANAGER = NAME + ".Manager"
OFFLINE_MGR = NAME + ".OfflineMgr"
CALLBACK_PATH = "/client/callback"
TIMEOUT_MS = 20000
NOTIFY_XML = f"""
<node>
  <interface name="{NAME}.OfflineNotify">
    <method name="Notify">
      <arg type="u" direction="in"/><arg type="u" direction="in"/><arg type="u" direction="in"/>
      <arg type="u" direction="in"/><arg type="u" direction="in"/><arg type="t" direction="in"/>
    </method>
  </interface>
</node>
"""
PHASES = {1: "START", 2: "STATECHANGE", 3: "DONE"}


def main(address):
    connection = Gio.DBusConnection.new_for_address_sync(
        address,
        Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
        None,
        None,
    )
    received = {"Notify": [], "StateChanged": []}

    def on_notify(conn, sender, path, interface, method, parameters, invocation):
        received["Notify"].append(parameters.unpack()[0])
        invocation.return_value(None)

    def on_signal(conn, sender, path, interface, signal, parameters):
        received["StateChanged"].append(parameters.unpack()[0])

    interface = Gio.DBusNodeInfo.new_for_xml(NOTIFY_XML).interfaces[0]
    connection.register_object(CALLBACK_PATH, interface, on_notify, None, None)

    (path,) = connection.call_sync(
        NAME, "/org/offlinestate/OfflineState1", MANAGER, "OpenOfflineObject",
        GLib.Variant("(ss)", ("default", "")), GLib.VariantType("(o)"),
        Gio.DBusCallFlags.NONE, TIMEOUT_MS, None,
    )
    connection.signal_subscribe(
        NAME, OFFLINE_MGR, "StateChanged", path, None, Gio.DBusSignalFlags.NONE, on_signal
    )
    for callback in (CALLBACK_PATH, "/"):
        connection.call_sync(
            NAME, path, OFFLINE_MGR, "Advise",
            GLib.Variant("(uuuouu)", (0, 7, 0, callback, 1, 3)), GLib.VariantType("(u)"),
            Gio.DBusCallFlags.NONE, TIMEOUT_MS, None,
        )

    # BLOCK: the reply comes after DONE, and the service sent everything before it.
    loop = GLib.MainLoop()
    outcome = []

    def on_reply(conn, result):
        try:
            conn.call_finish(result)
            outcome.append("returned")
        except GLib.Error as error:
            outcome.append("failed: " + error.message)
        loop.quit()

    connection.call(
        NAME, path, OFFLINE_MGR, "SetCurrentState", GLib.Variant("(uuu)", (0x2000, 3, 1)),
        None, Gio.DBusCallFlags.NONE, TIMEOUT_MS, None, on_reply,
    )
    loop.run()

    print("SetCurrentState", outcome[0])
    for kind, phases in received.items():
        print(kind, " ".join(PHASES.get(p, str(p)) for p in phases))
    return 0 if outcome[0] == "returned" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
