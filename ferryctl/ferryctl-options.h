/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryctl-options.h: migration options on the command line ->
 * FerryMigrateOptions */
#pragma once

#include <ferry/ferry.h>

G_BEGIN_DECLS

typedef struct _FerryctlMigrateOptions FerryctlMigrateOptions;

FerryctlMigrateOptions *ferryctl_migrate_options_new (void);
void ferryctl_migrate_options_free (FerryctlMigrateOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FerryctlMigrateOptions, ferryctl_migrate_options_free)

/* A group with the @leading entries and then --postcopy=...,
 * --max-bandwidth=...; those parse into @options, and a bad value is a
 * G_OPTION_ERROR_BAD_VALUE. */
GOptionGroup *ferryctl_migrate_options_get_group (FerryctlMigrateOptions *options,
                                                  const GOptionEntry *leading);

/* Whether any migration option was given. */
gboolean ferryctl_migrate_options_any (FerryctlMigrateOptions *options);

/* The options given, typed as DESIGN §2 "Options" says (a new object). */
FerryMigrateOptions *ferryctl_migrate_options_to_ferry (FerryctlMigrateOptions *options);

/* "1000000", "100M", "1.5GiB/s"... (suffixes are powers of 1024). */
gboolean ferryctl_parse_bytes (const char *text, guint64 *out, GError **error);

G_END_DECLS
