/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-client.c: ferryctl's use of libferry
 *
 * libferry makes every D-Bus call; ferryctl only connects a FerryClient,
 * finds migrations in it and shows the errors it returns. Calls guarded
 * by polkit are made with the client's interactive flag on (see
 * ferryctl.c), so polkit may ask an agent, without a timeout.
 */
#define G_LOG_DOMAIN "ferryctl-client"

#include "ferryctl-client.h"

#include <string.h>

FerryClient *
ferryctl_client_new (const char *address, GError **error)
{
  g_autoptr (GError) local = NULL;
  FerryClient *client;
  GDBusConnection *connection;

  if (address != NULL)
    client = ferry_client_new_for_address (address, NULL, &local);
  else
    client = ferry_client_new_sync (NULL, &local); /* honours DBUS_SYSTEM_BUS_ADDRESS */
  if (client == NULL)
    {
      /* ferryd's errors as they are; the bus' own ones say where */
      if (local->domain != FERRY_ERROR)
        g_prefix_error (&local, "Cannot connect to %s: ", address ? address : "the system bus");
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  /* the shared system bus connection would raise SIGTERM when it closes:
   * watching reports a lost bus instead */
  connection = ferry_client_get_connection (client);
  g_object_set (connection, "exit-on-close", FALSE, NULL);
  return client;
}

FerryMigration *
ferryctl_client_get_migration (FerryClient *client, const char *path, GError **error)
{
  FerryMigration *migration = ferry_client_lookup_migration (client, path);

  if (migration == NULL)
    g_set_error (error, FERRY_ERROR, FERRY_ERROR_NOT_FOUND, "No migration at %s", path);
  return migration;
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

/* --- errors --- */

/* Whether @message starts with "<D-Bus error name>: ", as libferry writes
 * the errors of the bus itself (org.freedesktop.DBus.Error.ServiceUnknown,
 * ...) that have no FerryError code of their own. */
static gboolean
has_error_name_prefix (const char *message)
{
  const char *colon = strstr (message, ": ");
  gboolean dot = FALSE;

  if (colon == NULL || colon == message || g_ascii_isdigit (message[0]))
    return FALSE;
  for (const char *p = message; p < colon; p++)
    {
      if (*p == '.')
        dot = TRUE;
      else if (!g_ascii_isalnum (*p) && *p != '_')
        return FALSE;
    }
  return dot && colon[-1] != '.';
}

const char *
ferryctl_error_get_name (const GError *error)
{
  if (error->domain != FERRY_ERROR)
    return NULL;
  /* the bus' error name is already in the message */
  if (error->code == FERRY_ERROR_FAILED && has_error_name_prefix (error->message) &&
      !g_str_has_prefix (error->message, FERRY_ERROR_NAME_PREFIX))
    return NULL;
  return ferry_error_get_dbus_name (error);
}

const char *
ferryctl_error_get_message (const GError *error)
{
  return error->message;
}
