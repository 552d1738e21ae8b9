/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * The library's enumerations: their GTypes, and their names as words.
 */
#include "config.h"

#include "offline-state.h"
#include "offline-state-client.h"

G_DEFINE_ENUM_TYPE (OfflineStateState,
                    offline_state_state,
                    G_DEFINE_ENUM_VALUE (OFFLINE_STATE_STATE_OFFLINE, "offline"),
                    G_DEFINE_ENUM_VALUE (OFFLINE_STATE_STATE_ONLINE, "online"))

G_DEFINE_ENUM_TYPE (OfflineStatePhase,
                    offline_state_phase,
                    G_DEFINE_ENUM_VALUE (OFFLINE_STATE_PHASE_START, "start"),
                    G_DEFINE_ENUM_VALUE (OFFLINE_STATE_PHASE_STATECHANGE, "statechange"),
                    G_DEFINE_ENUM_VALUE (OFFLINE_STATE_PHASE_DONE, "done"))

G_DEFINE_FLAGS_TYPE (OfflineStateCapabilities,
                     offline_state_capabilities,
                     G_DEFINE_ENUM_VALUE (OFFLINE_STATE_CAPABILITIES_NONE, "none"),
                     G_DEFINE_ENUM_VALUE (OFFLINE_STATE_CAPABILITIES_OFFLINE, "offline"),
                     G_DEFINE_ENUM_VALUE (OFFLINE_STATE_CAPABILITIES_ONLINE, "online"))

/* Names */

/**
 * offline_state_state_to_string:
 * @state: a state
 *
 * Returns: `"online"`, `"offline"`, or `"unknown"` for any other value
 */
const char *
offline_state_state_to_string (OfflineStateState state)
{
  switch (state)
    {
      case OFFLINE_STATE_STATE_OFFLINE:
        return "offline";
      case OFFLINE_STATE_STATE_ONLINE:
        return "online";
      default:
        return "unknown";
    }
}

/**
 * offline_state_phase_to_string:
 * @phase: a phase
 *
 * Returns: `"START"`, `"STATECHANGE"`, `"DONE"`, or `"unknown"` for any other value
 */
const char *
offline_state_phase_to_string (OfflineStatePhase phase)
{
  switch (phase)
    {
      case OFFLINE_STATE_PHASE_START:
        return "START";
      case OFFLINE_STATE_PHASE_STATECHANGE:
        return "STATECHANGE";
      case OFFLINE_STATE_PHASE_DONE:
        return "DONE";
      default:
        return "unknown";
    }
}
