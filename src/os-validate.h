/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define OS_PROFILE_NAME_MAX     255
#define OS_TRANSITION_DELAY_MAX 600000u
#define OS_NOTIFY_TIMEOUT_MAX   600000u

/* Each sets an OS_ERROR (InvalidArgs unless said otherwise) and returns FALSE on refusal. */
gboolean os_validate_profile_name (const char *name, GError **error);
gboolean os_validate_capabilities (guint capabilities, GError **error);
gboolean os_validate_state (guint state, GError **error);
gboolean os_validate_transition_delay (guint milliseconds, GError **error);

/* TRUE for GUID_GlobalState (or ""); NotFound for any other well-formed GUID,
 * InvalidArgs for a malformed one. */
gboolean os_validate_guid (const char *guid, GError **error);

/* SetCurrentState's arguments: the flags (DEFAULT or BLOCK), the mask (the offline mask),
 * then the state. */
gboolean os_validate_set_state_flags (guint flags, GError **error);
gboolean os_validate_offline_mask (guint mask, GError **error);
gboolean os_validate_set_state (guint flags, guint mask, guint state, GError **error);

/* Advise's arguments, each, then all in their order; NoInterface for a callback type other
 * than NOTIFY. */
gboolean os_validate_advise_flags (guint flags, GError **error);
gboolean os_validate_callback_type (guint callback_type, GError **error);
/* @callback: an object path, or NULL for delivery by signal. */
gboolean os_validate_callback (const char *callback, GError **error);
gboolean os_validate_advise_types (guint advise_types, GError **error);
gboolean os_validate_state_mask (guint state_mask, GError **error);
gboolean os_validate_advise (guint flags,
                             guint callback_type,
                             const char *callback,
                             guint advise_types,
                             guint state_mask,
                             GError **error);

/* Text for logs and messages. */
const char *os_state_to_string (guint state);

G_END_DECLS
