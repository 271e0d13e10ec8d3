/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ferryd-migration-private.h: what the three parts of a migration share
 *
 * ferryd-migration.c (the object, phases, progress, the end),
 * ferryd-migration-source.c (the source side) and
 * ferryd-migration-dest.c (the destination side).
 */
#pragma once

#include "ferry-names.h"
#include "ferryd-migration.h"
#include "ferryd-qmp-batch.h"

#define PEER_CALL_TIMEOUT_MS 60000
#define SAMPLE_INTERVAL_MS 250
/* QEMU's rate limit when the operator sets none: effectively unlimited. */
#define UNLIMITED_BANDWIDTH (G_GUINT64_CONSTANT (1) << 40)
/* When uncapped, QEMU estimates the link from raw socket writes and
 * switches over far too early (research pitfall 1); a realistic figure
 * for the switch-over keeps downtime near the limit. */
#define DEFAULT_SWITCHOVER_BANDWIDTH (G_GUINT64_CONSTANT (300) << 20)
/* Lower than QEMU's 300 ms: with an uncapped link an extra pass is cheap,
 * and the switch-over threshold is switchover bandwidth x this limit. */
#define DEFAULT_DOWNTIME_MS 50
/* How long Finish waits for the destination guest to resume. */
#define FINISH_TIMEOUT_S 60
/* How long a destination whose stream failed waits for the source's word. */
#define SOURCE_VERDICT_TIMEOUT_S 5

typedef enum
{
  PHASE_NONE,
  PHASE_BEGIN,
  PHASE_PREPARE,
  PHASE_PERFORM,
  PHASE_FINISH,
  PHASE_CONFIRM,
  PHASE_DONE,
} Phase;

typedef enum
{
  STATE_PENDING,
  STATE_SETUP,
  STATE_ACTIVE,
  STATE_POSTCOPY_ACTIVE,
  STATE_POSTCOPY_PAUSED,
  STATE_COMPLETED,
  STATE_FAILED,
  STATE_CANCELLED,
} State;

struct _FerrydMigration
{
  GObject parent_instance;

  FerrydDaemon *daemon;
  FerrydDomain *domain;
  gboolean incoming;
  char *path;
  FerryDBusMigration *record;
  FerrydMigrateOptions *options;
  char *local_hostname;
  char *local_host_uuid;
  Phase phase;
  State state;
  GCancellable *cancellable;
  gboolean cancel_requested;
  gboolean finished;

  FerrydQemu *qemu;
  gulong event_id;
  gulong exited_id;
  gulong crashed_id;
  GError *crash_error; /* the guest crashed during the migration */
  guint sample_id;
  guint timeout_id;
  gboolean sampling;
  JsonObject *info; /* last query-migrate answer */
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
  GDBusConnection *peer;
  char *peer_migration;
  GStrv features;
  char *migrate_uri;
  char *resolved_machine; /* the versioned machine type behind an alias */
  char *abort_reason;     /* set when the policy aborts (timeout) */
  GError *rollback_error; /* kept while the destination confirms an abort */
  State rollback_state;
  gboolean rollback_waiting; /* rolled back, waiting for the abort's answer */
  guint rollback_pending;    /* resume and abort still under way */
  gboolean abort_sent;
  gboolean abort_done;

  /* destination side */
  char *peer_name;
  char *data_host; /* where the destination listens for the data stream */
  GDBusConnection *peer_connection;
  guint peer_watch_id;
  gboolean created_domain;
  gboolean incoming_completed;
  gboolean resume_sent;
  char *persistent_description;
  GTask *finish_task;
  GVariant *source_statistics; /* as the source sent them in Finish */
  guint finish_timeout_id;
};

extern const char *const migration_phase_names[];
extern const char *const migration_state_names[];

void migration_set_phase (FerrydMigration *self, Phase phase);
void migration_set_state (FerrydMigration *self, State state);
gboolean migration_state_is_final (State state);
JsonObject *migration_ram_info (FerrydMigration *self);
guint64 migration_get_u64 (JsonObject *object, const char *member);
guint64 migration_transfer_rate (JsonObject *ram);
guint64 migration_dirty_rate (JsonObject *ram);
GVariant *migration_build_statistics (FerrydMigration *self);
void migration_update_progress (FerrydMigration *self);
void migration_policy_action (FerrydMigration *self, const char *action, const char *reason);
void migration_start_sampling (FerrydMigration *self);
void migration_stop_sampling (FerrydMigration *self);
void migration_sample_now (FerrydMigration *self);
void migration_drop_qemu (FerrydMigration *self);
void migration_finish (FerrydMigration *self, State state, const GError *error);
gboolean migration_note_postcopy_started (FerrydMigration *self, gint64 ts);
JsonObject *migration_capabilities_args (const char *const *enabled, gboolean source);
void migration_on_qemu_exited (FerrydQemu *qemu, gpointer user_data);
/* Follow @self->qemu's crashes (connects crashed_id). */
void migration_watch_crash (FerrydMigration *self);
void migration_rollback (FerrydMigration *self, GError *error);
void migration_send_peer_abort (FerrydMigration *self, const char *reason);
void migration_rollback_incoming (FerrydMigration *self, GError *error);
void migration_outgoing_crashed (FerrydMigration *self);
void migration_incoming_crashed (FerrydMigration *self);
