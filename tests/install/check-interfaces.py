#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
"""Compares installed D-Bus interface files with what the daemon introspects.

Usage:
  check-interfaces.py FILE REPLY...   the interface of FILE (an installed interface file)
                                      equals the same interface in the REPLY files
  check-interfaces.py --notify FILE   FILE is OfflineNotify as the wire contract has it

A REPLY is what `busctl --json=short call ... org.freedesktop.DBus.Introspectable
Introspect` printed ({"type": "s", "data": ["<node>..."]}), or introspection XML as it is.

What is compared: the methods with their arguments (name, type, direction, in order), the
signals with their arguments (name, type), the properties (type, access), and every
annotation on any of them except gdbus-codegen's own org.gtk.GDBus.* (doc strings, Since,
C names), which it keeps out of the introspection data. Comments, doc strings, the order of
members and whitespace are not compared. The differences go to standard output, one a line;
the exit status is 0 when there is none, 1 otherwise."""
import json
import sys
import xml.etree.ElementTree as ET

INTERFACE_PREFIX = "org.offlinestate.OfflineState1."

# The callback interface as the wire contract (offline-state-api.md) lists it:
# Notify(u notify_type, u client_token, u mask, u old_state, u new_state, t sequence), no reply.
NOTIFY_CONTRACT = {
    "annotations": (),
    "methods": {
        "Notify": {
            "args": (("notify_type", "u", "in"), ("client_token", "u", "in"), ("mask", "u", "in"),
                     ("old_state", "u", "in"), ("new_state", "u", "in"), ("sequence", "t", "in")),
            "annotations": (),
        },
    },
    "signals": {},
    "properties": {},
}


def annotations(element):
    return tuple(sorted((a.get("name"), a.get("value")) for a in element.findall("annotation")
                        if not a.get("name", "").startswith("org.gtk.GDBus")))


def args(element, signal):
    result = []
    for arg in element.findall("arg"):
        # A method argument without direction is "in"; a signal's has none that matters.
        direction = None if signal else arg.get("direction", "in")
        result.append((arg.get("name"), arg.get("type"), direction) + annotations(arg))
    return tuple(result)


def members(interface, tag, describe, problems):
    result = {}
    for element in interface.findall(tag):
        name = element.get("name")
        if name in result:
            problems.append(f"{tag} {name} is there twice")
        result[name] = describe(element)
    return result


def describe(interface, problems):
    """The comparable content of an <interface> element."""
    return {
        "annotations": annotations(interface),
        "methods": members(interface, "method", lambda m: {
            "args": args(m, signal=False), "annotations": annotations(m)}, problems),
        "signals": members(interface, "signal", lambda s: {
            "args": args(s, signal=True), "annotations": annotations(s)}, problems),
        "properties": members(interface, "property", lambda p: {
            "type": p.get("type"), "access": p.get("access"), "annotations": annotations(p)},
            problems),
    }


def compare(name, ours, theirs, what):
    """The differences between two described interfaces, as sentences."""
    problems = []
    if ours["annotations"] != theirs["annotations"]:
        problems.append(f"{name}: annotations {ours['annotations']} in the file, "
                        f"{theirs['annotations']} in {what}")
    for kind, one in (("methods", "method"), ("signals", "signal"), ("properties", "property")):
        for member in sorted(set(ours[kind]) | set(theirs[kind])):
            if member not in theirs[kind]:
                problems.append(f"{one} {name}.{member}: in the file, not in {what}")
            elif member not in ours[kind]:
                problems.append(f"{one} {name}.{member}: in {what}, not in the file")
            else:
                for key, value in ours[kind][member].items():
                    if value != theirs[kind][member][key]:
                        problems.append(f"{one} {name}.{member}: {key} {value} in the file, "
                                        f"{theirs[kind][member][key]} in {what}")
    return problems


def parse_file(path):
    """The one interface of an interface file: (name, description, problems)."""
    problems = []
    root = ET.parse(path).getroot()
    interfaces = root.findall("interface") if root.tag == "node" else []
    if len(interfaces) != 1:
        return None, None, [f"{path}: {len(interfaces)} interfaces, not one, under <node>"]
    name = interfaces[0].get("name")
    if not path.endswith("/" + name + ".xml") and path != name + ".xml":
        problems.append(f"{path}: not named after its interface {name}")
    if not name.startswith(INTERFACE_PREFIX):
        problems.append(f"{path}: interface {name} is not one of {INTERFACE_PREFIX}*")
    return name, describe(interfaces[0], problems), problems


def read_reply(path):
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    if text.lstrip().startswith("{"):
        reply = json.loads(text)
        if reply.get("type") != "s":
            raise ValueError(f"{path}: the reply is not one string: {reply.get('type')}")
        text = reply["data"][0]
    return ET.fromstring(text)


def main(argv):
    if len(argv) == 3 and argv[1] == "--notify":
        name, ours, problems = parse_file(argv[2])
        if ours is not None:
            if name != INTERFACE_PREFIX + "OfflineNotify":
                problems.append(f"{argv[2]}: interface {name}, not {INTERFACE_PREFIX}OfflineNotify")
            problems += compare(name, ours, NOTIFY_CONTRACT, "the contract")
    elif len(argv) >= 3 and not argv[1].startswith("-"):
        name, ours, problems = parse_file(argv[1])
        if ours is not None:
            found = [i for reply in argv[2:] for i in read_reply(reply).findall("interface")
                     if i.get("name") == name]
            if not found:
                problems.append(f"{name}: the daemon does not introspect it")
            for interface in found:
                theirs_problems = []
                theirs = describe(interface, theirs_problems)
                problems += theirs_problems + compare(name, ours, theirs, "the daemon's answer")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
