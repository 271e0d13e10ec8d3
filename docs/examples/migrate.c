/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* migrate.c: migrate a domain with libferry, asynchronously, with a live
 * progress readout and the final statistics.
 *
 *   migrate DOMAIN DESTINATION [BYTES_PER_SECOND]
 *
 * Build: cc migrate.c $(pkg-config --cflags --libs ferry-1) */
#define G_LOG_DOMAIN "ferry-example"

#include <ferry/ferry.h>
#include <stdlib.h>

typedef struct
{
  GMainLoop *loop;
  int status;
} Example;

static void
on_progress (FerryMigration *migration, GParamSpec *pspec, gpointer user_data)
{
  g_print ("progress %.3f\n", ferry_migration_get_progress (migration));
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Example *ex = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) stats =
      ferry_migration_wait_finish (FERRY_MIGRATION (source), result, &error);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (stats == NULL)
    {
      g_printerr ("migration failed: %s\n", error->message);
      ex->status = EXIT_FAILURE;
    }
  else
    {
      g_variant_iter_init (&iter, stats);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_autofree char *text = g_variant_print (value, FALSE);

          g_print ("%s: %s\n", key, text);
          g_variant_unref (value);
        }
    }
  g_main_loop_quit (ex->loop);
}

static void
on_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Example *ex = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryMigration) migration =
      ferry_client_migrate_finish (FERRY_CLIENT (source), result, &error);

  if (migration == NULL)
    {
      g_printerr ("cannot migrate: %s\n", error->message);
      ex->status = EXIT_FAILURE;
      g_main_loop_quit (ex->loop);
      return;
    }
  g_signal_connect (migration, "notify::progress", G_CALLBACK (on_progress), NULL);
  ferry_migration_wait_async (migration, NULL, on_done, ex);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FerryClient) client = NULL;
  g_autoptr (FerryMigrateOptions) options = ferry_migrate_options_new ();
  Example ex = { g_main_loop_new (NULL, FALSE), EXIT_SUCCESS };

  if (argc < 3)
    {
      g_printerr ("usage: %s DOMAIN DESTINATION [BYTES_PER_SECOND]\n", argv[0]);
      return 2;
    }
  if (argc > 3)
    ferry_migrate_options_set_max_bandwidth (options, g_ascii_strtoull (argv[3], NULL, 10));

  client = ferry_client_new_sync (NULL, &error); /* honours DBUS_SYSTEM_BUS_ADDRESS */
  if (client == NULL)
    {
      g_printerr ("cannot connect to ferryd: %s\n", error->message);
      return EXIT_FAILURE;
    }
  ferry_client_migrate_async (client, argv[1], argv[2], options, NULL, on_started, &ex);
  g_main_loop_run (ex.loop);
  g_main_loop_unref (ex.loop);
  return ex.status;
}
