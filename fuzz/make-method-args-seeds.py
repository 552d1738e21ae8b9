#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# Writes the seeds of fuzz-method-args into corpus/fuzz-method-args/: one scenario a file,
# in the target's input format (see fuzz-method-args.c). Run it again after changing
# that format: fuzz/make-method-args-seeds.py
import os
import sys

from gi.repository import GLib

# The target's Op enum, in order.
OPS = {
    "OpenOfflineObject": ("(ss)", 0),
    "CreateOfflineObject": ("(suu)", 1),
    "RemoveOfflineObject": ("(s)", 2),
    "SetCurrentState": ("(uuu)", 3),
    "GetCapabilities": ("()", 4),
    "GetCurrentState": ("()", 5),
    "Advise": ("(uuuouu)", 6),
    "Unadvise": ("(uu)", 7),
    "SetCapabilities": ("(u)", 8),
    "SetTransitionDelay": ("(u)", 9),
    "InjectNotification": ("(uuuu)", 10),
    "ClientLeaves": ("()", 11),
    "Settle": ("()", 12),
}
GUID = "{FBEFFD93-B11F-4094-842B-96DCD31E63D1}"
BLOCK = 0x2000


def call(method, *args, caller=0, profile=0):
    signature, op = OPS[method]
    data = GLib.Variant(signature, args).get_data_as_bytes().get_data()
    assert len(data) < 256, method
    return bytes([op | caller << 4 | profile << 6, len(data)]) + data


SEEDS = {
    "open-default": [call("OpenOfflineObject", "default", "")],
    "open-guid-lowercase": [call("OpenOfflineObject", "default", GUID.lower()[1:-1])],
    "open-other-guid": [call("OpenOfflineObject", "default", "{00000000-0000-0000-0000-000000000000}")],
    "create-then-open": [call("CreateOfflineObject", "Work", 3, 1), call("OpenOfflineObject", "Work", GUID)],
    "create-remove": [call("CreateOfflineObject", "Work", 1, 2), call("RemoveOfflineObject", "Work"),
                      call("RemoveOfflineObject", "default")],
    "create-too-many": [call("CreateOfflineObject", name, 3, 2) for name in "abcde"],
    "set-state": [call("SetCurrentState", 0, 3, 1), call("Settle"), call("GetCurrentState")],
    "set-state-block": [call("SetCurrentState", BLOCK, 3, 1), call("SetCurrentState", BLOCK, 3, 2)],
    "set-state-pending": [call("Advise", 0, 7, 0, "/cb", 1, 3), call("SetCurrentState", 0, 3, 1),
                          call("SetCurrentState", 0, 3, 1), call("RemoveOfflineObject", "default")],
    "get-capabilities": [call("SetCapabilities", 1), call("GetCapabilities")],
    "advise-signal": [call("Advise", 0, 42, 0, "/", 1, 0x3f037f), call("SetCurrentState", BLOCK, 3, 1)],
    "advise-callback-fails": [call("Advise", 0, 1, 0, "/fail", 1, 3, caller=1),
                              call("SetCurrentState", BLOCK, 3, 1)],
    "advise-no-interface": [call("Advise", 0, 1, 1, "/", 1, 3)],
    "advise-limits": [call("Advise", 0, n, 0, "/", 1, 3) for n in range(5)],
    "unadvise": [call("Advise", 0, 9, 0, "/cb", 1, 3), call("Unadvise", 0, 1, caller=1),
                 call("Unadvise", 0, 1), call("Unadvise", 1, 1)],
    "client-leaves-in-transition": [call("Advise", 0, 5, 0, "/cb", 1, 3, caller=2),
                                    call("SetCurrentState", 0, 3, 1), call("ClientLeaves", caller=2)],
    "capabilities-block-notify": [call("Advise", 0, 5, 0, "/cb", 1, 3), call("SetCapabilities", 2),
                                  call("SetCurrentState", BLOCK, 3, 1)],
    "transition-delay": [call("SetTransitionDelay", 100), call("SetTransitionDelay", 600001)],
    "inject-notification": [call("Advise", 0, 3, 0, "/", 1, 1), call("Advise", 0, 4, 0, "/cb", 1, 2),
                            call("InjectNotification", 7, 0, 5, 5)],
    "second-profile": [call("CreateOfflineObject", "zz", 3, 1),
                       call("Advise", 0, 1, 0, "/", 1, 3, profile=1),
                       call("SetCurrentState", BLOCK, 3, 2, profile=1)],
}

out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "corpus", "fuzz-method-args")
os.makedirs(out, exist_ok=True)
for name, calls in SEEDS.items():
    with open(os.path.join(out, name), "wb") as seed:
        seed.write(b"".join(calls))
