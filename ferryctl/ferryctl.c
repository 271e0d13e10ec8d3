/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl.c: the command line: options, commands, exit status
 *
 *   0 ok · 1 failure · 2 usage · 3 authorization refused · 4 not found ·
 *   130 stopped watching with Ctrl-C (the migration goes on)
 */
#define G_LOG_DOMAIN "ferryctl"

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "ferryctl-client.h"
#include "ferryctl-options.h"
#include "ferryctl-progress.h"
#include "ferryctl-report.h"
#include "ferryctl-watch.h"

enum
{
  EXIT_OK = 0,
  EXIT_FAILURE_ = 1,
  EXIT_USAGE = 2,
  EXIT_AUTH = 3,
  EXIT_NOT_FOUND = 4,
};

typedef struct
{
  char *address;
  gboolean json;
  gboolean no_wait;
  gboolean version;
  FerryctlMigrateOptions *migrate_options;
} Globals;

static inline void
globals_clear (Globals *g)
{
  g_free (g->address);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Globals, globals_clear)

typedef int (*CommandFunc) (Globals *g, char **args);

typedef struct
{
  const char *name;
  const char *usage;
  int min_args, max_args;
  gboolean takes_migrate_options;
  CommandFunc func;
} Command;

/* --- errors --- */

static int usage_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "ferryctl: %s\nTry 'ferryctl --help'.\n", message);
  return EXIT_USAGE;
}

/* Print "ferryctl: <D-Bus error name>: <message>" and map the error to an
 * exit status (libferry puts every authorization failure, the bus' and
 * polkit's, in FERRY_ERROR_NOT_AUTHORIZED). */
static int
report_error (const GError *error)
{
  const char *name = ferryctl_error_get_name (error);
  const char *message = ferryctl_error_get_message (error);

  if (name != NULL)
    fprintf (stderr, "ferryctl: %s: %s\n", name, message);
  else
    fprintf (stderr, "ferryctl: %s\n", message);

  if (g_error_matches (error, FERRY_ERROR, FERRY_ERROR_NOT_AUTHORIZED))
    return EXIT_AUTH;
  if (g_error_matches (error, FERRY_ERROR, FERRY_ERROR_NOT_FOUND))
    return EXIT_NOT_FOUND;
  return EXIT_FAILURE_;
}

static FerryctlOutput
output_mode (Globals *g)
{
  if (g->json)
    return FERRYCTL_OUTPUT_JSON;
  return isatty (STDOUT_FILENO) ? FERRYCTL_OUTPUT_TTY : FERRYCTL_OUTPUT_PLAIN;
}

/* --- commands --- */

static int
cmd_migrate (Globals *g, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryClient) client = ferryctl_client_new (g->address, &error);
  g_autoptr (FerryMigrateOptions) options = NULL;
  g_autoptr (FerryMigration) migration = NULL;

  if (client == NULL)
    return report_error (error);
  options = ferryctl_migrate_options_to_ferry (g->migrate_options);
  /* guarded by polkit: an agent may ask for a password */
  ferry_client_set_interactive (client, TRUE);
  migration = ferry_client_migrate_sync (client, args[0], args[1], options, NULL, &error);
  ferry_client_set_interactive (client, FALSE);
  if (migration == NULL)
    return report_error (error);
  ferryctl_report_started (ferry_migration_get_object_path (migration), !g->no_wait, g->json);
  if (g->no_wait)
    return EXIT_OK;
  return ferryctl_watch (client, migration, output_mode (g));
}

static int
cmd_check (Globals *g, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryClient) client = ferryctl_client_new (g->address, &error);
  g_autoptr (FerryMigrateOptions) options = NULL;
  g_autoptr (GVariant) report = NULL;

  if (client == NULL)
    return report_error (error);
  options = ferryctl_migrate_options_to_ferry (g->migrate_options);
  report = ferry_client_check_sync (client, args[0], args[1], options, NULL, &error);
  if (report == NULL)
    return report_error (error);
  return ferryctl_report_check (report, g->json) ? EXIT_OK : EXIT_FAILURE_;
}

static int
compare_domains (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (ferry_domain_get_name ((FerryDomain *) a),
                    ferry_domain_get_name ((FerryDomain *) b));
}

static int
cmd_list (Globals *g, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryClient) client = ferryctl_client_new (g->address, &error);
  g_autolist (FerryDomain) domains = NULL;
  g_autolist (FerryMigration) migrations = NULL;

  if (client == NULL)
    return report_error (error);
  domains = g_list_sort (ferry_client_get_domains (client), compare_domains);
  migrations = ferry_client_get_migrations (client); /* by number */
  ferryctl_report_list (domains, migrations, g->json);
  return EXIT_OK;
}

/* Connects and finds the migration named by @id; returns an exit status
 * on failure. */
static int
get_migration (Globals *g, const char *id, FerryClient **client_out, FerryMigration **migration_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = ferryctl_migration_path_from_id (id);
  g_autoptr (FerryClient) client = NULL;

  if (path == NULL)
    return usage_error ("'%s' is not a migration ID (a number, or a path under %s)", id,
                        FERRY_MIGRATION_PATH_PREFIX);
  client = ferryctl_client_new (g->address, &error);
  if (client == NULL)
    return report_error (error);
  *migration_out = ferryctl_client_get_migration (client, path, &error);
  if (*migration_out == NULL)
    return report_error (error);
  *client_out = g_steal_pointer (&client);
  return EXIT_OK;
}

static int
cmd_watch (Globals *g, char **args)
{
  g_autoptr (FerryClient) client = NULL;
  g_autoptr (FerryMigration) migration = NULL;
  int status = get_migration (g, args[0], &client, &migration);

  if (status != EXIT_OK)
    return status;
  return ferryctl_watch (client, migration, output_mode (g));
}

static int
cmd_show (Globals *g, char **args)
{
  g_autoptr (FerryClient) client = NULL;
  g_autoptr (FerryMigration) migration = NULL;
  int status = get_migration (g, args[0], &client, &migration);

  if (status != EXIT_OK)
    return status;
  ferryctl_report_show (migration, g->json);
  return EXIT_OK;
}

typedef enum
{
  CONTROL_CANCEL,
  CONTROL_POSTCOPY,
  CONTROL_DOWNTIME,
  CONTROL_BANDWIDTH,
  CONTROL_PAUSE,
  CONTROL_RECOVER,
} Control;

static int
control (Globals *g, char **args, Control what)
{
  g_autoptr (FerryClient) client = NULL;
  g_autoptr (FerryMigration) migration = NULL;
  g_autoptr (GError) error = NULL;
  guint64 value = 0;
  gboolean ok = FALSE;
  int status;

  if (what == CONTROL_DOWNTIME &&
      !g_ascii_string_to_unsigned (args[1], 10, 0, G_MAXUINT64, &value, NULL))
    return usage_error ("'%s' is not a number of milliseconds", args[1]);
  if (what == CONTROL_BANDWIDTH && !ferryctl_parse_bytes (args[1], &value, &error))
    return usage_error ("%s", error->message);

  status = get_migration (g, args[0], &client, &migration);
  if (status != EXIT_OK)
    return status;
  /* guarded by polkit: an agent may ask for a password */
  ferry_client_set_interactive (client, TRUE);
  switch (what)
    {
    case CONTROL_CANCEL:
      ok = ferry_migration_cancel_sync (migration, NULL, &error);
      break;
    case CONTROL_POSTCOPY:
      ok = ferry_migration_start_postcopy_sync (migration, NULL, &error);
      break;
    case CONTROL_DOWNTIME:
      ok = ferry_migration_set_max_downtime_sync (migration, value, NULL, &error);
      break;
    case CONTROL_BANDWIDTH:
      ok = ferry_migration_set_max_bandwidth_sync (migration, value, NULL, &error);
      break;
    case CONTROL_PAUSE:
      ok = ferry_migration_pause_sync (migration, NULL, &error);
      break;
    case CONTROL_RECOVER:
      /* no URI: the data channel's previous address */
      ok = ferry_migration_recover_sync (migration, args[1] ? args[1] : "", NULL, &error);
      break;
    }
  ferry_client_set_interactive (client, FALSE);
  return ok ? EXIT_OK : report_error (error);
}

static int
cmd_cancel (Globals *g, char **args)
{
  return control (g, args, CONTROL_CANCEL);
}

static int
cmd_postcopy (Globals *g, char **args)
{
  return control (g, args, CONTROL_POSTCOPY);
}

static int
cmd_set_downtime (Globals *g, char **args)
{
  return control (g, args, CONTROL_DOWNTIME);
}

static int
cmd_set_bandwidth (Globals *g, char **args)
{
  return control (g, args, CONTROL_BANDWIDTH);
}

static int
cmd_pause (Globals *g, char **args)
{
  return control (g, args, CONTROL_PAUSE);
}

static int
cmd_recover (Globals *g, char **args)
{
  return control (g, args, CONTROL_RECOVER);
}

static const Command commands[] = {
  { "migrate", "DOMAIN DEST [MIGRATION-OPTIONS] [--no-wait]", 2, 2, TRUE, cmd_migrate },
  { "watch", "ID", 1, 1, FALSE, cmd_watch },
  { "list", "", 0, 0, FALSE, cmd_list },
  { "show", "ID", 1, 1, FALSE, cmd_show },
  { "cancel", "ID", 1, 1, FALSE, cmd_cancel },
  { "postcopy", "ID", 1, 1, FALSE, cmd_postcopy },
  { "pause", "ID", 1, 1, FALSE, cmd_pause },
  { "recover", "ID [URI]", 1, 2, FALSE, cmd_recover },
  { "set-downtime", "ID MS", 2, 2, FALSE, cmd_set_downtime },
  { "set-bandwidth", "ID BYTES/s", 2, 2, FALSE, cmd_set_bandwidth },
  { "check", "DOMAIN DEST [MIGRATION-OPTIONS]", 2, 2, TRUE, cmd_check },
};

static char *
commands_summary (void)
{
  GString *s = g_string_new ("Commands:\n");

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *line = g_strdup_printf ("  %-14s %s", commands[i].name, commands[i].usage);
      g_string_append_printf (s, "%s\n", g_strchomp (line));
    }
  g_string_append (s, "\nID is the number n of " FERRY_MIGRATION_PATH_PREFIX "n, or that path.\n"
                      "Ctrl-C stops following a migration; it does not cancel it.");
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr (FerryctlMigrateOptions) migrate_options = ferryctl_migrate_options_new ();
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *summary = NULL;
  g_auto (GStrv) args = NULL;
  g_auto (Globals) g = { 0 };
  const Command *command = NULL;
  GOptionGroup *group;
  int n_args;
  const GOptionEntry global_entries[] = {
    { "address", 0, 0, G_OPTION_ARG_STRING, &g.address,
      "Bus address of the host to talk to (default: the system bus)", "ADDRESS" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &g.json, "Machine-readable JSON output", NULL },
    { "no-wait", 0, 0, G_OPTION_ARG_NONE, &g.no_wait,
      "migrate: print the new migration and return at once", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &g.version, "Show the version", NULL },
    { NULL },
  };

  setlocale (LC_ALL, "");
  g.migrate_options = migrate_options;

  context = g_option_context_new ("COMMAND [ARGS...]");
  g_option_context_set_summary (context, "Migrate virtual machines between hosts with Ferry.");
  summary = commands_summary ();
  g_option_context_set_description (context, summary);
  group = ferryctl_migrate_options_get_group (migrate_options, global_entries);
  g_option_context_set_main_group (context, group);

  args = g_strdupv (argv);
  if (!g_option_context_parse_strv (context, &args, &error))
    return usage_error ("%s", error->message);
  if (g.version)
    {
      printf ("ferryctl %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }
  if (args[1] == NULL)
    return usage_error ("no command given");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, args[1]))
      command = &commands[i];
  if (command == NULL)
    return usage_error ("unknown command '%s'", args[1]);

  n_args = (int) g_strv_length (args) - 2;
  if (n_args < command->min_args || n_args > command->max_args)
    return usage_error ("usage: ferryctl %s %s", command->name, command->usage);
  if (!command->takes_migrate_options && ferryctl_migrate_options_any (migrate_options))
    return usage_error ("migration options apply to migrate and check only");
  if (g.no_wait && command->func != cmd_migrate)
    return usage_error ("--no-wait applies to migrate only");

  return command->func (&g, args + 2);
}
