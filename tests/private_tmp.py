# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''A temporary folder of a test program's own, for it and the processes it starts.

python3-dbusmock keeps its buses' configuration in a dbusmock_data_* folder of the temporary
folder and never removes it (0.28's tearDownClass forgets the folder before it would remove
it). A test program that uses it sets TMPDIR to a folder of its own for the run (enter(), in
setUpModule) and removes it once the buses are stopped (leave(), in tearDownModule).'''
import os
import tempfile


class PrivateTmp:
    def __init__(self, prefix):
        self.prefix = prefix
        self.outer = None
        self.folder = None

    def enter(self):
        self.outer = os.environ.get('TMPDIR')
        self.folder = tempfile.TemporaryDirectory(prefix=self.prefix)
        os.environ['TMPDIR'] = tempfile.tempdir = self.folder.name

    def leave(self):
        tempfile.tempdir = None
        if self.outer is None:
            del os.environ['TMPDIR']
        else:
            os.environ['TMPDIR'] = self.outer
        self.folder.cleanup()
