/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the polkit table covers every method of the D-Bus API and
 * denies everything else */
#define G_LOG_DOMAIN "test-auth"

#include "ferry-dbus.h"
#include "ferry-names.h"
#include "ferryd-auth.h"

static const char *const known_actions[] = {
  "", /* open */
  FERRY_ACTION_MIGRATE,
  FERRY_ACTION_CONTROL,
  FERRY_ACTION_MANAGE_DOMAINS,
  FERRY_ACTION_PEER,
  NULL,
};

static void
test_auth_every_method (void)
{
  GDBusInterfaceInfo *interfaces[] = {
    ferry_dbus_manager_interface_info (),
    ferry_dbus_domain_interface_info (),
    ferry_dbus_migration_interface_info (),
    ferry_dbus_peer_interface_info (),
  };
  guint n = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (interfaces); i++)
    for (GDBusMethodInfo **m = interfaces[i]->methods; m && *m; m++)
      {
        const char *action = ferryd_authority_lookup_action (interfaces[i]->name, (*m)->name);

        if (action == NULL)
          g_error ("%s.%s has no entry in the polkit table", interfaces[i]->name, (*m)->name);
        g_assert_true (g_strv_contains (known_actions, action));
        n++;
      }
  g_assert_cmpuint (n, >, 10);
}

static void
test_auth_actions (void)
{
  /* What changes a guest or the host needs an action; reading is open. */
  g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, "Migrate"), ==,
                   FERRY_ACTION_MIGRATE);
  g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, "DefineDomain"), ==,
                   FERRY_ACTION_MANAGE_DOMAINS);
  g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_DOMAIN_INTERFACE, "Start"), ==,
                   FERRY_ACTION_MANAGE_DOMAINS);
  g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_MIGRATION_INTERFACE, "Cancel"), ==,
                   FERRY_ACTION_CONTROL);
  g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_MIGRATION_INTERFACE, "GetStatistics"), ==,
                   "");
  for (GDBusMethodInfo **m = ferry_dbus_peer_interface_info ()->methods; m && *m; m++)
    g_assert_cmpstr (ferryd_authority_lookup_action (FERRY_PEER_INTERFACE, (*m)->name), ==,
                     FERRY_ACTION_PEER);
}

static void
test_auth_unknown_denied (void)
{
  g_assert_null (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, "NoSuchMethod"));
  g_assert_null (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, ""));
  g_assert_null (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, "migrate"));
  /* A method of another interface is not allowed under this one. */
  g_assert_null (ferryd_authority_lookup_action (FERRY_MANAGER_INTERFACE, "Cancel"));
  g_assert_null (ferryd_authority_lookup_action (FERRY_PEER_INTERFACE, "Migrate"));
  g_assert_null (ferryd_authority_lookup_action ("org.freedesktop.DBus.Properties", "Set"));
  g_assert_null (ferryd_authority_lookup_action ("org.ferryvm.Ferry1.Nothing", "Migrate"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/auth/every-method", test_auth_every_method);
  g_test_add_func ("/auth/actions", test_auth_actions);
  g_test_add_func ("/auth/unknown-denied", test_auth_unknown_denied);
  return g_test_run ();
}
