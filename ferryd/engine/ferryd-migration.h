/* ferry-migration.h: one migration, as a state machine over the five phases */
#pragma once

#include <gio/gio.h>

#include "ferryd-daemon.h"
#include "ferry-dbus.h"
#include "ferryd-domain.h"
#include "ferryd-options.h"

G_BEGIN_DECLS

#define FERRY_TYPE_MIGRATION (ferry_migration_get_type ())
G_DECLARE_FINAL_TYPE (FerryMigration, ferry_migration, FERRY, MIGRATION, GObject)

const char *ferry_migration_get_path (FerryMigration *self);
/* The public record: the D-Bus Migration properties and signals. The
 * engine writes it; the D-Bus layer only exports it. */
FerryDBusMigration *ferry_migration_get_record (FerryMigration *self);
FerryDomain *ferry_migration_get_domain (FerryMigration *self);
gboolean ferry_migration_is_finished (FerryMigration *self);
gboolean ferry_migration_is_incoming (FerryMigration *self);

gboolean ferry_migration_cancel (FerryMigration *self, GError **error);
gboolean ferry_migration_start_postcopy (FerryMigration *self, GError **error);
/* Controls QEMU must accept: they complete once it has (or refused), and
 * each finishes with ferry_migration_control_finish(). */
void ferry_migration_set_max_downtime_async (FerryMigration *self,
                                             guint64 ms,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
void ferry_migration_set_max_bandwidth_async (FerryMigration *self,
                                              guint64 bps,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
void ferry_migration_pause_async (FerryMigration *self,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean
ferry_migration_control_finish (FerryMigration *self, GAsyncResult *result, GError **error);
gboolean ferry_migration_recover (FerryMigration *self, const char *uri, GError **error);
GVariant *ferry_migration_get_statistics (FerryMigration *self);

G_END_DECLS

/* --- engine-facing API (ferry-engine.c) --- */

G_BEGIN_DECLS

typedef struct
{
  FerryDaemon *daemon;
  FerryDomain *domain;
  gboolean incoming;
  guint id;
  FerryMigrateOptions *options; /* transfer full */
  const char *source;           /* host names as shown in Source/Destination */
  const char *destination;
  guint32 uid;
  const char *local_hostname;
  const char *local_host_uuid;
} FerryMigrationSetup;

FerryMigration *ferry_migration_new (const FerryMigrationSetup *setup);

/* Source side: run Begin → Prepare → Perform → Finish → Confirm. */
void ferry_migration_run_outgoing (FerryMigration *self, const char *peer_address);

/* Destination side. */
void ferry_migration_prepare_incoming_async (FerryMigration *self,
                                             GDBusConnection *connection,
                                             const char *peer_name,
                                             const FerryDomainConfig *live,
                                             const char *persistent_description,
                                             gboolean created_domain,
                                             GVariant *source_info,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
GVariant *ferry_migration_prepare_incoming_finish (FerryMigration *self,
                                                   GAsyncResult *result,
                                                   GError **error);
void ferry_migration_finish_incoming_async (FerryMigration *self,
                                            gboolean source_completed,
                                            GVariant *statistics,
                                            GAsyncReadyCallback callback,
                                            gpointer user_data);
GVariant *
ferry_migration_finish_incoming_finish (FerryMigration *self, GAsyncResult *result, GError **error);
void ferry_migration_abort_incoming (FerryMigration *self, const char *reason);

/* The daemon is stopping: leave guests as they are, fail cleanly. */
void ferry_migration_shutdown (FerryMigration *self);

G_END_DECLS
