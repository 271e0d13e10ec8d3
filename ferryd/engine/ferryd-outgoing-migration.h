/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-outgoing-migration.h: the source host's side of a migration */
#pragma once

#include "ferryd-migration.h"

G_BEGIN_DECLS

#define FERRYD_TYPE_OUTGOING_MIGRATION (ferryd_outgoing_migration_get_type ())
G_DECLARE_FINAL_TYPE (
    FerrydOutgoingMigration, ferryd_outgoing_migration, FERRYD, OUTGOING_MIGRATION, FerrydMigration)

FerrydMigration *ferryd_outgoing_migration_new (const FerrydMigrationSetup *setup);
/* Run Begin → Prepare → Perform → Finish → Confirm with @peer_address. */
void ferryd_outgoing_migration_run (FerrydOutgoingMigration *self, const char *peer_address);
/* Follow, from Perform on, a migration the hypervisor runs by itself
 * (@stream: ferryd_stream_runs_protocol(), already started; the migration
 * keeps a reference) that this ferryd did not start. */
void ferryd_outgoing_migration_follow (FerrydOutgoingMigration *self, FerrydStream *stream);

G_END_DECLS
