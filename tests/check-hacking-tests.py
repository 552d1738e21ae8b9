#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
"""HACKING.md's table of tests against the build's: every test that meson knows is named in
the row of one of its suites, and every name in the table that looks like a test's is one.
Prints TAP.

usage: check-hacking-tests.py HACKING.md BUILD/meson-info/intro-tests.json"""
import json
import re
import sys


def table_rows(hacking):
    """{suite: set of `names` in its row} of the table under '## Tests'."""
    rows, in_section = {}, False
    for line in open(hacking, encoding="utf-8"):
        if line.startswith("## "):
            in_section = line.strip() == "## Tests"
            continue
        if not in_section or not line.startswith("| `"):
            continue
        cells = line.split("|")
        suites = re.findall(r"`([^`]+)`", cells[1])
        names = set(re.findall(r"`([^`]+)`", "|".join(cells[2:])))
        for suite in suites:
            rows.setdefault(suite, set()).update(names)
    return rows


def main():
    hacking, intro = sys.argv[1], sys.argv[2]
    rows = table_rows(hacking)
    tests = json.load(open(intro, encoding="utf-8"))
    n, failed = 0, 0

    def check(ok, what):
        nonlocal n, failed
        n += 1
        failed += 0 if ok else 1
        print(f"{'ok' if ok else 'not ok'} {n} - {what}")

    check(bool(rows), "HACKING.md has a table of tests under '## Tests'")
    named = set()
    for test in sorted(tests, key=lambda t: t["name"]):
        suites = [s.split(":")[-1] for s in test["suite"]]
        found = [s for s in suites if test["name"] in rows.get(s, ())]
        check(bool(found), f"{test['name']} is in the row of one of its suites ({', '.join(suites)})")
        named.add(test["name"])
    # Names that look like a test's: each is one.
    for suite, names in sorted(rows.items()):
        for name in sorted(names):
            if re.fullmatch(r"(test|check|xmllint|example)-[a-z0-9.-]+", name):
                check(name in named, f"'{name}' in the row of {suite} is a test")
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
