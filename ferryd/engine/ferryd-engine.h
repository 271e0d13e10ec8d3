/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-engine.h: the migration engine: migrations of this host, both
 * directions, and the peer protocol entry points (no D-Bus types except
 * the Migration record) */
#pragma once

#include <gio/gio.h>

#include "ferryd-daemon.h"
#include "ferryd-migration.h"
#include "ferryd-options.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_ENGINE (ferryd_engine_get_type ())
G_DECLARE_FINAL_TYPE (FerrydEngine, ferryd_engine, FERRYD, ENGINE, GObject)

FerrydEngine *ferryd_engine_new (FerrydDaemon *daemon);
FerrydDaemon *ferryd_engine_get_daemon (FerrydEngine *self);

/* Outgoing: takes @options; answers, once this host's TLS material (if
 * the options need it) has been read in a worker thread, with the new
 * migration (already running; full reference) or why not. */
void ferryd_engine_migrate_async (FerrydEngine *self,
                                  FerrydDomain *domain,
                                  const char *destination,
                                  FerrydMigrateOptions *options,
                                  guint32 uid,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
FerrydMigration *
ferryd_engine_migrate_finish (FerrydEngine *self, GAsyncResult *result, GError **error);

/* Takes @options. @no_contact_reason: NULL when the caller may make
 * this host contact the destination, else why not (the report then
 * says so). Files it reads (images, TLS material) are read in worker
 * threads. */
void ferryd_engine_check_async (FerrydEngine *self,
                                FerrydDomain *domain,
                                const char *destination,
                                FerrydMigrateOptions *options,
                                const char *no_contact_reason,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
GVariant *ferryd_engine_check_finish (FerrydEngine *self, GAsyncResult *result, GError **error);

FerrydMigration *ferryd_engine_lookup_migration (FerrydEngine *self, guint id);
GList *ferryd_engine_get_migrations (FerrydEngine *self);

/* Peer protocol, destination side. */
/* Hello's answer (a{sv}, full reference); the free space of the images
 * directory is asked in a worker thread. */
void ferryd_engine_hello_async (FerrydEngine *self,
                                GVariant *source_info,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
GVariant *ferryd_engine_hello_finish (FerrydEngine *self, GAsyncResult *result, GError **error);
void ferryd_engine_prepare_async (FerrydEngine *self,
                                  FerrydPeerWatch *source,
                                  const char *domain_name,
                                  const char *persistent_description,
                                  const char *live_description,
                                  GVariant *options,
                                  GVariant *source_info,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
/* Returns the destination's a{sv}, and the new incoming migration in
 * @out_migration (full). */
GVariant *ferryd_engine_prepare_finish (FerrydEngine *self,
                                        GAsyncResult *result,
                                        FerrydMigration **out_migration,
                                        GError **error);
/* Finish and Abort name an incoming migration (else NotFound). */
void ferryd_engine_finish_async (FerrydEngine *self,
                                 FerrydMigration *migration,
                                 gboolean source_completed,
                                 GVariant *statistics,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
GVariant *ferryd_engine_finish_finish (FerrydEngine *self, GAsyncResult *result, GError **error);
gboolean ferryd_engine_abort (FerrydEngine *self,
                              FerrydMigration *migration,
                              const char *reason,
                              GError **error);

/* Peer.Recover: the destination's half of a post-copy recovery;
 * finishes with the address the source connects to. */
void ferryd_engine_recover_async (FerrydEngine *self,
                                  FerrydMigration *migration,
                                  const char *uri,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
char *ferryd_engine_recover_finish (FerrydEngine *self, GAsyncResult *result, GError **error);

/* Notify every migration that the daemon is shutting down. */
void ferryd_engine_shutdown (FerrydEngine *self);

G_END_DECLS
