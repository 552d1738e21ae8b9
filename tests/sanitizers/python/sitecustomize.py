# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
#
# Found first on PYTHONPATH under asan-test-wrapper (it hides Debian's, which only installs
# apport's hook). The interpreter is already running with the ASan runtime and without leak
# detection: every process it starts from now on (dbus-daemon, the daemon, by path or by D-Bus
# activation, dbusmock) gets back the environment it had before the wrapper.
import os

for _name in ("LD_PRELOAD", "ASAN_OPTIONS", "OFFLINE_STATED", "PYTHONPATH"):
    _saved = os.environ.pop("OFFLINE_STATE_SAVED_" + _name, None)
    if _saved is None:
        continue
    if _saved:
        os.environ[_name] = _saved
    else:
        os.environ.pop(_name, None)
