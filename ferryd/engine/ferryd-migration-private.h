/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-private.h: what the three parts of a migration share
 *
 * ferryd-migration.c (the object, phases, progress, the end),
 * ferryd-migration-source.c (the source side) and
 * ferryd-migration-dest.c (the destination side).
 */
#pragma once

#include "ferry-names.h"
#include "ferryd-backend.h"
#include "ferryd-migration.h"
#include "ferryd-peer-client.h"
#include "ferryd-phase.h"
#include "ferryd-progress.h"

#define PEER_CALL_TIMEOUT_MS 60000
#define SAMPLE_INTERVAL_MS 250
/* Lower than QEMU's 300 ms: with an uncapped link an extra pass is cheap,
 * and the switch-over threshold is switchover bandwidth x this limit. */
#define DEFAULT_DOWNTIME_MS 50
/* How long Finish waits for the destination guest to resume. */
#define FINISH_TIMEOUT_S 60
/* How long a destination whose stream failed waits for the source's word. */
#define SOURCE_VERDICT_TIMEOUT_S 5

typedef FerrydPhase Phase;
typedef FerrydState State;

struct _FerrydMigration
{
  GObject parent_instance;

  FerrydDaemon *daemon;
  FerrydDomain *domain;
  gboolean incoming;
  guint id;
  char *label; /* "migration <id>", for the log */
  FerryDBusMigration *record;
  FerrydMigrateOptions *options;
  char *local_hostname;
  char *local_host_uuid;
  Phase phase;
  State state;
  GCancellable *cancellable;
  gboolean cancel_requested;
  gboolean finished;

  FerrydBackend *backend;
  FerrydStream *stream; /* the backend's half; NULL once the guest is not ours */
  GError *crash_error;  /* the guest crashed during the migration */
  guint sample_id;
  guint timeout_id;
  gboolean sampling;
  FerrydProgress info; /* the last sample of the stream */
  gint64 begin_us;
  gint64 stop_us;
  gint64 resume_us;
  gint64 postcopy_us;
  gint64 end_us;
  gboolean migrate_sent;
  gboolean postcopy_requested;
  gboolean postcopy_started;
  gboolean stopped_for_migration;
  guint64 downtime_limit;
  double progress;
  guint64 pass_remaining;      /* remaining bytes when the current pass began */
  guint64 prev_pass_remaining; /* ... and when the previous one began */
  gboolean pass_sample_pending;
  guint pass;
  GVariant *statistics;

  /* source side */
  char *peer_address;
  FerrydPeerClient *peer;
  char *peer_migration;
  GStrv features;
  char *migrate_uri;
  FerrydDomainConfig *live_config; /* what runs, as Begin found it (machine type resolved) */
  char *abort_reason;              /* set when the policy aborts (timeout) */
  GError *rollback_error;          /* kept while the destination confirms an abort */
  State rollback_state;
  gboolean rollback_waiting; /* rolled back, waiting for the abort's answer */
  guint rollback_pending;    /* resume and abort still under way */
  gboolean abort_sent;
  gboolean abort_done;

  /* destination side */
  char *data_host;             /* where the destination listens for the data stream */
  FerrydPeerWatch *peer_watch; /* follows the source ferryd */
  gboolean created_domain;
  gboolean incoming_completed;
  gboolean resume_sent;
  char *persistent_description;
  GTask *finish_task;
  GVariant *source_statistics; /* as the source sent them in Finish */
  guint finish_timeout_id;
};

void migration_set_phase (FerrydMigration *self, Phase phase);
void migration_set_state (FerrydMigration *self, State state);
GVariant *migration_build_statistics (FerrydMigration *self);
void migration_update_progress (FerrydMigration *self);
void migration_policy_action (FerrydMigration *self, const char *action, const char *reason);
void migration_start_sampling (FerrydMigration *self);
void migration_stop_sampling (FerrydMigration *self);
void migration_sample_now (FerrydMigration *self);
void migration_drop_stream (FerrydMigration *self);
void migration_finish (FerrydMigration *self, State state, const GError *error);
gboolean migration_note_postcopy_started (FerrydMigration *self, gint64 ts);
/* Take @stream (full) as self->stream and follow its exit and crashes;
 * each side connects its other signals itself. */
void migration_attach_stream (FerrydMigration *self, FerrydStream *stream);
void migration_rollback (FerrydMigration *self, GError *error);
void migration_send_peer_abort (FerrydMigration *self, const char *reason);
void migration_rollback_incoming (FerrydMigration *self, GError *error);
void migration_outgoing_crashed (FerrydMigration *self);
void migration_incoming_crashed (FerrydMigration *self);
