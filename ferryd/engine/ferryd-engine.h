/* ferry-engine.h: the migration engine: migrations of this host, both
 * directions, and the peer protocol entry points (no D-Bus types except
 * the Migration record) */
#pragma once

#include <gio/gio.h>

#include "ferryd-daemon.h"
#include "ferryd-migration.h"
#include "ferryd-options.h"

G_BEGIN_DECLS

#define FERRY_TYPE_ENGINE (ferry_engine_get_type ())
G_DECLARE_FINAL_TYPE (FerryEngine, ferry_engine, FERRY, ENGINE, GObject)

FerryEngine *ferry_engine_new (FerryDaemon *daemon);
FerryDaemon *ferry_engine_get_daemon (FerryEngine *self);

/* Outgoing: returns at once with the new migration (already running). */
FerryMigration *ferry_engine_migrate (FerryEngine *self,
                                      FerryDomain *domain,
                                      const char *destination,
                                      FerryMigrateOptions *options,
                                      guint32 uid,
                                      GError **error);

/* @no_contact_reason: NULL when the caller may make this host contact
 * the destination, else why not (the report then says so). */
void ferry_engine_check_async (FerryEngine *self,
                               FerryDomain *domain,
                               const char *destination,
                               FerryMigrateOptions *options,
                               const char *no_contact_reason,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data);
GVariant *ferry_engine_check_finish (FerryEngine *self, GAsyncResult *result, GError **error);

FerryMigration *ferry_engine_lookup_migration (FerryEngine *self, const char *object_path);
GList *ferry_engine_get_migrations (FerryEngine *self);

/* Peer protocol, destination side. */
GVariant *ferry_engine_hello (FerryEngine *self, GVariant *source_info);
void ferry_engine_prepare_async (FerryEngine *self,
                                 GDBusConnection *connection,
                                 const char *peer_name,
                                 const char *domain_name,
                                 const char *persistent_description,
                                 const char *live_description,
                                 GVariant *options,
                                 GVariant *source_info,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
/* Returns (o, a{sv}) */
GVariant *ferry_engine_prepare_finish (FerryEngine *self, GAsyncResult *result, GError **error);
void ferry_engine_finish_async (FerryEngine *self,
                                const char *migration_path,
                                gboolean source_completed,
                                GVariant *statistics,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
GVariant *ferry_engine_finish_finish (FerryEngine *self, GAsyncResult *result, GError **error);
gboolean ferry_engine_abort (FerryEngine *self,
                             const char *migration_path,
                             const char *reason,
                             GError **error);

/* Notify every migration that the daemon is shutting down. */
void ferry_engine_shutdown (FerryEngine *self);

G_END_DECLS
