/* SPDX-License-Identifier: LGPL-2.1-or-later
 * Copyright 2026 The offline-state authors
 *
 * offlinectl: query and change the offline state of MAPI profiles, from a shell.
 * Every command is a function of ctl-*.c with a GOptionContext of its own.
 */
#include "config.h"

#include <locale.h>
#include <string.h>

#include "ctl.h"

typedef struct
{
  const char *name;
  const char *synopsis; /* for the list in --help */
  const char *summary;
  CtlRunFunc run;
} CtlCommand;

static const CtlCommand commands[] = {
  { "status", "status", "Show every profile (the default command)", ctl_status },
  { "online", "online", "Set a profile online and wait until it is", ctl_online },
  { "offline", "offline", "Set a profile offline and wait until it is", ctl_offline },
  { "wait", "wait online|offline", "Wait until a profile is online, or offline", ctl_wait },
  { "monitor", "monitor", "Print state changes as they happen", ctl_monitor },
  { "profiles", "profiles", "List the profiles", ctl_profiles },
  { "create", "create NAME", "Create a profile", ctl_create },
  { "remove", "remove NAME", "Remove a profile", ctl_remove },
};

static const CtlCommand *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (commands[i].name, name) == 0)
      return &commands[i];
  return NULL;
}

static char *
commands_description (void)
{
  GString *text = g_string_new ("Commands:\n");

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (text, "  %-22s%s\n", commands[i].synopsis, commands[i].summary);
  g_string_append_printf (text, "  %-22s%s\n", "help [COMMAND]", "Show this help, or a command's");
  g_string_append (text, "\nRun 'offlinectl COMMAND --help' for the options of a command.\n"
                         "Exit status: 0 success, 1 the service refused (or a time-out), "
                         "2 a usage error.");
  return g_string_free (text, FALSE);
}

static GOptionContext *
main_context_new (Ctl *ctl, gboolean *version)
{
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, version, "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL,
  };
  GOptionContext *context = g_option_context_new ("[COMMAND] [ARGUMENT…]");
  g_autofree char *description = commands_description ();

  g_option_context_set_summary (context,
                                "Query and change the offline state of MAPI profiles, as kept by "
                                "offline-stated.");
  g_option_context_set_description (context, description);
  g_option_context_add_main_entries (context, entries, NULL);
  ctl_add_bus_entries (ctl, context);
  /* Stop at the command: what follows is its own; leave its options for it. */
  g_option_context_set_strict_posix (context, TRUE);
  g_option_context_set_ignore_unknown_options (context, TRUE);
  return context;
}

/* Splits what the main context left: the command name (the first word that is not an
 * option; "status" if none) and its arguments, options before it included. */
static const char *
split_command (int argc, char **argv, GPtrArray *command_argv)
{
  const char *name = NULL;

  g_ptr_array_add (command_argv, argv[0]);
  for (int i = 1; i < argc; i++)
    {
      if (name == NULL && argv[i][0] != '-')
        name = argv[i];
      else
        g_ptr_array_add (command_argv, argv[i]);
    }
  g_ptr_array_add (command_argv, NULL);
  return name != NULL ? name : "status";
}

static int
run_help (Ctl *ctl, GOptionContext *main_context, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = ctl_command_context_new (
      ctl, "help [COMMAND]", "Show the help of offlinectl, or of COMMAND.", NULL);
  const CtlCommand *command;
  g_autofree char *help = NULL;
  char *help_argv[] = { argv[0], "--help", NULL };

  ctl->command = "help";
  if (!ctl_parse (ctl, context, &argc, &argv) || !ctl_check_arguments (ctl, argc, 0, 1, NULL))
    return CTL_EXIT_USAGE;
  if (argc == 1)
    {
      help = g_option_context_get_help (main_context, TRUE, NULL);
      g_print ("%s", help);
      return CTL_EXIT_OK;
    }
  command = find_command (argv[1]);
  if (command == NULL)
    {
      ctl->command = NULL;
      return ctl_usage_error (ctl, "unknown command '%s'", argv[1]);
    }
  ctl->command = command->name;
  return command->run (ctl, 2, help_argv);
}

int
main (int argc, char **argv)
{
  Ctl ctl = { 0 };
  gboolean version = FALSE;
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GPtrArray) command_argv = g_ptr_array_new ();
  const CtlCommand *command;
  const char *name;
  int status;

  setlocale (LC_ALL, "");
  g_set_prgname ("offlinectl");
  context = main_context_new (&ctl, &version);
  if (!ctl_parse (&ctl, context, &argc, &argv))
    {
      ctl_clear (&ctl);
      return CTL_EXIT_USAGE;
    }
  if (version)
    {
      g_print ("offlinectl %s\n", PACKAGE_VERSION);
      ctl_clear (&ctl);
      return CTL_EXIT_OK;
    }

  name = split_command (argc, argv, command_argv);
  if (strcmp (name, "help") == 0)
    status = run_help (&ctl, context, (int) command_argv->len - 1, (char **) command_argv->pdata);
  else if ((command = find_command (name)) == NULL)
    status = ctl_usage_error (&ctl, "unknown command '%s'", name);
  else
    {
      ctl.command = command->name;
      status = command->run (&ctl, (int) command_argv->len - 1, (char **) command_argv->pdata);
    }
  ctl_clear (&ctl);
  return status;
}
