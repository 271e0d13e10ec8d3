/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* test-libferry.c: libferry without a bus: the options' a{sv}, and bad
 * input (NULL where not allowed, foreign async results) gives a critical
 * and a harmless return, never a crash */
#define G_LOG_DOMAIN "test-libferry"

#include <ferry/ferry.h>

static void
test_options (void)
{
  g_autoptr (FerryMigrateOptions) opts = ferry_migrate_options_new ();
  g_autoptr (GVariant) v = NULL;
  g_autoptr (GVariant) empty = ferry_migrate_options_to_variant (opts);
  const char *disks[] = { "vda", "vdb", NULL };
  g_autofree char *text = NULL;

  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);
  g_assert_false (g_variant_is_floating (empty));

  ferry_migrate_options_set_live (opts, TRUE);
  ferry_migrate_options_set_postcopy (opts, "auto");
  ferry_migrate_options_set_max_bandwidth (opts, 1000);
  ferry_migrate_options_set_max_postcopy_bandwidth (opts, 2000);
  ferry_migrate_options_set_switchover_bandwidth (opts, 3000);
  ferry_migrate_options_set_max_downtime (opts, 300);
  ferry_migrate_options_set_auto_converge (opts, FALSE);
  ferry_migrate_options_set_multifd_channels (opts, 4);
  ferry_migrate_options_set_compression (opts, "zstd");
  ferry_migrate_options_set_copy_storage (opts, "all");
  ferry_migrate_options_set_disks (opts, disks);
  ferry_migrate_options_set_synchronous_writes (opts, TRUE);
  ferry_migrate_options_set_switchover_ack (opts, "on");
  ferry_migrate_options_set_tls (opts, FALSE);
  ferry_migrate_options_set_persist (opts, TRUE);
  ferry_migrate_options_set_undefine_source (opts, FALSE);
  ferry_migrate_options_set_timeout (opts, 60);
  ferry_migrate_options_set_timeout_action (opts, "postcopy");
  ferry_migrate_options_set_migrate_uri (opts, "tcp:127.0.0.1:4444");
  ferry_migrate_options_set_value (opts, "future-option", g_variant_new_int32 (-1));
  ferry_migrate_options_set_value (opts, "compression", g_variant_new_string ("none"));
  ferry_migrate_options_unset (opts, "tls");

  v = ferry_migrate_options_to_variant (opts);
  g_assert_true (g_variant_is_of_type (v, G_VARIANT_TYPE_VARDICT));
  text = g_variant_print (v, TRUE);
  g_assert_cmpstr (text, ==,
                   "{'auto-converge': <false>, 'compression': <'none'>, "
                   "'copy-storage': <'all'>, 'disks': <['vda', 'vdb']>, "
                   "'future-option': <-1>, 'live': <true>, 'max-bandwidth': <uint64 1000>, "
                   "'max-downtime': <uint64 300>, 'max-postcopy-bandwidth': <uint64 2000>, "
                   "'migrate-uri': <'tcp:127.0.0.1:4444'>, 'multifd-channels': <uint32 4>, "
                   "'persist': <true>, 'postcopy': <'auto'>, 'switchover-ack': <'on'>, "
                   "'switchover-bandwidth': <uint64 3000>, 'synchronous-writes': <true>, "
                   "'timeout': <uint32 60>, 'timeout-action': <'postcopy'>, "
                   "'undefine-source': <false>}");
}

static void
test_options_bad_input (void)
{
  g_autoptr (FerryMigrateOptions) opts = ferry_migrate_options_new ();
  g_autoptr (GVariant) v = NULL;

  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*key != NULL*");
  ferry_migrate_options_set_value (opts, NULL, g_variant_new_boolean (TRUE));
  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  ferry_migrate_options_set_value (opts, "live", NULL);
  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*postcopy != NULL*");
  ferry_migrate_options_set_postcopy (opts, NULL);
  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*disks != NULL*");
  ferry_migrate_options_set_disks (opts, NULL);
  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_MIGRATE_OPTIONS*");
  ferry_migrate_options_set_live (NULL, TRUE);
  g_test_expect_message ("libferry-options", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_MIGRATE_OPTIONS*");
  g_assert_null (ferry_migrate_options_to_variant (NULL));
  g_test_assert_expected_messages ();

  v = ferry_migrate_options_to_variant (opts);
  g_assert_cmpuint (g_variant_n_children (v), ==, 0);
}

static void
foreign_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_client_bad_input (void)
{
  /* a client without a bus: only calls that fail before any I/O */
  g_autoptr (FerryClient) client = g_object_new (FERRY_TYPE_CLIENT, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) foreign = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*G_IS_DBUS_CONNECTION*");
  g_assert_null (ferry_client_new_for_connection (NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*domain_name != NULL*");
  g_assert_null (ferry_client_migrate_sync (client, NULL, "unix:path=/x", NULL, NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*destination != NULL*");
  g_assert_null (ferry_client_migrate_sync (client, "demo", NULL, NULL, NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_MIGRATE_OPTIONS*");
  g_assert_null (ferry_client_migrate_sync (client, "demo", "unix:path=/x",
                                            (FerryMigrateOptions *) client, NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*domain_name != NULL*");
  ferry_client_migrate_async (client, NULL, "unix:path=/x", NULL, NULL, NULL, NULL);
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*domain_name != NULL*");
  g_assert_null (ferry_client_check_sync (client, NULL, "unix:path=/x", NULL, NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*name != NULL*");
  g_assert_null (ferry_client_lookup_domain (client, NULL));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*object_path != NULL*");
  g_assert_null (ferry_client_lookup_migration (client, NULL));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_CLIENT*");
  g_assert_null (ferry_client_get_domains (NULL));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  /* a result that is not the client's, or not of this call */
  foreign = g_task_new (NULL, NULL, foreign_cb, &result);
  g_task_return_boolean (foreign, TRUE);
  g_clear_object (&foreign);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*g_task_is_valid*");
  g_assert_null (ferry_client_migrate_finish (client, result, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*is_tagged*");
  g_assert_null (ferry_client_new_finish (result, &error));
  g_test_expect_message ("libferry-migration", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_MIGRATION*");
  g_assert_null (ferry_migration_wait_finish (NULL, result, &error));
  g_test_expect_message ("libferry-migration", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_MIGRATION*");
  g_assert_false (ferry_migration_cancel_sync (NULL, NULL, &error));
  g_test_expect_message ("libferry-domain", G_LOG_LEVEL_CRITICAL, "*FERRY_IS_DOMAIN*");
  g_assert_false (ferry_domain_start_sync (NULL, NULL, &error));
  g_test_expect_message ("libferry", G_LOG_LEVEL_CRITICAL, "*G_IS_OBJECT*");
  g_assert_false (ferry_domain_start_finish (NULL, result, &error));
  g_test_expect_message ("libferry", G_LOG_LEVEL_CRITICAL, "*g_task_is_valid*");
  g_assert_false (ferry_migration_pause_finish ((FerryMigration *) client, result, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  /* the interactive flag */
  g_assert_false (ferry_client_get_interactive (client));
  ferry_client_set_interactive (client, TRUE);
  g_assert_true (ferry_client_get_interactive (client));
  g_assert_null (ferry_client_get_domains (client));
  g_assert_null (ferry_client_get_migrations (client));
}

/* ferry_client_new_for_address(): a bus that is not there is a GError
 * (of GIO: no D-Bus error name), sync and async; NULL is a critical */
static void
test_client_for_address (void)
{
  const char *address = "unix:path=/nonexistent/ferry-test/bus";
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (FerryClient) client = NULL;

  client = ferry_client_new_for_address (address, NULL, &error);
  g_assert_null (client);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_assert_null (ferry_error_get_dbus_name (error));
  g_clear_error (&error);

  ferry_client_new_for_address_async (address, NULL, foreign_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  client = ferry_client_new_for_address_finish (result, &error);
  g_assert_null (client);
  g_assert_nonnull (error);
  g_assert_true (error->domain == G_IO_ERROR);
  g_clear_error (&error);

  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*address != NULL*");
  g_assert_null (ferry_client_new_for_address (NULL, NULL, &error));
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*address != NULL*");
  ferry_client_new_for_address_async (NULL, NULL, NULL, NULL);
  g_test_expect_message ("libferry-client", G_LOG_LEVEL_CRITICAL, "*is_tagged*");
  g_assert_null (ferry_client_new_for_connection_finish (result, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/libferry/options", test_options);
  g_test_add_func ("/libferry/options/bad-input", test_options_bad_input);
  g_test_add_func ("/libferry/client/bad-input", test_client_bad_input);
  g_test_add_func ("/libferry/client/for-address", test_client_for_address);
  return g_test_run ();
}
