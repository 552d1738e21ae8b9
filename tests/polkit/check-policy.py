#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Copyright 2026 The offline-state authors
'''The polkit policy file says what the contract says, and names what the daemon asks.

The table of docs/desktop.md, Authorization, gives each action and who gets it by default; "admin" is
auth_admin or auth_admin_keep. The action ids must also be exactly the
OFFLINE_STATE_ACTION_* of src/offline-state.h, the ones the daemon sends to polkit: an
action that the daemon asks about and the file lacks is refused to everyone.

Usage: check-policy.py POLICY_FILE OFFLINE_STATE_H
'''

import re
import sys
import xml.etree.ElementTree as ElementTree

PREFIX = 'org.offlinestate.OfflineState1.'
ADMIN = {'auth_admin', 'auth_admin_keep'}
# docs/desktop.md, Authorization (the wire contract's table): action → (allow_any, allow_inactive, allow_active)
CONTRACT = {
    PREFIX + 'set-state': (ADMIN, ADMIN, {'yes'}),
    PREFIX + 'manage-profiles': (ADMIN, ADMIN, ADMIN),
    PREFIX + 'emulate': ({'no'}, {'no'}, {'no'}),
}
DEFAULTS = ('allow_any', 'allow_inactive', 'allow_active')


def header_actions(path):
    with open(path, encoding='utf-8') as header:
        return set(re.findall(r'^#define OFFLINE_STATE_ACTION_\w+\s+"([^"]+)"', header.read(),
                              re.MULTILINE))


def check_action(action, problems):
    action_id = action.get('id')
    for tag in ('description', 'message'):
        text = action.findtext(tag)
        if not text or not text.strip():
            problems.append(f'{action_id}: no <{tag}>')
    for name, allowed in zip(DEFAULTS, CONTRACT[action_id]):
        value = action.findtext(f'defaults/{name}')
        if value not in allowed:
            problems.append(f'{action_id}: {name} is {value!r}, the contract wants one of '
                            f'{sorted(allowed)}')


def main(policy_path, header_path):
    root = ElementTree.parse(policy_path).getroot()
    actions = root.findall('action')
    ids = [action.get('id') for action in actions]
    problems = []
    if sorted(ids) != sorted(CONTRACT):
        problems.append(f'actions {sorted(ids)}, the contract has {sorted(CONTRACT)}')
    if set(ids) != header_actions(header_path):
        problems.append(f'actions {sorted(ids)}, offline-state.h has '
                        f'{sorted(header_actions(header_path))}')
    for action in actions:
        if action.get('id') in CONTRACT:
            check_action(action, problems)
    for problem in problems:
        print(f'{policy_path}: {problem}', file=sys.stderr)
    if not problems:
        print(f'{policy_path}: {len(ids)} actions, as the contract and offline-state.h say')
    return 1 if problems else 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__.rsplit('\n\n', 1)[-1].strip())
    sys.exit(main(sys.argv[1], sys.argv[2]))
