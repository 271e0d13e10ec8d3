/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-client.h: every D-Bus call ferryctl makes, in one place, so
 * that they can move into a client library later */
#pragma once

#include <gio/gio.h>

#include "ferry-dbus.h"
#include "ferry-names.h"

G_BEGIN_DECLS

#define FERRYCTL_ERROR_NOT_FOUND FERRY_ERROR_NAME_PREFIX "NotFound"
#define FERRYCTL_ERROR_CANCELLED FERRY_ERROR_NAME_PREFIX "Cancelled"

typedef struct _FerryctlClient FerryctlClient;

FerryctlClient *ferryctl_client_new (const char *address, GError **error);
void ferryctl_client_free (FerryctlClient *client);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerryctlClient, ferryctl_client_free)

GDBusConnection *ferryctl_client_get_connection (FerryctlClient *client);

char *ferryctl_client_migrate (FerryctlClient *client,
                               const char *domain,
                               const char *destination,
                               GVariant *options,
                               GError **error);
GVariant *ferryctl_client_check (FerryctlClient *client,
                                 const char *domain,
                                 const char *destination,
                                 GVariant *options,
                                 GError **error);

/* The managed objects, sorted: domains by name, migrations by number. */
GList *ferryctl_client_list_domains (FerryctlClient *client, GError **error);
GList *ferryctl_client_list_migrations (FerryctlClient *client, GError **error);

FerryDBusMigration *
ferryctl_client_get_migration (FerryctlClient *client, const char *path, GError **error);

gboolean ferryctl_client_cancel (FerryDBusMigration *migration, GError **error);
gboolean ferryctl_client_start_postcopy (FerryDBusMigration *migration, GError **error);
gboolean
ferryctl_client_set_max_downtime (FerryDBusMigration *migration, guint64 ms, GError **error);
gboolean ferryctl_client_set_max_bandwidth (FerryDBusMigration *migration,
                                            guint64 bytes_per_second,
                                            GError **error);

/* The final statistics (a read: no authorization); NULL on error. */
GVariant *ferryctl_client_get_statistics (FerryDBusMigration *migration, GError **error);

/* "3" or "/org/ferryvm/Ferry1/migration/3" -> the object path; NULL if
 * @id is neither. */
char *ferryctl_migration_path_from_id (const char *id);
/* The number at the end of a migration path, or 0. */
guint64 ferryctl_migration_id_from_path (const char *path);

/* The D-Bus error name of @error (NULL for a local error) and its message
 * without the "GDBus.Error:..." prefix. */
char *ferryctl_error_get_name (const GError *error);
char *ferryctl_error_get_message (const GError *error);

G_END_DECLS
