/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-client.c: every D-Bus call ferryctl makes
 *
 * The generated FerryDBus proxies do the marshalling. Privileged calls go
 * through g_dbus_proxy_call_sync() on the same proxies, because they need
 * G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION (polkit may ask an
 * agent) and no timeout while someone types a password.
 */
#define G_LOG_DOMAIN "ferryctl-client"

#include "ferryctl-client.h"

struct _FerryctlClient
{
  GDBusConnection *connection;
};

FerryctlClient *
ferryctl_client_new (const char *address, GError **error)
{
  g_autoptr (GDBusConnection) connection = NULL;
  FerryctlClient *client;

  if (address != NULL)
    connection =
        g_dbus_connection_new_for_address_sync (address,
                                                G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                    G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                NULL, NULL, error);
  else
    connection =
        g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error); /* honours DBUS_SYSTEM_BUS_ADDRESS */
  if (connection == NULL)
    {
      g_prefix_error (error, "Cannot connect to %s: ", address ? address : "the system bus");
      return NULL;
    }
  g_dbus_connection_set_exit_on_close (connection, FALSE);

  client = g_new0 (FerryctlClient, 1);
  client->connection = g_steal_pointer (&connection);
  return client;
}

void
ferryctl_client_free (FerryctlClient *client)
{
  if (client == NULL)
    return;
  g_clear_object (&client->connection);
  g_free (client);
}

GDBusConnection *
ferryctl_client_get_connection (FerryctlClient *client)
{
  return client->connection;
}

static FerryDBusManager *
manager_proxy (FerryctlClient *client, GError **error)
{
  return ferry_dbus_manager_proxy_new_sync (client->connection,
                                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                                G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS,
                                            FERRY_BUS_NAME, FERRY_OBJECT_PATH, NULL, error);
}

/* A call guarded by polkit: interactive authorization allowed, no timeout. */
static GVariant *
call_privileged (gpointer proxy, const char *method, GVariant *parameters, GError **error)
{
  return g_dbus_proxy_call_sync (G_DBUS_PROXY (proxy), method, parameters,
                                 G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                                 error);
}

char *
ferryctl_client_migrate (FerryctlClient *client,
                         const char *domain,
                         const char *destination,
                         GVariant *options,
                         GError **error)
{
  g_autoptr (FerryDBusManager) manager = manager_proxy (client, error);
  g_autoptr (GVariant) reply = NULL;
  char *path = NULL;

  if (manager == NULL)
    return NULL;
  reply = call_privileged (manager, "Migrate",
                           g_variant_new ("(ss@a{sv})", domain, destination, options), error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(o)", &path);
  return path;
}

GVariant *
ferryctl_client_check (FerryctlClient *client,
                       const char *domain,
                       const char *destination,
                       GVariant *options,
                       GError **error)
{
  g_autoptr (FerryDBusManager) manager = manager_proxy (client, error);
  GVariant *report = NULL;

  if (manager == NULL)
    return NULL;
  if (!ferry_dbus_manager_call_check_sync (manager, domain, destination, options, &report, NULL,
                                           error))
    return NULL;
  return report;
}

/* --- object listing --- */

static GList *
list_interfaces (FerryctlClient *client, const char *interface_name, GError **error)
{
  g_autoptr (GDBusObjectManager) manager = NULL;
  g_autolist (GDBusObject) objects = NULL;
  g_autofree char *owner = NULL;
  GList *result = NULL;

  manager = ferry_dbus_object_manager_client_new_sync (
      client->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_DO_NOT_AUTO_START, FERRY_BUS_NAME,
      FERRY_OBJECT_PATH, NULL, error);
  if (manager == NULL)
    return NULL;
  owner = g_dbus_object_manager_client_get_name_owner (G_DBUS_OBJECT_MANAGER_CLIENT (manager));
  if (owner == NULL)
    {
      /* Not running: activate it with a real call, which also gives the
       * error to report when it cannot be started. */
      g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
          client->connection, FERRY_BUS_NAME, FERRY_OBJECT_PATH, "org.freedesktop.DBus.Peer",
          "Ping", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, error);
      if (reply == NULL)
        return NULL;
      g_clear_object (&manager);
      manager = ferry_dbus_object_manager_client_new_sync (
          client->connection, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, FERRY_BUS_NAME,
          FERRY_OBJECT_PATH, NULL, error);
      if (manager == NULL)
        return NULL;
    }

  objects = g_dbus_object_manager_get_objects (manager);
  for (GList *l = objects; l != NULL; l = l->next)
    {
      GDBusInterface *iface = g_dbus_object_get_interface (l->data, interface_name);

      if (iface != NULL)
        result = g_list_prepend (result, iface);
    }
  return result;
}

static int
compare_domains (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (ferry_dbus_domain_get_name ((FerryDBusDomain *) a),
                    ferry_dbus_domain_get_name ((FerryDBusDomain *) b));
}

static int
compare_migrations (gconstpointer a, gconstpointer b)
{
  guint64 na =
      ferryctl_migration_id_from_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY ((gpointer) a)));
  guint64 nb =
      ferryctl_migration_id_from_path (g_dbus_proxy_get_object_path (G_DBUS_PROXY ((gpointer) b)));

  return na < nb ? -1 : na > nb;
}

GList *
ferryctl_client_list_domains (FerryctlClient *client, GError **error)
{
  g_autoptr (GError) local = NULL;
  GList *list = list_interfaces (client, FERRY_DOMAIN_INTERFACE, &local);

  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_list_sort (list, compare_domains);
}

GList *
ferryctl_client_list_migrations (FerryctlClient *client, GError **error)
{
  g_autoptr (GError) local = NULL;
  GList *list = list_interfaces (client, FERRY_MIGRATION_INTERFACE, &local);

  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_list_sort (list, compare_migrations);
}

/* --- one migration --- */

static gboolean
is_unknown_object_error (const GError *error)
{
  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_OBJECT) ||
         g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_INTERFACE);
}

FerryDBusMigration *
ferryctl_client_get_migration (FerryctlClient *client, const char *path, GError **error)
{
  g_autoptr (FerryDBusMigration) migration = NULL;
  g_auto (GStrv) names = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GError) local = NULL;

  /* Properties are loaded after the signal match is in place: nothing
   * that happens from here on is missed. */
  migration = ferry_dbus_migration_proxy_new_sync (client->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                   FERRY_BUS_NAME, path, NULL, error);
  if (migration == NULL)
    return NULL;
  names = g_dbus_proxy_get_cached_property_names (G_DBUS_PROXY (migration));
  if (names != NULL && names[0] != NULL)
    return g_steal_pointer (&migration);

  /* No properties: ask again to learn why. */
  reply = g_dbus_connection_call_sync (client->connection, FERRY_BUS_NAME, path,
                                       "org.freedesktop.DBus.Properties", "GetAll",
                                       g_variant_new ("(s)", FERRY_MIGRATION_INTERFACE), NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &local);
  if (reply != NULL)
    /* ferryd was not running and this call activated it: start over. */
    return ferry_dbus_migration_proxy_new_sync (client->connection, G_DBUS_PROXY_FLAGS_NONE,
                                                FERRY_BUS_NAME, path, NULL, error);
  if (!is_unknown_object_error (local))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  {
    g_autofree char *message = g_strdup_printf ("No migration at %s", path);

    g_dbus_error_set_dbus_error (error, FERRYCTL_ERROR_NOT_FOUND, message, NULL);
  }
  return NULL;
}

static gboolean
call_control (FerryDBusMigration *migration, const char *method, GVariant *args, GError **error)
{
  g_autoptr (GVariant) reply = call_privileged (migration, method, args, error);

  return reply != NULL;
}

gboolean
ferryctl_client_cancel (FerryDBusMigration *migration, GError **error)
{
  return call_control (migration, "Cancel", NULL, error);
}

gboolean
ferryctl_client_start_postcopy (FerryDBusMigration *migration, GError **error)
{
  return call_control (migration, "StartPostCopy", NULL, error);
}

gboolean
ferryctl_client_set_max_downtime (FerryDBusMigration *migration, guint64 ms, GError **error)
{
  return call_control (migration, "SetMaxDowntime", g_variant_new ("(t)", ms), error);
}

gboolean
ferryctl_client_set_max_bandwidth (FerryDBusMigration *migration,
                                   guint64 bytes_per_second,
                                   GError **error)
{
  return call_control (migration, "SetMaxBandwidth", g_variant_new ("(t)", bytes_per_second),
                       error);
}

GVariant *
ferryctl_client_get_statistics (FerryDBusMigration *migration, GError **error)
{
  GVariant *statistics = NULL;

  if (!ferry_dbus_migration_call_get_statistics_sync (migration, &statistics, NULL, error))
    return NULL;
  return statistics;
}

/* --- names --- */

char *
ferryctl_migration_path_from_id (const char *id)
{
  const char *number = id;
  guint64 n;

  if (g_str_has_prefix (id, FERRY_MIGRATION_PATH_PREFIX))
    number = id + strlen (FERRY_MIGRATION_PATH_PREFIX);
  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXUINT64, &n, NULL))
    return NULL;
  return g_strdup_printf (FERRY_MIGRATION_PATH_PREFIX "%" G_GUINT64_FORMAT, n);
}

guint64
ferryctl_migration_id_from_path (const char *path)
{
  guint64 n = 0;

  if (path != NULL && g_str_has_prefix (path, FERRY_MIGRATION_PATH_PREFIX))
    g_ascii_string_to_unsigned (path + strlen (FERRY_MIGRATION_PATH_PREFIX), 10, 0, G_MAXUINT64, &n,
                                NULL);
  return n;
}

char *
ferryctl_error_get_name (const GError *error)
{
  if (g_dbus_error_is_remote_error (error))
    return g_dbus_error_get_remote_error (error);
  return NULL;
}

char *
ferryctl_error_get_message (const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  g_dbus_error_strip_remote_error (copy);
  return g_strdup (copy->message);
}
