/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-migrate-options.h: the options of a migration (DESIGN §2 Options) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRY_TYPE_MIGRATE_OPTIONS (ferry_migrate_options_get_type ())
G_DECLARE_FINAL_TYPE (FerryMigrateOptions, ferry_migrate_options, FERRY, MIGRATE_OPTIONS, GObject)

FerryMigrateOptions *ferry_migrate_options_new (void);

void ferry_migrate_options_set_live (FerryMigrateOptions *self, gboolean live);
void ferry_migrate_options_set_postcopy (FerryMigrateOptions *self, const char *postcopy);
void ferry_migrate_options_set_max_bandwidth (FerryMigrateOptions *self, guint64 bytes_per_second);
void ferry_migrate_options_set_max_postcopy_bandwidth (FerryMigrateOptions *self,
                                                       guint64 bytes_per_second);
void ferry_migrate_options_set_switchover_bandwidth (FerryMigrateOptions *self,
                                                     guint64 bytes_per_second);
void ferry_migrate_options_set_max_downtime (FerryMigrateOptions *self, guint64 milliseconds);
void ferry_migrate_options_set_auto_converge (FerryMigrateOptions *self, gboolean auto_converge);
void ferry_migrate_options_set_multifd_channels (FerryMigrateOptions *self, guint channels);
void ferry_migrate_options_set_compression (FerryMigrateOptions *self, const char *compression);
void ferry_migrate_options_set_copy_storage (FerryMigrateOptions *self, const char *copy_storage);
void ferry_migrate_options_set_disks (FerryMigrateOptions *self, const char *const *disks);
void ferry_migrate_options_set_synchronous_writes (FerryMigrateOptions *self,
                                                   gboolean synchronous_writes);
void ferry_migrate_options_set_switchover_ack (FerryMigrateOptions *self,
                                               const char *switchover_ack);
void ferry_migrate_options_set_tls (FerryMigrateOptions *self, gboolean tls);
void ferry_migrate_options_set_persist (FerryMigrateOptions *self, gboolean persist);
void ferry_migrate_options_set_undefine_source (FerryMigrateOptions *self,
                                                gboolean undefine_source);
void ferry_migrate_options_set_timeout (FerryMigrateOptions *self, guint seconds);
void ferry_migrate_options_set_timeout_action (FerryMigrateOptions *self, const char *action);
void ferry_migrate_options_set_migrate_uri (FerryMigrateOptions *self, const char *uri);

void ferry_migrate_options_set_value (FerryMigrateOptions *self, const char *key, GVariant *value);
void ferry_migrate_options_unset (FerryMigrateOptions *self, const char *key);
GVariant *ferry_migrate_options_to_variant (FerryMigrateOptions *self);

G_END_DECLS
