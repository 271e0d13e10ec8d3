/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferry-migration.h: a migration of ferryd (org.ferryvm.Ferry1.Migration) */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FERRY_TYPE_MIGRATION (ferry_migration_get_type ())
G_DECLARE_FINAL_TYPE (FerryMigration, ferry_migration, FERRY, MIGRATION, GObject)

const char *ferry_migration_get_object_path (FerryMigration *self);
gboolean ferry_migration_is_finished (FerryMigration *self);
const char *ferry_migration_get_domain_path (FerryMigration *self);
const char *ferry_migration_get_domain_name (FerryMigration *self);
const char *ferry_migration_get_source (FerryMigration *self);
const char *ferry_migration_get_destination (FerryMigration *self);
const char *ferry_migration_get_direction (FerryMigration *self);
const char *ferry_migration_get_backend (FerryMigration *self);
GVariant *ferry_migration_dup_options (FerryMigration *self);
guint ferry_migration_get_started_by_uid (FerryMigration *self);
const char *ferry_migration_get_phase (FerryMigration *self);
const char *ferry_migration_get_state (FerryMigration *self);
const char *ferry_migration_get_mode (FerryMigration *self);
GVariant *ferry_migration_dup_phase_timestamps (FerryMigration *self);
double ferry_migration_get_progress (FerryMigration *self);
guint64 ferry_migration_get_time_elapsed (FerryMigration *self);
guint64 ferry_migration_get_time_remaining (FerryMigration *self);
guint64 ferry_migration_get_memory_total (FerryMigration *self);
guint64 ferry_migration_get_memory_processed (FerryMigration *self);
guint64 ferry_migration_get_memory_remaining (FerryMigration *self);
guint64 ferry_migration_get_disk_total (FerryMigration *self);
guint64 ferry_migration_get_disk_processed (FerryMigration *self);
guint64 ferry_migration_get_disk_remaining (FerryMigration *self);
guint64 ferry_migration_get_transfer_rate (FerryMigration *self);
guint64 ferry_migration_get_dirty_rate (FerryMigration *self);
guint ferry_migration_get_iteration (FerryMigration *self);
guint64 ferry_migration_get_expected_downtime (FerryMigration *self);
const char *ferry_migration_get_converging (FerryMigration *self);
GVariant *ferry_migration_dup_convergence (FerryMigration *self);
GVariant *ferry_migration_dup_statistics (FerryMigration *self);
const char *ferry_migration_get_error_name (FerryMigration *self);
const char *ferry_migration_get_error_message (FerryMigration *self);

gboolean
ferry_migration_cancel_sync (FerryMigration *self, GCancellable *cancellable, GError **error);
void ferry_migration_cancel_async (FerryMigration *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean ferry_migration_cancel_finish (FerryMigration *self, GAsyncResult *result, GError **error);

gboolean ferry_migration_start_postcopy_sync (FerryMigration *self,
                                              GCancellable *cancellable,
                                              GError **error);
void ferry_migration_start_postcopy_async (FerryMigration *self,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
gboolean
ferry_migration_start_postcopy_finish (FerryMigration *self, GAsyncResult *result, GError **error);

gboolean ferry_migration_set_max_downtime_sync (FerryMigration *self,
                                                guint64 milliseconds,
                                                GCancellable *cancellable,
                                                GError **error);
void ferry_migration_set_max_downtime_async (FerryMigration *self,
                                             guint64 milliseconds,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
gboolean ferry_migration_set_max_downtime_finish (FerryMigration *self,
                                                  GAsyncResult *result,
                                                  GError **error);

gboolean ferry_migration_set_max_bandwidth_sync (FerryMigration *self,
                                                 guint64 bytes_per_second,
                                                 GCancellable *cancellable,
                                                 GError **error);
void ferry_migration_set_max_bandwidth_async (FerryMigration *self,
                                              guint64 bytes_per_second,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
gboolean ferry_migration_set_max_bandwidth_finish (FerryMigration *self,
                                                   GAsyncResult *result,
                                                   GError **error);

gboolean
ferry_migration_pause_sync (FerryMigration *self, GCancellable *cancellable, GError **error);
void ferry_migration_pause_async (FerryMigration *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean ferry_migration_pause_finish (FerryMigration *self, GAsyncResult *result, GError **error);

gboolean ferry_migration_recover_sync (FerryMigration *self,
                                       const char *uri,
                                       GCancellable *cancellable,
                                       GError **error);
void ferry_migration_recover_async (FerryMigration *self,
                                    const char *uri,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean
ferry_migration_recover_finish (FerryMigration *self, GAsyncResult *result, GError **error);

GVariant *ferry_migration_get_statistics_sync (FerryMigration *self,
                                               GCancellable *cancellable,
                                               GError **error);
void ferry_migration_get_statistics_async (FerryMigration *self,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data);
GVariant *
ferry_migration_get_statistics_finish (FerryMigration *self, GAsyncResult *result, GError **error);

GVariant *
ferry_migration_wait_sync (FerryMigration *self, GCancellable *cancellable, GError **error);
void ferry_migration_wait_async (FerryMigration *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
GVariant *ferry_migration_wait_finish (FerryMigration *self, GAsyncResult *result, GError **error);

G_END_DECLS
