/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-incoming-migration.h: the destination host's side of a migration */
#pragma once

#include "ferryd-migration.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_INCOMING_MIGRATION (ferryd_incoming_migration_get_type ())
G_DECLARE_FINAL_TYPE (
    FerrydIncomingMigration, ferryd_incoming_migration, FERRYD, INCOMING_MIGRATION, FerrydMigration)

FerrydMigration *ferryd_incoming_migration_new (const FerrydMigrationSetup *setup);
void ferryd_incoming_migration_prepare_async (FerrydIncomingMigration *self,
                                              FerrydPeerWatch *source,
                                              const FerrydDomainConfig *live,
                                              const char *persistent_description,
                                              gboolean created_domain,
                                              GVariant *source_info,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
GVariant *ferryd_incoming_migration_prepare_finish (FerrydIncomingMigration *self,
                                                    GAsyncResult *result,
                                                    GError **error);
void ferryd_incoming_migration_finish_async (FerrydIncomingMigration *self,
                                             gboolean source_completed,
                                             GVariant *statistics,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data);
GVariant *ferryd_incoming_migration_finish_finish (FerrydIncomingMigration *self,
                                                   GAsyncResult *result,
                                                   GError **error);
void ferryd_incoming_migration_abort (FerrydIncomingMigration *self, const char *reason);
/* A migration the hypervisor runs with its own protocol (no source
 * ferryd, no Prepare or Finish from a peer): the phases, progress and the
 * end follow @stream (ferryd_stream_runs_protocol(); the migration keeps a
 * reference) alone. */
void ferryd_incoming_migration_follow (FerrydIncomingMigration *self, FerrydStream *stream);
/* Post-copy recovery, the destination's half (Peer.Recover): listen on
 * @uri or a fresh address; finishes with where the source connects. */
void ferryd_incoming_migration_recover_async (FerrydIncomingMigration *self,
                                              const char *uri,
                                              GCancellable *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer user_data);
char *ferryd_incoming_migration_recover_finish (FerrydIncomingMigration *self,
                                                GAsyncResult *result,
                                                GError **error);

G_END_DECLS
