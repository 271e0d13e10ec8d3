/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration.h: one migration, as a state machine over the five phases */
#pragma once

#include <gio/gio.h>

#include "ferryd-daemon.h"
#include "ferry-dbus.h"
#include "ferryd-domain.h"
#include "ferryd-options.h"
#include "ferryd-peer-watch.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_MIGRATION (ferryd_migration_get_type ())
G_DECLARE_FINAL_TYPE (FerrydMigration, ferryd_migration, FERRYD, MIGRATION, GObject)

/* The number of the migration: unique within the daemon's life. */
guint ferryd_migration_get_id (FerrydMigration *self);
/* The public record: the D-Bus Migration properties and signals. The
 * engine writes it; the D-Bus layer exports it (and sets Domain, the
 * path of the domain's object). */
FerryDBusMigration *ferryd_migration_get_record (FerrydMigration *self);
FerrydDomain *ferryd_migration_get_domain (FerrydMigration *self);
gboolean ferryd_migration_is_finished (FerrydMigration *self);
gboolean ferryd_migration_is_incoming (FerrydMigration *self);

gboolean ferryd_migration_cancel (FerrydMigration *self, GError **error);
gboolean ferryd_migration_start_postcopy (FerrydMigration *self, GError **error);
/* Controls QEMU must accept: they complete once it has (or refused), and
 * each finishes with ferryd_migration_control_finish(). */
void ferryd_migration_set_max_downtime_async (FerrydMigration *self,
                                              guint64 ms,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
void ferryd_migration_set_max_bandwidth_async (FerrydMigration *self,
                                               guint64 bps,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
void ferryd_migration_pause_async (FerrydMigration *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean
ferryd_migration_control_finish (FerrydMigration *self, GAsyncResult *result, GError **error);
gboolean ferryd_migration_recover (FerrydMigration *self, const char *uri, GError **error);
GVariant *ferryd_migration_get_statistics (FerrydMigration *self);

G_END_DECLS

/* --- engine-facing API (ferryd-engine.c) --- */

G_BEGIN_DECLS

typedef struct _FerrydBackend FerrydBackend;

typedef struct
{
  FerrydDaemon *daemon;
  FerrydBackend *backend; /* NULL: the default one */
  FerrydDomain *domain;
  gboolean incoming;
  guint id;
  FerrydMigrateOptions *options; /* transfer full */
  const char *source;            /* host names as shown in Source/Destination */
  const char *destination;
  guint32 uid;
  const char *local_hostname;
  const char *local_host_uuid;
} FerrydMigrationSetup;

FerrydMigration *ferryd_migration_new (const FerrydMigrationSetup *setup);

/* Source side: run Begin → Prepare → Perform → Finish → Confirm. */
void ferryd_migration_run_outgoing (FerrydMigration *self, const char *peer_address);

/* Destination side. */
void ferryd_migration_prepare_incoming_async (FerrydMigration *self,
                                              FerrydPeerWatch *source,
                                              const FerrydDomainConfig *live,
                                              const char *persistent_description,
                                              gboolean created_domain,
                                              GVariant *source_info,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
GVariant *ferryd_migration_prepare_incoming_finish (FerrydMigration *self,
                                                    GAsyncResult *result,
                                                    GError **error);
void ferryd_migration_finish_incoming_async (FerrydMigration *self,
                                             gboolean source_completed,
                                             GVariant *statistics,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
GVariant *ferryd_migration_finish_incoming_finish (FerrydMigration *self,
                                                   GAsyncResult *result,
                                                   GError **error);
void ferryd_migration_abort_incoming (FerrydMigration *self, const char *reason);

/* The daemon is stopping: leave guests as they are, fail cleanly. */
void ferryd_migration_shutdown (FerrydMigration *self);

G_END_DECLS
