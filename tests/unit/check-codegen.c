/* SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Compile-and-run check of the gdbus-codegen output: the C names the
 * daemon and the client library are written against exist, and the
 * Migration "Iteration" property and signal coexist.
 */
#include "ferry-dbus.h"

static void
on_iteration (FerryDBusMigration *migration, guint n, GVariant *stats, gpointer user_data)
{
  *(guint *) user_data = n;
}

static void
test_names (void)
{
  g_autoptr (FerryDBusObjectSkeleton) object = NULL;
  g_autoptr (FerryDBusManager) manager = NULL;
  g_autoptr (FerryDBusDomain) domain = NULL;
  g_autoptr (FerryDBusMigration) migration = NULL;
  g_autoptr (FerryDBusPeer) peer = NULL;
  const gchar *const caps[] = { "postcopy", NULL };
  guint seen = 0;

  object = ferry_dbus_object_skeleton_new ("/org/ferryvm/Ferry1");
  manager = ferry_dbus_manager_skeleton_new ();
  domain = ferry_dbus_domain_skeleton_new ();
  migration = ferry_dbus_migration_skeleton_new ();
  peer = ferry_dbus_peer_skeleton_new ();

  ferry_dbus_manager_set_host_uuid (manager, "00000000-0000-0000-0000-000000000000");
  ferry_dbus_manager_set_capabilities (manager, caps);
  ferry_dbus_object_skeleton_set_manager (object, manager);
  ferry_dbus_object_skeleton_set_peer (object, peer);
  g_assert_true (ferry_dbus_object_peek_manager (FERRY_DBUS_OBJECT (object)) == manager);
  g_assert_true (ferry_dbus_object_peek_peer (FERRY_DBUS_OBJECT (object)) == peer);

  ferry_dbus_domain_set_migration (domain, "/");
  g_assert_cmpstr (ferry_dbus_domain_get_migration (domain), ==, "/");

  g_signal_connect (migration, "iteration", G_CALLBACK (on_iteration), &seen);
  ferry_dbus_migration_set_iteration (migration, 7);
  ferry_dbus_migration_set_started_by_uid (migration, 0);
  ferry_dbus_migration_emit_iteration (migration, 3, g_variant_new ("a{sv}", NULL));
  g_assert_cmpuint (ferry_dbus_migration_get_iteration (migration), ==, 7);
  g_assert_cmpuint (seen, ==, 3);
}

static void
test_interface_info (void)
{
  GDBusInterfaceInfo *info = ferry_dbus_migration_interface_info ();

  g_assert_cmpstr (info->name, ==, "org.ferryvm.Ferry1.Migration");
  g_assert_nonnull (g_dbus_interface_info_lookup_property (info, "Iteration"));
  g_assert_nonnull (g_dbus_interface_info_lookup_signal (info, "Iteration"));
  g_assert_nonnull (
      g_dbus_interface_info_lookup_method (ferry_dbus_peer_interface_info (), "Prepare"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/codegen/names", test_names);
  g_test_add_func ("/codegen/interface-info", test_interface_info);
  return g_test_run ();
}
