/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-paths.h: the object paths of the D-Bus layer
 *
 * The engine knows domains by name and migrations by number; only the
 * D-Bus layer maps them to the paths under FERRY_OBJECT_PATH.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* FERRY_DOMAIN_PATH_PREFIX and @name, escaped as sd_bus_path_encode does. */
char *ferryd_domain_object_path (const char *name);

/* FERRY_MIGRATION_PATH_PREFIX and @id. */
char *ferryd_migration_object_path (guint id);

/* The number of the migration at @path: FALSE when @path is not exactly
 * the path of a migration number. */
gboolean ferryd_migration_id_from_path (const char *path, guint *out_id);

G_END_DECLS
