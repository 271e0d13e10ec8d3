/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-client.h: ferryctl's use of libferry: connecting, finding a
 * migration, and the names and messages of errors */
#pragma once

#include <ferry/ferry.h>

#include "ferry-names.h"

G_BEGIN_DECLS

#define FERRYCTL_ERROR_CANCELLED FERRY_ERROR_NAME_PREFIX "Cancelled"

/* A client of ferryd on the bus at @address, or on the system bus when
 * @address is NULL; a bus that goes away does not end the process. */
FerryClient *ferryctl_client_new (const char *address, GError **error);

/* The migration at @path: a FERRY_ERROR_NOT_FOUND error if there is none. */
FerryMigration *
ferryctl_client_get_migration (FerryClient *client, const char *path, GError **error);

/* "3" or "/org/ferryvm/Ferry1/migration/3" -> the object path; NULL if
 * @id is neither. */
char *ferryctl_migration_path_from_id (const char *id);
/* The number at the end of a migration path, or 0. */
guint64 ferryctl_migration_id_from_path (const char *path);

/* The D-Bus error name to show for @error (NULL for a local error), and
 * the message to show after it. */
const char *ferryctl_error_get_name (const GError *error);
const char *ferryctl_error_get_message (const GError *error);

G_END_DECLS
