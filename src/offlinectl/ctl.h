/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * offlinectl: what its commands share (options, the bus, errors, words, JSON).
 */
#pragma once

#include <gio/gio.h>

#include "offline-state-client.h"

G_BEGIN_DECLS

/* The exit statuses, the same for every command. */
enum
{
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILURE = 1, /* the service refused, or a time-out, or no bus */
  CTL_EXIT_USAGE = 2,
};

/* What every command gets: the bus options (parsed before and after the command name) and
 * the connection they choose. */
typedef struct
{
  const char *command; /* its name, for messages */
  gboolean user;
  gboolean system;
  char *address;
  GDBusConnection *connection;
  GMainLoop *loop; /* ctl_run() */
  gboolean closed; /* the connection closed under ctl_run() */
} Ctl;

typedef int (*CtlRunFunc) (Ctl *ctl, int argc, char **argv);

void ctl_clear (Ctl *ctl);

/* The bus options as GOptionEntry, pointing into @ctl. */
void ctl_add_bus_entries (Ctl *ctl, GOptionContext *context);

/* A context for one command: "offlinectl [OPTION…] @parameters", its @summary, its own
 * @entries (may be NULL) and the bus options. */
GOptionContext *ctl_command_context_new (Ctl *ctl,
                                         const char *parameters,
                                         const char *summary,
                                         const GOptionEntry *entries);
/* Parses @argv with @context; on a usage error, prints it and returns FALSE. */
gboolean ctl_parse (Ctl *ctl, GOptionContext *context, int *argc, char ***argv);

/* Prints "offlinectl: MESSAGE (see 'offlinectl COMMAND --help')" on standard error and
 * returns CTL_EXIT_USAGE. */
int ctl_usage_error (Ctl *ctl, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Checks that the command got between @min and @max arguments after its name. */
gboolean ctl_check_arguments (Ctl *ctl, int argc, int min, int max, const char *what);

/* Connects to the bus the options chose (once). */
gboolean ctl_connect (Ctl *ctl, GError **error);
/* Prints "offlinectl: NAME: MESSAGE" for an error from the service, or "offlinectl:
 * MESSAGE" for any other, and returns CTL_EXIT_FAILURE. */
int ctl_report_error (const GError *error);

/* Runs the main loop until ctl_quit(); FALSE (and a message) if the bus connection
 * closes first. */
gboolean ctl_run (Ctl *ctl);
void ctl_quit (Ctl *ctl);

/* Opens @profile on the bus: connects, then advises (the library does), then reads. */
OfflineStateClient *ctl_open_profile (Ctl *ctl, const char *profile, GError **error);

/* Opens @profile, or every profile when it is NULL (a GPtrArray of OfflineStateClient); of
 * every profile, one that went away meanwhile is left out. */
GPtrArray *ctl_open_profiles (Ctl *ctl, const char *profile, GError **error);

/* Words (the states' and phases' are offline_state_*_to_string()). */
/* "offline, online", "offline", "online" or "none". */
char *ctl_capabilities_words (OfflineStateCapabilities capabilities);
gboolean ctl_parse_state (const char *text, OfflineStateState *state);
gboolean ctl_parse_capabilities (const char *text, OfflineStateCapabilities *capabilities);

/* JSON, written by hand: @text as a JSON string, ASCII only (\uXXXX beyond). */
void ctl_json_append_string (GString *json, const char *text);
/* Writes @json and a newline to standard output, and flushes it. */
void ctl_json_print_line (GString *json);

/* The commands. */
int ctl_status (Ctl *ctl, int argc, char **argv);
int ctl_profiles (Ctl *ctl, int argc, char **argv);
int ctl_create (Ctl *ctl, int argc, char **argv);
int ctl_remove (Ctl *ctl, int argc, char **argv);
int ctl_online (Ctl *ctl, int argc, char **argv);
int ctl_offline (Ctl *ctl, int argc, char **argv);
int ctl_wait (Ctl *ctl, int argc, char **argv);
int ctl_monitor (Ctl *ctl, int argc, char **argv);

G_END_DECLS
