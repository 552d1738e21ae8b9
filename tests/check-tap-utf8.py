#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
"""Runs each test program given with --tap and fails if what it prints is not UTF-8.

meson reads TAP as UTF-8: a test that prints other bytes (a case's raw input in a
g_test_message) passes, but meson then warns "Unknown TAP output lines ... Invalid UTF-8",
which tells a reader nothing. Each program's own result is not judged here."""
import subprocess
import sys

failed = False
for program in sys.argv[1:]:
    out = subprocess.run([program, "--tap"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=False).stdout
    try:
        out.decode("utf-8")
        print(f"ok: {program}")
    except UnicodeDecodeError as error:
        line = out[:error.start].count(b"\n") + 1
        print(f"not UTF-8: {program}, line {line}: {out.splitlines()[line - 1]!r}")
        failed = True
sys.exit(1 if failed else 0)
